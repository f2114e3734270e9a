// The addon's spawn into a cgroup (root, cgroup2 mounted): the child is born in the cgroup
// (clone3 CLONE_INTO_CGROUP) or joins it by the write of "0" to cgroup.procs (noClone3, and
// the fallback where clone3 is unavailable: injected with strace, when installed), seen in
// /proc/PID/cgroup while it runs; a cgroup that has had cgroup.kill still gets its child alive;
// the Node-style errors for a cgroup that cannot take a process, a removed one, and an fd that
// is not on a cgroup2 directory. Real cgroups made below our own, removed at the end.
import t, { type Test } from 'tap';
import { closeSync, mkdirSync, openSync, readFileSync, readSync, realpathSync, rmdirSync, writeFileSync, constants as fsc } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { spawnSync } from 'node:child_process';
import { pipe, spawn, waitpid, type SpawnFlags } from '@tsv/native';
import { cgroup2Mount, cgroupPids, ownCgroup, ownCgroupDir } from '@tsv/os';
import { IS_ROOT, ROOT, spawnTracked, tmpdir, waitFor, waitForText, type Teardownable } from '@tsv/testkit';
import { throwsNodeError } from './node-error.js';

const own = ownCgroupDir();
const skip = !IS_ROOT ? 'cgroups need root here' : own === null ? 'no cgroup2 mount' : false;
const straceWorks = IS_ROOT && spawnSync('strace', ['-o', '/dev/null', '/bin/true']).status === 0;

/** A fresh cgroup below our own (parents first), emptied and removed (children first) at the end. */
function makeCgroup(t: Teardownable, ...parts: string[]): { dir: string; rel: string } {
  const name = [`tsv-test-clone3.${process.pid}.${Math.floor(Math.random() * 1e9)}`, ...parts];
  const made: string[] = [];
  for (let i = 1; i <= name.length; i++) {
    const d = join(own as string, ...name.slice(0, i));
    mkdirSync(d);
    made.push(d);
  }
  t.teardown(async () => {
    for (const d of made.reverse()) {
      for (const p of cgroupPids(d)) process.kill(p, 'SIGKILL');
      // why a wait: a killed member leaves its cgroup a moment after the kill (EBUSY till then)
      await waitFor(() => {
        try {
          rmdirSync(d);
          return true;
        } catch (err) {
          return (err as NodeJS.ErrnoException).code === 'ENOENT';
        }
      }, 5_000, `rmdir ${d}`);
    }
  });
  return { dir: made[made.length - 1] as string, rel: join(ownCgroup() as string, ...name) };
}

/** An fd on dir (O_RDONLY|O_DIRECTORY unless flags say otherwise), closed at the end. */
function openFd(t: Teardownable, dir: string, flags: number = fsc.O_RDONLY | fsc.O_DIRECTORY): number {
  const fd = openSync(dir, flags);
  t.teardown(() => closeSync(fd));
  return fd;
}

/** Start sleep with flags; SIGKILLed and reaped at the end. */
function sleeper(t: Teardownable, flags: SpawnFlags): number {
  const pid = spawn('/bin/sleep', ['sleep', '60'], [], null, [-1, -1, -1], flags);
  t.teardown(() => {
    process.kill(pid, 'SIGKILL');
    waitpid(pid, false);
  });
  return pid;
}

/** The cgroup v2 line of /proc/PID/cgroup (its path). */
function cgroupOf(pid: number): string | undefined {
  return readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n').find((l) => l.startsWith('0::'))?.slice(3);
}

/** Run `cat /proc/self/cgroup` with flags: its output (what the child itself saw) and exit. */
function catCgroup(flags: SpawnFlags): { cgroup: string | undefined; code: number | null; signal: number | null } {
  const [r, w] = pipe();
  let pid: number;
  try {
    pid = spawn('/bin/cat', ['cat', '/proc/self/cgroup'], [], null, [-1, w, -1], flags);
  } finally {
    closeSync(w);
  }
  let text = '';
  const buf = Buffer.alloc(4096);
  for (let n; (n = readSync(r, buf)) > 0; ) text += buf.toString('utf8', 0, n);
  closeSync(r);
  const st = waitpid(pid, false) as { code: number | null; signal: number | null };
  return { cgroup: text.split('\n').find((l) => l.startsWith('0::'))?.slice(3), code: st.code, signal: st.signal };
}

