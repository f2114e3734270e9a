// One supervise/ directory exactly as runsv keeps it (spec runit.md 2.1, 2.7): created 0700
// (through a symlink if it is one), a flock'd lock, the control and ok FIFOs held open for the
// supervisor's life, and status, stat, pid and tsv.json written atomically (name.new, then
// swapped in; name.new is kept as the next write's spare).
import { closeSync, lstatSync, mkdirSync, openSync, readlinkSync, unlinkSync, writeFileSync, constants as fsc } from 'node:fs';
import { Socket } from 'node:net';
import { dirname, isAbsolute, join } from 'node:path';
import { mkfifo, renameExchange, writeFiles, writeSpare, type WriteFileError } from '@tsv/native';
import { LockError, openDirPath, openLocked } from '@tsv/os';
import { errCode, errstr, fatalFrom, SERVICE, type StatusFiles, SUPERVISE } from '@tsv/core';

/** How a status write failed (reported by the owner as a warning). */
export type WarnFn = (message: string) => void;

/** openat's "no directory fd": names are paths. */
const AT_FDCWD = -100;

/** supervise/ of the service (label '') or of its logger (label 'log/'). */
export class SuperviseDir {
  /** absolute path of supervise/ */
  readonly path: string;
  private lockFd = -1;
  /** supervise/ itself, opened at the first write: the spare's rewrite and the swap name files
   * relative to it (tsvscan's paths go through /proc/self/fd/N, a path walk per call) */
  private dirFd: number | undefined;
  private okFd = -1;
  private control: Socket | null = null;
  private lastPid: number | null = null;
  /** the stat line last written (a crash and its respawn leave it `run`: not written again) */
  private lastStat: string | null = null;
  /** the next write goes to the thread pool (deferWrites) */
  private deferNext = false;
  /** the newest projection waiting for the thread pool (older ones are superseded) */
  private pending: { files: StatusFiles; pid: number; warn: WarnFn } | undefined;
  /** the running asynchronous write sequence, until nothing is pending */
  private flushing: Promise<void> | undefined;

  /** base: the service dir or its log/ dir; label: how messages name it ('' or 'log/'). */
  constructor(
    base: string,
    private readonly label: string,
  ) {
    this.path = join(base, SERVICE.supervise);
  }

  /** mkdir supervise 0700, following a symlink to its target as runsv does (one level). */
  makeDir(): void {
    try {
      mkdirSync(this.path, 0o700);
      return;
    } catch (err) {
      if (errCode(err) !== 'EEXIST') {
        // why: runsv ignores the mkdir error and lets the lock open report the problem.
        return;
      }
    }
    let target: string;
    try {
      target = readlinkSync(this.path);
    } catch (err) {
      const code = errCode(err);
      if (code === 'ENOENT' || code === 'EINVAL') return;
      throw fatalFrom(`unable to readlink ${this.label}./supervise`, err);
    }
    try {
      // why: a relative link target is resolved from the directory holding the link.
      mkdirSync(isAbsolute(target) ? target : join(dirname(this.path), target), 0o700);
    } catch {
      // runsv ignores errors here (the target may exist already)
    }
  }

  /** Open supervise/lock and take an exclusive non-blocking flock (runsv's message on failure). */
  lock(): void {
    const name = `${this.label}supervise/lock`;
    try {
      this.lockFd = openLocked(join(this.path, SUPERVISE.lock));
    } catch (err) {
      this.lockFd = -1;
      if (!(err instanceof LockError)) throw err;
      throw fatalFrom(`unable to ${err.step} ${name}`, err.cause);
    }
  }

  /** Create the control FIFO and start reading it; bytes go to onBytes in order. */
  openControl(onBytes: (chunk: Buffer) => void, onError: (err: unknown) => void): void {
    const fd = this.fifo(SUPERVISE.control, fsc.O_RDWR | fsc.O_NONBLOCK);
    // why: O_RDWR keeps a writer open (never EOF) and O_NONBLOCK never blocks; net.Socket
    // polls the FIFO with epoll instead of tying up a libuv threadpool thread.
    const sock = new Socket({ fd, readable: true, writable: false });
    sock.on('data', onBytes);
    sock.on('error', onError);
    this.control = sock;
  }

  /** Create the ok FIFO and hold a reader on it: what makes sv consider the supervisor alive. */
  openOk(): void {
    this.okFd = this.fifo(SUPERVISE.ok, fsc.O_RDONLY | fsc.O_NONBLOCK);
  }

  /** Create the stderr FIFO and open it twice: a non-blocking fd to read it, and the fd the
   * service's processes get as their stderr. Both read-write, for two reasons: the reader never
   * sees EOF between runs, and a child's fd 2 is itself a reader, so a service that outlives a
   * SIGKILLed supervisor can still write its stderr (up to the FIFO's 64 KiB; the next
   * supervisor opens the same FIFO and reads the backlog) instead of dying of SIGPIPE, as it
   * would on a pipe whose only reader died. */
  openStderr(): { readFd: number; writeFd: number } {
    const readFd = this.fifo(SUPERVISE.stderr, fsc.O_RDWR | fsc.O_NONBLOCK);
    try {
      return { readFd, writeFd: openSync(join(this.path, SUPERVISE.stderr), fsc.O_RDWR) };
    } catch (err) {
      closeSync(readFd);
      throw fatalFrom(`unable to open ${this.label}supervise/${SUPERVISE.stderr}`, err);
    }
  }

