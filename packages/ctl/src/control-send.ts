// Sending control bytes as sv's control() does (runit.md 3.4): liveness, status, the skip rule,
// then one non-blocking write of the whole command string to supervise/control.
import { encodeControl, errCode, errstr, SUPERVISE } from '@tsv/core';
import { closeSync, constants, openSync, writeSync } from 'node:fs';
import { openFifoForWrite } from './fifo.js';
import { probe, superviseFile, type ExtraReader, type Out, type Snapshot } from './status.js';

/** How sending went: sent, skipped (already in that state: still waited for), or ended (a
 * line was printed and the service drops out). */
export type SendResult = { kind: 'sent'; before: Snapshot } | { kind: 'skipped'; before: Snapshot } | { kind: 'ended' };

/** sv's "runsv not running" line: `ok:` for an exit command, `fail:` otherwise. */
export function notRunning(out: Out, name: string, acts: string): void {
  if (acts.startsWith('x')) out.ok(name, 'runsv not running');
  else out.fail(name, 'runsv not running');
}

/** Is the command a no-op by sv's skip rule? Byte 17 (u/d) equals the first byte to send;
 * `d` is skipped only when got-TERM is set too (so `down` reaches a service running once). */
export function skipByRule(acts: string, before: Snapshot): boolean {
  const want = before.rec.wantUp ? 'u' : 'd';
  if (acts[0] !== want) return false;
  return acts[0] !== 'd' || before.rec.gotTerm;
}

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
  let fd: number;
  try {
    // why: non-blocking, so a FIFO with no reader fails with ENXIO instead of hanging; a
    // control that is not a FIFO (a symlink to a regular file) is never written.
    fd = openFifoForWrite(superviseFile(dir, SUPERVISE.control));
  } catch (e) {
    if (errCode(e) === 'ENXIO') notRunning(out, name, acts);
    else out.warn(name, `unable to open supervise/control: ${errstr(e)}`);
    return { kind: 'ended' };
  }
  try {
    // why: one write() of the whole string, as sv: a FIFO write of < PIPE_BUF bytes is atomic,
    // so the letters arrive together and in order.
    const bytes = encodeControl(acts);
    const n = writeSync(fd, bytes);
    if (n !== bytes.length) {
      out.warn(name, 'unable to write to supervise/control');
      return { kind: 'ended' };
    }
  } catch (e) {
    out.warn(name, `unable to write to supervise/control: ${errstr(e)}`);
    return { kind: 'ended' };
  } finally {
    closeSync(fd);
  }
  return { kind: 'sent', before: p.snap };
}
