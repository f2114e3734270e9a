// The pgrphack executable: run the pgrphack link (and any wrappers it fuses) then exec.
import { runMain } from '@tsv/os';
import { runChain } from '../chain.js';
import { pgrphack } from '../wrappers/pgrphack.js';

runMain('pgrphack', () => runChain('pgrphack', process.argv.slice(2), pgrphack));
