// Diagnostics in runit's style, written: one line to stderr, synchronously; runMain runs a CLI
// main and turns a ToolError into its line and exit code.
import { writeSync } from 'node:fs';
import { ENV, errstr, EXIT, ToolError } from '@tsv/core';

/** Write one line to stderr synchronously (async writes are lost when the process execs). */
export function writeErr(line: string): void {
  try {
    writeSync(2, line.endsWith('\n') ? line : `${line}\n`);
  } catch {
    // stderr closed: nothing more we can do.
  }
}

/** Write to stdout synchronously, retrying on EAGAIN (stdout may be a non-blocking pipe);
 * false once the reader has gone (EPIPE or any other write error). */
export function writeOut(text: string): boolean {
  const buf = Buffer.from(text);
  let off = 0;
  while (off < buf.length) {
    try {
      off += writeSync(1, buf, off);
    } catch (e) {
      // why: EAGAIN on a non-blocking pipe means "later", not "gone".
      if ((e as NodeJS.ErrnoException).code === 'EAGAIN') continue;
      return false;
    }
  }
  return true;
}

/** Print a ToolError (or any unexpected error, as one line) and return its exit code. */
export function report(prog: string, err: unknown): number {
  if (err instanceof ToolError) {
    writeErr(err.level === 'usage' ? err.message : `${prog}: fatal: ${err.message}`);
    return err.exitCode;
  }
  writeErr(`${prog}: fatal: ${errstr(err)}`);
  return EXIT.temporary;
}

/** Put NODE_EXTRA_CA_CERTS back into env when the launcher parked it (see bin/*.js): this
 * process makes no TLS connection and skipped loading the certificates, but the programs it
 * spawns or execs must see the environment they were given. */
export function unparkEnv(env: NodeJS.ProcessEnv = process.env): void {
  const parked = env[ENV.extraCaCerts];
  if (parked === undefined) return;
  env.NODE_EXTRA_CA_CERTS = parked;
  delete env[ENV.extraCaCerts];
}

/** Run a CLI main function; print any error runit-style and exit with the right code. */
export function runMain(prog: string, main: () => number | Promise<number>): void {
  unparkEnv();
  let result: number | Promise<number>;
  try {
    result = main();
  } catch (err) {
    process.exit(report(prog, err));
  }
  if (typeof result === 'number') {
    process.exitCode = result;
    return;
  }
  result.then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.exit(report(prog, err));
    },
  );
}
