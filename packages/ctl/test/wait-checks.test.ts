// The per-letter checks of sv's wait (runit.md 3.6), letter by letter from the spec's table:
// u d x t k o p c C and the letters that pass at once; the check script run at most once a
// round; "restarted since" with sub-second stamps and tsv.json's monotonic stamps.
import t from 'tap';
import { changedSince, judge, type CheckContext, type Probe, type Snapshot } from '@tsv/ctl';
import { initialExtraProcess, type ExtraProcess, type StatusRecord } from '@tsv/core';

/** wall-clock ms the command was sent: 1000.7 s */
const TSTART = 1_000_700;

/** A status record: running pid 123, want up, stamped at `atMs`. */
function rec(over: Partial<StatusRecord> = {}, atMs = TSTART + 100): StatusRecord {
  return { time: { seconds: Math.floor(atMs / 1000), nanos: (atMs % 1000) * 1_000_000 + 500 }, pid: 123, paused: false, wantUp: true, gotTerm: false, state: 'run', ...over };
}

/** A snapshot (with tsv.json's record when extra is given). */
function snap(r: StatusRecord, extra?: Partial<ExtraProcess>): Snapshot {
  const x = extra === undefined ? undefined : { ...initialExtraProcess('up', 0, 0), state: r.state, pid: r.pid, ...extra };
  return { rec: r, extra: x, extraFile: undefined };
}

/** A probe that found a running supervisor. */
function ok(s: Snapshot): Probe {
  return { kind: 'ok', snap: s };
}

/** A context whose check script answers `pass`, counting its runs. */
function ctx(pass = true, before?: Snapshot): CheckContext & { runs: () => number } {
  let n = 0;
  return {
    tstartMs: TSTART,
    before,
    runCheck: async () => {
      n++;
      return pass;
    },
    runs: () => n,
  };
}

const DOWN = { pid: 0, state: 'down' as const };

t.test('u: pid != 0, state run, and the check script passes', async (t) => {
  t.match(await judge('u', ok(snap(rec())), ctx()), { kind: 'pass' });
  t.match(await judge('u', ok(snap(rec(DOWN))), ctx()), { kind: 'pending', checkFailed: false }, 'down');
  t.match(await judge('u', ok(snap(rec({ state: 'finish' }))), ctx()), { kind: 'pending' }, 'finish is not run');
  t.match(await judge('u', ok(snap(rec({ pid: 0 }))), ctx()), { kind: 'pending' }, 'run without a pid');
  t.match(await judge('u', ok(snap(rec())), ctx(false)), { kind: 'pending', checkFailed: true }, 'check says no');
  t.match(await judge('u', ok(snap(rec(), { ready: false })), ctx()), { kind: 'pending', checkFailed: false }, 'tsv: not ready yet');
  const c = ctx();
  await judge('u', ok(snap(rec(DOWN))), c);
  t.equal(c.runs(), 0, 'the check script is not run while the service is down');
});

t.test('d: pid 0 and state down', async (t) => {
  t.match(await judge('d', ok(snap(rec(DOWN))), ctx(false)), { kind: 'pass' }, 'no check script for d');
  t.match(await judge('d', ok(snap(rec())), ctx()), { kind: 'pending' });
  t.match(await judge('d', ok(snap(rec({ pid: 0, state: 'finish' }))), ctx()), { kind: 'pending' }, 'finish without pid is not down');
  t.match(await judge('d', ok(snap(rec({ state: 'down' }))), ctx()), { kind: 'pending' }, 'down with a pid');
});

t.test('x: never while the supervisor answers; its end is success', async (t) => {
  t.match(await judge('x', ok(snap(rec(DOWN))), ctx()), { kind: 'pending' });
  t.same(await judge('x', { kind: 'not-running' }, ctx()), { kind: 'exited' });
  for (const acts of ['u', 'd', 't', 'o']) t.same(await judge(acts, { kind: 'not-running' }, ctx()), { kind: 'not-running' }, `${acts}: fail: runsv not running`);
  t.same(await judge('u', { kind: 'warn', message: 'unable to read' }, ctx()), { kind: 'warn', message: 'unable to read' }, 'a read error ends the wait with a warning');
});

t.test('t and k: pass when down with want down; else restarted since tstart, pid, no got TERM, check', async (t) => {
  for (const l of ['t', 'k']) {
    t.match(await judge(l, ok(snap(rec({ ...DOWN, wantUp: false }, 0))), ctx(false)), { kind: 'pass' }, `${l}: pid 0 and want d`);
    t.match(await judge(l, ok(snap(rec({}, TSTART + 100))), ctx()), { kind: 'pass' }, `${l}: restarted after tstart`);
    t.match(await judge(l, ok(snap(rec({}, TSTART - 200))), ctx()), { kind: 'pending' }, `${l}: stamp 1000.5 s, before tstart 1000.7 s: not restarted (sv, in whole seconds, would say it was)`);
    t.match(await judge(l, ok(snap(rec({ gotTerm: true }))), ctx()), { kind: 'pending' }, `${l}: got TERM`);
    t.match(await judge(l, ok(snap(rec({ ...DOWN }))), ctx()), { kind: 'pending' }, `${l}: pid 0, want up`);
    t.match(await judge(l, ok(snap(rec())), ctx(false)), { kind: 'pending', checkFailed: true }, `${l}: check fails`);
  }
});

