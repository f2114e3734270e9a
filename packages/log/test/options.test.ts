// tsvlog's command lines on the shared getopt (@tsv/core): svlogd's syntax, exit 111 (usage of
// the logger) and 100 (usage of -c).
import t from 'tap';
import { ToolError } from '@tsv/core';
import { parseCatArgs, parseTsvlogArgs } from '@tsv/log';

/** The ToolError fn throws, or undefined. */
function thrown(fn: () => unknown): ToolError | undefined {
  try {
    fn();
  } catch (e) {
    if (e instanceof ToolError) return e;
    throw e;
  }
  return undefined;
}

t.test('getopt syntax: groups, attached and separate values, end of options', async (t) => {
  const o = parseTsvlogArgs(['-ttvl80', '-b', '100', 'a', '-t', 'b']);
  t.same([o.timestamp, o.verbose, o.lineMax, o.bufLen], [2, 1, 80, 100], 'grouped flags, then a letter with its value attached');
  t.same(o.dirs, ['a', '-t', 'b'], 'options end at the first operand');
  t.same(parseTsvlogArgs(['-t', '--', '-v']).dirs, ['-v'], '-- ends the options');
  t.same(parseTsvlogArgs(['-t', '-', 'x']).dirs, ['-', 'x'], 'a lone - is an operand');
  t.equal(parseTsvlogArgs(['-rx', 'd']).replaceChar, 'x', '-r value attached');
  t.equal(parseTsvlogArgs(['-R', '-t', 'd']).replaceChars, '-t', "an option's value may start with -");
  t.equal(parseTsvlogArgs(['-l', '50', '-l', '60', 'd']).lineMax, 60, 'the last of a repeated option counts');
});

t.test('usage errors exit 111 with the usage line of the name run as', async (t) => {
  for (const argv of [['-x', 'd'], ['-l'], ['-t:', 'd'], ['-r', '', 'd'], ['-b', '-1', 'd'], ['--', '']]) {
    const e = thrown(() => parseTsvlogArgs(argv, 'svlogd'));
    if (argv[0] === '--') {
      t.equal(e, undefined, 'an empty operand after -- is a dir');
      continue;
    }
    t.equal(e?.exitCode, 111, `${JSON.stringify(argv)}: exit 111`);
    // a bad number is named first (issue 11: errors name the bad value), then the usage line
    const named = argv[0] === '-b' ? 'svlogd: fatal: invalid number for -b: -1\n' : '';
    t.equal(e?.message, `${named}usage: svlogd [-ttv] [-r c] [-R abc] [-l len] [-b buflen] dir ...`, `${JSON.stringify(argv)}: the usage line${named === '' ? ' only' : ', after the bad value'}`);
  }
  const v = thrown(() => parseTsvlogArgs(['-V', 'd'], 'svlogd'));
  t.match(v?.message, /^svlogd \(tsv\) \S+\nusage: svlogd /, '-V: the version line (the one form of every program), then the usage');
  t.equal(thrown(() => parseTsvlogArgs(['-V', '-x', 'd']))?.message.includes('(tsv)'), false, 'an illegal option after -V: usage only');
});

t.test('-c [-f] [-n lines] dir ...', async (t) => {
  t.same(parseCatArgs(['-fn5', 'x']), { follow: true, lines: 5, dirs: ['x'] }, 'grouped, value attached');
  t.same(parseCatArgs(['-n', '3', '--', '-f']), { follow: false, lines: 3, dirs: ['-f'] }, '-- ends the options');
  t.same(parseCatArgs(['x', '-f']), { follow: false, lines: undefined, dirs: ['x', '-f'] }, 'options end at the first operand');
  for (const argv of [[], ['-f'], ['-n'], ['-n', 'q', 'x'], ['-z', 'x']]) {
    const e = thrown(() => parseCatArgs(argv));
    t.equal(e?.exitCode, 100, `${JSON.stringify(argv)}: exit 100`);
    t.equal(e?.message, 'usage: tsvlog -c [-f] [-n lines] dir ...', `${JSON.stringify(argv)}: the usage line`);
  }
});
