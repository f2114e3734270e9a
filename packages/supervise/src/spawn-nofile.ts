// The soft RLIMIT_NOFILE around a spawn: Node raises its own at start-up, and a child must get
// the limit the supervisor was started with (as runsv's children do), without making the spawn
// itself, or other services' file operations meanwhile, fail with EMFILE.
import { closeSync, openSync, constants as fsc } from 'node:fs';
import { getrlimit, RLIMIT, setrlimit } from '@tsv/native';

/** Descriptors that must stay free below a lowered NOFILE during a spawn: libuv's exec-error
 * pipe, and files the threadpool may open meanwhile for other services. */
const NOFILE_MARGIN = 32;

/** Put the soft NOFILE back to what the supervisor was started with, for the next spawn
 * (Node raised it at start-up); returns the raised value to restore, or undefined. When this
 * process already uses descriptors up to near that limit (tsvscan with hundreds of services),
 * the limit stays raised and the child inherits it: lowering it would make the spawn itself, and
 * every other service's file operations meanwhile, fail with EMFILE (see docs/tsvscan.md). */
export function lowerNofile(soft: number | undefined): number | undefined {
  if (soft === undefined) return undefined;
  try {
    const cur = getrlimit(RLIMIT.NOFILE);
    if (cur.soft === soft) return undefined;
    // why: a new descriptor gets the lowest free number, so opening one tells whether the next
    // NOFILE_MARGIN descriptors would still fit under the lowered limit.
    const probe = openSync('/dev/null', fsc.O_RDONLY);
    closeSync(probe);
    if (probe + NOFILE_MARGIN >= soft) return undefined;
    setrlimit(RLIMIT.NOFILE, Math.min(soft, cur.hard), cur.hard);
    return cur.soft;
  } catch {
    return undefined;
  }
}

/** Raise the soft NOFILE again after a spawn. */
export function restoreNofile(raised: number | undefined): void {
  if (raised === undefined) return;
  try {
    setrlimit(RLIMIT.NOFILE, raised, getrlimit(RLIMIT.NOFILE).hard);
  } catch {
    // keep the lower limit
  }
}