  /** mkfifo name 0600 (an existing FIFO is fine, anything else is fatal) and open it. */
  private fifo(name: string, flags: number): number {
    const p = join(this.path, name);
    const shown = `${this.label}supervise/${name}`;
    try {
      mkfifo(p, 0o600);
    } catch (err) {
      if (errCode(err) !== 'EEXIST') throw fatalFrom(`unable to mkfifo ${shown}`, err);
      let isFifo = false;
      try {
        isFifo = lstatSync(p).isFIFO();
      } catch {
        isFifo = false;
      }
      if (!isFifo) throw fatalFrom(`unable to mkfifo ${shown}`, err);
    }
    try {
      return openSync(p, flags);
    } catch (err) {
      throw fatalFrom(`unable to open ${shown}`, err);
    }
  }

  /** Write the four files of one projection, each atomically (name.new, then swapped in).
   *
   * Why readers never have to reconcile them: each swap replaces a whole file at once, so a
   * reader sees one version of each file, never a mix; and the order is pid, stat, tsv.json, then
   * status last (as runsv does: a reader that saw `status` change finds pid and stat at least as
   * new). tsv.json carries the very 20 bytes of the status it was projected with, so a reader of
   * tsv.json (tsvctl) takes runit's record from that one file and needs no second read to agree
   * with; a reader of `status` alone (sv) needs nothing else. Because tsv.json is swapped in before
   * status, it is never older than the status file a reader saw before opening it. */
  writeStatus(files: StatusFiles, pid: number, warn: WarnFn): void {
    // why: while an asynchronous write is under way, a synchronous one could be overtaken by its
    // renames (an older status replacing a newer): queue behind it, the newest projection only.
    if (this.deferNext || this.flushing !== undefined) {
      this.deferNext = false;
      this.pending = { files, pid, warn };
      this.flushing ??= this.drain();
      return;
    }
    if (pid !== this.lastPid) {
      // why: runsv writes pid only when it changed, and an empty file when there is none.
      if (this.atomic(SUPERVISE.pid, files.pid, warn)) this.lastPid = pid;
    }
    if (files.stat !== this.lastStat && this.atomic(SUPERVISE.stat, files.stat, warn)) this.lastStat = files.stat;
    this.atomic(SUPERVISE.extra, files.extra, warn);
    this.atomic(SUPERVISE.status, files.status, warn);
  }

  /** Write another file of supervise/ (schedule.json) atomically, as the status files. */
  writeFile(name: string, data: string, warn: WarnFn): boolean {
    return this.atomic(name, data, warn);
  }

  /** Hand the next writeStatus (and those made before it is done) to libuv's thread pool.
   *
   * Why: a start writes the four files twice (the initial status, then the running one), each a
   * create and a rename of about 0.2 ms on ext4, and much more on a busy disk; done synchronously
   * for 1000 services in one tsvscan that is seconds of the event loop during which no other
   * service is set up or spawned (the profile of a 1000-service start: 22 of 30 s in these
   * writes). In the thread pool they run beside the loop, and a projection superseded while one
   * is being written is never written at all. Later writes (a crash and its respawn) stay
   * synchronous: one burst, one write, no extra turns of the loop. */
  deferWrites(): void {
    this.deferNext = true;
    // why: only for writes of this turn of the loop (the start's own): a start that writes
    // nothing (a service with a down file) must not leave a later change deferred behind it.
    setImmediate(() => {
      this.deferNext = false;
    });
  }

  /** Resolves when every projection given to writeStatus is on disk (or warned about): before
   * the ok FIFO is created (a reader that finds ok finds status, as runsv guarantees) and before
   * the lock is released. */
  flushed(): Promise<void> {
    return this.flushing ?? Promise.resolve();
  }

  /** Write pending projections in the thread pool, the newest only, until none is left. */
  private async drain(): Promise<void> {
    while (this.pending !== undefined) {
      const { files, pid, warn } = this.pending;
      this.pending = undefined;
      // why: the order of the synchronous write (pid, stat, tsv.json, status last), each file
      // only where the synchronous write would write it, all in one job of the thread pool.
      const todo: Array<[string, string | Buffer]> = [];
      if (pid !== this.lastPid) todo.push([SUPERVISE.pid, files.pid]);
      if (files.stat !== this.lastStat) todo.push([SUPERVISE.stat, files.stat]);
      todo.push([SUPERVISE.extra, files.extra], [SUPERVISE.status, files.status]);
      const results = await this.writeAll(todo);
      todo.forEach(([name], i) => {
        const err = results[i];
        if (err !== null && err !== undefined) {
          warn(`unable to ${err.step} ${this.label}supervise/${name}${SUPERVISE.newSuffix}: ${errstr(err)}`);
          return;
        }
        if (name === SUPERVISE.pid) this.lastPid = pid;
        else if (name === SUPERVISE.stat) this.lastStat = files.stat;
      });
    }
    this.flushing = undefined;
  }

