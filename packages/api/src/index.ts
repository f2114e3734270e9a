// @tsv/api: a typed, promise-based API over tsv and runit service directories.
export { openService, Service, type ServiceSignal } from './service.js';
export { readStatus, statusOf, type ServiceStatus, type LastExit, type Backoff } from './status.js';
export { sendAndAwait, DEFAULT_TIMEOUT_MS, type CommandOptions } from './command.js';
export { statusChanges, type ChangesOptions } from './changes.js';
export { logLines, parseLogLine, type LogLine, type LogLinesOptions } from './log-lines.js';
export { ServiceError, NotSupervisedError, TimeoutError, type ServiceErrorCode } from './errors.js';
