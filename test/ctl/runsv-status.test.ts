// tsvctl status against a real runsv: the same lines as runit's sv prints for the same service
// (byte for byte, the seconds may differ by one), name resolution (./x, /abs, x/, SVDIR), and
// --json and the table on a terminal.
import t from 'tap';
import { run, waitFor } from '@tsv/testkit';
import { CAT_LOG, compareWithSv as compare, ctlEnv, ctlRoot, HAVE_RUNIT, makeService, onPath, status, supervise, sv, TERM_IGNORING_RUN, TRAP_RUN, tsvctl } from '@tsv/testkit/ctl';

t.test('status lines match sv byte for byte', { skip: HAVE_RUNIT ? false : 'runit (runsv, sv) is not installed' }, async (t) => {
  const root = ctlRoot(t);
  const a = makeService(root, 'a', { run: TRAP_RUN, 'log/run': CAT_LOG });
  const b = makeService(root, 'b', { run: TRAP_RUN, down: '' });
  const c = makeService(root, 'c', { run: TERM_IGNORING_RUN });
  await Promise.all([supervise(t, 'runsv', a), supervise(t, 'runsv', b), supervise(t, 'runsv', c)]);

  t.match(await compare(t, ['status', './a'], { cwd: root }), /^run: \.\/a: \(pid \d+\) \d+s; run: log: \(pid \d+\) \d+s\n$/);
  await compare(t, ['status', a]);
  await compare(t, ['status', 'a/'], { cwd: root });
  await compare(t, ['status', 'a'], { env: ctlEnv({ SVDIR: root }) });
  t.match(await compare(t, ['status', './b'], { cwd: root }), /^down: \.\/b: \d+s\n$/, 'normally down, down: no flags');
  await compare(t, ['s', './a', './b', './c'], { cwd: root });

  // paused
  await sv(['pause', './a'], { cwd: root });
  await waitFor(() => status(a)?.paused, 10_000, 'a paused');
  t.match(await compare(t, ['status', './a'], { cwd: root }), /, paused; run: log/);
  await sv(['cont', './a'], { cwd: root });
  await waitFor(() => status(a)?.paused === false, 10_000, 'a continued');

  // down, normally up; the logger still runs
  await sv(['-w', '10', 'down', './a'], { cwd: root });
  t.match(await compare(t, ['status', './a'], { cwd: root }), /^down: \.\/a: \d+s, normally up; run: log: /);

  // normally down but running
  await sv(['-w', '10', 'up', './b'], { cwd: root });
  t.match(await compare(t, ['status', './b'], { cwd: root }), /^run: \.\/b: \(pid \d+\) \d+s, normally down\n$/);

  // running once: want down
  await sv(['once', './b'], { cwd: root });
  await waitFor(() => status(b)?.wantUp === false, 10_000, 'b want down');
  t.match(await compare(t, ['status', './b'], { cwd: root }), /normally down, want down\n$/);

  // TERM ignored: want down, got TERM
  await sv(['down', './c'], { cwd: root });
  await waitFor(() => status(c)?.gotTerm, 10_000, 'c got TERM');
  t.match(await compare(t, ['status', './c'], { cwd: root }), /^run: \.\/c: \(pid \d+\) \d+s, want down, got TERM\n$/);
  await sv(['kill', './c'], { cwd: root });

  // the supervisor gone: fail, exit 1
  await sv(['-w', '10', 'exit', './b'], { cwd: root });
  t.equal(await compare(t, ['status', './b'], { cwd: root }), 'fail: ./b: runsv not running\n');
});

t.test('status --json and the table on a terminal', { skip: HAVE_RUNIT ? false : 'runit (runsv, sv) is not installed' }, async (t) => {
  const root = ctlRoot(t);
  const a = makeService(root, 'a', { run: TRAP_RUN, 'log/run': CAT_LOG });
  makeService(root, 'b', { run: TRAP_RUN });
  await supervise(t, 'runsv', a);
  const r = await tsvctl(['status', '--json', './a', './b', './nope'], { cwd: root });
  t.equal(r.code, 2, 'b (no supervise/) and nope count as sv would');
  const list = JSON.parse(r.stdout) as Array<Record<string, unknown>>;
  t.equal(list.length, 3);
  const st = status(a);
  t.match(list[0], { name: './a', ok: true, state: 'run', pid: st?.pid, want: 'up', paused: false, gotTerm: false, normallyUp: true, supervisor: 'runit', extra: null, log: { ok: true, state: 'run' } });
  t.match(list[1], { name: './b', ok: false, error: 'unable to open supervise/ok: file does not exist', log: null });
  t.match(list[2], { name: './nope', ok: false, error: 'unable to change to service directory: file does not exist' });
  t.match(r.stderr, /^warning: \.\/b: unable to open supervise\/ok: file does not exist\nfail: \.\/nope: /, 'problems also on stderr');

  if (!onPath('script')) return;
  // several services on a terminal (script(1) gives tsvctl a pty): a table, colours unless NO_COLOR
  const cmd = `cd ${root} && tsvctl status ./a ./b`;
  const tty = await run('script', ['-qec', cmd, '/dev/null'], { env: ctlEnv() });
  const lines = tty.stdout.replace(/\r/g, '').split('\n');
  t.match(lines[0], /SERVICE/);
  t.match(tty.stdout, /\x1b\[32mrun\x1b\[0m/, 'run in green');
  const plain = lines.map((l) => l.replace(/\x1b\[[0-9;]*m/g, ''));
  t.match(plain[0], /^SERVICE +STATE +PID +TIME +INFO +LOG$/);
  const col = plain[0]?.indexOf('STATE');
  t.equal(plain[1]?.indexOf('run'), col, 'columns aligned');
  t.equal(plain[2]?.indexOf('warning'), col);
  const nc = await run('script', ['-qec', cmd, '/dev/null'], { env: ctlEnv({ NO_COLOR: '1' }) });
  t.notMatch(nc.stdout, /\x1b\[/, 'NO_COLOR: no escapes');
  t.equal(tty.code, 1, 'b counts');
});
