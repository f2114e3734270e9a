// The processor protocol (fd 0 @X.u, fd 1 @X.t, fd 4 state, fd 5 newstate), failing and hung
// processors, and UDP output.
import t from 'tap';
import dgram from 'node:dgram';
import { closeSync, constants, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mkfifo } from '@tsv/native';
import { bin, run, tmpdir, waitFor, waitForText } from '@tsv/testkit';
import { current, modeOf, rotated, startLog } from '@tsv/testkit/log';

t.test('processor output becomes .s, state is carried from run to run', async (t) => {
  const dir = tmpdir(t);
  const d = join(dir, 'log');
  mkdirSync(d);
  // Upper-case the file; count runs in state (read on fd 4, written on fd 5).
  writeFileSync(join(d, 'config'), "!tr a-z A-Z; (cat <&4; echo run) >&5\n");
  const p = startLog(t, ['log'], dir);
  p.write('first\n');
  await waitFor(() => current(d) === 'first\n');
  process.kill(p.pid, 'SIGALRM');
  await waitFor(() => rotated(d).length === 1 && rotated(d)[0]?.endsWith('.s'), 10_000, 'first processed file');
  p.write('second\n');
  await waitFor(() => current(d) === 'second\n');
  process.kill(p.pid, 'SIGALRM');
  await waitFor(() => rotated(d).filter((n) => n.endsWith('.s')).length === 2, 10_000, 'second processed file');
  const olds = rotated(d);
  t.same(olds.map((n) => readFileSync(join(d, n), 'latin1')), ['FIRST\n', 'SECOND\n']);
  t.equal(modeOf(join(d, olds[1] as string)), 0o744);
  t.equal(readFileSync(join(d, 'state'), 'latin1'), 'run\nrun\n', 'fd 4 saw the previous fd 5');
  t.notOk(existsSync(join(d, 'newstate')));
  p.end();
  t.equal((await p.exited).code, 0);
});

t.test('a failing processor is restarted on the same .u; at exit it is left for later', async (t) => {
  const dir = tmpdir(t);
  const d = join(dir, 'log');
  mkdirSync(d);
  writeFileSync(join(d, 'config'), '!cat; exit 3\n');
  const p = startLog(t, ['log'], dir);
  p.write('data\n');
  await waitFor(() => current(d) === 'data\n');
  process.kill(p.pid, 'SIGALRM');
  await waitForText(p.stderr, /processor failed, restart: log\n[\s\S]*processor failed, restart: log\n/, 15_000);
  const olds = rotated(d);
  t.equal(olds.length, 1);
  t.match(olds[0], /\.u$/, 'the .u is kept, its .t removed');
  t.equal(readFileSync(join(d, olds[0] as string), 'latin1'), 'data\n');
  process.kill(p.pid, 'SIGTERM');
  t.equal((await p.exited).code, 0, 'TERM ends it even with a failing processor');
});

t.test('a hung processor does not stop logging; rotation waits for it', async (t) => {
  const dir = tmpdir(t);
  const d = join(dir, 'log');
  mkdirSync(d);
  mkfifo(join(dir, 'gate'), 0o600);
  // Whatever happens, release a processor still waiting at the gate (O_RDWR never blocks).
  t.teardown(() => {
    try {
      closeSync(openSync(join(dir, 'gate'), constants.O_RDWR));
    } catch {
      // already removed
    }
  });
  // The first run blocks until the test opens and closes the gate; every run copies its input.
  const opened = join(dir, 'opened');
  writeFileSync(join(d, 'config'), `s30\n!test -e ${opened} || cat ${join(dir, 'gate')} >/dev/null; touch ${opened}; cat\n`);
  const p = startLog(t, ['log'], dir);
  p.write('0123456789\n0123456789\n0123456789\n');
  await waitFor(() => rotated(d).some((n) => n.endsWith('.u')), 10_000, 'first rotation');
  p.write('abcdefghij\nabcdefghij\nabcdefghij\nabcdefghij\n');
  await waitForText(p.stderr, /processor still running, rotation delayed: log/);
  await waitFor(() => current(d).includes('abcdefghij\nabcdefghij\nabcdefghij\n'), 10_000, 'lines still written');
  // Open the gate: a non-blocking open of the FIFO's write end succeeds (instead of ENXIO)
  // once the processor has it open for reading.
  const fd = await waitFor(() => {
    try {
      return openSync(join(dir, 'gate'), constants.O_WRONLY | constants.O_NONBLOCK) + 1;
    } catch {
      return 0;
    }
  }, 10_000, 'the processor at the gate');
  closeSync(fd - 1);
  await waitFor(() => rotated(d).filter((n) => n.endsWith('.s')).length >= 1, 10_000, 'processed');
  p.end();
  t.equal((await p.exited).code, 0);
  const all = rotated(d)
    .filter((n) => !n.endsWith('.t'))
    .map((n) => readFileSync(join(d, n), 'latin1'))
    .join('') + current(d);
  t.equal(all.replace(/\n/g, '').length, 7 * 10, 'every byte is somewhere');
});

t.test('UDP: u sends and logs, U only sends', async (t) => {
  const dir = tmpdir(t);
  const sock = dgram.createSocket('udp4');
  t.teardown(() => sock.close());
  const got: string[] = [];
  sock.on('message', (m) => got.push(m.toString()));
  await new Promise<void>((res) => sock.bind(0, '127.0.0.1', () => res()));
  const port = sock.address().port;
  mkdirSync(join(dir, 'u'));
  mkdirSync(join(dir, 'U'));
  writeFileSync(join(dir, 'u', 'config'), `u127.0.0.1:${port}\npu:\n`);
  writeFileSync(join(dir, 'U', 'config'), `U127.0.0.1:${port}\npU:\n`);
  const r = await run(bin('tsvlog'), ['u', 'U'], { cwd: dir, input: 'hello\n' });
  t.equal(r.code, 0);
  await waitFor(() => got.length === 2, 10_000, 'two datagrams');
  t.same(got.sort(), ['U:hello\n', 'u:hello\n']);
  t.equal(current(join(dir, 'u')), 'u:hello\n');
  t.equal(current(join(dir, 'U')), '', 'U: not written to the directory');
});
