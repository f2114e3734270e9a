// `tsvctl list [DIR]`: every service of a scan directory, read with status.ts's readers
// (collectStatus, tsv.json through tsv-extra.ts), joined with the CPU and memory of each
// service's processes (proc-usage.ts). Returns rows; list-render.ts prints them.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { EXIT, type ExtraProcess, fatalFrom, SERVICE } from '@tsv/core';
import { collectStatus, type ProcStatus, type ServiceStatus } from '../status.js';
import { poolNotes } from '../pool-file.js';
import { monoNowMs, readExtraFile } from '../tsv-extra.js';
import { membersOf, scanProcs, usageOf, type ProcEntry, type Usage } from './proc-usage.js';
import { usageOfExtra } from '../usage.js';
import { cgroupPids } from '@tsv/os';

/** How the last run ended, as tsv.json records it. */
export interface LastExitRow {
  code: number | null;
  signal: string | null;
  /** wall-clock ms */
  at: number;
  /** why it ended, when the supervisor recorded one (`unable to start ./run: access denied`) */
  reason: string | null;
}

/** The restart backoff, when tsv supervises the service. */
export interface BackoffRow {
  /** waiting to restart now */
  active: boolean;
  /** whole seconds until the next start (active only) */
  secondsLeft: number | null;
  failures: number;
  givenUp: boolean;
}

/** The logger's part of a row. */
export interface LogRow {
  state: 'run' | 'down' | 'finish' | null;
  pid: number | null;
  /** runs inside the supervisor (log/tsvlog) */
  inProcess: boolean;
  /** sv's complaint instead of a status, or null */
  problem: string | null;
  /** log/ holds log/tsvlog but no log/run under a runsv: runsv cannot host a logger, and
   * retries log/./run every second while nothing reads the service's output */
  needsTsv: boolean;
}

/** One service of the listing. */
export interface ListRow {
  name: string;
  dir: string;
  /** sv's complaint instead of a status (`runsv not running`, ...), or null */
  problem: string | null;
  state: 'run' | 'down' | 'finish' | null;
  /** what the supervisor wants: up, down (also runit's once), or tsv's once/exit */
  want: 'up' | 'down' | 'once' | 'exit' | null;
  pid: number | null;
  /** whole seconds in this state */
  seconds: number | null;
  normallyUp: boolean | null;
  paused: boolean | null;
  /** who supervises it: tsv (tsv.json) or a runsv-compatible supervisor */
  supervisor: 'tsv' | 'runit' | null;
  restarts: number | null;
  lastExit: LastExitRow | null;
  /** readiness: null when unknown (runsv) or the service has no notification-fd */
  ready: boolean | null;
  backoff: BackoffRow | null;
  /** CPU and memory of the service's processes while it runs (in cgroup mode: of its cgroup) */
  usage: Usage | null;
  /** how tsv tracks the service's processes: cgroup, session; null for runsv */
  mode: 'cgroup' | 'session' | null;
  /** the service's cgroup: OOM kills (null without the memory controller), memory peak */
  cgroup: { path: string; oomKills: number | null; memoryPeakBytes: number | null } | null;
  log: LogRow | null;
  /** a pool's row: its size and rolling-restart notes (its instances follow as rows of their own) */
  pool?: { size: number; notes: string[] };
  /** an instance's row: its id in the pool named by the row above */
  instance?: number;
}

/** The service directories of a scan directory, sorted: every entry that is a directory (a
 * symlink to one counts) and whose name does not start with a dot, as runsvdir and tsvscan take. */
export function serviceNames(scanDir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(scanDir);
  } catch (e) {
    throw fatalFrom(`unable to read scan directory ${scanDir}`, e, EXIT.temporary);
  }
  return names
    .filter((n) => {
      if (n.startsWith('.')) return false;
      try {
        return statSync(`${scanDir}/${n}`).isDirectory();
      } catch {
        return false;
      }
    })
    .sort();
}

/** The reason field of a last exit, when the supervisor wrote one. */
function reasonOf(e: ExtraProcess['lastExit']): string | null {
  const r = (e as { reason?: unknown } | null)?.reason;
  return typeof r === 'string' && r !== '' ? r : null;
}

/** The backoff part of a tsv record (nextStartAt is wall clock: clamped by the delay, so a clock
 * jump cannot show a negative or huge wait, as status's extras do). */
function backoffOf(x: ExtraProcess, nowMs: number): BackoffRow {
  const b = x.backoff;
  const active = !b.givenUp && x.state === 'down' && x.want === 'up' && b.nextStartAt !== null;
  const left = active && b.nextStartAt !== null ? Math.ceil(Math.min(Math.max(0, b.nextStartAt - nowMs), b.delayMs) / 1000) : null;
  return { active, secondsLeft: left, failures: b.failures, givenUp: b.givenUp };
}

