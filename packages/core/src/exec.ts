// Replacing the process: program lookup in PATH (spec README) and execve with no Node residue.
import { readdirSync, readlinkSync } from 'node:fs';
import { execve, getrlimit, setrlimit, RLIMIT } from '@tsv/native';
import { ENV } from './names.js';

/** Directories to search for name: none when it contains '/', else $PATH's elements
 * (default /bin:/usr/bin; an empty element means '.'). */
export function searchDirs(name: string, pathVar: string | undefined): string[] | undefined {
  if (name.includes('/')) return undefined;
  return (pathVar ?? '/bin:/usr/bin').split(':').map((d) => (d === '' ? '.' : d));
}

/** Candidate files for name in lookup order. */
export function candidates(name: string, pathVar: string | undefined): string[] {
  const dirs = searchDirs(name, pathVar);
  return dirs === undefined ? [name] : dirs.map((d) => `${d}/${name}`);
}

/** Errors after which the lookup goes on to the next PATH element, remembering the error. */
const REMEMBERED = new Set(['EACCES', 'EPERM', 'EISDIR']);

/** What to do after one failed candidate: 'next' (ENOENT), 'remember' or 'stop'. ENOTDIR (a
 * PATH element that is a file) stops, as in runit and daemontools (verified: both report
 * `unable to run ...: not a directory` for PATH=/etc/passwd:/usr/bin). */
export function lookupStep(code: string | undefined): 'next' | 'remember' | 'stop' {
  if (code === 'ENOENT') return 'next';
  if (code !== undefined && REMEMBERED.has(code)) return 'remember';
  return 'stop';
}

/** An environment as an ordered list of NAME=value entries, like environ. */
export type EnvList = string[];

/** Build an EnvList from a record. */
export function envFromRecord(rec: NodeJS.ProcessEnv): EnvList {
  const out: EnvList = [];
  for (const [k, v] of Object.entries(rec)) if (v !== undefined) out.push(`${k}=${v}`);
  return out;
}

/** Remove the first entry for name (the part before the first '='), as runit's pathexec does. */
export function envUnset(env: EnvList, name: string): void {
  const key = name.split('=')[0] ?? name;
  const i = env.findIndex((x) => x.startsWith(`${key}=`));
  if (i >= 0) env.splice(i, 1);
}

/** Set name=value (name may itself hold '=', kept verbatim as daemontools does). */
export function envSet(env: EnvList, name: string, value: string): void {
  envUnset(env, name);
  env.push(`${name}=${value}`);
}

/** Fds this process inherited (besides 0-2) that must survive exec. Node marks inherited fds
 * close-on-exec at start-up and adds its own (epoll, eventfd, self-pipes); the rule: every open
 * fd above 2 except anonymous inodes and pipes whose both ends we hold (Node's self-pipes).
 * Call it before opening anything of your own. */
export function inheritedFds(): number[] {
  let names: string[];
  try {
    names = readdirSync('/proc/self/fd');
  } catch {
    return [];
  }
  const targets = new Map<number, string>();
  for (const n of names) {
    const fd = Number(n);
    if (fd <= 2) continue;
    try {
      targets.set(fd, readlinkSync(`/proc/self/fd/${n}`));
    } catch {
      // the directory's own fd, closed by now
    }
  }
  const pipeCount = new Map<string, number>();
  for (const t of targets.values()) if (t.startsWith('pipe:')) pipeCount.set(t, (pipeCount.get(t) ?? 0) + 1);
  const out: number[] = [];
  for (const [fd, t] of targets) {
    if (t.startsWith('anon_inode:')) continue;
    if (t.startsWith('pipe:') && (pipeCount.get(t) ?? 0) > 1) continue;
    out.push(fd);
  }
  return out.sort((a, b) => a - b);
}

/** The soft RLIMIT_NOFILE this program was started with, from its launcher (Node raises the
 * soft limit to the hard one at start-up); undefined when not launched through one. */
export function startNofile(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const v = env[ENV.nofile];
  if (v === undefined) return undefined;
  if (v === 'unlimited') return Infinity;
  const n = Number(v);
  return Number.isInteger(n) && n >= 0 ? n : undefined;
}

/** Put the soft RLIMIT_NOFILE back to soft (clamped to the hard limit); errors are ignored
 * because the limit only matters to the program about to be exec'd. */
export function restoreNofile(soft: number | undefined): void {
  if (soft === undefined) return;
  try {
    const cur = getrlimit(RLIMIT.NOFILE);
    setrlimit(RLIMIT.NOFILE, Math.min(soft, cur.hard), cur.hard);
  } catch {
    // keep Node's limit
  }
}

/** Try execve on every candidate for name, in lookup order. Returns only by throwing the
 * error to report: the remembered one (EACCES, EPERM, EISDIR), else the last one. */
export function execvpe(name: string, argv: string[], env: EnvList, keepFds: number[], pathVar: string | undefined): never {
  let remembered: unknown;
  let last: unknown;
  for (const file of candidates(name, pathVar)) {
    try {
      execve(file, argv, env, keepFds);
    } catch (err) {
      last = err;
      const step = lookupStep((err as NodeJS.ErrnoException).code);
      if (step === 'stop') throw err;
      if (step === 'remember') remembered ??= err;
    }
  }
  throw remembered ?? last;
}
