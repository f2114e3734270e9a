// Sending control bytes as sv's control() does (runit.md 3.4): liveness, status, the skip rule,
// then one non-blocking write of the whole command string to supervise/control.
import { errCode, errstr, skipByRule, type Snapshot } from '@tsv/core';
import { probe, writeControl, type ExtraReader } from '@tsv/os';
import type { Out } from './status.js';

/** How sending went: sent, skipped (already in that state: still waited for), or ended (a
 * line was printed and the service drops out). */
export type SendResult = { kind: 'sent'; before: Snapshot } | { kind: 'skipped'; before: Snapshot } | { kind: 'ended' };

/** sv's "runsv not running" line: `ok:` for an exit command, `fail:` otherwise. */
export function notRunning(out: Out, name: string, acts: string): void {
  if (acts.startsWith('x')) out.ok(name, 'runsv not running');
  else out.fail(name, 'runsv not running');
}

export { skipByRule } from '@tsv/core';

/** Send acts to the service in dir (named name in report lines). */
export function sendControl(name: string, dir: string, acts: string, out: Out, readExtra?: ExtraReader): SendResult {
  const p = probe(dir, readExtra);
  if (p.kind === 'not-running') {
    notRunning(out, name, acts);
    return { kind: 'ended' };
  }
  if (p.kind === 'warn') {
    out.warn(name, p.message);
    return { kind: 'ended' };
  }
  if (skipByRule(acts, p.snap)) return { kind: 'skipped', before: p.snap };
  try {
    writeControl(dir, acts);
  } catch (e) {
    const code = errCode(e);
    if (code === 'ENXIO') notRunning(out, name, acts);
    else if (code === 'ESHORT') out.warn(name, 'unable to write to supervise/control');
    else if (e instanceof Error && (e as { syscall?: string }).syscall === 'write') out.warn(name, `unable to write to supervise/control: ${errstr(e)}`);
    else out.warn(name, `unable to open supervise/control: ${errstr(e)}`);
    return { kind: 'ended' };
  }
  return { kind: 'sent', before: p.snap };
}
