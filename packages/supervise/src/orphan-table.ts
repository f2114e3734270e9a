// Takeover of what a dead supervisor left running, as a pure table (ORPHAN_TABLE); takeover.ts
// finds the orphans and carries out the effects.
import { IGNORE } from './machine.js';

// ---- Takeover: one process a dead supervisor left running (found by takeover.ts by pid and
// start time), stopped so that exactly one instance runs afterwards. The old service is
// stopped at once; the old logger is first left to drain the old pipe and exit by itself at end
// of input. The shell polls /proc (a non-child cannot be waited for) and reports `gone`, or
// `deadline` when the last deadline effect passed.

/** Where the stop of one orphan is. */
export type OrphanState =
  /** identified, nothing sent yet */
  | 'found'
  /** (service) TERM + CONT sent: waiting up to killMs */
  | 'terminating'
  /** (logger) waiting up to drainMs for it to exit at end of input */
  | 'draining'
  /** (logger) it did not: TERM + CONT sent, waiting up to logKillMs */
  | 'drainTerminating'
  /** KILL + CONT sent: waiting up to giveUpMs */
  | 'killing'
  /** the orphan and its process group are gone */
  | 'gone'
  /** still alive after KILL: the service must not be started */
  | 'stuck';

/** Every orphan state, in table order. */
export const ORPHAN_STATES = ['found', 'terminating', 'draining', 'drainTerminating', 'killing', 'gone', 'stuck'] as const satisfies readonly OrphanState[];

/** What happens to an orphan. */
export type OrphanEventType = 'begin' | 'gone' | 'deadline';
/** Every orphan event type, in table order. */
export const ORPHAN_EVENT_TYPES = ['begin', 'gone', 'deadline'] as const satisfies readonly OrphanEventType[];

/** What to do about an orphan, in order. */
export type OrphanEffect =
  | { type: 'signal'; signal: NodeJS.Signals }
  /** report `deadline` after ms unless it is gone before */
  | { type: 'deadline'; ms: number }
  | { type: 'warn'; message: string }
  | { type: 'done' }
  | { type: 'fail'; message: string };

/** One orphan and the times of its stop. */
export interface Orphan {
  state: OrphanState;
  pid: number;
  /** `./run`, `log/./run` */
  label: string;
  isLog: boolean;
  /** SIGKILL the service this long after TERM (its timeout-kill, default 7000) */
  killMs: number;
  /** how long the logger may take to drain and exit by itself (5000) */
  drainMs: number;
  /** SIGKILL the logger this long after its TERM (7000) */
  logKillMs: number;
  /** after SIGKILL, give up after this long (5000) */
  giveUpMs: number;
}

type OrphanCell = ((o: Orphan) => { to: OrphanState; fx: OrphanEffect[] }) | typeof IGNORE;

/** TERM + CONT, then wait ms. */
const terminate = (ms: number): OrphanEffect[] => [{ type: 'signal', signal: 'SIGTERM' }, { type: 'signal', signal: 'SIGCONT' }, { type: 'deadline', ms }];
/** KILL + CONT (with a warning), then wait giveUpMs. */
const killOrphan = (o: Orphan): { to: OrphanState; fx: OrphanEffect[] } => ({
  to: 'killing',
  fx: [{ type: 'warn', message: `taking over: ${o.label} (pid ${o.pid}) did not stop: sending SIGKILL` }, { type: 'signal', signal: 'SIGKILL' }, { type: 'signal', signal: 'SIGCONT' }, { type: 'deadline', ms: o.giveUpMs }],
});
const orphanGone: OrphanCell = () => ({ to: 'gone', fx: [{ type: 'done' }] });

/** orphan[state][event]: every pair written down. */
export const ORPHAN_TABLE = {
  found: {
    begin: (o) =>
      o.isLog
        ? { to: 'draining', fx: [{ type: 'deadline', ms: o.drainMs }] }
        : { to: 'terminating', fx: [{ type: 'warn', message: `taking over: stopping ${o.label} (pid ${o.pid}) left running by a dead supervisor` }, ...terminate(o.killMs)] },
    gone: orphanGone,
    deadline: IGNORE,
  },
  terminating: { begin: IGNORE, gone: orphanGone, deadline: killOrphan },
  draining: {
    begin: IGNORE,
    gone: orphanGone,
    deadline: (o) => ({
      to: 'drainTerminating',
      fx: [{ type: 'warn', message: `taking over: logger ${o.label} (pid ${o.pid}) left by a dead supervisor did not exit at end of input: sending SIGTERM` }, ...terminate(o.logKillMs)],
    }),
  },
  drainTerminating: { begin: IGNORE, gone: orphanGone, deadline: killOrphan },
  killing: {
    begin: IGNORE,
    gone: orphanGone,
    deadline: (o) => ({ to: 'stuck', fx: [{ type: 'fail', message: `unable to stop ${o.label} (pid ${o.pid}) left running by a dead supervisor: still alive after SIGKILL` }] }),
  },
  gone: { begin: IGNORE, gone: IGNORE, deadline: IGNORE },
  stuck: { begin: IGNORE, gone: IGNORE, deadline: IGNORE },
} satisfies Record<OrphanState, Record<OrphanEventType, OrphanCell>>;

/** One step of an orphan's stop. */
export function orphanStep(o: Orphan, ev: OrphanEventType): { orphan: Orphan; effects: OrphanEffect[] } {
  const h = (ORPHAN_TABLE[o.state] as Record<OrphanEventType, OrphanCell>)[ev];
  if (h === IGNORE) return { orphan: o, effects: [] };
  const r = h(o);
  return { orphan: { ...o, state: r.to }, effects: r.fx };
}
