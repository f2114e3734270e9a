// tsvlog loses nothing to SIGKILL (issue 10 item 2) and never leaves half a line on a full disk
// (item 9): a pipe held by the parent, as runsv holds it, outlives each killed logger.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bin, tmpdir, trackPid, waitFor, waitForText, type Teardownable } from '@tsv/testkit';
import { mountTmpfs, startShell } from '@tsv/testkit/log';
// @ts-expect-error: plain ESM harness shared with bench/log.bench.mjs (no type declarations)
import { killRun } from '../../bench/log-kill.mjs';

interface KillResult {
  killed: number;
  total: number;
  lost: number;
  repeated: number;
  torn: number;
}

t.test('SIGKILL under full load, restarted on the same pipe: no line lost', async (t) => {
  const work = tmpdir(t);
  const r = (await killRun({
    work,
    kills: 6,
    grow: 128 * 1024,
    logger: () => [bin('tsvlog'), ['main']],
    track: (pid: number) => trackPid(t, pid),
  })) as KillResult;
  t.equal(r.killed, 6, 'killed six times while the writer wrote');
  t.ok(r.total > 0, `${r.total} lines written`);
  t.equal(r.lost, 0, 'no line lost');
  t.equal(r.torn, 0, 'no line torn');
  // The bound of docs/tsvlog.md: at most one chunk (one pipe's capacity) per kill.
  t.ok(r.repeated <= 6 * 65536, `${r.repeated} lines repeated`);
});


t.test('TERM, then KILL, while paused on a full disk: current holds whole lines only', async (t) => {
  const mnt = join(tmpdir(t), 'mnt');
  mkdirSync(mnt);
  if (!mountTmpfs(t, mnt, 'size=64k')) {
    t.skip('cannot mount a 64k tmpfs (needs root and mount(8)): skipped');
    return;
  }
  mkdirSync(join(mnt, 'main'));
  writeFileSync(join(mnt, 'main', 'config'), 's0\n');
  // Lines of 63 bytes: 64 KiB is not a multiple, so the disk fills in the middle of a line.
  // Through a real pipe (spawn's 'pipe' is a socketpair), as a service's output comes.
  let lines = '';
  for (let i = 0; i < 3000; i++) lines += `line ${String(i).padStart(6, '0')} ${'x'.repeat(50)}\n`;
  const input = join(tmpdir(t), 'input');
  writeFileSync(input, lines);
  const p = startShell(t, ['-c', `cat ${input} | exec ${bin('tsvlog')} main`], mnt);
  await waitForText(p.stderr, /pausing: unable to write current: main: out of disk space/);
  const pid = await waitFor(() => {
    // why: node's command line, not the forked shell's (which names tsvlog too until it execs).
    const r = spawnSync('pgrep', ['-P', String(p.pid), '-f', '^node .*tsvlog main$'], { encoding: 'utf8' });
    return Number(r.stdout.trim().split('\n')[0]) || undefined;
  }, 5000, 'the tsvlog process');
  process.kill(pid, 'SIGTERM');
  // Still paused (the disk is still full): it has not exited.
  await waitFor(() => readFileSync(join(mnt, 'main', 'current')).length > 0, 5000, 'current to be written');
  process.kill(pid, 'SIGKILL');
  await waitFor(() => p.child.exitCode !== null || p.child.signalCode !== null, 10_000, 'the shell to end');
  const text = readFileSync(join(mnt, 'main', 'current'), 'latin1');
  t.ok(text.endsWith('\n'), 'current ends with a complete line');
  const bad = text.split('\n').slice(0, -1).filter((l) => !/^line \d{6} x{50}$/.test(l));
  t.same(bad, [], 'every line is whole');
});
