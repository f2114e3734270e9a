// The chpst executable: run the chpst link (and any wrappers it fuses) then exec.
import { runMain } from '@tsv/os';
import { runChain } from '../chain.js';
import { chpst } from '../wrappers/chpst.js';

runMain('chpst', () => runChain('chpst', process.argv.slice(2), chpst));
