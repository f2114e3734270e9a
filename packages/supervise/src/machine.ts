// The supervisor of one process (a service's run/finish, or its logger) as a pure state
// machine, after s6-supervise's actions[state][event]: step(state, event, now) looks up
// TABLE[stateOf(state)][event.type] and returns the new state and the effects. No I/O here: the
// shell (slot.ts) turns OS events into events and effects into syscalls. Every rule lives here:
// runsv's semantics (spec runit.md 2.2-2.6), which hooks exist (Settings, read before each
// start), "hook exit 0 = handled", the kill timers of the service and of the process group it
// left, the in-process logger's signal mapping, and the end of the exit sequence (down, no group
// left: exitReady). runit's `want` stays an orthogonal field, as in runsv.
import { EXIT, LETTER_SIGNAL } from '@tsv/core';
import { backoffDelay, DEFAULT_SETTINGS, type Settings } from './policy.js';

/** runit's states (status byte 19). */
export type Phase = 'down' | 'run' | 'finish';
/** What is wanted; `once` is stored as `d` in runit's status. */
export type Want = 'up' | 'down' | 'once' | 'exit';
/** The machine's timers (at most one of each). */
export type TimerName = 'restart' | 'kill' | 'finish' | 'groupKill' | 'cgroupKill';

/** The rows of the table: what the machine is doing. */
export type State =
  /** nothing runs, nothing is pending */
  | 'down'
  /** nothing runs; an automatic start waits for the restart timer */
  | 'backoff'
  /** a start was decided: the settings are being read (no hook or spawn yet) */
  | 'starting'
  /** a control/<c> hook runs: control letters wait */
  | 'hook'
  /** a spawn of run or finish was requested, its result has not arrived */
  | 'spawning'
  /** run runs */
  | 'run'
  /** finish runs */
  | 'finish'
  /** watch mode: run exited by itself; nothing runs until a watched file changes */
  | 'changeWait';

/** Every state, in table order. */
export const STATES = ['down', 'backoff', 'starting', 'hook', 'spawning', 'run', 'finish', 'changeWait'] as const satisfies readonly State[];

/** A moment, wall clock (for runit's TAI64N and tsv.json) and monotonic (for durations). */
export interface Now {
  wall: number;
  mono: number;
}

/** What to do when a running control/<c> hook completes. */
export type Pending =
  | { kind: 'start' }
  | { kind: 'stop' }
  | { kind: 'after' }
  | { kind: 'signal'; letter: string; signal: NodeJS.Signals };

/** A process group a dead run left members in, to be SIGKILLed at killAtMono. */
export interface LeftGroup {
  pgid: number;
  killAtMono: number;
}

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
  lastExit: { code: number | null; signal: string | null; at: number; reason?: string } | null;
  /** how many times run was started */
  starts: number;
  /** consecutive quick deaths (backoff) */
  failures: number;
  /** monotonic ms of recent quick deaths (give-up window) */
  quickDeaths: number[];
  givenUp: boolean;
  /** the pending automatic start, when a restart delay runs */
  restartAt: { wall: number; mono: number; delayMs: number } | null;
  /** settings read before the last start of run */
  settings: Settings;
  /** a start waits for the settings (state `starting`) */
  awaitingSettings: boolean;
  /** a hook is running: what to do when it ends */
  pending: Pending | null;
  /** a spawn was requested and its result has not arrived yet */
  spawning: 'run' | 'finish' | null;
  /** control letters received while a hook, spawn or settings read was in progress, in order */
  queue: string[];
  /** we sent the stop signal to the current run (its leftovers get cleaned up) */
  stopSent: boolean;
  /** process groups left with members by a dead run, waiting for their SIGKILL */
  groups: LeftGroup[];
  /** exitReady was emitted (the exit sequence goes on in the supervisor) */
  exitSent: boolean;
  /** watch mode: a change stopped run; start again once it and its process group are gone */
  watchRestart: boolean;
  /** the process group a watch restart waits to be empty (0: none) */
  watchGroup: number;
  /** watch mode: run exited by itself; wait for a change instead of restarting */
  waitChange: boolean;
  /** the last run was spawned inside the process's own cgroup (cgroup-slot.ts) */
  cgroup: boolean;
  /** a stopped run left members in the cgroup: waiting for it to be empty (cgroupEmpty) */
  cgroupLeft: boolean;
  /** a start was asked for while cgroupLeft: it happens once the cgroup is empty */
  startWhenEmpty: boolean;
}

