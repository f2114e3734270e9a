// Unit tests of the pure supervisor state machine (no I/O): every cell of its table (all states x
// all event types), then runsv's semantics and tsv's extras through event sequences.
import t from 'tap';
import { step, initialState, stateOf, TABLE, STATES, EVENT_TYPES, IGNORE, ORPHAN_TABLE, ORPHAN_STATES, ORPHAN_EVENT_TYPES, orphanStep, type OrphanState, type OrphanEventType, LIFE_TABLE, LIFE_STATES, LIFE_EVENT_TYPES, lifeStep, type LifeEvent, type LifeEventType, type LifeState, parseRestartPolicy, parseSignal, backoffDelay, DEFAULT_SETTINGS, DEFAULT_RESTART, type Effect, type EventType, type MachineEvent, type MachineState, type Settings, type State } from '@tsv/supervise';
import { constants } from 'node:os';

/** Settings of a service with every control/<c> hook (tests answer each hook's exit). */
const HOOKED: Settings = { ...DEFAULT_SETTINGS, hooks: [...'utdxhaiq12kpc'] };

/** A little driver: feeds events at a controllable monotonic time and records effects. Like the
 * shell, it answers a readSettings effect at once with cfg (unless manual). */
class Drive {
  s: MachineState;
  t = 1000;
  fx: Effect[] = [];
  constructor(
    isLog = false,
    wantUp = true,
    public cfg: Settings = isLog ? DEFAULT_SETTINGS : HOOKED,
    private readonly manual = false,
  ) {
    this.s = initialState(isLog, wantUp, { wall: 1_700_000_000_000, mono: this.t });
  }
  /** Apply one event; returns its effects (and those of the settings answer). */
  ev(e: MachineEvent): Effect[] {
    const r = step(this.s, e, { wall: 1_700_000_000_000 + this.t, mono: this.t });
    this.s = r.state;
    this.fx = r.effects;
    if (!this.manual && r.effects.some((f) => f.type === 'readSettings')) this.fx = [...r.effects, ...this.ev({ type: 'settings', settings: this.cfg })];
    return this.fx;
  }
  /** Control letters, one event each; returns all effects. */
  ctl(letters: string): Effect[] {
    const all: Effect[] = [];
    for (const c of letters) all.push(...this.ev({ type: 'control', letter: c }));
    return all;
  }
  /** Answer a pending hook: exit 0 (handled) or 1. */
  hook(handled = false): Effect[] {
    return this.ev({ type: 'hookDone', code: handled ? 0 : 1 });
  }
  /** Bring run up with pid (with settings, read for this start). */
  up(pid: number, settings?: Settings): void {
    if (settings !== undefined) this.s = { ...this.s, settings };
    this.ev({ type: 'spawned', what: 'run', pid, pgid: pid });
  }
}

const kinds = (fx: Effect[]): string[] => fx.map((f) => (f.type === 'hook' ? `hook:${f.letter}` : f.type === 'signal' ? `signal:${f.signal}` : f.type === 'spawn' ? `spawn:${f.what}` : f.type === 'setTimer' ? `timer:${f.name}:${f.ms}` : f.type === 'logger' ? `logger:${f.action}` : f.type));

/** A machine in each state of the table, reached by events only (run and finish: a service with
 * hooks and a finish script). */
function inState(state: State): MachineState {
  const cfg = { ...HOOKED, hasFinish: true };
  const d = new Drive(false, state !== 'down', cfg, true);
  if (state === 'down') return d.s;
  d.ev({ type: 'boot' });
  if (state === 'starting') return d.s;
  d.ev({ type: 'settings', settings: cfg });
  if (state === 'hook') return d.s;
  d.hook();
  if (state === 'spawning') return d.s;
  d.ev({ type: 'spawned', what: 'run', pid: 99, pgid: 99 });
  if (state === 'run') return d.s;
  if (state === 'changeWait') {
    // watch mode: run exits by itself
    d.s = { ...d.s, settings: { ...cfg, hasFinish: false, watch: true } };
    d.ev({ type: 'exited', code: 1, signal: null, signum: 0 });
    return d.s;
  }
  if (state === 'backoff') {
    d.s = { ...d.s, settings: { ...cfg, hasFinish: false } };
    d.ev({ type: 'exited', code: 1, signal: null, signum: 0 });
    return d.s;
  }
  d.ev({ type: 'exited', code: 1, signal: null, signum: 0 });
  d.ev({ type: 'spawned', what: 'finish', pid: 100, pgid: 100 });
  return d.s;
}

/** One representative event of each type. */
const EVENTS: { [K in EventType]: Extract<MachineEvent, { type: K }> } = {
  boot: { type: 'boot' },
  control: { type: 'control', letter: 'd' },
  settings: { type: 'settings', settings: HOOKED },
  spawned: { type: 'spawned', what: 'run', pid: 7, pgid: 7 },
  spawnFailed: { type: 'spawnFailed', what: 'run', error: 'file does not exist' },
  exited: { type: 'exited', code: 0, signal: null, signum: 0 },
  timer: { type: 'timer', name: 'restart' },
  ready: { type: 'ready' },
  hookDone: { type: 'hookDone', code: 1 },
  groupGone: { type: 'groupGone', pgid: 77 },
  exitLog: { type: 'exitLog' },
  change: { type: 'change' },
  cgroupEmpty: { type: 'cgroupEmpty' },
};

/** The whole table written out: for each state and event, 'ignore', or the state it leads to
 * and the kinds of the effects. */
