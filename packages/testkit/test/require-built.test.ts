// A test that needs an executable that is not built fails with the missing file's name; it
// never skips (a broken build must not pass as a green run).
import t from 'tap';
import { existsSync } from 'node:fs';
import { bin, BIN_DIR, NotBuiltError, requireBuilt } from '@tsv/testkit';
import { tsvBuilt } from '@tsv/testkit/ctl';

t.test('a built executable passes', async (t) => {
  t.doesNotThrow(() => requireBuilt('tsv', 'tsvctl', 'tsvlog', 'tsvscan', 'envdir'));
  t.equal(bin('tsvlog'), `${BIN_DIR}/tsvlog`);
  t.equal(tsvBuilt(), true);
});

t.test('a missing one throws NotBuiltError naming what is missing', async (t) => {
  t.notOk(existsSync(`${BIN_DIR}/tsv-no-such-program`));
  t.throws(() => bin('tsv-no-such-program'), new NotBuiltError(`tsv-no-such-program is not built: ${BIN_DIR}/tsv-no-such-program is missing (run \`npm ci\` or \`npm run build\`)`));
  t.throws(() => requireBuilt('tsv', 'tsv-no-such-program'), { name: 'NotBuiltError' }, 'one missing among several');
});
