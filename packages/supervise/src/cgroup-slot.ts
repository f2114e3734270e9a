// The cgroup of one supervised process (the service's run, or its logger), as the slot's shell
// uses it: made (with the supervisor's subtree) before run is spawned, the child born in it
// (the addon's spawn is given an fd on its directory: clone3 CLONE_INTO_CGROUP), watched
// for `populated 0` (inotify on cgroup.events), its members signalled and killed on a stop,
// its limits written from the service dir's files, and removed once not wanted. What is done
// and when is the machine's (cleanCgroup, killCgroup, removeCgroup, cgroupEmpty); this file
// only does it. Without cgroup2, or without permission, it reports why once and the slot runs
// the process in session mode (a session and process group of its own, as before).
import { fstatSync, readFileSync, statSync, type FSWatcher } from 'node:fs';
import { type DirSeen, FileCache, type List, type Look } from './file-cache.js';
import { join } from 'node:path';
import { CGROUP, errCode, errstr, SERVICE } from '@tsv/core';
import {
  CGROUP_LIMITS,
  cgroupName,
  cgroupPopulated,
  closeQuiet,
  enableControllers,
  enabledControllers,
  killCgroup,
  makeCgroup,
  openCgroupDir,
  ownCgroupDir,
  removeCgroup,
  signalCgroup,
  watchCgroupEvents,
  writeCgroupLimit,
} from '@tsv/os';

/** The supervisor's subtree: where its processes' cgroups are made. */
export interface CgroupBase {
  /** the subtree's directory, e.g. /sys/fs/cgroup/unified/tsv */
  dir: string;
  /** the controllers its children get (its cgroup.subtree_control) */
  controllers: Set<string>;
  /** the cgroup.procs file of the `outside` cgroup (the documented way out) */
  outsideProcs: string | null;
}

/** The controllers the limits need, enabled for the subtree when the parent offers them. */
const WANTED = ['cpu', 'memory', 'pids'] as const;

let base: CgroupBase | { error: string } | undefined;

/** The supervisor's subtree below its own cgroup (made once per process: tsvscan's supervisors
 * share it), or why there is none. */
export function cgroupBase(env: NodeJS.ProcessEnv = process.env): CgroupBase | { error: string } {
  if (base !== undefined) return base;
  base = makeBase(env);
  return base;
}

let baseWarned = false;

/** Why there are no cgroups, the first time it is asked in this process (tsvscan's supervisors
 * share one subtree: one line, not one per service), else null. Nothing for TSV_CGROUP=off. */
export function cgroupBaseWarning(b: CgroupBase | { error: string }): string | null {
  if (!('error' in b) || baseWarned || b.error === `${CGROUP.envMode}=off`) return null;
  baseWarned = true;
  return `no cgroups: ${b.error}; running in session mode`;
}

/** Find cgroup2 and our cgroup, make the subtree and `outside`, enable what controllers we can. */
function makeBase(env: NodeJS.ProcessEnv): CgroupBase | { error: string } {
  if (env[CGROUP.envMode] === 'off') return { error: `${CGROUP.envMode}=off` };
  const own = ownCgroupDir();
  if (own === null) return { error: 'no cgroup2 mount (/proc/self/mountinfo) or no 0:: line in /proc/self/cgroup' };
  const dir = join(own, CGROUP.subtree);
  try {
    makeCgroup(dir);
  } catch (err) {
    return { error: `unable to create ${dir}: ${errstr(err)}` };
  }
  // why: a child cgroup gets a controller only if every ancestor's subtree_control enables it;
  // we can ask for our own cgroup's (fails with EBUSY when it holds processes and is not the
  // root: the "no internal processes" rule) and our subtree's, nothing above.
  enableControllers(own, WANTED);
  const controllers = enableControllers(dir, WANTED);
  let outsideProcs: string | null = join(dir, CGROUP.outside, 'cgroup.procs');
  try {
    makeCgroup(join(dir, CGROUP.outside));
  } catch {
    outsideProcs = null;
  }
  return { dir, controllers, outsideProcs };
}

