// Chain fusion: when the program a link is about to exec resolves (through PATH, as execve
// would find it) to one of this installation's wrappers, run that wrapper in this process
// instead of paying one more Node start. See docs/exec.md for why the result is the same.
import { candidates, errCode, lookupStep } from '@tsv/core';
import type { NextProgram } from './exec-next.js';
import { realpathOrUndefined, type ChainState } from './state.js';
import { accessSync, constants, realpathSync, statSync } from 'node:fs';

/** The wrappers of this package, by executable name. */
export const WRAPPER_NAMES = ['chpst', 'setuidgid', 'envuidgid', 'envdir', 'softlimit', 'setlock', 'pgrphack'] as const;
/** One of our wrappers. */
export type WrapperName = (typeof WRAPPER_NAMES)[number];

/** Real path of this installation's bin/ directory (computed once, before any chroot or uid
 * change could hide it). */
let binDir: string | undefined | null = null;

/** The real path of packages/chain/bin (undefined when it cannot be resolved). */
export function ourBinDir(): string | undefined {
  // why not node:url/node:path: each builtin ES module costs start-up time; a file: URL's
  // pathname, percent-decoded, is the path on Linux
  if (binDir === null) binDir = realpathOrUndefined(decodeURIComponent(new URL('../bin', import.meta.url).pathname));
  return binDir;
}

/** Which of our wrappers the real file rp is, if any. */
function wrapperOf(rp: string): WrapperName | undefined {
  const dir = ourBinDir();
  const slash = rp.lastIndexOf('/');
  if (dir === undefined || rp.slice(0, slash) !== dir) return undefined;
  const base = rp.slice(slash + 1);
  return WRAPPER_NAMES.find((n) => base === `${n}.cjs`);
}

/** Could the current credentials execute path (a regular file with an x bit for us)? */
function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** The wrapper next.prog resolves to, walking PATH as execvpe does: a missing candidate or one
 * execve would refuse (not executable, a directory) is skipped; the first runnable candidate
 * decides. undefined means: exec for real (a foreign program, a lookup error, or a chroot). */
export function fusionTarget(next: NextProgram, state: ChainState): WrapperName | undefined {
  if (state.chrooted) return undefined;
  for (const c of candidates(next.prog, next.pathVar)) {
    let rp: string;
    try {
      rp = realpathSync.native(c);
    } catch (err) {
      // why: execvpe goes on to the next element after these and stops at anything else
      if (lookupStep(errCode(err)) === 'stop') return undefined;
      continue;
    }
    if (!executable(c)) continue;
    return wrapperOf(rp);
  }
  return undefined;
}
