// tsvctl: control supervised services and report their status, sv-compatible (runit.md 3).
// argv[1] is the launcher as invoked: under another name (an init-script symlink) it is LSB mode.
import { runMain } from '@tsv/os';
import { tsvctl } from '../ctl.js';

runMain('tsvctl', () => tsvctl(process.argv[1] ?? 'tsvctl', process.argv.slice(2), process.env));