  /** Every [name, data] written as atomic() writes it, in one trip to the thread pool; each
   * file's error or null. */
  private writeAll(todo: Array<[string, string | Buffer]>): Promise<Array<WriteFileError | null>> {
    const entries = todo.map(([name, data]): [string, string, string | Buffer] => {
      const [tmp] = this.at(name + SUPERVISE.newSuffix);
      return [tmp, this.at(name)[0], data];
    });
    const dirFd = this.at(SUPERVISE.status)[1] ?? AT_FDCWD;
    return new Promise((resolve) => {
      try {
        writeFiles(dirFd, entries, resolve);
      } catch (err) {
        // why: nothing was queued (out of memory): every file failed to be made
        resolve(todo.map(() => Object.assign(err as WriteFileError, { step: 'open' as const })));
      }
    });
  }

  /** Write name.new and swap it in for name; false (after a warning) when that failed.
   *
   * Why a swap and a spare rather than a new file renamed over the old one: on ext4 each create
   * scans the inodes freed in the last minutes and each rename over a file frees one, which made
   * these writes most of tsvscan's CPU in a crash storm. The swap (RENAME_EXCHANGE) leaves the
   * old file as name.new, and the next write rewrites that spare in place, but only when no one
   * else has it open (writeSpare's lease): a reader never sees a file it opened change, exactly
   * as with a new file. When the spare is held open, missing, or anything but our own plain
   * file, it is replaced by a new file (never written through: a symlink stays untouched). */
  private atomic(name: string, data: string | Buffer, warn: WarnFn): boolean {
    const tmp = join(this.path, name + SUPERVISE.newSuffix);
    const spare = this.rewriteSpare(name, data, warn);
    if (spare !== undefined) return spare && this.swapIn(name, warn);
    try {
      // why create first: in a new supervise/ there is nothing to unlink, and a failed unlink
      // is an exception (a stack captured) per file
      try {
        writeFileSync(tmp, data, { mode: 0o644, flag: 'wx' });
      } catch (err) {
        if (errCode(err) !== 'EEXIST') throw err;
        unlinkSync(tmp);
        writeFileSync(tmp, data, { mode: 0o644, flag: 'wx' });
      }
    } catch (err) {
      warn(`unable to open ${this.label}supervise/${name}${SUPERVISE.newSuffix}: ${errstr(err)}`);
      return false;
    }
    return this.swapIn(name, warn);
  }

  /** Rewrite the spare name.new in place: true when written, false after a warning when the
   * write failed, undefined when there is no spare it may write (a new file is needed). */
  private rewriteSpare(name: string, data: string | Buffer, warn: WarnFn): boolean | undefined {
    try {
      const [path, dirFd] = this.at(name + SUPERVISE.newSuffix);
      return writeSpare(path, data, dirFd) ? true : undefined;
    } catch (err) {
      warn(`unable to write ${this.label}supervise/${name}${SUPERVISE.newSuffix}: ${errstr(err)}`);
      return false;
    }
  }

  /** Swap name.new in for name (a rename where there is nothing to swap with); false after a
   * warning when that failed. */
  private swapIn(name: string, warn: WarnFn): boolean {
    try {
      const [tmp, dirFd] = this.at(name + SUPERVISE.newSuffix);
      const [p] = this.at(name);
      // why no check of the result: where it was a rename (no name to swap with yet, or a
      // filesystem that cannot exchange) there is no spare, and the next write makes a file.
      renameExchange(tmp, p, dirFd);
    } catch (err) {
      warn(`unable to rename ${this.label}supervise/${name}${SUPERVISE.newSuffix}: ${errstr(err)}`);
      return false;
    }
    return true;
  }

  /** How the addon names a file of supervise/: relative to the directory's fd, or by its path
   * where the directory could not be opened. */
  private at(file: string): [string, number | undefined] {
    if (this.dirFd === undefined) {
      try {
        this.dirFd = openDirPath(this.path);
      } catch {
        this.dirFd = -1;
      }
    }
    return this.dirFd >= 0 ? [file, this.dirFd] : [join(this.path, file), undefined];
  }

  /** Close every fd (the FIFOs stay on disk, as runsv leaves them); releases the lock. */
  close(): void {
    this.control?.destroy();
    this.control = null;
    for (const fd of [this.okFd, this.lockFd, this.dirFd ?? -1]) {
      if (fd >= 0) {
        try {
          closeSync(fd);
        } catch {
          // already closed
        }
      }
    }
    this.okFd = -1;
    this.lockFd = -1;
    // why -1, not undefined: a write after close (a last warning's status) goes by path and
    // opens no fd that nothing would close.
    this.dirFd = -1;
  }
}
