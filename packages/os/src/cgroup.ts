// cgroup v2: finding the cgroup2 mount and our own cgroup, making and removing a service's
// cgroup, joining it (through the addon's spawn), signalling and killing every member, watching
// `cgroup.events` for `populated 0`, limits, and the accounting tsvctl shows (from the cgroup's
// files, or summed over /proc when there is no cgroup or no controller).
import { closeSync, mkdirSync, readFileSync, rmdirSync, watch, writeFileSync, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { errCode } from '@tsv/core';
import { openDirPath } from './dir-fd.js';

/** Where cgroup2 is mounted (the first cgroup2 line of mountinfo), or null when it is not. */
export function cgroup2Mount(mountinfo?: string): { mount: string; root: string } | null {
  let text = mountinfo;
  if (text === undefined) {
    try {
      text = readFileSync('/proc/self/mountinfo', 'utf8');
    } catch {
      return null;
    }
  }
  for (const line of text.split('\n')) {
    // why: the optional fields before " - " vary in number; the fs type is the first field after it.
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const after = line.slice(sep + 3).split(' ');
    if (after[0] !== 'cgroup2') continue;
    const f = line.slice(0, sep).split(' ');
    const root = unescapeMount(f[3] ?? '/');
    const mount = unescapeMount(f[4] ?? '');
    if (mount !== '') return { mount, root };
  }
  return null;
}

/** mountinfo escapes blanks and backslashes as octal (\040). */
function unescapeMount(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** The v2 path of a process's cgroup (the `0::/path` line of /proc/PID/cgroup), or null. */
export function ownCgroup(procCgroup?: string): string | null {
  let text = procCgroup;
  if (text === undefined) {
    try {
      text = readFileSync('/proc/self/cgroup', 'utf8');
    } catch {
      return null;
    }
  }
  for (const line of text.split('\n')) if (line.startsWith('0::')) return line.slice(3).replace(/ \(deleted\)$/, '');
  return null;
}

/** The directory of our own cgroup in the mounted hierarchy, or null without cgroup2. */
export function ownCgroupDir(mountinfo?: string, procCgroup?: string): string | null {
  const m = cgroup2Mount(mountinfo);
  const own = ownCgroup(procCgroup);
  if (m === null || own === null) return null;
  // why: in a cgroup namespace (a container) both the mount's root and our path are "/" of the
  // namespace; otherwise our path is below the mount's root, which the mount point stands for.
  let rel = own;
  if (m.root !== '/' && (rel === m.root || rel.startsWith(`${m.root}/`))) rel = rel.slice(m.root.length);
  // why: join keeps the trailing slash of `/`; the directory is named without it.
  return join(m.mount, rel).replace(/(.)\/+$/, '$1');
}

/** The cgroup name of a supervised directory: readable, unique per absolute path, a valid name. */
export function cgroupName(absDir: string): string {
  const base = absDir.split('/').filter((p) => p !== '').slice(-2).join('_') || 'root';
  const safe = base.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 80);
  const hash = createHash('sha1').update(absDir).digest('hex').slice(0, 10);
  return `${safe}.${hash}`;
}

/** What the members of a cgroup use, now: from the cgroup's files where they exist, else
 * summed over /proc for its pids. */
export interface CgroupUsage {
  /** CPU time of the whole cgroup (user + system), microseconds */
  cpuUsec: number | null;
  /** memory in use now, bytes */
  memoryCurrent: number | null;
  /** the highest memory in use seen, bytes (memory.peak; from /proc: the sum of each live pid's VmHWM) */
  memoryPeak: number | null;
  /** live processes in the cgroup */
  pids: number;
  /** processes killed by the OOM killer in the cgroup (memory.events oom_kill), null without the memory controller */
  oomKills: number | null;
  /** where memory came from: the cgroup's memory controller or /proc */
  memorySource: 'cgroup' | 'proc';
}

/** The text of a file, or undefined when it cannot be read. */
function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** `key value` lines (cpu.stat, memory.events, cgroup.events) to a map. */
export function parseKeyed(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const sp = line.indexOf(' ');
    if (sp > 0) out.set(line.slice(0, sp), Number(line.slice(sp + 1)));
  }
  return out;
}

/** The pids in a cgroup (cgroup.procs: live processes only), [] when it is gone. */
export function cgroupPids(dir: string): number[] {
  const text = readText(join(dir, 'cgroup.procs'));
  if (text === undefined) return [];
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map(Number);
}

