// A pool's own rules as a pure table (POOL_TABLE), beside the per-process TABLE (machine.ts):
// which instances exist (resize: new ids start, the highest ids stop gracefully, the others are
// untouched), the rolling restart (K at a time, the next only once the previous is ready again,
// stopped by a failed instance), the pool's want, and the exit of the whole pool. Each instance
// is a machine of its own (machine.ts, run by a Slot); this table sees only a summary of each
// (InstanceView) and answers with effects on instances. pool.ts carries the effects out.
import { IGNORE } from './machine.js';

/** Most instances one pool may have: more is capped, with a warning. */
export const MAX_INSTANCES = 256;

/** The rows: what the pool is doing. */
export type PoolState =
  /** the instances run as they are */
  | 'steady'
  /** a rolling restart is under way */
  | 'rolling'
  /** the last rolling restart stopped at a failed instance (status says which and why) */
  | 'halted'
  /** `x`: every instance was told to exit; waiting for the last one */
  | 'exiting'
  /** every instance is gone */
  | 'done';

/** Every pool state, in table order. */
export const POOL_STATES = ['steady', 'rolling', 'halted', 'exiting', 'done'] as const satisfies readonly PoolState[];

/** What the pool needs to know of one instance's machine. */
export interface InstanceView {
  phase: 'down' | 'run' | 'finish';
  pid: number;
  /** how many times run was started (grows by one per start) */
  starts: number;
  /** readiness: null without notification-fd */
  ready: boolean | null;
}

/** One instance of the pool. */
export interface Member {
  id: number;
  /** told to exit (resize down, or the pool's exit); removed on `retired` */
  retiring: boolean;
  /** an id wanted again while its old instance still retires: start it once that one is gone */
  restartWhenRetired: boolean;
  view: InstanceView;
}

/** An instance being restarted by a roll. */
export interface RollItem {
  id: number;
  /** its `starts` when the roll restarted it: the next start is the one awaited */
  startsBefore: number;
  /** settling: up, without notification-fd, for roll-settle before it counts as ready */
  stage: 'restarting' | 'settling';
}

/** How a pool rolls (from roll-batch, roll-settle, roll-timeout). */
export interface RollConfig {
  batch: number;
  settleMs: number;
  timeoutMs: number;
}

/** The pool's whole state. */
export interface Pool {
  state: PoolState;
  /** the wanted number of instances */
  size: number;
  /** the pool's want (`u`, `d`, `o` sent to the pool go to every instance) */
  want: 'up' | 'down' | 'once';
  /** every instance, retiring ones included, by id */
  members: Member[];
  roll: RollConfig;
  /** ids still to restart in this roll, in order */
  queue: number[];
  inFlight: RollItem[];
  /** why the last roll stopped, while halted */
  failed: { id: number; reason: string } | null;
  /** rolling restarts completed */
  rolls: number;
}

/** The pool's timers: one of each per instance. */
export type PoolTimer = 'settle' | 'deadline';

/** Inputs of the pool. */
export type PoolEvent =
  /** the wanted size (at start, and the answer to readSize) */
  | { type: 'resize'; size: number }
  /** `h` to the pool: read `instances` again */
  | { type: 'reload' }
  /** `t` to the pool: a rolling restart */
  | { type: 'roll' }
  /** `u`, `d`, `o` to the pool */
  | { type: 'want'; letter: 'u' | 'd' | 'o' }
  /** any other letter: every instance gets it (p, c, a, i, q, 1, 2, k) */
  | { type: 'forward'; letter: string }
  /** `x` to the pool (or the supervisor's shutdown) */
  | { type: 'exit' }
  /** an instance's machine changed */
  | { type: 'changed'; id: number; view: InstanceView }
  | { type: 'timer'; name: PoolTimer; id: number }
  /** a retiring instance is down with nothing left (its machine's exitReady) */
  | { type: 'retired'; id: number };

/** The columns of the pool's table. */
export type PoolEventType = PoolEvent['type'];
/** Every pool event type, in table order. */
export const POOL_EVENT_TYPES = ['resize', 'reload', 'roll', 'want', 'forward', 'exit', 'changed', 'timer', 'retired'] as const satisfies readonly PoolEventType[];
/** The pool event of one type. */
export type PoolEventOf<K extends PoolEventType> = Extract<PoolEvent, { type: K }>;

