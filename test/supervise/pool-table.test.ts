// Unit tests of the pool's pure table (pool-table.ts): every cell (all states x all event
// types) with its expected state and effects, then resize, rolling restart and exit through
// event sequences, the `instances` parser, the letter mapping, and the pool's status projection.
import t from 'tap';
import { IGNORE, initialPool, initialState, MAX_INSTANCES, parseInstances, parseLifelineFd, POOL_EVENT_TYPES, POOL_STATES, POOL_TABLE, poolEventOf, poolStatusView, poolStep, type InstanceView, type MachineState, type Pool, type PoolEffect, type PoolEvent, type PoolEventType, type PoolState } from '@tsv/supervise';

const ROLL = { batch: 1, settleMs: 500, timeoutMs: 10_000 };
const up = (pid: number, starts: number, ready: boolean | null = true): InstanceView => ({ phase: 'run', pid, starts, ready });

/** Drive a pool: apply events, keep the last effects. */
class Drive {
  p: Pool;
  fx: PoolEffect[] = [];
  constructor(roll = ROLL, wantUp = true) {
    this.p = initialPool(roll, wantUp);
  }
  ev(e: PoolEvent): PoolEffect[] {
    const r = poolStep(this.p, e);
    this.p = r.pool;
    this.fx = r.effects;
    return r.effects;
  }
  /** Every instance 0..n-1 reports up and ready with starts 1. */
  allUp(n: number, ready: boolean | null = true): void {
    for (let id = 0; id < n; id++) this.ev({ type: 'changed', id, view: up(100 + id, 1, ready) });
  }
}

const kinds = (fx: PoolEffect[]): string[] =>
  fx.map((f) => ('id' in f ? `${f.type}:${f.id}${f.type === 'send' ? `:${f.letters}` : ''}${f.type === 'setTimer' || f.type === 'cancelTimer' ? `:${f.name}` : ''}` : f.type));

/** A pool of 3 in each state, reached by events only. */
function inState(state: PoolState): Pool {
  const d = new Drive();
  d.ev({ type: 'resize', size: 3 });
  d.allUp(3);
  if (state === 'steady') return d.p;
  d.ev({ type: 'roll' });
  if (state === 'rolling') return d.p;
  if (state === 'halted') {
    d.ev({ type: 'timer', name: 'deadline', id: 0 });
    return d.p;
  }
  d.ev({ type: 'exit' });
  if (state === 'exiting') return d.p;
  for (const id of [0, 1, 2]) d.ev({ type: 'retired', id });
  return d.p;
}

/** One representative event of each type. */
const EVENTS: { [K in PoolEventType]: Extract<PoolEvent, { type: K }> } = {
  resize: { type: 'resize', size: 5 },
  reload: { type: 'reload' },
  roll: { type: 'roll' },
  want: { type: 'want', letter: 'd' },
  forward: { type: 'forward', letter: 'k' },
  exit: { type: 'exit' },
  changed: { type: 'changed', id: 0, view: up(200, 2) },
  timer: { type: 'timer', name: 'deadline', id: 0 },
  retired: { type: 'retired', id: 2 },
};

