// Starting a child without child_process: the addon's fork/exec, for children reaped by the
// ChildWatcher (one waitpid per exit, not one per live child as libuv does on each SIGCHLD).
import { openSync, constants as fsc } from 'node:fs';
import { envFromRecord, type EnvList } from '@tsv/core';
import { spawn, spawnAsync } from '@tsv/native';

/** One entry of stdio: an fd of ours the child gets at that position, 'ignore' (/dev/null for
 * 0-2, closed above) or null (closed). */
export type ChildFd = number | 'ignore' | null;

/** What to start and how. */
export interface SpawnChildOptions {
  /** the file to execute, as given to execve: no PATH search; relative to cwd */
  file: string;
  /** arguments after argv[0] */
  args?: readonly string[];
  /** argv[0]; file by default */
  argv0?: string;
  /** the environment (a record like process.env, or NAME=value entries); process.env by default */
  env?: NodeJS.ProcessEnv | EnvList;
  /** the child's working directory; ours by default */
  cwd?: string;
  /** the child's fds 0, 1, 2, 3...: stdio[i] becomes fd i; missing entries of 0-2 are 'ignore' */
  stdio?: readonly ChildFd[];
  /** a new session: the child leads its own session and process group */
  setsid?: boolean;
  /** the signal number the child gets when this process dies (the kernel's parent-death signal) */
  pdeathsig?: number;
  /** an fd open on a cgroup v2 directory (openCgroupDir): the child is born in that cgroup */
  cgroupDirFd?: number;
  /** the soft RLIMIT_NOFILE the child starts with (see startNofile); Node's raised one when unset */
  nofile?: number;
  /** on ENOEXEC (a script without "#!"), run file with /bin/sh, as execvp does and so
   * child_process: true by default */
  shFallback?: boolean;
}

let devNull: number | undefined;

/** A /dev/null fd of ours (close-on-exec, opened once) for 'ignore' entries of 0-2. */
function nullFd(): number {
  // why: Node opens every fd close-on-exec (O_CLOEXEC), so this one never leaks into a child
  // except where the addon dup2's it onto 0-2.
  devNull ??= openSync('/dev/null', fsc.O_RDWR);
  return devNull;
}

/** The fd list the addon wants: fds[i] becomes the child's fd i, -1 closed. */
export function childFds(stdio: readonly ChildFd[]): number[] {
  const out: number[] = [];
  const n = Math.max(3, stdio.length);
  for (let i = 0; i < n; i++) {
    const e = stdio[i] ?? 'ignore';
    if (typeof e === 'number') out.push(e);
    else if (e === 'ignore' && i <= 2) out.push(nullFd());
    else out.push(-1);
  }
  return out;
}

/** Start a child and return its pid once it has exec'd. Exec and set-up errors are thrown
 * synchronously (Node-style: code, errno, syscall 'execve'/'chdir'/'spawn', or 'clone3' and the
 * cgroup's path for a cgroup that cannot take it, path), the failed
 * child already reaped. The caller must hand the pid to the ChildWatcher (watch) before
 * returning to the event loop: libuv knows nothing of this child and will never reap it. */
export function spawnChild(opts: SpawnChildOptions): number {
  return spawn(...spawnArgs(opts));
}

/** How spawnChildAsync ends: err null and the pid once the child has exec'd (startTicks: its start
 * time in clock ticks since boot, null when not known), or err as spawnChild throws it. */
export type SpawnedCallback = (err: NodeJS.ErrnoException | null, pid: number | null, startTicks: number | null) => void;

/** spawnChild's work in the thread pool (the loop goes on while the child execs): done(err, pid,
 * startTicks) on a later turn of the loop, every error included (none is thrown). The fds of
 * opts may be closed once this returns. No pdeathsig (see spawnAsync). As for spawnChild, the
 * caller must hand the pid to the ChildWatcher at once in done; the ChildWatcher must be told
 * of the spawn in flight (expect) so that an early exit is not taken for a stray's. */
export function spawnChildAsync(opts: SpawnChildOptions, done: SpawnedCallback): void {
  try {
    spawnAsync(...spawnArgs(opts), done);
  } catch (err) {
    process.nextTick(() => done(err as NodeJS.ErrnoException, null, null));
  }
}

/** The addon's spawn arguments for opts. */
function spawnArgs(opts: SpawnChildOptions): Parameters<typeof spawn> {
  const env = opts.env ?? process.env;
  const envp = Array.isArray(env) ? env : envFromRecord(env as NodeJS.ProcessEnv);
  const argv = [opts.argv0 ?? opts.file, ...(opts.args ?? [])];
  const flags = {
    setsid: opts.setsid === true,
    shell: opts.shFallback !== false,
    ...(opts.nofile === undefined ? {} : { nofile: opts.nofile }),
    ...(opts.pdeathsig === undefined ? {} : { pdeathsig: opts.pdeathsig }),
    ...(opts.cgroupDirFd === undefined ? {} : { cgroupDirFd: opts.cgroupDirFd }),
  };
  return [opts.file, argv, envp, opts.cwd ?? null, childFds(opts.stdio ?? [0, 1, 2]), flags];
}
