// The setuidgid executable: run the setuidgid link (and any wrappers it fuses) then exec.
import { runMain } from '@tsv/os';
import { runChain } from '../chain.js';
import { setuidgid } from '../wrappers/setuidgid.js';

runMain('setuidgid', () => runChain('setuidgid', process.argv.slice(2), setuidgid));
