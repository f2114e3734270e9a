// Exec-chain wrappers: start-up cost of one wrapper and of a fused three-link chain, next to
// the `node -e ''` floor, runit's chpst and daemontools' envdir (when installed).
import { existsSync, mkdirSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { BIN_DIR, FLOOR, benchDir, bin, ms, table, timeInterleaved } from './lib.mjs';

/** The first existing path of a peer program (absolute: our own wrappers share the names). */
function peer(...paths) {
  return paths.find((p) => existsSync(p));
}

export const title = 'Exec-chain wrappers (chpst, envdir, setuidgid, softlimit)';

/** CPU time (user + system, ms) of the children this process has reaped: /proc/self/stat
 * fields cutime and cstime, in clock ticks (100 per second on Linux). */
function childrenCpuMs() {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[13]) + Number(f[14])) * 10;
}

/** Mean CPU time per run of each case (ms), runs interleaved: less sensitive to the machine's
 * load than wall-clock time, since waiting for a CPU is not counted. */
function cpuInterleaved(cases, runs) {
  const total = Object.fromEntries(cases.map((c) => [c.label, 0]));
  for (let i = 0; i < runs; i++) {
    for (const c of cases) {
      const before = childrenCpuMs();
      spawnSync(c.argv[0], c.argv.slice(1), { stdio: 'ignore', ...c.opts });
      total[c.label] += childrenCpuMs() - before;
    }
  }
  return Object.fromEntries(Object.entries(total).map(([k, v]) => [k, v / runs]));
}

/** Environment without our bin dir (peers) or with it first (ours). */
function env(ours) {
  const e = { ...process.env };
  delete e.NODE_OPTIONS;
  delete e.TSV_NOFILE;
  const base = (e.PATH ?? '/usr/bin:/bin').split(':').filter((d) => d !== BIN_DIR).join(':');
  e.PATH = ours ? `${BIN_DIR}:${base}` : base;
  return e;
}

export async function run() {
  const load0 = loadavg()[0];
  const dir = benchDir();
  try {
    mkdirSync(join(dir, 'env'));
    writeFileSync(join(dir, 'env', 'GREETING'), 'hello\n');
    writeFileSync(join(dir, 'env', 'EMPTY'), '');
    const root = process.getuid?.() === 0;
    const oursOpts = { cwd: dir, env: env(true) };
    const peerOpts = { cwd: dir, env: env(false) };
    const chain = ['./env', 'setuidgid', 'nobody', 'softlimit', '-m', '300000000', 'true'];
    const cases = [
      { ...FLOOR, opts: { env: env(false) } },
      { label: 'tsv envdir ./env true', argv: [bin('envdir'), './env', 'true'], opts: oursOpts },
    ];
    if (root) cases.push({ label: 'tsv envdir ./env setuidgid nobody softlimit -m 300000000 true', argv: [bin('envdir'), ...chain], opts: oursOpts });
    cases.push({ label: 'tsv chpst -e ./env true', argv: [bin('chpst'), '-e', './env', 'true'], opts: oursOpts });
    const runitChpst = peer('/usr/bin/chpst', '/sbin/chpst', '/usr/sbin/chpst');
    if (runitChpst) cases.push({ label: 'runit chpst -e ./env true', argv: [runitChpst, '-e', './env', 'true'], opts: peerOpts });
    const djbEnvdir = peer('/usr/bin/envdir', '/usr/local/bin/envdir', '/command/envdir');
    if (djbEnvdir) {
      cases.push({ label: 'daemontools envdir ./env true', argv: [djbEnvdir, './env', 'true'], opts: peerOpts });
      if (root) cases.push({ label: 'daemontools envdir ./env setuidgid nobody softlimit -m 300000000 true', argv: [djbEnvdir, ...chain], opts: peerOpts });
    }
    const caSet = process.env.NODE_EXTRA_CA_CERTS !== undefined;
    const NOCA = "node -e '' without NODE_EXTRA_CA_CERTS";
    if (caSet) {
      const e = env(false);
      delete e.NODE_EXTRA_CA_CERTS;
      cases.splice(1, 0, { label: NOCA, argv: [process.execPath, '-e', ''], opts: { env: e } });
    }
    const res = timeInterleaved(cases, 40, 5);
    const cpu = cpuInterleaved(cases, 40);
    const floor = res[FLOOR.label].median;
    const rows = cases.map((c) => {
      const s = res[c.label];
      return [`\`${c.label}\``, ms(s.median), ms(s.p90), ms(s.min), c.label === FLOOR.label ? '' : `${s.median - floor >= 0 ? '+' : ''}${ms(s.median - floor)}`, ms(cpu[c.label])];
    });
    const one = res['tsv envdir ./env true'].median - floor;
    const three = root ? res['tsv envdir ./env setuidgid nobody softlimit -m 300000000 true'].median - floor : NaN;
    const noca = caSet ? res[NOCA].median : undefined;
    /** "x ms above" or "x ms below", for a difference to a floor. */
    const rel = (d) => (d >= 0 ? `${ms(d)} above` : `${ms(-d)} below`);
    const verdict = [
      `- one wrapper: ${rel(one)} the floor (target: at most 15 ms above): ${one <= 15 ? 'met' : 'NOT met'}`,
      root ? `- three-link chain (fused into one Node start): ${rel(three)} the floor (target: at most 25 ms above): ${three <= 25 ? 'met' : 'NOT met'}` : '- three-link chain: not measured (needs root for setuidgid nobody)',
    ];
    if (noca !== undefined) {
      const oneN = res['tsv envdir ./env true'].median - noca;
      const threeN = root ? res['tsv envdir ./env setuidgid nobody softlimit -m 300000000 true'].median - noca : NaN;
      const cpuOne = cpu['tsv envdir ./env true'] - cpu[NOCA];
      const cpuThree = root ? cpu['tsv envdir ./env setuidgid nobody softlimit -m 300000000 true'] - cpu[NOCA] : NaN;
      verdict.push(
        `- NODE_EXTRA_CA_CERTS is set here: it costs every Node start ${ms(floor - noca)} (median; ${ms(cpu[FLOOR.label] - cpu[NOCA])} of CPU). Our launchers park it while the wrapper runs (an exec wrapper makes no TLS connection) and hand it back to the exec'd program, which is why a wrapper can beat \`node -e ''\`.`,
        `- Against the floor without it, the targets are ${oneN <= 15 && (!root || threeN <= 25) ? 'met' : 'NOT met'}: one wrapper ${rel(oneN)} (${ms(cpuOne)} more CPU), three-link chain ${root ? `${rel(threeN)} (${ms(cpuThree)} more CPU)` : 'n/a'}. That cost is the launcher (/bin/sh), loading the one-file bundle and the addon, and the work itself (docs/exec.md).`,
      );
    }
    return [
      `Wall-clock time of one run (spawn to exit), 40 interleaved runs after 5 warm-ups, and the mean CPU time`,
      `of a run (another 40 interleaved runs; CPU time does not count waiting for a CPU, so it varies less`,
      `with the machine's load: ${load0.toFixed(1)} at the start of this run on ${cpus().length} CPUs). Our wrappers are`,
      'launched as installed (`node_modules/.bin`, a `/bin/sh` launcher that execs Node), so the figures',
      'include the launcher. The chain fuses: envdir applies setuidgid and softlimit in the same process',
      'and execs `true` once.',
      '',
      table(['command', 'median', 'p90', 'min', 'median vs floor', 'CPU (user+sys)'], rows),
      '',
      ...verdict,
    ].join('\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
