// Supervisor: runsv for one service directory (spec runit.md 2), hostable many times in one
// process (tsvscan): no global state, no process-wide signal handlers, no process.exit.
// It sets up supervise/ (and log/supervise/), holds the log pipe, runs a Slot for the service
// and one for its logger, and carries out the effects of the exit sequence, whose rules are
// LIFE_TABLE's (machine.ts).
import { accessSync, closeSync, statSync, constants as fsc } from 'node:fs';
import { join, resolve } from 'node:path';
import { ENV, errCode, errstr, EXIT, type ExtraStatus, fatalFrom, SERVICE, ToolError } from '@tsv/core';
import { procStat, startNofile } from '@tsv/os';
import { pipe } from '@tsv/native';
import { SuperviseDir } from './supervise-dir.js';
import { Slot, type LoggerHandle } from './slot.js';
import { inProcessLoggerFactory } from './in-process-log.js';
import { takeOverOrphans } from './takeover.js';
import { lifeStep, type LifeEffect, type LifeEvent, type LifeState } from './life-table.js';

export interface SupervisorOptions {
  /** prefix for diagnostics, e.g. `tsv ./svc` (runsv prints `runsv <dir>: warning: ...`) */
  diagPrefix: string;
  /** receives each warning/fatal line (without trailing newline); the CLI writes them to stderr */
  warn(line: string): void;
  /** recorded in tsv.json's supervisor.program: 'tsv' | 'tsvscan' */
  program: string;
}

/** How long to wait between tries of log/supervise/lock (runsv blocks in flock instead). */
const LOG_LOCK_RETRY_MS = 200;

export class Supervisor {
  /** Resolves once the supervisor has finished (after `x` on the control FIFO, or shutdown()), with nothing left open. */
  readonly exited: Promise<void>;
  private resolveExited!: () => void;
  private readonly dir: string;
  private main: Slot | null = null;
  private log: Slot | null = null;
  private mainDir: SuperviseDir | null = null;
  private logDir: SuperviseDir | null = null;
  private logPipe: [number, number] | null = null;
  private life: LifeState = 'new';
  private inProcessLog = false;
  private ownSession = -1;

  constructor(
    dir: string,
    private readonly opts: SupervisorOptions,
  ) {
    this.dir = resolve(dir);
    this.exited = new Promise((res) => (this.resolveExited = res));
  }

  /** Set up supervise/ (and log/supervise/), take the locks, take over orphans of a dead
   * previous supervisor, then start run (and the logger). Rejects with a ToolError (exit 111)
   * when it cannot supervise. */
  async start(): Promise<void> {
    if (this.life !== 'new' && this.life !== 'newThenExit') throw new ToolError('already started', EXIT.temporary);
    this.lifeEvent({ type: 'start' });
    try {
      await this.setUp();
    } catch (err) {
      this.lifeEvent({ type: 'setupFailed' });
      throw err instanceof ToolError ? err : fatalFrom('unable to start', err);
    }
    this.lifeEvent({ type: 'setupDone' });
  }

  /** Like `x` / SIGTERM: stop the service, let the logger drain, release everything. */
  shutdown(): Promise<void> {
    this.lifeEvent({ type: 'shutdown' });
    return this.exited;
  }

  /** Step the exit sequence's table and carry out its effects. */
  private lifeEvent(ev: LifeEvent): void {
    const r = lifeStep(this.life, ev);
    this.life = r.state;
    for (const fx of r.effects) this.lifeEffect(fx);
  }

  /** Carry out one effect of the exit sequence. */
  private lifeEffect(fx: LifeEffect): void {
    switch (fx) {
      case 'setUp':
        // why: start() runs setUp itself (it is async and its error is start()'s rejection).
        break;
      case 'boot':
      case 'bootAndExit':
        // why: runsv's loop starts the logger before the service.
        this.log?.boot();
        if (fx === 'boot') this.main?.boot();
        else this.main?.controlBytes(Buffer.from('x'));
        break;
      case 'sendX':
        this.main?.controlBytes(Buffer.from('x'));
        break;
      case 'ignoreControl':
        this.main?.ignoreControl();
        this.log?.ignoreControl();
        break;
      case 'drainLog':
        this.log?.exitLog();
        // why: closing both ends gives the logger (log/run, or the in-process one, which reads
        // its own open file description of the pipe) EOF once the service's processes are gone.
        this.closeLogPipe();
        break;
      case 'release':
        // why: a status write still in the thread pool lands before the lock is let go.
        void Promise.all([this.mainDir?.flushed(), this.logDir?.flushed()]).then(() => {
          this.release();
          this.resolveExited();
        });
        break;
      default:
        assertNever(fx);
    }
  }

  /** True if pid is a process this supervisor spawned and libuv waits for. */
  ownsPid(pid: number): boolean {
    if ((this.main?.ownsPid(pid) ?? false) || (this.log?.ownsPid(pid) ?? false)) return true;
    if (!this.inProcessLog) return false;
    // why: the in-process logger spawns processors (svlogd's `!cmd`) through child_process
    // without telling us their pids. They stay in this process's session, where no re-parented
    // daemon of a service can be (services start in sessions of their own): a child in our
    // session is libuv's to wait for. /proc/PID/stat is readable for zombies too.
    const st = procStat(pid);
    return st !== undefined && st.ppid === process.pid && st.session === this.ownSession;
  }

  /** The process group of the running service, or 0. */
  servicePgid(): number {
    return this.main?.pgid() ?? 0;
  }

  /** A warning line with the supervisor's prefix. */
  private warn(message: string): void {
    try {
      this.opts.warn(`${this.opts.diagPrefix}: warning: ${message}`);
    } catch {
      // the sink failed: nothing more to do
    }
  }

