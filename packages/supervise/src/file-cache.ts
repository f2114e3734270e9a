// A value computed from a few files (a service dir's settings, its cgroup limit files), kept
// between starts of run and computed again only when one of those files changed: each path the
// computation looked at (the directory it listed, each file it read or tested) is stamped with
// its inode, size and nanosecond mtime and ctime, and the value is reused while every stamp is
// the same. runit's semantics stay: a changed file takes effect at the next start.
import { readdirSync, statSync, type BigIntStats } from 'node:fs';

/** A path as it was when looked at: inode, size, mtime, ctime (ns), or absent. */
type Stamp = string;

/** How recent a ctime (ns before the computation started) makes the value untrustworthy.
 * why: the kernel stamps files from a coarse clock (one tick, up to 10 ms at HZ=100), so a
 * same-size rewrite within the same tick as the version read leaves every stamp unchanged; a
 * value read while a file is that fresh is computed again next time ("racy git"). */
const RACY_NS = 50_000_000n;

/** The stamps taken in the code running now, until its next microtask: one look. why: a start
 * checks its settings and its limit files microseconds apart, and both stamp the service
 * directory; a change after the first stat is as much seen by the next start as one after the
 * second would be. */
let lookNow: Map<string, { stamp: Stamp; ctimeNs: bigint }> | undefined;

/** The stamp of path now (stat follows symlinks: an edit of the target counts). */
function stampOf(path: string): { stamp: Stamp; ctimeNs: bigint } {
  if (lookNow === undefined) {
    lookNow = new Map();
    queueMicrotask(() => (lookNow = undefined));
  }
  let s = lookNow.get(path);
  if (s === undefined) lookNow.set(path, (s = statStamp(path)));
  return s;
}

/** The stamp of path from a stat of its own. */
function statStamp(path: string): { stamp: Stamp; ctimeNs: bigint } {
  let st: BigIntStats | undefined;
  try {
    st = statSync(path, { bigint: true, throwIfNoEntry: false });
  } catch {
    st = undefined;
  }
  return stampFrom(st);
}

/** What a computation calls before it lists or reads a path (stamped before it is read, so a
 * change racing the read is seen at the next check, never lost). */
export type Look = (path: string) => void;

/** How a computation lists a directory: its names, or undefined when it cannot be read. */
export type List = (path: string) => ReadonlySet<string> | undefined;

/** A directory looked at once: stamped, then listed (names undefined: unreadable); st is
 * undefined when the stat failed. */
export interface DirSeen {
  path: string;
  st: BigIntStats | undefined;
  names: ReadonlySet<string> | undefined;
}

/** Stamp dir, then list it: one look the set-up's probes and the first computations share. */
export function seeDir(path: string): DirSeen {
  return { path, st: statSync(path, { bigint: true, throwIfNoEntry: false }), names: listDir(path) };
}

/** The names of path (undefined when it cannot be read). */
export function listDir(path: string): ReadonlySet<string> | undefined {
  try {
    return new Set(readdirSync(path));
  } catch {
    return undefined;
  }
}

/** The stamp of a stat result (absent: '-'). */
function stampFrom(st: BigIntStats | undefined): { stamp: Stamp; ctimeNs: bigint } {
  if (st === undefined) return { stamp: '-', ctimeNs: 0n };
  return { stamp: `${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}:${st.mode}`, ctimeNs: st.ctimeNs };
}

/** A cached value and the warnings computing it gave (said again at each use, as a re-read would). */
export class FileCache<T> {
  private value: { v: T; warnings: string[] } | undefined;
  private stamps: Array<[string, Stamp]> = [];
  private racy = false;

  /** compute(look, warn, list): the value from the files, calling look(path) before each;
   * seen: a directory already looked at, which the first computation takes as it was seen
   * (its stamp and names) instead of a stat and a listing of its own. */
  constructor(
    private readonly compute: (look: Look, warn: (m: string) => void, list: List) => T,
    private seen?: DirSeen,
  ) {}

  /** The value, computed again when a path it looked at changed (or the last look was racy). */
  get(warn: (m: string) => void): T {
    const cached = this.value;
    if (cached !== undefined && this.fresh()) {
      for (const m of cached.warnings) warn(m);
      return cached.v;
    }
    const started = BigInt(Date.now()) * 1_000_000n;
    const stamps: Array<[string, Stamp]> = [];
    let racy = false;
    const warnings: string[] = [];
    const seen = this.seen;
    this.seen = undefined;
    const v = this.compute(
      (path) => {
        const s = seen?.path === path ? stampFrom(seen.st) : stampOf(path);
        stamps.push([path, s.stamp]);
        if (s.ctimeNs >= started - RACY_NS) racy = true;
      },
      (m) => {
        warnings.push(m);
        warn(m);
      },
      (path) => (seen?.path === path ? seen.names : listDir(path)),
    );
    this.value = { v, warnings };
    this.stamps = stamps;
    this.racy = racy;
    return v;
  }

  /** Is every path as it was when the value was computed? */
  private fresh(): boolean {
    if (this.racy) return false;
    for (const [path, stamp] of this.stamps) if (stampOf(path).stamp !== stamp) return false;
    return true;
  }
}
