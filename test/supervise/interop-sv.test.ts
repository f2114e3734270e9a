// Interop proof: runit's own sv drives a tsv service and prints, command for command, the same
// lines as for the same service under a real runsv (pids and seconds aside); daemontools'
// svstat reads tsv's status; runsv and tsv refuse a directory the other one holds.
import t from 'tap';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { bin, run, spawnTracked, waitFor } from '@tsv/testkit';
import { control, makeService, okAlive, readText, serviceRoot, startTsv, status, waitDown, waitRunning } from '@tsv/testkit/supervise';

const SV = '/usr/bin/sv';
const RUNSV = '/usr/bin/runsv';
const SVSTAT = '/usr/bin/svstat';
const haveRunit = existsSync(SV) && existsSync(RUNSV);

/** The service used on both sides. */
const FILES = {
  run: '#!/bin/sh\ntrap "" HUP\nexec sleep 1000\n',
  'log/run': '#!/bin/sh\nexec cat >/dev/null\n',
};

/** Replace what legitimately differs between two runs: pids and elapsed seconds. */
function normal(text: string): string {
  return text.replace(/\(pid \d+\)/g, '(pid N)').replace(/ \d+s\b/g, ' Ns');
}

/** Run sv in cwd; stdout, stderr and exit code as one string. */
async function sv(cwd: string, args: string[]): Promise<string> {
  const r = await run(SV, args, { cwd, env: { ...process.env, SVDIR: cwd } });
  return `${r.stdout}${r.stderr}[${r.code}]`;
}

/** The sv commands of the comparison. sv's checks compare whole seconds, so what some of them
 * print depends on timing (for runsv too): those are compared by their verdict only (`ok:` and
 * the exit code); `down` and `exit` print a settled state and are compared whole. */
const SCRIPT: { args: string[]; whole: boolean }[] = [
  { args: ['-w', '10', 'down', './svc'], whole: true },
  { args: ['-w', '10', 'once', './svc'], whole: false },
  { args: ['-w', '10', 'pause', './svc'], whole: false },
  { args: ['-w', '10', 'cont', './svc'], whole: false },
  { args: ['-w', '10', 'down', './svc'], whole: true },
  { args: ['-w', '10', 'up', './svc'], whole: false },
  { args: ['-w', '10', 'restart', './svc'], whole: false },
  { args: ['-w', '10', 'hup', './svc'], whole: false },
  { args: ['-w', '10', 'down', './svc/log'], whole: true },
  { args: ['-w', '10', 'up', './svc/log'], whole: false },
  { args: ['-w', '10', 'term', './svc'], whole: false },
];

/** The stat lines of a service and its logger (what the status line is made of). */
function stats(dir: string): string {
  return `${readText(join(dir, 'supervise', 'stat'))}|${readText(join(dir, 'log', 'supervise', 'stat'))}`;
}

