// Replacing the process: execve with no Node residue (the fds to keep, the NOFILE limit to
// restore), over core's PATH lookup.
import { existsSync, readdirSync, readlinkSync } from 'node:fs';
import { candidates, ENV, type EnvList, lookupStep } from '@tsv/core';
import { execve, getrlimit, RLIMIT, setrlimit, spawnSlots } from '@tsv/native';

/** Fds this process inherited (besides 0-2) that must survive exec. Node marks inherited fds
 * close-on-exec at start-up and adds its own (epoll, eventfd, self-pipes); the rule: every open
 * fd above 2 except anonymous inodes, pipes whose both ends we hold (Node's self-pipes) and the
 * addon's spawn slots (opened when it loaded). Call it before opening anything of your own. */
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
  const slots = new Set(spawnSlots());
  for (const [fd, t] of targets) {
    if (t.startsWith('anon_inode:') || slots.has(fd)) continue;
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

/** NODE_V8_COVERAGE as this program started with it (a test run measuring coverage). Read
 * here, once: execvpe runs after the queued limits are set, when a low RLIMIT_AS leaves Node no
 * room to map memory (see chain's limits.ts), so without coverage it must not even call (and so
 * lazily compile) flushCoverage. */
const coverageDir = process.env.NODE_V8_COVERAGE;

/** Under NODE_V8_COVERAGE, write this process's coverage now: Node writes it at exit, and a
 * successful execve is no exit (node:v8 is loaded only then). Skipped when the directory is
 * not reachable (after a chroot), where Node would print a warning on the stderr the next
 * program inherits. */
function flushCoverage(dir: string): void {
  // why: the queued limits are already set. Under a finite soft RLIMIT_AS or DATA, V8 may
  // abort (std::bad_alloc) while collecting, and lifting the limit for the write would widen
  // the window in which Node's other threads run under the lowered one: give up this link's
  // coverage instead. A low FSIZE/NOFILE would fail the write: lift those to their hard values
  // for the write, then put them back for the next program.
  if (getrlimit(RLIMIT.AS).soft !== Infinity || getrlimit(RLIMIT.DATA).soft !== Infinity || !existsSync(dir)) return;
  const lifted: Array<[number, { soft: number; hard: number }]> = [];
  for (const r of [RLIMIT.FSIZE, RLIMIT.NOFILE]) {
    const cur = getrlimit(r);
    if (cur.soft === cur.hard) continue;
    setrlimit(r, cur.hard, cur.hard);
    lifted.push([r, cur]);
  }
  try {
    process.getBuiltinModule('node:v8').takeCoverage();
  } finally {
    restore(lifted);
  }
}

/** Put back soft limits flushCoverage lifted. */
function restore(lifted: Array<[number, { soft: number; hard: number }]>): void {
  for (const [r, l] of lifted) setrlimit(r, l.soft, l.hard);
}

/** Try execve on every candidate for name, in lookup order. Returns only by throwing the
 * error to report: the remembered one (EACCES, EPERM, EISDIR), else the last one. */
export function execvpe(name: string, argv: string[], env: EnvList, keepFds: number[], pathVar: string | undefined): never {
  let remembered: unknown;
  let last: unknown;
  if (coverageDir !== undefined && coverageDir !== '') flushCoverage(coverageDir);
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
