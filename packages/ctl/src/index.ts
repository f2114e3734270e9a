// @tsv/ctl library face: the pieces of tsvctl other packages and tests may use.
export { tsvctl } from './ctl.js';
export { parseArgs, progName, scanUlong, usageText, VersionRequest, DEFAULT_SVDIR, DEFAULT_WAIT, type CtlOptions } from './argv.js';
export { planCommand, isLocalName, servicePath, looksLikeSignal, type CommandPlan, type Action } from './argv.js';
export { parseSignal, signalName, type SignalSpec } from './signals.js';
export { probe, liveness, readSnapshot, type Snapshot, type Probe } from './status.js';
export { statusView, formatLine, extrasOf, type StatusView, type Now } from './status.js';
export { judge, changedSince, type Verdict, type CheckContext } from './wait-checks.js';
export { skipByRule } from './control-send.js';
export { findLogDirs, logDirWords } from './log-dirs.js';
