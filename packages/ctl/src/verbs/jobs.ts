// `tsvctl jobs [DIR]`: every scheduled service (a `schedule` file) of a scan directory, read
// from what its supervisor wrote (supervise/schedule.json, tsv.json): tsvctl only reads, the
// supervisor holds the state. `tsvctl jobs -n NAME`: the next ticks of NAME's schedule file,
// computed by the supervisor's own rule (a dry run: nothing is started).
import { existsSync, readFileSync } from 'node:fs';
import { decodeScheduleStatus, EXIT, monoNowMs, SERVICE, SUPERVISE, ToolError, type ScheduleStatus } from '@tsv/core';
import { nextTicks, parseSchedule } from '@tsv/supervise/schedule';
import { isLocalName } from '../argv.js';
import { readExtraFile } from '../tsv-extra.js';
import { serviceNames } from './list.js';

/** One job of the listing. */
export interface JobRow {
  name: string;
  dir: string;
  /** why there is no live state (no supervisor, nothing written yet), else null */
  problem: string | null;
  /** the scheduler's row: off, invalid, never, waiting, running; null without a live record */
  state: ScheduleStatus['state'] | null;
  enabled: boolean | null;
  expression: string | null;
  timezone: string | null;
  /** why it is not scheduled (invalid file, never fires) */
  reason: string | null;
  /** wall ms of the next start (tick + jitter), and its tick */
  next: number | null;
  nextTick: number | null;
  /** the run going on: its number, pid, wall start and monotonic seconds so far */
  running: { n: number; pid: number | null; start: number; seconds: number; manual: boolean } | null;
  /** the last finished run: wall start, monotonic duration, how it ended */
  last: { n: number; start: number; durationMs: number; code: number | null; signal: string | null; manual: boolean; catchUp: boolean } | null;
  /** failed runs in a row */
  failures: number | null;
  runs: number | null;
  /** ticks skipped because the previous run still ran; ticks missed by more than slack */
  skipped: number | null;
  missed: number | null;
  lastSkip: ScheduleStatus['lastSkip'];
}

/** supervise/schedule.json of dir, when its writer is the live supervisor of tsv.json. */
function readLive(dir: string): { rec: ScheduleStatus | undefined; pid: number | null; problem: string | null } {
  const x = readExtraFile(dir);
  let text: string;
  try {
    text = readFileSync(`${dir}/${SERVICE.supervise}/${SUPERVISE.schedule}`, 'utf8');
  } catch {
    return { rec: undefined, pid: null, problem: x === undefined ? 'not supervised by tsv' : 'no schedule state (the supervisor started before the schedule file: restart it)' };
  }
  const rec = decodeScheduleStatus(text);
  if (rec === undefined) return { rec: undefined, pid: null, problem: `unreadable supervise/${SUPERVISE.schedule}` };
  if (x === undefined || x.supervisor.pid !== rec.supervisor.pid) return { rec, pid: null, problem: 'not supervised by tsv (last known state shown)' };
  return { rec, pid: x.service.pid !== 0 ? x.service.pid : null, problem: null };
}

/** One row from a service directory with a `schedule` file. */
export function jobRow(name: string, dir: string, nowMono: number): JobRow {
  const { rec, pid, problem } = readLive(dir);
  const r = rec;
  return {
    name,
    dir,
    problem,
    state: r?.state ?? null,
    enabled: r?.enabled ?? null,
    expression: r?.expression ?? null,
    timezone: r?.timezone ?? null,
    reason: r?.reason ?? null,
    next: problem === null ? (r?.nextStart ?? null) : null,
    nextTick: problem === null ? (r?.next ?? null) : null,
    running:
      r?.running != null && problem === null
        ? { n: r.running.n, pid, start: r.running.start, seconds: Math.max(0, (nowMono - r.running.startMono) / 1000), manual: r.running.manual }
        : null,
    last: r?.last != null ? { n: r.last.n, start: r.last.start, durationMs: Math.max(0, r.last.durationMs), code: r.last.code, signal: r.last.signal, manual: r.last.manual, catchUp: r.last.catchUp } : null,
    failures: r?.failures ?? null,
    runs: r?.runs ?? null,
    skipped: r?.skipped ?? null,
    missed: r?.missed ?? null,
    lastSkip: r?.lastSkip ?? null,
  };
}

/** Every scheduled service of scanDir. */
export function listJobs(scanDir: string): JobRow[] {
  const mono = monoNowMs();
  return serviceNames(scanDir)
    .filter((n) => existsSync(`${scanDir}/${n}/${SERVICE.schedule}`))
    .map((n) => jobRow(n, `${scanDir}/${n}`, mono));
}

/** The service directory NAME means: a path as given, else NAME in the scan directory. */
export function jobDir(name: string, scanDir: string): string {
  return isLocalName(name) ? name : `${scanDir}/${name}`;
}

/** The next count ticks of dir's schedule file after nowMs (a dry run); throws a ToolError
 * naming the bad value for an invalid file. */
export function dryRun(dir: string, nowMs: number, count: number): { expression: string; timezone: string | null; ticks: number[] } {
  let text: string;
  try {
    text = readFileSync(`${dir}/${SERVICE.schedule}`, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ToolError(`unable to read ${dir}/${SERVICE.schedule}: ${code === 'ENOENT' ? 'file does not exist' : String(code)}`, EXIT.temporary);
  }
  const p = parseSchedule(text);
  if (p.rule === undefined) throw new ToolError(`${dir}/${SERVICE.schedule}: ${p.error}`, EXIT.usage);
  return { expression: p.rule.expression, timezone: p.rule.timezone, ticks: nextTicks(p.rule, nowMs, count) };
}