/** One supervised process's cgroup. */
export class ServiceCgroup {
  /** the cgroup's directory; null in session mode */
  readonly path: string | null;
  private dirFd: number | null = null;
  private watcher: FSWatcher | null = null;
  private warned = new Set<string>();
  private applied = new Set<string>();
  private failed = false;
  /** the limit files' contents (an error where one could not be read), cached between starts;
   * undefined when the service dir cannot be listed */
  private readonly limitFiles: FileCache<Map<string, string | { error: unknown }> | undefined>;
  /** the contents last applied in full to the cgroup as it is (unset when it is made again) */
  private appliedFrom: Map<string, string | { error: unknown }> | undefined;

  /** serviceDir: where the limit files are; name: the cgroup's name in the subtree; memberAlive:
   * a process of the slot's own is alive in the cgroup now, or is being born there (run,
   * spawned into it). */
  constructor(
    private readonly serviceDir: string,
    name: string,
    private readonly b: CgroupBase | { error: string },
    private readonly warn: (m: string) => void,
    private readonly onEmpty: () => void,
    private readonly memberAlive: () => boolean = () => false,
    seen?: DirSeen,
  ) {
    this.path = 'dir' in b ? join(b.dir, name) : null;
    this.limitFiles = new FileCache((look, _warn, list) => readLimitFiles(serviceDir, look, list), seen?.path === serviceDir ? seen : undefined);
  }

  /** The cgroup names of a service directory: its own, and its logger's. */
  static names(absDir: string): { main: string; log: string } {
    const n = cgroupName(absDir);
    return { main: n, log: `${n}${CGROUP.logSuffix}` };
  }

  /** cgroup or session: what status shows. */
  get mode(): 'cgroup' | 'session' {
    return this.path !== null && !this.failed ? 'cgroup' : 'session';
  }

  /** Before each spawn of run: make the cgroup, watch it, write the limits; the fd on its
   * directory the child is born in through, or null (session mode, said once). */
  prepare(): number | null {
    if (this.path === null || this.failed) return null;
    try {
      if (this.dirFd === null) {
        makeCgroup(this.path);
        // why: the watch first: an empty cgroup is reported by its change, and none may slip
        // between the spawn and the watch.
        // why: while run (spawned into the cgroup) lives, the cgroup is populated: the wake-up
        // at each spawn is not read. An exit whose `populated 0` comes before run's exit is
        // handled is no loss: where the machine needs emptiness after an exit (a stop, once,
        // exit) it asks for it (cleanCgroup reads cgroup.events), and a restarted run refills it.
        this.watcher ??= watchCgroupEvents(
          this.path,
          (populated) => {
            if (!populated) this.onEmpty();
          },
          this.memberAlive,
        );
        this.dirFd = openCgroupDir(this.path);
      }
    } catch (err) {
      this.failed = true;
      this.close();
      this.warn(`unable to use the cgroup ${this.path}: ${errstr(err)}; running in session mode`);
      return null;
    }
    this.applyLimits();
    return this.dirFd;
  }

