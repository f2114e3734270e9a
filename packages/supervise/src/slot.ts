// The I/O shell around one state machine (machine.ts): the service's run/finish, or its
// logger. Turns OS events (child exit, timers, control bytes, readiness line, hook result) into
// machine events and carries out the machine's effects (spawn, signal, status write, timers,
// control/<c> hooks). Owns no global state and never throws out of an event handler.
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { closeSync, openSync, statSync, constants as fsc } from 'node:fs';
import { Socket } from 'node:net';
import { constants as osc } from 'node:os';
import { join } from 'node:path';
import { decodeControl, errCode, errstr, type ExtraStatus, projectStatus, SERVICE } from '@tsv/core';
import { pidsInGroup, procStat } from '@tsv/os';
import { getrlimit, pipe, RLIMIT, setrlimit } from '@tsv/native';
import { initialState, step, type Effect, type MachineEvent, type MachineState, type Now, type TimerName } from './machine.js';
import { DEFAULT_SETTINGS, type Settings } from './policy.js';
import { readSettings } from './settings.js';
import type { SuperviseDir } from './supervise-dir.js';
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
}

/** One running control/<c> hook or service child. */
interface Running {
  child: ChildProcess;
}

/** The shell of one supervised process. */
export class Slot {
  private state: MachineState;
  private readonly events: MachineEvent[] = [];
  private dispatching = false;
  private dirty = false;
  private readonly timers = new Map<TimerName, NodeJS.Timeout>();
  private readonly children = new Map<number, Running>();
  private readiness: Socket | null = null;
  private logger: LoggerHandle | null = null;
  private startTicks: number | null = null;
  private closed = false;
  private dead = false;
  private readonly cleanups = new Set<NodeJS.Timeout>();
  private cleanupWaiters: (() => void)[] = [];