/** Expected [state after, effect kinds] of every cell; IGNORE where the table ignores. */
const EXPECT: Record<PoolState, Record<PoolEventType, [PoolState, string[]] | typeof IGNORE>> = {
  steady: {
    resize: ['steady', ['start:3', 'start:4', 'write']],
    reload: ['steady', ['readSize']],
    roll: ['rolling', ['restart:0', 'setTimer:0:deadline', 'write']],
    want: ['steady', ['send:0:d', 'send:1:d', 'send:2:d', 'write']],
    forward: ['steady', ['send:0:k', 'send:1:k', 'send:2:k']],
    exit: ['exiting', ['retire:0', 'retire:1', 'retire:2', 'write']],
    changed: ['steady', ['write']],
    timer: IGNORE,
    // why: instance 2 is not retiring: a stray retired event changes nothing
    retired: ['steady', []],
  },
  rolling: {
    resize: ['rolling', ['start:3', 'start:4', 'write']],
    reload: ['rolling', ['readSize']],
    roll: ['rolling', ['warn']],
    want: ['steady', ['cancelTimer:0:deadline', 'cancelTimer:0:settle', 'warn', 'send:0:d', 'send:1:d', 'send:2:d', 'write']],
    forward: ['rolling', ['send:0:k', 'send:1:k', 'send:2:k']],
    exit: ['exiting', ['cancelTimer:0:deadline', 'cancelTimer:0:settle', 'retire:0', 'retire:1', 'retire:2', 'write']],
    changed: ['rolling', ['write', 'cancelTimer:0:deadline', 'cancelTimer:0:settle', 'restart:1', 'setTimer:1:deadline']],
    timer: ['halted', ['cancelTimer:0:deadline', 'cancelTimer:0:settle', 'warn', 'write']],
    retired: ['rolling', []],
  },
  halted: {
    resize: ['halted', ['start:3', 'start:4', 'write']],
    reload: ['halted', ['readSize']],
    roll: ['rolling', ['restart:0', 'setTimer:0:deadline', 'write']],
    want: ['halted', ['send:0:d', 'send:1:d', 'send:2:d', 'write']],
    forward: ['halted', ['send:0:k', 'send:1:k', 'send:2:k']],
    exit: ['exiting', ['retire:0', 'retire:1', 'retire:2', 'write']],
    changed: ['halted', ['write']],
    timer: IGNORE,
    retired: ['halted', []],
  },
  exiting: {
    resize: IGNORE,
    reload: IGNORE,
    roll: IGNORE,
    want: IGNORE,
    // why: a signal to the pool still reaches instances that are stopping
    forward: ['exiting', []],
    exit: IGNORE,
    changed: ['exiting', ['write']],
    timer: IGNORE,
    retired: ['exiting', ['write']],
  },
  done: { resize: IGNORE, reload: IGNORE, roll: IGNORE, want: IGNORE, forward: IGNORE, exit: IGNORE, changed: IGNORE, timer: IGNORE, retired: IGNORE },
};

t.test('every cell of the pool table', async (t) => {
  t.same(Object.keys(POOL_TABLE).sort(), [...POOL_STATES].sort());
  for (const state of POOL_STATES) {
    t.same(Object.keys(POOL_TABLE[state]).sort(), [...POOL_EVENT_TYPES].sort(), `${state}: a cell for every event`);
    for (const type of POOL_EVENT_TYPES) {
      const before = inState(state);
      t.equal(before.state, state, `reached ${state}`);
      const exp = EXPECT[state][type];
      const r = poolStep(before, EVENTS[type]);
      if (exp === IGNORE) {
        t.equal((POOL_TABLE[state] as Record<string, unknown>)[type], IGNORE, `${state} x ${type}: ignored`);
        t.equal(r.pool, before, `${state} x ${type}: same state object`);
        t.same(r.effects, [], `${state} x ${type}: no effect`);
        continue;
      }
      t.equal(r.pool.state, exp[0], `${state} x ${type}: state`);
      t.same(kinds(r.effects), exp[1], `${state} x ${type}: effects`);
    }
  }
});

