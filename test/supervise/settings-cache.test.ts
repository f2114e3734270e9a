// The settings of a service dir are kept between starts and read again only when a file they
// come from changed (file-cache.ts): a file edited in place, even to the same size and with its
// mtime put back, takes effect at the next start; a removed or non-executable control/u hook
// stops being run, a new one starts being run; a changed or removed cgroup limit file is
// applied at the next start. Black-box: the built tsv, real files, the kernel's cgroup files.
import t from 'tap';
import { chmodSync, closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { basename, dirname, join } from 'node:path';
import { enabledControllers, ownCgroupDir } from '@tsv/os';
import { IS_ROOT, waitFor } from '@tsv/testkit';
import { control, extra, makeService, readText, serviceRoot, startTsv, waitDown, waitRunning } from '@tsv/testkit/supervise';

/** A run that records the signal stopping it, and says it is ready (file `ready`). */
// why: got and ready are written beside the service dir, not in it: a new entry in the service
// dir changes its stamp and makes every file be read again, which would hide a stale cache.
const TRAPS = `#!/bin/sh\nfor s in USR1 USR2 TERM; do trap "echo $s >> ../got; exit 0" $s; done\necho > ../ready\nwhile :; do sleep 0.05; done\n`;

/** Start the service (u), wait until run is ready, stop it (d), wait until it is down. */
async function cycle(dir: string): Promise<void> {
  rmSync(join(dir, '..', 'ready'), { force: true });
  control(dir, 'u');
  await waitRunning(dir);
  await waitFor(() => readText(join(dir, '..', 'ready')) !== '', 15_000, 'traps installed');
  control(dir, 'd');
  await waitDown(dir);
}

/** The last line of dir/name. */
function lastLine(dir: string, name: string): string {
  return readText(join(dir, name)).trim().split('\n').at(-1) ?? '';
}

/** Overwrite a file in place (same inode, O_TRUNC), then put its mtime back (ns precision). */
function rewriteKeepingMtime(path: string, text: string): void {
  // why: the reference file outside the service dir (a new entry there would change its stamp)
  const ref = join(dirname(dirname(path)), `${basename(path)}.ref`);
  // why: touch -r copies the times with nanoseconds (utimensat); Node's utimes would round them.
  spawnSync('touch', ['-r', path, ref]);
  const fd = openSync(path, 'r+');
  try {
    writeSync(fd, text, 0);
  } finally {
    closeSync(fd);
  }
  spawnSync('touch', ['-r', ref, path]);
  rmSync(ref);
}

t.test('down-signal rewritten in place (same size, mtime put back) takes effect at the next start', async (t) => {
  const root = serviceRoot(t);
  const dir = makeService(root, 'svc', { down: '', 'down-signal': 'USR1\n', run: TRAPS });
  const tsv = await startTsv(t, dir);
  // two starts: the second one's read is no longer racy (the file is older than the read)
  await cycle(dir);
  await cycle(dir);
  t.equal(lastLine(join(dir, '..'), 'got'), 'USR1', 'down-signal USR1 used');
  rewriteKeepingMtime(join(dir, 'down-signal'), 'USR2\n');
  await cycle(dir);
  t.equal(lastLine(join(dir, '..'), 'got'), 'USR2', 'the edited down-signal is used at the next start');
  rmSync(join(dir, 'down-signal'));
  await cycle(dir);
  t.equal(lastLine(join(dir, '..'), 'got'), 'TERM', 'a removed down-signal gives back TERM');
  control(dir, 'x');
  t.same(await tsv.exited, { code: 0, signal: null });
});

t.test('control/u: removed, made non-executable or added between starts, as runsv tests it each time', async (t) => {
  const root = serviceRoot(t);
  const hook = '#!/bin/sh\necho u >> ../hook.log\n';
  const dir = makeService(root, 'svc', { down: '', 'control/u': hook, run: TRAPS });
  chmodSync(join(dir, 'control', 'u'), 0o755);
  const ran = (): number => readText(join(root, 'hook.log')).split('\n').filter((l) => l === 'u').length;
  const tsv = await startTsv(t, dir);
  await cycle(dir);
  await cycle(dir);
  t.equal(ran(), 2, 'the hook ran at each start');
  rmSync(join(dir, 'control', 'u'));
  await cycle(dir);
  t.equal(ran(), 2, 'a removed hook is not run');
  makeService(root, 'svc', { 'control/u': hook });
  chmodSync(join(dir, 'control', 'u'), 0o644);
  await cycle(dir);
  t.equal(ran(), 2, 'a hook without the x bit is not run');
  // one more start, so the chmod below is the only change the next start can see
  await cycle(dir);
  t.equal(ran(), 2, 'still not run');
  chmodSync(join(dir, 'control', 'u'), 0o755);
  await cycle(dir);
  t.equal(ran(), 3, 'made executable: run again');
  control(dir, 'x');
  t.same(await tsv.exited, { code: 0, signal: null });
});

const own = ownCgroupDir();
const ctl = own === null ? new Set<string>() : enabledControllers(join(own, 'tsv'));
const skipCg = !IS_ROOT ? 'cgroups need root here' : own === null ? 'no cgroup2 mount' : !ctl.has('pids') ? 'the pids controller is not enabled' : false;

t.test('pids-max edited in place, then removed: applied at the next restart of run', { skip: skipCg }, async (t) => {
  const root = serviceRoot(t);
  const dir = makeService(root, 'lim', { 'pids-max': '50\n', run: TRAPS });
  const tsv = await startTsv(t, dir);
  const pidsMax = (): string => readFileSync(join(extra(dir)?.service.cgroup as string, 'pids.max'), 'utf8').trim();
  /** SIGKILL run (the cgroup stays: the service is still wanted up) and wait for the next one. */
  const restart = async (pid: number): Promise<number> => {
    process.kill(pid, 'SIGKILL');
    return waitRunning(dir, pid);
  };
  let pid = await waitRunning(dir);
  t.equal(pidsMax(), '50', 'pids-max applied');
  // a second start: its read is no longer racy (the file is older than the read)
  pid = await restart(pid);
  rewriteKeepingMtime(join(dir, 'pids-max'), '60\n');
  pid = await restart(pid);
  t.equal(pidsMax(), '60', 'the edited pids-max applied at the next start');
  rmSync(join(dir, 'pids-max'));
  pid = await restart(pid);
  t.equal(pidsMax(), 'max', 'a removed pids-max puts back the default');
  control(dir, 'x');
  t.same(await tsv.exited, { code: 0, signal: null });
});
