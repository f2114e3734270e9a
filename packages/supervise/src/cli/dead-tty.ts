// A terminal that went away (tmux session killed, SSH dropped) must not turn a clean exit into
// an abort: at exit Node restores the modes of every stdio fd that was a terminal at start-up,
// and asserts that tcsetattr succeeds, which it does not on a hung-up terminal (EIO).
import { closeSync, constants as fsc, openSync } from 'node:fs';
import { isatty } from 'node:tty';
import { dup2 } from '@tsv/native';

/** Remember which of fds 0, 1, 2 are terminals now; at exit, put /dev/null over any of them
 * that no longer is one (hung up), so Node's exit-time terminal reset skips it. */
export function detachDeadTerminalsAtExit(): void {
  const ttys = [0, 1, 2].filter((fd) => isatty(fd));
  if (ttys.length === 0) return;
  process.on('exit', () => {
    for (const fd of ttys) {
      // why: a hung-up terminal fails every ioctl with EIO, so isatty() is false for it now;
      // a live one is left alone, and Node restores its modes as usual.
      if (isatty(fd)) continue;
      try {
        const nul = openSync('/dev/null', fsc.O_RDWR);
        // why: Node's ResetStdio compares each fd's dev/ino with what it saw at start-up and
        // leaves a replaced fd alone; nothing is written to the dead terminal after this.
        dup2(nul, fd);
        closeSync(nul);
      } catch {
        // nothing better to do at exit
      }
    }
  });
}
