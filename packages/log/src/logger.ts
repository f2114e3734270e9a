// The logger engine: reads the input fd, splits lines, stamps them once per read batch, and
// hands them to every log directory according to its selection. Reading stops while any
// directory cannot write (the writer then blocks on its pipe); nothing read is dropped.
import { writeSync } from 'node:fs';
import { errstr } from '@tsv/core';
import { LogDir } from './logdir.js';
import { openInput, type Input } from './input.js';
import { EXIT_FATAL, type TsvlogOptions } from './options.js';
import { select, type Selection } from './pattern.js';
import { LineSplitter, type SegmentSink } from './splitter.js';
import { nowMicros, stampText } from './stamp.js';

/** What startLogger needs besides the command-line options. */
export interface LoggerIo {
  /** directory the log dir names are relative to */
  cwd: string;
  /** a readable fd (a pipe in practice); never closed by the logger */
  input: number;
  /** prints one diagnostic line (`tsvlog: warning: ...`, `tsvlog: pausing: ...`) */
  warn(line: string): void;
  /** receives `e`-selected alert lines (default: written to fd 2) */
  alert?(text: Buffer): void;
  /** pause before retrying a failed write or rotation (default 1000 ms) */
  retryMs?: number;
}

/** A running logger. */
export interface LoggerHandle {
  /** HUP: close every directory and open it again, re-reading its config. */
  reopen(): void;
  /** ALRM: rotate every directory whose current is not empty. */
  rotate(): void;
  /** TERM: stop reading, write what was read (a partial line gets a newline), close the files,
   * wait for processors, release the locks. Does not close the input fd. Resolves when done. */
  stop(): Promise<void>;
  /** Resolves with the exit code: 0 after EOF or stop(), 111 when no directory could be used. */
  readonly done: Promise<number>;
}

const EMPTY = Buffer.alloc(0);
/** The selection of a directory without patterns. */
const ALL: Selection = { log: true, alert: false };

/** Write an alert to stderr, synchronously (ignoring a closed or full stderr). */
function alertToStderr(text: Buffer): void {
  try {
    writeSync(2, text);
  } catch {
    // nothing to do
  }
}

/** The engine behind startLogger. */
class Logger implements SegmentSink {
  readonly dirs: LogDir[];
  private splitter: LineSplitter;
  private input: Input | undefined;
  private inputPaused = false;
  private stopping = false;
  private finishing = false;
  private draining = false;
  private clearWaiters: (() => void)[] = [];
  private stampUs = -1;
  private stampBuf: Buffer = EMPTY;
  /** no patterns, no replacement, no UDP: every line goes unchanged to every directory */
  private simple = true;
  private readonly replTable: Uint8Array | undefined;
  private readonly replByte: number = 95;
  private readonly alert: (text: Buffer) => void;
  private resolveDone!: (code: number) => void;
  readonly done: Promise<number>;

  /** Set up (nothing is opened before start()). */
  constructor(private readonly opts: TsvlogOptions, private readonly io: LoggerIo) {
    this.done = new Promise((res) => (this.resolveDone = res));
    this.alert = io.alert ?? alertToStderr;
    const ctx = {
      warn: (l: string) => io.warn(l),
      verbose: opts.verbose,
      lineMax: opts.lineMax,
      retryMs: io.retryMs ?? 1000,
      kick: () => this.drainAll(),
    };
    this.dirs = opts.dirs.map((d) => new LogDir(d, io.cwd, ctx));
    // Hold at most max(buflen, 64 KiB) of a partial line; always more than lineMax.
    this.splitter = new LineSplitter(Math.max(opts.bufLen, 65536));
    if (opts.replaceChar !== undefined) {
      const t = new Uint8Array(256);
      for (let b = 0; b < 256; b++) t[b] = b < 32 || b > 126 ? 1 : 0;
      for (const b of Buffer.from(opts.replaceChars, 'latin1')) t[b] = 1;
      this.replTable = t;
      this.replByte = Buffer.from(opts.replaceChar)[0] ?? 95;
    }
  }

