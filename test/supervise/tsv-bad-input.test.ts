// Bad input to tsv: usage, missing or unusable directories and run scripts, a second tsv,
// odd supervise/ entries, garbage on the control FIFO. One clear line each, runsv's exit codes,
// and tsv keeps running wherever runsv would.
import t from 'tap';
import { chmodSync, mkdirSync, symlinkSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bin, run, waitFor, alive, waitForText } from '@tsv/testkit';
import { control, extra, makeService, serviceRoot, startTsv, status, waitRunning } from '@tsv/testkit/supervise';

const SLEEP = '#!/bin/sh\nexec sleep 1000\n';
/** A fast restart policy, so retries are seen quickly. */
const FAST = 'delay=50 max-delay=200\n';

t.test('usage and unusable directories: exit 1 / 111 with one line', async (t) => {
  const root = serviceRoot(t);
  let r = await run(bin('tsv'), []);
  t.same([r.code, r.stderr], [1, 'usage: tsv [-q] [-g secs] dir\n']);
  r = await run(bin('tsv'), ['a', 'b']);
  t.same([r.code, r.stderr], [1, 'usage: tsv [-q] [-g secs] dir\n']);
  r = await run(bin('tsv'), ['missing'], { cwd: root });
  t.same([r.code, r.stderr], [111, 'tsv missing: fatal: unable to change to directory: file does not exist\n']);
  writeFileSync(join(root, 'plain'), '');
  r = await run(bin('tsv'), ['plain'], { cwd: root });
  t.same([r.code, r.stderr], [111, 'tsv plain: fatal: unable to change to directory: not a directory\n']);
  symlinkSync('nowhere', join(root, 'dangling'));
  r = await run(bin('tsv'), ['dangling'], { cwd: root });
  t.same([r.code, r.stderr], [111, 'tsv dangling: fatal: unable to change to directory: file does not exist\n']);
  const locked = makeService(root, 'locked', { run: SLEEP });
  chmodSync(root, 0o755);
  chmodSync(locked, 0o700);
  // why: tap's NODE_OPTIONS (added to every child) makes node write under .tap/, which nobody
  // cannot: env -i drops it.
  const asNobody = (args: string[]): ReturnType<typeof run> =>
    run('/usr/bin/env', ['-i', `PATH=${process.env.PATH ?? '/usr/bin:/bin'}`, bin('tsv'), ...args], { cwd: root, uid: 65534, gid: 65534 });
  if ((await asNobody([])).stderr !== 'usage: tsv [-q] [-g secs] dir\n') {
    t.skip('nobody cannot run tsv from this checkout (its directory is private): unreadable service dir not tested');
    return;
  }
  r = await asNobody(['locked']);
  t.same([r.code, r.stderr], [111, 'tsv locked: fatal: unable to change to directory: access denied\n'], 'unreadable for nobody');
});

t.test('a second tsv on the same directory is refused by the lock', async (t) => {
  const root = serviceRoot(t);
  const dir = makeService(root, 'svc', { run: SLEEP });
  const first = await startTsv(t, dir);
  const pid = await waitRunning(dir);
  const r = await run(bin('tsv'), ['svc'], { cwd: root });
  t.same([r.code, r.stderr], [111, 'tsv svc: fatal: unable to lock supervise/lock: temporary failure\n']);
  t.ok(alive(first.pid) && alive(pid), 'the first tsv and its service are untouched');
  t.equal(status(dir)?.pid, pid);
  control(dir, 'x');
  t.same(await first.exited, { code: 0, signal: null });
});

t.test('run missing, not executable, or a directory: warnings and retries, never fatal', async (t) => {
  const root = serviceRoot(t);
  const missing = makeService(root, 'missing', { restart: FAST });
  const noexec = makeService(root, 'noexec', { restart: FAST, run: 'exec sleep 1000\n' });
  const isdir = makeService(root, 'isdir', { restart: FAST });
  mkdirSync(join(isdir, 'run'));
  const a = await startTsv(t, missing);
  const b = await startTsv(t, noexec);
  const c = await startTsv(t, isdir);
  await waitFor(() => /^tsv missing: warning: unable to start \.\/run: file does not exist$/m.test(a.stderr()), 15_000, 'missing warning');
  await waitFor(() => /^tsv noexec: warning: unable to start \.\/run: access denied$/m.test(b.stderr()), 15_000, 'noexec warning');
  await waitFor(() => /^tsv isdir: warning: unable to start \.\/run: access denied$/m.test(c.stderr()), 15_000, 'isdir warning');
  await waitFor(() => (extra(missing)?.service.backoff.failures ?? 0) >= 2, 15_000, 'retried');
  t.equal(status(missing)?.state, 'down');
  t.equal(status(missing)?.wantUp, true, 'down, want up (as sv shows for runsv)');
  t.equal(extra(missing)?.service.lastExit?.code, 111, 'recorded as exit 111, like runsv child');
  makeService(root, 'missing', { run: SLEEP });
  chmodSync(join(noexec, 'run'), 0o755);
  await waitRunning(missing);
  await waitRunning(noexec);
  t.ok(alive(c.pid), 'tsv keeps running');
  for (const d of [missing, noexec, isdir]) control(d, 'x');
  for (const p of [a, b, c]) t.same(await p.exited, { code: 0, signal: null });
});

