// The envdir executable: run the envdir link (and any wrappers it fuses) then exec.
import { runMain } from '@tsv/os';
import { runChain } from '../chain.js';
import { envdir } from '../wrappers/envdir.js';

runMain('envdir', () => runChain('envdir', process.argv.slice(2), envdir));
