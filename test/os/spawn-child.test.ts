// spawnChild and the ChildWatcher against real processes: exit reports, synchronous exec
// errors, the child's fds, session, signal state and NOFILE, coexistence with child_process,
// a thousand children exiting at once, and the spawn in the thread pool (spawnChildAsync).
import t from 'tap';
import { spawn as cpSpawn } from 'node:child_process';
import { chmodSync, closeSync, openSync, readdirSync, readFileSync, readlinkSync, realpathSync, writeFileSync, constants as fsc } from 'node:fs';
import { constants as osc } from 'node:os';
import { join } from 'node:path';
import { childPids, childWatcher, procStat, spawnChild, spawnChildAsync, type SpawnChildOptions } from '@tsv/os';
import { getrlimit, pipe, RLIMIT, spawn as nativeSpawn, spawnStartTicks, waitpid } from '@tsv/native';
import { fileURLToPath } from 'node:url';
import { killHard, run, tmpdir, waitFor, type Teardownable } from '@tsv/testkit';

const HERE = fileURLToPath(new URL('.', import.meta.url));

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Start a watched child, killed at teardown; returns its pid and its exit. */
function start(t: Teardownable, opts: SpawnChildOptions): { pid: number; exited: Promise<Exit> } {
  const pid = spawnChild(opts);
  t.teardown(() => killHard(pid));
  const exited = new Promise<Exit>((resolve) => childWatcher().watch(pid, (code, signal) => resolve({ code, signal })));
  return { pid, exited };
}

/** The fds a process has open, from /proc/PID/fd. */
function openFds(pid: number): number[] {
  return readdirSync(`/proc/${pid}/fd`).map(Number).sort((a, b) => a - b);
}

/** Our fds at or above n that lack FD_CLOEXEC (inherited from whoever started the test, which
 * Node leaves as they are): a child inherits them whatever starts it, child_process included. */
function inheritable(n: number): number[] {
  return openFds(process.pid).filter((fd) => {
    if (fd < n) return false;
    try {
      const m = readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8').match(/^flags:\s*(\d+)/m);
      // why: O_CLOEXEC shows as 02000000 in the octal flags of fdinfo
      return m !== null && (parseInt(m[1] ?? '0', 8) & 0o2000000) === 0;
    } catch {
      return false; // the fd of the readdir itself
    }
  });
}

/** The child's fds once its execve has closed the close-on-exec ones: the vfork parent is
 * woken (and a fork child's error pipe closed) before the kernel closes them all, so read
 * until the list is the one expected, or the deadline passes with the last list. */
async function settledFds(pid: number, expected: number[]): Promise<number[]> {
  let last: number[] = [];
  try {
    await waitFor(() => {
      last = openFds(pid);
      return last.join() === expected.join() || undefined;
    }, 2_000, 'the fds after exec');
  } catch {
    // the assertion shows the difference
  }
  return last;
}

/** One line of /proc/PID/status. */
function statusField(pid: number, name: string): string {
  const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(new RegExp(`^${name}:\\s*(\\S+)`, 'm'));
  return m?.[1] ?? '';
}

t.test('exit codes and signals', async (t) => {
  const a = start(t, { file: '/bin/sh', args: ['-c', 'exit 7'] });
  const b = start(t, { file: '/bin/sh', args: ['-c', 'kill -TERM $$'] });
  const c = start(t, { file: '/bin/sleep', args: ['100'] });
  process.kill(c.pid, 'SIGKILL');
  t.same(await a.exited, { code: 7, signal: null });
  t.same(await b.exited, { code: null, signal: 'SIGTERM' });
  t.same(await c.exited, { code: null, signal: 'SIGKILL' });
  t.notOk(childPids().includes(a.pid), 'reaped');
});