t.test('resize: new ids start, the highest retire first, the others untouched', async (t) => {
  const d = new Drive();
  t.same(kinds(d.ev({ type: 'resize', size: 4 })), ['start:0', 'start:1', 'start:2', 'start:3', 'write']);
  d.allUp(4);
  t.same(kinds(d.ev({ type: 'resize', size: 8 })), ['start:4', 'start:5', 'start:6', 'start:7', 'write']);
  d.allUp(8);
  t.same(kinds(d.ev({ type: 'resize', size: 2 })), ['retire:7', 'retire:6', 'retire:5', 'retire:4', 'retire:3', 'retire:2', 'write']);
  t.same(kinds(d.ev({ type: 'resize', size: 2 })), [], 'same size: nothing');
  // 3 comes back while its old instance still stops: it starts once that one is gone
  t.same(kinds(d.ev({ type: 'resize', size: 4 })), ['write']);
  t.same(kinds(d.ev({ type: 'retired', id: 3 })), ['start:3', 'write']);
  t.same(kinds(d.ev({ type: 'retired', id: 2 })), ['start:2', 'write']);
  t.same(kinds(d.ev({ type: 'retired', id: 7 })), ['write']);
  t.same(
    d.p.members.map((m) => [m.id, m.retiring]),
    [
      [0, false],
      [1, false],
      [2, false],
      [3, false],
      [4, true],
      [5, true],
      [6, true],
    ],
  );
  // a pool wanted down starts its new instances down
  const dn = new Drive(ROLL, false);
  t.same(
    dn.ev({ type: 'resize', size: 1 }).filter((f) => f.type === 'start'),
    [{ type: 'start', id: 0, wantUp: false }],
  );
});

t.test('rolling restart: one at a time, the next once the previous is ready again', async (t) => {
  const d = new Drive();
  d.ev({ type: 'resize', size: 3 });
  d.allUp(3);
  t.same(kinds(d.ev({ type: 'roll' })), ['restart:0', 'setTimer:0:deadline', 'write']);
  // the old run stopping (finish, down) is not the new one
  t.same(kinds(d.ev({ type: 'changed', id: 0, view: { phase: 'down', pid: 0, starts: 1, ready: false } })), ['write']);
  t.same(kinds(d.ev({ type: 'changed', id: 0, view: up(300, 2, false) })), ['write'], 'up, not ready: wait');
  t.same(kinds(d.ev({ type: 'changed', id: 0, view: up(300, 2, true) })), ['write', 'cancelTimer:0:deadline', 'cancelTimer:0:settle', 'restart:1', 'setTimer:1:deadline']);
  d.ev({ type: 'changed', id: 1, view: up(301, 2) });
  t.same(d.p.inFlight.map((x) => x.id), [2]);
  t.same(kinds(d.ev({ type: 'changed', id: 2, view: up(302, 2) })), ['write', 'cancelTimer:2:deadline', 'cancelTimer:2:settle', 'write']);
  t.equal(d.p.state, 'steady');
  t.equal(d.p.rolls, 1);
});

t.test('rolling restart K at a time, and the settle time without readiness', async (t) => {
  const d = new Drive({ batch: 2, settleMs: 700, timeoutMs: 0 });
  d.ev({ type: 'resize', size: 3 });
  d.allUp(3, null);
  t.same(kinds(d.ev({ type: 'roll' })), ['restart:0', 'restart:1', 'write'], 'two at once, no deadline (roll-timeout 0)');
  t.same(kinds(d.ev({ type: 'changed', id: 1, view: up(401, 2, null) })), ['write', 'setTimer:1:settle']);
  t.same(kinds(d.ev({ type: 'timer', name: 'settle', id: 1 })), ['cancelTimer:1:deadline', 'cancelTimer:1:settle', 'restart:2']);
  t.same(kinds(d.ev({ type: 'timer', name: 'settle', id: 0 })), [], 'instance 0 is not settling yet: nothing');
  t.same(kinds(d.ev({ type: 'timer', name: 'settle', id: 9 })), [], 'no such instance in flight');
});

