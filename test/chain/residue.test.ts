// execve leaves no Node residue: the exec'd program sees default signal dispositions, an empty
// mask, blocking inheritable stdio, the fds it inherited (fd 3) and the setlock lock fd, the
// original soft NOFILE, and no TSV_NOFILE.
import t from 'tap';
import { closeSync, constants, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bin, run, tmpdir } from '@tsv/testkit';
import { chainEnv, fields, limits, runWrapper, script, viaSh } from '@tsv/testkit/chain';

const SIGPIPE_BIT = 1n << 12n;
const SIGXFSZ_BIT = 1n << 24n;

t.test('signals: SIGPIPE and SIGXFSZ not ignored, mask empty', async (t) => {
  const dir = tmpdir(t);
  const r = await runWrapper('envdir', [dir, 'cat', '/proc/self/status']);
  t.equal(r.code, 0, r.stderr);
  const st = fields(r.stdout);
  const ign = BigInt(`0x${st.get('SigIgn')}`);
  t.equal(ign & SIGPIPE_BIT, 0n, 'SIGPIPE not ignored');
  t.equal(ign & SIGXFSZ_BIT, 0n, 'SIGXFSZ not ignored');
  t.equal(ign, 0n, 'nothing ignored');
  t.equal(BigInt(`0x${st.get('SigBlk')}`), 0n, 'signal mask empty');
});

t.test('fds: stdio blocking, fd 3 and the lock fd travel, nothing else of Node', async (t) => {
  const dir = tmpdir(t);
  const probe = script(
    join(dir, 'probe'),
    '#!/bin/sh\n' +
      '# one line per open fd of this shell: number, target, fdinfo flags (octal)\n' +
      'for f in /proc/$$/fd/*; do n=${f##*/}; ' +
      'echo "fd $n $(readlink $f) $(grep "^flags" /proc/$$/fdinfo/$n | tr -d "[:space:]")"; done\n' +
      'echo "env TSV_NOFILE=${TSV_NOFILE-unset}"\n' +
      'cat /proc/$$/limits\n',
  );
  const inherited = join(dir, 'inherited');
  writeFileSync(inherited, 'x');
  const input = join(dir, 'input');
  writeFileSync(input, '');
  const lock = join(dir, 'lk');
  // fd 0 is opened O_NONBLOCK on purpose: the flag lives in the shared open file description
  // and execve must clear it; fd 3 is an inherited plain file.
  const fd0 = openSync(input, constants.O_RDONLY | constants.O_NONBLOCK);
  const fd3 = openSync(inherited, 'r');
  t.teardown(() => {
    closeSync(fd0);
    closeSync(fd3);
  });
  const [cmd, argv] = viaSh('/bin/sh', ['-c', 'ulimit -Sn 1000 && exec "$0" "$@"', bin('setlock'), lock, probe]);
  const r = await run(cmd, argv, {
    env: chainEnv(),
    stdio: [fd0, 'pipe', 'pipe', fd3],
  });
  t.equal(r.code, 0, r.stderr);
  const fds = new Map<number, { target: string; flags: number }>();
  for (const m of r.stdout.matchAll(/^fd (\d+) (\S+) flags:(\d+)$/gm)) {
    fds.set(Number(m[1]), { target: m[2] as string, flags: parseInt(m[3] as string, 8) });
  }
  for (const fd of [0, 1, 2]) {
    const f = fds.get(fd);
    t.ok(f, `fd ${fd} open`);
    t.equal((f?.flags ?? 0) & constants.O_NONBLOCK, 0, `fd ${fd} blocking`);
  }
  t.equal(fds.get(0)?.target, input, 'fd 0 is the input file');
  t.equal(fds.get(3)?.target, inherited, 'inherited fd 3 travels');
  const lockFds = [...fds.entries()].filter(([, f]) => f.target === lock);
  t.equal(lockFds.length, 1, 'the lock fd travels');
  for (const [fd, f] of fds) {
    t.notMatch(f.target, /^anon_inode:/, `fd ${fd} is not a Node epoll/eventfd`);
  }
  t.match(r.stdout, /^env TSV_NOFILE=unset$/m, 'TSV_NOFILE removed');
  t.equal(limits(r.stdout).get('Max open files')?.soft, '1000', 'soft NOFILE restored');
});

t.test('the lock is held by the exec\'d program', async (t) => {
  const dir = tmpdir(t);
  const lock = join(dir, 'lk');
  const r = await runWrapper('setlock', [lock, 'sh', '-c', `exec "$0" -n "$1" true; `, bin('setlock'), lock]);
  t.equal(r.code, 111, 'a second setlock -n on the held lock fails');
  t.equal(r.stderr, `setlock: fatal: unable to lock ${lock}: temporary failure\n`);
});

t.test('NODE_EXTRA_CA_CERTS reaches the program unchanged; the parking variable does not', async (t) => {
  const dir = tmpdir(t);
  const show = 'echo "${NODE_EXTRA_CA_CERTS-unset}|${TSV_NODE_EXTRA_CA_CERTS-unset}"';
  const set = await runWrapper('envdir', [dir, 'sh', '-c', show], { env: chainEnv({ NODE_EXTRA_CA_CERTS: '/x y/ca.pem' }) });
  t.equal(set.stdout, '/x y/ca.pem|unset\n');
  const empty = await runWrapper('envdir', [dir, 'sh', '-c', show], { env: chainEnv({ NODE_EXTRA_CA_CERTS: '' }) });
  t.equal(empty.stdout, '|unset\n', 'set but empty stays set');
  const unset = await runWrapper('envdir', [dir, 'sh', '-c', show], { env: chainEnv({ NODE_EXTRA_CA_CERTS: undefined, TSV_NODE_EXTRA_CA_CERTS: '/stale' }) });
  t.equal(unset.stdout, 'unset|unset\n', 'unset stays unset, a stale parking variable is dropped');
});
