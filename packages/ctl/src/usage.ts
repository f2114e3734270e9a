// What a tsv-supervised process uses now, for `tsvctl status` (table, --json) and `tsvctl list`:
// its cgroup's accounting in cgroup mode (cpu.stat, memory.current/peak, memory.events, or /proc
// sums of cgroup.procs where the memory controller is missing), else /proc sums over its
// process group (session mode).
import { cgroupUsage, pidsInGroup, procUsage, type CgroupUsage } from '@tsv/os';
import type { ExtraProcess } from '@tsv/core';

/** The usage of one process of a status, with the mode it was measured in. */
export interface UsageJson {
  /** cgroup: the service's own cgroup; session: its process group, from /proc */
  mode: 'cgroup' | 'session';
  /** the cgroup's directory, in cgroup mode */
  cgroup: string | null;
  /** CPU time, seconds (cgroup: of every process that ever ran in it since it was made) */
  cpuSeconds: number | null;
  memoryBytes: number | null;
  memoryPeakBytes: number | null;
  /** where the memory figures come from */
  memorySource: 'cgroup' | 'proc';
  processes: number;
  /** OOM kills in the cgroup (memory.events), null without the memory controller */
  oomKills: number | null;
}

/** The usage of the process tsv.json describes, or null (runsv, in-process logger, nothing runs
 * in session mode). */
export function usageOfExtra(x: ExtraProcess | undefined): UsageJson | null {
  if (x === undefined || x.inProcess === true) return null;
  if (x.mode === 'cgroup' && typeof x.cgroup === 'string') {
    const u: CgroupUsage | null = cgroupUsage(x.cgroup);
    if (u === null) return null;
    return { mode: 'cgroup', cgroup: x.cgroup, cpuSeconds: u.cpuUsec === null ? null : u.cpuUsec / 1e6, memoryBytes: u.memoryCurrent, memoryPeakBytes: u.memoryPeak, memorySource: u.memorySource, processes: u.pids, oomKills: u.oomKills };
  }
  if (x.state === 'down' || x.pid === 0 || x.pgid === 0) return null;
  const pids = pidsInGroup(x.pgid);
  const p = procUsage(pids);
  return { mode: 'session', cgroup: null, cpuSeconds: p.cpuUsec / 1e6, memoryBytes: p.rssBytes, memoryPeakBytes: p.hwmBytes, memorySource: 'proc', processes: p.live, oomKills: null };
}

/** Bytes in a short form: 512K, 12.3M, 1.2G (powers of 1024). */
export function shortBytes(n: number): string {
  if (n < 1024 * 1024) return `${Math.round(n / 1024)}K`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)}M`;
  return `${(n / 1024 ** 3).toFixed(1)}G`;
}

/** `cgroup, cpu 0.42s, mem 1.2M (peak 3.4M), 3 procs, 1 oom kill` for the table. */
export function usageText(u: UsageJson): string {
  const out: string[] = [u.mode];
  if (u.cpuSeconds !== null) out.push(`cpu ${u.cpuSeconds.toFixed(2)}s`);
  if (u.memoryBytes !== null) out.push(`mem ${shortBytes(u.memoryBytes)}${u.memoryPeakBytes !== null ? ` (peak ${shortBytes(u.memoryPeakBytes)})` : ''}`);
  out.push(`${u.processes} proc${u.processes === 1 ? '' : 's'}`);
  if (u.oomKills !== null && u.oomKills > 0) out.push(`${u.oomKills} oom kill${u.oomKills === 1 ? '' : 's'}`);
  return out.join(', ');
}
