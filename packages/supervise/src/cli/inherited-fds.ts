// Descriptors inherited from whoever started us must not reach the services: run, finish,
// log/run and control hooks get exactly 0, 1, 2 (plus the readiness fd), as runsv's do.
import { readdirSync } from 'node:fs';
import { setCloexec } from '@tsv/native';

/** Mark every fd above 2 this process inherited close-on-exec. Call once at start-up, before any
 * child is spawned. */
export function closeInheritedOnExec(): void {
  // why: Node opens everything of its own with O_CLOEXEC, but what the parent left open (a
  // shell's `exec 100>...`, a terminal multiplexer's pipes) stays inheritable; libuv's spawn
  // only sets up the stdio it is given and closes nothing else, so every exec'd child would
  // get it. /proc/self/fd lists them all whatever RLIMIT_NOFILE says.
  for (const name of readdirSync('/proc/self/fd')) {
    const fd = Number(name);
    if (!Number.isInteger(fd) || fd <= 2) continue;
    try {
      setCloexec(fd, true);
    } catch {
      // the fd of the directory listing itself, closed by now
    }
  }
}