/** Is the cgroup populated (a live process in it or below)? null when it does not exist. */
export function cgroupPopulated(dir: string): boolean | null {
  const text = readText(join(dir, 'cgroup.events'));
  if (text === undefined) return null;
  return parseKeyed(text).get('populated') === 1;
}

/** /proc/PID/status fields in kB (VmRSS, VmHWM), 0 when absent (kernel threads, zombies). */
function procMemKb(pid: number): { rss: number; hwm: number } {
  const text = readText(`/proc/${pid}/status`);
  if (text === undefined) return { rss: 0, hwm: 0 };
  const rss = /^VmRSS:\s+(\d+)/m.exec(text);
  const hwm = /^VmHWM:\s+(\d+)/m.exec(text);
  return { rss: Number(rss?.[1] ?? 0), hwm: Number(hwm?.[1] ?? 0) };
}

/** The clock ticks per second of /proc's times (USER_HZ: 100 on every Linux Node runs on). */
const USER_HZ = 100;

/** CPU and memory of a set of pids, summed over /proc (no cgroup, or no memory controller). */
export function procUsage(pids: readonly number[]): { cpuUsec: number; rssBytes: number; hwmBytes: number; live: number } {
  let ticks = 0;
  let rss = 0;
  let hwm = 0;
  let live = 0;
  for (const pid of pids) {
    const text = readText(`/proc/${pid}/stat`);
    if (text === undefined) continue;
    // why: after the last ')' (the command may hold blanks and parentheses): state is field 3,
    // utime and stime fields 14 and 15.
    const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
    if (rest[0] === 'Z' || rest[0] === 'X') continue;
    live += 1;
    const t = Number(rest[11]) + Number(rest[12]);
    if (Number.isFinite(t)) ticks += t;
    const m = procMemKb(pid);
    rss += m.rss;
    hwm += m.hwm;
  }
  return { cpuUsec: (ticks * 1e6) / USER_HZ, rssBytes: rss * 1024, hwmBytes: hwm * 1024, live };
}

/** The usage of a cgroup, or null when it does not exist. */
export function cgroupUsage(dir: string): CgroupUsage | null {
  const events = readText(join(dir, 'cgroup.events'));
  if (events === undefined) return null;
  const pids = cgroupPids(dir);
  const cpu = readText(join(dir, 'cpu.stat'));
  const usage = cpu === undefined ? undefined : parseKeyed(cpu).get('usage_usec');
  const cur = readText(join(dir, 'memory.current'));
  const peak = readText(join(dir, 'memory.peak'));
  const mev = readText(join(dir, 'memory.events'));
  const fromProc = usage === undefined || cur === undefined ? procUsage(pids) : null;
  return {
    // why: cpu.stat's usage_usec is there without the cpu controller (the kernel keeps it for
    // every cgroup) and counts exited members too; /proc knows only the live ones.
    cpuUsec: usage ?? fromProc?.cpuUsec ?? null,
    memoryCurrent: cur !== undefined ? Number(cur) : (fromProc?.rssBytes ?? null),
    memoryPeak: peak !== undefined ? Number(peak) : cur !== undefined ? null : (fromProc?.hwmBytes ?? null),
    pids: pids.length,
    oomKills: mev === undefined ? null : (parseKeyed(mev).get('oom_kill') ?? 0),
    memorySource: cur !== undefined ? 'cgroup' : 'proc',
  };
}

/** OOM kills in a cgroup (memory.events oom_kill); null without the memory controller. */
export function cgroupOomKills(dir: string): number | null {
  const mev = readText(join(dir, 'memory.events'));
  return mev === undefined ? null : (parseKeyed(mev).get('oom_kill') ?? 0);
}

/** Make a cgroup (and its parents); true when it exists afterwards. Throws on other errors. */
export function makeCgroup(dir: string): void {
  mkdirSync(dir, { recursive: true });
}

/** Open a cgroup's directory (O_PATH, close-on-exec as Node opens everything): the fd the
 * addon's spawn is given, for clone3(CLONE_INTO_CGROUP), which wants the directory (never its
 * cgroup.procs) and takes an O_PATH fd, or for its fallback's openat of cgroup.procs. */
export function openCgroupDir(dir: string): number {
  return openDirPath(dir);
}

