// tsvscan as child subreaper (and PID 1): processes a service daemonized (double fork, setsid)
// are re-parented to us. We reap them when they die, attribute each to a service when we can,
// and kill them when that service stops or when tsvscan exits. libuv waits only for the pids it
// spawned, so we must never reap those: only zombies no hosted supervisor owns.
import { readlinkSync } from 'node:fs';
import { errstr } from '@tsv/core';
import { mainThreadChildPids, procStat } from '@tsv/os';
import { setChildSubreaper, waitpid } from '@tsv/native';

/** What the reaper needs to know of the hosted supervisors. */
export interface ReaperHost {
  /** is pid a process a supervisor spawned (libuv will wait for it)? */
  ownsPid(pid: number): boolean;
  /** current service process group of one service (undefined: not running) */
  servicePgidOf(key: string): number | undefined;
  warn(message: string): void;
}

/** A re-parented process (a child we did not spawn). */
interface Stray {
  startTicks: number;
  /** the service it is attributed to, if any */
  owner: string | undefined;
  /** it leads its own process group (signal the group too) */
  leader: boolean;
}

/** How many process groups to remember per service (its recent runs). */
const PGIDS_KEPT = 8;
/** SIGKILL strays this long after TERM when they are killed. */
const STRAY_KILL_MS = 7000;

/** The subreaper: reaps unknown zombies on SIGCHLD, tracks and kills strays. */
export class Reaper {
  /** live children a supervisor spawned, so they are not examined again at every sweep */
  private readonly own = new Map<number, true>();
  private readonly strays = new Map<number, Stray>();
  /** recent process groups of each service, newest last */
  private readonly pgidsOf = new Map<string, number[]>();
  /** the output of each service's run when it is private to the service (its log pipe): a
   * daemon that kept it as fd 0, 1 or 2 belongs to that service */
  private readonly outputOf = new Map<string, string>();
  /** services whose run started or exited since the last sweep (servicePgid): the ones a new
   * stray may have come from */
  private changedSince = new Set<string>();
  private nextSweep: Promise<void> | undefined;
  private waiters: Array<() => void> = [];
  /** what our own fds 0-2 refer to, read once (they stay the same for tsvscan's life) */
  private ownStdio: Array<string | undefined> | undefined;
  private readonly onChld = (): void => void this.schedule();

  constructor(private readonly host: ReaperHost) {}

  /** Become child subreaper and reap on SIGCHLD. Returns false when the kernel refused. */
  install(): boolean {
    // why: alongside libuv's own SIGCHLD watcher: libuv multiplexes one signal to every watcher.
    process.on('SIGCHLD', this.onChld);
    try {
      setChildSubreaper(true);
      return true;
    } catch (e) {
      this.host.warn(`unable to become child subreaper: ${errstr(e)}`);
      return false;
    }
  }

  /** Stop listening for SIGCHLD. */
  uninstall(): void {
    process.off('SIGCHLD', this.onChld);
  }

  /** Strays currently tracked (pids), optionally only those of one service. */
  strayPids(owner?: string): number[] {
    return [...this.strays.entries()].filter(([, s]) => owner === undefined || s.owner === owner).map(([p]) => p);
  }

  /** Sweep once, after the current I/O callbacks (several SIGCHLDs, or many services stopping
   * at once, make one sweep); resolves after that sweep. */
  schedule(): Promise<void> {
    if (this.nextSweep !== undefined) return this.nextSweep;
    this.nextSweep = new Promise<void>((res) => {
      setImmediate(() => {
        this.nextSweep = undefined;
        this.sweep();
        res();
      });
    });
    return this.nextSweep;
  }

  /** A service's run started or exited: pgid is its process group now (0: none). why told, not
   * asked at each sweep: asking every service at every SIGCHLD made each exit cost in
   * proportion to the number of services. */
  servicePgid(key: string, pgid: number): void {
    this.changedSince.add(key);
    this.remember(key, pgid);
  }

  /** A service's first run just started: remember its process group (pgid, or the host's
   * answer now) so a daemon it leaves in that group is attributed to it, without disturbing the
   * other services' snapshot; output: what run's stdout is, when the host knows it (null: this
   * process's own), else read from /proc. */
  noteStarted(key: string, pgid = this.host.servicePgidOf(key), output?: string | null): void {
    if (pgid === undefined || pgid <= 0) return;
    this.remember(key, pgid);
    const out = output === undefined ? fdTarget(pgid, 1) : (output ?? undefined);
    // why: only a pipe or socket not shared with tsvscan itself (a service without a logger
    // writes to tsvscan's own stdout, shared by every such service) identifies the service.
    if (out !== undefined && /^(pipe|socket):/.test(out) && !(this.ownStdio ??= ownStdio()).includes(out)) this.outputOf.set(key, out);
  }

  /** Add pgid to the recent process groups of key. */
  private remember(key: string, pgid: number): void {
    if (pgid <= 0) return;
    const list = this.pgidsOf.get(key) ?? [];
    if (list.at(-1) === pgid) return;
    list.push(pgid);
    if (list.length > PGIDS_KEPT) list.shift();
    this.pgidsOf.set(key, list);
  }

