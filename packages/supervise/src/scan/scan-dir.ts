// tsvscan's life: wait for the scan directory, lock it, watch it (inotify through fs.watch: new
// services start within milliseconds, no polling), keep the table of hosted supervisors in step
// with it, reap re-parented processes, and on TERM/INT stop everything and report how it went.
import { readdirSync, statSync, watch, type FSWatcher } from 'node:fs';
import { errstr, EXIT, ToolError } from '@tsv/core';
import { identityKey, readListing } from './listing.js';
import { Reaper } from './reaper.js';
import { lockScanDir, unlockScanDir } from './scan-lock.js';
import { Scanner, type SupervisorFactory } from './scanner.js';

/** What runScanDir needs. */
export interface ScanDirOptions {
  /** the scan directory, absolute */
  dir: string;
  /** the scan directory as the user gave it (for messages) */
  shown: string;
  factory: SupervisorFactory;
  /** a missing directory at start-up is fatal (no DIR was given: the default must exist)
   * instead of waited for */
  mustExist?: boolean;
  /** print one warning (the message only) */
  warn(message: string): void;
  /** print one event line of the scanner (added, removed); unset: quiet */
  talk?(line: string): void;
  /** after TERM/INT, ms the services get to stop before what is left of them is SIGKILLed
   * (a service's own timeout-kill wins); 0 or unset: wait for ever (runsvdir's way) */
  graceMs?: number;
}

/** Backstop rescan against a missed inotify event (queue overflow): once every 5 minutes. The
 * issue's idle target (no timer wakeup with services up) holds for any 60 s window but the one
 * holding this rescan; inotify events, HUP and retries do the real work. */
export const BACKSTOP_MS = 300_000;
/** While the directory is missing or unreadable, look again every second (as runsvdir does). */
export const MISSING_POLL_MS = 1000;

/** Supervise every service of a scan directory until SIGTERM or SIGINT. Resolves with the exit
 * code: 0 when every service stopped cleanly, 111 when a shutdown failed. Throws a ToolError for
 * a fatal condition (the directory is a file, cannot be locked, ...). */
export async function runScanDir(opts: ScanDirOptions): Promise<number> {
  const sd = new ScanDir(opts);
  return sd.run();
}

/** The running scanner of one directory. */
class ScanDir {
  private readonly scanner: Scanner;
  private readonly reaper: Reaper;
  private watcher: FSWatcher | undefined;
  private lockFd = -1;
  /** identity of the directory we locked and watch */
  private dirKey: string | undefined;
  private scanQueued = false;
  private stopping = false;
  private pollTimer: NodeJS.Timeout | undefined;
  private backstop: NodeJS.Timeout | undefined;
  /** warnings already printed (a problem is reported once, until it goes away) */
  private shownProblems = new Set<string>();
  private resolveStop: (fatal: ToolError | undefined) => void = () => {};
  private readonly stopped = new Promise<ToolError | undefined>((res) => (this.resolveStop = res));
  private readonly handlers: Array<[NodeJS.Signals, () => void]> = [];

  constructor(private readonly opts: ScanDirOptions) {
    this.scanner = new Scanner(opts.dir, opts.factory, {
      warn: (m) => opts.warn(m),
      rescan: () => this.scheduleScan(),
      serviceStarted: (key, pgid, output) => this.reaper.noteStarted(key, pgid, output),
      servicePgid: (key, pgid) => this.reaper.servicePgid(key, pgid),
      serviceStopped: async (key) => {
        await this.reaper.killStrays(key);
        this.reaper.forgetService(key);
      },
      ...(opts.talk !== undefined ? { talk: opts.talk } : {}),
    });
    this.reaper = new Reaper({
      ownsPid: (pid) => this.scanner.ownsPid(pid),
      servicePgidOf: (key) => this.scanner.servicePgidOf(key),
      warn: (m) => opts.warn(m),
    });
  }

  /** The whole life; see runScanDir. */
  async run(): Promise<number> {
    this.installSignals();
    this.reaper.install();
    try {
      this.firstLook();
    } catch (e) {
      this.cleanup();
      throw e;
    }
    this.scheduleScan();
    const fatal = await this.stopped;
    this.stopping = true;
    this.clearTimers();
    this.closeWatcher();
    // why: strays nobody could attribute are stopped along with the services (one may hold a
    // log pipe open); what is left afterwards would otherwise be re-parented to init.
    const grace = this.armGrace();
    const [clean] = await Promise.all([this.scanner.closeAll(), this.reaper.killStrays()]);
    clearTimeout(grace);
    await this.reaper.killStrays();
    this.cleanup();
    if (fatal !== undefined) throw fatal;
    return clean ? EXIT.ok : EXIT.temporary;
  }

  /** The exit grace: when it is over, SIGKILL what is left of every service and say which. */
  private armGrace(): NodeJS.Timeout | undefined {
    const ms = this.opts.graceMs ?? 0;
    if (ms <= 0) return undefined;
    return setTimeout(() => {
      const killed = this.scanner.forceKillAll();
      if (killed.length > 0) this.opts.warn(`grace of ${ms / 1000} s over, killed: ${killed.join(' ')}`);
    }, ms);
  }