  constructor(private readonly o: SlotOptions) {
    this.state = initialState(o.isLog, o.wantUp, now());
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
    for (const letter of decodeControl(chunk)) this.dispatch({ type: 'control', letter });
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

  /** Process group of the running child, or 0. */
  pgid(): number {
    return this.logger !== null ? 0 : this.state.pgid;
  }

  /** Write the initial status files (before the ok FIFO exists, as runsv does). */
  writeNow(): void {
    this.write();
  }

  /** Resolves when no leftover process group is waiting for its SIGKILL. */
  cleanupsDone(): Promise<void> {
    if (this.cleanups.size === 0) return Promise.resolve();
    return new Promise((res) => this.cleanupWaiters.push(res));
  }

  /** Stop timers and readiness watching; ignore every later event (a late hook exit must not
   * write into a supervise/ whose lock is released). */
  close(): void {
    this.closed = true;
    this.dead = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    this.readiness?.destroy();
    this.readiness = null;
  }

  /** Feed an event; effects run in order, events they cause are queued behind it. */
  private dispatch(ev: MachineEvent): void {
    if (this.dead) return;
    this.events.push(ev);
    if (this.dispatching) return;
    this.dispatching = true;
    try {
      while (this.events.length > 0) {
        const e = this.events.shift() as MachineEvent;
        try {
          const r = step(this.state, e, now());
          this.state = r.state;
          for (const fx of r.effects) this.effect(fx);
        } catch (err) {
          this.o.warn(`internal error: ${errstr(err)}`);
        }
      }
      // why: one write per burst of events: a crash and its immediate respawn are one status
      // change for readers, and the spawn is not delayed by file writes.
      if (this.dirty) {
        try {
          this.write();
        } catch (err) {
          this.o.warn(`unable to write the status: ${errstr(err)}`);
        }
      }
    } finally {
      this.dispatching = false;
    }
  }

  /** Carry out one effect. */
  private effect(fx: Effect): void {
    switch (fx.type) {
      case 'spawn':
        if (fx.what === 'run' && this.o.startInProcess !== undefined) this.startLogger();
        else this.spawnChild(fx.what, fx.args);
        break;
      case 'signal':
        this.signal(fx.pid, fx.signal);
        break;
      case 'signalGroup':
        if (this.logger === null) kill(-fx.pgid, fx.signal);
        break;
      case 'cleanGroup':
        this.cleanGroup(fx.pgid, fx.signal, fx.killAfterMs);
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
    }
  }

  /** Send a signal to a child; an in-process logger maps it to its methods instead. */
  private signal(pid: number, sig: NodeJS.Signals): void {
    const lg = this.logger;
    if (lg === null) {
      kill(pid, sig);
      return;
    }
    // why: the logger runs inside this process: never signal ourselves.
    if (sig === 'SIGTERM' || sig === 'SIGKILL') void lg.stop().catch((err: unknown) => this.o.warn(`unable to stop the logger: ${errstr(err)}`));
    else if (sig === 'SIGHUP') lg.reopen();
    else if (sig === 'SIGALRM') lg.rotate();
  }

  /** Spawn ./run or ./finish in its own session with exactly fds 0, 1, 2 (and the readiness fd). */
  private spawnChild(what: 'run' | 'finish', args: string[]): void {
    const settings = what === 'run' ? readSettings(this.o.dir, (m) => this.o.warn(m)) : this.state.settings;
    const stdio: StdioOptions = [this.o.stdin, this.o.stdout, 2];
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
    let child: ChildProcess;
    const raised = lowerNofile(this.o.nofile);
    try {
      // why: detached gives run a new session, so it leads its own process group (unlike runsv,
      // whose children stay in its group): its leftovers can be stopped as a group, and a signal
      // to the supervisor's group does not reach the service.
      child = spawn(`./${what}`, args, { cwd: this.o.dir, stdio, env: this.o.env, detached: true });
    } catch (err) {
      closeFds(notify);
      this.failed(what, err, settings);
      return;
    } finally {
      restoreNofile(raised);
    }
    // why: the child has its copy of the write end; ours must go or EOF never comes.
    if (notify !== null) closeFds([notify[1]]);
    const pid = child.pid;
    if (pid === undefined) {
      // why: exec errors (ENOENT, EACCES) are reported by an 'error' event on the next tick.
      child.once('error', (err) => {
        closeFds(notify === null ? null : [notify[0]]);
        this.failed(what, err, settings);
      });
      return;
    }
    this.children.set(pid, { child });
    child.on('error', (err) => this.o.warn(`child ${pid}: ${errstr(err)}`));
    child.once('exit', (code, signal) => {
      this.children.delete(pid);
      this.dispatch({
        type: 'exited',
        code,
        signal,
        signum: signal === null ? 0 : (osc.signals[signal] ?? 0),
        hasFinish: !this.o.isLog && this.hasFinish(),
      });
    });
    this.startTicks = procStat(pid)?.startTicks ?? null;
    if (notify !== null) this.watchReadiness(notify[0]);
    this.dispatch({ type: 'spawned', what, pid, pgid: pid, settings: what === 'run' ? settings : undefined });
  }

  /** Report a spawn that did not happen. */
  private failed(what: 'run' | 'finish', err: unknown, settings: Settings): void {
    this.dispatch({ type: 'spawnFailed', what, error: errstr(err), settings: what === 'run' ? settings : undefined });
  }

  /** Start the in-process logger; its pid is the supervisor's own. */
  private startLogger(): void {
    const start = this.o.startInProcess as () => LoggerHandle;
    let handle: LoggerHandle;
    try {
      handle = start();
    } catch (err) {
      this.dispatch({ type: 'spawnFailed', what: 'run', error: errstr(err), settings: DEFAULT_SETTINGS, label: `log/${SERVICE.logInProcess}` });
      return;
    }
    this.logger = handle;
    // why: the logger's pid is ours, and the supervisor already knows its own start time.
    this.startTicks = this.o.supervisorInfo.startTicks;
    handle.done.then(
      (code) => this.loggerEnded(handle, code),
      (err: unknown) => {
        this.o.warn(`logger failed: ${errstr(err)}`);
        this.loggerEnded(handle, 111);
      },
    );
    this.dispatch({ type: 'spawned', what: 'run', pid: process.pid, pgid: 0, settings: DEFAULT_SETTINGS });
  }

  /** The in-process logger finished. */
  private loggerEnded(handle: LoggerHandle, code: number): void {
    if (this.logger !== handle) return;
    this.logger = null;
    this.dispatch({ type: 'exited', code, signal: null, signum: 0, hasFinish: false });
  }

  /** runsv tests finish by opening it for reading (not by its x bit). */
  private hasFinish(): boolean {
    try {
      // why: a cheap stat first (no exception object when it is missing, the usual case).
      if (statSync(join(this.o.dir, SERVICE.finish), { throwIfNoEntry: false }) === undefined) return false;
      closeSync(openSync(join(this.o.dir, SERVICE.finish), fsc.O_RDONLY | fsc.O_NONBLOCK));
      return true;
    } catch {
      return false;
    }
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

  /** Run control/<letter> if it exists with the owner's x bit; its exit 0 means handled. */
  private runHook(letter: string): void {
    const rel = `control/${letter}`;
    let ok = false;
    try {
      const st = statSync(join(this.o.dir, rel), { throwIfNoEntry: false });
      ok = st !== undefined && (st.mode & fsc.S_IXUSR) !== 0;
    } catch (err) {
      if (errCode(err) !== 'ENOENT' && errCode(err) !== 'ENOTDIR') this.o.warn(`unable to stat ${rel}: ${errstr(err)}`);
    }
    if (!ok) {
      this.dispatch({ type: 'hookDone', handled: false });
      return;
    }
    let child: ChildProcess;
    const raised = lowerNofile(this.o.nofile);
    try {
      child = spawn(rel, [], { cwd: this.o.dir, stdio: [this.o.stdin, this.o.stdout, 2], env: this.o.env, argv0: rel });
    } catch (err) {
      this.o.warn(`unable to run ${rel}: ${errstr(err)}`);
      this.dispatch({ type: 'hookDone', handled: false });
      return;
    } finally {
      restoreNofile(raised);
    }
    const pid = child.pid;
    if (pid === undefined) {
      child.once('error', (err) => {
        this.o.warn(`unable to run ${rel}: ${errstr(err)}`);
        this.dispatch({ type: 'hookDone', handled: false });
      });
      return;
    }
    this.children.set(pid, { child });
    child.on('error', () => undefined);
    child.once('exit', (code, signal) => {
      this.children.delete(pid);
      if (signal !== null) this.o.warn(`child crashed: ${rel}`);
      this.dispatch({ type: 'hookDone', handled: code === 0 });
    });
  }

  /** Stop what the service left in its process group: down-signal and CONT now, KILL later. */
  private cleanGroup(pgid: number, sig: NodeJS.Signals, killAfterMs: number): void {
    if (this.logger !== null || pidsInGroup(pgid).length === 0) return;
    kill(-pgid, sig);
    kill(-pgid, 'SIGCONT');
    if (killAfterMs <= 0) return;
    const t = setTimeout(() => {
      this.cleanups.delete(t);
      if (pidsInGroup(pgid).length > 0) kill(-pgid, 'SIGKILL');
      if (this.cleanups.size === 0) for (const w of this.cleanupWaiters.splice(0)) w();
    }, killAfterMs);
    this.cleanups.add(t);
  }

  /** Write status, stat, pid and tsv.json: the pure projection of the state. */
  private write(): void {
    this.dirty = false;
    const s = this.state;
    const files = projectStatus(
      { ...s, state: s.phase, pidStartTicks: this.startTicks, pgid: this.logger !== null ? 0 : s.pgid, inProcess: this.o.startInProcess !== undefined },
      this.o.supervisorInfo,
    );
    this.o.sdir.writeStatus(files, s.pid, (m) => this.o.warn(m));
  }
}

/** The current moment on both clocks. */
function now(): Now {
  return { wall: Date.now(), mono: Number(process.hrtime.bigint()) / 1e6 };
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

/** Descriptors that must stay free below a lowered NOFILE during a spawn: libuv's exec-error
 * pipe, and files the threadpool may open meanwhile for other services. */
const NOFILE_MARGIN = 32;

/** Put the soft NOFILE back to what the supervisor was started with, for the next spawn
 * (Node raised it at start-up); returns the raised value to restore, or undefined. When this
 * process already uses descriptors up to near that limit (tsvscan with hundreds of services),
 * the limit stays raised and the child inherits it: lowering it would make the spawn itself, and
 * every other service's file operations meanwhile, fail with EMFILE (see docs/tsvscan.md). */
function lowerNofile(soft: number | undefined): number | undefined {
  if (soft === undefined) return undefined;
  try {
    const cur = getrlimit(RLIMIT.NOFILE);
    if (cur.soft === soft) return undefined;
    // why: a new descriptor gets the lowest free number, so opening one tells whether the next
    // NOFILE_MARGIN descriptors would still fit under the lowered limit.
    const probe = openSync('/dev/null', fsc.O_RDONLY);
    closeSync(probe);
    if (probe + NOFILE_MARGIN >= soft) return undefined;
    setrlimit(RLIMIT.NOFILE, Math.min(soft, cur.hard), cur.hard);
    return cur.soft;
  } catch {
    return undefined;
  }
}

/** Raise the soft NOFILE again after a spawn. */
function restoreNofile(raised: number | undefined): void {
  if (raised === undefined) return;
  try {
    setrlimit(RLIMIT.NOFILE, raised, getrlimit(RLIMIT.NOFILE).hard);
  } catch {
    // keep the lower limit
  }
}
