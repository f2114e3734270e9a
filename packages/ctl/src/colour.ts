// Colours for a terminal: only when stdout is a TTY and NO_COLOR is unset or empty.

/** Should output to this stream be coloured? */
export function wantColour(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv): boolean {
  return stream.isTTY === true && (env.NO_COLOR === undefined || env.NO_COLOR === '');
}

const CODES = { red: 31, green: 32, yellow: 33, bold: 1, dim: 2 } as const;

/** A colour by name. */
export type Colour = keyof typeof CODES;

/** text in colour c when on is set. */
export function paint(text: string, c: Colour | undefined, on: boolean): string {
  return on && c !== undefined ? `\x1b[${CODES[c]}m${text}\x1b[0m` : text;
}

/** The colour of a state word: run green, finish yellow, down red when it should be up. */
export function stateColour(state: string, wantUp: boolean): Colour | undefined {
  if (state === 'run') return 'green';
  if (state === 'finish') return 'yellow';
  if (state === 'down') return wantUp ? 'red' : undefined;
  return 'red';
}

/** A table cell: its text and colour. */
export interface Cell {
  text: string;
  colour?: Colour | undefined;
}

/** Rows of cells (the first the header) as aligned text: two spaces between columns, no
 * trailing blanks, colours only when on. */
export function alignTable(rows: readonly (readonly Cell[])[], on: boolean): string {
  const columns = Math.max(0, ...rows.map((r) => r.length));
  const widths = Array.from({ length: columns }, (_, i) => Math.max(...rows.map((r) => r[i]?.text.length ?? 0)));
  const lines = rows.map((r) =>
    r
      .map((c, i) => paint(c.text, c.colour, on) + (i === r.length - 1 ? '' : ' '.repeat((widths[i] ?? 0) - c.text.length)))
      .join('  ')
      .trimEnd(),
  );
  return `${lines.join('\n')}\n`;
}
