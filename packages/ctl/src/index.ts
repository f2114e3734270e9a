// @tsv/ctl library face: the pieces of tsvctl other packages and tests may use.
export { tsvctl } from './ctl.js';
export { parseArgs, progName, scanUlong, usageText, VersionRequest, DEFAULT_SVDIR, DEFAULT_WAIT, type CtlOptions } from './argv.js';
export { planCommand, isLocalName, servicePath, looksLikeSignal, type CommandPlan, type Action } from './argv.js';
export { parseSignal, signalName, type SignalSpec } from './signals.js';
export { probe, liveness, readSnapshot, type Snapshot, type Probe } from './status.js';
export { statusView, formatLine, extrasOf, type StatusView, type Now } from './status.js';
export { judge, changedSince, type Verdict, type CheckContext } from '@tsv/core';
export { skipByRule } from './control-send.js';
export { findLogDirs, logDirWords } from './log-dirs.js';
export { editDistance, nearestCommand, isKnownCommand, unknownCommand, wantsFront } from './command-words.js';
export { shellQuote, runScript, envFiles, userInPasswd, type NewServiceSpec } from './verbs/new-service.js';
export { splitNewArgs } from './verbs/new-args.js';
export { formatDuration, formatBytes, lastExitText } from './verbs/list-render.js';
export { membersOf, cpuTicksOf, type ProcEntry } from './verbs/proc-usage.js';
