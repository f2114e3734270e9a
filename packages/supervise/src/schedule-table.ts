// The scheduler of a scheduled service as a pure table, beside the process machine (machine.ts)
// and after it: SCHEDULE_TABLE[row][event] -> new state and effects; no I/O, no clock (every
// event comes with its `now`). It sits in front of the service's machine: control letters reach
// it first, and it drives the machine with runit's own letters (`o` starts one run that is not
// restarted, `d` stops a run), so between runs the machine is down exactly as after `sv once`,
// and sv/svstat read it right. The shell (schedule-shell.ts) turns the machine's state changes
// into `started`/`ended`, timers into `check`, and carries out the effects.
import type { ScheduleLastRun, ScheduleRunning, ScheduleState, ScheduleStatus } from '@tsv/core';
import type { Now } from './machine.js';
import { jitterOf, nextTick, type ParsedSchedule, type ScheduleRule } from './schedule-rule.js';

/** The longest single sleep, ms. Why: Node's timers run on CLOCK_MONOTONIC, which stops while
 * the machine is suspended and knows nothing of wall-clock changes; waking up at least this
 * often and comparing the wall clock with the tick sees a suspend or a jump within this bound. */
export const MAX_SLEEP_MS = 15_000;

/** The rows: what the scheduler is doing. */
export type ScheduleRow = ScheduleState;
/** Every row, in table order. */
export const SCHEDULE_ROWS = ['off', 'invalid', 'never', 'waiting', 'running'] as const satisfies readonly ScheduleRow[];

/** What the schedule file said at start-up of a previous supervisor (supervise/schedule.json):
 * the record's counters and catch-up stamp, as its codec has them. */
export type SavedSchedule = Pick<ScheduleStatus, 'accountedTo' | 'last' | 'failures' | 'runs' | 'skipped' | 'missed' | 'lastSkip'>;

/** The whole state of one scheduler: the fields it shares with its record (schedule.json, whose
 * codec documents them) and its own. */
export interface SchedState extends SavedSchedule, Pick<ScheduleStatus, 'reason' | 'next' | 'nextStart' | 'running'> {
  /** the schedule is on: no `down` file at start, or `u` since; `d` turns it off */
  enabled: boolean;
  rule: ScheduleRule | null;
  /** a start was asked of the machine (`o`) and has not been seen yet */
  asked: Omit<ScheduleRunning, 'start' | 'startMono' | 'n'> | null;
  /** the jitter's per-service seed (random, chosen by the shell at start-up) */
  seed: number;
  /** the first rule after start-up plans from accountedTo (the catch-up of a restart) */
  booting: boolean;
}

/** Inputs of the scheduler. */
export type SchedEvent =
  /** the supervisor started: what the last one left, and the jitter seed */
  | { type: 'boot'; saved: SavedSchedule | null; seed: number }
  /** the answer to readRule: the parsed `schedule` file */
  | { type: 'rule'; parsed: ParsedSchedule }
  | { type: 'control'; letter: string }
  /** the check timer fired */
  | { type: 'check' }
  /** the machine started run (its start, both clocks) */
  | { type: 'started'; at: Now }
  /** the machine is down again after run (and finish): how run ended */
  | { type: 'ended'; code: number | null; signal: string | null };

/** The columns. */
export type SchedEventType = SchedEvent['type'];
/** Every event type, in table order. */
export const SCHED_EVENT_TYPES = ['boot', 'rule', 'control', 'check', 'started', 'ended'] as const satisfies readonly SchedEventType[];
/** The event of one type. */
export type SchedEventOf<K extends SchedEventType> = Extract<SchedEvent, { type: K }>;

/** Outputs, carried out in order by the shell. */
export type SchedEffect =
  /** read and parse the `schedule` file; answered by a rule event */
  | { type: 'readRule' }
  /** control letters for the service's machine */
  | { type: 'machine'; letters: string }
  | { type: 'setTimer'; ms: number }
  | { type: 'cancelTimer' }
  /** write supervise/schedule.json */
  | { type: 'write' }
  /** a line into the service's log marking a run's start or end */
  | { type: 'mark'; text: string }
  /** run `notify` (never waited for): the run that ended, and why */
  | { type: 'notify'; why: 'failure' | 'recovered'; run: ScheduleLastRun; failures: number }
  | { type: 'warn'; message: string };

/** The result of one step. */
export interface SchedStep {
  state: SchedState;
  effects: SchedEffect[];
}

/** A scheduler before start-up: on unless the service has a `down` file. */
export function initialSchedState(enabled: boolean): SchedState {
  return { enabled, rule: null, reason: null, next: null, nextStart: null, accountedTo: null, asked: null, running: null, last: null, failures: 0, runs: 0, skipped: 0, missed: 0, lastSkip: null, seed: 0, booting: false };
}

/** The row a state is in: a run (asked or going) outranks everything. */
export function schedRowOf(s: SchedState): ScheduleRow {
  if (s.running !== null || s.asked !== null) return 'running';
  if (!s.enabled) return 'off';
  if (s.rule === null) return 'invalid';
  if (s.next === null) return 'never';
  return 'waiting';
}

