// tsvctl against a real runsv: timeout: and kill: lines, force-stop and capitals, exit codes,
// SVWAIT, and the check script (waited for, re-run until it passes, not executable).
import t from 'tap';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { alive, waitFor } from '@tsv/testkit';
import { ctlEnv, ctlRoot, HAVE_RUNIT, makeService, status, supervise, TERM_IGNORING_RUN, TRAP_RUN, tsvctl } from '@tsv/testkit/ctl';

const skip = HAVE_RUNIT ? false : 'runit (runsv, sv) is not installed';

t.test('timeout: and kill: lines, exit codes, the check script', { skip }, async (t) => {
  const root = ctlRoot(t);
  const opts = { cwd: root };
  // a check that fails until a flag file exists
  const a = makeService(root, 'a', { run: TRAP_RUN, check: '#!/bin/sh\ntest -e flag\n' });
  // a service that ignores TERM
  const b = makeService(root, 'b', { run: TERM_IGNORING_RUN });
  await Promise.all([supervise(t, 'runsv', a), supervise(t, 'runsv', b)]);

  let r = await tsvctl(['-w', '1', 'restart', './a'], opts);
  t.equal(r.code, 1, 'one timeout line');
  // (runsv may still be in its 1-second pause before the restart)
  t.match(r.stdout, /^timeout: (run: \.\/a: \(pid \d+\) \d+s|down: \.\/a: \d+s, normally up, want up)\n$/);

  // the check passes once the flag appears while we wait
  const p0 = status(a)?.pid;
  let returned = false;
  const waiting = tsvctl(['-w', '15', 'restart', './a'], opts).then((res) => {
    returned = true;
    return res;
  });
  await waitFor(() => status(a)?.pid !== p0 && status(a)?.state === 'run', 10_000, 'the restart');
  t.notOk(returned, 'still waiting for the check');
  writeFileSync(join(a, 'flag'), '');
  r = await waiting;
  t.equal(r.code, 0);
  t.match(r.stdout, /^ok: run: \.\/a: \(pid \d+\) \d+s\n$/);

  // `check` sends nothing and waits for the state the want byte asks for
  r = await tsvctl(['check', './a'], opts);
  t.match([r.code, r.stdout], [0, /^ok: run: \.\/a: /]);

  // a non-executable check warns and passes
  writeFileSync(join(root, 'a', 'check'), 'exit 1\n');
  chmodSync(join(root, 'a', 'check'), 0o644);
  r = await tsvctl(['-w', '5', 'up', './a'], opts);
  t.equal(r.code, 0);
  t.equal(r.stderr, 'warning: unable to run ./a/check: access denied\n');

  // force-stop: TERM is ignored, so on timeout `kill:` and SIGKILL
  const pid = status(b)?.pid;
  r = await tsvctl(['-w', '1', 'force-stop', './b'], opts);
  t.equal(r.code, 1);
  t.match(r.stdout, /^kill: run: \.\/b: \(pid \d+\) \d+s, want down, got TERM\n$/);
  await waitFor(() => status(b)?.state === 'down', 10_000, 'b killed');
  t.notOk(pid !== undefined && alive(pid));

  // counting: two failures and a timeout
  r = await tsvctl(['-w', '1', 'up', './nope', './nope2', './b'], { cwd: root });
  t.equal(r.code, 2, 'b comes up, the two missing dirs count');
  t.match(r.stdout, /fail: \.\/nope: unable to change to service directory: file does not exist\nfail: \.\/nope2: .*\nok: run: \.\/b: /);

  // SVWAIT sets the default wait
  r = await tsvctl(['D', './b'], { cwd: root, env: ctlEnv({ SVWAIT: '1' }) });
  t.equal(r.code, 1, 'capital D waits SVWAIT seconds then kills');
  t.match(r.stdout, /^kill: run: \.\/b: /);
});
