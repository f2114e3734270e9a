// The setlock executable: run the setlock link (and any wrappers it fuses) then exec.
import { runMain } from '@tsv/os';
import { runChain } from '../chain.js';
import { setlock } from '../wrappers/setlock.js';

runMain('setlock', () => runChain('setlock', process.argv.slice(2), setlock));
