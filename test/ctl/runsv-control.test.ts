// tsvctl driving a real runsv: up/down/once/restart/exit with -w (the ok: lines and exit codes
// sv prints), restart that waits for the new process, stop/start, the skip rule, exit.
import t from 'tap';
import { alive } from '@tsv/testkit';
import { CAT_LOG, ctlRoot, HAVE_RUNIT, makeService, okAlive, status, supervise, TRAP_RUN, tsvctl } from '@tsv/testkit/ctl';

const skip = HAVE_RUNIT ? false : 'runit (runsv, sv) is not installed';

t.test('up, down, once, restart, exit with -w', { skip }, async (t) => {
  const root = ctlRoot(t);
  const a = makeService(root, 'a', { run: TRAP_RUN, 'log/run': CAT_LOG });
  const runsv = await supervise(t, 'runsv', a);
  const opts = { cwd: root };

  let r = await tsvctl(['-w', '10', 'down', './a'], opts);
  t.same([r.code, r.stderr], [0, '']);
  t.match(r.stdout, /^ok: down: \.\/a: \d+s, normally up\n$/);
  t.equal(status(a)?.state, 'down');

  r = await tsvctl(['-w', '10', 'up', './a'], opts);
  t.equal(r.code, 0);
  const up = status(a);
  t.match(r.stdout, new RegExp(`^ok: run: \\./a: \\(pid ${up?.pid}\\) \\d+s\n$`), 'ok line names the running pid');

  r = await tsvctl(['-v', 'once', './a'], opts);
  t.equal(r.code, 0);
  t.match(r.stdout, /^ok: run: \.\/a: \(pid \d+\) \d+s, want down\n$/);

  // restart returns only once the NEW process runs (sv's whole-second rule could say ok for the
  // old one when it started in the same second)
  const before = status(a)?.pid;
  r = await tsvctl(['-w', '10', 'restart', './a'], opts);
  t.equal(r.code, 0);
  const after = status(a);
  t.not(after?.pid, before, 'a new process');
  t.match(r.stdout, new RegExp(`^ok: run: \\./a: \\(pid ${after?.pid}\\) \\d+s\n$`));
  t.notOk(before !== undefined && alive(before), 'the old process is gone');

  // a second restart right away (same second as the last start)
  r = await tsvctl(['-w', '10', 'restart', './a'], opts);
  t.not(status(a)?.pid, after?.pid, 'restarted again within the same second');
  t.match(r.stdout, new RegExp(`^ok: run: \\./a: \\(pid ${status(a)?.pid}\\) \\d+s\n$`));

  // the skip rule: up on a running service sends nothing and passes at once
  r = await tsvctl(['-v', 'up', './a'], opts);
  t.equal(r.code, 0);
  t.match(r.stdout, new RegExp(`^ok: run: \\./a: \\(pid ${status(a)?.pid}\\) \\d+s\n$`));

  // stop/start always wait
  r = await tsvctl(['stop', './a'], opts);
  t.match(r.stdout, /^ok: down: \.\/a: \d+s, normally up\n$/);
  r = await tsvctl(['start', './a'], opts);
  t.match(r.stdout, /^ok: run: \.\/a: \(pid \d+\) \d+s\n$/);

  r = await tsvctl(['-w', '10', 'exit', './a'], opts);
  t.same([r.code, r.stdout], [0, 'ok: ./a: runsv not running\n']);
  t.equal((await runsv.exited).code, 0, 'runsv exited 0');
  t.notOk(okAlive(a));

  // commands to a service whose runsv is gone
  r = await tsvctl(['up', './a'], opts);
  t.same([r.code, r.stdout], [1, 'fail: ./a: runsv not running\n']);
  r = await tsvctl(['exit', './a'], opts);
  t.same([r.code, r.stdout], [0, 'ok: ./a: runsv not running\n'], 'exit to a stopped runsv is ok');
});
