// pgrphack (daemontools 0.76): pgrphack child.
import { setsid } from '@tsv/native';
import { EXIT, usage } from '@tsv/core';
import { envPath } from '../env-dir.js';
import type { LinkResult } from '../exec-next.js';
import type { ChainState } from '../state.js';

/** pgrphack's usage line for a program run as name. */
export function pgrphackUsageText(name: string): string {
  return `${name}: usage: ${name} child`;
}

export const PGRPHACK_USAGE = pgrphackUsageText('pgrphack');

/** Parse `child...`. */
export function parsePgrphack(args: readonly string[], name = 'pgrphack'): string[] {
  if (args.length < 1) throw usage(name, pgrphackUsageText(name), EXIT.usage);
  return [...args];
}

/** New session and process group (a failure, e.g. already a group leader, is ignored). */
export function applyPgrphack(prog: string[], state: ChainState): LinkResult {
  try {
    setsid();
  } catch {
    // as daemontools
  }
  return { prog: prog[0] as string, argv: prog, pathVar: envPath(state.env), style: 'djb' };
}

/** pgrphack as one link. */
export function pgrphack(args: readonly string[], state: ChainState): LinkResult {
  return applyPgrphack(parsePgrphack(args, state.runAs), state);
}
