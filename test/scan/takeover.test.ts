// takeOverOrphans (library): processes left by a dead supervisor are found by identity (tsv.json
// pid + start ticks, or supervise/pid + a start time that is the one supervise/status records), stopped service first,
// the logger allowed to drain; anything else, including a recycled pid, is left alone.
import t from 'tap';
import { closeSync, mkdirSync, readFileSync, readlinkSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { pipe } from '@tsv/native';
import { encodeExtraStatus, encodeStatus, initialExtraProcess, taiFromMs } from '@tsv/core';
import { procStat } from '@tsv/os';
import { takeOverOrphans } from '@tsv/supervise';
import { alive, spawnTracked, waitFor, waitForText, type Teardownable } from '@tsv/testkit';
import { killUnderAtEnd, scanTmpdir, makeService, processesUnder, supervisedPid, scanEnv, cleanCmd } from '@tsv/testkit/scan';

/** A service dir with a run script and a log/ dir; returns its path. */
function serviceDir(t: Teardownable, run: string, logRun?: string): string {
  const dir = join(scanTmpdir(t), 'svc');
  mkdirSync(join(dir, 'supervise'), { recursive: true });
  writeFileSync(join(dir, 'run'), `#!/bin/sh\n${run}\n`);
  chmodSync(join(dir, 'run'), 0o755);
  if (logRun !== undefined) {
    mkdirSync(join(dir, 'log', 'supervise'), { recursive: true });
    writeFileSync(join(dir, 'log', 'run'), `#!/bin/sh\n${logRun}\n`);
    chmodSync(join(dir, 'log', 'run'), 0o755);
  }
  return dir;
}

/** Record pid in supervise/tsv.json (and supervise/pid) of dir, as tsv does. */
function recordExtra(dir: string, pid: number, startTicks: number): void {
  const service = { ...initialExtraProcess('up', Date.now(), 0), state: 'run' as const, pid, pidStartTicks: startTicks, pgid: pid };
  writeFileSync(join(dir, 'supervise', 'tsv.json'), encodeExtraStatus({ v: 1, supervisor: { pid: 1, startTicks: null, program: 'tsv' }, service }));
  writeFileSync(join(dir, 'supervise', 'pid'), `${pid}\n`);
}

const warnings: string[] = [];
const warn = (l: string): void => void warnings.push(l);

t.test('orphaned service and logger: service stopped first, logger drains every line', async (t) => {
  const dir = serviceDir(
    t,
    "trap 'echo last; exit 0' TERM\ni=0\nwhile :; do i=$((i+1)); echo \"line $i\"; sleep 0.01; done",
    'while IFS= read -r l; do echo "$l" >> ../../out.log; done',
  );
  // The dead supervisor's log pipe: its ends now live only in the service and the logger.
  const [r, w] = pipe();
  const svc = spawnTracked(t, join(dir, 'run'), [], { cwd: dir, stdio: ['ignore', w, 'ignore'], detached: true });
  const log = spawnTracked(t, join(dir, 'log', 'run'), [], { cwd: join(dir, 'log'), stdio: [r, 'ignore', 'ignore'], detached: true });
  closeSync(r);
  closeSync(w);
  const out = join(dir, '..', 'out.log');
  await waitFor(() => readFileSync(out, 'utf8').includes('line 20'), 10_000, 'the service to log');
  recordExtra(dir, svc.pid, procStat(svc.pid)!.startTicks);
  recordExtra(join(dir, 'log'), log.pid, procStat(log.pid)!.startTicks);
  await takeOverOrphans(dir, warn);
  t.notOk(alive(svc.pid), 'service stopped');
  t.notOk(alive(log.pid), 'logger exited');
  const lines = readFileSync(out, 'utf8').trimEnd().split('\n');
  t.equal(lines.at(-1), 'last', 'the line written on TERM reached the log');
  const nums = lines.slice(0, -1).map((l) => Number(l.replace('line ', '')));
  t.same(nums, nums.map((_, i) => i + 1), 'every numbered line, in order, none lost');
  t.ok(warnings.some((l) => l.includes(`pid ${svc.pid}`)), 'the takeover is reported');
});

t.test('a TERM-ignoring orphan is killed after timeout-kill; its group too', async (t) => {
  const dir = serviceDir(t, "trap '' TERM\nsleep 1000 &\nwait");
  writeFileSync(join(dir, 'timeout-kill'), '300\n');
  const svc = spawnTracked(t, join(dir, 'run'), [], { cwd: dir, detached: true });
  const kid = await waitFor(() => procStatusChild(svc.pid), 10_000, 'the background sleep');
  recordExtra(dir, svc.pid, procStat(svc.pid)!.startTicks);
  await takeOverOrphans(dir, warn);
  t.notOk(alive(svc.pid), 'service killed');
  t.notOk(alive(kid), 'its process group member too');
  t.ok(warnings.some((l) => l.includes('SIGKILL')), 'the SIGKILL is reported');
});

/** Record pid in supervise/pid and supervise/status (state run, started at startMs), as runsv does. */
function recordRunsv(dir: string, pid: number, startMs: number): void {
  writeFileSync(join(dir, 'supervise', 'pid'), `${pid}\n`);
  writeFileSync(join(dir, 'supervise', 'status'), encodeStatus({ time: taiFromMs(startMs), pid, paused: false, wantUp: true, gotTerm: false, state: 'run' }));
}

t.test('runsv-style dir (pid + status): the process is stopped even when it changed directory', async (t) => {
  const dir = serviceDir(t, 'cd / && exec sleep 1000');
  const svc = spawnTracked(t, join(dir, 'run'), [], { cwd: dir });
  recordRunsv(dir, svc.pid, Date.now());
  await waitFor(() => procStat(svc.pid)?.comm === 'sleep', 10_000, 'sleep');
  t.equal(readlinkSync(`/proc/${svc.pid}/cwd`), '/', 'the daemon left its service dir');
  await takeOverOrphans(dir, warn);
  t.notOk(alive(svc.pid), 'service stopped');
});

t.test('never mistaken: pid file alone, a start time other than the recorded one, recycled pid', async (t) => {
  const dir = serviceDir(t, 'exec sleep 1000');
  const other = scanTmpdir(t);
  const elsewhere = spawnTracked(t, 'sleep', ['1000'], { cwd: other });
  // supervise/pid alone (no status to say when it started): not enough
  writeFileSync(join(dir, 'supervise', 'pid'), `${elsewhere.pid}\n`);
  await takeOverOrphans(dir, warn);
  t.ok(alive(elsewhere.pid), 'a pid named by supervise/pid alone is not touched');
  // the status says the service started an hour before this process: a recycled pid
  recordRunsv(dir, elsewhere.pid, Date.now() - 3_600_000);
  await takeOverOrphans(dir, warn);
  t.ok(alive(elsewhere.pid), 'a process started after the recorded start is not touched');
  // the status names another pid than supervise/pid
  recordRunsv(dir, elsewhere.pid, Date.now());
  writeFileSync(join(dir, 'supervise', 'pid'), `${elsewhere.pid + 1}\n`);
  await takeOverOrphans(dir, warn);
  t.ok(alive(elsewhere.pid), 'status and pid disagreeing: nothing is touched');
  // tsv.json naming a live pid whose start time differs: recycled, even when status agrees
  recordExtra(dir, elsewhere.pid, procStat(elsewhere.pid)!.startTicks + 1);
  writeFileSync(join(dir, 'supervise', 'status'), encodeStatus({ time: taiFromMs(Date.now()), pid: elsewhere.pid, paused: false, wantUp: true, gotTerm: false, state: 'run' }));
  await takeOverOrphans(dir, warn);
  t.ok(alive(elsewhere.pid), 'a pid with another start time in tsv.json is not touched');
});

/** The first child pid of pid, from /proc, or 0. */
function procStatusChild(pid: number): number {
  try {
    const kids = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
    return kids === '' ? 0 : Number(kids.split(' ')[0]);
  } catch {
    return 0;
  }
}

/** Processes running the service's ./run (a shell) in svc. */
function runInstances(svc: string): number[] {
  const runs = processesUnder(svc).filter((p) => {
    try {
      return readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0')[1] === './run' && readlinkSync(`/proc/${p}/cwd`) === svc;
    } catch {
      return false;
    }
  });
  // why: the run shell forks for each `sleep`, and until the child execs it too reads as
  // `/bin/sh ./run`; a child of an instance is part of that instance, not another one.
  return runs.filter((p) => !runs.includes(procStat(p)?.ppid ?? 0));
}

for (const prog of ['tsvscan', 'tsv']) {
  t.test(`SIGKILL ${prog} (not the service), start it again: one instance, no line lost`, async (t) => {
    const root = scanTmpdir(t);
    killUnderAtEnd(t, root);
    const svc = makeService(
      root,
      'svc',
      "trap 'echo \"$$ last\"; exit 0' TERM\ni=0\nwhile :; do i=$((i+1)); echo \"$$ line $i\"; sleep 0.01; done",
      'exec cat >> ../../out.log',
    );
    const arg = prog === 'tsvscan' ? root : svc;
    const env = scanEnv();
    const first = spawnTracked(t, ...cleanCmd(prog, [arg]), { env });
    const out = join(root, 'out.log');
    await waitFor(() => /line 20\n/.test(readFileSync(out, 'utf8')), 15_000, 'the first instance to log');
    const oldPid = supervisedPid(svc);
    first.child.kill('SIGKILL');
    await first.exited;
    t.same(runInstances(svc), [oldPid], 'the service survived its supervisor');
    const second = spawnTracked(t, ...cleanCmd(prog, [arg]), { env });
    await waitForText(second.stderr, /taking over: stopping \.\/run/);
    const newPid = await waitFor(() => { const p = supervisedPid(svc); return p !== oldPid && alive(p) ? p : 0; }, 20_000, 'the new instance');
    await waitFor(() => readFileSync(out, 'utf8').includes(`${newPid} line 5\n`), 15_000, 'the new instance to log');
    t.same(runInstances(svc), [newPid], 'exactly one instance runs');
    second.child.kill('SIGTERM');
    t.equal((await second.exited).code, 0);
    const byPid = new Map<string, string[]>();
    for (const l of readFileSync(out, 'utf8').trimEnd().split('\n')) {
      const [pid, ...rest] = l.split(' ');
      byPid.set(pid!, [...(byPid.get(pid!) ?? []), rest.join(' ')]);
    }
    t.same([...byPid.keys()], [String(oldPid), String(newPid)], 'two instances, one after the other');
    for (const [pid, lines] of byPid) {
      t.equal(lines.at(-1), 'last', `instance ${pid}: its last line (written on TERM) is logged`);
      const nums = lines.slice(0, -1).map((l) => Number(l.replace('line ', '')));
      t.same(nums, nums.map((_, i) => i + 1), `instance ${pid}: every line, in order`);
    }
  });
}

/** The pid in supervise/status (bytes 12-15, little-endian), 0 when unreadable. */
function statusPid(svc: string): number {
  try {
    const b = readFileSync(join(svc, 'supervise', 'status'));
    return b.length >= 20 ? b.readUInt32LE(12) : 0;
  } catch {
    return 0;
  }
}

t.test('a service left by a SIGKILLed runsv (no tsv.json) is taken over by tsvscan', async (t) => {
  const probe = spawnSync('sh', ['-c', 'command -v runsv']);
  if (probe.status !== 0) return t.skip('runsv is not installed');
  const root = scanTmpdir(t);
  killUnderAtEnd(t, root);
  const svc = makeService(root, 'svc', 'exec sleep 1000');
  const rs = spawnTracked(t, 'runsv', [svc]);
  // why: runsv writes supervise/pid before supervise/status; a kill between the two leaves an
  // orphan no record vouches for (the takeover rule needs both), so wait for status too.
  const oldPid = await waitFor(() => { const p = supervisedPid(svc); return p !== 0 && statusPid(svc) === p ? p : 0; }, 15_000, 'runsv to start the service and record it');
  rs.child.kill('SIGKILL');
  await rs.exited;
  t.ok(alive(oldPid), 'the service survived runsv');
  const scan = spawnTracked(t, ...cleanCmd('tsvscan', [root]), { env: scanEnv() });
  const newPid = await waitFor(() => { const p = supervisedPid(svc); return p !== oldPid && alive(p) ? p : 0; }, 20_000, 'the new instance');
  t.notOk(alive(oldPid), 'the orphan was stopped');
  t.same(runInstances(svc).length, 0, 'no shell left (run execs sleep)');
  t.same(processesUnder(svc), [newPid], 'exactly one instance');
  scan.child.kill('SIGTERM');
  t.equal((await scan.exited).code, 0);
});
