// Stop of a service with 100 processes (run and 99 children it started in the background), timed
// from the `d` control byte to the moment no process of the service is left, under tsv (cgroup
// mode: `cgroup.kill` ends what run does not; session mode beside it), runit's runsv and
// s6-supervise. Two services: `polite`, whose run kills its children on TERM (every supervisor
// can stop it), and `stray`, whose children are setsid'd daemons that ignore TERM (only a
// supervisor that knows them all can stop it: tsv in cgroup mode, after timeout-kill = 100 ms).
import { spawn } from 'node:child_process';
import { chmodSync, closeSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync, writeSync, constants as fsc } from 'node:fs';
import { join } from 'node:path';
import { loadavg } from 'node:os';
import { benchDir, bin, ms, stats, table, which } from './lib.mjs';

export const title = 'Stop of a service with 100 processes (tsv cgroup/session vs runsv, s6-supervise)';

const sleep = (t) => new Promise((r) => setTimeout(r, t));
const CHILDREN = 99;

/** run scripts: polite (kills its children on TERM) and stray (setsid'd children ignore TERM). */
const RUNS = {
  polite: `#!/bin/sh\npids=''\ni=0\nwhile [ $i -lt ${CHILDREN} ]; do sleep 100000 & pids="$pids $!"; i=$((i+1)); done\ntrap 'kill $pids; exit 0' TERM\necho $$ $pids > pids.new && mv pids.new pids\nwait\n`,
  stray: `#!/bin/sh\ni=0\nwhile [ $i -lt ${CHILDREN} ]; do setsid sh -c 'trap "" TERM; exec sleep 100001' & i=$((i+1)); done\nwhile [ $(pgrep -c -f '^sleep 100001') -lt ${CHILDREN} ]; do sleep 0.05; done\n{ pgrep -f '^sleep 100001' | tr '\\n' ' '; echo $$; } > pids.new; mv pids.new pids\nexec sleep 100000\n`,
};

/** Is pid a live (non-zombie) process? */
function live(pid) {
  try {
    const st = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const s = st[st.lastIndexOf(')') + 2];
    return s !== 'Z' && s !== 'X';
  } catch {
    return false;
  }
}

/** Wait for cond (checked every ms) or throw after ms. */
async function until(cond, limit, what) {
  const end = Date.now() + limit;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await sleep(1);
  }
}

/** The pids the run wrote, or []. */
function pidsOf(dir) {
  try {
    return readFileSync(join(dir, 'pids'), 'utf8').trim().split(/\s+/).map(Number).filter((n) => n > 0);
  } catch {
    return [];
  }
}

/** One stop: start the supervisor, wait for 100 processes, send d, time until none is live. */
async function once(sup, root, kind, i) {
  const dir = join(root, `${sup.key}-${kind}-${i}`);
  mkdirSync(dir);
  writeFileSync(join(dir, 'run'), RUNS[kind]);
  chmodSync(join(dir, 'run'), 0o755);
  writeFileSync(join(dir, 'timeout-kill'), '100\n');
  const env = { ...process.env, ...sup.env };
  delete env.NODE_OPTIONS;
  const child = spawn(sup.argv[0], [...sup.argv.slice(1), dir], { stdio: 'ignore', env, detached: true });
  try {
    await until(() => pidsOf(dir).length >= CHILDREN + 1, 20_000, `${sup.label} ${kind}: 100 processes`);
    const pids = pidsOf(dir);
    const t0 = process.hrtime.bigint();
    const fd = openSync(join(dir, 'supervise', 'control'), fsc.O_WRONLY | fsc.O_NONBLOCK);
    writeSync(fd, 'd');
    closeSync(fd);
    try {
      await until(() => !pids.some(live), 3000, 'all gone');
    } catch {
      return { ms: null, left: pids.filter(live).length, pids };
    }
    return { ms: Number(process.hrtime.bigint() - t0) / 1e6, left: 0, pids };
  } finally {
    for (const p of pidsOf(dir)) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        // gone
      }
    }
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // gone
    }
    await sleep(50);
  }
}

/** The supervisors measured, when installed. */
function supervisors() {
  const out = [
    { key: 'tsv', label: 'tsv (cgroup)', argv: [bin('tsv')], env: {} },
    { key: 'tsvs', label: 'tsv (session: TSV_CGROUP=off)', argv: [bin('tsv')], env: { TSV_CGROUP: 'off' } },
  ];
  if (which('runsv')) out.push({ key: 'runsv', label: 'runit runsv', argv: [which('runsv')], env: {} });
  if (which('s6-supervise')) out.push({ key: 's6', label: 's6-supervise', argv: [which('s6-supervise')], env: {} });
  return out;
}

export async function run() {
  const root = benchDir('tsv-bench-stop-');
  const runs = 5;
  try {
    const rows = [];
    for (const sup of supervisors()) {
      for (const kind of ['polite', 'stray']) {
        const samples = [];
        let left = 0;
        for (let i = 0; i < runs; i++) {
          const r = await once(sup, root, kind, i);
          if (r.ms !== null) samples.push(r.ms);
          else left = Math.max(left, r.left);
        }
        const s = samples.length > 0 ? stats(samples) : null;
        rows.push([sup.label, kind, s ? ms(s.median) : '-', s ? ms(s.min) : '-', left > 0 ? `${left} of ${CHILDREN + 1} still running 3 s after d (in ${runs - samples.length} of ${runs} runs)` : 'none']);
      }
    }
    return [
      `From the \`d\` control byte to the moment none of the service's ${CHILDREN + 1} processes is alive; ${runs} runs each, timeout-kill 100 ms (read by tsv and s6; runsv has no such file). \`polite\`: run kills its children on TERM. \`stray\`: its children are setsid'd daemons that ignore TERM.`,
      '',
      table(['supervisor', 'service', 'median', 'min', 'left behind'], rows),
      '',
      `Load average at the end: ${loadavg()[0].toFixed(1)}.`,
    ].join('\n');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
