// The I/O shell of a scheduled service's scheduler (schedule-table.ts): it stands between
// supervise/control and the service's Slot, turns the machine's state changes into started/ended,
// its one timer into check, and carries out the effects (read the `schedule` file, letters for
// the machine, supervise/schedule.json, the run markers in the log, `notify`). It decides
// nothing: every rule is in the table.
import { closeSync, existsSync, openSync, readFileSync, writeSync, constants as fsc } from 'node:fs';
import { join } from 'node:path';
import { decodeControl, decodeScheduleStatus, encodeScheduleStatus, errCode, errstr, fileWords, scanGetopt, SERVICE, SUPERVISE, type ScheduleStatus } from '@tsv/core';
import { childWatcher, spawnChild } from '@tsv/os';
import { pipe } from '@tsv/native';
import type { MachineState, Now } from './machine.js';
import { parseSchedule, type ParsedSchedule } from './schedule-rule.js';
import { exitText, initialSchedState, schedRowOf, schedStep, type SavedSchedule, type SchedEffect, type SchedEvent, type SchedState } from './schedule-table.js';
import type { SuperviseDir } from './supervise-dir.js';
import { EventQueue } from './event-queue.js';

/** How long the shell looks for a run's end marker in the log before giving `notify` what is
 * there (the logger writes asynchronously), and how often. */
const NOTIFY_LOG_WAIT_MS = 2_000;
const NOTIFY_LOG_POLL_MS = 50;
/** At most this many lines of the run's log go to notify's stdin (and at most 48 KiB: the
 * whole text fits in a pipe's buffer, so writing it never blocks the supervisor). */
const NOTIFY_LINES = 50;
const NOTIFY_BYTES = 48 * 1024;

/** What the shell needs from its supervisor. */
export interface ScheduleShellOptions {
  /** the service directory */
  dir: string;
  /** the service's name for notify (the directory's basename) */
  name: string;
  sdir: SuperviseDir;
  /** the schedule is on at start-up (no `down` file) */
  enabled: boolean;
  /** control letters for the service's machine */
  toMachine(letters: string): void;
  /** the write end of the log pipe while there is one (the markers go there), else null */
  logFd(): number | null;
  /** stdout for notify (the log pipe, or the supervisor's stdout) */
  notifyStdout(): number;
  env: NodeJS.ProcessEnv;
  nofile: number | undefined;
  supervisorPid: number;
  warn(message: string): void;
}

/** The shell of one scheduler. */
export class ScheduleShell {
  private state: SchedState;
  private readonly queue = new EventQueue<SchedEvent>((e) => this.stepOne(e), (m) => this.o.warn(m));
  private timer: NodeJS.Timeout | null = null;
  private seenStarts = 0;
  private closed = false;
  private readonly notifies = new Map<number, NodeJS.Timeout>();

  constructor(private readonly o: ScheduleShellOptions) {
    this.state = initialSchedState(o.enabled);
  }

  /** The scheduler's state (read-only view). */
  get current(): Readonly<SchedState> {
    return this.state;
  }

  /** Start: the previous supervisor's record, then the file. */
  boot(): void {
    this.dispatch({ type: 'boot', saved: this.readSaved(), seed: Math.floor(Math.random() * 0x1_0000_0000) });
  }

  /** Bytes from supervise/control: one event per letter. */
  controlBytes(chunk: Buffer): void {
    if (this.closed) return;
    this.dispatch(...decodeControl(chunk).map((letter): SchedEvent => ({ type: 'control', letter })));
  }

  /** The service's machine changed: a new start is `started`, down again after it is `ended`. */
  machineChanged(m: Readonly<MachineState>): void {
    if (m.starts > this.seenStarts) {
      this.seenStarts = m.starts;
      this.dispatch({ type: 'started', at: m.since });
    }
    const idle = m.pid === 0 && m.phase === 'down' && m.spawning === null && !m.awaitingSettings && m.pending === null;
    if (idle && this.state.running !== null) this.dispatch({ type: 'ended', code: m.lastExit?.code ?? null, signal: m.lastExit?.signal ?? null });
  }

  /** Is pid a notify this shell runs (and its ChildWatcher reaps)? */
  ownsPid(pid: number): boolean {
    return this.notifies.has(pid);
  }

