// The scheduling rule of a scheduled service (pure): the `schedule` file parsed into a rule (a
// cron expression read by croner, a time zone, slack, jitter, catch-up, when to notify), the
// next ticks after a moment, and each tick's jitter. Times are wall-clock ms (Date.now()); no
// clock is read here: every caller passes its "now", so tests move time freely.
import { Cron } from 'croner';

/** What to notify about: failed runs only, or also the first success after failures. */
export type NotifyOn = 'failure' | 'change';

/** A parsed `schedule` file. */
export interface ScheduleRule {
  /** the cron expression as written (5 fields, 6 with seconds first, or a nickname) */
  expression: string;
  /** IANA time zone the expression is read in; null: the supervisor's local time */
  timezone: string | null;
  /** a tick whose run would start later than this is missed (snooze's -s, default 60 s) */
  slackMs: number;
  /** each run starts up to this much after its tick (a pseudo-random share per tick) */
  jitterMs: number;
  /** a tick missed (machine off, asleep, clock jump) still gives one run (systemd's Persistent=) */
  catchUp: boolean;
  notifyOn: NotifyOn;
  /** a `notify` still running after this is killed */
  notifyTimeoutMs: number;
}

/** The defaults of the options (snooze's slack). */
export const SCHEDULE_DEFAULTS = { slackMs: 60_000, jitterMs: 0, catchUp: false, notifyOn: 'failure', notifyTimeoutMs: 30_000 } as const satisfies Partial<ScheduleRule>;

/** The result of parsing a `schedule` file: a rule, or one line saying what is wrong. */
export type ParsedSchedule = { rule: ScheduleRule; error?: undefined } | { rule?: undefined; error: string };

/** The names of the fields, for messages (five fields; six put seconds first). */
const FIELDS5 = ['minute', 'hour', 'day of month', 'month', 'day of week'] as const;

/** Cron nicknames croner knows (@reboot has no meaning for a supervisor and is refused). */
const NICKNAMES = new Set(['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly']);

/** Parse a duration: digits with an optional unit ms, s (default), m, h, d; undefined if bad. */
export function parseDuration(text: string): number | undefined {
  const m = /^([0-9]{1,9})(ms|s|m|h|d)?$/.exec(text.trim());
  if (m === null) return undefined;
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[(m[2] ?? 's') as 'ms' | 's' | 'm' | 'h' | 'd'];
  return Number(m[1]) * unit;
}

/** A croner evaluator of (expression, zone); throws croner's error for a bad one. */
function cron(expression: string, timezone: string | null): Cron {
  // why: paused: the Cron only computes times, it never sets a timer of its own.
  return new Cron(expression, { paused: true, ...(timezone !== null ? { timezone } : {}) });
}

/** Why expression is refused, naming the field and its value: croner's own message when it
 * names them, else found by trying each field alone (the others made `*`). */
export function expressionError(expression: string): string | undefined {
  const words = expression.trim().split(/\s+/);
  if (words.length === 1 && words[0]?.startsWith('@') === true) {
    if (!NICKNAMES.has(words[0].toLowerCase())) return `unknown nickname: ${words[0]} (known: ${[...NICKNAMES].join(' ')})`;
    return undefined;
  }
  if (words.length !== 5 && words.length !== 6) return `expected 5 fields (minute hour day-of-month month day-of-week) or 6 (seconds first), got ${words.length}: ${expression.trim()}`;
  try {
    cron(expression, null);
    return undefined;
  } catch (e) {
    const names = words.length === 6 ? ['second', ...FIELDS5] : [...FIELDS5];
    for (let i = 0; i < words.length; i++) {
      const alone = words.map((w, j) => (j === i ? w : '*')).join(' ');
      try {
        cron(alone, null);
      } catch (e2) {
        return `invalid ${names[i] ?? 'field'}: ${words[i] ?? ''} (${cronMessage(e2)})`;
      }
    }
    return cronMessage(e);
  }
}

/** croner's message without its class prefix. */
function cronMessage(e: unknown): string {
  const m = e instanceof Error ? e.message : String(e);
  return m.replace(/^Cron(Pattern|Date|Options)?:\s*/, '');
}

/** Parse the text of a `schedule` file: `#` comments, blank lines, `key=value` option lines
 * (tz, slack, jitter, catch-up, notify, notify-timeout) and exactly one expression line. */
