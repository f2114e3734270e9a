// `tsvctl list`, black-box, on a tsvscan directory (services made by tsvctl new: running, ready,
// crash-looping in backoff, down) and on a real runsvdir one; the default directory ($SVDIR, else
// ~/service, as tsvscan); --json; no colour off a terminal.
import t from 'tap';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bin, run, spawnTracked, testPath, waitFor } from '@tsv/testkit';
import { scanTmpdir, startScan, killUnderAtEnd } from '@tsv/testkit/scan';
import { ctlEnv, HAVE_RUNIT, okAlive, onPath, status, tsvctl } from '@tsv/testkit/ctl';

/** A row of `tsvctl list --json`. */
interface Row {
  name: string;
  problem: string | null;
  state: string | null;
  want: string | null;
  pid: number | null;
  seconds: number | null;
  supervisor: string | null;
  restarts: number | null;
  lastExit: { code: number | null; signal: string | null; reason: string | null } | null;
  ready: boolean | null;
  backoff: { active: boolean; secondsLeft: number | null; failures: number; givenUp: boolean } | null;
  usage: { processes: number; cpuSeconds: number; rssBytes: number; pssBytes: number | null } | null;
  log: { state: string | null; inProcess: boolean; needsTsv: boolean } | null;
}

/** `tsvctl list --json DIR` parsed. */
async function listJson(dir: string, env = ctlEnv()): Promise<Row[]> {
  const r = await tsvctl(['list', '--json', dir], { env });
  if (r.code !== 0) throw new Error(`tsvctl list: ${r.code} ${r.stderr}`);
  return JSON.parse(r.stdout) as Row[];
}

