// The library face the supervisor hosts in-process: parseTsvlogArgs + startLogger on a pipe fd.
import t from 'tap';
import { closeSync, fstatSync, mkdirSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { pipe } from '@tsv/native';
import { parseTsvlogArgs, startLogger } from '@tsv/log';
import { tmpdir, waitFor } from '@tsv/testkit';
import { current, rotated } from '@tsv/testkit/log';

t.test('startLogger on a pipe: rotate, reopen, stop; the input fd stays open', async (t) => {
  const dir = tmpdir(t);
  mkdirSync(join(dir, 'main'));
  const [r, w] = pipe();
  t.teardown(() => {
    closeSync(r);
    closeSync(w);
  });
  const warnings: string[] = [];
  const h = startLogger({ ...parseTsvlogArgs(['-v', './main']), cwd: dir, input: r, warn: (l) => warnings.push(l) });
  writeSync(w, 'one\ntwo\n');
  await waitFor(() => current(join(dir, 'main')) === 'one\ntwo\n');
  h.rotate();
  await waitFor(() => rotated(join(dir, 'main')).length === 1);
  h.reopen();
  await waitFor(() => warnings.some((l) => l === 'tsvlog: info: append: ./main/current'));
  writeSync(w, 'three\npart');
  await waitFor(() => current(join(dir, 'main')) === 'three\n');
  await h.stop();
  t.equal(await h.done, 0);
  t.equal(current(join(dir, 'main')), 'three\npart\n', 'stop writes the partial line');
  t.ok(fstatSync(r).isFIFO(), 'the input fd is still open');
  // A second logger on the same pipe (the supervisor restarting it) gets what follows.
  const h2 = startLogger({ ...parseTsvlogArgs(['./main']), cwd: dir, input: r, warn: (l) => warnings.push(l) });
  writeSync(w, 'four\n');
  await waitFor(() => current(join(dir, 'main')) === 'three\npart\nfour\n');
  await h2.stop();
  t.match(warnings, ['tsvlog: info: new: ./main/current']);
});

t.test('startLogger with no usable directory resolves 111', async (t) => {
  const dir = tmpdir(t);
  const [r, w] = pipe();
  t.teardown(() => {
    closeSync(r);
    closeSync(w);
  });
  const warnings: string[] = [];
  const h = startLogger({ ...parseTsvlogArgs(['nope']), cwd: dir, input: r, warn: (l) => warnings.push(l) });
  t.equal(await h.done, 111);
  t.same(warnings, ['tsvlog: warning: unable to open log directory: nope: file does not exist', 'tsvlog: fatal: no functional log directories.']);
});

t.test('EOF on the pipe resolves done with 0', async (t) => {
  const dir = tmpdir(t);
  mkdirSync(join(dir, 'main'));
  const [r, w] = pipe();
  t.teardown(() => closeSync(r));
  const h = startLogger({ ...parseTsvlogArgs(['-tt', 'main']), cwd: dir, input: r, warn: () => {} });
  writeSync(w, 'bye');
  closeSync(w);
  t.equal(await h.done, 0);
  t.match(current(join(dir, 'main')), /^\d{4}-\d\d-\d\d_\d\d:\d\d:\d\d\.\d{5} bye\n$/);
});
