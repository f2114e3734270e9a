// The state a chain of wrappers carries from link to link: what the next program will inherit
// beyond what the kernel keeps by itself (uid, gids, cwd, root, session, nice, locks).
import { ENV, envFromRecord, type EnvList, envSet, envUnset, warnLine } from '@tsv/core';
import { inheritedFds, startNofile, writeErr } from '@tsv/os';
import { RLIMIT } from '@tsv/native';
import { realpathSync } from 'node:fs';

/** Everything a link changes that is applied at execve, or that later links must know. */
export interface ChainState {
  /** the environment in effect (this link's changes applied) */
  env: EnvList;
  /** fds that must survive execve: inherited ones plus lock fds (see docs/exec.md) */
  keepFds: number[];
  /** soft limits to set just before execve, by resource */
  limits: Map<number, number>;
  /** fds among 0-2 closed by chpst -0/-1/-2 */
  closedStdio: number[];
  /** a chroot happened: programs are now looked up in another tree, so no fusion */
  chrooted: boolean;
  /** how a link reports a warning (the CLI prints `prog: warning: text` on stderr) */
  warn: (prog: string, text: string) => void;
  /** the name the current link was run as (its usage line says it, as runit's chpst and
   * daemontools' getopt complaints do); unset: the wrapper's own name */
  runAs?: string;
}

/** The name a program at path was run as: its last part, without our launchers' `.cjs`
 * (undefined for an empty one). */
export function runAsName(path: string | undefined): string | undefined {
  if (path === undefined) return undefined;
  let base = path.slice(path.lastIndexOf('/') + 1);
  if (base.endsWith('.cjs')) base = base.slice(0, -'.cjs'.length);
  return base === '' ? undefined : base;
}

/** The CLI's warning printer: one line on stderr. */
export function printWarning(prog: string, text: string): void {
  writeErr(warnLine(prog, text));
}

/** The state of a wrapper started by its launcher: our environment minus TSV_NOFILE, the fds
 * we inherited, and the original soft NOFILE queued for restoration (Node raised it).
 * Call it first: inheritedFds must run before this process opens anything of its own. */
export function initialState(env: NodeJS.ProcessEnv = process.env, warn: ChainState['warn'] = printWarning): ChainState {
  const list = envFromRecord(env);
  envUnset(list, ENV.nofile);
  restoreCaCerts(list, env);
  const limits = new Map<number, number>();
  const nofile = startNofile(env);
  if (nofile !== undefined) limits.set(RLIMIT.NOFILE, nofile);
  return { env: list, keepFds: inheritedFds(), limits, closedStdio: [], chrooted: false, warn };
}

/** Put back NODE_EXTRA_CA_CERTS, which our launcher parked in TSV_NODE_EXTRA_CA_CERTS so that
 * this Node would not load certificates it never uses. */
export function restoreCaCerts(list: EnvList, env: NodeJS.ProcessEnv): void {
  const parked = env[ENV.extraCaCerts];
  envUnset(list, ENV.extraCaCerts);
  if (parked !== undefined) envSet(list, 'NODE_EXTRA_CA_CERTS', parked);
}

/** Real path of p, or undefined when it cannot be resolved. */
export function realpathOrUndefined(p: string): string | undefined {
  try {
    return realpathSync.native(p);
  } catch {
    return undefined;
  }
}
