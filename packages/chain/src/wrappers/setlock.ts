// setlock (daemontools 0.76): setlock [-nNxX] file child. Default waits (-N); -n fails fast;
// -x turns a failure to open or lock into a silent exit 0. (runit's chpst-as-setlock inverts
// -n/-N; we do not copy that quirk.)
import type { ToolError } from '@tsv/core';
import { envPath } from '../env-dir.js';
import type { LinkResult } from '../exec-next.js';
import { getopt, usage } from '../getopt.js';
import { DJB_LOCK, takeLock } from '../lock.js';
import type { ChainState } from '../state.js';

export const SETLOCK_USAGE = 'setlock: usage: setlock [ -nNxX ] file program [ arg ... ]';

/** setlock's options. */
export interface SetlockOptions {
  file: string;
  wait: boolean;
  quiet: boolean;
  prog: string[];
}

/** The usage error (exit 100). */
function setlockUsage(cause?: unknown): ToolError {
  return usage('setlock', SETLOCK_USAGE, 100, cause);
}

/** Parse setlock's command line. */
export function parseSetlock(args: readonly string[]): SetlockOptions {
  let parsed;
  try {
    parsed = getopt(args, 'nNxX');
  } catch (err) {
    throw setlockUsage(err);
  }
  let wait = true;
  let quiet = false;
  for (const { opt } of parsed.opts) {
    if (opt === 'n') wait = false;
    else if (opt === 'N') wait = true;
    else if (opt === 'x') quiet = true;
    else quiet = false;
  }
  if (parsed.rest.length < 2) throw setlockUsage();
  return { file: parsed.rest[0] as string, wait, quiet, prog: parsed.rest.slice(1) };
}

/** Take the lock (kept across exec); with -x a failure to open or lock exits 0 silently. */
export function applySetlock(o: SetlockOptions, state: ChainState): LinkResult {
  try {
    takeLock(o.file, o.wait, state, DJB_LOCK);
  } catch (err) {
    if (o.quiet) return { exitCode: 0 };
    throw err;
  }
  return { prog: o.prog[0] as string, argv: [...o.prog], pathVar: envPath(state.env), style: 'djb' };
}

/** setlock as one link. */
export function setlock(args: readonly string[], state: ChainState): LinkResult {
  return applySetlock(parseSetlock(args), state);
}
