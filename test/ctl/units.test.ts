// tsvctl's pure parts: argv parsing (sv's getopt, LSB mode, extras), the command table, signal
// names, the status line with tsv's extras, the wait checks (sub-second and monotonic "restarted
// since"), the skip rule, and where a service's log lives.
import t from 'tap';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type ExtraProcess, initialExtraProcess, type StatusRecord } from '@tsv/core';
import { changedSince, findLogDirs, formatLine, judge, logDirWords, parseArgs, parseSignal, planCommand, progName, scanUlong, servicePath, skipByRule, statusView, VersionRequest, type CtlOptions, type Snapshot } from '@tsv/ctl';
import { tmpdir } from '@tsv/testkit';

const parse = (args: string[], env: NodeJS.ProcessEnv = {}, prog = 'tsvctl'): CtlOptions => {
  const o = parseArgs(prog, args, env);
  if (o instanceof VersionRequest) throw new Error('unexpected -V');
  return o;
};

t.test('argv: getopt w:vV, clusters, --, SVWAIT, SVDIR, LSB', async (t) => {
  t.match(parse(['-v', 'up', 'a', 'b']), { verbose: true, waitSec: 7, command: 'up', services: ['a', 'b'], svdir: '/etc/service', lsb: false });
  t.match(parse(['-w5', 'up', 'a']), { verbose: true, waitSec: 5 });
  t.match(parse(['-vw', '3', 'up', 'a']), { verbose: true, waitSec: 3 });
  t.match(parse(['-w', '0.5', 'up', 'a']), { waitSec: 0 }, 'whole seconds');
  t.match(parse(['--', '-v', 'a'], {}, 'sv'), { verbose: false, command: '-v', services: ['a'] });
  t.throws(() => parse(['--', '-v', 'a']), { exitCode: 100, message: 'unknown command: -v (did you mean up?)' }, 'tsvctl is strict');
  t.match(parse(['status', '-v', 'a']), { verbose: false, services: ['-v', 'a'] }, 'options end at the command');
  t.match(parse(['up', 'a'], { SVWAIT: '12x', SVDIR: '/srv' }), { waitSec: 12, svdir: '/srv', verbose: false });
  t.match(parse(['status', '--json', 'a']), { json: true, services: ['a'] });
  t.match(parse(['--sv', 'status', 'a']), { svFormat: true });
  t.match(parse(['log', '-fn', '20', 'a']), { follow: true, lines: 20, services: ['a'] });
  t.match(parse(['signal', 'HUP', 'a']), { extra: ['HUP'], services: ['a'] });
  t.ok(parseArgs('tsvctl', ['-V'], {}) instanceof VersionRequest);
  t.throws(() => parse([]), { exitCode: 100, message: 'usage: tsvctl [-v] [-w sec] command service ...\n\n' });
  t.throws(() => parse(['up']), { exitCode: 100, message: /^usage: / });
  t.throws(() => parse(['-q', 'up', 'a']), { message: /^tsvctl: illegal option -- q\n/ });
  t.throws(() => parse(['-w']), { message: /^tsvctl: option requires an argument -- w\n/ });
  t.match(parse(['start', 'extra', 'words'], {}, 'web'), { lsb: true, services: ['web'], command: 'start' });
  t.throws(() => parse([], {}, 'web'), { exitCode: 2, message: 'usage: web [-w sec] command\n\n' });
  t.equal(progName('/etc/init.d/web'), 'web');
  t.equal(progName('/x/packages/ctl/dist/cli/tsvctl.js'), 'tsvctl');
  t.equal(parse(['s', 'a'], {}, 'sv').lsb, false, 'sv is a normal name too');
  t.equal(scanUlong('42abc'), 42);
  t.equal(scanUlong('x'), 0);
});

