// setlock (daemontools 0.76): setlock [-nNxX] file child. Default waits (-N); -n fails fast;
// -x turns a failure to open or lock into a silent exit 0. (runit's chpst-as-setlock inverts
// -n/-N; we do not copy that quirk.)
import { EXIT, getopt, type ToolError, usage } from '@tsv/core';
import { envPath } from '../env-dir.js';
import type { LinkResult } from '../exec-next.js';
import { DJB_LOCK, takeLock } from '../lock.js';
import type { ChainState } from '../state.js';

/** setlock's usage line for a program run as name. */
export function setlockUsageText(name: string): string {
  return `${name}: usage: ${name} [ -nNxX ] file program [ arg ... ]`;
}

export const SETLOCK_USAGE = setlockUsageText('setlock');

/** setlock's options. */
export interface SetlockOptions {
  file: string;
  wait: boolean;
  quiet: boolean;
  prog: string[];
}

/** The usage error of setlock run as name (exit 100). */
function setlockUsage(name: string, cause?: unknown): ToolError {
  return usage(name, setlockUsageText(name), EXIT.usage, cause);
}

/** Parse setlock's command line. */
export function parseSetlock(args: readonly string[], name = 'setlock'): SetlockOptions {
  let parsed;
  try {
    parsed = getopt(args, 'nNxX');
  } catch (err) {
    throw setlockUsage(name, err);
  }
  let wait = true;
  let quiet = false;
  for (const { opt } of parsed.opts) {
    if (opt === 'n') wait = false;
    else if (opt === 'N') wait = true;
    else if (opt === 'x') quiet = true;
    else quiet = false;
  }
  if (parsed.rest.length < 2) throw setlockUsage(name);
  return { file: parsed.rest[0] as string, wait, quiet, prog: parsed.rest.slice(1) };
}

/** Take the lock (kept across exec); with -x a failure to open or lock exits 0 silently. */
export function applySetlock(o: SetlockOptions, state: ChainState): LinkResult {
  try {
    takeLock(o.file, o.wait, state, DJB_LOCK);
  } catch (err) {
    if (o.quiet) return { exitCode: EXIT.ok };
    throw err;
  }
  return { prog: o.prog[0] as string, argv: [...o.prog], pathVar: envPath(state.env), style: 'djb' };
}

/** setlock as one link. */
export function setlock(args: readonly string[], state: ChainState): LinkResult {
  return applySetlock(parseSetlock(args, state.runAs), state);
}
