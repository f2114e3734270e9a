// The addon's failures are Node-style errors, like node:fs's: an Error with code (the errno
// name), errno (negative, as Node's), syscall, path (only for calls that take one), and the
// message `CODE: description, syscall 'path'`. One failing call of every function that can
// fail on demand; the expected numbers come from os.constants, the texts from glibc's
// strerror (lower-cased first letter, as the addon writes it). Calls that must not succeed in
// the test process (setsid, pipe at the fd limit) run in a child.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { closeSync, openSync, writeFileSync } from 'node:fs';
import { constants } from 'node:os';
import { join } from 'node:path';
import { chroot, dup2, execve, flock, funlock, getrlimit, mkfifo, RLIMIT, setCloexec, setNonblock, setrlimit, waitpid } from '@tsv/native';
import { tmpdir, ROOT } from '@tsv/testkit';
import { throwsNodeError } from './node-error.js';


const BAD_FD = 987_654;

t.test('execve', async (t) => {
  const dir = tmpdir(t);
  throwsNodeError(t, () => execve(join(dir, 'none'), ['none'], [], []), { code: 'ENOENT', desc: 'no such file or directory', syscall: 'execve', path: join(dir, 'none') }, 'missing file');
  throwsNodeError(t, () => execve(dir, ['x'], [], []), { code: 'EACCES', desc: 'permission denied', syscall: 'execve', path: dir }, 'a directory');
  const plain = join(dir, 'plain');
  writeFileSync(plain, 'not executable\n', { mode: 0o644 });
  throwsNodeError(t, () => execve(plain, ['plain'], [], []), { code: 'EACCES', desc: 'permission denied', syscall: 'execve', path: plain }, 'no x bit');
  t.equal(typeof process.pid, 'number', 'still this process after the failures');
});

t.test('flock and funlock', async (t) => {
  throwsNodeError(t, () => flock(BAD_FD, true, true), { code: 'EBADF', desc: 'bad file descriptor', syscall: 'flock' }, 'flock on a closed fd');
  throwsNodeError(t, () => funlock(BAD_FD), { code: 'EBADF', desc: 'bad file descriptor', syscall: 'flock' }, 'funlock on a closed fd');
  const dir = tmpdir(t);
  const f = join(dir, 'lock');
  writeFileSync(f, '');
  // why two opens: flock locks belong to the open file description, so a second open in the
  // same process conflicts with the first.
  const a = openSync(f, 'r');
  const b = openSync(f, 'r');
  t.teardown(() => {
    closeSync(a);
    closeSync(b);
  });
  flock(a, true, true);
  throwsNodeError(t, () => flock(b, true, true), { code: 'EAGAIN', desc: 'resource temporarily unavailable', syscall: 'flock' }, 'a held lock, non-blocking (EWOULDBLOCK is EAGAIN on Linux)');
  funlock(a);
  flock(b, false, true);
  t.pass('taken once released');
});

t.test('mkfifo', async (t) => {
  const dir = tmpdir(t);
  const p = join(dir, 'fifo');
  mkfifo(p, 0o600);
  throwsNodeError(t, () => mkfifo(p, 0o600), { code: 'EEXIST', desc: 'file exists', syscall: 'mkfifo', path: p }, 'exists');
  const q = join(dir, 'no', 'fifo');
  throwsNodeError(t, () => mkfifo(q, 0o600), { code: 'ENOENT', desc: 'no such file or directory', syscall: 'mkfifo', path: q }, 'missing parent');
  const r = join(p, 'x');
  throwsNodeError(t, () => mkfifo(r, 0o600), { code: 'ENOTDIR', desc: 'not a directory', syscall: 'mkfifo', path: r }, 'a parent that is a FIFO');
});

t.test('getrlimit and setrlimit', async (t) => {
  throwsNodeError(t, () => getrlimit(9999), { code: 'EINVAL', desc: 'invalid argument', syscall: 'getrlimit' }, 'unknown resource');
  throwsNodeError(t, () => setrlimit(9999, 1, 1), { code: 'EINVAL', desc: 'invalid argument', syscall: 'setrlimit' }, 'unknown resource');
  const cur = getrlimit(RLIMIT.CORE);
  if (cur.hard !== Infinity) t.comment('RLIMIT_CORE hard limit is finite here: soft above hard not tried');
  else throwsNodeError(t, () => setrlimit(RLIMIT.CORE, 2048, 1024), { code: 'EINVAL', desc: 'invalid argument', syscall: 'setrlimit' }, 'soft above hard');
  t.same(getrlimit(RLIMIT.CORE), cur, 'a failed setrlimit changes nothing');
});

