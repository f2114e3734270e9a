// Account lookup from the files (never NSS): /etc/passwd and /etc/group of the current root, so
// after chpst's chroot the new root's files answer, as runit documents.
import { EXIT, fatalFrom, ToolError } from '@tsv/core';
import { readFileSync } from 'node:fs';

/** The fields of a passwd entry the wrappers use. */
export interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
}

/** A user and the group list to switch to: gids[0] is the primary gid. */
export interface UidGids {
  uid: number;
  gids: number[];
}

/** At most this many groups in a `-u user:g1:g2...` spec (runit's limit). */
export const MAX_GROUPS = 60;

/** Find the first line of a colon-separated database file whose first field is name. */
function findEntry(file: string, name: string): string[] | undefined {
  const text = readFileSync(file, 'latin1');
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f[0] === name && f.length >= 4) return f;
  }
  return undefined;
}

/** A decimal id field, or undefined when the field is not one (ids are 32 bits; -1 is not an id). */
function idField(s: string | undefined): number | undefined {
  if (s === undefined || !/^\d{1,10}$/.test(s)) return undefined;
  const n = Number(s);
  return n <= 0xfffffffe ? n : undefined;
}

/** Look name up in /etc/passwd; undefined when absent. Throws the fs error when the file cannot
 * be read (callers decide whether that is "unknown account" or an error of its own). */
export function getpwnam(name: string): PasswdEntry | undefined {
  if (name === '') return undefined;
  const f = findEntry('/etc/passwd', name);
  if (f === undefined) return undefined;
  const uid = idField(f[2]);
  const gid = idField(f[3]);
  return uid === undefined || gid === undefined ? undefined : { name, uid, gid };
}

/** Look a group up by name in /etc/group; undefined when absent (throws when unreadable). */
export function getgrnam(name: string): number | undefined {
  if (name === '') return undefined;
  const f = findEntry('/etc/group', name);
  return f === undefined ? undefined : idField(f[2]);
}

/** Parse runit's numeric form `uid:gid[:gid...]` (the spec without its leading ':'). */
function numericUidGids(spec: string): UidGids | undefined {
  const parts = spec.split(':');
  if (parts.length < 2 || parts.length > MAX_GROUPS + 1) return undefined;
  const ids = parts.map(idField);
  if (ids.some((x) => x === undefined)) return undefined;
  const [uid, ...gids] = ids as number[];
  return { uid: uid as number, gids };
}

/** runit's chpst -u / -U account syntax: `user`, `user:group[:group...]` or `:uid:gid[:gid...]`.
 * Throws chpst's messages: `invalid uid/gids: ...`, `unknown user/group: ...`, or
 * `unable to get password/group file entry: ...`. */
export function lookupUidGids(spec: string): UidGids {
  if (spec.startsWith(':')) {
    const r = numericUidGids(spec.slice(1));
    if (r === undefined) throw new ToolError(`invalid uid/gids: ${spec.slice(1)}`, EXIT.temporary);
    return r;
  }
  const [user = '', ...groups] = spec.split(':');
  try {
    const pw = getpwnam(user);
    if (pw === undefined || groups.length > MAX_GROUPS) throw new ToolError(`unknown user/group: ${spec}`, EXIT.temporary);
    if (groups.length === 0) return { uid: pw.uid, gids: [pw.gid] };
    const gids: number[] = [];
    for (const g of groups) {
      const gid = getgrnam(g);
      if (gid === undefined) throw new ToolError(`unknown user/group: ${spec}`, EXIT.temporary);
      gids.push(gid);
    }
    return { uid: pw.uid, gids };
  } catch (err) {
    if (err instanceof ToolError) throw err;
    throw fatalFrom('unable to get password/group file entry', err);
  }
}

/** daemontools' account lookup (setuidgid, envuidgid): a plain user name; any failure to find
 * it, an unreadable passwd file included, is `unknown account NAME`. */
export function lookupAccount(name: string): UidGids {
  let pw: PasswdEntry | undefined;
  try {
    pw = getpwnam(name);
  } catch {
    pw = undefined;
  }
  if (pw === undefined) throw new ToolError(`unknown account ${name}`, EXIT.temporary);
  return { uid: pw.uid, gids: [pw.gid] };
}

/** How the step that failed is named in messages, per family. */
export interface SwitchNames {
  setgroups: string;
  setgid: string;
  setuid: string;
}

/** Become ids: supplementary groups := exactly ids.gids, gid := gids[0], then uid (order
 * matters: once the uid is dropped, the groups can no longer be changed). */
export function switchUser(ids: UidGids, names: SwitchNames): void {
  const primary = ids.gids[0] as number;
  const { setgroups, setgid, setuid } = process;
  if (setgroups === undefined || setgid === undefined || setuid === undefined) throw new ToolError('unable to setgid: not supported', EXIT.temporary);
  // why: glibc's setgroups/setgid/setuid (which Node calls) apply to every thread of the process
  // (the setxid broadcast), so libuv's threads do not keep root while the main thread drops it.
  try {
    setgroups.call(process, ids.gids);
  } catch (err) {
    throw fatalFrom(names.setgroups, err);
  }
  try {
    setgid.call(process, primary);
  } catch (err) {
    throw fatalFrom(names.setgid, err);
  }
  try {
    setuid.call(process, ids.uid);
  } catch (err) {
    throw fatalFrom(names.setuid, err);
  }
}
