// `tsvctl jobs`' output: the table (JOB, NEXT RUN relative and absolute in local time, LAST RUN,
// STATUS, TIME, FAILS, NOTE), JSON, and the dry run's list of ticks. Pure: rows and "now" in,
// text out (local time is the process's zone, $TZ).
import { alignTable, paint, type Cell, type Colour } from '../colour.js';
import type { JobRow } from './jobs.js';
import { formatDuration } from './list-render.js';


/** Two digits. */
const two = (n: number): string => String(n).padStart(2, '0');
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** Local midnight of the day of ms. */
function dayStart(ms: number): number {
  const d = new Date(ms);
  return new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
}

/** A moment in local time, by its day relative to now: `today 04:35:00`, `tomorrow 04:35:00`,
 * `yesterday ...`, `Thu 3 Dec 04:35:00` within a week, else `2027-02-01 00:00:00`. */
export function localWhen(ms: number, nowMs: number): string {
  const d = new Date(ms);
  const time = `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
  const days = Math.round((dayStart(ms) - dayStart(nowMs)) / 86_400_000);
  if (days === 0) return `today ${time}`;
  if (days === 1) return `tomorrow ${time}`;
  if (days === -1) return `yesterday ${time}`;
  if (Math.abs(days) < 7) return `${DAYS[d.getDay()] ?? ''} ${d.getDate()} ${MONTHS[d.getMonth()] ?? ''} ${time}`;
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ${time}`;
}

/** `in 2s (today 17:00:02)`, `3m05s ago (today 16:57:00)`. */
export function relWhen(ms: number, nowMs: number): string {
  const delta = (ms - nowMs) / 1000;
  const rel = delta >= 0 ? `in ${formatDuration(Math.ceil(delta))}` : `${formatDuration(-delta)} ago`;
  return `${rel} (${localWhen(ms, nowMs)})`;
}

/** A run's duration: 850ms, 59.1s, 12m03s. */
export function runDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  return formatDuration(ms / 1000);
}

/** How a run ended: `0`, `3`, `SIGKILL`. */
function statusText(code: number | null, signal: string | null): string {
  return signal !== null ? signal : String(code ?? 0);
}

/** The NOTE column: why it does not run, skipped and missed ticks. */
function note(r: JobRow, nowMs: number): Cell {
  if (r.problem !== null) return { text: r.problem, colour: 'red' };
  const out: string[] = [];
  let colour: Colour | undefined;
  if (r.reason !== null) {
    out.push(r.reason);
    colour = 'red';
  }
  if (r.enabled === false) out.push('off (tsvctl up to turn on)');
  if ((r.skipped ?? 0) > 0) {
    out.push(`${r.skipped} tick${r.skipped === 1 ? '' : 's'} skipped (previous run still running)`);
    colour ??= 'yellow';
  }
  if ((r.missed ?? 0) > 0) {
    out.push(`${r.missed} missed (late by more than slack)`);
    colour ??= 'yellow';
  }
  if (r.lastSkip !== null) out.push(`last: ${localWhen(r.lastSkip.tick, nowMs)} ${r.lastSkip.why === 'running' ? 'skipped' : 'missed'}`);
  return { text: out.join(', '), colour };
}

/** The cells of one job. */
function cells(r: JobRow, nowMs: number): Cell[] {
  const dash: Cell = { text: '-' };
  const next: Cell = r.next !== null ? { text: relWhen(r.next, nowMs) } : dash;
  const last: Cell = r.running !== null ? { text: `${relWhen(r.running.start, nowMs)}`, colour: 'green' } : r.last !== null ? { text: relWhen(r.last.start, nowMs) } : dash;
  let status: Cell = dash;
  let time: Cell = dash;
  if (r.running !== null) {
    status = { text: r.running.pid !== null ? `running (pid ${r.running.pid})` : 'running', colour: 'green' };
    time = { text: runDuration(r.running.seconds * 1000) };
  } else if (r.last !== null) {
    const ok = r.last.code === 0 && r.last.signal === null;
    status = { text: statusText(r.last.code, r.last.signal), colour: ok ? undefined : 'red' };
    time = { text: runDuration(r.last.durationMs) };
  }
  const fails: Cell = r.failures === null ? dash : { text: String(r.failures), colour: r.failures > 0 ? 'red' : undefined };
  return [{ text: r.name }, next, last, status, time, fails, note(r, nowMs)];
}

/** The table, one line per job under a header. */
export function renderJobsTable(rows: readonly JobRow[], nowMs: number, colour: boolean): string {
  const header: Cell[] = ['JOB', 'NEXT RUN', 'LAST RUN', 'STATUS', 'TIME', 'FAILS', 'NOTE'].map((text) => ({ text, colour: 'bold' }));
  return alignTable([header, ...rows.map((r) => cells(r, nowMs))], colour);
}

/** The JSON array (one object per job, the fields of JobRow). */
export function renderJobsJson(rows: readonly JobRow[]): string {
  return `${JSON.stringify(rows, null, 2)}\n`;
}

/** The dry run: one line per tick, absolute (ISO and local) and relative. */
export function renderDryRun(name: string, d: { expression: string; timezone: string | null; ticks: number[] }, nowMs: number): string {
  const head = `${name}: ${d.expression}${d.timezone !== null ? ` (${d.timezone})` : ''}\n`;
  if (d.ticks.length === 0) return `${head}never fires\n`;
  return head + d.ticks.map((t) => `${new Date(t).toISOString()}  ${relWhen(t, nowMs)}\n`).join('');
}