t.test('command words as sv reads them', async (t) => {
  const acts = (w: string, lsb = false) => {
    const p = planCommand(w, lsb);
    return p === undefined ? undefined : `${p.action}:${p.acts}:${p.alwaysWait ? 'w' : ''}${p.kill ? 'k' : ''}`;
  };
  t.equal(acts('upfoo'), 'control:u:');
  t.equal(acts('dolphin'), 'control:d:');
  t.equal(acts('s'), 'status::');
  t.equal(acts('stat', true), undefined, 'LSB: only status');
  t.equal(acts('status', true), 'status::');
  t.equal(acts('start'), 'control:u:w');
  t.equal(acts('stop'), 'control:d:w');
  t.equal(acts('shutdown'), 'control:x:w');
  t.equal(acts('restart'), 'control:tcu:w');
  t.equal(acts('reload'), 'control:h:w');
  t.equal(acts('rest'), undefined);
  t.equal(acts('try-restart'), 'control:tc:w');
  t.equal(acts('term'), 'control:t:');
  t.equal(acts('check'), 'check:C:w');
  t.equal(acts('cont'), 'control:c:');
  t.equal(acts('force-stop'), 'control:d:wk');
  t.equal(acts('force-reload'), 'control:tc:wk');
  t.equal(acts('force-restart'), 'control:tcu:wk');
  t.equal(acts('force-shutdown'), 'control:x:wk');
  t.equal(acts('force'), undefined);
  t.equal(acts('exit'), 'control:x:');
  t.equal(acts('e'), 'control:x:');
  t.equal(acts('Exit'), 'control:x:wk');
  t.equal(acts('X'), 'control:x:wk');
  t.equal(acts('Down'), 'control:d:wk');
  t.equal(acts('T'), 'control:tc:wk');
  for (const w of ['hup', 'alarm', 'interrupt', 'quit', '1', '2', 'kill', 'pause', 'once']) t.equal(acts(w), `control:${w[0]}:`);
  t.equal(acts(''), undefined);
  t.equal(acts('zap'), undefined);
  t.equal(acts('U'), undefined);
});

t.test('signals: names, SIG prefix, numbers, runsv letters', async (t) => {
  t.match(parseSignal('USR1'), { name: 'SIGUSR1', num: 10, letter: '1' });
  t.match(parseSignal('sigusr2'), { name: 'SIGUSR2', letter: '2' });
  t.match(parseSignal('9'), { name: 'SIGKILL', letter: 'k' });
  t.match(parseSignal('STOP'), { letter: 'p' });
  t.match(parseSignal('WINCH'), { name: 'SIGWINCH', letter: undefined });
  t.match(parseSignal('40'), { num: 40, letter: undefined });
  t.equal(parseSignal('0'), undefined);
  t.equal(parseSignal('65'), undefined);
  t.equal(parseSignal('USR3'), undefined);
});

t.test('names: SVDIR unless ./, /, trailing / or empty', async (t) => {
  t.equal(servicePath('a', '/srv'), '/srv/a');
  t.equal(servicePath('./a', '/srv'), './a');
  t.equal(servicePath('/x/a', '/srv'), '/x/a');
  t.equal(servicePath('a/', '/srv'), 'a/');
  t.equal(servicePath('.hidden', '/srv'), '.hidden');
});

const rec = (o: Partial<StatusRecord> = {}): StatusRecord => ({ time: { seconds: 1000, nanos: 500 }, pid: 42, paused: false, wantUp: true, gotTerm: false, state: 'run', ...o });
const snap = (r: StatusRecord, extra?: Partial<ExtraProcess>): Snapshot => ({
  rec: r,
  extra: extra === undefined ? undefined : { ...initialExtraProcess('up', 0, 0), state: r.state, pid: r.pid, ...extra },
  extraFile: undefined,
});

