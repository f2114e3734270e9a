// `tsvctl status --json`: one object per service, runit's fields plus tsv.json's extras.
import { formatTai64n, monoAgeSeconds } from '@tsv/core';
import type { Now, ProcStatus, ServiceStatus } from './status.js';
import { usageOfExtra, type UsageJson } from './usage.js';

/** One process in JSON (the service, or its logger). */
export interface ProcJson {
  /** false when there is no status to report (see error) */
  ok: boolean;
  /** sv's complaint (`runsv not running`, `unable to open supervise/ok: ...`), or null */
  error: string | null;
  state: 'run' | 'down' | 'finish' | null;
  pid: number | null;
  /** whole seconds in this state (tsv: from the monotonic clock) */
  seconds: number | null;
  /** wall-clock ms of the status stamp, and its TAI64N text */
  since: number | null;
  tai64n: string | null;
  paused: boolean | null;
  /** byte 17: up, or down (runit stores once and exit as down) */
  want: 'up' | 'down' | null;
  gotTerm: boolean | null;
  normallyUp: boolean | null;
  /** who wrote the status: tsv (tsv.json present) or runsv-compatible */
  supervisor: 'tsv' | 'runit' | null;
  /** what only tsv knows, or null for runsv */
  extra: ExtraJson | null;
}

/** tsv.json's extras, with durations computed. */
export interface ExtraJson {
  want: 'up' | 'down' | 'once' | 'exit';
  ready: boolean | null;
  readySeconds: number | null;
  lastExit: { code: number | null; signal: string | null; at: number; reason?: string } | null;
  restarts: number;
  backoff: { failures: number; delayMs: number; nextStartAt: number | null; givenUp: boolean };
  pgid: number;
  supervisorPid: number;
  program: string;
  /** cgroup or session (tsv.json's mode; session for a tsv older than cgroups) */
  mode: 'cgroup' | 'session' | null;
  /** CPU, memory, processes and OOM kills, measured now */
  usage: UsageJson | null;
}

/** The JSON of one process. */
export function procJson(p: ProcStatus, now: Now): ProcJson {
  const base: ProcJson = {
    ok: false,
    error: null,
    state: null,
    pid: null,
    seconds: null,
    since: null,
    tai64n: null,
    paused: null,
    want: null,
    gotTerm: null,
    normallyUp: null,
    supervisor: null,
    extra: null,
  };
  if (p.problem !== undefined) return { ...base, error: p.problem.message };
  const snap = p.snap;
  if (snap === undefined) return base;
  const r = snap.rec;
  const x = snap.extra;
  const f = snap.extraFile;
  return {
    ok: p.view !== undefined,
    error: p.view === undefined ? `unable to stat down: ${p.downError ?? ''}` : null,
    state: r.state,
    pid: r.pid,
    seconds: p.view?.seconds ?? null,
    since: r.time.seconds * 1000 + Math.floor(r.time.nanos / 1e6),
    tai64n: formatTai64n(r.time),
    paused: r.paused,
    want: r.wantUp ? 'up' : 'down',
    gotTerm: r.gotTerm,
    normallyUp: p.normallyUp ?? null,
    supervisor: f !== undefined ? 'tsv' : 'runit',
    extra:
      x !== undefined && f !== undefined
        ? {
            want: x.want,
            ready: x.ready,
            readySeconds: x.ready === true && x.readySinceMono !== null ? monoAgeSeconds(x.readySinceMono, now.mono) : null,
            lastExit: x.lastExit,
            restarts: x.restarts,
            backoff: x.backoff,
            pgid: x.pgid,
            supervisorPid: f.supervisor.pid,
            program: f.supervisor.program,
            mode: x.mode ?? (x.inProcess === true ? null : 'session'),
            usage: usageOfExtra(x),
          }
        : null,
  };
}

/** The JSON array for all services; report() gets sv's line for each problem (it counts
 * towards the exit code). */
export function renderJson(rows: ServiceStatus[], now: Now, report: (line: string) => void): string {
  const list = rows.map((s) => {
    if (s.main.problem !== undefined) report(`${s.main.problem.level}: ${s.name}: ${s.main.problem.message}`);
    let log: ProcJson | { ok: false; error: string } | null = null;
    if (typeof s.log === 'string') {
      report(`warning: ${s.name}/log: ${s.log}`);
      log = { ok: false, error: s.log };
    } else if (s.log !== null) {
      if (s.log.problem !== undefined) report(`${s.log.problem.level}: ${s.name}/log: ${s.log.problem.message}`);
      log = procJson(s.log, now);
    }
    return { name: s.name, dir: s.dir, ...procJson(s.main, now), log };
  });
  return `${JSON.stringify(list, null, 2)}\n`;
}
