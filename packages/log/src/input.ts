// The logger's input: a pipe (the usual case), a socket, a tty or a regular file, read without
// blocking libuv's threadpool on a pipe, with pause/resume for back-pressure.
import { constants, fstatSync, openSync, read } from 'node:fs';
import net from 'node:net';
import { createRequire } from 'node:module';
import type tty from 'node:tty';

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

/** The input for fd. A pipe above fd 2 is reopened through /proc/self/fd first: a new open
 * file description (our O_NONBLOCK does not touch the owner's) that closing the stream may
 * close without closing the caller's fd. (libuv never closes fds 0-2.) */
export function openInput(fd: number): Input {
  const st = fstatSync(fd);
  if (st.isFIFO()) {
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
