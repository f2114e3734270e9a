// tsvscan as child subreaper and as PID 1: what a service daemonized comes back to tsvscan, is
// reaped when it dies, killed when its service is removed or tsvscan stops; as PID 1 of a PID
// namespace (unshare) it reaps every zombie and TERM brings everything down with exit 0.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { childPids, procStat } from '@tsv/os';
import { alive, IS_ROOT, spawnTracked, waitFor, type Teardownable } from '@tsv/testkit';
import { killUnderAtEnd, scanTmpdir, makeService, sleepers, startScan, scanEnv, cleanCmd, supervisedPid, removeLive } from '@tsv/testkit/scan';

const mark = (): string => String(200_000 + Math.floor(Math.random() * 700_000));

/** Zombie children of pid. */
function zombiesOf(pid: number): number[] {
  return childPids(pid).filter((c) => procStat(c)?.state === 'Z');
}

/** SIGKILL every `sleep ARG` at the end (daemons may have left the services' directories). */
function killSleepersAtEnd(t: Teardownable, ...args: string[]): void {
  t.teardown(() => {
    for (const a of args) for (const p of sleepers(a)) process.kill(p, 'SIGKILL');
  });
}

t.test('a daemon left in the service group is re-parented to tsvscan and killed with its service', async (t) => {
  const dir = scanTmpdir(t);
  const [m, d] = [mark(), mark()];
  killSleepersAtEnd(t, m, d);
  makeService(dir, 'a', `(sleep ${d} &)\nexec sleep ${m}`);
  makeService(dir, 'other', `exec sleep ${m}`);
  const scan = startScan(t, dir);
  const [daemon] = await waitFor(() => (sleepers(d).length === 1 ? sleepers(d) : undefined), 15_000, 'the daemon');
  await waitFor(() => procStat(daemon!)?.ppid === scan.pid, 15_000, 'the daemon to be re-parented to tsvscan');
  await waitFor(() => sleepers(m).length === 2, 15_000, 'both services');
  await removeLive(`${dir}/a`);
  await waitFor(() => !alive(daemon!), 20_000, 'the daemon to be killed with its service');
  t.equal(sleepers(m).length, 1, 'the other service runs on');
  scan.child.kill('SIGTERM');
  t.equal((await scan.exited).code, 0);
});

t.test('a daemon the first run leaves in its group as it exits at once is killed with its service', async (t) => {
  // why four more services starting at the same time: the daemon is then attributed only by the
  // first run's process group (noted when that run started), not by "the one service that
  // changed" since the last sweep
  const dir = scanTmpdir(t);
  const [m, d] = [mark(), mark()];
  killSleepersAtEnd(t, m, d);
  makeService(dir, 'a', `sleep ${d} &\nexit 0`);
  for (const n of ['b', 'c', 'd', 'e']) makeService(dir, n, `exec sleep ${m}`);
  const scan = startScan(t, dir);
  const [daemon] = await waitFor(() => (sleepers(d).length >= 1 ? sleepers(d) : undefined), 15_000, 'the first daemon');
  await waitFor(() => procStat(daemon!)?.ppid === scan.pid, 15_000, 'the daemon to be re-parented to tsvscan');
  await waitFor(() => sleepers(m).length === 4, 15_000, 'the other services');
  await removeLive(`${dir}/a`);
  await waitFor(() => !alive(daemon!), 20_000, 'the first daemon to be killed with its service');
  t.equal(sleepers(m).length, 4, 'the other services run on');
  scan.child.kill('SIGTERM');
  t.equal((await scan.exited).code, 0);
});

