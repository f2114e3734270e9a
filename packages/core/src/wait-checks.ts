// The per-letter checks of sv's wait (runit.md 3.6), made precise: "restarted since we sent"
// compares tsv.json's monotonic stamps when both reads have them, else the TAI64N stamps with
// sub-second precision (sv compares whole seconds, so it can say ok before runsv acted).
// Pure: the status comes in, the `check` script is a callback. Shared by tsvctl's waits and
// @tsv/api's awaited commands.
import type { ExtraProcess, ExtraStatus } from './extra-status.js';
import type { StatusRecord } from './status-codec.js';

/** What one read of a supervise/ directory found. */
export interface Snapshot {
  rec: StatusRecord;
  /** tsv.json's record, when a live tsv wrote it (rec is then the status it carries) */
  extra: ExtraProcess | undefined;
  /** the whole tsv.json of a live tsv */
  extraFile: ExtraStatus | undefined;
}

/** sv's svstatus_get(): running with a status, runsv not running (ENXIO), or a warning. */
export type Probe = { kind: 'ok'; snap: Snapshot } | { kind: 'not-running' } | { kind: 'warn'; message: string };

/** What the service looks like for the command being waited for. */
export type Verdict =
  | { kind: 'pass'; snap: Snapshot }
  /** not yet; checkFailed: only the check script said no (it must be re-run: no event will
   * tell us when it would pass) */
  | { kind: 'pending'; checkFailed: boolean }
  /** `x`: the supervisor is gone (success) */
  | { kind: 'exited' }
  /** the supervisor stopped answering (a `fail:` line) */
  | { kind: 'not-running' }
  | { kind: 'warn'; message: string };

/** What the checks compare against. */
export interface CheckContext {
  /** wall-clock ms just before the command was sent */
  tstartMs: number;
  /** the status read just before sending (undefined for `check`, which sends nothing) */
  before: Snapshot | undefined;
  /** run the service's `check` script: true when it passes (or there is none) */
  runCheck: () => Promise<boolean>;
  /** wait for readiness (notification-fd) where the service reports it; default true */
  ready?: boolean;
}

/** Wall-clock ms of a status record's stamp (TAI64N, sub-second). */
function stampMs(s: Snapshot): number {
  return s.rec.time.seconds * 1000 + s.rec.time.nanos / 1e6;
}

/** Has the service changed state (started or gone down) since the command was sent? */
export function changedSince(now: Snapshot, ctx: Pick<CheckContext, 'tstartMs' | 'before'>): boolean {
  const b = ctx.before;
  // why: monotonic stamps survive a wall-clock jump; use them when tsv wrote both reads.
  if (b?.extra !== undefined && now.extra !== undefined) return now.extra.sinceMono > b.extra.sinceMono || now.extra.restarts > b.extra.restarts;
  if (b !== undefined) return stampMs(now) > stampMs(b);
  return stampMs(now) >= ctx.tstartMs;
}

/** Has the service signalled readiness (tsv's notification-fd), or has it no such protocol
 * (or is readiness not waited for)? */
function readyOrNoProtocol(s: Snapshot, ctx: CheckContext): boolean {
  return ctx.ready === false || s.extra === undefined || s.extra.ready !== false;
}

/** Is the command a no-op by sv's skip rule? Byte 17 (u/d) equals the first byte to send;
 * `d` is skipped only when got-TERM is set too (so `down` reaches a service running once). */
export function skipByRule(acts: string, before: Snapshot): boolean {
  const want = before.rec.wantUp ? 'u' : 'd';
  if (acts[0] !== want) return false;
  return acts[0] !== 'd' || before.rec.gotTerm;
}

/** Judge the letters of acts against one probe of the service. */
export async function judge(acts: string, p: Probe, ctx: CheckContext): Promise<Verdict> {
  if (p.kind === 'warn') return { kind: 'warn', message: p.message };
  if (p.kind === 'not-running') return acts.startsWith('x') ? { kind: 'exited' } : { kind: 'not-running' };
  const s = p.snap;
  const r = s.rec;
  let checked: boolean | undefined;
  const check = async (): Promise<boolean> => (checked ??= await ctx.runCheck());
  const up = async (): Promise<Verdict | undefined> => {
    if (r.pid === 0 || r.state !== 'run' || !readyOrNoProtocol(s, ctx)) return { kind: 'pending', checkFailed: false };
    if (!(await check())) return { kind: 'pending', checkFailed: true };
    return undefined;
  };
  const down = (): Verdict | undefined => (r.pid !== 0 || r.state !== 'down' ? { kind: 'pending', checkFailed: false } : undefined);
  for (const letter of acts) {
    let v: Verdict | undefined;
    switch (letter) {
      case 'x':
        return { kind: 'pending', checkFailed: false };
      case 'u':
        v = await up();
        break;
      case 'd':
        v = down();
        break;
      case 'C':
        // runit 2.3.0: `check` waits for the state the want byte asks for.
        v = r.wantUp ? await up() : down();
        break;
      case 't':
      case 'k':
        if (r.pid === 0 && !r.wantUp) break;
        if (r.pid === 0 || r.state !== 'run' || r.gotTerm || !changedSince(s, ctx) || !readyOrNoProtocol(s, ctx)) v = { kind: 'pending', checkFailed: false };
        else if (!(await check())) v = { kind: 'pending', checkFailed: true };
        break;
      case 'o':
        if ((r.pid === 0 && !changedSince(s, ctx)) || (r.pid !== 0 && r.wantUp)) v = { kind: 'pending', checkFailed: false };
        break;
      case 'p':
        if (r.pid !== 0 && !r.paused) v = { kind: 'pending', checkFailed: false };
        break;
      case 'c':
        if (r.pid !== 0 && r.paused) v = { kind: 'pending', checkFailed: false };
        break;
      default:
        break;
    }
    if (v !== undefined) return v;
  }
  return { kind: 'pass', snap: s };
}
