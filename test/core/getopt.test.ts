// The one getopt (core scanGetopt/getopt): djb's sgetopt rules, and the two modes tsvctl and
// the log-dir reader use.
import t from 'tap';
import { getopt, GetoptError, scanGetopt, usage } from '@tsv/core';

t.test('sgetopt: groups, attached and separate arguments, the ends of options', async (t) => {
  t.same(getopt(['-vP', '-ufoo', '-u', 'bar', 'prog', '-x'], 'u:vP'), {
    opts: [
      { opt: 'v', arg: '' },
      { opt: 'P', arg: '' },
      { opt: 'u', arg: 'foo' },
      { opt: 'u', arg: 'bar' },
    ],
    rest: ['prog', '-x'],
  });
  t.same(getopt(['-v', '--', '-P'], 'vP').rest, ['-P'], '-- ends options and is dropped');
  t.same(getopt(['-v', '-', 'x'], 'vP').rest, ['-', 'x'], 'a lone - is an operand');
  t.same(getopt(['-u', '-v'], 'u:v').opts, [{ opt: 'u', arg: '-v' }], 'the next word is the argument, whatever it looks like');
  t.throws(() => getopt(['-Z'], 'v'), new GetoptError('Z', 'illegal'));
  t.throws(() => getopt(['-u'], 'u:'), new GetoptError('u', 'noarg'));
  t.throws(() => getopt(['-:'], 'a:'), new GetoptError(':', 'illegal'), "':' is never an option letter");
});

t.test('scanGetopt: stops at the first complaint, keeping the options before it', async (t) => {
  const r = scanGetopt(['-V', '-Z', 'x'], 'w:vV');
  t.same(r.opts, [{ opt: 'V', arg: '' }]);
  t.equal(r.error?.message, 'illegal option -- Z');
  t.equal(scanGetopt(['-w'], 'w:').error?.message, 'option requires an argument -- w');
});

t.test('modes: long flags among the options; unknown letters accepted', async (t) => {
  const r = scanGetopt(['--json', '-w5', '--sv', 'status', 'svc'], 'w:v', { longFlags: ['--json', '--sv'] });
  t.same(r.opts.map((o) => o.opt), ['--json', 'w', '--sv']);
  t.same(r.rest, ['status', 'svc']);
  t.equal(scanGetopt(['--nope', 'x'], 'v', { longFlags: ['--json'] }).error?.message, 'illegal option -- --nope');
  t.same(scanGetopt(['-ttQ', '-l', '80', './main'], 'l:', { unknown: 'accept' }).rest, ['./main']);
});

t.test('usage: the complaint, then the usage text', async (t) => {
  const e = usage('envdir', 'envdir: usage: envdir dir child', 100, new GetoptError('x', 'illegal'));
  t.equal(e.message, 'envdir: illegal option -- x\nenvdir: usage: envdir dir child');
  t.equal(e.exitCode, 100);
  t.equal(usage('envdir', 'u', 100).message, 'u');
});
