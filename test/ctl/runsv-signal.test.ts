// tsvctl kill SIG / signal SIG against a real runsv: USR1 through its control letter, names and
// numbers, an unknown signal refused, a signal runsv has no letter for refused, and `kill svc`
// (one word) kept as sv's kill command.
import t from 'tap';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { waitFor } from '@tsv/testkit';
import { ctlEnv, ctlRoot, HAVE_RUNIT, makeService, status, supervise, TRAP_RUN, tsvctl } from '@tsv/testkit/ctl';

const skip = HAVE_RUNIT ? false : 'runit (runsv, sv) is not installed';

t.test('kill USR1 (signal form), sv kill, signal names and numbers', { skip }, async (t) => {
  const root = ctlRoot(t);
  const a = makeService(root, 'a', { run: TRAP_RUN });
  await supervise(t, 'runsv', a);
  const opts = { cwd: root };
  const pid = status(a)?.pid;

  let r = await tsvctl(['kill', 'USR1', './a'], opts);
  t.same([r.code, r.stdout, r.stderr], [0, '', '']);
  await waitFor(() => existsSync(join(a, 'got-usr1')), 10_000, 'the USR1 trap');
  t.equal(status(a)?.pid, pid, 'USR1 did not restart the service');

  r = await tsvctl(['signal', 'sigusr1', './a'], opts);
  t.equal(r.code, 0, 'signal with a lower-case SIG name');
  r = await tsvctl(['-v', 'kill', '10', './a'], opts);
  t.equal(r.code, 0, 'signal by number');
  t.match(r.stdout, new RegExp(`^ok: run: \\./a: \\(pid ${pid}\\) \\d+s\n$`), '-v: ok at once, same process');

  // unknown signal: refused, nothing sent
  r = await tsvctl(['kill', 'USR3', './a'], opts);
  t.same([r.code, r.stderr], [100, 'tsvctl: fatal: unknown signal: USR3\n']);
  r = await tsvctl(['signal', '99', './a'], opts);
  t.equal(r.code, 100);
  t.equal(status(a)?.pid, pid, 'still the same process');

  // a signal runsv has no letter for: refused for runsv
  r = await tsvctl(['signal', 'WINCH', './a'], opts);
  t.equal(r.code, 1);
  t.match(r.stdout, /^fail: \.\/a: unable to send SIGWINCH: runsv has no control byte for it/);

  // `kill ./a` (one word) is sv's kill command: SIGKILL, runsv restarts the service
  r = await tsvctl(['-w', '10', 'kill', './a'], opts);
  t.equal(r.code, 0);
  t.not(status(a)?.pid, pid, 'killed and restarted');
  t.match(r.stdout, /^ok: run: \.\/a: \(pid \d+\) \d+s\n$/);

  // a service named like a signal still gets the sv kill when it exists
  const usr2 = makeService(root, 'USR2', { run: TRAP_RUN });
  await supervise(t, 'runsv', usr2);
  const p2 = status(usr2)?.pid;
  r = await tsvctl(['-w', '10', 'kill', 'USR2', './a'], { cwd: root, env: ctlEnv({ SVDIR: root }) });
  t.equal(r.code, 0);
  t.not(status(usr2)?.pid, p2, 'USR2 is a service here: k was sent to it');
});