/** Inputs of the machine. */
export type MachineEvent =
  | { type: 'boot' }
  | { type: 'control'; letter: string }
  /** the answer to a readSettings effect */
  | { type: 'settings'; settings: Settings }
  /** cgroup: run was spawned inside the process's cgroup */
  | { type: 'spawned'; what: 'run' | 'finish'; pid: number; pgid: number; cgroup?: boolean }
  | { type: 'spawnFailed'; what: 'run' | 'finish'; error: string; label?: string }
  /** reason: the last line the child wrote to the supervisor's stderr, when it exited non-zero */
  | { type: 'exited'; code: number | null; signal: string | null; signum: number; reason?: string }
  | { type: 'timer'; name: TimerName }
  | { type: 'ready' }
  /** a control/<c> hook ended: its exit code, null when killed or it could not be run */
  | { type: 'hookDone'; code: number | null }
  /** the answer to a cleanGroup effect when the group had no member left */
  | { type: 'groupGone'; pgid: number }
  | { type: 'exitLog' }
  /** watch mode: a burst of changes to the watched files ended (debounced by the watcher) */
  | { type: 'change' }
  /** the process's cgroup has no live member (cgroup.events `populated 0`, watched by the shell) */
  | { type: 'cgroupEmpty' };

/** The columns of the table. */
export type EventType = MachineEvent['type'];
/** Every event type, in table order. */
export const EVENT_TYPES = ['boot', 'control', 'settings', 'spawned', 'spawnFailed', 'exited', 'timer', 'ready', 'hookDone', 'groupGone', 'exitLog', 'change', 'cgroupEmpty'] as const satisfies readonly EventType[];
/** The event of one type. */
export type EventOf<K extends EventType> = Extract<MachineEvent, { type: K }>;

/** Outputs of the machine, carried out in order by the shell. */
export type Effect =
  /** read the service's settings (policy files, hooks, finish); answered by a settings event */
  | { type: 'readSettings' }
  | { type: 'spawn'; what: 'run' | 'finish'; args: string[] }
  | { type: 'signal'; pid: number; signal: NodeJS.Signals }
  | { type: 'signalGroup'; pgid: number; signal: NodeJS.Signals }
  /** down-signal and CONT to the group if it has a member, else answer groupGone */
  | { type: 'cleanGroup'; pgid: number; signal: NodeJS.Signals }
  /** the in-process logger instead of a signal: stop (TERM, KILL), reopen (HUP), rotate (ALRM) */
  | { type: 'logger'; action: 'stop' | 'reopen' | 'rotate' }
  | { type: 'write' }
  | { type: 'setTimer'; name: TimerName; ms: number }
  | { type: 'cancelTimer'; name: TimerName }
  | { type: 'hook'; letter: string }
  | { type: 'warn'; message: string }
  | { type: 'closeReadiness' }
  | { type: 'exitReady' }
  /** watch mode: answer groupGone once the process group has no member left */
  | { type: 'awaitGroupGone'; pgid: number }
  /** down-signal and CONT to every member of the cgroup, or answer cgroupEmpty when it has none */
  | { type: 'cleanCgroup'; signal: NodeJS.Signals }
  /** SIGKILL every member of the cgroup (cgroup.kill) */
  | { type: 'killCgroup' }
  /** rmdir the (empty) cgroup: the process is down and not wanted up */
  | { type: 'removeCgroup' };

/** ms a stopped run's leftovers in its cgroup get after the down-signal when the service has
 * no timeout-kill, before cgroup.kill. */
export const CGROUP_GRACE_MS = 2000;

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
    awaitingSettings: false,
    pending: null,
    spawning: null,
    queue: [],
    stopSent: false,
    groups: [],
    exitSent: false,
    watchRestart: false,
    watchGroup: 0,
    waitChange: false,
    cgroup: false,
    cgroupLeft: false,
    startWhenEmpty: false,
  };
}

