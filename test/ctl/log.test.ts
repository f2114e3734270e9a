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
