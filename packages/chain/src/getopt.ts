// djb's sgetopt, as runit's chpst and daemontools use it: options end at the first non-option
// word, at a lone "-", or after "--"; grouped flags (-vP) and attached arguments (-ufoo) work.
// Also the usage errors built on its complaints.
import { type ToolError, usageError } from '@tsv/core';

/** One parsed option: its letter and, for options that take one, its argument. */
export interface Opt {
  opt: string;
  arg: string;
}

/** What getopt found: the options in command-line order and the words after them. */
export interface Getopt {
  opts: Opt[];
  rest: string[];
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

/** Parse args against optstring ("u:vP": a letter followed by ':' takes an argument). */
export function getopt(args: readonly string[], optstring: string): Getopt {
  const opts: Opt[] = [];
  let i = 0;
  for (; i < args.length; i++) {
    const word = args[i] as string;
    if (word === '--') {
      i++;
      break;
    }
    if (word.length < 2 || word[0] !== '-') break;
    for (let j = 1; j < word.length; j++) {
      const letter = word[j] as string;
      const at = letter === ':' ? -1 : optstring.indexOf(letter);
      if (at < 0) throw new GetoptError(letter, 'illegal');
      if (optstring[at + 1] !== ':') {
        opts.push({ opt: letter, arg: '' });
        continue;
      }
      if (j + 1 < word.length) {
        opts.push({ opt: letter, arg: word.slice(j + 1) });
      } else {
        i++;
        if (i >= args.length) throw new GetoptError(letter, 'noarg');
        opts.push({ opt: letter, arg: args[i] as string });
      }
      break;
    }
  }
  return { opts, rest: args.slice(i) };
}

/** A usage ToolError for prog: the usage text, preceded by getopt's complaint when cause is a
 * GetoptError (`prog: illegal option -- Z`), as sgetopt prints it. */
export function usage(prog: string, text: string, exitCode: number, cause?: unknown): ToolError {
  const head = cause instanceof GetoptError ? `${prog}: ${cause.message}\n` : '';
  return usageError(`${head}${text}`, exitCode);
}
