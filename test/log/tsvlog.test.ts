// tsvlog as a program: stamps, lines, config, rotation, repair, locks, signals, several dirs.
import t from 'tap';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { bin, run, tmpdir, waitFor, waitForText } from '@tsv/testkit';
import { allText, current, modeOf, rotated, startLog, unstampTT } from '@tsv/testkit/log';

t.test('stamps, binary data, CRLF, NULs, and a partial last line', async (t) => {
  const dir = tmpdir(t);
  mkdirSync(join(dir, 'a'));
  mkdirSync(join(dir, 'b'));
  mkdirSync(join(dir, 'c'));
  const input = Buffer.concat([Buffer.from('one\r\n'), Buffer.from([0, 1, 0xff, 0xe9, 10]), Buffer.from('\nlast')]);
  let r = await run(bin('tsvlog'), ['-tt', 'a'], { cwd: dir, input });
  t.equal(r.code, 0);
  const a = readFileSync(join(dir, 'a', 'current'));
  const lines = a.toString('latin1').split('\n');
  t.match(lines[0], /^\d{4}-\d\d-\d\d_\d\d:\d\d:\d\d\.\d{5} one\r$/, '-tt stamp, CR kept');
  t.same(Buffer.from(unstampTT(a.toString('latin1')), 'latin1'), Buffer.concat([input, Buffer.from('\n')]), 'bytes unchanged, partial line written with a newline');
  t.equal(modeOf(join(dir, 'a', 'current')), 0o744, 'current complete (owner x) after a clean exit');
  t.equal(modeOf(join(dir, 'a', 'lock')), 0o600);
  r = await run(bin('tsvlog'), ['-t', 'b'], { cwd: dir, input: 'x\n\n' });
  t.match(current(join(dir, 'b')), /^@4000000[0-9a-f]{17} x\n@4000000[0-9a-f]{17} \n$/, '-t stamps, empty lines too');
  r = await run(bin('tsvlog'), ['-ttt', 'c'], { cwd: dir, input: 'x\n' });
  t.match(current(join(dir, 'c')), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{5} x\n$/);
  r = await run(bin('tsvlog'), ['-r', '#', '-R', 'b', 'c'], { cwd: dir, input: Buffer.from('a\tb\x01c\xe9d_e\n', 'latin1') });
  t.equal(current(join(dir, 'c')).split('\n')[1], 'a###c#d_e', '-r/-R replacement');
});

t.test('usage and unusable directories', async (t) => {
  const dir = tmpdir(t);
  let r = await run(bin('tsvlog'), [], { cwd: dir });
  t.equal(r.code, 111);
  t.match(r.stderr, /^usage: tsvlog /);
  r = await run(bin('tsvlog'), ['-b', '10', '-l', '20', 'x'], { cwd: dir });
  t.equal(r.code, 111, 'buflen must exceed len');
  r = await run(bin('tsvlog'), ['missing'], { cwd: dir, input: 'x\n' });
  t.equal(r.code, 111);
  t.match(r.stderr, 'tsvlog: warning: unable to open log directory: missing: file does not exist\n');
  t.match(r.stderr, 'tsvlog: fatal: no functional log directories.\n');
  writeFileSync(join(dir, 'afile'), '');
  mkdirSync(join(dir, 'ok'));
  r = await run(bin('tsvlog'), ['afile', 'ok'], { cwd: dir, input: 'x\n' });
  t.equal(r.code, 0, 'one usable directory is enough');
  t.match(r.stderr, 'tsvlog: warning: unable to change directory: afile: not a directory');
  t.equal(current(join(dir, 'ok')), 'x\n');
});

t.test('config: malformed lines warn, the rest is kept; selections per directory; alerts', async (t) => {
  const dir = tmpdir(t);
  mkdirSync(join(dir, 'all'));
  mkdirSync(join(dir, 'err'));
  writeFileSync(join(dir, 'err', 'config'), 'sjunk\n-*\n+err*\np[E] \neerr 2*\n');
  const r = await run(bin('tsvlog'), ['-l', '5', '-b', '10', 'all', 'err'], { cwd: dir, input: 'info 1\nerr 1\ninfo 2\nerr 2 is long\n' });
  t.equal(r.code, 0);
  t.match(r.stderr, /tsvlog: warning: bad config err\/config: line 1: sjunk: bad size/);
  t.equal(current(join(dir, 'all')), 'info 1\nerr 1\ninfo 2\nerr 2 is long\n');
  t.equal(current(join(dir, 'err')), '[E] err 1\n[E] err 2 is long\n', 'selected lines, prefix, whole line written');
  t.match(r.stderr, '[E] err 2...\n', 'alert: first len bytes and ...');
  t.notMatch(r.stderr, 'err 1', 'not selected for stderr');
});

