// The scan directory's lock: one tsvscan per directory. An flock(2) on DIR/.tsvscan.lock (a dot
// name, so never taken for a service), held for the life of the process; two tsvscan on two
// directories never meet.
import { closeSync } from 'node:fs';
import { join } from 'node:path';
import { LockError, openLocked } from '@tsv/os';
import { fatalFrom, SCANDIR } from '@tsv/core';

/** Open-or-create DIR/.tsvscan.lock and take an exclusive non-blocking flock; returns the fd.
 * Throws a ToolError (exit 111) when another tsvscan holds it: `unable to lock DIR/.tsvscan.lock:
 * temporary failure`. */
export function lockScanDir(dir: string, shownDir: string): number {
  const path = join(dir, SCANDIR.lock);
  const shown = join(shownDir, SCANDIR.lock);
  try {
    // why: Node opens every fd close-on-exec, so services never inherit the lock.
    return openLocked(path);
  } catch (e) {
    if (!(e instanceof LockError)) throw e;
    throw fatalFrom(`unable to ${e.step} ${shown}`, e.cause);
  }
}

/** Release the lock (close its descriptor). */
export function unlockScanDir(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // already closed
  }
}
