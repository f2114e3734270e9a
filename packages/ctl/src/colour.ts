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
