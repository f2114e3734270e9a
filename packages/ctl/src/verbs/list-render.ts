// `tsvctl list`'s output: an aligned table (colours only when asked: on a TTY without NO_COLOR),
// or JSON. Pure: rows in, text out.
import { alignTable, paint, stateColour, type Cell, type Colour } from '../colour.js';
import type { LastExitRow, ListRow } from './list.js';


/** A duration in a short human form: 45s, 12m03s, 3h04m, 2d03h. */
export function formatDuration(sec: number): string {
  const s = Math.max(0, Math.floor(sec));
  const two = (n: number): string => String(n).padStart(2, '0');
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${two(s % 60)}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h${two(Math.floor(s / 60) % 60)}m`;
  return `${Math.floor(s / 86400)}d${two(Math.floor(s / 3600) % 24)}h`;
}

/** Bytes in a short form: 512K, 12.3M, 1.2G (powers of 1024). */
export function formatBytes(n: number): string {
  if (n < 1024 * 1024) return `${Math.round(n / 1024)}K`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)}M`;
  return `${(n / 1024 ** 3).toFixed(1)}G`;
}

/** CPU seconds: 0.42s under a minute, else as a duration. */
function formatCpu(sec: number): string {
  return sec < 60 ? `${sec.toFixed(2)}s` : formatDuration(sec);
}

/** `exited 111: unable to start ./run: access denied`, `signal SIGKILL`. */
export function lastExitText(e: LastExitRow): string {
  const what = e.signal !== null ? `signal ${e.signal}` : `exited ${e.code ?? 0}`;
  return e.reason !== null ? `${what}: ${e.reason}` : what;
}

/** The NOTE column: backoff, give-up, sv's flags worth a glance, a logger runsv cannot run. */
function notes(r: ListRow): Cell {
  if (r.problem !== null) return { text: r.problem, colour: 'red' };
  const out: string[] = [];
  let colour: Colour | undefined;
  const failures = (n: number): string => `${n} failure${n === 1 ? '' : 's'}`;
  if (r.backoff?.givenUp === true) {
    out.push(`given up after ${failures(r.backoff.failures)}`);
    colour = 'red';
  } else if (r.backoff?.active === true) {
    out.push(`backoff ${r.backoff.secondsLeft ?? 0}s (${failures(r.backoff.failures)})`);
    colour = 'yellow';
  }
  if (r.pid !== null && r.normallyUp === false) out.push('normally down');
  if (r.pid === null && r.normallyUp === true && r.want !== 'up') out.push('normally up');
  if (r.pid === null && r.want === 'up' && r.backoff === null) out.push('want up');
  if (r.pid !== null && r.want === 'down') out.push('want down');
  if (r.paused === true && r.pid !== null) out.push('paused');
  if (r.pool !== undefined) {
    out.push(...r.pool.notes);
    if (r.pool.notes.some((n) => n.includes('failed'))) colour = 'red';
  }
  if (r.cgroup?.oomKills != null && r.cgroup.oomKills > 0) {
    out.push(`${r.cgroup.oomKills} oom kill${r.cgroup.oomKills === 1 ? '' : 's'}`);
    colour = 'red';
  }
  if (r.log?.needsTsv === true) {
    out.push('log/tsvlog needs tsv: runsv wants log/run (tsvctl new --log-run)');
    colour = 'red';
  }
  return { text: out.join(', '), colour };
}

/** The LOG column. */
function logCell(r: ListRow): Cell {
  const l = r.log;
  if (l === null) return { text: '-' };
  if (l.problem !== null) return { text: l.problem, colour: 'red' };
  const state = l.state ?? '?';
  return { text: l.inProcess ? `${state} (in-process)` : state, colour: stateColour(state, true) };
}

/** The cells of one row. */
function cells(r: ListRow): Cell[] {
  const dash: Cell = { text: '-' };
  const state: Cell = r.problem !== null && r.state === null ? { text: 'unsupervised', colour: 'red' } : { text: r.state ?? '?', colour: stateColour(r.state ?? '?', r.want === 'up') };
  const u = r.usage;
  const mem = u === null || u.processes === 0 ? dash : { text: formatBytes(u.pssBytes ?? u.rssBytes) };
  return [
    { text: r.instance !== undefined ? `  ${r.name}` : r.name },
    state,
    r.pid !== null ? { text: String(r.pid) } : dash,
    r.seconds !== null ? { text: formatDuration(r.seconds) } : dash,
    r.restarts !== null ? { text: String(r.restarts) } : dash,
    r.lastExit !== null ? { text: lastExitText(r.lastExit), colour: r.lastExit.code === 0 && r.lastExit.signal === null ? undefined : 'yellow' } : dash,
    r.ready === null ? dash : { text: r.ready ? 'ready' : 'not ready', colour: r.ready ? undefined : 'yellow' },
    u === null || u.processes === 0 ? dash : { text: formatCpu(u.cpuSeconds) },
    mem,
    r.mode !== null ? { text: r.mode } : dash,
    logCell(r),
    notes(r),
  ];
}

/** The table, one line per service under a header; `no services in DIR` for an empty one. */
export function renderListTable(rows: readonly ListRow[], colour: boolean): string {
  const header: Cell[] = ['SERVICE', 'STATE', 'PID', 'TIME', 'RESTARTS', 'LAST EXIT', 'READY', 'CPU', 'MEM', 'MODE', 'LOG', 'NOTE'].map((text) => ({ text, colour: 'bold' }));
  return alignTable([header, ...rows.map(cells)], colour);
}

/** The JSON array (one object per service, the fields of ListRow). */
export function renderListJson(rows: readonly ListRow[]): string {
  return `${JSON.stringify(rows, null, 2)}\n`;
}
