// tsv DIR: supervise one service directory (runsv). SIGTERM (and SIGINT) act like `x`.
import { readdirSync } from 'node:fs';
import { usageError } from '@tsv/core';
import { runMain, writeErr } from '@tsv/os';
import { setCloexec } from '@tsv/native';
import { Supervisor } from '../supervisor.js';

/** Parse argv, supervise, exit 0 after `x`. */
async function main(argv: string[]): Promise<number> {
  if (argv.length !== 1 || argv[0] === undefined || argv[0] === '') throw usageError('usage: tsv dir', 1);
  const dir = argv[0];
  closeInheritedOnExec();
  const sup = new Supervisor(dir, { diagPrefix: `tsv ${dir}`, warn: writeErr, program: 'tsv' });
  // why: without a SIGUSR1 listener Node would open its inspector on that signal.
  process.on('SIGUSR1', () => undefined);
  const stop = (): void => void sup.shutdown();
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  await sup.start();
  await sup.exited;
  return 0;
}

/** Mark every fd above 2 that tsv inherited close-on-exec, so the service gets exactly 0, 1, 2
 * (Node itself only does that for fds up to 15). */
function closeInheritedOnExec(): void {
  for (const name of readdirSync('/proc/self/fd')) {
    const fd = Number(name);
    if (fd <= 2) continue;
    try {
      setCloexec(fd, true);
    } catch {
      // the fd of the directory listing itself, closed by now
    }
  }
}

const dirArg = process.argv[2];
runMain(`tsv ${dirArg ?? ''}`.trimEnd(), () => main(process.argv.slice(2)));
