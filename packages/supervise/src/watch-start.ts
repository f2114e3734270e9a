// Starting watch mode for a service directory that has a `watch` file: read and parse the file,
// then load the watcher (watch-files.ts, with chokidar) only now.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { errstr, SERVICE } from '@tsv/core';
import { parseWatchSpec } from './watch-spec.js';

/** A running watcher (watch-files.ts). */
export interface Watching {
  close(): Promise<void>;
}

/** Watch what dir/watch names, calling onBurst after each burst of changes; undefined when dir
 * has no watch file (or it cannot be read: warned). */
export async function startWatch(dir: string, onBurst: () => void, warn: (m: string) => void): Promise<Watching | undefined> {
  let text: string;
  try {
    text = readFileSync(join(dir, SERVICE.watch), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') warn(`unable to read ${SERVICE.watch}: ${errstr(err)}`);
    return undefined;
  }
  const { spec, errors } = parseWatchSpec(text);
  for (const e of errors) warn(e);
  // why: chokidar (and its dependencies) load only for a watched service: start-up cost.
  const { startWatching } = await import('./watch-files.js');
  return startWatching(dir, spec, onBurst, warn);
}
