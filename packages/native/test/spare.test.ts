// writeSpare and renameExchange, the two calls behind supervise/'s status writes: a spare file is
// rewritten in place only when no other open file description of it exists (in this process or
// another), never through a symlink, a FIFO, a directory or a second link; a lease-break signal
// cannot end the process; renameExchange swaps two names (inodes checked) and renames where there
// is nothing to swap with. Real files, real processes holding them open.
import t from 'tap';
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, existsSync, linkSync, lstatSync, mkdirSync, openSync, readFileSync, readSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mkfifo, renameExchange, writeSpare } from '@tsv/native';
import { tmpdir, ROOT, waitFor } from '@tsv/testkit';
import { throwsNodeError } from './node-error.js';

/** A file with text, made afresh. */
function file(dir: string, name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

t.test('rewrites a file nobody holds, in place, truncated to the new data', async (t) => {
  const dir = tmpdir(t);
  const p = file(dir, 'f', 'a longer first version\n');
  const ino = statSync(p).ino;
  t.equal(writeSpare(p, 'short\n'), true, 'written');
  t.equal(readFileSync(p, 'utf8'), 'short\n', 'the new text, the old tail gone');
  t.equal(statSync(p).ino, ino, 'the same inode');
  t.equal(writeSpare(p, Buffer.from('a Buffer, longer than before\n')), true, 'a Buffer');
  t.equal(readFileSync(p, 'utf8'), 'a Buffer, longer than before\n');
  t.equal(writeSpare(p, ''), true, 'empty');
  t.equal(statSync(p).size, 0, 'an empty file');
  t.equal(writeSpare(p, Buffer.alloc(20, 7)), true);
  t.same(readFileSync(p), Buffer.alloc(20, 7), '20 binary bytes, as a status record');
});

t.test('a file open elsewhere is left as it is', async (t) => {
  const dir = tmpdir(t);
  const p = file(dir, 'f', 'held\n');
  const fd = openSync(p, 'r');
  t.equal(writeSpare(p, 'changed\n'), false, 'held open for reading by this process: not written');
  const buf = Buffer.alloc(64);
  t.equal(buf.subarray(0, readSync(fd, buf, 0, 64, 0)).toString(), 'held\n', 'the holder reads what it opened');
  closeSync(fd);
  t.equal(writeSpare(p, 'changed\n'), true, 'written once the holder closed it');

  // another process holding it open, for writing this time
  const holder = spawn('/bin/sh', ['-c', `exec 3>>"$1"; echo ready; exec sleep 1000`, 'sh', p], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.teardown(() => holder.kill('SIGKILL'));
  await new Promise((r) => holder.stdout.once('data', r));
  t.equal(writeSpare(p, 'third\n'), false, 'held open by another process: not written');
  t.equal(readFileSync(p, 'utf8'), 'changed\n', 'untouched');
  holder.kill('SIGKILL');
  await waitFor(() => writeSpare(p, 'third\n'), 10_000, 'written once the other process is gone');
  t.equal(readFileSync(p, 'utf8'), 'third\n');
});

t.test('only a plain regular file of one link is written', async (t) => {
  const dir = tmpdir(t);
  t.equal(writeSpare(join(dir, 'missing'), 'x'), false, 'missing: false, nothing created');
  t.notOk(existsSync(join(dir, 'missing')));
  const target = file(dir, 'target', 'precious\n');
  symlinkSync(target, join(dir, 'link'));
  t.equal(writeSpare(join(dir, 'link'), 'x'), false, 'a symlink is not followed');
  t.equal(readFileSync(target, 'utf8'), 'precious\n', 'its target untouched');
  mkfifo(join(dir, 'fifo'), 0o600);
  t.equal(writeSpare(join(dir, 'fifo'), 'x'), false, 'a FIFO without a reader: false at once, no block');
  mkdirSync(join(dir, 'sub'));
  t.equal(writeSpare(join(dir, 'sub'), 'x'), false, 'a directory');
  const two = file(dir, 'two', 'linked\n');
  linkSync(two, join(dir, 'other-name'));
  t.equal(writeSpare(two, 'x'), false, 'a file with a second link');
  t.equal(readFileSync(join(dir, 'other-name'), 'utf8'), 'linked\n', 'its other name shows no change');
});

t.test('bad arguments are TypeErrors; a failed write is a Node-style error', async (t) => {
  t.throws(() => (writeSpare as (...a: unknown[]) => boolean)('x'), { name: 'TypeError' }, 'too few');
  t.throws(() => (writeSpare as (...a: unknown[]) => boolean)(1, 'x'), { name: 'TypeError' }, 'a path that is no string');
  t.throws(() => (writeSpare as (...a: unknown[]) => boolean)('/x', 5), { name: 'TypeError' }, 'data neither string nor Buffer');
  t.throws(() => (renameExchange as (...a: unknown[]) => boolean)('x'), { name: 'TypeError' }, 'renameExchange: too few');
  // why a child: RLIMIT_FSIZE makes the write fail with EFBIG (SIGXFSZ handled, not fatal there).
  const dir = tmpdir(t);
  const p = file(dir, 'f', '');
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', `
    import { writeSpare, setrlimit, RLIMIT } from '@tsv/native';
    process.on('SIGXFSZ', () => {});
    setrlimit(RLIMIT.FSIZE, 10, Infinity);
    try { writeSpare(${JSON.stringify(p)}, 'x'.repeat(100)); console.log('no error'); }
    catch (e) { console.log(JSON.stringify({ code: e.code, errno: e.errno, syscall: e.syscall, path: e.path, message: e.message })); }
  `], { cwd: ROOT, encoding: 'utf8' });
  const e = JSON.parse(out) as { code: string; errno: number; syscall: string; path: string; message: string };
  t.same({ code: e.code, syscall: e.syscall, path: e.path }, { code: 'EFBIG', syscall: 'write', path: p }, 'EFBIG from write, with the path');
  t.equal(e.message, `EFBIG: file too large, write '${p}'`);
  t.ok(readFileSync(p).length <= 10, 'at most the limit was written');
});

t.test('a lease-break signal does not end the process; children get SIGIO at its default', async (t) => {
  const dir = tmpdir(t);
  const p = file(dir, 'f', 'x');
  // why a child: the handler is process-wide; here SIGIO is sent on purpose, as a lease break
  // (another process opening the spare during the write) would send it. Without NODE_OPTIONS
  // (env -u: tap puts it back into any environment child_process is given): tap's process-info
  // hook listens to SIGIO too (signal-exit) and re-raises it to die as the default would; the
  // guard leaves a handler someone set alone (writeSpare also clears the lease's owner, so a
  // real break signals nobody), so here it must be the only one.
  const out = execFileSync('/usr/bin/env', ['-u', 'NODE_OPTIONS', process.execPath, '--input-type=module', '-e', `
    import { writeSpare } from '@tsv/native';
    import { execFileSync } from 'node:child_process';
    writeSpare(${JSON.stringify(p)}, 'y');
    process.kill(process.pid, 'SIGIO');
    await new Promise((r) => setTimeout(r, 50));
    const st = execFileSync('/bin/sh', ['-c', 'grep -E "^Sig(Ign|Cgt)" /proc/self/status'], { encoding: 'utf8' });
    console.log('alive');
    console.log(st);
  `], { cwd: ROOT, encoding: 'utf8' });
  t.match(out, /^alive$/m, 'alive after SIGIO');
  const mask = (name: string): bigint => BigInt(`0x${/^${name}:\s*([0-9a-f]+)/m.exec(out)?.[1] ?? '0'}`);
  const bit = 1n << 28n; // SIGIO is 29
  t.equal(mask('SigIgn') & bit, 0n, 'a child does not ignore SIGIO');
  t.equal(mask('SigCgt') & bit, 0n, 'nor catches it (exec reset the handler)');
});

t.test('renameExchange swaps two names; renames where there is nothing to swap with', async (t) => {
  const dir = tmpdir(t);
  const a = file(dir, 'a.new', 'new\n');
  const b = file(dir, 'a', 'old\n');
  const ia = statSync(a).ino;
  const ib = statSync(b).ino;
  t.equal(renameExchange(a, b), true, 'exchanged');
  t.equal(readFileSync(b, 'utf8'), 'new\n');
  t.equal(readFileSync(a, 'utf8'), 'old\n', 'the old file is kept under the other name');
  t.same([statSync(b).ino, statSync(a).ino], [ia, ib], 'the inodes swapped');
  const c = file(dir, 'c.new', 'only\n');
  t.equal(renameExchange(c, join(dir, 'c')), false, 'no target: a rename');
  t.equal(readFileSync(join(dir, 'c'), 'utf8'), 'only\n');
  t.notOk(existsSync(c), 'the source name is gone');
  throwsNodeError(t, () => renameExchange(join(dir, 'none'), join(dir, 'none2')), { code: 'ENOENT', desc: 'no such file or directory', syscall: 'rename', path: join(dir, 'none') }, 'no source');
  if (existsSync('/dev/shm') && lstatSync('/dev/shm').dev !== lstatSync(dir).dev) {
    const far = join('/dev/shm', `tsv-spare-${process.pid}`);
    writeFileSync(far, 'far\n');
    t.teardown(() => execFileSync('rm', ['-f', far]));
    throwsNodeError(t, () => renameExchange(a, far), { code: 'EXDEV', syscall: 'renameat2', path: a }, 'across filesystems');
  }
});

t.test('names relative to a directory fd', async (t) => {
  const dir = tmpdir(t);
  file(dir, 'f', 'old\n');
  file(dir, 'f.new', 'spare\n');
  const dfd = openSync(dir, 'r');
  t.teardown(() => closeSync(dfd));
  t.equal(writeSpare('f.new', 'via the fd\n', dfd), true, 'written by a name relative to the fd');
  t.equal(renameExchange('f.new', 'f', dfd), true, 'swapped by names relative to the fd');
  t.equal(readFileSync(join(dir, 'f'), 'utf8'), 'via the fd\n');
  t.equal(readFileSync(join(dir, 'f.new'), 'utf8'), 'old\n');
  t.equal(writeSpare('f.new', 'x', undefined), false, 'undefined: relative to the cwd (no f.new there)');
  t.throws(() => (writeSpare as (...a: unknown[]) => boolean)('f.new', 'x', 'fd'), { name: 'TypeError' }, 'a dir fd that is no number');
  t.equal(writeSpare('f.new', 'x', 987_654), false, 'a closed fd: nothing to write');
  throwsNodeError(t, () => renameExchange('f.new', 'f', 987_654), { code: 'EBADF', desc: 'bad file descriptor', syscall: 'renameat2', path: 'f.new' }, 'a closed dir fd');
});

t.test('a string is written whole, NUL characters included', async (t) => {
  const dir = tmpdir(t);
  const p = file(dir, 'f', 'x');
  t.equal(writeSpare(p, 'a\0b\u00e9\n'), true);
  t.same(readFileSync(p), Buffer.from('a\0b\u00e9\n'), 'every byte of its UTF-8 form');
});
