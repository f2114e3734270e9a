// The I/O shell around one state machine (machine.ts): the service's run/finish, or its
// logger. Turns OS events (child exit, timers, control bytes, readiness line, hook exit) into
// machine events and carries out the machine's effects as syscalls (spawn, kill, status write,
// timers, control/<c> hooks, settings read, the in-process logger's methods). It decides
// nothing: every rule is in the machine's table. Owns no global state and never throws out of
// an event handler.
import { closeSync } from 'node:fs';
import { Socket } from 'node:net';
import { constants as osc } from 'node:os';
import { decodeControl, envFromRecord, type EnvList, errstr, EXIT, type ExtraStatus, projectStatus, SERVICE } from '@tsv/core';
import { childWatcher, pidsInGroup, procStat, spawnChild, spawnChildAsync, type ChildFd, type SpawnChildOptions } from '@tsv/os';
import { pipe, spawnStartTicks } from '@tsv/native';
import { EventQueue } from './event-queue.js';
import { initialState, step, type Effect, type MachineEvent, type MachineState, type Now, type TimerName } from './machine.js';
import { DEFAULT_SETTINGS, type Settings } from './policy.js';
import { settingsCache } from './settings.js';
import type { DirSeen } from './file-cache.js';
import { whenGroupGone } from './watch-group.js';
import type { SuperviseDir } from './supervise-dir.js';
import { ServiceCgroup, type CgroupBase } from './cgroup-slot.js';
import type { LoggerHandle } from '@tsv/log';

/** A logger hosted in this process (@tsv/log's startLogger). */
export type { LoggerHandle };

/** What a slot needs from its supervisor. */
export interface SlotOptions {
  /** the directory run is started in: the service dir, or its log/ */
  dir: string;
  sdir: SuperviseDir;
  isLog: boolean;
  wantUp: boolean;
  /** fd given to run/finish/hooks as stdin and stdout */
  stdin: number;
  stdout: number;
  env: NodeJS.ProcessEnv;
  /** the soft RLIMIT_NOFILE the supervisor was started with (restored for children) */
  nofile: number | undefined;
  /** receives warnings (the message only; the supervisor adds its prefix) */
  warn(message: string): void;
  /** the `supervisor` part of tsv.json */
  supervisorInfo: ExtraStatus['supervisor'];
  /** the machine asks for the exit (want exit and down) */
  onExitReady(): void;
  /** set for a logger hosted in-process instead of log/run */
  startInProcess?: () => LoggerHandle;
  /** more fds run gets, as [target fd number, our fd] (the lifeline's read end) */
  extraFds?: ReadonlyArray<readonly [number, number]>;
  /** the signal number run gets from the kernel when the supervisor dies (pdeath-signal) */
  pdeathsig?: number;
  /** told the machine's state after each burst of events (a scheduled service's scheduler) */
  onState?: (state: Readonly<MachineState>) => void;
  /** the service's stderr pipe (stderr-relay.ts): fd 2 of every child, and the last line run
   * wrote there before a failed exit; unset: the supervisor's own stderr */
  stderr?: { writeFd: number; takeLastLine(): string | undefined; forgetLast(): void };
  /** sees each step of the machine, before and after (the event lines of talk.ts) */
  observe?(before: Readonly<MachineState>, after: Readonly<MachineState>): void;
  /** run gets a cgroup of this name in the supervisor's subtree (cgroup-slot.ts) */
  cgroup?: { base: CgroupBase | { error: string }; name: string; serviceDir: string };
  /** told each time ./run exits (tsvscan --main: the container's exit code) */
  onRunExit?: (code: number | null, signum: number) => void;
  /** told each time ./run has started, with its process group */
  onRunStart?: (pgid: number) => void;
  /** told each time ./run's exit has been handled (the machine knows it: pgid() says so) */
  onRunEnded?: () => void;
  /** the service directory as the set-up looked at it: the first read of the settings and
   * limit files takes its stamp and names instead of looking again */
  seen?: DirSeen;
}

/** One running control/<c> hook or service child. */
interface Running {
  what: string;
}

