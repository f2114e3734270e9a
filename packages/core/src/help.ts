// -h/--help and -V/--version of every program: one version line for all of them, one layout for
// every help text (what it does, synopsis, options, an example). Pure: callers print.

/** The version of tsv; checked against packages/core/package.json by its unit test. */
export const TSV_VERSION = '0.1.0';

/** The one version line every program prints: `NAME (tsv) VERSION`. */
export function versionLine(prog: string): string {
  return `${prog} (tsv) ${TSV_VERSION}`;
}

/** What a program's help says. */
export interface HelpSpec {
  /** one or more sentences: what the program does */
  what: string;
  /** synopsis lines, without the program name's `usage:` prefix */
  synopsis: readonly string[];
  /** [option, meaning] pairs */
  options: readonly (readonly [string, string])[];
  /** example command lines */
  examples: readonly string[];
  /** a closing note (documentation page, peer compatibility) */
  note?: string;
}

/** The help text of prog, laid out the same way for every program. */
export function helpText(prog: string, h: HelpSpec): string {
  const width = Math.max(0, ...h.options.map(([o]) => o.length));
  const lines = [`${prog}: ${h.what}`, '', 'Usage:', ...h.synopsis.map((s) => `  ${s}`), '', 'Options:'];
  for (const [o, m] of h.options) lines.push(`  ${o.padEnd(width)}  ${m}`);
  lines.push('', h.examples.length > 1 ? 'Examples:' : 'Example:', ...h.examples.map((e) => `  ${e}`));
  if (h.note !== undefined) lines.push('', h.note);
  return `${lines.join('\n')}\n`;
}

/** The options every program answers, as the first argument. */
export const HELP_OPTIONS: readonly string[] = ['-h', '--help'];
export const VERSION_OPTIONS: readonly string[] = ['-V', '--version'];

/** Does args ask for help or the version (the first argument, exactly)? peerV: the program runs
 * under a peer's name that gives -V its own meaning (sv, chpst, svlogd: version then usage), so
 * only --version is ours. */
export function metaRequest(args: readonly string[], peerV = false): 'help' | 'version' | undefined {
  const first = args[0];
  if (first === undefined) return undefined;
  if (HELP_OPTIONS.includes(first)) return 'help';
  if (first === '--version' || (first === '-V' && !peerV)) return 'version';
  return undefined;
}
