// tsvctl's command words under its own name: every word it knows (sv's, its own, the yargs
// verbs), and the strict check that turns a typo into an error naming the nearest word. Run as
// `sv` (or in LSB mode) this is not used: sv's first-letter leniency stays (runit.md 3.3).
import { EXIT, ToolError } from '@tsv/core';

/** The verbs parsed by the yargs front end (verbs/front.ts), loaded only when one runs. */
export const FRONT_VERBS: readonly string[] = ['help', 'completion', 'list', 'new', 'jobs', 'boot'];

/** sv's command words (runit.md 3.3) and tsvctl's own hand-parsed ones (log, signal). */
export const SV_WORDS: readonly string[] = [
  'status', 'up', 'down', 'once', 'pause', 'cont', 'hup', 'alarm', 'interrupt', 'quit', '1', '2', 'term', 'kill', 'exit',
  'start', 'stop', 'reload', 'restart', 'shutdown', 'force-stop', 'force-reload', 'force-restart', 'force-shutdown', 'try-restart', 'check',
  'log', 'signal',
];

/** Single letters sv reads as a command (its own one-letter forms, capitals included): not typos. */
const LETTERS = new Set(['u', 'd', 'o', 'p', 'c', 'h', 'a', 'i', 'q', '1', '2', 't', 'k', 'x', 'e', 's', 'D', 'T', 'E', 'X']);

/** Is word a command tsvctl knows by its exact spelling? */
export function isKnownCommand(word: string): boolean {
  return LETTERS.has(word) || SV_WORDS.includes(word) || FRONT_VERBS.includes(word);
}

/** Edit distance with adjacent transpositions (optimal string alignment): `stpo` is 1 from `stop`. */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const row = d[i] as number[];
      const prev = d[i - 1] as number[];
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min((prev[j] as number) + 1, (row[j - 1] as number) + 1, (prev[j - 1] as number) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, ((d[i - 2] as number[])[j - 2] as number) + 1);
      row[j] = v;
    }
  }
  return (d[a.length] as number[])[b.length] as number;
}

/** The known command word nearest to word (the first of the closest, in the order listed). */
export function nearestCommand(word: string): string {
  let best = 'status';
  let bestD = Infinity;
  for (const w of [...SV_WORDS, ...FRONT_VERBS]) {
    const dist = editDistance(word.toLowerCase(), w);
    if (dist < bestD) {
      best = w;
      bestD = dist;
    }
  }
  return best;
}

/** tsvctl's strict check: a ToolError (exit 100) for a word it does not know, else undefined. */
export function unknownCommand(word: string): ToolError | undefined {
  if (isKnownCommand(word)) return undefined;
  return new ToolError(`unknown command: ${word} (did you mean ${nearestCommand(word)}?)`, EXIT.usage);
}

/** Does this command line go to the yargs front end? Only under the name tsvctl: a yargs verb
 * first, help options first (`-h`, `--help`, or after a command word: `tsvctl up --help`), or
 * yargs' completion query (the completion scripts run `tsvctl --get-yargs-completions ...`). */
export function wantsFront(prog: string, args: readonly string[]): boolean {
  if (prog !== 'tsvctl') return false;
  const first = args[0];
  if (first === undefined) return false;
  if (FRONT_VERBS.includes(first) || first === '-h' || first === '--help' || first === '--get-yargs-completions') return true;
  return args[1] === '--help' && isKnownCommand(first);
}
