// The stderr of one service's processes, relayed line by line (readproctitle's role): run,
// finish, hooks and log/run write into a FIFO of their own (supervise/stderr, opened by
// SuperviseDir.openStderr) instead of the supervisor's stderr,
// and each whole line comes out with the service's name, so lines of different services never
// mix mid-line and every line says whose it is. The last line is kept: it is the reason shown
// for a failed exit.
import { closeSync } from 'node:fs';
import { readAvailable } from '@tsv/native';
import { Socket } from 'node:net';

/** A line longer than this is passed on in pieces (a writer that never ends its line must not
 * grow the buffer without bound). */
const MAX_LINE = 4096;
/** One read buffer for every relay's synchronous drain: take() copies what it keeps.
 * why not a new Buffer.alloc(65536) per drain: two drains per restart (the exit, the next
 * start) each zero-filled 64 KiB of fresh memory, a tenth of tsvscan's CPU in a crash storm. */
const scratch = Buffer.allocUnsafeSlow(65536);

/** One service's stderr FIFO: children get writeFd as fd 2; emit gets each line. */
export class StderrRelay {
  /** the write end, given to every child of the service as its stderr */
  readonly writeFd: number;
  private readonly readFd: number;
  private readonly sock: Socket;
  private partial: Buffer = Buffer.alloc(0);
  private last: string | undefined;
  private closed = false;
  /** drained in this turn of the event loop already */
  private drained = false;

  constructor(
    fds: { readFd: number; writeFd: number },
    private readonly emit: (line: string) => void,
  ) {
    // why: both fds are close-on-exec (Node opens so); a child gets writeFd by dup2 onto fd 2 only.
    this.readFd = fds.readFd;
    this.writeFd = fds.writeFd;
    this.sock = new Socket({ fd: this.readFd, readable: true, writable: false });
    // why Buffers, not strings: a sync read may end inside a UTF-8 character; lines are
    // decoded whole.
    this.sock.on('data', (chunk: Buffer) => this.take(chunk));
    this.sock.on('error', () => undefined);
  }

  /** The last whole line written since the previous call (then forgotten), after reading
   * whatever is in the pipe now: a child's last words may not have been read yet when its exit
   * is reported (SIGCHLD and the pipe's readiness race). */
  takeLastLine(): string | undefined {
    this.drainNow(true);
    const l = this.last;
    this.last = undefined;
    return l;
  }

  /** Forget the last line (a new run starts: an older line is no reason for its exit). */
  forgetLast(): void {
    this.drainNow();
    this.last = undefined;
  }

  /** Pass on a line without its end, close both ends. */
  close(): void {
    if (this.closed) return;
    this.drainNow(true);
    this.closed = true;
    if (this.partial.length > 0) this.emit(this.partial.toString('utf8'));
    this.partial = Buffer.alloc(0);
    this.sock.destroy();
    try {
      closeSync(this.writeFd);
    } catch {
      // already closed
    }
  }

  /** Read what the pipe holds now, synchronously (a forgetLast right after another drain, in the
   * same turn of the event loop, reads nothing). why safe: the socket's fd is non-blocking and
   * libuv reads only from the event loop, so bytes read here come before any it reads later. */
  private drainNow(always = false): void {
    if (this.closed || (this.drained && !always)) return;
    // why: an exit and the restart it causes drain in the same callback, microseconds apart;
    // the second read would cost as much as the first and find nothing worth keeping.
    if (!this.drained) queueMicrotask(() => (this.drained = false));
    this.drained = true;
    for (;;) {
      const n = readNow(this.readFd);
      if (n <= 0) return;
      this.take(Buffer.from(scratch.subarray(0, n)));
    }
  }

  /** Split bytes into lines, emitting each whole one. */
  private take(chunk: Buffer): void {
    let s = this.partial.length === 0 ? chunk : Buffer.concat([this.partial, chunk]);
    let nl = s.indexOf(10);
    while (nl >= 0) {
      this.line(s.toString('utf8', 0, nl));
      s = s.subarray(nl + 1);
      nl = s.indexOf(10);
    }
    while (s.length > MAX_LINE) {
      this.line(s.toString('utf8', 0, MAX_LINE));
      s = s.subarray(MAX_LINE);
    }
    this.partial = Buffer.from(s);
  }

  /** One line out. */
  private line(l: string): void {
    if (l.trim() !== '') this.last = l;
    this.emit(l);
  }
}

/** One non-blocking read of fd into scratch: the count, 0 at end, -1 when nothing is there.
 * why the addon's read: the read ends in EAGAIN at every drain, and fs.readSync makes that an
 * exception (an Error and its message, a sixteenth of tsvscan's loop in a crash storm). */
function readNow(fd: number): number {
  try {
    return readAvailable(fd, scratch);
  } catch {
    return -1; // the FIFO is gone (closed under us): nothing to read
  }
}
