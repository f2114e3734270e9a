// envuidgid (daemontools 0.76): envuidgid account child.
import { lookupAccount } from '../account.js';
import { applyEnvChanges, envPath } from '../env-dir.js';
import type { LinkResult } from '../exec-next.js';
import type { ChainState } from '../state.js';
import { accountUsageText, parseAccountArgs, type AccountOptions } from './setuidgid.js';

export const ENVUIDGID_USAGE = accountUsageText('envuidgid');

/** Parse envuidgid's command line. */
export function parseEnvuidgid(args: readonly string[], name = 'envuidgid'): AccountOptions {
  return parseAccountArgs(name, accountUsageText(name), args);
}

/** Set GID (the primary gid) then UID from the passwd file; nothing else changes. */
export function applyEnvuidgid(o: AccountOptions, state: ChainState): LinkResult {
  const pathVar = envPath(state.env);
  const ids = lookupAccount(o.account);
  applyEnvChanges(state.env, [`GID=${ids.gids[0]}`, `UID=${ids.uid}`]);
  return { prog: o.prog[0] as string, argv: [...o.prog], pathVar, style: 'djb' };
}

/** envuidgid as one link. */
export function envuidgid(args: readonly string[], state: ChainState): LinkResult {
  return applyEnvuidgid(parseEnvuidgid(args, state.runAs), state);
}