/** The shell of one supervised process. */
export class Slot {
  private state: MachineState;
  private dirty = false;
  private readonly queue = new EventQueue<MachineEvent>((e) => this.stepOne(e), (m) => this.o.warn(m), () => this.settled());
  private readonly timers = new Map<TimerName, NodeJS.Timeout>();
  private readonly children = new Map<number, Running>();
  private readiness: Socket | null = null;
  private logger: LoggerHandle | null = null;
  private startTicks: number | null = null;
  /** o.env as NAME=value entries, made at the first spawn (o.env is never changed once given) */
  private envList: EnvList | undefined;
  private closed = false;
  private dead = false;
  /** run spawns in the thread pool whose result has not come back (spawnRunAsync) */
  private spawnsInFlight = 0;
  private cancelGroupWait: (() => void) | null = null;
  private readonly cg: ServiceCgroup | null;
  private readonly settingsFiles: ReturnType<typeof settingsCache>;

  constructor(private readonly o: SlotOptions) {
    this.state = initialState(o.isLog, o.wantUp, now());
    this.settingsFiles = settingsCache(o.dir, !o.isLog, o.seen);
    const c = o.cgroup;
    this.cg =
      c === undefined || o.startInProcess !== undefined
        ? null
        : new ServiceCgroup(
            c.serviceDir,
            c.name,
            c.base,
            (m) => o.warn(m),
            () => this.dispatch({ type: 'cgroupEmpty' }),
            // why a spawn in flight counts: run is being born into the cgroup (the change its
            // birth makes is no emptiness), and the machine waits for none meanwhile.
            () => this.spawnsInFlight > 0 || (this.state.phase === 'run' && this.state.pid !== 0 && this.state.cgroup),
            o.seen,
          );
  }

  /** The machine's current state (read-only view). */
  get current(): Readonly<MachineState> {
    return this.state;
  }

  /** Start run if it is wanted up. */
  boot(): void {
    this.dispatch({ type: 'boot' });
  }

  /** Bytes read from supervise/control: one event per byte, in order. */
  controlBytes(chunk: Buffer): void {
    if (this.closed) return;
    // why: unknown bytes are ignored anyway; dropping them first keeps a flood of garbage cheap.
    // One burst for the whole chunk: `tcu` (a restart) is one status write, not three, so the
    // child's exit that follows is not queued behind two needless writes.
    this.dispatch(...decodeControl(chunk).map((letter): MachineEvent => ({ type: 'control', letter })));
  }

  /** Watch mode: a burst of changes to the watched files ended. */
  fileChange(): void {
    this.dispatch({ type: 'change' });
  }

  /** The main service is gone: the logger is to exit once its input ends. */
  exitLog(): void {
    this.dispatch({ type: 'exitLog' });
  }

  /** Ignore control bytes from now on: the supervisor is exiting and the log pipe is about to
   * close, so nothing may be started any more (a child would get a closed fd number). */
  ignoreControl(): void {
    this.closed = true;
  }

  /** Is pid a process this slot spawned (and libuv waits for)? */
  ownsPid(pid: number): boolean {
    return this.children.has(pid);
  }

  /** /proc start time of the current child (with its pid, its identity), or null. */
  get pidStartTicks(): number | null {
    return this.startTicks;
  }

  /** Process group of the running child, or 0. */
  pgid(): number {
    return this.logger !== null ? 0 : this.state.pgid;
  }

  /** The supervisor's grace for its own exit is over: act as timeout-kill does (SIGKILL to run
   * and its group). False when nothing runs, or the service has its own timeout-kill (which
   * wins: its kill timer decides). */
  forceKill(): boolean {
    if (this.state.pid === 0 || this.state.phase !== 'run' || this.state.settings.timeoutKillMs > 0) return false;
    this.dispatch({ type: 'timer', name: 'kill' });
    return true;
  }

  /** Write the initial status files (before the ok FIFO exists, as runsv does). */
  writeNow(): void {
    this.write();
  }

