// A service's status as a typed object, from one read of supervise/ (the 20-byte record of
// runit, plus tsv.json when a live tsv wrote it).
import { type ExtraProcess, monoNowMs, type RunState, SERVICE, type Snapshot } from '@tsv/core';
import { probe, readExtraFile } from '@tsv/os';
import { statSync } from 'node:fs';
import { NotSupervisedError, ServiceError } from './errors.js';

/** How the last run ended (tsv only). */
export interface LastExit {
  /** exit code, or null when the process was killed by a signal */
  code: number | null;
  /** signal name (`SIGTERM`, ...), or null after a normal exit */
  signal: string | null;
  /** when it ended */
  at: Date;
}

/** Restart backoff (tsv only). */
export interface Backoff {
  /** consecutive quick deaths counted towards the delay */
  failures: number;
  /** the current delay before the next start, ms */
  delayMs: number;
  /** when the next automatic start is due, or null when none is pending */
  nextStartAt: Date | null;
  /** true once the give-up rule stopped restarting */
  givenUp: boolean;
}

/** One read of a service's status. Fields only tsv records are null under a real runsv. */
export interface ServiceStatus {
  /** the service directory */
  dir: string;
  /** `tsv` when a live tsv wrote supervise/tsv.json, else `runit` (runsv, or anything writing runit's record) */
  supervisor: 'tsv' | 'runit';
  /** `down`, `run` (the run script runs) or `finish` (the finish script runs) */
  state: RunState;
  /** pid of run or finish, null when none runs */
  pid: number | null;
  /** when the process entered this state */
  since: Date;
  /** ms in this state (from tsv's monotonic stamp when there is one: immune to clock jumps) */
  uptimeMs: number;
  /** what the supervisor is asked for; runsv records only up or down (`once` shows as `down`) */
  want: 'up' | 'down' | 'once' | 'exit';
  /** stopped by a pause command (SIGSTOP) */
  paused: boolean;
  /** a TERM was sent and the process has not exited yet */
  gotTerm: boolean;
  /** the service starts when its supervisor does (no `down` file) */
  normallyUp: boolean;
  /** readiness (notification-fd): true or false under tsv for a service that reports it; null otherwise */
  ready: boolean | null;
  /** how the last run ended (tsv only; null before the first exit or under runsv) */
  lastExit: LastExit | null;
  /** restarts by this supervisor (tsv only) */
  restarts: number | null;
  /** restart backoff (tsv only) */
  backoff: Backoff | null;
}

/** Is the service normally up (no `down` file)? */
function normallyUp(dir: string): boolean {
  try {
    statSync(`${dir}/${SERVICE.down}`);
    return false;
  } catch {
    return true;
  }
}

/** The typed status of one snapshot. */
export function statusOf(dir: string, snap: Snapshot, nowMs: number = Date.now(), nowMono: number = monoNowMs()): ServiceStatus {
  const r = snap.rec;
  const x: ExtraProcess | undefined = snap.extra;
  const stampMs = r.time.seconds * 1000 + Math.floor(r.time.nanos / 1e6);
  return {
    dir,
    supervisor: x !== undefined ? 'tsv' : 'runit',
    state: r.state,
    pid: r.pid === 0 ? null : r.pid,
    since: new Date(x?.since ?? stampMs),
    uptimeMs: Math.max(0, Math.round(x !== undefined ? nowMono - x.sinceMono : nowMs - stampMs)),
    want: x?.want ?? (r.wantUp ? 'up' : 'down'),
    paused: r.paused,
    gotTerm: r.gotTerm,
    normallyUp: normallyUp(dir),
    ready: x?.ready ?? null,
    lastExit: x?.lastExit ? { code: x.lastExit.code, signal: x.lastExit.signal, at: new Date(x.lastExit.at) } : null,
    restarts: x?.restarts ?? null,
    backoff: x ? { failures: x.backoff.failures, delayMs: x.backoff.delayMs, nextStartAt: x.backoff.nextStartAt === null ? null : new Date(x.backoff.nextStartAt), givenUp: x.backoff.givenUp } : null,
  };
}

/** Read dir's snapshot, or throw NotSupervisedError / ServiceError('ESTATUS'). */
export function readSnapshotOrThrow(dir: string): Snapshot {
  const p = probe(dir, readExtraFile);
  if (p.kind === 'not-running') throw new NotSupervisedError(dir);
  if (p.kind === 'warn') throw new ServiceError('ESTATUS', dir, `${dir}: ${p.message}`);
  return p.snap;
}

/** Read dir's status once. */
export function readStatus(dir: string): ServiceStatus {
  return statusOf(dir, readSnapshotOrThrow(dir));
}