t.test('a finish that is not executable: a warning, then the service is down as after finish', async (t) => {
  const root = serviceRoot(t);
  const dir = makeService(root, 'svc', { down: '', run: '#!/bin/sh\nexit 4\n', finish: 'echo not executable\n' });
  const tsv = await startTsv(t, dir);
  control(dir, 'o');
  await waitFor(() => /^tsv svc: warning: unable to start \.\/finish: access denied$/m.test(tsv.stderr()), 15_000, 'finish warning');
  await waitFor(() => status(dir)?.state === 'down' && extra(dir)?.service.lastExit?.code === 4, 15_000, 'down after run exit 4');
  control(dir, 'x');
  t.same(await tsv.exited, { code: 0, signal: null });
});

t.test('supervise as a dangling symlink or a plain file; log not a directory', async (t) => {
  const root = serviceRoot(t);
  mkdirSync(join(root, 'state'));
  const linked = makeService(root, 'linked', { run: SLEEP });
  symlinkSync('../state/linked', join(linked, 'supervise'));
  const a = await startTsv(t, linked);
  await waitRunning(linked);
  t.ok(statSync(join(root, 'state', 'linked', 'status')).isFile(), 'the link target was created and used');
  t.equal(statSync(join(root, 'state', 'linked')).mode & 0o777, 0o700);
  control(linked, 'x');
  t.same(await a.exited, { code: 0, signal: null });

  const plain = makeService(root, 'plain', { run: SLEEP, supervise: 'not a dir' });
  const r = await run(bin('tsv'), ['plain'], { cwd: root });
  t.same([r.code, r.stderr], [111, 'tsv plain: fatal: unable to open supervise/lock: not a directory\n']);

  const badlog = makeService(root, 'badlog', { run: SLEEP, log: 'a file' });
  const b = await startTsv(t, badlog);
  await waitRunning(badlog);
  // why: the warning is in the pipe before the status write, but reaches this process a moment later.
  await waitForText(b.stderr, /^tsv badlog: warning: \.\/log: not a directory\.$/m, 15_000);
  t.match(b.stderr(), /^tsv badlog: warning: \.\/log: not a directory\.$/m);
  control(badlog, 'x');
  t.same(await b.exited, { code: 0, signal: null });
  void plain;
});

t.test('garbage, huge writes and unknown letters on the control FIFO are ignored', async (t) => {
  const root = serviceRoot(t);
  const dir = makeService(root, 'svc', { run: SLEEP });
  const tsv = await startTsv(t, dir);
  const pid = await waitRunning(dir);
  control(dir, Buffer.from('eZ?\n\u0000\u00ffXyz', 'latin1'));
  // why: a blocking writer pushes far more than the FIFO holds; tsv must keep reading.
  const big = await run('/bin/sh', ['-c', 'head -c 3000000 /dev/zero | tr "\\0" "Z" > supervise/control'], { cwd: dir });
  t.equal(big.code, 0, '3 MB written');
  t.ok(alive(tsv.pid), 'tsv alive');
  t.equal(status(dir)?.pid, pid, 'service untouched');
  t.equal(status(dir)?.state, 'run');
  control(dir, 'd');
  await waitFor(() => status(dir)?.state === 'down', 15_000, 'still obeys d');
  control(dir, 'x');
  t.same(await tsv.exited, { code: 0, signal: null });
  // why: the event lines (tsv: svc: started ...) are tsv talking; none may be a warning
  t.same(tsv.stderr().split('\n').filter((l) => l !== '' && !/^tsv: \S+: (started|stopping|killed by|exited|stopped)/.test(l)), [], 'no warning for any of it');
});
