// `tsvctl boot INIT [DIR]`: the systemd units pass `systemd-analyze verify`; the runit service
// directory really starts tsvscan DIR under runit's runsv (and `sv down` stops it, exit 0); the
// launchd plist parses; every output names this node's directory and tsvscan's real path.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { spawnTracked, waitFor } from '@tsv/testkit';
import { makeService, scanTmpdir, scanEnv, supervisedPid } from '@tsv/testkit/scan';
import { onPath, tsvctl } from '@tsv/testkit/ctl';


t.test('systemd and systemd-user units pass systemd-analyze verify and name the resolved paths', async (t) => {
  const dir = scanTmpdir(t);
  for (const init of ['systemd', 'systemd-user']) {
    const r = await tsvctl(['boot', init, join(dir, 'scan')]);
    t.equal(r.code, 0, r.stderr);
    t.match(r.stdout, new RegExp(`ExecStart=/\\S+/tsvscan\\.cjs ${join(dir, 'scan')}\\n`), `${init}: ExecStart runs tsvscan's launcher by its real path on DIR`);
    t.match(r.stdout, /KillMode=mixed\n/);
    t.match(r.stdout, init === 'systemd' ? /WantedBy=multi-user.target/ : /WantedBy=default.target/);
    const nodeDir = dirname(realpathSync(process.execPath));
    t.match(r.stdout, new RegExp(`Environment=PATH=(${nodeDir}:)?/usr/local/sbin`), 'node\'s directory first on PATH');
    const unit = join(dir, init, 'tsvscan.service');
    mkdirSync(dirname(unit));
    writeFileSync(unit, r.stdout);
    if (!onPath('systemd-analyze')) {
      t.comment('systemd-analyze not installed: verify skipped');
      continue;
    }
    const args = init === 'systemd' ? ['verify', unit] : ['--user', 'verify', unit];
    const v = spawnSync('systemd-analyze', args, { encoding: 'utf8', env: { ...process.env, XDG_RUNTIME_DIR: dirname(unit) } });
    t.equal(v.status, 0, `systemd-analyze ${args.join(' ')}: ${v.stderr}`);
  }
  const bad = join(dir, 'bad.service');
  writeFileSync(bad, readFileSync(join(dir, 'systemd', 'tsvscan.service'), 'utf8').replace('ExecStart=/', 'ExecStart=relative/'));
  if (onPath('systemd-analyze')) t.not(spawnSync('systemd-analyze', ['verify', bad]).status, 0, 'and verify does fail a broken unit');
});

t.test('--install writes the unit (systemd-user: says how to enable lingering); bad input is one line', async (t) => {
  const dir = scanTmpdir(t);
  const to = join(dir, 'u', 'tsvscan.service');
  let r = await tsvctl(['boot', 'systemd-user', '--install', '--to', to, join(dir, 'scan')]);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, `wrote ${to}\n`);
  t.match(r.stdout, /loginctl enable-linger \S+/);
  t.match(readFileSync(to, 'utf8'), /ExecStart=/);
  r = await tsvctl(['boot', 'systemd-user', '--install', '--to', to, join(dir, 'scan')]);
  t.match(r.stdout, `replaced ${to}\n`);
  r = await tsvctl(['boot', 'upstart']);
  t.equal(r.code, 100);
  t.equal(r.stderr, 'tsvctl: fatal: unknown init: upstart (one of systemd, systemd-user, launchd, openrc, runit, s6)\n');
  r = await tsvctl(['boot', 'runit', '--to', dir]);
  t.equal(r.code, 100);
  t.equal(r.stderr, 'tsvctl: fatal: --to needs --install\n');
});

t.test('openrc, launchd and s6 outputs', async (t) => {
  const dir = scanTmpdir(t);
  const scan = join(dir, 'my scan');
  let r = await tsvctl(['boot', 'openrc', scan]);
  t.match(r.stdout, /^#!\/sbin\/openrc-run\n/);
  t.match(r.stdout, /supervisor=supervise-daemon\n/);
  t.match(r.stdout, `command_args=''\\''${scan}'\\'''\n`, 'DIR quoted once for openrc-run\'s eval');
  t.equal(spawnSync('sh', ['-n', '-c', r.stdout]).status, 0, 'valid sh');
  r = await tsvctl(['boot', 'launchd', scan]);
  const plist = join(dir, 'x.plist');
  writeFileSync(plist, r.stdout);
  const py = spawnSync('python3', ['-c', 'import plistlib,sys,json; print(json.dumps(plistlib.load(open(sys.argv[1],"rb"))))', plist], { encoding: 'utf8' });
  if (py.status !== 0 && py.error !== undefined) t.comment('python3 missing: plist not parsed');
  else {
    const p = JSON.parse(py.stdout) as { Label: string; ProgramArguments: string[]; KeepAlive: boolean };
    t.equal(p.Label, 'org.tsv.tsvscan');
    t.match(p.ProgramArguments[0], /\/tsvscan\.cjs$/);
    t.equal(p.ProgramArguments[1], scan);
    t.equal(p.KeepAlive, true);
  }
  r = await tsvctl(['boot', 's6', '--install', '--to', join(dir, 's6svc'), scan]);
  t.equal(r.code, 0, r.stderr);
  t.equal(statSync(join(dir, 's6svc', 'run')).mode & 0o777, 0o755);
});

t.test('the runit service directory starts tsvscan DIR under a real runsv; sv down stops it', { skip: onPath('runsv') && onPath('sv') ? false : 'runit not installed' }, async (t) => {
  const dir = scanTmpdir(t);
  const scan = join(dir, 'scan');
  mkdirSync(scan);
  const inner = makeService(scan, 'inner', 'exec sleep 1003');
  const svc = join(dir, 'tsvscan-svc');
  const r = await tsvctl(['boot', 'runit', '--install', '--to', svc, scan]);
  t.equal(r.code, 0, r.stderr);
  const runsv = spawnTracked(t, 'runsv', [svc], { env: scanEnv() });
  await waitFor(() => supervisedPid(inner), 20_000, 'tsvscan (under runsv) to start inner');
  const scanPid = supervisedPid(svc);
  t.match(readFileSync(`/proc/${scanPid}/cmdline`, 'utf8'), /tsvscan\.cjs\0/, 'runsv runs tsvscan');
  const down = spawnSync('sv', ['-w', '20', 'down', svc], { encoding: 'utf8' });
  t.match(down.stdout, /^ok: down: /, 'sv down: tsvscan stopped on TERM');
  t.match(readFileSync(join(svc, 'supervise', 'stat'), 'utf8'), /^down/);
  t.equal(supervisedPid(inner) === 0 || spawnSync('kill', ['-0', String(supervisedPid(inner))]).status !== 0, true, 'and its service is gone');
  spawnSync('sv', ['exit', svc]);
  await runsv.exited;
});
