// The scanner's decision as a pure function: from the services it knows and a fresh listing of the
// scan directory, which services to start, retry, stop or rename. Identity is the target's
// (device, inode), so a renamed directory keeps its supervisor and a replaced one gets a new one.
import type { ListedService } from './listing.js';

/** Where a known service is in its life inside the scanner. */
export type Phase = 'starting' | 'up' | 'stopping' | 'failed';

/** What reconcile needs to know of a service the scanner already tracks. */
export interface KnownService {
  /** its name at the last scan */
  name: string;
  phase: Phase;
  /** failed and its retry time has come (or a HUP asked for a retry) */
  retryDue: boolean;
}

/** What to do after a scan. */
export interface ScanActions {
  /** new services: start a supervisor */
  start: ListedService[];
  /** failed services still listed whose retry is due: try again */
  retry: string[];
  /** keys no longer listed: stop (a failed one is just forgotten) */
  stop: string[];
  /** keys listed under a new name (the directory was renamed): keep running, rename */
  rename: ListedService[];
}

/** Compare the known services with a listing and decide. A service being stopped that is listed
 * again is left alone here; the scanner rescans once its stop completes, and starts it afresh. */
export function reconcile(known: ReadonlyMap<string, KnownService>, listed: readonly ListedService[]): ScanActions {
  const actions: ScanActions = { start: [], retry: [], stop: [], rename: [] };
  const present = new Set<string>();
  for (const entry of listed) {
    present.add(entry.key);
    const k = known.get(entry.key);
    if (k === undefined) {
      actions.start.push(entry);
      continue;
    }
    if (k.phase === 'stopping') continue;
    if (k.name !== entry.name) actions.rename.push(entry);
    if (k.phase === 'failed' && k.retryDue) actions.retry.push(entry.key);
  }
  for (const [key, k] of known) {
    if (!present.has(key) && k.phase !== 'stopping') actions.stop.push(key);
  }
  return actions;
}

/** Delay before retry number `failures` (1, 2, ...) of a service that could not be supervised:
 * 1 s doubling up to 60 s. A one-shot timer exists only while something has failed, so a healthy
 * tsvscan has no timer at all. */
export function retryDelayMs(failures: number): number {
  return Math.min(60_000, 1000 * 2 ** Math.max(0, Math.min(failures - 1, 6)));
}
