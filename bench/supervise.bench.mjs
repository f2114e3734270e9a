// The supervisor: crash-to-respawn latency of a service that ran more than 1 s (tsv, runit's
// runsv, daemontools' supervise side by side), and the memory (PSS) of one idle supervisor with
// its service (also s6-supervise, for the record).
// How respawn is timed, in one process with one clock: each run writes its pid into a FIFO the
// benchmark holds open (O_RDWR, read through epoll), then execs sleep. The benchmark SIGKILLs
// that pid and stops the clock when the next pid arrives on the FIFO.
import { spawn } from 'node:child_process';
import { mkdirSync, openSync, readFileSync, rmSync, writeFileSync, chmodSync, constants as fsc } from 'node:fs';
import { Socket } from 'node:net';
import { join } from 'node:path';
import { loadavg } from 'node:os';
import { benchDir, bin, ms, pssKiB, stats, table, which } from './lib.mjs';
import { mkfifo } from '../packages/native/dist/index.js';

export const title = 'Supervisor (tsv): crash to respawn, memory';

/** Environment for the supervisors (no test/bench residue). */
function env() {
  const e = { ...process.env };
  delete e.NODE_OPTIONS;
  delete e.TSV_NOFILE;
  return e;
}

/** The supervisors measured, when installed: label, argv (dir appended), and whether the
 * respawn is immediate after a run of more than 1 s (s6 always waits 1 s). */
function supervisors() {
  const out = [{ label: 'tsv', argv: [bin('tsv')], respawn: true }];
  if (which('runsv')) out.push({ label: 'runit runsv', argv: [which('runsv')], respawn: true });
  if (which('supervise')) out.push({ label: 'daemontools supervise', argv: [which('supervise')], respawn: true });
  if (which('s6-supervise')) out.push({ label: 's6-supervise', argv: [which('s6-supervise')], respawn: false });
  return out;
}

/** A service dir whose run reports its pid on the FIFO `ping`, then sleeps. */
function makeService(root, name) {
  const dir = join(root, name);
  mkdirSync(dir);
  writeFileSync(join(dir, 'run'), '#!/bin/sh\necho $$ > ping\nexec sleep 100000\n');
  chmodSync(join(dir, 'run'), 0o755);
  mkfifo(join(dir, 'ping'), 0o600);
  return dir;
}

/** Lines (pids) arriving on dir/ping, with the hrtime of their arrival. */
function listen(dir) {
  const fd = openSync(join(dir, 'ping'), fsc.O_RDWR | fsc.O_NONBLOCK);
  const sock = new Socket({ fd, readable: true, writable: false });
  const waiters = [];
  let buf = '';
  sock.on('data', (d) => {
    const t = process.hrtime.bigint();
    buf += d.toString();
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const pid = Number(buf.slice(0, i));
      buf = buf.slice(i + 1);
      const w = waiters.shift();
      if (w) w({ pid, t });
    }
  });
  return {
    next: () => new Promise((res, rej) => {
      const timer = setTimeout(() => rej(new Error(`no respawn in ${dir}`)), 10_000);
      waiters.push((v) => {
        clearTimeout(timer);
        res(v);
      });
    }),
    close: () => sock.destroy(),
  };
}

const sleep = (msec) => new Promise((r) => setTimeout(r, msec));

/** Kill every process of a supervisor tree we started (its group and the services' groups). */
function killTree(pids) {
  for (const p of pids) {
    for (const target of [-p, p]) {
      try {
        process.kill(target, 'SIGKILL');
      } catch {
        // gone
      }
    }
  }
}

/** tsv's mode as its supervise/tsv.json says (cgroup or session), or 'unknown'. */
function tsvMode(dir) {
  try {
    return JSON.parse(readFileSync(join(dir, 'supervise', 'tsv.json'), 'utf8')).service?.mode ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** Respawn samples (ms), idle PSS (KiB) and tsv's mode for one supervisor. */
async function measure(sup, root, runs) {
  const dir = makeService(root, sup.label.replace(/\W+/g, '-'));
  const ping = listen(dir);
  const child = spawn(sup.argv[0], [...sup.argv.slice(1), dir], { stdio: 'ignore', env: env(), detached: true });
  const seen = [child.pid];
  try {
    let { pid } = await ping.next();
    seen.push(pid);
    await sleep(1500);
    const pss = { supervisor: pssKiB(child.pid), service: pssKiB(pid) };
    const mode = sup.label === 'tsv' ? tsvMode(dir) : undefined;
    const samples = [];
    if (sup.respawn) {
      for (let i = 0; i < runs; i++) {
        await sleep(1100); // the service must have run for more than 1 s
        const next = ping.next();
        const t0 = process.hrtime.bigint();
        process.kill(pid, 'SIGKILL');
        const r = await next;
        samples.push(Number(r.t - t0) / 1e6);
        pid = r.pid;
        seen.push(pid);
      }
    }
    return { samples, pss, mode };
  } finally {
    ping.close();
    killTree(seen);
  }
}

export async function run() {
  const root = benchDir('tsv-bench-sup-');
  const runs = 15;
  try {
    const rows = [];
    const memRows = [];
    let tsvMedian = NaN;
    let runsvMedian = 0;
    let mode = 'unknown';
    for (const sup of supervisors()) {
      const { samples, pss, mode: m } = await measure(sup, root, runs);
      if (m !== undefined) mode = m;
      memRows.push([sup.label, `${pss.supervisor} KiB`, `${pss.service} KiB`]);
      if (!sup.respawn) {
        rows.push([sup.label, 'always waits 1 s before a restart (by design)', '', '']);
        continue;
      }
      const s = stats(samples);
      if (sup.label === 'tsv') tsvMedian = s.median;
      if (sup.label === 'runit runsv') runsvMedian = s.median;
      rows.push([sup.label, ms(s.median), ms(s.p90), ms(s.min)]);
    }
    return [
      `Crash to respawn: the service has run for more than 1 s, gets SIGKILL, and the clock stops when the new run (a \`/bin/sh\` script, the same for every supervisor) reports its pid on a FIFO; ${runs} runs each.`,
      '',
      table(['supervisor', 'median', 'p90', 'min'], rows),
      '',
      `- tsv: ${ms(tsvMedian)} (target <= 6 ms): ${tsvMedian <= 6 ? 'met' : 'NOT met'}${runsvMedian > 0 ? `; runsv in the same run: ${ms(runsvMedian)}` : ''}. Load average at the end: ${loadavg()[0].toFixed(1)} (the time is mostly fork + exec of the new run, which a busy machine stretches for every supervisor alike).`,
      `- tsv ran in ${mode} mode${mode === 'cgroup' ? ' (root, cgroup2 mounted: each run is born in its own cgroup by clone3(CLONE_INTO_CGROUP), no migration; docs/servicedir.md, "cgroups")' : mode === 'session' ? ' (no cgroup: TSV_CGROUP=off, no cgroup2, or no permission)' : ''}.`,
      '',
      'Memory of one idle supervisor and its service (`sleep`), proportional set size from /proc/PID/smaps_rollup, 1.5 s after start:',
      '',
      table(['supervisor', 'PSS of the supervisor', 'PSS of the service'], memRows),
      '',
      'tsv is one Node process per supervised directory; `tsvscan` hosts every supervisor of a directory in one Node process, so the Node cost is paid once, not per service.',
    ].join('\n');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
