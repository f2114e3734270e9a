// The default scan directory, one rule for every program (tsvscan watches it, `tsvctl list`
// lists it): $SVDIR when set, else ~/service. Pure: the caller passes the home directory.
import { join } from 'node:path';
import { SCANDIR } from './names.js';

/** The scan directory used when none is given: env.SVDIR, else HOME/service. home defaults to
 * env.HOME; CLI callers pass os.homedir() (which also covers an unset HOME, as tsvscan does). */
export function defaultScanDir(env: Readonly<Record<string, string | undefined>>, home: string = env.HOME ?? '/'): string {
  return env[SCANDIR.envDir] ?? join(home, SCANDIR.homeDir);
}