t.test('status line: sv flags by pid, extras appended', async (t) => {
  const now = { ms: 1005_400, mono: 50_000 };
  t.equal(formatLine('./a', statusView(snap(rec()), true, now, true)), 'run: ./a: (pid 42) 5s');
  t.equal(formatLine('./a', statusView(snap(rec({ pid: 0, state: 'down' })), true, now, true)), 'down: ./a: 5s, normally up, want up');
  t.equal(formatLine('./a', statusView(snap(rec({ paused: true, wantUp: false, gotTerm: true })), false, now, true)), 'run: ./a: (pid 42) 5s, normally down, paused, want down, got TERM');
  t.equal(formatLine('./a', statusView(snap(rec({ state: 'finish' })), true, now, true)), 'finish: ./a: (pid 42) 5s');
  t.equal(formatLine('./a', statusView(snap(rec({ time: { seconds: 2000, nanos: 0 } })), true, now, true)), 'run: ./a: (pid 42) 0s', 'never negative');
  // tsv: uptime from the monotonic stamp, then ready, last exit, restarts
  const x = { sinceMono: 47_000, ready: true, readySinceMono: 48_500, lastExit: { code: 3, signal: null, at: 0 }, restarts: 2 };
  t.equal(formatLine('./a', statusView(snap(rec(), x), true, now, true)), 'run: ./a: (pid 42) 3s, ready 1s, last exit 3, restarts 2');
  t.equal(formatLine('./a', statusView(snap(rec(), x), true, now, false)), 'run: ./a: (pid 42) 5s', 'extras off: exactly sv');
  const down = snap(rec({ pid: 0, state: 'down' }), { state: 'down', sinceMono: 49_000, lastExit: { code: null, signal: 'SIGKILL', at: 0 }, restarts: 4, backoff: { failures: 3, delayMs: 4000, nextStartAt: 1008_000, givenUp: false } });
  t.equal(formatLine('./a', statusView(down, true, now, true)), 'down: ./a: 1s, normally up, want up, signal SIGKILL, restarts 4, backoff 3s');
  const gaveUp = snap(rec({ pid: 0, state: 'down' }), { state: 'down', sinceMono: 49_000, lastExit: { code: 1, signal: null, at: 0 }, backoff: { failures: 9, delayMs: 0, nextStartAt: null, givenUp: true } });
  t.equal(formatLine('./a', statusView(gaveUp, true, now, true)), 'down: ./a: 1s, normally up, want up, exited 1, given up');
  const notReady = snap(rec(), { sinceMono: 49_000, ready: false });
  t.equal(formatLine('./a', statusView(notReady, true, { ...now, mono: 1e9 }, true)), 'run: ./a: (pid 42) 999951s, not ready');
});

t.test('wait checks: letters, sub-second and monotonic "since", check script', async (t) => {
  const tstartMs = 1000_000;
  const yes = async () => true;
  const no = async () => false;
  const ok = (s: Snapshot) => ({ kind: 'ok' as const, snap: s });
  const before = snap(rec({ time: { seconds: 1000, nanos: 200_000_000 } }));
  // the old process, same whole second: not restarted (sv would say ok here)
  t.match(await judge('tcu', ok(before), { tstartMs, before, runCheck: yes }), { kind: 'pending' });
  const later = snap(rec({ pid: 43, time: { seconds: 1000, nanos: 700_000_000 } }));
  t.match(await judge('tcu', ok(later), { tstartMs, before, runCheck: yes }), { kind: 'pass' });
  t.match(await judge('tcu', ok(later), { tstartMs, before, runCheck: no }), { kind: 'pending', checkFailed: true });
  t.match(await judge('t', ok(snap(rec({ gotTerm: true, time: later.rec.time }))), { tstartMs, before, runCheck: yes }), { kind: 'pending' });
  t.match(await judge('t', ok(snap(rec({ pid: 0, wantUp: false, state: 'down' }))), { tstartMs, before, runCheck: no }), { kind: 'pass' }, 'down and want down: t passes');
  // tsv: monotonic stamps decide, whatever the wall clock says
  const bx = snap(rec(), { sinceMono: 5000, restarts: 1 });
  const jumpedBack = snap(rec({ pid: 50, time: { seconds: 10, nanos: 0 } }), { sinceMono: 5200, restarts: 2 });
  t.ok(changedSince(jumpedBack, { tstartMs, before: bx }), 'a wall-clock jump back does not hide the restart');
  t.notOk(changedSince(snap(rec({ time: { seconds: 9999, nanos: 0 } }), { sinceMono: 5000, restarts: 1 }), { tstartMs, before: bx }), 'nor does one forward fake it');
  // readiness: u waits for it when the service has the protocol
  t.match(await judge('u', ok(snap(rec(), { ready: false })), { tstartMs, before: undefined, runCheck: yes }), { kind: 'pending', checkFailed: false });
  t.match(await judge('u', ok(snap(rec(), { ready: true })), { tstartMs, before: undefined, runCheck: yes }), { kind: 'pass' });
  // d, o, p, c, x, C
  t.match(await judge('d', ok(snap(rec({ pid: 0, state: 'down' }))), { tstartMs, before, runCheck: no }), { kind: 'pass' });
  t.match(await judge('d', ok(snap(rec({ pid: 0, state: 'finish' }))), { tstartMs, before, runCheck: no }), { kind: 'pending' });
  t.match(await judge('o', ok(snap(rec({ wantUp: false }))), { tstartMs, before, runCheck: no }), { kind: 'pass' });
  t.match(await judge('o', ok(snap(rec({ pid: 0, state: 'down', time: before.rec.time }))), { tstartMs, before, runCheck: no }), { kind: 'pending' });
  t.match(await judge('p', ok(snap(rec({ paused: true }))), { tstartMs, before, runCheck: no }), { kind: 'pass' });
  t.match(await judge('c', ok(snap(rec({ paused: true }))), { tstartMs, before, runCheck: no }), { kind: 'pending' });
  t.match(await judge('x', ok(before), { tstartMs, before, runCheck: yes }), { kind: 'pending' });
  t.match(await judge('x', { kind: 'not-running' }, { tstartMs, before, runCheck: yes }), { kind: 'exited' });
  t.match(await judge('u', { kind: 'not-running' }, { tstartMs, before, runCheck: yes }), { kind: 'not-running' });
  t.match(await judge('C', ok(snap(rec({ pid: 0, wantUp: false, state: 'down' }))), { tstartMs, before: undefined, runCheck: no }), { kind: 'pass' }, 'check: want down, is down');
  t.match(await judge('C', ok(snap(rec())), { tstartMs, before: undefined, runCheck: no }), { kind: 'pending', checkFailed: true });
  t.match(await judge('h', ok(before), { tstartMs, before, runCheck: no }), { kind: 'pass' });
});

