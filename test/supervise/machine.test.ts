// Unit tests of the pure supervisor state machine (no I/O): runsv's semantics and tsv's extras.
import t from 'tap';
import { step, initialState, parseRestartPolicy, parseSignal, backoffDelay, DEFAULT_SETTINGS, DEFAULT_RESTART, type Effect, type MachineEvent, type MachineState, type Settings } from '@tsv/supervise';
import { constants } from 'node:os';

/** A little driver: feeds events at a controllable monotonic time and records effects. */
class Drive {
  s: MachineState;
  t = 1000;
  fx: Effect[] = [];
  constructor(isLog = false, wantUp = true) {
    this.s = initialState(isLog, wantUp, { wall: 1_700_000_000_000, mono: this.t });
  }
  /** Apply one event; returns its effects. */
  ev(e: MachineEvent): Effect[] {
    const r = step(this.s, e, { wall: 1_700_000_000_000 + this.t, mono: this.t });
    this.s = r.state;
    this.fx = r.effects;
    return r.effects;
  }
  /** Control letters, one event each; returns all effects. */
  ctl(letters: string): Effect[] {
    const all: Effect[] = [];
    for (const c of letters) all.push(...this.ev({ type: 'control', letter: c }));
    return all;
  }
  /** Answer a pending hook: not present / not handled. */
  hook(handled = false): Effect[] {
    return this.ev({ type: 'hookDone', handled });
  }
  /** Bring run up with pid. */
  up(pid: number, settings: Settings = DEFAULT_SETTINGS): void {
    this.ev({ type: 'spawned', what: 'run', pid, pgid: pid, settings });
  }
}

const kinds = (fx: Effect[]): string[] => fx.map((f) => (f.type === 'hook' ? `hook:${f.letter}` : f.type === 'signal' ? `signal:${f.signal}` : f.type === 'spawn' ? `spawn:${f.what}` : f.type === 'setTimer' ? `timer:${f.name}:${f.ms}` : f.type));

t.test('boot runs control/u then spawns run; down file means no start', async (t) => {
  const d = new Drive();
  t.same(kinds(d.ev({ type: 'boot' })), ['hook:u']);
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
  const fx = d.ev({ type: 'spawned', what: 'run', pid: 7, pgid: 7, settings: DEFAULT_SETTINGS });
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
  const d = new Drive();
  d.ev({ type: 'boot' });
  d.hook();
  d.up(20);
  d.t += 300;
  let fx = d.ev({ type: 'exited', code: 3, signal: null, signum: 0, hasFinish: true });
  const sp = fx.find((f) => f.type === 'spawn');
  t.same(sp, { type: 'spawn', what: 'finish', args: ['3', '0'] });
  t.equal(d.s.phase, 'finish');
  d.ev({ type: 'spawned', what: 'finish', pid: 21, pgid: 21 });
  t.equal(d.s.pid, 21);
  fx = d.ev({ type: 'exited', code: 0, signal: null, signum: 0, hasFinish: true });
  t.same(kinds(fx), ['cancelTimer', 'write', 'timer:restart:1000'], 'ran < 1 s: wait a second');
  t.equal(d.s.phase, 'down');
  t.same(d.s.lastExit, { code: 3, signal: null, at: 1_700_000_000_000 + d.t });
  d.t += 1000;
  t.same(kinds(d.ev({ type: 'timer', name: 'restart' })), ['write', 'hook:u']);

  const k = new Drive();
  k.ev({ type: 'boot' });
  k.hook();
  k.up(30);
  k.t += 5000;
  fx = k.ev({ type: 'exited', code: null, signal: 'SIGKILL', signum: 9, hasFinish: true });
  t.same(fx.find((f) => f.type === 'spawn'), { type: 'spawn', what: 'finish', args: ['-1', '9'] });
  k.ev({ type: 'spawned', what: 'finish', pid: 31, pgid: 31 });
  fx = k.ev({ type: 'exited', code: 0, signal: null, signum: 0, hasFinish: true });
  t.same(kinds(fx), ['cancelTimer', 'write', 'hook:u'], 'ran >= 1 s: restart at once');
});