t.test('a failed instance stops the roll, and says why', async (t) => {
  const d = new Drive();
  d.ev({ type: 'resize', size: 3 });
  d.allUp(3);
  d.ev({ type: 'roll' });
  d.ev({ type: 'changed', id: 0, view: up(300, 2) });
  // instance 1 dies after its restart, before it is ready
  d.ev({ type: 'changed', id: 1, view: up(301, 2, false) });
  const fx = d.ev({ type: 'changed', id: 1, view: { phase: 'down', pid: 0, starts: 2, ready: false } });
  t.equal(d.p.state, 'halted');
  t.same(d.p.failed, { id: 1, reason: 'exited before it was ready' });
  t.match(fx.find((f) => f.type === 'warn'), { message: 'rolling restart stopped: instance 1 exited before it was ready' });
  t.same(d.p.queue, [], 'instance 2 is not restarted');
  // a spawn that failed at once (starts grew, never ran) fails it too; so does a second start
  const e = new Drive();
  e.ev({ type: 'resize', size: 2 });
  e.allUp(2);
  e.ev({ type: 'roll' });
  e.ev({ type: 'changed', id: 0, view: up(5, 3) });
  t.equal(e.p.state, 'halted', 'restarted twice: it crashed in between');
  // never ready: the deadline
  const n = new Drive();
  n.ev({ type: 'resize', size: 2 });
  n.allUp(2);
  n.ev({ type: 'roll' });
  n.ev({ type: 'changed', id: 0, view: up(5, 2, false) });
  n.ev({ type: 'timer', name: 'deadline', id: 0 });
  t.same(n.p.failed, { id: 0, reason: 'was not ready within 10000 ms' });
  // the next `t` starts a new roll from the start
  t.same(kinds(n.ev({ type: 'roll' })), ['restart:0', 'setTimer:0:deadline', 'write']);
  t.equal(n.p.failed, null);
});

t.test('resize during a roll: new ids are not rolled, removed ids leave the roll', async (t) => {
  const d = new Drive();
  d.ev({ type: 'resize', size: 4 });
  d.allUp(4);
  d.ev({ type: 'roll' });
  d.ev({ type: 'changed', id: 0, view: up(300, 2) });
  t.same(d.p.inFlight.map((x) => x.id), [1]);
  t.same(kinds(d.ev({ type: 'resize', size: 6 })), ['start:4', 'start:5', 'write']);
  t.same(d.p.queue, [2, 3], 'the new ids are not in the roll');
  // down to 1: the in-flight 1 and the queued 2, 3 leave the roll; it is complete
  const fx = kinds(d.ev({ type: 'resize', size: 1 }));
  t.same(fx, ['retire:5', 'retire:4', 'retire:3', 'retire:2', 'retire:1', 'cancelTimer:1:deadline', 'cancelTimer:1:settle', 'write', 'write']);
  t.equal(d.p.state, 'steady');
  t.equal(d.p.rolls, 1);
});

t.test('d or o to the pool abandons a roll; u does not', async (t) => {
  const d = new Drive();
  d.ev({ type: 'resize', size: 2 });
  d.allUp(2);
  d.ev({ type: 'roll' });
  d.ev({ type: 'want', letter: 'u' });
  t.equal(d.p.state, 'rolling');
  d.ev({ type: 'want', letter: 'o' });
  t.equal(d.p.state, 'steady');
  t.equal(d.p.want, 'once');
});

t.test('exit: every instance retires, then exitReady once', async (t) => {
  const d = new Drive();
  d.ev({ type: 'resize', size: 2 });
  d.ev({ type: 'resize', size: 1 });
  t.same(kinds(d.ev({ type: 'exit' })), ['retire:0', 'write'], 'instance 1 already retiring');
  t.same(kinds(d.ev({ type: 'retired', id: 1 })), ['write']);
  t.same(kinds(d.ev({ type: 'retired', id: 0 })), ['write', 'exitReady']);
  t.equal(d.p.state, 'done');
  const empty = new Drive();
  t.same(kinds(empty.ev({ type: 'exit' })), ['write', 'exitReady'], 'a pool without instances is done at once');
});

