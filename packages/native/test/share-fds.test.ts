// spawn's vfork-style child shares our fd table and keeps a private copy of only a few low fds
// (close_range with CLOSE_RANGE_UNSHARE): where that call fails (an old kernel, a seccomp
// filter), probed once, every spawn copies the whole table instead. strace injects the failure.
import t, { type Test } from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { spawnSync } from 'node:child_process';
import { IS_ROOT, ROOT, spawnTracked, tmpdir, waitForText } from '@tsv/testkit';

const straceWorks = IS_ROOT && spawnSync('strace', ['-o', '/dev/null', '/bin/true']).status === 0;

/** The script strace attaches to: holds 3000 fds, says ready, waits for a line on stdin, then
 * spawns three children with high-numbered sources and prints, for each, its FDSize and fds. */
const DRIVEN = `import { spawn, waitpid } from ${JSON.stringify(pathToFileURL(join(ROOT, 'packages/native/dist/index.js')).href)};
import { openSync, readFileSync, readlinkSync, readSync, constants as c } from 'node:fs';
for (let i = 0; i < 3000; i++) openSync('/dev/null', c.O_RDONLY);
const out = openSync('/dev/null', c.O_WRONLY);
process.stdout.write('ready\\n');
readSync(0, Buffer.alloc(8));
const seen = [];
for (let i = 0; i < 3; i++) {
  const pid = spawn('/bin/sleep', ['sleep', '60'], [], null, [out, out, out], {});
  const fdSize = Number(readFileSync('/proc/' + pid + '/status', 'utf8').match(/^FDSize:\\s*(\\d+)/m)[1]);
  seen.push({ fdSize, fd1: readlinkSync('/proc/' + pid + '/fd/1') });
  process.kill(pid, 'SIGKILL');
  waitpid(pid, false);
}
process.stdout.write(JSON.stringify(seen) + '\\n');
`;

/** Run DRIVEN with strace -f attached once it is ready: what it printed and the trace of
 * close_range (inject: strace's -e inject). */
async function traced(t: Test, inject?: string): Promise<{ seen: Array<{ fdSize: number; fd1: string }>; trace: string }> {
  const tmp = tmpdir(t);
  writeFileSync(join(tmp, 'driven.mjs'), DRIVEN);
  const child = spawnTracked(t, process.execPath, [join(tmp, 'driven.mjs')], { stdio: ['pipe', 'pipe', 'pipe'] });
  await waitForText(child.stdout, /ready/);
  const trace = join(tmp, 'trace');
  const st = spawnTracked(t, 'strace', ['-f', '-p', String(child.pid), '-o', trace, '-e', 'trace=close_range', ...(inject === undefined ? [] : ['-e', `inject=${inject}`])]);
  await waitForText(st.stderr, /attached/);
  child.child.stdin?.write('go\n');
  const exit = await child.exited;
  t.equal(exit.code, 0, `the driven script exits 0 ${child.stderr()}`);
  await st.exited;
  return { seen: JSON.parse(child.stdout().split('\n')[1] ?? '[]') as Array<{ fdSize: number; fd1: string }>, trace: readFileSync(trace, 'utf8') };
}

/** The close_range calls of a strace -f log with CLOSE_RANGE_UNSHARE. */
const unshares = (trace: string): string[] => trace.split('\n').filter((l) => /close_range\(.*CLOSE_RANGE_UNSHARE/.test(l));

t.test('with strace: each child unshares a small table; where close_range fails, probed once, the table is copied', { skip: !straceWorks && 'no strace (or it cannot trace here, or not root)' }, async (t) => {
  const plain = await traced(t);
  t.equal(unshares(plain.trace).length, 3, 'one close_range(CLOSE_RANGE_UNSHARE) per child');
  t.ok(plain.seen.every((s) => s.fdSize <= 256 && s.fd1 === '/dev/null'), `each child's table is small, its fd 1 the one given: ${JSON.stringify(plain.seen)}`);
  for (const errno of ['ENOSYS', 'EINVAL', 'EPERM']) {
    const r = await traced(t, `close_range:error=${errno}`);
    const u = unshares(r.trace);
    t.equal(u.length, 1, `${errno}: tried once, in the first child only`);
    t.match(u[0] ?? '', new RegExp(`= -1 ${errno} .*INJECTED`), `${errno}: and it failed as injected`);
    t.equal(r.seen.length, 3, `${errno}: all three children started`);
    t.ok(r.seen.every((s) => s.fdSize >= 3000 && s.fd1 === '/dev/null'), `${errno}: each with the copied table, its fd 1 the one given: ${JSON.stringify(r.seen)}`);
  }
});
