// readAvailable(fd, buf): one read(2) from a non-blocking fd, with "nothing there now" (EAGAIN)
// as the value -1 instead of an exception (tsvscan drains each service's stderr FIFO at every
// exit and start of run). Real pipes and FIFOs; other errors are Node-style errors.
import t from 'tap';
import { closeSync, openSync, writeSync, constants as fsc } from 'node:fs';
import { join } from 'node:path';
import { mkfifo, pipe, readAvailable, setNonblock } from '@tsv/native';
import { tmpdir } from '@tsv/testkit';
import { throwsNodeError } from './node-error.js';

t.test('an empty pipe is -1, data is its count, a closed writer is 0', async (t) => {
  const [r, w] = pipe();
  let wOpen = true;
  t.teardown(() => {
    closeSync(r);
    if (wOpen) closeSync(w);
  });
  setNonblock(r, true);
  const buf = Buffer.alloc(8);
  t.equal(readAvailable(r, buf), -1, 'nothing written: -1, no exception');
  writeSync(w, 'hello world\n');
  t.equal(readAvailable(r, buf), 8, 'a full buffer: its length');
  t.equal(buf.toString(), 'hello wo');
  t.equal(readAvailable(r, buf), 4, 'the rest');
  t.equal(buf.toString('utf8', 0, 4), 'rld\n');
  t.equal(readAvailable(r, buf), -1, 'drained: -1 again');
  closeSync(w);
  wOpen = false;
  t.equal(readAvailable(r, buf), 0, 'no writer left: end of input');
});

t.test('a FIFO opened read-write (as supervise/stderr) never ends, only runs dry', async (t) => {
  const dir = tmpdir(t);
  const path = join(dir, 'stderr');
  mkfifo(path, 0o600);
  const fd = openSync(path, fsc.O_RDWR | fsc.O_NONBLOCK);
  t.teardown(() => closeSync(fd));
  const buf = Buffer.alloc(64);
  t.equal(readAvailable(fd, buf), -1, 'empty: -1 (our own write end keeps it from EOF)');
  writeSync(fd, 'last words\n');
  t.equal(buf.toString('utf8', 0, readAvailable(fd, buf)), 'last words\n');
  t.equal(readAvailable(fd, buf), -1);
});

t.test('bad fds and arguments', async (t) => {
  throwsNodeError(t, () => readAvailable(987_654, Buffer.alloc(1)), { code: 'EBADF', desc: 'bad file descriptor', syscall: 'read' }, 'a closed fd');
  t.throws(() => readAvailable(0, 'x' as unknown as Buffer), { message: 'readAvailable(fd, buf)' }, 'not a Buffer');
});
