// @tsv/os proc.ts: mainThreadChildPids (the reaper's one read per sweep) lists the same children
// as childPids (every thread's list): live ones and a zombie, spawned from the main thread.
import t from 'tap';
import { spawn } from 'node:child_process';
import { childPids, mainThreadChildPids, procStat, spawnChild } from '@tsv/os';
import { waitFor } from '@tsv/testkit';
import { waitpid } from '@tsv/native';

t.test('the main thread holds every child: live, and zombie until reaped', async (t) => {
  const live = spawn('sleep', ['30'], { stdio: 'ignore' });
  t.teardown(() => void live.kill('SIGKILL'));
  // why: spawnChild's children are reaped by nobody here: one exits and stays a zombie.
  const zombie = spawnChild({ file: '/bin/true', args: [], stdio: ['ignore', 'ignore', 'ignore'] });
  t.teardown(() => {
    try {
      waitpid(zombie, true);
    } catch {
      // reaped by the test already
    }
  });
  await waitFor(() => procStat(zombie)?.state === 'Z', 10_000, 'the zombie');
  const main = mainThreadChildPids();
  t.ok(main.includes(live.pid as number), 'the live child');
  t.ok(main.includes(zombie), 'the zombie child');
  t.same([...main].sort(), [...childPids()].sort(), 'the same as every thread together');
  waitpid(zombie, true);
  t.notOk(mainThreadChildPids().includes(zombie), 'gone once reaped');
});
