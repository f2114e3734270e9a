// Bad input to tsvctl, side by side with runit's sv: no such dir, a file, no supervise/, a bad
// status file, usage errors (no command, no service, unknown command, bad option) and -V.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { closeSync, constants as fsc, mkdirSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { compareWithSv as compare, ctlEnv, ctlRoot, HAVE_RUNIT, makeService, sv, TRAP_RUN, tsvctl } from '@tsv/testkit/ctl';

t.test('bad input: no such dir, no supervise/, bad status, usage', { skip: HAVE_RUNIT ? false : 'runit (runsv, sv) is not installed' }, async (t) => {
  const root = ctlRoot(t);
  makeService(root, 'plain', { run: TRAP_RUN });
  t.equal(await compare(t, ['status', './nope'], { cwd: root }), 'fail: ./nope: unable to change to service directory: file does not exist\n');
  await compare(t, ['status', 'nope', 'nope2'], { env: ctlEnv({ SVDIR: root }) });
  t.equal(await compare(t, ['status', './plain'], { cwd: root }), 'warning: ./plain: unable to open supervise/ok: file does not exist\n');
  writeFileSync(join(root, 'afile'), '');
  t.equal(await compare(t, ['status', './afile'], { cwd: root }), 'fail: ./afile: unable to change to service directory: not a directory\n');

  // a supervise/ok with a reader, but a status of the wrong size
  const bad = makeService(root, 'bad', { run: TRAP_RUN });
  mkdirSync(join(bad, 'supervise'));
  execFileSync('mkfifo', [join(bad, 'supervise', 'ok')]);
  const reader = openSync(join(bad, 'supervise', 'ok'), fsc.O_RDONLY | fsc.O_NONBLOCK);
  t.teardown(() => closeSync(reader));
  writeFileSync(join(bad, 'supervise', 'status'), 'short');
  t.equal(await compare(t, ['status', './bad'], { cwd: root }), 'warning: ./bad: unable to read supervise/status: bad format\n');

  // usage: no command, no service, illegal option (an unknown command: front.test.ts, since
  // tsvctl is strict under its own name)
  for (const args of [[], ['status'], ['-x', 'status', './plain'], ['-w']]) {
    const [a, b] = await Promise.all([tsvctl(args, { cwd: root }), sv(args, { cwd: root })]);
    t.equal(a.code, 100, `tsvctl ${args.join(' ')}: usage, 100`);
    t.equal(b.code, 100);
    t.equal(a.stderr, b.stderr.replace(/\bsv\b/g, 'tsvctl'), `usage text for ${args.join(' ')}`);
    t.equal(a.stdout, '');
  }
  // under its own name -V is the version line, exit 0 (as sv it is sv's: test/core/help-version)
  const v = await tsvctl(['-V']);
  t.same([v.code, v.stdout], [0, 'tsvctl (tsv) 0.1.0\n']);
});
