// The lifeline: an optional fd (its number in the service's lifeline-fd file, as
// notification-fd names the readiness fd) on which run gets the read end of a pipe whose only
// write end the supervisor holds. It never carries data: a read returns end-of-file exactly
// when the supervisor is gone (exit, crash, SIGKILL), so a worker can finish its task and exit
// on its own instead of living on unsupervised (docs/worker-pools.md).
import { join } from 'node:path';
import { constants } from 'node:os';
import { errCode, errstr, SERVICE } from '@tsv/core';
import { readIfPresent } from '@tsv/os';
import { parseSignal } from './policy.js';

/** The fd number lifeline-fd names (3..1023), or undefined (no file, or invalid: a warning);
 * names: dir's listing, when the caller has one (a name not in it is not looked for). */
export function readLifelineFd(dir: string, warn: (m: string) => void, names?: ReadonlySet<string>): number | undefined {
  if (names !== undefined && !names.has(SERVICE.lifelineFd)) return undefined;
  let text: string | undefined;
  try {
    text = readIfPresent(join(dir, SERVICE.lifelineFd));
  } catch (err) {
    if (errCode(err) !== 'ENOENT') warn(`unable to read ${SERVICE.lifelineFd}: ${errstr(err)}`);
    return undefined;
  }
  return text === undefined ? undefined : parseLifelineFd(text, warn);
}

/** The fd number in a lifeline-fd file's text: 3..1023 (0-2 are stdio; a huge one would make
 * a huge stdio list), else a warning and undefined. */
export function parseLifelineFd(text: string, warn: (m: string) => void): number | undefined {
  const word = text.split('\n')[0]?.trim() ?? '';
  const n = Number(word);
  if (!/^\d+$/.test(word) || n < 3 || n > 1023) {
    warn(`invalid ${SERVICE.lifelineFd}: ${word}`);
    return undefined;
  }
  return n;
}

/** The signal number pdeath-signal names (a name like TERM or SIGTERM, or a number), or
 * undefined (no file, or invalid: a warning); names as readLifelineFd's. */
export function readPdeathSignal(dir: string, warn: (m: string) => void, names?: ReadonlySet<string>): number | undefined {
  if (names !== undefined && !names.has(SERVICE.pdeathSignal)) return undefined;
  let text: string | undefined;
  try {
    text = readIfPresent(join(dir, SERVICE.pdeathSignal));
  } catch (err) {
    if (errCode(err) !== 'ENOENT') warn(`unable to read ${SERVICE.pdeathSignal}: ${errstr(err)}`);
    return undefined;
  }
  if (text === undefined) return undefined;
  const sig = parseSignal(text, constants.signals);
  const n = sig === undefined ? undefined : constants.signals[sig];
  if (n === undefined) warn(`invalid ${SERVICE.pdeathSignal}: ${text.trim()}`);
  return n;
}
