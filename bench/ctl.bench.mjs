// tsvctl: `status` start-up and `-w 5 restart` start-to-return, side by side with runit's sv
// (which polls every 420 ms), s6-svc -wr/-wR on an s6-supervise service, and the `node -e ''`
// floor. Services are supervised by a real runsv and by tsv (when built).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { FLOOR, bareFloor, benchDir, bin, ms, stats, table, timeInterleaved, timeOnce, which } from './lib.mjs';

export const title = 'tsvctl: status and restart (sv, s6-svc)';

const RESTARTS = 12;
/** runsv, tsv and s6 restart at once only a service that ran for a second; wait that long. */
const SETTLE_MS = 1150;

/** Write a service directory with an executable run script. */
function service(root, name, run, extra = {}) {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'run'), run);
  chmodSync(join(dir, 'run'), 0o755);
  for (const [f, text] of Object.entries(extra)) writeFileSync(join(dir, f), text);
  return dir;
}

/** Is a supervisor listening on dir's supervise/control (runit, tsv) or s6's? */
function waitFile(p, timeoutMs = 15_000) {
  const end = Date.now() + timeoutMs;
  return (async () => {
    while (!existsSync(p)) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${p}`);
      await sleep(20);
    }
  })();
}

/** Time `argv` RESTARTS times, each after the service has run for SETTLE_MS; runs that fail
 * (a peer's own timeout on a loaded machine) are counted and left out. With extraOf (a tsv
 * service), each run is also split by tsv.json's wall-clock stamps: start to the old run's
 * exit, that exit to the new run's start, and that start to tsvctl's return. */
async function restarts(argv, opts, extraOf) {
  const samples = [];
  const parts = { toExit: [], respawn: [], toReturn: [] };
  let failed = 0;
  for (let i = 0; i < RESTARTS; i++) {
    await sleep(SETTLE_MS);
    try {
      const t0 = Date.now();
      samples.push(timeOnce(argv, opts));
      const t1 = Date.now();
      const x = extraOf?.();
      if (x?.service?.lastExit != null) {
        parts.toExit.push(x.service.lastExit.at - t0);
        parts.respawn.push(x.service.since - x.service.lastExit.at);
        parts.toReturn.push(t1 - x.service.since);
      }
    } catch {
      failed++;
    }
  }
  const med = (a) => (a.length > 0 ? stats(a).median : NaN);
  const split = parts.toExit.length > 0 ? { toExit: med(parts.toExit), respawn: med(parts.respawn), toReturn: med(parts.toReturn) } : undefined;
  return { ...(samples.length > 0 ? stats(samples) : { n: 0, mean: NaN, median: NaN, p90: NaN, min: NaN }), failed, split };
}

export async function run() {
  const dir = benchDir('tsv-ctl-bench-');
  const started = [];
  const env = { ...process.env, PATH: `${join(bin('tsv'), '..')}:${process.env.PATH ?? '/usr/bin:/bin'}` };
  delete env.SVDIR;
  delete env.SVWAIT;
  const opts = { cwd: dir, env };
  const start = (cmd, args) => {
    const c = spawn(cmd, args, { cwd: dir, env, stdio: 'ignore', detached: true });
    started.push(c.pid);
    return c;
  };
  const tsvctl = bin('tsvctl');
  const haveRunit = which('runsv') && which('sv');
  const haveTsv = existsSync(join(bin('tsv')));
  const haveS6 = which('s6-supervise') && which('s6-svc');
  const notes = [];
  try {
    const run = '#!/bin/sh\nexec sleep 100000\n';
    if (haveRunit) {
      service(dir, 'r', run);
      start('runsv', ['r']);
      await waitFile(join(dir, 'r', 'supervise', 'ok'));
    }
    if (haveTsv) {
      service(dir, 't', run);
      start(bin('tsv'), ['t']);
      await waitFile(join(dir, 't', 'supervise', 'ok'));
    }
    if (haveS6) {
      // readiness, so s6 restarts at once a service that was ready for a second
      service(dir, 's6', '#!/bin/sh\necho >&3\nexec 3>&-\nexec sleep 100000\n', { 'notification-fd': '3\n' });
      start('s6-supervise', ['s6']);
      await waitFile(join(dir, 's6', 'supervise', 'status'));
    }
    await sleep(SETTLE_MS);

    // status
    const BARE = bareFloor(opts);
    const cases = [{ ...FLOOR, opts }, BARE];
    if (haveRunit) {
      cases.push({ label: 'tsvctl status ./r (runsv)', argv: [tsvctl, 'status', './r'], opts });
      cases.push({ label: 'sv status ./r (runsv)', argv: ['sv', 'status', './r'], opts });
    }
    if (haveTsv) cases.push({ label: 'tsvctl status ./t (tsv)', argv: [tsvctl, 'status', './t'], opts });
    if (haveS6) cases.push({ label: 's6-svstat ./s6', argv: ['s6-svstat', './s6'], opts });
    const st = timeInterleaved(cases, 40, 5);
    // why the bare floor: the launchers park NODE_EXTRA_CA_CERTS, so the fair comparison is a Node
    // start that does not load the certificates either
    const floor = st[BARE.label].median;
    const vs = (m) => `${m - floor >= 0 ? '+' : ''}${ms(m - floor)}`;
    const isFloor = (label) => label.includes("node -e ''");
    const statusRows = cases.map((c) => [`\`${c.label}\``, ms(st[c.label].median), ms(st[c.label].p90), ms(st[c.label].min), isFloor(c.label) ? '' : vs(st[c.label].median)]);

    // restart, start to return
    const rs = [];
    const floors = timeInterleaved([{ ...FLOOR, opts }, BARE], RESTARTS, 2);
    const floorAgain = floors[BARE.label];
    rs.push([`\`${FLOOR.label}\``, floors[FLOOR.label]]);
    rs.push([`\`${BARE.label}\``, floorAgain]);
    if (haveRunit) {
      rs.push(['`tsvctl -w 5 restart ./r` (runsv)', await restarts([tsvctl, '-w', '5', 'restart', './r'], opts)]);
      rs.push(['`sv -w 5 restart ./r` (runsv)', await restarts(['sv', '-w', '5', 'restart', './r'], opts)]);
    }
    const tsvExtra = () => {
      try {
        return JSON.parse(readFileSync(join(dir, 't', 'supervise', 'tsv.json'), 'utf8'));
      } catch {
        return undefined;
      }
    };
    if (haveTsv) rs.push(['`tsvctl -w 5 restart ./t` (tsv)', await restarts([tsvctl, '-w', '5', 'restart', './t'], opts, tsvExtra)]);
    if (haveS6) {
      rs.push(['`s6-svc -wR -T 5000 -r ./s6` (s6, until ready)', await restarts(['s6-svc', '-wR', '-T', '5000', '-r', './s6'], opts)]);
      rs.push(['`s6-svc -wr -T 5000 -r ./s6` (s6, until up)', await restarts(['s6-svc', '-wr', '-T', '5000', '-r', './s6'], opts)]);
    } else notes.push('- s6 is not installed: no s6-svc figures.');
    const rfloor = floorAgain.median;
    const restartRows = rs.map(([label, s]) => [
      s.failed ? `${label} (${s.failed} of ${RESTARTS} runs failed)` : label,
      ms(s.median),
      ms(s.p90),
      ms(s.min),
      isFloor(label) ? '' : `${s.median - rfloor >= 0 ? '+' : ''}${ms(s.median - rfloor)}`,
    ]);

    const verdict = [];
    const tStatus = haveRunit ? st['tsvctl status ./r (runsv)'].median - floor : NaN;
    if (haveRunit) verdict.push(`- \`tsvctl status\` (runsv service): ${ms(tStatus)} above the floor (target <= 15 ms): ${tStatus <= 15 ? 'met' : 'NOT met'}`);
    if (haveTsv) {
      const x = st['tsvctl status ./t (tsv)'].median - floor;
      verdict.push(`- \`tsvctl status\` (tsv service, reads tsv.json too): ${ms(x)} above the floor (target <= 15 ms): ${x <= 15 ? 'met' : 'NOT met'}`);
    }
    for (const [label, s] of rs) {
      if (!label.startsWith('`tsvctl')) continue;
      const x = s.median - rfloor;
      verdict.push(`- ${label}: ${ms(x)} above the floor (target <= 30 ms): ${x <= 30 ? 'met' : 'NOT met'}`);
      if (s.split !== undefined) {
        // why: tsv.json's stamps are the supervisor's wall clock (ms), taken at the old run's reap
        // and at the new run's spawn; the bench's own clock brackets the tsvctl run.
        const sx = st['tsvctl status ./t (tsv)'].median - floor;
        verdict.push(
          `  - where the time goes (medians, ms, from tsv.json's stamps): start of tsvctl to the old run's reap ${ms(s.split.toExit)}`,
          `    (tsvctl's own start, about the floor plus ${ms(sx)} as \`status\` shows, then the control write, the supervisor's`,
          `    TERM and the service's death); reap to the new run's spawn ${ms(s.split.respawn)} (the supervisor: settings read,`,
          `    fork and exec; empty process group found by one kill(2), no /proc scan); spawn to tsvctl's return ${ms(s.split.toReturn)}`,
          '    (the status write, the inotify wake-up of tsvctl, its check of the new status, its exit).',
          '    tsv takes a chunk of control bytes (`tcu`) in one burst of its state machine with one status write, so',
          "    the old run's exit is handled as soon as it arrives; what is left is mostly tsvctl's own Node start.",
        );
      }
    }
    return [
      'Wall-clock time of one run (spawn to exit). `status`: 40 interleaved runs after 5 warm-ups.',
      `\`restart\`: ${RESTARTS} runs each, every one after the service has run for ${SETTLE_MS} ms (runsv, tsv and`,
      "s6 restart a service at once only when it ran for a second); the time includes the supervisor's",
      'own TERM-to-respawn. tsvctl is launched as installed (`node_modules/.bin`, a `/bin/sh` launcher',
      "that execs Node). tsvctl waits with inotify on supervise/ (no polling); sv polls every 420 ms;",
      's6-svc waits on its event FIFO.',
      '',
      "The floor is `node -e ''` without NODE_EXTRA_CA_CERTS: our launchers park that variable (tsvctl",
      'makes no TLS connection; check scripts get it back), so a Node start that skips the certificates',
      "too is the fair comparison; `node -e ''` with it is shown for the record. tsvctl runs as one",
      'CommonJS bundle (`npm run build`): as ~11 ES modules the same status took ~34 ms above the floor.',
      '',
      table(['status', 'median', 'p90', 'min', 'vs floor (no CA certs)'], statusRows),
      '',
      table(['restart, start to return', 'median', 'p90', 'min', 'vs floor (no CA certs)'], restartRows),
      '',
      ...verdict,
      ...notes,
    ].join('\n');
  } finally {
    if (haveRunit && existsSync(join(dir, 'r'))) spawnSync('sv', ['-w', '5', 'exit', './r'], { cwd: dir, env });
    if (haveTsv && existsSync(join(dir, 't'))) spawnSync(tsvctl, ['-w', '5', 'exit', './t'], { cwd: dir, env });
    if (haveS6 && existsSync(join(dir, 's6'))) spawnSync('s6-svc', ['-wD', '-T', '5000', '-xd', './s6'], { cwd: dir, env });
    for (const pid of started) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    rmSync(dir, { recursive: true, force: true });
  }
}
