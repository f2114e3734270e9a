// Spawning and reaping children inside one Node process: CPU (user+system, of this process
// only) and wall time per spawn+reap of /bin/true, with N other live children of the same kind,
// for child_process.spawn (libuv: one waitpid per live child on every SIGCHLD, and the JS of a
// ChildProcess) against @tsv/os spawnChild + ChildWatcher (one waitid peek and one waitpid per
// exit), both with clone(CLONE_VM|CLONE_VFORK) (the default) and with fork().
import { spawn as cpSpawn } from 'node:child_process';
import { loadavg } from 'node:os';
import { table } from './lib.mjs';
import { childWatcher, spawnChild } from '../packages/os/dist/index.js';
import { spawn as nativeSpawn } from '../packages/native/dist/index.js';

export const title = 'Spawn and reap in one process: child_process.spawn vs spawnChild';

const OTHERS = [1, 50, 1000];
const RUNS = 300;
const WARMUP = 20;
const ENV = Object.entries(process.env).map(([k, v]) => `${k}=${v}`);

/** The ways to start a child: start(file, args) -> Promise of its exit, plus a sleeper. */
const MODES = {
  'child_process.spawn': {
    run: (file, args) => new Promise((resolve, reject) => {
      const c = cpSpawn(file, args, { stdio: ['ignore', 'ignore', 2], detached: true });
      c.once('error', reject);
      c.once('exit', resolve);
    }),
    sleeper: () => {
      const c = cpSpawn('/bin/sleep', ['1000'], { stdio: 'ignore', detached: true });
      const exited = new Promise((r) => c.once('exit', r));
      return { pid: c.pid, exited };
    },
  },
  'spawnChild (vfork)': {
    run: (file, args) => new Promise((resolve) => {
      const pid = spawnChild({ file, args, env: ENV, stdio: ['ignore', 'ignore', 2], setsid: true });
      childWatcher().watch(pid, resolve);
    }),
    sleeper: () => {
      const pid = spawnChild({ file: '/bin/sleep', args: ['1000'], env: ENV, stdio: ['ignore', 'ignore', 'ignore'], setsid: true });
      const exited = new Promise((r) => childWatcher().watch(pid, r));
      return { pid, exited };
    },
  },
  'spawnChild (fork)': {
    run: (file, args) => new Promise((resolve) => {
      const pid = nativeSpawn(file, [file, ...args], ENV, null, [0, 1, 2], { setsid: true, fork: true });
      childWatcher().watch(pid, resolve);
    }),
  },
};
MODES['spawnChild (fork)'].sleeper = MODES['spawnChild (vfork)'].sleeper;

/** CPU µs and wall µs per spawn+reap of /bin/true with n live siblings of the mode's kind. */
async function measure(mode, n) {
  const sleepers = Array.from({ length: n }, () => mode.sleeper());
  try {
    for (let i = 0; i < WARMUP; i++) await mode.run('/bin/true', []);
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < RUNS; i++) await mode.run('/bin/true', []);
    const wall = Number(process.hrtime.bigint() - t0) / 1e3 / RUNS;
    const c = process.cpuUsage(c0);
    return { cpu: (c.user + c.system) / RUNS, wall };
  } finally {
    for (const s of sleepers) process.kill(s.pid, 'SIGKILL');
    await Promise.all(sleepers.map((s) => s.exited));
  }
}

export async function run() {
  const rows = [];
  for (const n of OTHERS) {
    const res = {};
    for (const [label, mode] of Object.entries(MODES)) res[label] = await measure(mode, n);
    const base = res['child_process.spawn'];
    for (const [label, r] of Object.entries(res)) {
      const ratio = label === 'child_process.spawn' ? '1' : `${(base.cpu / r.cpu).toFixed(1)}× less`;
      rows.push([String(n), label, `${r.cpu.toFixed(0)} µs`, ratio, `${r.wall.toFixed(0)} µs`]);
    }
  }
  return [
    `Each row: ${RUNS} sequential spawn+reap of \`/bin/true\` (after ${WARMUP} warm-up) while N other`,
    'children of the same kind (`sleep 1000`, own sessions) are alive. CPU is this process\'s own',
    '(process.cpuUsage: user+system, the children\'s time not included); wall is from spawn to the',
    `exit callback. Load average at the end: ${loadavg()[0].toFixed(2)}.`,
    '',
    table(['N others', 'how', 'CPU per spawn+reap', 'CPU vs child_process', 'wall per spawn+reap'], rows),
  ].join('\n');
}