/** The cell of an event that changes nothing in that row. */
export const SCHED_IGNORE = 'ignore' as const;
/** A cell. */
type Handler<K extends SchedEventType> = ((m: Sched, ev: SchedEventOf<K>) => void) | typeof SCHED_IGNORE;
/** A row. */
type Row = { [K in SchedEventType]: Handler<K> };

const boot: Handler<'boot'> = (m, ev) => m.boot(ev);
const rule: Handler<'rule'> = (m, ev) => m.ruleRead(ev.parsed);
const control: Handler<'control'> = (m, ev) => m.control(ev.letter);
const check: Handler<'check'> = (m) => m.check();
const started: Handler<'started'> = (m, ev) => m.started(ev.at);

/** actions[row][event]: every pair written down, the compiler checks none is missing. */
export const SCHEDULE_TABLE = {
  off: { boot, rule, control, check: SCHED_IGNORE, started, ended: SCHED_IGNORE },
  invalid: { boot, rule, control, check: SCHED_IGNORE, started, ended: SCHED_IGNORE },
  never: { boot, rule, control, check: SCHED_IGNORE, started, ended: SCHED_IGNORE },
  waiting: { boot: SCHED_IGNORE, rule, control, check, started, ended: SCHED_IGNORE },
  // why: a tick while a run goes on is skipped (never two runs at once): check records it.
  running: { boot: SCHED_IGNORE, rule, control, check, started, ended: (m, ev) => m.ended(ev.code, ev.signal) },
} satisfies Record<ScheduleRow, Row>;

/** One transition. */
export function schedStep(state: SchedState, event: SchedEvent, now: Now): SchedStep {
  const h = (SCHEDULE_TABLE[schedRowOf(state)] as Row)[event.type] as Handler<SchedEventType>;
  if (h === SCHED_IGNORE) return { state, effects: [] };
  const m = new Sched(state, now);
  (h as (m: Sched, ev: SchedEvent) => void)(m, event);
  return { state: m.s, effects: m.fx };
}

/** `exit 3`, `signal SIGKILL`. */
export function exitText(code: number | null, signal: string | null): string {
  return signal !== null ? `signal ${signal}` : `exit ${code ?? 0}`;
}

