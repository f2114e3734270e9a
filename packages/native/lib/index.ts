// Typed face of the tsv N-API addon: the Unix calls Node lacks. Every function throws a
// Node-style error (code, errno, syscall, path) on failure, like node:fs does.
import { createRequire } from 'node:module';

/** Resource numbers accepted by getrlimit/setrlimit. */
export interface RlimitResources {
  readonly AS: number;
  readonly CORE: number;
  readonly CPU: number;
  readonly DATA: number;
  readonly FSIZE: number;
  readonly MEMLOCK: number;
  readonly NOFILE: number;
  readonly NPROC: number;
  readonly RSS: number;
  readonly STACK: number;
}

/** A resource limit; Infinity stands for RLIM_INFINITY. */
export interface Rlimit {
  soft: number;
  hard: number;
}

/** What waitpid reaped. */
export interface Reaped {
  pid: number;
  code: number | null;
  signal: number | null;
  core: boolean;
  raw: number;
}

/** An edge watcher made by watchEdges (opaque). */
export type EdgeWatch = { readonly __edgeWatch: unique symbol };
/** An exited child seen by waitidPeek, not reaped. */
export interface Peeked {
  pid: number;
  code: number | null;
  signal: number | null;
}

/** Options of spawn: setsid (the child leads a new session and group), cgroupDirFd (an fd open
 * on a cgroup v2 directory, O_RDONLY|O_DIRECTORY or O_PATH: the child is born in that cgroup by
 * clone3(CLONE_INTO_CGROUP), Linux 5.7; where clone3 is unavailable, probed once, it writes
 * "0" to the cgroup's cgroup.procs before execve instead: either way it and all its
 * descendants are in that cgroup from their first instruction), noClone3 (always join by that
 * write: only for measuring and testing the fallback), nofile (the soft RLIMIT_NOFILE the child
 * gets, clamped to the hard limit), shell (on ENOEXEC, a script without "#!", run it with
 * /bin/sh as execvp does), fork (use fork() rather than clone(CLONE_VM|CLONE_VFORK): only for
 * measuring; it joins a cgroup by the write), noShareFds (copy our whole fd table into the
 * child, as where close_range(CLOSE_RANGE_UNSHARE), Linux 5.9, is unavailable: only for
 * measuring and testing that fallback). The vfork-style child otherwise shares our fd table
 * and keeps a private copy of only a few low fds, so a spawn costs the same whatever number of
 * fds we hold, and the program gets exactly the fds given (a copied table also passes on our
 * fds that lack close-on-exec). */
export interface SpawnFlags {
  setsid?: boolean;
  /** the signal number the child gets when this process dies (prctl PR_SET_PDEATHSIG) */
  pdeathsig?: number;
  cgroupDirFd?: number;
  noClone3?: boolean;
  nofile?: number;
  shell?: boolean;
  fork?: boolean;
  noShareFds?: boolean;
}

interface Addon {
  execve(path: string, argv: string[], envp: string[], keepFds: number[]): never;
  flock(fd: number, exclusive: boolean, nonblocking: boolean): void;
  funlock(fd: number): void;
  mkfifo(path: string, mode: number): void;
  writeSpare(path: string, data: string | Buffer, dirFd?: number): boolean;
  renameExchange(from: string, to: string, dirFd?: number): boolean;
  writeFiles(dirFd: number, entries: Array<[string, string, string | Buffer]>, cb: (results: Array<WriteFileError | null>) => void): void;
  writeFilesSync(dirFd: number, entries: Array<[string, string, string | Buffer]>): Array<WriteFileError | null>;
  pipe(): [number, number];
  spawnStartTicks(): number | null;
  spawnSlots(): number[];
  getrlimit(resource: number): Rlimit;
  setrlimit(resource: number, soft: number, hard: number): void;
  setsid(): number;
  chroot(path: string): void;
  setCloexec(fd: number, on: boolean): void;
  setNonblock(fd: number, on: boolean): void;
  dup2(oldFd: number, newFd: number): number;
  setChildSubreaper(on: boolean): void;
  waitpid(pid: number, nohang: boolean): Reaped | null;
  tee(inFd: number, outFd: number, len: number): number;
  splice(inFd: number, outFd: number, len: number): number;
  readAvailable(fd: number, buf: Buffer): number;
  pipeSize(fd: number, size: number): number;
  watchEdges(fd: number, cb: (hup: boolean) => void): EdgeWatch;
  unwatchEdges(h: EdgeWatch): void;
  spawn(path: string, argv: string[], envp: string[], cwd: string | null, fds: number[], flags: SpawnFlags): number;
  spawnAsync(path: string, argv: string[], envp: string[], cwd: string | null, fds: number[], flags: SpawnFlags, cb: SpawnCallback): void;
  waitidPeek(): Peeked | null;
  RLIMIT: RlimitResources;
}

