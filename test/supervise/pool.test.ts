// Worker pools, black-box: a pool of HTTP workers (test/fixtures/pool-worker.mjs) under the
// built tsv serves every request through a rolling restart and a resize 4 -> 8 -> 2; kill -9 of
// the supervisor lets each worker exit through its lifeline; runit's sv and svstat read the
// pool's directory and an instance's; bad `instances`; a roll whose instance never becomes
// ready again; a supervisor killed in the middle of a roll (never N twice); hooks and finish
// get the instance id.
//
// Node 20's http cannot listen with SO_REUSEPORT (`reusePort` needs Node 22.12), so each
// instance listens on its own port (line ID of ./ports) and the test's client plays the part
// of the front proxy: it sends each request to the next port in turn and, when a connection is
// refused or reset before any response (nginx's `proxy_next_upstream error`), to the next one.
// A request counts as failed when no port answered it.
import t from 'tap';
import { copyFileSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { join } from 'node:path';
import { alive, bin, ROOT, run, testPath, waitFor, waitForText } from '@tsv/testkit';
import { startScan } from '@tsv/testkit/scan';
import { control, extra, makeService, readText, serviceRoot, startTsv, status } from '@tsv/testkit/supervise';
import { onPath } from '@tsv/testkit/ctl';

const WORKER = join(ROOT, 'test', 'fixtures', 'pool-worker.mjs');

/** n free TCP ports on 127.0.0.1. */
async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: n }, () => new Promise<net.Server>((res) => {
      const s = net.createServer();
      s.listen(0, '127.0.0.1', () => res(s));
    })),
  );
  const ports = servers.map((s) => (s.address() as net.AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

/** A pool service dir `web` of the HTTP worker. */
async function poolService(root: string, n: number, files: Record<string, string> = {}): Promise<{ dir: string; ports: number[] }> {
  const ports = await freePorts(8);
  const dir = makeService(root, 'web', { run: '#!/bin/sh\nexec node ./worker.mjs\n', instances: `${n}\n`, 'notification-fd': '3\n', 'lifeline-fd': '4\n', ports: `${ports.join('\n')}\n`, ...files });
  copyFileSync(WORKER, join(dir, 'worker.mjs'));
  return { dir, ports };
}

/** The pool's pool.json. */
function poolFile(dir: string): { size: number; state: string; rolls: number; failed: { id: number; reason: string } | null; instances: { id: number; retiring: boolean }[] } | undefined {
  try {
    return JSON.parse(readFileSync(join(dir, 'supervise', 'pool.json'), 'utf8'));
  } catch {
    return undefined;
  }
}

/** The instance dir of id. */
const inst = (dir: string, id: number): string => join(dir, 'supervise', 'instance', String(id));

/** The pids of instances 0..n-1 once each runs and is ready (and no other instance exists). */
function readyPids(dir: string, n: number, timeoutMs = 20_000): Promise<number[]> {
  return waitFor(
    () => {
      const p = poolFile(dir);
      if (p === undefined || p.instances.length !== n || p.state !== 'steady') return undefined;
      const pids: number[] = [];
      for (let id = 0; id < n; id++) {
        const x = extra(inst(dir, id));
        if (x?.service.state !== 'run' || x.service.ready !== true || !alive(x.service.pid)) return undefined;
        pids.push(x.service.pid);
      }
      return pids;
    },
    timeoutMs,
    `${n} ready instances of ${dir}`,
  );
}

/** tsvctl with our PATH. */
function tsvctl(args: string[], cwd: string) {
  return run(bin('tsvctl'), args, { cwd, env: { ...process.env, PATH: testPath() } });
}

/** One GET to port: the body, or the error code. */
function get(port: number): Promise<{ body: string } | { error: string }> {
  return new Promise((res) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/', agent: false, timeout: 5000 }, (r) => {
      let body = '';
      r.on('data', (d: Buffer) => (body += d.toString()));
      r.on('end', () => res(r.statusCode === 200 ? { body } : { error: `HTTP ${r.statusCode}` }));
      r.on('error', (e: NodeJS.ErrnoException) => res({ error: `after response: ${e.code ?? e.message}` }));
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
    req.on('error', (e: NodeJS.ErrnoException) => res({ error: e.code ?? e.message }));
  });
}

/** A client that keeps requests going (4 at a time) until stop(); counts failed requests. */
function load(ports: number[]): { seen: () => Set<number>; stop: () => Promise<{ requests: number; failed: number; retries: number; ids: Set<number>; errors: string[] }> } {
  let running = true;
  let next = 0;
  const stats = { requests: 0, failed: 0, retries: 0, ids: new Set<number>(), errors: [] as string[] };
  const one = async (): Promise<void> => {
    const start = next++;
    for (let k = 0; k < ports.length; k++) {
      const r = await get(ports[(start + k) % ports.length] as number);
      if ('body' in r) {
        stats.ids.add(Number(r.body.split(' ')[0]));
        return;
      }
      // why: only what a proxy may retry: the connection was refused or reset before a response
      if (r.error !== 'ECONNREFUSED' && r.error !== 'ECONNRESET') {
        stats.failed++;
        stats.errors.push(r.error);
        return;
      }
      stats.retries++;
    }
    stats.failed++;
    stats.errors.push('no port answered');
  };
  const loop = async (): Promise<void> => {
    while (running) {
      await one();
      stats.requests++;
    }
  };
  const loops = [loop(), loop(), loop(), loop()];
  return {
    seen: () => stats.ids,
    stop: async () => {
      running = false;
      await Promise.all(loops);
      return stats;
    },
  };
}

t.test('a pool of 4 HTTP workers: rolling restart and resize 4 -> 8 -> 2 without a failed request', async (t) => {
  const root = serviceRoot(t);
  const { dir, ports } = await poolService(root, 4);
  const tsv = await startTsv(t, dir);
  const first = await readyPids(dir, 4);
  const client = load(ports);
  await waitFor(() => readText(join(dir, 'started-3')) !== '', 5000, 'the client to be running');

  const r = await tsvctl(['-w', '60', 'restart', './web'], root);
  t.equal(r.code, 0, `tsvctl -w restart waits for the whole roll: ${r.stdout}${r.stderr}`);
  t.match(r.stdout, /^ok: run: \.\/web: \(pid \d+\)/);
  const rolled = await readyPids(dir, 4);
  for (let id = 0; id < 4; id++) t.not(rolled[id], first[id], `instance ${id} was restarted`);
  t.equal(poolFile(dir)?.rolls, 1);

  writeFileSync(join(dir, 'instances'), '8\n');
  t.equal((await tsvctl(['reload', './web'], root)).code, 0);
  const eight = await readyPids(dir, 8);
  t.same(eight.slice(0, 4), rolled, 'ids 0-3 untouched by the resize up');
  // why: ready is the worker's own word; the client's round robin reaches the new ports a moment later.
  await waitFor(() => [4, 5, 6, 7].every((id) => client.seen().has(id)), 15_000, 'the client to reach ids 4-7');

  writeFileSync(join(dir, 'instances'), '2\n');
  process.kill(tsv.pid, 'SIGHUP');
  const two = await readyPids(dir, 2);
  t.same(two, rolled.slice(0, 2), 'ids 0 and 1 untouched by the resize down');
  await waitFor(() => eight.slice(2).every((p) => !alive(p)), 15_000, 'ids 2-7 to stop');
  t.same(readdirSync(join(dir, 'supervise', 'instance')).sort(), ['0', '1'], 'retired instance dirs are removed');

  const stats = await client.stop();
  t.equal(stats.failed, 0, `no failed request (${stats.requests} requests, ${stats.retries} retried on the next port): ${stats.errors.slice(0, 5).join(', ')}`);
  t.ok(stats.requests > 20, `requests were made throughout (${stats.requests})`);
  t.same([...stats.ids].sort(), [0, 1, 2, 3, 4, 5, 6, 7], 'every instance id answered at some point');

  const st = await tsvctl(['status', './web'], root);
  const lines = st.stdout.trimEnd().split('\n');
  t.match(lines[0], /^run: \.\/web: \(pid \d+\) \d+s, ready \d+s, last exit 0, restarts 1, pool 2$/);
  t.match(lines.slice(1), [/^ {2}run: \.\/web@0: \(pid \d+\) \d+s, ready/, /^ {2}run: \.\/web@1: \(pid \d+\) \d+s, ready/]);
  t.equal(lines.length, 3, 'one line per instance under the pool line');
});

t.test('kill -9 of the supervisor: every worker exits through its lifeline', async (t) => {
  const root = serviceRoot(t);
  const { dir } = await poolService(root, 3);
  const tsv = await startTsv(t, dir);
  const pids = await readyPids(dir, 3);
  process.kill(tsv.pid, 'SIGKILL');
  await waitFor(() => pids.every((p) => !alive(p)), 10_000, 'every worker to exit by itself');
  for (let id = 0; id < 3; id++) t.equal(readText(join(dir, `lifeline-${id}`)), `${pids[id]}\n`, `instance ${id} saw EOF on its lifeline`);
});

t.test("runit's sv and svstat on a pool and on one instance; tsvctl on DIR@ID", { skip: onPath('sv') && onPath('svstat') ? false : 'runit sv or daemontools svstat not installed' }, async (t) => {
  const root = serviceRoot(t);
  const { dir } = await poolService(root, 3);
  await startTsv(t, dir);
  const pids = await readyPids(dir, 3);
  const sv = await run('sv', ['status', './web', './web/supervise/instance/2'], { cwd: root });
  t.match(sv.stdout, new RegExp(`^run: \\./web: \\(pid ${pids[0]}\\) \\d+s\\nrun: \\./web/supervise/instance/2: \\(pid ${pids[2]}\\) \\d+s\\n$`), 'sv: the pool is up with the pid of instance 0');
  const svstat = await run('svstat', ['./web'], { cwd: root });
  t.match(svstat.stdout, new RegExp(`^\\./web: up \\(pid ${pids[0]}\\) \\d+ seconds\\n$`));
  // one instance alone, by tsvctl's DIR@ID and by runit's sv on its directory
  const r = await tsvctl(['-w', '20', 'restart', './web@1'], root);
  t.equal(r.code, 0, r.stdout + r.stderr);
  t.match(r.stdout, /^ok: run: \.\/web@1: \(pid \d+\)/);
  const after = await readyPids(dir, 3);
  t.same([after[0], after[2]], [pids[0], pids[2]], 'only instance 1 restarted');
  t.not(after[1], pids[1]);
  const down = await run('sv', ['-w', '10', 'down', './web/supervise/instance/2'], { cwd: root });
  t.match(down.stdout, /^ok: down: \.\/web\/supervise\/instance\/2: /, "runit's sv drives one instance");
  t.match(await run('sv', ['status', './web'], { cwd: root }).then((x) => x.stdout), new RegExp(`^run: \\./web: \\(pid ${after[0]}\\)`), 'the pool is still up');
  const st = await tsvctl(['status', './web'], root);
  t.match(st.stdout, /\n {2}down: \.\/web@2: \d+s, normally up, exited 0\n$/);
});

t.test('bad instances: 0, negative, not a number (warned; size kept); huge is capped (unit-tested)', async (t) => {
  const root = serviceRoot(t);
  const dir = makeService(root, 'web', { run: '#!/bin/sh\nexec sleep 1000\n', instances: '0\n' });
  const tsv = await startTsv(t, dir);
  await waitFor(() => poolFile(dir)?.instances.length === 1 && status(inst(dir, 0))?.state === 'run', 10_000, 'one instance');
  await waitFor(() => tsv.stderr().includes('invalid instances: 0: a pool has 1 to 256 instances (use a down file to keep it down); using 1'), 5000, 'the warning');
  for (const [bad, msg] of [
    ['-2', 'invalid instances: -2: a pool has 1 to 256 instances (use a down file to keep it down); keeping 1'],
    ['many', 'invalid instances: "many" is not a whole number; keeping 1'],
  ] as const) {
    writeFileSync(join(dir, 'instances'), `${bad}\n`);
    t.equal((await tsvctl(['reload', './web'], root)).code, 0);
    await waitFor(() => tsv.stderr().includes(msg), 5000, `the warning for ${bad}`);
    t.equal(poolFile(dir)?.size, 1);
  }
  t.match(tsv.stderr(), /^tsv web: warning: invalid instances: 0/m, "the supervisor's prefix");
});

t.test('an instance that never becomes ready again stops the roll, and status says so', async (t) => {
  const root = serviceRoot(t);
  const { dir } = await poolService(root, 3, { 'roll-timeout': '1500\n', 'never-ready-again': 'yes\n' });
  const tsv = await startTsv(t, dir);
  const pids = await readyPids(dir, 3);
  const r = await tsvctl(['-w', '4', 'restart', './web'], root);
  t.not(r.code, 0, 'tsvctl -w restart does not say ok');
  t.match(r.stdout, /^timeout: run: \.\/web: .*not ready/);
  await waitFor(() => poolFile(dir)?.state === 'halted', 5000, 'the roll to stop');
  t.same(poolFile(dir)?.failed, { id: 0, reason: 'was not ready within 1500 ms' });
  // why: the warning is in the pipe before the status write, but reaches this process a moment later.
  await waitForText(tsv.stderr, /warning: rolling restart stopped: instance 0 was not ready within 1500 ms/, 15_000);
  t.match(tsv.stderr(), /warning: rolling restart stopped: instance 0 was not ready within 1500 ms/);
  const st = await tsvctl(['status', './web'], root);
  t.match(st.stdout, /, pool 3, rolling restart failed: instance 0 was not ready within 1500 ms\n/);
  t.equal(extra(inst(dir, 1))?.service.pid, pids[1], 'instance 1 was not restarted');
  t.equal(extra(inst(dir, 2))?.service.pid, pids[2], 'instance 2 was not restarted');
});

t.test('resize during a roll: new ids start without waiting, removed ids leave the roll', async (t) => {
  const root = serviceRoot(t);
  // why: a settle time of 1.5 s per instance (no notification-fd) keeps the roll going long enough
  const dir = makeService(root, 'web', { run: '#!/bin/sh\nexec sleep 1000\n', instances: '4\n', 'roll-settle': '1500\n' });
  const tsv = await startTsv(t, dir);
  await waitFor(() => poolFile(dir)?.instances.length === 4 && [0, 1, 2, 3].every((i) => status(inst(dir, i))?.state === 'run'), 10_000, '4 instances');
  const before = [0, 1, 2, 3].map((i) => status(inst(dir, i))?.pid);
  // why: the bytes of `tsvctl restart` without its wait (the roll takes longer than its default 7 s)
  control(dir, 'tcu');
  await waitFor(() => poolFile(dir)?.state === 'rolling', 5000, 'the roll');
  writeFileSync(join(dir, 'instances'), '2\n');
  process.kill(tsv.pid, 'SIGHUP');
  await waitFor(() => poolFile(dir)?.state === 'steady' && poolFile(dir)?.instances.length === 2, 15_000, 'the roll to complete over the two left');
  t.equal(poolFile(dir)?.rolls, 1);
  const after = [0, 1].map((i) => status(inst(dir, i))?.pid);
  t.not(after[0], before[0]);
  t.not(after[1], before[1]);
});

t.test('supervisor killed mid-roll: the next one takes over, and never runs an id twice', async (t) => {
  const root = serviceRoot(t);
  const dir = makeService(root, 'web', {
    run: '#!/bin/sh\necho "$TSV_INSTANCE $$" >> starts\nexec sleep 1000\n',
    finish: '#!/bin/sh\necho "finish $TSV_INSTANCE $1" >> finishes\n',
    'control/t': '#!/bin/sh\necho "t $TSV_INSTANCE" >> hooks\nexit 1\n',
    instances: '3\n',
    'roll-settle': '3000\n',
  });
  const tsv = await startTsv(t, dir);
  await waitFor(() => [0, 1, 2].every((i) => status(inst(dir, i))?.state === 'run'), 10_000, '3 instances');
  const old = [0, 1, 2].map((i) => status(inst(dir, i))?.pid as number);
  control(dir, 'tcu');
  await waitFor(() => status(inst(dir, 0))?.pid !== old[0] && status(inst(dir, 0))?.state === 'run', 10_000, 'instance 0 restarted');
  t.equal(poolFile(dir)?.state, 'rolling');
  t.match(readText(join(dir, 'hooks')), /^t 0\n/, 'control/t got the instance id');
  await waitFor(() => readText(join(dir, 'finishes')).includes('finish 0 '), 5000, 'finish of instance 0');
  const mid = [0, 1, 2].map((i) => status(inst(dir, i))?.pid as number);
  process.kill(tsv.pid, 'SIGKILL');
  await tsv.exited;
  t.ok(mid.every(alive), 'the workers (no lifeline) outlive the supervisor');
  const next = await startTsv(t, dir);
  await waitFor(() => [0, 1, 2].every((i) => status(inst(dir, i))?.state === 'run' && !mid.includes(status(inst(dir, i))?.pid as number)), 20_000, '3 fresh instances');
  t.ok(mid.every((p) => !alive(p)), 'every instance the dead supervisor left was stopped first');
  // why: status says run at the spawn, before each run has written its line.
  await waitFor(() => readText(join(dir, 'starts')).trim().split('\n').length >= 7, 10_000, "the fresh instances' lines");
  const starts = readText(join(dir, 'starts')).trim().split('\n');
  // 3 first starts, instance 0's restart in the roll, then 3 after the takeover: 7, never 2 at once
  t.equal(starts.length, 7, starts.join(', '));
  t.match(next.stderr(), /warning: instance \d: /, 'the takeover is reported per instance');
  t.equal(poolFile(dir)?.state, 'steady', 'the new supervisor does not resume the roll (everything was restarted)');
});

t.test('a pool under tsvscan: instances, HUP resizes, tsvctl list shows each instance', async (t) => {
  const root = serviceRoot(t);
  const scan = join(root, 'scan');
  const dir = makeService(scan, 'web', { run: '#!/bin/sh\nexec sleep 1000\n', instances: '2\n' });
  makeService(scan, 'one', { run: '#!/bin/sh\nexec sleep 1000\n' });
  const sc = startScan(t, scan);
  await waitFor(() => poolFile(dir)?.instances.length === 2 && [0, 1].every((i) => status(inst(dir, i))?.state === 'run'), 15_000, '2 instances under tsvscan');
  const p0 = status(inst(dir, 0))?.pid;
  writeFileSync(join(dir, 'instances'), '3\n');
  process.kill(sc.pid, 'SIGHUP');
  await waitFor(() => poolFile(dir)?.instances.length === 3 && status(inst(dir, 2))?.state === 'run', 15_000, 'a third instance after HUP');
  t.equal(status(inst(dir, 0))?.pid, p0, 'instance 0 untouched');
  const list = await run(bin('tsvctl'), ['list', scan], { env: { ...process.env, PATH: testPath(), NO_COLOR: '1' } });
  const lines = list.stdout.trimEnd().split('\n');
  t.match(lines[1], /^one\s+run\s/);
  t.match(lines[2], /^web\s+run\s+\d+\s.*pool 3$/);
  t.match(lines.slice(3), [/^ {2}web@0\s+run\s/, /^ {2}web@1\s+run\s/, /^ {2}web@2\s+run\s/]);
  t.equal(lines.length, 6);
});

t.test('pdeath-signal: the kernel signals every instance when the supervisor dies', async (t) => {
  const root = serviceRoot(t);
  const dir = makeService(root, 'web', { run: '#!/bin/sh\nexec sleep 1000\n', instances: '2\n', 'pdeath-signal': 'TERM\n' });
  const tsv = await startTsv(t, dir);
  await waitFor(() => [0, 1].every((i) => status(inst(dir, i))?.state === 'run'), 10_000, '2 instances');
  const pids = [0, 1].map((i) => status(inst(dir, i))?.pid as number);
  t.ok(pids.every(alive));
  process.kill(tsv.pid, 'SIGKILL');
  await waitFor(() => pids.every((p) => !alive(p)), 10_000, 'both instances to get SIGTERM from the kernel');
  t.pass('both gone');
});

t.test('watch mode on a pool: a change of a watched file is a rolling restart', async (t) => {
  const root = serviceRoot(t);
  const dir = makeService(root, 'web', { run: '#!/bin/sh\nexec sleep 1000\n', instances: '2\n', 'roll-settle': '200\n', 'src/app.js': '1\n', watch: 'src\ndebounce=100\n' });
  await startTsv(t, dir);
  await waitFor(() => [0, 1].every((i) => status(inst(dir, i))?.state === 'run'), 10_000, '2 instances');
  const before = [0, 1].map((i) => status(inst(dir, i))?.pid);
  writeFileSync(join(dir, 'src', 'app.js'), '2\n');
  await waitFor(() => poolFile(dir)?.rolls === 1 && poolFile(dir)?.state === 'steady', 15_000, 'one rolling restart');
  const after = [0, 1].map((i) => status(inst(dir, i))?.pid);
  t.not(after[0], before[0]);
  t.not(after[1], before[1]);
});
