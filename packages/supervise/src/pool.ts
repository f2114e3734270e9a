// The I/O shell of a pool (a service directory with an `instances` file): one Slot (the
// per-process machine of machine.ts) per instance, each with its own supervise/instance/ID/,
// and the pool's own supervise/ (the aggregate status, pool.json, the control FIFO the
// supervisor reads). Every rule is POOL_TABLE's (pool-table.ts); this file turns instance
// changes, timers and control bytes into pool events and carries out the effects.
import { mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { basename, join } from 'node:path';
import { decodeControl, ENV, errCode, errstr, type ExtraStatus, projectStatus, SERVICE, SUPERVISE } from '@tsv/core';
import { listIfPresent, procStat } from '@tsv/os';
import type { MachineState, Now } from './machine.js';
import { initialPool, parseInstances, poolEventOf, poolStep, type InstanceView, type Pool as PoolModel, type PoolEffect, type PoolEvent, type PoolTimer, type RollConfig } from './pool-table.js';
import { poolFileText, poolStatusView, type PoolSince } from './pool-status.js';
import { EventQueue } from './event-queue.js';
import { Slot, type SlotOptions } from './slot.js';
import { SuperviseDir } from './supervise-dir.js';
import { takeOverOrphans } from './takeover.js';

/** What a pool needs from its supervisor (a Slot's options, less the per-instance parts). */
export interface PoolOptions {
  /** the service directory */
  dir: string;
  /** the pool's own supervise/ */
  sdir: SuperviseDir;
  wantUp: boolean;
  stdin: number;
  stdout: number;
  env: NodeJS.ProcessEnv;
  nofile: number | undefined;
  warn(message: string): void;
  supervisorInfo: ExtraStatus['supervisor'];
  /** every instance is gone after `x` */
  onExitReady(): void;
  extraFds?: ReadonlyArray<readonly [number, number]>;
  pdeathsig?: number | undefined;
  /** the pool's cgroup name: each instance gets a cgroup of its own, NAME@ID (cgroup-slot.ts) */
  cgroup?: SlotOptions['cgroup'];
  /** told each time an instance's ./run has started, with its process group */
  onRunStart?: (pgid: number) => void;
  /** told each time an instance's ./run's exit has been handled */
  onRunEnded?: () => void;
}

/** One running instance. */
interface Instance {
  slot: Slot;
  sdir: SuperviseDir;
}

/** The shell of one pool: the same face to the supervisor as a Slot. */
export class Pool {
  private pool: PoolModel;
  private readonly instances = new Map<number, Instance>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly queue = new EventQueue<PoolEvent>((e) => this.stepOne(e), (m) => this.o.warn(m));
  private writeQueued = false;
  private since: PoolSince;
  private closed = false;
  private dead = false;
  private readonly name: string;

  constructor(private readonly o: PoolOptions) {
    this.pool = initialPool(readRollConfig(o.dir, o.warn), o.wantUp);
    this.since = { phase: 'down', rolls: 0, since: now() };
    this.name = basename(o.dir);
  }

  /** The pool's model (read-only view, for tests and diagnostics). */
  get current(): Readonly<PoolModel> {
    return this.pool;
  }

  /** Start the instances `instances` asks for (1 when it is invalid, after a warning). */
  boot(): void {
    this.dispatch({ type: 'resize', size: this.readSize() ?? 1 });
  }

  /** Bytes read from the pool's supervise/control: one pool event per known letter. */
  controlBytes(chunk: Buffer): void {
    if (this.closed) return;
    const evs: PoolEvent[] = [];
    for (const letter of decodeControl(chunk)) {
      const ev = poolEventOf(letter);
      if (ev !== undefined) evs.push(ev);
    }
    this.dispatch(...evs);
  }

  /** HUP to the supervisor: read `instances` again (as `h` to the pool). */
  reload(): void {
    if (!this.closed) this.dispatch({ type: 'reload' });
  }

  /** Watch mode (a `watch` file): a change of a watched file is a rolling restart of the pool. */
  fileChange(): void {
    if (!this.closed) this.dispatch({ type: 'roll' });
  }

  /** The supervisor's exit grace is over: SIGKILL every instance still running (each as a
   * Slot does; an instance's own timeout-kill wins). True when one had to be killed. */
  forceKill(): boolean {
    let killed = false;
    for (const i of this.instances.values()) if (i.slot.forceKill()) killed = true;
    return killed;
  }

  /** Ignore control bytes from now on (the supervisor is exiting). */
  ignoreControl(): void {
    this.closed = true;
  }

  /** Is pid a process one of the instances spawned? */
  ownsPid(pid: number): boolean {
    for (const i of this.instances.values()) if (i.slot.ownsPid(pid)) return true;
    return false;
  }

  /** Process group of the lowest running instance, or 0. */
  pgid(): number {
    for (const id of [...this.instances.keys()].sort((a, b) => a - b)) {
      const g = this.instances.get(id)?.slot.pgid() ?? 0;
      if (g !== 0) return g;
    }
    return 0;
  }

  /** Write the pool's status before the ok FIFO exists (as a Slot does). */
  writeNow(): void {
    this.write();
  }

  /** Stop every timer and instance shell (their locks go with their fds). */
  close(): void {
    this.closed = true;
    this.dead = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    for (const i of this.instances.values()) {
      i.slot.close();
      i.sdir.close();
    }
    this.instances.clear();
  }

  /** Feed events; effects run in order, events they cause are queued behind them. */
  private dispatch(...evs: PoolEvent[]): void {
    if (!this.dead) this.queue.push(evs);
  }

  /** One event through the pool's table. */
  private stepOne(e: PoolEvent): void {
    const r = poolStep(this.pool, e);
    this.pool = r.pool;
    for (const fx of r.effects) this.effect(fx);
  }

  /** Carry out one effect. */
  private effect(fx: PoolEffect): void {
    switch (fx.type) {
      case 'start':
        this.startInstance(fx.id, fx.wantUp);
        break;
      case 'retire': {
        const inst = this.instances.get(fx.id);
        // why: an instance whose set-up failed has no machine to stop: it is gone already.
        if (inst === undefined) queueMicrotask(() => this.dispatch({ type: 'retired', id: fx.id }));
        else inst.slot.controlBytes(Buffer.from('x'));
        break;
      }
      case 'restart':
        this.instances.get(fx.id)?.slot.controlBytes(Buffer.from('tu'));
        break;
      case 'send':
        this.instances.get(fx.id)?.slot.controlBytes(Buffer.from(fx.letters));
        break;
      case 'readSize': {
        const size = this.readSize();
        if (size !== undefined) this.dispatch({ type: 'resize', size });
        break;
      }
      case 'setTimer': {
        const key = timerKey(fx.name, fx.id);
        clearTimeout(this.timers.get(key));
        this.timers.set(
          key,
          setTimeout(() => {
            this.timers.delete(key);
            this.dispatch({ type: 'timer', name: fx.name, id: fx.id });
          }, fx.ms),
        );
        break;
      }
      case 'cancelTimer': {
        const key = timerKey(fx.name, fx.id);
        clearTimeout(this.timers.get(key));
        this.timers.delete(key);
        break;
      }
      case 'write':
        this.queueWrite();
        break;
      case 'warn':
        this.o.warn(fx.message);
        break;
      case 'exitReady':
        this.o.onExitReady();
        break;
      default:
        assertNever(fx);
    }
  }

  /** The size `instances` asks for now, or undefined (after a warning) when it is unusable. */
  private readSize(): number | undefined {
    let text: string;
    try {
      text = readFileSync(join(this.o.dir, SERVICE.instances), 'utf8');
    } catch (err) {
      this.o.warn(`unable to read ${SERVICE.instances}: ${errstr(err)}`);
      return undefined;
    }
    const r = parseInstances(text);
    if ('error' in r) {
      this.o.warn(`${r.error}; ${this.pool.size > 0 ? `keeping ${this.pool.size}` : 'using 1'}`);
      return undefined;
    }
    if (r.warning !== undefined) this.o.warn(r.warning);
    return r.size;
  }

  /** Make supervise/instance/ID/ and run a Slot in it, its id in run's environment. */
  private startInstance(id: number, wantUp: boolean): void {
    const idir = instancePath(this.o.dir, id);
    let sdir: SuperviseDir;
    try {
      mkdirSync(idir, { recursive: true, mode: 0o700 });
      // why: runit's sv opens DIR/supervise/status; with supervise -> . the instance's own
      // directory is a "service directory" to sv, `sv status web/supervise/instance/2` works.
      try {
        symlinkSync('.', join(idir, SERVICE.supervise));
      } catch (err) {
        if (errCode(err) !== 'EEXIST') throw err;
      }
      sdir = new SuperviseDir(idir, `instance/${id}/`);
      sdir.makeDir();
      sdir.lock();
    } catch (err) {
      this.o.warn(`unable to set up instance ${id}: ${errstr(err)}`);
      return;
    }
    const env = { ...this.o.env, [ENV.instance]: String(id), [ENV.pool]: this.name, [ENV.poolSize]: String(this.pool.size) };
    const slot = new Slot({
      dir: this.o.dir,
      sdir,
      isLog: false,
      wantUp,
      stdin: this.o.stdin,
      stdout: this.o.stdout,
      env,
      nofile: this.o.nofile,
      warn: (m) => this.o.warn(`instance ${id}: ${m}`),
      supervisorInfo: this.o.supervisorInfo,
      extraFds: this.o.extraFds,
      ...(this.o.pdeathsig === undefined ? {} : { pdeathsig: this.o.pdeathsig }),
      // why: one cgroup per instance, so stopping one instance kills exactly its processes.
      ...(this.o.cgroup === undefined ? {} : { cgroup: { ...this.o.cgroup, name: `${this.o.cgroup.name}@${id}` } }),
      onState: (s) => this.instanceState(id, s),
      ...(this.o.onRunStart === undefined ? {} : { onRunStart: this.o.onRunStart }),
      ...(this.o.onRunEnded === undefined ? {} : { onRunEnded: this.o.onRunEnded }),
      // why: the table hears of it after this burst of the instance's own events has ended.
      onExitReady: () => queueMicrotask(() => this.retired(id, slot)),
    });
    sdir.openControl(
      (chunk) => slot.controlBytes(chunk),
      (err) => this.o.warn(`unable to read supervise/instance/${id}/control: ${errstr(err)}`),
    );
    slot.writeNow();
    try {
      sdir.openOk();
    } catch (err) {
      this.o.warn(errstr(err));
    }
    this.instances.set(id, { slot, sdir });
    slot.boot();
  }

  /** An instance's machine after a burst of its events: the table hears of what it sees changed. */
  private instanceState(id: number, s: Readonly<MachineState>): void {
    const v = viewOf(s);
    const old = this.pool.members.find((m) => m.id === id)?.view;
    if (old !== undefined && old.phase === v.phase && old.pid === v.pid && old.starts === v.starts && old.ready === v.ready) {
      // why: the pool's status shows more than the view (paused, backoff): write it anyway
      this.queueWrite();
      return;
    }
    this.dispatch({ type: 'changed', id, view: v });
  }

  /** A retiring instance is gone: release its directory, then tell the table. */
  private retired(id: number, slot: Slot): void {
    const inst = this.instances.get(id);
    if (inst === undefined || inst.slot !== slot) return;
    inst.slot.close();
    inst.sdir.close();
    this.instances.delete(id);
    // why: a retired id's directory would show a stale instance to sv and tsvctl; the pool
    // itself is leaving when it exits, and its instances' last status stays for readers then.
    if (this.pool.state !== 'exiting') rmSync(instancePath(this.o.dir, id), { recursive: true, force: true });
    this.dispatch({ type: 'retired', id });
  }

  /** One aggregate write per tick, however many instances changed in it. */
  private queueWrite(): void {
    if (this.writeQueued) return;
    this.writeQueued = true;
    queueMicrotask(() => {
      this.writeQueued = false;
      if (!this.dead) this.write();
    });
  }

  /** Write pool.json, then the pool's status, stat, pid and tsv.json (status last). */
  private write(): void {
    const machines = new Map<number, Readonly<MachineState>>();
    for (const [id, i] of this.instances) machines.set(id, i.slot.current);
    const { view, since } = poolStatusView(this.pool, machines, this.since, now());
    this.since = since;
    if (view.pid !== 0) view.pidStartTicks = this.startTicksOf(view.pid);
    const warn = (m: string): void => this.o.warn(m);
    this.o.sdir.writeFile(SUPERVISE.pool, poolFileText(this.pool), warn);
    this.o.sdir.writeStatus(projectStatus(view, this.o.supervisorInfo), view.pid, warn);
  }

  /** The start time of an instance's pid (its identity for takeover). */
  private startTicksOf(pid: number): number | null {
    for (const i of this.instances.values()) if (i.slot.current.pid === pid) return i.slot.pidStartTicks ?? procStat(pid)?.startTicks ?? null;
    return null;
  }
}

/** supervise/instance/ID/ of a service directory. */
export function instancePath(dir: string, id: number): string {
  return join(dir, SERVICE.supervise, SUPERVISE.instanceDir, String(id));
}

/** Stop what a dead supervisor left running in every supervise/instance/ID/ of dir (all at
 * once, each instance's process group too), so that no id ever runs twice: call it before the
 * service directory's own takeover (its logger must outlive every instance's writes). */
export async function takeOverInstances(dir: string, warn: (line: string) => void): Promise<void> {
  let ids: string[];
  try {
    ids = (listIfPresent(join(dir, SERVICE.supervise, SUPERVISE.instanceDir)) ?? []).filter((n) => /^\d+$/.test(n));
  } catch {
    return;
  }
  if (ids.length === 0) return;
  const killMs = timeoutKillMs(dir);
  await Promise.all(ids.map((id) => takeOverOrphans(instancePath(dir, Number(id)), (m) => warn(`instance ${id}: ${m}`), killMs === undefined ? {} : { serviceKillMs: killMs })));
}

/** The service's timeout-kill, when it has a valid one (the instances run in its directory). */
function timeoutKillMs(dir: string): number | undefined {
  try {
    const n = Number(readFileSync(join(dir, SERVICE.timeoutKill), 'utf8').split('\n')[0]?.trim());
    return Number.isInteger(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

/** roll-batch, roll-settle and roll-timeout of the service (defaults 1, 1000, 60000). */
export function readRollConfig(dir: string, warn: (m: string) => void): RollConfig {
  const num = (name: string, dflt: number, min: number): number => {
    let text: string;
    try {
      text = readFileSync(join(dir, name), 'utf8');
    } catch {
      return dflt;
    }
    const word = text.split('\n')[0]?.trim() ?? '';
    const n = Number(word);
    if (!/^\d+$/.test(word) || n < min) {
      warn(`invalid ${name}: ${JSON.stringify(word)}; using ${dflt}`);
      return dflt;
    }
    return n;
  };
  return { batch: num(SERVICE.rollBatch, 1, 1), settleMs: num(SERVICE.rollSettle, 1000, 0), timeoutMs: num(SERVICE.rollTimeout, 60000, 0) };
}

/** What the pool's table sees of an instance's machine. */
function viewOf(s: Readonly<MachineState>): InstanceView {
  return { phase: s.phase, pid: s.pid, starts: s.starts, ready: s.ready };
}

/** The key of one timer of one instance. */
function timerKey(name: PoolTimer, id: number): string {
  return `${name}/${id}`;
}


/** The current moment on both clocks. */
function now(): Now {
  return { wall: Date.now(), mono: Number(process.hrtime.bigint()) / 1e6 };
}

/** The compiler's proof that a switch covers every effect. */
function assertNever(x: never): never {
  throw new Error(`unexpected effect ${JSON.stringify(x)}`);
}
