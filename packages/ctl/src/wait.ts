// Event-driven waiting for -v/-w and the always-waiting commands. Each service's supervise/
// directory is watched with fs.watch (inotify) from BEFORE the command is sent; every write of
// `status` (runsv and tsv rename status.new over it) or tsv.json triggers a re-check; one
// deadline timer ends the wait. No polling interval, with three exceptions, each only while
// needed: a failing `check` script is re-run (25 ms doubling to sv's 420 ms: nothing signals
// when it would pass); `x` re-probes supervise/ok at 2, 10 and 30 ms after each write and every
// 100 ms (a supervisor's exit closes the ok FIFO, which inotify does not report through
// fs.watch); a directory that cannot be watched (no inotify watches left) is re-read every 100 ms.
import { errstr, SERVICE, SUPERVISE } from '@tsv/core';
import { runCheckScript, writeErr } from '@tsv/os';
import { existsSync, watch, type FSWatcher } from 'node:fs';
import { formatLine, normallyUp, probe, statusView, type ExtraReader, type Out, type Snapshot } from './status.js';
import { judge } from '@tsv/core';
import { sendControl, notRunning } from './control-send.js';

/** One service being waited for. */
export interface WaitJob {
  name: string;
  dir: string;
  /** the letters to check (sv's acts: `tcu`, `d`, `x`, `C`, ...) */
  acts: string;
  /** the status read just before sending */
  before: Snapshot | undefined;
}

/** How the wait ends. */
export interface WaitOptions {
  waitSec: number;
  /** on timeout print `kill:` and send `k` */
  kill: boolean;
  tstartMs: number;
  /** append tsv's extras to ok/timeout lines */
  withExtras: boolean;
  /** after a stop's timeout, say on stderr how to force it (tsvctl's own name; sv says nothing) */
  hint?: boolean;
  out: Out;
  /** tsv.json's reader, when some service has one */
  readExtra: ExtraReader | undefined;
  /** CLOCK_MONOTONIC ms, for durations from tsv.json's stamps */
  monoNow: () => number;
}

/** Backstop interval while waiting for a supervisor to exit, or when watching failed. */
const BACKSTOP_MS = 100;
/** Re-probes after each write while waiting for `x`. */
const X_FOLLOW_UPS_MS = [2, 10, 30];
/** First retry of a failing check script, doubled up to sv's interval. */
const CHECK_RETRY_MS = 25;
const CHECK_RETRY_MAX_MS = 420;

/** A signal listener that does nothing. */
function ignore(): void {}

/** Files whose replacement means the status may have changed. */
const INTERESTING = new Set<string>([SUPERVISE.status, SUPERVISE.extra]);

interface JobState {
  job: WaitJob;
  watchers: FSWatcher[];
  /** watching failed: re-read on the backstop interval instead */
  blind: boolean;
  done: boolean;
  /** an evaluation is queued and has not started yet */
  queued: boolean;
  /** an evaluation is running (it may be waiting for a check script) */
  running: boolean;
  chain: Promise<void>;
  timers: Set<NodeJS.Timeout>;
  checkRetryMs: number;
}

/** Waits for several services at once; watch() each before sending, then run(). */
export class Waiter {
  private readonly states: JobState[] = [];
  private started = false;
  private opts: WaitOptions | undefined;
  private deadline: NodeJS.Timeout | undefined;
  private resolveAll: (() => void) | undefined;

  /** Start watching job's supervise/ (and, for `x`, log/supervise/). Call before sending. */
  watch(job: WaitJob): JobState {
    const st: JobState = { job, watchers: [], blind: false, done: false, queued: false, running: false, chain: Promise.resolve(), timers: new Set(), checkRetryMs: CHECK_RETRY_MS };
    const dirs = [`${job.dir}/${SERVICE.supervise}`];
    const logSupervise = `${job.dir}/${SERVICE.log}/${SERVICE.supervise}`;
    if (job.acts.startsWith('x') && existsSync(logSupervise)) dirs.push(logSupervise);
    for (const d of dirs) {
      try {
        const w = watch(d, { persistent: true }, (_event, file) => this.onEvent(st, file));
        w.on('error', () => {
          w.close();
          st.blind = true;
          this.onEvent(st, null);
        });
        st.watchers.push(w);
      } catch {
        // ENOSPC (no inotify watches left), ENOENT: fall back to re-reading.
        st.blind = true;
      }
    }
    this.states.push(st);
    return st;
  }

  /** Forget a job whose command was not sent after all. */
  drop(st: JobState): void {
    this.stop(st);
    this.states.splice(this.states.indexOf(st), 1);
  }

  /** Update the snapshot taken just before sending (the status control() read). */
  setBefore(st: JobState, before: Snapshot): void {
    st.job.before = before;
  }

  /** Check every job now (right after sending) and on every change, until each passes, fails
   * or the deadline passes. */
  run(opts: WaitOptions): Promise<void> {
    this.opts = opts;
    this.started = true;
    // why: a wait may last long; without a SIGUSR1 listener Node would open its inspector.
    process.on('SIGUSR1', ignore);
    return new Promise((resolve) => {
      this.resolveAll = resolve;
      if (this.states.length === 0) {
        resolve();
        return;
      }
      this.armDeadline(opts.tstartMs + opts.waitSec * 1000 + 1);
      for (const st of this.states) {
        if (st.blind || st.job.acts.startsWith('x')) this.every(st, BACKSTOP_MS);
        void this.schedule(st);
      }
    });
  }

