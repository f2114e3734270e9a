// The end of a link: set the queued limits, then execve the next program through PATH (core
// execvpe: no Node residue). An exec failure exits 111, as in runit and daemontools (their
// test scripts check `$? = 111`).
import { errCode, EXIT, fatalFrom, ToolError } from '@tsv/core';
import { execvpe } from '@tsv/os';
import { getrlimit, setrlimit } from '@tsv/native';
import type { ChainState } from './state.js';

/** The program a link hands over to, and how its failures are worded. */
export interface NextProgram {
  /** the name looked up in PATH (chpst -b changes argv[0], not this) */
  prog: string;
  /** the argument vector of the program */
  argv: string[];
  /** PATH for the lookup: the one in effect when this link started (runit and daemontools look
   * up with the PATH they were given, not one set by -e / envdir) */
  pathVar: string | undefined;
  /** 'runit': `unable to run: ARGV0: err`; 'djb': `unable to run PROG: err` */
  style: 'runit' | 'djb';
}

/** What a link decided: the program to run next, or to exit now with a status (setlock -x). */
export type LinkResult = NextProgram | { exitCode: number };

/** Set every queued soft limit; returns the previous soft values so a failed exec can put
 * them back before this process reports (and allocates) anything. */
function applyLimits(limits: Map<number, number>, style: NextProgram['style']): Array<[number, number, number]> {
  const saved: Array<[number, number, number]> = [];
  for (const [res, soft] of limits) {
    try {
      const cur = getrlimit(res);
      setrlimit(res, Math.min(soft, cur.hard), cur.hard);
      saved.push([res, cur.soft, cur.hard]);
    } catch (err) {
      restoreLimits(saved);
      throw fatalFrom(style === 'runit' ? 'unable to setrlimit' : 'setrlimit failed', err, EXIT.temporary);
    }
  }
  return saved;
}

/** Put saved soft limits back (errors ignored: only the message that follows needs them). */
function restoreLimits(saved: Array<[number, number, number]>): void {
  for (const [res, soft, hard] of saved) {
    try {
      setrlimit(res, soft, hard);
    } catch {
      // keep going
    }
  }
}

/** Replace this process with next (same pid). Returns only by throwing the ToolError to report. */
export function execNext(next: NextProgram, state: ChainState): never {
  const saved = applyLimits(state.limits, next.style);
  try {
    execvpe(next.prog, next.argv, state.env, state.keepFds, next.pathVar);
  } catch (err) {
    restoreLimits(saved);
    if (err instanceof ToolError) throw err;
    throw next.style === 'runit'
      ? fatalFrom(`unable to run: ${next.argv[0] ?? next.prog}`, err, EXIT.temporary)
      : fatalFrom(`unable to run ${next.prog}`, err, EXIT.temporary);
  }
}
