// The daemontools-semantics wrappers: envdir, setuidgid, envuidgid, softlimit, setlock,
// pgrphack, black-box on the built executables.
import t from 'tap';
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { IS_ROOT, tmpdir, waitFor } from '@tsv/testkit';
import { chainEnv, fields, limits, nobodySkip, runWrapper, spawnWrapper, statFields, flockWaiterOn } from '@tsv/testkit/chain';

const root = { skip: !IS_ROOT && 'needs root' };

t.test('envdir: values as daemontools reads them', async (t) => {
  const dir = tmpdir(t);
  const env = join(dir, 'env');
  mkdirSync(env);
  writeFileSync(join(env, 'TRAIL'), 'value1  \t \nsecond');
  writeFileSync(join(env, 'NULS'), 'a\0b\0c\n');
  writeFileSync(join(env, 'NL'), '\n');
  writeFileSync(join(env, 'LEAD'), '  lead');
  writeFileSync(join(env, 'NOEOL'), 'noeol');
  writeFileSync(join(env, 'CR'), 'cr\r\n');
  writeFileSync(join(env, '.hidden'), 'x');
  writeFileSync(join(env, 'GONE'), '');
  writeFileSync(join(env, 'PATH'), '/nonexistent\n');
  const show = 'printf "[%s]" "$TRAIL" "$NULS" "${NL-unset}" "$LEAD" "$NOEOL" "$CR" "${GONE-unset}" "$PATH"; /usr/bin/env | /bin/grep -c "^\\.hidden=" || true';
  const r = await runWrapper('envdir', [env, 'sh', '-c', show], { env: chainEnv({ GONE: 'here' }) });
  t.equal(r.code, 0, r.stderr);
  t.equal(r.stdout, '[value1][a\nb\nc][][  lead][noeol][cr\r][unset][/nonexistent]0\n');
  t.equal(r.stderr, '');
});

t.test('envdir: a file name with "=" is not validated (C=D holding x=y sets C), with a warning', async (t) => {
  const dir = tmpdir(t);
  writeFileSync(join(dir, 'C=D'), 'x=y\n');
  const r = await runWrapper('envdir', [dir, 'sh', '-c', 'echo "$C"']);
  t.equal(r.code, 0);
  t.equal(r.stdout, 'D=x=y\n');
  t.equal(r.stderr, `envdir: warning: ${dir}/C=D: file name contains '=': sets C\n`);
});

t.test('envdir: a subdirectory is fatal; usage exits 111', async (t) => {
  const dir = tmpdir(t);
  mkdirSync(join(dir, 'SUB'));
  const r = await runWrapper('envdir', [dir, 'true']);
  t.equal(r.code, 111);
  t.equal(r.stderr, `envdir: fatal: unable to read ${dir}/SUB: is a directory\n`);
  for (const args of [[], [dir]]) {
    const u = await runWrapper('envdir', args);
    t.equal(u.code, 111);
    t.equal(u.stderr, 'envdir: usage: envdir dir child\n');
  }
});

t.test('setuidgid: uid, gid, groups = [gid], environment unchanged', root, async (t) => {
  const r = await runWrapper('setuidgid', ['nobody', 'sh', '-c', 'cat /proc/$$/status; echo "HOME=$HOME USER=$USER"'], {
    env: chainEnv({ HOME: '/root', USER: 'root' }),
  });
  t.equal(r.code, 0, r.stderr);
  const st = fields(r.stdout);
  t.equal(st.get('Uid'), '65534\t65534\t65534\t65534');
  t.equal(st.get('Gid'), '65534\t65534\t65534\t65534');
  t.equal(st.get('Groups'), '65534');
  t.match(r.stdout, /^HOME=\/root USER=root$/m);
  const named = await runWrapper('setuidgid', ['nobody:adm', 'true']);
  t.equal(named.code, 111);
  t.equal(named.stderr, 'setuidgid: fatal: unknown account nobody:adm\n', 'no user:group syntax');
  if (nobodySkip(IS_ROOT) === false) {
    const again = await runWrapper('setuidgid', ['nobody', 'setuidgid', 'root', 'true']);
    t.equal(again.code, 111);
    t.equal(again.stderr, 'setuidgid: fatal: unable to setgid: permission denied\n');
  }
});

