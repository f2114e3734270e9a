// Logger-kill harness (bench/log.bench.mjs and test/log/kill.test.ts): a writer of numbered lines
// fed as fast as it can into a pipe the parent holds (both ends, like runsv); the logger on that
// pipe is SIGKILLed `kills` times, each time once it has written more, and restarted on the same
// pipe; then the writer stops, the parent closes its write end, the last logger drains to EOF.
// Counts the numbers missing (lost), written twice or more (repeated) and malformed lines (torn).
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';

const native = createRequire(import.meta.url)('@tsv/native/addon');

/** The writer: numbered lines in 64 KiB blocks until the stop file exists, then exit 0. */
const WRITER = `
const fs = require('fs');
const stop = process.argv[1];
let i = 0;
for (;;) {
  if (fs.existsSync(stop)) break;
  let s = '';
  while (s.length < 65000) s += (i++) + '\\n';
  const b = Buffer.from(s);
  let off = 0;
  while (off < b.length) {
    try {
      off += fs.writeSync(1, b, off);
    } catch (e) {
      // A shared pipe may have been made non-blocking by someone else: wait a little.
      if (e.code !== 'EAGAIN') throw e;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
    }
  }
}
fs.writeFileSync(stop + '.count', String(i));
`;

/** Sum of the sizes of dir's log files. */
function logBytes(dir) {
  let n = 0;
  for (const f of readdirSync(dir)) {
    if (!(f === 'current' || f.startsWith('@'))) continue;
    // why: a starting logger renames an unfinished current to @….u between readdir and stat.
    const st = statSync(join(dir, f), { throwIfNoEntry: false });
    if (st) n += st.size;
  }
  return n;
}

/** Resolve when cond() holds (polled every 2 ms), reject after ms. */
async function until(cond, ms, what) {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** Resolve with the child's exit. */
function exited(child) {
  return new Promise((res) => {
    if (child.exitCode !== null || child.signalCode !== null) res();
    else child.once('exit', () => res());
  });
}

/** Run the experiment. logger: (logDir) => [cmd, args] run in work; grow: bytes a logger must
 * write before it is killed; track(pid): called for every process started. */
export async function killRun({ work, logger, kills = 10, grow = 256 * 1024, track = () => {}, timeoutMs = 60_000 }) {
  const dir = join(work, 'main');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'config'), 's1000000000\n');
  const stop = join(work, 'stop');
  const [r, w] = native.pipe();
  const procs = [];
  const start = (cmd, args, stdio) => {
    // why: no NODE_OPTIONS (a test runner's hooks would open stdout as a non-blocking stream).
    const env = { ...process.env };
    delete env.NODE_OPTIONS;
    const c = spawn(cmd, args, { cwd: work, stdio, env });
    track(c.pid);
    procs.push(c);
    return c;
  };
  try {
    const writer = start(process.execPath, ['-e', WRITER, stop], ['ignore', w, 'inherit']);
    let killed = 0;
    for (let k = 0; k < kills; k++) {
      const before = logBytes(dir);
      const [cmd, args] = logger(dir);
      const l = start(cmd, args, [r, 'ignore', 'ignore']);
      await until(() => logBytes(dir) >= before + grow, timeoutMs, `logger ${k + 1} to write`);
      l.kill('SIGKILL');
      await exited(l);
      killed++;
    }
    const [cmd, args] = logger(dir);
    const last = start(cmd, args, [r, 'ignore', 'ignore']);
    writeFileSync(stop, '');
    await exited(writer);
    // why: the writer is gone; our write end is the last: closing it gives the logger EOF.
    closeSync(w);
    let timer;
    await Promise.race([exited(last), new Promise((_, rej) => (timer = setTimeout(() => rej(new Error('last logger did not exit at EOF')), timeoutMs)))]);
    clearTimeout(timer);
    const total = Number(readFileSync(`${stop}.count`, 'utf8'));
    return { killed, ...count(dir, total) };
  } finally {
    for (const c of procs) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    try {
      closeSync(w);
    } catch {
      // closed already
    }
    closeSync(r);
  }
}

/** Lost, repeated and torn lines in dir for numbers 0..total-1. */
function count(dir, total) {
  const seen = new Uint8Array(total);
  let torn = 0;
  let repeated = 0;
  const files = readdirSync(dir).filter((f) => f.startsWith('@')).sort();
  if (existsSync(join(dir, 'current'))) files.push('current');
  for (const f of files) {
    for (const line of readFileSync(join(dir, f), 'latin1').split('\n')) {
      if (line === '') continue;
      const n = /^[0-9]+$/.test(line) ? Number(line) : -1;
      if (n < 0 || n >= total) torn++;
      else if (seen[n]) repeated++;
      else seen[n] = 1;
    }
  }
  let lost = 0;
  for (let i = 0; i < total; i++) if (!seen[i]) lost++;
  return { total, lost, repeated, torn };
}
