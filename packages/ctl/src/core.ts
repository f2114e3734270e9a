// The parts of @tsv/core that every tsvctl run needs, imported here once: each bare
// `@tsv/core/...` specifier costs an exports-map resolution at start-up, a relative one less.
export { errCode, errstr } from '@tsv/core/errstr';
export { ToolError, runMain, usageError, writeErr, writeOut } from '@tsv/core/diag';
export { LOGDIR, SERVICE, SUPERVISE } from '@tsv/core/names';
export { EXIT } from '@tsv/core/exit-codes';
export { decodeStatus, STATUS_SIZE, type RunState, type StatusRecord } from '@tsv/core/status-codec';
