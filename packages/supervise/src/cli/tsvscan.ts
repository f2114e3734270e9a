// tsvscan [DIR]: supervise every service directory of DIR (default $SVDIR, else ~/service, which
// must then exist) in one process (runsvdir). TERM/INT stop every service and exit 0; HUP
// rescans. Run as `runsvdir` (a symlink) it takes runsvdir's arguments and usage.
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { defaultScanDir, metaRequest, usageError, versionLine, warnLine } from '@tsv/core';
import { report, runMain, writeErr, writeOut } from '@tsv/os';
import { parseSupervisorArgs, tsvscanHelp } from '../cli-options.js';
import { runScanDir } from '../scan/scan-dir.js';
import { Supervisor } from '../supervisor.js';
import { detachDeadTerminalsAtExit } from './dead-tty.js';
import { closeInheritedOnExec } from './inherited-fds.js';
import { invokedAs } from './invoked-as.js';

/** What the command line asks for. */
interface ScanArgs {
  /** the directory as given (or defaulted) */
  shown: string;
  /** true when no directory was given: the default must exist */
  defaulted: boolean;
  /** -q: no event lines */
  quiet: boolean;
  /** the exit grace, ms (0: none) */
  graceMs: number;
  /** --main NAME: when NAME's run exits, stop everything and exit with its exit code */
  main?: string;
}

/** tsvscan's own syntax: `tsvscan [-q] [-g secs] [--main NAME] [--] [dir]`. */
function parseOwn(prog: string, argv: string[]): ScanArgs {
  // why the usage line stays short: --main is in docs/tsvscan.md and -h
  const usage = `usage: ${prog} [-q] [-g secs] [dir]`;
  // why: --main is a long option among the short ones: taken out of the options part first.
  const opts: string[] = [];
  let main: string | undefined;
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--' || !a.startsWith('-') || a === '-') break;
    if (a === '--main' || a.startsWith('--main=')) {
      main = a === '--main' ? argv[++i] : a.slice('--main='.length);
      // why: NAME is an entry of DIR, never a path
      if (main === undefined || main === '' || main.includes('/') || main.startsWith('.')) throw usageError(usage, 1);
      continue;
    }
    opts.push(a);
    // why: -g takes the next word as its value
    if (a === '-g' && i + 1 < argv.length) opts.push(argv[++i] as string);
  }
  const { quiet, graceMs, rest: args } = parseSupervisorArgs(prog, [...opts, ...argv.slice(i)], process.env, usage);
  if (args.length > 1 || args[0] === '') throw usageError(usage, 1);
  if (args[0] !== undefined) return { shown: args[0], defaulted: false, quiet, graceMs, main };
  return { shown: defaultScanDir(process.env, homedir()), defaulted: true, quiet, graceMs, main };
}

/** run's exit status as a process exit code: its code, or 128 + the signal that killed it. */
function exitCodeOf(code: number | null, signum: number): number {
  return code ?? 128 + signum;
}

/** runsvdir's syntax, as runsvdir.c reads it: `runsvdir [-P] dir [log]`. Only the first word is
 * looked at for an option: `-P...` and `--...` are consumed, any other word is the directory.
 * -P (a session per runsv) is what tsvscan does anyway (every run starts in its own session);
 * the readproctitle log argument is accepted and not used (see docs/tsvscan.md). */
function parseRunsvdir(argv: string[]): ScanArgs {
  // why: runsvdir prints its usage followed by an empty line, and exits 1.
  const usage = (): never => {
    throw usageError('usage: runsvdir [-P] dir\n\n', 1);
  };
  let args = argv;
  const first = args[0];
  if (first === undefined) usage();
  if (first !== undefined && first.startsWith('-') && (first[1] === 'P' || first[1] === '-')) args = args.slice(1);
  const dir = args[0];
  if (dir === undefined || dir === '') return usage();
  // why: runsvdir says nothing of its services and waits for them for ever
  return { shown: dir, defaulted: false, quiet: true, graceMs: 0 };
}

/** Parse argv, scan until told to stop, return the exit code. */
async function main(prog: string, argv: string[]): Promise<number> {
  const peer = prog === 'runsvdir';
  const meta = peer ? undefined : metaRequest(argv);
  if (meta !== undefined) {
    writeOut(meta === 'help' ? tsvscanHelp() : `${versionLine(prog)}\n`);
    return 0;
  }
  const { shown, defaulted, quiet, graceMs, main: mainName } = peer ? parseRunsvdir(argv) : parseOwn(prog, argv);
  // why a TERM to ourselves: the main service's end stops everything exactly as docker stop does
  let mainExit: number | undefined;
  const onMainExit = (code: number | null, signum: number): void => {
    if (mainExit !== undefined) return;
    mainExit = exitCodeOf(code, signum);
    process.kill(process.pid, 'SIGTERM');
  };
  closeInheritedOnExec();
  detachDeadTerminalsAtExit();
  const name = peer ? 'runsvdir' : 'tsvscan';
  const diag = `${name} ${shown}`;
  // why one copy: every service starts from the environment tsvscan was given (runsvdir's
  // rule), which nothing here changes; its supervisors share it (SupervisorOptions.env).
  const serviceEnvBase = Object.freeze({ ...process.env });
  // why: one process hosts every service: a programming error surfacing in one service's event
  // handler must not take all the others down with it. Reported on one line; tsvscan goes on.
  const internal = (e: unknown): void => writeErr(warnLine(diag, `internal error: ${e instanceof Error ? e.message : String(e)}`));
  process.on('uncaughtException', internal);
  process.on('unhandledRejection', internal);
  try {
    const code = await runScanDir({
      dir: resolve(shown),
      shown,
      mustExist: defaulted,
      warn: (m) => writeErr(warnLine(diag, m)),
      graceMs,
      ...(quiet ? {} : { talk: (l: string) => writeErr(`${name}: ${oneLine(l)}`) }),
      // why: each service's diagnostics carry its own path, as runsv's `runsv NAME:` lines do
      // (under runsvdir's name exactly those: runsvdir runs `runsv NAME` in the scan directory).
      factory: (dir, svc) =>
        new Supervisor(dir, {
          env: serviceEnvBase,
          diagPrefix: peer ? `runsv ${svc}` : `tsvscan ${join(shown, svc)}`,
          warn: writeErr,
          program: 'tsvscan',
          name: svc,
          onRunExit: svc === mainName ? onMainExit : undefined,
          // why: runsvdir's services share its stderr unnamed (readproctitle shows it); tsvscan
          // names every line, its own events and the services' stderr alike.
          ...(peer || quiet ? {} : { talk: (l: string) => writeErr(`tsvscan: ${oneLine(svc)}: ${oneLine(l)}`) }),
          ...(peer ? {} : { relay: (l: string) => writeErr(`${oneLine(svc)}: ${l}`) }),
        }),
    });
    // why: a shutdown that failed (111) says more than the main service's code
    return mainExit !== undefined && code === 0 ? mainExit : code;
  } catch (e) {
    return report(diag, e);
  }
}

/** A service name (or event line) on one line: control characters (a newline in a directory
 * name) written as \xNN. */
function oneLine(s: string): string {
  return s.replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

const prog = invokedAs(process.argv[1], 'tsvscan');
runMain(prog === 'runsvdir' ? 'runsvdir' : 'tsvscan', () => main(prog, process.argv.slice(2)));
