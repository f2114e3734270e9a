// The one getopt of every program that speaks runit/daemontools syntax (chpst and the
// daemontools wrappers, sv's options in tsvctl, svlogd's in tsvlog): djb's sgetopt. Options end
// at the first non-option word, at a lone "-", or after "--"; grouped flags (-vP) and attached
// arguments (-ufoo) work; an option's argument is the rest of its word, else the next word.
// Also the usage errors built on its complaints.
import { type ToolError, usageError } from './tool-error.js';

/** One parsed option: its letter (or a whole long flag) and, for options that take one, its argument. */
export interface Opt {
  opt: string;
  arg: string;
}

/** What getopt found: the options in command-line order and the words after them. */
export interface Getopt {
  opts: Opt[];
  rest: string[];
}

/** What scanGetopt found: as Getopt, plus the complaint that stopped it (opts then holds the
 * options before it, in order, so a caller can act on them as sgetopt's loop would). */
export interface GetoptScan extends Getopt {
  error: GetoptError | undefined;
}

/** A getopt failure: the offending letter and why (the caller prints usage). */
export class GetoptError extends Error {
  readonly letter: string;
  readonly kind: 'illegal' | 'noarg';
  constructor(letter: string, kind: 'illegal' | 'noarg') {
    super(kind === 'illegal' ? `illegal option -- ${letter}` : `option requires an argument -- ${letter}`);
    this.name = 'GetoptError';
    this.letter = letter;
    this.kind = kind;
  }
}

/** How scanGetopt treats what optstring does not name. */
export interface GetoptMode {
  /** 'accept': an unknown letter is a flag without argument (a reader of someone else's
   * command line, e.g. a logger's words in log/run); default 'error' */
  unknown?: 'error' | 'accept';
  /** whole words (e.g. `--json`) accepted among the options as flags; any other `--word` is
   * then illegal (the complaint names the word) */
  longFlags?: readonly string[];
}

/** Parse args against optstring ("u:vP": a letter followed by ':' takes an argument), stopping
 * at the first complaint instead of throwing. */
export function scanGetopt(args: readonly string[], optstring: string, mode: GetoptMode = {}): GetoptScan {
  const opts: Opt[] = [];
  const done = (i: number, error?: GetoptError): GetoptScan => ({ opts, rest: args.slice(i), error });
  let i = 0;
  for (; i < args.length; i++) {
    const word = args[i] as string;
    if (word === '--') return done(i + 1);
    if (word.length < 2 || word[0] !== '-') break;
    if (mode.longFlags !== undefined && word.startsWith('--')) {
      if (!mode.longFlags.includes(word)) return done(i, new GetoptError(word, 'illegal'));
      opts.push({ opt: word, arg: '' });
      continue;
    }
    for (let j = 1; j < word.length; j++) {
      const letter = word[j] as string;
      const at = letter === ':' ? -1 : optstring.indexOf(letter);
      if (at < 0) {
        if (mode.unknown !== 'accept') return done(i, new GetoptError(letter, 'illegal'));
        opts.push({ opt: letter, arg: '' });
        continue;
      }
      if (optstring[at + 1] !== ':') {
        opts.push({ opt: letter, arg: '' });
        continue;
      }
      if (j + 1 < word.length) {
        opts.push({ opt: letter, arg: word.slice(j + 1) });
      } else {
        i++;
        if (i >= args.length) return done(i, new GetoptError(letter, 'noarg'));
        opts.push({ opt: letter, arg: args[i] as string });
      }
      break;
    }
  }
  return done(i);
}

/** Parse args against optstring; throws the GetoptError of the first complaint. */
export function getopt(args: readonly string[], optstring: string, mode: GetoptMode = {}): Getopt {
  const r = scanGetopt(args, optstring, mode);
  if (r.error !== undefined) throw r.error;
  return { opts: r.opts, rest: r.rest };
}

/** A usage ToolError for prog: the usage text, preceded by getopt's complaint when cause is a
 * GetoptError (`prog: illegal option -- Z`), as sgetopt prints it. */
/** The usage error of an option whose value is no number: the line names option and value
 * (`softlimit: fatal: invalid number for -m: abc`), then the usage. */
export function badNumber(prog: string, opt: string, value: string, text: string, exitCode: number): ToolError {
  return usageError(`${prog}: fatal: invalid number for -${opt}: ${value}\n${text}`, exitCode);
}

export function usage(prog: string, text: string, exitCode: number, cause?: unknown): ToolError {
  const head = cause instanceof GetoptError ? `${prog}: ${cause.message}\n` : '';
  return usageError(`${head}${text}`, exitCode);
}