const SPEC: Record<State, Record<EventType, 'ignore' | [State, string]>> = {
  down: {
    boot: ['down', ''], control: ['down', 'write'], settings: 'ignore', spawned: 'ignore', spawnFailed: 'ignore', exited: 'ignore',
    timer: ['down', ''], ready: 'ignore', hookDone: 'ignore', groupGone: ['down', ''], exitLog: ['down', 'write exitReady'], change: 'ignore', cgroupEmpty: ['down', ''],
  },
  backoff: {
    boot: 'ignore', control: ['down', 'cancelTimer write'], settings: 'ignore', spawned: 'ignore', spawnFailed: 'ignore', exited: 'ignore',
    timer: ['starting', 'write readSettings'], ready: 'ignore', hookDone: 'ignore', groupGone: ['backoff', ''], exitLog: ['down', 'cancelTimer write exitReady'], change: 'ignore', cgroupEmpty: ['backoff', ''],
  },
  starting: {
    boot: 'ignore', control: ['starting', ''], settings: ['hook', 'hook:u'], spawned: 'ignore', spawnFailed: 'ignore', exited: 'ignore',
    timer: ['starting', ''], ready: 'ignore', hookDone: 'ignore', groupGone: ['starting', ''], exitLog: ['starting', 'write'], change: 'ignore', cgroupEmpty: ['starting', ''],
  },
  hook: {
    boot: 'ignore', control: ['hook', ''], settings: 'ignore', spawned: ['hook', 'write'], spawnFailed: ['hook', 'warn write timer:restart:1000'], exited: ['hook', ''],
    timer: ['hook', ''], ready: ['hook', ''], hookDone: ['spawning', 'spawn:run'], groupGone: ['hook', ''], exitLog: ['hook', 'write exitReady'], change: 'ignore', cgroupEmpty: ['hook', ''],
  },
  spawning: {
    boot: 'ignore', control: ['spawning', ''], settings: 'ignore', spawned: ['run', 'write'], spawnFailed: ['backoff', 'warn write timer:restart:1000'], exited: 'ignore',
    timer: ['spawning', ''], ready: 'ignore', hookDone: 'ignore', groupGone: ['spawning', ''], exitLog: ['spawning', 'write'], change: 'ignore', cgroupEmpty: ['spawning', ''],
  },
  run: {
    boot: 'ignore', control: ['hook', 'write hook:t'], settings: 'ignore', spawned: 'ignore', spawnFailed: 'ignore', exited: ['spawning', 'cancelTimer write spawn:finish'],
    timer: ['run', ''], ready: ['run', ''], hookDone: 'ignore', groupGone: ['run', ''], exitLog: ['run', 'write'], change: ['run', ''], cgroupEmpty: ['run', ''],
  },
  finish: {
    boot: 'ignore', control: ['finish', 'write'], settings: 'ignore', spawned: 'ignore', spawnFailed: 'ignore', exited: ['backoff', 'cancelTimer write timer:restart:1000'],
    timer: ['finish', ''], ready: 'ignore', hookDone: 'ignore', groupGone: ['finish', ''], exitLog: ['finish', 'write'], change: 'ignore', cgroupEmpty: ['finish', ''],
  },
  changeWait: {
    boot: 'ignore', control: ['down', 'write'], settings: 'ignore', spawned: 'ignore', spawnFailed: 'ignore', exited: 'ignore',
    timer: ['changeWait', ''], ready: 'ignore', hookDone: 'ignore', groupGone: ['changeWait', ''], exitLog: 'ignore', change: ['starting', 'write readSettings'], cgroupEmpty: ['changeWait', ''],
  },
};

t.test('every cell of the table: all states x all event types', async (t) => {
  t.same(Object.keys(TABLE).sort(), [...STATES].sort(), 'the table has a row for every state');
  for (const state of STATES) {
    const before = inState(state);
    t.equal(stateOf(before), state, `a machine can be brought into ${state}`);
    t.same(Object.keys(TABLE[state]).sort(), [...EVENT_TYPES].sort(), `${state}: a cell for every event type`);
    for (const type of EVENT_TYPES) {
      const spec = SPEC[state][type];
      const cell = (TABLE[state] as Record<EventType, unknown>)[type];
      const r = step(before, EVENTS[type], { wall: 1_700_000_000_000, mono: 1000 });
      if (spec === 'ignore') {
        t.equal(cell, IGNORE, `${state} x ${type}: ignored`);
        t.same(r.effects, [], `${state} x ${type}: no effect`);
        t.equal(r.state, before, `${state} x ${type}: no state change`);
      } else {
        t.not(cell, IGNORE, `${state} x ${type}: handled`);
        t.same([stateOf(r.state), kinds(r.effects).join(' ')], spec, `${state} x ${type}`);
      }
    }
  }
});

t.test('every timer in every state: none throws; the kill timers act only on their process', async (t) => {
  for (const state of STATES) {
    for (const name of ['restart', 'kill', 'finish', 'groupKill', 'cgroupKill'] as const) {
      const r = step(inState(state), { type: 'timer', name }, { wall: 1_700_000_000_000, mono: 1000 });
      const k = kinds(r.effects).join(' ');
      if (name === 'kill') t.equal(k, state === 'run' ? 'signal:SIGKILL signalGroup' : '', `kill in ${state}`);
      else if (name === 'finish') t.equal(k, state === 'finish' ? 'warn signal:SIGKILL' : '', `finish in ${state}`);
      else if (name === 'groupKill') t.equal(k, '', `groupKill in ${state}: no group left`);
      else if (name === 'cgroupKill') t.equal(k, '', `cgroupKill in ${state}: nothing left in the cgroup`);
      else t.equal(k, state === 'backoff' ? 'write readSettings' : '', `restart in ${state}`);
    }
  }
});

t.test('boot runs control/u then spawns run; down file means no start', async (t) => {
  const d = new Drive();
  t.same(kinds(d.ev({ type: 'boot' })), ['readSettings', 'hook:u']);
  t.same(kinds(d.hook()), ['spawn:run'], 'the hook result is ignored');
  d.up(42);
  t.equal(d.s.phase, 'run');
  t.equal(d.s.pid, 42);
  t.equal(d.s.starts, 1);
  const down = new Drive(false, false);
  t.same(down.ev({ type: 'boot' }), []);
  t.equal(down.s.want, 'down');
});

