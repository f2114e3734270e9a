// One log directory: lock, config, `current`, rotation, pruning, the processor, and a queue of
// pending operations that is retried (never dropped) when the file system says no.
import type dgram from 'node:dgram';
import { createRequire } from 'node:module';
import {
  closeSync,
  constants,
  fchmodSync,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  openSync,
  readFileSync,
  readSync,
  readdirSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
  chmodSync,
  existsSync,
} from 'node:fs';
import { join, resolve } from 'node:path';
import { errCode, errstr, LOGDIR } from '@tsv/core';
import { funlock } from '@tsv/native';
import { openLocked } from '@tsv/os';
import { OutputBatch, type Op } from './batch.js';
import { defaultConfig, parseConfig, type DirConfig } from './config.js';
import { runProcessor } from './processor.js';
import { nowMicros, tai64nText } from './stamp.js';

/** What a log directory needs from the logger around it. */
export interface DirContext {
  /** print one diagnostic line (`tsvlog: warning: ...`) */
  warn(line: string): void;
  /** -v level */
  verbose: number;
  /** -l */
  lineMax: number;
  /** pause before retrying a failed operation (ms) */
  retryMs: number;
  /** called when a queue that was stuck has drained, or new work was queued outside a read */
  kick(): void;
}

const EMPTY_BUF = Buffer.alloc(0);

/** Matches rotated file names: `@` + 24 hex + `.` + one letter (27 characters). */
const OLD_NAME = /^@[0-9a-f]{24}\.[a-z]$/;

