// chpst: every option, black-box on the built executable (root: drops to nobody, chroot).
import t from 'tap';
import { chmodSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { IS_ROOT, tmpdir, waitFor, procStatus } from '@tsv/testkit';
import { chainEnv, copyWithLibs, fields, limits, nobodySkip, runWrapper, spawnWrapper, statFields, flockWaiterOn } from '@tsv/testkit/chain';

const root = { skip: !IS_ROOT && 'needs root' };

/** Does this process have CAP_SYS_NICE (bit 23 of CapEff)? Root in a container may not. */
function canLowerNice(): boolean {
  const eff = fields(readFileSync('/proc/self/status', 'utf8')).get('CapEff') ?? '0';
  return (BigInt(`0x${eff}`) & (1n << 23n)) !== 0n;
}

/** A set of numbers from a space-separated /proc field. */
const idSet = (s: string | undefined): number[] => (s ?? '').split(/\s+/).filter((x) => x !== '').map(Number).sort((a, b) => a - b);

t.test('-u user: uid, gid, supplementary groups = [gid]', root, async (t) => {
  const r = await runWrapper('chpst', ['-u', 'nobody', 'cat', '/proc/self/status']);
  t.equal(r.code, 0, r.stderr);
  const st = fields(r.stdout);
  t.equal(st.get('Uid'), '65534\t65534\t65534\t65534');
  t.equal(st.get('Gid'), '65534\t65534\t65534\t65534');
  t.same(idSet(st.get('Groups')), [65534]);
});

t.test('-u user:g1:g2 sets exactly those groups, g1 primary', root, async (t) => {
  const r = await runWrapper('chpst', ['-u', 'nobody:adm:sys', 'cat', '/proc/self/status']);
  t.equal(r.code, 0, r.stderr);
  const st = fields(r.stdout);
  t.equal(st.get('Uid')?.split('\t')[0], '65534');
  t.equal(st.get('Gid')?.split('\t')[0], '4', 'gid adm');
  t.same(idSet(st.get('Groups')), [3, 4], 'groups adm, sys');
});

t.test('-u :uid:gid:gid numeric', root, async (t) => {
  const r = await runWrapper('chpst', ['-u', ':1234:5678:91', 'cat', '/proc/self/status']);
  t.equal(r.code, 0, r.stderr);
  const st = fields(r.stdout);
  t.equal(st.get('Uid')?.split('\t')[0], '1234');
  t.equal(st.get('Gid')?.split('\t')[0], '5678');
  t.same(idSet(st.get('Groups')), [91, 5678]);
});

t.test('-U sets UID and GID only', async (t) => {
  const r = await runWrapper('chpst', ['-U', 'nobody:adm', 'sh', '-c', 'echo "$UID $GID $(id -u)"']);
  t.equal(r.code, 0, r.stderr);
  t.equal(r.stdout, `65534 4 ${process.getuid?.()}\n`);
});

t.test('-b argv0: looked up by the real name', async (t) => {
  const r = await runWrapper('chpst', ['-b', 'renamed', 'sh', '-c', 'echo "$0"']);
  t.equal(r.stdout, 'renamed\n');
});

t.test('-e dir: envdir semantics, subdirectories skipped (warned with -v)', async (t) => {
  const dir = tmpdir(t);
  const env = join(dir, 'env');
  mkdirSync(join(env, 'SUB'), { recursive: true });
  writeFileSync(join(env, 'A'), 'value1  \t \nsecond');
  writeFileSync(join(env, 'B'), 'a\0b');
  writeFileSync(join(env, 'HOME'), '');
  writeFileSync(join(env, 'PATH'), '/nonexistent');
  const r = await runWrapper('chpst', ['-e', env, 'sh', '-c', 'printf "%s|%s|%s|%s" "$A" "$B" "${HOME-unset}" "$PATH"'], {
    env: chainEnv({ HOME: '/root' }),
  });
  t.equal(r.code, 0, r.stderr);
  t.equal(r.stdout, 'value1|a\nb|unset|/nonexistent', 'values set, HOME removed; sh was found with the original PATH');
  t.equal(r.stderr, '', 'no warning without -v');
  const v = await runWrapper('chpst', ['-v', '-e', env, 'true']);
  t.equal(v.code, 0);
  t.equal(v.stderr, `chpst: warning: unable to read ${env}/SUB: is a directory\n`);
});

t.test('-/ root, -C pwd, -U and -u looked up in the new root, lock inside it', root, async (t) => {
  const dir = tmpdir(t);
  const nr = join(dir, 'root');
  mkdirSync(join(nr, 'etc'), { recursive: true });
  mkdirSync(join(nr, 'sub'));
  copyWithLibs(nr, '/bin/cat');
  copyWithLibs(nr, '/bin/dash');
  symlinkSync('dash', join(nr, 'bin', 'sh'));
  writeFileSync(join(nr, 'etc', 'passwd'), 'root:x:0:0::/:/bin/sh\ninner:x:4242:4343::/:/bin/sh\n');
  writeFileSync(join(nr, 'etc', 'group'), 'root:x:0:\ninnergrp:x:4444:\n');
  const r = await runWrapper('chpst', ['-/', nr, '/bin/cat', '/etc/passwd']);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /^inner:/m, 'the new root\'s files');
  const u = await runWrapper('chpst', ['-/', nr, '-C', '/sub', '-U', 'inner', '-L', '/lk', '/bin/sh', '-c', 'echo "$UID $GID $(pwd)"']);
  t.equal(u.code, 0, u.stderr);
  t.equal(u.stdout, '4242 4343 /sub\n', 'account of the new root; cwd from -C');
  t.ok(existsSync(join(nr, 'lk')), 'the lock file was created inside the new root');
  // -u inner:innergrp: watch the process from outside while cat waits on its stdin
  const p = spawnWrapper(t, 'chpst', ['-/', nr, '-u', 'inner:innergrp', '/bin/cat'], { stdio: ['pipe', 'pipe', 'pipe'] });
  const st = await waitFor(() => {
    const s = procStatus(p.pid);
    return s.get('Name') === 'cat' ? s : undefined;
  });
  t.equal(st.get('Uid')?.split('\t')[0], '4242');
  t.equal(st.get('Gid')?.split('\t')[0], '4444');
  p.child.stdin?.end();
  t.equal((await p.exited).code, 0);
  // no fusion after a chroot: our wrappers are not inside it
  const f = await runWrapper('chpst', ['-/', nr, 'envdir', '/', '/bin/true']);
  t.equal(f.code, 111);
  t.equal(f.stderr, 'chpst: fatal: unable to run: envdir: file does not exist\n');
  const bad = await runWrapper('chpst', ['-/', join(dir, 'missing'), 'true']);
  t.equal(bad.code, 111);
  t.equal(bad.stderr, `chpst: fatal: unable to change directory: ${join(dir, 'missing')}: file does not exist\n`);
  if (nobodySkip(IS_ROOT) === false) {
    chmodSync(dir, 0o755);
    const notRoot = await runWrapper('chpst', ['-u', 'nobody', 'chpst', '-/', nr, '/bin/true']);
    t.equal(notRoot.code, 111);
    t.equal(notRoot.stderr, 'chpst: fatal: unable to change root directory: permission denied\n');
  }
});