  /** At start-up: a scan directory that is a file or cannot be read is fatal; a missing one is
   * waited for (warned once), unless it must exist. */
  private firstLook(): void {
    let st;
    try {
      st = statSync(this.opts.dir, { bigint: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT' && this.opts.mustExist !== true) return;
      throw new ToolError(`unable to stat ${this.opts.shown}: ${errstr(e)}`, EXIT.temporary);
    }
    if (!st.isDirectory()) throw new ToolError(`unable to scan ${this.opts.shown}: not a directory`, EXIT.temporary);
    // why: lock before reading, so a second tsvscan is refused before it touches any service.
    this.lockFd = lockScanDir(this.opts.dir, this.opts.shown);
    this.dirKey = identityKey(st);
    try {
      readdirSync(this.opts.dir);
    } catch (e) {
      throw new ToolError(`unable to read ${this.opts.shown}: ${errstr(e)}`, EXIT.temporary);
    }
  }

  /** SIGTERM/SIGINT: stop everything; SIGHUP: rescan, retry failed services now, and let every
   * pool read its `instances` again; SIGUSR1:
   * nothing (without a listener Node would open its inspector). */
  private installSignals(): void {
    const stop = (): void => this.resolveStop(undefined);
    const on = (sig: NodeJS.Signals, f: () => void): void => {
      process.on(sig, f);
      this.handlers.push([sig, f]);
    };
    on('SIGTERM', stop);
    on('SIGINT', stop);
    on('SIGHUP', () => {
      this.scanner.retryAllNow();
      this.scanner.reloadAll();
      this.shownProblems.clear();
      this.scheduleScan();
    });
    on('SIGUSR1', () => {});
  }

  /** Remove signal handlers, the SIGCHLD watcher and the lock. */
  private cleanup(): void {
    this.clearTimers();
    this.closeWatcher();
    this.reaper.uninstall();
    for (const [sig, f] of this.handlers) process.off(sig, f);
    if (this.lockFd >= 0) unlockScanDir(this.lockFd);
    this.lockFd = -1;
  }

  /** Scan soon; many events in one loop turn make one scan. */
  private scheduleScan(): void {
    if (this.scanQueued || this.stopping) return;
    this.scanQueued = true;
    setImmediate(() => {
      this.scanQueued = false;
      try {
        this.scan();
      } catch (e) {
        // why: a fatal condition (e.g. the lock of a replaced directory is held by another
        // tsvscan) ends tsvscan in order, after stopping every service.
        this.resolveStop(e instanceof ToolError ? e : new ToolError(errstr(e), EXIT.temporary));
      }
    });
  }

  /** Read the directory and reconcile. */
  private scan(): void {
    if (this.stopping) return;
    let st;
    try {
      st = statSync(this.opts.dir, { bigint: true });
      if (!st.isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
    } catch (e) {
      return this.degraded(`unable to stat ${this.opts.shown}: ${errstr(e)}`, true);
    }
    const key = identityKey(st);
    if (key !== this.dirKey) this.relock(key);
    if (this.watcher === undefined) this.startWatching();
    let listing;
    try {
      listing = readListing(this.opts.dir);
    } catch (e) {
      return this.degraded(`unable to read ${this.opts.shown}: ${errstr(e)}`, false);
    }
    this.leaveDegraded();
    const now = new Set<string>();
    for (const p of listing.problems) {
      now.add(p.message);
      if (!this.shownProblems.has(p.message)) this.opts.warn(p.message);
    }
    this.shownProblems = now;
    this.scanner.apply(listing);
    this.armBackstop();
  }

  /** The directory is missing (or not one) or unreadable: keep the services as they are, warn
   * once, and look again every second until it is back. */
  private degraded(message: string, gone: boolean): void {
    if (!this.shownProblems.has(message)) this.opts.warn(message);
    this.shownProblems = new Set([message]);
    if (gone) this.closeWatcher();
    if (this.pollTimer === undefined && !this.stopping) {
      this.pollTimer = setTimeout(() => {
        this.pollTimer = undefined;
        this.scheduleScan();
      }, MISSING_POLL_MS);
    }
  }

  /** The directory is readable again: no more polling. */
  private leaveDegraded(): void {
    if (this.pollTimer !== undefined) clearTimeout(this.pollTimer);
    this.pollTimer = undefined;
  }

  /** The directory at our path is not the one we locked (it appeared, or was replaced): lock the
   * new one (another tsvscan holding it is fatal) and watch it instead. */
  private relock(key: string): void {
    const fd = lockScanDir(this.opts.dir, this.opts.shown);
    if (this.lockFd >= 0) unlockScanDir(this.lockFd);
    this.lockFd = fd;
    this.dirKey = key;
    this.closeWatcher();
  }

  /** Watch the directory's own entries (not recursive: status writes under each supervise/ must
   * not wake us). Any event means "scan soon". */
  private startWatching(): void {
    try {
      const w = watch(this.opts.dir, { persistent: true }, (_event, name) => {
        // why: dot names are never services (our own lock file among them).
        if (typeof name === 'string' && name.startsWith('.')) return;
        this.scheduleScan();
      });
      w.on('error', () => {
        this.closeWatcher();
        this.scheduleScan();
      });
      this.watcher = w;
    } catch (e) {
      this.degraded(`unable to watch ${this.opts.shown}: ${errstr(e)}`, false);
    }
  }

  /** Stop watching. */
  private closeWatcher(): void {
    this.watcher?.close();
    this.watcher = undefined;
  }

  /** (Re)arm the backstop rescan. */
  private armBackstop(): void {
    if (this.backstop !== undefined || this.stopping) return;
    this.backstop = setTimeout(() => {
      this.backstop = undefined;
      this.scheduleScan();
    }, BACKSTOP_MS);
  }

  /** Clear every timer. */
  private clearTimers(): void {
    if (this.pollTimer !== undefined) clearTimeout(this.pollTimer);
    if (this.backstop !== undefined) clearTimeout(this.backstop);
    this.pollTimer = undefined;
    this.backstop = undefined;
  }
}