export function parseSchedule(text: string): ParsedSchedule {
  let expression: string | undefined;
  const rule: Omit<ScheduleRule, 'expression'> = { timezone: null, ...SCHEDULE_DEFAULTS };
  for (const raw of text.split('\n')) {
    const hash = raw.indexOf('#');
    const line = (hash >= 0 ? raw.slice(0, hash) : raw).trim();
    if (line === '') continue;
    const opt = /^([a-z-]+)\s*=\s*(.*)$/.exec(line);
    if (opt === null) {
      if (expression !== undefined) return { error: `more than one expression: ${expression} and ${line}` };
      expression = line.replace(/\s+/g, ' ');
      continue;
    }
    const key = opt[1] as string;
    const value = (opt[2] as string).trim();
    const bad = (what: string): ParsedSchedule => ({ error: `invalid ${key}: ${value === '' ? '(empty)' : value} (${what})` });
    switch (key) {
      case 'tz':
      case 'timezone':
        try {
          // why: croner checks a zone only when it computes a time: ask for one now.
          cron('* * * * *', value).nextRun(new Date(0));
        } catch {
          return bad('not an IANA time zone such as Europe/Paris');
        }
        rule.timezone = value;
        break;
      case 'slack':
      case 'jitter':
      case 'notify-timeout': {
        const ms = parseDuration(value);
        if (ms === undefined) return bad('a duration: digits and ms, s, m, h or d');
        if (key === 'slack') rule.slackMs = ms;
        else if (key === 'jitter') rule.jitterMs = ms;
        else rule.notifyTimeoutMs = Math.max(1, ms);
        break;
      }
      case 'catch-up':
        if (value === 'yes' || value === 'true' || value === '1') rule.catchUp = true;
        else if (value === 'no' || value === 'false' || value === '0') rule.catchUp = false;
        else return bad('yes or no');
        break;
      case 'notify':
        if (value !== 'failure' && value !== 'change') return bad('failure or change');
        rule.notifyOn = value;
        break;
      default:
        return { error: `unknown option: ${key} (known: tz slack jitter catch-up notify notify-timeout)` };
    }
  }
  if (expression === undefined) return { error: 'no expression (a line such as `35 4 * * *` or `@daily`)' };
  const err = expressionError(expression);
  if (err !== undefined) return { error: err };
  return { rule: { expression, ...rule } };
}

/** Evaluators by expression and zone (computing a tick must not re-parse each time). */
const cache = new Map<string, Cron>();

/** The evaluator of a rule. */
function evaluator(rule: ScheduleRule): Cron {
  const key = `${rule.timezone ?? ''}\n${rule.expression}`;
  let c = cache.get(key);
  if (c === undefined) {
    c = cron(rule.expression, rule.timezone);
    cache.set(key, c);
  }
  return c;
}

/** The first tick strictly after `after` (wall ms), or null when the expression never fires
 * again (February 30th). DST is croner's: a tick in a skipped hour runs at the hour after, a
 * repeated wall-clock time runs once. */
export function nextTick(rule: ScheduleRule, after: number): number | null {
  const d = evaluator(rule).nextRun(new Date(after));
  return d === null ? null : d.getTime();
}

/** The next n ticks after `after` (a dry run). */
export function nextTicks(rule: ScheduleRule, after: number, n: number): number[] {
  const out: number[] = [];
  let t = after;
  for (let i = 0; i < n; i++) {
    const next = nextTick(rule, t);
    if (next === null) break;
    out.push(next);
    t = next;
  }
  return out;
}

/** The jitter of one tick: a share of jitterMs from a hash of (seed, tick), so one tick keeps
 * its delay however often it is recomputed, and services with different seeds spread out. */
export function jitterOf(rule: ScheduleRule, tick: number, seed: number): number {
  if (rule.jitterMs <= 0) return 0;
  // why: a 32-bit integer hash (xorshift-multiply), enough to spread starts; not cryptographic.
  let h = (seed ^ Math.floor(tick / 1000)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x45d9f3b) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x45d9f3b) >>> 0;
  h = (h ^ (h >>> 16)) >>> 0;
  return Math.floor((h / 0x1_0000_0000) * rule.jitterMs);
}