t.test('exec and set-up failures are thrown synchronously, the child reaped', async (t) => {
  const dir = tmpdir(t);
  writeFileSync(join(dir, 'noexec'), '#!/bin/sh\n');
  chmodSync(join(dir, 'noexec'), 0o644);
  writeFileSync(join(dir, 'garbage'), Buffer.from([0x7f, 0x01, 0x02, 0x03, 0, 0, 0, 0]));
  chmodSync(join(dir, 'garbage'), 0o755);
  const before = childPids().length;
  const cases: Array<[SpawnChildOptions, string, string, string]> = [
    [{ file: join(dir, 'missing') }, 'ENOENT', 'execve', join(dir, 'missing')],
    [{ file: join(dir, 'noexec') }, 'EACCES', 'execve', join(dir, 'noexec')],
    [{ file: join(dir, 'garbage'), shFallback: false }, 'ENOEXEC', 'execve', join(dir, 'garbage')],
    [{ file: './missing', cwd: dir }, 'ENOENT', 'execve', './missing'],
    [{ file: '/bin/true', cwd: join(dir, 'nodir') }, 'ENOENT', 'chdir', join(dir, 'nodir')],
  ];
  for (const [opts, code, syscall, path] of cases) {
    const errno = -(osc.errno as Record<string, number>)[code]!;
    t.throws(() => spawnChild(opts), { code, errno, syscall, path }, `${code} ${syscall} ${path}`);
  }
  for (const fork of [false, true]) {
    t.throws(() => nativeSpawn(join(dir, 'missing'), ['x'], [], null, [0, 1, 2], { fork }), { code: 'ENOENT', syscall: 'execve' }, `fork: ${fork}`);
  }
  t.equal(childPids().length, before, 'no zombie left');
});

t.test('a script without #! runs with /bin/sh, as execvp (and child_process) does', async (t) => {
  const dir = tmpdir(t);
  writeFileSync(join(dir, 'script'), 'exit "$1"\n');
  chmodSync(join(dir, 'script'), 0o755);
  const s = start(t, { file: './script', args: ['6'], cwd: dir });
  t.same(await s.exited, { code: 6, signal: null });
  t.throws(() => spawnChild({ file: './script', cwd: dir, shFallback: false }), { code: 'ENOEXEC', syscall: 'execve' });
});

t.test('fds: stdio[i] becomes fd i, nothing else is inherited, overlaps handled', async (t) => {
  const dir = tmpdir(t);
  const f3 = openSync(join(dir, 'three'), fsc.O_WRONLY | fsc.O_CREAT, 0o644);
  const f5 = openSync(join(dir, 'five'), fsc.O_WRONLY | fsc.O_CREAT, 0o644);
  const [r, w] = pipe();
  t.teardown(() => [f3, f5, r, w].forEach((fd) => closeSync(fd)));
  for (const fork of [false, true]) {
    // why: [w, r, ...]: fd 0 gets what is fd 4 here while ours are swapped around; r and w may
    // themselves be numbers below 6, which the child overwrites.
    const fds = [w, r, 2, f3, -1, f5];
    const pid = nativeSpawn('/bin/sleep', ['sleep', '100'], [], null, fds, { fork });
    t.teardown(() => killHard(pid));
    // why: a forked child copies our table, so ours without close-on-exec go along; the
    // vfork-style child shares it and keeps only what it was given.
    const want = [0, 1, 2, 3, 5, ...(fork ? inheritable(6) : [])];
    t.same(await settledFds(pid, want), want, `fork: ${fork}: exactly the fds given${fork ? ' (and our inheritable ones)' : ''}`);
    const self = (fd: number): string => readlinkSync(`/proc/self/fd/${fd}`);
    const child = (fd: number): string => readlinkSync(`/proc/${pid}/fd/${fd}`);
    t.same([child(0), child(1), child(2), child(3), child(5)], [self(w), self(r), self(2), self(f3), self(f5)]);
    process.kill(pid, 'SIGKILL');
    t.equal(waitpid(pid, false)?.signal, 9);
  }
  // overlapping numbers: a rotation of 0-2 (each source is also a target)
  const rot = nativeSpawn('/bin/sleep', ['sleep', '100'], [], null, [2, 0, 1], {});
  t.teardown(() => killHard(rot));
  const link = (p: number | 'self', fd: number): string => readlinkSync(`/proc/${p}/fd/${fd}`);
  t.same([link(rot, 0), link(rot, 1), link(rot, 2)], [link('self', 2), link('self', 0), link('self', 1)], 'rotation');
  process.kill(rot, 'SIGKILL');
  t.equal(waitpid(rot, false)?.signal, 9);
  // 'ignore' is /dev/null for 0-2
  const p = start(t, { file: '/bin/sleep', args: ['100'], stdio: ['ignore', 1] });
  const want = [0, 1, 2];
  t.same(await settledFds(p.pid, want), want);
  t.equal(readlinkSync(`/proc/${p.pid}/fd/0`), '/dev/null');
  t.equal(readlinkSync(`/proc/${p.pid}/fd/2`), '/dev/null');
  process.kill(p.pid, 'SIGKILL');
  await p.exited;
});

