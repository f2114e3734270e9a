// The version line and help layout every program shares, and which first arguments ask for them.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { helpText, metaRequest, TSV_VERSION, versionLine } from '@tsv/core';

t.test('one version line, the version of the packages', async (t) => {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  t.equal(TSV_VERSION, pkg.version, 'TSV_VERSION follows packages/core/package.json');
  t.equal(versionLine('envdir'), `envdir (tsv) ${pkg.version}`);
});

t.test('metaRequest: the first argument only; -V is the peer\'s under a peer name', async (t) => {
  t.equal(metaRequest(['-h']), 'help');
  t.equal(metaRequest(['--help', 'x']), 'help');
  t.equal(metaRequest(['-V']), 'version');
  t.equal(metaRequest(['--version']), 'version');
  t.equal(metaRequest(['-V'], true), undefined, 'chpst/sv/svlogd: -V is theirs');
  t.equal(metaRequest(['--version'], true), 'version');
  t.equal(metaRequest(['x', '-h']), undefined, 'not after another word');
  t.equal(metaRequest([]), undefined);
});

t.test('helpText lays out what, usage, options and examples', async (t) => {
  const h = helpText('demo', { what: 'does a thing.', synopsis: ['demo [-x] FILE'], options: [['-x', 'extra'], ['-h, --help', 'this help']], examples: ['demo -x a'] });
  t.equal(h, 'demo: does a thing.\n\nUsage:\n  demo [-x] FILE\n\nOptions:\n  -x          extra\n  -h, --help  this help\n\nExample:\n  demo -x a\n');
});
