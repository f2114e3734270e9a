// Supervisor: runsv for one service directory (spec runit.md 2), hostable many times in one
// process (tsvscan): no global state, no process-wide signal handlers, no process.exit.
// It sets up supervise/ (and log/supervise/), holds the log pipe, runs a Slot for the service
// and one for its logger, and carries out the effects of the exit sequence, whose rules are
// LIFE_TABLE's (machine.ts).
import { accessSync, closeSync, fstatSync, readlinkSync, realpathSync, statSync, constants as fsc } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { CGROUP, ENV, errCode, errstr, EXIT, type ExtraStatus, fatalFrom, SERVICE, ToolError } from '@tsv/core';
import { procStat, startNofile } from '@tsv/os';
import { pipe } from '@tsv/native';
import { SuperviseDir } from './supervise-dir.js';
import { type DirSeen, seeDir } from './file-cache.js';
import { Slot, type LoggerHandle } from './slot.js';
import { inProcessLoggerFactory } from './in-process-log.js';
import { takeOverOrphans } from './takeover.js';
import { startWatch, type Watching } from './watch-start.js';
import { StderrRelay } from './stderr-relay.js';
import { narrate } from './talk.js';
import type { MachineState } from './machine.js';
import { cgroupBase, cgroupBaseWarning, ServiceCgroup } from './cgroup-slot.js';
import { takeOverCgroups } from './cgroup-takeover.js';
import { lifeStep, type LifeEffect, type LifeEvent, type LifeState } from './life-table.js';
import { Pool, takeOverInstances } from './pool.js';
import { readLifelineFd, readPdeathSignal } from './lifeline.js';
import { ScheduleShell } from './schedule-shell.js';

/** A service's first run, once started: its process group, and what its stdout is
 * (Supervisor.outputId). */
export interface FirstRun {
  pgid: number;
  output: string | null;
}

export interface SupervisorOptions {
  /** prefix for diagnostics, e.g. `tsv ./svc` (runsv prints `runsv <dir>: warning: ...`) */
  diagPrefix: string;
  /** receives each warning/fatal line (without trailing newline); the CLI writes them to stderr */
  warn(line: string): void;
  /** recorded in tsv.json's supervisor.program: 'tsv' | 'tsvscan' */
  program: string;
  /** the service's name (a scheduled service's log markers and notify); default: dir's basename */
  name?: string;
  /** receives the service's event lines (started, exited 3, backoff ...; talk.ts), without
   * its name; unset: silent (runsv, runsvdir, -q) */
  talk?(line: string): void;
  /** set: the service's processes write their stderr into a pipe of their own and each line
   * comes here (stderr-relay.ts); unset: they share the supervisor's stderr (runsv's way) */
  relay?(line: string): void;
  /** told each time the service's ./run exits (not its logger's) */
  onRunExit?: (code: number | null, signum: number) => void;
  /** the environment the service's processes get (before the lifeline's and the cgroup's
   * variables): a frozen record a host shares between its supervisors (tsvscan: this
   * process's, taken once); unset: this process's environment at set-up */
  env?: Readonly<NodeJS.ProcessEnv>;
}

/** How long to wait between tries of log/supervise/lock (runsv blocks in flock instead). */
const LOG_LOCK_RETRY_MS = 200;

export class Supervisor {
  /** Resolves once the supervisor has finished (after `x` on the control FIFO, or shutdown()), with nothing left open. */
  readonly exited: Promise<void>;
  /** Resolves with the process group of the service's first run once it has started (never,
   * for a service that never starts). */
  readonly firstRun: Promise<FirstRun>;
  private resolveFirstRun!: (run: FirstRun) => void;
  private resolveExited!: () => void;
  private readonly dir: string;
  /** the service: one Slot, or a Pool of them when the directory has an `instances` file */
  private main: Slot | Pool | null = null;
  /** the lifeline pipe (read end given to run, write end held until we are gone), if any */
  private lifeline: [number, number] | null = null;
  /** the scheduler of a scheduled service (a `schedule` file): control letters go through it */
  private schedule: ScheduleShell | null = null;
  private log: Slot | null = null;
  private mainDir: SuperviseDir | null = null;
  private logDir: SuperviseDir | null = null;
  private logPipe: [number, number] | null = null;
  private life: LifeState = 'new';
  private inProcessLog = false;
  private watching: Watching | undefined;
  private relay: StderrRelay | null = null;
  private pgidWatcher: ((pgid: number) => void) | undefined;