/** Set by the published package's bundles (scripts/pack.mjs, an esbuild define): the addon's
 * loader relative to the bundle ('../addon.cjs'); undefined (undeclared) everywhere else. */
declare const __TSV_ADDON__: string | undefined;
// why by package name (exports "./addon"): the executables are bundled into one file each, away
// from this module, and a path relative to import.meta.url would no longer point at the addon.
// The published package has no @tsv/native to find by name: its bundles name the loader beside
// them instead (the define above; esbuild folds the typeof, so no lookup is paid at start-up).
const addonSpec = typeof __TSV_ADDON__ === 'string' ? __TSV_ADDON__ : '@tsv/native/addon';
const addon = createRequire(import.meta.url)(addonSpec) as Addon;

/** Replace this process with path (argv, envp). Clears close-on-exec on keepFds, makes fds 0-2
 * blocking and inheritable, resets ignored signals to default and empties the signal mask.
 * Returns only by throwing (the process state is restored first). */
export const execve: (path: string, argv: string[], envp: string[], keepFds: number[]) => never = addon.execve;
/** flock(2) (never fcntl: runsv and svlogd lock with flock, and the two kinds do not conflict). */
export const flock: (fd: number, exclusive: boolean, nonblocking: boolean) => void = addon.flock;
/** Release a flock(2) lock. */
export const funlock: (fd: number) => void = addon.funlock;
/** Create a FIFO. */
export const mkfifo: (path: string, mode: number) => void = addon.mkfifo;
/** Rewrite the regular file path (relative to dirFd, an fd open on a directory, when given: no
 * path walk) in place with data (then truncated to it), only when no other
 * open file description of it exists (a write lease, F_SETLEASE: opens elsewhere wait until the
 * write is whole); false, nothing written, when path is missing, a symlink, not a regular file
 * of one link, open elsewhere, or on a filesystem without leases. Throws when the write fails. */
export const writeSpare: (path: string, data: string | Buffer, dirFd?: number) => boolean = addon.writeSpare;
/** Swap two names atomically (renameat2 RENAME_EXCHANGE; both relative to dirFd when given): true.
 * Where `to` does not exist or the filesystem cannot exchange, rename(2) `from` over `to`
 * instead: false. */
export const renameExchange: (from: string, to: string, dirFd?: number) => boolean = addon.renameExchange;
/** How one file of writeFiles failed: a Node-style error and the step ('write': the spare's
 * rewrite, 'open': the new file's creation, 'rename': the swap). */
export interface WriteFileError extends NodeJS.ErrnoException {
  step: 'write' | 'open' | 'rename';
}
/** In libuv's thread pool, one job: for each [tmp, name, data] in order, writeSpare(tmp, data,
 * dirFd) or, where there is no spare, a new tmp (0644, created first), then renameExchange(tmp,
 * name, dirFd). cb(results) on the loop: results[i] null, or file i's error. dirFd AT_FDCWD
 * (-100): the names are paths. Throws (nothing queued) on bad arguments. */
export const writeFiles: (dirFd: number, entries: Array<[string, string, string | Buffer]>, cb: (results: Array<WriteFileError | null>) => void) => void = addon.writeFiles;
/** What writeFiles does, here and now: its results returned. */
export const writeFilesSync: (dirFd: number, entries: Array<[string, string, string | Buffer]>) => Array<WriteFileError | null> = addon.writeFilesSync;
/** A real pipe (not a socketpair), both ends close-on-exec: [readFd, writeFd]. */
export const pipe: () => [number, number] = addon.pipe;
/** Read a resource limit. */
export const getrlimit: (resource: number) => Rlimit = addon.getrlimit;
/** Set a resource limit (soft and hard; Infinity = unlimited). */
export const setrlimit: (resource: number, soft: number, hard: number) => void = addon.setrlimit;
/** Start a new session; returns its id. */
export const setsid: () => number = addon.setsid;
/** Change the root directory. */
export const chroot: (path: string) => void = addon.chroot;
/** Set or clear FD_CLOEXEC. */
export const setCloexec: (fd: number, on: boolean) => void = addon.setCloexec;
/** Set or clear O_NONBLOCK. */
export const setNonblock: (fd: number, on: boolean) => void = addon.setNonblock;
/** dup2(2); the copy is inheritable. */
export const dup2: (oldFd: number, newFd: number) => number = addon.dup2;
/** Become (or stop being) the child subreaper of our descendants (Linux). */
export const setChildSubreaper: (on: boolean) => void = addon.setChildSubreaper;
/** waitpid(2); null when nohang and nothing has exited. Never wait on a pid libuv spawned. */
export const waitpid: (pid: number, nohang: boolean) => Reaped | null = addon.waitpid;
/** Start path (no PATH search) as a child: fds[i] becomes its fd i (-1: closed), every other fd
 * stays close-on-exec, signal dispositions default and the mask empty. Returns its pid once it
 * has exec'd; set-up and exec failures throw here (syscall 'execve', 'chdir' or 'spawn'; for a
 * cgroup, 'clone3' with the cgroup's path, or 'open'/'write' with its cgroup.procs where the
 * fallback is used), the failed child already reaped. Reap it with waitpid, never through libuv. */