/** The row of the table a state is in (a pending hook outranks a spawn, which outranks phase). */
export function stateOf(s: MachineState): State {
  if (s.pending !== null) return 'hook';
  if (s.awaitingSettings) return 'starting';
  if (s.spawning !== null) return 'spawning';
  if (s.phase === 'run') return 'run';
  if (s.phase === 'finish') return 'finish';
  if (s.waitChange) return 'changeWait';
  return s.restartAt !== null ? 'backoff' : 'down';
}

/** A cell: what one event does in one state. */
type Handler<K extends EventType> = ((m: Step, ev: EventOf<K>) => void) | typeof IGNORE;
/** One row: a cell for every event type. */
type Row = { [K in EventType]: Handler<K> };

/** The cell of an event that changes nothing in that state (no effect, same state). */
export const IGNORE = 'ignore' as const;

// Cells shared by several rows.
const control: Handler<'control'> = (m, ev) => m.control(ev.letter);
const queue: Handler<'control'> = (m, ev) => m.s.queue.push(ev.letter);
const timer: Handler<'timer'> = (m, ev) => m.timer(ev.name);
const groupGone: Handler<'groupGone'> = (m, ev) => m.groupGone(ev.pgid);
const exitLog: Handler<'exitLog'> = (m) => m.exitLog();
const spawned: Handler<'spawned'> = (m, ev) => m.spawned(ev);
const spawnFailed: Handler<'spawnFailed'> = (m, ev) => m.spawnFailed(ev);
const exited: Handler<'exited'> = (m, ev) => m.exited(ev);
const ready: Handler<'ready'> = (m) => m.ready();
const cgroupEmpty: Handler<'cgroupEmpty'> = (m) => m.cgroupEmpty();

/** actions[state][event]: every pair written down; the compiler checks that none is missing. */
export const TABLE = {
  down: {
    boot: (m) => m.boot(),
    control,
    settings: IGNORE,
    spawned: IGNORE,
    spawnFailed: IGNORE,
    exited: IGNORE,
    timer,
    ready: IGNORE,
    hookDone: IGNORE,
    groupGone,
    exitLog,
    change: IGNORE,
    cgroupEmpty,
  },
  backoff: {
    boot: IGNORE,
    // why: a person's u (or o, or a restart's tcu) ends the backoff: start once runit's
    // one-second rule allows; the backoff paces only the restarts nobody asked for.
    control: (m, ev) => (ev.letter === 'u' || ev.letter === 'o' ? m.upInBackoff(ev.letter) : m.control(ev.letter)),
    settings: IGNORE,
    spawned: IGNORE,
    spawnFailed: IGNORE,
    exited: IGNORE,
    timer,
    ready: IGNORE,
    hookDone: IGNORE,
    groupGone,
    exitLog,
    change: IGNORE,
    cgroupEmpty,
  },
  starting: {
    boot: IGNORE,
    control: queue,
    settings: (m, ev) => m.settingsRead(ev.settings),
    spawned: IGNORE,
    spawnFailed: IGNORE,
    exited: IGNORE,
    timer,
    ready: IGNORE,
    hookDone: IGNORE,
    groupGone,
    exitLog,
    change: IGNORE,
    cgroupEmpty,
  },
  hook: {
    boot: IGNORE,
    control: queue,
    settings: IGNORE,
    // why: run may die, and finish be spawned, while a stop hook (control/t) still runs.
    spawned,
    spawnFailed,
    exited,
    timer,
    ready,
    // why: runsv's rule: a hook that exits 0 has handled the command (no signal is sent).
    hookDone: (m, ev) => m.hookDone(ev.code === 0),
    groupGone,
    exitLog,
    change: IGNORE,
    cgroupEmpty,
  },
  spawning: {
    boot: IGNORE,
    control: queue,
    settings: IGNORE,
    spawned,
    spawnFailed,
    exited: IGNORE,
    timer,
    ready: IGNORE,
    hookDone: IGNORE,
    groupGone,
    exitLog,
    change: IGNORE,
    cgroupEmpty,
  },
  run: {
    boot: IGNORE,
    control,
    settings: IGNORE,
    spawned: IGNORE,
    spawnFailed: IGNORE,
    exited,
    timer,
    ready,
    hookDone: IGNORE,
    groupGone,
    exitLog,
    // watch mode: stop run, start again once its process group is gone (docs/watch-mode.md)
    change: (m) => m.changeRestart(),
    cgroupEmpty,
  },
  finish: {
    boot: IGNORE,
    control,
    settings: IGNORE,
    spawned: IGNORE,
    spawnFailed: IGNORE,
    exited,
    timer,
    ready: IGNORE,
    hookDone: IGNORE,
    groupGone,
    exitLog,
    change: IGNORE,
    cgroupEmpty,
  },
  changeWait: {
    boot: IGNORE,
    // why: u, o, d and x end the wait (u and o start run, as does `tsvctl restart`); signal
    // letters only set flags, as when down.
    control: (m, ev) => m.controlWhileWaiting(ev.letter),
    settings: IGNORE,
    spawned: IGNORE,
    spawnFailed: IGNORE,
    exited: IGNORE,
    timer,
    ready: IGNORE,
    hookDone: IGNORE,
    groupGone,
    exitLog: IGNORE,
    change: (m) => m.changeStart(),
    cgroupEmpty,
  },
} satisfies Record<State, Row>;

