// tsvctl against tsv (packages/supervise): what runit cannot say (last exit, restarts,
// readiness) in the status line and --json, --sv and runit's sv agreeing, -w restart waiting
// for readiness, signals runsv has no letter for (sent only when tsv.json vouches for the pid),
// and exit.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { closeSync, constants as fsc, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeExtraStatus, encodeStatus, initialExtraProcess } from '@tsv/core';
import { procStat } from '@tsv/os';
import { requireBuilt, waitFor } from '@tsv/testkit';
import { CAT_LOG, ctlRoot, makeService, okAlive, onPath, sameStatus, status, supervise, sv, TRAP_RUN, trapsSet, tsvctl } from '@tsv/testkit/ctl';

// A missing build fails here (NotBuiltError names the missing file): it never skips.
requireBuilt('tsv', 'tsvctl');

/** tsv.json of dir. */
function extraOf(dir: string): { service: { restarts: number; ready: boolean | null; pid: number } } | undefined {
  try {
    return JSON.parse(readFileSync(join(dir, 'supervise', 'tsv.json'), 'utf8'));
  } catch {
    return undefined;
  }
}

t.test('status extras, --json, --sv, restart', async (t) => {
  const root = ctlRoot(t);
  const a = makeService(root, 'a', { run: TRAP_RUN.replace('trap "echo usr1', 'trap "echo winch > got-winch" WINCH\ntrap "echo usr1'), 'log/run': CAT_LOG });
  const tsv = await supervise(t, 'tsv', a);
  await waitFor(() => extraOf(a)?.service.pid === status(a)?.pid, 10_000, 'tsv.json');
  const opts = { cwd: root };

  let r = await tsvctl(['status', './a'], opts);
  t.equal(r.code, 0);
  t.match(r.stdout, /^run: \.\/a: \(pid \d+\) \d+s; run: log: \(pid \d+\) \d+s\n$/, 'nothing to add yet');

  const p0 = status(a)?.pid;
  // why: the next run makes ./trapped again once its traps are set (a signal before would end it).
  rmSync(join(a, 'trapped'));
  r = await tsvctl(['-w', '10', 'restart', './a'], opts);
  t.equal(r.code, 0);
  const p1 = status(a)?.pid;
  t.not(p1, p0, 'a new process');
  t.match(r.stdout, new RegExp(`^ok: run: \\./a: \\(pid ${p1}\\) \\d+s, last exit 0, restarts 1\\n$`));
  r = await tsvctl(['status', './a'], opts);
  t.match(r.stdout, /^run: \.\/a: \(pid \d+\) \d+s, last exit 0, restarts 1; run: log: \(pid \d+\) \d+s\n$/);

  // --sv: exactly what runit's sv prints for the same tsv service
  if (onPath('sv')) {
    const theirs = await sv(['status', './a'], opts);
    const mine = await tsvctl(['--sv', 'status', './a'], opts);
    const again = await sv(['status', './a'], opts);
    t.ok(sameStatus(mine.stdout, theirs.stdout, again.stdout), '--sv is sv', { found: mine.stdout, wanted: theirs.stdout });
  }

  r = await tsvctl(['status', '--json', './a'], opts);
  const [j] = JSON.parse(r.stdout) as Array<Record<string, unknown>>;
  t.match(j, { name: './a', state: 'run', pid: p1, supervisor: 'tsv', extra: { restarts: 1, lastExit: { code: 0, signal: null }, supervisorPid: tsv.pid, program: 'tsv' }, log: { supervisor: 'tsv', state: 'run' } });

  // a signal runsv has no letter for: tsv.json vouches for the pid
  await trapsSet(a);
  r = await tsvctl(['kill', 'WINCH', './a'], opts);
  t.same([r.code, r.stdout, r.stderr], [0, '', '']);
  await waitFor(() => existsSync(join(a, 'got-winch')), 10_000, 'the WINCH trap');
  t.equal(status(a)?.pid, p1, 'not restarted');

  // SIGKILL through the letter: tsv records the signal
  rmSync(join(a, 'trapped'));
  r = await tsvctl(['-w', '10', 'kill', 'KILL', './a'], opts);
  t.equal(r.code, 0);
  t.match(r.stdout, /^ok: run: \.\/a: \(pid \d+\) \d+s, last signal SIGKILL, restarts 2\n$/);

  // why: a TERM before the new run's trap would end it by the signal, not with "exited 0".
  await trapsSet(a);

  r = await tsvctl(['-w', '10', 'down', './a'], opts);
  t.match(r.stdout, /^ok: down: \.\/a: \d+s, normally up, exited 0, restarts 2\n$/);

  r = await tsvctl(['-w', '10', 'exit', './a'], opts);
  t.same([r.code, r.stdout], [0, 'ok: ./a: runsv not running\n']);
  t.equal((await tsv.exited).code, 0, 'tsv exited');
  t.notOk(okAlive(a));
});

