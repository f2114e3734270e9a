// The supervisor of one process (a service's run/finish, or its logger) as a pure state
// machine: step(state, event, now) -> { state, effects }. No I/O here: the shell
// (slot.ts) turns OS events into events and effects into syscalls. Semantics are runsv's
// (spec runit.md 2.2-2.6) plus tsv's extras (down-signal, timeouts, readiness, backoff).
import { LETTER_SIGNAL } from '@tsv/core';
import { backoffDelay, DEFAULT_SETTINGS, type Settings } from './policy.js';

/** runit's states (status byte 19). */
export type Phase = 'down' | 'run' | 'finish';
/** What is wanted; `once` is stored as `d` in runit's status. */
export type Want = 'up' | 'down' | 'once' | 'exit';
/** The machine's timers (at most one of each). */
export type TimerName = 'restart' | 'kill' | 'finish';

/** A moment, wall clock (for runit's TAI64N and tsv.json) and monotonic (for durations). */
export interface Now {
  wall: number;
  mono: number;
}

/** What to do when a running control/<c> hook (or a spawn) completes. */
export type Pending =
  | { kind: 'start' }
  | { kind: 'stop' }
  | { kind: 'after' }
  | { kind: 'signal'; letter: string; signal: NodeJS.Signals };

/** The whole state of one supervised process. */
export interface MachineState {
  /** the logger slot: no finish, no hooks, `x` ignored */
  isLog: boolean;
  phase: Phase;
  want: Want;
  /** pid of run or finish, 0 when none */
  pid: number;
  /** process group of the current child (it leads its own), 0 when none */
  pgid: number;
  paused: boolean;
  gotTerm: boolean;
  /** runit's start_time: set at start-up, at each start of run, and when going down */
  since: Now;
  /** readiness: null without notification-fd */
  ready: boolean | null;
  readyMono: number | null;
  lastExit: { code: number | null; signal: string | null; at: number } | null;
  /** how many times run was started */
  starts: number;
  /** consecutive quick deaths (backoff) */
  failures: number;
  /** monotonic ms of recent quick deaths (give-up window) */
  quickDeaths: number[];
  givenUp: boolean;
  /** the pending automatic start, when a restart delay runs */
  restartAt: { wall: number; mono: number; delayMs: number } | null;
  /** settings read at the last start of run */
  settings: Settings;
  /** a hook is running: what to do when it ends */
  pending: Pending | null;
  /** a spawn was requested and its result has not arrived yet */
  spawning: 'run' | 'finish' | null;
  /** control letters received while a hook or spawn was in progress, in order */
  queue: string[];
  /** we sent the stop signal to the current run (its leftovers get cleaned up) */
  stopSent: boolean;
}

/** Inputs of the machine. */
export type MachineEvent =
  | { type: 'boot' }
  | { type: 'control'; letter: string }
  | { type: 'spawned'; what: 'run' | 'finish'; pid: number; pgid: number; settings?: Settings }
  | { type: 'spawnFailed'; what: 'run' | 'finish'; error: string; settings?: Settings; label?: string }
  | { type: 'exited'; code: number | null; signal: string | null; signum: number; hasFinish: boolean }
  | { type: 'timer'; name: TimerName }
  | { type: 'ready' }
  | { type: 'hookDone'; handled: boolean }
  | { type: 'exitLog' };

/** Outputs of the machine, carried out in order by the shell. */
export type Effect =
  | { type: 'spawn'; what: 'run' | 'finish'; args: string[] }
  | { type: 'signal'; pid: number; signal: NodeJS.Signals }
  | { type: 'signalGroup'; pgid: number; signal: NodeJS.Signals }
  | { type: 'cleanGroup'; pgid: number; signal: NodeJS.Signals; killAfterMs: number }
  | { type: 'write' }
  | { type: 'setTimer'; name: TimerName; ms: number }
  | { type: 'cancelTimer'; name: TimerName }
  | { type: 'hook'; letter: string }
  | { type: 'warn'; message: string }
  | { type: 'closeReadiness' }
  | { type: 'exitReady' };

/** The result of one step. */
export interface StepResult {
  state: MachineState;
  effects: Effect[];
}

