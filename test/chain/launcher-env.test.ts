// The launchers (packages/*/bin/*.cjs, a /bin/sh line then Node) hand on exactly the
// environment they were given: sh's own PWD must not reach a wrapper's program or a service
// (issue 10 item 8). Run under `env -i` so that nothing between the test and the launcher
// (tap, a helper shell) adds a variable; compared with daemontools' envdir and runit's chpst.
import t, { type Test } from 'tap';
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bin, run, spawnTracked, tmpdir, waitFor } from '@tsv/testkit';
import { killUnder } from '@tsv/testkit/services';

const PATH = '/usr/local/bin:/usr/bin:/bin';

/** Run argv under `env -i` with exactly vars, in cwd; returns stdout (and asserts exit 0). */
async function clean(t: Test, cwd: string, vars: string[], argv: string[]): Promise<string> {
  const r = await run('/usr/bin/env', ['-i', ...vars, ...argv], { cwd });
  t.equal(r.code, 0, `${argv.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** The installed daemontools/runit program of that name (not ours), undefined when absent. */
function peer(name: string): string | undefined {
  return existsSync(`/usr/bin/${name}`) ? `/usr/bin/${name}` : undefined;
}

t.test('envdir, chpst -e, softlimit, setuidgid, pgrphack: env -i PATH=... prints exactly PATH plus the directory', async (t) => {
  const dir = tmpdir(t);
  const e = join(dir, 'e');
  mkdirSync(e);
  writeFileSync(join(e, 'FOO'), 'bar\n');
  const vars = [`PATH=${PATH}`];
  const want = `PATH=${PATH}\nFOO=bar\n`;
  t.equal(await clean(t, dir, vars, [bin('envdir'), './e', 'env']), want, 'our envdir');
  const djb = peer('envdir');
  if (djb !== undefined) t.equal(await clean(t, dir, vars, [djb, './e', 'env']), want, "daemontools' envdir agrees");
  t.equal(await clean(t, dir, vars, [bin('chpst'), '-e', './e', 'env']), want, 'our chpst -e');
  const runit = peer('chpst');
  if (runit !== undefined) t.equal(await clean(t, dir, vars, [runit, '-e', './e', 'env']), want, "runit's chpst -e agrees");
  for (const [name, args] of [['softlimit', ['-o', '100']], ['pgrphack', []], ['setlock', ['./lk']], ['envuidgid', ['root']]] as const) {
    const got = await clean(t, dir, vars, [bin(name), ...args, 'env']);
    const extra = name === 'envuidgid' ? 'GID=0\nUID=0\n' : '';
    t.equal(got, `PATH=${PATH}\n${extra}`, `our ${name}`);
  }
});

t.test('a caller PATH without grep: still no PWD, and nothing on stderr', async (t) => {
  const dir = tmpdir(t);
  const only = join(dir, 'only-node');
  mkdirSync(only);
  symlinkSync(process.execPath, join(only, 'node'));
  mkdirSync(join(dir, 'e'));
  const r = await run('/usr/bin/env', ['-i', `PATH=${only}`, bin('envdir'), './e', '/usr/bin/env'], { cwd: dir });
  t.same([r.code, r.stdout, r.stderr], [0, `PATH=${only}\n`, '']);
});

t.test('a PWD the caller passed is handed on as given, even a stale one', async (t) => {
  const dir = tmpdir(t);
  const e = join(dir, 'e');
  mkdirSync(e);
  for (const pwd of ['/nonexistent/stale', dir, '/x\n']) {
    const vars = [`PATH=${PATH}`, `PWD=${pwd}`];
    const want = `PATH=${PATH}\nPWD=${pwd}\n`;
    t.equal(await clean(t, dir, vars, [bin('envdir'), './e', 'env']), want, `our envdir, PWD=${JSON.stringify(pwd)}`);
    const djb = peer('envdir');
    if (djb !== undefined) t.equal(await clean(t, dir, vars, [djb, './e', 'env']), want, `daemontools' envdir, PWD=${JSON.stringify(pwd)}`);
  }
  // a fused chain (chpst -> envdir in one process) and one exec'd for real (-/ is a chroot
  // of "/", which turns fusion off) agree
  const vars = [`PATH=${bin('envdir').replace(/\/envdir$/, '')}:${PATH}`];
  t.equal(await clean(t, dir, vars, [bin('chpst'), '-e', './e', 'envdir', './e', 'env']), `${vars[0]}\n`, 'fused chain');
  t.equal(await clean(t, dir, vars, [bin('chpst'), '-/', '/', 'envdir', e, 'env']), `${vars[0]}\n`, 'chain exec\'d link by link');
});

/** A run program that is no shell (a shell would set PWD itself): node via /usr/bin/env,
 * writing its environment to env.json, then idling. */
const NODE_RUN = '#!/usr/bin/env node\nrequire("fs").writeFileSync("env.json", JSON.stringify(process.env));\nsetInterval(() => {}, 1e6);\n';

t.test('tsv and tsvscan: a service gets exactly the supervisor\'s environment, no PWD', async (t) => {
  const root = tmpdir(t, 'tsv-launch-');
  t.teardown(() => killUnder(root));
  for (const [prog, svc] of [['tsv', 'one'], ['tsvscan', 'scan']] as const) {
    const d = join(root, svc);
    const s = prog === 'tsv' ? d : join(d, 'svc');
    mkdirSync(s, { recursive: true });
    writeFileSync(join(s, 'run'), NODE_RUN, { mode: 0o755 });
    const sup = spawnTracked(t, '/usr/bin/env', ['-i', `PATH=${PATH}`, 'KEEP=me', bin(prog), prog === 'tsv' ? svc : '.'], {
      cwd: prog === 'tsv' ? root : d,
      detached: true,
    });
    const envFile = join(s, 'env.json');
    const text = await waitFor(() => {
      try {
        const x = readFileSync(envFile, 'utf8');
        return x.endsWith('}') ? x : '';
      } catch {
        return '';
      }
    }, 20_000, `${prog}'s service to write env.json`);
    const got = JSON.parse(text) as Record<string, string>;
    // why: in cgroup mode (docs/servicedir.md, "cgroups") run gets one documented variable more,
    // the way out of its cgroup; nothing else is added.
    if (got.TSV_CGROUP_OUTSIDE !== undefined) {
      t.match(got.TSV_CGROUP_OUTSIDE, /\/tsv\/outside\/cgroup\.procs$/, `${prog}: cgroup mode: the way out`);
      delete got.TSV_CGROUP_OUTSIDE;
    }
    t.same(got, { PATH, KEEP: 'me' }, `${prog}: the service's environment`);
    process.kill(sup.pid, 'SIGTERM');
    await sup.exited;
  }
});
