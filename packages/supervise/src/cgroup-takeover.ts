// Takeover of the cgroups a dead supervisor left: after takeover.ts has stopped the orphans it
// knew by pid, whatever is still in the service's (or its logger's) cgroup is a leftover of the
// old run (a daemon, a setsid'd grandchild). It gets the down-signal and SIGCONT, then, after
// timeout-kill (or 2 s), cgroup.kill; the emptied cgroup is kept and reused (adopted) by the new
// run. A cgroup that cannot be emptied is a ToolError: the caller must not start a second
// instance beside it. The end is seen on cgroup.events (inotify), not by polling.
import { join } from 'node:path';
import { readFileSync, statSync } from 'node:fs';
import { SERVICE, ToolError } from '@tsv/core';
import { cgroupPids, cgroupPopulated, killCgroup, signalCgroup, watchCgroupEvents } from '@tsv/os';
import { parseSignal, parseUint } from './policy.js';
import { constants } from 'node:os';

/** How long members get after the down-signal when the service has no timeout-kill (ms). */
const DEFAULT_TERM_MS = 2000;
/** How long after cgroup.kill before giving up (ms). */
const GIVE_UP_MS = 5000;

/** Empty the cgroups a dead supervisor left for dir (and its logger): resolves once they are
 * empty (or do not exist); warn gets the message text only. */
export async function takeOverCgroups(dir: string, paths: readonly string[], warn: (m: string) => void): Promise<void> {
  for (const p of paths) await emptyLeft(dir, p, warn);
}

/** Empty one left cgroup. */
async function emptyLeft(dir: string, path: string, warn: (m: string) => void): Promise<void> {
  // why the stat first: there is usually none, and a failed read throws (an Error, its stack)
  if (statSync(path, { throwIfNoEntry: false }) === undefined || cgroupPopulated(path) !== true) return;
  const n = cgroupPids(path).length;
  warn(`the cgroup ${path} of a dead supervisor holds ${n} process${n === 1 ? '' : 'es'}: stopping them`);
  signalCgroup(path, downSignal(dir));
  signalCgroup(path, 'SIGCONT');
  if (await emptyWithin(path, termMs(dir))) return;
  killCgroup(path);
  if (await emptyWithin(path, GIVE_UP_MS)) return;
  throw new ToolError(`unable to empty the cgroup ${path} of a dead supervisor: ${cgroupPids(path).join(' ')} still running`, 111);
}

/** Resolves true once the cgroup is empty (watched on cgroup.events), false after ms. */
function emptyWithin(path: string, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    let done = false;
    const finish = (v: boolean): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      w.close();
      resolve(v);
    };
    const w = watchCgroupEvents(path, (populated) => {
      if (!populated) finish(true);
    });
    const timer = setTimeout(() => finish(cgroupPopulated(path) !== true), ms);
    // why: the watch is set before this check, so an emptying in between is not missed.
    if (cgroupPopulated(path) !== true) finish(true);
  });
}

/** The service's down-signal (SIGTERM without the file). */
function downSignal(dir: string): NodeJS.Signals {
  try {
    return parseSignal(readFileSync(join(dir, SERVICE.downSignal), 'utf8'), constants.signals) ?? 'SIGTERM';
  } catch {
    return 'SIGTERM';
  }
}

/** The service's timeout-kill, or DEFAULT_TERM_MS. */
function termMs(dir: string): number {
  try {
    const v = parseUint(readFileSync(join(dir, SERVICE.timeoutKill), 'utf8'));
    return v !== undefined && v > 0 ? v : DEFAULT_TERM_MS;
  } catch {
    return DEFAULT_TERM_MS;
  }
}
