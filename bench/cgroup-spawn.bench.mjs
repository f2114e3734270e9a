// The cost of starting a child in a cgroup (issue 12): wall time of the addon's spawn of
// /bin/true (synchronous: it returns once the child has exec'd; the reap is not timed) from
// Node, without a cgroup, born in a fresh cgroup by clone3(CLONE_INTO_CGROUP), joining it by the
// write of "0" to cgroup.procs between vfork and execve (the fallback, noClone3), and with
// fork() (which joins by the write too). Two ways: spaced 50 ms apart, as a supervisor's
// respawns are, and back to back. The modes are interleaved so the machine's load falls on all
// alike. Needs root and cgroup2.
import { mkdirSync, openSync, closeSync, rmdirSync, constants as fsc } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { stats, table } from './lib.mjs';
import { spawn, waitpid } from '../packages/native/dist/index.js';
import { ownCgroupDir } from '../packages/os/dist/index.js';

export const title = 'Spawning into a cgroup: clone3(CLONE_INTO_CGROUP) vs the write to cgroup.procs';

const SPAWNS = 100;
const GAP_MS = 50;

/** The modes: label and the spawn flags (cgroup: whether they take the empty cgroup's fd, or
 * 'populated': the one that keeps a sleep as a member). */
const MODES = [
  { label: 'no cgroup (vfork)', flags: {}, cgroup: false },
  { label: 'cgroup: clone3(CLONE_INTO_CGROUP)', flags: {}, cgroup: true },
  { label: 'cgroup with a member (a sleep): clone3', flags: {}, cgroup: 'populated' },
  { label: 'cgroup: vfork + write of 0 to cgroup.procs (fallback)', flags: { noClone3: true }, cgroup: true },
  { label: 'no cgroup: fork', flags: { fork: true }, cgroup: false },
  { label: 'cgroup: fork + write of 0 to cgroup.procs', flags: { fork: true }, cgroup: true },
];

/** ms that one spawn of /bin/true with flags takes (the child reaped after the clock stops). */
function once(flags) {
  const t0 = process.hrtime.bigint();
  const pid = spawn('/bin/true', ['true'], [], null, [0, 1, 2], flags);
  const t = Number(process.hrtime.bigint() - t0) / 1e6;
  waitpid(pid, false);
  return t;
}

const sleep = (msec) => new Promise((r) => setTimeout(r, msec));

/** ms with two decimals: a spawn is about a millisecond. */
const ms = (x) => `${x.toFixed(2)} ms`;

/** rmdir a cgroup, retrying while its last reaped child is still leaving it (EBUSY). */
function removeSoon(dir) {
  const deadline = Date.now() + 2000;
  for (;;) {
    try {
      rmdirSync(dir);
      return;
    } catch (err) {
      if (err.code !== 'EBUSY' || Date.now() > deadline) throw err;
    }
  }
}

export async function run() {
  const own = ownCgroupDir();
  if (process.getuid?.() !== 0 || own === null) return 'Not measured: needs root and a cgroup2 mount.';
  const dir = join(own, `tsv-bench-spawn.${process.pid}`);
  const popDir = `${dir}.populated`;
  mkdirSync(dir);
  mkdirSync(popDir);
  const fd = openSync(dir, fsc.O_RDONLY | fsc.O_DIRECTORY);
  const popFd = openSync(popDir, fsc.O_RDONLY | fsc.O_DIRECTORY);
  const member = spawn('/bin/sleep', ['sleep', '3600'], [], null, [-1, -1, -1], { cgroupDirFd: popFd });
  const flags = MODES.map((m) => ({ ...m.flags, ...(m.cgroup === 'populated' ? { cgroupDirFd: popFd } : m.cgroup ? { cgroupDirFd: fd } : {}) }));
  const spaced = MODES.map(() => []);
  const burst = MODES.map(() => []);
  const load0 = loadavg()[0];
  try {
    for (const f of flags) once(f);
    for (let i = 0; i < SPAWNS; i++) {
      for (let m = 0; m < MODES.length; m++) {
        await sleep(GAP_MS);
        spaced[m].push(once(flags[m]));
      }
    }
    for (let i = 0; i < SPAWNS; i++) for (let m = 0; m < MODES.length; m++) burst[m].push(once(flags[m]));
  } finally {
    process.kill(member, 'SIGKILL');
    waitpid(member, false);
    closeSync(fd);
    closeSync(popFd);
    removeSoon(dir);
    removeSoon(popDir);
  }
  const base = stats(spaced[0]).median;
  const rows = MODES.map((m, i) => {
    const s = stats(spaced[i]);
    return [m.label, ms(s.median), ms(s.p90), `+${ms(Math.max(0, s.median - base))}`, ms(stats(burst[i]).median)];
  });
  const rss = (process.memoryUsage().rss / 2 ** 20).toFixed(0);
  return [
    `Wall time of one spawn of \`/bin/true\` (the addon's spawn: clone to exec'd), ${SPAWNS} per way, the ways interleaved, into a fresh cgroup below the bench's own; spaced ${GAP_MS} ms apart (as a supervisor's respawns are), and back to back. This Node process's RSS: ${rss} MiB (fork's cost grows with it, vfork's does not).`,
    '',
    table(['how', `median, ${GAP_MS} ms apart`, 'p90', 'over no cgroup', 'median, back to back'], rows),
    '',
    `- Load average ${load0.toFixed(1)} at the start, ${loadavg()[0].toFixed(1)} at the end (2 shared cores: noisy).`,
    '- The write is a cgroup migration: it takes cgroup_threadgroup_rwsem for writing, which waits for an RCU grace period (rcu_sync) unless one has just passed: back to back, the writes share one, which is why the burst column hides the cost a respawn pays. A child born in the cgroup by clone3 never migrates; the little it costs is paid only when the cgroup is empty (its first member: compare the row with a sleep already in the cgroup).',
  ].join('\n');
}