t.test('-n nice', async (t) => {
  const r = await runWrapper('chpst', ['-n', '5', 'cat', '/proc/self/stat']);
  t.equal(r.code, 0, r.stderr);
  const before = Number(statFields(readFileSync('/proc/self/stat', 'utf8')).rest[16]);
  t.equal(Number(statFields(r.stdout).rest[16]), Math.min(19, before + 5));
  const plus = await runWrapper('chpst', ['-n', '+100', 'cat', '/proc/self/stat']);
  t.equal(statFields(plus.stdout).rest[16], '19', 'clamped to 19');
  const neg = await runWrapper('chpst', ['-n', '-3', 'cat', '/proc/self/stat']);
  if (canLowerNice()) {
    t.equal(Number(statFields(neg.stdout).rest[16]), Math.max(-20, before - 3), 'root (CAP_SYS_NICE) may lower it');
  } else {
    t.equal(neg.code, 111, 'without CAP_SYS_NICE lowering is refused');
    t.equal(neg.stderr, 'chpst: fatal: unable to set nice level: permission denied\n');
  }
  if (nobodySkip(IS_ROOT) === false) {
    const refused = await runWrapper('chpst', ['-u', 'nobody', 'chpst', '-n', '-1', 'true']);
    t.equal(refused.code, 111);
    t.equal(refused.stderr, 'chpst: fatal: unable to set nice level: permission denied\n');
  }
});

t.test('-l waits for the lock, -L fails at once, the program holds it', async (t) => {
  const dir = tmpdir(t);
  const lk = join(dir, 'lk');
  const holder = spawnWrapper(t, 'chpst', ['-L', lk, 'sh', '-c', 'echo held; exec cat'], { stdio: ['pipe', 'pipe', 'pipe'] });
  await waitFor(() => holder.stdout().includes('held'));
  const busy = await runWrapper('chpst', ['-L', lk, 'true']);
  t.equal(busy.code, 111);
  t.equal(busy.stderr, `chpst: fatal: unable to lock: ${lk}: temporary failure\n`);
  const waiter = spawnWrapper(t, 'chpst', ['-l', lk, 'echo', 'got it']);
  // the waiter is blocked in flock: /proc/locks lists it with "->"
  await waitFor(() => flockWaiterOn(lk), 10_000, 'a blocked flock waiter');
  t.equal(waiter.stdout(), '');
  holder.child.stdin?.end();
  t.equal((await waiter.exited).code, 0);
  t.equal(waiter.stdout(), 'got it\n');
  const r = await runWrapper('chpst', ['-l', join(dir, 'nodir', 'lk'), 'true']);
  t.equal(r.code, 111);
  t.equal(r.stderr, `chpst: fatal: unable to open lock: ${join(dir, 'nodir', 'lk')}: file does not exist\n`);
});

