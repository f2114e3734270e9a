// The `watch` file of a service directory (watch mode, docs/watch-mode.md), parsed: one entry a
// line, a path or glob to watch, `!` before one to ignore, `debounce=MS`, `#` comments. Pure.
import { fileWords } from '@tsv/core';

/** What a `watch` file asks for. */
export interface WatchSpec {
  /** paths and globs to watch, as written (relative to the service directory, or absolute) */
  watch: string[];
  /** paths and globs to ignore, as written (without their `!`) */
  ignore: string[];
  /** quiet time after the last change before the restart, ms */
  debounceMs: number;
}

/** The debounce when the file sets none, ms: long enough for an editor's save (write, rename)
 * or a `git checkout` to be one burst, short enough not to be noticed. */
export const DEFAULT_DEBOUNCE_MS = 200;

/** Parse the text of a `watch` file; errors name each word that could not be used. A file
 * that names nothing to watch watches the service directory itself (`.`). */
export function parseWatchSpec(text: string): { spec: WatchSpec; errors: string[] } {
  const spec: WatchSpec = { watch: [], ignore: [], debounceMs: DEFAULT_DEBOUNCE_MS };
  const errors: string[] = [];
  for (const word of fileWords(text)) {
    if (word.startsWith('debounce=')) {
      const v = word.slice('debounce='.length);
      if (/^[0-9]{1,7}$/.test(v)) spec.debounceMs = Number(v);
      else errors.push(`bad word in watch: ${word}`);
    } else if (word.startsWith('!')) {
      if (word.length > 1) spec.ignore.push(word.slice(1));
      else errors.push(`bad word in watch: ${word}`);
    } else spec.watch.push(word);
  }
  if (spec.watch.length === 0) spec.watch.push('.');
  return { spec, errors };
}
