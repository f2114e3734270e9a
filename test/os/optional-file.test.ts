// readIfPresent and listIfPresent: undefined for what is not there, never an exception for
// that; every other error thrown as readFileSync and readdirSync throw it.
import t from 'tap';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { listIfPresent, readIfPresent } from '@tsv/os';
import { tmpdir } from '@tsv/testkit';

t.test('a file: its text; nothing there: undefined; a file where a directory is named: ENOTDIR', async (t) => {
  const dir = tmpdir(t);
  writeFileSync(join(dir, 'f'), 'text\n');
  t.equal(readIfPresent(join(dir, 'f')), 'text\n');
  t.equal(readIfPresent(join(dir, 'missing')), undefined, 'ENOENT');
  t.throws(() => readIfPresent(join(dir, 'f', 'below')), { code: 'ENOTDIR' }, 'ENOTDIR is an error (Node 20 returns undefined for ENOENT only)');
  t.throws(() => readIfPresent(dir), { code: 'EISDIR' }, 'a directory is an error, not absence');
});

t.test('a directory: its entries; nothing there: undefined; a file: ENOTDIR', async (t) => {
  const dir = tmpdir(t);
  mkdirSync(join(dir, 'd'));
  writeFileSync(join(dir, 'd', 'a'), '');
  t.same(listIfPresent(join(dir, 'd')), ['a']);
  t.equal(listIfPresent(join(dir, 'none')), undefined);
  t.throws(() => listIfPresent(join(dir, 'd', 'a')), { code: 'ENOTDIR' });
});
