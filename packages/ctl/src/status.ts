// A service's status, as sv sees it: reading supervise/ (runit.md 3.4: liveness through
// supervise/ok, the 20-byte status, and tsv's tsv.json when a live tsv wrote it), sv's status
// line (runit.md 3.5, byte for byte, plus tsv's extras appended as further `, `-separated fields
// after sv's flags) and sv's report lines with the exit code they make (runit.md 3.7). One
// module because every tsvctl command needs all three and each ESM module costs start-up time;
// the table and JSON renderings are loaded lazily.
import { closeSync, constants, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { decodeScheduleStatus, decodeStatus, errCode, errstr, EXIT, type ExtraProcess, type ExtraStatus, monoAgeSeconds, type RunState, SERVICE, type Snapshot, STATUS_SIZE, statusOfExtra, type StatusRecord, SUPERVISE } from '@tsv/core';
import { cgroupOomKills, probe, writeErr, writeOut, type ExtraReader } from '@tsv/os';
import { chdirError, servicePath } from './argv.js';
import { instanceDir, poolNotes, readPoolFile, type PoolInfo } from './pool-file.js';

/** One supervised process (the service, or its logger) as status saw it. */
export interface ProcStatus {
  /** sv's complaint instead of a status: `fail` (runsv not running) or `warning` */
  problem: { level: 'fail' | 'warning'; message: string } | undefined;
  snap: Snapshot | undefined;
  /** undefined when `down` could not be stat'ed (downError says why) */
  normallyUp: boolean | undefined;
  downError: string | undefined;
  view: StatusView | undefined;
}

/** A service's status: the main process and its logger. */
export interface ServiceStatus {
  name: string;
  dir: string;
  main: ProcStatus;
  /** null: no log/ (ENOENT); a string: log/ could not be entered (sv's warning text) */
  log: ProcStatus | string | null;
  /** a scheduled service that is not scheduled (supervise/schedule.json): why, e.g.
   * `schedule: invalid minute: 61 (...)`; read with the extras */
  unscheduled?: string;
  /** a pool (tsv's pool.json, read with the extras): its state and each instance's status */
  pool?: { info: PoolInfo; instances: { id: number; name: string; dir: string; st: ProcStatus }[] };
}

/** Read one supervised process's status (sv's svstatus_get + svstatus_print). */
export function procStatus(dir: string, now: Now, withExtras: boolean, readExtra?: ExtraReader): ProcStatus {
  const p = probe(dir, readExtra);
  const st: ProcStatus = { problem: undefined, snap: undefined, normallyUp: undefined, downError: undefined, view: undefined };
  if (p.kind === 'not-running') st.problem = { level: 'fail', message: 'runsv not running' };
  else if (p.kind === 'warn') st.problem = { level: 'warning', message: p.message };
  else {
    st.snap = p.snap;
    const nu = normallyUp(dir);
    if (typeof nu === 'boolean') {
      st.normallyUp = nu;
      st.view = statusView(p.snap, nu, now, withExtras);
    } else st.downError = errstr(nu);
  }
  return st;
}

/** Collect a service's status; the logger only when the service itself answered (as sv). */
export function collectStatus(name: string, dir: string, now: Now, withExtras: boolean, readExtra?: ExtraReader): ServiceStatus {
  const main = procStatus(dir, now, withExtras, readExtra);
  let log: ProcStatus | string | null = null;
  if (main.problem === undefined) {
    const logDir = `${dir}/${SERVICE.log}`;
    const err = chdirError(logDir);
    if (err === undefined) log = procStatus(logDir, now, withExtras, readExtra);
    else if (errCode(err) !== 'ENOENT') log = `unable to change directory: ${errstr(err)}`;
  }
  const why = main.problem === undefined && withExtras ? unscheduledReason(dir) : undefined;
  const info = main.problem === undefined && withExtras ? readPoolFile(dir) : undefined;
  if (info === undefined) return { name, dir, main, log, ...(why !== undefined ? { unscheduled: why } : {}) };
  const instances = info.instances.map(({ id }) => {
    const idir = instanceDir(dir, id);
    return { id, name: `${name}@${id}`, dir: idir, st: procStatus(idir, now, withExtras, readExtra) };
  });
  return { name, dir, main, log, pool: { info, instances } };
}

/** Why a scheduled service is not scheduled (an invalid or never-firing `schedule`), from the
 * supervisor's supervise/schedule.json; undefined for any other service. */
function unscheduledReason(dir: string): string | undefined {
  let text: string;
  try {
    text = readFileSync(join(dir, SERVICE.supervise, SUPERVISE.schedule), 'utf8');
  } catch {
    return undefined;
  }
  const st = decodeScheduleStatus(text);
  return st !== undefined && (st.state === 'invalid' || st.state === 'never') && st.reason !== null ? st.reason : undefined;
}

/** LSB status exit code of the main service (runit 2.3.0): 0 up, 3 down, 4 unknown; sv's own
 * count (1) when the supervisor is not running. */
export function lsbStatusCode(s: ServiceStatus): number | undefined {
  if (s.main.problem?.level === 'fail') return undefined;
  if (s.main.view === undefined) return EXIT.lsbUnknown;
  return s.main.view.pid !== 0 ? EXIT.ok : EXIT.lsbNotRunning;
}

/** Print sv's status line for s, counting problems in count(); returns the text written. Warnings
 * about `down` go to stderr as sv writes them (`warning: unable to stat NAME/down: ...`). */
export function renderPlain(s: ServiceStatus, count: () => void): string {
  const { name, main } = s;
  if (main.problem !== undefined) {
    count();
    return `${main.problem.level}: ${name}: ${main.problem.message}\n`;
  }
  let text = procText(name, name, main);
  if (s.pool !== undefined && main.view !== undefined) text += poolNotes(s.pool.info).map((n) => `, ${n}`).join('');
  if (s.unscheduled !== undefined && main.view !== undefined) text += `, ${s.unscheduled}`;
  const under = s.pool === undefined ? '' : s.pool.instances.map((i) => `  ${i.st.problem !== undefined ? `${i.st.problem.level}: ${i.name}: ${i.st.problem.message}` : procText(name, i.name, i.st)}\n`).join('');
  if (s.log === null) return `${text}\n${under}`;
  text += '; ';
  if (typeof s.log === 'string') {
    count();
    return `${text}warning: ${name}/log: ${s.log}\n${under}`;
  }
  if (s.log.problem !== undefined) {
    count();
    // why: sv then prints its stale buffer as `log`'s status (a bug); we print the line alone.
    return `${text}${s.log.problem.level}: ${name}/log: ${s.log.problem.message}\n${under}`;
  }
  return `${text}${procText(name, 'log', s.log)}\n${under}`;
}

/** One process's part of the line; empty (after a stderr warning) when `down` was unreadable.
 * sv names the main service's path in that warning, also for the logger. */
function procText(service: string, label: string, p: ProcStatus): string {
  if (p.view === undefined) {
    writeErr(`warning: unable to stat ${service}/down: ${p.downError ?? 'unknown error'}`);
    return '';
  }
  return formatLine(label, p.view);
}

// ---- the status line (pure)

/** The clocks a status is rendered against. */
export interface Now {
  /** wall clock, ms */
  ms: number;
  /** CLOCK_MONOTONIC, ms (comparable with tsv.json's *Mono stamps) */
  mono: number;
}

/** One process's status, split into the parts a line or a table shows. */
export interface StatusView {
  state: RunState;
  pid: number;
  /** whole seconds in this state */
  seconds: number;
  /** sv's flags, in sv's order */
  flags: string[];
  /** tsv's extras (empty for runsv, or when extras are off) */
  extras: string[];
}

/** tsv's extras for one process: readiness, last exit, restarts, backoff. */
export function extrasOf(x: ExtraProcess, now: Now): string[] {
  const out: string[] = [];
  if (x.state === 'run') {
    if (x.ready === true && x.readySinceMono !== null) out.push(`ready ${monoAgeSeconds(x.readySinceMono, now.mono)}s`);
    else if (x.ready === false) out.push('not ready');
  }
  if (x.lastExit !== null) {
    const e = x.lastExit;
    const what = e.signal !== null ? (x.state === 'run' ? `last signal ${e.signal}` : `signal ${e.signal}`) : x.state === 'run' ? `last exit ${e.code ?? 0}` : `exited ${e.code ?? 0}`;
    // why: the reason a service cannot start belongs beside its exit, not only on a stderr
    // nobody watches (`exited 111: unable to start ./run: access denied`).
    out.push(typeof e.reason === 'string' && e.reason !== '' && x.state !== 'run' ? `${what}: ${e.reason}` : what);
  }
  if (x.restarts > 0) out.push(`restarts ${x.restarts}`);
  if (x.backoff.givenUp) out.push('given up');
  else if (x.state === 'down' && x.want === 'up' && x.backoff.nextStartAt !== null) {
    // why: nextStartAt is wall clock; clamp it by the delay so a clock jump cannot show a
    // negative or huge wait.
    const left = Math.min(Math.max(0, x.backoff.nextStartAt - now.ms), x.backoff.delayMs);
    out.push(`backoff ${Math.ceil(left / 1000)}s`);
  }
  return out;
}

/** The parts of a status: sv's rules (flags test the pid, not the state byte), the uptime
 * from tsv.json's monotonic stamp when there is one, else from the 20-byte record. */
export function statusView(snap: Snapshot, normallyUp: boolean, now: Now, withExtras: boolean): StatusView {
  const r = snap.rec;
  const useExtra = withExtras && snap.extra !== undefined;
  const nowSec = Math.floor(now.ms / 1000);
  const seconds = useExtra && snap.extra ? monoAgeSeconds(snap.extra.sinceMono, now.mono) : Math.max(0, nowSec - r.time.seconds);
  const flags: string[] = [];
  if (r.pid !== 0 && !normallyUp) flags.push('normally down');
  if (r.pid === 0 && normallyUp) flags.push('normally up');
  if (r.pid !== 0 && r.paused) flags.push('paused');
  if (r.pid === 0 && r.wantUp) flags.push('want up');
  if (r.pid !== 0 && !r.wantUp) flags.push('want down');
  if (r.pid !== 0 && r.gotTerm) flags.push('got TERM');
  const extras = useExtra && snap.extra ? extrasOf(snap.extra, now) : [];
  // why: a service the OOM killer hit says so (memory.events, cgroup mode with the memory controller).
  const x = snap.extra;
  if (useExtra && x?.mode === 'cgroup' && typeof x.cgroup === 'string') {
    const n = cgroupOomKills(x.cgroup) ?? 0;
    if (n > 0) extras.push(`oom kills ${n}`);
  }
  return { state: r.state, pid: r.pid, seconds, flags, extras };
}

/** `<state>: <name>: [(pid N) ]<secs>s<, flags><, extras>` (no newline). */
export function formatLine(name: string, v: StatusView): string {
  const pid = v.state !== 'down' ? `(pid ${v.pid}) ` : '';
  const tail = [...v.flags, ...v.extras].map((f) => `, ${f}`).join('');
  return `${v.state}: ${name}: ${pid}${v.seconds}s${tail}`;
}

// ---- reading supervise/ (runit.md 3.4): @tsv/os's supervise-io.ts, shared with @tsv/api

export { hasExtraFile, liveness, probe, readSnapshot, superviseFile, type ExtraReader } from '@tsv/os';
export type { Probe, Snapshot } from '@tsv/core';

/** Is the service normally up (no `down` file)? An error other than ENOENT is returned. */
export function normallyUp(dir: string): boolean | NodeJS.ErrnoException {
  try {
    statSync(`${dir}/${SERVICE.down}`);
    return false;
  } catch (e) {
    return errCode(e) === 'ENOENT' ? true : (e as NodeJS.ErrnoException);
  }
}

// ---- report lines and the exit code (runit.md 3.7)

/** Where report lines go, and the running count that becomes the exit code. */
export class Out {
  /** fail/warning/timeout/kill lines so far */
  count = 0;
  /** send report lines to stderr instead (JSON mode keeps stdout parseable) */
  constructor(private readonly linesToStderr = false) {}

  /** Write a whole line (newline added). */
  line(text: string): void {
    if (this.linesToStderr) writeErr(text);
    else writeOut(`${text}\n`);
  }

  /** `fail: NAME: message` (counts). */
  fail(name: string, message: string): void {
    this.count++;
    this.line(`fail: ${name}: ${message}`);
  }

  /** `warning: NAME: message` (counts). */
  warn(name: string, message: string): void {
    this.count++;
    this.line(`warning: ${name}: ${message}`);
  }

  /** `ok: NAME: message` (does not count). */
  ok(name: string, message: string): void {
    this.line(`ok: ${name}: ${message}`);
  }

  /** sv's exit code. */
  exitCode(): number {
    return Math.min(this.count, EXIT.svMaxFailures);
  }
}

/** The path of service name when it can be entered; else undefined, after the line
 * `fail: NAME: unable to change to service directory: ERR`. */
export function enterService(name: string, svdir: string, out: Out): string | undefined {
  const dir = servicePath(name, svdir);
  const err = chdirError(dir);
  if (err === undefined) return dir;
  out.fail(name, `unable to change to service directory: ${errstr(err)}`);
  return undefined;
}
