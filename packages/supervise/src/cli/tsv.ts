// tsv DIR: supervise one service directory (runsv). SIGTERM (and SIGINT) act like `x`. Run as
// `runsv` (a symlink), its usage line is runsv's.
import { metaRequest, usageError, versionLine, warnLine } from '@tsv/core';
import { runMain, writeErr, writeOut } from '@tsv/os';
import { parseSupervisorArgs, tsvHelp } from '../cli-options.js';
import { Supervisor } from '../supervisor.js';
import { detachDeadTerminalsAtExit } from './dead-tty.js';
import { closeInheritedOnExec } from './inherited-fds.js';
import { invokedAs } from './invoked-as.js';

/** Parse argv, supervise, exit 0 after `x`. */
async function main(prog: string, argv: string[]): Promise<number> {
  const peer = prog === 'runsv';
  const meta = peer ? undefined : metaRequest(argv);
  if (meta !== undefined) {
    writeOut(meta === 'help' ? tsvHelp() : `${versionLine(prog)}\n`);
    return 0;
  }
  // why: runsv prints its usage followed by an empty line (strerr_die with a trailing "\n").
  const usage = peer ? 'usage: runsv dir\n\n' : `usage: ${prog} [-q] [-g secs] dir`;
  const { quiet, graceMs, rest } = peer ? { quiet: true, graceMs: 0, rest: argv } : parseSupervisorArgs(prog, argv, process.env, usage);
  if (rest.length !== 1 || rest[0] === undefined || rest[0] === '') throw usageError(usage, 1);
  const dir = rest[0];
  closeInheritedOnExec();
  detachDeadTerminalsAtExit();
  const diag = `${diagName(prog)} ${dir}`;
  // why: runsv's diagnostics say `runsv DIR`; under any other name tsv's own say `tsv DIR`.
  // Under runsv's name the service shares our stderr unnamed and nothing is said of its events.
  const sup = new Supervisor(dir, {
    diagPrefix: diag,
    warn: writeErr,
    program: 'tsv',
    ...(quiet ? {} : { talk: (l: string) => writeErr(`tsv: ${dir}: ${l}`) }),
    ...(peer ? {} : { relay: (l: string) => writeErr(`${dir}: ${l}`) }),
  });
  // why: without a SIGUSR1 listener Node would open its inspector on that signal.
  process.on('SIGUSR1', () => undefined);
  let grace: NodeJS.Timeout | undefined;
  const stop = (): void => {
    void sup.shutdown();
    // why: a service that ignores its down-signal must not keep a supervisor a person (or a
    // container runtime) asked to exit: after the grace, what is left is killed, and named.
    if (graceMs > 0 && grace === undefined) {
      grace = setTimeout(() => {
        if (sup.forceKill()) writeErr(warnLine(diag, `grace of ${graceMs / 1000} s over, killed: ${dir}`));
      }, graceMs);
    }
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  // why: a pool reads its `instances` file again on HUP (a single service is unaffected); under
  // the name runsv, HUP kills it as it kills runsv.
  if (prog !== 'runsv') process.on('SIGHUP', () => sup.reload());
  await sup.start();
  await sup.exited;
  clearTimeout(grace);
  return 0;
}

/** The name diagnostics carry: the peer's under its name, else tsv. */
function diagName(prog: string): string {
  return prog === 'runsv' ? 'runsv' : 'tsv';
}

const prog = invokedAs(process.argv[1], 'tsv');
// why the last word: the directory comes after tsv's own options
const dirArg = process.argv.length > 2 ? process.argv[process.argv.length - 1] : undefined;
runMain(`${diagName(prog)} ${dirArg ?? ''}`.trimEnd(), () => main(prog, process.argv.slice(2)));
