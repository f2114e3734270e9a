// Shared helpers for black-box tests: built executables, temp dirs, tracked processes, and
// waiting for observable conditions with a deadline (never a bare sleep).
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, realpathSync } from 'node:fs';
import { tmpdir as osTmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Minimal view of a tap Test used here (teardown registration). */
export interface Teardownable {
  teardown(fn: () => void | Promise<void>): void;
}

/** The repository root. */
export const ROOT = resolve(fileURLToPath(new URL('../../..', import.meta.url)));

/** Where tap's report reads coverage (every file in it is merged into the report). */
export const COVERAGE_DIR = join(ROOT, '.tap', 'coverage');

// why: tap records coverage through its --import hook, which it adds to NODE_OPTIONS of the
// processes a test spawns; but many tests remove NODE_OPTIONS on purpose (the hook fails in a
// process running as nobody), and a program that execs (the chain wrappers) or is started by
// one of ours (tsv under tsvscan, a logger under tsv) loses it too. NODE_V8_COVERAGE is Node's
// own coverage: an ordinary variable every child inherits, through sh, env -u and execve, and
// written by Node itself at exit (with the bundles' source maps). So when tap covers this test
// process, every process the test starts writes its coverage where tap's report reads. The dir
// is world-writable (sticky) so a Node running as nobody can write there too.
if (process.env._TAPJS_PROCESSINFO_COVERAGE_ === '1' && process.env.NODE_V8_COVERAGE === undefined) {
  mkdirSync(COVERAGE_DIR, { recursive: true });
  chmodSync(COVERAGE_DIR, 0o1777);
  process.env.NODE_V8_COVERAGE = COVERAGE_DIR;
}

/** Directory holding every built executable. */
export const BIN_DIR = join(ROOT, 'node_modules', '.bin');

/** Error thrown when an executable a test needs is not built: a missing build fails the test
 * (it never skips), so a broken `npm run build` cannot pass as a green run. */
export class NotBuiltError extends Error {
  override name = 'NotBuiltError';
}

const built = new Set<string>();

/** Throw NotBuiltError unless each named executable is built: its launcher is linked in
 * node_modules/.bin and the esbuild bundle it requires (packages/<pkg>/dist/<name>.bundle.cjs)
 * exists. */
export function requireBuilt(...names: string[]): void {
  for (const name of names) {
    if (built.has(name)) continue;
    const link = join(BIN_DIR, name);
    if (!existsSync(link)) throw new NotBuiltError(`${name} is not built: ${link} is missing (run \`npm ci\` or \`npm run build\`)`);
    const bundle = join(dirname(realpathSync(link)), '..', 'dist', `${name}.bundle.cjs`);
    if (!existsSync(bundle)) throw new NotBuiltError(`${name} is not built: ${bundle} is missing (run \`npm run build\`)`);
    built.add(name);
  }
}

/** Path of a built executable in node_modules/.bin (throws NotBuiltError when it is not built). */
export function bin(name: string): string {
  requireBuilt(name);
  return join(BIN_DIR, name);
}

/** PATH with our executables first. */
export function testPath(): string {
  return `${BIN_DIR}:${process.env.PATH ?? '/usr/bin:/bin'}`;
}

/** A fresh temp dir (real path), removed when the test ends. */
export function tmpdir(t: Teardownable, prefix = 'tsv-test-'): string {
  const dir = realpathSync(mkdtempSync(join(osTmpdir(), prefix)));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Is pid alive (a zombie counts as dead)? */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** Kill pid (and its process group when group is set) with SIGKILL, ignoring errors. */
export function killHard(pid: number, group = false): void {
  try {
    process.kill(group ? -pid : pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** Is coverage recorded for the processes tests start (NODE_V8_COVERAGE set, see above)? */
export const COVERAGE = process.env.NODE_V8_COVERAGE !== undefined;

/** Is pid a live Node process? */
function isNode(pid: number): boolean {
  try {
    return /\/node$/.test(readlinkSync(`/proc/${pid}/exe`)) && alive(pid);
  } catch {
    return false;
  }
}

/** With coverage on, SIGTERM the Node processes among pids and wait (at most graceMs) until
 * they are gone, before the caller SIGKILLs everything. Why: Node writes its coverage only when
 * it exits, never when SIGKILLed; tsv, tsvscan and tsvlog exit cleanly on TERM (runit's and
 * svlogd's behaviour), so their coverage is kept. Without coverage: nothing, at once. */
export async function termForCoverage(pids: number[], graceMs = 2_000): Promise<void> {
  if (!COVERAGE) return;
  const nodes = pids.filter(isNode);
  if (nodes.length === 0) return;
  for (const pid of nodes) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // gone
    }
  }
  const deadline = Date.now() + graceMs;
  while (nodes.some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
}

/** Remember pids to SIGKILL when the test ends (e.g. a service started by a supervisor). */
export function trackPid(t: Teardownable, pid: number): void {
  t.teardown(() => killHard(pid));
}

/** A spawned child with its output collected. */
export interface Tracked {
  child: ChildProcess;
  pid: number;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Spawn a process that is SIGKILLed (with its group, when detached) when the test ends. */
export function spawnTracked(t: Teardownable, cmd: string, args: string[], opts: SpawnOptions = {}): Tracked {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => {
    child.on('exit', (code, signal) => res({ code, signal }));
    child.on('error', () => res({ code: null, signal: null }));
  });
  if (child.pid === undefined) throw new Error(`unable to spawn ${cmd}`);
  const pid = child.pid;
  t.teardown(async () => {
    await termForCoverage([pid]);
    if (opts.detached) killHard(pid, true);
    killHard(pid);
  });
  return { child, pid, stdout: () => out, stderr: () => err, exited };
}

/** The result of a finished command. */
export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Run a command to completion (killed after timeoutMs) and collect its output. */
export function run(cmd: string, args: string[], opts: SpawnOptions & { input?: string | Buffer; timeoutMs?: number } = {}): Promise<RunResult> {
  return new Promise((res, rej) => {
    const { input, timeoutMs = 30_000, ...rest } = opts;
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], ...rest });
    let out = '';
    let err = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => {
      if (child.pid !== undefined) killHard(child.pid, rest.detached === true);
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      rej(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      res({ code, signal, stdout: out, stderr: err });
    });
    child.stdin?.on('error', () => {});
    if (input !== undefined) child.stdin?.end(input);
    else child.stdin?.end();
  });
}

/** Wait until cond() returns a truthy value (checked every few ms), or throw after timeoutMs. */
export async function waitFor<T>(cond: () => T | Promise<T>, timeoutMs = 10_000, what = 'condition'): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let lastErr: unknown;
  for (;;) {
    try {
      const v = await cond();
      if (v) return v as NonNullable<T>;
    } catch (e) {
      lastErr = e;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastErr ? ` (last error: ${String(lastErr)})` : ''}`);
    }
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Wait until the collected text matches re; returns the match. */
export function waitForText(get: () => string, re: RegExp, timeoutMs = 10_000): Promise<RegExpMatchArray> {
  return waitFor(() => get().match(re), timeoutMs, `output matching ${re}`);
}

/** Fields of /proc/PID/status as a map. */
export function procStatus(pid: number): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of readFileSync(`/proc/${pid}/status`, 'utf8').split('\n')) {
    const i = line.indexOf(':');
    if (i > 0) m.set(line.slice(0, i), line.slice(i + 1).trim());
  }
  return m;
}

/** Is this test process root? */
export const IS_ROOT = process.getuid?.() === 0;
