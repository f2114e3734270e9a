// The logger's input: a pipe (the usual case), a socket, a tty or a regular file, read without
// blocking libuv's threadpool on a pipe, with pause/resume for back-pressure.
import { closeSync, constants, fstatSync, openSync, read, readSync } from 'node:fs';
import net from 'node:net';
import { createRequire } from 'node:module';
import type tty from 'node:tty';
import { type EdgeWatch, pipe, pipeSize, splice, tee, unwatchEdges, watchEdges } from '@tsv/native';

/** Receives what the input reads. */
export interface InputHandler {
  data(chunk: Buffer): void;
  end(): void;
  error(e: unknown): void;
}

/** A source of chunks. A chunk is only valid during data() (buffers may be reused). */
export interface Input {
  start(h: InputHandler): void;
  pause(): void;
  resume(): void;
  /** Hand over (synchronously, through data()) what was read but not delivered yet. */
  flushPending(): void;
  /** Stop reading for good (never closes the caller's fd). */
  close(): void;
  /** At-least-once inputs only (a pipe read through tee): what has been delivered stays in the
   * pipe until commit(keep) consumes all of it but its last keep bytes (the unfinished line the
   * splitter holds); a kill before the commit leaves it for the next reader. */
  commit?(keep: number): void;
  /** At-least-once inputs: the most bytes of an unfinished line the logger may hold uncommitted
   * (more would fill the pipe and block the writer for good). */
  readonly maxHold?: number;
}

/** A pipe, socket or tty, polled by epoll through net.Socket. */
class SocketInput implements Input {
  /** own: the socket's fd is ours to close (else closing only detaches from it) */
  constructor(private readonly sock: net.Socket, private readonly own = true) {}
  /** Deliver the socket's events to h. */
  start(h: InputHandler): void {
    this.sock.on('data', (c: Buffer) => h.data(c));
    this.sock.on('end', () => h.end());
    this.sock.on('error', (e) => h.error(e));
  }
  /** Stop reading (the writer blocks once the pipe is full). */
  pause(): void {
    this.sock.pause();
  }
  /** Read again. */
  resume(): void {
    this.sock.resume();
  }
  /** Hand over what the stream buffered. */
  flushPending(): void {
    // read() emits 'data' for what the stream holds.
    while (this.sock.read() !== null);
  }
  /** Destroy the socket (closes only our own fd: a /proc reopen, or 0-2 which libuv keeps). */
  close(): void {
    this.sock.removeAllListeners('data');
    if (this.own) this.sock.destroy();
    else {
      // Destroying would close the caller's fd: stop reading and let the handle go idle.
      this.sock.pause();
      this.sock.unref();
    }
  }
}

/** A regular file (or a device that does not block long), read into one reused buffer. */
class FileInput implements Input {
  private readonly buf = Buffer.allocUnsafe(1 << 20);
  private paused = false;
  private reading = false;
  private closed = false;
  private h: InputHandler | undefined;
  constructor(private readonly fd: number) {}
  /** Start the read loop. */
  start(h: InputHandler): void {
    this.h = h;
    this.pump();
  }
  /** Read the next chunk unless paused, busy or done. */
  private pump(): void {
    if (this.paused || this.reading || this.closed || !this.h) return;
    this.reading = true;
    read(this.fd, this.buf, 0, this.buf.length, null, (err, n) => {
      this.reading = false;
      const h = this.h;
      if (this.closed || !h) return;
      if (err) h.error(err);
      else if (n === 0) {
        this.closed = true;
        h.end();
      } else {
        h.data(this.buf.subarray(0, n));
        this.pump();
      }
    });
  }
  /** Stop after the read in flight. */
  pause(): void {
    this.paused = true;
  }
  /** Read again. */
  resume(): void {
    this.paused = false;
    this.pump();
  }
  /** Nothing to hand over. */
  flushPending(): void {
    // Nothing is held between reads.
  }
  /** Stop for good (the fd stays open: it is the caller's). */
  close(): void {
    this.closed = true;
  }
}