  /** Open the directories and start reading; false when none is usable (done resolves 111). */
  start(): void {
    for (const d of this.dirs) d.open();
    if (!this.dirs.some((d) => d.active)) {
      this.io.warn('tsvlog: fatal: no functional log directories.');
      this.resolveDone(EXIT_FATAL);
      return;
    }
    this.recompute();
    let input: Input;
    try {
      input = openInput(this.io.input);
    } catch (e) {
      this.io.warn(`tsvlog: fatal: unable to read input: ${errstr(e)}`);
      void this.finish(EXIT_FATAL);
      return;
    }
    this.input = input;
    // why: an at-least-once input cannot let an unfinished line fill its pipe (the writer would
    // block with nothing for us to write): longer lines are streamed sooner.
    if (input.maxHold !== undefined) this.splitter = new LineSplitter(Math.min(Math.max(this.opts.bufLen, 65536), input.maxHold));
    input.start({
      data: (chunk) => this.onData(chunk),
      end: () => void this.finish(0),
      error: (e) => {
        this.io.warn(`tsvlog: warning: unable to read input: ${errstr(e)}`);
        void this.finish(0);
      },
    });
  }

  /** Which path lines take (after every config read). */
  private recompute(): void {
    this.simple = this.replTable === undefined && this.dirs.every((d) => !d.active || (d.config.patterns.length === 0 && d.config.udp === undefined));
  }

  /** The stamp bytes for a time (cached: one per read batch). */
  private stampOf(us: number): Buffer {
    if (this.opts.timestamp === 0) return EMPTY;
    if (us !== this.stampUs) {
      this.stampUs = us;
      this.stampBuf = Buffer.from(stampText(this.opts.timestamp, us), 'latin1');
    }
    return this.stampBuf;
  }

  /** One read: stamped once (the batch arrived together; see docs/tsvlog.md), split, queued, written. */
  private onData(chunk: Buffer): void {
    const us = nowMicros();
    for (const d of this.dirs) if (d.active) d.batch.begin(chunk.length);
    this.splitter.push(chunk, us, this);
    for (const d of this.dirs) if (d.active) d.batch.end();
    this.drainAll();
  }

  /** SegmentSink: a run of complete lines. */
  run(buf: Buffer, start: number, end: number, us: number): void {
    if (this.simple) {
      const stamp = this.stampOf(us);
      for (const d of this.dirs) if (d.active) d.batch.addRun(buf, start, end, stamp);
      return;
    }
    let nl: number;
    while (start < end && (nl = buf.indexOf(10, start)) >= 0) {
      this.segment(buf, start, nl + 1, true, true, us);
      start = nl + 1;
    }
  }

  /** SegmentSink: route one piece of a line to the directories. */
  segment(buf: Buffer, start: number, end: number, head: boolean, tail: boolean, us: number): void {
    const stamp = head ? this.stampOf(us) : EMPTY;
    if (this.simple) {
      for (const d of this.dirs) if (d.active) d.batch.add(buf, start, end, head, tail, stamp, undefined);
      return;
    }
    if (!head) {
      for (const d of this.dirs) if (d.active && d.lineSelected) d.batch.add(buf, start, end, false, tail, stamp, undefined);
      return;
    }
    const lineEnd = tail ? end - 1 : end;
    const k = Math.min(this.opts.lineMax, lineEnd - start);
    let repl: Buffer | undefined;
    if (this.replTable) {
      // -r/-R: replace in the first lineMax bytes only, before matching.
      repl = Buffer.from(buf.subarray(start, start + k));
      const r = this.replByte;
      for (let i = 0; i < repl.length; i++) if (this.replTable[repl[i] as number]) repl[i] = r;
    }
    // The matched text: the first lineMax bytes (replaced, if asked), without the newline.
    const mBuf = repl ?? buf;
    const mStart = repl ? 0 : start;
    const long = !tail || lineEnd - start >= this.opts.lineMax;
    for (const d of this.dirs) {
      if (!d.active) continue;
      const sel = d.config.patterns.length > 0 ? select(d.config.patterns, mBuf, mStart, mStart + k) : ALL;
      if (sel.alert) this.alert(d.alertText(stamp, mBuf.subarray(mStart, mStart + k), long));
      const udp = d.config.udp;
      if (sel.log && udp) d.sendUdp(d.alertText(stamp, mBuf.subarray(mStart, mStart + k), long));
      d.lineSelected = sel.log && !(udp?.only ?? false);
      if (d.lineSelected) d.batch.add(buf, start, end, true, tail, stamp, repl);
    }
  }

