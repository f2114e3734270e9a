// A crash storm: 50 services whose run lives ~1.2 s and exits 1, restarted for ever, under
// tsvscan beside runsvdir (runit), s6-svscan (s6) and svscan (daemontools), one after the
// other in the same run. Reported: the supervision's own CPU time (the scanner and, for the
// peers, every per-service supervisor; the services' CPU is not counted: /proc stat fields 14
// and 15 are a process's own time) per minute, and the restart rate actually reached, so CPU is
// compared at the same restart rate.
import { spawn } from 'node:child_process';
import { loadavg } from 'node:os';
import { appendFileSync, chmodSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { benchDir, bin, children, table, which } from './lib.mjs';

export const title = 'Crash storm: 50 services restarting every ~1.2 s (vs runsvdir, s6-svscan, svscan)';

const N = 50;
const RUN_S = 1.2;
const WARM_MS = 5000;
const WINDOW_MS = 30_000;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A scan dir whose services each append one byte to starts, live RUN_S, and exit 1. */
function makeStorm(root) {
  const dir = join(root, 'scan');
  const starts = join(root, 'starts');
  mkdirSync(dir, { recursive: true });
  appendFileSync(starts, '');
  for (let i = 1; i <= N; i++) {
    const svc = join(dir, `c${i}`);
    mkdirSync(svc);
    writeRun(svc, `#!/bin/sh\nprintf x >> ${starts}\nsleep ${RUN_S}\nexit 1\n`);
  }
  return { dir, starts };
}

/** Write an executable run script. */
function writeRun(svc, text) {
  appendFileSync(join(svc, 'run'), text);
  chmodSync(join(svc, 'run'), 0o755);
}

/** Own CPU time (user + system) of pid in ms; 0 when it is gone. */
function cpuMs(pid) {
  try {
    const st = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
    // why: fields 14 and 15 (utime, stime) are the process's own ticks, never its children's.
    return ((Number(f[11]) + Number(f[12])) * 1000) / 100;
  } catch {
    return 0;
  }
}

/** The supervision processes of a scanner: itself, plus its per-service supervisors. */
function supervision(pid, perService) {
  return perService ? [pid, ...children(pid)] : [pid];
}

/** Kill a process group, ignoring its absence. */
function killGroup(pgid) {
  try {
    process.kill(-pgid, 'SIGKILL');
  } catch {
    // gone
  }
}

/** Kill every process whose cwd or arguments are under root (the storm's services). */
function killUnder(root) {
  for (const n of readdirSync('/proc')) {
    if (n.charCodeAt(0) < 48 || n.charCodeAt(0) > 57) continue;
    try {
      if (readFileSync(`/proc/${n}/cmdline`, 'utf8').includes(root)) process.kill(Number(n), 'SIGKILL');
    } catch {
      // gone
    }
  }
}

/** The scanners measured. */
function scanners() {
  const list = [{ name: 'tsvscan', argv: (dir) => [bin('tsvscan'), [dir]], perService: false }];
  // why: the same scanner without cgroups, in the same run, so the cgroup's own share (issue 12)
  // is the difference of two rows measured minutes apart, not of two runs on a noisy machine.
  list.push({ name: 'tsvscan, session mode (TSV_CGROUP=off)', argv: (dir) => [bin('tsvscan'), [dir]], perService: false, env: { TSV_CGROUP: 'off' } });
  if (which('runsvdir') && which('runsv')) list.push({ name: 'runit (runsvdir + runsv)', argv: (dir) => ['runsvdir', [dir]], perService: true });
  if (which('s6-svscan') && which('s6-supervise')) list.push({ name: 's6 (s6-svscan + s6-supervise)', argv: (dir) => ['s6-svscan', [dir]], perService: true });
  if (which('svscan') && which('supervise')) list.push({ name: 'daemontools (svscan + supervise)', argv: (dir) => ['svscan', [dir]], perService: true });
  return list;
}

/** One storm: CPU of the supervision and restarts over WINDOW_MS after WARM_MS. */
async function storm(sc) {
  const root = benchDir('tsv-bench-storm-');
  const { dir, starts } = makeStorm(root);
  const [cmd, args] = sc.argv(dir);
  const child = spawn(cmd, args, { stdio: 'ignore', cwd: dir, detached: true, env: { ...process.env, ...(sc.env ?? {}) } });
  try {
    await sleep(WARM_MS);
    const pids0 = supervision(child.pid, sc.perService);
    const cpu0 = pids0.reduce((a, p) => a + cpuMs(p), 0);
    const n0 = statSync(starts).size;
    const t0 = Date.now();
    await sleep(WINDOW_MS);
    const pids1 = supervision(child.pid, sc.perService);
    // why: a supervisor that was not there at the start counts from 0; one gone counts nothing.
    const cpu1 = pids1.reduce((a, p) => a + cpuMs(p), 0);
    const n1 = statSync(starts).size;
    const mins = (Date.now() - t0) / 60_000;
    return { name: sc.name, cpuPerMin: (cpu1 - cpu0) / 1000 / mins, restartsPerMin: (n1 - n0) / mins, perRestartMs: (cpu1 - cpu0) / Math.max(1, n1 - n0) };
  } finally {
    const sups = supervision(child.pid, sc.perService);
    killGroup(child.pid);
    for (const p of sups) killGroup(p);
    killUnder(root);
  }
}

export async function run() {
  const rows = [];
  for (const sc of scanners()) {
    process.stderr.write(`bench: storm: ${sc.name}\n`);
    rows.push(await storm(sc));
  }
  const tsv = rows[0];
  const session = rows[1];
  const runit = rows.find((r) => r.name.startsWith('runit'));
  const lines = [
    `${N} services, each \`printf x >> starts; sleep ${RUN_S}; exit 1\`, restarted as fast as each supervisor does (a run that lived over a second is restarted at once by all of them). CPU is the supervision's own (scanner plus per-service supervisors; services not counted), over ${WINDOW_MS / 1000} s after ${WARM_MS / 1000} s of warm-up, one scanner at a time.`,
    '',
    table(
      ['supervision', 'CPU s per minute', 'restarts per minute', 'CPU per restart'],
      rows.map((r) => [r.name, r.cpuPerMin.toFixed(2), r.restartsPerMin.toFixed(0), `${r.perRestartMs.toFixed(2)} ms`]),
    ),
  ];
  if (runit !== undefined) {
    const met = tsv.perRestartMs <= runit.perRestartMs;
    lines.push('', `- target (issue 10): crash-storm CPU at or below runit's at the same restart rate: tsvscan ${tsv.perRestartMs.toFixed(2)} ms per restart, runit ${runit.perRestartMs.toFixed(2)} ms: ${met ? 'met' : 'NOT met'}`);
  }
  lines.push(`- the cgroup's share (issue 12): tsvscan ${tsv.perRestartMs.toFixed(2)} ms per restart in cgroup mode, ${session.perRestartMs.toFixed(2)} ms in session mode (${(tsv.perRestartMs - session.perRestartMs).toFixed(2)} ms)`);
  lines.push(`- load average (1 min) at the end: ${loadavg()[0].toFixed(1)}; run to run this bench varies by up to 2x on a shared 2-core machine`);
  return lines.join('\n');
}
