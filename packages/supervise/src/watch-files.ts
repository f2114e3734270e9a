// Watch mode's watcher (loaded only for a service with a `watch` file: chokidar is imported by
// nobody else, and scripts/bundle.mjs puts this module in a bundle of its own, so tsv and
// tsvscan without watched services neither read nor parse it). It turns file events into one
// call of onBurst per burst (debounced); every decision about the service is the machine's.
import { watch, type FSWatcher } from 'chokidar';
import picomatch from 'picomatch';
import { isAbsolute, join, resolve } from 'node:path';
import { SERVICE } from '@tsv/core';
import type { WatchSpec } from './watch-spec.js';

/** ms to let the watcher's kernel watches settle after chokidar's 'ready'. */
const WATCH_SETTLE_MS = 150;

/** A running watcher. */
export interface WatchHandle {
  close(): Promise<void>;
}

/** What is never watched: dependency and VCS trees, and the service's own supervise/, log/
 * and watch file (the supervisor and the logger write there: watching them would loop). */
function defaultIgnores(dir: string): string[] {
  return ['**/node_modules', '**/node_modules/**', '**/.git', '**/.git/**', join(dir, SERVICE.supervise), join(dir, SERVICE.supervise, '**'), join(dir, SERVICE.log), join(dir, SERVICE.log, '**'), join(dir, SERVICE.watch)];
}

/** A matcher for one entry of the watch file: a glob matches by pattern, a plain path matches
 * itself and everything below it. */
function entryMatcher(abs: string): { base: string; matches: (p: string) => boolean } {
  const scan = picomatch.scan(abs);
  if (scan.isGlob) {
    const m = picomatch(abs, { dot: true });
    return { base: scan.base === '' ? '/' : scan.base, matches: (p) => m(p) };
  }
  return { base: abs, matches: (p) => p === abs || p.startsWith(`${abs}/`) };
}

/** Watch what spec names in the service directory dir; resolves once the initial scan is done
 * (so a change after the service started is never missed). */
export async function startWatching(dir: string, spec: WatchSpec, onBurst: () => void, warn: (m: string) => void): Promise<WatchHandle> {
  const abs = (p: string): string => (isAbsolute(p) ? resolve(p) : resolve(dir, p));
  const entries = spec.watch.map((p) => entryMatcher(abs(p)));
  const ignores = spec.ignore.map((p) => entryMatcher(abs(p)));
  const builtIn = picomatch(defaultIgnores(resolve(dir)), { dot: true });
  const ignored = (p: string): boolean => builtIn(p) || ignores.some((e) => e.matches(p));
  let timer: NodeJS.Timeout | undefined;
  const w: FSWatcher = watch([...new Set(entries.map((e) => e.base))], {
    ignoreInitial: true,
    ignored,
    persistent: false,
  });
  w.on('all', (_event, path) => {
    const p = resolve(path);
    if (ignored(p) || !entries.some((e) => e.matches(p))) return;
    clearTimeout(timer);
    timer = setTimeout(onBurst, spec.debounceMs);
  });
  w.on('error', (err) => warn(`watch: ${err instanceof Error ? err.message : String(err)}`));
  await new Promise<void>((r) => w.once('ready', () => r()));
  // why the settle: chokidar emits 'ready' when its initial scan is done, a little before the
  // kernel watches of the directories are all in place: a file written at once after 'ready'
  // was missed in 6 of 10 tries here (0 of 10 after 50 ms). run starts after this, so the
  // first change after a start is never lost.
  await new Promise<void>((r) => setTimeout(r, WATCH_SETTLE_MS));
  return {
    close: async () => {
      clearTimeout(timer);
      await w.close();
    },
  };
}
