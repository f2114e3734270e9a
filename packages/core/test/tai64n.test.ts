// TAI64N edges: the label (2^62 + 10 + Unix seconds), nanoseconds ending in 500 as runit writes
// them, the 24-hex-digit text form, big-endian order, malformed text.
import t from 'tap';
import { formatTai64n, packTai64n, parseTai64n, TAI64_EPOCH, taiFromMs, unpackTai64n } from '@tsv/core';

t.test('label of the epoch and of a known second', async (t) => {
  t.equal(TAI64_EPOCH, 2n ** 62n + 10n);
  t.equal(formatTai64n({ seconds: 0, nanos: 0 }), '@400000000000000a00000000');
  t.equal(formatTai64n({ seconds: 1_700_000_000, nanos: 500 }), '@400000006553f10a000001f4', '1700000000 = 0x6553f100');
  t.equal(formatTai64n({ seconds: 1, nanos: 999_999_999 }), '@400000000000000b3b9ac9ff');
});

t.test('taiFromMs: whole ms, nanoseconds end in 500', async (t) => {
  t.same(taiFromMs(0), { seconds: 0, nanos: 500 });
  t.same(taiFromMs(1_700_000_000_123), { seconds: 1_700_000_000, nanos: 123_000_500 });
  t.same(taiFromMs(1_700_000_000_999.9), { seconds: 1_700_000_000, nanos: 999_000_500 }, 'fractions of a ms are dropped, not rounded up');
  t.same(taiFromMs(1999), { seconds: 1, nanos: 999_000_500 });
  for (const ms of [1, 42, 1_000, 1_234_567_890_123]) t.equal(taiFromMs(ms).nanos % 1000, 500, `${ms} ms: ...500`);
});

t.test('pack at an offset, big-endian, and back', async (t) => {
  const b = Buffer.alloc(16, 0xee);
  packTai64n({ seconds: 0x01020304, nanos: 0x0a0b0c0d }, b, 2);
  t.equal(b.toString('hex'), 'eeee' + '400000000102030e' + '0a0b0c0d' + 'eeee', 'bytes around it untouched');
  t.same(unpackTai64n(b, 2), { seconds: 0x01020304, nanos: 0x0a0b0c0d });
});

t.test('parse: exactly @ + 24 hex digits, either case', async (t) => {
  t.same(parseTai64n('@400000006553F10A000001F4'), { seconds: 1_700_000_000, nanos: 500 }, 'upper case');
  for (const bad of ['', '@', '400000006553f10a000001f4', '@400000006553f10a000001f', '@400000006553f10a000001f45', '@400000006553f10a000001fg', ' @400000006553f10a000001f4', '@400000006553f10a000001f4\n']) {
    t.equal(parseTai64n(bad), undefined, JSON.stringify(bad));
  }
  t.same(parseTai64n('@3fffffffffffffff00000000'), { seconds: -11, nanos: 0 }, 'a label before the epoch gives negative seconds');
});
