// The container example (docs/container/, docs/containers.md) run with tsvscan as PID 1 of a
// PID namespace (`unshare --pid --fork --mount-proc`, the container stand-in): the service's
// lines reach tsvscan's stderr prefixed with its name (kubectl logs) as well as log/main, `tsvctl check` is the
// readiness probe (exit 0 once it answers), an orphan zombie is reaped by PID 1, and TERM (docker
// stop) ends it with exit 0.
import t from 'tap';
import { cpSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { childPids, procStat } from '@tsv/os';
import { IS_ROOT, ROOT, spawnTracked, waitFor, waitForText } from '@tsv/testkit';
import { cleanCmd, makeService, scanEnv, scanTmpdir, killUnderAtEnd } from '@tsv/testkit/scan';
import { tsvctl } from '@tsv/testkit/ctl';

const probe = IS_ROOT ? spawnSync('unshare', ['--pid', '--fork', '--mount-proc', '--net', 'true']) : undefined;
const skip = probe === undefined ? 'unshare --pid needs root' : probe.status !== 0 ? `unshare --pid --fork --mount-proc --net does not work here: ${String(probe.stderr ?? probe.error)}` : false;

t.test('docs/container services under tsvscan as PID 1: named stdout, probes, reaping, TERM exit 0', { skip }, async (t) => {
  const dir = scanTmpdir(t);
  killUnderAtEnd(t, dir);
  cpSync(join(ROOT, 'docs', 'container', 'services'), dir, { recursive: true });
  // an orphan that dies: a zombie only PID 1 can reap
  makeService(dir, 'orphans', `(setsid sh -c 'sleep 0.2; exit 0' &)\nexec sleep 1004`);
  // why unshare --net too: port 8080 of a namespace of its own never meets another test's
  const ns = spawnTracked(t, 'unshare', ['--pid', '--fork', '--mount-proc', '--net', 'sh', '-c', 'ip link set lo up 2>/dev/null || ifconfig lo up 2>/dev/null; exec "$@"', 'sh', ...cleanCmd('tsvscan', [dir]).flat()], { env: scanEnv() });
  const init = await waitFor(() => childPids(ns.pid)[0], 15_000, 'PID 1 of the namespace');
  await waitForText(ns.stderr, /^web: \d{4}-\d\d-\d\d_\S+ listening on 8080$/m, 20_000);
  t.pass('the service\'s line on tsvscan\'s stderr, stamped and prefixed with its name (log/main/config: e*)');
  // why a wait: the alert goes to stderr as the line is read, the directory's write follows it
  await waitFor(() => /listening on 8080\n/.test(readFileSync(join(dir, 'web', 'log', 'main', 'current'), 'utf8')), 10_000, 'the same line in log/main/current');
  t.pass('and the same line in log/main/current');
  // the probe runs inside the container (its network): nsenter into the namespace as kubectl exec would
  const check = await waitFor(async () => {
    const r = spawnSync('nsenter', ['-t', String(init), '-n', '-p', ...cleanCmd('tsvctl', ['check', join(dir, 'web')]).flat()], { encoding: 'utf8', env: scanEnv() });
    return r.status === 0 ? r : undefined;
  }, 20_000, 'tsvctl check to pass');
  t.match(check.stdout, /^ok: run: /, 'tsvctl check: exit 0 (ready)');
  await waitFor(() => childPids(init).every((c) => procStat(c)?.state !== 'Z') && childPids(init).length >= 1, 15_000, 'no zombie under PID 1');
  const down = await tsvctl(['-w', '1', 'check', join(dir, 'nothing')]);
  t.not(down.code, 0, 'tsvctl check on a missing service fails (a failing probe)');
  process.kill(init, 'SIGTERM');
  t.equal((await ns.exited).code, 0, 'TERM: every service stopped, exit 0');
});

t.test('tsvscan --main NAME as PID 1: when NAME\'s run exits, everything stops and the exit code is its', { skip }, async (t) => {
  const dir = scanTmpdir(t);
  killUnderAtEnd(t, dir);
  makeService(dir, 'job', 'echo job done\nexit 3');
  makeService(dir, 'sidecar', 'exec sleep 1005');
  makeService(dir, 'killed', 'exec sleep 1006');
  const ns = spawnTracked(t, 'unshare', ['--pid', '--fork', '--mount-proc', ...cleanCmd('tsvscan', ['--main', 'job', dir]).flat()], { env: scanEnv() });
  t.equal((await ns.exited).code, 3, 'the container exits with the main service\'s code');
  t.match(ns.stdout(), /job done/);
  const ns2 = spawnTracked(t, 'unshare', ['--pid', '--fork', '--mount-proc', ...cleanCmd('tsvscan', ['--main=killed', dir]).flat()], { env: scanEnv() });
  // the service's own pid is in the namespace; kill it by its host pid through /proc
  const host = await waitFor(() => childPids(childPids(ns2.pid)[0] ?? 0).find((c) => readFileSync(`/proc/${c}/cmdline`, 'utf8').includes('1006')), 15_000, 'its host pid');
  process.kill(host, 'SIGKILL');
  t.equal((await ns2.exited).code, 128 + 9, 'killed by a signal: 128 + the signal');
  const [cmd, args] = cleanCmd('tsvscan', ['--main', '../x', dir]);
  const bad = spawnSync(cmd, args, { encoding: 'utf8', env: scanEnv() });
  t.same([bad.status, bad.stderr], [1, 'usage: tsvscan [-q] [-g secs] [dir]\n'], 'a NAME that is a path: usage');
});
