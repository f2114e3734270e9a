// The set-up looks at the service directory once (a stat, then a listing) and probes the names
// listed with runsv's stat, which follows a symlink: a dangling `down` is no `down`, a `down`
// link to a file is one, a `log` link to a directory is a logger. Black-box: the built tsv, real
// files and processes.
import t from 'tap';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { waitFor } from '@tsv/testkit';
import { control, makeService, readText, serviceRoot, startTsv, status, waitDown, waitRunning } from '@tsv/testkit/supervise';

const SLEEP = '#!/bin/sh\nexec sleep 1000\n';

t.test('down as a dangling symlink: not down (stat fails), as runsv', async (t) => {
  const root = serviceRoot(t);
  const dir = makeService(root, 'svc', { run: SLEEP });
  symlinkSync('nowhere', join(dir, 'down'));
  const tsv = await startTsv(t, dir);
  t.ok((await waitRunning(dir)) > 0, 'run started');
  control(dir, 'd');
  await waitDown(dir);
  control(dir, 'x');
  t.same(await tsv.exited, { code: 0, signal: null });
});

t.test('down as a symlink to a file: down; log as a symlink to a directory: a logger', async (t) => {
  const root = serviceRoot(t);
  writeFileSync(join(root, 'down-target'), '');
  mkdirSync(join(root, 'logdir'));
  writeFileSync(join(root, 'logdir', 'run'), '#!/bin/sh\nexec cat > ../got\n', { mode: 0o755 });
  const dir = makeService(root, 'svc', { run: '#!/bin/sh\necho hello\nexec sleep 1000\n' });
  symlinkSync('../down-target', join(dir, 'down'));
  symlinkSync('../logdir', join(dir, 'log'));
  const tsv = await startTsv(t, dir);
  // the logger starts at once (log/down absent); the service waits for `u`
  await waitFor(() => status(join(dir, 'log'))?.state === 'run', 15_000, 'the logger running');
  t.equal(status(dir)?.state, 'down', 'down link to a file: the service is down');
  t.equal(status(dir)?.wantUp, false, 'and wanted down');
  control(dir, 'u');
  await waitRunning(dir);
  await waitFor(() => readText(join(root, 'got')) === 'hello\n', 15_000, "run's output through the linked log/");
  t.equal(readText(join(root, 'got')), 'hello\n', 'the line went through log/run');
  control(dir, 'd');
  await waitDown(dir);
  control(dir, 'x');
  t.same(await tsv.exited, { code: 0, signal: null });
});
