// tsv as runsv: supervise/ layout and modes, restarts, finish arguments, control letters and
// hooks, the service's fds, and TERM to tsv. Black-box: the built tsv, real processes.
import t from 'tap';
import { lstatSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { waitFor, alive, waitForText } from '@tsv/testkit';
import { control, extra, makeService, openFds, readText, serviceRoot, startTsv, status, waitDown, waitRunning } from '@tsv/testkit/supervise';

const SLEEP = '#!/bin/sh\nexec sleep 1000\n';

t.test('supervise/ holds exactly runsv files, modes and formats', async (t) => {
  const root = serviceRoot(t);
  const dir = makeService(root, 'svc', { run: SLEEP, 'log/run': '#!/bin/sh\nexec cat >/dev/null\n' });
  const tsv = await startTsv(t, dir);
  const pid = await waitRunning(dir);
  await waitRunning(join(dir, 'log'));
  for (const base of [dir, join(dir, 'log')]) {
    const sup = join(base, 'supervise');
    const mode = (n: string): number => lstatSync(join(sup, n)).mode;
    t.equal(mode('.') & 0o7777, 0o700, 'supervise/ is 0700');
    t.ok(lstatSync(join(sup, 'control')).isFIFO() && (mode('control') & 0o777) === 0o600, 'control FIFO 0600');
    t.ok(lstatSync(join(sup, 'ok')).isFIFO() && (mode('ok') & 0o777) === 0o600, 'ok FIFO 0600');
    t.equal(mode('lock') & 0o777, 0o600, 'lock 0600');
    for (const f of ['status', 'stat', 'pid', 'tsv.json']) t.equal(mode(f) & 0o777, 0o644, `${f} 0644`);
    t.equal(readFileSync(join(sup, 'status')).length, 20, 'status is 20 bytes');
    t.equal(readText(join(sup, 'stat')), 'run\n');
  }
  t.equal(readText(join(dir, 'supervise', 'pid')), `${pid}\n`);
  const st = status(dir);
  t.equal(st?.wantUp, true);
  t.equal(st?.gotTerm, false);
  t.equal((st?.time.nanos ?? 0) % 1000, 500, 'nanoseconds end in 500 as runit writes them');
  const x = extra(dir);
  t.equal(x?.supervisor.pid, tsv.pid);
  t.equal(x?.supervisor.program, 'tsv');
  t.equal(x?.service.pid, pid);
  t.equal(x?.service.pgid, pid, 'run leads its own process group');
  t.equal(x?.service.state, 'run');
  control(dir, 'x');
  t.same(await tsv.exited, { code: 0, signal: null });
});

t.test('restart after a crash, finish gets "3 0" and "-1 9", control/u at every start', async (t) => {
  const root = serviceRoot(t);
  const out = join(root, 'finish.txt');
  const hook = join(root, 'hook.txt');
  const dir = makeService(root, 'svc', {
    down: '',
    run: '#!/bin/sh\n[ -e mode-exit ] && exit 3\nexec sleep 1000\n',
    finish: `#!/bin/sh\necho "$1 $2" >> ${out}\n`,
    'control/u': `#!/bin/sh\necho u >> ${hook}\nexit 1\n`,
    'mode-exit': '',
  });
  const tsv = await startTsv(t, dir);
  t.equal(status(dir)?.state, 'down', 'down file: not started');
  control(dir, 'o');
  await waitFor(() => readText(out) === '3 0\n', 15_000, 'finish 3 0');
  await waitDown(dir);
  t.equal(status(dir)?.wantUp, false, 'once is stored as want down');
  t.same(extra(dir)?.service.lastExit?.code, 3);
  rmSync(join(dir, 'mode-exit'));
  control(dir, 'u');
  const pid1 = await waitRunning(dir);
  control(dir, 'k');
  await waitFor(() => readText(out) === '3 0\n-1 9\n', 15_000, 'finish -1 9');
  const pid2 = await waitRunning(dir, pid1);
  t.not(pid2, pid1, 'restarted after SIGKILL');
  t.equal(extra(dir)?.service.lastExit?.signal, 'SIGKILL');
  t.ok((extra(dir)?.service.restarts ?? 0) >= 2, 'restarts counted');
  t.equal(readText(hook), 'u\nu\nu\n', 'control/u ran at every start of run');
  process.kill(tsv.pid, 'SIGTERM');
  t.same(await tsv.exited, { code: 0, signal: null }, 'TERM to tsv: exit 0');
  t.notOk(alive(pid2), 'the service was stopped');
});

t.test('control/t exiting 0 vetoes the TERM; p, c and the stat line', async (t) => {
  const root = serviceRoot(t);
  const dir = makeService(root, 'svc', { run: SLEEP, 'control/t': '#!/bin/sh\nexit 0\n' });
  const tsv = await startTsv(t, dir);
  const pid = await waitRunning(dir);
  control(dir, 'd');
  await waitFor(() => readText(join(dir, 'supervise', 'stat')) === 'run, want down\n', 15_000, 'want down without TERM');
  t.ok(alive(pid), 'still running: the hook handled t');
  t.equal(status(dir)?.gotTerm, false);
  const pidIno = statSync(join(dir, 'supervise', 'pid')).ino;
  control(dir, 'p');
  await waitFor(() => readText(join(dir, 'supervise', 'stat')) === 'run, paused, want down\n', 15_000, 'paused');
  t.equal(statSync(join(dir, 'supervise', 'pid')).ino, pidIno, 'pid is rewritten only when the pid changes');
  await waitFor(() => /^State:\s+T/m.test(readText(`/proc/${pid}/status`)), 15_000, 'SIGSTOP delivered');
  control(dir, 'c');
  await waitFor(() => readText(join(dir, 'supervise', 'stat')) === 'run, want down\n', 15_000, 'continued');
  process.kill(pid, 'SIGKILL');
  await waitFor(() => readText(join(dir, 'supervise', 'stat')) === 'down\n', 15_000, 'stat down');
  t.equal(readText(join(dir, 'supervise', 'pid')), '', 'empty pid file when down');
  control(dir, 'x');
  t.same(await tsv.exited, { code: 0, signal: null });
});

t.test('the service gets exactly fds 0, 1, 2 (and the readiness fd)', async (t) => {
  const root = serviceRoot(t);
  const plain = makeService(root, 'plain', { run: SLEEP, 'log/run': '#!/bin/sh\nexec cat >/dev/null\n' });
  const ready = makeService(root, 'ready', { run: SLEEP, 'notification-fd': '5\n' });
  const a = await startTsv(t, plain);
  const b = await startTsv(t, ready);
  const p1 = await waitRunning(plain);
  const p2 = await waitRunning(ready);
  const pl = await waitRunning(join(plain, 'log'));
  // why: until the exec, /bin/sh holds the script open on a high fd of its own.
  const execd = (pid: number, comm: string): boolean => readText(`/proc/${pid}/comm`) === `${comm}\n`;
  await waitFor(() => execd(p1, 'sleep') && execd(p2, 'sleep') && execd(pl, 'cat'), 15_000, 'run and log/run exec');
  t.same(openFds(p1), [0, 1, 2]);
  t.same(openFds(pl), [0, 1, 2], 'the logger too');
  t.same(openFds(p2), [0, 1, 2, 5], 'plus notification-fd');
  control(plain, 'x');
  control(ready, 'x');
  t.same(await a.exited, { code: 0, signal: null });
  t.same(await b.exited, { code: 0, signal: null });
});

t.test('after tsv is SIGKILLed, the next tsv takes the orphan over: one instance', async (t) => {
  const root = serviceRoot(t);
  const dir = makeService(root, 'svc', { run: SLEEP });
  const first = await startTsv(t, dir);
  const old = await waitRunning(dir);
  process.kill(first.pid, 'SIGKILL');
  await first.exited;
  t.ok(alive(old), 'the service survived its supervisor (as under runsv)');
  const second = await startTsv(t, dir);
  const pid = await waitRunning(dir, old);
  await waitFor(() => !alive(old), 15_000, 'the orphan stopped');
  // why: the warning is in the pipe before the status write, but reaches this process a moment later.
  await waitForText(second.stderr, /^tsv svc: warning: taking over: stopping \.\/run \(pid \d+\) left running by a dead supervisor$/m, 15_000);
  t.match(second.stderr(), /^tsv svc: warning: taking over: stopping \.\/run \(pid \d+\) left running by a dead supervisor$/m);
  t.ok(alive(pid));
  control(dir, 'x');
  t.same(await second.exited, { code: 0, signal: null });
});

t.test('bytes sent while a hook runs wait for it, then run in order; SIGINT acts like x', async (t) => {
  const root = serviceRoot(t);
  const hooks = join(root, 'hooks.txt');
  const dir = makeService(root, 'svc', {
    run: "#!/bin/sh\ntrap '' TERM\necho > traps-set\nexec sleep 1000\n",
    'control/t': `#!/bin/sh\necho t >> ${hooks}\nsleep 0.3\nexit 1\n`,
    'control/d': `#!/bin/sh\necho d >> ${hooks}\n`,
    'control/x': `#!/bin/sh\necho x >> ${hooks}\n`,
  });
  const tsv = await startTsv(t, dir);
  const pid = await waitRunning(dir);
  await waitFor(() => readText(join(dir, 'traps-set')) !== '', 15_000, 'trap set');
  control(dir, 'dx');
  await waitFor(() => readText(hooks) === 't\nd\nt\nx\n', 15_000, 'hooks t d t x in order');
  t.ok(alive(pid), 'the service ignored both TERMs');
  t.equal(readText(join(dir, 'supervise', 'stat')), 'run, got TERM, want exit\n');
  process.kill(pid, 'SIGKILL');
  t.same(await tsv.exited, { code: 0, signal: null }, 'exits once the service is down');

  rmSync(join(dir, 'traps-set'));
  const again = await startTsv(t, dir);
  const pid2 = await waitRunning(dir);
  await waitFor(() => readText(join(dir, 'traps-set')) !== '', 15_000, 'trap set');
  process.kill(again.pid, 'SIGINT');
  await waitFor(() => readText(join(dir, 'supervise', 'stat')) === 'run, got TERM, want exit\n', 15_000, 'SIGINT: want exit');
  process.kill(pid2, 'SIGKILL');
  t.same(await again.exited, { code: 0, signal: null });
});
