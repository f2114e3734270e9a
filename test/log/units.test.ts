// Pure parts of tsvlog: argument parser, config parser, pattern matcher, splitter, stamps.
import t from 'tap';
import { ToolError } from '@tsv/core';
import { parseTsvlogArgs, parseCatArgs, parseConfig, pmatch, select, LineSplitter, stampText, tai64nText, renderLine, localText, type SegmentSink } from '@tsv/log';

t.test('arguments', async (t) => {
  const o = parseTsvlogArgs(['-tt', '-v', '-l', '80', '-b100', 'a', 'b']);
  t.equal(o.timestamp, 2);
  t.equal(o.verbose, 1);
  t.equal(o.lineMax, 80);
  t.equal(o.bufLen, 100);
  t.same(o.dirs, ['a', 'b']);
  t.equal(parseTsvlogArgs(['-tttt', 'd']).timestamp, 3, 'capped at 3');
  t.equal(parseTsvlogArgs(['-ttv', 'd']).verbose, 1, 'grouped flags');
  t.equal(parseTsvlogArgs(['-R', 'ab', 'd']).replaceChar, '_', '-R alone replaces with _');
  t.equal(parseTsvlogArgs(['-r', '#', 'd']).replaceChar, '#');
  t.equal(parseTsvlogArgs(['-l', '0', 'd']).lineMax, 1000, 'len 0 means 1000');
  const bad = (argv: string[]): void => {
    let err: unknown;
    try {
      parseTsvlogArgs(argv);
    } catch (e) {
      err = e;
    }
    t.ok(err instanceof ToolError && err.exitCode === 111 && err.message.includes('usage: tsvlog'), `usage error: ${argv.join(' ')}`);
  };
  bad([]);
  bad(['-t']);
  bad(['-x', 'd']);
  bad(['-r', 'ab', 'd']);
  bad(['-l', '2000', 'd']);
  bad(['-b', '500', '-l', '500', 'd']);
  bad(['-l', 'x', 'd']);
  bad(['-V', 'd']);
  t.same(parseCatArgs(['-f', '-n', '5', 'x']), { follow: true, lines: 5, dirs: ['x'] });
  t.throws(() => parseCatArgs(['-n', 'q', 'x']));
});

t.test('config', async (t) => {
  const { config, warnings } = parseConfig('s100k\nn5\nN2\nt2m\n!gzip\n# comment\n\np[x] \n+a*\n-*b\neerr*\nEx\nu10.0.0.1:9\nsjunk\nzzz\n');
  t.equal(config.size, 102400);
  t.equal(config.num, 5);
  t.equal(config.min, 2);
  t.equal(config.timeout, 120);
  t.equal(config.processor, 'gzip');
  t.equal(config.prefix, '[x] ');
  t.same(config.udp, { host: '10.0.0.1', port: 9, only: false });
  t.same(config.patterns.map((p) => `${p.kind}${p.pattern.toString()}`), ['+a*', '-*b', 'eerr*', 'Ex']);
  t.equal(warnings.length, 2, 'one warning per malformed line');
  t.match(warnings[0], /line 14: sjunk: bad size/);
  t.match(warnings[1], /line 15: zzz: unknown directive/);
  const d = parseConfig('').config;
  t.same([d.size, d.num, d.min, d.timeout, d.processor], [1000000, 10, 10, 0, '']);
  t.equal(parseConfig('s1m\n').config.size, 1048576);
  t.same(parseConfig('s200 \r\nn3\r\n'), { config: { ...parseConfig('').config, size: 200, num: 3 }, warnings: [] }, 'CRLF and trailing blanks');
  t.equal(parseConfig('t1h\n').config.timeout, 3600);
  t.equal(parseConfig('!\n').config.processor, '', 'a bare ! is ignored');
  t.equal(parseConfig('U1.2.3.4\n').config.udp?.port, 514);
  t.equal(parseConfig('U1.2.3.4\n').config.udp?.only, true);
  t.equal(parseConfig('u1.2.3.4:0\n').warnings.length, 1, 'port 0 is refused');
});

