// Facts about processes read from /proc (Linux): start time, parent, state, process group.
// Used to tell a live process from a recycled PID, and to find zombies and orphans.
import { openSync, readFileSync, readSync, readdirSync } from 'node:fs';
import { parseProcStat, type ProcStat } from '@tsv/core';
import { closeQuiet } from './cgroup.js';

/** /proc/PID/stat of pid, or undefined when there is no such process. */
export function procStat(pid: number): ProcStat | undefined {
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  try {
    return parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined;
  }
}

/** Is pid a live (non-zombie) process whose start time is startTicks (when given)? */
export function isSameLiveProcess(pid: number, startTicks?: number): boolean {
  const st = procStat(pid);
  if (st === undefined || st.state === 'Z' || st.state === 'X') return false;
  return startTicks === undefined || st.startTicks === startTicks;
}

/** Pids of the live and zombie children of pid (this process by default), from
 * /proc/PID/task/TID/children of every thread (a child belongs to the thread that forked it). */
export function childPids(pid: number = process.pid): number[] {
  const out = new Set<number>();
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
  for (const tid of tids) {
    try {
      for (const p of readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').split(' ')) {
        const n = Number(p);
        if (p !== '' && Number.isInteger(n)) out.add(n);
      }
    } catch {
      // thread gone
    }
  }
  return [...out];
}

/** Pids of the live and zombie children of this process's main thread: one read of its
 * /proc/self/task/PID/children, where childPids reads a directory and a file per thread.
 * why enough for the subreaper's sweep (strays and their zombies): the kernel re-parents
 * orphans to a subreaper's thread group leader while it lives (find_alive_thread starts there),
 * and libuv spawns on the loop thread. The children that hang off other threads are the runs
 * spawned in the thread pool (spawnChildAsync): the ChildWatcher's, never a sweep's. */
export function mainThreadChildPids(): number[] {
  let text: string;
  try {
    text = readChildrenFile();
  } catch {
    return childPids();
  }
  const out: number[] = [];
  for (const p of text.split(' ')) {
    const n = Number(p);
    if (p !== '' && Number.isInteger(n)) out.push(n);
  }
  return out;
}

/** The main thread's children file, held open: a sweep (each SIGCHLD of a crash storm) is a
 * pread at offset 0, which makes the kernel list the children afresh, and one more that finds
 * the end, instead of readFileSync's open, fstat, reads and close. */
let childrenFd: number | undefined;
/** its read buffer, made at the first read (not at every tool's import of this module) */
let childrenBuf: Buffer | undefined;

/** The text of /proc/self/task/PID/children now (PID: the main thread). */
function readChildrenFile(): string {
  const fd = (childrenFd ??= openSync(`/proc/self/task/${process.pid}/children`, 'r'));
  const buf = (childrenBuf ??= Buffer.allocUnsafeSlow(16384));
  let text = '';
  // why a loop to the end: the kernel lists at most a page of pids per read, whatever the size
  // of the buffer.
  for (let off = 0; ; ) {
    let n: number;
    try {
      n = readSync(fd, buf, 0, buf.length, off);
    } catch (err) {
      // why: the next sweep opens it again (a failed read leaves nothing worth keeping)
      childrenFd = undefined;
      closeQuiet(fd);
      throw err;
    }
    if (n === 0) return text;
    text += buf.toString('latin1', 0, n);
    off += n;
  }
}

/** Does process group pgid have any member (live or zombie)? One kill(2), no /proc scan. */
export function groupExists(pgid: number): boolean {
  if (!Number.isInteger(pgid) || pgid <= 0) return false;
  try {
    // why: signal 0 to -pgid checks only that the group has a member we could signal; ESRCH
    // means it has none. EPERM means a member exists (of another user): it exists.
    process.kill(-pgid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/** The pids /proc lists now (the one walk of /proc: every scan of processes starts here). */
export function procPids(): number[] {
  let names: string[];
  try {
    names = readdirSync('/proc');
  } catch {
    return [];
  }
  const out: number[] = [];
  for (const n of names) {
    const c = n.charCodeAt(0);
    if (c >= 48 && c <= 57) out.push(Number(n));
  }
  return out;
}

/** Pids of every live process whose process group is pgid. The kernel is asked first
 * (groupExists): the usual case, an empty group after a service exit, costs one kill(2) instead
 * of a read of every /proc/PID/stat; /proc is scanned only when the group has a member (which
 * may be a zombie, which this does not count). */
export function pidsInGroup(pgid: number): number[] {
  const out: number[] = [];
  if (!groupExists(pgid)) return out;
  for (const pid of procPids()) {
    const st = procStat(pid);
    if (st !== undefined && st.pgrp === pgid && st.state !== 'Z') out.push(st.pid);
  }
  return out;
}
