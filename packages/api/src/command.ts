// Sending control bytes and awaiting their effect: supervise/ is watched (inotify, fs.watch)
// from before the bytes are written, each write of `status` or tsv.json re-reads the status and
// judges it with tsvctl's own checks (@tsv/core judge), one timer ends the wait. The only timers
// besides: a failing `check` script is re-run (nothing signals when it would pass), and `exit`
// re-probes supervise/ok (a supervisor's exit closes the FIFO, which inotify does not report).
import { errCode, judge, SERVICE, SUPERVISE, skipByRule, type Snapshot } from '@tsv/core';
import { probe, readExtraFile, runCheckScript, writeControl } from '@tsv/os';
import { watch, type FSWatcher } from 'node:fs';
import { abortedError, NotSupervisedError, ServiceError, TimeoutError } from './errors.js';
import { statusOf, type ServiceStatus } from './status.js';

/** Options of every command. */
export interface CommandOptions {
  /** give up after this many ms (rejecting with TimeoutError); default 7000, as sv's -w */
  timeout?: number;
  /** also wait for readiness (notification-fd, under tsv) and for the service's `check` script
   * to pass, where the command brings the service up; default false */
  ready?: boolean;
  /** false: resolve as soon as the bytes are written, without waiting for their effect */
  wait?: boolean;
  /** abort the wait (rejects with ServiceError code EABORTED; the command stays sent) */
  signal?: AbortSignal;
}

/** The default timeout, ms (sv's 7 seconds). */
export const DEFAULT_TIMEOUT_MS = 7000;
/** Re-probes of supervise/ok after each change while waiting for `exit`, and the backstop. */
const EXIT_FOLLOW_UPS_MS = [2, 10, 30];
const EXIT_BACKSTOP_MS = 100;
/** First retry of a failing check script, doubled up to sv's interval. */
const CHECK_RETRY_MS = 25;
const CHECK_RETRY_MAX_MS = 420;

/** Send letters to dir's supervisor and resolve with the status that shows their effect
 * (undefined for `x`: the supervisor is gone). `name` names the command in errors. */
export function sendAndAwait(dir: string, name: string, letters: string, opts: CommandOptions = {}): Promise<ServiceStatus | undefined> {
  const timeoutMs = opts.timeout ?? DEFAULT_TIMEOUT_MS;
  const isExit = letters.startsWith('x');
  return new Promise((resolve, reject) => {
    const timers = new Set<NodeJS.Timeout>();
    let watcher: FSWatcher | undefined;
    let done = false;
    let busy = false;
    let again = false;
    let checkRetryMs = CHECK_RETRY_MS;
    let last: Snapshot | undefined;
    let before: Snapshot | undefined;
    const tstartMs = Date.now();
    const end = (): void => {
      done = true;
      watcher?.close();
      for (const t of timers) clearTimeout(t);
      opts.signal?.removeEventListener('abort', onAbort);
    };
    const fail = (e: Error): void => {
      if (done) return;
      end();
      reject(e);
    };
    const succeed = (s: ServiceStatus | undefined): void => {
      if (done) return;
      end();
      resolve(s);
    };
    const onAbort = (): void => fail(abortedError(dir, name));
    const after = (ms: number): void => {
      const t = setTimeout(() => {
        timers.delete(t);
        void evaluate();
      }, ms);
      timers.add(t);
    };
    /** Judge the status once; evaluations never overlap, a change during one queues another. */
    const evaluate = async (): Promise<void> => {
      if (done) return;
      if (busy) {
        again = true;
        return;
      }
      busy = true;
      try {
        const p = probe(dir, readExtraFile);
        if (p.kind === 'ok') last = p.snap;
        const runCheck = (): Promise<boolean> => (opts.ready === true ? runCheckScript(dir, dir) : Promise.resolve(true));
        const v = await judge(letters, p, { tstartMs, before, runCheck, ready: opts.ready === true });
        if (v.kind === 'pass') succeed(statusOf(dir, v.snap));
        else if (v.kind === 'exited') succeed(undefined);
        else if (v.kind === 'not-running') fail(new NotSupervisedError(dir));
        else if (v.kind === 'warn') fail(new ServiceError('ESTATUS', dir, `${dir}: ${v.message}`));
        else if (v.checkFailed) {
          after(checkRetryMs);
          checkRetryMs = Math.min(checkRetryMs * 2, CHECK_RETRY_MAX_MS);
        } else checkRetryMs = CHECK_RETRY_MS;
      } catch (e) {
        fail(e instanceof Error ? e : new Error(String(e)));
      } finally {
        busy = false;
      }
      if (again) {
        again = false;
        void evaluate();
      }
    };
    if (opts.signal?.aborted) return fail(abortedError(dir, name));
    opts.signal?.addEventListener('abort', onAbort);
    // why: watch before the write, so no status change can slip between the write and the watch.
    if (opts.wait !== false) {
      try {
        watcher = watch(`${dir}/${SERVICE.supervise}`, (_event, file) => {
          if (file !== null && file !== SUPERVISE.status && file !== SUPERVISE.extra) return;
          void evaluate();
          if (isExit) for (const ms of EXIT_FOLLOW_UPS_MS) after(ms);
        });
        watcher.on('error', (e) => fail(new ServiceError('ESTATUS', dir, `${dir}: unable to watch supervise/: ${e.message}`, { cause: e })));
      } catch (e) {
        return fail(new ServiceError('ESTATUS', dir, `${dir}: unable to watch supervise/: ${(e as Error).message}`, { cause: e }));
      }
    }
    const p = probe(dir, readExtraFile);
    if (p.kind === 'not-running') return isExit ? succeed(undefined) : fail(new NotSupervisedError(dir));
    if (p.kind === 'warn') return fail(new ServiceError('ESTATUS', dir, `${dir}: ${p.message}`));
    before = last = p.snap;
    // why: sv's skip rule: a command that asks for what the want byte already says is not sent
    // (it would restart nothing), but it is still waited for.
    if (!skipByRule(letters, p.snap)) {
      try {
        writeControl(dir, letters);
      } catch (e) {
        if (errCode(e) === 'ENXIO') return isExit ? succeed(undefined) : fail(new NotSupervisedError(dir));
        return fail(new ServiceError('ECONTROL', dir, `${dir}: unable to write supervise/control: ${(e as Error).message}`, { cause: e }));
      }
    }
    if (opts.wait === false) return succeed(statusOf(dir, p.snap));
    const deadline = setTimeout(() => fail(new TimeoutError(dir, name, timeoutMs, last === undefined ? undefined : statusOf(dir, last))), timeoutMs);
    timers.add(deadline);
    if (isExit) {
      const backstop = setInterval(() => void evaluate(), EXIT_BACKSTOP_MS);
      timers.add(backstop);
    }
    void evaluate();
  });
}
