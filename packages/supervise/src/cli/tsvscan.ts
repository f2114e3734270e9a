// tsvscan [DIR]: supervise every service directory of DIR (default $SVDIR, else ~/service) in one
// process (runsvdir). TERM/INT stop every service and exit 0; HUP rescans.
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { SCANDIR, usageError, warnLine } from '@tsv/core';
import { report, runMain, writeErr } from '@tsv/os';
import { runScanDir } from '../scan/scan-dir.js';
import { Supervisor } from '../supervisor.js';

/** Parse argv, scan until told to stop, return the exit code. */
async function main(argv: string[]): Promise<number> {
  const args = argv[0] === '--' ? argv.slice(1) : argv;
  if (args.length > 1 || args[0] === '') throw usageError('usage: tsvscan [dir]', 1);
  const shown = args[0] ?? process.env[SCANDIR.envDir] ?? join(homedir(), SCANDIR.homeDir);
  const prog = `tsvscan ${shown}`;
  // why: one process hosts every service: a programming error surfacing in one service's event
  // handler must not take all the others down with it. Reported on one line; tsvscan goes on.
  const internal = (e: unknown): void => writeErr(warnLine(prog, `internal error: ${e instanceof Error ? e.message : String(e)}`));
  process.on('uncaughtException', internal);
  process.on('unhandledRejection', internal);
  try {
    return await runScanDir({
      dir: resolve(shown),
      shown,
      warn: (m) => writeErr(warnLine(prog, m)),
      // why: each service's diagnostics carry its own path, as runsv's `runsv NAME:` lines do.
      factory: (dir, name) => new Supervisor(dir, { diagPrefix: `tsvscan ${join(shown, name)}`, warn: writeErr, program: 'tsvscan' }),
    });
  } catch (e) {
    return report(prog, e);
  }
}

runMain('tsvscan', () => main(process.argv.slice(2)));