t.test('sv prints the same lines for tsv as for runsv', { skip: haveRunit ? false : 'runit (sv, runsv) is not installed' }, async (t) => {
  const root = serviceRoot(t);
  const a = join(root, 'a');
  const b = join(root, 'b');
  const tsvDir = makeService(a, 'svc', FILES);
  const runsvDir = makeService(b, 'svc', FILES);
  const tsv = await startTsv(t, tsvDir);
  const runsv = spawnTracked(t, RUNSV, ['svc'], { cwd: b });
  await waitFor(() => okAlive(runsvDir), 15_000, 'runsv up');
  await waitRunning(tsvDir);
  await waitRunning(runsvDir);
  await waitRunning(join(tsvDir, 'log'));
  await waitRunning(join(runsvDir, 'log'));
  const compareStatus = async (): Promise<void> => {
    // why: both supervisors act on the bytes sv wrote at their own pace: compare once settled.
    // A service down with want up is about to be restarted: not settled either.
    const settled = (d: string): boolean => [d, join(d, 'log')].every((x) => !(status(x)?.pid === 0 && status(x)?.wantUp));
    await waitFor(
      () => stats(tsvDir) === stats(runsvDir) && !/got TERM/.test(stats(runsvDir)) && settled(tsvDir) && settled(runsvDir),
      15_000,
      `same state (${stats(tsvDir)} vs ${stats(runsvDir)})`,
    );
    // why: runsv writes stat before status, so for a moment after its stat changed its status
    // still says the old state (and tsv's writes are not instantaneous either): the lines are
    // compared once both agree or the deadline passes, and then shown whole.
    for (const args of [['status', './svc'], ['status', './svc/log']]) {
      const deadline = Date.now() + 5_000;
      let [ours, theirs] = [await sv(a, args), await sv(b, args)];
      while (normal(ours) !== normal(theirs) && Date.now() < deadline) {
        await new Promise((r) => setImmediate(r));
        [ours, theirs] = [await sv(a, args), await sv(b, args)];
      }
      t.equal(normal(ours), normal(theirs), `sv ${args.join(' ')}: ${theirs.trim()}`);
    }
  };
  await compareStatus();
  for (const step of SCRIPT) {
    const ours = await sv(a, step.args);
    const theirs = await sv(b, step.args);
    const verdict = (x: string): string => `${x.split(':')[0]}${x.slice(x.lastIndexOf('['))}`;
    if (step.whole) t.equal(normal(ours), normal(theirs), `sv ${step.args.join(' ')}: ${theirs.trim()}`);
    else t.equal(verdict(ours), verdict(theirs), `sv ${step.args.join(' ')}: ${verdict(theirs)}`);
    await compareStatus();
  }
  for (const [dir, cwd] of [[a, a], [b, b]] as const) {
    t.equal(await sv(cwd, ['-w', '10', 'exit', './svc']), 'ok: ./svc: runsv not running\n[0]', `exit ${dir}`);
    t.equal(await sv(cwd, ['status', './svc']), 'fail: ./svc: runsv not running\n[1]');
  }
  t.same(await tsv.exited, { code: 0, signal: null });
  t.same(await runsv.exited, { code: 0, signal: null });
});

t.test('daemontools svstat reads tsv status', { skip: existsSync(SVSTAT) ? false : 'daemontools (svstat) is not installed' }, async (t) => {
  const root = serviceRoot(t);
  const dir = makeService(root, 'svc', FILES);
  const tsv = await startTsv(t, dir);
  const pid = await waitRunning(dir);
  let r = await run(SVSTAT, ['svc'], { cwd: root });
  t.match(r.stdout, new RegExp(`^svc: up \\(pid ${pid}\\) \\d+ seconds\\n$`));
  control(dir, 'd');
  await waitDown(dir);
  r = await run(SVSTAT, ['svc'], { cwd: root });
  t.match(r.stdout, /^svc: down \d+ seconds, normally up\n$/);
  control(dir, 'x');
  t.same(await tsv.exited, { code: 0, signal: null });
  r = await run(SVSTAT, ['svc'], { cwd: root });
  t.equal(r.stdout, 'svc: supervise not running\n');
});

t.test('runsv refuses a directory tsv holds, and tsv one runsv holds', { skip: haveRunit ? false : 'runit (runsv) is not installed' }, async (t) => {
  const root = serviceRoot(t);
  const dir = makeService(root, 'svc', { run: FILES.run });
  const tsv = await startTsv(t, dir);
  await waitRunning(dir);
  let r = await run(RUNSV, ['svc'], { cwd: root });
  t.same([r.code, r.stderr], [111, 'runsv svc: fatal: unable to lock supervise/lock: temporary failure\n']);
  t.equal(await sv(root, ['-w', '10', 'exit', './svc']), 'ok: ./svc: runsv not running\n[0]');
  t.same(await tsv.exited, { code: 0, signal: null });
  const runsv = spawnTracked(t, RUNSV, ['svc'], { cwd: root });
  await waitFor(() => okAlive(dir), 15_000, 'runsv up');
  r = await run(bin('tsv'), ['svc'], { cwd: root });
  t.same([r.code, r.stderr], [111, 'tsv svc: fatal: unable to lock supervise/lock: temporary failure\n']);
  t.equal(await sv(root, ['-w', '10', 'exit', './svc']), 'ok: ./svc: runsv not running\n[0]');
  t.same(await runsv.exited, { code: 0, signal: null });
});