/** The state of a process before anything ran: want from the `down` file. */
export function initialState(isLog: boolean, wantUp: boolean, now: Now): MachineState {
  return {
    isLog,
    phase: 'down',
    want: wantUp ? 'up' : 'down',
    pid: 0,
    pgid: 0,
    paused: false,
    gotTerm: false,
    since: now,
    ready: null,
    readyMono: null,
    lastExit: null,
    starts: 0,
    failures: 0,
    quickDeaths: [],
    givenUp: false,
    restartAt: null,
    settings: DEFAULT_SETTINGS,
    pending: null,
    spawning: null,
    queue: [],
    stopSent: false,
  };
}

/** One transition: a copy of state with the event applied, and the effects to carry out. */
export function step(state: MachineState, event: MachineEvent, now: Now): StepResult {
  const m = new Step(state, now);
  m.apply(event);
  return { state: m.s, effects: m.fx };
}

/** Mutable working copy for one step (never visible outside step()). */
class Step {
  readonly s: MachineState;
  readonly fx: Effect[] = [];
  constructor(
    state: MachineState,
    private readonly now: Now,
  ) {
    this.s = { ...state, queue: [...state.queue], quickDeaths: [...state.quickDeaths] };
  }

  /** Dispatch one event. */
  apply(ev: MachineEvent): void {
    switch (ev.type) {
      case 'boot':
        if (this.s.want === 'up') this.startRun();
        break;
      case 'control':
        if (this.busy()) this.s.queue.push(ev.letter);
        else this.control(ev.letter);
        break;
      case 'hookDone': {
        const p = this.s.pending;
        this.s.pending = null;
        if (p !== null) this.resume(p, ev.handled);
        break;
      }
      case 'spawned':
        this.spawned(ev);
        break;
      case 'spawnFailed':
        this.spawnFailed(ev);
        break;
      case 'exited':
        this.exited(ev);
        break;
      case 'timer':
        this.timer(ev.name);
        break;
      case 'ready':
        if (this.s.phase === 'run' && this.s.ready === false) {
          this.s.ready = true;
          this.s.readyMono = this.now.mono;
          this.fx.push({ type: 'closeReadiness' }, { type: 'write' });
        }
        break;
      case 'exitLog':
        this.s.want = 'exit';
        this.cancelRestart();
        this.fx.push({ type: 'write' });
        if (this.s.pid === 0 && this.s.spawning === null) this.fx.push({ type: 'exitReady' });
        break;
    }
    this.drain();
  }

  /** A hook or a spawn is in progress: control letters wait (runsv runs hooks synchronously). */
  private busy(): boolean {
    return this.s.pending !== null || this.s.spawning !== null;
  }

  /** Process queued control letters while nothing is in progress. */
  private drain(): void {
    while (this.s.queue.length > 0 && !this.busy()) this.control(this.s.queue.shift() as string);
  }

  /** One control byte (runit.md 2.5). Unknown bytes, `e` included, are ignored as by runsv. */
  private control(c: string): void {
    const s = this.s;
    switch (c) {
      case 'u':
        s.want = 'up';
        if (s.givenUp) this.clearBackoff();
        this.fx.push({ type: 'write' });
        if (s.pid === 0 && s.phase === 'down' && s.restartAt === null) this.startRun();
        break;
      case 'o':
        s.want = 'once';
        if (s.givenUp) this.clearBackoff();
        this.fx.push({ type: 'write' });
        if (s.pid === 0 && s.phase === 'down' && s.restartAt === null) this.startRun();
        break;
      case 'd':
        s.want = 'down';
        this.cancelRestart();
        this.clearBackoff();
        this.fx.push({ type: 'write' });
        if (s.pid !== 0 && s.phase === 'run') this.stop();
        break;
      case 'x':
        if (s.isLog) break;
        s.want = 'exit';
        this.cancelRestart();
        this.fx.push({ type: 'write' });
        if (s.pid !== 0 && s.phase === 'run') this.stop();
        else if (s.pid === 0 && s.phase === 'down') this.fx.push({ type: 'exitReady' });
        break;
      case 't':
        if (s.pid !== 0 && s.phase === 'run') this.stop();
        break;
      default: {
        // 't' never gets here (handled above): the rest only send a signal, after their hook
        const signal = LETTER_SIGNAL[c];
        if (signal === undefined) break;
        if (s.pid !== 0) this.hook(c, { kind: 'signal', letter: c, signal });
        else this.afterSignal(c);
      }
    }
  }

