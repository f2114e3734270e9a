// Reading the optional files of a service directory (down-signal, timeout-kill, timeout-finish,
// notification-fd, restart) into Settings, before each start of run. A missing file means the
// default; an invalid one a warning and the default.
import { readdirSync, readFileSync } from 'node:fs';
import { constants } from 'node:os';
import { join } from 'node:path';
import { errCode, errstr, SERVICE } from '@tsv/core';
import { DEFAULT_SETTINGS, parseRestartPolicy, parseSignal, parseUint, type Settings } from './policy.js';

/** The text of dir/name, or undefined when it does not exist (other errors are warned). */
function readFile(dir: string, name: string, warn: (m: string) => void, present?: Set<string>): string | undefined {
  if (present !== undefined && !present.has(name)) return undefined;
  try {
    return readFileSync(join(dir, name), 'utf8');
  } catch (err) {
    if (errCode(err) !== 'ENOENT') warn(`unable to read ${name}: ${errstr(err)}`);
    return undefined;
  }
}

/** Settings of the service in dir (the logger gets the same files from log/). */
export function readSettings(dir: string, warn: (m: string) => void): Settings {
  const s: Settings = { ...DEFAULT_SETTINGS };
  // why: one directory read instead of one failed open per optional file (respawn latency).
  let present: Set<string> | undefined;
  try {
    present = new Set(readdirSync(dir));
  } catch {
    present = undefined;
  }
  const readOptional = (name: string): string | undefined => readFile(dir, name, warn, present);
  const sig = readOptional(SERVICE.downSignal);
  if (sig !== undefined) {
    const v = parseSignal(sig, constants.signals);
    if (v === undefined) warn(`invalid ${SERVICE.downSignal}: ${sig.trim()}`);
    else s.downSignal = v;
  }
  const ms = (name: string): number | undefined => {
    const text = readOptional(name);
    if (text === undefined) return undefined;
    const v = parseUint(text);
    if (v === undefined) warn(`invalid ${name}: ${text.trim()}`);
    return v;
  };
  s.timeoutKillMs = ms(SERVICE.timeoutKill) ?? s.timeoutKillMs;
  s.timeoutFinishMs = ms(SERVICE.timeoutFinish) ?? s.timeoutFinishMs;
  const fdText = readOptional(SERVICE.notificationFd);
  if (fdText !== undefined) {
    const fd = parseUint(fdText);
    // why: 0-2 are the service's stdio; a huge N would make a huge stdio array.
    if (fd === undefined || fd < 3 || fd > 1023) warn(`invalid ${SERVICE.notificationFd}: ${fdText.trim()}`);
    else s.notificationFd = fd;
  }
  const restart = readOptional(SERVICE.restartPolicy);
  if (restart !== undefined) {
    const { policy, errors } = parseRestartPolicy(restart);
    for (const e of errors) warn(e);
    s.restart = policy;
  }
  return s;
}