t.test('a daemon that dies is reaped; a setsid daemon is killed when tsvscan stops', async (t) => {
  const dir = scanTmpdir(t);
  const [m, d, short] = [mark(), mark(), `0.5${mark()}`];
  killSleepersAtEnd(t, m, d, short);
  makeService(dir, 'a', `(setsid sleep ${short} &)\n(setsid sleep ${d} &)\nexec sleep ${m}`);
  const scan = startScan(t, dir);
  const [shortPid] = await waitFor(() => (sleepers(short).length === 1 ? sleepers(short) : undefined), 15_000, 'the short daemon');
  await waitFor(() => sleepers(d).length === 1 && sleepers(m).length === 1, 15_000, 'service and daemon');
  await waitFor(() => procStat(shortPid!)?.ppid === scan.pid || procStat(shortPid!) === undefined, 15_000, 'the short daemon re-parented');
  // it dies as tsvscan's child: it must be reaped, not left a zombie
  await waitFor(() => procStat(shortPid!) === undefined, 15_000, 'the short daemon reaped');
  t.same(zombiesOf(scan.pid), [], 'no zombie children');
  scan.child.kill('SIGTERM');
  t.equal((await scan.exited).code, 0, 'exit 0');
  t.equal(sleepers(d).length, 0, 'the daemon was killed');
  t.equal(sleepers(m).length, 0, 'the service too');
});

t.test('a setsid daemon holding the log pipe is killed with its service, so its logger ends', async (t) => {
  const dir = scanTmpdir(t);
  const [m, d] = [mark(), mark()];
  killSleepersAtEnd(t, m, d);
  makeService(dir, 'a', `echo started\n(setsid sleep ${d} &)\nexec sleep ${m}`, 'exec cat > ../../a.log');
  makeService(dir, 'b', `exec sleep ${m}`);
  const scan = startScan(t, dir);
  const [daemon] = await waitFor(() => (sleepers(d).length === 1 ? sleepers(d) : undefined), 15_000, 'the daemon');
  await waitFor(() => procStat(daemon!)?.ppid === scan.pid && sleepers(m).length === 2, 15_000, 'daemon re-parented, services up');
  const logger = await waitFor(() => supervisedPid(`${dir}/a/log`), 15_000, 'the logger');
  await removeLive(`${dir}/a`);
  await waitFor(() => !alive(daemon!), 20_000, 'the daemon to be killed with its service');
  await waitFor(() => !alive(logger), 20_000, 'the logger to reach end of input and exit');
  t.equal(sleepers(m).length, 1, 'b runs on');
  scan.child.kill('SIGTERM');
  t.equal((await scan.exited).code, 0);
});

t.test('PID 1 of a PID namespace: reaps zombies, TERM stops everything, exit 0', async (t) => {
  if (!IS_ROOT) return t.skip('unshare --pid needs root');
  const probe = spawnSync('unshare', ['--pid', '--fork', '--mount-proc', 'true']);
  if (probe.status !== 0) return t.skip(`unshare --pid --fork --mount-proc does not work here: ${String(probe.stderr ?? probe.error)}`);
  const dir = scanTmpdir(t);
  killUnderAtEnd(t, dir);
  const [m, d, short] = [mark(), mark(), `0.3${mark()}`];
  killSleepersAtEnd(t, m, d, short);
  // a zombie-maker (double fork: the grandchild exits as an orphan), a lasting orphan, a logger
  makeService(dir, 'a', `(setsid sh -c 'sleep ${short}; exit 0' &)\n(setsid sleep ${d} &)\nexec sleep ${m}`, 'exec cat > /dev/null');
  makeService(dir, 'b', `exec sleep ${m}`);
  const ns = spawnTracked(t, 'unshare', ['--pid', '--fork', '--mount-proc', ...cleanCmd('tsvscan', [dir]).flat()], { env: scanEnv() });
  const init = await waitFor(() => childPids(ns.pid)[0], 15_000, 'PID 1 of the namespace');
  const [shortPid] = await waitFor(() => (sleepers(short).length === 1 ? sleepers(short) : undefined), 15_000, 'the short-lived orphan');
  const shPid = procStat(shortPid!)!.ppid;
  await waitFor(() => sleepers(m).length === 2 && sleepers(d).length === 1, 15_000, 'services and the orphan');
  // the orphaned sh (and its sleep) die as children of PID 1: they must be reaped
  await waitFor(() => procStat(shortPid!) === undefined && procStat(shPid) === undefined, 15_000, 'the orphans reaped');
  t.same(zombiesOf(init), [], 'no zombie in the namespace');
  process.kill(init, 'SIGTERM');
  const ex = await ns.exited;
  t.equal(ex.code, 0, 'exit 0 once all are down');
  t.equal(sleepers(m).length + sleepers(d).length, 0, 'nothing left');
});

