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

t.test('a list longer than the first read buffer (4 KiB) comes back whole, and fresh at each call', async (t) => {
  // why 1000: each pid is at least 5 bytes with its space (pids here pass 1000), so 1000 of
  // them pass 4096 bytes.
  const kids = Array.from({ length: 1000 }, () => spawn('sleep', ['30'], { stdio: 'ignore' }));
  t.teardown(() => {
    for (const k of kids) k.kill('SIGKILL');
  });
  const pids = kids.map((k) => k.pid as number);
  const listed = new Set(mainThreadChildPids());
  t.equal(pids.filter((p) => listed.has(p)).length, 1000, 'every child listed');
  t.ok(`${mainThreadChildPids().join(' ')} `.length > 4096, `the list is longer than 4 KiB (${listed.size} pids)`);
  const gone = kids.splice(0, 500);
  const exits = gone.map((k) => new Promise((res) => k.once('exit', res)));
  for (const k of gone) k.kill('SIGKILL');
  await Promise.all(exits);
  const after = new Set(mainThreadChildPids());
  t.equal(gone.filter((k) => after.has(k.pid as number)).length, 0, 'the reaped ones are gone from the next read');
  t.equal(kids.filter((k) => after.has(k.pid as number)).length, 500, 'the others still listed');
});