  /** Write memory-max, pids-max, cpu-weight (when present) into the cgroup; a limit whose
   * controller is not enabled is refused with one warning. A removed file puts back the default.
   * Nothing is read or written again while the files and the cgroup are those of the last
   * start that applied them all (one stat of the service dir for a service without limits). */
  private applyLimits(): void {
    const files = this.limitFiles.get((m) => this.warn(m));
    if (files === undefined || files === this.appliedFrom) return;
    const path = this.path as string;
    // why: read only when some limit file is there: a respawn without limits costs no more read.
    let controllers: Set<string> | undefined;
    let complete = true;
    for (const l of CGROUP_LIMITS) {
      const value = files.get(l.file);
      if (value === undefined) {
        if (this.applied.delete(l.file)) tryWrite(path, l.cgroupFile, l.file === SERVICE.cpuWeight ? '100' : 'max');
        continue;
      }
      if (typeof value !== 'string') {
        this.warnOnce(l.file, `unable to read ${l.file}: ${errstr(value.error)}`);
        complete = false;
        continue;
      }
      controllers ??= 'dir' in this.b ? enabledControllers(this.b.dir) : new Set<string>();
      if (!controllers.has(l.controller)) {
        this.warnOnce(l.file, `${l.file} not applied: the ${l.controller} controller is not enabled for ${'dir' in this.b ? this.b.dir : 'the cgroup'} (cgroup.subtree_control)`);
        complete = false;
        continue;
      }
      try {
        writeCgroupLimit(path, l.cgroupFile, value);
        this.applied.add(l.file);
      } catch (err) {
        complete = false;
        this.warnOnce(`${l.file}=${value}`, errCode(err) === 'EINVAL' ? `invalid ${l.file}: ${value}` : `unable to write ${l.cgroupFile}: ${errstr(err)}`);
      }
    }
    // why: a limit that could not be applied is tried again at the next start, as before.
    this.appliedFrom = complete ? files : undefined;
  }

  /** One warning per key for the life of the supervisor. */
  private warnOnce(key: string, message: string): void {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.warn(message);
  }

  /** Signal every member with sig and SIGCONT; false when the cgroup is empty already. */
  clean(sig: NodeJS.Signals): boolean {
    if (this.path === null || cgroupPopulated(this.path) !== true) return false;
    signalCgroup(this.path, sig);
    signalCgroup(this.path, 'SIGCONT');
    return true;
  }

  /** SIGKILL every member (cgroup.kill, or each pid where the kernel lacks it). */
  kill(): void {
    if (this.path !== null) killCgroup(this.path);
  }

  /** Remove the cgroup (empty: the machine asks only then); made again before the next start. */
  remove(): void {
    this.close();
    if (this.path !== null && !removeCgroup(this.path)) this.warn(`unable to remove the cgroup ${this.path}: it still has members`);
  }

  /** Is the directory fd prepare() gave no longer the cgroup at the path (removed, or removed
   * and made again)? why: a supervisor of a replaced directory (same path, another inode) has
   * the same cgroup name, and the old one's removal at its stop can take the cgroup from under
   * the new one between two of its starts; a child cannot be born in a removed cgroup. */
  stale(): boolean {
    if (this.path === null || this.dirFd === null) return false;
    try {
      const now = statSync(this.path, { throwIfNoEntry: false });
      const held = fstatSync(this.dirFd);
      return now === undefined || now.ino !== held.ino || now.dev !== held.dev;
    } catch {
      return true;
    }
  }

  /** Stop watching and close the directory fd. */
  close(): void {
    // why: the cgroup may be removed and made again (with the kernel's defaults) before the next start.
    this.appliedFrom = undefined;
    this.watcher?.close();
    this.watcher = null;
    closeQuiet(this.dirFd);
    this.dirFd = null;
  }
}

/** Write a cgroup file, ignoring errors (putting back a default). */
function tryWrite(dir: string, file: string, value: string): void {
  try {
    writeCgroupLimit(dir, file, value);
  } catch {
    // the controller went away: nothing to put back
  }
}

/** The limit files present in serviceDir, with their trimmed text (or why it could not be read). */
function readLimitFiles(serviceDir: string, look: Look, list: List): Map<string, string | { error: unknown }> | undefined {
  look(serviceDir);
  const present = list(serviceDir);
  if (present === undefined) return undefined;
  const out = new Map<string, string | { error: unknown }>();
  for (const l of CGROUP_LIMITS) {
    if (!present.has(l.file)) continue;
    const p = join(serviceDir, l.file);
    look(p);
    try {
      out.set(l.file, readFileSync(p, 'utf8').trim());
    } catch (error) {
      out.set(l.file, { error });
    }
  }
  return out;
}
