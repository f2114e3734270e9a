// tsvlog never loses a line: full disk, directory removed, permissions; read-only dirs.
import t, { type Test } from 'tap';
import { chmodSync, mkdirSync, rmSync, writeFileSync, unlinkSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { bin, IS_ROOT, run, tmpdir, waitFor, waitForText, type Teardownable } from '@tsv/testkit';
import { allText, current, mountTmpfs, rotated, startLog, startShell } from '@tsv/testkit/log';


/** A 64k tmpfs mounted on a fresh dir (mnt), holding log/ (d) with this config; undefined,
 * after a skip, when mounting is not possible. */
function smallDiskLog(t: Test, config: string): { mnt: string; d: string } | undefined {
  const mnt = join(tmpdir(t), 'mnt');
  mkdirSync(mnt);
  if (!mountTmpfs(t, mnt, 'size=64k')) {
    t.skip('cannot mount a tmpfs (needs root)');
    return undefined;
  }
  const d = join(mnt, 'log');
  mkdirSync(d);
  writeFileSync(join(d, 'config'), config);
  return { mnt, d };
}

t.test('a full file system: pause, warn, resume, nothing lost', async (t) => {
  const disk = smallDiskLog(t, 's0\n');
  if (disk === undefined) return;
  const { mnt, d } = disk;
  writeFileSync(join(mnt, 'filler'), Buffer.alloc(40 * 1024, 'f'));
  const p = startLog(t, ['log'], mnt);
  const lines = Array.from({ length: 120 }, (_, i) => `${String(i).padStart(3, '0')} ${'y'.repeat(295)}\n`).join('');
  p.end(lines);
  await waitForText(p.stderr, /tsvlog: pausing: unable to write current: log: out of disk space\n/, 20_000);
  t.equal(p.child.exitCode, null, 'still running, holding the lines');
  unlinkSync(join(mnt, 'filler'));
  const ex = await p.exited;
  t.equal(ex.code, 0);
  t.equal(current(d), lines, 'every line, in order, once');
  t.equal(p.stderr().match(/pausing/g)?.length, 1, 'one warning, not one per retry');
});

t.test('a full disk with N < n deletes old files and goes on', async (t) => {
  const disk = smallDiskLog(t, 's4096\nn100\nN1\n');
  if (disk === undefined) return;
  const { mnt, d } = disk;
  const lines = Array.from({ length: 400 }, (_, i) => `${String(i).padStart(3, '0')} ${'z'.repeat(195)}\n`).join('');
  const r = await run(bin('tsvlog'), ['log'], { cwd: mnt, input: lines, timeoutMs: 30_000 });
  t.equal(r.code, 0);
  t.match(r.stderr, /tsvlog: warning: out of disk space, delete: log\/@[0-9a-f]{24}\.s/);
  t.ok(lines.endsWith(allText(d)), 'the newest lines are kept, in order');
});

t.test('the log directory removed under a running tsvlog', async (t) => {
  const dir = tmpdir(t);
  const d = join(dir, 'log');
  mkdirSync(d);
  const p = startLog(t, ['log'], dir);
  p.write('before\n');
  await waitFor(() => current(d) === 'before\n');
  rmSync(d, { recursive: true });
  p.write('during\n');
  await waitForText(p.stderr, /tsvlog: warning: current was removed: log\n/);
  await waitForText(p.stderr, /tsvlog: pausing: unable to open current: log: file does not exist\n/);
  mkdirSync(d);
  p.write('after\n');
  await waitFor(() => current(d) === 'before\nduring\nafter\n', 15_000, 'lines recovered into the new dir');
  t.ok(existsSync(join(d, 'lock')), 'the new dir is locked');
  p.end();
  t.equal((await p.exited).code, 0);
});

t.test('permissions: a read-only file system, and access denied (as nobody)', async (t) => {
  const dir = tmpdir(t);
  const mnt = join(dir, 'ro');
  mkdirSync(mnt);
  if (mountTmpfs(t, mnt, 'ro,size=16k')) {
    const r = await run(bin('tsvlog'), ['.'], { cwd: mnt, input: 'x\n' });
    t.equal(r.code, 111);
    t.match(r.stderr, 'tsvlog: warning: unable to lock directory: .: read-only file system\n');
  } else t.skip('cannot mount a tmpfs');
  if (!IS_ROOT) {
    t.skip('not root: cannot switch to nobody');
    return;
  }
  chmodSync(dir, 0o755);
  const d = join(dir, 'log');
  mkdirSync(d);
  // tap forces NODE_OPTIONS on every child it spawns (its processinfo hook then writes to
  // .tap/ at exit, which nobody may not): a shell drops it.
  const asNobody = ['-c', `unset NODE_OPTIONS; exec ${bin('tsvlog')} log`];
  // nobody must be able to run tsvlog from this checkout (not so under a 0700 home directory).
  const probe = await run('/bin/sh', ['-c', `unset NODE_OPTIONS; exec ${bin('tsvlog')} -V`], { uid: 65534, gid: 65534 });
  // why the version line: -V answers `tsvlog (tsv) VERSION` on stdout, from any checkout nobody can read
  if (!probe.stdout.includes('tsvlog (tsv)')) {
    t.skip(`nobody cannot run ${bin('tsvlog')} (checkout not readable by nobody)`);
    return;
  }
  const r = await run('/bin/sh', asNobody, { cwd: dir, input: 'x\n', uid: 65534, gid: 65534 });
  t.equal(r.code, 111);
  t.match(r.stderr, 'tsvlog: warning: unable to lock directory: log: access denied\n');
  // Writable at start, then a rotation is denied: pause and retry until it is allowed again.
  chmodSync(d, 0o777);
  writeFileSync(join(d, 'config'), 's40\n');
  const q = startShell(t, asNobody, dir, { uid: 65534, gid: 65534 });
  q.write('0123456789\n0123456789\n');
  await waitFor(() => current(d) === '0123456789\n0123456789\n');
  chmodSync(d, 0o555);
  q.write('0123456789\n0123456789\n');
  await waitForText(q.stderr, /tsvlog: pausing: unable to rotate current: log: access denied\n/);
  chmodSync(d, 0o777);
  q.end();
  t.equal((await q.exited).code, 0, q.stderr());
  t.equal(allText(d), '0123456789\n'.repeat(4), 'nothing lost');
  t.equal(rotated(d).length, 1, 'rotated once allowed');
});
