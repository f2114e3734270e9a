// tsv.json decoding of garbage: anything that is not a version-1 record with a service and a
// supervisor object decodes to undefined (readers then say "bad format"), never to a record
// that throws later; the encoder's one-line form; monotonic ages.
import t from 'tap';
import { decodeExtraStatus, encodeExtraStatus, initialExtraProcess, monoAgeSeconds, type ExtraStatus } from '@tsv/core';

/** A valid record. */
function valid(): ExtraStatus {
  return { v: 1, supervisor: { pid: 42, startTicks: 7, program: 'tsv' }, service: initialExtraProcess('up', 1_700_000_000_000, 5_000) };
}

t.test('a valid record round-trips, one line and a newline', async (t) => {
  const text = encodeExtraStatus(valid());
  t.equal(text.indexOf('\n'), text.length - 1);
  t.same(decodeExtraStatus(text), valid());
  t.same(decodeExtraStatus(text.trimEnd()), valid(), 'without the newline');
});

t.test('garbage decodes to undefined', async (t) => {
  const cases: Array<[string, string]> = [
    ['', 'empty file'],
    ['\n', 'a newline'],
    ['{', 'truncated JSON'],
    [encodeExtraStatus(valid()).slice(0, 40), 'a file cut in the middle'],
    ['null', 'null'],
    ['1', 'a number'],
    ['"v"', 'a string'],
    ['[]', 'an array'],
    ['{}', 'an empty object'],
    ['{"v":2,"supervisor":{"pid":1},"service":{}}', 'another version'],
    ['{"v":"1","service":{}}', 'v as a string'],
    ['{"v":1}', 'no service'],
    ['{"v":1,"service":null}', 'service null'],
    ['{"v":1,"service":"run"}', 'service a string'],
    ['{"v":1,"service":[]}', 'service an array'],
    ['{"v":1,"service":{}}', 'service without its fields'],
    [JSON.stringify({ ...valid(), supervisor: undefined }), 'no supervisor'],
    [JSON.stringify({ ...valid(), supervisor: [] }), 'supervisor an array'],
    [JSON.stringify({ ...valid(), service: { ...valid().service, pid: '12' } }), 'pid as a string'],
    [JSON.stringify({ ...valid(), service: { ...valid().service, state: 'running' } }), 'an unknown state'],
    [JSON.stringify({ ...valid(), service: { ...valid().service, want: 'sideways' } }), 'an unknown want'],
    [JSON.stringify({ ...valid(), service: { ...valid().service, backoff: null } }), 'backoff null'],
    [JSON.stringify({ ...valid(), service: { ...valid().service, restarts: null } }), 'restarts null'],
    ['\u0000\u0001\u0002', 'binary bytes'],
  ];
  for (const [text, what] of cases) t.equal(decodeExtraStatus(text), undefined, what);
});

t.test('extra fields of a newer writer are kept', async (t) => {
  const text = JSON.stringify({ ...valid(), status: '00', later: { x: 1 } });
  t.match(decodeExtraStatus(text), { v: 1, status: '00', later: { x: 1 } });
});

t.test('monoAgeSeconds: whole seconds, never negative', async (t) => {
  t.equal(monoAgeSeconds(1_000, 1_000), 0);
  t.equal(monoAgeSeconds(1_000, 1_999), 0);
  t.equal(monoAgeSeconds(1_000, 2_000), 1);
  t.equal(monoAgeSeconds(1_000, 62_500), 61);
  t.equal(monoAgeSeconds(5_000, 1_000), 0, 'a stamp in the future reads as 0');
});
