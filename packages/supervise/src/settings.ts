// Reading the optional files of a service directory (down-signal, timeout-kill, timeout-finish,
// notification-fd, restart, the control/<c> hooks and finish) into Settings, before each start
// of run (cached between starts while none of them changed: file-cache.ts). A missing file
// means the default; an invalid one a warning and the default.
import { closeSync, openSync, readdirSync, readFileSync, statSync, constants as fsc } from 'node:fs';
import { constants } from 'node:os';
import { join } from 'node:path';
import { errCode, errstr, SERVICE } from '@tsv/core';
import { type DirSeen, FileCache, listDir, type List, type Look } from './file-cache.js';
import { DEFAULT_SETTINGS, parseRestartPolicy, parseSignal, parseUint, type Settings } from './policy.js';

/** The text of dir/name, or undefined when it does not exist (other errors are warned). */
function readFile(dir: string, name: string, warn: (m: string) => void, look: Look, present?: ReadonlySet<string>): string | undefined {
  if (present !== undefined && !present.has(name)) return undefined;
  look(join(dir, name));
  try {
    return readFileSync(join(dir, name), 'utf8');
  } catch (err) {
    if (errCode(err) !== 'ENOENT') warn(`unable to read ${name}: ${errstr(err)}`);
    return undefined;
  }
}

/** Settings of the service in dir (the logger gets the same files from log/, but never hooks
 * or finish: pass service false). */
export function readSettings(dir: string, warn: (m: string) => void, service = true, look: Look = () => undefined, list: List = listDir): Settings {
  const s: Settings = { ...DEFAULT_SETTINGS };
  // why: the directory's own stamp changes when an entry is added, removed or renamed over.
  look(dir);
  // why: one directory read instead of one failed open per optional file (respawn latency).
  const present = list(dir);
  const readOptional = (name: string): string | undefined => readFile(dir, name, warn, look, present);
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
  if (service) {
    s.hooks = readHooks(dir, present, warn, look);
    const maybeFinish = present === undefined || present.has(SERVICE.finish);
    if (maybeFinish) look(join(dir, SERVICE.finish));
    s.hasFinish = canOpen(join(dir, SERVICE.finish), maybeFinish);
    s.watch = present !== undefined && present.has(SERVICE.watch);
  }
  return s;
}

/** The settings of dir kept between starts: read again only when a file they come from changed
 * (one stat of dir when the service has none of the optional files); seen: dir as the set-up
 * looked at it, taken by the first read. */
export function settingsCache(dir: string, service = true, seen?: DirSeen): FileCache<Settings> {
  return new FileCache((look, warn, list) => readSettings(dir, warn, service, look, list), seen?.path === dir ? seen : undefined);
}

/** The letters c of control/c with the owner's x bit (runsv's test before running a hook). */
function readHooks(dir: string, present: ReadonlySet<string> | undefined, warn: (m: string) => void, look: Look): string[] {
  if (present !== undefined && !present.has(SERVICE.control)) return [];
  look(join(dir, SERVICE.control));
  let names: string[];
  try {
    names = readdirSync(join(dir, SERVICE.control));
  } catch (err) {
    if (errCode(err) !== 'ENOENT' && errCode(err) !== 'ENOTDIR') warn(`unable to read ${SERVICE.control}: ${errstr(err)}`);
    return [];
  }
  const out: string[] = [];
  for (const n of names) {
    if (n.length !== 1) continue;
    // why: a chmod (the x bit runsv tests) changes the file's ctime and mode: both stamped.
    look(join(dir, SERVICE.control, n));
    try {
      const st = statSync(join(dir, SERVICE.control, n), { throwIfNoEntry: false });
      if (st !== undefined && (st.mode & fsc.S_IXUSR) !== 0) out.push(n);
    } catch (err) {
      warn(`unable to stat ${SERVICE.control}/${n}: ${errstr(err)}`);
    }
  }
  return out;
}

/** runsv tests finish by opening it for reading (not by its x bit). */
function canOpen(path: string, maybe: boolean): boolean {
  if (!maybe) return false;
  try {
    closeSync(openSync(path, fsc.O_RDONLY | fsc.O_NONBLOCK));
    return true;
  } catch {
    return false;
  }
}