t.test('control letters wait while a hook runs, then run in order', async (t) => {
  const d = new Drive();
  d.ev({ type: 'boot' });
  t.same(d.ctl('dx'), [], 'queued while control/u runs');
  t.same(d.s.queue, ['d', 'x']);
  d.hook();
  t.equal(d.s.spawning, 'run');
  t.same(d.s.queue, ['d', 'x'], 'still queued while the spawn is in progress');
  const fx = d.ev({ type: 'spawned', what: 'run', pid: 7, pgid: 7 });
  t.same(kinds(fx), ['write', 'write', 'hook:t'], 'the d is processed once run is up');
  t.equal(d.s.want, 'down');
});

t.test('d: TERM then CONT and control/d; t: TERM only; veto by control/t', async (t) => {
  const d = new Drive();
  d.ev({ type: 'boot' });
  d.hook();
  d.up(10);
  t.same(kinds(d.ctl('d')), ['write', 'hook:t']);
  t.same(kinds(d.hook(false)), ['signal:SIGTERM', 'write', 'signal:SIGCONT', 'hook:d']);
  t.equal(d.s.gotTerm, true);
  t.same(kinds(d.hook(true)), [], 'control/d result ignored');

  const r = new Drive();
  r.ev({ type: 'boot' });
  r.hook();
  r.up(11);
  r.ctl('t');
  t.same(kinds(r.hook(false)), ['signal:SIGTERM', 'write'], 't sends no CONT with want up');

  const v = new Drive();
  v.ev({ type: 'boot' });
  v.hook();
  v.up(12);
  v.ctl('d');
  t.same(kinds(v.hook(true)), ['signal:SIGCONT', 'hook:d'], 'control/t exit 0 vetoes the TERM');
  t.equal(v.s.gotTerm, false);
});

t.test('finish gets runit arguments; the 1-second rule after a quick death', async (t) => {
  const withFinish = { ...HOOKED, hasFinish: true };
  const d = new Drive(false, true, withFinish);
  d.ev({ type: 'boot' });
  d.hook();
  d.up(20);
  d.t += 300;
  let fx = d.ev({ type: 'exited', code: 3, signal: null, signum: 0, });
  const sp = fx.find((f) => f.type === 'spawn');
  t.same(sp, { type: 'spawn', what: 'finish', args: ['3', '0'] });
  t.equal(d.s.phase, 'finish');
  d.ev({ type: 'spawned', what: 'finish', pid: 21, pgid: 21 });
  t.equal(d.s.pid, 21);
  fx = d.ev({ type: 'exited', code: 0, signal: null, signum: 0, });
  t.same(kinds(fx), ['cancelTimer', 'write', 'timer:restart:1000'], 'ran < 1 s: wait a second');
  t.equal(d.s.phase, 'down');
  t.same(d.s.lastExit, { code: 3, signal: null, at: 1_700_000_000_000 + d.t });
  d.t += 1000;
  t.same(kinds(d.ev({ type: 'timer', name: 'restart' })), ['write', 'readSettings', 'hook:u']);

  const k = new Drive(false, true, withFinish);
  k.ev({ type: 'boot' });
  k.hook();
  k.up(30);
  k.t += 5000;
  fx = k.ev({ type: 'exited', code: null, signal: 'SIGKILL', signum: 9, });
  t.same(fx.find((f) => f.type === 'spawn'), { type: 'spawn', what: 'finish', args: ['-1', '9'] });
  k.ev({ type: 'spawned', what: 'finish', pid: 31, pgid: 31 });
  fx = k.ev({ type: 'exited', code: 0, signal: null, signum: 0, });
  t.same(kinds(fx), ['cancelTimer', 'write', 'readSettings', 'hook:u'], 'ran >= 1 s: restart at once');
});

t.test('backoff grows while deaths stay quick, resets after a long run, give-up and u', async (t) => {
  const policy = { ...DEFAULT_RESTART, delayMs: 100, factor: 2, maxDelayMs: 350, quickMs: 1000, giveUp: 4, giveUpWindowMs: 60_000 };
  const settings = { ...HOOKED, restart: policy };
  const d = new Drive(false, true, settings);
  const delays: number[] = [];
  d.ev({ type: 'boot' });
  for (let i = 0; i < 3; i++) {
    d.hook();
    d.up(100 + i, settings);
    d.t += 10;
    const fx = d.ev({ type: 'exited', code: 1, signal: null, signum: 0, });
    const timer = fx.find((f) => f.type === 'setTimer');
    delays.push(timer?.type === 'setTimer' ? timer.ms : -1);
    d.t += 1000;
    d.ev({ type: 'timer', name: 'restart' });
  }
  t.same(delays, [100, 200, 350], 'exponential, capped');
  t.equal(d.s.failures, 3);
  d.hook();
  d.up(200, settings);
  d.t += 10;
  const fx = d.ev({ type: 'exited', code: 1, signal: null, signum: 0, });
  t.equal(d.s.givenUp, true, 'the fourth quick death gives up');
  t.notOk(fx.some((f) => f.type === 'setTimer' || f.type === 'hook'), 'no restart');
  t.equal(d.s.want, 'up', 'want stays up');
  t.same(kinds(d.ctl('u')), ['write', 'readSettings', 'hook:u'], 'u clears it and starts');
  t.equal(d.s.givenUp, false);
  t.equal(d.s.failures, 0);
  d.hook();
  d.up(300, settings);
  d.t += 5000;
  const long = d.ev({ type: 'exited', code: 1, signal: null, signum: 0, });
  t.same(kinds(long), ['cancelTimer', 'write', 'readSettings', 'hook:u'], 'a long run restarts at once');
  t.same(backoffDelay(DEFAULT_RESTART, 1), 1000, "default: runit's one second first");
});

t.test('d during a restart delay cancels it; x exits when down', async (t) => {
  const d = new Drive();
  d.ev({ type: 'boot' });
  d.hook();
  d.up(5);
  d.ev({ type: 'exited', code: 1, signal: null, signum: 0, });
  t.ok(d.s.restartAt);
  t.same(kinds(d.ctl('u')), ['cancelTimer', 'write', 'timer:restart:1000'], "u in the first second after the death keeps runit's one-second rule");
  t.same(kinds(d.ctl('d')), ['cancelTimer', 'write']);
  t.equal(d.s.restartAt, null);
  t.same(kinds(d.ctl('x')), ['write', 'exitReady']);
});