/** The cell for an event in a state (typed by the event). */
function cell<K extends EventType>(state: State, type: K): Handler<K> {
  return (TABLE[state] as Row)[type];
}

/** One transition: a copy of state with the event applied, and the effects to carry out. */
export function step(state: MachineState, event: MachineEvent, now: Now): StepResult {
  const h = cell(stateOf(state), event.type);
  if (h === IGNORE) return { state, effects: [] };
  const m = new Step(state, now);
  (h as (m: Step, ev: MachineEvent) => void)(m, event);
  m.drain();
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
    this.s = { ...state, queue: [...state.queue], quickDeaths: [...state.quickDeaths], groups: [...state.groups] };
  }

  /** A hook, a spawn or a settings read is in progress: control letters wait (runsv runs hooks
   * synchronously). */
  private busy(): boolean {
    return this.s.pending !== null || this.s.spawning !== null || this.s.awaitingSettings;
  }

  /** Process queued control letters while nothing is in progress. */
  drain(): void {
    while (this.s.queue.length > 0 && !this.busy()) this.control(this.s.queue.shift() as string);
  }

  /** The supervisor started: run is started when wanted up. */
  boot(): void {
    if (this.s.want === 'up') this.startRun();
  }

  /** One control byte (runit.md 2.5). Unknown bytes, `e` included, are ignored as by runsv. */
  control(c: string): void {
    const s = this.s;
    switch (c) {
      case 'u':
      case 'o':
        s.want = c === 'u' ? 'up' : 'once';
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
        else if (s.pid === 0 && s.phase === 'down') this.maybeExitReady();
        break;
      case 't':
        if (s.pid !== 0 && s.phase === 'run') this.stop();
        break;
      default: {
        // why: 't' never gets here (handled above): the rest only send a signal, after their hook
        const signal = LETTER_SIGNAL[c];
        if (signal === undefined) break;
        if (s.pid !== 0) this.hook(c, { kind: 'signal', letter: c, signal });
        else this.afterSignal(c);
      }
    }
  }

  /** Watch mode, run runs: a change stops it (as `t` does); it starts again once it and its
   * process group are gone (groupGone), not by the restart delay. */
  changeRestart(): void {
    const s = this.s;
    if (!s.settings.watch || s.isLog || s.want !== 'up' || s.watchRestart) return;
    s.watchRestart = true;
    this.stop();
  }

  /** Watch mode, waiting after run exited by itself: a change starts it. */
  changeStart(): void {
    this.s.waitChange = false;
    this.fx.push({ type: 'write' });
    this.startRun();
  }

  /** u or o while an automatic restart waits: forget the quick deaths and start as soon as
   * runit's one-second rule allows (the first delay of the policy after the last death). */
  upInBackoff(c: 'u' | 'o'): void {
    const s = this.s;
    s.want = c === 'u' ? 'up' : 'once';
    this.clearBackoff();
    const wait = Math.max(0, Math.round(s.since.mono + backoffDelay(s.settings.restart, 1) - this.now.mono));
    this.cancelRestart();
    if (wait > 0) {
      s.restartAt = { wall: this.now.wall + wait, mono: this.now.mono + wait, delayMs: wait };
      this.fx.push({ type: 'write' }, { type: 'setTimer', name: 'restart', ms: wait });
      return;
    }
    this.fx.push({ type: 'write' });
    this.startRun();
  }

  /** A control letter while waiting for a change: u, o, d and x end the wait. */
  controlWhileWaiting(c: string): void {
    if ('udox'.includes(c)) this.s.waitChange = false;
    this.control(c);
  }

  /** The main service is gone: the logger is to exit once its input ends. */
  exitLog(): void {
    this.s.want = 'exit';
    this.cancelRestart();
    this.fx.push({ type: 'write' });
    if (this.s.pid === 0 && this.s.spawning === null && !this.s.awaitingSettings) this.maybeExitReady();
  }

  /** Run control/<letter> when it exists (never for the logger), then continue with p; a
   * missing hook continues at once, not handled. */
  private hook(letter: string, p: Pending): void {
    if (this.s.isLog || !this.s.settings.hooks.includes(letter)) {
      this.resume(p, false);
      return;
    }
    this.s.pending = p;
    this.fx.push({ type: 'hook', letter });
  }

  /** A hook ended: exit 0 means handled. */
  hookDone(handled: boolean): void {
    const p = this.s.pending;
    this.s.pending = null;
    if (p !== null) this.resume(p, handled);
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
          this.send(s.settings.downSignal);
          s.gotTerm = true;
          s.stopSent = true;
          this.fx.push({ type: 'write' });
          if (s.settings.timeoutKillMs > 0) this.fx.push({ type: 'setTimer', name: 'kill', ms: s.settings.timeoutKillMs });
        }
        if (s.want === 'down' || s.want === 'once' || s.want === 'exit') {
          if (s.pid !== 0) this.send('SIGCONT');
          this.hook(s.want === 'exit' ? 'x' : 'd', { kind: 'after' });
        }
        break;
      case 'after':
        break;
      case 'signal':
        if (!handled && s.pid !== 0) this.send(p.signal);
        this.afterSignal(p.letter);
        break;
      default:
        return assertNever(p);
    }
  }

  /** Signal the current child; the in-process logger's "signals" are calls of its methods
   * (it runs inside the supervisor, which must never signal itself). */
  private send(sig: NodeJS.Signals): void {
    const s = this.s;
    if (!s.settings.inProcess) {
      this.fx.push({ type: 'signal', pid: s.pid, signal: sig });
      return;
    }
    const action = sig === 'SIGTERM' || sig === 'SIGKILL' ? 'stop' : sig === 'SIGHUP' ? 'reopen' : sig === 'SIGALRM' ? 'rotate' : undefined;
    if (action !== undefined) this.fx.push({ type: 'logger', action });
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

  /** Start run: read the settings first (they say which hooks exist), then control/u. */
  private startRun(): void {
    // why: a new run would join the cgroup that the last run's leftovers still hold, and be
    // killed with them: it starts once the cgroup is empty.
    if (this.s.cgroupLeft) {
      this.s.startWhenEmpty = true;
      return;
    }
    this.s.awaitingSettings = true;
    this.fx.push({ type: 'readSettings' });
  }

  /** The settings for this start arrived: control/u (its result is ignored), then the spawn. */
  settingsRead(settings: Settings): void {
    this.s.awaitingSettings = false;
    this.s.settings = settings;
    this.hook('u', { kind: 'start' });
  }

  /** The shell started run or finish. */
  spawned(ev: EventOf<'spawned'>): void {
    const s = this.s;
    s.spawning = null;
    s.pid = ev.pid;
    s.pgid = ev.pgid;
    s.paused = false;
    s.gotTerm = false;
    if (ev.what === 'run') {
      s.cgroup = ev.cgroup === true;
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
  spawnFailed(ev: EventOf<'spawnFailed'>): void {
    const s = this.s;
    s.spawning = null;
    const what = ev.label ?? (s.isLog ? 'log/./run' : ev.what === 'run' ? './run' : './finish');
    const reason = `unable to start ${what}: ${ev.error}`;
    this.fx.push({ type: 'warn', message: reason });
    if (ev.what === 'run') {
      s.starts += 1;
      s.since = this.now;
      s.lastExit = { code: EXIT.temporary, signal: null, at: this.now.wall, reason };
    }
    this.goDown(false);
  }

  /** The readiness line arrived. */
  ready(): void {
    const s = this.s;
    if (s.phase === 'run' && s.ready === false) {
      s.ready = true;
      s.readyMono = this.now.mono;
      this.fx.push({ type: 'closeReadiness' }, { type: 'write' });
    }
  }

  /** run or finish ended. */
  exited(ev: EventOf<'exited'>): void {
    const s = this.s;
    if (s.pid === 0) return;
    const wasRun = s.phase === 'run';
    const pgid = s.pgid;
    s.pid = 0;
    s.pgid = 0;
    s.gotTerm = false;
    if (wasRun) {
      s.lastExit = { code: ev.code, signal: ev.signal, at: this.now.wall, ...(ev.reason !== undefined ? { reason: ev.reason } : {}) };
      this.fx.push({ type: 'cancelTimer', name: 'kill' });
      if (s.ready !== null) {
        this.fx.push({ type: 'closeReadiness' });
        s.ready = false;
        s.readyMono = null;
      }
      // why: in a cgroup every leftover of the run is known, whatever its group or session.
      if (s.stopSent || s.want !== 'up') {
        if (s.cgroup) this.leaveCgroup();
        else if (pgid !== 0) this.leaveGroup(pgid);
      }
      if (pgid !== 0 && s.watchRestart) {
        // why: the new run must not meet the old one's leftovers (a port still bound).
        s.watchGroup = pgid;
        this.fx.push({ type: 'awaitGroupGone', pgid });
      }
      if (s.settings.hasFinish && !s.isLog) {
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

  /** Stop what a stopped run left in its process group: down-signal and CONT now (by the
   * shell, if the group has a member), SIGKILL after timeout-kill on the groupKill timer. */
  private leaveGroup(pgid: number): void {
    const s = this.s;
    this.fx.push({ type: 'cleanGroup', pgid, signal: s.settings.downSignal });
    const ms = s.settings.timeoutKillMs;
    if (ms <= 0) return;
    const first = s.groups.length === 0;
    s.groups.push({ pgid, killAtMono: this.now.mono + ms });
    if (first) this.fx.push({ type: 'setTimer', name: 'groupKill', ms });
  }

  /** Stop what a stopped run left in its cgroup: down-signal and CONT now (by the shell, to
   * every member, or cgroupEmpty at once when there is none), cgroup.kill after timeout-kill
   * on the cgroupKill timer. Nothing starts in the cgroup until it is empty. */
  private leaveCgroup(): void {
    const s = this.s;
    s.cgroupLeft = true;
    this.fx.push({ type: 'cleanCgroup', signal: s.settings.downSignal });
    // why: leftovers are no part of runit's contract (runsv never SIGKILLs run; its strays it
    // never saw): without timeout-kill they get CGROUP_GRACE_MS, so that no process ignoring
    // the down-signal can hold back the next start or the supervisor's exit for ever.
    const ms = s.settings.timeoutKillMs > 0 ? s.settings.timeoutKillMs : CGROUP_GRACE_MS;
    this.fx.push({ type: 'setTimer', name: 'cgroupKill', ms });
  }

  /** The cgroup has no live member: a deferred start happens, the exit goes on, and a cgroup
   * no longer wanted is removed. */
  cgroupEmpty(): void {
    const s = this.s;
    if (s.cgroupLeft) {
      s.cgroupLeft = false;
      this.fx.push({ type: 'cancelTimer', name: 'cgroupKill' });
    }
    if (s.startWhenEmpty) {
      s.startWhenEmpty = false;
      if ((s.want === 'up' || s.want === 'once') && s.pid === 0 && s.phase === 'down' && s.restartAt === null && s.spawning === null) {
        this.startRun();
        return;
      }
    }
    if (s.cgroup && s.want !== 'up' && s.pid === 0 && s.phase === 'down' && s.spawning === null && !s.awaitingSettings) {
      s.cgroup = false;
      this.fx.push({ type: 'removeCgroup' });
    }
    this.maybeExitReady();
  }

  /** The shell found a left group empty: nothing to kill. */
  groupGone(pgid: number): void {
    const s = this.s;
    if (s.watchGroup !== 0 && pgid === s.watchGroup) {
      s.watchGroup = 0;
      if (s.watchRestart && s.pid === 0 && s.phase === 'down' && s.spawning === null) this.watchStart();
    }
    const before = s.groups.length;
    s.groups = s.groups.filter((g) => g.pgid !== pgid);
    if (s.groups.length === before) return;
    if (s.groups.length === 0) this.fx.push({ type: 'cancelTimer', name: 'groupKill' });
    this.maybeExitReady();
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
    if (requested) {
      // why: a stop somebody asked for (t, a restart) is no failure and ends the backoff: the
      // next start waits only for runit's one-second rule.
      s.failures = 0;
      s.quickDeaths = [];
      if (quick) delay = backoffDelay(policy, 1);
    } else if (quick) {
      s.failures += 1;
      s.quickDeaths = s.quickDeaths.filter((t) => this.now.mono - t < policy.giveUpWindowMs);
      s.quickDeaths.push(this.now.mono);
      delay = backoffDelay(policy, s.failures);
    } else {
      s.failures = 0;
      s.quickDeaths = [];
    }
    if (s.want !== 'up') s.watchRestart = false;
    if (s.watchRestart) {
      // watch mode: a change stopped run; start once its process group is gone
      this.fx.push({ type: 'write' });
      if (s.watchGroup === 0) this.watchStart();
      return;
    }
    if (s.want === 'up' && s.settings.watch && !requested && !s.isLog) {
      // watch mode: run exited by itself; the next change starts it (no restart loop)
      s.waitChange = true;
      this.fx.push({ type: 'write' });
      return;
    }
    if (s.want === 'exit') {
      this.fx.push({ type: 'write' });
      this.maybeExitReady();
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

  /** The start of a watch restart. */
  private watchStart(): void {
    this.s.watchRestart = false;
    this.startRun();
  }

  /** Want exit, nothing runs and no left group waits for its SIGKILL: tell the supervisor
   * (once), which lets the logger drain and exits (runit.md 2.2 step 7). */
  private maybeExitReady(): void {
    const s = this.s;
    if (s.want !== 'exit' || s.exitSent || s.pid !== 0 || s.phase !== 'down' || s.spawning !== null || s.groups.length > 0 || s.cgroupLeft) return;
    s.exitSent = true;
    this.fx.push({ type: 'exitReady' });
  }

  /** A timer fired. */
  timer(name: TimerName): void {
    const s = this.s;
    switch (name) {
      case 'restart':
        if (s.restartAt === null) return;
        s.restartAt = null;
        this.fx.push({ type: 'write' });
        if ((s.want === 'up' || s.want === 'once') && s.pid === 0 && s.phase === 'down') this.startRun();
        return;
      case 'kill':
        if (s.pid !== 0 && s.phase === 'run') {
          this.send('SIGKILL');
          if (s.cgroup) this.fx.push({ type: 'killCgroup' });
          else if (s.pgid !== 0) this.fx.push({ type: 'signalGroup', pgid: s.pgid, signal: 'SIGKILL' });
        }
        return;
      case 'cgroupKill':
        if (s.cgroupLeft) this.fx.push({ type: 'killCgroup' });
        return;
      case 'finish':
        if (s.pid !== 0 && s.phase === 'finish') {
          this.fx.push({ type: 'warn', message: 'finish script lifetime reached maximum value - sending it a SIGKILL' });
          this.fx.push({ type: 'signal', pid: s.pid, signal: 'SIGKILL' });
        }
        return;
      case 'groupKill': {
        if (s.groups.length === 0) return;
        const due = s.groups.filter((g) => g.killAtMono <= this.now.mono + 1);
        s.groups = s.groups.filter((g) => g.killAtMono > this.now.mono + 1);
        for (const g of due) this.fx.push({ type: 'signalGroup', pgid: g.pgid, signal: 'SIGKILL' });
        const next = s.groups[0];
        if (next !== undefined) this.fx.push({ type: 'setTimer', name: 'groupKill', ms: Math.max(1, next.killAtMono - this.now.mono) });
        else this.maybeExitReady();
        return;
      }
      default:
        return assertNever(name);
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

/** The compiler's proof that a switch covers every case. */
function assertNever(x: never): never {
  throw new Error(`unexpected ${String(x)}`);
}
