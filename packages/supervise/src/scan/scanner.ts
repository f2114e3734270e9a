// The scanner's table of services: one hosted supervisor per service directory, keyed by the
// directory's identity. Starts, retries, renames and stops them as reconcile decides; a failure
// of one service (an exception, a refused lock, a vanished directory) is contained to its slot.
import { closeSync, fstatSync } from 'node:fs';
import { join } from 'node:path';
import { errstr, ToolError } from '@tsv/core';
import { openDirPath, procStat } from '@tsv/os';
import { identityKey, type Listing } from './listing.js';
import { reconcile, retryDelayMs, type KnownService, type Phase } from './reconcile.js';

/** How many services set up at once. why: every set-up is a chain of thread-pool trips; with
 * all of a large directory's set-ups in flight at once, each waits behind every other one's
 * step, so the first service only starts when nearly all are set up (1.5 s of 1000). A few at
 * a time keeps the pool busy and lets each service start as soon as its own set-up is done. */
const START_CONCURRENCY = 8;
/** How long one start holds its permit at most (ms). */
const START_HOLD_MS = 100;

/** What the scanner needs of a supervisor (the Supervisor class satisfies it). */
export interface HostedSupervisor {
  start(): Promise<void>;
  shutdown(): Promise<void>;
  readonly exited: Promise<void>;
  ownsPid(pid: number): boolean;
  /** it also starts children it does not track (an in-process logger's processors) */
  readonly spawnsUntracked?: boolean;
  servicePgid(): number;
  /** tell cb the service's process group each time it may have changed (run started or exited) */
  watchPgid(cb: (pgid: number) => void): void;
  /** resolves once the service's first run has started: its process group, and the identity
   * of its stdout (null: shared with this process) */
  readonly firstRun?: Promise<{ pgid: number; output: string | null }>;
  /** SIGHUP: a pool reads its `instances` again */
  reload?(): void;
  /** the exit grace is over: SIGKILL what is left; true when something had to be killed */
  forceKill?(): boolean;
}

/** Builds the supervisor of one service: dir is the path to use for every file access (a
 * /proc/self/fd path that survives renames), name the entry's current name (for messages). */
export type SupervisorFactory = (dir: string, name: string) => HostedSupervisor;

/** One service the scanner tracks. */
interface Slot {
  key: string;
  name: string;
  phase: Phase;
  sup: HostedSupervisor | undefined;
  /** an open descriptor of the service directory, held while a supervisor runs */
  dirFd: number;
  failures: number;
  /** Date.now() when a failed slot may be retried */
  retryAt: number;
  retryDue: boolean;
  /** last warning printed for this slot (repeats are not printed again) */
  lastWarning: string | undefined;
  /** the running start or stop, so operations on one slot never overlap */
  busy: Promise<void> | undefined;
}

/** Hooks the scanner calls into the rest of tsvscan. */
export interface ScannerHooks {
  /** print a warning (the message only; the caller adds `tsvscan DIR: warning: `) */
  warn(message: string): void;
  /** the scan directory should be read again (a stop completed, a retry is due) */
  rescan(): void;
  /** a service's first run started (pgid: its process group; unset: ask servicePgidOf;
   * output: its stdout's identity, null when shared with this process, unset: ask /proc) */
  serviceStarted(key: string, pgid?: number, output?: string | null): void;
  /** a service's run started or exited: its process group now (0: none) */
  servicePgid(key: string, pgid: number): void;
  /** the service's supervisor is shut down: kill what it left behind (daemons) */
  serviceStopped(key: string): Promise<void>;
  /** an event line of the scanner (`added web`, `removed web`) */
  talk?(line: string): void;
}

/** The table of hosted supervisors of one scan directory. */
export class Scanner {
  private readonly slots = new Map<string, Slot>();
  private retryTimer: NodeJS.Timeout | undefined;
  /** when retryTimer fires (Date.now() ms) */
  private retryTimerAt = 0;
  private closing = false;
  /** starts in progress, and the starts waiting for one of them to finish */
  private starting = 0;
  private readonly startWaiters: Array<() => void> = [];

  constructor(
    /** the scan directory (absolute) */
    private readonly dir: string,
    private readonly factory: SupervisorFactory,
    private readonly hooks: ScannerHooks,
  ) {}

  /** Number of tracked services (any phase). */
  get size(): number {
    return this.slots.size;
  }

  /** Phase of every tracked service, by name (for tests and diagnostics). */
  phases(): Map<string, Phase> {
    return new Map([...this.slots.values()].map((s) => [s.name, s.phase]));
  }

  /** Does any hosted supervisor own pid (a process libuv spawned and will wait for)? */
  ownsPid(pid: number): boolean {
    let untracked = false;
    for (const s of this.slots.values()) {
      if (s.sup === undefined) continue;
      if (s.sup.ownsPid(pid)) return true;
      if (s.sup.spawnsUntracked === true) untracked = true;
    }
    // why one /proc read for all, not one per supervisor with an in-process logger (that was one
    // per logged service at every restart of any service): an untracked child (a processor
    // child_process started) stays in this process's session, where no re-parented daemon of a
    // service can be (services start in sessions of their own): such a child is libuv's.
    return untracked && isOwnSessionChild(pid);
  }

