// CPU and memory of a service's processes, from /proc (Linux): one scan of /proc per `tsvctl
// list`, then per service the members of its process group (or session) and their usage.
import { readFileSync } from 'node:fs';
import { parseProcStat, USER_HZ, type ProcStat } from '@tsv/core';
import { procPids } from '@tsv/os';

/** One process as the /proc scan saw it. */
export interface ProcEntry extends ProcStat {
  /** user + system CPU time, ticks */
  cpuTicks: number;
}

/** What a service's processes use together. */
export interface Usage {
  /** how many processes were counted */
  processes: number;
  /** CPU time of those processes (user + system), seconds; children already reaped count in their
   * parent's cutime, which is not added (it would count a restarted run's predecessors) */
  cpuSeconds: number;
  /** resident set size, summed, bytes (shared pages counted in each process) */
  rssBytes: number;
  /** proportional set size, summed, bytes (shared pages split): undefined when some process's
   * smaps_rollup was unreadable (another user's process for a non-root reader) */
  pssBytes: number | undefined;
}

/** Parse utime + stime (fields 14 and 15) of a /proc/PID/stat text; 0 when malformed. */
export function cpuTicksOf(text: string): number {
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const t = Number(rest[11]) + Number(rest[12]);
  return Number.isFinite(t) ? t : 0;
}

/** Every live process in /proc (zombies left out: they use no memory and no more CPU). */
export function scanProcs(): Map<number, ProcEntry> {
  const out = new Map<number, ProcEntry>();
  for (const n of procPids()) {
    let text: string;
    try {
      text = readFileSync(`/proc/${n}/stat`, 'utf8');
    } catch {
      continue; // why: the process ended between readdir and open
    }
    const st = parseProcStat(text);
    if (st === undefined || st.state === 'Z' || st.state === 'X') continue;
    out.set(st.pid, { ...st, cpuTicks: cpuTicksOf(text) });
  }
  return out;
}

/** The pids that make up the service whose main process is pid: its session when it leads one
 * (tsv starts run with setsid), else its process group when it leads one, else pid and its
 * descendants (runsv leaves run in runsv's own group: that group would count runsv and every
 * sibling service). The supervisor itself is never among them. */
export function membersOf(pid: number, procs: ReadonlyMap<number, ProcEntry>): number[] {
  const me = procs.get(pid);
  if (me === undefined) return [];
  if (me.session === pid) return [...procs.values()].filter((p) => p.session === pid).map((p) => p.pid);
  if (me.pgrp === pid) return [...procs.values()].filter((p) => p.pgrp === pid).map((p) => p.pid);
  const out = [pid];
  for (let i = 0; i < out.length; i++) for (const p of procs.values()) if (p.ppid === out[i]) out.push(p.pid);
  return out;
}

/** Bytes of a `Name:   N kB` line of a /proc status-like text, or undefined. */
function kbField(text: string, field: string): number | undefined {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(text);
  return m?.[1] !== undefined ? Number(m[1]) * 1024 : undefined;
}

/** Read a /proc file, or undefined (gone, or not ours to read). */
function readProc(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** The usage of the processes pids (from the scan's CPU ticks, and their status and smaps_rollup). */
export function usageOf(pids: readonly number[], procs: ReadonlyMap<number, ProcEntry>): Usage {
  let ticks = 0;
  let rss = 0;
  let pss: number | undefined = 0;
  let n = 0;
  for (const pid of pids) {
    const p = procs.get(pid);
    if (p === undefined) continue;
    n++;
    ticks += p.cpuTicks;
    const status = readProc(`/proc/${pid}/status`);
    rss += (status !== undefined ? kbField(status, 'VmRSS') : undefined) ?? 0;
    // why: smaps_rollup (Linux 4.14+) gives PSS without walking every mapping; it needs
    // ptrace-read access, so another user's process is unreadable for a non-root reader.
    const roll = readProc(`/proc/${pid}/smaps_rollup`);
    const v = roll !== undefined ? kbField(roll, 'Pss') : undefined;
    pss = v === undefined || pss === undefined ? undefined : pss + v;
  }
  return { processes: n, cpuSeconds: ticks / USER_HZ, rssBytes: rss, pssBytes: n === 0 ? undefined : pss };
}