  /** Stop timers and readiness watching; ignore every later event (a late hook exit must not
   * write into a supervise/ whose lock is released). */
  close(): void {
    this.closed = true;
    this.dead = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    this.cancelGroupWait?.();
    this.readiness?.destroy();
    this.readiness = null;
    // why: the machine removed an unwanted cgroup already; this drops the watch and fd, and a
    // cgroup left empty (the supervisor exits) goes too, so none leaks.
    if (this.cg !== null && this.cg.mode === 'cgroup' && this.state.pid === 0) this.cg.remove();
    else this.cg?.close();
  }

  /** Feed events; effects run in order, events they cause are queued behind them. */
  private dispatch(...evs: MachineEvent[]): void {
    if (this.dead) return;
    // why: after the burst, outside it: letters the observer sends back start a burst of their own.
    if (this.queue.push(evs)) this.o.onState?.(this.state);
  }

  /** One event through the table. */
  private stepOne(e: MachineEvent): void {
    const before = this.state;
    const r = step(before, e, now());
    this.state = r.state;
    if (this.o.observe !== undefined && r.state !== before) this.o.observe(before, r.state);
    for (const fx of r.effects) this.effect(fx);
  }

  /** After a burst: one write per burst of events (a crash and its immediate respawn are one
   * status change for readers, and the spawn is not delayed by file writes). */
  private settled(): void {
    // why: while run is being spawned its start is not known yet: a crash and its respawn
    // stay one status change, written once the spawn has landed.
    if (!this.dirty || this.spawnsInFlight > 0) return;
    try {
      this.write();
    } catch (err) {
      this.o.warn(`unable to write the status: ${errstr(err)}`);
    }
  }

  /** Carry out one effect. */
  private effect(fx: Effect): void {
    switch (fx.type) {
      case 'readSettings':
        this.dispatch({ type: 'settings', settings: this.readSettings() });
        break;
      case 'spawn':
        if (fx.what === 'run' && this.o.startInProcess !== undefined) this.startLogger();
        else this.spawnChild(fx.what, fx.args);
        break;
      case 'signal':
        kill(fx.pid, fx.signal);
        break;
      case 'signalGroup':
        // why: a group id is not reused while the group has a member; an empty one may be.
        if (pidsInGroup(fx.pgid).length > 0) kill(-fx.pgid, fx.signal);
        break;
      case 'cleanGroup':
        // why: pidsInGroup asks the kernel first (one kill(2) when the group is empty, the usual
        // case) and scans /proc only for a group with a member, where zombies do not count.
        if (pidsInGroup(fx.pgid).length === 0) {
          this.dispatch({ type: 'groupGone', pgid: fx.pgid });
          break;
        }
        kill(-fx.pgid, fx.signal);
        kill(-fx.pgid, 'SIGCONT');
        break;
      case 'logger':
        this.loggerAction(fx.action);
        break;
      case 'write':
        this.dirty = true;
        break;
      case 'setTimer': {
        clearTimeout(this.timers.get(fx.name));
        this.timers.set(
          fx.name,
          setTimeout(() => {
            this.timers.delete(fx.name);
            this.dispatch({ type: 'timer', name: fx.name });
          }, fx.ms),
        );
        break;
      }
      case 'cancelTimer':
        clearTimeout(this.timers.get(fx.name));
        this.timers.delete(fx.name);
        break;
      case 'hook':
        this.runHook(fx.letter);
        break;
      case 'warn':
        this.o.warn(fx.message);
        break;
      case 'closeReadiness':
        this.readiness?.destroy();
        this.readiness = null;
        break;
      case 'exitReady':
        this.o.onExitReady();
        break;
      case 'awaitGroupGone':
        this.cancelGroupWait?.();
        this.cancelGroupWait = whenGroupGone(fx.pgid, () => {
          this.cancelGroupWait = null;
          this.dispatch({ type: 'groupGone', pgid: fx.pgid });
        });
        break;
      case 'cleanCgroup':
        if (this.cg === null || !this.cg.clean(fx.signal)) this.dispatch({ type: 'cgroupEmpty' });
        break;
      case 'killCgroup':
        this.cg?.kill();
        break;
      case 'removeCgroup':
        this.cg?.remove();
        break;
      default:
        assertNever(fx);
    }
  }