/** The logger's row from its status. */
function logRow(log: ServiceStatus['log']): LogRow | null {
  if (log === null) return null;
  if (typeof log === 'string') return { state: null, pid: null, inProcess: false, problem: log, needsTsv: false };
  if (log.problem !== undefined) return { state: null, pid: null, inProcess: false, problem: log.problem.message, needsTsv: false };
  const v = log.view;
  return { state: v?.state ?? null, pid: v !== undefined && v.state !== 'down' ? v.pid : null, inProcess: log.snap?.extra?.inProcess === true, problem: v === undefined ? `unable to stat down: ${log.downError ?? ''}` : null, needsTsv: false };
}

/** One row from a service's status and the /proc scan. */
export function rowOf(s: ServiceStatus, nowMs: number, procs: ReadonlyMap<number, ProcEntry>): ListRow {
  const m: ProcStatus = s.main;
  const base: ListRow = { name: s.name, dir: s.dir, problem: null, state: null, want: null, pid: null, seconds: null, normallyUp: null, paused: null, supervisor: null, restarts: null, lastExit: null, ready: null, backoff: null, usage: null, mode: null, cgroup: null, log: logRow(s.log) };
  if (m.problem !== undefined) return { ...base, problem: m.problem.message };
  const snap = m.snap;
  if (snap === undefined) return base;
  const r = snap.rec;
  const x = snap.extra;
  const running = r.state !== 'down' && r.pid !== 0;
  const log = base.log;
  if (log !== null && snap.extraFile === undefined && log.state === 'down' && existsSync(`${s.dir}/${SERVICE.log}/${SERVICE.logInProcess}`) && !existsSync(`${s.dir}/${SERVICE.log}/${SERVICE.run}`)) log.needsTsv = true;
  return {
    ...base,
    problem: m.view === undefined ? `unable to stat down: ${m.downError ?? ''}` : null,
    state: r.state,
    want: x?.want ?? (r.wantUp ? 'up' : 'down'),
    pid: running ? r.pid : null,
    seconds: m.view?.seconds ?? null,
    normallyUp: m.normallyUp ?? null,
    paused: r.paused,
    supervisor: snap.extraFile !== undefined ? 'tsv' : 'runit',
    restarts: x?.restarts ?? null,
    lastExit: x?.lastExit != null ? { code: x.lastExit.code, signal: x.lastExit.signal, at: x.lastExit.at, reason: reasonOf(x.lastExit) } : null,
    ready: x !== undefined && x.state === 'run' ? x.ready : null,
    backoff: x !== undefined ? backoffOf(x, nowMs) : null,
    ...usageRow(x, running ? r.pid : 0, procs),
  };
}

/** The usage columns: the cgroup's accounting in cgroup mode, else /proc over the members. */
function usageRow(x: ExtraProcess | undefined, pid: number, procs: ReadonlyMap<number, ProcEntry>): Pick<ListRow, 'usage' | 'mode' | 'cgroup'> {
  const mode = x === undefined ? null : (x.mode ?? 'session');
  const c = x?.mode === 'cgroup' ? usageOfExtra(x) : null;
  if (c !== null && c.processes > 0) {
    return {
      mode,
      // why: RSS and PSS per process as for session mode (the MEM column), over the cgroup's pids;
      // CPU from cpu.stat (exited members included), memory.current when the controller is there.
      usage: (() => {
        const u = usageOf(cgroupPids(c.cgroup ?? ''), procs);
        return { ...u, cpuSeconds: c.cpuSeconds ?? u.cpuSeconds, rssBytes: c.memorySource === 'cgroup' && c.memoryBytes !== null ? c.memoryBytes : u.rssBytes };
      })(),
      cgroup: { path: c.cgroup ?? '', oomKills: c.oomKills, memoryPeakBytes: c.memoryPeakBytes },
    };
  }
  return { mode, usage: pid !== 0 ? usageOf(membersOf(pid, procs), procs) : null, cgroup: null };
}

/** Every service of scanDir as a row. */
export function listServices(scanDir: string): ListRow[] {
  const names = serviceNames(scanDir);
  const now = { ms: Date.now(), mono: monoNowMs() };
  const procs = scanProcs();
  const rows: ListRow[] = [];
  for (const n of names) {
    const s = collectStatus(n, `${scanDir}/${n}`, now, true, readExtraFile);
    const row = rowOf(s, now.ms, procs);
    rows.push(row);
    if (s.pool === undefined) continue;
    row.pool = { size: s.pool.info.size, notes: poolNotes(s.pool.info) };
    // why: one line per instance under the pool's line (the pool's own usage is instance 0's)
    for (const i of s.pool.instances) rows.push({ ...rowOf({ name: i.name, dir: i.dir, main: i.st, log: null }, now.ms, procs), instance: i.id });
  }
  return rows;
}
