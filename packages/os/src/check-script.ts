// The service's `check` script, as sv runs it (runit.md 3.6): cwd the service dir, argv
// `./check`, stdout discarded, stderr and environment inherited; passes iff it exits 0. A
// missing check passes; one that cannot be executed warns and passes (sv's child exits 0).
// Shared by tsvctl (which prints the warnings) and @tsv/api (which does not).
import { errCode, errstr, SERVICE } from '@tsv/core';
import { statSync } from 'node:fs';

/** Run NAME's check script in dir; resolves true when it passes. Warnings (`warning: unable to
 * ...`) go to warn, when given. */
export async function runCheckScript(name: string, dir: string, warn: (line: string) => void = () => {}): Promise<boolean> {
  try {
    statSync(`${dir}/${SERVICE.check}`);
  } catch (e) {
    if (errCode(e) === 'ENOENT') return true;
    warn(`warning: unable to stat ${name}/check: ${errstr(e)}`);
    return false;
  }
  // why: child_process is loaded only for a service that has a check script (start-up time).
  const { spawn } = await import('node:child_process');
  return new Promise((resolve) => {
    let settled = false;
    const settle = (ok: boolean): void => {
      if (!settled) resolve(ok);
      settled = true;
    };
    // why: sv closes the check's stdout; /dev/null ('ignore') is the closest Node offers and
    // spares a check that writes to stdout an EBADF.
    const child = spawn(`./${SERVICE.check}`, [], { cwd: dir, stdio: ['inherit', 'ignore', 'inherit'] });
    // why: a check still running at the deadline must not keep tsvctl alive after its timeout
    // line; the waiter's own watchers and timer keep it alive while the answer matters.
    child.unref();
    child.on('error', (e) => {
      warn(`warning: unable to run ${name}/check: ${errstr(e)}`);
      settle(true);
    });
    child.on('exit', (code) => settle(code === 0));
  });
}
