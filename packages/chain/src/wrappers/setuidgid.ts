// setuidgid (daemontools 0.76): setuidgid account child.
import { lookupAccount, switchUser } from '../account.js';
import { envPath } from '../env-dir.js';
import type { LinkResult } from '../exec-next.js';
import type { ChainState } from '../state.js';
import { usage } from '../getopt.js';

export const SETUIDGID_USAGE = 'setuidgid: usage: setuidgid account child';

/** setuidgid's arguments. */
export interface AccountOptions {
  account: string;
  prog: string[];
}

/** Parse `account child...` (no options, as daemontools; usage exits 100). */
export function parseAccountArgs(prog: string, text: string, args: readonly string[]): AccountOptions {
  if (args.length < 2) throw usage(prog, text, 100);
  return { account: args[0] as string, prog: args.slice(1) };
}

/** Parse setuidgid's command line. */
export function parseSetuidgid(args: readonly string[]): AccountOptions {
  return parseAccountArgs('setuidgid', SETUIDGID_USAGE, args);
}

/** Become the account: supplementary groups := exactly its primary gid (daemontools drops the
 * others, no initgroups; see docs/setuidgid.md), gid, uid. Environment unchanged. */
export function applySetuidgid(o: AccountOptions, state: ChainState): LinkResult {
  const ids = lookupAccount(o.account);
  switchUser(ids, { setgroups: 'unable to setgid', setgid: 'unable to setgid', setuid: 'unable to setuid' });
  return { prog: o.prog[0] as string, argv: [...o.prog], pathVar: envPath(state.env), style: 'djb' };
}

/** setuidgid as one link. */
export function setuidgid(args: readonly string[], state: ChainState): LinkResult {
  return applySetuidgid(parseSetuidgid(args), state);
}
