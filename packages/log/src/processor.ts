// The processor protocol (svlogd §6): `/bin/sh -c cmd` in the log dir with fd 0 = @X.u,
// fd 1 = @X.t, fd 2 = our stderr, fd 4 = state, fd 5 = newstate.
import type { spawn as spawnType } from 'node:child_process';
import { createRequire } from 'node:module';
import { closeSync, constants, openSync } from 'node:fs';
import { join } from 'node:path';
import { LOGDIR } from '@tsv/core';

/** node:child_process, loaded on first use (most loggers never run a processor; start-up counts). */
let spawnFn: typeof spawnType | undefined;

/** spawn from node:child_process. */
function spawn(...args: Parameters<typeof spawnType>): ReturnType<typeof spawnType> {
  spawnFn ??= (createRequire(import.meta.url)('node:child_process') as typeof import('node:child_process')).spawn;
  return spawnFn(...args);
}

/** How a processor run ended. */
export interface ProcessorEnd {
  ok: boolean;
  /** exit code or signal name, for messages */
  how: string;
}

/** Open `state` read-only, creating it empty when missing. */
function openState(dir: string): number {
  try {
    return openSync(join(dir, LOGDIR.state), constants.O_RDONLY);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    closeSync(openSync(join(dir, LOGDIR.state), constants.O_WRONLY | constants.O_CREAT, 0o644));
    return openSync(join(dir, LOGDIR.state), constants.O_RDONLY);
  }
}

/** Start cmd on dir/uName (an `@X.u`); resolves when it ends. Throws (sync) when a file cannot
 * be opened. The child's signal dispositions are defaults (libuv resets them), as svlogd does
 * for TERM, ALRM and HUP. */
export function runProcessor(dir: string, uName: string, cmd: string): { pid: number | undefined; ended: Promise<ProcessorEnd> } {
  const tName = `${uName.slice(0, -1)}t`;
  const fds: number[] = [];
  try {
    fds.push(openSync(join(dir, uName), constants.O_RDONLY));
    fds.push(openSync(join(dir, tName), constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC, 0o644));
    fds.push(openState(dir));
    fds.push(openSync(join(dir, LOGDIR.newstate), constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC, 0o644));
  } catch (e) {
    for (const fd of fds) closeSync(fd);
    throw e;
  }
  const [u, t, st, ns] = fds as [number, number, number, number];
  const child = spawn('/bin/sh', ['-c', cmd], { cwd: dir, stdio: [u, t, 2, 'ignore', st, ns] });
  // The child has its own copies now.
  for (const fd of fds) closeSync(fd);
  const ended = new Promise<ProcessorEnd>((res) => {
    child.once('error', (err) => res({ ok: false, how: err.message }));
    child.once('exit', (code, signal) => res({ ok: code === 0, how: signal ?? `exit ${code}` }));
  });
  return { pid: child.pid, ended };
}
