// Per-service settings read from the optional files of a service directory (docs/servicedir.md),
// as plain values the state machine uses: down-signal, timeouts, readiness fd, restart policy,
// which control/<c> hooks and whether ./finish exist.
import { fileWords } from '@tsv/core';

/** The restart policy (file `restart`): exponential backoff after quick deaths, and give-up. */
export interface RestartPolicy {
  /** delay before restarting after the first quick death, ms (runit: 1000) */
  delayMs: number;
  /** the delay is multiplied by this after each further consecutive quick death */
  factor: number;
  /** cap of the delay, ms */
  maxDelayMs: number;
  /** a run (with its finish) shorter than this is a quick death, ms (runit: 1000) */
  quickMs: number;
  /** give up restarting after this many quick deaths within giveUpWindowMs (0: never) */
  giveUp: number;
  /** the window of the give-up rule, ms */
  giveUpWindowMs: number;
}

/** What the supervisor reads from the service directory before each start of run. */
export interface Settings {
  /** signal sent to stop the service (d, x, t): `down-signal`, default SIGTERM */
  downSignal: NodeJS.Signals;
  /** ms after the stop signal before SIGKILL (`timeout-kill`); 0: never */
  timeoutKillMs: number;
  /** ms finish may run before SIGKILL (`timeout-finish`); 0: unlimited (runit) */
  timeoutFinishMs: number;
  /** fd for the readiness line (`notification-fd`), or 0 when the service has none */
  notificationFd: number;
  restart: RestartPolicy;
  /** the letters c whose control/c exists with the owner's x bit (never for the logger) */
  hooks: readonly string[];
  /** ./finish exists and can be opened for reading (runsv's test; never for the logger) */
  hasFinish: boolean;
  /** the process is the in-process logger (log/tsvlog): signals map to its methods */
  inProcess: boolean;
  /** the service has a `watch` file (watch mode: a change restarts it, an exit waits for one) */
  watch: boolean;
}

/** The policy with no `restart` file: runit's 1-second rule, growing while deaths stay quick. */
export const DEFAULT_RESTART: RestartPolicy = {
  delayMs: 1000,
  factor: 2,
  maxDelayMs: 30_000,
  quickMs: 1000,
  giveUp: 0,
  giveUpWindowMs: 60_000,
};

/** Settings of a directory with none of the optional files (runit's behaviour). */
export const DEFAULT_SETTINGS: Settings = {
  downSignal: 'SIGTERM',
  timeoutKillMs: 0,
  timeoutFinishMs: 0,
  notificationFd: 0,
  restart: DEFAULT_RESTART,
  hooks: [],
  hasFinish: false,
  inProcess: false,
  watch: false,
};

/** Delay before the next start after `failures` consecutive quick deaths (0: start now). */
export function backoffDelay(p: RestartPolicy, failures: number): number {
  if (failures <= 0) return 0;
  const d = p.delayMs * Math.pow(p.factor, failures - 1);
  return Math.max(0, Math.min(p.maxDelayMs, Math.round(d)));
}

/** Parse the `restart` file: blank-separated `key=value` words, `#` starts a comment.
 * Returns the policy and one message per word it could not use (those keep their default). */
export function parseRestartPolicy(text: string): { policy: RestartPolicy; errors: string[] } {
  const policy: RestartPolicy = { ...DEFAULT_RESTART };
  const errors: string[] = [];
  const keys: Record<string, keyof RestartPolicy> = {
    delay: 'delayMs',
    factor: 'factor',
    'max-delay': 'maxDelayMs',
    quick: 'quickMs',
    'give-up': 'giveUp',
    'give-up-window': 'giveUpWindowMs',
  };
  for (const word of fileWords(text)) {
    const eq = word.indexOf('=');
    const key = eq > 0 ? keys[word.slice(0, eq)] : undefined;
    const value = Number(word.slice(eq + 1));
    const ok = key !== undefined && word.slice(eq + 1) !== '' && Number.isFinite(value) && value >= 0 && (key === 'factor' ? value >= 1 : Number.isInteger(value));
    if (!ok || key === undefined) {
      errors.push(`bad word in restart: ${word}`);
      continue;
    }
    policy[key] = value;
  }
  if (policy.maxDelayMs < policy.delayMs) policy.maxDelayMs = policy.delayMs;
  return { policy, errors };
}

/** Parse a file holding one unsigned integer (up to the first newline); undefined if invalid. */
export function parseUint(text: string): number | undefined {
  const first = (text.split('\n')[0] ?? '').trim();
  if (!/^[0-9]{1,9}$/.test(first)) return undefined;
  return Number(first);
}

/** Parse a signal name (TERM, SIGTERM, usr1) or number (15); undefined if unknown. */
export function parseSignal(text: string, known: Readonly<Record<string, number>>): NodeJS.Signals | undefined {
  const w = (text.split('\n')[0] ?? '').trim();
  if (/^[0-9]+$/.test(w)) {
    const n = Number(w);
    // why: os.constants.signals lists aliases (SIGIOT, SIGPOLL) after the usual names.
    return Object.entries(known).find(([, v]) => v === n)?.[0] as NodeJS.Signals | undefined;
  }
  const name = w.toUpperCase().startsWith('SIG') ? w.toUpperCase() : `SIG${w.toUpperCase()}`;
  return name in known ? (name as NodeJS.Signals) : undefined;
}
