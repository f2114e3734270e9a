// Helpers for the exec-chain wrapper tests: running a wrapper with our bin dir first in PATH,
// and reading what the exec'd program printed from its own /proc/self files.
import { chmodSync, copyFileSync, mkdirSync, readFileSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import { execFileSync, type SpawnOptions } from 'node:child_process';
import { dirname, join } from 'node:path';
import { bin, run, spawnTracked, testPath, type RunResult, type Teardownable, type Tracked } from './index.js';

/** Environment for a wrapper run: ours first in PATH, TSV_NOFILE left to the launcher. */
export function chainEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, PATH: testPath() };
  delete env.TSV_NOFILE;
  delete env.NODE_OPTIONS;
  Object.assign(env, extra);
  for (const [k, v] of Object.entries(extra)) if (v === undefined) delete env[k];
  return env;
}

/** Command and args that run cmd through a tiny sh which restores NODE_OPTIONS: tap's
 * processinfo adds its --import to NODE_OPTIONS of every process a test spawns, and that
 * hook's exit handler crashes in a Node running as nobody. The sh execs, so the pid is cmd's.
 * TSV_TEST_NODE_OPTIONS, when set, becomes NODE_OPTIONS. */
export function viaSh(cmd: string, args: string[]): [string, string[]] {
  const restore =
    'if [ -n "${TSV_TEST_NODE_OPTIONS+x}" ]; then NODE_OPTIONS=$TSV_TEST_NODE_OPTIONS; export NODE_OPTIONS; ' +
    'else unset NODE_OPTIONS; fi; unset TSV_TEST_NODE_OPTIONS; exec "$@"';
  return ['/bin/sh', ['-c', restore, 'sh', cmd, ...args]];
}

/** Run our wrapper name with args (PATH has our bin dir first). */
export function runWrapper(name: string, args: string[], opts: SpawnOptions & { input?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<RunResult> {
  const [cmd, argv] = viaSh(bin(name), args);
  return run(cmd, argv, { env: chainEnv(), ...opts });
}

/** Spawn our wrapper (tracked: killed when the test ends); its pid is the wrapper's. */
export function spawnWrapper(t: Teardownable, name: string, args: string[], opts: SpawnOptions = {}): Tracked {
  const [cmd, argv] = viaSh(bin(name), args);
  return spawnTracked(t, cmd, argv, { env: chainEnv(), ...opts });
}

/** Parse `Key:\tvalue` lines (/proc/PID/status) into a map. */
export function fields(text: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of text.split('\n')) {
    const i = line.indexOf(':');
    if (i > 0) m.set(line.slice(0, i), line.slice(i + 1).trim());
  }
  return m;
}

/** Soft and hard values of /proc/PID/limits by the limit's name ("Max open files"). */
export function limits(text: string): Map<string, { soft: string; hard: string }> {
  const m = new Map<string, { soft: string; hard: string }>();
  for (const line of text.split('\n').slice(1)) {
    const name = line.slice(0, 26).trim();
    const rest = line.slice(26).trim().split(/\s+/);
    if (name !== '' && rest.length >= 2) m.set(name, { soft: rest[0] as string, hard: rest[1] as string });
  }
  return m;
}

/** Fields of /proc/PID/stat after the command name: index 0 is the state, as in proc(5)
 * field 3; so pid-relative: ppid = [1], pgrp = [2], session = [3], nice = [16]. */
export function statFields(text: string): { pid: number; rest: string[] } {
  const close = text.lastIndexOf(')');
  return { pid: Number(text.slice(0, text.indexOf(' '))), rest: text.slice(close + 2).trim().split(' ') };
}

/** Write an executable script. */
export function script(path: string, body: string): string {
  writeFileSync(path, body);
  chmodSync(path, 0o755);
  return path;
}

/** Copy a dynamically linked program and the libraries ldd names into root (same paths). */
export function copyWithLibs(root: string, program: string): void {
  const files = [program];
  const out = execFileSync('ldd', [program], { encoding: 'utf8' });
  for (const m of out.matchAll(/(\/\S+) \(0x/g)) files.push(m[1] as string);
  for (const f of files) {
    const dest = join(root, f);
    mkdirSync(dirname(dest), { recursive: true });
    copyFileSync(f, dest);
    chmodSync(dest, 0o755);
  }
}

/** Is some process blocked waiting for a flock on path? (/proc/locks lists waiters with "->",
 * naming the file by MAJOR:MINOR:INODE.) */
export function flockWaiterOn(path: string): boolean {
  const ino = statSync(path).ino;
  return readFileSync('/proc/locks', 'utf8')
    .split('\n')
    .some((l) => /->\s+FLOCK/.test(l) && new RegExp(`:${ino}\\s`).test(l));
}

/** Can `nobody` reach our executables (every directory up to them searchable by others, the
 * files readable)? Not when the checkout lives under a 0700 home: tests that run our wrappers
 * after dropping to nobody skip then. */
export function nobodyReachesBin(): boolean {
  const paths = [bin('envdir'), realpathSync(bin('envdir')), realpathSync(join(dirname(realpathSync(bin('envdir'))), '..', 'dist', 'chain.js'))];
  for (const p of paths) {
    let dir = dirname(p);
    for (;;) {
      if ((statSync(dir).mode & 0o001) === 0) return false;
      if (dir === '/') break;
      dir = dirname(dir);
    }
    if ((statSync(p).mode & 0o004) === 0) return false;
  }
  return true;
}

/** Skip reason for tests needing root and a checkout nobody can reach (false: run them). */
export function nobodySkip(isRoot: boolean): string | false {
  if (!isRoot) return 'needs root';
  return nobodyReachesBin() ? false : 'nobody cannot reach the checkout (under a 0700 directory)';
}
