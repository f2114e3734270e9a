// The softlimit executable: run the softlimit link (and any wrappers it fuses) then exec.
import { runMain } from '@tsv/os';
import { runChain } from '../chain.js';
import { softlimit } from '../wrappers/softlimit.js';

runMain('softlimit', () => runChain('softlimit', process.argv.slice(2), softlimit));
