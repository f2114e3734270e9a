// Lines of a svlogd-format log directory (svlogd, tsvlog, s6-log's layout): the rotated files
// (`@<tai64n>.s` / `.u`, oldest first), then `current`, optionally followed across rotations.
// Bytes go through one split2 stream, which cuts lines across read and file boundaries.
// Following is event-driven: fs.watch on the directory (inotify) wakes the reader; on each wake
// it reads the open `current` to its end, and when `current` is a new file (rotation renamed
// the old one), it finishes the old file, reads any file rotated in between, and opens the new.
import { LOGDIR, unpackTai64n } from '@tsv/core';
import { watch } from 'node:fs';
import { open, readdir, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import split2 from 'split2';
import { ServiceError } from './errors.js';

/** One log line. */
export interface LogLine {
  /** the line as stored, without its newline */
  raw: string;
  /** the line without its timestamp (svlogd -t, -tt or -ttt), or raw when it has none */
  text: string;
  /** the timestamp, when the line has one */
  time: Date | undefined;
}

/** Options of logLines(). */
export interface LogLinesOptions {
  /** keep reading what is appended, across rotations, until signal aborts or the loop breaks */
  follow?: boolean;
  /** `start` (default): the rotated files, then current; `end`: only what is appended from
   * now on (implies follow) */
  from?: 'start' | 'end';
  /** ends the iteration (the loop simply finishes) */
  signal?: AbortSignal;
}

/** Rotated files: `@` + 24 hex + `.s` (processed) or `.u` (unprocessed). */
const OLD_NAME = /^@[0-9a-f]{24}\.[su]$/;
/** svlogd -t: `@` + 24 hex TAI64N, then a blank. */
const TAI_STAMP = /^@([0-9a-f]{24}) /;
/** svlogd -tt (`2026-12-02_17:00:00.12345 `) and -ttt (`2026-12-02T17:00:00.12345 `), UTC. */
const ISO_STAMP = /^(\d{4}-\d\d-\d\d)[_T](\d\d:\d\d:\d\d)(\.\d+)? /;
const CHUNK = 64 * 1024;

/** Split a stored line into its stamp and text. */
export function parseLogLine(raw: string): LogLine {
  const t = TAI_STAMP.exec(raw);
  if (t !== null) {
    const s = unpackTai64n(Buffer.from(t[1] as string, 'hex'));
    return { raw, text: raw.slice(26), time: new Date(s.seconds * 1000 + Math.floor(s.nanos / 1e6)) };
  }
  const i = ISO_STAMP.exec(raw);
  if (i !== null) {
    const frac = (i[3] ?? '.0').slice(1, 4).padEnd(3, '0');
    return { raw, text: raw.slice(i[0].length), time: new Date(`${i[1]}T${i[2]}.${frac}Z`) };
  }
  return { raw, text: raw, time: undefined };
}

/** The rotated files of dir, oldest first. */
async function rotated(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((n) => OLD_NAME.test(n)).sort();
}

/** Yield the lines of the svlogd-format log directory dir. */
export async function* logLines(dir: string, opts: LogLinesOptions = {}): AsyncGenerator<LogLine, void, undefined> {
  const follow = opts.follow === true || opts.from === 'end';
  const lines = split2();
  let wake: (() => void) | undefined;
  let changed = false;
  const kick = (): void => {
    changed = true;
    wake?.();
  };
  const watcher = follow ? watch(dir, () => kick()) : undefined;
  watcher?.on('error', (e) => lines.destroy(new ServiceError('ESTATUS', dir, `${dir}: unable to watch: ${e.message}`, { cause: e })));
  const onAbort = (): void => kick();
  opts.signal?.addEventListener('abort', onAbort);
  const stopped = (): boolean => lines.destroyed || opts.signal?.aborted === true;

  /** Write buf into the splitter, waiting while its buffer is full. */
  const push = async (buf: Buffer): Promise<void> => {
    if (lines.write(buf)) return;
    await new Promise<void>((resolve) => {
      const done = (): void => {
        lines.off('drain', done);
        lines.off('close', done);
        resolve();
      };
      lines.on('drain', done);
      lines.on('close', done);
    });
  };
  /** Feed fh from pos to its end; returns the new position. */
  const drain = async (fh: FileHandle, pos: number): Promise<number> => {
    for (;;) {
      if (stopped()) return pos;
      const buf = Buffer.allocUnsafe(CHUNK);
      const { bytesRead } = await fh.read(buf, 0, CHUNK, pos);
      if (bytesRead === 0) return pos;
      pos += bytesRead;
      await push(buf.subarray(0, bytesRead));
    }
  };
  /** Feed a whole file of dir (it may have been pruned meanwhile: then nothing). */
  const feedFile = async (name: string): Promise<void> => {
    let fh: FileHandle;
    try {
      fh = await open(join(dir, name), 'r');
    } catch {
      return;
    }
    try {
      await drain(fh, 0);
    } finally {
      await fh.close();
    }
  };

  /** The producer: every file in order, then (following) current as it grows and rotates. */
  const produce = async (): Promise<void> => {
    const currentPath = join(dir, LOGDIR.current);
    let fh = await open(currentPath, 'r');
    let ino = (await fh.stat()).ino;
    let pos = 0;
    try {
      if (opts.from === 'end') pos = (await fh.stat()).size;
      else for (const name of await rotated(dir)) await feedFile(name);
      for (;;) {
        changed = false;
        pos = await drain(fh, pos);
        if (!follow || stopped()) return;
        let now: number | undefined;
        try {
          now = (await stat(currentPath)).ino;
        } catch {
          now = undefined; // between the rename and the new current: wait for the next event
        }
        if (now !== undefined && now !== ino) {
          // why: rotation renamed our file to @<stamp>.s; finish it, then any file rotated
          // after it (several rotations may pass between two wakes), then the new current.
          // The new current is opened before the directory is listed: whatever was rotated
          // after ours and before it is then in the listing (a file holding the new current's
          // inode means it was rotated too: the listing stops there, the next turn goes on).
          pos = await drain(fh, pos);
          const next = await open(currentPath, 'r').catch(() => undefined);
          if (next === undefined) continue;
          const nextIno = (await next.stat()).ino;
          const names = await rotated(dir);
          const inodes = await Promise.all(names.map(async (n) => (await stat(join(dir, n)).catch(() => undefined))?.ino));
          const ours = inodes.lastIndexOf(ino);
          await fh.close();
          if (ours >= 0) {
            for (let i = ours + 1; i < names.length && inodes[i] !== nextIno; i++) await feedFile(names[i] as string);
          }
          fh = next;
          ino = nextIno;
          pos = 0;
          continue;
        }
        if (!changed) await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
      }
    } finally {
      await fh.close().catch(() => undefined);
    }
  };

  const producer = produce().then(
    () => lines.end(),
    (e: unknown) => lines.destroy(new ServiceError('ESTATUS', dir, `${dir}: unable to read the log: ${(e as Error).message}`, { cause: e })),
  );
  try {
    for await (const raw of lines as AsyncIterable<string>) {
      yield parseLogLine(raw);
      if (opts.signal?.aborted) break;
    }
  } finally {
    watcher?.close();
    opts.signal?.removeEventListener('abort', onAbort);
    if (!lines.destroyed) lines.destroy();
    kick();
    await producer;
  }
}