t.test('patterns (svlogd semantics, no backtracking)', async (t) => {
  const m = (p: string, s: string): boolean => {
    const b = Buffer.from(s);
    return pmatch(Buffer.from(p), b, 0, b.length);
  };
  t.notOk(m('*err*', 'keep err line'), '* stops at the first e');
  t.ok(m('keep err*', 'keep err line'));
  t.ok(m('*', 'anything'));
  t.ok(m('abc', 'abc'));
  t.notOk(m('abc', 'abcd'), 'must consume the whole line');
  t.notOk(m('ab', 'a'));
  t.ok(m('a+bc', 'abbbc'));
  t.notOk(m('a+bc', 'ac'), '+ needs one');
  t.ok(m('*:*', 'x: y'));
  const sel = select(parseConfig('-*\n+info*\neinfo x*\n').config.patterns, Buffer.from('info x'), 0, 6);
  t.same(sel, { log: true, alert: true });
  t.same(select(parseConfig('-*\n').config.patterns, Buffer.from('q'), 0, 1), { log: false, alert: false });
  t.same(select([], Buffer.from('q'), 0, 1), { log: true, alert: false }, 'defaults');
});

/** Collects segments as strings: H = head, T = tail. */
function collect(): SegmentSink & { out: string[] } {
  const out: string[] = [];
  return {
    out,
    segment(buf, s, e, head, tail) {
      out.push(`${head ? 'H' : ''}${tail ? 'T' : ''}:${buf.toString('latin1', s, e)}`);
    },
    run(buf, s, e) {
      let nl: number;
      while (s < e && (nl = buf.indexOf(10, s)) >= 0) {
        out.push(`HT:${buf.toString('latin1', s, nl + 1)}`);
        s = nl + 1;
      }
    },
  };
}

t.test('splitter', async (t) => {
  const c = collect();
  const sp = new LineSplitter(8);
  sp.push(Buffer.from('ab\ncd'), 1, c);
  sp.push(Buffer.from('e\nf'), 2, c);
  sp.push(Buffer.from('\n\n'), 3, c);
  t.same(c.out, ['HT:ab\n', 'HT:cde\n', 'HT:f\n', 'HT:\n']);
  // A line longer than the carry limit is streamed: head, middles, tail; memory stays bounded.
  const c2 = collect();
  const sp2 = new LineSplitter(4);
  sp2.push(Buffer.from('abc'), 1, c2);
  t.equal(sp2.held, 3);
  sp2.push(Buffer.from('defg'), 1, c2);
  t.equal(sp2.held, 0, 'nothing held once streaming');
  sp2.push(Buffer.from('hij'), 1, c2);
  sp2.push(Buffer.from('k\nl'), 1, c2);
  sp2.end(c2);
  t.same(c2.out, ['H:abcdefg', ':hij', 'T:k\n', 'HT:l\n'], 'partial last line completed at end');
  const c3 = collect();
  const sp3 = new LineSplitter(4);
  sp3.push(Buffer.from('0123456789'), 1, c3);
  sp3.end(c3);
  t.same(c3.out, ['H:0123456789', 'T:\n']);
});

t.test('stamps', async (t) => {
  const us = Date.UTC(2026, 10, 22, 11, 43, 28, 841) * 1000 + 497;
  t.equal(stampText(2, us), '2026-11-22_11:43:28.84149 ');
  t.equal(stampText(3, us), '2026-11-22T11:43:28.84149 ');
  t.equal(stampText(0, us), '');
  t.match(stampText(1, us), /^@4000000[0-9a-f]{17} $/);
  t.equal(stampText(1, us), `${tai64nText(us)} `, '-t stamp is the TAI64N text');
  t.equal(stampText(1, us + 1), `${tai64nText(us + 1)} `, 'same second, cached part');
  t.equal(stampText(2, us + 1e6), '2026-11-22_11:43:29.84149 ', 'next second');
  t.equal(tai64nText(1_000_000), '@400000000000000b000001f4', 'nanoseconds end in 500');
  const line = `${tai64nText(us)} hello`;
  const local = localText(Math.floor(us / 1e6), (us % 1e6) * 1000 + 500);
  t.equal(renderLine(line), `${local} hello`);
  t.equal(renderLine('2026-11-22_11:43:28.84149 x'), '2026-11-22_11:43:28.84149 x', '-tt stamps as written');
  t.equal(renderLine('plain'), 'plain');
});