  /** The settings for the next start: the service dir's files (re-read only when one changed),
   * or none for an in-process logger. */
  private readSettings(): Settings {
    if (this.o.startInProcess !== undefined) return { ...DEFAULT_SETTINGS, inProcess: true };
    return this.settingsFiles.get((m) => this.o.warn(m));
  }

  /** Call the in-process logger's method the machine chose. */
  private loggerAction(action: 'stop' | 'reopen' | 'rotate'): void {
    const lg = this.logger;
    if (lg === null) return;
    if (action === 'stop') void lg.stop().catch((err: unknown) => this.o.warn(`unable to stop the logger: ${errstr(err)}`));
    else if (action === 'reopen') lg.reopen();
    else lg.rotate();
  }

  /** Spawn ./run or ./finish in its own session with exactly fds 0, 1, 2 (and the readiness fd). */
  private spawnChild(what: 'run' | 'finish', args: string[]): void {
    const settings = this.state.settings;
    const stdio: ChildFd[] = [this.o.stdin, this.o.stdout, this.o.stderr?.writeFd ?? 2];
    // why: a line an earlier run wrote is no reason for this run's exit
    if (what === 'run') this.o.stderr?.forgetLast();
    let notify: [number, number] | null = null;
    if (what === 'run' && settings.notificationFd > 0) {
      try {
        notify = pipe();
        while (stdio.length < settings.notificationFd) stdio.push('ignore');
        stdio[settings.notificationFd] = notify[1];
      } catch (err) {
        this.o.warn(`unable to create the readiness pipe: ${errstr(err)}`);
      }
    }
    if (what === 'run') {
      for (const [target, fd] of this.o.extraFds ?? []) {
        if (target === settings.notificationFd) {
          this.o.warn(`fd ${target} is notification-fd: the lifeline is not given`);
          continue;
        }
        while (stdio.length < target) stdio.push('ignore');
        stdio[target] = fd;
      }
    }
    // why: only run joins the cgroup: finish runs after it, while its leftovers are being stopped.
    let cgroupDirFd = what === 'run' ? (this.cg?.prepare() ?? null) : null;
    // why: setsid gives run a new session, so it leads its own process group (unlike runsv,
    // whose children stay in its group): its leftovers can be stopped as a group, and a signal
    // to the supervisor's group does not reach the service. The NOFILE soft limit is set in
    // the child only: this process's stays raised, so no spawn can make it run out of fds.
    const options = (cgFd: number | null): SpawnChildOptions => ({ file: `./${what}`, args, cwd: this.o.dir, stdio, env: (this.envList ??= envListOf(this.o.env)), setsid: true, nofile: this.o.nofile, ...(cgFd === null ? {} : { cgroupDirFd: cgFd }), ...(what === 'run' && this.o.pdeathsig !== undefined ? { pdeathsig: this.o.pdeathsig } : {}) });
    // why: run (the one spawn that comes in bursts: a scan dir's start, a crash storm) is started
    // in the thread pool, so the loop does not sit out the child's exec; the kernel sends a
    // pdeath-signal when the thread that forked exits, so that one forks on the loop's thread.
    if (what === 'run' && this.o.pdeathsig === undefined) {
      this.spawnRunAsync(options, cgroupDirFd, notify, this.o.sdir.writesDeferred, false);
      return;
    }
    let pid: number;
    try {
      try {
        pid = spawnChild(options(cgroupDirFd));
      } catch (err) {
        // why: the cgroup was removed since it was prepared (by the supervisor of the directory
        // this one replaced, stopping): make it again, once, rather than fail every start.
        if (cgroupDirFd === null || this.cg?.stale() !== true) throw err;
        this.cg.close();
        cgroupDirFd = this.cg.prepare();
        pid = spawnChild(options(cgroupDirFd));
      }
    } catch (err) {
      // why: exec errors (ENOENT, EACCES, ENOEXEC) are thrown synchronously, in the middle of
      // the machine's effects; the machine sees the failure after the whole burst, as it did
      // with child_process's 'error' event on the next tick.
      closeFds(notify);
      process.nextTick(() => this.failed(what, err));
      return;
    }
    // why: taken around the clone by the addon (no read of /proc/PID/stat, which waits while
    // the child is still in execve); /proc only when the clock crossed a tick meanwhile.
    this.started(what, pid, spawnStartTicks(), notify, cgroupDirFd !== null);
  }

