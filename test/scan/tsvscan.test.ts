// tsvscan: every subdirectory (or symlink to one) not starting with '.' is a service; new ones
// start at once (inotify), removed ones stop, renamed ones keep running (identity = dev+ino),
// replaced ones restart; one tsvscan per directory; HUP rescans; TERM stops all and exits 0.
import t from 'tap';
import { renameSync, rmSync, symlinkSync, writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { alive, run, waitFor } from '@tsv/testkit';
import { makeService, scanTmpdir, sleepers, startScan, supervisedPid, scanEnv, cleanCmd, removeLive } from '@tsv/testkit/scan';

/** A unique sleep argument, so services of this test are counted apart from anything else. */
const mark = (): string => String(200_000 + Math.floor(Math.random() * 700_000));
const env = scanEnv();

t.test('services start, new ones appear, removed ones stop, renamed ones keep running', async (t) => {
  const dir = scanTmpdir(t);
  const m = mark();
  makeService(dir, 'a', `exec sleep ${m}`);
  makeService(dir, 'b c', `exec sleep ${m}`);
  makeService(dir, '.hidden', `exec sleep ${m}`);
  writeFileSync(join(dir, 'plain-file'), 'x');
  const scan = startScan(t, dir);
  await waitFor(() => sleepers(m).length === 2, 15_000, 'two services (dot dir skipped)');
  if ((await run('sh', ['-c', 'command -v sv'], { env })).code === 0) {
    // why: the status record can follow the process by a moment (a start's first writes are deferred).
    const st = await waitFor(async () => { const r = await run('sv', ['status', join(dir, 'a')], { env }); return r.stdout.startsWith('run: ') ? r : null; }, 15_000, 'sv status: run');
    t.match(st.stdout, /^run: /, "runit's sv sees the hosted service");
  }

  makeService(dir, 'new', `exec sleep ${m}`);
  await waitFor(() => sleepers(m).length === 3, 15_000, 'the new service');
  const pidNew = await waitFor(() => supervisedPid(join(dir, 'new')), 15_000, 'pid of new');

  renameSync(join(dir, 'new'), join(dir, 'renamed'));
  // the rename is an inotify event: a scan follows; the service must keep its pid
  makeService(dir, 'after-rename', `exec sleep ${m}`);
  await waitFor(() => sleepers(m).length === 4, 15_000, 'the service created after the rename');
  t.ok(alive(pidNew), 'renamed service still runs (same process)');
  t.equal(supervisedPid(join(dir, 'renamed')), pidNew, 'its supervisor writes under the new name');

  const pidB = supervisedPid(join(dir, 'b c'));
  await removeLive(join(dir, 'b c'));
  await waitFor(() => !alive(pidB), 15_000, 'the removed service to stop');
  t.equal(sleepers(m).length, 3, 'others untouched');

  scan.child.kill('SIGTERM');
  const ex = await scan.exited;
  t.equal(ex.code, 0, 'TERM: exit 0');
  t.equal(sleepers(m).length, 0, 'every service down');
});

t.test('a replaced directory (same name, new inode) gets a new supervisor; a symlink is a service', async (t) => {
  const dir = scanTmpdir(t);
  const elsewhere = scanTmpdir(t);
  const m = mark();
  makeService(dir, 'x', `exec sleep ${m}`);
  makeService(elsewhere, 'linked', `exec sleep ${m}`);
  symlinkSync(join(elsewhere, 'linked'), join(dir, 'link'));
  symlinkSync(join(elsewhere, 'linked'), join(dir, 'link2'));
  const scan = startScan(t, dir);
  t.teardown(() => {
    for (const p of sleepers(m)) process.kill(p, 'SIGKILL');
  });
  await waitFor(() => sleepers(m).length === 2, 15_000, 'x and the linked service, once for two links');
  const old = await waitFor(() => supervisedPid(join(dir, 'x')), 15_000, 'pid of x');
  renameSync(join(dir, 'x'), join(dir, '.x-old'));
  makeService(dir, 'x', `exec sleep ${m}`);
  await waitFor(() => !alive(old), 15_000, 'the replaced service to stop');
  await waitFor(() => { const p = supervisedPid(join(dir, 'x')); return p !== 0 && p !== old && alive(p); }, 15_000, 'a new instance in the new x');
  scan.child.kill('SIGINT');
  t.equal((await scan.exited).code, 0, 'INT: exit 0');
  t.equal(sleepers(m).length, 0, 'all down');
});

t.test('logger stops after its service and gets every line', async (t) => {
  const dir = scanTmpdir(t);
  makeService(dir, 's', "trap 'echo bye; exit 0' TERM\necho hello\nwhile :; do sleep 0.05; done", 'exec cat > ../../s.log');
  const scan = startScan(t, dir);
  await waitFor(() => readFileSync(join(dir, 's.log'), 'utf8').includes('hello'), 15_000, 'hello in the log');
  await removeLive(join(dir, 's'));
  await waitFor(() => readFileSync(join(dir, 's.log'), 'utf8').includes('bye'), 15_000, 'the line written on TERM');
  scan.child.kill('SIGTERM');
  t.equal((await scan.exited).code, 0);
});

t.test('two tsvscan on one directory: the second refuses; two directories never interfere', async (t) => {
  const dir = scanTmpdir(t);
  const dir2 = scanTmpdir(t);
  const m = mark();
  makeService(dir, 'a', `exec sleep ${m}`);
  makeService(dir2, 'a', `exec sleep ${m}`);
  const one = startScan(t, dir);
  await waitFor(() => sleepers(m).length === 1, 15_000, 'first');
  const second = await run(...cleanCmd('tsvscan', [dir]), { env, timeoutMs: 15_000 });
  t.equal(second.code, 111, 'exit 111');
  t.equal(second.stderr, `tsvscan ${dir}: fatal: unable to lock ${dir}/.tsvscan.lock: temporary failure\n`);
  const two = startScan(t, dir2);
  await waitFor(() => sleepers(m).length === 2, 15_000, 'a second directory is fine');
  for (const s of [one, two]) s.child.kill('SIGTERM');
  t.same([(await one.exited).code, (await two.exited).code], [0, 0]);
});

t.test('HUP keeps tsvscan running (it rescans and retries); SVDIR is the default directory; usage', async (t) => {
  const dir = scanTmpdir(t);
  const m = mark();
  makeService(dir, 'a', `exec sleep ${m}`);
  const scan = startScan(t, dir, [], { env: scanEnv({ SVDIR: dir }) });
  await waitFor(() => sleepers(m).length === 1, 15_000, 'service from $SVDIR');
  scan.child.kill('SIGHUP');
  makeService(dir, 'b', `exec sleep ${m}`);
  await waitFor(() => sleepers(m).length === 2, 15_000, 'b');
  t.ok(alive(scan.pid), 'HUP does not end tsvscan');
  scan.child.kill('SIGUSR1');
  t.ok(alive(scan.pid), 'USR1 neither (no inspector)');
  const u = await run(...cleanCmd('tsvscan', ['a', 'b']), { env });
  t.same([u.code, u.stderr], [1, 'usage: tsvscan [-q] [-g secs] [dir]\n']);
  scan.child.kill('SIGTERM');
  t.equal((await scan.exited).code, 0);
});