  /** SIGHUP: every hosted pool reads its `instances` again (as `h` to each pool). */
  reloadAll(): void {
    for (const s of this.slots.values()) s.sup?.reload?.();
  }

  /** The current service process group of one running supervisor (undefined when none). */
  servicePgidOf(key: string): number | undefined {
    const s = this.slots.get(key);
    if (s?.sup === undefined || s.phase !== 'up') return undefined;
    try {
      return s.sup.servicePgid();
    } catch {
      return undefined;
    }
  }

  /** Mark every failed service due for a retry (HUP). */
  retryAllNow(): void {
    for (const s of this.slots.values()) if (s.phase === 'failed') s.retryDue = true;
  }

  /** Apply a fresh listing of the scan directory. */
  apply(listing: Listing): void {
    if (this.closing) return;
    const known = new Map<string, KnownService>();
    for (const s of this.slots.values()) known.set(s.key, { name: s.name, phase: s.phase, retryDue: s.retryDue });
    const actions = reconcile(known, listing.services);
    for (const e of actions.rename) {
      const s = this.slots.get(e.key);
      if (s !== undefined) s.name = e.name;
    }
    for (const key of actions.stop) {
      const gone = this.slots.get(key);
      if (gone !== undefined) this.hooks.talk?.(`removed ${gone.name}`);
      this.stop(key);
    }
    for (const e of actions.start) {
      this.hooks.talk?.(`added ${e.name}`);
      const slot: Slot = { key: e.key, name: e.name, phase: 'starting', sup: undefined, dirFd: -1, failures: 0, retryAt: 0, retryDue: false, lastWarning: undefined, busy: undefined };
      this.slots.set(e.key, slot);
      this.launch(slot);
    }
    for (const key of actions.retry) {
      const s = this.slots.get(key);
      if (s === undefined) continue;
      s.phase = 'starting';
      s.retryDue = false;
      this.launch(s);
    }
  }

  /** Stop every service (in parallel) and forget them; resolves true when every shutdown
   * completed without error. */
  async closeAll(): Promise<boolean> {
    this.closing = true;
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    const results = await Promise.all([...this.slots.keys()].map((k) => this.stopAndWait(k)));
    return results.every(Boolean);
  }

  /** The exit grace is over: every supervisor still running kills what is left of its service;
   * returns the names of the services that had to be killed. */
  forceKillAll(): string[] {
    const killed: string[] = [];
    for (const s of this.slots.values()) {
      try {
        if (s.sup?.forceKill?.() === true) killed.push(s.name);
      } catch {
        // one supervisor failing here must not spare the others
      }
    }
    return killed.sort();
  }

  /** Run op as the slot's next operation (after the one in progress). */
  private enqueue(slot: Slot, op: () => Promise<void>): Promise<void> {
    const next = (slot.busy ?? Promise.resolve()).then(op, op);
    slot.busy = next;
    void next.finally(() => {
      if (slot.busy === next) slot.busy = undefined;
    });
    return next;
  }

  /** Start the slot's supervisor in the background; failures are contained and reported. */
  private launch(slot: Slot): void {
    void this.enqueue(slot, async () => {
      const release = await this.startPermit();
      try {
        await this.startSlot(slot);
      } catch (e) {
        // why: an unexpected exception while starting one service is that service's failure.
        if (slot.sup === undefined) this.closeFd(slot);
        this.fail(slot, `unable to supervise ${slot.name}: ${describe(e)}`);
      } finally {
        release();
      }
    });
  }

  /** Wait for one of START_CONCURRENCY start permits; resolves to its release (idempotent).
   * why the timer: a start may wait for long (an old logger still holding log/supervise/lock),
   * and no other service's start may wait behind it: after START_HOLD_MS the permit goes to the
   * next start while this one goes on. */
  private async startPermit(): Promise<() => void> {
    if (this.starting < START_CONCURRENCY) this.starting += 1;
    else await new Promise<void>((resolve) => this.startWaiters.push(resolve));
    let held = true;
    const release = (): void => {
      if (!held) return;
      held = false;
      clearTimeout(timer);
      // why: the permit passes straight to the next waiting start, in arrival order
      const next = this.startWaiters.shift();
      if (next !== undefined) next();
      else this.starting -= 1;
    };
    const timer = setTimeout(release, START_HOLD_MS);
    timer.unref();
    return release;
  }

