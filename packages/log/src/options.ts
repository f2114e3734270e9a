// tsvlog's command line, svlogd-compatible: [-ttv] [-r c] [-R abc] [-l len] [-b buflen] dir ...
import { usageError, versionLine } from '@tsv/core';

/** The usage line (exit 111, as svlogd). */
export const USAGE = 'usage: tsvlog [-ttv] [-r c] [-R abc] [-l len] [-b buflen] dir ...';

/** The usage line under the name the program was run as (`usage: svlogd ...` as svlogd). */
export function usageFor(prog: string): string {
  return `usage: ${prog} [-ttv] [-r c] [-R abc] [-l len] [-b buflen] dir ...`;
}

/** Exit code of usage and fatal errors (svlogd uses 111 for both). */
export const EXIT_FATAL = 111;

/** What the command line of tsvlog says. */
export interface TsvlogOptions {
  /** 0: no stamp; 1 (-t): `@<tai64n> `; 2 (-tt): `YYYY-MM-DD_HH:MM:SS.fffff `; 3 (-ttt): same with `T` */
  timestamp: 0 | 1 | 2 | 3;
  /** -r: the replacement character (one byte); undefined when neither -r nor -R was given */
  replaceChar?: string;
  /** -R: further characters to replace (besides bytes < 32 and > 126) */
  replaceChars: string;
  /** -l: how many leading bytes of a line are matched and alerted (default 1000) */
  lineMax: number;
  /** -b: svlogd's buffer size; must exceed lineMax; tsvlog holds at most max(buflen, 64 KiB) of a partial line */
  bufLen: number;
  /** -v count */
  verbose: number;
  /** the log directories, in order */
  dirs: string[];
}

/** Parse a decimal count, or throw the usage error. */
function count(text: string | undefined, usage: string, prog: string, opt: string): number {
  if (text === undefined || !/^[0-9]+$/.test(text)) throw usageError(text === undefined ? usage : `${prog}: fatal: invalid number for -${opt}: ${text}\n${usage}`, EXIT_FATAL);
  return Number(text);
}

/** Parse tsvlog's arguments (without the program name); throws a usage ToolError (exit 111)
 * whose usage line names prog (the name the program was run as). */
export function parseTsvlogArgs(argv: string[], prog = 'tsvlog'): TsvlogOptions {
  const USAGE = usageFor(prog);
  const o: TsvlogOptions = { timestamp: 0, replaceChars: '', lineMax: 1000, bufLen: 1024, verbose: 0, dirs: [] };
  let i = 0;
  let version = false;
  for (; i < argv.length; i++) {
    const a = argv[i] ?? '';
    if (a === '--') {
      i++;
      break;
    }
    if (a.length < 2 || a[0] !== '-') break;
    // getopt style: flags may be grouped (-ttv) and an option argument may be attached (-l80).
    for (let j = 1; j < a.length; j++) {
      const c = a[j];
      if (c === 't') o.timestamp = Math.min(3, o.timestamp + 1) as 0 | 1 | 2 | 3;
      else if (c === 'v') o.verbose++;
      else if (c === 'V') version = true;
      else if (c === 'r' || c === 'R' || c === 'l' || c === 'b') {
        let val: string | undefined = a.slice(j + 1);
        if (val === '') val = argv[++i];
        if (val === undefined) throw usageError(USAGE, EXIT_FATAL);
        if (c === 'r') {
          if (Buffer.byteLength(val) !== 1) throw usageError(USAGE, EXIT_FATAL);
          o.replaceChar = val;
        } else if (c === 'R') o.replaceChars = val;
        else if (c === 'l') o.lineMax = count(val, USAGE, prog, 'l') || 1000;
        else o.bufLen = count(val, USAGE, prog, 'b') || 1024;
        break;
      } else throw usageError(USAGE, EXIT_FATAL);
    }
  }
  if (version) throw usageError(`${versionLine(prog)}\n${USAGE}`, EXIT_FATAL);
  if (o.replaceChars !== '' && o.replaceChar === undefined) o.replaceChar = '_';
  if (o.bufLen <= o.lineMax) throw usageError(USAGE, EXIT_FATAL);
  o.dirs = argv.slice(i);
  if (o.dirs.length === 0) throw usageError(USAGE, EXIT_FATAL);
  return o;
}

/** The usage of tsvlog's reading mode. */
export const CAT_USAGE = 'usage: tsvlog -c [-f] [-n lines] dir ...';

/** What `tsvlog -c` (print log dirs) is asked. */
export interface CatOptions {
  follow: boolean;
  lines: number | undefined;
  dirs: string[];
}

/** Parse the arguments after `-c`: [-f] [-n N] dir ...; throws a usage ToolError (exit 100). */
export function parseCatArgs(argv: string[]): CatOptions {
  const o: CatOptions = { follow: false, lines: undefined, dirs: [] };
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i] ?? '';
    if (a === '--') {
      i++;
      break;
    }
    if (a === '-f') o.follow = true;
    else if (a.startsWith('-n')) {
      const v = a.length > 2 ? a.slice(2) : argv[++i];
      if (v === undefined || !/^[0-9]+$/.test(v)) throw usageError(CAT_USAGE, 100);
      o.lines = Number(v);
    } else if (a.startsWith('-') && a.length > 1) throw usageError(CAT_USAGE, 100);
    else break;
  }
  o.dirs = argv.slice(i);
  if (o.dirs.length === 0) throw usageError(CAT_USAGE, 100);
  return o;
}
