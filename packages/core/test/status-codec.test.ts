// Edges of runit's 20-byte supervise/status (runit.md 2.7): every offset written by hand from the
// spec's table, sizes other than 20, unknown state bytes, flag bytes other than 0/1, the stat line.
import t from 'tap';
import { decodeStatus, encodeStatus, formatStat, STATUS_SIZE, type StatusRecord } from '@tsv/core';

/** The spec's example record: running, pid 15879 (runit.md 2.7, verified by hexdump there). */
const EXAMPLE = Buffer.from('400000006b02d4b12196f5fc073e000000750001', 'hex');

/** A record with defaults. */
function rec(over: Partial<StatusRecord> = {}): StatusRecord {
  return { time: { seconds: 1_700_000_000, nanos: 500 }, pid: 0, paused: false, wantUp: true, gotTerm: false, state: 'down', ...over };
}

t.test('the layout, byte by byte', async (t) => {
  t.equal(STATUS_SIZE, 20);
  const b = encodeStatus(rec({ pid: 0x01020304, paused: true, wantUp: false, gotTerm: true, state: 'finish' }));
  t.equal(b.length, 20);
  t.equal(b.subarray(0, 8).toString('hex'), '400000006553f10a', 'TAI64 label 2^62 + 10 + seconds, big-endian');
  t.equal(b.subarray(8, 12).toString('hex'), '000001f4', 'nanoseconds big-endian');
  t.equal(b.subarray(12, 16).toString('hex'), '04030201', 'pid little-endian');
  t.same([...b.subarray(16)], [1, 0x64, 1, 2], "paused 1, want 'd', got TERM 1, state 2 (finish)");
  t.same([...encodeStatus(rec({ state: 'run' })).subarray(16)], [0, 0x75, 0, 1], "want 'u', state 1 (run)");
  t.same([...encodeStatus(rec()).subarray(16)], [0, 0x75, 0, 0], 'state 0 (down)');
});

t.test("the spec's example decodes to its values", async (t) => {
  t.same(decodeStatus(EXAMPLE), { time: { seconds: 1_795_347_623, nanos: 563_541_500 }, pid: 15879, paused: false, wantUp: true, gotTerm: false, state: 'run' });
});

t.test('sizes: exactly 20, or 18 (daemontools) only when allowed', async (t) => {
  for (const n of [0, 1, 12, 17, 18, 19, 21, 40]) {
    const b = Buffer.alloc(n);
    EXAMPLE.copy(b, 0, 0, Math.min(n, 20));
    t.equal(decodeStatus(b), undefined, `${n} bytes: bad format`);
  }
  const short = EXAMPLE.subarray(0, 18);
  t.same(decodeStatus(short, true), { time: { seconds: 1_795_347_623, nanos: 563_541_500 }, pid: 15879, paused: false, wantUp: true, gotTerm: false, state: 'run' }, '18 bytes: state from the pid');
  const downShort = Buffer.from(short);
  downShort.fill(0, 12, 16);
  t.equal(decodeStatus(downShort, true)?.state, 'down', '18 bytes, pid 0: down');
  t.equal(decodeStatus(Buffer.alloc(19), true), undefined, '19 bytes even when short is allowed');
});

t.test('odd bytes: flags other than 1, want other than u, unknown state', async (t) => {
  const b = Buffer.from(EXAMPLE);
  b[16] = 2;
  b[17] = 0x55; // 'U'
  b[18] = 0xff;
  b[19] = 3;
  const d = decodeStatus(b);
  t.equal(d?.paused, false, 'paused only when the byte is 1');
  t.equal(d?.wantUp, false, "want up only for 'u'");
  t.equal(d?.gotTerm, false, 'got TERM only when the byte is 1');
  t.equal(d?.state, 'down', 'an unknown state byte reads as down');
  b[19] = 255;
  t.equal(decodeStatus(b)?.state, 'down');
});

t.test('pid: the full unsigned 32-bit range', async (t) => {
  t.equal(decodeStatus(encodeStatus(rec({ pid: 4_194_304, state: 'run' })))?.pid, 4_194_304, 'pid_max of a 64-bit kernel');
  const b = Buffer.from(EXAMPLE);
  b.writeUInt32LE(0xffffffff, 12);
  t.equal(decodeStatus(b)?.pid, 4_294_967_295, 'read unsigned, never negative');
});

t.test('stat line (runit.md 2.7)', async (t) => {
  t.equal(formatStat({ state: 'run', paused: false, gotTerm: false, want: 'up' }), 'run\n');
  t.equal(formatStat({ state: 'down', paused: false, gotTerm: false, want: 'up' }), 'down\n');
  t.equal(formatStat({ state: 'down', paused: true, gotTerm: false, want: 'down' }), 'down, paused\n', 'no want part when down');
  t.equal(formatStat({ state: 'run', paused: true, gotTerm: false, want: 'down' }), 'run, paused, want down\n');
  t.equal(formatStat({ state: 'run', paused: false, gotTerm: true, want: 'down' }), 'run, got TERM, want down\n');
  t.equal(formatStat({ state: 'finish', paused: false, gotTerm: false, want: 'down' }), 'finish, want down\n');
  t.equal(formatStat({ state: 'run', paused: false, gotTerm: true, want: 'exit' }), 'run, got TERM, want exit\n');
});