t.test('exit status and restarts of a failing service', async (t) => {
  const root = ctlRoot(t);
  const f = makeService(root, 'f', { run: '#!/bin/sh\nsleep 0.2\nexit 3\n' });
  await supervise(t, 'tsv', f);
  await waitFor(() => (extraOf(f)?.service.restarts ?? 0) >= 1, 15_000, 'a restart');
  const r = await tsvctl(['status', './f'], { cwd: root });
  t.equal(r.code, 0);
  t.match(r.stdout, /^(run: \.\/f: \(pid \d+\) \d+s, last exit 3|down: \.\/f: \d+s, normally up, want up, exited 3), restarts \d+/);
});

t.test('-w up and restart wait for readiness (notification-fd)', async (t) => {
  const root = ctlRoot(t);
  const r0 = makeService(root, 'r', { run: '#!/bin/sh\nsleep 0.4\necho ready >&3\nexec sleep 1000\n', 'notification-fd': '3\n', down: '' });
  await supervise(t, 'tsv', r0);
  let r = await tsvctl(['-w', '15', 'up', './r'], { cwd: root });
  t.equal(r.code, 0);
  t.equal(extraOf(r0)?.service.ready, true, 'ready when tsvctl returned');
  t.match(r.stdout, /^ok: run: \.\/r: \(pid \d+\) \d+s, normally down, ready \d+s\n$/);
  r = await tsvctl(['-w', '15', 'restart', './r'], { cwd: root });
  t.equal(r.code, 0);
  t.equal(extraOf(r0)?.service.ready, true, 'ready again when restart returned');
  t.match(r.stdout, /ready \d+s, last signal SIGTERM, restarts 1\n$/);
});

t.test('a direct signal is refused when tsv.json does not vouch for the pid', async (t) => {
  // A fake supervise/: ok held open by this process, a status naming this process, and a tsv.json
  // from a live "supervisor" (this process) whose start time for the pid is wrong.
  const root = ctlRoot(t);
  const dir = join(root, 'fake');
  mkdirSync(join(dir, 'supervise'), { recursive: true });
  execFileSync('mkfifo', [join(dir, 'supervise', 'ok')]);
  const reader = openSync(join(dir, 'supervise', 'ok'), fsc.O_RDONLY | fsc.O_NONBLOCK);
  t.teardown(() => closeSync(reader));
  const me = procStat(process.pid);
  writeFileSync(join(dir, 'supervise', 'status'), encodeStatus({ time: { seconds: Math.floor(Date.now() / 1000), nanos: 500 }, pid: process.pid, paused: false, wantUp: true, gotTerm: false, state: 'run' }));
  const service = { ...initialExtraProcess('up', Date.now(), 0), state: 'run' as const, pid: process.pid, pidStartTicks: (me?.startTicks ?? 0) + 1 };
  writeFileSync(join(dir, 'supervise', 'tsv.json'), encodeExtraStatus({ v: 1, supervisor: { pid: process.pid, startTicks: me?.startTicks ?? null, program: 'tsv' }, service }));
  const r = await tsvctl(['signal', 'WINCH', './fake'], { cwd: root });
  t.equal(r.code, 1);
  t.equal(r.stdout, `fail: ./fake: unable to send SIGWINCH: pid ${process.pid} is no longer the service\n`);
});

t.test('log: the directories of tsv in-process logger (log/tsvlog)', async (t) => {
  const root = ctlRoot(t);
  const a = makeService(root, 'a', { run: '#!/bin/sh\necho hello from a\nexec sleep 1000\n', 'log/tsvlog': '-tt ./main\n' });
  mkdirSync(join(a, 'log', 'main'));
  await supervise(t, 'tsv', a);
  await waitFor(() => existsSync(join(a, 'log', 'main', 'current')) && readFileSync(join(a, 'log', 'main', 'current'), 'utf8').includes('hello from a'), 15_000, 'the logged line');
  const r = await tsvctl(['log', './a'], { cwd: root });
  t.equal(r.code, 0);
  // -tt's UTC stamp shown in local time, tsvctl log's one format
  t.match(r.stdout, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{9} hello from a\n$/);
});