t.test('rotation by size, pruning, modes', async (t) => {
  const dir = tmpdir(t);
  const d = join(dir, 'log');
  mkdirSync(d);
  writeFileSync(join(d, 'config'), 's100\nn2\n');
  const lines = Array.from({ length: 40 }, (_, i) => `line ${String(i).padStart(2, '0')}\n`).join('');
  const r = await run(bin('tsvlog'), ['-v', 'log'], { cwd: dir, input: lines });
  t.equal(r.code, 0);
  const olds = rotated(d);
  t.equal(olds.length, 2, 'n2 keeps two old files');
  for (const o of olds) {
    t.match(o, /^@[0-9a-f]{24}\.s$/);
    t.equal(modeOf(join(d, o)), 0o744);
    t.ok(statSync(join(d, o)).size <= 100, 'never above s');
  }
  t.ok(lines.endsWith(allText(d)), 'the newest lines are all there, in order');
  t.match(r.stderr, /tsvlog: info: rename: log\/current @[0-9a-f]{24}\.s \d+/);
  t.match(r.stderr, /tsvlog: info: delete: log\/@[0-9a-f]{24}\.s/);
  // s below len: files are cut at exactly s bytes (svlogd's behaviour).
  const e = join(dir, 'cut');
  mkdirSync(e);
  writeFileSync(join(e, 'config'), 's10\nn0\n');
  await run(bin('tsvlog'), ['cut'], { cwd: dir, input: '0123456789abcdef\n' });
  t.same(rotated(e).map((n) => readFileSync(join(e, n), 'latin1')), ['0123456789'], 'cut at s');
  t.equal(current(e), 'abcdef\n');
});

