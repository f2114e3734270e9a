// Unit tests of svlogd's size arithmetic in OutputBatch (packages/log/src/batch.ts) and of the
// numbers around it (config `s`/`n`/`N`, -l/-b). Expected values come from the spec
// (shared/spec/svlogd.md §3-§5), written out here, never from the code's own output: a batch's
// queued ops are replayed into files (`rotate` closes current) and the file sizes compared.
import t from 'tap';
import { OutputBatch, type Op } from '../dist/batch.js';
import { defaultConfig, parseConfig, parseTsvlogArgs } from '@tsv/log';
import { ToolError } from '@tsv/core';

/** Replay ops: the rotated files' contents (oldest first) and what current holds. */
function replay(ops: Op[]): { rotated: string[]; current: string } {
  const rotated: string[] = [];
  let current = '';
  for (const op of ops) {
    if (op.k === 'write') current += op.buf.toString('latin1');
    else if (op.k === 'rotate') {
      rotated.push(current);
      current = '';
    }
  }
  return { rotated, current };
}

/** Feed text (complete lines) through one batch with size s, line length lineMax, a stamp and
 * a prefix; the replayed result. */
function feed(text: string, s: number, lineMax: number, stamp = '', prefix = '', announced = text.length): { rotated: string[]; current: string } {
  const ops: Op[] = [];
  const b = new OutputBatch(ops, lineMax);
  b.configure(s, Buffer.from(prefix, 'latin1'));
  const buf = Buffer.from(text, 'latin1');
  b.begin(announced);
  b.addRun(buf, 0, buf.length, Buffer.from(stamp, 'latin1'));
  b.end();
  return replay(ops);
}

/** n lines of width bytes each (newline included), line i made of letter i mod 26. */
function lines(n: number, width: number): string {
  let out = '';
  for (let i = 0; i < n; i++) out += String.fromCharCode(97 + (i % 26)).repeat(width - 1) + '\n';
  return out;
}

t.test('s smaller than len: files cut mid-line at exactly s bytes (§5 rule 2 never fires)', async (t) => {
  // s100 with the default len 1000: the verified svlogd case.
  const r = feed(lines(5, 50), 100, 1000);
  t.same(r.rotated.map((f) => f.length), [100, 100], 'two full files of exactly 100 bytes');
  t.equal(r.current.length, 50, 'the rest in current');
  t.equal(r.rotated.join('') + r.current, lines(5, 50), 'no byte lost or repeated');
  // Exactly 2*s: the second rotation waits for the next byte (rule 1: "before writing").
  const e = feed(lines(4, 50), 100, 1000);
  t.same(e.rotated.map((f) => f.length), [100], 'rotation happens before the next write, not after reaching s');
  t.equal(e.current.length, 100);
  // A line cut across files: 30-byte lines with s100 end a file in the middle of the 4th line.
  const m = feed(lines(4, 30), 100, 1000);
  t.equal(m.rotated[0], lines(3, 30) + 'd'.repeat(10), 'file 1 ends inside the 4th line');
  t.equal(m.current, 'd'.repeat(19) + '\n');
});

t.test('rotation after a complete line once size >= s - len (§5 rule 2)', async (t) => {
  // s1000, -l 100: 100-byte lines; after 9 lines size is 900 = s - len: rotate.
  const r = feed(lines(20, 100), 1000, 100);
  t.same(r.rotated.map((f) => f.length), [900, 900], 'each file holds 9 lines (900 bytes)');
  t.equal(r.current.length, 200);
  // One byte short of s - len does not rotate: 899 bytes, then a line that crosses the mark.
  const near = feed(lines(1, 899) + lines(1, 50), 1000, 100);
  t.same(near.rotated.map((f) => f.length), [949], 'rotated after the line that reached s - len, not before');
  t.equal(near.current, '');
  // s == len: the test fires (only s < len disables it); every line ends a file.
  const eq = feed(lines(3, 10), 100, 100);
  t.same(eq.rotated.map((f) => f.length), [10, 10, 10], 's equal to len: every complete line rotates (size >= 0)');
});

t.test('a line longer than s is split: current never exceeds s (§5 rule 1)', async (t) => {
  const long = 'x'.repeat(699) + '\n';
  const r = feed(long, 300, 100);
  t.same(r.rotated.map((f) => f.length), [300, 300], 'clipped at s twice');
  t.equal(r.current.length, 100, 'the last 100 bytes in current (100 < s - len = 200: no rotation)');
  t.equal(r.rotated.join('') + r.current, long);
  for (const f of r.rotated) t.ok(f.length <= 300, 'no file above s');
});

t.test('stamp and prefix count toward the size and come before every line', async (t) => {
  // stamp "T " (2 bytes) + prefix "p:" (2 bytes) + 6-byte lines = 10 bytes a line; s50, len 20:
  // rotate once size >= 30 after a line, i.e. after 3 lines (30 bytes).
  const r = feed(lines(7, 6), 50, 20, 'T ', 'p:');
  t.same(r.rotated.map((f) => f.length), [30, 30], 'three stamped lines a file');
  t.equal(r.rotated[0], 'T p:aaaaa\nT p:bbbbb\nT p:ccccc\n');
  t.equal(r.current, 'T p:ggggg\n');
});