/** Close an fd, ignoring errors. */
export function closeQuiet(fd: number | null): void {
  if (fd === null) return;
  try {
    closeSync(fd);
  } catch {
    // already closed
  }
}

/** Send sig to every process of a cgroup (snapshot of cgroup.procs); how many were signalled. */
export function signalCgroup(dir: string, sig: NodeJS.Signals): number {
  let n = 0;
  for (const pid of cgroupPids(dir)) {
    // why: never ourselves (a supervisor moved into its service's cgroup by hand)
    if (pid === process.pid || pid <= 0) continue;
    try {
      process.kill(pid, sig);
      n += 1;
    } catch {
      // gone already
    }
  }
  return n;
}

/** SIGKILL every process of a cgroup: cgroup.kill (Linux 5.14) does it in the kernel, forks in
 * flight included; without it, every pid of cgroup.procs, read again until it is empty (a
 * process may fork between the read and the kill: its child shows up on the next read). */
export function killCgroup(dir: string): 'kill' | 'pids' | 'gone' {
  try {
    writeFileSync(join(dir, 'cgroup.kill'), '1');
    return 'kill';
  } catch (err) {
    if (errCode(err) === 'ENOENT' && cgroupPopulated(dir) === null) return 'gone';
  }
  for (let i = 0; i < 100; i++) if (signalCgroup(dir, 'SIGKILL') === 0) break;
  return 'pids';
}

/** rmdir a cgroup; false when it still has members or children (EBUSY) or cannot be removed. */
export function removeCgroup(dir: string): boolean {
  try {
    rmdirSync(dir);
    return true;
  } catch (err) {
    return errCode(err) === 'ENOENT';
  }
}

/** Watch a cgroup's cgroup.events (inotify: the kernel signals a modification on each change of
 * `populated` or `frozen`): onChange(populated) after each change. Close it with close().
 * known(): true when the owner knows the cgroup is populated (a live member of its own): the
 * change is then not read (it can only be `populated 1`, or a freeze). */
export function watchCgroupEvents(dir: string, onChange: (populated: boolean) => void, known: () => boolean = () => false): FSWatcher {
  const w = watch(join(dir, 'cgroup.events'), { persistent: false }, () => {
    if (known()) return;
    const p = cgroupPopulated(dir);
    onChange(p === true);
  });
  // why: a removed cgroup ends the watch with an error on some kernels; it is closed by the owner.
  w.on('error', () => w.close());
  return w;
}

/** The controllers a cgroup can give its children (its cgroup.controllers). */
export function availableControllers(dir: string): Set<string> {
  const t = readText(join(dir, 'cgroup.controllers'));
  return new Set((t ?? '').split(/\s+/).filter((c) => c !== ''));
}

/** The controllers enabled for a cgroup's children (its cgroup.subtree_control). */
export function enabledControllers(dir: string): Set<string> {
  const t = readText(join(dir, 'cgroup.subtree_control'));
  return new Set((t ?? '').split(/\s+/).filter((c) => c !== ''));
}

/** Try to enable controllers for the children of dir (those its own cgroup.controllers lists);
 * returns the ones enabled afterwards. Fails quietly: a cgroup with processes of its own (not
 * the root) cannot enable any (EBUSY, the "no internal processes" rule). */
export function enableControllers(dir: string, wanted: readonly string[]): Set<string> {
  const avail = availableControllers(dir);
  const on = enabledControllers(dir);
  for (const c of wanted) {
    if (on.has(c) || !avail.has(c)) continue;
    try {
      writeFileSync(join(dir, 'cgroup.subtree_control'), `+${c}`);
    } catch {
      // not possible here: the caller warns
    }
  }
  return enabledControllers(dir);
}

/** A limit file of the service dir and the cgroup file and controller it goes to. */
export const CGROUP_LIMITS = [
  { file: 'memory-max', cgroupFile: 'memory.max', controller: 'memory' },
  { file: 'pids-max', cgroupFile: 'pids.max', controller: 'pids' },
  { file: 'cpu-weight', cgroupFile: 'cpu.weight', controller: 'cpu' },
] as const;

/** Write one limit into a cgroup; throws the write's error. */
export function writeCgroupLimit(dir: string, cgroupFile: string, value: string): void {
  writeFileSync(join(dir, cgroupFile), value);
}
