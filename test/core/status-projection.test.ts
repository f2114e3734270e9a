// The status projection (pure): one state -> status, stat, pid and tsv.json of the same moment;
// tsv.json carries the 20 status bytes, so a reader of it needs no second file.
import t from 'tap';
import { decodeExtraStatus, decodeStatus, projectStatus, statusOfExtra, type StatusView } from '@tsv/core';

const view = (o: Partial<StatusView> = {}): StatusView => ({
  state: 'run', want: 'up', pid: 4242, pidStartTicks: 777, pgid: 4242, paused: false, gotTerm: false,
  since: { wall: 1_700_000_000_123, mono: 5000 }, ready: null, readyMono: null, lastExit: null,
  starts: 3, failures: 1, restartAt: null, givenUp: false, inProcess: false, ...o,
});
const sup = { pid: 1, startTicks: 2, program: 'tsv' };

t.test('the four files describe one moment', async (t) => {
  const f = projectStatus(view(), sup);
  const rec = decodeStatus(f.status)!;
  t.same(rec, { time: { seconds: 1_700_000_000, nanos: 123_000_500 }, pid: 4242, paused: false, wantUp: true, gotTerm: false, state: 'run' });
  t.equal(f.stat, 'run\n');
  t.equal(f.pid, '4242\n');
  const x = decodeExtraStatus(f.extra)!;
  t.equal(x.service.pid, 4242);
  t.equal(x.service.pidStartTicks, 777);
  t.equal(x.service.restarts, 2, 'restarts = starts - 1');
  t.equal(x.status, f.status.toString('hex'), 'tsv.json carries the exact status bytes');
  t.same(statusOfExtra(x), rec, 'and a reader gets the same record from it');
});

t.test('down, want exit, paused, in-process', async (t) => {
  const f = projectStatus(view({ state: 'down', pid: 0, want: 'exit', paused: true, inProcess: true, restartAt: { wall: 9, delayMs: 3 } }), sup);
  t.equal(f.pid, '', 'no pid: an empty pid file, as runsv writes');
  t.equal(f.stat, 'down, paused\n', 'runsv says want only while something runs');
  const x = decodeExtraStatus(f.extra)!;
  t.equal(x.service.pidStartTicks, null, 'no start ticks without a pid');
  t.equal(x.service.inProcess, true);
  t.same(x.service.backoff, { failures: 1, delayMs: 3, nextStartAt: 9, givenUp: false });
  t.equal(decodeStatus(f.status)!.wantUp, false);
});

t.test('a tsv.json without the carried status (older tsv), or a malformed one', async (t) => {
  const x = decodeExtraStatus(projectStatus(view(), sup).extra)!;
  t.equal(statusOfExtra({ ...x, status: undefined }), undefined);
  t.equal(statusOfExtra({ ...x, status: 'zz' }), undefined);
});