  /** A diagnostic line with the supervisor's prefix only. */
  private line(text: string): void {
    try {
      this.opts.warn(`${this.opts.diagPrefix}: ${text}`);
    } catch {
      // the sink failed: nothing more to do
    }
  }

  /** runsv's start-up sequence (runit.md 2.1), without chdir (many supervisors share a cwd). */
  private async setUp(): Promise<void> {
    const dir = this.dir;
    try {
      if (!statSync(dir).isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
      accessSync(dir, fsc.X_OK);
    } catch (err) {
      throw fatalFrom('unable to change to directory', err);
    }
    const wantUp = !exists(join(dir, SERVICE.down));
    // why: our own /proc stat, read once: its session (in-process logger) and start time (tsv.json).
    const self = procStat(process.pid);
    const logDirPath = join(dir, SERVICE.log);
    let hasLog = false;
    try {
      if (statSync(logDirPath).isDirectory()) hasLog = true;
      else this.warn('./log: not a directory.');
    } catch (err) {
      if (errCode(err) !== 'ENOENT') this.warn(`unable to stat() ./log: ${errstr(err)}`);
    }
    let startInProcess: (() => LoggerHandle) | undefined;
    if (hasLog) {
      // why: one pipe for the supervisor's life, both ends held, so no line is lost across
      // restarts of either side (a real pipe, both ends close-on-exec).
      this.logPipe = pipe();
      if (!exists(join(logDirPath, SERVICE.run)) && exists(join(logDirPath, SERVICE.logInProcess))) {
        this.inProcessLog = true;
        this.ownSession = self?.session ?? -1;
        // why: the logger's lines carry their own `tsvlog: level:` part; they get our prefix only.
        startInProcess = inProcessLoggerFactory(logDirPath, this.logPipe[0], (line) => this.line(line));
      }
    }

    this.mainDir = new SuperviseDir(dir, '');
    this.mainDir.makeDir();
    this.mainDir.lock();
    if (hasLog) {
      this.logDir = new SuperviseDir(logDirPath, 'log/');
      this.logDir.makeDir();
      await this.lockLog(this.logDir);
    }
    await takeOverOrphans(dir, (line) => this.warn(line));

    const nofile = startNofile();
    const env = { ...process.env };
    delete env[ENV.nofile];
    const supervisorInfo: ExtraStatus['supervisor'] = { pid: process.pid, startTicks: self?.startTicks ?? null, program: this.opts.program };
    const main = new Slot({
      dir,
      sdir: this.mainDir,
      isLog: false,
      wantUp,
      stdin: 0,
      stdout: this.logPipe?.[1] ?? 1,
      env,
      nofile,
      warn: (m) => this.warn(m),
      supervisorInfo,
      onExitReady: () => this.lifeEvent({ type: 'mainDown', hasLog: this.log !== null }),
    });
    this.mainDir.openControl(
      (chunk) => main.controlBytes(chunk),
      (err) => this.warn(`unable to read supervise/control: ${errstr(err)}`),
    );
    // why: the first writes of a start go to the thread pool (SuperviseDir.deferWrites); the
    // initial status is on disk before ok exists, as runsv has it.
    this.mainDir.deferWrites();
    main.writeNow();
    await this.mainDir.flushed();
    this.mainDir.openOk();
    this.mainDir.deferWrites();
    this.main = main;

    if (this.logDir !== null && this.logPipe !== null) {
      const logSlot = new Slot({
        dir: logDirPath,
        sdir: this.logDir,
        isLog: true,
        wantUp: !exists(join(logDirPath, SERVICE.down)),
        stdin: this.logPipe[0],
        stdout: 1,
        env,
        nofile,
        warn: (m) => this.warn(m),
        supervisorInfo,
        onExitReady: () => this.lifeEvent({ type: 'logDown' }),
        startInProcess,
      });
      this.logDir.openControl(
        (chunk) => logSlot.controlBytes(chunk),
        (err) => this.warn(`unable to read log/supervise/control: ${errstr(err)}`),
      );
      this.logDir.deferWrites();
      logSlot.writeNow();
      await this.logDir.flushed();
      this.logDir.openOk();
      this.logDir.deferWrites();
      this.log = logSlot;
    }
  }

  /** Take log/supervise/lock; runsv blocks in flock, we retry without blocking the loop. */
  private async lockLog(sdir: SuperviseDir): Promise<void> {
    let warned = false;
    for (;;) {
      try {
        sdir.lock();
        return;
      } catch (err) {
        if (!(err instanceof ToolError) || !err.message.startsWith('unable to lock')) throw err;
        if (!warned) this.warn(`${err.message}, waiting`);
        warned = true;
      }
      await new Promise((r) => setTimeout(r, LOG_LOCK_RETRY_MS));
    }
  }

  /** Close both ends of the log pipe. */
  private closeLogPipe(): void {
    if (this.logPipe === null) return;
    for (const fd of this.logPipe) {
      try {
        closeSync(fd);
      } catch {
        // already closed
      }
    }
    this.logPipe = null;
  }

  /** Close every fd and timer this supervisor holds (the locks go with their fds). */
  private release(): void {
    this.main?.close();
    this.log?.close();
    this.mainDir?.close();
    this.logDir?.close();
    this.closeLogPipe();
  }
}

/** Does path exist (stat succeeds, as runsv tests `down`)? */
function exists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** The compiler's proof that a switch covers every effect. */
function assertNever(x: never): never {
  throw new Error(`unexpected effect ${String(x)}`);
}
