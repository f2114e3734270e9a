// tsv DIR: supervise one service directory (runsv). SIGTERM (and SIGINT) act like `x`. Run as
// `runsv` (a symlink), its usage line is runsv's.
import { usageError } from '@tsv/core';
import { runMain, writeErr } from '@tsv/os';
import { readdirSync } from 'node:fs';
import { setCloexec } from '@tsv/native';
import { Supervisor } from '../supervisor.js';
import { detachDeadTerminalsAtExit } from './dead-tty.js';
import { closeInheritedOnExec } from './inherited-fds.js';
import { invokedAs } from './invoked-as.js';

/** Parse argv, supervise, exit 0 after `x`. */
async function main(prog: string, argv: string[]): Promise<number> {
  // why: runsv prints its usage followed by an empty line (strerr_die with a trailing "\n").
  if (argv.length !== 1 || argv[0] === undefined || argv[0] === '') throw usageError(prog === 'runsv' ? 'usage: runsv dir\n\n' : `usage: ${prog} dir`, 1);
  const dir = argv[0];
  closeInheritedOnExec();
  detachDeadTerminalsAtExit();
  // why: runsv's diagnostics say `runsv DIR`; under any other name tsv's own say `tsv DIR`.
  const sup = new Supervisor(dir, { diagPrefix: `${diagName(prog)} ${dir}`, warn: writeErr, program: 'tsv' });
  // why: without a SIGUSR1 listener Node would open its inspector on that signal.
  process.on('SIGUSR1', () => undefined);
  const stop = (): void => void sup.shutdown();
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  // why: a pool reads its `instances` file again on HUP (a single service is unaffected); under
  // the name runsv, HUP kills it as it kills runsv.
  if (prog !== 'runsv') process.on('SIGHUP', () => sup.reload());
  await sup.start();
  await sup.exited;
  return 0;
}

/** The name diagnostics carry: the peer's under its name, else tsv. */
function diagName(prog: string): string {
  return prog === 'runsv' ? 'runsv' : 'tsv';
}

const prog = invokedAs(process.argv[1], 'tsv');
const dirArg = process.argv[2];
runMain(`${diagName(prog)} ${dirArg ?? ''}`.trimEnd(), () => main(prog, process.argv.slice(2)));
