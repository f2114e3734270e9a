// `tsvctl log [-f] [-n N] SVC...`: print the services' logs through @tsv/log's showLog; with -f
// follow them across rotations until SIGINT/SIGTERM (then exit 0).
import { basename } from 'node:path';
import { writeOut } from '@tsv/os';
import type { CtlOptions } from './argv.js';
import { findLogDirs } from './log-dirs.js';
import { enterService, Out } from './status.js';

/** Run the log command; returns the exit code (sv's count of fail lines). */
export async function logCommand(o: CtlOptions): Promise<number> {
  const out = new Out();
  const dirs: string[] = [];
  const labels: string[] = [];
  for (const name of o.services) {
    const dir = enterService(name, o.svdir, out);
    if (dir === undefined) continue;
    const found = findLogDirs(dir);
    if (found.length === 0) out.fail(name, 'no log directory (log/current, log/*/current, log/tsvlog or a logger on log/run)');
    dirs.push(...found);
    // why: a service with several log dirs labels each line with the dir too
    // (the label is the service's last name: `.tsv-demo/web` is `web`)
    const label = basename(name.replace(/\/+$/, '')) || name;
    for (const d of found) labels.push(found.length > 1 ? `${label}/${basename(d)}` : label);
  }
  if (dirs.length === 0) return out.exitCode();
  const { showLog } = await import('@tsv/log/show-log');
  const ac = new AbortController();
  const stop = (): void => ac.abort();
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  // why: without a SIGUSR1 listener Node opens its inspector on SIGUSR1.
  process.on('SIGUSR1', () => {});
  try {
    await showLog(dirs, {
      follow: o.follow,
      // why: several services' lines are told apart by their label, and -tt (UTC) and TAI64N
      // stamps are shown in one format, local time
      ...(dirs.length > 1 ? { labels } : {}),
      oneFormat: true,
      ...(o.lines !== undefined ? { lines: o.lines } : {}),
      out: (text) => {
        if (!writeOut(text)) ac.abort();
      },
      signal: ac.signal,
    });
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
  return out.exitCode();
}
