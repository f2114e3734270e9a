// Takeover: before a supervisor spawns anything in a service directory it has just locked, it
// stops whatever a previous supervisor of that directory left running when it died (SIGKILL,
// crash, OOM), so that exactly one instance of the service runs afterwards and the old logger
// loses no line. We stop and restart rather than adopt: a process cannot wait() on a non-child,
// cannot get at the old log pipe (it died with the old supervisor), and cannot learn an orphan's
// exit status; see docs/tsvscan.md ("Takeover"). What is done to each orphan, and when, is
// ORPHAN_TABLE's (machine.ts); this file finds the orphans in /proc, sends the signals after
// checking their identity again, and polls /proc for them to be gone.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeExtraStatus, decodeStatus, errstr, EXIT, SERVICE, SUPERVISE, ToolError, USER_HZ } from '@tsv/core';
import { isSameLiveProcess, pidsInGroup, procStat, readIfPresent } from '@tsv/os';
import { orphanStep, type Orphan as OrphanMachine, type OrphanEventType } from './orphan-table.js';

/** Timing of a takeover (ms); every field has a default. */
export interface TakeoverTimes {
  /** SIGKILL the old service this long after TERM+CONT (default: its timeout-kill file, else 7000) */
  serviceKillMs?: number;
  /** how long the old logger may take to drain the pipe and exit at EOF before it gets TERM (5000) */
  logDrainMs?: number;
  /** SIGKILL the old logger this long after its TERM (7000) */
  logKillMs?: number;
  /** after SIGKILL, give up (and refuse to start a second instance) after this long (5000) */
  giveUpMs?: number;
}

const DEFAULT_KILL_MS = 7000;
const DEFAULT_LOG_DRAIN_MS = 5000;
const DEFAULT_GIVE_UP_MS = 5000;
/** Slack of the status-time rule: /proc/stat's btime is whole seconds, the wall clock may have
 * been slewed since the process started, and a supervisor stamps the status just after fork. */
const START_SLACK_MS = 2000;

/** A process left behind by a dead supervisor, identified beyond doubt. */
interface Found {
  pid: number;
  /** /proc start time: with pid, the identity checked before every signal */
  startTicks: number;
  /** the process group it leads (signalled too), or 0 when it does not lead its own group */
  pgid: number;
  /** how it is named in diagnostics: `./run`, `log/./run` */
  label: string;
}

/** Which supervise/ directories may hold a dead supervisor's records: false for one the caller
 * has just created (a supervisor makes supervise/ before it starts anything, so a new one names
 * no process); default true. */
export interface OrphanPlaces {
  /** dir/supervise */
  main?: boolean;
  /** dir/log/supervise */
  log?: boolean;
}

/** Stop what a dead supervisor left running in service directory dir (and in dir/log), so the
 * caller, which holds supervise/lock, can start exactly one instance. Resolves once nothing is
 * left; throws a ToolError when an orphan cannot be stopped (EPERM, or alive after SIGKILL), in
 * which case the caller must not start the service. warn receives the message text only (the
 * caller adds its `prog dir: warning: ` prefix). */
export async function takeOverOrphans(dir: string, warn: (line: string) => void, times: TakeoverTimes = {}, look: OrphanPlaces = {}): Promise<void> {
  const services = look.main === false ? [] : findOrphans(dir, './run');
  const loggers = look.log === false ? [] : findOrphans(join(dir, SERVICE.log), 'log/./run');
  if (services.length === 0 && loggers.length === 0) return;
  const base = {
    killMs: times.serviceKillMs ?? timeoutKillMs(dir),
    drainMs: times.logDrainMs ?? DEFAULT_LOG_DRAIN_MS,
    logKillMs: times.logKillMs ?? DEFAULT_KILL_MS,
    giveUpMs: times.giveUpMs ?? DEFAULT_GIVE_UP_MS,
  };
  // why: the service first, the logger after it, so the logger reads every line the service
  // wrote; the old log pipe's write side closes once the service and its group are gone. And
  // the new logger starts only after the old one is gone (it may hold its log dir's lock).
  await Promise.all(services.map((o) => runOrphan(o, { ...base, state: 'found', pid: o.pid, label: o.label, isLog: false }, warn)));
  await Promise.all(loggers.map((o) => runOrphan(o, { ...base, state: 'found', pid: o.pid, label: o.label, isLog: true }, warn)));
}

