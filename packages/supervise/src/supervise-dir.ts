// One supervise/ directory exactly as runsv keeps it (spec runit.md 2.1, 2.7): created 0700
// (through a symlink if it is one), a flock'd lock, the control and ok FIFOs held open for the
// supervisor's life, and status, stat, pid and tsv.json written atomically (name.new, then
// swapped in; name.new is kept as the next write's spare).
import { closeSync, lstatSync, mkdirSync, openSync, readlinkSync, constants as fsc } from 'node:fs';
import { Socket } from 'node:net';
import { dirname, isAbsolute, join } from 'node:path';
import { mkfifo, writeFiles, writeFilesSync, type WriteFileError } from '@tsv/native';
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
  /** the next write is the status file alone (statusOnlyNext) */
  private statusOnly = false;

  /** base: the service dir or its log/ dir; label: how messages name it ('' or 'log/'). */
  constructor(
    base: string,
    private readonly label: string,
  ) {
    this.path = join(base, SERVICE.supervise);
  }

  /** mkdir supervise 0700, following a symlink to its target as runsv does (one level); true
   * when supervise/ was made here, empty (nothing a dead supervisor left to look for in it). */
  makeDir(): boolean {
    try {
      mkdirSync(this.path, 0o700);
      return true;
    } catch (err) {
      if (errCode(err) !== 'EEXIST') {
        // why: runsv ignores the mkdir error and lets the lock open report the problem.
        return false;
      }
    }
    let target: string;
    try {
      target = readlinkSync(this.path);
    } catch (err) {
      const code = errCode(err);
      if (code === 'ENOENT' || code === 'EINVAL') return false;
      throw fatalFrom(`unable to readlink ${this.label}./supervise`, err);
    }
    try {
      // why: a relative link target is resolved from the directory holding the link.
      mkdirSync(isAbsolute(target) ? target : join(dirname(this.path), target), 0o700);
    } catch {
      // runsv ignores errors here (the target may exist already)
    }
    return false;
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
    const changed = this.changedFiles(files, pid);
    this.report(changed, writeFilesSync(...this.entries(changed)), files, pid, warn);
  }

  /** Write another file of supervise/ (schedule.json) atomically, as the status files. */
  writeFile(name: string, data: string, warn: WarnFn): boolean {
    const [err] = writeFilesSync(...this.entries([[name, data]]));
    if (err === null || err === undefined) return true;
    warn(this.failure(name, err));
    return false;
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

  /** Make the next write the status file alone. For a supervise/ made just now whose service
   * starts at once: the record a reader needs before ok exists is status (sv reads nothing
   * else), and the start's own write follows within the millisecond with pid, stat and tsv.json.
   * why: each file a start makes costs an inode; on ext4 each create skips every inode freed in
   * the minutes before, and the first write's three other files were replaced at once. */
  statusOnlyNext(): void {
    this.statusOnly = true;
  }

  /** Whether writes of this turn of the loop go to the thread pool (deferWrites). */
  get writesDeferred(): boolean {
    return this.deferNext;
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
      const changed = this.changedFiles(files, pid);
      const [dirFd, entries] = this.entries(changed);
      const results = await new Promise<Array<WriteFileError | null>>((resolve) => {
        try {
          writeFiles(dirFd, entries, resolve);
        } catch (err) {
          // why: nothing was queued (out of memory): every file failed to be made
          resolve(changed.map(() => Object.assign(err as WriteFileError, { step: 'open' as const })));
        }
      });
      this.report(changed, results, files, pid, warn);
    }
    this.flushing = undefined;
  }

  /** The [name, data] of a projection to write, in the order readers rely on (pid, stat,
   * tsv.json, status last): pid only when it changed (as runsv, an empty file when there is
   * none), stat only when its line changed. */
  private changedFiles(files: StatusFiles, pid: number): Array<[string, string | Buffer]> {
    if (this.statusOnly) {
      this.statusOnly = false;
      return [[SUPERVISE.status, files.status]];
    }
    const out: Array<[string, string | Buffer]> = [];
    if (pid !== this.lastPid) out.push([SUPERVISE.pid, files.pid]);
    if (files.stat !== this.lastStat) out.push([SUPERVISE.stat, files.stat]);
    out.push([SUPERVISE.extra, files.extra], [SUPERVISE.status, files.status]);
    return out;
  }

  /** The addon's arguments for writing each [name, data] as name.new swapped in for name.
   *
   * Why a swap and a spare rather than a new file renamed over the old one: on ext4 each create
   * scans the inodes freed in the last minutes and each rename over a file frees one, which made
   * these writes most of tsvscan's CPU in a crash storm. The swap (RENAME_EXCHANGE) leaves the
   * old file as name.new, and the next write rewrites that spare in place, but only when no one
   * else has it open (the addon's write lease): a reader never sees a file it opened change,
   * exactly as with a new file. When the spare is held open, missing, or anything but our own
   * plain file, it is replaced by a new file (never written through: a symlink stays untouched). */
  private entries(named: Array<[string, string | Buffer]>): [number, Array<[string, string, string | Buffer]>] {
    const dirFd = this.at(SUPERVISE.status)[1] ?? AT_FDCWD;
    return [dirFd, named.map(([name, data]) => [this.at(name + SUPERVISE.newSuffix)[0], this.at(name)[0], data])];
  }

  /** Warn of each file that failed; remember the pid and stat that were written. */
  private report(changed: Array<[string, string | Buffer]>, results: Array<WriteFileError | null>, files: StatusFiles, pid: number, warn: WarnFn): void {
    changed.forEach(([name], i) => {
      const err = results[i];
      if (err !== null && err !== undefined) warn(this.failure(name, err));
      else if (name === SUPERVISE.pid) this.lastPid = pid;
      else if (name === SUPERVISE.stat) this.lastStat = files.stat;
    });
  }

  /** The warning for a file whose write failed: `unable to open supervise/status.new: ...`. */
  private failure(name: string, err: WriteFileError): string {
    return `unable to ${err.step} ${this.label}supervise/${name}${SUPERVISE.newSuffix}: ${errstr(err)}`;
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
