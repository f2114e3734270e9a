// The pure pieces of tsvctl's own verbs: the nearest command, the front-end dispatch, new's
// quoting, argument split and env files, list's formats and process membership, and the one
// default scan directory rule.
import t from 'tap';
import { defaultScanDir } from '@tsv/core';
import { userInPasswd, cpuTicksOf, editDistance, envFiles, formatBytes, formatDuration, isKnownCommand, lastExitText, membersOf, nearestCommand, runScript, shellQuote, splitNewArgs, unknownCommand, wantsFront, type ProcEntry } from '@tsv/ctl';

t.test('nearest command and the strict check', async (t) => {
  t.equal(editDistance('stpo', 'stop'), 1, 'a swap of neighbours is one edit');
  t.equal(editDistance('', 'up'), 2);
  t.equal(nearestCommand('stpo'), 'stop');
  t.equal(nearestCommand('restrat'), 'restart');
  t.equal(nearestCommand('STATUS'), 'status');
  for (const w of ['u', 'D', 'X', 'status', 'force-restart', 'log', 'signal', 'list', 'new', 'help', 'completion']) t.ok(isKnownCommand(w), w);
  for (const w of ['upfoo', 'stat', 'Up', '']) t.notOk(isKnownCommand(w), `${w} is not a command word under tsvctl`);
  t.match(unknownCommand('stpo'), { exitCode: 100, message: 'unknown command: stpo (did you mean stop?)' });
  t.equal(unknownCommand('stop'), undefined);
});

t.test('which command lines go to the yargs front end', async (t) => {
  for (const a of [['help'], ['list'], ['new', 'x', 'y'], ['completion'], ['-h'], ['--help'], ['--get-yargs-completions', 'tsvctl'], ['up', '--help']]) t.ok(wantsFront('tsvctl', a), a.join(' '));
  for (const a of [[], ['status', './x'], ['-V'], ['up', './x', '--help'], ['stpo', '--help']]) t.notOk(wantsFront('tsvctl', a), a.join(' '));
  t.notOk(wantsFront('sv', ['help']), 'never as sv');
  t.notOk(wantsFront('web', ['--help']), 'never in LSB mode');
});

t.test('new: quoting, the split of its command line, env files, run', async (t) => {
  t.equal(shellQuote('node'), 'node');
  t.equal(shellQuote('a b'), "'a b'");
  t.equal(shellQuote("it's"), `'it'\\''s'`);
  t.equal(shellQuote(''), "''");
  t.equal(shellQuote('$HOME'), "'$HOME'");
  t.same(splitNewArgs(['new', '--user', 'u', 'web', 'node', 'a.js', '--port', '8']), { yargsArgs: ['new', '--user', 'u', 'web'], cmd: ['node', 'a.js', '--port', '8'] });
  t.same(splitNewArgs(['new', 'web', '--down', '--', 'ls', '-l']), { yargsArgs: ['new', 'web', '--down'], cmd: ['ls', '-l'] });
  t.same(splitNewArgs(['new', '--env=A=1', 'web', 'x']), { yargsArgs: ['new', '--env=A=1', 'web'], cmd: ['x'] });
  t.same(splitNewArgs(['list', 'd']), { yargsArgs: ['list', 'd'], cmd: [] });
  t.same([...envFiles(['A=1', 'B=', 'C=x=y'])], [['A', '1\n'], ['B', '\n'], ['C', 'x=y\n']]);
  t.throws(() => envFiles(['=1']), { exitCode: 100 });
  t.throws(() => envFiles(['A/B=1']), { exitCode: 100 });
  t.throws(() => envFiles(['A=1\n2']), { exitCode: 100 });
  const passwd = 'root:x:0:0::/root:/bin/sh\nnobody:x:65534:65534::/:/bin/false\n';
  t.ok(userInPasswd('nobody', passwd));
  t.ok(userInPasswd('nobody:nogroup', passwd));
  t.notOk(userInPasswd('nobod', passwd));
  t.ok(userInPasswd('1000', passwd), 'numeric: not checked');
  t.equal(runScript({ name: 'x', cmd: ['sleep', '1'] }), '#!/bin/sh\n# made by tsvctl new: stderr joins stdout, which the supervisor pipes to the logger (log/)\nexec 2>&1\nexec sleep 1\n');
  t.match(runScript({ name: 'x', cmd: ['a b'], user: 'nobody', env: ['A=1'] }), /\nexec envdir \.\/env chpst -u nobody 'a b'\n$/);
});

t.test('list: formats, the processes of a service', async (t) => {
  t.equal(formatDuration(45), '45s');
  t.equal(formatDuration(723), '12m03s');
  t.equal(formatDuration(3 * 3600 + 4 * 60), '3h04m');
  t.equal(formatDuration(2 * 86400 + 3 * 3600), '2d03h');
  t.equal(formatBytes(512 * 1024), '512K');
  t.equal(formatBytes(12.3 * 1024 * 1024), '12.3M');
  t.equal(formatBytes(1.5 * 1024 ** 3), '1.5G');
  t.equal(lastExitText({ code: 111, signal: null, at: 0, reason: 'unable to start ./run: access denied' }), 'exited 111: unable to start ./run: access denied');
  t.equal(lastExitText({ code: null, signal: 'SIGKILL', at: 0, reason: null }), 'signal SIGKILL');
  t.equal(cpuTicksOf('42 (a b) S 1 42 42 0 -1 4194560 100 0 0 0 7 5 0 0 20 0 1 0 1234 0 0'), 12, 'utime + stime, comm with a space');
  const p = (pid: number, ppid: number, pgrp: number, session: number): ProcEntry => ({ pid, ppid, pgrp, session, comm: 'x', state: 'S', startTicks: 0, cpuTicks: 0 });
  const procs = new Map([p(10, 1, 10, 10), p(11, 10, 10, 10), p(12, 11, 12, 10), p(20, 1, 20, 20), p(21, 20, 20, 20), p(22, 21, 20, 20), p(23, 22, 20, 20), p(30, 21, 30, 30)].map((e) => [e.pid, e]));
  t.same(membersOf(10, procs).sort(), [10, 11, 12], 'a session leader: its session');
  t.same(membersOf(22, procs).sort(), [22, 23], "runsv's run (in runsv's group): the pid and its descendants, not its group");
  t.same(membersOf(99, procs), []);
});

t.test('the default scan directory: $SVDIR, else ~/service (tsvscan\'s rule)', async (t) => {
  t.equal(defaultScanDir({ SVDIR: '/srv/sv', HOME: '/home/a' }, '/home/a'), '/srv/sv');
  t.equal(defaultScanDir({ HOME: '/home/a' }), '/home/a/service');
  t.equal(defaultScanDir({}, '/root/'), '/root/service');
  t.equal(defaultScanDir({ SVDIR: '' }, '/h'), '', 'an empty SVDIR is kept, as tsvscan keeps it');
});
