// Helpers for tsvscan tests: service directories, a tracked tsvscan, and a teardown that kills
// every process left under a temp dir (services live in their own sessions, so killing
// tsvscan alone would orphan them).
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir as osTmpdir } from 'node:os';
import { join } from 'node:path';
import type { SpawnOptions } from 'node:child_process';
import { bin, spawnTracked, termForCoverage, testPath, type Teardownable, type Tracked } from './index.js';

/** Create service NAME in dir with a run script body (and a log/run body when given). */
export function makeService(dir: string, name: string, run: string, logRun?: string): string {
  const svc = join(dir, name);
  mkdirSync(svc, { recursive: true });
  writeFileSync(join(svc, 'run'), `#!/bin/sh\n${run}\n`);
  chmodSync(join(svc, 'run'), 0o755);
  if (logRun !== undefined) {
    mkdirSync(join(svc, 'log'), { recursive: true });
    writeFileSync(join(svc, 'log', 'run'), `#!/bin/sh\n${logRun}\n`);
    chmodSync(join(svc, 'log', 'run'), 0o755);
  }
  return svc;
}

/** Every live process whose current directory is root or below it (from /proc). */
export function processesUnder(root: string): number[] {
  const out: number[] = [];
  for (const n of readdirSync('/proc')) {
    if (!/^\d+$/.test(n)) continue;
    try {
      const cwd = readlinkSync(`/proc/${n}/cwd`);
      if (cwd !== root && !cwd.startsWith(`${root}/`)) continue;
      const stat = readFileSync(`/proc/${n}/stat`, 'utf8');
      const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
      if (state !== 'Z' && state !== 'X') out.push(Number(n));
    } catch {
      // gone, or not ours to see
    }
  }
  return out;
}

/** Live processes running `sleep` with exactly this argument (a service marker). */
export function sleepers(arg: string): number[] {
  const out: number[] = [];
  for (const n of readdirSync('/proc')) {
    if (!/^\d+$/.test(n)) continue;
    try {
      const argv = readFileSync(`/proc/${n}/cmdline`, 'utf8').split('\0');
      if (!/(^|\/)sleep$/.test(argv[0] ?? '') || argv[1] !== arg) continue;
      const stat = readFileSync(`/proc/${n}/stat`, 'utf8');
      const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
      if (state !== 'Z' && state !== 'X') out.push(Number(n));
    } catch {
      // gone
    }
  }
  return out;
}

/** SIGKILL (with their groups) every process under root. */
export function killUnder(root: string): void {
  for (const pid of processesUnder(root)) {
    for (const p of [-pid, pid]) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        // gone
      }
    }
  }
}

/** SIGKILL (with their groups) every process under root when the test ends. */
export function killUnderAtEnd(t: Teardownable, root: string): void {
  t.teardown(async () => {
    await termForCoverage(processesUnder(root));
    killUnder(root);
  });
}

/** A fresh temp dir (real path) for services: when the test ends, every process under it is
 * killed first, then it is removed (retrying while dying processes still write there). */
export function scanTmpdir(t: Teardownable, prefix = 'tsv-scan-'): string {
  const dir = realpathSync(mkdtempSync(join(osTmpdir(), prefix)));
  t.teardown(async () => {
    await termForCoverage(processesUnder(dir));
    for (let i = 0; i < 50 && processesUnder(dir).length > 0; i++) {
      killUnder(dir);
      await new Promise((r) => setTimeout(r, 20));
    }
    rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 });
  });
  return dir;
}

/** rm -rf of a service directory its supervisor may be writing into at that moment (a status
 * write creates supervise/*.new while the removal runs: ENOTEMPTY, retried), as a person
 * removing a service from a scan directory does. */
export async function removeLive(path: string): Promise<void> {
  for (let i = 0; ; i++) {
    try {
      rmSync(path, { recursive: true, force: true });
      return;
    } catch (err) {
      // why again: the supervisor's shutdown writes (the service and its logger stopping as the
      // directory vanishes) can put one more file into a supervise/ being emptied
      if ((err as NodeJS.ErrnoException).code !== 'ENOTEMPTY' || i >= 100) throw err;
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}

/** The environment for tsvscan in tests: our PATH first, without tap's NODE_OPTIONS hook (it would
 * load tap's process-info recorder into tsvscan, which fails for another user). */
export function scanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, PATH: testPath(), ...extra };
  delete env.NODE_OPTIONS;
  for (const k of Object.keys(env)) if (k.startsWith('_TAPJS_')) delete env[k];
  return env;
}

/** [command, args] running one of our executables without tap's NODE_OPTIONS hook: tap re-adds
 * it to every child's environment at spawn time, so `env -u` removes it just before the exec. */
export function cleanCmd(prog: string, args: string[]): [string, string[]] {
  return ['env', ['-u', 'NODE_OPTIONS', bin(prog), ...args]];
}

/** Start tsvscan on dir (tracked; everything under dir is killed at the end too). */
export function startScan(t: Teardownable, dir: string, args: string[] = [dir], opts: SpawnOptions = {}): Tracked {
  killUnderAtEnd(t, dir);
  return spawnTracked(t, ...cleanCmd('tsvscan', args), { env: scanEnv(), ...opts });
}

/** The pid a supervisor recorded in svc/supervise/pid (0 when none or unreadable). */
export function supervisedPid(svc: string): number {
  try {
    const n = Number(readFileSync(join(svc, 'supervise', 'pid'), 'utf8').trim());
    return Number.isInteger(n) && n > 0 ? n : 0;
  } catch {
    return 0;
  }
}
