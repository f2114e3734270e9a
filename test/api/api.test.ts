// @tsv/api against real supervisors: readiness awaited, typed errors (timeout with the last
// status, not supervised, aborted), status changes without polling, and log lines followed
// across many rotations of a real svlogd's directory with no line lost or doubled.
import t from 'tap';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { logLines, NotSupervisedError, openService, parseLogLine, Service, ServiceError, TimeoutError, type LogLine } from '@tsv/api';
import { run, spawnTracked, waitFor } from '@tsv/testkit';
import { ctlRoot, HAVE_RUNIT, makeService, supervise } from '@tsv/testkit/ctl';

/** run reporting readiness on fd 3 once the file `go` exists (so a test decides when). */
const READY_WHEN_GO = '#!/bin/sh\nwhile [ ! -e go ]; do sleep 0.02; done\necho ready >&3\nexec 3>&-\nexec sleep 1000\n';

t.test('readiness: up and restart with ready: true wait for the notification', async (t) => {
  const root = ctlRoot(t);
  const dir = makeService(root, 'r', { run: READY_WHEN_GO, 'notification-fd': '3\n' });
  await supervise(t, 'tsv', dir);
  const svc = await openService(dir);
  await waitFor(async () => (await svc.status()).ready === false, 10_000, 'not ready yet');
  const err = await svc.up({ ready: true, timeout: 300 }).catch((e: unknown) => e);
  t.ok(err instanceof TimeoutError, 'a service that never reports ready times out');
  t.equal((err as TimeoutError).code, 'ETIMEOUT');
  t.equal((err as TimeoutError).command, 'up');
  t.equal((err as TimeoutError).status?.ready, false, 'the error carries the last status: not ready');
  t.ok((await svc.up({ timeout: 10_000 })).pid !== null, 'without ready: true, running is enough');
  const waiting = svc.up({ ready: true, timeout: 10_000 });
  writeFileSync(join(dir, 'go'), '');
  const s = await waiting;
  t.equal(s.ready, true, 'resolves once ready');
  t.equal(s.supervisor, 'tsv');
  const again = await svc.restart({ ready: true, timeout: 10_000 });
  t.not(again.pid, s.pid, 'a new process');
  t.equal(again.ready, true, 'and ready');
  t.equal(again.restarts, 1);
  t.equal(again.lastExit?.signal, 'SIGTERM', 'the last exit: the restart TERM');
});

t.test('not supervised, bad directories, aborted waits', async (t) => {
  const root = ctlRoot(t);
  const dir = makeService(root, 'n', { run: '#!/bin/sh\nexec sleep 1000\n' });
  const e1 = await openService(dir).catch((e: unknown) => e);
  t.ok(e1 instanceof ServiceError && e1.code === 'ESTATUS', 'no supervise/: ESTATUS');
  const tsv = await supervise(t, 'tsv', dir);
  const svc = await openService(dir);
  const ac = new AbortController();
  const p = svc.down({ signal: ac.signal, timeout: 10_000 }).catch((e: unknown) => e);
  ac.abort();
  const e2 = await p;
  t.ok(e2 instanceof ServiceError && e2.code === 'EABORTED', 'an aborted wait rejects with EABORTED');
  await svc.exit({ timeout: 10_000 });
  await tsv.exited;
  const e3 = await svc.status().catch((e: unknown) => e);
  t.ok(e3 instanceof NotSupervisedError && e3.code === 'ENOTSUPERVISED', 'status of a dead supervisor: NotSupervisedError');
  const e4 = await new Service(dir).up().catch((e: unknown) => e);
  t.ok(e4 instanceof NotSupervisedError, 'a command too');
  t.equal(await svc.isSupervised(), false);
  await svc.exit(); // exit of a service with no supervisor: done already
});

