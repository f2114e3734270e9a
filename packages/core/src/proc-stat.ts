// The text of /proc/PID/stat parsed (pure): start time, parent, state, process group. The
// reading of /proc is @tsv/os's.

/** Clock ticks per second of /proc/PID/stat's times (utime, stime, start time): USER_HZ, 100 on
 * every Linux ABI Node runs on (the kernel scales to it whatever its own HZ; sysconf(_SC_CLK_TCK)
 * is not reachable from Node). The one definition: every reader of those fields uses it. */
export const USER_HZ = 100;

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
