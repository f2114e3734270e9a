// Buffer-level line splitter for the hot path: finds newlines with indexOf, hands out segments
// of the caller's chunk without copying, and holds at most maxCarry bytes of a partial line
// (a longer line is streamed out in segments, so memory stays bounded whatever the line length).

/** Receives the pieces of lines, in order. */
export interface SegmentSink {
  /** buf[start, end) is part of a line. head: it begins the line (stamp it; stamp is the time
   * its first byte was read); tail: it ends the line (end includes the '\n'). A short line is
   * one segment with head and tail; a line longer than the carry limit is a head segment
   * (holding at least maxCarry bytes), middle segments, and a tail segment. */
  segment(buf: Buffer, start: number, end: number, head: boolean, tail: boolean, stamp: number): void;
  /** buf[start, end) is a run of complete lines (end follows a '\n'), all read at stamp. */
  run(buf: Buffer, start: number, end: number, stamp: number): void;
}

const NL = 10;
const NEWLINE = Buffer.from('\n');

/** Splits a byte stream into line segments; see SegmentSink. */
export class LineSplitter {
  private carry: Buffer[] = [];
  private carryLen = 0;
  private carryStamp = 0;
  private streaming = false;

  /** maxCarry: most bytes of a partial line held between chunks (must exceed the match length). */
  constructor(private readonly maxCarry: number) {}

  /** Bytes of a partial line held right now. */
  get held(): number {
    return this.carryLen;
  }

  /** Is a line in progress (held or being streamed)? */
  get midLine(): boolean {
    return this.streaming || this.carryLen > 0;
  }

  /** Feed one chunk read at time stamp. */
  push(chunk: Buffer, stamp: number, sink: SegmentSink): void {
    const n = chunk.length;
    let pos = 0;
    if (this.streaming) {
      const nl = chunk.indexOf(NL);
      if (nl < 0) {
        sink.segment(chunk, 0, n, false, false, stamp);
        return;
      }
      sink.segment(chunk, 0, nl + 1, false, true, stamp);
      this.streaming = false;
      pos = nl + 1;
    } else if (this.carryLen > 0) {
      const nl = chunk.indexOf(NL);
      if (nl < 0) {
        if (this.carryLen + n <= this.maxCarry) {
          this.carry.push(Buffer.from(chunk));
          this.carryLen += n;
          return;
        }
        // Over the limit without a newline: emit what is held as the line's head, stream the rest.
        const held = Buffer.concat([...this.carry, chunk]);
        const st = this.carryStamp;
        this.resetCarry();
        this.streaming = true;
        sink.segment(held, 0, held.length, true, false, st);
        return;
      }
      const line = Buffer.concat([...this.carry, chunk.subarray(0, nl + 1)]);
      const st = this.carryStamp;
      this.resetCarry();
      sink.segment(line, 0, line.length, true, true, st);
      pos = nl + 1;
    }
    // Every complete line left in the chunk goes out as one run (the sink walks it).
    const last = chunk.lastIndexOf(NL);
    if (last >= pos) {
      sink.run(chunk, pos, last + 1, stamp);
      pos = last + 1;
    }
    if (pos < n) {
      if (n - pos > this.maxCarry) {
        sink.segment(chunk, pos, n, true, false, stamp);
        this.streaming = true;
      } else {
        // Copy: holding a slice would pin the whole chunk.
        this.carry.push(Buffer.from(chunk.subarray(pos)));
        this.carryLen = n - pos;
        this.carryStamp = stamp;
      }
    }
  }

  /** End of input: a partial last line is completed with a newline (svlogd drops it). */
  end(sink: SegmentSink): void {
    if (this.streaming) {
      this.streaming = false;
      sink.segment(NEWLINE, 0, 1, false, true, 0);
    } else if (this.carryLen > 0) {
      const line = Buffer.concat([...this.carry, NEWLINE]);
      const st = this.carryStamp;
      this.resetCarry();
      sink.segment(line, 0, line.length, true, true, st);
    }
  }

  /** Forget the held partial line. */
  private resetCarry(): void {
    this.carry = [];
    this.carryLen = 0;
  }
}