  /** Start run in the thread pool (spawnChildAsync); the machine is told on a later turn of the
   * loop (it waits in its spawning row, control letters queued). writeDeferred: the start was
   * in a turn whose status writes go to the thread pool (SuperviseDir.deferWrites), as this
   * spawn's first write then does too. retried: the cgroup was made again once already. */
  private spawnRunAsync(options: (cgFd: number | null) => SpawnChildOptions, cgFd: number | null, notify: [number, number] | null, writeDeferred: boolean, retried: boolean): void {
    const watcher = childWatcher();
    // why: run may exit before its pid is back here; the watcher must not reap it as a stray.
    watcher.expect();
    this.spawnsInFlight++;
    spawnChildAsync(options(cgFd), (err, pid, startTicks) => {
      this.spawnsInFlight--;
      if (err === null && pid !== null) {
        if (writeDeferred) this.o.sdir.deferWrites();
        this.started('run', pid, startTicks, notify, cgFd !== null);
        watcher.landed();
        return;
      }
      watcher.landed();
      // why: the cgroup was removed since it was prepared (by the supervisor of the directory
      // this one replaced, stopping): make it again, once, rather than fail every start.
      if (!retried && !this.closed && cgFd !== null && this.cg?.stale() === true) {
        this.cg.close();
        this.spawnRunAsync(options, this.cg.prepare(), notify, writeDeferred, true);
        return;
      }
      closeFds(notify);
      this.failed('run', err);
    });
  }

  /** run or finish was started as pid: watch its exit and tell the machine. */
  private started(what: 'run' | 'finish', pid: number, startTicks: number | null, notify: [number, number] | null, inCgroup: boolean): void {
    // why: the child has its copy of the write end; ours must go or EOF never comes.
    if (notify !== null) closeFds([notify[1]]);
    this.children.set(pid, { what });
    // why: O(1) per exit (one waitid peek, one waitpid), where libuv waits on every live child
    childWatcher().watch(pid, (code, signal) => {
      this.children.delete(pid);
      // why: run's last line on stderr is the honest reason of a failed exit (`chpst: fatal:
      // unknown user/group: app`); it is read from the pipe now, before the exit is told.
      const reason = what === 'run' && code !== null && code !== 0 ? this.o.stderr?.takeLastLine() : undefined;
      const signum = signal === null ? 0 : (osc.signals[signal] ?? 0);
      if (what === 'run') this.o.onRunExit?.(code, signum);
      this.dispatch({ type: 'exited', code, signal, signum, ...(reason !== undefined ? { reason } : {}) });
      if (what === 'run') this.o.onRunEnded?.();
    });
    this.startTicks = startTicks ?? procStat(pid)?.startTicks ?? null;
    if (notify !== null) this.watchReadiness(notify[0]);
    this.dispatch({ type: 'spawned', what, pid, pgid: pid, ...(inCgroup ? { cgroup: true } : {}) });
    if (what === 'run') this.o.onRunStart?.(pid);
  }

  /** Report a spawn that did not happen. */
  private failed(what: 'run' | 'finish', err: unknown): void {
    this.dispatch({ type: 'spawnFailed', what, error: errstr(err) });
  }

  /** Start the in-process logger; its pid is the supervisor's own. */
  private startLogger(): void {
    const start = this.o.startInProcess as () => LoggerHandle;
    let handle: LoggerHandle;
    try {
      handle = start();
    } catch (err) {
      this.dispatch({ type: 'spawnFailed', what: 'run', error: errstr(err), label: `log/${SERVICE.logInProcess}` });
      return;
    }
    this.logger = handle;
    // why: the logger's pid is ours, and the supervisor already knows its own start time.
    this.startTicks = this.o.supervisorInfo.startTicks;
    handle.done.then(
      (code) => this.loggerEnded(handle, code),
      (err: unknown) => {
        this.o.warn(`logger failed: ${errstr(err)}`);
        this.loggerEnded(handle, EXIT.temporary);
      },
    );
    this.dispatch({ type: 'spawned', what: 'run', pid: process.pid, pgid: 0 });
  }