t.test('a parent holding thousands of fds: the child copies none of them, gets exactly its own', async (t) => {
  const dir = tmpdir(t);
  // why 3000: a table of 4096 entries, where the child's own, copied from the few low fds, is
  // one of 64; the sources below are opened after them, so every one is a high number.
  const held: number[] = [];
  t.teardown(() => held.forEach((fd) => closeSync(fd)));
  for (let i = 0; i < 3000; i++) held.push(openSync('/dev/null', fsc.O_RDONLY));
  const [r, w] = pipe();
  held.push(r, w);
  const out = openSync(join(dir, 'out'), fsc.O_WRONLY | fsc.O_CREAT, 0o644);
  const dirFd = openSync(dir, fsc.O_RDONLY | fsc.O_DIRECTORY);
  held.push(out, dirFd);
  writeFileSync(join(dir, 'run'), '#!/bin/sh\npwd -P > where\nexec sleep 100\n');
  chmodSync(join(dir, 'run'), 0o755);
  const self = (fd: number): string => readlinkSync(`/proc/self/fd/${fd}`);
  const child = (pid: number, fd: number): string => readlinkSync(`/proc/${pid}/fd/${fd}`);
  const fdSize = (pid: number): number => Number(statusField(pid, 'FDSize'));
  const stop = async (s: { pid: number; exited: Promise<Exit> }): Promise<void> => {
    process.kill(s.pid, 'SIGKILL');
    await s.exited;
  };

  // cwd through a high fd of ours (tsvscan's /proc/self/fd/N), the sources all high
  const a = start(t, { file: './run', cwd: `/proc/self/fd/${dirFd}`, stdio: [r, out, w] });
  await waitFor(() => readFileSync(join(dir, 'where'), 'utf8') === `${dir}\n` || undefined, 5_000, 'run in the directory');
  // why wait for sleep: while the shell runs `pwd -P > where` its fd 1 is `where` for a moment
  // (the redirect), so the fds are read once run has exec'd sleep, with the table it was given
  await waitFor(() => readFileSync(`/proc/${a.pid}/comm`, 'utf8') === 'sleep\n' || undefined, 5_000, 'run exec\'d sleep');
  t.same(await settledFds(a.pid, [0, 1, 2]), [0, 1, 2], 'exactly fds 0-2');
  t.same([child(a.pid, 0), child(a.pid, 1), child(a.pid, 2)], [self(r), self(out), self(w)], 'each the source given');
  t.ok(fdSize(a.pid) <= 256, `the child's table is small (FDSize ${fdSize(a.pid)})`);
  await stop(a);

  // the whole table copied (noShareFds, as on a kernel without close_range's unshare)
  const pid = nativeSpawn('/bin/sleep', ['sleep', '100'], [], null, [r, out, w], { noShareFds: true });
  t.teardown(() => killHard(pid));
  t.ok(fdSize(pid) >= 3000, `copied: FDSize ${fdSize(pid)}`);
  process.kill(pid, 'SIGKILL');
  t.equal(waitpid(pid, false)?.signal, 9);

  // more high sources than there are slots: the table is copied, each fd still right
  const many = Array.from({ length: 12 }, (_, i) => held[i * 200]!);
  const b = start(t, { file: '/bin/sleep', args: ['100'], stdio: many });
  const want = [...many.map((_, i) => i), ...inheritable(12)];
  t.same(await settledFds(b.pid, want), want, 'fds 0-11 (and our inheritable ones: a copied table)');
  t.same(many.map((_, i) => child(b.pid, i)), many.map(self), 'each the source given');
  await stop(b);

  // a program named through an fd of ours: the table is copied (the child needs that fd)
  const bin = openSync('/bin', fsc.O_RDONLY | fsc.O_DIRECTORY);
  held.push(bin);
  const c = start(t, { file: `/proc/self/fd/${bin}/sleep`, args: ['100'], stdio: [r, out, w] });
  const wantC = [0, 1, 2, ...inheritable(3)];
  t.same(await settledFds(c.pid, wantC), wantC, 'exec through /proc/self/fd: fds 0-2 (and our inheritable ones)');
  t.equal(readlinkSync(`/proc/${c.pid}/exe`), realpathSync('/bin/sleep'), 'the program named');
  await stop(c);

  // a source that is not open: the spawn fails, no slot keeps anything
  const closed = held.pop()!;
  closeSync(closed);
  t.throws(() => spawnChild({ file: '/bin/true', stdio: [0, closed, 2] }), { code: 'EBADF', syscall: 'spawn' });
  const d = start(t, { file: '/bin/sleep', args: ['100'], stdio: [r, out, w] });
  t.same(await settledFds(d.pid, [0, 1, 2]), [0, 1, 2], 'the next spawn is unharmed');
  await stop(d);
});

