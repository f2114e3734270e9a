// Reaping children in O(1) per exit: one SIGCHLD listener that looks at exited children
// (waitid WNOWAIT) and reaps only those that are ours, leaving child_process's to libuv.
import { constants as osc } from 'node:os';
import { waitidPeek, waitpid } from '@tsv/native';

/** Called once when a watched child has exited (code when it exited, signal when killed). */
export type ExitCallback = (code: number | null, signal: NodeJS.Signals | null) => void;

/** Called for a child we did not start that was reaped (an orphan reparented to a subreaper). */
export type StrayCallback = (pid: number, code: number | null, signal: NodeJS.Signals | null) => void;

/** Loop iterations an exited child we do not watch is left for libuv before it is taken for a
 * stray. libuv reaps its own in the poll phase after the SIGCHLD: one or two iterations suffice. */
const MAX_DEFERS = 16;

const SIGNAL_NAMES = new Map<number, NodeJS.Signals>(
  Object.entries(osc.signals).map(([name, n]) => [n, name as NodeJS.Signals]),
);

/** Signal name of number n (null for null). */
function signalName(n: number | null): NodeJS.Signals | null {
  return n === null ? null : (SIGNAL_NAMES.get(n) ?? (`SIG${n}` as NodeJS.Signals));
}

/** The process-wide reaper of children started with spawnChild. */
export class ChildWatcher {
  private readonly watched = new Map<number, ExitCallback>();
  private listening = false;
  private retry: NodeJS.Immediate | null = null;
  private defers = 0;
  private deferredPid = 0;
  private keepAlive: NodeJS.Timeout | null = null;
  /** spawns in flight (spawnChildAsync): their pids are not known yet */
  private inFlight = 0;
  /** a drain stopped at an unknown exited child while spawns were in flight */
  private heldForSpawn = false;
  /** Hook for strays reaped (none by default: they are reaped silently). */
  onStray: StrayCallback | undefined;

  constructor(onStray?: StrayCallback) {
    this.onStray = onStray;
  }

  /** Number of watched children not yet exited. */
  get size(): number {
    return this.watched.size;
  }

  /** Call onExit once when pid (a child started with spawnChild) exits, then forget it. */
  watch(pid: number, onExit: ExitCallback): void {
    if (!this.listening) {
      // why: one listener for the whole process; Node's SIGCHLD handle and libuv's own child
      // watcher are separate uv_signal_t on the same signal, so child_process keeps working.
      process.on('SIGCHLD', () => this.drain());
      this.listening = true;
      // why: until a SIGCHLD listener exists (libuv's or this one) the signal is discarded, and
      // a child spawned before this first watch may already have exited: look once.
      this.retry ??= setImmediate(() => {
        this.retry = null;
        this.drain();
      });
    }
    this.watched.set(pid, onExit);
    // why: like a ChildProcess handle, a watched child keeps the event loop alive (Node's
    // signal handles are unref'd); one long timer, ref'd only while something is watched.
    this.keepAlive ??= setInterval(() => undefined, 2 ** 31 - 1);
    this.keepAlive.ref();
  }

  /** A spawn is in flight (spawnChildAsync): until it has landed, an exited child nobody watches
   * may be that spawn's, not a stray (its exit can come before the pid does). */
  expect(): void {
    this.inFlight++;
  }

  /** The spawn told to expect has landed (its pid watched already, or it failed): exits left
   * waiting for it are looked at now. */
  landed(): void {
    if (this.inFlight > 0) this.inFlight--;
    // why only then: waitid walks every child we have (1000 services: 1000), and a start of
    // 1000 lands 1000 spawns; the exits of watched children come with their own SIGCHLD.
    if (!this.heldForSpawn) return;
    this.heldForSpawn = false;
    this.drain();
  }

  /** Stop watching pid (its exit will then be reaped as a stray's). */
  unwatch(pid: number): void {
    this.watched.delete(pid);
    if (this.watched.size === 0) this.keepAlive?.unref();
  }

  /** Leave pid, exited but not watched, to libuv for one more loop iteration (true), or
   * decide it is a stray to reap (false) after MAX_DEFERS of them.
   * why: child_process's children cannot be told from strays: a detached one is in a session
   * of its own like a service's orphan (measured: taking it for a stray steals libuv's waitpid
   * and its 'exit' never comes), and a control hook's orphan is in ours like a non-detached
   * one. libuv reaps its own in the poll phase after their SIGCHLD, which was sent before the
   * zombie could be seen: what is still there after MAX_DEFERS iterations is nobody's. The
   * kernel shows the oldest zombie first, so ours behind it wait those few iterations. */
  private deferOnce(pid: number, fromRetry: boolean): boolean {
    // why no retry: landed() drains again, and until then the zombie may be a spawn's in flight
    if (this.inFlight > 0) {
      this.heldForSpawn = true;
      return true;
    }
    if (pid !== this.deferredPid) {
      this.deferredPid = pid;
      this.defers = 0;
    }
    // why: only the retries count (loop iterations): many SIGCHLDs in one poll phase call
    // drain many times before libuv's own handler for the same signals has run.
    if (fromRetry) this.defers++;
    if (this.defers >= MAX_DEFERS) return false;
    this.retry ??= setImmediate(() => {
      this.retry = null;
      this.drain(true);
    });
    return true;
  }

  /** Reap every exited child that is ours or a stray; stop at one we do not watch while it may
   * be libuv's. Runs on each SIGCHLD (signals coalesce: one may stand for many exits, so this
   * loops until none is left) and on the retries of deferOnce. */
  drain(fromRetry = false): void {
    const done: Array<[ExitCallback, number | null, NodeJS.Signals | null]> = [];
    for (;;) {
      // why: waitid(WNOWAIT) shows one exited child without reaping it: a zombie of libuv's
      // must stay for libuv's own waitpid, or its ChildProcess never emits 'exit'.
      const z = waitidPeek();
      if (z === null) {
        this.deferredPid = 0;
        break;
      }
      const cb = this.watched.get(z.pid);
      if (cb === undefined && this.deferOnce(z.pid, fromRetry)) break;
      this.deferredPid = 0;
      // why: waitpid on that exact pid, never -1: a concurrent exit of libuv's must not be
      // taken by mistake between the peek and the reap.
      const r = waitpid(z.pid, true);
      if (r === null) break; // cannot happen: the peek saw it exited
      const signal = signalName(r.signal);
      if (cb !== undefined) {
        this.watched.delete(z.pid);
        done.push([cb, r.code, signal]);
      } else {
        const stray = this.onStray;
        if (stray !== undefined) done.push([(code, sig) => stray(z.pid, code, sig), r.code, signal]);
      }
    }
    if (this.watched.size === 0) this.keepAlive?.unref();
    for (const [cb, code, signal] of done) {
      try {
        cb(code, signal);
      } catch (err) {
        // why: one failing callback must not cost the others their exit; it still surfaces
        // as an uncaught exception, as a throwing 'exit' listener would.
        process.nextTick(() => {
          throw err;
        });
      }
    }
  }
}

let shared: ChildWatcher | undefined;

/** The one ChildWatcher of this process (created on first use). */
export function childWatcher(): ChildWatcher {
  shared ??= new ChildWatcher();
  return shared;
}
