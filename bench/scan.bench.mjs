// tsvscan against runsvdir (runit), s6-svscan (s6) and svscan (daemontools): memory per service
// and fixed cost (PSS), time until 1000 services run, idle wakeups with 100 services up, and the
// duplicate test (SIGKILL the scanner and its supervisors, start it again, count instances).
// Services are `exec sleep N` (N unique per case, so instances are counted from /proc).
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchDir, bin, children, fsType, table, which } from './lib.mjs';

export const title = 'tsvscan: many services in one process (vs runsvdir, s6-svscan, svscan)';

const N_BIG = 1000;
/** Rounds of the 1000-service start/stop measure, the scanners interleaved (so a change in the
 * machine's load hits each alike); min, median and max are reported. */
const START_STOP_ROUNDS = 3;
const N_IDLE = 100;
const N_DUP = 5;
const IDLE_WINDOW_MS = 20_000;
const SETTLE_MS = 2000;
const IDLE_SETTLE_MS = 60_000;
/** When a Node scanner's memory is taken again: V8 collects the start-up burst's garbage in a few
 * delayed rounds (its memory reducer) within the first ~30 s; the later figure is the steady one. */
const STEADY_MS = 40_000;

let markSeq = 0;
/** A sleep argument unique to this run and case. */
function newMark() {
  markSeq += 1;
  return String(300_000_000 + (process.pid % 100_000) * 100 + markSeq);
}

/** Wait until cond() is true (checked every stepMs); false on timeout. */
async function waitUntil(cond, timeoutMs, stepMs = 20) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (cond()) return true;
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A scan dir with n services; each run marks itself in up/ then execs `sleep mark`. */
function makeScanDir(root, n, mark) {
  const dir = join(root, 'scan');
  const up = join(root, 'up');
  mkdirSync(dir, { recursive: true });
  mkdirSync(up, { recursive: true });
  for (let i = 1; i <= n; i++) {
    const svc = join(dir, `s${i}`);
    mkdirSync(svc);
    writeFileSync(join(svc, 'run'), `#!/bin/sh\n: > ${up}/s${i}\nexec sleep ${mark}\n`);
    chmodSync(join(svc, 'run'), 0o755);
  }
  return { dir, up };
}

/** Live pids running `sleep mark`. */
function sleepers(mark) {
  const out = [];
  for (const n of readdirSync('/proc')) {
    if (n.charCodeAt(0) < 48 || n.charCodeAt(0) > 57) continue;
    try {
      const argv = readFileSync(`/proc/${n}/cmdline`, 'utf8').split('\0');
      if (argv[1] !== mark || !/(^|\/)sleep$/.test(argv[0])) continue;
      const st = readFileSync(`/proc/${n}/stat`, 'utf8');
      if (st.slice(st.lastIndexOf(')') + 2, st.lastIndexOf(')') + 3) !== 'Z') out.push(Number(n));
    } catch {
      // gone
    }
  }
  return out;
}

/** CPU seconds (user + system) pid has used itself (not its children), 0 when gone. */
function cpuOf(pid) {
  try {
    const st = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return 0;
  }
}

/** PSS in KiB (smaps_rollup). */
function pss(pid) {
  try {
    const m = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8').match(/^Pss:\s+(\d+) kB/m);
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** Voluntary + involuntary context switches of every thread of pid. */
function ctxt(pid) {
  let sum = 0;
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const s = readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8');
      for (const m of s.matchAll(/ctxt_switches:\s+(\d+)/g)) sum += Number(m[1]);
    }
  } catch {
    // gone
  }
  return sum;
}

function kill(pid, sig = 'SIGKILL') {
  try {
    process.kill(pid, sig);
  } catch {
    // gone
  }
}

