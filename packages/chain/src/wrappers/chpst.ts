// chpst (runit 2.1.2 plus 2.2.0's -C): parse with getopt, then apply in runit's fixed order.
import { badNumber, EXIT, fatalFrom, getopt, type ToolError, usage, versionLine } from '@tsv/core';
import { chroot, RLIMIT, setsid } from '@tsv/native';
import { lookupUidGids, switchUser } from '../account.js';
import { applyEnvChanges, envPath, readEnvDir } from '../env-dir.js';
import type { LinkResult } from '../exec-next.js';
import { parseLimit, queueOption, MEM_RESOURCES, type LimitValue } from '../limits.js';
import { RUNIT_LOCK, takeLock } from '../lock.js';
import type { ChainState } from '../state.js';
import { closeSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';

/** chpst's usage text for a program run as name (runit prints its progname). */
export function chpstUsageText(name: string): string {
  return `usage: ${name} [-vVP012] [-u user[:group]] [-U user[:group]] [-b argv0] [-e dir] [-/ root] [-C pwd] [-n nice] [-l|-L lock] [-m n] [-d n] [-o n] [-p n] [-f n] [-c n] [-t n] prog\n\n`;
}

export const CHPST_USAGE = chpstUsageText('chpst');

/** What -V prints before the usage. */
export const CHPST_VERSION = versionLine('chpst');

const OPTSTRING = 'u:U:b:e:m:d:o:p:f:c:r:t:/:C:n:l:L:vVP012';

/** One queued limit option: the resources it sets, its value, and how it was written. */
export interface ChpstLimit {
  opt: string;
  text: string;
  value: LimitValue;
}

/** chpst's options after parsing. */
export interface ChpstOptions {
  user?: string;
  envUser?: string;
  argv0?: string;
  envDir?: string;
  root?: string;
  pwd?: string;
  nice: number;
  lock?: { file: string; wait: boolean };
  /** per resource, the last option that set it (runit keeps one variable per resource) */
  limits: Map<number, ChpstLimit>;
  verbose: boolean;
  setsid: boolean;
  close: number[];
  /** prog and its arguments */
  prog: string[];
}

/** Resources each limit option sets. */
const LIMIT_OPTS: Record<string, readonly number[]> = {
  m: MEM_RESOURCES,
  d: [RLIMIT.DATA],
  o: [RLIMIT.NOFILE],
  p: [RLIMIT.NPROC],
  f: [RLIMIT.FSIZE],
  c: [RLIMIT.CORE],
  r: [RLIMIT.RSS],
  t: [RLIMIT.CPU],
};

/** The usage error of chpst run as name (exit 100). */
function chpstUsage(name: string, cause?: unknown): ToolError {
  return usage(name, chpstUsageText(name), EXIT.usage, cause);
}

/** Parse `-n [+|-]inc`; undefined means usage. */
function parseNice(arg: string): number | undefined {
  const m = /^([+-]?)(\d+)$/.exec(arg);
  if (m === null) return undefined;
  const n = Math.min(Number(m[2]), 1000);
  return m[1] === '-' ? -n : n;
}

/** Parse chpst's command line (getopt: stops at the first non-option or `--`). Throws usage. */
export function parseChpst(args: readonly string[], name = 'chpst'): ChpstOptions {
  let parsed;
  try {
    parsed = getopt(args, OPTSTRING);
  } catch (err) {
    throw chpstUsage(name, err);
  }
  const o: ChpstOptions = { nice: 0, limits: new Map(), verbose: false, setsid: false, close: [], prog: parsed.rest };
  for (const { opt, arg } of parsed.opts) {
    const resources = LIMIT_OPTS[opt];
    if (resources !== undefined) {
      const value = parseLimit(arg, false);
      if (value === undefined) throw badNumber(name, opt, arg, chpstUsageText(name), EXIT.usage);
      for (const r of resources) o.limits.set(r, { opt, text: arg, value });
      continue;
    }
    switch (opt) {
      case 'u': o.user = arg; break;
      case 'U': o.envUser = arg; break;
      case 'b': o.argv0 = arg; break;
      case 'e': o.envDir = arg; break;
      case '/': o.root = arg; break;
      case 'C': o.pwd = arg; break;
      case 'n': {
        const n = parseNice(arg);
        if (n === undefined) throw badNumber(name, opt, arg, chpstUsageText(name), EXIT.usage);
        o.nice = n;
        break;
      }
      case 'l':
      case 'L':
        if (o.lock !== undefined) throw chpstUsage(name);
        o.lock = { file: arg, wait: opt === 'l' };
        break;
      case 'v': o.verbose = true; break;
      case 'V':
        throw usage(name, `${CHPST_VERSION}\n${chpstUsageText(name)}`, EXIT.usage);
      case 'P': o.setsid = true; break;
      default: o.close.push(Number(opt)); break;
    }
  }
  if (o.prog.length === 0) throw chpstUsage(name);
  return o;
}

/** Add `nice` to this process's nice value (clamped to -20..19, as nice(2) does). */
function applyNice(inc: number): void {
  // why: Linux setpriority(PRIO_PROCESS, 0) (what os.setPriority(0, n) calls) changes the
  // calling thread only. We run on the main thread, which is the one that calls execve, and
  // the exec'd program is that thread: it keeps the value.
  try {
    const target = Math.max(-20, Math.min(19, getPriority(0) + inc));
    setPriority(0, target);
  } catch (err) {
    // why: glibc's nice() reports a refused decrease as EPERM; Node hands us uv's EACCES
    const info = (err as { info?: { code?: string } }).info;
    const code = info?.code === 'EACCES' || info?.code === 'EPERM' ? 'EPERM' : info?.code;
    throw fatalFrom('unable to set nice level', code === undefined ? err : { code });
  }
}

/** Apply chpst's options to this process and state in runit's fixed order; returns the program
 * to exec. Every failure is a ToolError (exit 111). */
export function applyChpst(o: ChpstOptions, state: ChainState): LinkResult {
  const pathVar = envPath(state.env);
  const warn = (text: string): void => {
    if (o.verbose) state.warn('chpst', text);
  };
  // 1. new session and process group; runit ignores a failure (already a group leader)
  if (o.setsid) {
    try {
      setsid();
    } catch {
      // as runit
    }
  }
  // 2. the env dir (subdirectories skipped)
  if (o.envDir !== undefined) applyEnvChanges(state.env, readEnvDir(o.envDir, { runit: true, skipDirs: true, warn, notice: (text) => state.warn('chpst', text) }));
  // 3. chroot: chdir there first so that "." is the new root and the cwd lies inside it
  if (o.root !== undefined) {
    try {
      process.chdir(o.root);
    } catch (err) {
      throw fatalFrom(`unable to change directory: ${o.root}`, err);
    }
    try {
      chroot('.');
    } catch (err) {
      throw fatalFrom('unable to change root directory', err);
    }
    state.chrooted = true;
  }
  // 4. -C: working directory (inside the new root)
  if (o.pwd !== undefined) {
    try {
      process.chdir(o.pwd);
    } catch (err) {
      throw fatalFrom(`unable to change directory: ${o.pwd}`, err);
    }
  }
  // 5. nice
  if (o.nice !== 0) applyNice(o.nice);
  // 6. -U: account looked up after the chroot; GID then UID queued
  if (o.envUser !== undefined) {
    const ids = lookupUidGids(o.envUser);
    applyEnvChanges(state.env, [`GID=${ids.gids[0]}`, `UID=${ids.uid}`]);
  }
  // 7. -u: groups, gid, uid
  if (o.user !== undefined) {
    switchUser(lookupUidGids(o.user), { setgroups: 'unable to setgroups', setgid: 'unable to setgid', setuid: 'unable to setuid' });
  }
  // 8. the lock, opened as the new user inside the new root
  if (o.lock !== undefined) takeLock(o.lock.file, o.lock.wait, state, RUNIT_LOCK);
  // 9. close stdio fds
  for (const fd of o.close) {
    try {
      closeSync(fd);
    } catch {
      // already closed
    }
    if (!state.closedStdio.includes(fd)) state.closedStdio.push(fd);
  }
  // 10. limits (queued; set just before execve)
  for (const [res, l] of o.limits) {
    // why: a single-resource value above the hard limit gets one warning line; -m (four
    // resources, MEMLOCK's hard limit is often 8 MiB) clamps silently, as runit does
    const w = queueOption(state, [res], l.value, l.opt, l.text);
    if (w !== undefined && l.opt !== 'm') state.warn('chpst', w);
  }
  // 11. the program, argv[0] replaced by -b (looked up by its own name)
  const prog = o.prog[0] as string;
  const argv = [...o.prog];
  if (o.argv0 !== undefined) argv[0] = o.argv0;
  return { prog, argv, pathVar, style: 'runit' };
}

/** chpst as one link: parse, then apply. */
export function chpst(args: readonly string[], state: ChainState): LinkResult {
  return applyChpst(parseChpst(args, state.runAs), state);
}
