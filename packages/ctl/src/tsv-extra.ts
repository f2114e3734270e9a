// supervise/tsv.json, tsv's record of what runit's status cannot say. Loaded only when a
// service has one (a real runsv never writes it), to keep `tsvctl status` start-up short.
import { decodeExtraStatus, type ExtraStatus, SUPERVISE } from '@tsv/core';
import { readFileSync } from 'node:fs';
import { isSameLiveProcess } from '@tsv/os';
import { superviseFile } from './status.js';

export { monoNowMs } from '@tsv/core';

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
