// Service-directory helpers shared by the supervisor's and tsvctl's tests: writing a service
// dir, a temp root whose processes are killed when the test ends, the supervise/ok liveness
// test and the 20-byte status.
import { chmodSync, closeSync, mkdirSync, openSync, readFileSync, readdirSync, readlinkSync, writeFileSync, constants as fsc } from 'node:fs';
import { dirname, join } from 'node:path';
import { decodeStatus, type StatusRecord } from '@tsv/core';
import { termForCoverage, tmpdir, type Teardownable } from './index.js';

/** Files of a service: path (relative to the service dir) -> content; executable when the
 * content starts with `#!`. */
export type ServiceFiles = Record<string, string>;

/** Write a service directory root/name; returns its path. */
export function makeService(root: string, name: string, files: ServiceFiles): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  for (const [rel, content] of Object.entries(files)) {
    const p = join(dir, rel);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, content);
    if (content.startsWith('#!')) chmodSync(p, 0o755);
  }
  return dir;
}

/** A temp dir whose every process (by cwd below it) is SIGKILLed when the test ends. */
export function killedRoot(t: Teardownable, prefix: string): string {
  const root = tmpdir(t, prefix);
  t.teardown(async () => {
    await termForCoverage(pidsUnder(root));
    killUnder(root);
  });
  return root;
}

/** Every process (but this one) whose cwd is root or below it. */
function pidsUnder(root: string): number[] {
  const out: number[] = [];
  for (const n of readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(n) || Number(n) === process.pid) continue;
    try {
      const cwd = readlinkSync(`/proc/${n}/cwd`);
      if (cwd === root || cwd.startsWith(`${root}/`)) out.push(Number(n));
    } catch {
      // gone, or not ours to inspect
    }
  }
  return out;
}

/** SIGKILL every process whose cwd is root or below it (services, loggers, leftovers). */
export function killUnder(root: string): void {
  for (const pid of pidsUnder(root)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
}

/** Is a supervisor holding dir/supervise/ok (the sv liveness test)? */
export function okAlive(dir: string): boolean {
  try {
    closeSync(openSync(join(dir, 'supervise', 'ok'), fsc.O_WRONLY | fsc.O_NONBLOCK));
    return true;
  } catch {
    return false;
  }
}

/** The 20-byte status of dir (or its log: dir/log), undefined when unreadable. */
export function status(dir: string): StatusRecord | undefined {
  try {
    return decodeStatus(readFileSync(join(dir, 'supervise', 'status')));
  } catch {
    return undefined;
  }
}
