// Under a peer's name (a symlink runsvdir or runsv to tsvscan or tsv) the program takes the
// peer's arguments, usage line and exit codes; under its own name its usage says its own name,
// and tsvscan without DIR needs its default directory to exist instead of waiting for it.
import t from 'tap';
import { mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { bin, run, spawnTracked, tmpdir, waitFor } from '@tsv/testkit';
import { killUnderAtEnd, makeService, scanEnv, scanTmpdir, sleepers } from '@tsv/testkit/scan';

const env = scanEnv();
const have = (p: string): boolean => spawnSync('sh', ['-c', `command -v ${p}`]).status === 0;

/** A symlink named name to our executable prog, in a fresh temp dir. */
function peerLink(t: Parameters<typeof tmpdir>[0], name: string, prog: string): string {
  const link = join(tmpdir(t, 'tsv-peer-'), name);
  symlinkSync(bin(prog), link);
  return link;
}

t.test('runsvdir without a directory: its usage, exit 1, as runit prints it', async (t) => {
  const link = peerLink(t, 'runsvdir', 'tsvscan');
  for (const args of [[], ['-P'], ['--'], ['-Pxyz']]) {
    const r = await run('env', ['-u', 'NODE_OPTIONS', link, ...args], { env });
    t.same([r.code, r.stdout, r.stderr], [1, '', 'usage: runsvdir [-P] dir\n\n'], `runsvdir ${args.join(' ')}`);
    if (have('runsvdir')) {
      const real = await run('runsvdir', args, { env });
      t.same([real.code, real.stderr], [r.code, r.stderr], `the same as runit's runsvdir ${args.join(' ')}`);
    }
  }
});

t.test('runsvdir -P DIR [log] supervises DIR; TERM stops it, exit 0', async (t) => {
  const dir = scanTmpdir(t);
  const m = String(200_000 + Math.floor(Math.random() * 700_000));
  makeService(dir, 'a', `exec sleep ${m}`);
  killUnderAtEnd(t, dir);
  const link = peerLink(t, 'runsvdir', 'tsvscan');
  const scan = spawnTracked(t, 'env', ['-u', 'NODE_OPTIONS', link, '-P', dir, 'log: .......'], { env });
  await waitFor(() => sleepers(m).length === 1, 15_000, 'the service');
  process.kill(scan.pid, 'SIGTERM');
  t.same(await scan.exited, { code: 0, signal: null });
  t.same(sleepers(m), []);
});

t.test('runsv without a directory: its usage, exit 1', async (t) => {
  const link = peerLink(t, 'runsv', 'tsv');
  for (const args of [[], ['a', 'b']]) {
    const r = await run('env', ['-u', 'NODE_OPTIONS', link, ...args], { env });
    t.same([r.code, r.stderr], [1, 'usage: runsv dir\n\n'], `runsv ${args.join(' ')}`);
    if (have('runsv')) {
      const real = await run('runsv', args, { env });
      t.same([real.code, real.stderr], [r.code, r.stderr], "the same as runit's runsv");
    }
  }
});

t.test('under their own names: usage says tsv / tsvscan', async (t) => {
  const a = await run('env', ['-u', 'NODE_OPTIONS', bin('tsv')], { env });
  t.same([a.code, a.stderr], [1, 'usage: tsv [-q] [-g secs] dir\n']);
  const b = await run('env', ['-u', 'NODE_OPTIONS', bin('tsvscan'), 'a', 'b'], { env });
  t.same([b.code, b.stderr], [1, 'usage: tsvscan [-q] [-g secs] [dir]\n']);
});

t.test('tsvscan without DIR: a missing default directory is fatal (no wait forever)', async (t) => {
  const home = tmpdir(t, 'tsv-home-');
  const noSvdir = { ...env, HOME: home };
  delete noSvdir.SVDIR;
  const a = await run('env', ['-u', 'NODE_OPTIONS', bin('tsvscan')], { env: noSvdir, timeoutMs: 15_000 });
  t.same([a.code, a.stderr], [111, `tsvscan ${home}/service: fatal: unable to stat ${home}/service: file does not exist\n`], '~/service');
  const b = await run('env', ['-u', 'NODE_OPTIONS', bin('tsvscan')], { env: { ...noSvdir, SVDIR: join(home, 'sv') }, timeoutMs: 15_000 });
  t.same([b.code, b.stderr], [111, `tsvscan ${home}/sv: fatal: unable to stat ${home}/sv: file does not exist\n`], '$SVDIR');
  // an existing default is supervised
  const m = String(200_000 + Math.floor(Math.random() * 700_000));
  mkdirSync(join(home, 'service'));
  makeService(join(home, 'service'), 'a', `exec sleep ${m}`);
  killUnderAtEnd(t, join(home, 'service'));
  const scan = spawnTracked(t, 'env', ['-u', 'NODE_OPTIONS', bin('tsvscan')], { env: noSvdir });
  await waitFor(() => sleepers(m).length === 1, 15_000, 'the service of ~/service');
  process.kill(scan.pid, 'SIGTERM');
  t.same(await scan.exited, { code: 0, signal: null });
});