t.test('list of a tsvscan directory: state, pid, restarts, last exit, readiness, usage, backoff', async (t) => {
  const dir = scanTmpdir(t);
  const mk = async (args: string[]): Promise<void> => {
    const r = await tsvctl(['new', ...args], { cwd: dir });
    t.equal(r.code, 0, r.stderr);
  };
  await mk(['web', '--', 'sh', '-c', 'sleep 1000 & exec sleep 1001']);
  await mk(['--ready-fd', '3', 'ready', '--', 'sh', '-c', 'echo >&3; exec sleep 1000']);
  await mk(['flaky', '--', 'sh', '-c', 'echo dying; exit 3']);
  await mk(['--down', 'idle', '--', 'sleep', '1000']);
  mkdirSync(join(dir, '.hidden'));
  writeFileSync(join(dir, 'afile'), '');
  startScan(t, dir);
  const rows = await waitFor(
    async () => {
      const rs = await listJson(dir);
      const by = new Map(rs.map((r) => [r.name, r]));
      const ok = by.get('web')?.state === 'run' && by.get('ready')?.ready === true && by.get('flaky')?.backoff?.active === true && by.get('idle')?.supervisor === 'tsv';
      return ok ? by : undefined;
    },
    20_000,
    'every service in the listing',
  );
  t.same([...rows.keys()], ['flaky', 'idle', 'ready', 'web'], 'services sorted; dot names and files left out');
  const web = rows.get('web') as Row;
  t.match(web, { state: 'run', want: 'up', supervisor: 'tsv', restarts: 0, lastExit: null, ready: null, problem: null, log: { state: 'run', inProcess: true } });
  t.equal(web.pid, status(join(dir, 'web'))?.pid);
  t.equal(web.usage?.processes, 2, "run's session: both sleeps (the shell exec'ed the second)");
  t.ok((web.usage?.rssBytes ?? 0) > 0, 'RSS counted');
  t.ok(web.usage?.pssBytes === null || (web.usage?.pssBytes ?? 0) > 0, 'PSS counted when readable');
  const flaky = rows.get('flaky') as Row;
  t.match(flaky, { state: 'down', want: 'up', lastExit: { code: 3, signal: null }, backoff: { active: true, givenUp: false } });
  t.ok(typeof flaky.restarts === 'number' && (flaky.backoff?.failures ?? 0) >= 1, 'restarts and failures counted');
  t.ok((flaky.backoff?.secondsLeft ?? -1) >= 0);
  t.match(rows.get('idle'), { state: 'down', want: 'down', pid: null, usage: null });

  const r = await tsvctl(['list', dir]);
  t.equal(r.code, 0);
  t.notMatch(r.stdout, /\x1b\[/, 'no colour when stdout is no terminal');
  const lines = r.stdout.trimEnd().split('\n');
  t.match(lines[0], /^SERVICE\s+STATE\s+PID\s+TIME\s+RESTARTS\s+LAST EXIT\s+READY\s+CPU\s+MEM\s+MODE\s+LOG\s+NOTE$/);
  t.match(lines[1], /^flaky\s+down\s+-\s+\d+s\s+\d+\s+exited 3\s+-\s+-\s+-\s+(cgroup|session)\s+run \(in-process\)\s+backoff \d+s \(\d+ failures?\)$/);
  t.match(lines[3], /^ready\s+run\s+\d+\s+\d+s\s+0\s+-\s+ready\s+\d+\.\d\ds\s+\d+(\.\d)?[KMG]\s+(cgroup|session)\s+run \(in-process\)$/);

  // the default directory: $SVDIR, else ~/service (tsvscan's rule)
  const viaSvdir = await tsvctl(['list', '--json'], { env: ctlEnv({ SVDIR: dir }) });
  t.same((JSON.parse(viaSvdir.stdout) as Row[]).map((x) => x.name), ['flaky', 'idle', 'ready', 'web']);
  const home = join(dir, '.home');
  mkdirSync(home);
  symlinkSync(dir, join(home, 'service'));
  const viaHome = await tsvctl(['list', '--json'], { env: ctlEnv({ HOME: home }) });
  t.same((JSON.parse(viaHome.stdout) as Row[]).map((x) => x.name), ['flaky', 'idle', 'ready', 'web']);
  const none = await tsvctl(['list'], { env: ctlEnv({ HOME: join(dir, 'nohome') }) });
  t.equal(none.code, 111);
  t.equal(none.stderr, `tsvctl: fatal: unable to read scan directory ${join(dir, 'nohome', 'service')}: file does not exist\n`);
});

t.test('list of a runsvdir directory: runit services, and a log/tsvlog runsv cannot run', { skip: HAVE_RUNIT ? false : 'runit is not installed' }, async (t) => {
  const dir = scanTmpdir(t, 'tsv-list-runit-');
  await tsvctl(['new', '--log-run', 'a', '--', 'sh', '-c', 'sleep 1000 & exec sleep 1001'], { cwd: dir });
  await tsvctl(['new', 'b', '--', 'sleep', '1000'], { cwd: dir });
  killUnderAtEnd(t, dir);
  spawnTracked(t, 'runsvdir', [dir], { detached: true, cwd: dir, env: { ...process.env, PATH: testPath() } });
  await waitFor(() => okAlive(join(dir, 'a')) && okAlive(join(dir, 'b')) && status(join(dir, 'a'))?.state === 'run' && status(join(dir, 'a', 'log'))?.state === 'run' && status(join(dir, 'b'))?.state === 'run', 20_000, 'runsv running a and b');
  const rows = await listJson(dir);
  const a = rows.find((r) => r.name === 'a') as Row;
  t.match(a, { state: 'run', supervisor: 'runit', restarts: null, lastExit: null, backoff: null, log: { state: 'run', inProcess: false, needsTsv: false } });
  t.equal(a.usage?.processes, 2, 'the pid and its descendants (runsv keeps run in its own group)');
  const b = rows.find((r) => r.name === 'b') as Row;
  t.match(b, { state: 'run', log: { state: 'down', needsTsv: true } });
  const r = await tsvctl(['list', dir]);
  t.match(r.stdout, /\nb\s+run\s+\d+.*down\s+log\/tsvlog needs tsv: runsv wants log\/run \(tsvctl new --log-run\)\n/);
});

t.test('list of a directory nobody supervises', async (t) => {
  const dir = scanTmpdir(t, 'tsv-list-none-');
  await tsvctl(['new', 'a', 'true'], { cwd: dir });
  const rows = await listJson(dir);
  t.match(rows, [{ name: 'a', problem: 'unable to open supervise/ok: file does not exist', state: null, pid: null }]);
  const r = await tsvctl(['list', dir]);
  t.match(r.stdout, /\na\s+unsupervised\s+-\s+-\s+-\s+-\s+-\s+-\s+-\s+-\s+-\s+unable to open supervise\/ok: file does not exist\n$/);
  if (onPath('script')) {
    // on a terminal (script(1) gives tsvctl a pty): colours, unless NO_COLOR
    const tty = await run('script', ['-qec', `${bin('tsvctl')} list ${dir}`, '/dev/null'], { env: ctlEnv() });
    t.match(tty.stdout, /\x1b\[1mSERVICE\x1b\[0m/, 'a bold header on a terminal');
    t.match(tty.stdout, /\x1b\[31munsupervised\x1b\[0m/, 'problems in red');
    const plain = await run('script', ['-qec', `${bin('tsvctl')} list ${dir}`, '/dev/null'], { env: ctlEnv({ NO_COLOR: '1' }) });
    t.notMatch(plain.stdout, /\x1b\[/, 'NO_COLOR: none');
  }
  const empty = scanTmpdir(t, 'tsv-list-empty-');
  t.same(await listJson(empty), []);
});
