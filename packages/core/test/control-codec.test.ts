// Control bytes (runit.md 2.5): the fifteen letters runsv knows, every other byte ignored, the
// signal each signal letter sends, encoding for one write.
import t from 'tap';
import { decodeControl, encodeControl, LETTER_SIGNAL } from '@tsv/core';

t.test('every known letter, in order; every other byte dropped', async (t) => {
  t.same(decodeControl(Buffer.from('udoxetkpchaiq12')), [...'udoxetkpchaiq12']);
  const others: number[] = [];
  for (let b = 0; b < 256; b++) if (!'udoxetkpchaiq12'.includes(String.fromCharCode(b))) others.push(b);
  t.equal(others.length, 256 - 15);
  t.same(decodeControl(Buffer.from(others)), [], 'upper case, digits other than 1 and 2, NUL, newline, bytes >= 0x80: ignored');
  t.same(decodeControl(Buffer.from([0x75 | 0x80, 0x75, 0, 0x64])), ['u', 'd'], 'a byte with the high bit set is not its ASCII letter');
  t.same(decodeControl(Buffer.alloc(0)), []);
  t.same(decodeControl(Buffer.from('uu\nU D')), ['u', 'u'], 'repeats kept, U and D are not letters');
});

t.test('signal letters', async (t) => {
  t.same(LETTER_SIGNAL, { t: 'SIGTERM', k: 'SIGKILL', p: 'SIGSTOP', c: 'SIGCONT', h: 'SIGHUP', a: 'SIGALRM', i: 'SIGINT', q: 'SIGQUIT', '1': 'SIGUSR1', '2': 'SIGUSR2' });
  for (const l of 'udoxe') t.equal(LETTER_SIGNAL[l], undefined, `${l} sends no signal by itself`);
});

t.test('encode: one byte a letter', async (t) => {
  t.same([...encodeControl('tcx')], [0x74, 0x63, 0x78]);
  t.same(decodeControl(encodeControl('dx')), ['d', 'x']);
});
