// The typed errors of @tsv/api: every rejection is a ServiceError with a stable `code`.
import type { ServiceStatus } from './status.js';

/** What went wrong, as a stable string to switch on. */
export type ServiceErrorCode =
  /** no supervisor (tsv, runsv) holds the service directory's supervise/ok open */
  | 'ENOTSUPERVISED'
  /** a command's effect did not show in the status before the timeout */
  | 'ETIMEOUT'
  /** supervise/ could not be read (missing, unreadable, bad format) */
  | 'ESTATUS'
  /** the control bytes could not be written */
  | 'ECONTROL'
  /** the operation was aborted through its AbortSignal */
  | 'EABORTED';

/** Base class of every error @tsv/api rejects with. */
export class ServiceError extends Error {
  /** what went wrong */
  readonly code: ServiceErrorCode;
  /** the service directory */
  readonly dir: string;
  /** @param code - what went wrong; @param dir - the service directory; @param message - one line */
  constructor(code: ServiceErrorCode, dir: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ServiceError';
    this.code = code;
    this.dir = dir;
  }
}

/** No supervisor runs the service (runit's sv says `runsv not running`). */
export class NotSupervisedError extends ServiceError {
  /** @param dir - the service directory */
  constructor(dir: string) {
    super('ENOTSUPERVISED', dir, `${dir}: supervisor not running`);
    this.name = 'NotSupervisedError';
  }
}

/** A command's effect did not show before its timeout; `status` is the last status read. */
export class TimeoutError extends ServiceError {
  /** the command that timed out (`up`, `restart`, ...) */
  readonly command: string;
  /** the timeout, ms */
  readonly timeoutMs: number;
  /** the last status read before giving up (undefined when none could be read) */
  readonly status: ServiceStatus | undefined;
  /** @param dir - the service directory; @param command - its name; @param timeoutMs - the limit; @param status - the last status */
  constructor(dir: string, command: string, timeoutMs: number, status: ServiceStatus | undefined) {
    super('ETIMEOUT', dir, `${dir}: ${command}: timed out after ${timeoutMs} ms${status === undefined ? '' : ` (state ${status.state})`}`);
    this.name = 'TimeoutError';
    this.command = command;
    this.timeoutMs = timeoutMs;
    this.status = status;
  }
}

/** The error for an aborted operation. */
export function abortedError(dir: string, what: string): ServiceError {
  return new ServiceError('EABORTED', dir, `${dir}: ${what}: aborted`);
}