  /** Run control/<letter> (never for the logger), then continue with p. */
  private hook(letter: string, p: Pending): void {
    if (this.s.isLog) {
      this.resume(p, false);
      return;
    }
    this.s.pending = p;
    this.fx.push({ type: 'hook', letter });
  }

  /** Continue after a hook: handled (exit 0) vetoes the signal runsv would send. */
  private resume(p: Pending, handled: boolean): void {
    const s = this.s;
    switch (p.kind) {
      case 'start':
        s.spawning = 'run';
        this.fx.push({ type: 'spawn', what: 'run', args: [] });
        break;
      case 'stop':
        if (!handled && s.pid !== 0 && s.phase === 'run') {
          this.fx.push({ type: 'signal', pid: s.pid, signal: s.settings.downSignal });
          s.gotTerm = true;
          s.stopSent = true;
          this.fx.push({ type: 'write' });
          if (s.settings.timeoutKillMs > 0) this.fx.push({ type: 'setTimer', name: 'kill', ms: s.settings.timeoutKillMs });
        }
        if (s.want === 'down' || s.want === 'once' || s.want === 'exit') {
          if (s.pid !== 0) this.fx.push({ type: 'signal', pid: s.pid, signal: 'SIGCONT' });
          this.hook(s.want === 'exit' ? 'x' : 'd', { kind: 'after' });
        }
        break;
      case 'after':
        break;
      case 'signal':
        if (!handled && s.pid !== 0) this.fx.push({ type: 'signal', pid: s.pid, signal: p.signal });
        this.afterSignal(p.letter);
        break;
    }
  }

  /** Flag changes of p and c (runsv sets them even when nothing runs). */
  private afterSignal(letter: string): void {
    if (letter === 'p') {
      this.s.paused = true;
      this.fx.push({ type: 'write' });
    } else if (letter === 'c') {
      this.s.paused = false;
      this.fx.push({ type: 'write' });
    }
  }

  /** runsv's stopservice: control/t may veto the down-signal; d/x add CONT and their hook. */
  private stop(): void {
    this.hook('t', { kind: 'stop' });
  }

  /** Start run: control/u first (its result is ignored), at every start. */
  private startRun(): void {
    this.hook('u', { kind: 'start' });
  }

  /** The shell started run or finish. */
  private spawned(ev: Extract<MachineEvent, { type: 'spawned' }>): void {
    const s = this.s;
    s.spawning = null;
    s.pid = ev.pid;
    s.pgid = ev.pgid;
    s.paused = false;
    s.gotTerm = false;
    if (ev.what === 'run') {
      if (ev.settings !== undefined) s.settings = ev.settings;
      s.phase = 'run';
      s.starts += 1;
      s.since = this.now;
      s.stopSent = false;
      s.ready = s.settings.notificationFd > 0 ? false : null;
      s.readyMono = null;
    } else if (s.settings.timeoutFinishMs > 0) {
      this.fx.push({ type: 'setTimer', name: 'finish', ms: s.settings.timeoutFinishMs });
    }
    this.fx.push({ type: 'write' });
  }

  /** The shell could not start run or finish (runsv's child would exit 111 after its message). */
  private spawnFailed(ev: Extract<MachineEvent, { type: 'spawnFailed' }>): void {
    const s = this.s;
    s.spawning = null;
    const what = ev.label ?? (s.isLog ? 'log/./run' : ev.what === 'run' ? './run' : './finish');
    this.fx.push({ type: 'warn', message: `unable to start ${what}: ${ev.error}` });
    if (ev.what === 'run') {
      if (ev.settings !== undefined) s.settings = ev.settings;
      s.starts += 1;
      s.since = this.now;
      s.lastExit = { code: 111, signal: null, at: this.now.wall };
    }
    this.goDown(false);
  }

