// Forged supervise/ files (issue 10 item 3): whoever can write a service's supervise/ must
// never get root's tsvctl to signal a process that is not that service's child of the live
// supervisor holding supervise/lock, nor to write through a control or ok that is no FIFO.
// Every forged file here names a victim process that must survive.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { closeSync, constants as fsc, mkdirSync, openSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeExtraStatus, encodeStatus, initialExtraProcess } from '@tsv/core';
import { procStat } from '@tsv/os';
import { alive, bin, spawnTracked, testPath, waitFor, type Teardownable } from '@tsv/testkit';
import { CAT_LOG, ctlRoot, makeService, status, supervise, TRAP_RUN, trapsSet, tsvBuilt, tsvctl } from '@tsv/testkit/ctl';

const skip = tsvBuilt() ? false : 'tsv (packages/supervise) is not built';

/** The wall-clock start of pid in seconds, as /proc says (btime + start ticks / USER_HZ). */
function startSeconds(pid: number): number {
  const btime = Number(/^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'))?.[1]);
  return btime + (procStat(pid)?.startTicks ?? 0) / 100;
}

/** Write a status and a tsv.json that name pid as the running service of dir, with every
 * start time right, and supervisor as the live supervisor. */
function forge(dir: string, pid: number, supervisor: number): void {
  const s = startSeconds(pid);
  writeFileSync(join(dir, 'supervise', 'status'), encodeStatus({ time: { seconds: Math.floor(s), nanos: 500 }, pid, paused: false, wantUp: true, gotTerm: false, state: 'run' }));
  const service = { ...initialExtraProcess('up', Date.now(), 0), state: 'run' as const, pid, pidStartTicks: procStat(pid)?.startTicks ?? null };
  writeFileSync(join(dir, 'supervise', 'tsv.json'), encodeExtraStatus({ v: 1, supervisor: { pid: supervisor, startTicks: procStat(supervisor)?.startTicks ?? null, program: 'tsv' }, service }));
}

/** A fake supervise/ in root/name: ok a FIFO this process reads, control a FIFO, lock held by
 * a `flock` process (returned: the forger's stand-in supervisor). */
async function fakeSupervise(t: Teardownable, root: string, name: string): Promise<{ dir: string; holder: number }> {
  const dir = join(root, name);
  mkdirSync(join(dir, 'supervise'), { recursive: true });
  execFileSync('mkfifo', [join(dir, 'supervise', 'ok'), join(dir, 'supervise', 'control')]);
  const readers = ['ok', 'control'].map((f) => openSync(join(dir, 'supervise', f), fsc.O_RDONLY | fsc.O_NONBLOCK));
  t.teardown(() => readers.forEach((fd) => closeSync(fd)));
  const holder = spawnTracked(t, 'flock', ['-x', join(dir, 'supervise', 'lock'), 'sleep', '1000'], { cwd: dir });
  await waitFor(() => readFileSync('/proc/locks', 'utf8').includes(` ${holder.pid} `), 10_000, 'flock to hold supervise/lock');
  return { dir, holder: holder.pid };
}

t.test('forged status and tsv.json naming an unrelated process: refused, the victim lives', { skip }, async (t) => {
  const root = ctlRoot(t);
  const { dir, holder } = await fakeSupervise(t, root, 'fake');
  const victim = spawnTracked(t, 'sleep', ['1000']);
  await waitFor(() => procStat(victim.pid)?.comm === 'sleep', 10_000, 'the victim to run');
  forge(dir, victim.pid, holder);
  const r = await tsvctl(['signal', 'PWR', './fake'], { cwd: root });
  t.equal(r.stdout, `fail: ./fake: unable to send SIGPWR: pid ${victim.pid} is not a child of the supervisor (pid ${holder}, holding supervise/lock)\n`);
  t.equal(r.code, 1);
  t.ok(alive(victim.pid), 'the victim survived');

  // tsv.json naming another "supervisor" than the lock's holder (here: this test process)
  forge(dir, victim.pid, process.pid);
  const r2 = await tsvctl(['signal', 'WINCH', './fake'], { cwd: root });
  t.equal(r2.stdout, `fail: ./fake: unable to send SIGWINCH: supervise/tsv.json names supervisor pid ${process.pid}, but pid ${holder} holds supervise/lock\n`);
  t.ok(alive(victim.pid), 'the victim survived');
});

t.test("forged files naming the lock holder's child that leads no process group (a hook's case): refused", { skip }, async (t) => {
  const root = ctlRoot(t);
  const { dir, holder } = await fakeSupervise(t, root, 'hook');
  // flock(1) runs its command as a child in flock's process group, as tsv runs a control/ hook
  const child = await waitFor(() => {
    const kids = readFileSync(`/proc/${holder}/task/${holder}/children`, 'utf8').trim();
    return kids === '' ? 0 : Number(kids.split(' ')[0]);
  }, 10_000, "flock's child");
  await waitFor(() => procStat(child)?.comm === 'sleep', 10_000, 'the child to exec sleep');
  forge(dir, child, holder);
  const r = await tsvctl(['signal', 'PWR', './hook'], { cwd: root });
  t.equal(r.stdout, `fail: ./hook: unable to send SIGPWR: pid ${child} does not lead its own process group, as a service tsv started does\n`);
  t.ok(alive(child), 'the child survived');
});

t.test('forged files with no live lock holder: refused', { skip }, async (t) => {
  const root = ctlRoot(t);
  const dir = join(root, 'nolock');
  mkdirSync(join(dir, 'supervise'), { recursive: true });
  execFileSync('mkfifo', [join(dir, 'supervise', 'ok')]);
  const reader = openSync(join(dir, 'supervise', 'ok'), fsc.O_RDONLY | fsc.O_NONBLOCK);
  t.teardown(() => closeSync(reader));
  writeFileSync(join(dir, 'supervise', 'lock'), '');
  // the victim is this test's child and this test is the "supervisor": only the lock says no
  const victim = spawnTracked(t, 'sleep', ['1000']);
  await waitFor(() => procStat(victim.pid)?.comm === 'sleep', 10_000, 'the victim to run');
  forge(dir, victim.pid, process.pid);
  const r = await tsvctl(['signal', 'PWR', './nolock'], { cwd: root });
  t.equal(r.stdout, 'fail: ./nolock: unable to send SIGPWR: no process holds supervise/lock\n');
  t.ok(alive(victim.pid), 'the victim survived');
});

t.test("a real tsv: its service's status forged to name its logger (also tsv's child) is refused", { skip }, async (t) => {
  const root = ctlRoot(t);
  const a = makeService(root, 'a', { run: TRAP_RUN.replace('trap "echo usr1', 'trap "echo winch > got-winch" WINCH\ntrap "echo usr1'), 'log/run': CAT_LOG });
  const tsv = await supervise(t, 'tsv', a);
  const logPid = await waitFor(() => status(join(a, 'log'))?.pid, 10_000, 'the logger');
  forge(a, logPid, tsv.pid);
  const r = await tsvctl(['signal', 'PWR', './a'], { cwd: root });
  t.equal(r.stdout, `fail: ./a: unable to send SIGPWR: pid ${logPid} is the process of ${a}/log\n`);
  t.ok(alive(logPid), 'the logger survived');
});

t.test('tsvscan: a direct signal reaches the service; forged to name another service, refused', { skip }, async (t) => {
  const root = ctlRoot(t);
  const winch = TRAP_RUN.replace('trap "echo usr1', 'trap "echo winch > got-winch" WINCH\ntrap "echo usr1');
  const a = makeService(root, 'a', { run: winch });
  const b = makeService(root, 'b', { run: winch });
  const scan = spawnTracked(t, bin('tsvscan'), ['.'], { cwd: root, detached: true, env: { ...process.env, PATH: testPath() } });
  const pa = await waitFor(() => (status(a)?.state === 'run' ? status(a)?.pid : 0), 15_000, 'a to run');
  const pb = await waitFor(() => (status(b)?.state === 'run' ? status(b)?.pid : 0), 15_000, 'b to run');
  await waitFor(() => readFileSync(join(a, 'supervise', 'tsv.json'), 'utf8').includes(`"pid":${pa},`), 10_000, "a's tsv.json");
  // why: status says run at the spawn, before run's trap lines: a WINCH then would end it.
  await trapsSet(a);
  let r = await tsvctl(['signal', 'WINCH', './a'], { cwd: root });
  t.same([r.code, r.stdout], [0, ''], r.stderr);
  await waitFor(() => readFileSync(join(a, 'got-winch'), 'utf8') !== '', 10_000, 'the WINCH trap of a');
  forge(a, pb, scan.pid);
  r = await tsvctl(['signal', 'PWR', './a'], { cwd: root });
  t.equal(r.stdout, `fail: ./a: unable to send SIGPWR: pid ${pb} is the process of ${b}\n`);
  t.ok(alive(pb), 'b survived');
  t.ok(alive(pa), 'a was not signalled either');
});

t.test('control or ok that is no FIFO: never written, sv-style warning', async (t) => {
  const root = ctlRoot(t);
  const dir = join(root, 's');
  mkdirSync(join(dir, 'supervise'), { recursive: true });
  const victimFile = join(root, 'victim');
  writeFileSync(victimFile, 'ABCDEFGH');
  execFileSync('mkfifo', [join(dir, 'supervise', 'ok')]);
  let reader: number | undefined = openSync(join(dir, 'supervise', 'ok'), fsc.O_RDONLY | fsc.O_NONBLOCK);
  t.teardown(() => reader !== undefined && closeSync(reader));
  symlinkSync('../../victim', join(dir, 'supervise', 'control'));
  writeFileSync(join(dir, 'supervise', 'status'), Buffer.alloc(20));
  let r = await tsvctl(['hup', './s'], { cwd: root });
  t.equal(r.stdout, 'warning: ./s: unable to open supervise/control: not a fifo\n');
  t.equal(r.code, 1);
  t.equal(readFileSync(victimFile, 'utf8'), 'ABCDEFGH', 'the file behind the symlink is intact');

  // ok a symlink to a regular file: not taken for a live supervisor
  closeSync(reader);
  reader = undefined;
  execFileSync('rm', [join(dir, 'supervise', 'ok')]);
  symlinkSync('../../victim', join(dir, 'supervise', 'ok'));
  for (const cmd of ['status', 'hup']) {
    r = await tsvctl([cmd, './s'], { cwd: root });
    t.equal(r.stdout, 'warning: ./s: unable to open supervise/ok: not a fifo\n', cmd);
    t.equal(r.code, 1);
  }
  t.equal(readFileSync(victimFile, 'utf8'), 'ABCDEFGH', 'the file behind the symlink is intact');
});