/** Chunks delivered per wake-up before yielding to the event loop (signals, timers). */
const TEE_ROUNDS = 16;

/** A pipe read without consuming it: tee(2) copies its head into a private pipe, we read the
 * copy, and only once the logger has written the lines (commit) are the same bytes spliced
 * from the input to /dev/null. A SIGKILL at any moment leaves every unwritten byte in the input
 * pipe for the next logger; at worst the lines of one chunk were written and not yet consumed,
 * and are written again. Wake-ups come from an edge-triggered epoll, so an unfinished line left
 * in the pipe on purpose does not wake us in a loop; the next write into the pipe does. */
class TeeInput implements Input {
  readonly maxHold: number;
  private readonly cap: number;
  private readonly privR: number;
  private readonly privW: number;
  private readonly nullFd: number;
  private readonly buf: Buffer;
  private watch: EdgeWatch | undefined;
  /** bytes delivered and not yet consumed: they are the head of the input pipe */
  private pending = 0;
  private paused = false;
  private closed = false;
  private pumping = false;
  private hup = false;
  private ended = false;
  private recheck: NodeJS.Timeout | undefined;
  private recheckMs = 0;
  /** bytes committed (written) but not consumed yet */
  private owed = 0;
  private h: InputHandler | undefined;

  /** fd: a pipe; own: fd is ours to close (a /proc reopen), else it is never closed here. */
  constructor(private readonly fd: number, private readonly own = false) {
    this.cap = pipeSize(fd, 0);
    const [r, w] = pipe();
    this.privR = r;
    this.privW = w;
    try {
      // why: tee copies pipe buffers one for one; the private pipe needs as many slots.
      if (pipeSize(w, 0) < this.cap) pipeSize(w, this.cap);
      this.nullFd = openSync('/dev/null', constants.O_WRONLY);
    } catch (e) {
      closeSync(r);
      closeSync(w);
      throw e;
    }
    this.buf = Buffer.allocUnsafe(this.cap);
    // why: a full pipe holds more than a quarter of its capacity in bytes (small writes share
    // pages), so an unfinished line of at most cap/4 can never be all a full pipe holds.
    this.maxHold = Math.max(1024, this.cap >> 2);
  }

  /** Watch the pipe and deliver what is there already. */
  start(h: InputHandler): void {
    this.h = h;
    this.watch = watchEdges(this.fd, (hup) => {
      if (hup) this.hup = true;
      this.pump();
    });
    setImmediate(() => this.pump());
  }

