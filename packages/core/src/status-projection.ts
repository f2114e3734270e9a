// The status projection (pure): one supervised process's state -> the bytes of the four files of
// supervise/ (`status`, `stat`, `pid`, `tsv.json`). The supervisor computes all four from one
// state at one moment, so they always describe the same moment; tsv.json also carries the exact
// 20 bytes of `status` it goes with, so a reader that has tsv.json needs nothing else and never
// has to reconcile two files (see SuperviseDir.writeStatus for the write order).
import { encodeExtraStatus, type ExtraProcess, type ExtraStatus } from './extra-status.js';
import { decodeStatus, encodeStatus, formatStat, type RunState, type StatusRecord } from './status-codec.js';
import { taiFromMs } from './tai64n.js';

/** What the projection needs of a supervised process's state. */
export interface StatusView {
  state: RunState;
  want: ExtraProcess['want'];
  pid: number;
  pidStartTicks: number | null;
  pgid: number;
  paused: boolean;
  gotTerm: boolean;
  /** the last state change, wall clock and monotonic ms */
  since: { wall: number; mono: number };
  ready: boolean | null;
  readyMono: number | null;
  lastExit: ExtraProcess['lastExit'];
  /** how many times run was started */
  starts: number;
  failures: number;
  restartAt: { wall: number; delayMs: number } | null;
  givenUp: boolean;
  inProcess: boolean;
  /** how the process's leftovers are tracked: its own cgroup, or its session and group */
  mode?: 'cgroup' | 'session';
  /** the cgroup's directory in cgroup mode */
  cgroupPath?: string | null;
}

/** The four files' contents. */
export interface StatusFiles {
  /** runit's 20 bytes */
  status: Buffer;
  /** the `stat` line */
  stat: string;
  /** the `pid` file: the pid and a newline, empty when there is none (as runsv writes it) */
  pid: string;
  /** tsv.json, with `status` (hex of the 20 bytes) */
  extra: string;
}

/** Project one process's state into status, stat, pid and tsv.json. */
export function projectStatus(v: StatusView, supervisor: ExtraStatus['supervisor']): StatusFiles {
  const status = encodeStatus({ time: taiFromMs(v.since.wall), pid: v.pid, paused: v.paused, wantUp: v.want === 'up', gotTerm: v.gotTerm, state: v.state });
  const stat = formatStat({ state: v.state, paused: v.paused, gotTerm: v.gotTerm, want: v.want === 'up' ? 'up' : v.want === 'exit' ? 'exit' : 'down' });
  const service: ExtraProcess = {
    state: v.state,
    want: v.want,
    pid: v.pid,
    pidStartTicks: v.pid === 0 ? null : v.pidStartTicks,
    pgid: v.pgid,
    since: v.since.wall,
    sinceMono: v.since.mono,
    ready: v.ready,
    readySinceMono: v.readyMono,
    lastExit: v.lastExit,
    restarts: Math.max(0, v.starts - 1),
    backoff: { failures: v.failures, delayMs: v.restartAt?.delayMs ?? 0, nextStartAt: v.restartAt?.wall ?? null, givenUp: v.givenUp },
  };
  if (v.inProcess) service.inProcess = true;
  if (v.mode !== undefined) service.mode = v.mode;
  if (v.mode === 'cgroup' && typeof v.cgroupPath === 'string') service.cgroup = v.cgroupPath;
  const extra: ExtraStatus = { v: 1, supervisor, service, status: status.toString('hex') };
  return { status, stat, pid: v.pid === 0 ? '' : `${v.pid}\n`, extra: encodeExtraStatus(extra) };
}

/** The runit record a tsv.json carries (its `status`), or undefined when it has none (written
 * by a tsv older than the field) or it is malformed. */
export function statusOfExtra(x: ExtraStatus): StatusRecord | undefined {
  if (typeof x.status !== 'string' || !/^[0-9a-f]{40}$/.test(x.status)) return undefined;
  return decodeStatus(Buffer.from(x.status, 'hex'));
}
