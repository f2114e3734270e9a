// writeFiles: a whole status projection in one job of libuv's thread pool. Each file is written
// as the synchronous path writes it (the spare name.new rewritten in place when nobody holds it,
// else a new name.new, then swapped in), in the order given, and each failure is reported for
// its own file with the step that failed; writeFilesSync does the same at once. Real files, real
// readers holding them open.
import t from 'tap';
import { closeSync, existsSync, lstatSync, mkdirSync, openSync, readFileSync, readSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFiles, writeFilesSync, type WriteFileError } from '@tsv/native';
import { tmpdir } from '@tsv/testkit';

const AT_FDCWD = -100;

/** writeFiles as a promise of its results. */
function write(dirFd: number, entries: Array<[string, string, string | Buffer]>): Promise<Array<WriteFileError | null>> {
  return new Promise((resolve) => writeFiles(dirFd, entries, resolve));
}

/** Everything fd holds from offset 0. */
function readAll(fd: number): string {
  const buf = Buffer.alloc(4096);
  return buf.subarray(0, readSync(fd, buf, 0, buf.length, 0)).toString();
}

t.test('new files are made and swapped in; the next write reuses both inodes', async (t) => {
  const dir = tmpdir(t);
  const dfd = openSync(dir, 'r');
  t.teardown(() => closeSync(dfd));
  const entries = (v: string): Array<[string, string, string | Buffer]> => [
    ['pid.new', 'pid', `${v}\n`],
    ['status.new', 'status', Buffer.from(v.padEnd(20, '.'))],
  ];
  t.same(await write(dfd, entries('1')), [null, null], 'both written');
  t.equal(readFileSync(join(dir, 'pid'), 'utf8'), '1\n');
  t.equal(readFileSync(join(dir, 'status'), 'utf8'), '1'.padEnd(20, '.'), 'a Buffer, byte for byte');
  t.notOk(existsSync(join(dir, 'pid.new')), 'the first write renames (nothing to swap with)');
  t.equal(statSync(join(dir, 'pid')).mode & 0o777, 0o644 & ~process.umask(), 'mode 0644 less the umask');
  t.same(await write(dfd, entries('2')), [null, null]);
  t.equal(readFileSync(join(dir, 'pid.new'), 'utf8'), '1\n', 'the second swaps: the old file is the spare');
  const ino = (f: string): number => statSync(join(dir, f)).ino;
  const before = new Set([ino('pid'), ino('pid.new')]);
  for (const v of ['3', '4', '5']) t.same(await write(dfd, entries(v)), [null, null]);
  t.same(new Set([ino('pid'), ino('pid.new')]), before, 'later writes rewrite the spare: the same two inodes');
  t.equal(readFileSync(join(dir, 'pid'), 'utf8'), '5\n', 'the newest text');
});

t.test('a reader of the spare keeps what it opened; a symlink at name.new is never written through', async (t) => {
  const dir = tmpdir(t);
  writeFileSync(join(dir, 'f'), 'old\n');
  writeFileSync(join(dir, 'f.new'), 'spare\n');
  const held = openSync(join(dir, 'f.new'), 'r');
  t.teardown(() => closeSync(held));
  t.same(await write(AT_FDCWD, [[join(dir, 'f.new'), join(dir, 'f'), 'newer\n']]), [null], 'paths, no directory fd');
  t.equal(readFileSync(join(dir, 'f'), 'utf8'), 'newer\n');
  t.equal(readAll(held), 'spare\n', 'the held file was not rewritten (a new one was made)');
  const precious = join(dir, 'precious');
  writeFileSync(precious, 'keep me\n');
  symlinkSync(precious, join(dir, 'g.new'));
  t.same(await write(AT_FDCWD, [[join(dir, 'g.new'), join(dir, 'g'), 'g\n']]), [null]);
  t.equal(readFileSync(precious, 'utf8'), 'keep me\n', 'the link target is untouched');
  t.notOk(lstatSync(join(dir, 'g')).isSymbolicLink(), 'g is a file of its own');
  t.equal(readFileSync(join(dir, 'g'), 'utf8'), 'g\n');
});

