// envdir (daemontools 0.76): envdir dir child.
import { applyEnvChanges, envPath, readEnvDir } from '../env-dir.js';
import type { LinkResult } from '../exec-next.js';
import type { ChainState } from '../state.js';
import { EXIT, usage } from '@tsv/core';

/** envdir's usage line for a program run as name. */
export function envdirUsageText(name: string): string {
  return `${name}: usage: ${name} dir child`;
}

export const ENVDIR_USAGE = envdirUsageText('envdir');

/** envdir's arguments. */
export interface EnvdirOptions {
  dir: string;
  prog: string[];
}

/** Parse `dir child...` (no options, as daemontools); usage exits 111, not 100. */
export function parseEnvdir(args: readonly string[], name = 'envdir'): EnvdirOptions {
  if (args.length < 2) throw usage(name, envdirUsageText(name), EXIT.temporary);
  return { dir: args[0] as string, prog: args.slice(1) };
}

/** Apply the directory (subdirectories and unreadable entries are fatal); the program is
 * looked up with the PATH in effect before the directory was applied. */
export function applyEnvdir(o: EnvdirOptions, state: ChainState): LinkResult {
  const pathVar = envPath(state.env);
  applyEnvChanges(state.env, readEnvDir(o.dir, { runit: false, skipDirs: false, notice: (text) => state.warn('envdir', text) }));
  return { prog: o.prog[0] as string, argv: [...o.prog], pathVar, style: 'djb' };
}

/** envdir as one link. */
export function envdir(args: readonly string[], state: ChainState): LinkResult {
  return applyEnvdir(parseEnvdir(args, state.runAs), state);
}