t.test('envuidgid: UID and GID from passwd, nothing else', async (t) => {
  const r = await runWrapper('envuidgid', ['daemon', 'sh', '-c', 'echo "$UID $GID $(id -u)"']);
  t.equal(r.code, 0, r.stderr);
  t.equal(r.stdout, `1 1 ${process.getuid?.()}\n`);
  const u = await runWrapper('envuidgid', ['nosuchuser-x', 'true']);
  t.equal(u.code, 111);
  t.equal(u.stderr, 'envuidgid: fatal: unknown account nosuchuser-x\n');
});

t.test('softlimit: every option, "=" means the hard limit', async (t) => {
  const args = ['-a', '400000000', '-c', '0', '-d', '200000000', '-f', '3000000', '-l', '4096', '-o', '90', '-p', '400', '-r', '6000000', '-s', '4000000', '-t', '50'];
  const r = await runWrapper('softlimit', [...args, 'cat', '/proc/self/limits']);
  t.equal(r.code, 0, r.stderr);
  const l = limits(r.stdout);
  t.equal(l.get('Max address space')?.soft, '400000000');
  t.equal(l.get('Max core file size')?.soft, '0');
  t.equal(l.get('Max data size')?.soft, '200000000');
  t.equal(l.get('Max file size')?.soft, '3000000');
  t.equal(l.get('Max locked memory')?.soft, '4096');
  t.equal(l.get('Max open files')?.soft, '90');
  t.equal(l.get('Max processes')?.soft, '400');
  t.equal(l.get('Max resident set')?.soft, '6000000');
  t.equal(l.get('Max stack size')?.soft, '4000000');
  t.equal(l.get('Max cpu time')?.soft, '50');
  const m = await runWrapper('softlimit', ['-m', '300000000', 'cat', '/proc/self/limits']);
  const lm = limits(m.stdout);
  for (const n of ['Max data size', 'Max stack size', 'Max address space']) t.equal(lm.get(n)?.soft, '300000000', `-m: ${n}`);
  t.equal(m.stderr, '', '-m clamps MEMLOCK silently');
  const eq = await runWrapper('softlimit', ['-o', '=', 'cat', '/proc/self/limits']);
  t.equal(limits(eq.stdout).get('Max open files')?.soft, limits(eq.stdout).get('Max open files')?.hard);
});

t.test('softlimit: a value above the hard limit is clamped, with one warning line', root, async (t) => {
  const hard = limits(readFileSync('/proc/self/limits', 'utf8')).get('Max open files')?.hard;
  const r = await runWrapper('softlimit', ['-o', '9999999999', 'setuidgid', 'nobody', 'cat', '/proc/self/limits']);
  t.equal(r.code, 0, r.stderr);
  t.equal(limits(r.stdout).get('Max open files')?.soft, hard);
  t.equal(r.stderr, `softlimit: warning: -o 9999999999 is above the hard limit of RLIMIT_NOFILE: set to ${hard}\n`);
  if (nobodySkip(IS_ROOT) === false) {
    const nobody = await runWrapper('setuidgid', ['nobody', 'softlimit', '-o', '9999999999', 'cat', '/proc/self/limits']);
    t.equal(nobody.code, 0, 'non-root user: clamped too');
    t.equal(limits(nobody.stdout).get('Max open files')?.soft, hard);
    t.equal(nobody.stderr, `softlimit: warning: -o 9999999999 is above the hard limit of RLIMIT_NOFILE: set to ${hard}\n`);
  }
});

