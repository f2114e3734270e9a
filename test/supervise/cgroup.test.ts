// A cgroup v2 per service (root, cgroup2 mounted): a run that double-forks, setsid()s and writes
// to the supervisor's own stdout is stopped with everything it started, under tsv, tsvscan and
// tsvscan as PID 1 of a PID namespace; status shows the mode, CPU and memory; session mode when
// cgroups are off; a dead supervisor's cgroup is emptied by its successor; the way out; limits.
// Black-box: the built executables, real processes, the kernel's cgroup files.
import t from 'tap';
import { existsSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { cgroupPids, enabledControllers, ownCgroupDir, procStat } from '@tsv/os';
import { alive, bin, IS_ROOT, run, spawnTracked, testPath, waitFor, waitForText, type Teardownable } from '@tsv/testkit';
import { extra, makeService, serviceRoot, startTsv, waitRunning } from '@tsv/testkit/supervise';
import { cleanCmd, scanEnv, scanTmpdir, sleepers, startScan } from '@tsv/testkit/scan';

const own = ownCgroupDir();
const skip = !IS_ROOT ? 'cgroups need root here' : own === null ? 'no cgroup2 mount' : false;
const mark = (): string => String(300_000 + Math.floor(Math.random() * 600_000));

/** SIGKILL every `sleep ARG` at the end (the escapees leave every directory and session). */
function killSleepersAtEnd(t: Teardownable, ...args: string[]): void {
  t.teardown(() => {
    for (const a of args) for (const p of sleepers(a)) process.kill(p, 'SIGKILL');
  });
}

/** A run whose grandchild double-forks away, setsid()s, ignores TERM, leaves the service dir and
 * writes to the supervisor's own stdout (run's stdout, there being no log/). */
function escapingRun(m: string, d: string): string {
  return `#!/bin/sh\n( cd / && setsid sh -c 'trap "" TERM; echo "escaped $$"; exec sleep ${d}' & )\nexec sleep ${m}\n`;
}

/** tsvctl with our PATH, from cwd. */
function tsvctl(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): ReturnType<typeof run> {
  return run(bin('tsvctl'), args, { cwd, env: { ...process.env, PATH: testPath(), ...env } });
}

/** Wait for the escapee and check that it is in the service's cgroup, outside run's session. */
async function escapee(t: Teardownable & { equal: (...a: unknown[]) => void; ok: (...a: unknown[]) => void }, dir: string, d: string, runPid: number): Promise<{ pid: number; cgroup: string }> {
  const [pid] = await waitFor(() => (sleepers(d).length === 1 ? sleepers(d) : undefined), 15_000, 'the escapee');
  const x = extra(dir);
  t.equal(x?.service.mode, 'cgroup', 'tsv.json says cgroup mode');
  const cg = x?.service.cgroup as string;
  t.ok(typeof cg === 'string' && cg.startsWith(join(own as string, 'tsv')), 'the cgroup is in the supervisor subtree below its own cgroup');
  await waitFor(() => cgroupPids(cg).includes(pid as number), 15_000, 'the escapee in the cgroup');
  t.ok(cgroupPids(cg).includes(runPid), 'run is in it');
  t.ok(procStat(pid as number)?.session !== procStat(runPid)?.session, 'the escapee left run’s session');
  return { pid: pid as number, cgroup: cg };
}

t.test('tsv: down ends every process of the cgroup, then removes it; status shows the mode, CPU and memory', { skip }, async (t) => {
  const root = serviceRoot(t);
  const [m, d] = [mark(), mark()];
  killSleepersAtEnd(t, m, d);
  const dir = makeService(root, 'esc', { run: escapingRun(m, d), 'timeout-kill': '300\n' });
  const tsv = await startTsv(t, dir);
  const runPid = await waitRunning(dir);
  const e = await escapee(t, dir, d, runPid);
  await waitForText(tsv.stdout, new RegExp(`escaped ${e.pid}`));
  t.pass('the escapee writes to the supervisor’s stdout');
  // why: the escapee can be up before the subshell that forked it has exited; run execs its
  // sleep only once that subshell is gone, so then the cgroup holds run and the escapee alone.
  await waitFor(() => sleepers(m).length === 1, 15_000, 'run to exec its sleep');

  const js = await tsvctl(['status', '--json', './esc'], root);
  const row = JSON.parse(js.stdout)[0];
  t.equal(row.extra.mode, 'cgroup');
  t.equal(row.extra.usage.mode, 'cgroup');
  t.equal(row.extra.usage.processes, 2, 'run and the escapee');
  t.ok(row.extra.usage.cpuSeconds >= 0 && row.extra.usage.memoryBytes > 0, `cpu ${row.extra.usage.cpuSeconds}s, memory ${row.extra.usage.memoryBytes} bytes`);
  const list = await tsvctl(['list', root], root);
  t.match(list.stdout, /^esc\s+run\s+\d+\s+\S+\s+0\s+-\s+-\s+\d+\.\d\ds\s+[\d.]+[KMG]\s+cgroup\b/m, 'list: CPU, MEM and MODE');

  const down = await tsvctl(['-w', '10', 'down', './esc'], root);
  t.equal(down.code, 0, down.stdout + down.stderr);
  await waitFor(() => !alive(e.pid), 10_000, 'the escapee killed (it ignores TERM: cgroup.kill after timeout-kill)');
  await waitFor(() => !existsSync(e.cgroup), 10_000, 'the cgroup removed once empty');
  t.same(sleepers(m).concat(sleepers(d)), [], 'no process of the service left');

  t.equal((await tsvctl(['-w', '10', 'up', './esc'], root)).code, 0);
  const again = await waitRunning(dir, runPid);
  const e2 = await escapee(t, dir, d, again);
  t.equal(e2.cgroup, e.cgroup, 'made again for the next start, same name');
  t.equal((await tsvctl(['exit', './esc'], root)).code, 0);
  t.same(await tsv.exited, { code: 0, signal: null }, 'tsv exits once the cgroup is empty');
  t.notOk(alive(e2.pid), 'x ended the escapee too');
  t.notOk(existsSync(e2.cgroup), 'and removed the cgroup');
});

t.test('tsvscan: the same escapee is stopped with its service, and when tsvscan stops', { skip }, async (t) => {
  const dir = scanTmpdir(t);
  const [m, d, m2, d2] = [mark(), mark(), mark(), mark()];
  killSleepersAtEnd(t, m, d, m2, d2);
  makeService(dir, 'esc', { run: escapingRun(m, d), 'timeout-kill': '300\n' });
  makeService(dir, 'other', { run: escapingRun(m2, d2) });
  const scan = startScan(t, dir);
  const runPid = await waitRunning(join(dir, 'esc'));
  const e = await escapee(t, join(dir, 'esc'), d, runPid);
  await waitForText(scan.stdout, new RegExp(`escaped ${e.pid}`));
  t.equal((await tsvctl(['-w', '10', 'down', './esc'], dir)).code, 0);
  await waitFor(() => !alive(e.pid) && !existsSync(e.cgroup), 10_000, 'the escapee killed, the cgroup removed');
  t.same(sleepers(m).concat(sleepers(d)), [], 'no process of the service left');
  const [other] = await waitFor(() => (sleepers(d2).length === 1 ? sleepers(d2) : undefined), 15_000, 'the other escapee');
  t.ok(alive(other as number), 'the other service’s escapee runs on');
  scan.child.kill('SIGTERM');
  t.equal((await scan.exited).code, 0);
  // why: `other` has no timeout-kill and its escapee ignores TERM: the leftovers' grace (2 s),
  // then cgroup.kill, before tsvscan's exit.
  t.same(sleepers(m2).concat(sleepers(d2)), [], 'tsvscan stopping leaves no process of any service');
});

t.test('tsvscan as PID 1 of a PID namespace: the escapee is stopped with its service', { skip }, async (t) => {
  const probe = spawnSync('unshare', ['--pid', '--fork', '--mount-proc', 'true']);
  if (probe.status !== 0) return t.skip(`unshare --pid --fork --mount-proc does not work here: ${String(probe.stderr ?? probe.error)}`);
  const dir = scanTmpdir(t);
  const [m, d] = [mark(), mark()];
  killSleepersAtEnd(t, m, d);
  makeService(dir, 'esc', { run: escapingRun(m, d), 'timeout-kill': '300\n' });
  const ns = spawnTracked(t, 'unshare', ['--pid', '--fork', '--mount-proc', ...cleanCmd('tsvscan', [dir]).flat()], { env: scanEnv() });
  const runPid = await waitFor(() => sleepers(m)[0], 15_000, 'run');
  const e = await escapee(t, join(dir, 'esc'), d, runPid);
  await waitForText(ns.stdout, /escaped \d+/);
  t.equal((await tsvctl(['-w', '10', 'down', './esc'], dir)).code, 0);
  await waitFor(() => !alive(e.pid) && !existsSync(e.cgroup), 10_000, 'the escapee killed, the cgroup removed');
  t.same(sleepers(m).concat(sleepers(d)), [], 'no process of the service left');
  const init = await waitFor(() => {
    const c = readFileSync(`/proc/${ns.pid}/task/${ns.pid}/children`, 'utf8').trim();
    return c === '' ? undefined : Number(c.split(' ')[0]);
  }, 15_000, 'PID 1');
  process.kill(init, 'SIGTERM');
  t.equal((await ns.exited).code, 0);
});

t.test('TSV_CGROUP=off: session mode, said in tsv.json and list', { skip }, async (t) => {
  const root = serviceRoot(t);
  const m = mark();
  killSleepersAtEnd(t, m);
  const dir = makeService(root, 'plain', { run: `#!/bin/sh\nexec sleep ${m}\n` });
  const tsv = spawnTracked(t, bin('tsv'), ['plain'], { cwd: root, env: { ...process.env, PATH: testPath(), TSV_CGROUP: 'off' } });
  await waitRunning(dir);
  t.equal(extra(dir)?.service.mode, 'session');
  t.equal(extra(dir)?.service.cgroup, undefined);
  const js = JSON.parse((await tsvctl(['status', '--json', './plain'], root)).stdout)[0];
  t.equal(js.extra.usage.mode, 'session');
  t.equal(js.extra.usage.processes, 1);
  t.match((await tsvctl(['list', root], root)).stdout, /^plain\s+run\s.*\bsession\b/m);
  tsv.child.kill('SIGTERM');
  t.equal((await tsv.exited).code, 0);
});

t.test('a dead supervisor’s cgroup: its successor empties it before starting run', { skip }, async (t) => {
  const root = serviceRoot(t);
  const [m, d] = [mark(), mark()];
  killSleepersAtEnd(t, m, d);
  const dir = makeService(root, 'left', { run: escapingRun(m, d), 'timeout-kill': '300\n' });
  const first = await startTsv(t, dir);
  const runPid = await waitRunning(dir);
  const e = await escapee(t, dir, d, runPid);
  first.child.kill('SIGKILL');
  await first.exited;
  t.ok(alive(e.pid), 'the escapee outlives its supervisor');
  const second = await startTsv(t, dir);
  const newRun = await waitRunning(dir, runPid);
  await waitFor(() => !alive(e.pid), 10_000, 'the old escapee killed');
  // why: the warning is in the pipe before the status write, but reaches this process a moment later.
  await waitForText(second.stderr, /cgroup .* of a dead supervisor holds \d+ process/, 15_000);
  t.match(second.stderr(), /cgroup .* of a dead supervisor holds \d+ process/, 'said once');
  t.notOk(alive(runPid), 'the old run stopped');
  t.ok(cgroupPids(e.cgroup).includes(newRun), 'the new run in the same (adopted) cgroup');
  await waitFor(() => sleepers(d).length === 1, 10_000, 'the new escapee');
  second.child.kill('SIGTERM');
  t.equal((await second.exited).code, 0);
  t.same(sleepers(m).concat(sleepers(d)), [], 'nothing left');
});

t.test('a cgroup removed between two starts (by another supervisor of the same path) is made again', { skip }, async (t) => {
  const root = serviceRoot(t);
  const m = mark();
  killSleepersAtEnd(t, m);
  // why a slow finish: run has exited and the cgroup is empty but kept (the service is wanted
  // up), as when the supervisor of the directory this one replaced removes it at its stop.
  const dir = makeService(root, 'again', { run: `#!/bin/sh\nexec sleep ${m}\n`, finish: '#!/bin/sh\nexec sleep 1\n' });
  const tsv = await startTsv(t, dir);
  const first = await waitRunning(dir);
  const cg = extra(dir)?.service.cgroup as string;
  t.ok(typeof cg === 'string' && existsSync(cg), 'run has its cgroup');
  process.kill(first, 'SIGKILL');
  await waitFor(() => spawnSync('rmdir', [cg]).status === 0, 10_000, 'the emptied cgroup removed from outside');
  const second = await waitRunning(dir, first);
  t.ok(alive(second), 'the next run starts');
  await waitFor(() => existsSync(cg) && cgroupPids(cg).includes(second), 10_000, 'in the cgroup, made again');
  t.notMatch(tsv.stderr(), /unable to start/, 'no failed start');
  process.kill(tsv.pid, 'SIGTERM');
  await tsv.exited;
});

t.test('the way out: a process that moves itself to $TSV_CGROUP_OUTSIDE outlives its service', { skip }, async (t) => {
  const root = serviceRoot(t);
  const [m, d] = [mark(), mark()];
  killSleepersAtEnd(t, m, d);
  const dir = makeService(root, 'out', { run: `#!/bin/sh\n( cd / && setsid sh -c 'echo $$ > "$TSV_CGROUP_OUTSIDE"; exec sleep ${d}' & )\nexec sleep ${m}\n` });
  const tsv = await startTsv(t, dir);
  await waitRunning(dir);
  const [pid] = await waitFor(() => (sleepers(d).length === 1 ? sleepers(d) : undefined), 15_000, 'the helper');
  await waitFor(() => readFileSync(`/proc/${pid}/cgroup`, 'utf8').includes('/tsv/outside'), 15_000, 'the helper in tsv/outside');
  t.equal((await tsvctl(['exit', './out'], root)).code, 0);
  t.same(await tsv.exited, { code: 0, signal: null });
  t.ok(alive(pid as number), 'the helper runs on');
  t.same(sleepers(m), [], 'the service itself is gone');
});

t.test('limits: memory-max, pids-max, cpu-weight are written, or refused with one warning', { skip }, async (t) => {
  const root = serviceRoot(t);
  const m = mark();
  killSleepersAtEnd(t, m);
  const dir = makeService(root, 'lim', { run: `#!/bin/sh\nexec sleep ${m}\n`, 'memory-max': '64M\n', 'pids-max': '50\n', 'cpu-weight': '200\n' });
  const tsv = await startTsv(t, dir);
  const pid = await waitRunning(dir);
  const cg = extra(dir)?.service.cgroup as string;
  const ctl = enabledControllers(join(own as string, 'tsv'));
  for (const [file, cgFile, want, controller] of [
    ['memory-max', 'memory.max', String(64 * 1024 * 1024), 'memory'],
    ['pids-max', 'pids.max', '50', 'pids'],
    ['cpu-weight', 'cpu.weight', '200', 'cpu'],
  ] as const) {
    if (ctl.has(controller)) t.equal(readFileSync(join(cg, cgFile), 'utf8').trim(), want, `${file} applied`);
    else t.match(tsv.stderr(), new RegExp(`warning: ${file} not applied: the ${controller} controller is not enabled`), `${file}: one warning`);
  }
  // a restart reads the files again: still one warning per file
  await tsvctl(['-w', '10', 'restart', './lim'], root);
  await waitRunning(dir, pid);
  for (const file of ['memory-max', 'pids-max', 'cpu-weight']) {
    const n = tsv.stderr().split('\n').filter((l) => l.includes(`${file} not applied`)).length;
    t.ok(n <= 1, `${file}: at most one warning (${n})`);
  }
  tsv.child.kill('SIGTERM');
  t.equal((await tsv.exited).code, 0);
});
