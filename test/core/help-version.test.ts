// -h/--help and -V/--version on every program (issue 11): help says what it does, its usage,
// options and an example, exit 0 on stdout; the version is one line of one form, exit 0. Under a
// peer's name, -V keeps the peer's meaning (chpst, sv, svlogd: the version, then the usage).
import t from 'tap';
import { mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bin, run } from '@tsv/testkit';

const PROGRAMS = ['tsv', 'tsvscan', 'tsvctl', 'tsvlog', 'chpst', 'setuidgid', 'envuidgid', 'envdir', 'softlimit', 'setlock', 'pgrphack'];
const VERSION = /^(\S+) \(tsv\) \d+\.\d+\.\d+\n$/;

for (const prog of PROGRAMS) {
  t.test(prog, async (t) => {
    for (const opt of ['-h', '--help']) {
      const r = await run(bin(prog), [opt], { timeoutMs: 20_000 });
      t.equal(r.code, 0, `${opt}: exit 0`);
      t.match(r.stdout, /Usage:|usage:/i, `${opt}: a synopsis`);
      t.match(r.stdout, /-h, --help/, `${opt}: the options`);
      t.match(r.stdout, /Examples?:/, `${opt}: an example`);
      t.equal(r.stderr, '', `${opt}: nothing on stderr`);
    }
    for (const opt of prog === 'chpst' ? ['--version'] : ['-V', '--version']) {
      const r = await run(bin(prog), [opt], { timeoutMs: 20_000 });
      t.same([r.code, r.stdout.match(VERSION)?.[1]], [0, prog], `${opt}: one line, exit 0`);
    }
  });
}

t.test('under peer names -V is the peer\'s: version on stderr, then the usage', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tsv-peer-'));
  t.teardown(async () => void (await run('rm', ['-rf', dir])));
  for (const [peer, target, code] of [['sv', 'tsvctl', 100], ['svlogd', 'tsvlog', 111]] as const) {
    symlinkSync(bin(target), join(dir, peer));
    const r = await run(join(dir, peer), ['-V'], { timeoutMs: 20_000 });
    t.equal(r.code, code, `${peer} -V: exit ${code}`);
    t.match(r.stderr, new RegExp(`^${peer} \\(tsv\\) \\d+\\.\\d+\\.\\d+\\n(${peer}: )?usage: ${peer} `), `${peer} -V: version then usage`);
    const v = await run(join(dir, peer), ['--version'], { timeoutMs: 20_000 });
    t.same([v.code, v.stdout.match(VERSION)?.[1]], [0, peer], `${peer} --version: ours`);
  }
  const c = await run(bin('chpst'), ['-V'], { timeoutMs: 20_000 });
  t.equal(c.code, 100, 'chpst -V: runit\'s exit 100');
  t.match(c.stderr, /^chpst \(tsv\) \S+\nusage: chpst /, 'chpst -V: version, then usage');
  for (const peer of ['runsv', 'runsvdir']) {
    symlinkSync(bin(peer === 'runsv' ? 'tsv' : 'tsvscan'), join(dir, peer));
    const r = await run(join(dir, peer), ['--help'], { timeoutMs: 20_000 });
    t.not(r.code, 0, `${peer} --help: the peer's way (no help)`);
  }
});