/** The scanners measured: how to start one on a dir, and which pids are its supervision. */
function scanners() {
  const list = [
    {
      name: 'tsvscan',
      // why: raise the soft NOFILE first: 1000 services hold ~4000 descriptors.
      argv: (dir) => ['sh', ['-c', 'ulimit -Sn "$(ulimit -Hn)"; exec "$0" "$@"', bin('tsvscan'), dir]],
      supervisors: () => [],
      // TERM: every service is stopped, then tsvscan exits
      stop: (pid) => kill(pid, 'SIGTERM'),
    },
  ];
  if (which('runsvdir') && which('runsv')) list.push({ name: 'runit (runsvdir + runsv)', argv: (dir) => ['runsvdir', [dir]], supervisors: (pid) => children(pid), stop: (pid) => kill(pid, 'SIGHUP') });
  if (which('s6-svscan') && which('s6-supervise')) list.push({ name: 's6 (s6-svscan + s6-supervise)', argv: (dir) => ['s6-svscan', ['-c', String(2 * N_BIG), dir]], supervisors: (pid) => children(pid), stop: (pid) => kill(pid, 'SIGTERM') });
  if (which('svscan') && which('supervise')) list.push({ name: 'daemontools (svscan + supervise)', argv: (dir) => ['svscan', [dir]], supervisors: (pid) => children(pid) });
  return list;
}

const started = [];
/** Start a scanner (its stdio ignored). */
function startScanner(sc, dir) {
  const [cmd, args] = sc.argv(dir);
  const child = spawn(cmd, args, { stdio: 'ignore', cwd: dir });
  started.push(child.pid);
  return child.pid;
}

/** SIGKILL a scanner, its supervisors, and the services of mark. */
function stopAll(pid, sc, mark) {
  const sups = sc.supervisors(pid);
  kill(pid);
  for (const s of sups) kill(s);
  for (const p of sleepers(mark)) kill(p);
}

/** Time to all n services up, then supervision PSS. */
async function bigRun(sc, n) {
  const root = benchDir('tsv-bench-scan-');
  const mark = newMark();
  const { dir, up } = makeScanDir(root, n, mark);
  const t0 = process.hrtime.bigint();
  const pid = startScanner(sc, dir);
  const ok = await waitUntil(() => readdirSync(up).length >= n, 180_000, 10);
  const upMs = Number(process.hrtime.bigint() - t0) / 1e6;
  await sleep(SETTLE_MS);
  const sups = sc.supervisors(pid);
  const scannerPss = pss(pid);
  const supPss = sups.reduce((a, p) => a + pss(p), 0);
  let steadyPss;
  if (sc.name === 'tsvscan') {
    await sleep(STEADY_MS - SETTLE_MS);
    steadyPss = pss(pid);
  }
  stopAll(pid, sc, mark);
  await waitUntil(() => sleepers(mark).length === 0, 20_000);
  rmSync(root, { recursive: true, force: true });
  return { ok, upMs, scannerPss, supPss, steadyPss, nSup: sups.length };
}

/** One round: time and CPU (scanner + supervisors) until all n services run, then the time
 * from the scanner's stop signal until none of them runs (runsvdir: HUP, which TERMs every
 * runsv, each stopping its service; tsvscan and s6-svscan: TERM). */
async function startStop(sc, n, base) {
  const root = base === undefined ? benchDir('tsv-bench-scan-') : mkdtempSync(join(base, 'tsv-bench-scan-'));
  const mark = newMark();
  const { dir, up } = makeScanDir(root, n, mark);
  const t0 = process.hrtime.bigint();
  const pid = startScanner(sc, dir);
  const ok = await waitUntil(() => readdirSync(up).length >= n, 180_000, 10);
  const upMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const cpuS = cpuOf(pid) + sc.supervisors(pid).reduce((a, p) => a + cpuOf(p), 0);
  await waitUntil(() => sleepers(mark).length >= n, 20_000);
  const t1 = process.hrtime.bigint();
  sc.stop(pid);
  const stopped = await waitUntil(() => sleepers(mark).length === 0, 120_000, 10);
  const stopMs = Number(process.hrtime.bigint() - t1) / 1e6;
  stopAll(pid, sc, mark);
  await waitUntil(() => sleepers(mark).length === 0, 20_000);
  rmSync(root, { recursive: true, force: true });
  return { ok: ok && stopped, upMs, cpuS, stopMs };
}

