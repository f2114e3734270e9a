// Program lookup in PATH (spec README) and environments as lists, the pure half of exec: the
// syscalls (execve, fds, rlimits) are @tsv/os's.

/** Directories to search for name: none when it contains '/', else $PATH's elements
 * (default /bin:/usr/bin; an empty element means '.'). */
export function searchDirs(name: string, pathVar: string | undefined): string[] | undefined {
  if (name.includes('/')) return undefined;
  return (pathVar ?? '/bin:/usr/bin').split(':').map((d) => (d === '' ? '.' : d));
}

/** Candidate files for name in lookup order. */
export function candidates(name: string, pathVar: string | undefined): string[] {
  const dirs = searchDirs(name, pathVar);
  return dirs === undefined ? [name] : dirs.map((d) => `${d}/${name}`);
}

/** Errors after which the lookup goes on to the next PATH element, remembering the error. */
const REMEMBERED = new Set(['EACCES', 'EPERM', 'EISDIR']);

/** What to do after one failed candidate: 'next' (ENOENT), 'remember' or 'stop'. ENOTDIR (a
 * PATH element that is a file) stops, as in runit and daemontools (verified: both report
 * `unable to run ...: not a directory` for PATH=/etc/passwd:/usr/bin). */
export function lookupStep(code: string | undefined): 'next' | 'remember' | 'stop' {
  if (code === 'ENOENT') return 'next';
  if (code !== undefined && REMEMBERED.has(code)) return 'remember';
  return 'stop';
}

/** An environment as an ordered list of NAME=value entries, like environ. */
export type EnvList = string[];

/** Build an EnvList from a record. */
export function envFromRecord(rec: NodeJS.ProcessEnv): EnvList {
  const out: EnvList = [];
  for (const [k, v] of Object.entries(rec)) if (v !== undefined) out.push(`${k}=${v}`);
  return out;
}

/** Remove the first entry for name (the part before the first '='), as runit's pathexec does. */
export function envUnset(env: EnvList, name: string): void {
  const key = name.split('=')[0] ?? name;
  const i = env.findIndex((x) => x.startsWith(`${key}=`));
  if (i >= 0) env.splice(i, 1);
}

/** Set name=value (name may itself hold '=', kept verbatim as daemontools does). */
export function envSet(env: EnvList, name: string, value: string): void {
  envUnset(env, name);
  env.push(`${name}=${value}`);
}

