// `tsvctl new`, black-box: the files it makes, what it refuses, and that the service it makes
// runs as made under tsv (in-process logger into log/main, envdir, chpst -u, notification-fd, down)
// and under runit's real runsv (with --log-run; without it runsv cannot run log/tsvlog).
import t from 'tap';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { IS_ROOT, procStatus, waitFor } from '@tsv/testkit';
import { ctlRoot, HAVE_RUNIT, status, supervise, tsvctl, tsvBuilt } from '@tsv/testkit/ctl';

/** The text of a file, or '' while it does not exist. */
function text(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

t.test('new makes run, log/tsvlog and log/main; refuses an existing NAME and bad options', async (t) => {
  const root = ctlRoot(t);
  let r = await tsvctl(['new', 'web', '--', 'sh', '-c', `echo "it's up"; exec sleep 1000`], { cwd: root });
  t.equal(r.code, 0, r.stderr);
  t.equal(r.stdout, 'web: made run, log/tsvlog, log/main/\n');
  const web = join(root, 'web');
  t.equal(readFileSync(join(web, 'run'), 'utf8'), `#!/bin/sh\n# made by tsvctl new: stderr joins stdout, which the supervisor pipes to the logger (log/)\nexec 2>&1\nexec sh -c 'echo "it'\\''s up"; exec sleep 1000'\n`);
  t.equal(statSync(join(web, 'run')).mode & 0o777, 0o755);
  t.equal(readFileSync(join(web, 'log', 'tsvlog'), 'utf8'), '-tt ./main\n');
  t.ok(statSync(join(web, 'log', 'main')).isDirectory());
  t.notOk(existsSync(join(web, 'log', 'run')), 'no log/run by default');
  t.same(readdirSync(root).filter((n) => n.startsWith('.')), [], 'no temporary left behind');

  r = await tsvctl(['new', 'web', 'true'], { cwd: root });
  t.equal(r.code, 111);
  t.equal(r.stderr, 'tsvctl: fatal: unable to create web: file exists\n');
  mkdirSync(join(root, 'empty'));
  r = await tsvctl(['new', 'empty', 'true'], { cwd: root });
  t.equal(r.code, 111, 'an existing empty directory is refused too');

  r = await tsvctl(['new', '--env', 'A=1', '--env', 'B=two words', '--env', 'E=', '--user', 'nobody', '--ready-fd', '3', '--down', '--log-run', 'all', 'python3', '-m', 'http.server', '8000'], { cwd: root });
  t.equal(r.code, 0, r.stderr);
  const all = join(root, 'all');
  t.equal(readFileSync(join(all, 'run'), 'utf8').split('\n')[3], 'exec envdir ./env chpst -u nobody python3 -m http.server 8000', 'options after NAME belong to CMD');
  t.same(readdirSync(join(all, 'env')).sort(), ['A', 'B', 'E']);
  t.equal(readFileSync(join(all, 'env', 'B'), 'utf8'), 'two words\n');
  t.equal(readFileSync(join(all, 'env', 'E'), 'utf8'), '\n', 'an empty value is a lone newline (an empty file would unset it)');
  t.equal(readFileSync(join(all, 'notification-fd'), 'utf8'), '3\n');
  t.ok(existsSync(join(all, 'down')));
  t.equal(readFileSync(join(all, 'log', 'run'), 'utf8'), '#!/bin/sh\nexec tsvlog -tt ./main\n');

  r = await tsvctl(['new', '--cwd', '.', '--env', 'A=1', 'cwd', 'node', 'app.js'], { cwd: root });
  t.equal(r.code, 0, r.stderr);
  t.same(readFileSync(join(root, 'cwd', 'run'), 'utf8').split('\n').slice(3), [`cd ${root} || exit 111`, 'exec envdir "$OLDPWD"/env node app.js', '']);

  r = await tsvctl(['new', '--user', 'nosuchuser', 'nu', 'true'], { cwd: root });
  t.equal(r.code, 0, 'an unknown user is made anyway (it may be added later)');
  t.equal(r.stderr, 'tsvctl: warning: user nosuchuser is not in /etc/passwd: chpst -u will refuse to start nu/run unless the user is added\n');
  r = await tsvctl(['new', '--user', 'nobody', 'nb', 'true'], { cwd: root });
  t.equal(r.stderr, '', 'no warning for a known user');

  for (const [args, re] of [
    [['new', 'x'], /^tsvctl: fatal: new: no command given/],
    [['new', '--env', 'NOEQ', 'x', 'true'], /^tsvctl: fatal: invalid --env: NOEQ/],
    [['new', '--env', 'A=trailing ', 'x', 'true'], /^tsvctl: fatal: invalid --env value for A/],
    [['new', '--ready-fd', '1', 'x', 'true'], /^tsvctl: fatal: invalid --ready-fd: 1/],
    [['new'], /^tsvctl: fatal: Not enough non-option arguments/],
  ] as const) {
    r = await tsvctl([...args], { cwd: root });
    t.equal(r.code, 100, `${args.join(' ')}: 100`);
    t.match(r.stderr, re);
    t.notOk(existsSync(join(root, 'x')), 'nothing made');
  }
});

t.test('a service made by new runs under tsv: logs to log/main, env, user, readiness', { skip: tsvBuilt() ? false : 'tsv is not built' }, async (t) => {
  const root = ctlRoot(t);
  let r = await tsvctl(['new', 'web', '--env', 'GREETING=hello there', '--user', 'nobody', '--ready-fd', '3', '--', 'sh', '-c', 'echo "$GREETING from $(id -un)"; echo >&3; exec sleep 1000'], { cwd: root });
  t.equal(r.code, 0, r.stderr);
  const web = join(root, 'web');
  await supervise(t, 'tsv', web);
  await waitFor(() => text(join(web, 'log', 'main', 'current')).includes('hello there from'), 15_000, 'the line in log/main/current');
  t.match(text(join(web, 'log', 'main', 'current')), new RegExp(`^\\d{4}-\\d\\d-\\d\\d_\\d\\d:\\d\\d:\\d\\d\\.\\d{5} hello there from ${IS_ROOT ? 'nobody' : '\\w+'}\\n`), '-tt stamps');
  r = await tsvctl(['-w', '10', 'up', './web'], { cwd: root });
  t.match(r.stdout, /^ok: run: \.\/web: \(pid \d+\) \d+s, ready \d+s\n$/, 'ready through notification-fd');
  r = await tsvctl(['status', './web'], { cwd: root });
  t.match(r.stdout, /; run: log: \(pid \d+\) \d+s\n$/, 'the in-process logger runs');
  if (IS_ROOT) t.equal(procStatus(status(web)?.pid ?? 0).get('Uid')?.split('\t')[0], '65534', 'run as nobody');
  r = await tsvctl(['log', '-n', '1', './web'], { cwd: root });
  t.match(r.stdout, /hello there from/);
});

t.test('with --cwd the command runs there, env/ still read from the service directory', { skip: tsvBuilt() ? false : 'tsv is not built' }, async (t) => {
  const root = ctlRoot(t);
  const app = join(root, 'app');
  mkdirSync(app);
  writeFileSync(join(app, 'app.sh'), 'echo "$A in $(pwd)"\nexec sleep 1000\n');
  let r = await tsvctl(['new', '--cwd', app, '--env', 'A=hello', 'svc', 'sh', 'app.sh'], { cwd: root });
  t.equal(r.code, 0, r.stderr);
  // moved after it was made: env/ is found where the service directory is now
  renameSync(join(root, 'svc'), join(root, 'moved'));
  const dir = join(root, 'moved');
  await supervise(t, 'tsv', dir);
  await waitFor(() => text(join(dir, 'log', 'main', 'current')).includes(`hello in ${app}`), 15_000, 'the line');
  r = await tsvctl(['status', './moved'], { cwd: root });
  t.match(r.stdout, /^run: \.\/moved: /);
});

t.test('with --down the made service waits for up', { skip: tsvBuilt() ? false : 'tsv is not built' }, async (t) => {
  const root = ctlRoot(t);
  await tsvctl(['new', '--down', 'later', 'sleep', '1000'], { cwd: root });
  const dir = join(root, 'later');
  await supervise(t, 'tsv', dir);
  t.equal(status(dir)?.state, 'down');
  const r = await tsvctl(['-w', '10', 'up', './later'], { cwd: root });
  t.match(r.stdout, /^ok: run: \.\/later: \(pid \d+\) \d+s, normally down/);
});

t.test('under runit runsv: --log-run logs to log/main; log/tsvlog alone leaves runsv retrying log/run', { skip: HAVE_RUNIT ? false : 'runit is not installed' }, async (t) => {
  const root = ctlRoot(t);
  await tsvctl(['new', '--log-run', '--env', 'X=1', 'a', '--', 'sh', '-c', 'echo "a says X=$X"; exec sleep 1000'], { cwd: root });
  await tsvctl(['new', 'b', '--', 'sleep', '1000'], { cwd: root });
  const a = join(root, 'a');
  const b = join(root, 'b');
  await supervise(t, 'runsv', a);
  await waitFor(() => text(join(a, 'log', 'main', 'current')).includes('a says X=1'), 15_000, "a's line in log/main/current");
  // b: runsv finds log/ and keeps trying log/./run, which does not exist: the logger stays down
  const { spawnTracked, testPath } = await import('@tsv/testkit');
  const rs = spawnTracked(t, 'runsv', [b], { detached: true, cwd: root, env: { ...process.env, PATH: testPath() } });
  await waitFor(() => /unable to start log\/\.\/run: file does not exist/.test(rs.stderr()), 15_000, 'runsv complaining about log/run');
  await waitFor(() => status(b)?.state === 'run', 15_000, 'b runs');
  // why: runsv's logger status flickers (run while it forks, down when the exec fails)
  await waitFor(() => status(join(b, 'log'))?.state === 'down', 15_000, "b's logger down under runsv");
  t.pass("b's logger is down under runsv");
});
