// supervise/tsv.json: what runit's 20-byte status cannot say (exit status, restarts, readiness,
// backoff, identities for takeover). Written by tsv beside `status` (atomically, like it);
// read by tsvctl. A pure codec: encode to text, decode from text.

/** How the last run ended. */
export interface LastExit {
  /** exit code, or null when killed by a signal */
  code: number | null;
  /** signal name (SIGTERM, ...), or null after a normal exit */
  signal: string | null;
  /** wall-clock ms of the exit */
  at: number;
  /** why run could not start or failed, when the supervisor knows (`unable to start ./run:
   * access denied`, or the last line run wrote to the supervisor's stderr before exiting) */
  reason?: string;
}

/** Restart backoff state. */
export interface BackoffState {
  /** consecutive quick deaths counted towards the delay and the give-up rule */
  failures: number;
  /** current delay before the next start, ms (0: none pending) */
  delayMs: number;
  /** wall-clock ms of the next automatic start, or null when none is pending */
  nextStartAt: number | null;
  /** true once the give-up rule stopped restarting; cleared by `u`, `o` or a restart command */
  givenUp: boolean;
}

/** One supervised process (the service, or its logger) as tsv.json records it. */
export interface ExtraProcess {
  state: 'down' | 'run' | 'finish';
  /** up: want up; down; once: run once then stay down; exit: the supervisor is exiting */
  want: 'up' | 'down' | 'once' | 'exit';
  /** pid of run or finish, 0 when none */
  pid: number;
  /** /proc start time (ticks after boot) of pid, so a recycled pid is never mistaken */
  pidStartTicks: number | null;
  /** process group of the service (it leads its own), 0 when none */
  pgid: number;
  /** wall-clock ms of the last state change (start of run, or going down) */
  since: number;
  /** CLOCK_MONOTONIC ms of the same moment (process.hrtime, system-wide on Linux): readers
   * compute durations from it, so a wall-clock jump never shows a negative or huge uptime */
  sinceMono: number;
  /** readiness (notification-fd): null when the service has no readiness protocol */
  ready: boolean | null;
  /** monotonic ms when readiness was notified, or null */
  readySinceMono: number | null;
  lastExit: LastExit | null;
  /** how many times run was started by this supervisor, minus one (the first start is no restart) */
  restarts: number;
  backoff: BackoffState;
  /** true when the process runs inside the supervisor (an in-process logger) */
  inProcess?: boolean;
  /** cgroup: run and all its descendants are in a cgroup v2 of their own (`cgroup`); session:
   * no cgroup could be made, leftovers are tracked by session and process group */
  mode?: 'cgroup' | 'session';
  /** the directory of the process's cgroup (cgroup mode) */
  cgroup?: string;
}

/** The whole of supervise/tsv.json. */
export interface ExtraStatus {
  /** format version */
  v: 1;
  /** the supervising process (tsv or tsvscan) */
  supervisor: { pid: number; startTicks: number | null; program: string };
  service: ExtraProcess;
  /** the 20 bytes of supervise/status written with this record, in hex: a reader of tsv.json
   * gets runit's record of the same moment from the same file (absent in files of older tsv) */
  status?: string;
}

/** Current CLOCK_MONOTONIC time in ms (system-wide on Linux, so comparable across processes). */
export function monoNowMs(): number {
  return Number(process.hrtime.bigint() / 1_000_000n);
}

/** A fresh record for a process that has not run yet. */
export function initialExtraProcess(want: ExtraProcess['want'], nowMs: number, monoMs: number): ExtraProcess {
  return {
    state: 'down',
    want,
    pid: 0,
    pidStartTicks: null,
    pgid: 0,
    since: nowMs,
    sinceMono: monoMs,
    ready: null,
    readySinceMono: null,
    lastExit: null,
    restarts: 0,
    backoff: { failures: 0, delayMs: 0, nextStartAt: null, givenUp: false },
  };
}

/** Encode tsv.json (one line of JSON and a newline). */
export function encodeExtraStatus(s: ExtraStatus): string {
  return `${JSON.stringify(s)}\n`;
}

/** Is v a plain object (not null, not an array)? */
function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Does p have every field readers compute with, of the right type? (Fields added later may be
 * absent: pidStartTicks, readySinceMono, inProcess.) */
function isExtraProcess(p: unknown): boolean {
  if (!isObject(p) || !isObject(p.backoff)) return false;
  const b = p.backoff;
  return (
    (p.state === 'down' || p.state === 'run' || p.state === 'finish') &&
    (p.want === 'up' || p.want === 'down' || p.want === 'once' || p.want === 'exit') &&
    typeof p.pid === 'number' &&
    typeof p.since === 'number' &&
    typeof p.sinceMono === 'number' &&
    typeof p.restarts === 'number' &&
    (p.lastExit === null || isObject(p.lastExit)) &&
    typeof b.failures === 'number' &&
    typeof b.delayMs === 'number' &&
    (b.nextStartAt === null || typeof b.nextStartAt === 'number') &&
    typeof b.givenUp === 'boolean'
  );
}

/** Decode tsv.json; undefined when it is not a version-1 record with a supervisor and a
 * well-formed service (a reader must never get a record it would throw on). */
export function decodeExtraStatus(text: string): ExtraStatus | undefined {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isObject(v) || v.v !== 1 || !isObject(v.supervisor) || typeof v.supervisor.pid !== 'number' || !isExtraProcess(v.service)) return undefined;
  return v as unknown as ExtraStatus;
}

/** Seconds (whole, never negative) since a monotonic stamp. */
export function monoAgeSeconds(sinceMono: number, nowMono: number = monoNowMs()): number {
  return Math.max(0, Math.floor((nowMono - sinceMono) / 1000));
}