t.test('born in a fresh cgroup (clone3), or joining it by the write (noClone3, fork): /proc/PID/cgroup while it runs', { skip }, async (t) => {
  const cg = makeCgroup(t, 'born');
  const fd = openFd(t, cg.dir);
  for (const [how, flags] of [['clone3', {}], ['noClone3', { noClone3: true }], ['fork (joins by the write)', { fork: true }]] as const) {
    const pid = sleeper(t, { cgroupDirFd: fd, setsid: true, ...flags });
    t.equal(cgroupOf(pid), cg.rel, `${how}: /proc/${pid}/cgroup names the cgroup`);
    t.ok(cgroupPids(cg.dir).includes(pid), `${how}: the cgroup's cgroup.procs lists it`);
    // why a wait: spawn returns once the child is past execve's point of no return, a moment
    // before the kernel has put the new program's arguments in place
    const cmdline = (): string => readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    await waitFor(() => cmdline() === 'sleep\u000060\u0000' || undefined, 5_000, 'cmdline').catch(() => undefined);
    t.equal(cmdline(), 'sleep\u000060\u0000', `${how}: it is sleep (exec'd)`);
  }
  const opath = openFd(t, cg.dir, fsc.O_RDONLY | fsc.O_DIRECTORY | 0o10000000 /* O_PATH */);
  t.equal(catCgroup({ cgroupDirFd: opath }).cgroup, cg.rel, 'an O_PATH fd on the directory works too');
  const plain = catCgroup({});
  t.equal(plain.cgroup, ownCgroup(), 'without cgroupDirFd the child stays in our cgroup');
});

t.test('a cgroup that has had cgroup.kill: its children still start, in it', { skip }, async (t) => {
  // why: kernels that compare cgroup.kill's sequence number of the parent's cgroup with the
  // destination's SIGKILL every child clone3 makes there (the addon then joins by the write)
  const cg = makeCgroup(t, 'killed');
  const fd = openFd(t, cg.dir);
  t.same(catCgroup({ cgroupDirFd: fd }), { cgroup: cg.rel, code: 0, signal: null }, 'before any cgroup.kill');
  writeFileSync(join(cg.dir, 'cgroup.kill'), '1');
  for (let i = 1; i <= 3; i++) t.same(catCgroup({ cgroupDirFd: fd }), { cgroup: cg.rel, code: 0, signal: null }, `spawn ${i} after a cgroup.kill: ran in the cgroup, exit 0`);
  const pid = sleeper(t, { cgroupDirFd: fd });
  t.equal(cgroupOf(pid), cg.rel, 'a sleeper there runs');
  t.equal(waitpid(pid, true), null, 'and has not exited');
});

t.test('a cgroup that cannot take a process, or is gone: Node-style errors naming the call and the cgroup', { skip }, async (t) => {
  // why "domain invalid": a child of a threaded cgroup is one until made threaded; no process
  // may live there (EOPNOTSUPP), whichever way it comes.
  const threaded = makeCgroup(t, 'th');
  writeFileSync(join(threaded.dir, 'cgroup.type'), 'threaded');
  mkdirSync(join(threaded.dir, 'x'));
  t.teardown(() => rmdirSync(join(threaded.dir, 'x')));
  t.equal(readFileSync(join(threaded.dir, 'x', 'cgroup.type'), 'utf8').trim(), 'domain invalid');
  const inv = openFd(t, join(threaded.dir, 'x'));
  const x = join(threaded.dir, 'x');
  throwsNodeError(t, () => spawn('/bin/true', ['true'], [], null, [-1, -1, -1], { cgroupDirFd: inv }), { code: 'EOPNOTSUPP', desc: 'operation not supported', syscall: 'clone3', path: x }, 'domain invalid, clone3');
  throwsNodeError(t, () => spawn('/bin/true', ['true'], [], null, [-1, -1, -1], { cgroupDirFd: inv, noClone3: true }), { code: 'EOPNOTSUPP', desc: 'operation not supported', syscall: 'write', path: join(x, 'cgroup.procs') }, 'domain invalid, the write');

  const gone = makeCgroup(t, 'gone');
  const g = openFd(t, gone.dir);
  rmdirSync(gone.dir);
  // why two codes: the kernel's answer for a removed cgroup has been ENODEV (dead) or ENOENT (no
  // longer in the hierarchy), depending on the check that sees it first
  throwsNodeError(t, () => spawn('/bin/true', ['true'], [], null, [-1, -1, -1], { cgroupDirFd: g }), { code: ['ENOENT', 'ENODEV'], syscall: 'clone3', path: gone.dir }, 'removed, clone3 (no " (deleted)" in the path)');
  throwsNodeError(t, () => spawn('/bin/true', ['true'], [], null, [-1, -1, -1], { cgroupDirFd: g, noClone3: true }), { code: 'ENOENT', desc: 'no such file or directory', syscall: 'open', path: join(gone.dir, 'cgroup.procs') }, 'removed, the fallback');
});

