// Signal names and numbers for `tsvctl kill SIG svc` / `tsvctl signal SIG svc`, and the control
// letters runsv already knows for some of them (so those work against a real runsv too).
import { constants } from 'node:os';
import { SIGNAL_LETTER } from '@tsv/core';

/** A signal given on the command line, resolved. */
export interface SignalSpec {
  /** canonical name (SIGUSR1), or SIG<number> for a number with no name */
  name: string;
  num: number;
  /** the runsv control letter that sends it, when there is one */
  letter: string | undefined;
}

/** Highest signal number on Linux (SIGRTMAX). */
const MAX_SIGNAL = 64;

/** Name of signal number num (SIGUSR1), or SIG<num> when Node knows no name for it. */
export function signalName(num: number): string {
  for (const [name, n] of Object.entries(constants.signals)) if (n === num) return name;
  return `SIG${num}`;
}

/** Parse a signal given as a name (USR1, SIGUSR1, usr1) or a number (10); undefined when it
 * is neither. Signal 0 (no signal, only an existence test) is not accepted. */
export function parseSignal(word: string): SignalSpec | undefined {
  let num: number | undefined;
  if (/^[0-9]+$/.test(word)) {
    num = Number(word);
    if (num < 1 || num > MAX_SIGNAL) return undefined;
  } else {
    const upper = word.toUpperCase();
    const name = upper.startsWith('SIG') ? upper : `SIG${upper}`;
    const n = (constants.signals as Record<string, number | undefined>)[name];
    if (n === undefined) return undefined;
    num = n;
  }
  const name = signalName(num);
  return { name, num, letter: SIGNAL_LETTER[name] };
}
