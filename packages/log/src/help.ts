// tsvlog's help text (-h/--help), in the layout every tsv program shares.
import { helpText } from '@tsv/core';

/** The help text of tsvlog, run as prog (svlogd under that name). */
export function tsvlogHelp(prog: string): string {
  return helpText(prog, {
    what: 'reads lines on standard input and writes them to each log DIR (svlogd-compatible): rotated by size, optionally timestamped, filtered and processed as each DIR\'s config says; a full disk or a SIGKILL loses no line.',
    synopsis: [`${prog} [-ttv] [-r c] [-R abc] [-l len] [-b buflen] DIR...`, `${prog} -c [-f] [-n N] DIR...   print the logs, stamps as local time`],
    options: [
      ['-t', 'prefix each line with a TAI64N stamp; -tt: UTC date and time; -ttt: the same with a T'],
      ['-r c', 'replace unprintable characters (and those of -R) by c'],
      ['-R abc', 'also replace these characters'],
      ['-l len', 'line length kept for patterns and alerts (default 1000)'],
      ['-b buflen', 'buffer size (default 1024, more than len)'],
      ['-v', 'verbose: info lines on standard error'],
      ['-c', 'print the log dirs (-f: follow; -n N: the last N lines)'],
      ['-V', prog === 'svlogd' ? 'the version, then the usage, exit 111 (svlogd\'s)' : 'the version line; --version too'],
      ['-h, --help', 'this help'],
    ],
    examples: ['mkdir -p log/main && ./server 2>&1 | tsvlog -tt log/main', 'tsvlog -c -n 20 log/main'],
    note: 'In a service, log/tsvlog (a file of these arguments) runs the logger inside the supervisor. Documentation: docs/tsvlog.md.',
  });
}
