// tsvscan and tsv talk (issue 11): a line per service event, each with the service's name; every
// line a service writes to stderr prefixed with its name, never cut mid-line by another
// service's; -q silences the events; the exit grace SIGKILLs what ignores TERM and names it;
// the reason of a failed exit is in tsv.json and tsvctl status.
import t from 'tap';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { alive, run, spawnTracked, waitFor, waitForText } from '@tsv/testkit';
import { cleanCmd, makeService, scanEnv, scanTmpdir, startScan, supervisedPid } from '@tsv/testkit/scan';

const env = scanEnv();

t.test('events and stderr lines carry the service name; reason in tsv.json and status', async (t) => {
  const dir = scanTmpdir(t);
  makeService(dir, 'bad', 'echo "starting up" >&2\nsleep 0.1\necho "chpst: fatal: unknown user/group: nosuchuser" >&2\nexit 111');
  makeService(dir, 'good', 'exec sleep 1000');
  // two services writing long lines to stderr at once: each line must come out whole
  const long = 'x'.repeat(3000);
  makeService(dir, 'chatty1', `i=0; while [ $i -lt 30 ]; do echo "one-${long}" >&2; i=$((i+1)); done; exec sleep 1000`);
  makeService(dir, 'chatty2', `i=0; while [ $i -lt 30 ]; do echo "two-${long}" >&2; i=$((i+1)); done; exec sleep 1000`);
  const scan = startScan(t, dir);
  await waitForText(scan.stderr, /tsvscan: bad: backoff: next start in 2 s \(2 quick deaths\)/, 20_000);
  const err = scan.stderr();
  t.match(err, /^tsvscan: added bad$/m, 'added');
  t.match(err, /^tsvscan: good: started, pid \d+$/m, 'started, with the pid');
  t.match(err, /^bad: starting up$/m, "a service's stderr line, prefixed with its name");
  t.match(err, /^tsvscan: bad: exited 111: chpst: fatal: unknown user\/group: nosuchuser$/m, 'exited with code and reason');
  t.match(err, /^tsvscan: bad: backoff: next start in 1 s \(1 quick death\)$/m, 'backoff with its delay');
  await waitFor(() => (scan.stderr().match(/^chatty[12]: /gm) ?? []).length >= 60, 20_000, 'every chatty line');
  const chatty = scan.stderr().split('\n').filter((l) => l.startsWith('chatty'));
  t.equal(chatty.length, 60, 'sixty lines of the two chatty services');
  t.ok(chatty.every((l) => l === `chatty1: one-${long}` || l === `chatty2: two-${long}`), 'each line whole, with its own name');

  const x = JSON.parse(readFileSync(join(dir, 'bad', 'supervise', 'tsv.json'), 'utf8')) as { service: { lastExit: { code: number; reason?: string } } };
  t.same([x.service.lastExit.code, x.service.lastExit.reason], [111, 'chpst: fatal: unknown user/group: nosuchuser'], 'tsv.json lastExit.reason');
  const st = await run(...cleanCmd('tsvctl', ['status', join(dir, 'bad')]), { env });
  t.match(st.stdout, /exited 111: chpst: fatal: unknown user\/group: nosuchuser/, 'tsvctl status shows the reason');

  const goodPid = supervisedPid(join(dir, 'good'));
  scan.child.kill('SIGTERM');
  t.equal((await scan.exited).code, 0);
  t.match(scan.stderr(), new RegExp(`^tsvscan: good: stopping, SIGTERM to pid ${goodPid}$`, 'm'), 'stopping');
  t.match(scan.stderr(), /^tsvscan: good: stopped$/m, 'stopped');
});

t.test('a run that cannot start: the reason in status and list', async (t) => {
  const dir = scanTmpdir(t);
  const svc = makeService(dir, 'noexec', 'exit 0');
  await run('chmod', ['a-x', join(svc, 'run')]);
  const scan = startScan(t, dir);
  await waitForText(scan.stderr, /tsvscan: noexec: exited 111: unable to start \.\/run: access denied/, 20_000);
  const st = await run(...cleanCmd('tsvctl', ['status', svc]), { env });
  t.match(st.stdout, /exited 111: unable to start \.\/run: access denied/, 'status');
  const ls = await run(...cleanCmd('tsvctl', ['list', '--json', dir]), { env });
  t.match(ls.stdout, /"reason": ?"unable to start \.\/run: access denied"/, 'list --json');
  scan.child.kill('SIGTERM');
  t.equal((await scan.exited).code, 0);
});

t.test('-q: no event lines, the services still named', async (t) => {
  const dir = scanTmpdir(t);
  makeService(dir, 'q', 'echo "q line" >&2\nexec sleep 1000');
  const scan = startScan(t, dir, ['-q', dir]);
  await waitForText(scan.stderr, /^q: q line$/m, 20_000);
  await waitFor(() => supervisedPid(join(dir, 'q')), 15_000, 'q up');
  scan.child.kill('SIGTERM');
  t.equal((await scan.exited).code, 0);
  t.notMatch(scan.stderr(), /^tsvscan: /m, 'no event line');
});

t.test('the exit grace: TERM-ignoring services are killed after -g and named; timeout-kill wins', async (t) => {
  const dir = scanTmpdir(t);
  makeService(dir, 'stubborn', "trap '' TERM\n: > trapped\nwhile :; do sleep 0.1; done");
  makeService(dir, 'polite', 'exec sleep 1000');
  const slow = makeService(dir, 'own', "trap '' TERM\n: > trapped\nwhile :; do sleep 0.1; done");
  const { writeFileSync } = await import('node:fs');
  writeFileSync(join(slow, 'timeout-kill'), '4000\n');
  const scan = startScan(t, dir, ['-g', '1', dir]);
  for (const n of ['stubborn', 'polite', 'own']) await waitFor(() => supervisedPid(join(dir, n)), 20_000, `${n} up`);
  // why: supervise/pid is written at the spawn, before run's first line: a TERM sent then meets no trap.
  for (const n of ['stubborn', 'own']) await waitFor(() => existsSync(join(dir, n, 'trapped')), 20_000, `${n}'s trap`);
  const stubborn = supervisedPid(join(dir, 'stubborn'));
  const t0 = Date.now();
  scan.child.kill('SIGTERM');
  const ex = await scan.exited;
  const took = Date.now() - t0;
  t.equal(ex.code, 0, 'exit 0');
  t.notOk(alive(stubborn), 'the stubborn service is gone');
  t.match(scan.stderr(), /grace of 1 s over, killed: stubborn$/m, 'the exit names what it killed (not own: its timeout-kill decides)');
  t.ok(took >= 3500, `own's timeout-kill (4000 ms) wins over the 1 s grace (${took} ms)`);
});

t.test('tsv talks for its one service, and its -g', async (t) => {
  const dir = scanTmpdir(t);
  const svc = makeService(dir, 'one', "trap '' TERM\necho 'one says' >&2\nwhile :; do sleep 0.1; done");
  const tsv = spawnTracked(t, ...cleanCmd('tsv', ['-g', '1', svc]), { env });
  await waitForText(tsv.stderr, /^tsv: .*one: started, pid \d+$/m, 20_000);
  // why: the line is written after the trap, so once it is seen a TERM is ignored.
  await waitForText(tsv.stderr, /one: one says$/m, 20_000);
  tsv.child.kill('SIGTERM');
  t.equal((await tsv.exited).code, 0, 'exit 0 after the grace');
  t.match(tsv.stderr(), /grace of 1 s over, killed: /, 'named');
});