t.test('a 10 MB line: written whole, memory bounded', async (t) => {
  const dir = tmpdir(t);
  const d = join(dir, 'log');
  mkdirSync(d);
  writeFileSync(join(d, 'config'), 's0\n');
  const p = startLog(t, ['-t', 'log'], dir);
  const big = Buffer.alloc(10 * 1024 * 1024, 'x');
  p.write(big);
  p.write('\nafter\n');
  await waitFor(() => statSync(join(d, 'current')).size >= 10 * 1024 * 1024 + 26 + 1 + 32, 20_000, 'the line in current');
  const hwm = Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${p.pid}/status`, 'utf8'))?.[1]);
  t.ok(hwm < 200 * 1024, `peak RSS ${hwm} kB stays bounded (the line is streamed, not held)`);
  p.end();
  t.equal((await p.exited).code, 0);
  const text = current(d);
  const lines = text.split('\n');
  t.equal(lines.length, 3);
  t.ok(/^@[0-9a-f]{24} $/.test((lines[0] ?? '').slice(0, 26)), 'one stamp');
  t.ok((lines[0] ?? '').slice(26) === 'x'.repeat(10 * 1024 * 1024), 'the whole line');
  t.ok(/^@[0-9a-f]{24} after$/.test(lines[1] ?? ''));
});

t.test('a leftover current is repaired at start', async (t) => {
  const dir = tmpdir(t);
  const d = join(dir, 'log');
  mkdirSync(d);
  writeFileSync(join(d, 'current'), 'crashed\n', { mode: 0o644 });
  chmodSync(join(d, 'current'), 0o644);
  let r = await run(bin('tsvlog'), ['log'], { cwd: dir, input: 'new\n' });
  t.equal(r.code, 0);
  const olds = rotated(d);
  t.equal(olds.length, 1);
  t.match(olds[0], /\.u$/, 'an incomplete current becomes .u');
  t.equal(readFileSync(join(d, olds[0] as string), 'latin1'), 'crashed\n');
  t.equal(current(d), 'new\n');
  // A complete current (owner x) is appended to.
  r = await run(bin('tsvlog'), ['log'], { cwd: dir, input: 'more\n' });
  t.equal(current(d), 'new\nmore\n');
  t.equal(rotated(d).length, 1);
});

t.test('a second tsvlog on the same dir is refused (flock)', async (t) => {
  const dir = tmpdir(t);
  mkdirSync(join(dir, 'log'));
  const first = startLog(t, ['log'], dir);
  first.write('first\n');
  await waitFor(() => current(join(dir, 'log')) === 'first\n');
  const r = await run(bin('tsvlog'), ['log'], { cwd: dir, input: 'second\n' });
  t.equal(r.code, 111);
  t.match(r.stderr, 'tsvlog: warning: unable to lock directory: log: temporary failure\n');
  t.match(r.stderr, 'tsvlog: fatal: no functional log directories.');
  // svlogd sees the lock too.
  const s = await run('svlogd', ['log'], { cwd: dir, input: 'svlogd\n' }).catch(() => undefined);
  if (s) t.match(s.stderr, 'unable to lock directory', 'svlogd respects our flock');
  first.end();
  t.equal((await first.exited).code, 0);
  t.equal(current(join(dir, 'log')), 'first\n');
});

t.test('signals: ALRM rotates, HUP rereads config, TERM flushes and exits 0', async (t) => {
  const dir = tmpdir(t);
  const d = join(dir, 'log');
  mkdirSync(d);
  const p = startLog(t, ['-v', 'log'], dir);
  p.write('one\n');
  await waitFor(() => current(d) === 'one\n');
  process.kill(p.pid, 'SIGALRM');
  await waitFor(() => rotated(d).length === 1, 10_000, 'rotation on ALRM');
  t.equal(readFileSync(join(d, rotated(d)[0] as string), 'latin1'), 'one\n');
  process.kill(p.pid, 'SIGALRM');
  await waitForText(p.stderr, /sigalarm received\.\n[\s\S]*sigalarm received\./);
  t.equal(rotated(d).length, 1, 'an empty current is not rotated');
  writeFileSync(join(d, 'config'), 'p> \n');
  process.kill(p.pid, 'SIGHUP');
  await waitForText(p.stderr, /read: log\/config/);
  p.write('two\npart');
  await waitFor(() => current(d) === '> two\n');
  process.kill(p.pid, 'SIGTERM');
  const ex = await p.exited;
  t.equal(ex.code, 0);
  t.equal(current(d), '> two\n> part\n', 'the partial line is written at TERM');
  t.equal(modeOf(join(d, 'current')), 0o744);
});

t.test('rotation by age (t)', async (t) => {
  const dir = tmpdir(t);
  const d = join(dir, 'log');
  mkdirSync(d);
  writeFileSync(join(d, 'config'), 't1\n');
  const p = startLog(t, ['log'], dir);
  p.write('aged\n');
  await waitFor(() => rotated(d).length === 1, 10_000, 'rotation after 1 s');
  t.equal(readFileSync(join(d, rotated(d)[0] as string), 'latin1'), 'aged\n');
  p.end();
  await p.exited;
});

t.test('input from a real pipe', async (t) => {
  const dir = tmpdir(t);
  mkdirSync(join(dir, 'log'));
  const r = await run('/bin/sh', ['-c', `seq 1 20000 | ${bin('tsvlog')} log`], { cwd: dir });
  t.equal(r.code, 0);
  const want = Array.from({ length: 20000 }, (_, i) => `${i + 1}\n`).join('');
  t.equal(allText(join(dir, 'log')), want, 'every line, in order');
});

t.test('SIGKILL at any moment: the next start repairs the dir, nothing written is lost', async (t) => {
  const dir = tmpdir(t);
  const d = join(dir, 'log');
  mkdirSync(d);
  writeFileSync(join(d, 'config'), 's300\nn0\n');
  const p = startLog(t, ['log'], dir);
  const lines = Array.from({ length: 100 }, (_, i) => `killed ${String(i).padStart(3, '0')}\n`).join('');
  p.write(lines);
  await waitFor(() => allText(d) === lines, 10_000, 'all lines written');
  process.kill(p.pid, 'SIGKILL');
  await p.exited;
  t.equal(modeOf(join(d, 'current')), 0o644, 'current left incomplete');
  const r = await run(bin('tsvlog'), ['log'], { cwd: dir, input: 'after\n' });
  t.equal(r.code, 0);
  const olds = rotated(d);
  t.match(olds[olds.length - 1], /\.u$/, 'the leftover current became .u');
  t.equal(allText(d), `${lines}after\n`, 'every line, in order');
});

t.test('HUP tries dropped directories again; none left is fatal', async (t) => {
  const dir = tmpdir(t);
  mkdirSync(join(dir, 'a'));
  const p = startLog(t, ['a', 'b'], dir);
  await waitForText(p.stderr, /unable to open log directory: b: file does not exist/);
  p.write('one\n');
  await waitFor(() => current(join(dir, 'a')) === 'one\n');
  mkdirSync(join(dir, 'b'));
  process.kill(p.pid, 'SIGHUP');
  await waitFor(() => existsSync(join(dir, 'b', 'current')), 10_000, 'b opened');
  p.write('two\n');
  await waitFor(() => current(join(dir, 'b')) === 'two\n');
  t.equal(current(join(dir, 'a')), 'one\ntwo\n');
  rmSync(join(dir, 'a'), { recursive: true });
  rmSync(join(dir, 'b'), { recursive: true });
  process.kill(p.pid, 'SIGHUP');
  const ex = await p.exited;
  t.equal(ex.code, 111);
  t.match(p.stderr(), 'tsvlog: fatal: no functional log directories.');
});

t.test('svlogd and tsvlog take turns on a directory', async (t) => {
  const probe = await run('svlogd', [], {}).catch(() => undefined);
  if (!probe) {
    t.skip('svlogd is not installed');
    return;
  }
  const dir = tmpdir(t);
  const d = join(dir, 'log');
  mkdirSync(d);
  let r = await run('svlogd', ['log'], { cwd: dir, input: 'from svlogd\n' });
  t.equal(r.code, 0);
  r = await run(bin('tsvlog'), ['log'], { cwd: dir, input: 'from tsvlog\n' });
  t.equal(r.code, 0);
  r = await run('svlogd', ['log'], { cwd: dir, input: 'svlogd again\n' });
  t.equal(current(d), 'from svlogd\nfrom tsvlog\nsvlogd again\n', 'each appends to the other\'s complete current');
  t.equal(rotated(d).length, 0);
  // A rotated tsvlog file is named and moded as svlogd's.
  r = await run('/bin/sh', ['-c', `printf 's5\\n' > log/config; echo 0123456789 | ${bin('tsvlog')} log`], { cwd: dir });
  t.equal(r.code, 0);
  t.match(rotated(d)[0], /^@[0-9a-f]{24}\.s$/);
});
