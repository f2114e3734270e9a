// Where a service's log lives: the directories named in log/tsvlog (tsv's in-process logger),
// else log/ itself or its subdirectories holding a `current` file, else the directories named on
// the svlogd/tsvlog/multilog line of log/run. Relative names are taken from log/.
import { fileWords, LOGDIR, SERVICE } from '@tsv/core';
import { operandsOf } from './argv.js';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';

/** svlogd/tsvlog options that take a value (attached, or the next word). */
const OPTS_WITH_VALUE = 'rRlb';

/** The operands of a logger's argument list (its log directories), parsed as svlogd's and
 * tsvlog's getopt does: options end at the first operand or `--`; -ttv groups; -l80 or -l 80. */
export function logDirWords(words: readonly string[]): string[] {
  return operandsOf(words, OPTS_WITH_VALUE);
}

/** Split a line on blanks, dropping shell redirections and anything after a comment. */
function words(line: string): string[] {
  const cut = line.indexOf('#');
  return (cut >= 0 ? line.slice(0, cut) : line).split(/[ \t]+/).filter((w) => w !== '' && !/^[0-9]*[<>]/.test(w));
}

/** Is d a directory? */
function isDir(d: string): boolean {
  try {
    return statSync(d).isDirectory();
  } catch {
    return false;
  }
}

/** Resolve a logger's directory word relative to log/. */
function fromLog(logDir: string, w: string): string {
  return w.startsWith('/') ? w : `${logDir}/${w}`;
}

/** The logger's directories named on log/run's svlogd/tsvlog/multilog line (plain words only:
 * a word with shell syntax in it is not guessed at). */
function fromRunScript(logDir: string): string[] {
  let text: string;
  try {
    text = readFileSync(`${logDir}/${SERVICE.run}`, 'utf8');
  } catch {
    return [];
  }
  for (const line of text.split('\n')) {
    const ws = words(line);
    const at = ws.findIndex((w) => /(^|\/)(svlogd|tsvlog|multilog)$/.test(w));
    if (at < 0) continue;
    const isMultilog = /multilog$/.test(ws[at] as string);
    const args = ws.slice(at + 1).filter((w) => !/[$`'"|;&*]/.test(w));
    // why: multilog's directories are the words starting with . or /; the rest are actions.
    const dirs = isMultilog ? args.filter((w) => w.startsWith('.') || w.startsWith('/')) : logDirWords(args);
    return dirs.map((w) => fromLog(logDir, w)).filter(isDir);
  }
  return [];
}

/** The log directories of the service in dir (empty when none is found). */
export function findLogDirs(dir: string): string[] {
  const logDir = `${dir}/${SERVICE.log}`;
  try {
    const named = logDirWords(fileWords(readFileSync(`${logDir}/${SERVICE.logInProcess}`, 'utf8')));
    if (named.length > 0) return named.map((w) => fromLog(logDir, w));
  } catch {
    // no log/tsvlog
  }
  const out: string[] = [];
  if (existsSync(`${logDir}/${LOGDIR.current}`)) out.push(logDir);
  let entries: string[] = [];
  try {
    entries = readdirSync(logDir).sort();
  } catch {
    return out;
  }
  for (const e of entries) {
    if (e === SERVICE.supervise) continue;
    const d = `${logDir}/${e}`;
    if (isDir(d) && existsSync(`${d}/${LOGDIR.current}`)) out.push(d);
  }
  return out.length > 0 ? out : fromRunScript(logDir);
}