t.test('limits: -m -d -o -p -f -c -r -t set soft limits only', async (t) => {
  const r = await runWrapper('chpst', ['-m', '300000000', '-d', '200000000', '-o', '100', '-p', '500', '-f', '2000000', '-c', '0', '-r', '5000000', '-t', '100', 'cat', '/proc/self/limits']);
  t.equal(r.code, 0, r.stderr);
  const l = limits(r.stdout);
  t.equal(l.get('Max data size')?.soft, '200000000', '-d after -m wins for DATA');
  t.equal(l.get('Max stack size')?.soft, '300000000');
  t.equal(l.get('Max address space')?.soft, '300000000');
  const memlockHard = l.get('Max locked memory')?.hard;
  t.equal(l.get('Max locked memory')?.soft, memlockHard === 'unlimited' || Number(memlockHard) > 300000000 ? '300000000' : memlockHard, 'MEMLOCK clamped to its hard limit');
  t.equal(l.get('Max open files')?.soft, '100');
  t.equal(l.get('Max processes')?.soft, '500');
  t.equal(l.get('Max file size')?.soft, '2000000');
  t.equal(l.get('Max core file size')?.soft, '0');
  t.equal(l.get('Max resident set')?.soft, '5000000');
  t.equal(l.get('Max cpu time')?.soft, '100');
  const hard = limits(readFileSync('/proc/self/limits', 'utf8'));
  for (const name of ['Max data size', 'Max open files', 'Max processes', 'Max cpu time']) {
    t.equal(l.get(name)?.hard, hard.get(name)?.hard, `${name}: hard limit unchanged`);
  }
  const over = await runWrapper('chpst', ['-o', '99999999999', 'cat', '/proc/self/limits']);
  t.equal(over.code, 0);
  t.equal(limits(over.stdout).get('Max open files')?.soft, hard.get('Max open files')?.hard, 'clamped to the hard limit');
  t.equal(over.stderr, `chpst: warning: -o 99999999999 is above the hard limit of RLIMIT_NOFILE: set to ${hard.get('Max open files')?.hard}\n`);
});

t.test('-P: new session and process group', async (t) => {
  const r = await runWrapper('chpst', ['-P', 'cat', '/proc/self/stat']);
  t.equal(r.code, 0, r.stderr);
  const { pid, rest } = statFields(r.stdout);
  t.equal(Number(rest[2]), pid, 'process group leader');
  t.equal(Number(rest[3]), pid, 'session leader');
});

t.test('-0 -1 -2 close stdio', async (t) => {
  const probe = (fd: number, out: string): string => `test -e /proc/$$/fd/${fd} && echo open${fd} >&${out} || echo closed${fd} >&${out}`;
  const r0 = await runWrapper('chpst', ['-0', 'sh', '-c', probe(0, '1')]);
  t.equal(r0.stdout, 'closed0\n');
  const r1 = await runWrapper('chpst', ['-1', 'sh', '-c', probe(1, '2')]);
  t.equal(r1.stderr, 'closed1\n');
  const r2 = await runWrapper('chpst', ['-2', 'sh', '-c', probe(2, '1')]);
  t.equal(r2.stdout, 'closed2\n');
  const all = await runWrapper('chpst', ['-012', 'sh', '-c', 'ls /proc/$$/fd > /dev/null; test -e /proc/$$/fd/1 || exit 7']);
  t.equal(all.code, 7, 'grouped flags');
});

t.test('-V prints a version, then usage; options end at the first non-option and at --', async (t) => {
  const v = await runWrapper('chpst', ['-V']);
  t.equal(v.code, 100);
  t.match(v.stderr, /^chpst \(tsv\) \S+\nusage: chpst /);
  const r = await runWrapper('chpst', ['echo', '-u', 'nobody']);
  t.equal(r.stdout, '-u nobody\n');
  const d = await runWrapper('chpst', ['-v', '--', 'echo', '-P']);
  t.equal(d.stdout, '-P\n');
  const attached = await runWrapper('chpst', ['-b', 'x', '-Unobody', 'sh', '-c', 'echo $UID']);
  t.equal(attached.stdout, '65534\n', 'attached option argument');
});