t.test('setsid: the child leads a new session and group; without it, it stays in ours', async (t) => {
  const a = start(t, { file: '/bin/sleep', args: ['100'], setsid: true });
  const b = start(t, { file: '/bin/sleep', args: ['100'] });
  const field = (pid: number, i: number): number => Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ')[i]);
  t.equal(field(a.pid, 3), a.pid, 'sid == pid');
  t.equal(field(a.pid, 2), a.pid, 'pgrp == pid');
  t.equal(field(b.pid, 3), field(process.pid, 3), 'our session');
  process.kill(a.pid, 'SIGKILL');
  process.kill(b.pid, 'SIGKILL');
  await Promise.all([a.exited, b.exited]);
});

t.test('signals: dispositions default, mask empty, even when ours are not', async (t) => {
  // why: Node ignores SIGPIPE; ignore one more and block some, which a child must not inherit.
  process.on('SIGUSR2', () => undefined);
  t.teardown(() => process.removeAllListeners('SIGUSR2'));
  const pipeDeath = start(t, { file: '/bin/sh', args: ['-c', 'kill -PIPE $$; exit 3'] });
  t.same(await pipeDeath.exited, { code: null, signal: 'SIGPIPE' });
  const usr2 = start(t, { file: '/bin/sh', args: ['-c', 'kill -USR2 $$; exit 3'] });
  t.same(await usr2.exited, { code: null, signal: 'SIGUSR2' }, 'a handled signal is default in the child');
  t.not(statusField(process.pid, 'SigIgn'), '0000000000000000', 'we do ignore some');
  const s = start(t, { file: '/bin/sleep', args: ['100'] });
  t.equal(statusField(s.pid, 'SigBlk'), '0000000000000000');
  t.equal(statusField(s.pid, 'SigIgn'), '0000000000000000');
  process.kill(s.pid, 'SIGKILL');
  await s.exited;
});

t.test('nofile: the child gets the soft limit asked, we keep ours', async (t) => {
  const ours = getrlimit(RLIMIT.NOFILE);
  const s = start(t, { file: '/bin/sleep', args: ['100'], nofile: 321 });
  const line = readFileSync(`/proc/${s.pid}/limits`, 'utf8').split('\n').find((l) => l.startsWith('Max open files')) ?? '';
  const [soft, hard] = line.replace('Max open files', '').trim().split(/\s+/);
  t.equal(soft, '321');
  t.equal(hard, String(ours.hard));
  t.same(getrlimit(RLIMIT.NOFILE), ours, 'ours unchanged');
  const u = start(t, { file: '/bin/sleep', args: ['100'] });
  t.match(readFileSync(`/proc/${u.pid}/limits`, 'utf8'), new RegExp(`Max open files\\s+${ours.soft}\\s`), 'unset: ours');
  process.kill(s.pid, 'SIGKILL');
  process.kill(u.pid, 'SIGKILL');
  await Promise.all([s.exited, u.exited]);
});