  /** Run every directory's queue; pause reading while any is stuck, resume when all are clear. */
  drainAll(): boolean {
    if (this.draining) return false;
    this.draining = true;
    let clear = true;
    try {
      for (const d of this.dirs) if (d.busy && !d.drain()) clear = false;
    } finally {
      this.draining = false;
    }
    if (clear) {
      // Everything queued is written: consume it from the pipe, all but the unfinished line.
      this.input?.commit?.(this.splitter.held);
      if (!this.stopping && this.inputPaused) {
        this.inputPaused = false;
        this.input?.resume();
      }
      const w = this.clearWaiters;
      this.clearWaiters = [];
      for (const f of w) f();
    } else if (!this.inputPaused) {
      this.inputPaused = true;
      this.input?.pause();
    }
    return clear;
  }

  /** Resolves when every queue is empty. */
  private whenClear(): Promise<void> {
    return new Promise((res) => {
      this.clearWaiters.push(res);
      this.drainAll();
    });
  }

  /** HUP: reopen every directory (those dropped earlier are tried again). */
  reopen(): void {
    if (this.finishing) return;
    for (const d of this.dirs) {
      if (d.active) d.queueReopen();
      else d.open();
    }
    void this.whenClear().then(() => {
      this.recompute();
      if (!this.finishing && !this.dirs.some((d) => d.active)) {
        this.io.warn('tsvlog: fatal: no functional log directories.');
        void this.finish(EXIT_FATAL);
      }
    });
  }

  /** ALRM: rotate every non-empty current. */
  rotate(): void {
    if (this.finishing) return;
    for (const d of this.dirs) d.rotateNow();
  }

  /** TERM: take what the stream already read, then finish. */
  stop(): Promise<void> {
    if (!this.stopping) {
      this.stopping = true;
      const input = this.input;
      if (input) {
        input.pause();
        this.inputPaused = true;
        // Data already read from the fd but not yet delivered goes to onData now.
        input.flushPending();
      }
      void this.finish(0);
    }
    return this.done.then(() => undefined);
  }

  /** Write the partial line, close every directory (flushed, synced), wait for processors. */
  private async finish(code: number): Promise<void> {
    if (this.finishing) return;
    this.finishing = true;
    this.stopping = true;
    const input = this.input;
    input?.pause();
    this.inputPaused = true;
    for (const d of this.dirs) if (d.active) d.batch.begin(0);
    this.splitter.end(this);
    for (const d of this.dirs) if (d.active) d.batch.end();
    for (const d of this.dirs) if (d.active) d.queueClose();
    await this.whenClear();
    // why: consumed only now that the last lines are in the (closed, fsync'd) files.
    input?.commit?.(0);
    this.input = undefined;
    input?.close();
    await Promise.all(this.dirs.map((d) => d.processorDone()));
    this.resolveDone(code);
  }
}

/** Start a logger on io.input with tsvlog's options (the same code the tsvlog program runs):
 * several log dirs, each with its own config; see docs/tsvlog.md. Never throws: when no
 * directory can be used it warns `tsvlog: fatal: no functional log directories.` and done
 * resolves with 111. */
export function startLogger(opts: TsvlogOptions & LoggerIo): LoggerHandle {
  const logger = new Logger(opts, opts);
  logger.start();
  return {
    reopen: () => logger.reopen(),
    rotate: () => logger.rotate(),
    stop: () => logger.stop(),
    done: logger.done,
  };
}
