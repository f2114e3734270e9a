// Descriptors tsvscan inherited (a shell's `exec 100>...`) never reach what it starts: run,
// log/run, finish and control hooks get exactly 0, 1, 2, as under tsv and runsv.
import t from 'tap';
import { chmodSync, mkdirSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bin, spawnTracked, waitFor } from '@tsv/testkit';
import { killUnderAtEnd, makeService, scanEnv, scanTmpdir, sleepers, supervisedPid } from '@tsv/testkit/scan';

/** Read a file, '' when missing. */
const text = (p: string): string => {
  try {
    return readFileSync(p, 'utf8');
  } catch {
    return '';
  }
};

/** The fds of pid with their targets, "N -> target" per entry. */
const fdsOf = (pid: number): string[] => readdirSync(`/proc/${pid}/fd`).map((n) => `${n} -> ${readlinkSync(`/proc/${pid}/fd/${n}`)}`);

t.test('run, log/run, finish and control hooks get none of the fds tsvscan inherited', async (t) => {
  const root = scanTmpdir(t);
  const dir = join(root, 'scan');
  mkdirSync(dir);
  const marker = join(root, 'inherited-fd-marker');
  writeFileSync(marker, '');
  const m = String(200_000 + Math.floor(Math.random() * 700_000));
  const svc = makeService(dir, 'x', `exec sleep ${m}`, 'exec cat');
  // why: a shell's own script fd is open in the hooks; what matters is that no fd of theirs
  // leads to what tsvscan inherited (the marker), so each hook lists its fds' targets.
  const record = (out: string): string => `#!/bin/sh\nfor f in /proc/$$/fd/*; do readlink "$f"; done > ${out}\n`;
  writeFileSync(join(svc, 'finish'), record(join(root, 'finish.fds')));
  chmodSync(join(svc, 'finish'), 0o755);
  mkdirSync(join(svc, 'control'));
  writeFileSync(join(svc, 'control', 'u'), record(join(root, 'u.fds')));
  chmodSync(join(svc, 'control', 'u'), 0o755);
  killUnderAtEnd(t, dir);
  const env = scanEnv();
  // why: bash (dash has no fd above 9); exec keeps the fds the shell opened (7 and 100, not close-on-exec) in tsvscan.
  const scan = spawnTracked(t, 'bash', ['-c', 'exec 7>"$1" 100>"$1"; exec env -u NODE_OPTIONS "$2" "$3"', 'sh', marker, bin('tsvscan'), dir], { env });
  await waitFor(() => text(`/proc/${scan.pid}/comm`) === 'node\n' && fdsOf(scan.pid).some((l) => l.startsWith('100 ')), 15_000, 'tsvscan with fd 100');
  await waitFor(() => sleepers(m).length === 1, 15_000, 'run up');
  // why: supervise/pid may follow the process by a moment (the first status writes are deferred).
  const run = await waitFor(() => supervisedPid(svc), 15_000, 'supervise/pid of run');
  // why: until the exec, /bin/sh holds the script open on a high fd of its own.
  const log = await waitFor(() => {
    const pid = supervisedPid(join(svc, 'log'));
    return pid > 0 && text(`/proc/${pid}/comm`) === 'cat\n' ? pid : 0;
  }, 15_000, 'log/run exec');
  t.same(fdsOf(run).map((l) => Number(l.split(' ')[0])).sort(), [0, 1, 2], 'run: exactly 0, 1, 2');
  t.same(fdsOf(log).map((l) => Number(l.split(' ')[0])).sort(), [0, 1, 2], 'log/run: exactly 0, 1, 2');
  await waitFor(() => text(join(root, 'u.fds')) !== '', 15_000, 'control/u ran');
  t.notMatch(text(join(root, 'u.fds')), /inherited-fd-marker/, 'control/u: no inherited fd');
  process.kill(run, 'SIGTERM');
  await waitFor(() => text(join(root, 'finish.fds')) !== '', 15_000, 'finish ran');
  t.notMatch(text(join(root, 'finish.fds')), /inherited-fd-marker/, 'finish: no inherited fd');
  process.kill(scan.pid, 'SIGTERM');
  t.same(await scan.exited, { code: 0, signal: null });
});
