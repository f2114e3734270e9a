// What a pool's own supervise/ says (pure): runit's status of the pool's directory, from its
// instances' machines, and the pool's pool.json. The honest answer runit's sv and svstat get on
// the pool's directory: `run` when any instance runs, with the pid of the lowest id that runs
// (instance 0 normally), `down` when none does; its time is the pool's last change (first up,
// all down, or the last completed rolling restart). tsv.json's `ready` is false during a roll
// and until every instance is ready, so `tsvctl -w restart ./pool` waits for the whole roll.
import type { StatusView } from '@tsv/core';
import type { MachineState, Now } from './machine.js';
import type { Pool } from './pool-table.js';

/** The pool's aggregate as the previous write left it (to know when its time changes). */
export interface PoolSince {
  phase: StatusView['state'];
  rolls: number;
  since: Now;
}

/** The status of the pool's directory, and the new PoolSince. */
export function poolStatusView(pool: Pool, machines: ReadonlyMap<number, Readonly<MachineState>>, prev: PoolSince, now: Now): { view: StatusView; since: PoolSince } {
  const live = pool.members.filter((m) => !m.retiring).map((m) => ({ id: m.id, s: machines.get(m.id) })).filter((x) => x.s !== undefined) as { id: number; s: MachineState }[];
  const all = pool.members.map((m) => machines.get(m.id)).filter((s): s is MachineState => s !== undefined);
  const phase: StatusView['state'] = all.some((s) => s.phase === 'run') ? 'run' : all.some((s) => s.phase === 'finish') ? 'finish' : 'down';
  const rep = live.find((x) => x.s.phase === 'run')?.s ?? all.find((s) => s.phase === 'run') ?? live[0]?.s;
  const since = phase !== prev.phase || pool.rolls !== prev.rolls ? { phase, rolls: pool.rolls, since: now } : prev;
  const protocol = live.some((x) => x.s.ready !== null);
  let ready: boolean | null = null;
  if (pool.state === 'rolling') ready = false;
  else if (protocol) ready = live.length > 0 && live.every((x) => x.s.phase === 'run' && x.s.ready === true);
  const readyMono = ready === true ? Math.max(...live.map((x) => x.s.readyMono ?? 0)) : null;
  const view: StatusView = {
    state: phase,
    want: pool.state === 'exiting' || pool.state === 'done' ? 'exit' : pool.want,
    pid: rep?.phase === 'run' ? rep.pid : 0,
    pidStartTicks: null,
    pgid: rep?.phase === 'run' ? rep.pgid : 0,
    paused: rep?.paused ?? false,
    gotTerm: false,
    since: since.since,
    ready,
    readyMono,
    lastExit: rep?.lastExit ?? null,
    // why: tsv.json's restarts are the pool's completed rolls (each restarts every instance).
    starts: pool.rolls + 1,
    failures: Math.max(0, ...live.map((x) => x.s.failures)),
    restartAt: null,
    givenUp: live.some((x) => x.s.givenUp),
    inProcess: false,
  };
  return { view, since };
}

/** pool.json: what tsvctl shows under the pool's line. */
export interface PoolFile {
  v: 1;
  size: number;
  state: Pool['state'];
  want: Pool['want'];
  batch: number;
  rolls: number;
  /** ids of the current roll: in flight, still queued */
  rolling: { inFlight: number[]; queued: number[] } | null;
  failed: { id: number; reason: string } | null;
  instances: { id: number; retiring: boolean }[];
}

/** The pool's pool.json text. */
export function poolFileText(pool: Pool): string {
  const f: PoolFile = {
    v: 1,
    size: pool.size,
    state: pool.state,
    want: pool.want,
    batch: pool.roll.batch,
    rolls: pool.rolls,
    rolling: pool.state === 'rolling' ? { inFlight: pool.inFlight.map((x) => x.id), queued: [...pool.queue] } : null,
    failed: pool.failed,
    instances: pool.members.map((m) => ({ id: m.id, retiring: m.retiring })),
  };
  return `${JSON.stringify(f)}\n`;
}