  /** Forget a service (after its strays were killed). */
  forgetService(key: string): void {
    this.pgidsOf.delete(key);
    this.changedSince.delete(key);
    this.outputOf.delete(key);
    for (const s of this.strays.values()) if (s.owner === key) s.owner = undefined;
  }

  /** Reap every unknown zombie child; record new live strays and attribute them. */
  sweep(): void {
    const changed = [...this.changedSince];
    this.changedSince.clear();
    // why: one read of the main thread's children per sweep (every SIGCHLD of a crash storm),
    // not a directory and a file per thread: O(children), nothing per thread.
    const children = new Set(mainThreadChildPids());
    for (const pid of this.own.keys()) if (!children.has(pid)) this.own.delete(pid);
    for (const pid of this.strays.keys()) if (!children.has(pid)) this.strays.delete(pid);
    for (const pid of children) {
      if (this.own.has(pid)) continue;
      if (this.host.ownsPid(pid)) {
        // why: libuv spawned it and will wait for it; reaping it would lose its exit event.
        this.own.set(pid, true);
        continue;
      }
      const st = procStat(pid);
      if (st === undefined) continue;
      if (st.state === 'Z') {
        this.reap(pid);
        continue;
      }
      const known = this.strays.get(pid);
      if (known !== undefined && known.startTicks === st.startTicks) continue;
      this.strays.set(pid, { startTicks: st.startTicks, owner: this.attribute(pid, st.pgrp, st.session, changed), leader: st.pgrp === pid });
    }
    this.wake();
  }

  /** Which service a new stray belongs to: (1) the one whose recent process group is the stray's
   * group or session; (2) the one whose private output (log pipe) the stray holds as fd 0, 1 or
   * 2; (3) when exactly one service's run just exited or restarted (the daemonizing parent
   * exiting is what made us look), that one; else none (killed only when tsvscan stops). */
  private attribute(pid: number, pgrp: number, session: number, changed: string[]): string | undefined {
    for (const [key, list] of this.pgidsOf) if (list.includes(pgrp) || list.includes(session)) return key;
    if (this.outputOf.size > 0) {
      const fds = [0, 1, 2].map((fd) => fdTarget(pid, fd));
      for (const [key, out] of this.outputOf) if (fds.includes(out)) return key;
    }
    return changed.length === 1 ? changed[0] : undefined;
  }

  /** waitpid one zombie we did not spawn. */
  private reap(pid: number): void {
    try {
      waitpid(pid, true);
    } catch {
      // ECHILD: someone else reaped it (it was libuv's after all): nothing to do.
    }
    this.strays.delete(pid);
  }

  /** Resolve every waitUntilGone() caller whose condition may have changed. */
  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** TERM + CONT the strays of one service (or all when owner is undefined), SIGKILL those
   * left after STRAY_KILL_MS; resolves when they are gone (reaped) or after the KILL grace. */
  async killStrays(owner?: string, killMs = STRAY_KILL_MS): Promise<void> {
    await this.schedule();
    const targets = (): number[] => this.strayPids(owner);
    if (targets().length === 0) return;
    this.signalAll(targets(), 'SIGTERM');
    this.signalAll(targets(), 'SIGCONT');
    if (await this.waitGone(targets, killMs)) return;
    this.host.warn(`sending SIGKILL to ${targets().length} daemonized process(es) left behind`);
    this.signalAll(targets(), 'SIGKILL');
    await this.waitGone(targets, killMs);
  }

  /** Send sig to each pid (and its group when it leads one). */
  private signalAll(pids: number[], sig: NodeJS.Signals): void {
    for (const pid of pids) {
      const s = this.strays.get(pid);
      const st = procStat(pid);
      // why: only the very process we recorded (a pid is never reused while it is our zombie,
      // but check anyway: the stray may have been reaped in between).
      if (s === undefined || st === undefined || st.startTicks !== s.startTicks) continue;
      for (const target of s.leader ? [pid, -pid] : [pid]) {
        try {
          process.kill(target, sig);
        } catch {
          // gone already
        }
      }
    }
  }

  /** Wait (woken by sweeps on SIGCHLD, no polling) until targets() is empty, or ms pass. */
  private async waitGone(targets: () => number[], ms: number): Promise<boolean> {
    const deadline = Date.now() + ms;
    for (;;) {
      if (targets().length === 0) return true;
      const left = deadline - Date.now();
      if (left <= 0) return false;
      await new Promise<void>((res) => {
        const timer = setTimeout(res, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          res();
        });
      });
    }
  }
}

/** What fd of pid refers to (`pipe:[123]`, a path, ...), or undefined. */
function fdTarget(pid: number, fd: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/fd/${fd}`);
  } catch {
    return undefined;
  }
}

/** What our own fds 0-2 refer to (shared by every service that has no logger). */
function ownStdio(): Array<string | undefined> {
  return [0, 1, 2].map((fd) => fdTarget(process.pid, fd));
}