t.test('x while running: stop, then exitReady once down; x ignored by the logger', async (t) => {
  const d = new Drive();
  d.ev({ type: 'boot' });
  d.hook();
  d.up(5);
  d.ctl('x');
  t.same(kinds(d.hook(false)), ['signal:SIGTERM', 'write', 'signal:SIGCONT', 'hook:x']);
  d.hook();
  d.t += 5;
  const fx = d.ev({ type: 'exited', code: null, signal: 'SIGTERM', signum: 15, });
  t.ok(fx.some((f) => f.type === 'exitReady'));
  t.ok(fx.some((f) => f.type === 'cleanGroup'), 'leftovers of the group are stopped');
  const log = new Drive(true);
  log.ev({ type: 'boot' });
  t.equal(log.s.spawning, 'run', 'no hooks for the logger');
  log.up(9);
  t.same(log.ctl('x'), [], 'x is ignored on the log FIFO');
  t.same(kinds(log.ev({ type: 'exitLog' })), ['write']);
  t.same(kinds(log.ev({ type: 'exited', code: 0, signal: null, signum: 0, })), ['cancelTimer', 'cleanGroup', 'write', 'exitReady']);
});

t.test('o runs once; p and c set flags even when down; unknown and e are ignored', async (t) => {
  const d = new Drive(false, false);
  d.ev({ type: 'boot' });
  t.same(kinds(d.ctl('o')), ['write', 'readSettings', 'hook:u']);
  d.hook();
  d.up(8);
  t.equal(d.s.want, 'once');
  const fx = d.ev({ type: 'exited', code: 0, signal: null, signum: 0, });
  t.same(kinds(fx), ['cancelTimer', 'cleanGroup', 'write'], 'no restart after once');
  t.same(kinds(d.ctl('p')), ['write']);
  t.equal(d.s.paused, true);
  t.same(kinds(d.ctl('c')), ['write']);
  t.equal(d.s.paused, false);
  t.same(d.ctl('e?Z\n\u0000'), []);
  t.same(kinds(d.ctl('h')), [], 'no signal without a pid');
});

t.test('signal letters run their hook; exit 0 vetoes the signal', async (t) => {
  const d = new Drive();
  d.ev({ type: 'boot' });
  d.hook();
  d.up(50);
  for (const [c, sig] of [['h', 'SIGHUP'], ['a', 'SIGALRM'], ['i', 'SIGINT'], ['q', 'SIGQUIT'], ['1', 'SIGUSR1'], ['2', 'SIGUSR2'], ['k', 'SIGKILL']] as const) {
    t.same(kinds(d.ctl(c)), [`hook:${c}`]);
    t.same(kinds(d.hook(false)), [`signal:${sig}`], `${c} sends ${sig}`);
    d.ctl(c);
    t.same(d.hook(true), [], `${c} vetoed`);
  }
});

t.test('timeout-kill, down-signal, timeout-finish, readiness', async (t) => {
  const settings = { ...HOOKED, hasFinish: true, downSignal: 'SIGUSR1' as const, timeoutKillMs: 700, timeoutFinishMs: 300, notificationFd: 3 };
  const d = new Drive(false, true, settings);
  d.ev({ type: 'boot' });
  d.hook();
  d.up(60, settings);
  t.equal(d.s.ready, false);
  t.same(kinds(d.ev({ type: 'ready' })), ['closeReadiness', 'write']);
  t.equal(d.s.ready, true);
  d.ctl('d');
  t.same(kinds(d.hook(false)), ['signal:SIGUSR1', 'write', 'timer:kill:700', 'signal:SIGCONT', 'hook:d']);
  d.hook();
  t.same(kinds(d.ev({ type: 'timer', name: 'kill' })), ['signal:SIGKILL', 'signalGroup']);
  const fx = d.ev({ type: 'exited', code: null, signal: 'SIGKILL', signum: 9, });
  t.same(kinds(fx), ['cancelTimer', 'closeReadiness', 'cleanGroup', 'timer:groupKill:700', 'write', 'spawn:finish'], 'the left group gets its SIGKILL on a machine timer');
  t.equal(d.s.ready, false);
  t.same(kinds(d.ev({ type: 'spawned', what: 'finish', pid: 61, pgid: 61 })), ['timer:finish:300', 'write']);
  t.same(kinds(d.ev({ type: 'timer', name: 'finish' })), ['warn', 'signal:SIGKILL']);
});

t.test('a failed spawn counts as a quick death and warns like runsv', async (t) => {
  const d = new Drive();
  d.ev({ type: 'boot' });
  d.hook();
  const fx = d.ev({ type: 'spawnFailed', what: 'run', error: 'file does not exist' });
  t.same(fx[0], { type: 'warn', message: 'unable to start ./run: file does not exist' });
  t.same(kinds(fx).slice(1), ['write', 'timer:restart:1000']);
  t.equal(d.s.phase, 'down');
  t.equal(d.s.failures, 1);
});

t.test('policy and signal parsing', async (t) => {
  const { policy, errors } = parseRestartPolicy('delay=200 max-delay=5000 # comment\nfactor=1.5 give-up=5 bogus=1 quick=x\n');
  t.equal(policy.delayMs, 200);
  t.equal(policy.maxDelayMs, 5000);
  t.equal(policy.factor, 1.5);
  t.equal(policy.giveUp, 5);
  t.equal(errors.length, 2);
  t.equal(parseSignal('USR1\n', constants.signals), 'SIGUSR1');
  t.equal(parseSignal('SIGHUP', constants.signals), 'SIGHUP');
  t.equal(parseSignal('15', constants.signals), 'SIGTERM');
  t.equal(parseSignal('NOPE', constants.signals), undefined);
});