t.test('an fd that is not on a cgroup2 directory: EBADF, "not a cgroup2 directory"', { skip }, async (t) => {
  const plainDir = realpathSync(tmpdir(t));
  const fd = openFd(t, plainDir);
  throwsNodeError(t, () => spawn('/bin/true', ['true'], [], null, [-1, -1, -1], { cgroupDirFd: fd }), { code: 'EBADF', desc: 'not a cgroup2 directory', syscall: 'clone3', path: plainDir }, 'a plain directory');
  throwsNodeError(t, () => spawn('/bin/true', ['true'], [], null, [-1, -1, -1], { cgroupDirFd: fd, noClone3: true }), { code: 'ENOENT', desc: 'no such file or directory', syscall: 'open', path: join(plainDir, 'cgroup.procs') }, 'a plain directory, the fallback');
  const cg = makeCgroup(t, 'file');
  const procs = openFd(t, join(cg.dir, 'cgroup.procs'), fsc.O_WRONLY);
  throwsNodeError(t, () => spawn('/bin/true', ['true'], [], null, [-1, -1, -1], { cgroupDirFd: procs }), { code: 'EBADF', desc: 'not a cgroup2 directory', syscall: 'clone3', path: join(cg.dir, 'cgroup.procs') }, 'the cgroup.procs file (what the option used to take)');
  throwsNodeError(t, () => spawn('/bin/true', ['true'], [], null, [-1, -1, -1], { cgroupDirFd: 987_654 }), { code: 'EBADF', desc: 'bad file descriptor', syscall: 'clone3' }, 'a closed fd');
  const v1 = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').find((l) => / - cgroup cgroup /.test(l))?.split(' ')[4];
  if (v1 !== undefined && cgroup2Mount()?.mount !== v1) {
    const v1fd = openFd(t, v1);
    throwsNodeError(t, () => spawn('/bin/true', ['true'], [], null, [-1, -1, -1], { cgroupDirFd: v1fd }), { code: 'EBADF', desc: 'not a cgroup2 directory', syscall: 'clone3', path: v1 }, 'a cgroup v1 directory');
  }
});

/** The script strace attaches to: opens the cgroup, says ready, waits for a line on stdin, then
 * spawns twice into the cgroup and prints where each child ran (JSON). */
const DRIVEN = `import { spawn, waitpid } from ${JSON.stringify(pathToFileURL(join(ROOT, 'packages/native/dist/index.js')).href)};
import { openSync, readFileSync, readSync, constants as c } from 'node:fs';
const fd = openSync(process.argv[2], c.O_RDONLY | c.O_DIRECTORY);
process.stdout.write('ready\\n');
readSync(0, Buffer.alloc(8));
const out = [];
for (let i = 0; i < 2; i++) {
  const pid = spawn('/bin/sleep', ['sleep', '60'], [], null, [-1, -1, -1], { cgroupDirFd: fd });
  out.push(readFileSync('/proc/' + pid + '/cgroup', 'utf8').split('\\n').find((l) => l.startsWith('0::')).slice(3));
  process.kill(pid, 'SIGKILL');
  waitpid(pid, false);
}
process.stdout.write(JSON.stringify(out) + '\\n');
`;

/** Run DRIVEN against cgroup dir with strace attached once it is ready (so Node's own start-up,
 * whose threads glibc makes with clone3, is not traced): the children's cgroups and the trace
 * of clone and clone3 (inject: strace's -e inject, e.g. clone3:error=ENOSYS). */
