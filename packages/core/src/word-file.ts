// The one reader of tsv's word files (log/tsvlog, restart, ...): words separated by blanks
// and newlines, blank lines ignored, `#` starting a comment that runs to the end of its line.

/** The words of a word file's text, in order (comments and blank lines dropped). */
export function fileWords(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const hash = line.indexOf('#');
    for (const w of (hash >= 0 ? line.slice(0, hash) : line).split(/[ \t\r]+/)) if (w !== '') out.push(w);
  }
  return out;
}