  /** Stop the timer; ignore later events. A running notify is left to its own timeout. */
  close(): void {
    this.closed = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  /** Feed events; effects run in order. */
  private dispatch(...evs: SchedEvent[]): void {
    if (!this.closed) this.queue.push(evs);
  }

  /** One event through the scheduler's table. */
  private stepOne(e: SchedEvent): void {
    const r = schedStep(this.state, e, now());
    this.state = r.state;
    for (const fx of r.effects) this.effect(fx);
  }

  /** Carry out one effect. */
  private effect(fx: SchedEffect): void {
    switch (fx.type) {
      case 'readRule':
        this.dispatch({ type: 'rule', parsed: this.readRule() });
        break;
      case 'machine':
        this.o.toMachine(fx.letters);
        break;
      case 'setTimer':
        if (this.timer !== null) clearTimeout(this.timer);
        if (this.closed) break;
        this.timer = setTimeout(() => {
          this.timer = null;
          this.dispatch({ type: 'check' });
        }, fx.ms);
        break;
      case 'cancelTimer':
        if (this.timer !== null) clearTimeout(this.timer);
        this.timer = null;
        break;
      case 'write':
        this.write();
        break;
      case 'mark':
        this.mark(fx.text);
        break;
      case 'notify':
        this.notify(fx);
        break;
      case 'warn':
        this.o.warn(fx.message);
        break;
      default:
        assertNever(fx);
    }
  }

  /** The `schedule` file, parsed (an unreadable file is an invalid one). */
  private readRule(): ParsedSchedule {
    try {
      return parseSchedule(readFileSync(join(this.o.dir, SERVICE.schedule), 'utf8'));
    } catch (err) {
      return { error: `unable to read: ${errstr(err)}` };
    }
  }

  /** What the previous supervisor recorded in supervise/schedule.json (null when none). */
  private readSaved(): SavedSchedule | null {
    let text: string;
    try {
      text = readFileSync(join(this.o.sdir.path, SUPERVISE.schedule), 'utf8');
    } catch (err) {
      if (errCode(err) !== 'ENOENT') this.o.warn(`unable to read supervise/${SUPERVISE.schedule}: ${errstr(err)}`);
      return null;
    }
    const x = decodeScheduleStatus(text);
    if (x === undefined) return null;
    // why: a run the old supervisor recorded as going has no end we know of: it is not "last".
    return { accountedTo: x.accountedTo, last: x.last, failures: x.failures, runs: x.runs, skipped: x.skipped, missed: x.missed, lastSkip: x.lastSkip };
  }

  /** Write supervise/schedule.json atomically. */
  private write(): void {
    const s = this.state;
    const rec: ScheduleStatus = {
      v: 1,
      supervisor: { pid: this.o.supervisorPid },
      state: schedRowOf(s),
      enabled: s.enabled,
      expression: s.rule?.expression ?? null,
      timezone: s.rule?.timezone ?? null,
      reason: s.reason,
      next: s.next,
      nextStart: s.nextStart,
      running: s.running,
      last: s.last,
      failures: s.failures,
      runs: s.runs,
      skipped: s.skipped,
      missed: s.missed,
      lastSkip: s.lastSkip,
      accountedTo: s.accountedTo,
    };
    this.o.sdir.writeFile(SUPERVISE.schedule, encodeScheduleStatus(rec), (m) => this.o.warn(m));
  }

  /** One marker line into the log pipe, never blocking: a full pipe loses the marker. */
  private mark(text: string): void {
    const fd = this.o.logFd();
    if (fd === null) return;
    let w = -1;
    try {
      // why: a second open file description of the same pipe, non-blocking, so a logger that
      // is behind can never stall the supervisor (the held write end is blocking); a line under
      // PIPE_BUF is written whole, never mixed with the service's output.
      w = openSync(`/proc/self/fd/${fd}`, fsc.O_WRONLY | fsc.O_NONBLOCK);
      writeSync(w, `${markerPrefix(this.o.name)}${text}\n`);
    } catch (err) {
      this.o.warn(`unable to mark the log: ${errstr(err)}`);
    } finally {
      if (w >= 0) closeSync(w);
    }
  }

  /** Run ./notify after a failed (or recovered) run: never waited for, killed after its bound. */
  private notify(fx: Extract<SchedEffect, { type: 'notify' }>): void {
    const rule = this.state.rule;
    const timeoutMs = rule?.notifyTimeoutMs ?? 30_000;
    const endMarker = `run ${fx.run.n} end:`;
    const startMarker = `run ${fx.run.n} start`;
    const deadline = Date.now() + NOTIFY_LOG_WAIT_MS;
    const go = (): void => {
      const lines = this.runLines(startMarker, endMarker);
      if (!lines.complete && Date.now() < deadline && !this.closed) {
        setTimeout(go, NOTIFY_LOG_POLL_MS);
        return;
      }
      this.spawnNotify(fx, lines.text, timeoutMs);
    };
    go();
  }

  /** The run's lines in its log (from its start marker to its end marker, at most the last
   * NOTIFY_LINES), and whether the end marker was there yet. */
  private runLines(startMarker: string, endMarker: string): { text: string; complete: boolean } {
    const current = firstLogCurrent(this.o.dir);
    if (current === null) return { text: '', complete: true };
    let all: string[];
    try {
      all = readFileSync(current, 'utf8').split('\n');
    } catch {
      return { text: '', complete: false };
    }
    const prefix = markerPrefix(this.o.name);
    const end = all.findLastIndex((l) => l.includes(prefix + endMarker));
    const stop = end >= 0 ? end + 1 : all.length;
    const start = all.findLastIndex((l, i) => i < stop && l.includes(prefix + startMarker));
    let lines = all.slice(Math.max(start, 0, stop - NOTIFY_LINES), stop).filter((l) => l !== '');
    let text = lines.join('\n');
    while (Buffer.byteLength(text) > NOTIFY_BYTES && lines.length > 1) {
      lines = lines.slice(1);
      text = lines.join('\n');
    }
    return { text: text === '' ? '' : `${text.slice(-NOTIFY_BYTES)}\n`, complete: end >= 0 };
  }

  /** Start ./notify NAME STATUS with the lines on stdin, in a session of its own. */
  private spawnNotify(fx: Extract<SchedEffect, { type: 'notify' }>, text: string, timeoutMs: number): void {
    const status = exitText(fx.run.code, fx.run.signal);
    const env: NodeJS.ProcessEnv = {
      ...this.o.env,
      TSV_SERVICE: this.o.name,
      TSV_NOTIFY: fx.why,
      TSV_RUN: String(fx.run.n),
      TSV_EXIT_CODE: fx.run.code === null ? '' : String(fx.run.code),
      TSV_EXIT_SIGNAL: fx.run.signal ?? '',
      TSV_STATUS: status,
      TSV_DURATION_MS: String(Math.round(fx.run.durationMs)),
      TSV_FAILURES: String(fx.failures),
      TSV_RUN_START: new Date(fx.run.start).toISOString(),
    };
    let fds: [number, number];
    try {
      fds = pipe();
    } catch (err) {
      this.o.warn(`unable to run ./${SERVICE.notify}: ${errstr(err)}`);
      return;
    }
    let pid: number;
    try {
      const w = openSync(`/proc/self/fd/${fds[1]}`, fsc.O_WRONLY | fsc.O_NONBLOCK);
      try {
        // why: at most 48 KiB into an empty pipe (64 KiB): never blocks, never short.
        if (text !== '') writeSync(w, text);
      } finally {
        closeSync(w);
      }
      closeSync(fds[1]);
      pid = spawnChild({ file: `./${SERVICE.notify}`, args: [this.o.name, status], cwd: this.o.dir, stdio: [fds[0], this.o.notifyStdout(), 2], env, setsid: true, nofile: this.o.nofile });
    } catch (err) {
      // why: a service without notify is the usual case: nothing to say.
      if (errCode(err) !== 'ENOENT') this.o.warn(`unable to run ./${SERVICE.notify}: ${errstr(err)}`);
      closeQuiet(fds[0]);
      closeQuiet(fds[1]);
      return;
    }
    closeQuiet(fds[0]);
    // why: it leads its own session and group: the bound kills whatever it started too.
    const kill = setTimeout(() => {
      this.o.warn(`./${SERVICE.notify} still runs after ${timeoutMs} ms: killed`);
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // gone
      }
    }, timeoutMs);
    this.notifies.set(pid, kill);
    childWatcher().watch(pid, (code, signal) => {
      clearTimeout(kill);
      this.notifies.delete(pid);
      if (code !== 0 && signal !== 'SIGKILL') this.o.warn(`./${SERVICE.notify} failed: ${exitText(code, signal)}`);
    });
  }
}

