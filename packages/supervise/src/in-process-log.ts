// A logger hosted inside the supervisor: log/ has no run but a `tsvlog` file holding tsvlog's
// arguments; @tsv/log's engine reads the log pipe in this process (no Node start-up per logger).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { errstr, fileWords, SERVICE } from '@tsv/core';
import { parseTsvlogArgs, startLogger, type LoggerHandle } from '@tsv/log';

/** Split the tsvlog file into words (blanks and newlines separate; `#` starts a comment). */
export const tsvlogWords = fileWords;

/** A function starting the in-process logger of logDir on input (re-reads log/tsvlog each
 * time, like a log/run would be re-executed). Errors are thrown to the caller (the slot),
 * which reports them like a failed start of log/run. */
export function inProcessLoggerFactory(logDir: string, input: number, warn: (line: string) => void): () => LoggerHandle {
  return () => {
    let words: string[];
    try {
      words = tsvlogWords(readFileSync(join(logDir, SERVICE.logInProcess), 'utf8'));
    } catch (err) {
      throw new Error(`unable to read it: ${errstr(err)}`);
    }
    const opts = parseTsvlogArgs(words);
    return startLogger({ ...opts, cwd: logDir, input, warn });
  };
}
