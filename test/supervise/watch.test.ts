// Watch mode, black-box (docs/watch-mode.md): a service with a `watch` file under the built tsv
// (and tsvscan). A burst of edits restarts it exactly once, and the new run starts only after the
// old process group is gone (the old server holds its port for 300 ms after TERM, in a child of
// run: a new run started early would fail with EADDRINUSE); ignored paths restart nothing; a run
// that exits by itself waits for the next change instead of restarting in a loop.
import t from 'tap';
import { createServer } from 'node:net';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { waitFor } from '@tsv/testkit';
import { extra, makeService, readText, serviceRoot, startTsv, status } from '@tsv/testkit/supervise';
import { scanTmpdir, startScan } from '@tsv/testkit/scan';

/** A free TCP port on 127.0.0.1. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a !== null ? a.port : 0));
    });
  });
}

/** A server that logs to ../events, and on TERM holds its port 300 ms before exiting. */
function server(port: number): string {
  return `const { appendFileSync } = require('node:fs');
const srv = require('node:net').createServer();
srv.on('error', (e) => { appendFileSync('../events', 'error ' + e.code + '\\n'); process.exit(1); });
srv.listen(${port}, '127.0.0.1', () => appendFileSync('../events', 'listening ' + process.pid + '\\n'));
process.on('SIGTERM', () => setTimeout(() => process.exit(0), 300));
`;
}

/** The lines of root/events that start with word. */
const events = (root: string, word: string): string[] => readText(join(root, 'events')).split('\n').filter((l) => l.startsWith(word));

/** Write to path n times, 10 ms apart: one burst (well inside the debounce). */
async function burst(path: string, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    writeFileSync(path, `edit ${i}\n`);
    // why: pacing the edits of the burst (input timing), not waiting for a condition
    await new Promise((r) => setTimeout(r, 10));
  }
}

t.test('a burst of edits restarts once; the old group and its port are gone first; ignores', async (t) => {
  const root = serviceRoot(t);
  const port = await freePort();
  // why `&` and `wait`: the server is a child of run in its process group, so run's exit alone
  // does not free the port; the supervisor must wait for the group.
  const dir = makeService(root, 'web', {
    run: '#!/bin/sh\nexec 2>&1\nnode server.cjs &\nwait\n',
    'server.cjs': server(port),
    watch: '# the sources, not the scratch files\n. \n!*.tmp\n!scratch\ndebounce=400\n',
  });
  mkdirSync(join(dir, 'scratch'));
  await startTsv(t, dir);
  await waitFor(() => events(root, 'listening').length === 1, 15_000, 'the first server');
  await burst(join(dir, 'app.js'), 10);
  await waitFor(() => events(root, 'listening').length === 2, 15_000, 'the server restarted');
  t.equal(extra(dir)?.service.restarts, 1, 'one restart for ten edits');
  await burst(join(dir, 'lib.js'), 5);
  await waitFor(() => events(root, 'listening').length === 3, 15_000, 'the server restarted again');
  // why this order: ignored edits, then a watched one: its restart is the 4th only if the
  // ignored ones restarted nothing (all are debounced into one burst per quiet time).
  writeFileSync(join(dir, 'x.tmp'), 'ignored\n');
  writeFileSync(join(dir, 'scratch', 'y'), 'ignored\n');
  await waitFor(() => status(dir)?.state === 'run', 5000);
  const before = extra(dir)?.service.restarts;
  t.equal(before, 2, 'one restart per burst: 2 after two bursts');
  t.same(events(root, 'error'), [], 'no server ever found the port in use');
  const three = events(root, 'listening').map((l) => Number(l.split(' ')[1]));
  t.equal(new Set(three).size, 3, 'three distinct servers');
});

t.test('a run that exits by itself waits for a change (no restart loop)', async (t) => {
  const root = serviceRoot(t);
  const dir = makeService(root, 'crash', {
    run: '#!/bin/sh\necho start >> ../starts\nif [ -e fixed ]; then exec sleep 1000; fi\nexit 3\n',
    watch: 'fixed\nsrc\ndebounce=400\n',
  });
  mkdirSync(join(dir, 'src'));
  // why debounce=400: one write can reach the watcher as two events (add, then change) far
  // apart on a loaded machine; a short debounce would rightly make them two bursts.
  await startTsv(t, dir);
  const waiting = await waitFor(() => {
    const x = extra(dir)?.service;
    return x !== undefined && x.state === 'down' && x.lastExit?.code === 3 ? x : undefined;
  }, 15_000, 'the crash');
  t.equal(waiting.want, 'up', 'still wanted up');
  t.equal(waiting.backoff.nextStartAt, null, 'no restart scheduled');
  t.equal(readText(join(root, 'starts')), 'start\n', 'started once');
  writeFileSync(join(dir, 'src', 'a.js'), 'still broken\n');
  await waitFor(() => readText(join(root, 'starts')) === 'start\nstart\n', 15_000, 'a start after the change');
  await waitFor(() => extra(dir)?.service.state === 'down' && extra(dir)?.service.restarts === 1, 15_000, 'down again');
  t.equal(extra(dir)?.service.backoff.nextStartAt, null, 'and waiting again, not looping');
  writeFileSync(join(dir, 'fixed'), '');
  // why: status says run at the spawn, before the script has written its line: wait for both.
  await waitFor(() => status(dir)?.state === 'run' && readText(join(root, 'starts')).split('\n').length > 3, 15_000, 'running once fixed');
  t.equal(readText(join(root, 'starts')), 'start\nstart\nstart\n', 'three starts in all: one per change');
});

t.test('tsvscan: a watched service restarts on a change (the watcher bundle of tsvscan)', async (t) => {
  const scan = scanTmpdir(t);
  const dir = makeService(scan, 'w', { run: '#!/bin/sh\necho start >> ../../starts-w\nexec sleep 1000\n', watch: 'conf\ndebounce=50\n' });
  writeFileSync(join(dir, 'conf'), 'v1\n');
  startScan(t, scan);
  await waitFor(() => status(dir)?.state === 'run', 15_000, 'w running');
  const pid = status(dir)?.pid;
  writeFileSync(join(dir, 'conf'), 'v2\n');
  await waitFor(() => status(dir)?.state === 'run' && status(dir)?.pid !== pid, 15_000, 'w restarted');
  t.equal(extra(dir)?.service.restarts, 1);
});
