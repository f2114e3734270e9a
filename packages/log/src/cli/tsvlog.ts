// tsvlog: svlogd-compatible logger. `tsvlog [-ttv] [-r c] [-R abc] [-l len] [-b buflen] dir ...`
// reads stdin; `tsvlog -c [-f] [-n N] dir ...` prints log dirs with stamps as local time.
import { basename } from 'node:path';
import { metaRequest, versionLine } from '@tsv/core';
import { runMain, writeErr, writeOut } from '@tsv/os';
import { parseTsvlogArgs, parseCatArgs } from '../options.js';
import { startLogger } from '../logger.js';

// why argv[1]: the launcher as invoked; under a peer's name (svlogd) usage, -V and every
// diagnostic say svlogd, as svlogd's own do.
const prog = basename(process.argv[1] ?? 'tsvlog').replace(/\.cjs$/, '');

/** A diagnostic of the logger (written `tsvlog: ...`) under the name this program runs as. */
function warn(line: string): void {
  writeErr(prog === 'tsvlog' ? line : line.replace(/^tsvlog:/, `${prog}:`));
}

runMain(prog, async () => {
  const argv = process.argv.slice(2);
  const meta = metaRequest(argv, prog === 'svlogd');
  if (meta !== undefined) {
    writeOut(meta === 'help' ? (await import('../help.js')).tsvlogHelp(prog) : `${versionLine(prog)}\n`);
    return 0;
  }
  // Node opens the inspector on SIGUSR1 unless a listener exists.
  process.on('SIGUSR1', () => {});
  if (argv[0] === '-c') {
    const c = parseCatArgs(argv.slice(1));
    const { showLog } = await import('../show-log.js');
    const ac = new AbortController();
    process.on('SIGTERM', () => ac.abort());
    process.on('SIGINT', () => ac.abort());
    await showLog(c.dirs, { follow: c.follow, lines: c.lines, out: writeOut, signal: ac.signal });
    return 0;
  }
  const opts = parseTsvlogArgs(argv, prog);
  const info = (msg: string): void => {
    if (opts.verbose > 0) warn(`tsvlog: info: ${msg}`);
  };
  const h = startLogger({ ...opts, cwd: process.cwd(), input: 0, warn });
  process.on('SIGTERM', () => {
    info('sigterm received.');
    void h.stop();
  });
  process.on('SIGHUP', () => {
    info('sighangup received.');
    h.reopen();
  });
  process.on('SIGALRM', () => {
    info('sigalarm received.');
    h.rotate();
  });
  const code = await h.done;
  // Exit at once: nothing else is pending, and a paused stdin must not keep the loop alive.
  process.exit(code);
});
