// Worker pools: PSS per additional instance under tsvscan (a pool of `sleep` resized 1 -> 33 by
// HUP), and the time of a rolling restart of 8 ready-fd HTTP workers (test/fixtures/
// pool-worker.mjs) with `tsvctl -w restart`, beside 8 runit services of the same worker
// restarted one by one with `sv -w`, and beside PM2's cluster-mode reload of 8 workers when PM2
// installs from npm (into a temp prefix, never a project dependency).
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { benchDir, bin, pssKiB, ROOT, table, which } from './lib.mjs';

export const title = 'Worker pools: memory per instance, rolling restart of 8 HTTP workers (vs sv -w one by one, PM2 reload)';

const WORKER = join(ROOT, 'test', 'fixtures', 'pool-worker.mjs');
const N = 8;
const ROUNDS = 3;
const PM2_PREFIX = '/tmp/tsv-bench-pm2';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Wait until cond() (checked every 20 ms); throws after timeoutMs. */
async function until(cond, timeoutMs, what) {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** n free ports. */
async function freePorts(n) {
  const servers = await Promise.all(Array.from({ length: n }, () => new Promise((res) => { const s = net.createServer(); s.listen(0, '127.0.0.1', () => res(s)); })));
  const ports = servers.map((s) => s.address().port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

/** The pool's pool.json, or undefined. */
function poolFile(dir) {
  try {
    return JSON.parse(readFileSync(join(dir, 'supervise', 'pool.json'), 'utf8'));
  } catch {
    return undefined;
  }
}

/** Instance id's tsv.json service record, or undefined. */
function inst(dir, id) {
  try {
    return JSON.parse(readFileSync(join(dir, 'supervise', 'instance', String(id), 'tsv.json'), 'utf8')).service;
  } catch {
    return undefined;
  }
}

/** Every instance 0..n-1 up (and ready when ready). */
function allUp(dir, n, ready) {
  const p = poolFile(dir);
  if (p?.instances.length !== n) return false;
  for (let i = 0; i < n; i++) {
    const s = inst(dir, i);
    if (s?.state !== 'run' || (ready && s.ready !== true)) return false;
  }
  return true;
}

/** PSS of tsvscan with a pool of 1, then of 33 instances: KiB per additional instance. */
async function pssPerInstance() {
  const root = benchDir('tsv-bench-pool-');
  const scan = join(root, 'scan');
  const dir = join(scan, 'pool');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'run'), '#!/bin/sh\nexec sleep 100000\n');
  chmodSync(join(dir, 'run'), 0o755);
  writeFileSync(join(dir, 'instances'), '1\n');
  const sc = spawn(bin('tsvscan'), [scan], { stdio: 'ignore' });
  try {
    await until(() => allUp(dir, 1, false), 20_000, 'one instance');
    await sleep(3000);
    const one = pssKiB(sc.pid);
    writeFileSync(join(dir, 'instances'), '33\n');
    sc.kill('SIGHUP');
    await until(() => allUp(dir, 33, false), 30_000, '33 instances');
    await sleep(3000);
    const many = pssKiB(sc.pid);
    return { one, many, per: (many - one) / 32 };
  } finally {
    sc.kill('SIGTERM');
    await new Promise((r) => sc.on('exit', r));
    rmSync(root, { recursive: true, force: true });
  }
}

/** ms of `tsvctl -w 60 restart ./web` over a pool of N ready-fd HTTP workers, ROUNDS times. */
async function tsvRoll() {
  const root = benchDir('tsv-bench-roll-');
  const dir = join(root, 'web');
  mkdirSync(dir);
  writeFileSync(join(dir, 'run'), '#!/bin/sh\nexec node ./worker.mjs\n');
  chmodSync(join(dir, 'run'), 0o755);
  writeFileSync(join(dir, 'instances'), `${N}\n`);
  writeFileSync(join(dir, 'notification-fd'), '3\n');
  writeFileSync(join(dir, 'ports'), `${(await freePorts(N)).join('\n')}\n`);
  copyFileSync(WORKER, join(dir, 'worker.mjs'));
  const tsv = spawn(bin('tsv'), ['./web'], { cwd: root, stdio: 'ignore' });
  const out = [];
  try {
    await until(() => allUp(dir, N, true), 30_000, `${N} ready workers`);
    for (let i = 0; i < ROUNDS; i++) {
      const t0 = process.hrtime.bigint();
      const r = spawnSync(bin('tsvctl'), ['-w', '60', 'restart', './web'], { cwd: root, encoding: 'utf8' });
      out.push(Number(process.hrtime.bigint() - t0) / 1e6);
      if (r.status !== 0) throw new Error(`tsvctl restart: ${r.stdout}${r.stderr}`);
    }
  } finally {
    tsv.kill('SIGTERM');
    await new Promise((r) => tsv.on('exit', r));
    rmSync(root, { recursive: true, force: true });
  }
  return out;
}

/** ms of `sv -w 60 restart` of N runsv services of the same worker, one after the other. */
async function runitRoll() {
  const root = benchDir('tsv-bench-sv-');
  const ports = await freePorts(N);
  const runsvs = [];
  const dirs = [];
  for (let i = 0; i < N; i++) {
    const dir = join(root, `web${i}`);
    mkdirSync(dir);
    // why: runsv has no readiness protocol: sv -w waits for `run` only
    writeFileSync(join(dir, 'run'), `#!/bin/sh\nTSV_INSTANCE=${i} exec node ./worker.mjs 3>&-\n`);
    chmodSync(join(dir, 'run'), 0o755);
    writeFileSync(join(dir, 'ports'), `${ports.join('\n')}\n`);
    copyFileSync(WORKER, join(dir, 'worker.mjs'));
    dirs.push(dir);
    runsvs.push(spawn('runsv', [dir], { stdio: 'ignore' }));
  }
  const out = [];
  try {
    await until(() => dirs.every((d) => existsSync(join(d, `started-${dirs.indexOf(d)}`))), 30_000, 'runit workers');
    for (let r = 0; r < ROUNDS; r++) {
      const t0 = process.hrtime.bigint();
      for (const d of dirs) {
        const x = spawnSync('sv', ['-w', '60', 'restart', d], { encoding: 'utf8' });
        if (x.status !== 0) throw new Error(`sv restart: ${x.stdout}${x.stderr}`);
      }
      out.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
  } finally {
    for (const d of dirs) spawnSync('sv', ['-w', '10', 'exit', d]);
    for (const p of runsvs) p.kill('SIGKILL');
    rmSync(root, { recursive: true, force: true });
  }
  return out;
}

/** ms of `pm2 reload` of an 8-worker cluster app (wait-ready), or a reason it was skipped. */
async function pm2Roll() {
  let pm2 = join(PM2_PREFIX, 'node_modules', '.bin', 'pm2');
  if (!existsSync(pm2)) {
    const r = spawnSync('npm', ['i', '--prefix', PM2_PREFIX, 'pm2'], { encoding: 'utf8', timeout: 180_000 });
    if (r.status !== 0 || !existsSync(pm2)) return `PM2 did not install from npm (${(r.stderr || r.error?.message || '').trim().split('\n').pop()})`;
  }
  const version = spawnSync(pm2, ['--version'], { encoding: 'utf8' }).stdout.trim().split('\n').pop();
  const root = benchDir('tsv-bench-pm2-');
  const env = { ...process.env, PM2_HOME: join(root, 'home') };
  const [port] = await freePorts(1);
  const app = join(root, 'app.cjs');
  // why: the same worker's job (answer, stop gracefully); cluster mode shares one port, and
  // process.send('ready') is PM2's readiness (--wait-ready), as fd 3 is tsv's.
  writeFileSync(app, `const http=require('http');const s=http.createServer((q,r)=>{r.setHeader('connection','close');r.end(process.env.NODE_APP_INSTANCE+'\\n')});s.listen(${port},'127.0.0.1',()=>process.send&&process.send('ready'));process.on('SIGINT',()=>s.close(()=>process.exit(0)));\n`);
  const out = [];
  try {
    const st = spawnSync(pm2, ['start', app, '-i', String(N), '--name', 'web', '--wait-ready', '--listen-timeout', '20000'], { env, encoding: 'utf8', timeout: 120_000 });
    if (st.status !== 0) return `pm2 start failed: ${st.stderr.trim().split('\n').pop()}`;
    for (let r = 0; r < ROUNDS; r++) {
      const t0 = process.hrtime.bigint();
      const x = spawnSync(pm2, ['reload', 'web', '--wait-ready', '--listen-timeout', '20000'], { env, encoding: 'utf8', timeout: 120_000 });
      out.push(Number(process.hrtime.bigint() - t0) / 1e6);
      if (x.status !== 0) return `pm2 reload failed: ${x.stderr.trim().split('\n').pop()}`;
    }
  } finally {
    spawnSync(pm2, ['kill'], { env, timeout: 60_000 });
    rmSync(root, { recursive: true, force: true });
  }
  return { version, out };
}

const fmt = (xs) => `${Math.min(...xs).toFixed(0)} / ${[...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)].toFixed(0)} / ${Math.max(...xs).toFixed(0)} ms`;

export async function run() {
  const load = loadavg()[0].toFixed(1);
  const mem = await pssPerInstance();
  const rows = [];
  rows.push([`tsv pool of ${N}: \`tsvctl -w 60 restart ./web\` (one at a time, each ready again on fd 3)`, fmt(await tsvRoll())]);
  if (which('runsv') && which('sv')) rows.push([`${N} runsv services: \`sv -w 60 restart\` each, one after the other (no readiness: up only)`, fmt(await runitRoll())]);
  else rows.push(['runit', 'not installed']);
  const pm = await pm2Roll();
  if (typeof pm === 'string') rows.push(['PM2 cluster reload', `skipped: ${pm}`]);
  else rows.push([`PM2 ${pm.version} cluster mode, ${N} workers: \`pm2 reload web --wait-ready\``, fmt(pm.out)]);
  return `PSS of tsvscan hosting one pool: ${mem.one} KiB with 1 instance, ${mem.many} KiB with 33 (resized by HUP): **${mem.per.toFixed(1)} KiB per additional instance** (the supervisor's side: its Slot, supervise/instance/ID/ fds and status writes; each instance's own process is \`sleep\`).

Rolling restart of ${N} HTTP workers (test/fixtures/pool-worker.mjs: Node, listen, ready), ${ROUNDS} rounds, min / median / max:

${table(['what', 'time'], rows)}

A roll is bounded below by ${N} sequential Node start-ups. tsv's figure includes waiting for readiness (the worker listens); sv -w waits for \`run\` only, so it can report before the worker listens; PM2's reload waits for \`process.send('ready')\`. Timing on a 2-core machine shared with other jobs (1-minute load average at the start: ${load}): noisy.
`;
}