/** Outputs of the pool, carried out in order by pool.ts. */
export type PoolEffect =
  /** make instance id (supervise/instance/ID/) and boot it, wanted up or down */
  | { type: 'start'; id: number; wantUp: boolean }
  /** send `x` to instance id: it stops gracefully (control/t, down-signal, finish) */
  | { type: 'retire'; id: number }
  /** send `tu` to instance id (a restart) */
  | { type: 'restart'; id: number }
  /** send these control letters to instance id */
  | { type: 'send'; id: number; letters: string }
  /** read `instances`; answered by a resize event (or nothing, after a warning) */
  | { type: 'readSize' }
  | { type: 'setTimer'; name: PoolTimer; id: number; ms: number }
  | { type: 'cancelTimer'; name: PoolTimer; id: number }
  /** write the pool's status (supervise/status, tsv.json, pool.json) */
  | { type: 'write' }
  | { type: 'warn'; message: string }
  /** every instance is gone after `x`: the supervisor's exit sequence goes on */
  | { type: 'exitReady' };

/** The result of one step. */
export interface PoolStepResult {
  pool: Pool;
  effects: PoolEffect[];
}

/** A pool before its first resize: no instance yet. */
export function initialPool(roll: RollConfig, wantUp: boolean): Pool {
  return { state: 'steady', size: 0, want: wantUp ? 'up' : 'down', members: [], roll, queue: [], inFlight: [], failed: null, rolls: 0 };
}

/** The event a control letter sent to the pool's own supervise/control is. */
export function poolEventOf(letter: string): PoolEvent | undefined {
  switch (letter) {
    case 't':
      return { type: 'roll' };
    case 'h':
      return { type: 'reload' };
    case 'x':
      return { type: 'exit' };
    case 'u':
    case 'd':
    case 'o':
      return { type: 'want', letter };
    case 'p':
    case 'c':
    case 'a':
    case 'i':
    case 'q':
    case '1':
    case '2':
    case 'k':
      return { type: 'forward', letter };
    default:
      // why: unknown bytes (and `e`) are ignored, as runsv ignores them
      return undefined;
  }
}

/** The size an `instances` file asks for: a whole number 1..MAX_INSTANCES (more is capped,
 * with a warning); anything else is an error and the size stays as it was. */
export function parseInstances(text: string): { size: number; warning?: string } | { error: string } {
  const word = text.split('\n')[0]?.trim() ?? '';
  if (!/^[+-]?\d+$/.test(word)) return { error: `invalid instances: ${JSON.stringify(word)} is not a whole number` };
  const n = Number(word);
  if (n < 1) return { error: `invalid instances: ${word}: a pool has 1 to ${MAX_INSTANCES} instances (use a down file to keep it down)` };
  if (n > MAX_INSTANCES) return { size: MAX_INSTANCES, warning: `instances ${word} is more than ${MAX_INSTANCES}: using ${MAX_INSTANCES}` };
  return { size: n };
}

/** A cell: what one event does in one state. */
type Handler<K extends PoolEventType> = ((m: PoolStep, ev: PoolEventOf<K>) => void) | typeof IGNORE;
/** One row: a cell for every event type. */
type Row = { [K in PoolEventType]: Handler<K> };

// Cells shared by several rows.
const resize: Handler<'resize'> = (m, ev) => m.resize(ev.size);
const reload: Handler<'reload'> = (m) => m.fx.push({ type: 'readSize' });
const want: Handler<'want'> = (m, ev) => m.want(ev.letter);
const forward: Handler<'forward'> = (m, ev) => m.forward(ev.letter);
const exit: Handler<'exit'> = (m) => m.exit();
const changed: Handler<'changed'> = (m, ev) => m.changed(ev.id, ev.view, false);
const retired: Handler<'retired'> = (m, ev) => m.retired(ev.id);
const beginRoll: Handler<'roll'> = (m) => m.beginRoll();

/** actions[state][event]: every pair written down; the compiler checks that none is missing. */
export const POOL_TABLE = {
  steady: { resize, reload, roll: beginRoll, want, forward, exit, changed, timer: IGNORE, retired },
  rolling: {
    resize,
    reload,
    // why: one roll at a time; a second `t` would restart instances the first just restarted.
    roll: (m) => m.fx.push({ type: 'warn', message: 'a rolling restart is already in progress: t ignored' }),
    want,
    forward,
    exit,
    changed: (m, ev) => m.changed(ev.id, ev.view, true),
    timer: (m, ev) => m.timer(ev.name, ev.id),
    retired,
  },
  halted: { resize, reload, roll: beginRoll, want, forward, exit, changed, timer: IGNORE, retired },
  exiting: { resize: IGNORE, reload: IGNORE, roll: IGNORE, want: IGNORE, forward, exit: IGNORE, changed, timer: IGNORE, retired },
  done: { resize: IGNORE, reload: IGNORE, roll: IGNORE, want: IGNORE, forward: IGNORE, exit: IGNORE, changed: IGNORE, timer: IGNORE, retired: IGNORE },
} satisfies Record<PoolState, Row>;