t.test('coexists with child_process: both get every exit', async (t) => {
  for (let round = 0; round < 20; round++) {
    const cp = cpSpawn('/bin/sh', ['-c', 'exit 5'], { stdio: 'ignore' });
    t.teardown(() => killHard(cp.pid ?? 0));
    const cpExit = new Promise<Exit>((resolve) => cp.once('exit', (code, signal) => resolve({ code, signal })));
    const ours = [0, 1, 2, 3].map((i) => start(t, { file: '/bin/sh', args: ['-c', `exit ${i}`], setsid: i % 2 === 0 }));
    const cp2 = cpSpawn('/bin/sh', ['-c', 'exit 6'], { stdio: 'ignore' });
    t.teardown(() => killHard(cp2.pid ?? 0));
    const cp2Exit = new Promise<Exit>((resolve) => cp2.once('exit', (code, signal) => resolve({ code, signal })));
    const got = await waitFor(() => Promise.race([
      Promise.all([cpExit, cp2Exit, ...ours.map((o) => o.exited)]),
      new Promise<undefined>((r) => setTimeout(() => r(undefined), 10_000).unref()),
    ]), 11_000, 'every exit');
    t.same(got.map((e) => e.code), [5, 6, 0, 1, 2, 3], `round ${round}`);
  }
});

t.test('coexists with detached child_process children (their own session) too', async (t) => {
  // why: a detached child_process child is in a session of its own, like a stray; taking it
  // for one would steal libuv's waitpid and its 'exit' would never come.
  childWatcher();
  for (let round = 0; round < 10; round++) {
    const cp = cpSpawn('/bin/sh', ['-c', 'exit 4'], { stdio: 'ignore', detached: true });
    t.teardown(() => killHard(cp.pid ?? 0));
    const cpExit = new Promise<Exit>((resolve) => cp.once('exit', (code, signal) => resolve({ code, signal })));
    const ours = start(t, { file: '/bin/sh', args: ['-c', 'exit 1'], setsid: true });
    const got = await Promise.race([
      Promise.all([cpExit, ours.exited]),
      new Promise<undefined>((r) => setTimeout(() => r(undefined), 5_000).unref()),
    ]);
    t.same(got?.map((e) => e.code), [4, 1], `round ${round}`);
  }
});

t.test('a thousand children exiting at once are each reported exactly once', async (t) => {
  const [r, w] = pipe();
  const counts = new Map<number, number>();
  const pids: number[] = [];
  let reported = 0;
  try {
    for (let i = 0; i < 1000; i++) {
      // why: every cat reads the same pipe; closing our write end gives them all EOF at once.
      const pid = spawnChild({ file: '/bin/cat', stdio: [r, 'ignore', 2], setsid: true });
      pids.push(pid);
      childWatcher().watch(pid, (code) => {
        counts.set(pid, (counts.get(pid) ?? 0) + 1);
        if (code === 0) reported++;
      });
    }
  } finally {
    t.teardown(() => pids.forEach((p) => killHard(p)));
    closeSync(r);
    closeSync(w);
  }
  await waitFor(() => reported === 1000 || undefined, 60_000, 'a thousand exits');
  t.equal(counts.size, 1000);
  t.ok([...counts.values()].every((n) => n === 1), 'once each');
  t.equal(childWatcher().size, 0);
  const left = new Set(childPids());
  t.notOk(pids.some((p) => left.has(p)), 'all reaped');
});

t.test('a child that exited before the first watch (no SIGCHLD listener yet) is reported', async (t) => {
  const r = await run(process.execPath, [join(HERE, 'fixtures', 'exit-before-watch.mjs')], { timeoutMs: 10_000 });
  t.equal(r.stdout, 'exit 5\n');
  t.equal(r.code, 0);
});

