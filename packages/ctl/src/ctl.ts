// tsvctl's main flow, sv's main() (runit.md 3): parse, resolve each service, act on it (status,
// control bytes, a signal), then wait when asked. Modules only some commands need (waiting,
// check scripts, table, JSON, log, direct signals) are imported lazily to keep start-up short.
import { errstr, EXIT, metaRequest, SERVICE, ToolError, usageError, versionLine } from '@tsv/core';
import { writeErr, writeOut } from '@tsv/os';
import { chdirError, looksLikeSignal, parseArgs, planCommand, progName, servicePath, usageText, VersionRequest, type CommandPlan, type CtlOptions } from './argv.js';
import { collectStatus, enterService, hasExtraFile, lsbStatusCode, Out, renderPlain, type ExtraReader, type ServiceStatus } from './status.js';
import type { SignalSpec } from './signals.js';
import { wantsFront } from './command-words.js';
import type { Waiter } from './wait.js';

/** The usage error of this mode. */
function usage(o: Pick<CtlOptions, 'prog' | 'lsb'>): ToolError {
  return usageError(usageText(o.prog, o.lsb), o.lsb ? EXIT.lsbUsage : EXIT.usage);
}

/** Is `kill X svc...` the signal form? When X is no service directory and looks like a signal
 * (then it must be one: `kill USR3 svc` is refused rather than sending `k` to svc). */
function killSignalWord(o: CtlOptions): string | undefined {
  if (o.command !== 'kill') return undefined;
  if (o.lsb) return o.extra[0] !== undefined && looksLikeSignal(o.extra[0]) ? o.extra[0] : undefined;
  const first = o.services[0];
  if (o.services.length < 2 || first === undefined || !looksLikeSignal(first)) return undefined;
  if (chdirError(servicePath(first, o.svdir)) === undefined) return undefined;
  o.services = o.services.slice(1);
  return first;
}

/** Run tsvctl with argv0 (the invoked name) and args; resolves to the exit code. */
export async function tsvctl(argv0: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  // why: tsvctl's own verbs parse with yargs, loaded only for them (start-up of the sv verbs).
  const prog = progName(argv0);
  if (wantsFront(prog, args)) return (await import('./verbs/front.js')).runFront(args, env);
  // why: under its own name -V is the version line (exit 0); as sv, -V is sv's (the version on
  // stderr, then the usage, exit 100) and only --version is ours.
  if (metaRequest(args, prog !== 'tsvctl') === 'version') {
    writeOut(`${versionLine(prog)}\n`);
    return 0;
  }
  const parsed = parseArgs(prog, args, env);
  if (parsed instanceof VersionRequest) {
    writeErr(versionLine(prog));
    throw usage(parsed);
  }
  const o = parsed;
  if (o.command === 'log') return (await import('./log-cmd.js')).logCommand(o);
  let plan: CommandPlan | undefined;
  let sig: SignalSpec | undefined;
  const sigWord = o.command === 'signal' ? o.extra[0] : killSignalWord(o);
  if (sigWord !== undefined) {
    sig = (await import('./signals.js')).parseSignal(sigWord);
    if (sig === undefined) throw new ToolError(`unknown signal: ${sigWord}`, o.lsb ? EXIT.lsbUsage : EXIT.usage);
    // why: letters runsv knows go through supervise/control, so they work with runsv too.
    plan = sig.letter !== undefined ? { action: 'control', acts: sig.letter, alwaysWait: false, kill: false } : { action: 'signal', acts: '', alwaysWait: false, kill: false };
  } else plan = planCommand(o.command, o.lsb);
  if (plan === undefined) throw usage(o);
  if (plan.action === 'status') return statusCommand(o);
  return actCommand(o, plan, sig);
}