/** The cell for an event in a state (typed by the event). */
function cell<K extends PoolEventType>(state: PoolState, type: K): Handler<K> {
  return (POOL_TABLE[state] as Row)[type];
}

/** One transition: a copy of the pool with the event applied, and the effects to carry out. */
export function poolStep(pool: Pool, event: PoolEvent): PoolStepResult {
  const h = cell(pool.state, event.type);
  if (h === IGNORE) return { pool, effects: [] };
  const m = new PoolStep(pool);
  (h as (m: PoolStep, ev: PoolEvent) => void)(m, event);
  return { pool: m.p, effects: m.fx };
}

/** A view of an instance that has not started yet. */
const NOT_STARTED: InstanceView = { phase: 'down', pid: 0, starts: 0, ready: null };

/** Mutable working copy for one step (never visible outside poolStep()). */
class PoolStep {
  readonly p: Pool;
  readonly fx: PoolEffect[] = [];
  constructor(pool: Pool) {
    this.p = { ...pool, members: pool.members.map((x) => ({ ...x })), queue: [...pool.queue], inFlight: pool.inFlight.map((x) => ({ ...x })) };
  }

  /** The member with this id, if any. */
  private member(id: number): Member | undefined {
    return this.p.members.find((x) => x.id === id);
  }

  /** New ids start (or wait for their retiring namesake), the highest ids retire, the rest are
   * untouched; ids leaving a roll leave its queue and its in-flight set. */
  resize(size: number): void {
    const p = this.p;
    if (size === p.size) return;
    const old = p.size;
    p.size = size;
    for (let id = old; id < size; id++) {
      const m = this.member(id);
      if (m !== undefined) {
        // why: its old instance still stops; two processes with one id would share its supervise dir.
        if (m.retiring) m.restartWhenRetired = true;
        continue;
      }
      p.members.push({ id, retiring: false, restartWhenRetired: false, view: NOT_STARTED });
      this.fx.push({ type: 'start', id, wantUp: p.want !== 'down' });
    }
    // why: the highest ids go first (the order they are told; each stops on its own).
    for (let id = old - 1; id >= size; id--) {
      const m = this.member(id);
      if (m === undefined) continue;
      m.restartWhenRetired = false;
      if (m.retiring) continue;
      m.retiring = true;
      this.fx.push({ type: 'retire', id });
    }
    p.members.sort((a, b) => a.id - b.id);
    if (p.state === 'rolling') {
      p.queue = p.queue.filter((id) => id < size);
      for (const it of p.inFlight.filter((x) => x.id >= size)) this.cancelItem(it.id);
      p.inFlight = p.inFlight.filter((x) => x.id < size);
      this.next();
    }
    this.fx.push({ type: 'write' });
  }

  /** `t` to the pool: restart every instance not retiring, batch at a time, in id order. */
  beginRoll(): void {
    const p = this.p;
    p.failed = null;
    p.queue = p.members.filter((x) => !x.retiring).map((x) => x.id);
    p.inFlight = [];
    p.state = 'rolling';
    this.next();
    this.fx.push({ type: 'write' });
  }

  /** Fill the roll's in-flight set from its queue; a roll with nothing left is complete. */
  private next(): void {
    const p = this.p;
    while (p.inFlight.length < p.roll.batch && p.queue.length > 0) {
      const id = p.queue.shift() as number;
      const m = this.member(id);
      if (m === undefined || m.retiring) continue;
      p.inFlight.push({ id, startsBefore: m.view.starts, stage: 'restarting' });
      this.fx.push({ type: 'restart', id });
      if (p.roll.timeoutMs > 0) this.fx.push({ type: 'setTimer', name: 'deadline', id, ms: p.roll.timeoutMs });
    }
    if (p.inFlight.length === 0 && p.queue.length === 0) {
      p.state = 'steady';
      p.rolls += 1;
      this.fx.push({ type: 'write' });
    }
  }

  /** Drop the timers of an in-flight instance. */
  private cancelItem(id: number): void {
    this.fx.push({ type: 'cancelTimer', name: 'deadline', id }, { type: 'cancelTimer', name: 'settle', id });
  }