t.test('strays (exited children nobody watches or reaps) are reaped and reported', async (t) => {
  const w = childWatcher();
  const seen: Array<[number, number | null]> = [];
  w.onStray = (pid, code) => seen.push([pid, code]);
  t.teardown(() => {
    w.onStray = undefined;
  });
  const pid = nativeSpawn('/bin/sh', ['sh', '-c', 'exit 9'], [], null, [0, 1, 2], { setsid: true });
  t.teardown(() => killHard(pid));
  // in our own session, like a control hook's orphan
  const pid2 = nativeSpawn('/bin/sh', ['sh', '-c', 'exit 8'], [], null, [0, 1, 2], {});
  t.teardown(() => killHard(pid2));
  // a watched child makes a SIGCHLD of its own, so the stray is found whatever the order
  const s = start(t, { file: '/bin/true' });
  await s.exited;
  await waitFor(() => seen.length > 1 || undefined, 10_000, 'the strays');
  t.same(seen.sort((a, b) => a[0] - b[0]), [[pid, 9], [pid2, 8]]);
});

t.test("spawnStartTicks: the child's start time as /proc/PID/stat has it, without reading it", async (t) => {
  let known = 0;
  for (let i = 0; i < 50; i++) {
    const s = start(t, { file: '/bin/sleep', args: ['100'] });
    const ticks = spawnStartTicks();
    const proc = procStat(s.pid)?.startTicks;
    // why null is allowed: a clone that spanned a tick boundary (10 ms) cannot say which
    if (ticks !== null) {
      known++;
      t.equal(ticks, proc, `pid ${s.pid}: ${ticks}`);
    }
    process.kill(s.pid, 'SIGKILL');
    await s.exited;
  }
  t.ok(known >= 25, `known for most spawns (${known} of 50)`);
  t.throws(() => spawnChild({ file: '/nonexistent' }), { code: 'ENOENT' });
  t.equal(spawnStartTicks(), null, 'null after a failed spawn');
});

/** What spawnChildAsync's callback got, and the child's exit when it started. */
interface Landed {
  err: NodeJS.ErrnoException | null;
  pid: number | null;
  startTicks: number | null;
  exited: Promise<Exit> | null;
}

/** spawnChildAsync as the supervisors use it: the watcher told of the spawn in flight, the pid
 * watched in the callback before the watcher is told it landed. */
function spawnAsync(t: Teardownable, opts: SpawnChildOptions): Promise<Landed> {
  const w = childWatcher();
  w.expect();
  return new Promise((resolve) => {
    let sync = true;
    spawnChildAsync(opts, (err, pid, startTicks) => {
      if (sync) throw new Error('spawnChildAsync called back synchronously');
      let exited: Promise<Exit> | null = null;
      if (pid !== null) {
        t.teardown(() => killHard(pid));
        exited = new Promise<Exit>((res) => w.watch(pid, (code, signal) => res({ code, signal })));
      }
      w.landed();
      resolve({ err, pid, startTicks, exited });
    });
    sync = false;
  });
}

/** Whether pid is a zombie of ours, not yet reaped. */
function isZombie(pid: number): boolean {
  try {
    const st = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return st.slice(st.lastIndexOf(')') + 2, st.lastIndexOf(')') + 3) === 'Z';
  } catch {
    return false;
  }
}

