// Taking a flock(2) lock that the exec'd program keeps holding (setlock, chpst -l/-L).
import { fatalFrom } from '@tsv/core';
import { LockError, openLocked } from '@tsv/os';
import type { ChainState } from './state.js';

/** How the two families word lock failures. */
export interface LockWording {
  open: (file: string) => string;
  lock: (file: string) => string;
}

/** runit chpst: `unable to open lock: FILE`, `unable to lock: FILE`. */
export const RUNIT_LOCK: LockWording = {
  open: (f) => `unable to open lock: ${f}`,
  lock: (f) => `unable to lock: ${f}`,
};

/** daemontools setlock: `unable to open FILE`, `unable to lock FILE`. */
export const DJB_LOCK: LockWording = {
  open: (f) => `unable to open ${f}`,
  lock: (f) => `unable to lock ${f}`,
};

/** Ignore SIGUSR1 while we may wait: without a listener Node would open its inspector. */
function quietUsr1(): void {
  if (process.listenerCount('SIGUSR1') === 0) process.on('SIGUSR1', () => {});
}

/** Open file (O_WRONLY|O_APPEND|O_NONBLOCK|O_CREAT, 0600, like open_append) and take an
 * exclusive flock, waiting when wait is set; the fd is added to the fds kept across exec.
 * Throws a ToolError worded per family; exit 111. */
export function takeLock(file: string, wait: boolean, state: ChainState, words: LockWording): number {
  if (wait) quietUsr1();
  let fd: number;
  try {
    fd = openLocked(file, { wait, nonblockOpen: true });
  } catch (err) {
    if (!(err instanceof LockError)) throw err;
    throw fatalFrom(err.step === 'open' ? words.open(file) : words.lock(file), err.cause);
  }
  // why: Node opened fd close-on-exec; execve clears that flag on every fd in keepFds
  state.keepFds.push(fd);
  return fd;
}