t.test('hooks: only those the settings list run; exit 0 of a hook is "handled"', async (t) => {
  const bare = new Drive(false, true, DEFAULT_SETTINGS);
  t.same(kinds(bare.ev({ type: 'boot' })), ['readSettings', 'spawn:run'], 'no control/u: straight to the spawn, no round trip');
  bare.up(5);
  t.same(kinds(bare.ctl('d')), ['write', 'signal:SIGTERM', 'write', 'signal:SIGCONT'], 'no control/t, control/d');
  const one = new Drive(false, true, { ...DEFAULT_SETTINGS, hooks: ['h'] });
  one.ev({ type: 'boot' });
  one.up(6);
  t.same(kinds(one.ctl('h')), ['hook:h']);
  t.same(kinds(one.ev({ type: 'hookDone', code: 0 })), [], 'exit 0: handled, no signal');
  one.ctl('h');
  t.same(kinds(one.ev({ type: 'hookDone', code: null })), ['signal:SIGHUP'], 'killed or not runnable: not handled');
});

t.test('a left process group: SIGKILL on the machine timer; x waits for it before exitReady', async (t) => {
  const cfg = { ...DEFAULT_SETTINGS, timeoutKillMs: 500 };
  const d = new Drive(false, true, cfg);
  d.ev({ type: 'boot' });
  d.up(40);
  d.ctl('x');
  d.t += 2000;
  const fx = d.ev({ type: 'exited', code: null, signal: 'SIGTERM', signum: 15 });
  t.same(kinds(fx), ['cancelTimer', 'cleanGroup', 'timer:groupKill:500', 'write'], 'no exitReady while the group may have members');
  t.same(d.s.groups, [{ pgid: 40, killAtMono: 3500 }]);
  d.t += 500;
  t.same(kinds(d.ev({ type: 'timer', name: 'groupKill' })), ['signalGroup', 'exitReady'], 'SIGKILL to the group, then the exit goes on');
  t.same(d.fx[0], { type: 'signalGroup', pgid: 40, signal: 'SIGKILL' });

  const e = new Drive(false, true, cfg);
  e.ev({ type: 'boot' });
  e.up(41);
  e.ctl('x');
  e.t += 2000;
  e.ev({ type: 'exited', code: 0, signal: null, signum: 0 });
  t.same(kinds(e.ev({ type: 'groupGone', pgid: 41 })), ['cancelTimer', 'exitReady'], 'an empty group (the shell asked the kernel): exit at once');
  t.same(e.ev({ type: 'groupGone', pgid: 41 }), [], 'once');

  const two = new Drive(false, true, cfg);
  two.ev({ type: 'boot' });
  two.up(50);
  two.ctl('t');
  two.t += 2000;
  two.ev({ type: 'exited', code: 0, signal: null, signum: 0 });
  two.t += 200;
  two.up(51);
  two.ctl('t');
  two.t += 100;
  t.same(kinds(two.ev({ type: 'exited', code: 0, signal: null, signum: 0 })).filter((k) => k.startsWith('timer:groupKill')), [], 'one timer for two groups');
  two.t = 3500;
  two.ev({ type: 'timer', name: 'groupKill' });
  t.same(kinds(two.fx), ['signalGroup', 'timer:groupKill:300'], 'each group gets its own full timeout');
});

t.test('every cell of the cgroupEmpty column with leftovers waiting in the cgroup', async (t) => {
  // The same states as the table walk, in cgroup mode with a stopped run's leftovers waited for.
  const SPEC_LEFT: Record<State, [State, string]> = {
    down: ['down', 'cancelTimer removeCgroup'],
    backoff: ['backoff', 'cancelTimer'],
    starting: ['starting', 'cancelTimer'],
    hook: ['hook', 'cancelTimer'],
    spawning: ['spawning', 'cancelTimer'],
    run: ['run', 'cancelTimer'],
    finish: ['finish', 'cancelTimer'],
    changeWait: ['changeWait', 'cancelTimer'],
  };
  for (const state of STATES) {
    const before: MachineState = { ...inState(state), cgroup: true, cgroupLeft: true };
    const r = step(before, { type: 'cgroupEmpty' }, { wall: 1_700_000_000_000, mono: 1000 });
    t.same([stateOf(r.state), kinds(r.effects).join(' ')], SPEC_LEFT[state], `${state} x cgroupEmpty (leftovers)`);
    t.equal(r.state.cgroupLeft, false, `${state}: nothing waited for any more`);
  }
});

t.test('cgroup mode: a stop ends the whole cgroup (down-signal, timeout-kill, cgroup.kill), then removes it', async (t) => {
  const cfg = { ...DEFAULT_SETTINGS, timeoutKillMs: 500 };
  const d = new Drive(false, true, cfg);
  d.ev({ type: 'boot' });
  d.ev({ type: 'spawned', what: 'run', pid: 60, pgid: 60, cgroup: true });
  t.equal(d.s.cgroup, true, 'run is in its cgroup');
  t.same(kinds(d.ctl('d')), ['write', 'signal:SIGTERM', 'write', 'timer:kill:500', 'signal:SIGCONT']);
  t.same(kinds(d.ev({ type: 'timer', name: 'kill' })), ['signal:SIGKILL', 'killCgroup'], 'timeout-kill: SIGKILL to run and cgroup.kill, not the group');
  d.t += 2000;
  const fx = d.ev({ type: 'exited', code: null, signal: 'SIGKILL', signum: 9 });
  t.same(kinds(fx), ['cancelTimer', 'cleanCgroup', 'timer:cgroupKill:500', 'write'], 'leftovers: down-signal to the cgroup, cgroup.kill later; no cleanGroup');
  t.same(fx[1], { type: 'cleanCgroup', signal: 'SIGTERM' });
  t.same(kinds(d.ev({ type: 'timer', name: 'cgroupKill' })), ['killCgroup'], 'cgroup.kill when the leftovers outlive timeout-kill');
  t.same(kinds(d.ev({ type: 'cgroupEmpty' })), ['cancelTimer', 'removeCgroup'], 'empty and not wanted up: rmdir');
  t.equal(d.s.cgroup, false);
  t.same(kinds(d.ev({ type: 'cgroupEmpty' })), [], 'once');
});