t.test('each file fails on its own, with the step and a Node-style error', async (t) => {
  const dir = tmpdir(t);
  const dfd = openSync(dir, 'r');
  t.teardown(() => closeSync(dfd));
  mkdirSync(join(dir, 'd.new'));
  writeFileSync(join(dir, 'd.new', 'inside'), '');
  const r = await write(dfd, [
    ['a.new', 'a', 'a\n'],
    ['missing/b.new', 'b', 'b\n'],
    ['d.new', 'd', 'd\n'],
    ['c.new', 'missing/c', 'c\n'],
    ['e.new', 'e', 'e\n'],
  ]);
  t.equal(r[0], null, 'the first file is written');
  t.match(r[1], { code: 'ENOENT', errno: -2, syscall: 'open', path: 'missing/b.new', step: 'open' }, 'no directory for the new file: step open');
  t.match(r[1]?.message, /^ENOENT: no such file or directory, open 'missing\/b\.new'$/, 'the message of a Node error');
  t.match(r[2], { code: 'EISDIR', syscall: 'unlink', path: 'd.new', step: 'open' }, 'a directory in the way of the new file');
  t.match(r[3], { code: 'ENOENT', syscall: 'rename', path: 'c.new', step: 'rename' }, 'nowhere to rename to: step rename');
  t.equal(r[4], null, 'the last file is written after three failures');
  t.equal(readFileSync(join(dir, 'e'), 'utf8'), 'e\n');
  t.ok(r[1] instanceof Error, 'an Error');
});

t.test('bad arguments throw at once and queue nothing', async (t) => {
  const w = writeFiles as (...a: unknown[]) => void;
  t.throws(() => w(AT_FDCWD, []), { name: 'TypeError' }, 'no callback');
  t.throws(() => w('x', [], () => {}), { name: 'TypeError' }, 'a dir fd that is no number');
  t.throws(() => w(AT_FDCWD, 'x', () => {}), { name: 'TypeError' }, 'entries that are no array');
  t.throws(() => w(AT_FDCWD, [['a.new', 'a', 5]], () => {}), { name: 'TypeError' }, 'data neither string nor Buffer');
  t.throws(() => w(AT_FDCWD, ['a'], () => {}), { name: 'TypeError' }, 'an entry that is no array');
  t.same(await write(AT_FDCWD, []), [], 'no entries: an empty result');
});

t.test('writeFilesSync: the same writes, done at once, results returned', async (t) => {
  const dir = tmpdir(t);
  const dfd = openSync(dir, 'r');
  t.teardown(() => closeSync(dfd));
  t.same(writeFilesSync(dfd, [['a.new', 'a', 'one\n']]), [null], 'made and renamed in');
  t.same(writeFilesSync(dfd, [['a.new', 'a', 'two\n']]), [null], 'swapped');
  const ino = new Set([statSync(join(dir, 'a')).ino, statSync(join(dir, 'a.new')).ino]);
  t.same(writeFilesSync(dfd, [['a.new', 'a', 'three\n']]), [null], 'the spare rewritten');
  t.equal(readFileSync(join(dir, 'a'), 'utf8'), 'three\n');
  t.same(new Set([statSync(join(dir, 'a')).ino, statSync(join(dir, 'a.new')).ino]), ino, 'the same two inodes');
  const [err] = writeFilesSync(dfd, [['missing/b.new', 'b', 'b\n']]);
  t.match(err, { code: 'ENOENT', syscall: 'open', path: 'missing/b.new', step: 'open' }, 'a failure is returned, not thrown');
  t.throws(() => (writeFilesSync as (...a: unknown[]) => unknown)(AT_FDCWD), { name: 'TypeError' }, 'too few arguments');
  t.throws(() => (writeFilesSync as (...a: unknown[]) => unknown)(AT_FDCWD, [['a.new', 'a', 5]]), { name: 'TypeError' }, 'data neither string nor Buffer');
});
