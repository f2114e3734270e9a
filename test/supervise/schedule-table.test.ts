// Unit tests of the scheduler's pure table (schedule-table.ts) with an injected clock: every cell
// (all rows x all event types), then the rule in time: ticks on time, no overlap (the tick is
// skipped and counted), a suspend (wall clock hours ahead, monotonic clock not), a DST night, the
// clock set back, catch-up across a supervisor restart, invalid and never-firing files, once,
// down, notify. Durations come from the monotonic clock and are never negative.
import t from 'tap';
import { initialSchedState, parseSchedule, SCHED_EVENT_TYPES, SCHED_IGNORE, SCHEDULE_ROWS, SCHEDULE_TABLE, schedRowOf, schedStep, MAX_SLEEP_MS, type ParsedSchedule, type SavedSchedule, type SchedEffect, type SchedEvent, type SchedEventType, type SchedState, type ScheduleRow } from '@tsv/supervise';

const T0 = Date.UTC(2026, 11, 2, 17, 0, 0);

/** A scheduler driven by hand: a wall clock and a monotonic clock that tests move apart. */
class Clock {
  wall = T0;
  mono = 5_000;
  s: SchedState;
  fx: SchedEffect[] = [];
  constructor(
    public parsed: ParsedSchedule,
    enabled = true,
  ) {
    this.s = initialSchedState(enabled);
  }
  /** Both clocks forward by ms (a running machine). */
  pass(ms: number): void {
    this.wall += ms;
    this.mono += ms;
  }
  /** Apply one event; answers readRule with the parsed file, as the shell does. */
  ev(e: SchedEvent): SchedEffect[] {
    const r = schedStep(this.s, e, { wall: this.wall, mono: this.mono });
    this.s = r.state;
    let fx = r.effects;
    if (fx.some((f) => f.type === 'readRule')) fx = [...fx, ...this.ev({ type: 'rule', parsed: this.parsed })];
    this.fx = fx;
    return fx;
  }
  boot(saved: SavedSchedule | null = null): SchedEffect[] {
    return this.ev({ type: 'boot', saved, seed: 7 });
  }
  /** The machine started and then ended the run asked for. */
  run(ms: number, code = 0): SchedEffect[] {
    this.ev({ type: 'started', at: { wall: this.wall, mono: this.mono } });
    this.pass(ms);
    return this.ev({ type: 'ended', code, signal: null });
  }
  /** The last timer set, ms. */
  timer(): number | undefined {
    const f = [...this.fx].reverse().find((x) => x.type === 'setTimer');
    return f?.type === 'setTimer' ? f.ms : undefined;
  }
}

const every2s = (): ParsedSchedule => parseSchedule('*/2 * * * * *');
const kinds = (fx: SchedEffect[]): string => fx.map((f) => (f.type === 'machine' ? `machine:${f.letters}` : f.type === 'setTimer' ? `timer:${f.ms}` : f.type === 'notify' ? `notify:${f.why}` : f.type)).join(' ');
const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

/** A scheduler in each row, reached by events only. */
function inRow(row: ScheduleRow): SchedState {
  const parsed = row === 'invalid' ? parseSchedule('61 * * * *') : row === 'never' ? parseSchedule('0 0 30 2 *') : every2s();
  const c = new Clock(parsed, row !== 'off');
  c.boot();
  if (row === 'running') {
    c.pass(2000);
    c.ev({ type: 'check' });
    c.ev({ type: 'started', at: { wall: c.wall, mono: c.mono } });
  }
  return c.s;
}

/** One event of each type. */
const EVENTS: { [K in SchedEventType]: Extract<SchedEvent, { type: K }> } = {
  boot: { type: 'boot', saved: null, seed: 1 },
  rule: { type: 'rule', parsed: parseSchedule('*/2 * * * * *') },
  control: { type: 'control', letter: 'o' },
  check: { type: 'check' },
  started: { type: 'started', at: { wall: T0 + 2000, mono: 7000 } },
  ended: { type: 'ended', code: 0, signal: null },
};

/** The table written out: 'ignore', or [row after, effect kinds], at wall T0 + 2 s. */
const SPEC: Record<ScheduleRow, Record<SchedEventType, 'ignore' | [ScheduleRow, string]>> = {
  off: { boot: ['off', 'readRule'], rule: ['off', 'cancelTimer write'], control: ['running', 'mark machine:o write'], check: 'ignore', started: ['running', 'write'], ended: 'ignore' },
  invalid: { boot: ['invalid', 'readRule'], rule: ['waiting', 'timer:2000 write'], control: ['running', 'mark machine:o write'], check: 'ignore', started: ['running', 'write'], ended: 'ignore' },
  never: { boot: ['never', 'readRule'], rule: ['waiting', 'timer:2000 write'], control: ['running', 'mark machine:o write'], check: 'ignore', started: ['running', 'write'], ended: 'ignore' },
  waiting: { boot: 'ignore', rule: ['waiting', 'timer:2000 write'], control: ['running', 'mark machine:o write'], check: ['running', 'mark machine:o timer:2000 write'], started: ['running', 'write'], ended: 'ignore' },
  running: { boot: 'ignore', rule: ['running', 'timer:2000 write'], control: ['running', ''], check: ['running', 'timer:2000'], started: ['running', 'write'], ended: ['waiting', 'mark write'] },
};

