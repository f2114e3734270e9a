// The chpst executable: run the chpst link (and any wrappers it fuses) then exec. Run under
// the name of one of the daemontools wrappers (a link named envdir, setlock, ...), it is that
// wrapper, as runit's chpst dispatches on its name.
import { runMain } from '@tsv/os';
import { runChain } from '../chain.js';
import { WRAPPER_NAMES } from '../fusion.js';
import { runAsName } from '../state.js';
import { chpst } from '../wrappers/chpst.js';

const as = WRAPPER_NAMES.find((n) => n === runAsName(process.argv[1]));
if (as !== undefined && as !== 'chpst') runMain(as, () => runChain(as, process.argv.slice(2)));
else runMain('chpst', () => runChain('chpst', process.argv.slice(2), chpst));
