// Facts about processes read from /proc (Linux): start time, parent, state, process group.
// Used to tell a live process from a recycled PID, and to find zombies and orphans.
import { readFileSync, readdirSync } from 'node:fs';
import { parseProcStat, type ProcStat } from '@tsv/core';

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