t.test('every cell of the table: all rows x all event types', async (t) => {
  t.same(Object.keys(SCHEDULE_TABLE).sort(), [...SCHEDULE_ROWS].sort());
  for (const row of SCHEDULE_ROWS) {
    const before = inRow(row);
    t.equal(schedRowOf(before), row, `a scheduler can be brought into ${row}`);
    t.same(Object.keys(SCHEDULE_TABLE[row]).sort(), [...SCHED_EVENT_TYPES].sort(), `${row}: a cell for every event type`);
    for (const type of SCHED_EVENT_TYPES) {
      const spec = SPEC[row][type];
      const cell = (SCHEDULE_TABLE[row] as Record<SchedEventType, unknown>)[type];
      const r = schedStep(before, EVENTS[type], { wall: T0 + 2000, mono: 7000 });
      if (spec === 'ignore') {
        t.equal(cell, SCHED_IGNORE, `${row} x ${type}: ignored`);
        t.same(r.effects, [], `${row} x ${type}: no effect`);
        t.equal(r.state, before, `${row} x ${type}: no state change`);
      } else {
        t.not(cell, SCHED_IGNORE, `${row} x ${type}: handled`);
        t.same([schedRowOf(r.state), kinds(r.effects)], spec, `${row} x ${type}`);
      }
    }
  }
});

t.test('every 2 s: each tick starts one run with o, on time; the duration is monotonic', async (t) => {
  const c = new Clock(every2s());
  t.equal(kinds(c.boot()), 'readRule timer:2000 write', 'boot: read the file, sleep until the first tick');
  t.equal(iso(c.s.next), '2026-12-02T17:00:02.000Z');
  c.pass(2000);
  t.equal(kinds(c.ev({ type: 'check' })), 'mark machine:o timer:2000 write', 'the tick: a marker, then runit\'s o');
  const mark = c.fx[0];
  t.same(mark, { type: 'mark', text: 'run 1 start (tick 2026-12-02T17:00:02.000Z)' });
  t.equal(iso(c.s.next), '2026-12-02T17:00:04.000Z', 'the next tick is planned at once');
  c.ev({ type: 'started', at: { wall: c.wall, mono: c.mono } });
  c.pass(300);
  // why: the wall clock is set back an hour while the run runs: the duration does not care.
  c.wall -= 3_600_000;
  const end = c.ev({ type: 'ended', code: 0, signal: null });
  t.equal(kinds(end), 'mark write');
  t.same(end[0], { type: 'mark', text: 'run 1 end: exit 0 after 300ms' });
  t.equal(c.s.last?.durationMs, 300, 'duration from the monotonic clock');
  t.equal(c.s.last?.code, 0);
  t.equal(c.s.runs, 1);
  t.equal(c.s.failures, 0);
});

t.test('a run outliving its next tick: the tick is skipped, counted and shown, no second run', async (t) => {
  const c = new Clock(every2s());
  c.boot();
  c.pass(2000);
  c.ev({ type: 'check' });
  c.ev({ type: 'started', at: { wall: c.wall, mono: c.mono } });
  c.pass(2000);
  const fx = c.ev({ type: 'check' });
  t.equal(kinds(fx), 'warn timer:2000 write', 'no machine letter while a run goes on');
  t.match(fx[0], { type: 'warn', message: 'tick 2026-12-02T17:00:04.000Z skipped: run 1 still runs' });
  t.equal(c.s.skipped, 1);
  t.same(c.s.lastSkip, { tick: T0 + 4000, at: T0 + 4000, why: 'running' });
  c.pass(1000);
  c.ev({ type: 'ended', code: 0, signal: null });
  t.equal(c.s.last?.durationMs, 3000);
  c.pass(1000);
  t.equal(kinds(c.ev({ type: 'check' })), 'mark machine:o timer:2000 write', 'the tick after the run ends runs');
});