t.test('letters to the pool', async (t) => {
  t.same(poolEventOf('t'), { type: 'roll' });
  t.same(poolEventOf('h'), { type: 'reload' });
  t.same(poolEventOf('x'), { type: 'exit' });
  for (const l of 'udo') t.same(poolEventOf(l), { type: 'want', letter: l });
  for (const l of 'pcaiq12k') t.same(poolEventOf(l), { type: 'forward', letter: l });
  for (const l of 'eZ?') t.equal(poolEventOf(l), undefined);
});

t.test('instances: 1..MAX, capped above, refused otherwise', async (t) => {
  t.same(parseInstances('4\n'), { size: 4 });
  t.same(parseInstances(' 8 # comment? no: first line only\n'), { error: 'invalid instances: "8 # comment? no: first line only" is not a whole number' });
  t.same(parseInstances(`${MAX_INSTANCES}`), { size: MAX_INSTANCES });
  t.same(parseInstances('100000'), { size: MAX_INSTANCES, warning: `instances 100000 is more than ${MAX_INSTANCES}: using ${MAX_INSTANCES}` });
  t.match(parseInstances('0'), { error: /invalid instances: 0: a pool has 1 to 256 instances/ });
  t.match(parseInstances('-3'), { error: /invalid instances: -3/ });
  t.match(parseInstances('four'), { error: 'invalid instances: "four" is not a whole number' });
  t.match(parseInstances(''), { error: 'invalid instances: "" is not a whole number' });
  t.match(parseInstances('2.5'), { error: /not a whole number/ });
});

t.test('lifeline-fd: 3..1023', async (t) => {
  const warned: string[] = [];
  t.equal(parseLifelineFd('4\n', (m) => warned.push(m)), 4);
  for (const bad of ['2', '1024', 'x', '']) t.equal(parseLifelineFd(bad, (m) => warned.push(m)), undefined);
  t.same(warned, ['invalid lifeline-fd: 2', 'invalid lifeline-fd: 1024', 'invalid lifeline-fd: x', 'invalid lifeline-fd: ']);
});

t.test("the pool's status: up if any instance runs, the lowest running id's pid", async (t) => {
  const d = new Drive();
  d.ev({ type: 'resize', size: 3 });
  const now = { wall: 1_700_000_000_000, mono: 5000 };
  const m = (phase: MachineState['phase'], pid: number, ready: boolean | null): MachineState => ({ ...initialState(false, true, now), phase, pid, pgid: pid, ready, starts: 1 });
  const prev = { phase: 'down' as const, rolls: 0, since: now };
  let r = poolStatusView(d.p, new Map([[0, m('down', 0, false)], [1, m('run', 11, true)], [2, m('run', 12, true)]]), prev, { wall: now.wall + 1, mono: 5001 });
  t.equal(r.view.state, 'run');
  t.equal(r.view.pid, 11, 'instance 0 is down: the lowest that runs');
  t.equal(r.view.ready, false, 'not every instance is ready');
  t.equal(r.since.since.mono, 5001, 'first up: the time changes');
  r = poolStatusView(d.p, new Map([[0, m('run', 10, true)], [1, m('run', 11, true)], [2, m('run', 12, true)]]), r.since, { wall: now.wall + 2, mono: 5002 });
  t.equal(r.view.pid, 10);
  t.equal(r.view.ready, true);
  t.equal(r.since.since.mono, 5001, 'still up: same time');
  d.allUp(3);
  d.ev({ type: 'roll' });
  r = poolStatusView(d.p, new Map([[0, m('run', 10, true)], [1, m('run', 11, true)], [2, m('run', 12, true)]]), r.since, { wall: now.wall + 3, mono: 5003 });
  t.equal(r.view.ready, false, 'rolling: not ready, so tsvctl -w restart waits for the whole roll');
  const nothing = poolStatusView(d.p, new Map([[0, m('down', 0, null)], [1, m('down', 0, null)], [2, m('down', 0, null)]]), r.since, { wall: now.wall + 4, mono: 5004 });
  t.equal(nothing.view.state, 'down');
  t.equal(nothing.view.pid, 0);
});
