// LSB mode: tsvctl invoked through a symlink named like the service (an init script), against
// a real runsv. The service is the link's name in SVDIR, the command the first argument;
// usage exits 2; status exits 0 (up), 3 (down), 4 (unreadable) as runit 2.3.0 does.
import t from 'tap';
import { existsSync, mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { bin, run } from '@tsv/testkit';
import { CAT_LOG, ctlEnv, ctlRoot, HAVE_RUNIT, makeService, onPath, sameStatus, status, supervise, TRAP_RUN } from '@tsv/testkit/ctl';

t.test('an init-script symlink drives the service named like it', { skip: HAVE_RUNIT ? false : 'runit (runsv, sv) is not installed' }, async (t) => {
  const root = ctlRoot(t);
  const svdir = join(root, 'service');
  mkdirSync(svdir);
  const web = makeService(svdir, 'web', { run: TRAP_RUN, 'log/run': CAT_LOG });
  makeService(svdir, 'plain', { run: TRAP_RUN });
  await supervise(t, 'runsv', web);
  // the same names linked to tsvctl and, for comparison, to runit's sv
  const initd = join(root, 'init.d');
  const svInitd = join(root, 'sv-init.d');
  mkdirSync(initd);
  mkdirSync(svInitd);
  const svPath = onPath('sv') ? (process.env.PATH ?? '').split(':').map((d) => join(d, 'sv')).find((p) => existsSync(p)) : undefined;
  for (const name of ['web', 'plain', 'nosuch']) {
    symlinkSync(bin('tsvctl'), join(initd, name));
    if (svPath !== undefined) symlinkSync(svPath, join(svInitd, name));
  }
  const env = ctlEnv({ SVDIR: svdir });
  const lsb = (name: string, args: string[]) => run(join(initd, name), args, { env, cwd: root });
  const svLsb = (name: string, args: string[]) => run(join(svInitd, name), args, { env, cwd: root });

  const ref = await svLsb('web', ['status']);
  let r = await lsb('web', ['status']);
  const ref2 = await svLsb('web', ['status']);
  t.equal(r.code, 0, 'up: 0');
  t.match(r.stdout, /^run: web: \(pid \d+\) \d+s; run: log: \(pid \d+\) \d+s\n$/);
  t.ok(sameStatus(r.stdout, ref.stdout, ref2.stdout), 'the same line as sv status web');

  r = await lsb('web', ['stop']);
  t.equal(r.code, 0);
  t.match(r.stdout, /^ok: down: web: \d+s, normally up\n$/);
  r = await lsb('web', ['status']);
  t.equal(r.code, 3, 'down: 3, although the logger runs (runit 2.3.0, not 2.1.2)');
  t.match(r.stdout, /^down: web: \d+s, normally up; run: log: /);

  r = await lsb('web', ['-w', '10', 'start']);
  t.equal(r.code, 0);
  t.match(r.stdout, /^ok: run: web: \(pid \d+\) \d+s\n$/);
  t.equal(status(web)?.state, 'run');

  r = await lsb('web', ['kill', 'USR1']);
  t.equal(r.code, 0, 'NAME kill SIG: the signal form');

  r = await lsb('plain', ['status']);
  t.same([r.code, r.stdout], [4, 'warning: plain: unable to open supervise/ok: file does not exist\n'], 'unreadable: 4');
  const svPlain = await svLsb('plain', ['status']);
  t.equal(svPlain.code, 4, 'sv agrees');

  r = await lsb('nosuch', ['status']);
  t.same([r.code, r.stdout], [1, 'fail: nosuch: unable to change to service directory: file does not exist\n']);

  // usage: no command, an unknown one, a status word other than `status`
  for (const args of [[], ['bogus'], ['stat'], ['-x', 'status']]) {
    r = await lsb('web', args);
    const s = await svLsb('web', args);
    t.equal(r.code, 2, `web ${args.join(' ')}: usage, 2`);
    t.equal(s.code, 2);
    t.equal(r.stderr, s.stderr, `the usage text of ${args.join(' ')}`);
  }
});
