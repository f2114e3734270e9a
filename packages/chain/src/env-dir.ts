// Reading an environment directory (daemontools envdir, runit chpst -e) into pathexec-style
// changes, and applying such changes to an environment list.
import { type EnvList, fatalFrom } from '@tsv/core';
import { type Dir, opendirSync, readFileSync } from 'node:fs';

/** One queued change, as runit/daemontools' pathexec_env keeps them: `NAME=value` sets,
 * a bare `NAME` removes. NAME may itself contain '=' (the file name is not validated). */
export type EnvChange = string;

/** How a family treats the directory: message punctuation and subdirectories. */
export interface EnvDirStyle {
  /** runit prints `unable to read ...: ` with a colon after the verb's object; djb without */
  runit: boolean;
  /** chpst -e skips entries that are directories (warning when verbose); envdir fails */
  skipDirs: boolean;
  /** called with a warning text for a skipped entry (chpst -v) */
  warn?: (text: string) => void;
  /** called with a warning text for a file name holding '=' (always printed by our CLIs) */
  notice?: (text: string) => void;
}

/** The value of an env file: up to the first newline, trailing blanks and tabs removed, each
 * NUL turned into a newline; undefined for an empty file (remove the variable). */
export function envFileValue(bytes: Buffer): string | undefined {
  if (bytes.length === 0) return undefined;
  let end = bytes.indexOf(0x0a);
  if (end < 0) end = bytes.length;
  while (end > 0 && (bytes[end - 1] === 0x20 || bytes[end - 1] === 0x09)) end--;
  const v = Buffer.from(bytes.subarray(0, end));
  for (let i = 0; i < v.length; i++) if (v[i] === 0) v[i] = 0x0a;
  return v.toString('utf8');
}

/** Read every entry of dir not starting with '.', in readdir order (not sorted: the order
 * decides between clashing names such as `A` and `A=B`, as it does for the C tools). */
export function readEnvDir(dir: string, style: EnvDirStyle): EnvChange[] {
  let d: Dir;
  try {
    d = opendirSync(dir);
  } catch (err) {
    throw fatalFrom(style.runit ? `unable to switch to directory: ${dir}` : `unable to switch to directory ${dir}`, err);
  }
  const changes: EnvChange[] = [];
  try {
    for (;;) {
      let ent;
      try {
        ent = d.readSync();
      } catch (err) {
        throw fatalFrom(style.runit ? `unable to read directory: ${dir}` : `unable to read directory ${dir}`, err);
      }
      if (ent === null) break;
      const name = ent.name;
      if (name.startsWith('.')) continue;
      let bytes: Buffer;
      try {
        bytes = readFileSync(`${dir}/${name}`);
      } catch (err) {
        if (style.skipDirs && (err as NodeJS.ErrnoException).code === 'EISDIR') {
          style.warn?.(`unable to read ${dir}/${name}: is a directory`);
          continue;
        }
        throw fatalFrom(`unable to read ${dir}/${name}`, err);
      }
      const eq = name.indexOf('=');
      // why: the C tools do not validate names; `C=D` containing `x` sets C to `D=x`. We do
      // the same, and say so in one line.
      if (eq >= 0) style.notice?.(`${dir}/${name}: file name contains '=': sets ${name.slice(0, eq)}`);
      const value = envFileValue(bytes);
      changes.push(value === undefined ? name : `${name}=${value}`);
    }
  } finally {
    d.closeSync();
  }
  return changes;
}

/** Apply changes in order, exactly as pathexec does: each removes the first entry whose name
 * equals the change's part before its first '=', then a change holding '=' is appended. */
export function applyEnvChanges(env: EnvList, changes: readonly EnvChange[]): void {
  for (const c of changes) {
    const eq = c.indexOf('=');
    const key = eq < 0 ? c : c.slice(0, eq);
    const i = env.findIndex((e) => e.startsWith(`${key}=`));
    if (i >= 0) env.splice(i, 1);
    if (eq >= 0) env.push(c);
  }
}

/** The value of PATH in env (undefined when unset). */
export function envPath(env: EnvList): string | undefined {
  const e = env.find((x) => x.startsWith('PATH='));
  return e === undefined ? undefined : e.slice(5);
}
