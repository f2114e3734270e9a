// Signals runsv has no control letter for (WINCH, PWR, 34, ...): sent by tsvctl itself to the
// pid in supervise/status, and only to a service supervised by a live tsv whose tsv.json
// confirms the pid's identity (its /proc start time), so a recycled pid is never signalled.
// None of that is trusted alone (whoever can write supervise/ can forge both files): /proc must
// also show the pid as a child of the live supervisor holding supervise/lock, started when
// status says (service-child.ts). For a real runsv there is no tsv.json: refused with a clear
// line.
import { errstr } from '@tsv/core';
import { isSameLiveProcess } from '@tsv/os';
import { probe, type Out } from './status.js';
import { readExtraFile } from './tsv-extra.js';
import { refuseTarget } from './service-child.js';
import type { SignalSpec } from './signals.js';

/** Send sig to the service in dir. Returns true when the command is done (sent, or nothing
 * runs so there is nothing to signal, as runsv ignores signal letters then); false after a
 * printed fail/warning line. */
export function sendDirectSignal(name: string, dir: string, sig: SignalSpec, out: Out): boolean {
  const p = probe(dir, readExtraFile);
  if (p.kind === 'not-running') {
    out.fail(name, 'runsv not running');
    return false;
  }
  if (p.kind === 'warn') {
    out.warn(name, p.message);
    return false;
  }
  const { rec, extra, extraFile } = p.snap;
  if (extraFile === undefined) {
    out.fail(name, `unable to send ${sig.name}: runsv has no control byte for it, and only a tsv supervisor (supervise/tsv.json) vouches for the pid`);
    return false;
  }
  if (rec.pid === 0 || rec.state !== 'run') return true;
  if (extra === undefined || extra.pidStartTicks === null) {
    out.fail(name, `unable to send ${sig.name}: supervise/tsv.json does not confirm pid ${rec.pid}`);
    return false;
  }
  // why: the pid in status may have died and been reused since tsv wrote it; the start time
  // in /proc tells the service from a stranger with the same number.
  if (!isSameLiveProcess(rec.pid, extra.pidStartTicks)) {
    out.fail(name, `unable to send ${sig.name}: pid ${rec.pid} is no longer the service`);
    return false;
  }
  // why: the two files above prove nothing against someone who wrote them; the kernel's view
  // of the lock holder and of the pid's parent does.
  const refusal = refuseTarget(dir, rec, extraFile.supervisor.pid);
  if (refusal !== undefined) {
    out.fail(name, `unable to send ${sig.name}: ${refusal}`);
    return false;
  }
  try {
    process.kill(rec.pid, sig.num);
  } catch (e) {
    out.fail(name, `unable to send ${sig.name} to pid ${rec.pid}: ${errstr(e)}`);
    return false;
  }
  return true;
}
