// Is a pid really the service's process? tsvctl signals a process itself only for signals runsv
// has no control byte for, and everything in supervise/ can be forged by whoever can write it
// (status, tsv.json): trusted instead is what the kernel says in /proc. The pid must be a live
// child of the process that holds supervise/lock (the live supervisor), leading its own process
// group, started when supervise/status says, and no other service of that supervisor may name it.
import { readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { procStat } from '@tsv/os';
import { USER_HZ, type StatusRecord } from '@tsv/core';

/** How far (s) a process's start may lie from the time in supervise/status: the supervisor
 * writes status just after the fork, /proc/stat's btime is whole seconds, and a loaded machine
 * delays the write. A clock step since the start exceeds it (the signal is then refused). */
export const START_TOLERANCE_S = 5;

/** A device number as /proc/locks prints it: MAJOR:MINOR in hex (two digits at least). */
function devText(dev: number): string {
  // why: Linux's dev_t packs the minor in bits 0-7 and 20-31, the major in bits 8-19 (glibc
  // major()/minor() for the 32-bit values stat gives here)
  const major = (dev >>> 8) & 0xfff;
  const minor = (dev & 0xff) | ((dev >>> 12) & 0xfff00);
  const hex = (n: number): string => n.toString(16).padStart(2, '0');
  return `${hex(major)}:${hex(minor)}`;
}

/** Pids holding a granted exclusive flock on inode ino, with the device /proc/locks names
 * (waiters, lines with "->", are left out). */
function flockHolders(ino: number): Array<{ pid: number; dev: string }> {
  const out: Array<{ pid: number; dev: string }> = [];
  let text: string;
  try {
    text = readFileSync('/proc/locks', 'utf8');
  } catch {
    return out;
  }
  for (const line of text.split('\n')) {
    // e.g. "2: FLOCK  ADVISORY  WRITE 14955 fe:00:2147169 0 EOF"
    const m = /^\d+:\s+FLOCK\s+\S+\s+WRITE\s+(\d+)\s+([0-9a-f]+:[0-9a-f]+):(\d+)\s/.exec(line);
    if (m !== null && Number(m[3]) === ino) out.push({ pid: Number(m[1]), dev: m[2] as string });
  }
  return out;
}

/** Paths of the files pid holds open whose link ends with suffix (its /proc/PID/fd). */
function openFilesEnding(pid: number, suffix: string): string[] {
  const out: string[] = [];
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return out;
  }
  for (const fd of fds) {
    try {
      const link = readlinkSync(`/proc/${pid}/fd/${fd}`);
      if (link.endsWith(suffix)) out.push(`/proc/${pid}/fd/${fd}`);
    } catch {
      // closed meanwhile
    }
  }
  return out;
}

/** Does pid hold an fd on the file with this device and inode? */
function holdsOpen(pid: number, dev: number, ino: number): boolean {
  return openFilesEnding(pid, '/lock').some((p) => {
    try {
      const st = statSync(p);
      return st.dev === dev && st.ino === ino;
    } catch {
      return false;
    }
  });
}

/** The pid of the process holding dir/supervise/lock, found in /proc/locks by the lock file's
 * inode; undefined when no live process holds it. */
export function lockHolder(dir: string): number | undefined {
  let st;
  try {
    st = statSync(`${dir}/supervise/lock`);
  } catch {
    return undefined;
  }
  for (const h of flockHolders(st.ino)) {
    // why the fd check when the device differs: overlayfs and btrfs subvolumes report one
    // device to stat and another in /proc/locks; the holder having the same file open settles it
    if (h.dev === devText(st.dev) || holdsOpen(h.pid, st.dev, st.ino)) {
      const p = procStat(h.pid);
      if (p !== undefined && p.state !== 'Z' && p.state !== 'X') return h.pid;
    }
  }
  return undefined;
}

/** The wall-clock second (Unix) at which a process started startTicks after boot. */
function startSecond(startTicks: number): number | undefined {
  try {
    const m = /^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'));
    return m === null ? undefined : Number(m[1]) + startTicks / USER_HZ;
  } catch {
    return undefined;
  }
}

/** The other services the supervisor holder holds locks of, whose supervise/status names pid
 * (a supervisor of many services, tsvscan, is the parent of all of them). */
function otherServiceNaming(holder: number, dir: string, pid: number): string | undefined {
  let ours;
  try {
    ours = statSync(`${dir}/supervise/lock`);
  } catch {
    return undefined;
  }
  for (const fdPath of openFilesEnding(holder, '/supervise/lock')) {
    try {
      const st = statSync(fdPath);
      if (st.dev === ours.dev && st.ino === ours.ino) continue;
      const superviseDir = readlinkSync(fdPath).slice(0, -'/lock'.length);
      const b = readFileSync(`${superviseDir}/status`);
      if (b.length >= 16 && b.readUInt32LE(12) === pid) return superviseDir.slice(0, -'/supervise'.length);
    } catch {
      // closed or unreadable: that service names nobody
    }
  }
  return undefined;
}

/** Why pid must not be signalled as the service in dir (status rec, tsv.json's supervisor pid
 * when given), or undefined when /proc confirms it is that service's child of the live
 * supervisor holding supervise/lock. */
export function refuseTarget(dir: string, rec: StatusRecord, supervisorPid: number | undefined): string | undefined {
  const holder = lockHolder(dir);
  if (holder === undefined) return 'no process holds supervise/lock';
  if (supervisorPid !== undefined && supervisorPid !== holder) return `supervise/tsv.json names supervisor pid ${supervisorPid}, but pid ${holder} holds supervise/lock`;
  const p = procStat(rec.pid);
  if (p === undefined || p.state === 'Z' || p.state === 'X') return `pid ${rec.pid} is not running`;
  if (p.ppid !== holder) return `pid ${rec.pid} is not a child of the supervisor (pid ${holder}, holding supervise/lock)`;
  // why: tsv starts run (and finish, and log/run) in a new session, so the service leads its
  // own process group; its other children (control/ hooks) stay in the supervisor's group and
  // no status names them
  if (p.pgrp !== rec.pid) return `pid ${rec.pid} does not lead its own process group, as a service tsv started does`;
  const started = startSecond(p.startTicks);
  const recorded = rec.time.seconds + rec.time.nanos / 1e9;
  if (started === undefined || Math.abs(started - recorded) > START_TOLERANCE_S) return `pid ${rec.pid} did not start when supervise/status says`;
  const other = otherServiceNaming(holder, dir, rec.pid);
  if (other !== undefined) return `pid ${rec.pid} is the process of ${other}`;
  return undefined;
}
