// An async iterator of a service's status changes: supervise/ is watched with fs.watch
// (inotify); every rename of `status` or tsv.json over its old copy re-reads the status, and a
// status that differs from the last one yielded is yielded. No polling.
import { SERVICE, SUPERVISE } from '@tsv/core';
import { watch } from 'node:fs';
import { ServiceError } from './errors.js';
import { readStatus, type ServiceStatus } from './status.js';

/** Options of changes(). */
export interface ChangesOptions {
  /** yield the current status first; default true */
  initial?: boolean;
  /** ends the iteration (the loop simply finishes) */
  signal?: AbortSignal;
}

/** The fields whose change is a status change (uptime alone is not). */
function key(s: ServiceStatus): string {
  return JSON.stringify([s.state, s.pid, s.since.getTime(), s.want, s.paused, s.gotTerm, s.ready, s.lastExit?.at.getTime() ?? null, s.restarts, s.backoff?.givenUp ?? null, s.backoff?.nextStartAt?.getTime() ?? null]);
}

/** Yield dir's status each time it changes, until the consumer stops, signal aborts, or the
 * supervisor is found gone (NotSupervisedError is thrown then, at the next change). */
export async function* statusChanges(dir: string, opts: ChangesOptions = {}): AsyncGenerator<ServiceStatus, void, undefined> {
  if (opts.signal?.aborted) return;
  let pending = false;
  let wake: (() => void) | undefined;
  let failure: Error | undefined;
  const kick = (): void => {
    pending = true;
    wake?.();
  };
  // why: the watch starts before the first read, so no change between the two is missed.
  const watcher = watch(`${dir}/${SERVICE.supervise}`, (_event, file) => {
    if (file === null || file === SUPERVISE.status || file === SUPERVISE.extra) kick();
  });
  watcher.on('error', (e) => {
    failure = new ServiceError('ESTATUS', dir, `${dir}: unable to watch supervise/: ${e.message}`, { cause: e });
    kick();
  });
  const onAbort = (): void => kick();
  opts.signal?.addEventListener('abort', onAbort);
  try {
    let last: string | undefined;
    let first = true;
    for (;;) {
      if (opts.signal?.aborted) return;
      if (failure !== undefined) throw failure;
      pending = false;
      const s = readStatus(dir);
      const k = key(s);
      if (k !== last) {
        last = k;
        if (!first || opts.initial !== false) yield s;
      }
      first = false;
      if (!pending) await new Promise<void>((resolve) => (wake = resolve));
      wake = undefined;
    }
  } finally {
    watcher.close();
    opts.signal?.removeEventListener('abort', onAbort);
  }
}
