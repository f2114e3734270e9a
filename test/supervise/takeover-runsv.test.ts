// Takeover from a SIGKILLed runsv (and runsvdir) with real runit, svlogd and multilog: a service
// whose run script changes directory (as cron, redis and most daemons do) is still recognised by
// supervise/pid + its start time in supervise/status, stopped, and started once under tsv; the
// old logger (which chdirs into its log dir and holds its lock) is gone before the new one starts.
import t from 'tap';
import { mkdirSync, readFileSync, readdirSync, readlinkSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { alive, killHard, spawnTracked, waitFor, type Teardownable } from '@tsv/testkit';
import { cleanCmd, killUnderAtEnd, scanEnv, scanTmpdir, supervisedPid } from '@tsv/testkit/scan';
import { onPath } from '@tsv/testkit/ctl';

/** Pids of live processes whose command line is exactly argv. */
function processesRunning(argv: string[]): number[] {
  const want = `${argv.join('\0')}\0`;
  const out: number[] = [];
  for (const n of readdirSync('/proc')) {
    if (!/^\d+$/.test(n)) continue;
    try {
      if (readFileSync(`/proc/${n}/cmdline`, 'utf8') !== want) continue;
      const stat = readFileSync(`/proc/${n}/stat`, 'utf8');
      if (!/^[ZX]/.test(stat.slice(stat.lastIndexOf(')') + 2))) out.push(Number(n));
    } catch {
      // gone
    }
  }
  return out;
}

/** Children of pid (from /proc). */
function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(' ').filter((x) => x !== '').map(Number);
  } catch {
    return [];
  }
}

/** A service dir whose run leaves its directory before exec'ing a uniquely named sleep, logged
 * by logRun into log/main; returns the dir and the sleep's argv. */
function chdirService(t: Teardownable, root: string, logRun: string): { svc: string; sleep: string[] } {
  const svc = join(root, 'svc');
  const arg = String(500_000 + Math.floor(Math.random() * 400_000));
  mkdirSync(join(svc, 'log', 'main'), { recursive: true });
  writeFileSync(join(svc, 'run'), `#!/bin/sh\necho "hello $$"\ncd /tmp && exec sleep ${arg}\n`);
  writeFileSync(join(svc, 'log', 'run'), `#!/bin/sh\nexec ${logRun}\n`);
  chmodSync(join(svc, 'run'), 0o755);
  chmodSync(join(svc, 'log', 'run'), 0o755);
  const sleep = ['sleep', arg];
  // why: the service's cwd is /tmp, out of reach of the kill-by-cwd cleanup.
  t.teardown(() => {
    for (const p of processesRunning(sleep)) killHard(p);
  });
  return { svc, sleep };
}

const HAVE = onPath('runsv') && onPath('runsvdir');
const loggers: [string, string, string][] = [
  ['svlogd', 'svlogd -tt ./main', 'runsv'],
  ['multilog', 'multilog t ./main', 'runsv'],
  ['multilog', 'multilog t ./main', 'runsvdir'],
];

for (const [logger, logRun, peer] of loggers) {
  t.test(`SIGKILLed ${peer}, a daemon that chdirs, ${logger}: tsv stops the orphans and runs one copy`, { skip: HAVE && onPath(logger) ? false : `${peer} or ${logger} is not installed` }, async (t) => {
    const root = scanTmpdir(t);
    killUnderAtEnd(t, root);
    const { svc, sleep } = chdirService(t, root, logRun);
    const sup = peer === 'runsv' ? spawnTracked(t, 'runsv', [svc]) : spawnTracked(t, 'runsvdir', [root]);
    const oldPid = await waitFor(() => { const p = supervisedPid(svc); return p !== 0 && processesRunning(sleep).includes(p) ? p : 0; }, 15_000, `${peer} to start the service`);
    const oldLog = await waitFor(() => supervisedPid(join(svc, 'log')), 15_000, `${peer} to start the logger`);
    await waitFor(() => readFileSync(join(svc, 'log', 'main', 'current'), 'utf8').includes(`hello ${oldPid}`), 15_000, 'the old logger to log');
    // SIGKILL every supervisor: runsvdir (when used), then its runsv's.
    const runsvs = peer === 'runsv' ? [sup.pid] : childrenOf(sup.pid);
    if (peer === 'runsvdir') {
      sup.child.kill('SIGKILL');
      await sup.exited;
    }
    for (const p of runsvs) killHard(p);
    await waitFor(() => runsvs.every((p) => !alive(p)), 10_000, 'runsv to die');
    t.ok(alive(oldPid) && alive(oldLog), 'the service and its logger survived their supervisor');
    t.equal(readlinkSync(`/proc/${oldPid}/cwd`), '/tmp', 'the orphaned daemon is not in its service dir');

    const tsv = spawnTracked(t, ...cleanCmd('tsv', [svc]), { env: scanEnv() });
    const newPid = await waitFor(() => { const p = supervisedPid(svc); return p !== oldPid && processesRunning(sleep).includes(p) ? p : 0; }, 20_000, 'the new instance');
    const newLog = await waitFor(() => { const p = supervisedPid(join(svc, 'log')); return p !== oldLog && alive(p) ? p : 0; }, 20_000, 'the new logger');
    t.notOk(alive(oldPid), 'the orphaned service was stopped');
    t.notOk(alive(oldLog), 'the orphaned logger is gone');
    t.same(processesRunning(sleep), [newPid], 'exactly one copy of the service runs');
    await waitFor(() => readFileSync(join(svc, 'log', 'main', 'current'), 'utf8').includes(`hello ${newPid}`), 15_000, 'the new logger to log the new instance');
    t.ok(alive(newLog), 'the new logger still runs');
    t.notMatch(tsv.stderr(), /unable to lock/, 'the new logger started cleanly (no lock held by the old one)');
    t.match(tsv.stderr(), new RegExp(`taking over: stopping \\./run \\(pid ${oldPid}\\)`), 'the takeover is reported');
    tsv.child.kill('SIGTERM');
    t.equal((await tsv.exited).code, 0, 'tsv exits 0 on TERM');
    t.same(processesRunning(sleep), [], 'nothing left running');
  });
}
