// tsvlog's command line, svlogd-compatible: [-ttv] [-r c] [-R abc] [-l len] [-b buflen] dir ...
import { EXIT, scanGetopt, usageError, versionLine } from '@tsv/core';

/** The usage line (exit 111, as svlogd). */
export const USAGE = 'usage: tsvlog [-ttv] [-r c] [-R abc] [-l len] [-b buflen] dir ...';

/** The usage line under the name the program was run as (`usage: svlogd ...` as svlogd). */
export function usageFor(prog: string): string {
  return `usage: ${prog} [-ttv] [-r c] [-R abc] [-l len] [-b buflen] dir ...`;
}

/** Exit code of usage and fatal errors (svlogd uses 111 for both). */
export const EXIT_FATAL = EXIT.temporary;

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
function count(text: string, usage: string, prog: string, opt: string): number {
  if (!/^[0-9]+$/.test(text)) throw usageError(`${prog}: fatal: invalid number for -${opt}: ${text}\n${usage}`, EXIT_FATAL);
  return Number(text);
}

/** svlogd's getopt string: flags t, v, V; r, R, l, b take a value. */
const OPTSTRING = 'tvVr:R:l:b:';

/** Parse tsvlog's arguments (without the program name); throws a usage ToolError (exit 111)
 * whose usage line names prog (the name the program was run as). */
export function parseTsvlogArgs(argv: string[], prog = 'tsvlog'): TsvlogOptions {
  const USAGE = usageFor(prog);
  const o: TsvlogOptions = { timestamp: 0, replaceChars: '', lineMax: 1000, bufLen: 1024, verbose: 0, dirs: [] };
  // why: the shared getopt (djb's sgetopt, as svlogd's): -ttv groups, -l80 or -l 80, options end
  // at the first operand, a lone "-" or "--". Every complaint ends in the same usage line, so
  // scanGetopt's result is checked rather than a GetoptError caught.
  const scan = scanGetopt(argv, OPTSTRING);
  let version = false;
  for (const { opt, arg } of scan.opts) {
    if (opt === 't') o.timestamp = Math.min(3, o.timestamp + 1) as 0 | 1 | 2 | 3;
    else if (opt === 'v') o.verbose++;
    else if (opt === 'V') version = true;
    else if (opt === 'r') {
      if (Buffer.byteLength(arg) !== 1) throw usageError(USAGE, EXIT_FATAL);
      o.replaceChar = arg;
    } else if (opt === 'R') o.replaceChars = arg;
    else if (opt === 'l') o.lineMax = count(arg, USAGE, prog, 'l') || 1000;
    else o.bufLen = count(arg, USAGE, prog, 'b') || 1024;
  }
  // why: svlogd prints sgetopt's complaint and then its usage; tsvlog prints the usage line only
  // (as before the move onto the shared getopt), with svlogd's exit code.
  if (scan.error !== undefined) throw usageError(USAGE, EXIT_FATAL);
  if (version) throw usageError(`${versionLine(prog)}\n${USAGE}`, EXIT_FATAL);
  if (o.replaceChars !== '' && o.replaceChar === undefined) o.replaceChar = '_';
  if (o.bufLen <= o.lineMax) throw usageError(USAGE, EXIT_FATAL);
  o.dirs = scan.rest;
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

/** Parse the arguments after `-c`: [-f] [-n N] dir ... (getopt "fn:": -fn5 groups); throws a
 * usage ToolError (exit 100). */
export function parseCatArgs(argv: string[]): CatOptions {
  const o: CatOptions = { follow: false, lines: undefined, dirs: [] };
  const scan = scanGetopt(argv, 'fn:');
  if (scan.error !== undefined) throw usageError(CAT_USAGE, EXIT.usage);
  for (const { opt, arg } of scan.opts) {
    if (opt === 'f') o.follow = true;
    else if (!/^[0-9]+$/.test(arg)) throw usageError(CAT_USAGE, EXIT.usage);
    else o.lines = Number(arg);
  }
  o.dirs = scan.rest;
  if (o.dirs.length === 0) throw usageError(CAT_USAGE, EXIT.usage);
  return o;
}