export const spawn: (path: string, argv: string[], envp: string[], cwd: string | null, fds: number[], flags: SpawnFlags) => number = addon.spawn;
/** How spawnAsync ends: err null and the child's pid once it has exec'd, with its start time
 * (clock ticks since boot) or null when not known; or err as spawn throws it and pid null. */
export type SpawnCallback = (err: NodeJS.ErrnoException | null, pid: number | null, startTicks: number | null) => void;
/** spawn's work in libuv's thread pool: a thread of the pool, not the loop, waits while the
 * child execs; cb on the loop. The job holds its own copies of the fds it names (fds, a cwd
 * such as /proc/self/fd/N, cgroupDirFd), so the caller may close them once this returns. Bad
 * arguments and fds that cannot be copied throw here. pdeathsig is refused (the kernel sends it
 * when the thread that forked exits: here one of the pool's). */
export const spawnAsync: (path: string, argv: string[], envp: string[], cwd: string | null, fds: number[], flags: SpawnFlags, cb: SpawnCallback) => void = addon.spawnAsync;
/** The start time (clock ticks since boot, /proc/PID/stat's field 22) of the child the last
 * spawn on this thread made, or null when not known (the clock crossed a tick during the clone,
 * or that spawn failed): taken around the clone, so no read of /proc/PID/stat, which waits while
 * the child is in execve. */
export const spawnStartTicks: () => number | null = addon.spawnStartTicks;
/** The fds the addon reserved when it loaded, for spawn's child to keep its sources on (each
 * holds /dev/null between spawns, close-on-exec): this process's own, never inherited ones. */
export const spawnSlots: () => number[] = addon.spawnSlots;
/** waitid(P_ALL, WEXITED|WNOHANG|WNOWAIT): one exited child, left a zombie; null when none. */
export const waitidPeek: () => Peeked | null = addon.waitidPeek;
/** Resource numbers. */
export const RLIMIT: RlimitResources = addon.RLIMIT;
/** tee(2), non-blocking: copy up to len bytes from the head of pipe inFd into pipe outFd without
 * consuming them. Returns the count, 0 at end of input, -1 when nothing can be copied now. */
export const tee: (inFd: number, outFd: number, len: number) => number = addon.tee;
/** splice(2), non-blocking, no offsets: move up to len bytes from pipe inFd to outFd (e.g.
 * /dev/null). Returns the count, 0 at end of input, -1 when nothing can be moved now. */
export const splice: (inFd: number, outFd: number, len: number) => number = addon.splice;
/** read(2) of up to buf.length bytes from a non-blocking fd into buf. Returns the count, 0 at
 * end of input, -1 when nothing is there now (EAGAIN: a value, not an exception); other errors
 * throw. */
export const readAvailable: (fd: number, buf: Buffer) => number = addon.readAvailable;
/** A pipe's capacity (size 0: F_GETPIPE_SZ), or set it (F_SETPIPE_SZ); returns the capacity. */
export const pipeSize: (fd: number, size: number) => number = addon.pipeSize;
/** Call cb(hup) on each new write into fd (edge-triggered epoll polled by libuv) or its hang-up;
 * data left unread does not call it again. Keeps the event loop alive until unwatchEdges. */
export const watchEdges: (fd: number, cb: (hup: boolean) => void) => EdgeWatch = addon.watchEdges;
/** Stop an edge watcher (idempotent). */
export const unwatchEdges: (h: EdgeWatch) => void = addon.unwatchEdges;
