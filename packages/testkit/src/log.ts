// Helpers for tsvlog tests: start the built tsvlog with a pipe on stdin, read a log dir back.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync, type SpawnOptions } from 'node:child_process';
import { bin, IS_ROOT, spawnTracked, type Teardownable, type Tracked } from './index.js';

/** A running tsvlog with its stdin writable. */
export interface RunningLog extends Tracked {
  write(text: string | Buffer): void;
  end(text?: string | Buffer): void;
}

/** Start `tsvlog args` in cwd (killed when the test ends). */
export function startLog(t: Teardownable, args: string[], cwd: string, opts: SpawnOptions = {}): RunningLog {
  return startCmd(t, bin('tsvlog'), args, cwd, opts);
}

/** Start `/bin/sh args` (which runs tsvlog) in cwd. */
export function startShell(t: Teardownable, args: string[], cwd: string, opts: SpawnOptions = {}): RunningLog {
  return startCmd(t, '/bin/sh', args, cwd, opts);
}

/** Start cmd with its stdin writable. */
function startCmd(t: Teardownable, cmd: string, args: string[], cwd: string, opts: SpawnOptions): RunningLog {
  const tr = spawnTracked(t, cmd, args, { cwd, stdio: ['pipe', 'pipe', 'pipe'], ...opts });
  const stdin = tr.child.stdin;
  if (!stdin) throw new Error('no stdin');
  stdin.on('error', () => {});
  return {
    ...tr,
    write: (x) => void stdin.write(x),
    end: (x) => void (x === undefined ? stdin.end() : stdin.end(x)),
  };
}

/** Rotated files of a log dir (`@...` names), oldest first. */
export function rotated(dir: string): string[] {
  return readdirSync(dir)
    .filter((n) => /^@[0-9a-f]{24}\.[a-z]$/.test(n))
    .sort();
}

/** current's content ('' when missing). */
export function current(dir: string): string {
  const p = join(dir, 'current');
  return existsSync(p) ? readFileSync(p, 'latin1') : '';
}

/** Everything in the dir's .s/.u files, oldest first, then current. */
export function allText(dir: string): string {
  return rotated(dir)
    .filter((n) => !n.endsWith('.t'))
    .map((n) => readFileSync(join(dir, n), 'latin1'))
    .join('') + current(dir);
}

/** Permission bits of a file. */
export function modeOf(p: string): number {
  return statSync(p).mode & 0o777;
}

/** Strip a -tt stamp from each line. */
export function unstampTT(text: string): string {
  return text.replace(/^\d{4}-\d\d-\d\d_\d\d:\d\d:\d\d\.\d{5} /gm, '');
}

/** Mount a tmpfs of size on dir (unmounted at teardown); false when mounting is not possible
 * (not root, or mount(8) refused). */
export function mountTmpfs(t: Teardownable, dir: string, opts: string): boolean {
  if (!IS_ROOT) return false;
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', opts, 'tmpfs', dir], { stdio: 'ignore' });
  if (r.status !== 0) return false;
  t.teardown(() => {
    spawnSync('umount', ['-l', dir], { stdio: 'ignore' });
  });
  return true;
}
