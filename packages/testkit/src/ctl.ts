// Helpers for tsvctl's tests: service directories, a real runsv (or tsv) supervising them in
// its own process group (killed with everything below the test dir when the test ends), the
// 20-byte status, and comparing status lines with sv's (the seconds may differ by one).
import type { Test } from 'tap';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { StatusRecord } from '@tsv/core';
import { bin, requireBuilt, run, spawnTracked, testPath, waitFor, type RunResult, type Teardownable, type Tracked } from './index.js';
import { killedRoot, okAlive, status } from './services.js';

export { makeService, okAlive, status, type ServiceFiles as Files } from './services.js';

/** Is program on PATH? */
export function onPath(program: string): boolean {
  return (process.env.PATH ?? '/usr/bin:/bin').split(':').some((d) => existsSync(join(d || '.', program)));
}

/** Is tsv built? Kept for old callers; it never answers false: a missing build throws
 * NotBuiltError (the test fails with the missing file's name) instead of skipping. */
export function tsvBuilt(): boolean {
  requireBuilt('tsv');
  return true;
}

/** A run script that traps USR1 (writes got-usr1) and sleeps in the foreground shell; it makes
 * ./trapped once its traps are set (see trapsSet). */
export const TRAP_RUN = '#!/bin/sh\ntrap "echo usr1 > got-usr1" USR1\ntrap "exit 0" TERM\n: > trapped\nwhile :; do sleep 0.05; done\n';
/** A run script that ignores TERM; it makes ./trapped once the trap is set (see trapsSet). */
export const TERM_IGNORING_RUN = '#!/bin/sh\ntrap "" TERM\n: > trapped\nwhile :; do sleep 0.05; done\n';

/** Wait until dir's run has set its traps (made ./trapped). why: status says run at the spawn,
 * before the script has run its first line: a signal sent then meets no trap yet. */
export async function trapsSet(dir: string): Promise<void> {
  await waitFor(() => existsSync(join(dir, 'trapped')), 15_000, `the traps of ${dir}`);
}
/** A logger that reads its stdin away. */
export const CAT_LOG = '#!/bin/sh\nexec cat >/dev/null\n';

/** A temp dir whose processes (by cwd below it) are SIGKILLed when the test ends. */
export function ctlRoot(t: Teardownable): string {
  return killedRoot(t, 'tsv-ctl-');
}

/** Wait until dir's service runs (and its logger, when it has log/). */
export async function waitRunning(dir: string, what = dir): Promise<StatusRecord> {
  const hasLog = existsSync(join(dir, 'log'));
  return waitFor(
    () => {
      const s = status(dir);
      if (s === undefined || s.state !== 'run' || s.pid === 0) return undefined;
      if (hasLog) {
        const l = status(join(dir, 'log'));
        if (l === undefined || l.state !== 'run') return undefined;
      }
      return s;
    },
    15_000,
    `${what} running`,
  );
}

/** Start a supervisor (runsv or tsv) on dir in its own process group; waits for supervise/ok
 * and, unless dir has a `down` file, for the service to run. */
export async function supervise(t: Teardownable, program: 'runsv' | 'tsv', dir: string): Promise<Tracked> {
  const cmd = program === 'tsv' ? bin('tsv') : 'runsv';
  const tr = spawnTracked(t, cmd, [dir], { detached: true, cwd: dirname(dir), env: { ...process.env, PATH: testPath() } });
  await waitFor(() => okAlive(dir) && (existsSync(join(dir, 'log')) ? okAlive(join(dir, 'log')) : true), 15_000, `${program} on ${dir}`);
  if (!existsSync(join(dir, 'down'))) {
    await waitRunning(dir);
    // why: a run that marks its traps (TRAP_RUN) is only ready for signals once it has.
    if (existsSync(join(dir, 'run')) && readFileSync(join(dir, 'run'), 'utf8').includes(': > trapped\n')) await trapsSet(dir);
  }
  return tr;
}

/** The environment tests run tsvctl and sv in. */
export function ctlEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, PATH: testPath() };
  delete env.SVDIR;
  delete env.SVWAIT;
  delete env.NO_COLOR;
  return { ...env, ...extra };
}

/** Run tsvctl. */
export function tsvctl(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<RunResult> {
  return run(bin('tsvctl'), args, { cwd: opts.cwd, env: opts.env ?? ctlEnv(), timeoutMs: opts.timeoutMs ?? 30_000 });
}

/** Run runit's sv. */
export function sv(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<RunResult> {
  return run('sv', args, { cwd: opts.cwd, env: opts.env ?? ctlEnv() });
}

/** Do two status outputs agree, except for seconds fields differing by at most one? With a
 * third output (b taken before a, after taken after it), a's seconds may be anything from b's
 * minus one to after's plus one: a slow start of one tool under load is no mismatch. */
export function sameStatus(a: string, b: string, after: string = b): boolean {
  const re = /(\d+)s\b/g;
  const partsA = a.split(re);
  const partsB = b.split(re);
  const partsC = after.split(re);
  if (partsA.length !== partsB.length || partsA.length !== partsC.length) return false;
  return partsA.every((p, i) => (i % 2 === 1 ? Number(p) >= Number(partsB[i]) - 1 && Number(p) <= Number(partsC[i]) + 1 : p === partsB[i] && p === partsC[i]));
}

/** Are runit's runsv and sv installed (the peers tsvctl is compared with)? */
export const HAVE_RUNIT = onPath('runsv') && onPath('sv');

/** Run `status` with sv, tsvctl, sv again; assert the same output (tsvctl's seconds between
 * the two sv runs', +-1) and exit code. */
export async function compareWithSv(t: Test, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<string> {
  const b = await sv(args, opts);
  const a = await tsvctl(args, opts);
  const c = await sv(args, opts);
  t.ok(sameStatus(a.stdout, b.stdout, c.stdout), `tsvctl ${args.join(' ')} prints what sv prints`, { found: a.stdout, wanted: b.stdout });
  t.equal(a.code, b.code, `tsvctl ${args.join(' ')} exits like sv (${b.code})`);
  t.equal(a.stderr, b.stderr.replace(/^sv:/gm, 'tsvctl:'), 'same stderr');
  return a.stdout;
}
