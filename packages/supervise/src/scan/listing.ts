// Reading the scan directory: which entries are services, and their identity (device and inode
// of the target, as runsvdir keys its table), so renamed or replaced directories are recognised.
import { lstatSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { errstr } from '@tsv/core';

/** One service found in the scan directory. */
export interface ListedService {
  /** identity of the target directory: `dev:ino` */
  key: string;
  /** the entry's name in the scan directory (may hold spaces, newlines, any byte but '/') */
  name: string;
}

/** An entry that looked like a service but could not be examined (e.g. a dangling symlink). */
export interface ListingProblem {
  name: string;
  message: string;
}

/** The result of reading the scan directory once. */
export interface Listing {
  services: ListedService[];
  problems: ListingProblem[];
}

/** The identity key of a stat result: device and inode (bigint: inodes may exceed 2^53). */
export function identityKey(st: { dev: bigint; ino: bigint }): string {
  return `${st.dev}:${st.ino}`;
}

/** Is name a candidate service name? Names starting with '.' are skipped, as runsvdir does (this
 * also hides tsvscan's own lock file). */
export function isServiceName(name: string): boolean {
  return name.length > 0 && !name.startsWith('.');
}

/** Read dir: every subdirectory, or symlink to one, whose name does not start with '.'. The first
 * name seen for a target wins when two names lead to the same directory. Throws when dir itself
 * cannot be read (the caller decides what that means). */
export function readListing(dir: string): Listing {
  const services: ListedService[] = [];
  const problems: ListingProblem[] = [];
  const seen = new Set<string>();
  // why: sorted, so that which of two names for one target wins does not depend on readdir order.
  for (const name of readdirSync(dir).sort()) {
    if (!isServiceName(name)) continue;
    let st;
    try {
      // why: stat, not lstat: a symlink to a directory is a service, keyed by its target.
      st = statSync(join(dir, name), { bigint: true });
    } catch (e) {
      // why: an entry removed between readdir and stat is simply gone, not a problem.
      if ((e as NodeJS.ErrnoException).code === 'ENOENT' && !isSymlink(join(dir, name))) continue;
      problems.push({ name, message: `unable to stat ${name}: ${errstr(e)}` });
      continue;
    }
    if (!st.isDirectory()) continue;
    const key = identityKey(st);
    if (seen.has(key)) continue;
    seen.add(key);
    services.push({ key, name });
  }
  return { services, problems };
}

/** Is path a symlink (not followed)? False when it is gone. */
function isSymlink(path: string): boolean {
  try {
    return lstatSync(path, { throwIfNoEntry: false })?.isSymbolicLink() ?? false;
  } catch {
    return false;
  }
}