/** A duration for a log line: 59.1s, 850ms. */
function durationText(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)}ms` : `${(ms / 1000).toFixed(1)}s`;
}

/** Working copy for one step. */
class Sched {
  readonly s: SchedState;
  readonly fx: SchedEffect[] = [];
  constructor(
    state: SchedState,
    private readonly now: Now,
  ) {
    this.s = { ...state };
  }

  /** Start-up: take over what the previous supervisor recorded, then read the file. */
  boot(ev: SchedEventOf<'boot'>): void {
    const s = this.s;
    s.seed = ev.seed;
    if (ev.saved !== null) {
      s.accountedTo = ev.saved.accountedTo;
      s.last = ev.saved.last;
      s.failures = ev.saved.failures;
      s.runs = ev.saved.runs;
      s.skipped = ev.saved.skipped;
      s.missed = ev.saved.missed;
      s.lastSkip = ev.saved.lastSkip;
    }
    // why: a first start has nothing to catch up: ticks count from now.
    if (s.accountedTo === null) s.accountedTo = this.now.wall;
    s.booting = true;
    this.fx.push({ type: 'readRule' });
  }

  /** The `schedule` file was read: plan the next tick, or say why there is none. */
  ruleRead(p: ParsedSchedule): void {
    const s = this.s;
    const wasBooting = s.booting;
    s.booting = false;
    if (p.rule === undefined) {
      const first = s.reason !== `schedule: ${p.error}`;
      s.rule = null;
      s.reason = `schedule: ${p.error}`;
      s.next = null;
      s.nextStart = null;
      this.fx.push({ type: 'cancelTimer' });
      if (first) this.fx.push({ type: 'warn', message: `${s.reason}; the service stays down` });
      this.fx.push({ type: 'write' });
      return;
    }
    s.rule = p.rule;
    s.reason = null;
    // why: ticks while the schedule was off, or before this rule, are not missed: count from now,
    // except at start-up, where the ticks since the last supervisor's stamp were missed.
    if (!wasBooting || !s.enabled) s.accountedTo = Math.max(s.accountedTo ?? this.now.wall, this.now.wall);
    this.plan();
  }

  /** A control letter: u turns the schedule on (and re-reads the file), d off (stopping a run),
   * o runs now unless a run goes on; the rest go to the machine as they are. */
  control(c: string): void {
    const s = this.s;
    switch (c) {
      case 'u':
        s.enabled = true;
        this.fx.push({ type: 'readRule' });
        return;
      case 'o':
        if (s.running !== null || s.asked !== null) return;
        this.start(null, true, false);
        this.fx.push({ type: 'write' });
        return;
      case 'd':
      case 'x':
        // the schedule off, and the letter on to the machine (d stops a run; x also ends the supervisor)
        s.enabled = false;
        s.next = null;
        s.nextStart = null;
        this.fx.push({ type: 'cancelTimer' }, { type: 'machine', letters: c }, { type: 'write' });
        return;
      default:
        this.fx.push({ type: 'machine', letters: c });
    }
  }

  /** The timer fired: start the tick's run if it is due and not late by more than slack. */
  check(): void {
    const s = this.s;
    const r = s.rule;
    if (!s.enabled || r === null || s.next === null || s.nextStart === null) return;
    if (this.now.wall < s.nextStart) {
      // why: early (a capped sleep, or the clock went back): sleep again towards the tick.
      this.arm();
      return;
    }
    const tick = s.next;
    const late = this.now.wall - s.nextStart;
    if (s.running !== null || s.asked !== null) {
      s.skipped += 1;
      s.lastSkip = { tick, at: this.now.wall, why: 'running' };
      this.fx.push({ type: 'warn', message: `tick ${new Date(tick).toISOString()} skipped: run ${s.running?.n ?? s.runs + 1} still runs` });
      s.accountedTo = Math.max(tick, this.now.wall);
    } else if (late > r.slackMs) {
      s.missed += 1;
      s.lastSkip = { tick, at: this.now.wall, why: 'late' };
      s.accountedTo = this.now.wall;
      if (r.catchUp) this.start(tick, false, true);
      else this.fx.push({ type: 'warn', message: `tick ${new Date(tick).toISOString()} missed: ${Math.round(late / 1000)} s late, slack ${Math.round(r.slackMs / 1000)} s` });
    } else {
      // why: the ticks between this one and now (a late wake within slack) coalesce into this run.
      s.accountedTo = Math.max(tick, this.now.wall);
      this.start(tick, false, false);
    }
    this.plan();
  }

  /** Ask the machine for one run (runit's `o`: run once, no restart). */
  private start(tick: number | null, manual: boolean, catchUp: boolean): void {
    this.s.asked = { tick, manual, catchUp };
    const why = manual ? 'once' : catchUp ? `catch-up for ${new Date(tick ?? this.now.wall).toISOString()}` : `tick ${new Date(tick ?? this.now.wall).toISOString()}`;
    // why: before the letter, so the marker is in the pipe before anything the run writes.
    this.fx.push({ type: 'mark', text: `run ${this.s.runs + 1} start (${why})` }, { type: 'machine', letters: 'o' });
  }

  /** The next tick after everything handled (never before now's own tick: a clock set back
   * never repeats a tick that ran), its start with jitter, and the timer towards it. */
  private plan(): void {
    const s = this.s;
    const r = s.rule;
    if (!s.enabled || r === null) {
      s.next = null;
      s.nextStart = null;
      this.fx.push({ type: 'cancelTimer' }, { type: 'write' });
      return;
    }
    const from = s.accountedTo ?? this.now.wall;
    const next = nextTick(r, from);
    if (next === null) {
      const first = s.reason === null;
      s.next = null;
      s.nextStart = null;
      s.reason = `schedule: never fires: ${r.expression}${r.timezone !== null ? ` (${r.timezone})` : ''}`;
      this.fx.push({ type: 'cancelTimer' });
      if (first) this.fx.push({ type: 'warn', message: `${s.reason}; the service stays down` });
      this.fx.push({ type: 'write' });
      return;
    }
    s.next = next;
    s.nextStart = next + jitterOf(r, next, s.seed);
    this.arm();
    this.fx.push({ type: 'write' });
  }

  /** Sleep towards nextStart, at most MAX_SLEEP_MS. */
  private arm(): void {
    const wait = Math.max(0, (this.s.nextStart ?? this.now.wall) - this.now.wall);
    this.fx.push({ type: 'setTimer', ms: Math.min(wait, MAX_SLEEP_MS) });
  }

  /** The machine started run: one run begins (a start nobody asked for, e.g. a signal after
   * `d`, is recorded as manual). */
  started(at: Now): void {
    const s = this.s;
    const a = s.asked ?? { tick: null, manual: true, catchUp: false };
    s.asked = null;
    s.runs += 1;
    s.running = { ...a, start: at.wall, startMono: at.mono, n: s.runs };
    this.fx.push({ type: 'write' });
  }

  /** The run ended: record it (duration from the monotonic clock), notify, plan the next. */
  ended(code: number | null, signal: string | null): void {
    const s = this.s;
    const r = s.running;
    s.asked = null;
    if (r === null) return;
    s.running = null;
    const run: ScheduleLastRun = { ...r, durationMs: Math.max(0, this.now.mono - r.startMono), code, signal };
    s.last = run;
    const failed = code !== 0 || signal !== null;
    const before = s.failures;
    s.failures = failed ? s.failures + 1 : 0;
    this.fx.push({ type: 'mark', text: `run ${run.n} end: ${exitText(code, signal)} after ${durationText(run.durationMs)}` });
    if (failed) this.fx.push({ type: 'notify', why: 'failure', run, failures: s.failures });
    else if (before > 0 && s.rule?.notifyOn === 'change') this.fx.push({ type: 'notify', why: 'recovered', run, failures: before });
    this.fx.push({ type: 'write' });
    // why: a tick that came during the run was skipped and planned past already.
    if (s.next === null && s.enabled && s.rule !== null) this.plan();
  }
}