  /** Open the directory, build and start its supervisor. */
  private async startSlot(slot: Slot): Promise<void> {
    if (this.slots.get(slot.key) !== slot || slot.phase !== 'starting') return;
    let fd: number;
    try {
      // why: the supervisor reaches its files through /proc/self/fd/N, so a rename of the
      // directory (same inode) changes nothing for it, as runsv's chdir does for runit.
      fd = openDirPath(join(this.dir, slot.name));
    } catch (e) {
      // why: a directory that vanished between the scan and here is simply gone.
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return this.forget(slot, true);
      return this.fail(slot, `unable to open ${slot.name}: ${errstr(e)}`);
    }
    const st = fstatSync(fd, { bigint: true });
    if (identityKey(st) !== slot.key) {
      // why: the name now leads to another directory (replaced since the scan): rescan.
      closeSync(fd);
      return this.forget(slot, true);
    }
    slot.dirFd = fd;
    let sup: HostedSupervisor;
    try {
      sup = this.factory(`/proc/self/fd/${fd}`, slot.name);
      slot.sup = sup;
      const watched = sup;
      watched.watchPgid((pgid) => {
        if (this.slots.get(slot.key) === slot && slot.sup === watched) this.hooks.servicePgid(slot.key, pgid);
      });
      await sup.start();
    } catch (e) {
      slot.sup = undefined;
      this.closeFd(slot);
      return this.fail(slot, `unable to supervise ${slot.name}: ${describe(e)}`);
    }
    if (this.slots.get(slot.key) !== slot || slot.phase !== 'starting') return;
    slot.phase = 'up';
    slot.failures = 0;
    slot.lastWarning = undefined;
    // why when run has started (in the thread pool, after the set-up): a daemon its first run
    // leaves in its group must be attributed to it even when run itself exits at once.
    if (sup.firstRun === undefined) this.hooks.serviceStarted(slot.key);
    else
      void sup.firstRun.then(({ pgid, output }) => {
        if (this.slots.get(slot.key) === slot && slot.sup === sup) this.hooks.serviceStarted(slot.key, pgid, output);
      });
    void sup.exited.then(
      () => this.supervisorExited(slot, sup),
      () => this.supervisorExited(slot, sup),
    );
  }

  /** A supervisor ended without being asked to (it gave up): retry later, like runsvdir. */
  private supervisorExited(slot: Slot, sup: HostedSupervisor): void {
    if (slot.sup !== sup || slot.phase !== 'up') return;
    slot.sup = undefined;
    this.closeFd(slot);
    this.fail(slot, `supervisor of ${slot.name} exited`);
  }

  /** Mark the slot failed, report once, and arm the retry timer. */
  private fail(slot: Slot, message: string): void {
    if (this.slots.get(slot.key) !== slot) return;
    if (slot.phase === 'stopping') return this.forget(slot, false);
    slot.phase = 'failed';
    slot.failures += 1;
    slot.retryAt = Date.now() + retryDelayMs(slot.failures);
    if (message !== slot.lastWarning) this.hooks.warn(message);
    slot.lastWarning = message;
    this.armRetry();
  }

  /** Drop a slot from the table (optionally asking for a rescan). */
  private forget(slot: Slot, rescan: boolean): void {
    if (this.slots.get(slot.key) === slot) this.slots.delete(slot.key);
    this.closeFd(slot);
    if (rescan && !this.closing) this.hooks.rescan();
  }

  /** Close the slot's directory descriptor, if open. */
  private closeFd(slot: Slot): void {
    if (slot.dirFd < 0) return;
    try {
      closeSync(slot.dirFd);
    } catch {
      // already closed
    }
    slot.dirFd = -1;
  }

  /** One timer for the earliest retry; none at all while nothing has failed. */
  private armRetry(): void {
    if (this.closing) return;
    let first = Infinity;
    for (const s of this.slots.values()) if (s.phase === 'failed' && !s.retryDue) first = Math.min(first, s.retryAt);
    if (first === Infinity || (this.retryTimer !== undefined && this.retryTimerAt <= first)) return;
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    this.retryTimerAt = first;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      const now = Date.now();
      for (const s of this.slots.values()) if (s.phase === 'failed' && s.retryAt <= now) s.retryDue = true;
      this.armRetry();
      this.hooks.rescan();
    }, Math.max(0, first - Date.now()));
  }

  /** Stop a service that left the directory (in the background). */
  private stop(key: string): void {
    void this.stopAndWait(key);
  }

  /** Stop a service: shut its supervisor down, then what it left behind; true when clean. */
  private async stopAndWait(key: string): Promise<boolean> {
    const slot = this.slots.get(key);
    if (slot === undefined) return true;
    slot.phase = 'stopping';
    let clean = true;
    await this.enqueue(slot, async () => {
      const sup = slot.sup;
      if (sup !== undefined) {
        // why: in parallel: a daemon of the service may hold the log pipe's write end, and the
        // logger (hence shutdown) would wait for EOF forever.
        const strays = this.hooks.serviceStopped(slot.key);
        try {
          await sup.shutdown();
        } catch (e) {
          clean = false;
          this.hooks.warn(`unable to stop ${slot.name}: ${describe(e)}`);
        }
        await strays;
      }
      slot.sup = undefined;
      this.forget(slot, true);
    });
    return clean;
  }
}

/** One line for an error from a supervisor: a ToolError's message, else the djb text. */
function describe(e: unknown): string {
  return e instanceof ToolError ? e.message : errstr(e);
}

let ownSession: number | undefined;

/** Is pid our child in our own session? /proc/PID/stat is readable for zombies too. */
function isOwnSessionChild(pid: number): boolean {
  ownSession ??= procStat(process.pid)?.session ?? -1;
  const st = procStat(pid);
  return st !== undefined && st.ppid === process.pid && st.session === ownSession;
}