/** How marker lines begin (tsvctl log recognizes them by this): `tsv: job NAME: `. */
export function markerPrefix(name: string): string {
  return `tsv: job ${name}: `;
}

/** The `current` file of the service's first log directory (log/tsvlog's, else log/main,
 * else log/), or null when it has no log/. */
function firstLogCurrent(dir: string): string | null {
  const logDir = join(dir, SERVICE.log);
  try {
    const words = fileWords(readFileSync(join(logDir, SERVICE.logInProcess), 'utf8'));
    const first = scanGetopt(words, 'r:R:l:b:', { unknown: 'accept' }).rest[0];
    if (first !== undefined) return join(first.startsWith('/') ? first : join(logDir, first), 'current');
  } catch {
    // no log/tsvlog
  }
  for (const d of [join(logDir, 'main'), logDir]) {
    if (existsSync(join(d, 'current'))) return join(d, 'current');
  }
  return null;
}

/** The current moment on both clocks. */
function now(): Now {
  return { wall: Date.now(), mono: Number(process.hrtime.bigint()) / 1e6 };
}

/** Close an fd, ignoring errors. */
function closeQuiet(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // already closed
  }
}

/** The compiler's proof that a switch covers every effect. */
function assertNever(x: never): never {
  throw new Error(`unexpected effect ${JSON.stringify(x)}`);
}