t.test('s0 never rotates by size', async (t) => {
  const r = feed(lines(2000, 100), 0, 1000);
  t.same(r.rotated, []);
  t.equal(r.current.length, 200_000);
});

t.test('buffer sizes: output is the input whatever size the batch announced', async (t) => {
  // A batch far larger than begin() announced (the input copy area is at least 4096 bytes,
  // the output area at least 64 KiB): the work buffer is replaced mid-batch, nothing is lost.
  const text = lines(3000, 100); // 300 000 bytes
  const small = feed(text, 0, 1000, 'S ', '', 10);
  t.equal(small.current, text.replace(/^/gm, 'S ').slice(0, -2), 'every line stamped once, in order');
  // A single line longer than the 64 KiB output area.
  const huge = 'y'.repeat(200_000) + '\n';
  t.equal(feed(huge, 0, 1000, '', '', 1).current, huge);
  // With size rotation, across buffer replacements: every file at most s, rotations at the
  // line boundary that reaches s - len (s 65536, len 1000: 645 lines of 100 bytes = 64 500).
  const rot = feed(text, 65_536, 1000, '', '', 10);
  t.same(rot.rotated.map((f) => f.length), [64_600, 64_600, 64_600, 64_600], 'rotated after the 646th line each time');
  t.equal(rot.rotated.join('') + rot.current, text);
});

t.test('segments of one line (add): clipped at s, rotated only after the tail', async (t) => {
  const ops: Op[] = [];
  const b = new OutputBatch(ops, 100);
  b.configure(300, Buffer.alloc(0));
  b.begin(1000);
  const seg = Buffer.from('z'.repeat(250));
  b.add(seg, 0, 250, true, false, Buffer.from('T '), undefined); // 252 bytes, no tail
  b.add(seg, 0, 250, false, false, Buffer.from('T '), undefined); // 502
  b.add(Buffer.from('\n'), 0, 1, false, true, Buffer.from('T '), undefined); // 503, tail
  b.end();
  const r = replay(ops);
  t.same(r.rotated.map((f) => f.length), [300, 203], 'cut at s in the middle of the line; the rest (203 >= s - len = 200) rotated at its end');
  t.equal(r.current, '');
  t.same(ops.map((o) => o.k), ['write', 'rotate', 'write', 'rotate'], 'no rotation between segments before the tail, one right after it');
  // A replacement (repl) overwrites the first bytes of the segment, same length.
  const ops2: Op[] = [];
  const c = new OutputBatch(ops2, 100);
  c.begin(100);
  c.add(Buffer.from('a\tb\n'), 0, 4, true, true, Buffer.alloc(0), Buffer.from('a_b'));
  c.end();
  t.equal(replay(ops2).current, 'a_b\n');
});

t.test('config numbers: defaults, suffixes, malformed lines (§3)', async (t) => {
  t.same({ ...defaultConfig(), patterns: [] }, { size: 1_000_000, num: 10, min: 10, timeout: 0, processor: '', prefix: '', udp: undefined, patterns: [] }, 's1000000 n10 N10');
  t.equal(parseConfig('s1k\n').config.size, 1024);
  t.equal(parseConfig('s2m\n').config.size, 2 * 1048576);
  t.equal(parseConfig('s0\n').config.size, 0);
  t.equal(parseConfig('s100 \r\n').config.size, 100, 'trailing blanks and CR tolerated');
  const bad = parseConfig('s12x\nn3\n');
  t.equal(bad.config.size, 1_000_000, 'a bad s line keeps the default');
  t.equal(bad.config.num, 3);
  t.match(bad.warnings, [/^line 1: s12x: /]);
  const n = parseConfig('n0\nN5\n').config;
  t.equal(n.num, 0, 'n0: never delete');
  t.equal(n.min, 5);
  t.equal(parseConfig('t2m\n').config.timeout, 120);
  t.equal(parseConfig('t1h\n').config.timeout, 3600);
  t.equal(parseConfig('s5\n\ns7\n').config.size, 7, 'the last s line wins');
});

t.test('-l and -b: defaults, 0 means the default, buflen must exceed len (§1)', async (t) => {
  const d = parseTsvlogArgs(['d']);
  t.equal(d.lineMax, 1000);
  t.equal(d.bufLen, 1024);
  t.equal(parseTsvlogArgs(['-l', '0', 'd']).lineMax, 1000, '-l 0 is 1000');
  t.equal(parseTsvlogArgs(['-b0', 'd']).bufLen, 1024, '-b 0 is 1024');
  t.equal(parseTsvlogArgs(['-l', '999', '-b', '1000', 'd']).lineMax, 999, 'buflen one above len is fine');
  for (const argv of [['-l', '1000', '-b', '1000', 'd'], ['-l', '1024', 'd'], ['-b', '10', 'd']]) {
    t.throws(() => parseTsvlogArgs(argv), { name: 'ToolError', exitCode: 111, level: 'usage' }, `${argv.join(' ')}: usage, exit 111`);
  }
  try {
    parseTsvlogArgs(['-l', '1000', '-b', '1000', 'd']);
  } catch (e) {
    t.ok(e instanceof ToolError, 'a ToolError of @tsv/core');
  }
});