t.test('o: pid 0 and changed since tstart, or pid != 0 and want down', async (t) => {
  t.match(await judge('o', ok(snap(rec({ ...DOWN, wantUp: false }, TSTART + 1))), ctx(false)), { kind: 'pass' }, 'ran once and is down');
  t.match(await judge('o', ok(snap(rec({ ...DOWN, wantUp: false }, TSTART - 1))), ctx()), { kind: 'pending' }, 'down since before tstart: has not run yet');
  t.match(await judge('o', ok(snap(rec({ wantUp: false }, 0))), ctx(false)), { kind: 'pass' }, 'running with want d (once)');
  t.match(await judge('o', ok(snap(rec({ wantUp: true }))), ctx()), { kind: 'pending' }, 'running with want up');
});

t.test('p and c', async (t) => {
  t.match(await judge('p', ok(snap(rec({ paused: true }))), ctx()), { kind: 'pass' });
  t.match(await judge('p', ok(snap(rec({ ...DOWN }))), ctx()), { kind: 'pass' }, 'p: pid 0');
  t.match(await judge('p', ok(snap(rec())), ctx()), { kind: 'pending' }, 'p: running, not paused');
  t.match(await judge('c', ok(snap(rec())), ctx()), { kind: 'pass' });
  t.match(await judge('c', ok(snap(rec({ ...DOWN, paused: true }))), ctx()), { kind: 'pass' }, 'c: pid 0');
  t.match(await judge('c', ok(snap(rec({ paused: true }))), ctx()), { kind: 'pending' }, 'c: still paused');
});

t.test('C (check, runit 2.3.0): d when want is d, else u', async (t) => {
  t.match(await judge('C', ok(snap(rec())), ctx()), { kind: 'pass' });
  t.match(await judge('C', ok(snap(rec())), ctx(false)), { kind: 'pending', checkFailed: true });
  t.match(await judge('C', ok(snap(rec({ ...DOWN }))), ctx()), { kind: 'pending' }, 'want up, down: pending');
  t.match(await judge('C', ok(snap(rec({ ...DOWN, wantUp: false }))), ctx(false)), { kind: 'pass' }, 'want down, down');
  t.match(await judge('C', ok(snap(rec({ wantUp: false }))), ctx()), { kind: 'pending' }, 'want down, running');
});

t.test('h a i q 1 2 pass at once', async (t) => {
  for (const l of 'haiq12') t.match(await judge(l, ok(snap(rec({ ...DOWN, paused: true, gotTerm: true }, 0))), ctx(false)), { kind: 'pass' }, l);
});

t.test('letters together: all must pass; the check script runs once', async (t) => {
  const c = ctx();
  t.match(await judge('tcu', ok(snap(rec())), c), { kind: 'pass' });
  t.equal(c.runs(), 1, 'one run of check for t and u');
  t.match(await judge('du', ok(snap(rec(DOWN))), ctx()), { kind: 'pending' }, 'd passes, u does not');
});

t.test('changedSince', async (t) => {
  t.ok(changedSince(snap(rec({}, TSTART)), { tstartMs: TSTART, before: undefined }), 'a stamp equal to tstart counts (>=)');
  t.notOk(changedSince(snap(rec({}, TSTART - 1)), { tstartMs: TSTART, before: undefined }), 'one ms before does not');
  const before = snap(rec({}, 5_000));
  t.ok(changedSince(snap(rec({}, 5_001)), { tstartMs: 9_999_999, before }), 'with a before read: any later stamp, whatever tstart');
  t.notOk(changedSince(snap(rec({}, 5_000)), { tstartMs: 0, before }), 'the same stamp: no change');
  const bx = snap(rec({}, 5_000), { sinceMono: 100, restarts: 2 });
  t.ok(changedSince(snap(rec({}, 1), { sinceMono: 101, restarts: 2 }), { tstartMs: 0, before: bx }), 'monotonic stamp moved on: changed, though the wall clock went back');
  t.ok(changedSince(snap(rec({}, 1), { sinceMono: 100, restarts: 3 }), { tstartMs: 0, before: bx }), 'restarts counted up: changed');
  t.notOk(changedSince(snap(rec({}, 99_999), { sinceMono: 100, restarts: 2 }), { tstartMs: 0, before: bx }), 'wall clock forward alone: no change');
});
