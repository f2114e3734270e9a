// The one open-and-lock of tsv: every lock file (supervise/lock, a log dir's lock, the scan
// dir's .tsvscan.lock, setlock's and chpst -l's file) is opened the same way and flock'ed.
import { closeSync, constants, openSync } from 'node:fs';
import { flock } from '@tsv/native';

/** Which step of openLocked failed: opening the file, or taking the lock. */
export type LockStep = 'open' | 'lock';

/** An error of openLocked: the system error, with the step that failed. */
export class LockError extends Error {
  readonly step: LockStep;
  override readonly cause: unknown;
  readonly code: string | undefined;
  constructor(step: LockStep, cause: unknown) {
    super((cause as Error)?.message ?? String(cause));
    this.name = 'LockError';
    this.step = step;
    this.cause = cause;
    this.code = (cause as NodeJS.ErrnoException)?.code;
  }
}

/** How to take the lock. */
export interface LockOptions {
  /** wait for the lock (default: fail at once, EWOULDBLOCK, when another process holds it) */
  wait?: boolean;
  /** open with O_NONBLOCK too (runit's open_append; harmless on a regular file) */
  nonblockOpen?: boolean;
}

/** Open path (O_WRONLY|O_APPEND|O_CREAT, 0600, as runit's open_append) and take an exclusive
 * flock on it; returns the fd (close-on-exec, as Node opens every fd). On failure the fd is
 * closed again and a LockError says which step failed. */
export function openLocked(path: string, opts: LockOptions = {}): number {
  let fd: number;
  try {
    fd = openSync(path, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | (opts.nonblockOpen === true ? constants.O_NONBLOCK : 0), 0o600);
  } catch (err) {
    throw new LockError('open', err);
  }
  try {
    // why: flock, never fcntl: runsv, svlogd and runit's chpst lock with flock, and the two
    // kinds of lock do not conflict with each other.
    flock(fd, true, opts.wait !== true);
  } catch (err) {
    closeSync(fd);
    throw new LockError('lock', err);
  }
  return fd;
}
