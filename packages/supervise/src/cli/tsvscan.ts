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
}

/** tsvscan's own syntax: `tsvscan [-q] [-g secs] [--] [dir]`. */
function parseOwn(prog: string, argv: string[]): ScanArgs {
  const usage = `usage: ${prog} [-q] [-g secs] [dir]`;
  const { quiet, graceMs, rest: args } = parseSupervisorArgs(prog, argv, process.env, usage);
  if (args.length > 1 || args[0] === '') throw usageError(usage, 1);
  if (args[0] !== undefined) return { shown: args[0], defaulted: false, quiet, graceMs };
  return { shown: defaultScanDir(process.env, homedir()), defaulted: true, quiet, graceMs };
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
  const { shown, defaulted, quiet, graceMs } = peer ? parseRunsvdir(argv) : parseOwn(prog, argv);
  closeInheritedOnExec();
  detachDeadTerminalsAtExit();
  const name = peer ? 'runsvdir' : 'tsvscan';
  const diag = `${name} ${shown}`;
  // why: one process hosts every service: a programming error surfacing in one service's event
  // handler must not take all the others down with it. Reported on one line; tsvscan goes on.
  const internal = (e: unknown): void => writeErr(warnLine(diag, `internal error: ${e instanceof Error ? e.message : String(e)}`));
  process.on('uncaughtException', internal);
  process.on('unhandledRejection', internal);
  try {
    return await runScanDir({
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
          diagPrefix: peer ? `runsv ${svc}` : `tsvscan ${join(shown, svc)}`,
          warn: writeErr,
          program: 'tsvscan',
          name: svc,
          // why: runsvdir's services share its stderr unnamed (readproctitle shows it); tsvscan
          // names every line, its own events and the services' stderr alike.
          ...(peer || quiet ? {} : { talk: (l: string) => writeErr(`tsvscan: ${oneLine(svc)}: ${oneLine(l)}`) }),
          ...(peer ? {} : { relay: (l: string) => writeErr(`${oneLine(svc)}: ${l}`) }),
        }),
    });
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
