// Bad input (the list): each case gets one clear line on stderr (plus the usage text
// for usage errors, as runit/daemontools print it) and the spec's exit code; never a trace.
import t, { type Test } from 'tap';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { IS_ROOT, tmpdir, waitFor } from '@tsv/testkit';
import { nobodySkip, runWrapper, spawnWrapper, flockWaiterOn } from '@tsv/testkit/chain';
import { CHPST_USAGE, ENVDIR_USAGE, SETUIDGID_USAGE, ENVUIDGID_USAGE, SOFTLIMIT_USAGE, SETLOCK_USAGE, PGRPHACK_USAGE } from '@tsv/chain';

/** Run one case and check status and the exact stderr. */
async function check(t: Test, name: string, args: string[], code: number, stderr: string | RegExp): Promise<void> {
  const r = await runWrapper(name, args);
  t.equal(r.code, code, `${name} ${args.join(' ')}: status`);
  if (typeof stderr === 'string') t.equal(r.stderr, stderr, `${name} ${args.join(' ')}: message`);
  else t.match(r.stderr, stderr, `${name} ${args.join(' ')}: message`);
  t.notMatch(r.stderr, /^\s+at /m, 'no stack trace');
}

t.test('an empty argument list: usage, with the spec\'s status', async (t) => {
  // independent runs: in parallel, to keep the file fast on a loaded machine
  await Promise.all([
    check(t, 'chpst', [], 100, CHPST_USAGE),
    check(t, 'envdir', [], 111, `${ENVDIR_USAGE}\n`),
    check(t, 'setuidgid', [], 100, `${SETUIDGID_USAGE}\n`),
    check(t, 'envuidgid', [], 100, `${ENVUIDGID_USAGE}\n`),
    check(t, 'softlimit', [], 100, `${SOFTLIMIT_USAGE}\n`),
    check(t, 'setlock', [], 100, `${SETLOCK_USAGE}\n`),
    check(t, 'pgrphack', [], 100, `${PGRPHACK_USAGE}\n`),
    check(t, 'setuidgid', ['nobody'], 100, `${SETUIDGID_USAGE}\n`),
    check(t, 'setlock', ['lk'], 100, `${SETLOCK_USAGE}\n`),
    check(t, 'chpst', ['-u', 'nobody'], 100, CHPST_USAGE),
    check(t, 'chpst', ['-Z', 'true'], 100, `chpst: illegal option -- Z\n${CHPST_USAGE}`),
    check(t, 'chpst', ['-u'], 100, `chpst: option requires an argument -- u\n${CHPST_USAGE}`),
    check(t, 'chpst', ['-l', 'a', '-L', 'b', 'true'], 100, CHPST_USAGE),
    check(t, 'softlimit', ['-Z', '1', 'true'], 100, `softlimit: illegal option -- Z\n${SOFTLIMIT_USAGE}\n`),
    check(t, 'setlock', ['-q', 'lk', 'true'], 100, `setlock: illegal option -- q\n${SETLOCK_USAGE}\n`),
  ]);
});

t.test('a missing or unreadable env dir', async (t) => {
  const dir = tmpdir(t);
  const missing = join(dir, 'missing');
  await check(t, 'envdir', [missing, 'true'], 111, `envdir: fatal: unable to switch to directory ${missing}: file does not exist\n`);
  await check(t, 'chpst', ['-e', missing, 'true'], 111, `chpst: fatal: unable to switch to directory: ${missing}: file does not exist\n`);
  const file = join(dir, 'file');
  writeFileSync(file, '');
  await check(t, 'envdir', [file, 'true'], 111, `envdir: fatal: unable to switch to directory ${file}: not a directory\n`);
  if (nobodySkip(IS_ROOT) === false) {
    chmodSync(dir, 0o755);
    const closed = join(dir, 'closed');
    mkdirSync(closed, { mode: 0o700 });
    await check(t, 'setuidgid', ['nobody', 'envdir', closed, 'true'], 111, `envdir: fatal: unable to switch to directory ${closed}: access denied\n`);
    const open = join(dir, 'open');
    mkdirSync(open, { mode: 0o755 });
    writeFileSync(join(open, 'SECRET'), 'x', { mode: 0o600 });
    await check(t, 'setuidgid', ['nobody', 'envdir', open, 'true'], 111, `envdir: fatal: unable to read ${open}/SECRET: access denied\n`);
  }
});

t.test('env file names containing "="', async (t) => {
  const dir = tmpdir(t);
  writeFileSync(join(dir, 'A=B'), 'c\n');
  await check(t, 'envdir', [dir, 'true'], 0, `envdir: warning: ${dir}/A=B: file name contains '=': sets A\n`);
  await check(t, 'chpst', ['-e', dir, 'true'], 0, `chpst: warning: ${dir}/A=B: file name contains '=': sets A\n`);
});