  /** Copy the pipe's head, deliver the part not delivered yet; repeat while there is more. */
  private pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    try {
      for (let i = 0; i < TEE_ROUNDS; i++) {
        const h = this.h;
        if (this.paused || this.closed || this.ended || !h) return;
        this.settle();
        if (this.owed > 0) {
          this.recheckLater();
          return;
        }
        const n = tee(this.fd, this.privW, this.cap);
        if (n < 0) return; // empty: the next write wakes us
        if (n === 0) {
          // why: tee(2) also returns 0, writers alive, when the head buffer it meets is empty
          // (seen under a fast writer); only a hang-up reported by epoll is the end.
          if (!this.hup) break;
          this.ended = true;
          h.end();
          return;
        }
        this.readCopy(n);
        if (n <= this.pending) {
          // Nothing new: only the unfinished line we hold. Wait for the next write, or, when
          // no writer is left, end (the line is then written with a newline).
          if (this.hup) {
            this.ended = true;
            h.end();
          } else this.recheckLater();
          return;
        }
        this.recheckMs = 0;
        const from = this.pending;
        this.pending = n;
        h.data(this.buf.subarray(from, n));
      }
      // More may be there and no new edge will say so: come back after the event loop's turn.
      setImmediate(() => this.pump());
    } catch (e) {
      this.ended = true;
      this.h?.error(e);
    } finally {
      this.pumping = false;
    }
  }

  /** Look again soon. why: while we leave an unfinished line in the pipe it is not empty, and a
   * writer blocked in the middle of a large write(2) refills it and sleeps again without waking
   * readers (Linux wakes them then only if the pipe was empty), so no edge would come. The pause
   * doubles from 1 ms to 100 ms while nothing new arrives. */
  private recheckLater(): void {
    if (this.recheck) return;
    this.recheckMs = Math.min(100, Math.max(1, this.recheckMs * 2));
    this.recheck = setTimeout(() => {
      this.recheck = undefined;
      this.pump();
    }, this.recheckMs);
  }

  /** Read the n bytes tee just copied into the private pipe. */
  private readCopy(n: number): void {
    let off = 0;
    // why: the private pipe holds exactly these n bytes; a pipe read returns what is there.
    while (off < n) off += readSync(this.privR, this.buf, off, n - off, null);
  }

  /** Consume all delivered bytes but the last keep from the input pipe. */
  commit(keep: number): void {
    this.owed = this.pending - keep;
    this.pending = keep;
    this.settle();
  }

  /** Consume what commit asked for and could not consume yet. */
  private settle(): void {
    while (this.owed > 0) {
      const m = splice(this.fd, this.nullFd, this.owed);
      // why: we are the pipe's only reader, so the bytes tee saw are still there; should a
      // splice move nothing anyway, the rest is consumed before the next tee.
      if (m <= 0) return;
      this.owed -= m;
    }
  }

  /** Stop delivering (what is in the pipe stays there). */
  pause(): void {
    this.paused = true;
  }

  /** Deliver again. */
  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    setImmediate(() => this.pump());
  }

  /** Nothing is held between deliveries. */
  flushPending(): void {
    // Everything copied was delivered.
  }

  /** Stop for good: drop the watch and the private pipe (the input fd stays open). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.recheck) clearTimeout(this.recheck);
    this.recheck = undefined;
    if (this.watch) unwatchEdges(this.watch);
    this.watch = undefined;
    for (const fd of [this.privR, this.privW, this.nullFd]) closeSync(fd);
    if (this.own) closeSync(this.fd);
  }
}

/** The input for fd. A pipe above fd 2 is reopened through /proc/self/fd first: a new open
 * file description (our O_NONBLOCK does not touch the owner's) that closing the stream may
 * close without closing the caller's fd. (libuv never closes fds 0-2.) */
export function openInput(fd: number): Input {
  const st = fstatSync(fd);
  if (st.isFIFO()) {
    // At-least-once: nothing read is consumed before it is written (see TeeInput). Above fd 2
    // through our own open file description: the owner (the supervisor) closes its fds when the
    // service is gone, and ours must stay registered in epoll to see the hang-up.
    let own = -1;
    try {
      if (fd > 2) own = openSync(`/proc/self/fd/${fd}`, constants.O_RDONLY | constants.O_NONBLOCK);
      return new TeeInput(own >= 0 ? own : fd, own >= 0);
    } catch {
      if (own >= 0) closeSync(own);
      // No /proc, tee or epoll: read it the ordinary way below.
    }
    if (fd <= 2) return new SocketInput(new net.Socket({ fd, readable: true, writable: false }));
    let use: number;
    try {
      use = openSync(`/proc/self/fd/${fd}`, constants.O_RDONLY | constants.O_NONBLOCK);
    } catch {
      // No /proc: read the caller's fd itself, and never close it.
      return new SocketInput(new net.Socket({ fd, readable: true, writable: false }), false);
    }
    return new SocketInput(new net.Socket({ fd: use, readable: true, writable: false }));
  }
  if (st.isSocket()) return new SocketInput(new net.Socket({ fd, readable: true, writable: false }), fd <= 2);
  if (st.isCharacterDevice()) {
    // node:tty only when it may be a terminal (start-up time counts).
    const t = createRequire(import.meta.url)('node:tty') as typeof tty;
    if (t.isatty(fd)) return new SocketInput(new t.ReadStream(fd));
  }
  return new FileInput(fd);
}
