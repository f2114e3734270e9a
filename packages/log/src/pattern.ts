// svlogd's pattern language (§3): `*X` skips to the first X (no backtracking), a trailing `*`
// matches the rest, `+X` is one or more X, any other byte matches itself. Pure.
import type { PatternLine } from './config.js';

const STAR = 0x2a;
const PLUS = 0x2b;

/** Does pattern p match line[start, end) (a port of svlogd's pmatch, byte for byte)? */
export function pmatch(p: Uint8Array, line: Uint8Array, start: number, end: number): boolean {
  let pi = 0;
  let s = start;
  for (;;) {
    if (pi >= p.length) return s === end;
    const c = p[pi++];
    if (c === STAR) {
      if (pi >= p.length) return true;
      const x = p[pi];
      // Skip to the FIRST x only; the pattern then continues at that x (no backtracking).
      for (;;) {
        if (s === end) return false;
        if (line[s] === x) break;
        s++;
      }
      continue;
    }
    if (c === PLUS) {
      if (pi >= p.length) return s === end;
      const x = p[pi++];
      if (s === end || line[s] !== x) return false;
      for (;;) {
        // svlogd: input exhausted inside a `+X` run counts as a match.
        if (s === end) return true;
        if (line[s] !== x) break;
        s++;
      }
      continue;
    }
    if (s === end || line[s] !== c) return false;
    s++;
  }
}

/** The decision for one line: written to the log? alerted on stderr? */
export interface Selection {
  log: boolean;
  alert: boolean;
}

/** Apply every pattern line in order to line[start, end): the last matching `+`/`-` decides
 * the log (default selected), the last matching `e`/`E` decides stderr (default not). */
export function select(patterns: readonly PatternLine[], line: Uint8Array, start: number, end: number): Selection {
  let log = true;
  let alert = false;
  for (const pl of patterns) {
    if (!pmatch(pl.pattern, line, start, end)) continue;
    if (pl.kind === '+') log = true;
    else if (pl.kind === '-') log = false;
    else if (pl.kind === 'e') alert = true;
    else alert = false;
  }
  return { log, alert };
}