t.test('spawnChildAsync: the pid once exec\'d (and its start time); failures come to the callback, the child reaped', async (t) => {
  let known = 0;
  for (let i = 0; i < 20; i++) {
    const r = await spawnAsync(t, { file: '/bin/sleep', args: ['100'] });
    t.equal(r.err, null);
    const pid = r.pid as number;
    if (r.startTicks !== null) {
      known++;
      t.equal(r.startTicks, procStat(pid)?.startTicks, 'the start time /proc/PID/stat has');
    }
    process.kill(pid, 'SIGKILL');
    t.same(await r.exited, { code: null, signal: 'SIGKILL' });
  }
  const quick = await spawnAsync(t, { file: '/bin/sh', args: ['-c', 'exit 3'] });
  t.same(await quick.exited, { code: 3, signal: null }, 'an exit at once is reported to its watcher');
  t.ok(known >= 10, `start time known for most spawns (${known} of 20)`);
  const dir = tmpdir(t);
  writeFileSync(join(dir, 'noexec'), '#!/bin/sh\n');
  chmodSync(join(dir, 'noexec'), 0o644);
  const before = childPids().length;
  const cases: Array<[SpawnChildOptions, string, string, string]> = [
    [{ file: join(dir, 'missing') }, 'ENOENT', 'execve', join(dir, 'missing')],
    [{ file: join(dir, 'noexec') }, 'EACCES', 'execve', join(dir, 'noexec')],
    [{ file: './missing', cwd: dir }, 'ENOENT', 'execve', './missing'],
    [{ file: '/bin/true', cwd: join(dir, 'nodir') }, 'ENOENT', 'chdir', join(dir, 'nodir')],
  ];
  for (const [opts, code, syscall, path] of cases) {
    const r = await spawnAsync(t, opts);
    t.match(r, { err: { code, syscall, path }, pid: null }, `${code} ${syscall} ${path}`);
  }
  t.equal(childPids().length, before, 'no zombie left');
  const bad = await spawnAsync(t, { file: '/bin/true', pdeathsig: 15 });
  t.match(bad.err, { name: 'TypeError', message: /pdeathsig/ }, 'pdeathsig is refused (the thread that forks is the pool\'s)');
});

t.test('spawnChildAsync: the fds, and a cwd named through an fd, may be closed (and their numbers reused) at once', async (t) => {
  const dir = tmpdir(t);
  const out = openSync(join(dir, 'out'), fsc.O_WRONLY | fsc.O_CREAT, 0o644);
  const dirFd = openSync(dir, fsc.O_RDONLY | fsc.O_DIRECTORY);
  const p = spawnAsync(t, { file: '/bin/sleep', args: ['100'], stdio: ['ignore', out, 2], cwd: `/proc/self/fd/${dirFd}` });
  closeSync(out);
  closeSync(dirFd);
  // why: the lowest free numbers are the two just closed: files of another name take them
  const reuse = [openSync(join(dir, 'other1'), fsc.O_WRONLY | fsc.O_CREAT, 0o644), openSync(join(dir, 'other2'), fsc.O_WRONLY | fsc.O_CREAT, 0o644)];
  t.teardown(() => reuse.forEach((fd) => closeSync(fd)));
  const r = await p;
  t.equal(r.err, null);
  const pid = r.pid as number;
  t.equal(readlinkSync(`/proc/${pid}/fd/1`), join(realpathSync(dir), 'out'), 'fd 1 is the file given');
  t.equal(readlinkSync(`/proc/${pid}/cwd`), realpathSync(dir), 'cwd is the directory given');
  t.same(await settledFds(pid, [0, 1, 2]), [0, 1, 2], 'and nothing else: not the job\'s copies');
  process.kill(pid, 'SIGKILL');
  t.same(await r.exited, { code: null, signal: 'SIGKILL' });
});

t.test('a child that exits before its spawn has landed is not taken for a stray', async (t) => {
  const w = childWatcher();
  const strays: number[] = [];
  w.onStray = (pid) => strays.push(pid);
  t.teardown(() => {
    w.onStray = undefined;
  });
  // what a spawn in the pool looks like from here: expected, exited, its pid not yet known
  w.expect();
  const pid = nativeSpawn('/bin/sh', ['sh', '-c', 'exit 4'], [], null, [0, 1, 2], { setsid: true });
  t.teardown(() => killHard(pid));
  await waitFor(() => isZombie(pid) || undefined, 5_000, 'the exit');
  // why more than MAX_DEFERS (16) retries: without the expectation it would be reaped as a stray
  for (let i = 0; i < 40; i++) {
    w.drain(true);
    await new Promise((r) => setImmediate(r));
  }
  t.same(strays, [], 'not reaped as a stray');
  t.ok(isZombie(pid), 'still there for its spawn');
  const exit = new Promise<Exit>((resolve) => w.watch(pid, (code, signal) => resolve({ code, signal })));
  w.landed();
  t.same(await exit, { code: 4, signal: null }, 'reported to its watcher once landed');
});