t.test('cgroup mode: no restart into a cgroup whose leftovers are being stopped; x waits for it', async (t) => {
  const cfg = { ...DEFAULT_SETTINGS, timeoutKillMs: 500 };
  const d = new Drive(false, true, cfg);
  d.ev({ type: 'boot' });
  d.ev({ type: 'spawned', what: 'run', pid: 70, pgid: 70, cgroup: true });
  d.ctl('t');
  d.t += 2000;
  const fx = d.ev({ type: 'exited', code: 0, signal: null, signum: 0 });
  t.notOk(fx.some((f) => f.type === 'readSettings' || f.type === 'spawn'), 'the restart waits');
  t.equal(d.s.startWhenEmpty, true);
  t.same(kinds(d.ev({ type: 'cgroupEmpty' })), ['cancelTimer', 'readSettings', 'spawn:run'], 'empty: the new run starts');
  d.ev({ type: 'spawned', what: 'run', pid: 71, pgid: 71, cgroup: true });
  d.ctl('x');
  d.t += 2000;
  t.notOk(kinds(d.ev({ type: 'exited', code: 0, signal: null, signum: 0 })).includes('exitReady'), 'x: no exitReady while the cgroup has members');
  t.same(kinds(d.ev({ type: 'cgroupEmpty' })), ['cancelTimer', 'removeCgroup', 'exitReady'], 'removed, then the exit goes on');

  const c = new Drive(false, true, cfg);
  c.ev({ type: 'boot' });
  c.ev({ type: 'spawned', what: 'run', pid: 80, pgid: 80, cgroup: true });
  c.t += 2000;
  t.same(kinds(c.ev({ type: 'exited', code: 1, signal: null, signum: 0 })), ['cancelTimer', 'write', 'readSettings', 'spawn:run'], 'a crash: runit restarts at once, leftovers stay (no stop was asked)');
  t.same(kinds(c.ev({ type: 'cgroupEmpty' })), [], 'an empty cgroup while wanted up: kept');

  const n = new Drive(false, true, DEFAULT_SETTINGS);
  n.ev({ type: 'boot' });
  n.ev({ type: 'spawned', what: 'run', pid: 90, pgid: 90, cgroup: true });
  n.ctl('d');
  n.t += 2000;
  t.same(kinds(n.ev({ type: 'exited', code: 0, signal: null, signum: 0 })), ['cancelTimer', 'cleanCgroup', 'timer:cgroupKill:2000', 'write'], 'no timeout-kill: leftovers get the 2 s grace, then cgroup.kill');
});

t.test('the in-process logger: signals become calls of its methods', async (t) => {
  const log = new Drive(true, true, { ...DEFAULT_SETTINGS, inProcess: true, timeoutKillMs: 100 });
  log.ev({ type: 'boot' });
  log.ev({ type: 'spawned', what: 'run', pid: 1234, pgid: 0 });
  t.same(kinds(log.ctl('h')), ['logger:reopen'], 'h: reopen');
  t.same(kinds(log.ctl('a')), ['logger:rotate'], 'a: rotate');
  t.same(kinds(log.ctl('1')), [], 'USR1 means nothing to it');
  t.same(kinds(log.ctl('d')), ['write', 'logger:stop', 'write', 'timer:kill:100'], 'd: stop (no CONT, no signal to ourselves)');
  t.same(kinds(log.ev({ type: 'timer', name: 'kill' })), ['logger:stop'], 'kill timer: stop again, never SIGKILL');
  t.notOk(log.fx.some((f) => f.type === 'signal'), 'no signal effect at all');
});

t.test("every cell of the supervisor's table: set-up, running, x's exit sequence", async (t) => {
  const ev = (type: LifeEventType, hasLog = true): LifeEvent => (type === 'mainDown' ? { type, hasLog } : ({ type } as LifeEvent));
  const SPEC_LIFE: Record<LifeState, Record<LifeEventType, 'ignore' | [LifeState, string]>> = {
    new: { start: ['setup', 'setUp'], setupDone: 'ignore', setupFailed: 'ignore', shutdown: ['newThenExit', ''], mainDown: 'ignore', logDown: 'ignore' },
    newThenExit: { start: ['setupThenExit', 'setUp'], setupDone: 'ignore', setupFailed: 'ignore', shutdown: 'ignore', mainDown: 'ignore', logDown: 'ignore' },
    setup: { start: 'ignore', setupDone: ['running', 'boot'], setupFailed: ['done', 'release'], shutdown: ['setupThenExit', ''], mainDown: 'ignore', logDown: 'ignore' },
    setupThenExit: { start: 'ignore', setupDone: ['running', 'bootAndExit'], setupFailed: ['done', 'release'], shutdown: 'ignore', mainDown: 'ignore', logDown: 'ignore' },
    running: { start: 'ignore', setupDone: 'ignore', setupFailed: 'ignore', shutdown: ['running', 'sendX'], mainDown: ['draining', 'ignoreControl drainLog'], logDown: 'ignore' },
    draining: { start: 'ignore', setupDone: 'ignore', setupFailed: 'ignore', shutdown: 'ignore', mainDown: 'ignore', logDown: ['done', 'release'] },
    done: { start: 'ignore', setupDone: 'ignore', setupFailed: 'ignore', shutdown: 'ignore', mainDown: 'ignore', logDown: 'ignore' },
  };
  t.same(Object.keys(LIFE_TABLE).sort(), [...LIFE_STATES].sort());
  for (const state of LIFE_STATES) {
    t.same(Object.keys(LIFE_TABLE[state]).sort(), [...LIFE_EVENT_TYPES].sort(), `${state}: a cell for every event`);
    for (const type of LIFE_EVENT_TYPES) {
      const spec = SPEC_LIFE[state][type];
      const r = lifeStep(state, ev(type));
      if (spec === 'ignore') {
        t.equal((LIFE_TABLE[state] as Record<string, unknown>)[type], IGNORE, `${state} x ${type}: ignored`);
        t.same(r, { state, effects: [] }, `${state} x ${type}: no effect, no change`);
      } else t.same([r.state, r.effects.join(' ')], spec, `${state} x ${type}`);
    }
  }
  t.same(lifeStep('running', ev('mainDown', false)), { state: 'done', effects: ['ignoreControl', 'release'] }, 'no logger: exit once the service is down');
});