/** Open path with flags, fsync it and close it (throws on failure). */
function fsyncPath(path: string, flags: number): void {
  const fd = openSync(path, flags);
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Is this error "the disk is full"? */
function isFull(e: unknown): boolean {
  const c = errCode(e);
  return c === 'ENOSPC' || c === 'EDQUOT';
}

/** A log directory and everything tsvlog does in it. */
export class LogDir {
  /** absolute path */
  readonly path: string;
  config: DirConfig = defaultConfig();
  /** open and locked */
  active = false;
  /** the line in progress is written here (decided at its head by the selection) */
  lineSelected = true;
  private lockFd = -1;
  private curFd = -1;
  /** an unlinked `current` (dir or file removed under us), copied into the new current */
  private orphanFd = -1;
  private readonly ops: Op[] = [];
  /** the output of the read batch in progress */
  readonly batch: OutputBatch;
  private retryTimer: NodeJS.Timeout | undefined;
  private pausedWhat = '';
  private rotateTimer: NodeJS.Timeout | undefined;
  private rotName: string | undefined;
  private rotSize = 0;
  private procRunning: Promise<void> | undefined;
  private procName: string | undefined;
  private rotateWanted = false;
  /** the logger is finishing: a failed processor is not restarted */
  private closing = false;
  private udp: dgram.Socket | undefined;

  /** name: as given on the command line (used in messages); cwd resolves it. */
  constructor(readonly name: string, cwd: string, private readonly ctx: DirContext) {
    this.path = resolve(cwd, name);
    this.batch = new OutputBatch(this.ops, ctx.lineMax);
  }

  /** Is anything waiting to be done (writes, rotations)? */
  get busy(): boolean {
    return this.ops.length > 0;
  }

  /** Full path of a file in the directory. */
  private file(f: string): string {
    return join(this.path, f);
  }

  /** `-v` message. */
  private info(msg: string): void {
    if (this.ctx.verbose > 0) this.ctx.warn(`tsvlog: info: ${msg}`);
  }

  /** Open the directory (svlogd §2): lock, read config, repair a leftover current, open
   * current. Returns false (after a warning) when the directory cannot be used. */
  open(): boolean {
    try {
      const st = statSync(this.path);
      if (!st.isDirectory()) {
        this.ctx.warn(`tsvlog: warning: unable to change directory: ${this.name}: not a directory`);
        return false;
      }
    } catch (e) {
      this.ctx.warn(`tsvlog: warning: unable to open log directory: ${this.name}: ${errstr(e)}`);
      return false;
    }
    try {
      this.lockFd = this.takeLock();
    } catch (e) {
      this.ctx.warn(`tsvlog: warning: unable to lock directory: ${this.name}: ${errstr(e)}`);
      this.lockFd = -1;
      return false;
    }
    this.readConfig();
    this.repairCurrent();
    this.active = true;
    this.batch.size = 0;
    try {
      this.openCurrent();
      // The logical size (what current will hold once queued writes are done) starts here;
      // later it is counted as lines are queued, never re-read (queued bytes are not in it yet).
      this.batch.size = fstatSync(this.curFd).size;
    } catch (e) {
      // Not fatal: the first write retries (with a pause) until current can be opened.
      this.ctx.warn(`tsvlog: pausing: unable to open current: ${this.name}: ${errstr(e)}`);
    }
    this.armTimer();
    return true;
  }

  /** Reset to defaults and read `config`; malformed lines are reported and skipped. */
  private readConfig(): void {
    let text: Buffer | undefined;
    try {
      text = readFileSync(this.file(LOGDIR.config));
      this.info(`read: ${this.name}/config`);
    } catch (e) {
      if (errCode(e) !== 'ENOENT') this.ctx.warn(`tsvlog: warning: unable to read config: ${this.name}/config: ${errstr(e)}`);
    }
    const { config, warnings } = text === undefined ? { config: defaultConfig(), warnings: [] } : parseConfig(text);
    for (const w of warnings) this.ctx.warn(`tsvlog: warning: bad config ${this.name}/config: ${w}`);
    this.config = config;
    this.batch.configure(config.size, Buffer.from(config.prefix, 'latin1'));
    this.udp?.close();
    this.udp = undefined;
    if (config.udp) {
      // Loaded on first use: most log dirs never send UDP, and start-up time counts.
      const dg = createRequire(import.meta.url)('node:dgram') as typeof dgram;
      this.udp = dg.createSocket('udp4');
      this.udp.on('error', (e) => this.ctx.warn(`tsvlog: warning: failure sending through udp: ${this.name}: ${errstr(e)}`));
      this.udp.unref();
    }
  }

  /** A non-empty current without the owner-x bit was not closed cleanly: it becomes `@now.u`. */
  private repairCurrent(): void {
    try {
      const st = statSync(this.file(LOGDIR.current));
      if (st.size > 0 && (st.mode & 0o100) === 0) {
        const name = this.newName('u');
        renameSync(this.file(LOGDIR.current), this.file(name));
        this.syncDir();
        this.info(`rename: ${this.name}/current ${name} ${st.size}`);
        this.prune();
      }
    } catch (e) {
      if (errCode(e) !== 'ENOENT') this.ctx.warn(`tsvlog: warning: unable to repair current: ${this.name}: ${errstr(e)}`);
    }
  }

  /** Open current for appending (mode 0644), copying in an orphaned current first. */
  private openCurrent(quiet = false): void {
    const p = this.file(LOGDIR.current);
    const existed = existsSync(p);
    // O_RDWR, not O_WRONLY: if the file is unlinked under us we can still read it back.
    const fd = openSync(p, constants.O_RDWR | constants.O_APPEND | constants.O_CREAT, 0o644);
    try {
      fchmodSync(fd, 0o644);
      if (this.orphanFd >= 0) this.adoptOrphan(fd);
    } catch (e) {
      closeSync(fd);
      throw e;
    }
    this.curFd = fd;
    if (!quiet) this.info(`${existed ? 'append' : 'new'}: ${this.name}/current`);
    this.relock();
  }

  /** Copy the content of the unlinked current into the fresh one (nothing is lost). */
  private adoptOrphan(fd: number): void {
    const buf = Buffer.allocUnsafe(65536);
    let pos = 0;
    for (;;) {
      const n = readSync(this.orphanFd, buf, 0, buf.length, pos);
      if (n === 0) break;
      let off = 0;
      while (off < n) off += writeSync(fd, buf, off, n - off);
      pos += n;
    }
    closeSync(this.orphanFd);
    this.orphanFd = -1;
  }

  /** Open the lock file and take an exclusive non-blocking flock on it; returns the fd (closed
   * again when the lock is refused, then throws). */
  private takeLock(): number {
    return openLocked(this.file(LOGDIR.lock), { nonblockOpen: true });
  }

  /** If the lock file was removed with the directory, lock the new one. */
  private relock(): void {
    if (this.lockFd >= 0 && fstatSync(this.lockFd).nlink > 0) return;
    try {
      const fd = this.takeLock();
      if (this.lockFd >= 0) closeSync(this.lockFd);
      this.lockFd = fd;
    } catch (e) {
      this.ctx.warn(`tsvlog: warning: unable to lock directory: ${this.name}: ${errstr(e)}`);
    }
  }

  /** fsync the directory itself, so a rename survives a crash. */
  private syncDir(): void {
    fsyncPath(this.path, constants.O_RDONLY | constants.O_DIRECTORY);
  }

  /** An unused rotated name `@<tai64n now>.<suffix>` (a new stamp while the name exists). */
  private newName(suffix: string): string {
    let us = nowMicros();
    for (;;) {
      const name = `${tai64nText(us)}.${suffix}`;
      if (!existsSync(this.file(name))) return name;
      us++;
    }
  }

  /** (Re)start the `t` timer: age is measured from the last rotation or config read. */
  private armTimer(): void {
    if (this.rotateTimer) clearTimeout(this.rotateTimer);
    this.rotateTimer = undefined;
    if (!this.active || this.config.timeout <= 0) return;
    this.rotateTimer = setTimeout(() => {
      this.rotateTimer = undefined;
      this.rotateNow();
    }, Math.min(this.config.timeout * 1000, 2 ** 31 - 1));
    this.rotateTimer.unref();
  }

  /** Queue a rotation now (ALRM, `t`), if current is not empty (force: let the rotation
   * itself look at the file, e.g. after a delayed rotation). */
  rotateNow(force = false): void {
    if (!this.active) return;
    this.batch.cut();
    if (force || this.batch.size > 0 || this.rotName !== undefined) {
      this.ops.push({ k: 'rotate' });
      this.batch.size = 0;
    } else this.armTimer();
    this.ctx.kick();
  }

  /** Queue a close and reopen (HUP: re-read config). */
  queueReopen(): void {
    this.batch.cut();
    this.ops.push({ k: 'reopen' });
  }

  /** Queue the final close (flush, fsync, chmod 0744, unlock). */
  queueClose(): void {
    this.closing = true;
    this.batch.cut();
    this.ops.push({ k: 'close' });
  }

  /** The alert / UDP form of a line head: stamp, prefix, first bytes, `...` if long. */
  alertText(stamp: Buffer, first: Buffer, long: boolean): Buffer {
    return Buffer.concat([this.batch.head(stamp), first, long ? Buffer.from('...\n') : Buffer.from('\n')]);
  }

  /** Send a line by UDP (`u` / `U`). */
  sendUdp(text: Buffer): void {
    const u = this.config.udp;
    if (u && this.udp) this.udp.send(text, u.port, u.host);
  }

  // ---- executing the queue ----

  /** Do queued operations in order. Returns true when the queue is empty; on a failure warns,
   * schedules a retry after a pause and returns false (the caller stops reading meanwhile). */
  drain(): boolean {
    if (this.retryTimer) return false;
    while (this.ops.length > 0) {
      const op = this.ops[0] as Op;
      try {
        this.exec(op);
        this.ops.shift();
        this.pausedWhat = '';
      } catch (e) {
        if (op.k === 'write' && isFull(e) && this.deleteForSpace()) continue;
        const what = op.k === 'write' ? (this.curFd < 0 ? 'unable to open current' : 'unable to write current') : op.k === 'rotate' ? 'unable to rotate current' : 'unable to reopen';
        const msg = `tsvlog: pausing: ${what}: ${this.name}: ${errstr(e)}`;
        // Warn once per distinct failure, not every retry.
        if (msg !== this.pausedWhat) this.ctx.warn(msg);
        this.pausedWhat = msg;
        this.retryTimer = setTimeout(() => {
          this.retryTimer = undefined;
          if (this.drain()) this.ctx.kick();
        }, this.ctx.retryMs);
        return false;
      }
    }
    return true;
  }

  /** Run one operation (throws on failure; safe to retry). */
  private exec(op: Op): void {
    if (op.k === 'write') {
      if (this.curFd < 0) this.openCurrent();
      const whole = op.buf;
      let done = 0;
      try {
        while (done < whole.length) done += writeSync(this.curFd, whole, done, whole.length - done);
      } catch (e) {
        // A line is written whole or not yet: a full disk accepts the first bytes of a write
        // and refuses the rest, which would leave half a line in current (and a torn line
        // for good if TERM or KILL came before space did). Cut current back to the last
        // complete line of this write and retry from there.
        op.buf = whole.subarray(this.keepWhole(whole, done));
        throw e;
      }
      op.buf = EMPTY_BUF;
      // The directory (or current) was removed under us: what went into the unlinked file
      // would be lost, so keep it and copy it into a new current once the dir exists again.
      if (fstatSync(this.curFd).nlink === 0) {
        this.ctx.warn(`tsvlog: warning: current was removed: ${this.name}`);
        if (this.orphanFd >= 0) closeSync(this.orphanFd);
        this.orphanFd = this.curFd;
        this.curFd = -1;
        this.openCurrent();
      }
    } else if (op.k === 'rotate') this.rotate();
    else if (op.k === 'reopen') {
      this.closeFiles();
      this.open();
    } else this.closeFiles();
  }

  /** After a write of whole[0, done) failed: truncate current so it ends at the last newline
   * of that part (or where the write began), and return how many bytes of whole remain done. */
  private keepWhole(whole: Buffer, done: number): number {
    if (done === 0) return 0;
    const nl = whole.lastIndexOf(10, done - 1);
    const keep = nl + 1;
    if (keep === done) return done;
    try {
      // why: O_APPEND writes land at the end, so the torn tail is the file's last done-keep bytes.
      ftruncateSync(this.curFd, fstatSync(this.curFd).size - (done - keep));
      return keep;
    } catch {
      // Cannot cut it back: keep going from where the write stopped (the line is then resumed).
      return done;
    }
  }

  /** Rotation (svlogd §5), resumable after a failure at any step. */
  private rotate(): void {
    if (this.procRunning) {
      // svlogd would block here until the processor ends; tsvlog keeps logging into current
      // and rotates as soon as the processor is done.
      if (!this.rotateWanted) this.ctx.warn(`tsvlog: warning: processor still running, rotation delayed: ${this.name}`);
      this.rotateWanted = true;
      return;
    }
    if (this.curFd >= 0) {
      if (fstatSync(this.curFd).size === 0) {
        this.armTimer();
        return;
      }
      fsyncSync(this.curFd);
      // Owner-x bit: "complete" (svlogd's mark of a cleanly closed file).
      fchmodSync(this.curFd, 0o744);
      this.rotSize = fstatSync(this.curFd).size;
      this.rotName ??= this.newName(this.config.processor ? 'u' : 's');
      closeSync(this.curFd);
      this.curFd = -1;
    }
    if (this.rotName !== undefined) {
      try {
        renameSync(this.file(LOGDIR.current), this.file(this.rotName));
      } catch (e) {
        // Already renamed by an earlier attempt that failed later.
        if (!(errCode(e) === 'ENOENT' && existsSync(this.file(this.rotName)))) throw e;
      }
      this.syncDir();
      this.info(`rename: ${this.name}/current ${this.rotName} ${this.rotSize}`);
    }
    this.openCurrent(true);
    const done = this.rotName;
    this.rotName = undefined;
    this.prune();
    if (done?.endsWith('.u') && this.config.processor) this.startProcessor(done);
    this.armTimer();
  }

  /** Old files, oldest first: [name, ...]. */
  private oldFiles(): string[] {
    return readdirSync(this.path).filter((n) => OLD_NAME.test(n)).sort();
  }

  /** Delete leftover `.t` files and the oldest `.s`/`.u` when more than n remain. */
  private prune(): void {
    try {
      const names = this.oldFiles();
      let count = 0;
      for (const n of names) {
        if (n.endsWith('.t') && n !== this.tName()) this.remove(n);
        else if (n.endsWith('.s') || n.endsWith('.u')) count++;
      }
      const n = this.config.num;
      if (n > 0 && count > n) {
        const oldest = names.find((x) => (x.endsWith('.s') || x.endsWith('.u')) && x !== this.procName);
        if (oldest) this.remove(oldest);
      }
    } catch (e) {
      this.ctx.warn(`tsvlog: warning: unable to prune: ${this.name}: ${errstr(e)}`);
    }
  }

  /** The `.t` the running processor writes. */
  private tName(): string | undefined {
    return this.procName === undefined ? undefined : `${this.procName.slice(0, -1)}t`;
  }

  /** Delete one old file. */
  private remove(n: string): void {
    unlinkSync(this.file(n));
    this.info(`delete: ${this.name}/${n}`);
  }

  /** Disk full: with N < n, delete the oldest old file while more than N remain. */
  private deleteForSpace(): boolean {
    const { num, min } = this.config;
    if (!(min < num)) return false;
    try {
      const olds = this.oldFiles().filter((x) => (x.endsWith('.s') || x.endsWith('.u')) && x !== this.procName);
      if (olds.length <= min) return false;
      const oldest = olds[0] as string;
      unlinkSync(this.file(oldest));
      this.ctx.warn(`tsvlog: warning: out of disk space, delete: ${this.name}/${oldest}`);
      return true;
    } catch {
      return false;
    }
  }

  /** Run the processor on @X.u; on success @X.t becomes @X.s and newstate becomes state; on
   * failure it runs again on the same @X.u (after a pause). */
  private startProcessor(uName: string): void {
    const cmd = this.config.processor;
    this.procName = uName;
    this.info(`processing: ${this.name}/${uName}`);
    const attempt = async (): Promise<boolean> => {
      for (;;) {
        let ok = false;
        try {
          const { ended } = runProcessor(this.path, uName, cmd);
          ok = (await ended).ok;
          if (ok) this.finishProcessed(uName);
        } catch (e) {
          this.ctx.warn(`tsvlog: warning: unable to run processor: ${this.name}: ${errstr(e)}`);
          ok = false;
        }
        if (ok) return true;
        try {
          unlinkSync(this.file(`${uName.slice(0, -1)}t`));
        } catch {
          // already gone
        }
        if (this.closing) {
          // svlogd would restart it forever and never exit; the .u stays for a later run.
          this.ctx.warn(`tsvlog: warning: processor failed, left for later: ${this.name}/${uName}`);
          return false;
        }
        this.ctx.warn(`tsvlog: warning: processor failed, restart: ${this.name}`);
        // svlogd restarts at once; a pause keeps a failing processor from spinning.
        await new Promise((r) => setTimeout(r, this.ctx.retryMs));
        if (this.closing) return false;
      }
    };
    this.procRunning = attempt().then((ok) => {
      this.procRunning = undefined;
      this.procName = undefined;
      if (ok) this.info(`processed: ${this.name}/${uName.slice(0, -1)}s`);
      if (this.rotateWanted) {
        this.rotateWanted = false;
        if (this.active) this.rotateNow(true);
      }
    });
  }

  /** After a successful processor: @X.t → @X.s (synced, 0744), drop @X.u, newstate → state. */
  private finishProcessed(uName: string): void {
    const base = uName.slice(0, -1);
    fsyncPath(this.file(`${base}t`), constants.O_RDONLY);
    chmodSync(this.file(`${base}t`), 0o744);
    renameSync(this.file(`${base}t`), this.file(`${base}s`));
    unlinkSync(this.file(uName));
    renameSync(this.file(LOGDIR.newstate), this.file(LOGDIR.state));
    this.syncDir();
  }

  /** Wait for a running processor (used at exit). */
  async processorDone(): Promise<void> {
    while (this.procRunning) await this.procRunning;
  }

  /** Close: fsync current, chmod 0744 (complete), close, unlock (throws: retried). */
  private closeFiles(): void {
    if (this.curFd >= 0) {
      fsyncSync(this.curFd);
      fchmodSync(this.curFd, 0o744);
      closeSync(this.curFd);
      this.curFd = -1;
    }
    if (this.lockFd >= 0) {
      try {
        funlock(this.lockFd);
      } catch {
        // closing releases it anyway
      }
      closeSync(this.lockFd);
      this.lockFd = -1;
    }
    if (this.rotateTimer) clearTimeout(this.rotateTimer);
    this.rotateTimer = undefined;
    this.udp?.close();
    this.udp = undefined;
    this.active = false;
    this.info(`close: ${this.name}`);
  }

  /** Drop every pending retry timer (the logger is being abandoned). */
  cancelRetry(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }
}
