// The envuidgid executable: run the envuidgid link (and any wrappers it fuses) then exec.
import { runMain } from '@tsv/os';
import { runChain } from '../chain.js';
import { envuidgid } from '../wrappers/envuidgid.js';

runMain('envuidgid', () => runChain('envuidgid', process.argv.slice(2), envuidgid));
