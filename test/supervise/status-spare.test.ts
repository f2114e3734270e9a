// supervise/'s status files are swapped in (name.new, renameat2 RENAME_EXCHANGE) and the spare is
// rewritten in place only when nobody holds it open. Seen from outside: a reader holding status
// or tsv.json open reads the very bytes it opened, however many changes follow; with no reader,
// changes make no new inodes (no create, no delete: what cost most of a crash storm's CPU on
// ext4); a symlink put at status.new is never written through. Black-box: the built tsv.
import t from 'tap';
import { closeSync, lstatSync, mkdirSync, openSync, readFileSync, readSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { control, makeService, serviceRoot, startTsv, status, waitDown, waitRunning } from '@tsv/testkit/supervise';

const SLEEP = '#!/bin/sh\nexec sleep 1000\n';
const FILES = ['status', 'tsv.json', 'pid'];

/** Everything fd holds from offset 0. */
function readAll(fd: number): Buffer {
  const buf = Buffer.alloc(65536);
  return buf.subarray(0, readSync(fd, buf, 0, buf.length, 0));
}

/** Take the service down and up again: at least two status changes, a new pid. */
async function cycle(dir: string): Promise<number> {
  const before = status(dir)?.pid ?? 0;
  control(dir, 'd');
  await waitDown(dir);
  control(dir, 'u');
  return waitRunning(dir, before);
}

t.test('a reader holding a status file open never sees it change', async (t) => {
  const root = serviceRoot(t);
  const dir = makeService(root, 'svc', { run: SLEEP });
  const tsv = await startTsv(t, dir);
  const pid0 = await waitRunning(dir);
  const sup = join(dir, 'supervise');
  const held = FILES.map((f) => {
    const fd = openSync(join(sup, f), 'r');
    return { f, fd, bytes: readAll(fd) };
  });
  t.teardown(() => {
    for (const h of held) closeSync(h.fd);
  });
  t.equal(held[2]?.bytes.toString(), `${pid0}\n`, 'pid as opened');
  let pid = pid0;
  for (let i = 0; i < 3; i++) pid = await cycle(dir);
  t.not(pid, pid0, 'the service runs with a new pid');
  t.equal(readFileSync(join(sup, 'pid'), 'utf8'), `${pid}\n`, 'supervise/pid names it');
  t.equal(status(dir)?.pid, pid, 'supervise/status names it');
  for (const h of held) t.same(readAll(h.fd), h.bytes, `${h.f}: the open file still holds what it held when opened`);
  control(dir, 'x');
  t.same(await tsv.exited, { code: 0, signal: null });
});

t.test('with no reader, changes reuse the two inodes of each file', async (t) => {
  const root = serviceRoot(t);
  const dir = makeService(root, 'svc', { run: SLEEP });
  const tsv = await startTsv(t, dir);
  await waitRunning(dir);
  const sup = join(dir, 'supervise');
  // why one cycle first: the first writes of a new supervise/ make the files and their spares
  await cycle(dir);
  const inodes = (f: string): Set<number> => new Set([statSync(join(sup, f)).ino, statSync(join(sup, `${f}.new`)).ino]);
  const first = new Map(FILES.map((f) => [f, inodes(f)]));
  for (const f of FILES) t.ok(lstatSync(join(sup, `${f}.new`)).isFile(), `${f}.new is kept, a regular file`);
  for (let i = 0; i < 3; i++) {
    await cycle(dir);
    for (const f of FILES) t.same(inodes(f), first.get(f), `${f}: the same two inodes after change ${i + 1}`);
  }
  t.equal(readFileSync(join(sup, 'status')).length, 20, 'status is 20 bytes');
  JSON.parse(readFileSync(join(sup, 'tsv.json'), 'utf8'));
  t.pass('tsv.json is whole JSON');
  control(dir, 'x');
  t.same(await tsv.exited, { code: 0, signal: null });
});

t.test('a symlink at status.new is replaced, never written through', async (t) => {
  const root = serviceRoot(t);
  const dir = makeService(root, 'svc', { run: SLEEP });
  const tsv = await startTsv(t, dir);
  await waitRunning(dir);
  const sup = join(dir, 'supervise');
  const outside = join(root, 'precious');
  writeFileSync(outside, 'keep me\n');
  for (const f of FILES) {
    rmSync(join(sup, `${f}.new`), { force: true });
    symlinkSync(outside, join(sup, `${f}.new`));
  }
  const pid = await cycle(dir);
  t.equal(readFileSync(outside, 'utf8'), 'keep me\n', 'the link target is untouched');
  t.equal(status(dir)?.pid, pid, 'status was written');
  t.equal(readFileSync(join(sup, 'pid'), 'utf8'), `${pid}\n`, 'pid was written');
  for (const f of FILES) t.notOk(lstatSync(join(sup, f)).isSymbolicLink(), `${f} is no symlink`);
  control(dir, 'x');
  t.same(await tsv.exited, { code: 0, signal: null });
});

t.test("a start's first writes (in the thread pool) replace a symlink at name.new too", async (t) => {
  const root = serviceRoot(t);
  const dir = makeService(root, 'svc', { run: SLEEP });
  const sup = join(dir, 'supervise');
  mkdirSync(sup, { mode: 0o700 });
  const outside = join(root, 'precious');
  writeFileSync(outside, 'keep me\n');
  for (const f of [...FILES, 'stat']) symlinkSync(outside, join(sup, `${f}.new`));
  const tsv = await startTsv(t, dir);
  const pid = await waitRunning(dir);
  t.equal(readFileSync(outside, 'utf8'), 'keep me\n', 'the link target is untouched');
  t.equal(readFileSync(join(sup, 'pid'), 'utf8'), `${pid}\n`, 'pid was written');
  t.equal(readFileSync(join(sup, 'stat'), 'utf8'), 'run\n', 'stat was written');
  for (const f of [...FILES, 'stat']) t.notOk(lstatSync(join(sup, f)).isSymbolicLink(), `${f} is no symlink`);
  control(dir, 'x');
  t.same(await tsv.exited, { code: 0, signal: null });
});
