// The log pipe held by tsv: no line lost while the logger is down or restarting; x lets the
// logger drain to EOF; the in-process logger (log/tsvlog) behind runit's log/supervise/ files.
import t from 'tap';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { waitFor } from '@tsv/testkit';
import { control, extra, makeService, readText, serviceRoot, startTsv, status, waitDown, waitRunning } from '@tsv/testkit/supervise';

/** A service printing 1, 2, 3... to the log pipe (and to ./side, to see progress). */
const COUNTER = '#!/bin/sh\ni=0\nwhile :; do i=$((i+1)); echo "$i"; echo "$i" > side.new; mv side.new side; sleep 0.02; done\n';

/** Lines of text as numbers. */
function numbers(text: string): number[] {
  return text.split('\n').filter((l) => l !== '').map(Number);
}

/** Are the numbers exactly 1..n? */
function contiguous(ns: number[]): boolean {
  return ns.every((n, i) => n === i + 1);
}

t.test('lines written while the logger is down reach the next logger; x drains', async (t) => {
  const root = serviceRoot(t);
  const out = join(root, 'out.txt');
  const dir = makeService(root, 'svc', { run: COUNTER, 'log/run': `#!/bin/sh\nexec cat >> ${out}\n` });
  const tsv = await startTsv(t, dir);
  const logDir = join(dir, 'log');
  const logPid = await waitRunning(logDir);
  await waitFor(() => numbers(readText(out)).length >= 5, 15_000, 'first lines logged');
  control(logDir, 'd');
  await waitDown(logDir);
  const side = (): number => Number(readText(join(dir, 'side')).trim());
  const at = side();
  await waitFor(() => side() >= at + 10, 15_000, 'the service writing while the logger is down');
  t.equal(status(logDir)?.state, 'down');
  control(logDir, 'u');
  await waitRunning(logDir, logPid);
  const later = side();
  await waitFor(() => numbers(readText(out)).some((n) => n >= later), 15_000, 'the new logger catching up');
  control(dir, 'x');
  t.same(await tsv.exited, { code: 0, signal: null }, 'tsv exits once the logger has drained');
  const ns = numbers(readText(out));
  t.ok(contiguous(ns), `no line lost or doubled (${ns.length} lines)`);
  // why: TERM may land between the echo to the pipe and the update of ./side.
  t.ok([0, 1].includes((ns[ns.length - 1] ?? 0) - side()), `the last line written was logged (${ns.slice(-3).join(' ')} vs ${side()})`);
});

t.test('in-process logger: log/tsvlog, pid is tsv, d/u keep lines, x drains', async (t) => {
  const root = serviceRoot(t);
  const dir = makeService(root, 'svc', { run: COUNTER, 'log/tsvlog': './main\n', 'log/main/config': '' });
  const tsv = await startTsv(t, dir);
  const logDir = join(dir, 'log');
  const current = join(logDir, 'main', 'current');
  await waitFor(() => status(logDir)?.pid === tsv.pid, 15_000, 'log/supervise/status shows the pid of tsv');
  t.equal(readText(join(logDir, 'supervise', 'pid')), `${tsv.pid}\n`);
  t.equal(extra(logDir)?.service.inProcess, true);
  await waitFor(() => numbers(readText(current)).length >= 5, 15_000, 'lines in log/main/current');
  control(logDir, 'd');
  await waitDown(logDir);
  const side = (): number => Number(readText(join(dir, 'side')).trim());
  const at = side();
  await waitFor(() => side() >= at + 10, 15_000, 'the service writing while the logger is down');
  control(logDir, 'u');
  await waitFor(() => status(logDir)?.pid === tsv.pid, 15_000, 'logger up again');
  const later = side();
  await waitFor(() => numbers(readText(current)).some((n) => n >= later), 15_000, 'caught up');
  control(logDir, 'h');
  control(logDir, 'a');
  const restarts = extra(logDir)?.service.restarts ?? 0;
  control(logDir, 'k');
  await waitFor(() => (extra(logDir)?.service.restarts ?? 0) > restarts && status(logDir)?.state === 'run', 15_000, 'restarted after k');
  control(dir, 'x');
  t.same(await tsv.exited, { code: 0, signal: null });
  let all = '';
  for (const f of readdirSync(join(logDir, 'main')).sort()) if (f.startsWith('@')) all += readText(join(logDir, 'main', f));
  all += readText(current);
  const ns = numbers(all);
  t.ok(contiguous(ns), `no line lost or doubled (${ns.length} lines)`);
  // why: TERM may land between the echo to the pipe and the update of ./side.
  t.ok([0, 1].includes((ns[ns.length - 1] ?? 0) - side()), `the last line written was logged (${ns.slice(-3).join(' ')} vs ${side()})`);
});