/** min / median / max of xs, formatted by f. */
/** The median of xs (the upper one of an even count). */
function median(xs) {
  return [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
}

/** The median (min to max) of xs, each formatted by f. */
function spread(xs, f) {
  const v = [...xs].sort((a, b) => a - b);
  return `${f(median(v))} (${f(v[0])} to ${f(v.at(-1))})`;
}

/** PSS of tsvscan with no service (the fixed cost) and of an idle `node` (the floor). */
async function fixedCost() {
  const root = benchDir('tsv-bench-scan-');
  mkdirSync(join(root, 'scan'));
  const sc = scanners()[0];
  const pid = startScanner(sc, join(root, 'scan'));
  const floor = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1e9)'], { stdio: 'ignore' });
  started.push(floor.pid);
  await sleep(SETTLE_MS);
  const early = pss(pid);
  await sleep(STEADY_MS - SETTLE_MS);
  const r = { early, tsvscan: pss(pid), floor: pss(floor.pid) };
  kill(pid);
  kill(floor.pid);
  rmSync(root, { recursive: true, force: true });
  return r;
}

/** Context switches over a window, all scanners with N_IDLE services up at once. */
async function idle(list) {
  const runs = [];
  for (const sc of list) {
    const root = benchDir('tsv-bench-scan-');
    const mark = newMark();
    const { dir, up } = makeScanDir(root, N_IDLE, mark);
    runs.push({ sc, root, mark, up, pid: startScanner(sc, dir) });
  }
  for (const r of runs) r.ok = await waitUntil(() => readdirSync(r.up).length >= N_IDLE, 60_000);
  // why: V8's memory reducer runs a few delayed GC rounds in the first ~50 s after the start-up
  // burst (tsvscan itself sets no timer); the window measures the steady state that follows.
  await sleep(IDLE_SETTLE_MS);
  const count = (r) => ctxt(r.pid) + r.sc.supervisors(r.pid).reduce((a, p) => a + ctxt(p), 0);
  for (const r of runs) r.c0 = count(r);
  await sleep(IDLE_WINDOW_MS);
  for (const r of runs) r.c1 = count(r);
  for (const r of runs) {
    stopAll(r.pid, r.sc, r.mark);
    await waitUntil(() => sleepers(r.mark).length === 0, 20_000);
    rmSync(r.root, { recursive: true, force: true });
  }
  return runs.map((r) => ({ name: r.sc.name, ok: r.ok, perMin: ((r.c1 - r.c0) * 60_000) / IDLE_WINDOW_MS }));
}

/** SIGKILL scanner + supervisors with N_DUP services up, restart, count instances. */
async function duplicates(list) {
  const runs = [];
  for (const sc of list) {
    const root = benchDir('tsv-bench-scan-');
    const mark = newMark();
    const { dir } = makeScanDir(root, N_DUP, mark);
    runs.push({ sc, root, mark, dir, pid: startScanner(sc, dir) });
  }
  for (const r of runs) await waitUntil(() => sleepers(r.mark).length === N_DUP, 30_000);
  for (const r of runs) {
    r.before = sleepers(r.mark);
    const sups = r.sc.supervisors(r.pid);
    kill(r.pid);
    for (const s of sups) kill(s);
  }
  await sleep(200);
  for (const r of runs) {
    r.survivors = r.before.filter((p) => sleepers(r.mark).includes(p)).length;
    r.pid = startScanner(r.sc, r.dir);
  }
  for (const r of runs) {
    // a takeover ends with the old instances gone and new ones up; a peer ends with 2 x N_DUP
    await waitUntil(() => {
      const now = sleepers(r.mark);
      const fresh = now.filter((p) => !r.before.includes(p)).length;
      return fresh >= N_DUP && (now.length >= 2 * N_DUP || now.every((p) => !r.before.includes(p)));
    }, 20_000, 50);
    await sleep(500);
    r.after = sleepers(r.mark).length;
  }
  for (const r of runs) {
    stopAll(r.pid, r.sc, r.mark);
    await waitUntil(() => sleepers(r.mark).length === 0, 20_000);
    rmSync(r.root, { recursive: true, force: true });
  }
  return runs.map((r) => ({ name: r.sc.name, survivors: r.survivors, after: r.after, doubled: Math.max(0, r.after - N_DUP) }));
}

