// Output assembly, the hot path: the bytes one read batch produces for one log directory,
// stamped and cut into queued writes and rotations by svlogd's size rules.

/** A pending operation of a log directory. Writes hold the bytes still to write (advanced on
 * partial writes). */
export type Op = { k: 'write'; buf: Buffer } | { k: 'rotate' } | { k: 'reopen' } | { k: 'close' };

const EMPTY = Buffer.alloc(0);

/** Builds a directory's output. One work buffer per read batch: [0, outCap) is the output
 * being built, work[outStart, outPos) not yet queued; [outCap, ...) holds a copy of the input
 * run and the stamp, so lines move with copyWithin (no per-line allocation, unlike
 * Buffer#copy). */
export class OutputBatch {
  /** bytes current will hold once every queued write is done (drives size rotation) */
  size = 0;
  /** `s`: rotation size (0: never by size) */
  max = 0;
  /** `p`: the prefix written after the stamp */
  private prefix: Buffer = EMPTY;
  private work: Buffer = Buffer.allocUnsafe(0);
  private outCap = 0;
  private outStart = 0;
  private outPos = 0;
  private headCache: Buffer | undefined;
  private headFor: Buffer | undefined;

  /** ops: the directory's queue (appended to); lineMax: -l. */
  constructor(private readonly ops: Op[], private readonly lineMax: number) {}

  /** New settings (after a config read). */
  configure(max: number, prefix: Buffer): void {
    this.max = max;
    this.prefix = prefix;
    this.headCache = undefined;
    this.headFor = undefined;
  }

  /** Start a read batch of n input bytes. Reuse the work buffer unless a queued write still
   * refers to it. */
  begin(n: number): void {
    const outCap = n + (n >> 1) + 4096;
    if (this.ops.length === 0 && this.outCap >= outCap && this.work.length >= this.outCap + n + 4096) {
      this.outStart = 0;
      this.outPos = 0;
    } else this.fresh(outCap, n + 4096);
  }

  /** A new work buffer: outCap bytes of output, inCap bytes of input copy. */
  private fresh(outCap: number, inCap: number): void {
    this.outCap = Math.max(outCap, 65536);
    this.work = Buffer.allocUnsafe(this.outCap + Math.max(inCap, 4096));
    this.outStart = 0;
    this.outPos = 0;
  }

  /** Queue out[outStart, outPos) as a write. */
  cut(): void {
    if (this.outPos > this.outStart) {
      this.ops.push({ k: 'write', buf: this.work.subarray(this.outStart, this.outPos) });
      this.outStart = this.outPos;
    }
  }

  /** End a read batch: queue what it produced. */
  end(): void {
    this.cut();
  }

  /** Stamp + prefix bytes for a stamp (cached per stamp buffer). */
  head(stamp: Buffer): Buffer {
    if (this.prefix.length === 0) return stamp;
    if (this.headFor !== stamp || this.headCache === undefined) {
      this.headCache = Buffer.concat([stamp, this.prefix]);
      this.headFor = stamp;
    }
    return this.headCache;
  }

  /** Append a run of complete lines buf[start, end), each stamped (the hot path). */
  addRun(buf: Buffer, start: number, end: number, stamp: Buffer): void {
    const h = this.head(stamp);
    const hl = h.length;
    const len = end - start;
    if (this.work.length - this.outCap < len + hl) {
      // The input area is too small (a batch bigger than announced): start a new buffer.
      this.cut();
      this.fresh(this.outCap, len + hl);
    }
    let w = this.work;
    let base = this.outCap;
    buf.copy(w, base, start, end);
    w.set(h, base + len);
    let hp = base + len;
    let p = base;
    let e = base + len;
    let o = this.outPos;
    const max = this.max;
    const soft = max - this.lineMax;
    while (p < e) {
      const nl = w.indexOf(10, p);
      const ll = nl + 1 - p;
      if (o + hl + ll > this.outCap) {
        // Output area full: queue it, continue in a new buffer with the rest of the input.
        this.outPos = o;
        this.cut();
        const rest = e - p;
        const old = w;
        this.fresh(Math.max(this.outCap, (hl + ll) * 2), rest + hl);
        w = this.work;
        base = this.outCap;
        old.copy(w, base, p, e);
        w.set(h, base + rest);
        hp = base + rest;
        e = base + rest;
        p = base;
        o = 0;
        continue;
      }
      const lineStart = o;
      w.copyWithin(o, hp, hp + hl);
      o += hl;
      w.copyWithin(o, p, nl + 1);
      o += ll;
      p = nl + 1;
      if (max > 0) {
        // Fast path: far from the size limit, just count.
        if (this.size + hl + ll < soft) this.size += hl + ll;
        else {
          this.outPos = o;
          this.account(lineStart, o, true);
        }
      }
    }
    this.outPos = o;
  }

  /** Append a segment of a line: buf[start, end); repl (if any) replaces its first bytes. */
  add(buf: Buffer, start: number, end: number, head: boolean, tail: boolean, stamp: Buffer, repl: Buffer | undefined): void {
    const h = head ? this.head(stamp) : undefined;
    const need = (h ? h.length : 0) + (end - start);
    if (this.outPos + need > this.outCap) {
      this.cut();
      this.fresh(need * 2, 4096);
    }
    const lineStart = this.outPos;
    let o = lineStart;
    const out = this.work;
    if (h) {
      out.set(h, o);
      o += h.length;
    }
    if (repl) {
      out.set(repl, o);
      o += repl.length;
      start += repl.length;
    }
    o += buf.copy(out, o, start, end);
    this.outPos = o;
    if (this.max > 0) this.account(lineStart, o, tail);
  }

  /** svlogd's size rules for the bytes out[lineStart, lineEnd) just added: writes are clipped
   * so current never exceeds s (a long line may be split across files), and after a complete
   * line current is rotated once it is within lineMax bytes of s. */
  private account(lineStart: number, lineEnd: number, tail: boolean): void {
    const max = this.max;
    let p = lineStart;
    let size = this.size;
    for (;;) {
      if (size >= max) {
        this.cutAt(p);
        size = 0;
      }
      const room = max - size;
      if (lineEnd - p <= room) {
        size += lineEnd - p;
        break;
      }
      p += room;
      size = max;
    }
    const lineMax = this.lineMax;
    if (tail && max >= lineMax && size >= max - lineMax) {
      this.cutAt(lineEnd);
      size = 0;
    }
    this.size = size;
  }

  /** Queue out[outStart, p) as a write, then a rotation. */
  private cutAt(p: number): void {
    if (p > this.outStart) this.ops.push({ k: 'write', buf: this.work.subarray(this.outStart, p) });
    this.outStart = p;
    this.ops.push({ k: 'rotate' });
  }
}