  /** run or finish ended. */
  private exited(ev: Extract<MachineEvent, { type: 'exited' }>): void {
    const s = this.s;
    if (s.pid === 0) return;
    const wasRun = s.phase === 'run';
    const pgid = s.pgid;
    s.pid = 0;
    s.pgid = 0;
    s.gotTerm = false;
    if (wasRun) {
      s.lastExit = { code: ev.code, signal: ev.signal, at: this.now.wall };
      this.fx.push({ type: 'cancelTimer', name: 'kill' });
      if (s.ready !== null) {
        this.fx.push({ type: 'closeReadiness' });
        s.ready = false;
        s.readyMono = null;
      }
      if (pgid !== 0 && (s.stopSent || s.want !== 'up')) {
        this.fx.push({ type: 'cleanGroup', pgid, signal: s.settings.downSignal, killAfterMs: s.settings.timeoutKillMs });
      }
      if (ev.hasFinish && !s.isLog) {
        s.phase = 'finish';
        s.spawning = 'finish';
        this.fx.push({ type: 'write' });
        this.fx.push({ type: 'spawn', what: 'finish', args: [String(ev.code ?? -1), String(ev.code !== null ? 0 : ev.signum)] });
        return;
      }
    } else {
      this.fx.push({ type: 'cancelTimer', name: 'finish' });
    }
    this.goDown(s.stopSent);
  }

  /** No child any more: runit's 1-second rule (grown by the backoff), give-up, or exit. */
  private goDown(requested: boolean): void {
    const s = this.s;
    const ranMs = this.now.mono - s.since.mono;
    s.phase = 'down';
    s.since = this.now;
    const policy = s.settings.restart;
    const quick = ranMs < policy.quickMs;
    let delay = 0;
    if (quick) {
      if (!requested) {
        s.failures += 1;
        s.quickDeaths = s.quickDeaths.filter((t) => this.now.mono - t < policy.giveUpWindowMs);
        s.quickDeaths.push(this.now.mono);
      }
      delay = backoffDelay(policy, Math.max(1, s.failures));
    } else {
      s.failures = 0;
      s.quickDeaths = [];
    }
    if (s.want === 'exit') {
      this.fx.push({ type: 'write' }, { type: 'exitReady' });
      return;
    }
    if (s.want !== 'up') {
      this.fx.push({ type: 'write' });
      return;
    }
    if (policy.giveUp > 0 && s.quickDeaths.length >= policy.giveUp) {
      s.givenUp = true;
      this.fx.push({ type: 'warn', message: `giving up: ${s.quickDeaths.length} quick deaths within ${policy.giveUpWindowMs} ms` });
      this.fx.push({ type: 'write' });
      return;
    }
    if (delay > 0) {
      s.restartAt = { wall: this.now.wall + delay, mono: this.now.mono + delay, delayMs: delay };
      this.fx.push({ type: 'write' }, { type: 'setTimer', name: 'restart', ms: delay });
      return;
    }
    this.fx.push({ type: 'write' });
    this.startRun();
  }

  /** A timer fired. */
  private timer(name: TimerName): void {
    const s = this.s;
    if (name === 'restart') {
      if (s.restartAt === null) return;
      s.restartAt = null;
      this.fx.push({ type: 'write' });
      if ((s.want === 'up' || s.want === 'once') && s.pid === 0 && s.phase === 'down') this.startRun();
    } else if (name === 'kill') {
      if (s.pid !== 0 && s.phase === 'run') {
        this.fx.push({ type: 'signal', pid: s.pid, signal: 'SIGKILL' });
        if (s.pgid !== 0) this.fx.push({ type: 'signalGroup', pgid: s.pgid, signal: 'SIGKILL' });
      }
    } else if (s.pid !== 0 && s.phase === 'finish') {
      this.fx.push({ type: 'warn', message: 'finish script lifetime reached maximum value - sending it a SIGKILL' });
      this.fx.push({ type: 'signal', pid: s.pid, signal: 'SIGKILL' });
    }
  }

  /** Drop a pending automatic start. */
  private cancelRestart(): void {
    if (this.s.restartAt !== null) {
      this.s.restartAt = null;
      this.fx.push({ type: 'cancelTimer', name: 'restart' });
    }
  }

  /** Forget past quick deaths (after d, or u/o once given up). */
  private clearBackoff(): void {
    this.s.failures = 0;
    this.s.quickDeaths = [];
    this.s.givenUp = false;
  }
}
