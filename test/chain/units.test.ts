// Pure parts of @tsv/chain: getopt, env file values and pathexec-style changes, limit values,
// the option parsers.
import t from 'tap';
import { getopt, GetoptError, ToolError } from '@tsv/core';
import { applyEnvChanges, envFileValue, parseChpst, parseLimit, parseSetlock, parseSoftlimit, parseEnvdir, lookupUidGids } from '@tsv/chain';

/** A tap `throws` pattern: a ToolError with this exit code. */
function ToolErrorLike(exitCode: number): { name: string; exitCode: number } {
  return { name: ToolError.name, exitCode };
}

t.test('getopt: djb sgetopt rules', async (t) => {
  t.same(getopt(['-vP', '-ufoo', '-U', 'bar', 'prog', '-x'], 'u:U:vP'), {
    opts: [
      { opt: 'v', arg: '' },
      { opt: 'P', arg: '' },
      { opt: 'u', arg: 'foo' },
      { opt: 'U', arg: 'bar' },
    ],
    rest: ['prog', '-x'],
  });
  t.same(getopt(['--', '-v'], 'v').rest, ['-v'], '-- ends options');
  t.same(getopt(['-', '-v'], 'v').rest, ['-', '-v'], 'a lone - is an operand');
  t.throws(() => getopt(['-z'], 'v'), new GetoptError('z', 'illegal'));
  t.throws(() => getopt(['-u'], 'u:'), new GetoptError('u', 'noarg'));
});

t.test('env file values', async (t) => {
  t.equal(envFileValue(Buffer.from('value1  \t \nsecond')), 'value1');
  t.equal(envFileValue(Buffer.from('a\0b\0c\n')), 'a\nb\nc');
  t.equal(envFileValue(Buffer.from('\n')), '');
  t.equal(envFileValue(Buffer.from('  lead')), '  lead');
  t.equal(envFileValue(Buffer.from('cr\r\n')), 'cr\r');
  t.equal(envFileValue(Buffer.alloc(0)), undefined, 'empty: remove');
});

t.test('pathexec-style changes', async (t) => {
  const env = ['A=1', 'C=old', 'B=2'];
  applyEnvChanges(env, ['A', 'C=D=x=y', 'NEW=v', 'Z']);
  t.same(env, ['B=2', 'C=D=x=y', 'NEW=v']);
  const e2 = ['C=1'];
  applyEnvChanges(e2, ['C=D']);
  t.same(e2, ['C=D'], 'an empty file named C=D removes C, then sets C to D');
});

t.test('limit values', async (t) => {
  t.equal(parseLimit('300000000', false), 300000000);
  t.equal(parseLimit('=', true), '=');
  t.equal(parseLimit('=', false), undefined);
  for (const bad of ['', '-1', '+1', '1k', ' 1', '0x10']) t.equal(parseLimit(bad, true), undefined, JSON.stringify(bad));
  t.equal(parseLimit('99999999999999999999999', false), Infinity);
});

t.test('option parsers', async (t) => {
  const c = parseChpst(['-u', 'nobody', '-m', '5', '-d', '7', '-012', '-l', 'lk', 'prog', 'arg']);
  t.equal(c.user, 'nobody');
  t.same(c.close, [0, 1, 2]);
  t.same(c.lock, { file: 'lk', wait: true });
  t.same(c.prog, ['prog', 'arg']);
  t.equal(c.limits.size, 4, 'DATA, STACK, MEMLOCK, AS');
  t.throws(() => parseChpst(['-l', 'a', '-L', 'b', 'p']), ToolErrorLike(100));
  t.throws(() => parseChpst([]), ToolErrorLike(100));
  t.same(parseSetlock(['-nx', 'f', 'p']), { file: 'f', wait: false, quiet: true, prog: ['p'] });
  t.same(parseSetlock(['-nN', 'f', 'p']).wait, true, 'the last of -n/-N wins');
  t.equal(parseSoftlimit(['-m', '=', 'p']).settings[0]?.value, '=');
  t.throws(() => parseSoftlimit(['-m', 'x', 'p']), ToolErrorLike(100));
  t.throws(() => parseEnvdir(['d']), ToolErrorLike(111));
  t.same(lookupUidGids(':12:34:56'), { uid: 12, gids: [34, 56] });
  t.throws(() => lookupUidGids(':12'), ToolErrorLike(111));
  t.throws(() => lookupUidGids(':1:4294967295'), ToolErrorLike(111), 'not a 32-bit id');
  const sixty = Array.from({ length: 60 }, (_, i) => i + 1);
  t.same(lookupUidGids(`:7:${sixty.join(':')}`).gids, sixty, 'at most 60 groups');
  t.throws(() => lookupUidGids(`:7:${[...sixty, 61].join(':')}`), ToolErrorLike(111), '61 groups');
});