t.test('every cell of the takeover table: service and logger orphans', async (t) => {
  const fxKinds = (fx: { type: string; signal?: string; ms?: number }[]): string => fx.map((f) => (f.type === 'signal' ? f.signal : f.type === 'deadline' ? `deadline:${f.ms}` : f.type)).join(' ');
  const orphan = (state: OrphanState, isLog: boolean) => ({ state, pid: 9, label: isLog ? 'log/./run' : './run', isLog, killMs: 70, drainMs: 50, logKillMs: 71, giveUpMs: 30 });
  const SPEC_O: Record<OrphanState, Record<OrphanEventType, 'ignore' | [OrphanState, string]>> = {
    found: { begin: ['terminating', 'warn SIGTERM SIGCONT deadline:70'], gone: ['gone', 'done'], deadline: 'ignore' },
    terminating: { begin: 'ignore', gone: ['gone', 'done'], deadline: ['killing', 'warn SIGKILL SIGCONT deadline:30'] },
    draining: { begin: 'ignore', gone: ['gone', 'done'], deadline: ['drainTerminating', 'warn SIGTERM SIGCONT deadline:71'] },
    drainTerminating: { begin: 'ignore', gone: ['gone', 'done'], deadline: ['killing', 'warn SIGKILL SIGCONT deadline:30'] },
    killing: { begin: 'ignore', gone: ['gone', 'done'], deadline: ['stuck', 'fail'] },
    gone: { begin: 'ignore', gone: 'ignore', deadline: 'ignore' },
    stuck: { begin: 'ignore', gone: 'ignore', deadline: 'ignore' },
  };
  t.same(Object.keys(ORPHAN_TABLE).sort(), [...ORPHAN_STATES].sort());
  for (const state of ORPHAN_STATES) {
    for (const ev of ORPHAN_EVENT_TYPES) {
      const spec = SPEC_O[state][ev];
      const o = orphan(state, false);
      const r = orphanStep(o, ev);
      if (spec === 'ignore') {
        t.equal((ORPHAN_TABLE[state] as Record<string, unknown>)[ev], IGNORE, `${state} x ${ev}: ignored`);
        t.same(r, { orphan: o, effects: [] }, `${state} x ${ev}: no effect, no change`);
      } else t.same([r.orphan.state, fxKinds(r.effects)], spec, `${state} x ${ev}`);
    }
  }
  const lg = orphanStep(orphan('found', true), 'begin');
  t.same([lg.orphan.state, fxKinds(lg.effects)], ['draining', 'deadline:50'], 'an old logger is first left to drain its input');
});

t.test('watch mode: a change restarts run once its group is gone; an exit by itself waits for a change', async (t) => {
  const W: Settings = { ...DEFAULT_SETTINGS, watch: true };
  const d = new Drive(false, true, W);
  d.ev({ type: 'boot' });
  d.up(60, W);
  t.same(kinds(d.ev({ type: 'change' })), ['signal:SIGTERM', 'write'], 'run x change: the down-signal, as t');
  t.same(kinds(d.ev({ type: 'change' })), [], 'a second burst while it stops: nothing more');
  d.t += 100;
  t.same(kinds(d.ev({ type: 'exited', code: null, signal: 'SIGTERM', signum: 15 })), ['cancelTimer', 'cleanGroup', 'awaitGroupGone', 'write'], 'exited: wait for the group, no start yet');
  t.equal(stateOf(d.s), 'down');
  t.same(d.ev({ type: 'change' }), [], 'down x change (a restart is pending): ignored');
  t.same(kinds(d.ev({ type: 'groupGone', pgid: 60 })), ['readSettings', 'spawn:run'], 'the group is gone: start at once (no 1-second rule)');
  t.same(kinds(d.ev({ type: 'groupGone', pgid: 60 })), [], 'only once');
  d.up(61, W);
  t.equal(d.s.restartAt, null, 'no restart delay was set');

  d.t += 5000;
  t.same(kinds(d.ev({ type: 'exited', code: 1, signal: null, signum: 0 })), ['cancelTimer', 'write'], 'run exits by itself: no restart, no timer');
  t.equal(stateOf(d.s), 'changeWait');
  t.same(kinds(d.ev({ type: 'timer', name: 'restart' })), [], 'no timer starts it');
  t.same(kinds(d.ctl('1')), [], 'a signal letter does not end the wait');
  t.equal(stateOf(d.s), 'changeWait');
  t.same(kinds(d.ev({ type: 'change' })), ['write', 'readSettings', 'spawn:run'], 'changeWait x change: start');
  d.up(62, W);
  d.t += 100;
  d.ev({ type: 'exited', code: 2, signal: null, signum: 0 });
  t.equal(stateOf(d.s), 'changeWait', 'a quick death waits too (no backoff loop)');
  t.same(kinds(d.ctl('u')), ['write', 'readSettings', 'spawn:run'], 'u ends the wait: start');
  d.up(63, W);
  d.ev({ type: 'exited', code: 2, signal: null, signum: 0 });
  t.same(kinds(d.ctl('d')), ['write'], 'd ends the wait: down');
  t.equal(stateOf(d.s), 'down');
  t.equal(d.s.want, 'down');

  const x = new Drive(false, true, W);
  x.ev({ type: 'boot' });
  x.up(70, W);
  x.ev({ type: 'exited', code: 0, signal: null, signum: 0 });
  t.same(kinds(x.ctl('x')), ['write', 'exitReady'], 'x ends the wait: exit');

  const f = new Drive(false, true, W);
  f.ev({ type: 'boot' });
  f.ev({ type: 'spawnFailed', what: 'run', error: 'permission denied' });
  t.equal(stateOf(f.s), 'changeWait', 'a run that cannot be started waits for a change (its fix)');

  const plain = new Drive(false, true, DEFAULT_SETTINGS);
  plain.ev({ type: 'boot' });
  plain.up(80, DEFAULT_SETTINGS);
  t.same(plain.ev({ type: 'change' }), [], 'run x change without a watch file (removed since the start): nothing');

  const dn = new Drive(false, true, W);
  dn.ev({ type: 'boot' });
  dn.up(90, W);
  dn.ev({ type: 'change' });
  dn.ctl('d');
  dn.ev({ type: 'exited', code: null, signal: 'SIGTERM', signum: 15 });
  t.same(kinds(dn.ev({ type: 'groupGone', pgid: 90 })), [], 'd during a watch restart: the group gone starts nothing');
  t.equal(stateOf(dn.s), 'down');

  const fin = new Drive(false, true, { ...W, hasFinish: true });
  fin.ev({ type: 'boot' });
  fin.up(95, { ...W, hasFinish: true });
  fin.ev({ type: 'change' });
  t.same(kinds(fin.ev({ type: 'exited', code: null, signal: 'SIGTERM', signum: 15 })), ['cancelTimer', 'cleanGroup', 'awaitGroupGone', 'write', 'spawn:finish'], 'with finish: finish runs first');
  t.same(kinds(fin.ev({ type: 'groupGone', pgid: 95 })), [], 'the group gone during finish: no start yet');
  fin.ev({ type: 'spawned', what: 'finish', pid: 96, pgid: 96 });
  t.same(kinds(fin.ev({ type: 'exited', code: 0, signal: null, signum: 0 })), ['cancelTimer', 'write', 'readSettings', 'spawn:run'], 'finish done: start');

  const lg = new Drive(true, true, { ...DEFAULT_SETTINGS, watch: true });
  lg.ev({ type: 'boot' });
  lg.ev({ type: 'spawned', what: 'run', pid: 97, pgid: 97 });
  t.same(lg.ev({ type: 'change' }), [], 'never the logger');
});