  /** The in-process logger finished. */
  private loggerEnded(handle: LoggerHandle, code: number): void {
    if (this.logger !== handle) return;
    this.logger = null;
    this.dispatch({ type: 'exited', code, signal: null, signum: 0 });
  }

  /** Watch the readiness pipe: the first newline means ready. */
  private watchReadiness(fd: number): void {
    const sock = new Socket({ fd, readable: true, writable: false });
    this.readiness = sock;
    const done = (): void => {
      sock.destroy();
      if (this.readiness === sock) this.readiness = null;
    };
    sock.on('data', (chunk: Buffer) => {
      if (chunk.includes(10) && this.readiness === sock) {
        done();
        this.dispatch({ type: 'ready' });
      }
    });
    sock.on('end', done);
    sock.on('error', done);
  }

  /** Run control/<letter> (the machine knows it exists); report whether it exited 0. */
  private runHook(letter: string): void {
    const rel = `${SERVICE.control}/${letter}`;
    let pid: number;
    try {
      pid = spawnChild({ file: rel, argv0: rel, cwd: this.o.dir, stdio: [this.o.stdin, this.o.stdout, this.o.stderr?.writeFd ?? 2], env: (this.envList ??= envListOf(this.o.env)), nofile: this.o.nofile });
    } catch (err) {
      // why: after the current burst of effects, as child_process's 'error' event came.
      process.nextTick(() => {
        this.o.warn(`unable to run ${rel}: ${errstr(err)}`);
        this.dispatch({ type: 'hookDone', code: null });
      });
      return;
    }
    this.children.set(pid, { what: rel });
    childWatcher().watch(pid, (code, signal) => {
      this.children.delete(pid);
      if (signal !== null) this.o.warn(`child crashed: ${rel}`);
      // why: "exit 0 = handled" is the machine's rule; the shell reports only the exit code.
      this.dispatch({ type: 'hookDone', code });
    });
  }

  /** Write status, stat, pid and tsv.json: the pure projection of the state. */
  private write(): void {
    this.dirty = false;
    const s = this.state;
    const files = projectStatus(
      {
        ...s,
        state: s.phase,
        pidStartTicks: this.startTicks,
        pgid: this.logger !== null ? 0 : s.pgid,
        inProcess: this.o.startInProcess !== undefined,
        ...(this.cg === null ? {} : { mode: this.cg.mode, cgroupPath: this.cg.mode === 'cgroup' ? this.cg.path : null }),
      },
      this.o.supervisorInfo,
    );
    this.o.sdir.writeStatus(files, s.pid, (m) => this.o.warn(m));
  }
}

/** The current moment on both clocks. */
function now(): Now {
  return { wall: Date.now(), mono: Number(process.hrtime.bigint()) / 1e6 };
}

/** The compiler's proof that a switch covers every effect. */
function assertNever(x: never): never {
  throw new Error(`unexpected effect ${JSON.stringify(x)}`);
}

/** process.kill without throwing (the process may be gone already). */
function kill(pid: number, sig: NodeJS.Signals): void {
  // why: 0 and -0 would signal our own process group, as would our own pid
  if (pid === 0 || pid === process.pid || pid === -process.pid) return;
  try {
    process.kill(pid, sig);
  } catch {
    // ESRCH: already gone
  }
}

/** Close fds, ignoring errors. */
function closeFds(fds: readonly number[] | null): void {
  for (const fd of fds ?? []) {
    try {
      closeSync(fd);
    } catch {
      // already closed
    }
  }
}

/** The entries of each frozen environment (one shared by the services of a scanner). */
const frozenEnvLists = new WeakMap<object, EnvList>();

/** env as NAME=value entries: made once for a frozen env, which cannot change, and shared by
 * every slot given it (tsvscan's 1000 services, one list); a live one is listed anew. */
function envListOf(env: NodeJS.ProcessEnv): EnvList {
  if (!Object.isFrozen(env)) return envFromRecord(env);
  let list = frozenEnvLists.get(env);
  if (list === undefined) {
    list = Object.freeze(envFromRecord(env)) as EnvList;
    frozenEnvLists.set(env, list);
  }
  return list;
}