async function traced(t: Test, dir: string, inject?: string): Promise<{ cgroups: string[]; trace: string }> {
  const tmp = tmpdir(t);
  writeFileSync(join(tmp, 'driven.mjs'), DRIVEN);
  const child = spawnTracked(t, process.execPath, [join(tmp, 'driven.mjs'), dir], { stdio: ['pipe', 'pipe', 'pipe'] });
  await waitForText(child.stdout, /ready/);
  const trace = join(tmp, 'trace');
  const st = spawnTracked(t, 'strace', ['-p', String(child.pid), '-o', trace, '-e', 'trace=clone,clone3', ...(inject === undefined ? [] : ['-e', `inject=${inject}`])]);
  await waitForText(st.stderr, /attached/);
  child.child.stdin?.write('go\n');
  const exit = await child.exited;
  t.equal(exit.code, 0, `the driven script exits 0 ${child.stderr()}`);
  await st.exited;
  return { cgroups: JSON.parse(child.stdout().split('\n')[1] ?? '[]') as string[], trace: readFileSync(trace, 'utf8') };
}

/** The lines of a strace log for one syscall. */
const calls = (trace: string, name: string): string[] => trace.split('\n').filter((l) => l.startsWith(`${name}(`));

t.test('with strace: clone3 is the ordinary way; where it is unavailable, probed once, then the write', { skip: skip || (!straceWorks && 'no strace (or it cannot trace here)') }, async (t) => {
  const cg = makeCgroup(t, 'traced');
  const plain = await traced(t, cg.dir);
  t.same(plain.cgroups, [cg.rel, cg.rel], 'both children ran in the cgroup');
  const refused = calls(plain.trace, 'clone3').filter((l) => /= -1 (ENOSYS|EPERM|EINVAL|E2BIG) /.test(l));
  if (refused.length > 0) {
    // why: a machine without clone3 (an old kernel, a container's seccomp profile): the probe's own case
    t.equal(refused.length, 1, `clone3 is refused here (${refused[0]}): tried once`);
    t.equal(calls(plain.trace, 'clone').filter((l) => /CLONE_VM\|(CLONE_FILES\|)?CLONE_VFORK/.test(l)).length, 2, 'then the write, for both');
  } else {
    t.equal(calls(plain.trace, 'clone3').filter((l) => /CLONE_INTO_CGROUP.*= \d+$/.test(l)).length, 2, 'two clone3(CLONE_INTO_CGROUP) that made a child');
    t.equal(calls(plain.trace, 'clone').length, 0, 'no clone');
  }
  // why these four: ENOSYS (no clone3: old kernel, Docker's seccomp profile), EINVAL (no
  // CLONE_INTO_CGROUP: 5.3-5.6), E2BIG (clone_args this long unknown), EPERM (a seccomp deny)
  for (const errno of ['ENOSYS', 'EINVAL', 'E2BIG', 'EPERM']) {
    const r = await traced(t, cg.dir, `clone3:error=${errno}`);
    t.same(r.cgroups, [cg.rel, cg.rel], `${errno}: both children ran in the cgroup (joined by the write)`);
    const c3 = calls(r.trace, 'clone3');
    t.equal(c3.length, 1, `${errno}: clone3 tried once, for the first spawn only`);
    t.match(c3[0] ?? '', new RegExp(`= -1 ${errno} .*INJECTED`), `${errno}: and it failed as injected`);
    t.equal(calls(r.trace, 'clone').filter((l) => /CLONE_VM\|(CLONE_FILES\|)?CLONE_VFORK/.test(l)).length, 2, `${errno}: both children made by clone(CLONE_VM|CLONE_VFORK)`);
  }
});

t.test('with strace: a cgroup whose children clone3 kills at birth is remembered', { skip: skip || (!straceWorks && 'no strace (or it cannot trace here)') }, async (t) => {
  const cg = makeCgroup(t, 'remembered');
  writeFileSync(join(cg.dir, 'cgroup.kill'), '1');
  const r = await traced(t, cg.dir);
  t.same(r.cgroups, [cg.rel, cg.rel], 'both children ran in the cgroup');
  const c3 = calls(r.trace, 'clone3');
  const cl = calls(r.trace, 'clone');
  if (cl.length === 0) {
    t.equal(c3.length, 2, 'this kernel does not kill them: clone3 for both');
  } else {
    t.equal(c3.length, 1, 'clone3 once: its child died at birth');
    t.equal(cl.length, 2, 'then the write, for that spawn and the next one (remembered)');
  }
});
