// Reaping children in O(1) per exit: one SIGCHLD listener that looks at exited children
// (waitid WNOWAIT) and reaps only those that are ours, leaving child_process's to libuv.
import { constants as osc } from 'node:os';
import { readFileSync } from 'node:fs';
import { parseProcStat } from '@tsv/core';
import { waitidPeek, waitpid } from '@tsv/native';

/** Called once when a watched child has exited (code when it exited, signal when killed). */
export type ExitCallback = (code: number | null, signal: NodeJS.Signals | null) => void;

/** Called for a child we did not start that was reaped (an orphan reparented to a subreaper). */
export type StrayCallback = (pid: number, code: number | null, signal: NodeJS.Signals | null) => void;

/** Loop iterations an exited child of libuv's is left for libuv before it is taken for a stray.
 * libuv reaps its own in the poll phase after the SIGCHLD: one or two iterations suffice. */
const MAX_DEFERS = 16;

const SIGNAL_NAMES = new Map<number, NodeJS.Signals>(
  Object.entries(osc.signals).map(([name, n]) => [n, name as NodeJS.Signals]),
);

/** Signal name of number n (null for null). */
function signalName(n: number | null): NodeJS.Signals | null {
  return n === null ? null : (SIGNAL_NAMES.get(n) ?? (`SIG${n}` as NodeJS.Signals));
}

/** Session id of pid (a zombie still has one), or undefined when it is gone. */
function sessionOf(pid: number | 'self'): number | undefined {
  try {
    return parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8'))?.session;
  } catch {
    return undefined;
  }
}

/** The process-wide reaper of children started with spawnChild. */
export class ChildWatcher {
  private readonly watched = new Map<number, ExitCallback>();
  private listening = false;
  private retry: NodeJS.Immediate | null = null;
  private defers = 0;
  private keepAlive: NodeJS.Timeout | null = null;
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
    }
    this.watched.set(pid, onExit);
    // why: like a ChildProcess handle, a watched child keeps the event loop alive (Node's
    // signal handles are unref'd); one long timer, ref'd only while something is watched.
    this.keepAlive ??= setInterval(() => undefined, 2 ** 31 - 1);
    this.keepAlive.ref();
  }

  /** Stop watching pid (its exit will then be reaped as a stray's). */
  unwatch(pid: number): void {
    this.watched.delete(pid);
    if (this.watched.size === 0) this.keepAlive?.unref();
  }

  /** Reap every exited child that is ours or a stray; stop at one of libuv's. Runs on each
   * SIGCHLD (signals coalesce: one may stand for many exits, so this loops until none). */
  drain(): void {
    if (this.retry !== null) {
      clearImmediate(this.retry);
      this.retry = null;
    }
    const done: Array<[ExitCallback, number | null, NodeJS.Signals | null]> = [];
    for (;;) {
      // why: waitid(WNOWAIT) shows one exited child without reaping it: a zombie of libuv's
      // must stay for libuv's own waitpid, or its ChildProcess never emits 'exit'.
      const z = waitidPeek();
      if (z === null) {
        this.defers = 0;
        break;
      }
      const cb = this.watched.get(z.pid);
      if (cb === undefined && this.defers < MAX_DEFERS && sessionOf(z.pid) === sessionOf('self')) {
        // why: a child in our own session that we did not start is child_process's (ours
        // and the orphans of services are in sessions of their own). The kernel shows the
        // oldest zombie first, so ours behind it wait until libuv has reaped it: retry on the
        // next loop iteration, a bounded number of times, so ours are never starved by a
        // zombie nobody else reaps (an orphan of a control hook, reparented to a subreaper).
        this.defers++;
        this.retry = setImmediate(() => this.drain());
        break;
      }
      this.defers = 0;
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