t.test('setlock: waits by default, -n fails, -x exits 0, lock file 0600', async (t) => {
  const dir = tmpdir(t);
  const lk = join(dir, 'lk');
  const holder = spawnWrapper(t, 'setlock', [lk, 'sh', '-c', 'echo held; exec cat'], { stdio: ['pipe', 'pipe', 'pipe'] });
  await waitFor(() => holder.stdout().includes('held'));
  t.equal(statSync(lk).mode & 0o777, 0o600);
  const n = await runWrapper('setlock', ['-n', lk, 'true']);
  t.equal(n.code, 111);
  t.equal(n.stderr, `setlock: fatal: unable to lock ${lk}: temporary failure\n`);
  const nx = await runWrapper('setlock', ['-nx', lk, 'echo', 'ran']);
  t.equal(nx.code, 0);
  t.equal(nx.stdout + nx.stderr, '', '-x: silent');
  const nX = await runWrapper('setlock', ['-nxX', lk, 'true']);
  t.equal(nX.code, 111, '-X undoes -x');
  const waiter = spawnWrapper(t, 'setlock', ['-nN', lk, 'echo', 'got it']);
  await waitFor(() => flockWaiterOn(lk), 10_000, 'a blocked flock waiter');
  t.equal(waiter.stdout(), '', '-N (the default) waits');
  holder.child.stdin?.end();
  t.equal((await waiter.exited).code, 0);
  t.equal(waiter.stdout(), 'got it\n');
  const missing = await runWrapper('setlock', [join(dir, 'no', 'lk'), 'true']);
  t.equal(missing.code, 111);
  t.equal(missing.stderr, `setlock: fatal: unable to open ${join(dir, 'no', 'lk')}: file does not exist\n`);
  const mx = await runWrapper('setlock', ['-x', join(dir, 'no', 'lk'), 'true']);
  t.equal(mx.code, 0);
  t.equal(mx.stderr, '');
});

t.test('pgrphack: new session and process group', async (t) => {
  const r = await runWrapper('pgrphack', ['cat', '/proc/self/stat']);
  t.equal(r.code, 0, r.stderr);
  const { pid, rest } = statFields(r.stdout);
  t.equal(Number(rest[2]), pid);
  t.equal(Number(rest[3]), pid);
});

t.test('exec failures: 111 whether not found, not executable or a directory (as runit and daemontools)', async (t) => {
  const dir = tmpdir(t);
  const plain = join(dir, 'plain');
  writeFileSync(plain, 'echo no\n');
  chmodSync(plain, 0o644);
  const cases: Array<[string, string[], number, string]> = [
    ['envdir', [dir, 'no-such-program-x'], 111, 'envdir: fatal: unable to run no-such-program-x: file does not exist\n'],
    ['pgrphack', [plain], 111, `pgrphack: fatal: unable to run ${plain}: access denied\n`],
    ['softlimit', ['-o', '50', dir], 111, `softlimit: fatal: unable to run ${dir}: access denied\n`],
    ['setlock', [join(dir, 'lk'), 'no-such-program-x'], 111, 'setlock: fatal: unable to run no-such-program-x: file does not exist\n'],
    ['envuidgid', ['daemon', join(dir, 'missing')], 111, `envuidgid: fatal: unable to run ${join(dir, 'missing')}: file does not exist\n`],
    ['chpst', ['-b', 'alias', 'no-such-program-x'], 111, 'chpst: fatal: unable to run: alias: file does not exist\n'],
  ];
  for (const [w, args, code, msg] of cases) {
    const r = await runWrapper(w, args);
    t.equal(r.code, code, `${w} status`);
    t.equal(r.stderr, msg, `${w} message`);
  }
  // a PATH element that is a file stops the search, as in runit and daemontools
  const notDir = await runWrapper('envdir', [dir, 'true'], { env: chainEnv({ PATH: `${plain}:${dirname(process.execPath)}:/usr/bin:/bin` }) });
  t.equal(notDir.code, 111);
  t.equal(notDir.stderr, 'envdir: fatal: unable to run true: not a directory\n');
  if (IS_ROOT) {
    const r = await runWrapper('setuidgid', ['nobody', plain]);
    t.equal(r.code, 111);
    t.equal(r.stderr, `setuidgid: fatal: unable to run ${plain}: access denied\n`);
  }
});