/** status: sv's lines, or a table (several services on a TTY) or JSON. */
async function statusCommand(o: CtlOptions): Promise<number> {
  const now = { ms: Date.now(), mono: 0 };
  const withExtras = !o.svFormat;
  // why: tsv.json's reader (and its imports) is loaded only when some service has one.
  let readExtra: ExtraReader | undefined;
  const dirs = o.services.map((n) => servicePath(n, o.svdir));
  if (withExtras && dirs.some((d) => hasExtraFile(d) || hasExtraFile(`${d}/${SERVICE.log}`))) {
    const x = await import('./tsv-extra.js');
    readExtra = x.readExtraFile;
    now.mono = x.monoNowMs();
  }
  const table = !o.json && !o.svFormat && !o.lsb && o.services.length > 1 && process.stdout.isTTY === true;
  const out = new Out(o.json);
  const count = (): void => {
    out.count++;
  };
  const rows: ServiceStatus[] = [];
  for (const name of o.services) {
    const dir = servicePath(name, o.svdir);
    const err = chdirError(dir);
    const s: ServiceStatus =
      err !== undefined
        ? { name, dir, main: { problem: { level: 'fail', message: `unable to change to service directory: ${errstr(err)}` }, snap: undefined, normallyUp: undefined, downError: undefined, view: undefined }, log: null }
        : collectStatus(name, dir, now, withExtras, readExtra);
    if (o.json || table) {
      rows.push(s);
      continue;
    }
    writeOut(renderPlain(s, count));
    if (o.lsb) {
      const code = lsbStatusCode(s);
      if (code !== undefined) return code;
    }
  }
  if (o.json) {
    const { renderJson } = await import('./status-json.js');
    writeOut(
      renderJson(rows, now, (line) => {
        out.count++;
        out.line(line);
      }),
    );
  } else if (table) {
    const [{ renderTable }, { wantColour }] = await Promise.all([import('./status-table.js'), import('./colour.js')]);
    writeOut(renderTable(rows, wantColour(process.stdout, process.env), count));
  }
  return out.exitCode();
}

/** Every command but status: send (or signal) each service, then wait when asked. */
async function actCommand(o: CtlOptions, plan: CommandPlan, sig: SignalSpec | undefined): Promise<number> {
  const out = new Out();
  const waiting = plan.alwaysWait || o.verbose;
  const tstartMs = Date.now();
  // why: the modules this command needs load together (one round, not one per await); tsv.json's
  // reader only when some service has one.
  const dirs = o.services.map((n) => servicePath(n, o.svdir));
  const [w, direct, { sendControl }, x] = await Promise.all([
    waiting ? import('./wait.js') : undefined,
    plan.action === 'signal' ? import('./direct-signal.js') : undefined,
    import('./control-send.js'),
    dirs.some((d) => hasExtraFile(d)) ? import('./tsv-extra.js') : undefined,
  ]);
  const waiter: Waiter | undefined = w !== undefined ? new w.Waiter() : undefined;
  const readExtraFile = x?.readExtraFile;
  for (const name of o.services) {
    const dir = enterService(name, o.svdir, out);
    if (dir === undefined) continue;
    // why: watch BEFORE sending, so a change caused by the command cannot slip by unseen.
    const job = waiter?.watch({ name, dir, acts: plan.action === 'signal' ? '' : plan.acts, before: undefined });
    let keep = true;
    if (plan.action === 'control') {
      const r = sendControl(name, dir, plan.acts, out, readExtraFile);
      if (r.kind === 'ended') keep = false;
      else if (job !== undefined) waiter?.setBefore(job, r.before);
    } else if (plan.action === 'signal' && direct !== undefined && sig !== undefined) {
      keep = direct.sendDirectSignal(name, dir, sig, out);
    }
    if (!keep && job !== undefined) waiter?.drop(job);
  }
  if (waiter !== undefined) {
    const withExtras = !o.svFormat;
    await waiter.run({ waitSec: o.waitSec, kill: plan.kill, tstartMs, withExtras, hint: o.prog === 'tsvctl', out, readExtra: readExtraFile, monoNow: x?.monoNowMs ?? (() => 0) });
  }
  return out.exitCode();
}
