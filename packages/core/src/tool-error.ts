// Errors meant for the user, in runit's style (`prog: fatal: message: errstr`): libraries throw
// ToolError; only the CLI layer (@tsv/os runMain) prints and picks the exit code.
import { errstr } from './errstr.js';
import { EXIT } from './exit-codes.js';

/** An error meant for the user: one line, a level, and the exit code the tool must return. */
export class ToolError extends Error {
  readonly exitCode: number;
  readonly level: 'fatal' | 'usage';
  constructor(message: string, exitCode: number, level: 'fatal' | 'usage' = 'fatal') {
    super(message);
    this.name = 'ToolError';
    this.exitCode = exitCode;
    this.level = level;
  }
}

/** A fatal error whose message ends in the djb text of cause: `what: errstr`. */
export function fatalFrom(what: string, cause: unknown, exitCode: number = EXIT.temporary): ToolError {
  return new ToolError(`${what}: ${errstr(cause)}`, exitCode);
}

/** A usage error: its message is printed as is (it holds the whole `usage: ...` text). */
export function usageError(text: string, exitCode: number): ToolError {
  return new ToolError(text, exitCode, 'usage');
}

/** Format a warning line: `prog: warning: message`. */
export function warnLine(prog: string, message: string): string {
  return `${prog}: warning: ${message}`;
}
