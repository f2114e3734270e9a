// The scan directory's lock: one tsvscan per directory. An flock(2) on DIR/.tsvscan.lock (a dot
// name, so never taken for a service), held for the life of the process; two tsvscan on two
// directories never meet.
import { closeSync, openSync, constants as fsc } from 'node:fs';
import { join } from 'node:path';
import { flock } from '@tsv/native';
import { fatalFrom, SCANDIR } from '@tsv/core';

/** Open-or-create DIR/.tsvscan.lock and take an exclusive non-blocking flock; returns the fd.
 * Throws a ToolError (exit 111) when another tsvscan holds it: `unable to lock DIR/.tsvscan.lock:
 * temporary failure`. */
export function lockScanDir(dir: string, shownDir: string): number {
  const path = join(dir, SCANDIR.lock);
  const shown = join(shownDir, SCANDIR.lock);
  let fd: number;
  try {
    // why: Node opens every fd close-on-exec, so services never inherit the lock.
    fd = openSync(path, fsc.O_WRONLY | fsc.O_APPEND | fsc.O_CREAT, 0o600);
  } catch (e) {
    throw fatalFrom(`unable to open ${shown}`, e);
  }
  try {
    flock(fd, true, true);
  } catch (e) {
    closeSync(fd);
    throw fatalFrom(`unable to lock ${shown}`, e);
  }
  return fd;
}

/** Release the lock (close its descriptor). */
export function unlockScanDir(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // already closed
  }
}
