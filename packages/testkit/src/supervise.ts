// Helpers for the supervisor's black-box tests: service directories, a tracked `tsv`, the
// supervise/ files, control bytes, and a cleanup that kills everything started in a test dir.
import { closeSync, openSync, readFileSync, readdirSync, writeSync, constants as fsc } from 'node:fs';
import { dirname, join } from 'node:path';
import { decodeExtraStatus, type ExtraStatus } from '@tsv/core';
import { bin, spawnTracked, testPath, waitFor, type Teardownable, type Tracked } from './index.js';
import { killedRoot, okAlive, status } from './services.js';

export { makeService, okAlive, status, type ServiceFiles } from './services.js';

/** A temp dir whose every process (by cwd below it) is SIGKILLed when the test ends. */
export function serviceRoot(t: Teardownable): string {
  return killedRoot(t, 'tsv-sup-');
}

/** Start `tsv dir` (cwd: dir's parent, name relative) and wait until sv would see it alive. */
export async function startTsv(t: Teardownable, dir: string, opts: { waitOk?: boolean; name?: string; quiet?: boolean } = {}): Promise<Tracked> {
  const name = opts.name ?? (dir.split('/').pop() as string);
  // quiet: -q, no event lines (started, exited ...) on stderr: only warnings
  const tr = spawnTracked(t, bin('tsv'), opts.quiet === true ? ['-q', name] : [name], { cwd: dirname(dir), env: { ...process.env, PATH: testPath() } });
  if (opts.waitOk !== false) await waitFor(() => okAlive(dir), 15_000, `tsv on ${dir} to open supervise/ok`);
  return tr;
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
    return s !== undefined && s.state === 'down' && s.pid === 0 ? (true as const) : undefined;
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
