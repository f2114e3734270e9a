// Reading and writing a supervise/ directory as sv does (runit.md 3.4): liveness through
// supervise/ok, the 20-byte status, tsv's tsv.json when a live tsv wrote it, and one
// non-blocking write of control bytes. Shared by tsvctl and @tsv/api; returns values or throws,
// never prints.
import { closeSync, constants, openSync, readFileSync, readSync, statSync, writeSync } from 'node:fs';
import { decodeExtraStatus, decodeStatus, encodeControl, errCode, errstr, type ExtraStatus, SERVICE, STATUS_SIZE, statusOfExtra, type StatusRecord, SUPERVISE, type Probe, type Snapshot } from '@tsv/core';
import { openFifoForWrite } from './fifo.js';
import { isSameLiveProcess } from './proc.js';

/** Path of a file in dir/supervise/. */
export function superviseFile(dir: string, name: string): string {
  return `${dir}/${SERVICE.supervise}/${name}`;
}

/** Is a supervisor reading supervise/ok? 'yes', 'no' (ENXIO), or the open error. */
export function liveness(dir: string): 'yes' | 'no' | NodeJS.ErrnoException {
  try {
    // why: opening a FIFO write-only non-blocking fails with ENXIO exactly when no process
    // holds it open for reading; runsv and tsv hold a reader for their whole life. Anything
    // but a FIFO is refused (NotFifoError), never taken for a live supervisor.
    closeSync(openFifoForWrite(superviseFile(dir, SUPERVISE.ok)));
    return 'yes';
  } catch (e) {
    return errCode(e) === 'ENXIO' ? 'no' : (e as NodeJS.ErrnoException);
  }
}

/** Read supervise/status as sv does: one read of up to 20 bytes, which must give 20. */
function readStatusBytes(dir: string): Buffer | string {
  let fd: number;
  try {
    fd = openSync(superviseFile(dir, SUPERVISE.status), constants.O_RDONLY);
  } catch (e) {
    return `unable to open supervise/status: ${errstr(e)}`;
  }
  try {
    const buf = Buffer.alloc(STATUS_SIZE);
    const n = readSync(fd, buf, 0, STATUS_SIZE, null);
    return n === STATUS_SIZE ? buf : 'unable to read supervise/status: bad format';
  } catch (e) {
    return `unable to read supervise/status: ${errstr(e)}`;
  } finally {
    closeSync(fd);
  }
}

/** Reads a live tsv's tsv.json (readExtraFile; tsvctl loads it only when some service has one). */
export type ExtraReader = (dir: string) => ExtraStatus | undefined;

/** Does dir/supervise hold a tsv.json (then reading it is worth it)? */
export function hasExtraFile(dir: string): boolean {
  try {
    statSync(superviseFile(dir, SUPERVISE.extra));
    return true;
  } catch {
    return false;
  }
}

/** tsv.json of dir, when present, decodable and written by a supervisor that is still alive
 * (a stale file left by an earlier tsv must not decorate a runsv's status). */
export function readExtraFile(dir: string): ExtraStatus | undefined {
  let text: string;
  try {
    text = readFileSync(superviseFile(dir, SUPERVISE.extra), 'utf8');
  } catch {
    return undefined;
  }
  const x = decodeExtraStatus(text);
  if (x === undefined || typeof x.supervisor !== 'object' || x.supervisor === null) return undefined;
  // why: the supervisor's pid with its /proc start time proves it is the writer, alive.
  return isSameLiveProcess(x.supervisor.pid, x.supervisor.startTicks ?? undefined) ? x : undefined;
}

/** Does tsv.json describe the same moment as the 20-byte status? */
function agrees(x: ExtraStatus, rec: StatusRecord): boolean {
  return x.service.pid === rec.pid && x.service.state === rec.state;
}

/** Read status (and tsv.json) once supervise/ok answered: one read of each, no retry. A live
 * tsv's tsv.json carries the 20 status bytes it was written with, so its record and runit's
 * come from one file and always agree (the supervisor renames tsv.json before status; see
 * SuperviseDir.writeStatus); the `status` file is still read first, for sv's format check. A
 * tsv.json without that field (an older tsv) is used only when it agrees with `status`. */
export function readSnapshot(dir: string, readExtra?: ExtraReader): Snapshot | string {
  const bytes = readStatusBytes(dir);
  if (typeof bytes === 'string') return bytes;
  const rec = decodeStatus(bytes);
  if (rec === undefined) return 'unable to read supervise/status: bad format';
  const x = readExtra?.(dir);
  if (x === undefined) return { rec, extra: undefined, extraFile: undefined };
  const carried = statusOfExtra(x);
  if (carried !== undefined) return { rec: carried, extra: x.service, extraFile: x };
  return { rec, extra: agrees(x, rec) ? x.service : undefined, extraFile: x };
}

/** sv's svstatus_get(): liveness, then the status record. */
export function probe(dir: string, readExtra?: ExtraReader): Probe {
  const live = liveness(dir);
  if (live === 'no') return { kind: 'not-running' };
  if (live !== 'yes') return { kind: 'warn', message: `unable to open supervise/ok: ${errstr(live)}` };
  const snap = readSnapshot(dir, readExtra);
  return typeof snap === 'string' ? { kind: 'warn', message: snap } : { kind: 'ok', snap };
}

/** Write control letters to dir/supervise/control in one non-blocking write. Throws the open
 * error (ENXIO: no supervisor reads it; NotFifoError: not a FIFO) or the write error; a short
 * write throws an Error with code 'ESHORT'. */
export function writeControl(dir: string, letters: string): void {
  // why: non-blocking, so a FIFO with no reader fails with ENXIO instead of hanging; a
  // control that is not a FIFO (a symlink to a regular file) is never written.
  const fd = openFifoForWrite(superviseFile(dir, SUPERVISE.control));
  try {
    // why: one write() of the whole string, as sv: a FIFO write of < PIPE_BUF bytes is atomic,
    // so the letters arrive together and in order.
    const bytes = encodeControl(letters);
    const n = writeSync(fd, bytes);
    if (n !== bytes.length) throw Object.assign(new Error('short write'), { code: 'ESHORT' });
  } finally {
    closeSync(fd);
  }
}
