// `tsvctl boot INIT [DIR] [--install [--to PATH]]`: resolve the paths the boot unit needs (this
// node, tsvscan's launcher, DIR), then print the unit, or write it where INIT looks.
import { chmodSync, existsSync, mkdirSync, realpathSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { candidates, EXIT, fatalFrom, ToolError } from '@tsv/core';
import { bootUnit, type BootInit, type BootOutput } from './boot-units.js';

/** The real path of an executable file, or undefined. */
function realExecutable(path: string): string | undefined {
  try {
    const rp = realpathSync(path);
    return (statSync(rp).mode & 0o111) !== 0 && statSync(rp).isFile() ? rp : undefined;
  } catch {
    return undefined;
  }
}

/** tsvscan's launcher, by its real path: beside tsvctl's own launcher (the published package's
 * bin/), else the first tsvscan on PATH. */
export function findTsvscan(argv1: string | undefined, pathVar: string | undefined): string {
  const beside = argv1 === undefined ? undefined : realExecutable(join(dirname(realpathOrSelf(argv1)), 'tsvscan.cjs'));
  if (beside !== undefined) return beside;
  for (const c of candidates('tsvscan', pathVar)) {
    const rp = realExecutable(c);
    if (rp !== undefined) return rp;
  }
  throw new ToolError('unable to find tsvscan: it is neither beside tsvctl nor on PATH', EXIT.temporary);
}

/** realpath, or the path itself when it cannot be resolved. */
function realpathOrSelf(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return p;
  }
}

/** Everything the unit of init needs, resolved now. */
export function bootFor(init: BootInit, dir: string, env: NodeJS.ProcessEnv): BootOutput {
  const info = userInfo();
  return bootUnit({
    init,
    dir: resolve(dir),
    nodeDir: dirname(realpathOrSelf(process.execPath)),
    tsvscan: findTsvscan(process.argv[1], env.PATH),
    home: env.HOME ?? info.homedir,
    user: info.username,
  });
}

/** The text boot prints: the unit itself, or a service directory's files each under a
 * `# FILE` header line. */
export function printable(out: BootOutput): string {
  if (out.kind === 'file') return out.files[0]?.text ?? '';
  return out.files.map((f) => `# ${join(out.target, f.path)}\n${f.text}`).join('\n');
}

/** Write a file atomically (X.new, then rename) with mode. */
function writeAtomic(path: string, text: string, mode: number): void {
  const tmp = `${path}.new`;
  writeFileSync(tmp, text, { mode });
  chmodSync(tmp, mode);
  renameSync(tmp, path);
}

/** Write out to target (default: where the init looks); returns what was written. */
export function installBoot(out: BootOutput, to: string | undefined): string {
  const target = resolve(to ?? out.target);
  try {
    if (out.kind === 'file') {
      mkdirSync(dirname(target), { recursive: true });
      const f = out.files[0];
      if (f !== undefined) writeAtomic(target, f.text, f.mode);
    } else {
      mkdirSync(target, { recursive: true });
      for (const f of out.files) writeAtomic(join(target, f.path), f.text, f.mode);
    }
  } catch (e) {
    throw fatalFrom(`unable to write ${target}`, e);
  }
  return target;
}

/** Is there already something at the target? (--install replaces a unit: said in its output.) */
export function targetExists(out: BootOutput, to: string | undefined): boolean {
  return existsSync(resolve(to ?? out.target));
}