t.test('suspend: the wall clock jumps hours, the monotonic clock does not; slack decides', async (t) => {
  const c = new Clock(parseSchedule('0 * * * *'));
  c.boot();
  t.equal(iso(c.s.next), '2026-12-02T18:00:00.000Z');
  t.equal(c.timer(), MAX_SLEEP_MS, 'sleeps at most MAX_SLEEP_MS: a suspend is seen within it');
  c.pass(MAX_SLEEP_MS);
  t.equal(kinds(c.ev({ type: 'check' })), `timer:${MAX_SLEEP_MS}`, 'early: sleep again');
  c.wall += 3 * 3_600_000;
  c.mono += 1000;
  const fx = c.ev({ type: 'check' });
  t.equal(kinds(fx), `warn timer:${MAX_SLEEP_MS} write`, 'missed by hours: no run');
  t.match(fx[0], { type: 'warn', message: 'tick 2026-12-02T18:00:00.000Z missed: 7215 s late, slack 60 s' });
  t.equal(c.s.missed, 1);
  t.equal(c.s.lastSkip?.why, 'late');
  t.equal(iso(c.s.next), '2026-12-02T21:00:00.000Z', 'the hour after the wake-up, not each missed hour');
  t.equal(c.s.runs, 0);

  const late = new Clock(parseSchedule('0 * * * *'));
  late.boot();
  late.wall = Date.UTC(2026, 11, 2, 18, 0, 45);
  t.equal(kinds(late.ev({ type: 'check' })), 'mark machine:o timer:15000 write', '45 s late is within the 60 s slack: it runs');

  const cu = new Clock(parseSchedule('0 * * * *\ncatch-up=yes'));
  cu.boot();
  cu.wall += 5 * 3_600_000;
  const fx2 = cu.ev({ type: 'check' });
  t.equal(kinds(fx2), `mark machine:o timer:${MAX_SLEEP_MS} write`, 'catch-up: one run for the missed ticks');
  t.match(fx2[0], { type: 'mark', text: 'run 1 start (catch-up for 2026-12-02T18:00:00.000Z)' });
  t.equal(cu.s.missed, 1);
});

t.test('a DST night in Europe/Berlin: one run for a repeated 02:30, one for a skipped one', async (t) => {
  for (const [night, expect] of [
    [Date.UTC(2026, 9, 24, 20), ['2026-10-25T00:30:00.000Z', '2026-10-26T01:30:00.000Z']],
    [Date.UTC(2026, 2, 28, 20), ['2026-03-29T01:00:00.000Z', '2026-03-30T00:30:00.000Z']],
  ] as const) {
    const c = new Clock(parseSchedule('30 2 * * *\ntz=Europe/Berlin'));
    c.wall = night;
    c.boot();
    const starts: string[] = [];
    // why: walk the night in capped sleeps, as the shell's timer would, for 30 hours.
    for (let i = 0; i < (30 * 3_600_000) / MAX_SLEEP_MS; i++) {
      c.pass(MAX_SLEEP_MS);
      const fx = c.ev({ type: 'check' });
      if (fx.some((f) => f.type === 'machine' && f.letters === 'o')) {
        starts.push(iso(c.s.running?.tick ?? c.s.asked?.tick ?? null) as string);
        c.run(1000);
      }
    }
    t.same(starts, expect, `${iso(night)}: one run per day, at the tick croner gives`);
  }
});

t.test('the clock set back after a run: the tick that ran is not repeated', async (t) => {
  const c = new Clock(parseSchedule('35 4 * * *'));
  c.wall = Date.UTC(2026, 11, 2, 4, 34, 50);
  c.boot();
  c.wall = Date.UTC(2026, 11, 2, 4, 35, 0);
  c.ev({ type: 'check' });
  c.run(5000);
  c.wall -= 3_600_000;
  c.ev({ type: 'check' });
  t.equal(iso(c.s.next), '2026-12-03T04:35:00.000Z', 'next is tomorrow, though the wall clock reads 03:35 today');
  t.equal(c.s.runs, 1);
});

t.test('catch-up across a restart: ticks missed while no supervisor ran', async (t) => {
  const saved: SavedSchedule = { accountedTo: Date.UTC(2026, 10, 30, 5), last: null, failures: 2, runs: 9, skipped: 1, missed: 0, lastSkip: null };
  const on = new Clock(parseSchedule('35 4 * * *\ncatch-up=yes'));
  on.boot(saved);
  t.equal(on.s.runs, 9, 'counters come back');
  t.equal(on.s.failures, 2);
  t.equal(kinds(on.ev({ type: 'check' })), 'mark machine:o timer:15000 write', 'one run at once for the ticks of Dec 1 and 2');
  t.equal(on.s.missed, 1);
  t.equal(iso(on.s.next), '2026-12-03T04:35:00.000Z');

  const off = new Clock(parseSchedule('35 4 * * *'));
  off.boot(saved);
  t.equal(kinds(off.ev({ type: 'check' })), 'warn timer:15000 write', 'without catch-up: missed, counted, no run');
  t.equal(off.s.missed, 1);

  const fresh = new Clock(parseSchedule('35 4 * * *\ncatch-up=yes'));
  fresh.boot(null);
  t.equal(iso(fresh.s.next), '2026-12-03T04:35:00.000Z', 'a first start has nothing to catch up');
});

