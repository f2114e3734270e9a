// The scanner's pure parts: reconcile (known services x listing -> actions), the retry delay,
// and reading a scan directory into identities (dev:ino of the target).
import t from 'tap';
import { mkdirSync, renameSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { identityKey, isServiceName, type KnownService, readListing, reconcile, retryDelayMs } from '@tsv/supervise/scan';
import { scanTmpdir } from '@tsv/testkit/scan';

const known = (entries: Array<[string, KnownService]>): Map<string, KnownService> => new Map(entries);

t.test('reconcile: start new, stop gone, rename moved, retry due failures', async (t) => {
  const k = known([
    ['1:1', { name: 'a', phase: 'up', retryDue: false }],
    ['1:2', { name: 'b', phase: 'up', retryDue: false }],
    ['1:3', { name: 'c', phase: 'failed', retryDue: true }],
    ['1:4', { name: 'd', phase: 'failed', retryDue: false }],
    ['1:5', { name: 'e', phase: 'stopping', retryDue: false }],
    ['1:6', { name: 'f', phase: 'starting', retryDue: false }],
  ]);
  const a = reconcile(k, [
    { key: '1:1', name: 'a' },
    { key: '1:2', name: 'b2' },
    { key: '1:3', name: 'c' },
    { key: '1:4', name: 'd' },
    { key: '1:5', name: 'e' },
    { key: '1:9', name: 'new' },
  ]);
  t.same(a.start, [{ key: '1:9', name: 'new' }], 'a new identity starts');
  t.same(a.rename, [{ key: '1:2', name: 'b2' }], 'same identity, new name: renamed, not restarted');
  t.same(a.retry, ['1:3'], 'only the failed service whose retry is due');
  t.same(a.stop, ['1:6'], 'a service no longer listed stops (even while starting)');
});

t.test('reconcile: a replaced directory (same name, new identity) is a stop and a start', async (t) => {
  const a = reconcile(known([['1:1', { name: 'x', phase: 'up', retryDue: false }]]), [{ key: '1:2', name: 'x' }]);
  t.same(a, { start: [{ key: '1:2', name: 'x' }], retry: [], stop: ['1:1'], rename: [] });
});

t.test('reconcile: a stopping service listed again is left for the rescan after its stop', async (t) => {
  const a = reconcile(known([['1:1', { name: 'x', phase: 'stopping', retryDue: false }]]), [{ key: '1:1', name: 'x' }]);
  t.same(a, { start: [], retry: [], stop: [], rename: [] });
});

t.test('retry delay: 1 s doubling to 60 s', async (t) => {
  t.same([1, 2, 3, 4, 5, 6, 7, 8, 100].map(retryDelayMs), [1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000, 60000]);
});

t.test('listing: directories and links to them, no dot names, dangling links reported', async (t) => {
  const dir = scanTmpdir(t);
  const other = scanTmpdir(t);
  for (const n of ['a', 'b c', 'new\nline', '.hidden']) mkdirSync(join(dir, n));
  writeFileSync(join(dir, 'file'), '');
  mkdirSync(join(other, 'target'));
  symlinkSync(join(other, 'target'), join(dir, 'link'));
  symlinkSync(join(other, 'target'), join(dir, 'link-too'));
  symlinkSync(join(other, 'nowhere'), join(dir, 'dangling'));
  symlinkSync(join(dir, 'file'), join(dir, 'link-to-file'));
  const l = readListing(dir);
  t.same(l.services.map((s) => s.name), ['a', 'b c', 'link', 'new\nline'], 'sorted; a second name for one target is ignored');
  t.equal(l.services.find((s) => s.name === 'link')?.key, identityKey(statSync(join(other, 'target'), { bigint: true })), 'keyed by the target');
  t.same(l.problems, [{ name: 'dangling', message: 'unable to stat dangling: file does not exist' }]);
  const before = l.services.find((s) => s.name === 'a')?.key;
  renameSync(join(dir, 'a'), join(dir, 'z'));
  t.equal(readListing(dir).services.find((s) => s.name === 'z')?.key, before, 'a rename keeps the identity');
  t.ok(isServiceName('x') && !isServiceName('.x') && !isServiceName(''));
  t.throws(() => readListing(join(dir, 'missing')), { code: 'ENOENT' });
});
