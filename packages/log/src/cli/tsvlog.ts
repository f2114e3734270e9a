// tsvlog: svlogd-compatible logger. `tsvlog [-ttv] [-r c] [-R abc] [-l len] [-b buflen] dir ...`
// reads stdin; `tsvlog -c [-f] [-n N] dir ...` prints log dirs with stamps as local time.
import { basename } from 'node:path';
import { runMain, writeErr, writeOut } from '@tsv/os';
import { parseTsvlogArgs, parseCatArgs } from '../options.js';
import { startLogger } from '../logger.js';

runMain('tsvlog', async () => {
  const argv = process.argv.slice(2);
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
  // why: argv[1] is the launcher as invoked; under a peer's name (svlogd) the usage says so.
  const opts = parseTsvlogArgs(argv, basename(process.argv[1] ?? 'tsvlog').replace(/\.cjs$/, ''));
  const info = (msg: string): void => {
    if (opts.verbose > 0) writeErr(`tsvlog: info: ${msg}`);
  };
  const h = startLogger({ ...opts, cwd: process.cwd(), input: 0, warn: writeErr });
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
