// Reading log directories: rotated files in order, then current, with `@<tai64n>` stamps shown
// as local time (like tai64nlocal); optionally only the last N lines, and a follow mode that
// survives rotations (fs.watch on the directory, plus a slow backstop check).
import { watch, type FSWatcher } from 'node:fs';
import { open, readdir, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { fatalFrom, LOGDIR, unpackTai64n } from '@tsv/core';
import { localText } from './stamp.js';

/** Options of showLog. */
export interface ShowLogOptions {
  /** keep printing what is appended, across rotations, until signal aborts */
  follow: boolean;
  /** print only the last N lines of each directory (then follow, if asked) */
  lines?: number;
  /** receives the text to print (whole lines) */
  out: (text: string) => void;
  /** ends follow mode (showLog then resolves) */
  signal?: AbortSignal;
  /** a label per directory (same order as dirs): each of its lines starts with `label: ` */
  labels?: readonly string[];
  /** one time format: -tt/-ttt stamps (UTC) are shown as local time too, like TAI64N's */
  oneFormat?: boolean;
}

/** Rotated files are `@` + 24 hex + `.s` / `.u` (processed or not), oldest first by name. */
const OLD_NAME = /^@[0-9a-f]{24}\.[su]$/;
/** A TAI64N stamp at the start of a line. */
const TAI_STAMP = /^@([0-9a-f]{24})/;
/** How often follow mode checks even without a watch event (the backstop). */
const BACKSTOP_MS = 1000;
const CHUNK = 1 << 20;

/** One line (without its newline) with a leading TAI64N stamp rendered as local time. */
export function renderLine(line: string): string {
  const m = TAI_STAMP.exec(line);
  if (!m) return line;
  const t = unpackTai64n(Buffer.from(m[1] as string, 'hex'));
  if (t.nanos > 999_999_999) return line;
  return localText(t.seconds, t.nanos) + line.slice(25);
}

/** A -tt/-ttt stamp (UTC, 5 fractional digits) at the start of a line. */
const UTC_STAMP = /^(\d{4})-(\d\d)-(\d\d)[_T](\d\d):(\d\d):(\d\d)\.(\d{5})/;

/** One line with a leading TAI64N or -tt/-ttt stamp rendered as local time. */
export function renderLineLocal(line: string): string {
  const m = UTC_STAMP.exec(line);
  if (m === null) return renderLine(line);
  const n = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const ms = Date.UTC(n[0], n[1] - 1, n[2], n[3], n[4], n[5]);
  if (Number.isNaN(ms)) return line;
  return localText(ms / 1000, Number(m[7]) * 10_000) + line.slice(m[0].length);
}

/** How lines are shown: the stamp rendering and the label prefix. */
interface Render {
  line: (l: string) => string;
  prefix: string;
}

/** Render complete lines of buf (ending in '\n'). */
function renderLines(buf: Buffer, r: Render = { line: renderLine, prefix: '' }): string {
  const text = buf.toString('utf8');
  const lines = text.split('\n');
  lines.pop();
  return lines.map((l) => r.prefix + r.line(l)).join('\n') + '\n';
}

/** The old files of a dir, oldest first. */
async function oldFiles(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((n) => OLD_NAME.test(n)).sort();
}

/** Holds a partial last line between reads and prints complete lines. */
class LinePrinter {
  private partial: Buffer = Buffer.alloc(0);
  constructor(
    private readonly out: (t: string) => void,
    private readonly r: Render,
  ) {}

  /** Feed bytes; print every complete line. */
  feed(buf: Buffer): void {
    const data = this.partial.length ? Buffer.concat([this.partial, buf]) : buf;
    const nl = data.lastIndexOf(10);
    if (nl < 0) {
      this.partial = Buffer.from(data);
      return;
    }
    this.out(renderLines(data.subarray(0, nl + 1), this.r));
    this.partial = Buffer.from(data.subarray(nl + 1));
  }

  /** Print a held partial line (with a newline): the end of the output. */
  flush(): void {
    if (this.partial.length) this.out(renderLines(Buffer.concat([this.partial, Buffer.from('\n')]), this.r));
    this.partial = Buffer.alloc(0);
  }
}

/** Read fh from pos to its end, feeding the printer; returns the new position. */
async function readFrom(fh: FileHandle, pos: number, p: LinePrinter): Promise<number> {
  const buf = Buffer.allocUnsafe(CHUNK);
  for (;;) {
    const { bytesRead } = await fh.read(buf, 0, CHUNK, pos);
    if (bytesRead === 0) return pos;
    pos += bytesRead;
    p.feed(buf.subarray(0, bytesRead));
  }
}

/** Print a whole file (missing files are skipped: pruned or processed meanwhile). */
async function printFile(path: string, p: LinePrinter): Promise<void> {
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch {
    return;
  }
  try {
    await readFrom(fh, 0, p);
  } finally {
    await fh.close();
  }
}

/** The last n lines of the files (newest last) followed by last (current's bytes), as bytes. */
async function tailBytes(paths: string[], last: Buffer, n: number): Promise<Buffer> {
  const parts: Buffer[] = [last];
  let count = 0;
  for (let j = 0; j < last.length; j++) if (last[j] === 10) count++;
  for (let i = paths.length - 1; i >= 0 && count <= n; i--) {
    let data: Buffer;
    try {
      const fh = await open(paths[i] as string, 'r');
      try {
        data = await fh.readFile();
      } finally {
        await fh.close();
      }
    } catch {
      continue;
    }
    parts.unshift(data);
    for (let j = 0; j < data.length; j++) if (data[j] === 10) count++;
  }
  let all = Buffer.concat(parts);
  if (all.length && all[all.length - 1] !== 10) all = Buffer.concat([all, Buffer.from('\n')]);
  // Keep the last n lines: find the start of line (count - n) from the end.
  if (n === 0 || all.length === 0) return Buffer.alloc(0);
  let pos = all.length - 1;
  for (let k = 0; k < n; k++) {
    // (a negative offset would search from the end: stop at the start instead)
    pos = pos <= 0 ? -1 : all.lastIndexOf(10, pos - 1);
    if (pos < 0) break;
  }
  return all.subarray(pos + 1);
}

/** Follow state of one directory: the inode of current being read and how far. */
interface Followed {
  dir: string;
  fh: FileHandle | undefined;
  ino: number;
  pos: number;
  printer: LinePrinter;
}

/** Open dir/current for following from pos (undefined when it does not exist yet). */
async function openCurrent(f: Followed, pos: number): Promise<void> {
  try {
    const fh = await open(join(f.dir, LOGDIR.current), 'r');
    f.fh = fh;
    f.ino = (await fh.stat()).ino;
    f.pos = pos;
  } catch {
    f.fh = undefined;
    f.ino = -1;
    f.pos = 0;
  }
}

/** Catch up with one directory: the rest of the followed file; after a rotation, the rotated
 * files written since, then the new current. */
async function check(f: Followed): Promise<void> {
  if (f.fh) f.pos = await readFrom(f.fh, f.pos, f.printer);
  let ino = -1;
  try {
    ino = (await stat(join(f.dir, LOGDIR.current))).ino;
  } catch {
    return;
  }
  if (ino === f.ino) return;
  const oldIno = f.ino;
  if (f.fh) {
    // Rotated: the old file is complete now (the writer closed it before the rename).
    f.pos = await readFrom(f.fh, f.pos, f.printer);
    await f.fh.close();
  }
  // Pin the new current before listing, so nothing rotated meanwhile falls in between.
  await openCurrent(f, 0);
  if (oldIno >= 0) {
    const olds = await oldFiles(f.dir);
    const inos: number[] = [];
    for (const n of olds) {
      try {
        inos.push((await stat(join(f.dir, n))).ino);
      } catch {
        inos.push(-1);
      }
    }
    const from = inos.lastIndexOf(oldIno);
    let to = inos.lastIndexOf(f.ino);
    if (to < 0) to = olds.length;
    // Files rotated between two checks (unknown when the old one is gone: pruned, processed).
    if (from >= 0) for (const n of olds.slice(from + 1, to)) await printFile(join(f.dir, n), f.printer);
  }
  if (f.fh) f.pos = await readFrom(f.fh, f.pos, f.printer);
}

/** Print log directories: rotated files oldest first, then current, TAI64N stamps as local
 * time (`-tt`/`-ttt` stamps as written). With lines, only the last N lines of each. With
 * follow, keep printing appended lines across rotations until signal aborts. Throws a
 * ToolError when a directory cannot be read. */
export async function showLog(dirs: string[], opts: ShowLogOptions): Promise<void> {
  const followed: Followed[] = [];
  for (const [i, dir] of dirs.entries()) {
    const label = opts.labels?.[i];
    const r: Render = { line: opts.oneFormat === true ? renderLineLocal : renderLine, prefix: label !== undefined ? `${label}: ` : '' };
    let olds: string[];
    try {
      olds = await oldFiles(dir);
    } catch (e) {
      throw fatalFrom(`unable to read log directory: ${dir}`, e);
    }
    const f: Followed = { dir, fh: undefined, ino: -1, pos: 0, printer: new LinePrinter(opts.out, r) };
    // Pin current first, so lines appended while the old files print are not missed.
    await openCurrent(f, 0);
    const size = f.fh ? (await f.fh.stat()).size : 0;
    const paths = olds.map((n) => join(dir, n));
    if (opts.lines !== undefined) {
      const cur = Buffer.alloc(size);
      if (f.fh && size > 0) await f.fh.read(cur, 0, size, 0);
      const text = await tailBytes(paths, cur, opts.lines);
      if (text.length) opts.out(renderLines(text, r));
      f.pos = size;
    } else {
      for (const p of paths) await printFile(p, f.printer);
      if (f.fh) f.pos = await readFrom(f.fh, 0, f.printer);
    }
    if (!opts.follow) {
      f.printer.flush();
      await f.fh?.close();
    } else followed.push(f);
  }
  if (!opts.follow || opts.signal?.aborted) {
    for (const f of followed) await f.fh?.close();
    return;
  }
  await new Promise<void>((resolve) => {
    const watchers: FSWatcher[] = [];
    let running = false;
    let again = false;
    // Serialize checks: an event during a check asks for one more pass.
    const run = async (): Promise<void> => {
      if (running) {
        again = true;
        return;
      }
      running = true;
      do {
        again = false;
        for (const f of followed) {
          try {
            await check(f);
          } catch {
            // a file vanished mid-read: the next pass catches up
          }
        }
      } while (again && !opts.signal?.aborted);
      running = false;
    };
    for (const f of followed) {
      try {
        const w = watch(f.dir, () => void run());
        w.on('error', () => {});
        watchers.push(w);
      } catch {
        // not watchable: the backstop still checks
      }
    }
    const backstop = setInterval(() => void run(), BACKSTOP_MS);
    const end = (): void => {
      clearInterval(backstop);
      for (const w of watchers) w.close();
      void Promise.all(followed.map((f) => f.fh?.close())).then(() => resolve());
    };
    if (opts.signal) opts.signal.addEventListener('abort', end, { once: true });
    void run();
  });
}