t.test('changes: down, then up, as they happen (runsv)', { skip: HAVE_RUNIT ? false : 'runit not installed' }, async (t) => {
  const root = ctlRoot(t);
  const dir = makeService(root, 'c', { run: '#!/bin/sh\nexec sleep 1000\n' });
  await supervise(t, 'runsv', dir);
  const svc = await openService(dir);
  const seen: string[] = [];
  const it = svc.changes();
  const first = await it.next();
  t.equal(first.value?.state, 'run');
  t.equal(first.value?.supervisor, 'runit');
  void svc.down();
  for (;;) {
    const n = await it.next();
    seen.push(`${n.value?.state}/${n.value?.want}`);
    if (n.value?.state === 'down') break;
  }
  t.equal(seen.at(-1), 'down/down', `down seen: ${seen.join(' ')}`);
  const up = await svc.up();
  for (;;) {
    const n = await it.next();
    if (n.value?.state === 'run') {
      t.equal(n.value.pid, up.pid, 'the same new process up() resolved with');
      break;
    }
  }
  await it.return();
  const ac = new AbortController();
  const it2 = svc.changes({ initial: false, signal: ac.signal });
  const pending = it2.next();
  ac.abort();
  t.same(await pending, { value: undefined, done: true }, 'abort ends the iteration');
});

t.test('log lines across rotations of a real svlogd, none lost or doubled', { skip: HAVE_RUNIT ? false : 'svlogd not installed' }, async (t) => {
  const root = ctlRoot(t);
  const dir = join(root, 'log');
  mkdirSync(dir);
  // why: s4096 rotates every ~4 KB, n1000 keeps every file, so the reader must cross many
  // rotations and may find several files rotated between two wakes.
  writeFileSync(join(dir, 'config'), 's4096\nn1000\n');
  const N = 3000;
  await run('sh', ['-c', `i=0; while [ $i -lt 200 ]; do echo "old $i"; i=$((i+1)); done | svlogd -t ${dir}`], { cwd: root });
  const got: LogLine[] = [];
  const ac = new AbortController();
  const reading = (async () => {
    for await (const l of logLines(dir, { follow: true, signal: ac.signal })) {
      got.push(l);
      if (l.text === `new ${N - 1}`) break;
    }
  })();
  await waitFor(() => got.length >= 200, 10_000, 'the old lines');
  const lines = Array.from({ length: N }, (_, i) => `new ${i}`).join('\n') + '\n';
  const w = spawnTracked(t, 'sh', ['-c', `svlogd -t ${dir}`], { cwd: root, stdio: ['pipe', 'ignore', 'inherit'] });
  // why: in small writes, so svlogd rotates while the reader follows
  for (let i = 0; i < lines.length; i += 2048) w.child.stdin?.write(lines.slice(i, i + 2048));
  w.child.stdin?.end();
  // why: a reader that misses a line would wait for `new ${N - 1}` forever: end it at a deadline
  const deadline = setTimeout(() => ac.abort(), 30_000);
  await reading;
  clearTimeout(deadline);
  const texts = got.map((l) => l.text);
  const want = [...Array.from({ length: 200 }, (_, i) => `old ${i}`), ...Array.from({ length: N }, (_, i) => `new ${i}`)];
  t.equal(texts.length, want.length, 'as many lines as written');
  t.same(texts, want, 'every line once, in order');
  t.ok(got.every((l) => l.time instanceof Date), 'each with its -t stamp');
  const { readdirSync } = await import('node:fs');
  t.ok(readdirSync(dir).filter((n) => n.startsWith('@')).length > 5, 'across many rotations');
  await w.exited;
});

t.test('parseLogLine: the three stamp forms', async (t) => {
  t.same(parseLogLine('@400000005f5e100000000000 hi'), { raw: '@400000005f5e100000000000 hi', text: 'hi', time: new Date(1_600_000_000_000 - 10_000) });
  t.same(parseLogLine('2020-09-13_12:26:40.12345 hi').time, new Date('2020-09-13T12:26:40.123Z'));
  t.same(parseLogLine('2020-09-13T12:26:40.5 hi').text, 'hi');
  t.same(parseLogLine('plain'), { raw: 'plain', text: 'plain', time: undefined });
});
