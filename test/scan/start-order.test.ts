// tsvscan sets up a few services at a time (so that the first of a large directory starts at
// once instead of after all are set up), but a set-up that waits (here: an old logger still
// holding log/supervise/lock) never holds back another service: it gives its turn away.
import t from 'tap';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, spawnTracked, waitFor, waitForText } from '@tsv/testkit';
import { makeService, scanTmpdir, sleepers, startScan } from '@tsv/testkit/scan';

const mark = (): string => String(200_000 + Math.floor(Math.random() * 700_000));

t.test('services waiting for a log lock hold back no other start', async (t) => {
  const dir = scanTmpdir(t);
  const m = mark();
  // why 12: more waiting set-ups than tsvscan runs at once (8)
  const waiting = Array.from({ length: 12 }, (_, i) => `w${String(i).padStart(2, '0')}`);
  const locks = waiting.map((name) => {
    makeService(dir, name, `exec sleep ${m}`, 'exec cat');
    mkdirSync(join(dir, name, 'log', 'supervise'), { recursive: true });
    return join(dir, name, 'log', 'supervise', 'lock');
  });
  // why a process of its own: the lock of an old logger that outlived its supervisor
  const holder = spawnTracked(t, process.execPath, ['--input-type=module', '-e', `
    import { flock } from '@tsv/native';
    import { openSync } from 'node:fs';
    for (const p of process.argv.slice(1)) flock(openSync(p, 'w'), true, true);
    console.log('locked');
    setInterval(() => {}, 1e6);
  `, ...locks], { cwd: ROOT });
  await waitForText(holder.stdout, /locked/, 10_000);

  const scan = startScan(t, dir);
  const lines = (): string[] => scan.stderr().split('\n').filter((l) => l.includes('unable to lock log/supervise/lock') && l.includes('waiting'));
  await waitFor(() => lines().length === waiting.length, 20_000, 'every waiting service to say so');
  t.equal(sleepers(m).length, 0, 'no run starts before its logger has the lock');

  makeService(dir, 'free', `exec sleep ${m}`);
  await waitFor(() => sleepers(m).length === 1, 15_000, 'the service added afterwards starts');

  holder.child.kill('SIGKILL');
  await waitFor(() => sleepers(m).length === waiting.length + 1, 20_000, 'every service, once the old lock is gone');
  scan.child.kill('SIGTERM');
  t.equal((await scan.exited).code, 0, 'TERM: exit 0');
  t.equal(sleepers(m).length, 0, 'every service down');
});