export async function run() {
  const list = scanners();
  const out = [];
  const loadAtStart = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  try {
    const fixed = await fixedCost();
    const big = [];
    for (const sc of list.filter((s) => !s.name.startsWith('daemontools'))) big.push({ name: sc.name, ...(await bigRun(sc, N_BIG)) });
    const startList = list.filter((s) => !s.name.startsWith('daemontools'));
    const rounds = new Map(startList.map((sc) => [sc.name, []]));
    for (let i = 0; i < START_STOP_ROUNDS; i++) for (const sc of startList) rounds.get(sc.name).push(await startStop(sc, N_BIG));
    // why tmpfs too: on the temp dir's disk (ext4 without a journal here) each create's cost
    // depends on what was deleted in the minutes before, which one scanner's round leaves to the
    // next; on tmpfs no file costs more than another: the supervisors' own work alone.
    const shmList = fsType('/dev/shm') === 'tmpfs' ? startList.filter((s) => s.name === 'tsvscan' || s.name.startsWith('runit')) : [];
    const shmRounds = new Map(shmList.map((sc) => [sc.name, []]));
    for (let i = 0; i < START_STOP_ROUNDS; i++) for (const sc of shmList) shmRounds.get(sc.name).push(await startStop(sc, N_BIG, '/dev/shm'));
    const idleRuns = await idle(list.filter((s) => !s.name.startsWith('daemontools')));
    const dup = await duplicates(list);
    const kib = (x) => `${Math.round(x).toLocaleString('en-US')} KiB`;
    const t = big[0];
    out.push(`Services are \`exec sleep N\`; each run script first marks itself in a directory, so "all up" means every run script has started. Scan directories live in ${tmpdir()} (the OS temp dir). tsvscan is started with its soft NOFILE raised to the hard limit (1000 services hold ~4 descriptors each).`);
    const marginalEarly = (t.scannerPss - fixed.early) / N_BIG;
    const marginal = (t.steadyPss - fixed.tsvscan) / N_BIG;
    out.push(`### Memory (PSS) and start-up with ${N_BIG} services\n\n${table(
      ['supervision', 'processes', `PSS at n = ${N_BIG}, ${SETTLE_MS / 1000} s after all run`, `steady (${STEADY_MS / 1000} s after)`, 'per service', `time until all ${N_BIG} run`],
      big.map((b) => [
        b.name,
        b.name === 'tsvscan' ? '1' : String(1 + b.nSup),
        kib(b.scannerPss + b.supPss),
        b.steadyPss === undefined ? '(no garbage collector: same)' : kib(b.steadyPss),
        b.name === 'tsvscan' ? `${kib(marginal)} (marginal, steady)` : `${kib(b.supPss / Math.max(1, b.nSup))} (one supervisor)`,
        b.ok ? `${(b.upMs / 1000).toFixed(2)} s` : `not all up after ${(b.upMs / 1000).toFixed(0)} s`,
      ]),
    )}\n\ntsvscan fixed cost (no service): ${kib(fixed.tsvscan)} steady (${kib(fixed.early)} ${SETTLE_MS / 1000} s after start); floor (an idle \`node\`): ${kib(fixed.floor)}. Marginal cost per service = (PSS at n = ${N_BIG} − PSS with none) / ${N_BIG} = ${kib(marginal)} at steady state (target ≤ 50 KiB: ${marginal <= 50 ? 'met' : 'NOT met'}), ${kib(marginalEarly)} ${SETTLE_MS / 1000} s after the start-up burst, before V8 has collected its garbage; fixed cost target ≤ 50 MiB: ${fixed.tsvscan <= 50 * 1024 ? 'met' : 'NOT met'}.`);
    const secs = (ms) => `${(ms / 1000).toFixed(2)} s`;
    const cpus = (x) => `${x.toFixed(2)} s`;
    const startTable = (list, byName) => table(
      ['supervision', `start of ${N_BIG}`, 'CPU to start', `stop of ${N_BIG}`],
      list.map((sc) => {
        const r = byName.get(sc.name);
        const bad = r.filter((x) => !x.ok).length;
        return [sc.name, spread(r.map((x) => x.upMs), secs) + (bad ? ` (${bad} incomplete)` : ''), spread(r.map((x) => x.cpuS), cpus), spread(r.map((x) => x.stopMs), secs)];
      }),
    );
    /** The target lines (issue 10): tsvscan's start and stop medians at or below runsvdir's. */
    const targets = (byName, where) => {
      const ts = byName.get('tsvscan');
      const rk = [...byName.keys()].find((k) => k.startsWith('runit'));
      if (ts === undefined || rk === undefined) return '';
      const rs = byName.get(rk);
      const line = (what, key) => {
        const a = median(ts.map((x) => x[key]));
        const b = median(rs.map((x) => x[key]));
        return `- target (issue 10), ${where}: ${what} of ${N_BIG} at or below runsvdir's: tsvscan ${secs(a)}, runit ${secs(b)}: ${a <= b ? 'met' : 'NOT met'}`;
      };
      return `\n\n${line('start', 'upMs')}\n${line('stop', 'stopMs')}`;
    };
    out.push(`### Start and stop of ${N_BIG} services, ${START_STOP_ROUNDS} rounds\n\nEach round starts every scanner on a fresh directory of ${N_BIG} services, in turn (the scanners interleaved, so a change in the machine's load hits each alike). *Start*: from the scanner's spawn until every run script has started; *CPU*: user + system time of the scanner and its supervisor processes at that moment (not the services'); *stop*: from the stop signal (tsvscan: TERM; runsvdir: HUP, which TERMs every runsv; s6-svscan: TERM) until no service runs. Median (min to max) of the rounds. The load average when the measure began: ${loadAtStart}.\n\nScan directories in ${tmpdir()} (${fsType(tmpdir())}):\n\n${startTable(startList, rounds)}${targets(rounds, `in ${tmpdir()} (${fsType(tmpdir())})`)}${
      shmList.length === 0 ? '' : `\n\nScan directories in /dev/shm (tmpfs), tsvscan and runit only:\n\n${startTable(shmList, shmRounds)}${targets(shmRounds, 'in /dev/shm (tmpfs)')}`
    }`);
    out.push(`### Idle wakeups with ${N_IDLE} services up\n\nVoluntary + involuntary context switches of the scanner and all its supervisor processes (every thread), counted over ${IDLE_WINDOW_MS / 1000} s (starting ${IDLE_SETTLE_MS / 1000} s after all services are up, once V8's memory reducer has finished its few delayed GC rounds after the start-up burst) with all scanners running side by side, extrapolated to 60 s. runsvdir wakes every 5 s to poll the directory; tsvscan and s6-svscan wait for events.\n\n${table(
      ['supervision', 'context switches per 60 s'],
      idleRuns.map((r) => [r.name, r.ok ? String(Math.round(r.perMin)) : 'not all up']),
    )}`);
    out.push(`### Duplicates after SIGKILL of the scanner and its supervisors\n\n${N_DUP} services up; SIGKILL the scanner and every supervisor process (the services survive), start the scanner again, count the instances of the services.\n\n${table(
      ['supervision', 'services surviving the SIGKILL', 'instances after restart', 'services doubled'],
      dup.map((d) => [d.name, `${d.survivors} of ${N_DUP}`, String(d.after), `${d.doubled} of ${N_DUP}`]),
    )}`);
  } finally {
    for (const p of started) kill(p);
  }
  return out.join('\n\n');
}
