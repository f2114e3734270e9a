// `tsvctl status a b c` on a terminal: one aligned row per service instead of sv's lines, with
// colours unless NO_COLOR. Problems still count towards the exit code as sv's lines would.
import { paint, stateColour } from './colour.js';
import type { ProcStatus, ServiceStatus } from './status.js';
import { usageOfExtra, usageText } from './usage.js';

/** A cell: its text and colour. */
interface Cell {
  text: string;
  colour?: 'red' | 'green' | 'yellow' | 'bold' | 'dim' | undefined;
}

/** The cells describing one process in a row (state, pid, time, info). */
function procCells(p: ProcStatus): Cell[] {
  if (p.problem !== undefined) return [{ text: p.problem.level, colour: 'red' }, { text: '-' }, { text: '-' }, { text: p.problem.message, colour: 'red' }];
  const v = p.view;
  if (v === undefined) return [{ text: '?', colour: 'red' }, { text: '-' }, { text: '-' }, { text: `unable to stat down: ${p.downError ?? ''}`, colour: 'red' }];
  const wantUp = p.snap?.rec.wantUp ?? false;
  return [
    { text: v.state, colour: stateColour(v.state, wantUp) },
    { text: v.state !== 'down' ? String(v.pid) : '-' },
    { text: `${v.seconds}s` },
    { text: [...v.flags, ...v.extras, ...usageCell(p)].join(', ') },
  ];
}

/** The mode and usage of a tsv-supervised process, for the INFO column. */
function usageCell(p: ProcStatus): string[] {
  const u = p.snap?.extraFile !== undefined ? usageOfExtra(p.snap.extra) : null;
  return u === null ? [] : [usageText(u)];
}

/** The log column of a row. */
function logCell(s: ServiceStatus): Cell {
  if (s.log === null) return { text: '-' };
  if (typeof s.log === 'string') return { text: s.log, colour: 'red' };
  const [state, pid, time, info] = procCells(s.log);
  if (s.log.problem !== undefined) return { text: `${s.log.problem.level}: ${s.log.problem.message}`, colour: 'red' };
  const text = [state?.text, pid?.text !== '-' ? `(pid ${pid?.text})` : '', time?.text, info?.text].filter((x) => x !== undefined && x !== '').join(' ');
  return { text, colour: state?.colour };
}

/** Render the table; count() is called once per problem (exit code). */
export function renderTable(rows: ServiceStatus[], colour: boolean, count: () => void): string {
  const header: Cell[] = ['SERVICE', 'STATE', 'PID', 'TIME', 'INFO', 'LOG'].map((t) => ({ text: t, colour: 'bold' }));
  const body: Cell[][] = rows.map((s) => {
    if (s.main.problem !== undefined) count();
    if (typeof s.log === 'string' || (s.log !== null && s.log.problem !== undefined)) count();
    return [{ text: s.name }, ...procCells(s.main), logCell(s)];
  });
  const all = [header, ...body];
  const widths = header.map((_, i) => Math.max(...all.map((r) => r[i]?.text.length ?? 0)));
  const lines = all.map((r) =>
    r
      .map((c, i) => {
        const pad = i === r.length - 1 ? '' : ' '.repeat((widths[i] ?? 0) - c.text.length);
        return paint(c.text, c.colour, colour) + pad;
      })
      .join('  ')
      .trimEnd(),
  );
  return `${lines.join('\n')}\n`;
}
