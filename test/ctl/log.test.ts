// tsvctl log: finds a service's log directories and prints them through @tsv/log's showLog
// (rotated files first, then current; -n N; -f across a rotation until SIGINT, exit 0). The log
// files are written by the test itself, so only tsvctl's side is under test here.
import t from 'tap';
import { appendFileSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bin, spawnTracked, tmpdir, waitForText } from '@tsv/testkit';
import { ctlEnv, tsvctl } from '@tsv/testkit/ctl';

t.test('log, -n, -f across a rotation, and no log at all', async (t) => {
  const root = tmpdir(t);
  const main = join(root, 'a', 'log', 'main');
  mkdirSync(main, { recursive: true });
  writeFileSync(join(main, '@400000006b0000000000000a.s'), 'old one\nold two\n');
  writeFileSync(join(main, 'current'), 'new one\nnew two\n');
  mkdirSync(join(root, 'nolog'));

  let r = await tsvctl(['log', './a'], { cwd: root });
  t.same([r.code, r.stdout, r.stderr], [0, 'old one\nold two\nnew one\nnew two\n', '']);
  r = await tsvctl(['log', '-n', '1', 'a'], { env: ctlEnv({ SVDIR: root }) });
  t.same([r.code, r.stdout], [0, 'new two\n'], '-n 1, name from SVDIR');

  r = await tsvctl(['log', './nolog', './missing'], { cwd: root });
  t.equal(r.code, 2);
  t.match(r.stdout, /^fail: \.\/nolog: no log directory .*\nfail: \.\/missing: unable to change to service directory: file does not exist\n$/);

  const f = spawnTracked(t, bin('tsvctl'), ['log', '-f', '-n', '1', './a'], { cwd: root, env: ctlEnv() });
  // the last line printed means current is pinned: whatever is appended now is followed
  await waitForText(f.stdout, /new two\n/, 15_000);
  appendFileSync(join(main, 'current'), 'appended\n');
  await waitForText(f.stdout, /appended\n/, 15_000);
  renameSync(join(main, 'current'), join(main, '@400000006b0000010000000a.s'));
  writeFileSync(join(main, 'current'), 'after rotation\n');
  await waitForText(f.stdout, /after rotation\n/, 15_000);
  f.child.kill('SIGINT');
  const end = await f.exited;
  t.equal(end.code, 0, 'SIGINT ends -f with 0');
  t.equal(f.stdout(), 'new two\nappended\nafter rotation\n');
});

t.test('several services: each line labelled with its service; TAI64N and -tt stamps in one format', async (t) => {
  const root = tmpdir(t);
  for (const n of ['web', 'worker']) mkdirSync(join(root, n, 'log', 'main'), { recursive: true });
  // 2026-11-22 11:43:28.84149 UTC, once as -tt writes it, once as TAI64N (label 2^62 + 10 + s)
  const secs = Date.UTC(2026, 10, 22, 11, 43, 28) / 1000;
  const tai = (BigInt(2) ** 62n + 10n + BigInt(secs)).toString(16).padStart(16, '0') + (841_490_000).toString(16).padStart(8, '0');
  writeFileSync(join(root, 'web', 'log', 'main', 'current'), `2026-11-22_11:43:28.84149 web line\n`);
  writeFileSync(join(root, 'worker', 'log', 'main', 'current'), `@${tai} worker line\n`);
  const r = await tsvctl(['log', './web', './worker'], { cwd: root, env: ctlEnv({ TZ: 'UTC' }) });
  t.same([r.code, r.stdout], [0, 'web: 2026-11-22 11:43:28.841490000 web line\nworker: 2026-11-22 11:43:28.841490000 worker line\n']);
  const one = await tsvctl(['log', './web'], { cwd: root, env: ctlEnv({ TZ: 'UTC' }) });
  t.equal(one.stdout, '2026-11-22 11:43:28.841490000 web line\n', 'one service: no label');
});
