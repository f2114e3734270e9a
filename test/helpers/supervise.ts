// Helpers for the supervisor's black-box tests: service directories, a tracked `tsv`, the
// supervise/ files, control bytes, and a cleanup that kills everything started in a test dir.
import { chmodSync, closeSync, mkdirSync, openSync, readFileSync, readdirSync, readlinkSync, writeFileSync, writeSync, constants as fsc } from 'node:fs';
import { dirname, join } from 'node:path';
import { decodeExtraStatus, decodeStatus, type ExtraStatus, type StatusRecord } from '@tsv/core';
import { bin, spawnTracked, testPath, tmpdir, waitFor, type Teardownable, type Tracked } from './index.js';

/** Files of a service: path (relative to the service dir) -> content; executable when the
 * content starts with `#!`. */
export type ServiceFiles = Record<string, string>;

/** Write a service directory under root; returns its path. */
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
export function serviceRoot(t: Teardownable): string {
  const root = tmpdir(t, 'tsv-sup-');
  t.teardown(() => killUnder(root));
  return root;
}

/** SIGKILL every process whose cwd is root or below it (services, loggers, leftovers). */
export function killUnder(root: string): void {
  for (const n of readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(n) || Number(n) === process.pid) continue;
    try {
      const cwd = readlinkSync(`/proc/${n}/cwd`);
      if (cwd === root || cwd.startsWith(`${root}/`)) process.kill(Number(n), 'SIGKILL');
    } catch {
      // gone, or not ours to inspect
    }
  }
}

/** Start `tsv dir` (cwd: dir's parent, name relative) and wait until sv would see it alive. */
export async function startTsv(t: Teardownable, dir: string, opts: { waitOk?: boolean; name?: string } = {}): Promise<Tracked> {
  const name = opts.name ?? (dir.split('/').pop() as string);
  const tr = spawnTracked(t, bin('tsv'), [name], { cwd: dirname(dir), env: { ...process.env, PATH: testPath() } });
  if (opts.waitOk !== false) await waitFor(() => okAlive(dir), 15_000, `tsv on ${dir} to open supervise/ok`);
  return tr;
}

/** Is a supervisor holding supervise/ok (the sv liveness test)? */
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

/** supervise/tsv.json of dir, undefined when unreadable. */
export function extra(dir: string): ExtraStatus | undefined {
  try {
    return decodeExtraStatus(readFileSync(join(dir, 'supervise', 'tsv.json'), 'utf8'));
  } catch {
    return undefined;
  }
}

/** Write control letters to dir's supervise/control in one write. */
export function control(dir: string, letters: string | Buffer): void {
  const fd = openSync(join(dir, 'supervise', 'control'), fsc.O_WRONLY | fsc.O_NONBLOCK);
  try {
    writeSync(fd, typeof letters === 'string' ? Buffer.from(letters, 'latin1') : letters);
  } finally {
    closeSync(fd);
  }
}

/** Wait until the service runs with a pid other than notPid; returns the pid. */
export function waitRunning(dir: string, notPid = 0, timeoutMs = 15_000): Promise<number> {
  return waitFor(
    () => {
      const s = status(dir);
      return s !== undefined && s.state === 'run' && s.pid !== 0 && s.pid !== notPid ? s.pid : 0;
    },
    timeoutMs,
    `${dir} to run (not pid ${notPid})`,
  );
}

/** Wait until the service is down with no pid. */
export function waitDown(dir: string, timeoutMs = 15_000): Promise<true> {
  return waitFor(() => {
    const s = status(dir);
    return s !== undefined && s.state === 'down' && s.pid === 0;
  }, timeoutMs, `${dir} to be down`);
}

/** Read a file, '' when missing. */
export function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** The fd numbers open in pid (from /proc/PID/fd). */
export function openFds(pid: number): number[] {
  return readdirSync(`/proc/${pid}/fd`).map(Number).sort((a, b) => a - b);
}
