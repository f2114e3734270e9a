// Shared benchmark helpers: timing commands side by side, the `node -e ''` floor, peers found
// on PATH, and markdown tables. Benchmarks are plain ESM so no TypeScript loader skews them.
import { spawnSync, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
export const BIN_DIR = join(ROOT, 'node_modules', '.bin');

/** Path of one of our built executables. */
export function bin(name) {
  return join(BIN_DIR, name);
}

/** Absolute path of a program on PATH, or undefined (peers that are not installed). */
export function which(name) {
  for (const d of (process.env.PATH ?? '/usr/bin:/bin').split(':')) {
    const p = join(d || '.', name);
    if (existsSync(p)) return p;
  }
  return undefined;
}

/** A fresh temp dir for a benchmark. */
export function benchDir(prefix = 'tsv-bench-') {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Run argv once and return wall-clock ms (throws on a non-zero exit). */
export function timeOnce(argv, opts = {}) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(argv[0], argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'], ...opts });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${argv.join(' ')} exited ${r.status ?? r.signal}: ${r.stderr}`);
  return ms;
}

/** Summary statistics of samples (ms). */
export function stats(samples) {
  const s = [...samples].sort((a, b) => a - b);
  const q = (p) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  const mean = s.reduce((a, b) => a + b, 0) / s.length;
  return { n: s.length, mean, median: q(0.5), p90: q(0.9), min: s[0] };
}

/** Time several commands interleaved (so drift hits all alike): { label: stats }. */
export function timeInterleaved(cases, runs = 30, warmup = 3) {
  const samples = Object.fromEntries(cases.map((c) => [c.label, []]));
  for (let i = 0; i < warmup + runs; i++) {
    for (const c of cases) {
      const ms = timeOnce(c.argv, c.opts);
      if (i >= warmup) samples[c.label].push(ms);
    }
  }
  return Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, stats(v)]));
}

/** The floor: `node -e ''` in the same environment. */
export const FLOOR = { label: "node -e ''", argv: [process.execPath, '-e', ''] };

/** Format a number of ms. */
export function ms(x) {
  return `${x.toFixed(1)} ms`;
}

/** Render a markdown table. */
export function table(header, rows) {
  const line = (cells) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

/** Proportional set size (KiB) of a pid, from /proc/PID/smaps_rollup. */
export function pssKiB(pid) {
  const txt = execFileSync('cat', [`/proc/${pid}/smaps_rollup`], { encoding: 'utf8' });
  const m = txt.match(/^Pss:\s+(\d+) kB/m);
  return m ? Number(m[1]) : NaN;
}

/** The floor without NODE_EXTRA_CA_CERTS. Our launchers park that variable (no tool here makes a
 * TLS connection), so this is the floor our programs are compared with. */
export function bareFloor(opts = {}) {
  const env = { ...(opts.env ?? process.env) };
  delete env.NODE_EXTRA_CA_CERTS;
  return { label: "node -e '' without NODE_EXTRA_CA_CERTS", argv: [process.execPath, '-e', ''], opts: { ...opts, env } };
}

/** Children of pid (all threads). */
export function children(pid) {
  const out = [];
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      for (const c of readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').split(' ')) if (c) out.push(Number(c));
    }
  } catch {
    // gone
  }
  return out;
}

/** The type of the filesystem holding path (the longest mount point above it). */
export function fsType(path) {
  let best = { at: '', type: 'unknown' };
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const f = line.split(' ');
    const at = f[4];
    const type = f[f.indexOf('-') + 1];
    if (at === undefined || type === undefined) continue;
    if ((path === at || path.startsWith(at === '/' ? '/' : `${at}/`)) && at.length >= best.at.length) best = { at, type };
  }
  return best.type;
}