/** Drive one orphan's table to gone (resolves) or stuck (a ToolError): carry out its effects,
 * and poll /proc until it is gone or its deadline passes. */
async function runOrphan(o: Found, m0: OrphanMachine, warn: (line: string) => void): Promise<void> {
  let m = m0;
  let deadline = Infinity;
  let ev: OrphanEventType = 'begin';
  for (;;) {
    const r = orphanStep(m, ev);
    m = r.orphan;
    for (const fx of r.effects) {
      switch (fx.type) {
        case 'signal':
          signalOrphan(o, fx.signal);
          break;
        case 'deadline':
          deadline = Date.now() + fx.ms;
          break;
        case 'warn':
          warn(fx.message);
          break;
        case 'done':
          return;
        case 'fail':
          throw new ToolError(fx.message, EXIT.temporary);
        default:
          assertNever(fx);
      }
    }
    ev = (await waitUntil(() => orphanGone(o), deadline - Date.now())) ? 'gone' : 'deadline';
  }
}

/** The compiler's proof that a switch covers every effect. */
function assertNever(x: never): never {
  throw new Error(`unexpected effect ${JSON.stringify(x)}`);
}

/** The orphans of one (service or log) directory: the process supervise/tsv.json names when its
 * pid and start time still match, and the one supervise/pid names when its start time is that
 * recorded in supervise/status. Neither rule looks at the process's cwd: most real daemons
 * chdir (cron to /var/spool/cron, redis to /var/lib/redis, multilog and svlogd into their log
 * directories), and a chdir cannot change a process's pid or start time. */
function findOrphans(dir: string, label: string): Found[] {
  const sup = join(dir, SERVICE.supervise);
  const out: Found[] = [];
  const extra = readExtra(sup);
  if (extra !== undefined) {
    const st = procStat(extra.pid);
    // why: pid + start ticks is an exact identity: a recycled pid has another start time.
    if (st !== undefined && live(st.state) && st.startTicks === extra.startTicks && st.pid !== process.pid) {
      out.push({ pid: st.pid, startTicks: st.startTicks, pgid: st.pgrp === st.pid ? st.pid : 0, label });
    }
  }
  const pid = readPidFile(sup);
  if (pid !== undefined && !out.some((o) => o.pid === pid)) {
    const st = procStat(pid);
    const startMs = readStatusStart(sup, pid);
    // why: a tsv.json that names this pid with another start time has already said it is not ours.
    const contradicted = extra !== undefined && extra.pid === pid;
    if (st !== undefined && live(st.state) && st.pid !== process.pid && !contradicted && startMs !== undefined && startedAt(st.startTicks, startMs)) {
      out.push({ pid: st.pid, startTicks: st.startTicks, pgid: st.pgrp === st.pid ? st.pid : 0, label });
    }
  }
  return out;
}

/** Is a /proc state letter that of a live process (zombies and dead ones are not)? */
function live(state: string): boolean {
  return state !== 'Z' && state !== 'X';
}

/** The service identity recorded in supervise/tsv.json, if any (pid > 0 and a start time). */
function readExtra(sup: string): { pid: number; startTicks: number } | undefined {
  let text: string | undefined;
  try {
    text = readIfPresent(join(sup, SUPERVISE.extra));
  } catch {
    return undefined;
  }
  if (text === undefined) return undefined;
  const x = decodeExtraStatus(text)?.service;
  if (x === undefined || !Number.isInteger(x.pid) || x.pid <= 0 || typeof x.pidStartTicks !== 'number') return undefined;
  return { pid: x.pid, startTicks: x.pidStartTicks };
}

