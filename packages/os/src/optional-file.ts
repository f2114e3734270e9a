// Files that are usually absent (a takeover's records, optional settings of a service), read
// without paying for an exception when they are: a failed open costs Node an Error object with
// its stack captured, where a stat that finds nothing returns undefined.
import { readFileSync, readdirSync, statSync } from 'node:fs';

/** The text of path, or undefined when nothing is there (ENOENT: nothing thrown). Other
 * errors throw as readFileSync's do (EACCES, EISDIR, ENOTDIR, a file removed between the stat
 * and the read). */
export function readIfPresent(path: string): string | undefined {
  if (statSync(path, { throwIfNoEntry: false }) === undefined) return undefined;
  return readFileSync(path, 'utf8');
}

/** The entries of directory path, or undefined when nothing is there (as readIfPresent). */
export function listIfPresent(path: string): string[] | undefined {
  if (statSync(path, { throwIfNoEntry: false }) === undefined) return undefined;
  return readdirSync(path);
}