t.test('chroot', async (t) => {
  const dir = tmpdir(t);
  const missing = join(dir, 'none');
  throwsNodeError(t, () => chroot(missing), { code: 'ENOENT', desc: 'no such file or directory', syscall: 'chroot', path: missing }, 'missing dir');
  const file = join(dir, 'file');
  writeFileSync(file, '');
  throwsNodeError(t, () => chroot(file), { code: 'ENOTDIR', desc: 'not a directory', syscall: 'chroot', path: file }, 'a file');
});

t.test('fcntl flags and dup2', async (t) => {
  throwsNodeError(t, () => setCloexec(BAD_FD, true), { code: 'EBADF', desc: 'bad file descriptor', syscall: 'fcntl' }, 'setCloexec');
  throwsNodeError(t, () => setNonblock(BAD_FD, true), { code: 'EBADF', desc: 'bad file descriptor', syscall: 'fcntl' }, 'setNonblock');
  throwsNodeError(t, () => dup2(BAD_FD, BAD_FD + 1), { code: 'EBADF', desc: 'bad file descriptor', syscall: 'dup2' }, 'dup2 from a closed fd');
});

t.test('waitpid', async (t) => {
  // pid 1 is never our child: ECHILD, and nothing of libuv's is reaped.
  throwsNodeError(t, () => waitpid(1, true), { code: 'ECHILD', desc: 'no child processes', syscall: 'waitpid' }, 'not a child');
});

t.test('bad arguments are TypeErrors (ERR_INVALID_ARG_TYPE), not system errors', async (t) => {
  const calls: Array<[string, () => unknown]> = [
    ['mkfifo(1)', () => (mkfifo as unknown as (p: unknown, m: unknown) => void)(1, 0o600)],
    ['flock("x")', () => (flock as unknown as (...a: unknown[]) => void)('x', true, true)],
    ['getrlimit("x")', () => (getrlimit as unknown as (r: unknown) => void)('x')],
    ['execve(path, "argv")', () => (execve as unknown as (...a: unknown[]) => void)('/bin/true', 'argv', [], [])],
  ];
  for (const [what, fn] of calls) t.throws(fn, { name: 'TypeError' }, what);
  // Too few arguments: each throws (need_args in tsv_native.c), never returns undefined having
  // done nothing.
  const few: Array<[string, () => unknown]> = [
    ['funlock()', () => (funlock as unknown as () => unknown)()],
    ['getrlimit()', () => (getrlimit as unknown as () => unknown)()],
    ['setCloexec(0)', () => (setCloexec as unknown as (fd: number) => unknown)(0)],
    ['setNonblock(0)', () => (setNonblock as unknown as (fd: number) => unknown)(0)],
    ['dup2(0)', () => (dup2 as unknown as (fd: number) => unknown)(0)],
    ['waitpid()', () => (waitpid as unknown as () => unknown)()],
  ];
  for (const [what, fn] of few) t.throws(fn, { name: 'TypeError' }, `${what}: too few arguments`);
});

t.test('in a child: setsid as a session leader, pipe at the fd limit', async (t) => {
  const code = `
    import { setsid, pipe, setrlimit, getrlimit, RLIMIT } from '@tsv/native';
    const out = {};
    const grab = (k, f) => { try { f(); out[k] = 'no error'; } catch (e) { out[k] = { code: e.code, errno: e.errno, syscall: e.syscall, message: e.message, path: 'path' in e }; } };
    setsid(); // the first call makes this process a session leader
    grab('setsid', () => setsid());
    const opened = [];
    setrlimit(RLIMIT.NOFILE, 64, getrlimit(RLIMIT.NOFILE).hard);
    grab('pipe', () => { for (;;) opened.push(...pipe()); });
    process.stdout.write(JSON.stringify(out));`;
  const env = { ...process.env };
  delete env.NODE_OPTIONS; // tap's hook: not needed in this child
  const out = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', code], { cwd: ROOT, env, encoding: 'utf8' })) as Record<string, unknown>;
  t.same(out.setsid, { code: 'EPERM', errno: -constants.errno.EPERM, syscall: 'setsid', message: 'EPERM: operation not permitted, setsid', path: false });
  t.same(out.pipe, { code: 'EMFILE', errno: -constants.errno.EMFILE, syscall: 'pipe2', message: 'EMFILE: too many open files, pipe2', path: false });
});