  constructor(
    dir: string,
    private readonly opts: SupervisorOptions,
  ) {
    this.dir = resolve(dir);
    this.exited = new Promise((res) => (this.resolveExited = res));
    // why no flag for "first": a promise settles once; later runs' calls change nothing.
    this.firstRun = new Promise((res) => (this.resolveFirstRun = res));
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

  /** SIGHUP to tsv: a pool reads its `instances` again (no effect on a single service). */
  reload(): void {
    if (this.main instanceof Pool) this.main.reload();
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
        if (fx === 'boot') {
          this.main?.boot();
          this.schedule?.boot();
        } else this.mainControl(Buffer.from('x'));
        break;
      case 'sendX':
        this.mainControl(Buffer.from('x'));
        break;
      case 'ignoreControl':
        this.schedule?.close();
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

  /** Control bytes for the service: through its scheduler when it has one. */
  private mainControl(chunk: Buffer): void {
    if (this.schedule !== null) this.schedule.controlBytes(chunk);
    else this.main?.controlBytes(chunk);
  }

  /** True if pid is a process this supervisor spawned and tracks (run, finish, hooks, logger). */
  ownsPid(pid: number): boolean {
    return (this.main?.ownsPid(pid) ?? false) || (this.log?.ownsPid(pid) ?? false) || (this.schedule?.ownsPid(pid) ?? false);
  }

  /** It also starts children it does not track: the in-process logger's processors (svlogd's
   * `!cmd`), through child_process, in this process's session (see Scanner.ownsPid). */
  get spawnsUntracked(): boolean {
    return this.inProcessLog;
  }

  /** The grace of the supervisor's own exit is over: SIGKILL what still runs of the service
   * and its logger, unless the service has its own timeout-kill (which wins). True when
   * something had to be killed. */
  forceKill(): boolean {
    const main = this.main?.forceKill() ?? false;
    const log = this.log?.forceKill() ?? false;
    return main || log;
  }

  /** The process group of the running service, or 0. */
  servicePgid(): number {
    return this.main?.pgid() ?? 0;
  }

  /** Tell cb the service's process group (servicePgid(), 0: none) each time its run, or one of
   * a pool's, has started or its exit has been handled (tsvscan's subreaper keeps it). */
  watchPgid(cb: (pgid: number) => void): void {
    this.pgidWatcher = cb;
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
    // why one look (a stat, then a listing): the set-up's probes (down, log, schedule,
    // instances, watch, lifeline-fd, pdeath-signal) look only at names the directory holds, and
    // the first read of the settings and limit files takes this stamp and listing as its own.
    let seen: DirSeen;
    try {
      seen = seeDir(dir);
      if (seen.st === undefined) throw Object.assign(new Error('no such file or directory'), { code: 'ENOENT' });
      if (!seen.st.isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
      accessSync(dir, fsc.X_OK);
    } catch (err) {
      throw fatalFrom('unable to change to directory', err);
    }
    const names = seen.names;
    /** Does dir/name exist (runsv's stat, following a symlink)? */
    const has = (name: string): boolean => (names === undefined || names.has(name)) && exists(join(dir, name));
    const wantUp = !has(SERVICE.down);
    const logDirPath = join(dir, SERVICE.log);
    let hasLog = false;
    try {
      if (names !== undefined && !names.has(SERVICE.log)) hasLog = false;
      else if (statSync(logDirPath).isDirectory()) hasLog = true;
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
        // why: the logger's lines carry their own `tsvlog: level:` part; they get our prefix only.
        startInProcess = inProcessLoggerFactory(logDirPath, this.logPipe[0], (line) => this.line(line));
      }
    }

    this.mainDir = new SuperviseDir(dir, '');
    const mainMade = this.mainDir.makeDir();
    this.mainDir.lock();
    let logMade = false;
    if (hasLog) {
      this.logDir = new SuperviseDir(logDirPath, 'log/');
      logMade = this.logDir.makeDir();
      await this.lockLog(this.logDir);
    }
    // why before the takeover: an orphan of a SIGKILLed supervisor may have filled the FIFO;
    // reading it lets the orphan go on (and stop when told), and its lines are not lost.
    if (this.opts.relay !== undefined) this.relay = new StderrRelay(this.mainDir.openStderr(), this.opts.relay);
    // why: a pool's instances first (all at once), then the directory's own: the old logger
    // reads every line the instances wrote before it is told to go.
    // why the made flags: a supervise/ made just now holds no record to look for (the start of
    // 1000 new services would look for 5000 files that cannot be there).
    if (!mainMade) await takeOverInstances(dir, (line) => this.warn(line));
    await takeOverOrphans(dir, (line) => this.warn(line), {}, { main: !mainMade, log: hasLog && !logMade });
    const lifelineFd = readLifelineFd(dir, (m) => this.warn(m), names);
    // why: the write end is ours alone (close-on-exec, as every fd we open): when this process
    // is gone, however it died, the kernel closes it and every reader of the read end sees EOF.
    if (lifelineFd !== undefined) this.lifeline = pipe();
    const extraFds = this.lifeline !== null && lifelineFd !== undefined ? [[lifelineFd, this.lifeline[0]] as const] : undefined;
    // why: a cgroup per supervised process (docs/servicedir.md, "cgroups"): made in the
    // supervisor's subtree below its own cgroup, named after the directory so that a successor
    // finds what a dead supervisor left there and empties it before starting anything.
    const cgBase = cgroupBase();
    const noCgroups = cgroupBaseWarning(cgBase);
    if (noCgroups !== null) this.warn(noCgroups);
    // why: tsvscan hands us /proc/self/fd/N (renames follow the fd); the name must come from the
    // directory's real path, which a successor supervisor of the same directory sees too.
    const cgNames = ServiceCgroup.names(realPath(dir));
    if ('dir' in cgBase) await takeOverCgroups(dir, [join(cgBase.dir, cgNames.main), join(cgBase.dir, cgNames.log)], (line) => this.warn(line));

    const talk = this.opts.talk;
    const nofile = startNofile();
    const env = serviceEnv(this.opts.env, lifelineFd, 'dir' in cgBase ? cgBase.outsideProcs : null);
    const supervisorInfo: ExtraStatus['supervisor'] = { pid: process.pid, startTicks: ownStartTicks(), program: this.opts.program };
    const mainDir = this.mainDir;
    // why: a scheduled service's machine starts down (want down): its scheduler starts each run.
    const scheduled = has(SERVICE.schedule);
    const isPool = has(SERVICE.instances);
    if (isPool && scheduled) this.warn(`a scheduled service is not a pool: ${SERVICE.instances} ignored`);
    const unit = {
      dir,
      sdir: this.mainDir,
      wantUp: wantUp && !scheduled,
      stdin: 0,
      stdout: this.logPipe?.[1] ?? 1,
      env,
      nofile,
      warn: (m: string) => this.warn(m),
      supervisorInfo,
      extraFds,
      pdeathsig: readPdeathSignal(dir, (m) => this.warn(m), names),
      seen,
      onExitReady: () => this.lifeEvent({ type: 'mainDown', hasLog: this.log !== null }),
      ...(this.relay !== null ? { stderr: this.relay } : {}),
      ...(talk !== undefined ? { observe: (b: Readonly<MachineState>, a: Readonly<MachineState>) => narrate(b, a).forEach((l) => talk(l)) } : {}),
      cgroup: { base: cgBase, name: cgNames.main, serviceDir: dir },
      onRunExit: this.opts.onRunExit,
      onRunStart: (pgid: number) => {
        this.resolveFirstRun({ pgid, output: this.outputId() });
        this.pgidWatcher?.(this.main === null ? pgid : this.servicePgid());
      },
      onRunEnded: () => this.pgidWatcher?.(this.servicePgid()),
    };
    const main = isPool && !scheduled ? new Pool(unit) : new Slot({ ...unit, isLog: false, onState: scheduled ? (m) => this.schedule?.machineChanged(m) : undefined });
    if (scheduled && main instanceof Slot) {
      this.schedule = new ScheduleShell({
        dir,
        name: this.opts.name ?? basename(dir),
        sdir: mainDir,
        enabled: wantUp,
        toMachine: (letters) => main.controlBytes(Buffer.from(letters, 'latin1')),
        logFd: () => this.logPipe?.[1] ?? null,
        notifyStdout: () => this.logPipe?.[1] ?? 1,
        env,
        nofile,
        supervisorPid: process.pid,
        warn: (m) => this.warn(m),
      });
    }
    this.mainDir.openControl(
      (chunk) => this.mainControl(chunk),
      (err) => this.warn(`unable to read supervise/control: ${errstr(err)}`),
    );
    // why: the first writes of a start go to the thread pool (SuperviseDir.deferWrites); the
    // initial status is on disk before ok exists, as runsv has it.
    this.mainDir.deferWrites();
    // why status alone: the start's own write comes next and makes the other three files.
    if (mainMade && main instanceof Slot && unit.wantUp) this.mainDir.statusOnlyNext();
    main.writeNow();
    await this.mainDir.flushed();
    this.mainDir.openOk();
    this.mainDir.deferWrites();
    this.main = main;

    if (this.logDir !== null && this.logPipe !== null) {
      const logWantUp = !exists(join(logDirPath, SERVICE.down));
      const logSlot = new Slot({
        dir: logDirPath,
        sdir: this.logDir,
        isLog: true,
        wantUp: logWantUp,
        stdin: this.logPipe[0],
        stdout: 1,
        env,
        nofile,
        warn: (m) => this.warn(m),
        supervisorInfo,
        onExitReady: () => this.lifeEvent({ type: 'logDown' }),
        startInProcess,
        // why: log/run's stderr is relayed too, but its last line is no reason for run's exit
        ...(this.relay !== null ? { stderr: { writeFd: this.relay.writeFd, takeLastLine: () => undefined, forgetLast: () => undefined } } : {}),
      });
      this.logDir.openControl(
        (chunk) => logSlot.controlBytes(chunk),
        (err) => this.warn(`unable to read log/supervise/control: ${errstr(err)}`),
      );
      this.logDir.deferWrites();
      if (logMade && logWantUp && startInProcess === undefined) this.logDir.statusOnlyNext();
      logSlot.writeNow();
      await this.logDir.flushed();
      this.logDir.openOk();
      this.logDir.deferWrites();
      this.log = logSlot;
    }
    // why: before run starts, so no change after the start is missed (the initial scan is done).
    if (has(SERVICE.watch)) {
      try {
        this.watching = await startWatch(dir, () => main.fileChange(), (m) => this.warn(m));
      } catch (err) {
        this.warn(`unable to watch: ${errstr(err)}`);
      }
    }
  }

  /** What run's stdout is, as /proc/PID/fd/1 names it: the log pipe (`pipe:[inode]`, the
   * service's own), or null for this process's stdout, shared with every service without a
   * logger. why fstat: the pipe is ours, so one fstat says it, where /proc is a path walk. */
  private outputId(): string | null {
    if (this.logPipe === null) return null;
    try {
      return `pipe:[${fstatSync(this.logPipe[1]).ino}]`;
    } catch {
      return null;
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
    this.schedule?.close();
    void this.watching?.close();
    this.main?.close();
    this.log?.close();
    this.mainDir?.close();
    this.logDir?.close();
    this.closeLogPipe();
    for (const fd of this.lifeline ?? []) {
      try {
        closeSync(fd);
      } catch {
        // already closed
      }
    }
    this.lifeline = null;
    this.relay?.close();
    this.relay = null;
  }
}

/** This process's start time (clock ticks since boot, for tsv.json), read from /proc once:
 * it never changes, and tsvscan's supervisors would otherwise read it once each. */
let startTicksOfSelf: number | null | undefined;
function ownStartTicks(): number | null {
  if (startTicksOfSelf === undefined) startTicksOfSelf = procStat(process.pid)?.startTicks ?? null;
  return startTicksOfSelf;
}

/** The environments made from each shared base, by the cgroup variable's value ('' for none). */
const sharedEnvs = new WeakMap<object, Map<string, NodeJS.ProcessEnv>>();

/** The environment of a service's processes: base (this process's when unset) without
 * TSV_NOFILE, with the lifeline fd and the cgroup outside path; frozen. why shared: copying
 * process.env calls its getter once per variable (a twentieth of the loop's work in a start of
 * 1000); from a shared base without a lifeline the result is made once and, with it, its list of
 * entries (slot.ts), so a scanner's services all point at the one object. */
function serviceEnv(base: Readonly<NodeJS.ProcessEnv> | undefined, lifelineFd: number | undefined, outside: string | null): NodeJS.ProcessEnv {
  const make = (): NodeJS.ProcessEnv => {
    const env = { ...(base ?? process.env) };
    delete env[ENV.nofile];
    if (lifelineFd !== undefined) env[ENV.lifelineFd] = String(lifelineFd);
    if (outside !== null) env[CGROUP.envOutside] = outside;
    return Object.freeze(env);
  };
  if (base === undefined || lifelineFd !== undefined) return make();
  let made = sharedEnvs.get(base);
  if (made === undefined) sharedEnvs.set(base, (made = new Map()));
  let env = made.get(outside ?? '');
  if (env === undefined) made.set(outside ?? '', (env = make()));
  return env;
}

/** The real path of dir (dir itself when it cannot be resolved). why readlink for
 * /proc/self/fd/N (tsvscan's every service): the kernel's name of the fd's directory is its real
 * path, in one call, where realpath(3) readlinks every component of both paths (ten calls);
 * " (deleted)" (a removed directory) is no path: realpath's answer then. */
function realPath(dir: string): string {
  try {
    if (/^\/proc\/self\/fd\/\d+$/.test(dir)) {
      const target = readlinkSync(dir);
      if (target.startsWith('/') && !target.endsWith(' (deleted)')) return target;
    }
    return realpathSync.native(dir);
  } catch {
    return dir;
  }
}

/** Does path exist (stat succeeds, as runsv tests `down`)? why throwIfNoEntry: most probes find
 * nothing, and an ENOENT thrown is an Error with its stack captured. */
function exists(path: string): boolean {
  try {
    return statSync(path, { throwIfNoEntry: false }) !== undefined;
  } catch {
    return false;
  }
}

/** The compiler's proof that a switch covers every effect. */
function assertNever(x: never): never {
  throw new Error(`unexpected effect ${String(x)}`);
}