t.test('skip rule', async (t) => {
  t.ok(skipByRule('u', snap(rec())));
  t.notOk(skipByRule('d', snap(rec({ wantUp: false }))), 'd is re-sent to a service running once');
  t.ok(skipByRule('d', snap(rec({ wantUp: false, gotTerm: true }))));
  t.notOk(skipByRule('tcu', snap(rec())));
});

t.test('log directories', async (t) => {
  t.same(logDirWords(['-tt', '-r', '_', '-l500', '-vb', '2000', './main', '/var/log/x', '-not-an-option']), ['./main', '/var/log/x', '-not-an-option']);
  t.same(logDirWords(['-t', '--', '-odd']), ['-odd']);
  const root = tmpdir(t);
  const mk = (name: string, files: Record<string, string>): string => {
    const dir = join(root, name);
    for (const [rel, text] of Object.entries(files)) {
      mkdirSync(join(dir, rel, '..'), { recursive: true });
      writeFileSync(join(dir, rel), text);
    }
    return dir;
  };
  const a = mk('a', { 'log/main/current': '', 'log/other/current': '', 'log/supervise/status': '', 'log/empty/x': '' });
  t.same(findLogDirs(a), [`${a}/log/main`, `${a}/log/other`]);
  const b = mk('b', { 'log/current': '' });
  t.same(findLogDirs(b), [`${b}/log`]);
  const c = mk('c', { 'log/tsvlog': '-tt ./one /abs/two\n' });
  t.same(findLogDirs(c), [`${c}/log/./one`, '/abs/two']);
  // a leading comment line once swallowed the whole file (newlines were joined before the cut)
  const c2 = mk('c2', { 'log/tsvlog': '# where the logs go\n-tt ./one\n\n# more\n/abs/two # trailing\n' });
  t.same(findLogDirs(c2), [`${c2}/log/./one`, '/abs/two']);
  const d = mk('d', { 'log/run': '#!/bin/sh\nexec chpst -u log svlogd -tt ./main\n', 'log/main/.keep': '' });
  t.same(findLogDirs(d), [`${d}/log/./main`]);
  const e = mk('e', { 'log/run': '#!/bin/sh\nexec cat\n' });
  t.same(findLogDirs(e), []);
});