t.test('explicit u/o in backoff start now (after the one-second rule); other letters as before', async (t) => {
  const policy = { ...DEFAULT_RESTART, delayMs: 1000, factor: 2, maxDelayMs: 30_000 };
  const settings = { ...HOOKED, restart: policy };
  /** A machine in backoff after n quick deaths, the last at d.t. */
  const crashed = (n: number): Drive => {
    const d = new Drive(false, true, settings);
    d.ev({ type: 'boot' });
    for (let i = 0; i < n; i++) {
      d.hook();
      d.up(100 + i, settings);
      d.t += 10;
      d.ev({ type: 'exited', code: 111, signal: null, signum: 0 });
      if (i < n - 1) {
        d.t += d.s.restartAt?.delayMs ?? 0;
        d.ev({ type: 'timer', name: 'restart' });
      }
    }
    return d;
  };
  const d = crashed(5);
  t.equal(stateOf(d.s), 'backoff');
  t.equal(d.s.restartAt?.delayMs, 16_000, 'five quick deaths: 16 s of backoff');
  d.t += 1500;
  t.same(kinds(d.ctl('u')), ['cancelTimer', 'write', 'readSettings', 'hook:u'], 'u 1.5 s after the death: the timer goes, run starts now');
  t.equal(d.s.restartAt, null);
  t.equal(d.s.failures, 0, 'the quick deaths are forgotten');
  d.hook();
  d.up(200, settings);
  d.t += 10;
  const fx = d.ev({ type: 'exited', code: 1, signal: null, signum: 0 });
  t.same(kinds(fx), ['cancelTimer', 'write', 'timer:restart:1000'], 'a new crash starts the backoff from one second');

  const early = crashed(5);
  early.t += 300;
  t.same(kinds(early.ctl('u')), ['cancelTimer', 'write', 'timer:restart:700'], 'u 0.3 s after the death: start 1 s after it');
  t.equal(early.s.restartAt?.delayMs, 700);
  early.t += 700;
  t.same(kinds(early.ev({ type: 'timer', name: 'restart' })), ['write', 'readSettings', 'hook:u']);

  const once = crashed(3);
  once.t += 2000;
  t.same(kinds(once.ctl('o')), ['cancelTimer', 'write', 'readSettings', 'hook:u'], 'o in backoff: start now, once');
  t.equal(once.s.want, 'once');

  for (const c of 'dx') {
    const other = crashed(3);
    other.t += 2000;
    const k = kinds(other.ctl(c));
    t.ok(k.includes('cancelTimer'), `${c} in backoff still cancels the restart`);
    t.equal(stateOf(other.s), 'down', `${c} in backoff: down`);
  }
  const paused = crashed(3);
  paused.t += 2000;
  t.same(kinds(paused.ctl('p')), ['write'], 'p in backoff: the flag only, the backoff stays');
  t.equal(stateOf(paused.s), 'backoff');
});

t.test('a requested stop (restart: tcu) of a crash-looping run waits only the one-second rule', async (t) => {
  const settings = { ...HOOKED, restart: { ...DEFAULT_RESTART } };
  const d = new Drive(false, true, settings);
  d.ev({ type: 'boot' });
  for (let i = 0; i < 4; i++) {
    d.hook();
    d.up(100 + i, settings);
    d.t += 10;
    d.ev({ type: 'exited', code: 1, signal: null, signum: 0 });
    d.t += d.s.restartAt?.delayMs ?? 0;
    d.ev({ type: 'timer', name: 'restart' });
  }
  t.equal(d.s.failures, 4);
  d.hook();
  d.up(300, settings);
  d.t += 200;
  d.ctl('tcu');
  d.hook(false);
  d.t += 10;
  const fx = d.ev({ type: 'exited', code: null, signal: 'SIGTERM', signum: 15 });
  t.same(kinds(fx), ['cancelTimer', 'cleanGroup', 'write', 'timer:restart:1000'], 'ran 0.2 s: one second, not the 16 s the failures would give');
  t.equal(d.s.failures, 0, 'a requested stop is no failure and clears the count');
  const long = new Drive(false, true, settings);
  long.ev({ type: 'boot' });
  long.hook();
  long.up(400, settings);
  long.t += 5000;
  long.ctl('t');
  long.hook(false);
  t.same(kinds(long.ev({ type: 'exited', code: null, signal: 'SIGTERM', signum: 15 })), ['cancelTimer', 'cleanGroup', 'write', 'readSettings', 'hook:u'], 'ran 5 s: restart at once');
});