t.test('bad files: invalid (the service stays down, status says why), never fires; u re-reads', async (t) => {
  const c = new Clock(parseSchedule('61 * * * *'));
  const fx = c.boot();
  t.equal(kinds(fx), 'readRule cancelTimer warn write');
  t.equal(c.s.reason, 'schedule: invalid minute: 61 (Invalid value for minute: 61)');
  t.match(fx[2], { type: 'warn', message: 'schedule: invalid minute: 61 (Invalid value for minute: 61); the service stays down' });
  t.equal(schedRowOf(c.s), 'invalid');
  t.equal(kinds(c.ev({ type: 'control', letter: 'u' })), 'readRule cancelTimer write', 'the same error is not warned twice');
  c.parsed = every2s();
  c.ev({ type: 'control', letter: 'u' });
  t.equal(schedRowOf(c.s), 'waiting', 'fixed file, u: scheduled');
  t.equal(c.s.reason, null);

  const n = new Clock(parseSchedule('0 0 30 2 *'));
  n.boot();
  t.equal(schedRowOf(n.s), 'never');
  t.equal(n.s.reason, 'schedule: never fires: 0 0 30 2 *');
  t.equal(n.timer(), undefined, 'no timer');
});

t.test('control: o runs now (not while a run goes on), d stops and turns off, x exits, others pass', async (t) => {
  const c = new Clock(every2s());
  c.boot();
  t.equal(kinds(c.ev({ type: 'control', letter: 'o' })), 'mark machine:o write');
  t.match(c.fx[0], { type: 'mark', text: 'run 1 start (once)' });
  c.ev({ type: 'started', at: { wall: c.wall, mono: c.mono } });
  t.equal(c.s.running?.manual, true);
  t.equal(kinds(c.ev({ type: 'control', letter: 'o' })), '', 'o while a run goes on: nothing');
  t.equal(kinds(c.ev({ type: 'control', letter: 'h' })), 'machine:h', 'signals go to the machine');
  t.equal(kinds(c.ev({ type: 'control', letter: 'd' })), 'cancelTimer machine:d write', 'd: off, and the run is stopped');
  t.equal(c.s.enabled, false);
  c.pass(100);
  c.ev({ type: 'ended', code: null, signal: 'SIGTERM' });
  t.equal(schedRowOf(c.s), 'off');
  t.equal(c.s.next, null, 'no tick while off');
  t.equal(kinds(c.ev({ type: 'control', letter: 'x' })), 'cancelTimer machine:x write');

  const off = new Clock(every2s(), false);
  off.boot();
  t.equal(schedRowOf(off.s), 'off', 'a down file: off at start');
  off.pass(60_000);
  off.ev({ type: 'control', letter: 'u' });
  t.equal(iso(off.s.next), '2026-12-02T17:01:02.000Z', 'turned on: ticks from now, none missed while off');
});

t.test('notify: after each failed run; with notify=change also after the first success', async (t) => {
  const c = new Clock(parseSchedule('*/2 * * * * *\nnotify=change'));
  c.boot();
  c.pass(2000);
  c.ev({ type: 'check' });
  let fx = c.run(500, 3);
  t.equal(kinds(fx), 'mark notify:failure write');
  t.match(fx[1], { type: 'notify', why: 'failure', failures: 1, run: { code: 3, n: 1, durationMs: 500 } });
  c.pass(1500);
  c.ev({ type: 'check' });
  fx = c.run(100, 1);
  t.match(fx[1], { type: 'notify', why: 'failure', failures: 2 });
  c.pass(1900);
  c.ev({ type: 'check' });
  fx = c.run(100, 0);
  t.equal(kinds(fx), 'mark notify:recovered write');
  t.match(fx[1], { type: 'notify', why: 'recovered', failures: 2 });
  t.equal(c.s.failures, 0);
  c.pass(1900);
  c.ev({ type: 'check' });
  t.equal(kinds(c.run(100, 0)), 'mark write', 'a second success: nothing');

  const f = new Clock(every2s());
  f.boot();
  f.pass(2000);
  f.ev({ type: 'check' });
  f.run(10, 1);
  f.pass(1990);
  f.ev({ type: 'check' });
  t.equal(kinds(f.run(10, 0)), 'mark write', 'notify=failure (default): no word after a recovery');
});
