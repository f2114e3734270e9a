// @tsv/chain library face: option parsers and apply functions of every wrapper, the chain
// runner (with fusion), and the pieces a supervisor may reuse (env dirs, accounts, limits, locks).
export { getpwnam, getgrnam, lookupUidGids, lookupAccount, switchUser, MAX_GROUPS, type UidGids, type PasswdEntry } from './account.js';
export { readEnvDir, applyEnvChanges, envFileValue, envPath, type EnvChange, type EnvDirStyle } from './env-dir.js';
export { parseLimit, queueLimit, queueOption, MEM_RESOURCES, type LimitValue } from './limits.js';
export { takeLock, RUNIT_LOCK, DJB_LOCK, type LockWording } from './lock.js';
export { initialState, printWarning, restoreCaCerts, type ChainState } from './state.js';
export { execNext, type NextProgram, type LinkResult } from './exec-next.js';
export { fusionTarget, ourBinDir, WRAPPER_NAMES, type WrapperName } from './fusion.js';
export { runChain, LINKS, type Link } from './chain.js';
export { parseChpst, applyChpst, chpst, CHPST_USAGE, type ChpstOptions } from './wrappers/chpst.js';
export { parseEnvdir, applyEnvdir, envdir, ENVDIR_USAGE, type EnvdirOptions } from './wrappers/envdir.js';
export { parseSetuidgid, applySetuidgid, setuidgid, SETUIDGID_USAGE, type AccountOptions } from './wrappers/setuidgid.js';
export { parseEnvuidgid, applyEnvuidgid, envuidgid, ENVUIDGID_USAGE } from './wrappers/envuidgid.js';
export { parseSoftlimit, applySoftlimit, softlimit, SOFTLIMIT_USAGE, type SoftlimitOptions } from './wrappers/softlimit.js';
export { parseSetlock, applySetlock, setlock, SETLOCK_USAGE, type SetlockOptions } from './wrappers/setlock.js';
export { parsePgrphack, applyPgrphack, pgrphack, PGRPHACK_USAGE } from './wrappers/pgrphack.js';
