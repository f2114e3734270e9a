// setuidgid (daemontools 0.76): setuidgid account child.
import { lookupAccount, switchUser } from '../account.js';
import { envPath } from '../env-dir.js';
import type { LinkResult } from '../exec-next.js';
import type { ChainState } from '../state.js';
import { EXIT, usage } from '@tsv/core';

/** The usage line of setuidgid or envuidgid (prog) for a program run as name. */
export function accountUsageText(name: string): string {
  return `${name}: usage: ${name} account child`;
}

export const SETUIDGID_USAGE = accountUsageText('setuidgid');

/** setuidgid's arguments. */
export interface AccountOptions {
  account: string;
  prog: string[];
}

/** Parse `account child...` (no options, as daemontools; usage exits 100). */
export function parseAccountArgs(prog: string, text: string, args: readonly string[]): AccountOptions {
  if (args.length < 2) throw usage(prog, text, EXIT.usage);
  return { account: args[0] as string, prog: args.slice(1) };
}

/** Parse setuidgid's command line. */
export function parseSetuidgid(args: readonly string[], name = 'setuidgid'): AccountOptions {
  return parseAccountArgs(name, accountUsageText(name), args);
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
  return applySetuidgid(parseSetuidgid(args, state.runAs), state);
}