t.test('backoff grows while deaths stay quick, resets after a long run, give-up and u', async (t) => {
  const policy = { ...DEFAULT_RESTART, delayMs: 100, factor: 2, maxDelayMs: 350, quickMs: 1000, giveUp: 4, giveUpWindowMs: 60_000 };
  const settings = { ...DEFAULT_SETTINGS, restart: policy };
  const d = new Drive();
  const delays: number[] = [];
  d.ev({ type: 'boot' });
  for (let i = 0; i < 3; i++) {
    d.hook();
    d.up(100 + i, settings);
    d.t += 10;
    const fx = d.ev({ type: 'exited', code: 1, signal: null, signum: 0, hasFinish: false });
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
  const fx = d.ev({ type: 'exited', code: 1, signal: null, signum: 0, hasFinish: false });
  t.equal(d.s.givenUp, true, 'the fourth quick death gives up');
  t.notOk(fx.some((f) => f.type === 'setTimer' || f.type === 'hook'), 'no restart');
  t.equal(d.s.want, 'up', 'want stays up');
  t.same(kinds(d.ctl('u')), ['write', 'hook:u'], 'u clears it and starts');
  t.equal(d.s.givenUp, false);
  t.equal(d.s.failures, 0);
  d.hook();
  d.up(300, settings);
  d.t += 5000;
  const long = d.ev({ type: 'exited', code: 1, signal: null, signum: 0, hasFinish: false });
  t.same(kinds(long), ['cancelTimer', 'write', 'hook:u'], 'a long run restarts at once');
  t.same(backoffDelay(DEFAULT_RESTART, 1), 1000, "default: runit's one second first");
});

t.test('d during a restart delay cancels it; x exits when down', async (t) => {
  const d = new Drive();
  d.ev({ type: 'boot' });
  d.hook();
  d.up(5);
  d.ev({ type: 'exited', code: 1, signal: null, signum: 0, hasFinish: false });
  t.ok(d.s.restartAt);
  t.same(kinds(d.ctl('u')), ['write'], 'u does not bypass the delay');
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
  const fx = d.ev({ type: 'exited', code: null, signal: 'SIGTERM', signum: 15, hasFinish: false });
  t.ok(fx.some((f) => f.type === 'exitReady'));
  t.ok(fx.some((f) => f.type === 'cleanGroup'), 'leftovers of the group are stopped');
  const log = new Drive(true);
  log.ev({ type: 'boot' });
  t.equal(log.s.spawning, 'run', 'no hooks for the logger');
  log.up(9);
  t.same(log.ctl('x'), [], 'x is ignored on the log FIFO');
  t.same(kinds(log.ev({ type: 'exitLog' })), ['write']);
  t.same(kinds(log.ev({ type: 'exited', code: 0, signal: null, signum: 0, hasFinish: false })), ['cancelTimer', 'cleanGroup', 'write', 'exitReady']);
});

t.test('o runs once; p and c set flags even when down; unknown and e are ignored', async (t) => {
  const d = new Drive(false, false);
  d.ev({ type: 'boot' });
  t.same(kinds(d.ctl('o')), ['write', 'hook:u']);
  d.hook();
  d.up(8);
  t.equal(d.s.want, 'once');
  const fx = d.ev({ type: 'exited', code: 0, signal: null, signum: 0, hasFinish: false });
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
  const settings = { ...DEFAULT_SETTINGS, downSignal: 'SIGUSR1' as const, timeoutKillMs: 700, timeoutFinishMs: 300, notificationFd: 3 };
  const d = new Drive();
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
  const fx = d.ev({ type: 'exited', code: null, signal: 'SIGKILL', signum: 9, hasFinish: true });
  t.same(kinds(fx), ['cancelTimer', 'closeReadiness', 'cleanGroup', 'write', 'spawn:finish']);
  t.equal(d.s.ready, false);
  t.same(kinds(d.ev({ type: 'spawned', what: 'finish', pid: 61, pgid: 61 })), ['timer:finish:300', 'write']);
  t.same(kinds(d.ev({ type: 'timer', name: 'finish' })), ['warn', 'signal:SIGKILL']);
});

t.test('a failed spawn counts as a quick death and warns like runsv', async (t) => {
  const d = new Drive();
  d.ev({ type: 'boot' });
  d.hook();
  const fx = d.ev({ type: 'spawnFailed', what: 'run', error: 'file does not exist', settings: DEFAULT_SETTINGS });
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
