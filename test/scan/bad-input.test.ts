// tsvscan with bad input: a missing scan dir (warned once, waited for), a file (fatal), an
// unreadable one (fatal), dangling symlinks, thousands of entries, odd names, a service held by
// a live runsv or whose supervise/ belongs to another user (refused, reported, others go on),
// and service dirs that vanish while they start.
import t from 'tap';
import { chmodSync, chownSync, mkdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { alive, IS_ROOT, run, spawnTracked, waitFor, waitForText } from '@tsv/testkit';
import { killUnderAtEnd, makeService, scanTmpdir, sleepers, startScan, supervisedPid, scanEnv, cleanCmd } from '@tsv/testkit/scan';

const mark = (): string => String(200_000 + Math.floor(Math.random() * 700_000));
const env = scanEnv();
const NOBODY = 65534;

t.test('missing scan dir: warned once, waited for, then scanned', async (t) => {
  const root = scanTmpdir(t);
  const dir = join(root, 'later');
  const m = mark();
  const scan = startScan(t, root, [dir]);
  await waitForText(scan.stderr, /warning: unable to stat/);
  t.equal(scan.stderr(), `tsvscan ${dir}: warning: unable to stat ${dir}: file does not exist\n`);
  mkdirSync(join(root, 'tmp'));
  makeService(join(root, 'tmp'), 'a', `exec sleep ${m}`);
  rmSync(join(root, 'tmp', 'a', 'supervise'), { recursive: true, force: true });
  // appears atomically, with a service in it
  renameSync(join(root, 'tmp'), dir);
  await waitFor(() => sleepers(m).length === 1, 15_000, 'the service once the directory exists');
  t.equal(scan.stderr().split('\n').filter((l) => l.includes('unable to stat')).length, 1, 'warned once, not every second');
  scan.child.kill('SIGTERM');
  t.equal((await scan.exited).code, 0);
});

t.test('scan dir is a file: fatal, 111', async (t) => {
  const root = scanTmpdir(t);
  writeFileSync(join(root, 'f'), '');
  const r = await run(...cleanCmd('tsvscan', [join(root, 'f')]), { env });
  t.same([r.code, r.stderr], [111, `tsvscan ${root}/f: fatal: unable to scan ${root}/f: not a directory\n`]);
});

t.test('scan dir unreadable (as nobody): fatal, 111', async (t) => {
  if (!IS_ROOT) return t.skip('needs root to run as nobody');
  const root = scanTmpdir(t);
  chmodSync(root, 0o755);
  const dir = join(root, 'noread');
  mkdirSync(dir);
  chownSync(dir, NOBODY, NOBODY);
  chmodSync(dir, 0o300);
  const r = await run(...cleanCmd('tsvscan', [dir]), { env, uid: NOBODY, gid: NOBODY });
  t.same([r.code, r.stderr], [111, `tsvscan ${dir}: fatal: unable to read ${dir}: access denied\n`]);
});

t.test('dangling symlink, thousands of entries, names with spaces and newlines', async (t) => {
  const dir = scanTmpdir(t);
  const m = mark();
  symlinkSync(join(dir, 'nowhere'), join(dir, 'broken'));
  for (let i = 0; i < 2500; i++) writeFileSync(join(dir, `file-${i}`), '');
  for (let i = 0; i < 500; i++) mkdirSync(join(dir, `.dot-${i}`));
  const names = ['with space', 'new\nline', 'tab\there', ' lead', 'x'];
  for (let i = 0; i < 20; i++) names.push(`svc-${i}`);
  for (const n of names) makeService(dir, n, `exec sleep ${m}`);
  // why -q: the warnings alone are compared (the event lines are test/scan/talk.test.ts's)
  const scan = startScan(t, dir, ['-q', dir]);
  await waitFor(() => sleepers(m).length === names.length, 20_000, 'every service');
  // why: a start's first status writes go to the thread pool, so supervise/pid can follow the
  // process by a moment (as runsv's does): wait for each record, then check it names a live run.
  await waitFor(() => names.every((n) => supervisedPid(join(dir, n)) !== 0), 20_000, 'every supervise/pid');
  for (const n of names) t.ok(alive(supervisedPid(join(dir, n))), `${JSON.stringify(n)} runs`);
  t.equal(scan.stderr(), `tsvscan ${dir}: warning: unable to stat broken: file does not exist\n`, 'the dangling link is reported once');
  scan.child.kill('SIGTERM');
  t.equal((await scan.exited).code, 0);
  t.equal(sleepers(m).length, 0);
});

t.test('a service held by a live runsv: refused and reported, others run; taken once runsv is gone', async (t) => {
  const runsv = '/usr/bin/runsv';
  const probe = await run('sh', ['-c', 'command -v runsv'], { env });
  if (probe.code !== 0) return t.skip('runsv is not installed');
  const dir = scanTmpdir(t);
  const m = mark();
  const held = makeService(dir, 'held', `exec sleep ${m}`);
  makeService(dir, 'free', `exec sleep ${m}`);
  const rs = spawnTracked(t, runsv, [held], { env });
  await waitFor(() => sleepers(m).length === 1, 15_000, 'runsv runs held');
  const scan = startScan(t, dir);
  await waitForText(scan.stderr, /unable to supervise held: .*temporary failure/);
  await waitFor(() => sleepers(m).length === 2, 15_000, 'free runs beside it');
  rs.child.kill('SIGTERM');
  await rs.exited;
  await waitFor(() => readFileSync(join(held, 'supervise', 'tsv.json'), 'utf8').includes('"tsvscan"'), 20_000, 'tsvscan to take held on retry');
  await waitFor(() => sleepers(m).length === 2, 15_000, 'both run under tsvscan');
  scan.child.kill('SIGTERM');
  t.equal((await scan.exited).code, 0);
  t.equal(sleepers(m).length, 0);
});

t.test('supervise/ owned by another user: refused and reported, others run (tsvscan as nobody)', async (t) => {
  if (!IS_ROOT) return t.skip('needs root to run as nobody');
  const root = scanTmpdir(t);
  chmodSync(root, 0o755);
  const dir = join(root, 'scan');
  mkdirSync(dir);
  const m = mark();
  const theirs = makeService(dir, 'theirs', `exec sleep ${m}`);
  const mine = makeService(dir, 'mine', `exec sleep ${m}`);
  mkdirSync(join(theirs, 'supervise'), { mode: 0o700 });
  for (const p of [dir, theirs, mine]) chownSync(p, NOBODY, NOBODY);
  const scan = startScan(t, dir, [dir], { uid: NOBODY, gid: NOBODY });
  await waitFor(() => sleepers(m).length === 1, 15_000, 'mine runs');
  await waitForText(scan.stderr, /tsvscan \S+: warning: unable to supervise theirs: .*access denied/);
  t.equal(sleepers(m).length, 1, 'only mine');
  scan.child.kill('SIGTERM');
  t.equal((await scan.exited).code, 0);
});

t.test('service dirs that vanish while starting: tsvscan goes on, nothing is left behind', async (t) => {
  const dir = scanTmpdir(t);
  killUnderAtEnd(t, dir);
  const [m, gone] = [mark(), mark()];
  makeService(dir, 'stable', `exec sleep ${m}`);
  const scan = startScan(t, dir);
  await waitFor(() => sleepers(m).length === 1, 15_000, 'stable');
  const trash = scanTmpdir(t);
  for (let i = 0; i < 40; i++) {
    const svc = makeService(dir, `flash-${i}`, `exec sleep ${gone}`);
    if (i % 2 === 0) await new Promise((r) => setImmediate(r));
    if (i % 4 < 2) renameSync(svc, join(trash, `flash-${i}`));
    else await removeHard(svc);
  }
  t.teardown(() => {
    for (const p of sleepers(gone)) process.kill(p, 'SIGKILL');
  });
  await waitFor(() => sleepers(gone).length === 0, 20_000, 'no instance of a vanished service left');
  t.ok(alive(scan.pid), 'tsvscan runs on');
  t.equal(sleepers(m).length, 1, 'stable untouched');
  scan.child.kill('SIGTERM');
  t.equal((await scan.exited).code, 0);
});

/** rm -rf path, retrying while a supervisor still creates files in it (it stops only once it
 * sees the directory gone from the scan directory). */
async function removeHard(path: string): Promise<void> {
  for (let i = 0; ; i++) {
    try {
      rmSync(path, { recursive: true, force: true });
      return;
    } catch (e) {
      if (i > 200) throw e;
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}