/** The pid in supervise/pid (runit writes it on every pid change). */
function readPidFile(sup: string): number | undefined {
  try {
    const text = readIfPresent(join(sup, SUPERVISE.pid))?.trim();
    if (text === undefined) return undefined;
    const pid = Number(text);
    return text === '' || !Number.isInteger(pid) || pid <= 0 ? undefined : pid;
  } catch {
    return undefined;
  }
}

/** The start (wall-clock ms) supervise/status records for pid: its TAI64N (bytes 0-11), when
 * the record is in state run or finish with that pid (bytes 12-15, byte 19). runsv, runit's
 * runsv and tsv set that time when they fork the process, so it is the process's start. */
function readStatusStart(sup: string, pid: number): number | undefined {
  let rec;
  try {
    rec = decodeStatus(readFileSync(join(sup, SUPERVISE.status)));
  } catch {
    return undefined;
  }
  if (rec === undefined || rec.pid !== pid || rec.state === 'down') return undefined;
  return rec.time.seconds * 1000 + Math.floor(rec.time.nanos / 1e6);
}

/** Did a process with these start ticks start at startMs (within the slack)? A recycled pid
 * belongs to a process started after the original died, hence well after the recorded start. */
function startedAt(startTicks: number, startMs: number): boolean {
  const btime = bootTimeS();
  if (btime === undefined) return false;
  const procMs = (btime + startTicks / USER_HZ) * 1000;
  return Math.abs(procMs - startMs) <= START_SLACK_MS;
}

/** Boot time in wall-clock seconds (/proc/stat btime). */
function bootTimeS(): number | undefined {
  try {
    const m = /^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'));
    return m?.[1] === undefined ? undefined : Number(m[1]);
  } catch {
    return undefined;
  }
}

/** The service's timeout-kill (ms), or the default when missing, zero or invalid. */
function timeoutKillMs(dir: string): number {
  try {
    const n = Number(readFileSync(join(dir, SERVICE.timeoutKill), 'utf8').split('\n')[0]?.trim());
    return Number.isInteger(n) && n > 0 ? n : DEFAULT_KILL_MS;
  } catch {
    return DEFAULT_KILL_MS;
  }
}

/** Is the orphan itself still the same live process? */
function orphanAlive(o: Found): boolean {
  return isSameLiveProcess(o.pid, o.startTicks);
}

/** Are the orphan and every member of the group it led gone? (The group is looked at only once
 * the leader is gone.) */
function orphanGone(o: Found): boolean {
  if (orphanAlive(o)) return false;
  return o.pgid === 0 || !groupHasMembers(o.pgid);
}

/** Has process group pgid a live member? The kernel is asked first (pidsInGroup: one kill(2)
 * when the group is empty); /proc is scanned only for a group with a member (zombies do not
 * count), so hundreds of takeovers at once cost no scan per service per poll. */
function groupHasMembers(pgid: number): boolean {
  return pidsInGroup(pgid).length > 0;
}

/** Send sig to the orphan (after checking its identity again) and to its process group while
 * that group has members. EPERM means we cannot stop it: a ToolError. */
function signalOrphan(o: Found, sig: NodeJS.Signals): void {
  const targets: number[] = [];
  const leaderAlive = orphanAlive(o);
  if (leaderAlive) targets.push(o.pid);
  // why: a process group id cannot be handed out while the group has a member, so a group with
  // members (the live leader itself, or others seen by a scan) is still the one the orphan led.
  if (o.pgid !== 0 && (leaderAlive || groupHasMembers(o.pgid))) targets.push(-o.pgid);
  for (const t of targets) {
    try {
      process.kill(t, sig);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ESRCH') continue;
      throw new ToolError(`unable to stop ${o.label} (pid ${o.pid}) left running by a dead supervisor: ${errstr(e)}`, EXIT.temporary);
    }
  }
}

/** Wait until cond() holds or ms elapse; true when it held. Polls /proc (we cannot wait() on a
 * process that is not our child), backing off from 5 ms to 100 ms. Only a takeover polls. */
async function waitUntil(cond: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  let step = 5;
  for (;;) {
    if (cond()) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, Math.min(step, Math.max(1, deadline - Date.now()))));
    step = Math.min(100, step * 2);
  }
}