  /** An instance of the roll is ready again: the next one may go. */
  private itemDone(id: number): void {
    this.cancelItem(id);
    this.p.inFlight = this.p.inFlight.filter((x) => x.id !== id);
    this.next();
  }

  /** An instance of the roll failed: the roll stops there, and status says so. */
  private fail(id: number, reason: string): void {
    const p = this.p;
    for (const it of p.inFlight) this.cancelItem(it.id);
    p.inFlight = [];
    p.queue = [];
    p.failed = { id, reason };
    p.state = 'halted';
    this.fx.push({ type: 'warn', message: `rolling restart stopped: instance ${id} ${reason}` }, { type: 'write' });
  }

  /** `u`, `d`, `o` to the pool: the pool's want, and the letter to every instance. `d` and `o`
   * end a roll (it would bring instances back up). */
  want(letter: 'u' | 'd' | 'o'): void {
    const p = this.p;
    p.want = letter === 'u' ? 'up' : letter === 'd' ? 'down' : 'once';
    if (p.state === 'rolling' && letter !== 'u') {
      for (const it of p.inFlight) this.cancelItem(it.id);
      p.inFlight = [];
      p.queue = [];
      p.state = 'steady';
      this.fx.push({ type: 'warn', message: `rolling restart abandoned: ${letter} sent to the pool` });
    }
    this.forward(letter);
    this.fx.push({ type: 'write' });
  }

  /** A letter to every instance that is not retiring. */
  forward(letter: string): void {
    for (const m of this.p.members) if (!m.retiring) this.fx.push({ type: 'send', id: m.id, letters: letter });
  }

  /** `x`: every instance exits; the pool is done once the last is gone. */
  exit(): void {
    const p = this.p;
    for (const it of p.inFlight) this.cancelItem(it.id);
    p.inFlight = [];
    p.queue = [];
    p.state = 'exiting';
    for (const m of p.members) {
      m.restartWhenRetired = false;
      if (m.retiring) continue;
      m.retiring = true;
      this.fx.push({ type: 'retire', id: m.id });
    }
    this.fx.push({ type: 'write' });
    this.maybeDone();
  }

  /** An instance's machine changed; in a roll, an in-flight one may now be ready or failed. */
  changed(id: number, view: InstanceView, rolling: boolean): void {
    const m = this.member(id);
    if (m === undefined) return;
    m.view = view;
    this.fx.push({ type: 'write' });
    if (!rolling) return;
    const it = this.p.inFlight.find((x) => x.id === id);
    if (it === undefined) return;
    if (view.starts <= it.startsBefore) return;
    if (view.starts > it.startsBefore + 1 || view.phase !== 'run') {
      this.fail(id, 'exited before it was ready');
      return;
    }
    if (view.ready === true) this.itemDone(id);
    else if (view.ready === null && it.stage === 'restarting') {
      it.stage = 'settling';
      this.fx.push({ type: 'setTimer', name: 'settle', id, ms: this.p.roll.settleMs });
    }
  }

  /** A roll timer fired for instance id. */
  timer(name: PoolTimer, id: number): void {
    const it = this.p.inFlight.find((x) => x.id === id);
    if (it === undefined) return;
    if (name === 'deadline') {
      this.fail(id, `was not ready within ${this.p.roll.timeoutMs} ms`);
      return;
    }
    const v = this.member(id)?.view;
    // why: still the run the roll started, up the whole settle time (an exit would have failed it).
    if (it.stage === 'settling' && v !== undefined && v.phase === 'run' && v.starts === it.startsBefore + 1) this.itemDone(id);
  }

  /** A retiring instance is gone: forget it, or start its id afresh when wanted again. */
  retired(id: number): void {
    const p = this.p;
    const m = this.member(id);
    if (m === undefined || !m.retiring) return;
    if (m.restartWhenRetired && id < p.size && p.state !== 'exiting') {
      m.retiring = false;
      m.restartWhenRetired = false;
      m.view = NOT_STARTED;
      this.fx.push({ type: 'start', id, wantUp: p.want !== 'down' });
    } else p.members = p.members.filter((x) => x.id !== id);
    this.fx.push({ type: 'write' });
    this.maybeDone();
  }

  /** Exiting and nothing left: tell the supervisor (once). */
  private maybeDone(): void {
    if (this.p.state !== 'exiting' || this.p.members.length > 0) return;
    this.p.state = 'done';
    this.fx.push({ type: 'exitReady' });
  }
}
