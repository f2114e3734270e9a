import t from 'tap';
import { decodeControl, decodeStatus, encodeStatus, errstr, formatStat, formatTai64n, parseTai64n } from '@tsv/core';

t.test('status record round-trips in runit byte order', async (t) => {
  const rec = { time: { seconds: 0x6b02d4b1 - 10, nanos: 0x2196f5fc }, pid: 15879, paused: false, wantUp: true, gotTerm: false, state: 'run' as const };
  const b = encodeStatus(rec);
  t.equal(b.toString('hex'), '400000006b02d4b12196f5fc073e000000750001');
  t.same(decodeStatus(b), rec);
  t.equal(decodeStatus(b.subarray(0, 18)), undefined, '18 bytes is bad format for runit');
  t.equal(decodeStatus(b.subarray(0, 18), true)?.state, 'run', 'daemontools layout when allowed');
});

t.test('stat line', async (t) => {
  t.equal(formatStat({ state: 'run', paused: true, gotTerm: false, want: 'down' }), 'run, paused, want down\n');
  t.equal(formatStat({ state: 'down', paused: false, gotTerm: false, want: 'down' }), 'down\n');
  t.equal(formatStat({ state: 'run', paused: false, gotTerm: true, want: 'down' }), 'run, got TERM, want down\n');
});

t.test('tai64n text', async (t) => {
  const s = formatTai64n({ seconds: 1, nanos: 500 });
  t.equal(s, '@400000000000000b000001f4');
  t.same(parseTai64n(s), { seconds: 1, nanos: 500 });
  t.equal(parseTai64n('@zz'), undefined);
});

t.test('control bytes and errstr', async (t) => {
  t.same(decodeControl(Buffer.from('tcu?Z\n')), ['t', 'c', 'u']);
  t.equal(errstr(Object.assign(new Error('x'), { code: 'ENOENT' })), 'file does not exist');
});
