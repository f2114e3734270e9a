// supervise/schedule.json: the state of a scheduled service (next tick, the run in progress, the
// last run, consecutive failures, skipped and missed ticks). Written by the supervisor only
// (atomically, .new then rename), read back by it at start-up (catch-up across restarts) and by
// `tsvctl jobs`. A pure codec: encode to text, decode from text.

/** A run in progress. */
export interface ScheduleRunning {
  /** wall-clock ms of the start */
  start: number;
  /** CLOCK_MONOTONIC ms of the start (durations come from it, never negative) */
  startMono: number;
  /** the tick it runs for (wall ms), null for a run asked by `once` */
  tick: number | null;
  /** started by `o` (tsvctl once) rather than by the schedule */
  manual: boolean;
  /** a catch-up run for ticks missed (machine off, asleep, clock jump) */
  catchUp: boolean;
  /** the run's number (1 for the first run this service ever had) */
  n: number;
}

/** A finished run. */
export interface ScheduleLastRun extends ScheduleRunning {
  /** monotonic duration, ms (>= 0) */
  durationMs: number;
  /** exit code, null when killed by a signal */
  code: number | null;
  /** signal name, null after a normal exit */
  signal: string | null;
}

/** A tick that did not give a run. */
export interface ScheduleSkip {
  /** the tick (wall ms) */
  tick: number;
  /** wall ms when it was given up */
  at: number;
  /** running: the previous run still ran; late: more than slack late (suspend, clock jump, off) */
  why: 'running' | 'late';
}

/** What the scheduler is doing. */
export type ScheduleState = 'off' | 'invalid' | 'never' | 'waiting' | 'running';

/** The whole of supervise/schedule.json. */
export interface ScheduleStatus {
  v: 1;
  /** the supervisor that wrote it (alive when its supervise/ok has a reader) */
  supervisor: { pid: number };
  state: ScheduleState;
  /** the schedule is on (not `d`, no `down` file at start, or `u` since) */
  enabled: boolean;
  /** the expression and zone in force, null when the file is invalid */
  expression: string | null;
  timezone: string | null;
  /** why the service is not scheduled (invalid file, never fires), else null */
  reason: string | null;
  /** wall ms of the next tick, and of the start it gives (tick + jitter) */
  next: number | null;
  nextStart: number | null;
  running: ScheduleRunning | null;
  last: ScheduleLastRun | null;
  /** failed runs in a row (0 after a success) */
  failures: number;
  /** runs started, in all */
  runs: number;
  /** ticks skipped because the previous run still ran */
  skipped: number;
  /** ticks missed by more than slack */
  missed: number;
  lastSkip: ScheduleSkip | null;
  /** wall ms up to which every tick was handled (the catch-up stamp: at the next start, ticks
   * after it and before then were missed) */
  accountedTo: number | null;
}

/** Encode schedule.json (one line of JSON and a newline). */
export function encodeScheduleStatus(s: ScheduleStatus): string {
  return `${JSON.stringify(s)}\n`;
}

/** Is v a plain object? */
function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A number or null. */
function numOrNull(v: unknown): boolean {
  return v === null || typeof v === 'number';
}

/** Is r a run record (in progress, or finished when last)? */
function isRun(r: unknown, last: boolean): boolean {
  if (r === null) return true;
  if (!isObject(r) || typeof r.start !== 'number' || typeof r.startMono !== 'number' || !numOrNull(r.tick) || typeof r.n !== 'number') return false;
  return !last || (typeof r.durationMs === 'number' && numOrNull(r.code) && (r.signal === null || typeof r.signal === 'string'));
}

/** Decode schedule.json; undefined unless it is a well-formed version-1 record. */
export function decodeScheduleStatus(text: string): ScheduleStatus | undefined {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isObject(v) || v.v !== 1 || !isObject(v.supervisor) || typeof v.supervisor.pid !== 'number') return undefined;
  const states = ['off', 'invalid', 'never', 'waiting', 'running'];
  if (typeof v.state !== 'string' || !states.includes(v.state) || typeof v.enabled !== 'boolean') return undefined;
  if (!numOrNull(v.next) || !numOrNull(v.nextStart) || !numOrNull(v.accountedTo)) return undefined;
  if (typeof v.failures !== 'number' || typeof v.runs !== 'number' || typeof v.skipped !== 'number' || typeof v.missed !== 'number') return undefined;
  if (!isRun(v.running, false) || !isRun(v.last, true)) return undefined;
  return v as unknown as ScheduleStatus;
}
