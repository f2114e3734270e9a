// Reading logs: showLog (the library face tsvctl log uses) and `tsvlog -c`.
import t from 'tap';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { showLog, localText } from '@tsv/log';
import { bin, run, tmpdir, waitFor } from '@tsv/testkit';
import { startLog } from '@tsv/testkit/log';

const STAMP = '@400000006b02d56a320a8a0c';

/** The local-time text of STAMP (as tai64nlocal prints it). */
function local(): string {
  return localText(0x6b02d56a - 10, 0x320a8a0c);
}

/** A log dir with two rotated files and current. */
function makeDir(dir: string): string {
  const d = join(dir, 'log');
  mkdirSync(d);
  writeFileSync(join(d, '@400000006b02d56a00000000.s'), `${STAMP} a\n`);
  writeFileSync(join(d, '@400000006b02d56b00000000.u'), `${STAMP} b\nplain c\n`);
  writeFileSync(join(d, '@400000006b02d56c00000000.t'), 'in progress\n');
  writeFileSync(join(d, 'current'), '2026-11-22_11:43:28.84149 d\ne\n');
  return d;
}

t.test('showLog prints rotated files then current, stamps as local time', async (t) => {
  const dir = tmpdir(t);
  const d = makeDir(dir);
  let out = '';
  await showLog([d], { follow: false, out: (s) => (out += s) });
  t.equal(out, `${local()} a\n${local()} b\nplain c\n2026-11-22_11:43:28.84149 d\ne\n`);
  out = '';
  await showLog([d], { follow: false, lines: 3, out: (s) => (out += s) });
  t.equal(out, 'plain c\n2026-11-22_11:43:28.84149 d\ne\n', 'the last 3 lines');
  out = '';
  await showLog([d], { follow: false, lines: 0, out: (s) => (out += s) });
  t.equal(out, '');
  await t.rejects(showLog([join(dir, 'nope')], { follow: false, out: () => {} }), /unable to read log directory/);
});

t.test('tsvlog -c', async (t) => {
  const dir = tmpdir(t);
  makeDir(dir);
  const r = await run(bin('tsvlog'), ['-c', '-n', '2', 'log'], { cwd: dir });
  t.equal(r.code, 0);
  t.equal(r.stdout, '2026-11-22_11:43:28.84149 d\ne\n');
  const u = await run(bin('tsvlog'), ['-c', '-n'], { cwd: dir });
  t.equal(u.code, 100);
  t.match(u.stderr, /^usage: tsvlog -c/);
  // Same rendering as tai64nlocal.
  const r2 = await run(bin('tsvlog'), ['-c', 'log'], { cwd: dir });
  const tl = await run('tai64nlocal', [], { input: `${STAMP} a\n` }).catch(() => undefined);
  if (tl && tl.code === 0) t.equal(r2.stdout.split('\n')[0], tl.stdout.trimEnd(), 'as tai64nlocal prints it');
});

t.test('follow survives rotations', async (t) => {
  const dir = tmpdir(t);
  const d = join(dir, 'log');
  mkdirSync(d);
  writeFileSync(join(d, 'config'), 's40\n');
  const p = startLog(t, ['log'], dir);
  p.write('old 1\n');
  await waitFor(async () => {
    let o = '';
    await showLog([d], { follow: false, out: (s) => (o += s) });
    return o === 'old 1\n';
  });
  const ac = new AbortController();
  t.teardown(() => ac.abort());
  let out = '';
  const done = showLog([d], { follow: true, lines: 1, out: (s) => (out += s), signal: ac.signal });
  await waitFor(() => out === 'old 1\n');
  const want = ['old 1'];
  for (let i = 0; i < 30; i++) {
    const line = `new line ${String(i).padStart(2, '0')}`;
    want.push(line);
    p.write(`${line}\n`);
    if (i % 7 === 0) await waitFor(() => out.includes(line), 10_000, line);
  }
  await waitFor(() => out === want.join('\n') + '\n', 15_000).catch(() => {});
  t.equal(out, want.join('\n') + '\n', 'every line once, in order, across rotations');
  ac.abort();
  await done;
  p.end();
  await p.exited;
});
