// Unit tests of the scheduling rule (pure): the `schedule` file's syntax and its one-line
// errors naming the field and the value, the ticks of a six-field expression, DST in a named
// zone (a skipped hour, a repeated hour), an expression that never fires, jitter.
import t from 'tap';
import { expressionError, jitterOf, nextTick, nextTicks, parseDuration, parseSchedule, SCHEDULE_DEFAULTS, type ScheduleRule } from '@tsv/supervise';

/** The rule of a file text that must parse. */
function rule(text: string): ScheduleRule {
  const p = parseSchedule(text);
  if (p.rule === undefined) throw new Error(`expected a rule: ${p.error}`);
  return p.rule;
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

t.test('the file: one expression, options, comments; the defaults are snooze-like', async (t) => {
  t.same(rule('35 4 * * *\n'), { expression: '35 4 * * *', timezone: null, ...SCHEDULE_DEFAULTS });
  t.equal(SCHEDULE_DEFAULTS.slackMs, 60_000, 'slack defaults to 60 s, as snooze -s');
  const r = rule('# backup\n  35   4 * * *   # at 04:35\ntz = Europe/Paris\nslack=5m\njitter=30s\ncatch-up=yes\nnotify=change\nnotify-timeout=10s\n');
  t.same(r, { expression: '35 4 * * *', timezone: 'Europe/Paris', slackMs: 300_000, jitterMs: 30_000, catchUp: true, notifyOn: 'change', notifyTimeoutMs: 10_000 });
  t.equal(rule('@daily').expression, '@daily');
  t.equal(rule('*/2 * * * * *').expression, '*/2 * * * * *', 'six fields: seconds first');
  t.equal(parseDuration('90'), 90_000, 'a bare number is seconds');
  t.equal(parseDuration('250ms'), 250);
  t.equal(parseDuration('2h'), 7_200_000);
  t.equal(parseDuration('1d'), 86_400_000);
  t.equal(parseDuration('-1'), undefined);
  t.equal(parseDuration('1w'), undefined);
});

t.test('bad input: one line naming the field and the value', async (t) => {
  t.equal(parseSchedule('61 * * * *').error, 'invalid minute: 61 (Invalid value for minute: 61)');
  t.equal(parseSchedule('0 25 * * *').error, 'invalid hour: 25 (Invalid value for hour: 25)');
  t.match(parseSchedule('5-3 * * * *').error, /^invalid minute: 5-3 \(/, 'a reversed range names its field');
  t.match(parseSchedule('* * * 13 *').error, /^invalid month: 13 /);
  t.match(parseSchedule('0 0 * * 9').error, /^invalid day of week: 9 /);
  t.match(parseSchedule('99 * * * * *').error, /^invalid second: 99 /, 'six fields: the first is seconds');
  t.equal(parseSchedule('* * * *').error, 'expected 5 fields (minute hour day-of-month month day-of-week) or 6 (seconds first), got 4: * * * *');
  t.match(parseSchedule('* * * * * * *').error, /got 7/, 'seven fields (a year) are refused');
  t.match(parseSchedule('@reboot').error, /^unknown nickname: @reboot/);
  t.equal(parseSchedule('# nothing\n\n').error, 'no expression (a line such as `35 4 * * *` or `@daily`)');
  t.equal(parseSchedule('* * * * *\n0 4 * * *').error, 'more than one expression: * * * * * and 0 4 * * *');
  t.equal(parseSchedule('* * * * *\ntz=Mars/Olympus').error, 'invalid tz: Mars/Olympus (not an IANA time zone such as Europe/Paris)');
  t.equal(parseSchedule('* * * * *\nslack=soon').error, 'invalid slack: soon (a duration: digits and ms, s, m, h or d)');
  t.equal(parseSchedule('* * * * *\ncatch-up=maybe').error, 'invalid catch-up: maybe (yes or no)');
  t.equal(parseSchedule('* * * * *\nnotify=always').error, 'invalid notify: always (failure or change)');
  t.match(parseSchedule('* * * * *\ncolour=red').error, /^unknown option: colour/);
  t.equal(expressionError('0 4 * * *'), undefined);
});

t.test('six fields: every 2 s, each tick strictly after the moment asked', async (t) => {
  const r = rule('*/2 * * * * *');
  const t0 = Date.UTC(2026, 11, 2, 17, 0, 0);
  t.equal(iso(nextTick(r, t0)), '2026-12-02T17:00:02.000Z', 'a tick is never the moment itself');
  t.equal(iso(nextTick(r, t0 + 1999)), '2026-12-02T17:00:02.000Z');
  t.equal(iso(nextTick(r, t0 + 2500)), '2026-12-02T17:00:04.000Z');
  t.same(nextTicks(r, t0, 3).map(iso), ['2026-12-02T17:00:02.000Z', '2026-12-02T17:00:04.000Z', '2026-12-02T17:00:06.000Z']);
});

t.test('DST in Europe/Berlin: a skipped 02:30 runs once at 03:00, a repeated 02:30 runs once', async (t) => {
  const r = rule('30 2 * * *\ntz=Europe/Berlin');
  // 2026-03-29: clocks go from 02:00 CET to 03:00 CEST; 02:30 does not exist that night.
  const spring = nextTicks(r, Date.UTC(2026, 2, 28, 12), 3).map(iso);
  t.same(spring, ['2026-03-29T01:00:00.000Z', '2026-03-30T00:30:00.000Z', '2026-03-31T00:30:00.000Z'], 'spring: 03:00 CEST that day (01:00Z), then 02:30 CEST');
  // 2026-10-25: clocks go from 03:00 CEST back to 02:00 CET; 02:30 happens twice.
  const fall = nextTicks(r, Date.UTC(2026, 9, 24, 12), 3).map(iso);
  t.same(fall, ['2026-10-25T00:30:00.000Z', '2026-10-26T01:30:00.000Z', '2026-10-27T01:30:00.000Z'], 'fall: once (the first 02:30, CEST), then 02:30 CET');
  const daily = rule('0 0 * * *\ntz=America/New_York');
  t.same(nextTicks(daily, Date.UTC(2026, 10, 1, 0), 2).map(iso), ['2026-11-01T04:00:00.000Z', '2026-11-02T05:00:00.000Z'], 'local midnight stays midnight across the change (UTC offset 4 h, then 5 h)');
});

t.test('an expression that never fires: February 30th', async (t) => {
  const r = rule('0 0 30 2 *');
  t.equal(nextTick(r, Date.UTC(2026, 0, 1)), null);
  t.same(nextTicks(r, Date.UTC(2026, 0, 1), 5), []);
  t.equal(iso(nextTick(rule('0 0 29 2 *'), Date.UTC(2026, 0, 1))), '2028-02-29T00:00:00.000Z', 'February 29th waits for a leap year');
});

t.test('jitter: within [0, jitter), the same for one tick, different between ticks and seeds', async (t) => {
  const r = rule('* * * * *\njitter=30s');
  const tick = Date.UTC(2026, 11, 2, 17, 0);
  const j = jitterOf(r, tick, 42);
  t.ok(j >= 0 && j < 30_000, `jitter ${j} in range`);
  t.equal(jitterOf(r, tick, 42), j, 'recomputing gives the same delay');
  const many = new Set(Array.from({ length: 50 }, (_, i) => jitterOf(r, tick + i * 60_000, 42)));
  t.ok(many.size > 40, 'ticks spread out');
  t.not(jitterOf(r, tick, 43), j, 'another seed, another delay');
  t.equal(jitterOf(rule('* * * * *'), tick, 42), 0, 'no jitter by default');
});
