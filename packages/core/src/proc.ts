// Facts about processes read from /proc (Linux): start time, parent, state, process group.
// Used to tell a live process from a recycled PID, and to find zombies and orphans.
import { readFileSync, readdirSync } from 'node:fs';

/** The fields of /proc/PID/stat that tsv uses. */
export interface ProcStat {
  pid: number;
  /** the command name (field 2, without parentheses) */
  comm: string;
  /** R, S, D, Z, T, ... */
  state: string;
  ppid: number;
  pgrp: number;
  session: number;
  /** start time in clock ticks after boot (field 22): with the pid, a process's identity */
  startTicks: number;
}

/** Parse the text of /proc/PID/stat; undefined when it is malformed. */
export function parseProcStat(text: string): ProcStat | undefined {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return undefined;
  // why: comm may hold spaces and parentheses; fields after it are split from the last ')'.
  const rest = text.slice(close + 2).split(' ');
  const num = (i: number): number => Number(rest[i]);
  const st: ProcStat = {
    pid: Number(text.slice(0, open).trim()),
    comm: text.slice(open + 1, close),
    state: rest[0] ?? '?',
    ppid: num(1),
    pgrp: num(2),
    session: num(3),
    startTicks: num(19),
  };
  return Number.isInteger(st.pid) && Number.isFinite(st.startTicks) ? st : undefined;
}

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

/** Pids of every process whose process group is pgid (a scan of /proc). */
export function pidsInGroup(pgid: number): number[] {
  const out: number[] = [];
  let names: string[];
  try {
    names = readdirSync('/proc');
  } catch {
    return out;
  }
  for (const n of names) {
    if (n.charCodeAt(0) < 48 || n.charCodeAt(0) > 57) continue;
    const st = procStat(Number(n));
    if (st !== undefined && st.pgrp === pgid && st.state !== 'Z') out.push(st.pid);
  }
  return out;
}
