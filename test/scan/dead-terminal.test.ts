// tsvscan whose terminal went away (tmux session killed, SSH dropped) still exits 0 on TERM:
// Node's exit-time terminal reset must not abort on the hung-up terminal.
import t from 'tap';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { bin, killHard, spawnTracked, trackPid, waitFor } from '@tsv/testkit';
import { killUnderAtEnd, makeService, scanEnv, scanTmpdir, sleepers } from '@tsv/testkit/scan';

const HAVE_SCRIPT = spawnSync('sh', ['-c', 'command -v script']).status === 0;

/** Read a file, '' when missing. */
const text = (p: string): string => {
  try {
    return readFileSync(p, 'utf8');
  } catch {
    return '';
  }
};

/** The controlling terminal of pid (field tty_nr of /proc/PID/stat; 0: none). */
const ttyNr = (pid: number): number => {
  const stat = text(`/proc/${pid}/stat`);
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[4]);
};

t.test('TERM after the terminal hung up: services stop, exit 0, no abort', { skip: HAVE_SCRIPT ? false : 'script(1) is not installed' }, async (t) => {
  const root = scanTmpdir(t);
  const dir = join(root, 'scan');
  mkdirSync(dir);
  const m = String(200_000 + Math.floor(Math.random() * 700_000));
  makeService(dir, 'a', `exec sleep ${m}`);
  killUnderAtEnd(t, dir);
  // why: the wrapper outlives the terminal (HUP ignored; tsvscan installs its own HUP handler)
  // and records tsvscan's exit status, which nobody else can see once script(1) is gone.
  const wrap = join(root, 'wrap.sh');
  writeFileSync(wrap, `#!/bin/sh\ntrap '' HUP\n"$1" "$2" &\necho $! > "$3"\nwait $!\necho $? > "$4"\n`);
  chmodSync(wrap, 0o755);
  const pidFile = join(root, 'pid');
  const rcFile = join(root, 'rc');
  const cmd = ['env', '-u', 'NODE_OPTIONS', wrap, bin('tsvscan'), dir, pidFile, rcFile].map((w) => `'${w}'`).join(' ');
  // why: script(1) gives tsvscan a pty as stdin, stdout, stderr and controlling terminal;
  // killing script closes the master side, which hangs the terminal up.
  const term = spawnTracked(t, 'script', ['-qfec', cmd, '/dev/null'], { env: scanEnv(), stdio: ['pipe', 'ignore', 'ignore'] });
  const pid = await waitFor(() => Number(text(pidFile).trim()), 15_000, 'tsvscan started');
  trackPid(t, pid);
  await waitFor(() => sleepers(m).length === 1, 15_000, 'service up');
  t.not(ttyNr(pid), 0, 'tsvscan has the pty as its terminal');
  killHard(term.pid);
  await waitFor(() => ttyNr(pid) === 0, 15_000, 'the terminal hung up');
  process.kill(pid, 'SIGTERM');
  await waitFor(() => text(rcFile) !== '', 15_000, 'tsvscan exited');
  t.equal(text(rcFile).trim(), '0', 'exit 0 (an abort is 134)');
  t.same(sleepers(m), [], 'the service was stopped');
});