  /** Expire at wall-clock ms `at`. Why +1 above: sv times out once the elapsed time is greater
   * than the limit, not equal to it. Timers hold at most 2^31-1 ms, so a longer wait re-arms. */
  private armDeadline(at: number): void {
    const left = Math.max(0, at - Date.now());
    const max = 0x7fffffff;
    this.deadline = setTimeout(() => (left > max ? this.armDeadline(at) : void this.expire()), Math.min(left, max));
  }

  /** A file in a watched directory changed. */
  private onEvent(st: JobState, file: string | Buffer | null): void {
    if (!this.started || st.done) return;
    const name = file === null ? null : file.toString();
    if (name !== null && !INTERESTING.has(name)) return;
    void this.schedule(st);
    if (st.job.acts.startsWith('x')) for (const ms of X_FOLLOW_UPS_MS) this.after(st, ms);
  }

  /** Queue one evaluation of st (evaluations of a job never overlap; bursts coalesce). */
  private schedule(st: JobState): Promise<void> {
    if (st.done || st.queued) return st.chain;
    st.queued = true;
    st.chain = st.chain.then(async () => {
      st.queued = false;
      if (st.done) return;
      st.running = true;
      try {
        await this.evaluate(st);
      } finally {
        st.running = false;
      }
    });
    return st.chain;
  }

  /** Evaluate st once after ms. */
  private after(st: JobState, ms: number): void {
    const t = setTimeout(() => {
      st.timers.delete(t);
      void this.schedule(st);
    }, ms);
    st.timers.add(t);
  }

  /** Evaluate st every ms until it is done. */
  private every(st: JobState, ms: number): void {
    st.timers.add(setInterval(() => void this.schedule(st), ms));
  }

  /** Read the service's status and judge it against the command. */
  private async evaluate(st: JobState): Promise<void> {
    const o = this.opts;
    if (o === undefined) return;
    const { name, dir, acts, before } = st.job;
    const v = await judge(acts, probe(dir, o.readExtra), { tstartMs: o.tstartMs, before, runCheck: () => runCheckScript(name, dir, writeErr) });
    if (st.done) return;
    switch (v.kind) {
      case 'pass':
        o.out.line(`ok: ${this.mainLine(name, dir, v.snap)}`);
        return this.finish(st);
      case 'exited':
        o.out.ok(name, 'runsv not running');
        return this.finish(st);
      case 'not-running':
        o.out.fail(name, 'runsv not running');
        return this.finish(st);
      case 'warn':
        o.out.warn(name, v.message);
        return this.finish(st);
      case 'pending':
        if (v.checkFailed) {
          this.after(st, st.checkRetryMs);
          st.checkRetryMs = Math.min(st.checkRetryMs * 2, CHECK_RETRY_MAX_MS);
        } else st.checkRetryMs = CHECK_RETRY_MS;
        return;
    }
  }

  /** The deadline passed: one last look at each pending job, then timeout (or kill). */
  private async expire(): Promise<void> {
    const o = this.opts;
    if (o === undefined) return;
    const pending = this.states.filter((s) => !s.done);
    // why: one last look, as sv checks before giving up; but a check script still running
    // (it may hang) is not waited for: that service times out now.
    await Promise.all(pending.filter((s) => !s.running).map((s) => this.schedule(s)));
    for (const st of pending) {
      if (st.done) continue;
      const { name, dir, acts } = st.job;
      const p = probe(dir, o.readExtra);
      const label = o.kill ? 'kill' : 'timeout';
      if (p.kind === 'ok') {
        o.out.count++;
        o.out.line(`${label}: ${this.mainLine(name, dir, p.snap)}`);
        // why: down keeps runit's meaning (the down-signal, never a KILL nobody asked for), so
        // a person whose service ignores it learns here how to force it.
        if (o.hint === true && !o.kill && /[dx]/.test(acts)) writeErr(`tsvctl: ${name} did not stop within ${o.waitSec}s: tsvctl force-stop ${name} kills it after the wait; a timeout-kill file (ms) in its directory makes the supervisor kill it`);
      } else if (p.kind === 'not-running') notRunning(o.out, name, acts);
      else o.out.warn(name, p.message);
      if (o.kill) sendControl(name, dir, 'k', o.out, o.readExtra);
      this.finish(st);
    }
  }

  /** sv's status line of the main service alone (ok:/timeout:/kill: lines). */
  private mainLine(name: string, dir: string, snap: Snapshot): string {
    const nu = normallyUp(dir);
    if (typeof nu !== 'boolean') {
      writeErr(`warning: unable to stat ${name}/down: ${errstr(nu)}`);
      return '';
    }
    const o = this.opts;
    return formatLine(name, statusView(snap, nu, { ms: Date.now(), mono: o?.monoNow() ?? 0 }, o?.withExtras ?? false));
  }

  /** Stop watching st. */
  private stop(st: JobState): void {
    st.done = true;
    for (const w of st.watchers) w.close();
    for (const t of st.timers) clearTimeout(t);
    st.timers.clear();
  }

  /** st is settled; resolve when every job is. */
  private finish(st: JobState): void {
    this.stop(st);
    if (this.states.every((s) => s.done)) {
      if (this.deadline !== undefined) clearTimeout(this.deadline);
      process.off('SIGUSR1', ignore);
      this.resolveAll?.();
    }
  }
}
