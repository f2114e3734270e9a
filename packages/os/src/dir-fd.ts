// Directory fds opened for naming files under them, not for reading the directory.
import { openSync, constants as fsc } from 'node:fs';

/** Linux's O_PATH (the same value on every Linux architecture Node supports; Node's
 * fs.constants omits it). */
export const O_PATH = 0o10000000;

/** Open a directory with O_PATH (close-on-exec, as Node opens everything): an fd good for
 * openat/renameat2 relative names, /proc/self/fd/N paths, fstat, fchdir and clone3's
 * CLONE_INTO_CGROUP, never for reading it. */
export function openDirPath(path: string): number {
  // why: where a spawn still copies the fd table into the child (close_range cannot unshare
  // it, more sources than the addon's slots), exec closes each copied fd again; an O_PATH
  // file skips close's dnotify and POSIX-lock checks, which a plain directory fd pays
  // (measured: ~200 ns per directory fd per spawn, ~90 with O_PATH; 1000 services hold three
  // directory fds each).
  return openSync(path, O_PATH | fsc.O_DIRECTORY);
}
