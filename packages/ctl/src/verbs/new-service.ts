// `tsvctl new NAME [--] CMD...`: make a service directory ready to drop into a scan directory:
// run (`#!/bin/sh`, `exec 2>&1`, exec of CMD shell-quoted, through envdir and chpst -u when asked),
// a logger into log/main, and optionally env/, notification-fd and down. Built under a dot name
// beside NAME and renamed into place, so a scanner never sees a half-made service.
import { chmodSync, existsSync, lstatSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { EXIT, fatalFrom, SERVICE, ToolError } from '@tsv/core';

/** What `new` is asked to make. */
export interface NewServiceSpec {
  /** the directory to make (a path; its parent must exist) */
  name: string;
  /** the command and its arguments, each one word */
  cmd: readonly string[];
  /** the directory CMD runs in (absolute; default: the service directory, as runsv and tsv run it) */
  cwd?: string | undefined;
  /** run as this user (chpst -u) */
  user?: string | undefined;
  /** K=V pairs written to env/ (read by envdir) */
  env?: readonly string[] | undefined;
  /** the fd the service writes a newline to when ready (notification-fd) */
  readyFd?: number | undefined;
  /** make a `down` file: the supervisor does not start it until told */
  down?: boolean | undefined;
  /** also a log/run (`exec tsvlog -tt ./main`): a separate logger process, which runit's runsv
   * needs (it cannot host log/tsvlog) */
  logRun?: boolean | undefined;
}

/** Quote a word for /bin/sh: as is when it holds only safe characters, else in single quotes. */
export function shellQuote(word: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** The env/ files for the K=V pairs (name to content), or a ToolError naming the bad pair. */
export function envFiles(pairs: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const p of pairs) {
    const eq = p.indexOf('=');
    const k = eq < 0 ? '' : p.slice(0, eq);
    const v = p.slice(eq + 1);
    if (k === '' || k.includes('/') || k.startsWith('.')) throw new ToolError(`invalid --env: ${p} (want NAME=VALUE)`, EXIT.usage);
    // why: envdir takes a file's first line and strips its trailing blanks: such a value cannot
    // survive the round trip, so it is refused rather than silently changed.
    if (/[\n\0]/.test(v) || /[ \t]$/.test(v)) throw new ToolError(`invalid --env value for ${k}: envdir keeps only one line without trailing blanks`, EXIT.usage);
    // why: an empty file makes envdir remove the variable; a lone newline sets it to ''.
    out.set(k, `${v}\n`);
  }
  return out;
}

/** Is the user of a chpst -u spec (`user` or `user:group`) in this /etc/passwd text? Numeric
 * and `:uid:gid` forms are not checked (true). */
export function userInPasswd(spec: string, passwd: string): boolean {
  const user = spec.split(':')[0] ?? '';
  if (user === '' || /^\d+$/.test(user)) return true;
  return passwd.split('\n').some((line) => line.startsWith(`${user}:`));
}

/** The text of run. */
export function runScript(spec: NewServiceSpec): string {
  const lines = ['#!/bin/sh', '# made by tsvctl new: stderr joins stdout, which the supervisor pipes to the logger (log/)', 'exec 2>&1'];
  const words: string[] = [];
  if (spec.cwd !== undefined) {
    lines.push(`cd ${shellQuote(spec.cwd)} || exit ${EXIT.temporary}`);
    // why: after the cd, $OLDPWD is the service directory wherever it has been moved to (an
    // absolute path written now would break on a move); runit's chpst has no -C to do the cd.
    if (spec.env !== undefined && spec.env.length > 0) words.push('envdir', '"$OLDPWD"/env');
  } else if (spec.env !== undefined && spec.env.length > 0) words.push('envdir', './env');
  if (spec.user !== undefined) words.push(...['chpst', '-u', spec.user].map(shellQuote));
  words.push(...spec.cmd.map(shellQuote));
  lines.push(`exec ${words.join(' ')}`, '');
  return lines.join('\n');
}

/** Check a spec; a ToolError (usage, EXIT.usage) for what cannot make a working service. */
function validate(spec: NewServiceSpec): void {
  if (spec.name === '' || basename(spec.name) === '' || basename(spec.name) === '.' || basename(spec.name) === '..') throw new ToolError(`invalid service name: ${spec.name}`, EXIT.usage);
  if (spec.cmd.length === 0 || spec.cmd[0] === '') throw new ToolError('new: no command given (tsvctl new NAME [--] CMD...)', EXIT.usage);
  if (spec.readyFd !== undefined && (!Number.isInteger(spec.readyFd) || spec.readyFd < 3)) throw new ToolError(`invalid --ready-fd: ${spec.readyFd} (want a number 3 or more: 0-2 are stdio)`, EXIT.usage);
  if (spec.user === '') throw new ToolError('invalid --user: empty', EXIT.usage);
  if (spec.cwd !== undefined && !spec.cwd.startsWith('/')) throw new ToolError(`invalid --cwd: ${spec.cwd} (want an absolute path)`, EXIT.usage);
}

/** Write a file with mode (umask aside: chmod after). */
function put(path: string, text: string, mode: number): void {
  writeFileSync(path, text, { mode });
  chmodSync(path, mode);
}

/** Make the service directory; returns the files made (relative to it). Throws a ToolError. */
export function makeService(spec: NewServiceSpec): string[] {
  validate(spec);
  const env = envFiles(spec.env ?? []);
  const target = spec.name.replace(/\/+$/, '');
  let exists = true;
  try {
    lstatSync(target);
  } catch {
    exists = false;
  }
  if (exists) throw new ToolError(`unable to create ${spec.name}: file exists`, EXIT.temporary);
  const parent = dirname(target);
  if (!existsSync(parent)) throw new ToolError(`unable to create ${spec.name}: directory ${parent} does not exist`, EXIT.temporary);
  // why: a dot name is ignored by tsvscan and runsvdir, so a service made inside a scan
  // directory appears whole, in one rename, never without its run or log/.
  const tmp = join(parent, `.${basename(target)}.new-${process.pid}`);
  const made: string[] = [];
  try {
    mkdirSync(tmp, { mode: 0o755 });
    put(join(tmp, SERVICE.run), runScript(spec), 0o755);
    made.push(SERVICE.run);
    const log = join(tmp, SERVICE.log);
    mkdirSync(join(log, 'main'), { recursive: true, mode: 0o755 });
    put(join(log, SERVICE.logInProcess), '-tt ./main\n', 0o644);
    made.push(`${SERVICE.log}/${SERVICE.logInProcess}`, `${SERVICE.log}/main/`);
    if (spec.logRun === true) {
      put(join(log, SERVICE.run), '#!/bin/sh\nexec tsvlog -tt ./main\n', 0o755);
      made.push(`${SERVICE.log}/${SERVICE.run}`);
    }
    if (env.size > 0) {
      // why: env values are often secrets: only the owner (the supervisor's user) reads them.
      mkdirSync(join(tmp, 'env'), { mode: 0o700 });
      for (const [k, v] of env) {
        put(join(tmp, 'env', k), v, 0o600);
        made.push(`env/${k}`);
      }
    }
    if (spec.readyFd !== undefined) {
      put(join(tmp, SERVICE.notificationFd), `${spec.readyFd}\n`, 0o644);
      made.push(SERVICE.notificationFd);
    }
    if (spec.down === true) {
      put(join(tmp, SERVICE.down), '', 0o644);
      made.push(SERVICE.down);
    }
    // why: rename would replace an empty directory made meanwhile; the lstat above is the
    // refusal, this the last check before the atomic step.
    if (existsSync(target)) throw new ToolError(`unable to create ${spec.name}: file exists`, EXIT.temporary);
    renameSync(tmp, target);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e instanceof ToolError ? e : fatalFrom(`unable to create ${spec.name}`, e, EXIT.temporary);
  }
  return made;
}

