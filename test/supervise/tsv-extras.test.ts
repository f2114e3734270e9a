// tsv's extras beyond runit: notification-fd readiness, timeout-kill, down-signal, stopping
// what a service left in its process group, timeout-finish, backoff and give-up.
import t from 'tap';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { alive, waitFor, waitForText } from '@tsv/testkit';
import { control, extra, makeService, readText, serviceRoot, startTsv, status, waitDown, waitRunning } from '@tsv/testkit/supervise';

t.test('readiness: notification-fd, ready on the first newline, cleared on death', async (t) => {
  const root = serviceRoot(t);
  const dir = makeService(root, 'svc', {
    'notification-fd': '3\n',
    run: '#!/bin/sh\nwhile [ ! -e go ]; do sleep 0.05; done\nprintf "rea" >&3\nprintf "dy\\n" >&3\nexec 3>&-\nexec sleep 1000\n',
  });
  const tsv = await startTsv(t, dir);
  const pid = await waitRunning(dir);
  t.equal(extra(dir)?.service.ready, false, 'not ready before the line');
  makeService(root, 'svc', { go: '' });
  await waitFor(() => extra(dir)?.service.ready === true, 15_000, 'ready');
  t.type(extra(dir)?.service.readySinceMono, 'number');
  rmSync(join(dir, 'go'));
  process.kill(pid, 'SIGKILL');
  await waitRunning(dir, pid);
  t.equal(extra(dir)?.service.ready, false, 'a new run is not ready yet');
  control(dir, 'x');
  t.same(await tsv.exited, { code: 0, signal: null });
});

t.test('timeout-kill ends a TERM-ignoring service; down-signal replaces TERM', async (t) => {
  const root = serviceRoot(t);
  const got = join(root, 'got.txt');
  const dir = makeService(root, 'svc', {
    'timeout-kill': '1000\n',
    'down-signal': 'USR1\n',
    run: `#!/bin/sh\ntrap 'echo USR1 >> ${got}' USR1\ntrap '' TERM\necho > traps-set\nwhile :; do sleep 0.05; done\n`,
  });
  const tsv = await startTsv(t, dir);
  const pid = await waitRunning(dir);
  await waitFor(() => readText(join(dir, 'traps-set')) !== '', 15_000, 'traps installed');
  control(dir, 'd');
  await waitDown(dir);
  t.match(readText(got), /USR1/, 'down-signal was sent');
  t.equal(extra(dir)?.service.lastExit?.signal, 'SIGKILL', 'killed after timeout-kill');
  t.notOk(alive(pid));
  control(dir, 'x');
  t.same(await tsv.exited, { code: 0, signal: null });
});

t.test('processes left in the service group are stopped on d, and after a once run', async (t) => {
  const root = serviceRoot(t);
  const dir = makeService(root, 'svc', {
    'timeout-kill': '300\n',
    run: '#!/bin/sh\n(trap "" TERM; exec sleep 1000) &\necho $! > child.pid\n[ -e once ] && exit 0\nexec sleep 1000\n',
  });
  const tsv = await startTsv(t, dir);
  await waitRunning(dir);
  const child = await waitFor(() => Number(readText(join(dir, 'child.pid'))), 15_000, 'child pid');
  t.ok(alive(child));
  control(dir, 'd');
  await waitDown(dir);
  await waitFor(() => !alive(child), 15_000, 'the TERM-ignoring leftover killed');
  makeService(root, 'svc', { once: '' });
  control(dir, 'o');
  const child2 = await waitFor(() => {
    const p = Number(readText(join(dir, 'child.pid')));
    return p !== child ? p : 0;
  }, 15_000, 'second child pid');
  await waitDown(dir);
  await waitFor(() => !alive(child2), 15_000, 'leftover of a run that exited by itself with want down');
  control(dir, 'x');
  t.same(await tsv.exited, { code: 0, signal: null });
});

t.test('timeout-finish kills a hanging finish', async (t) => {
  const root = serviceRoot(t);
  const dir = makeService(root, 'svc', {
    down: '',
    'timeout-finish': '200\n',
    run: '#!/bin/sh\nexit 0\n',
    finish: '#!/bin/sh\nexec sleep 1000\n',
  });
  const tsv = await startTsv(t, dir);
  control(dir, 'o');
  await waitFor(() => status(dir)?.state === 'finish' && status(dir)?.pid !== 0, 15_000, 'finish running');
  await waitDown(dir);
  await waitFor(() => /finish script lifetime reached maximum value/.test(tsv.stderr()), 15_000, 'warning');
  control(dir, 'x');
  t.same(await tsv.exited, { code: 0, signal: null });
});

t.test('backoff grows while the service dies quickly, gives up, u restarts', async (t) => {
  const root = serviceRoot(t);
  const dir = makeService(root, 'svc', {
    restart: 'delay=50 factor=2 max-delay=100 quick=10000 give-up=4 give-up-window=60000\n',
    run: '#!/bin/sh\necho start >> starts\nexit 1\n',
  });
  const tsv = await startTsv(t, dir);
  // why: tsv.json is written just before status: wait for both.
  await waitFor(() => extra(dir)?.service.backoff.givenUp === true && status(dir)?.state === 'down', 15_000, 'given up');
  const x = extra(dir)?.service;
  t.equal(x?.want, 'up', 'want stays up');
  t.equal(x?.backoff.failures, 4);
  t.equal(x?.backoff.nextStartAt, null, 'no start pending');
  t.equal(status(dir)?.wantUp, true);
  t.equal(status(dir)?.state, 'down');
  t.equal(readText(join(dir, 'starts')), 'start\n'.repeat(4));
  // why: the warning is in the pipe before the status write, but reaches this process a moment later.
  await waitForText(tsv.stderr, /warning: giving up: 4 quick deaths/, 15_000);
  t.match(tsv.stderr(), /warning: giving up: 4 quick deaths/);
  control(dir, 'u');
  await waitFor(() => readText(join(dir, 'starts')).length > 'start\n'.length * 4, 15_000, 'started again after u');
  control(dir, 'd');
  await waitFor(() => extra(dir)?.service.want === 'down' && extra(dir)?.service.backoff.failures === 0, 15_000, 'd clears the backoff');
  control(dir, 'x');
  t.same(await tsv.exited, { code: 0, signal: null });
});
