// Under a peer's name (svlogd), tsvlog's usage line says that name (issue 10 item 10).
import t from 'tap';
import { symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { bin, run, tmpdir } from '@tsv/testkit';

t.test('usage names the program as run: tsvlog, svlogd', async (t) => {
  const dir = tmpdir(t);
  const r = await run(bin('tsvlog'), [], { cwd: dir });
  t.equal(r.code, 111, 'usage exits 111');
  t.match(r.stderr, /^usage: tsvlog \[-ttv\]/, 'tsvlog says tsvlog');
  symlinkSync(bin('tsvlog'), join(dir, 'svlogd'));
  const s = await run(join(dir, 'svlogd'), ['-x', 'main'], { cwd: dir });
  t.equal(s.code, 111, 'usage exits 111 as svlogd');
  t.match(s.stderr, /^usage: svlogd \[-ttv\] \[-r c\] \[-R abc\] \[-l len\] \[-b buflen\] dir \.\.\.\n$/, 'svlogd says svlogd');
});

t.test('warnings and fatals name the program as run: svlogd: under svlogd\'s name', async (t) => {
  const dir = tmpdir(t);
  symlinkSync(bin('tsvlog'), join(dir, 'svlogd'));
  const { writeFileSync } = await import('node:fs');
  writeFileSync(join(dir, 'notadir'), '');
  const s = await run(join(dir, 'svlogd'), ['./notadir'], { cwd: dir, input: 'x\n' });
  t.equal(s.code, 111, 'no functional log directory: 111');
  t.match(s.stderr, /^svlogd: warning: unable to change directory: \.\/notadir: not a directory$/m, 'the warning says svlogd:');
  t.match(s.stderr, /^svlogd: fatal: /m, 'the fatal says svlogd:');
  t.notMatch(s.stderr, /tsvlog/, 'never tsvlog');
  const o = await run(bin('tsvlog'), ['./notadir'], { cwd: dir, input: 'x\n' });
  t.match(o.stderr, /^tsvlog: warning: unable to change directory/m, 'tsvlog says tsvlog:');
});
