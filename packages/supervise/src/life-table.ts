// The supervisor's own life as a pure table (LIFE_TABLE): set-up, running, and after `x` the
// service down, the logger drained, the supervisor gone. supervisor.ts carries out its effects.
import { IGNORE } from './machine.js';

// ---- The supervisor's own sequence (one per service directory, around the two machines above):
// set-up, then running, then after `x` the service is down, the logger drains, the supervisor
// exits. Pure as well: Supervisor (supervisor.ts) carries out its effects.

/** Where the supervisor is in its life. */
export type LifeState =
  /** constructed, start() not called */
  | 'new'
  /** constructed, and shutdown() was called before start() */
  | 'newThenExit'
  /** setting up supervise/, taking locks, taking over orphans */
  | 'setup'
  /** setting up, and a shutdown was asked meanwhile: send `x` instead of starting */
  | 'setupThenExit'
  /** both machines run */
  | 'running'
  /** the service is down with want exit; the logger drains its input to the end */
  | 'draining'
  /** everything released */
  | 'done';

/** Every life state, in table order. */
export const LIFE_STATES = ['new', 'newThenExit', 'setup', 'setupThenExit', 'running', 'draining', 'done'] as const satisfies readonly LifeState[];

/** What happens to the supervisor. */
export type LifeEvent =
  | { type: 'start' }
  | { type: 'setupDone' }
  | { type: 'setupFailed' }
  /** `x` on the control FIFO is the service machine's; this is shutdown() (SIGTERM, tsvscan) */
  | { type: 'shutdown' }
  /** the service machine's exitReady */
  | { type: 'mainDown'; hasLog: boolean }
  /** the logger machine's exitReady */
  | { type: 'logDown' };

/** The columns of the supervisor's table. */
export type LifeEventType = LifeEvent['type'];
/** Every life event type, in table order. */
export const LIFE_EVENT_TYPES = ['start', 'setupDone', 'setupFailed', 'shutdown', 'mainDown', 'logDown'] as const satisfies readonly LifeEventType[];

/** What the supervisor does, in order. */
export type LifeEffect =
  /** set up supervise/ (async; answered by setupDone or setupFailed) */
  | 'setUp'
  /** boot the logger machine, then the service machine (runsv starts the logger first) */
  | 'boot'
  /** boot the logger machine, then send `x` to the service machine */
  | 'bootAndExit'
  /** send `x` to the service machine */
  | 'sendX'
  /** ignore control bytes from now on (a child started now would get a closed fd) */
  | 'ignoreControl'
  /** tell the logger machine to exit once its input ends, and close both ends of the log pipe
   * (the logger then sees end of input once the service's processes are gone) */
  | 'drainLog'
  /** close every fd and timer, resolve `exited` */
  | 'release';

/** A cell of the supervisor's table: the next state and the effects, or IGNORE. */
type LifeCell<K extends LifeEventType> = ((ev: Extract<LifeEvent, { type: K }>) => { to: LifeState; fx: LifeEffect[] }) | typeof IGNORE;
type LifeRow = { [K in LifeEventType]: LifeCell<K> };

/** lifecycle[state][event]: every pair written down. */
export const LIFE_TABLE = {
  new: {
    start: () => ({ to: 'setup', fx: ['setUp'] }),
    setupDone: IGNORE,
    setupFailed: IGNORE,
    // why: shutdown() before start(): start() will set up and then exit at once.
    shutdown: () => ({ to: 'newThenExit', fx: [] }),
    mainDown: IGNORE,
    logDown: IGNORE,
  },
  newThenExit: {
    start: () => ({ to: 'setupThenExit', fx: ['setUp'] }),
    setupDone: IGNORE,
    setupFailed: IGNORE,
    shutdown: IGNORE,
    mainDown: IGNORE,
    logDown: IGNORE,
  },
  setup: {
    start: IGNORE,
    setupDone: () => ({ to: 'running', fx: ['boot'] }),
    setupFailed: () => ({ to: 'done', fx: ['release'] }),
    shutdown: () => ({ to: 'setupThenExit', fx: [] }),
    mainDown: IGNORE,
    logDown: IGNORE,
  },
  setupThenExit: {
    start: IGNORE,
    setupDone: () => ({ to: 'running', fx: ['bootAndExit'] }),
    setupFailed: () => ({ to: 'done', fx: ['release'] }),
    shutdown: IGNORE,
    mainDown: IGNORE,
    logDown: IGNORE,
  },
  running: {
    start: IGNORE,
    setupDone: IGNORE,
    setupFailed: IGNORE,
    shutdown: () => ({ to: 'running', fx: ['sendX'] }),
    // runit.md 2.2 step 7: the service is down: the logger drains, then the supervisor exits.
    mainDown: (ev) => (ev.hasLog ? { to: 'draining', fx: ['ignoreControl', 'drainLog'] } : { to: 'done', fx: ['ignoreControl', 'release'] }),
    logDown: IGNORE,
  },
  draining: {
    start: IGNORE,
    setupDone: IGNORE,
    setupFailed: IGNORE,
    shutdown: IGNORE,
    mainDown: IGNORE,
    logDown: () => ({ to: 'done', fx: ['release'] }),
  },
  done: {
    start: IGNORE,
    setupDone: IGNORE,
    setupFailed: IGNORE,
    shutdown: IGNORE,
    mainDown: IGNORE,
    logDown: IGNORE,
  },
} satisfies Record<LifeState, LifeRow>;

/** One step of the supervisor's sequence. */
export function lifeStep(state: LifeState, ev: LifeEvent): { state: LifeState; effects: LifeEffect[] } {
  const h = (LIFE_TABLE[state] as LifeRow)[ev.type] as LifeCell<LifeEventType>;
  if (h === IGNORE) return { state, effects: [] };
  const r = (h as (e: LifeEvent) => { to: LifeState; fx: LifeEffect[] })(ev);
  return { state: r.to, effects: r.fx };
}