t.test('an unknown user or group', async (t) => {
  await Promise.all([
    check(t, 'setuidgid', ['no-such-user-x', 'true'], 111, 'setuidgid: fatal: unknown account no-such-user-x\n'),
    check(t, 'envuidgid', ['no-such-user-x', 'true'], 111, 'envuidgid: fatal: unknown account no-such-user-x\n'),
    check(t, 'chpst', ['-u', 'no-such-user-x', 'true'], 111, 'chpst: fatal: unknown user/group: no-such-user-x\n'),
    check(t, 'chpst', ['-u', 'nobody:no-such-group-x', 'true'], 111, 'chpst: fatal: unknown user/group: nobody:no-such-group-x\n'),
    check(t, 'chpst', ['-U', 'no-such-user-x', 'true'], 111, 'chpst: fatal: unknown user/group: no-such-user-x\n'),
    check(t, 'chpst', ['-u', ':1234', 'true'], 111, 'chpst: fatal: invalid uid/gids: 1234\n'),
    check(t, 'chpst', ['-u', ':a:b', 'true'], 111, 'chpst: fatal: invalid uid/gids: a:b\n'),
  ]);
});

t.test('limits that are not numbers, negative, empty, or above the hard limit', async (t) => {
  const runs: Array<Promise<void>> = [];
  for (const bad of ['abc', '-5', '12x', '', '1e3', '+4']) {
    // the line names the option and the bad value (issue 11), then the usage as the peers print it
    runs.push(check(t, 'softlimit', ['-o', bad, 'true'], 100, `softlimit: fatal: invalid number for -o: ${bad}\n${SOFTLIMIT_USAGE}\n`));
    runs.push(check(t, 'chpst', ['-o', bad, 'true'], 100, `chpst: fatal: invalid number for -o: ${bad}\n${CHPST_USAGE}`));
  }
  runs.push(check(t, 'chpst', ['-n', 'x', 'true'], 100, `chpst: fatal: invalid number for -n: x\n${CHPST_USAGE}`));
  runs.push(check(t, 'chpst', ['-o', '=', 'true'], 100, `chpst: fatal: invalid number for -o: =\n${CHPST_USAGE}`));
  runs.push(check(t, 'softlimit', ['-t', '99999999999999999999999', 'true'], 0, /^(softlimit: warning: -t 99999999999999999999999 is above the hard limit of RLIMIT_CPU: set to \d+\n)?$/));
  if (nobodySkip(IS_ROOT) === false) {
    runs.push(check(t, 'setuidgid', ['nobody', 'softlimit', '-o', '9999999999', 'true'], 0, /^softlimit: warning: -o 9999999999 is above the hard limit of RLIMIT_NOFILE: set to \d+\n$/));
  }
  await Promise.all(runs);
});

t.test('a lock in a missing directory; a held lock with and without -n', async (t) => {
  const dir = tmpdir(t);
  const nodir = join(dir, 'nodir', 'lk');
  await check(t, 'setlock', [nodir, 'true'], 111, `setlock: fatal: unable to open ${nodir}: file does not exist\n`);
  await check(t, 'chpst', ['-L', nodir, 'true'], 111, `chpst: fatal: unable to open lock: ${nodir}: file does not exist\n`);
  const lk = join(dir, 'lk');
  const holder = spawnWrapper(t, 'setlock', [lk, 'sh', '-c', 'echo held; exec cat'], { stdio: ['pipe', 'pipe', 'pipe'] });
  await waitFor(() => holder.stdout().includes('held'));
  await check(t, 'setlock', ['-n', lk, 'true'], 111, `setlock: fatal: unable to lock ${lk}: temporary failure\n`);
  await check(t, 'chpst', ['-L', lk, 'true'], 111, `chpst: fatal: unable to lock: ${lk}: temporary failure\n`);
  // without -n: it waits (and says nothing) until the holder goes away
  const waiter = spawnWrapper(t, 'setlock', [lk, 'echo', 'got it']);
  await waitFor(() => flockWaiterOn(lk), 10_000, 'a blocked waiter');
  holder.child.stdin?.end();
  t.equal((await waiter.exited).code, 0);
  t.equal(waiter.stderr(), '');
});

t.test('a program that is missing, not executable, or a directory', async (t) => {
  const dir = tmpdir(t);
  const plain = join(dir, 'plain');
  writeFileSync(plain, 'true\n');
  await check(t, 'chpst', ['no-such-program-x'], 111, 'chpst: fatal: unable to run: no-such-program-x: file does not exist\n');
  await check(t, 'chpst', [plain], 111, `chpst: fatal: unable to run: ${plain}: access denied\n`);
  await check(t, 'chpst', [dir], 111, `chpst: fatal: unable to run: ${dir}: access denied\n`);
  await check(t, 'envdir', [dir, 'no-such-program-x'], 111, 'envdir: fatal: unable to run no-such-program-x: file does not exist\n');
  await check(t, 'setlock', [join(dir, 'lk'), plain], 111, `setlock: fatal: unable to run ${plain}: access denied\n`);
  await check(t, 'pgrphack', [dir], 111, `pgrphack: fatal: unable to run ${dir}: access denied\n`);
});

