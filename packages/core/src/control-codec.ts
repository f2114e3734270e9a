// Control bytes of supervise/control (runit.md 2.5), pure.

/** Every control letter runsv understands. */
export type ControlLetter = 'u' | 'd' | 'o' | 'x' | 'e' | 't' | 'k' | 'p' | 'c' | 'h' | 'a' | 'i' | 'q' | '1' | '2';

const LETTERS = new Set<string>(['u', 'd', 'o', 'x', 'e', 't', 'k', 'p', 'c', 'h', 'a', 'i', 'q', '1', '2']);

/** Signals sent by the signal letters. */
export const LETTER_SIGNAL: Readonly<Record<string, NodeJS.Signals>> = {
  t: 'SIGTERM',
  k: 'SIGKILL',
  p: 'SIGSTOP',
  c: 'SIGCONT',
  h: 'SIGHUP',
  a: 'SIGALRM',
  i: 'SIGINT',
  q: 'SIGQUIT',
  '1': 'SIGUSR1',
  '2': 'SIGUSR2',
};

/** The control letter of each signal a supervisor sends for one (LETTER_SIGNAL inverted). */
export const SIGNAL_LETTER: Readonly<Record<string, string>> = Object.fromEntries(Object.entries(LETTER_SIGNAL).map(([letter, signal]) => [signal, letter]));

/** Split bytes read from the control FIFO into known letters; unknown bytes are dropped. */
export function decodeControl(chunk: Buffer): ControlLetter[] {
  const out: ControlLetter[] = [];
  for (const byte of chunk) {
    const c = String.fromCharCode(byte);
    if (LETTERS.has(c)) out.push(c as ControlLetter);
  }
  return out;
}

/** Encode letters for one write() to the control FIFO. */
export function encodeControl(letters: string): Buffer {
  return Buffer.from(letters, 'latin1');
}
