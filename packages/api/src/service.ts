// A service directory, opened: its status, its commands (each awaited to its effect), its
// status changes and its log lines.
import { SERVICE, SIGNAL_LETTER } from '@tsv/core';
import { statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { statusChanges, type ChangesOptions } from './changes.js';
import { sendAndAwait, type CommandOptions } from './command.js';
import { ServiceError } from './errors.js';
import { logLines, type LogLine, type LogLinesOptions } from './log-lines.js';
import { readStatus, type ServiceStatus } from './status.js';

/** The signals a supervisor sends for a control byte (runit's and tsv's alike). */
export type ServiceSignal = 'SIGHUP' | 'SIGALRM' | 'SIGINT' | 'SIGQUIT' | 'SIGUSR1' | 'SIGUSR2' | 'SIGTERM' | 'SIGKILL' | 'SIGSTOP' | 'SIGCONT';

/** A supervised service directory (tsv's or a real runsv's). Every method reads supervise/
 * afresh: a Service holds no state but its path. */
export class Service {
  /** the service directory, absolute */
  readonly dir: string;

  /** @param dir - the service directory (relative to the current directory, or absolute) */
  constructor(dir: string) {
    this.dir = resolve(dir);
  }

  /** Read the status once. Rejects with NotSupervisedError when no supervisor runs the
   * service, ServiceError `ESTATUS` when supervise/ cannot be read. */
  async status(): Promise<ServiceStatus> {
    return readStatus(this.dir);
  }

  /** Is a supervisor running the service? */
  async isSupervised(): Promise<boolean> {
    try {
      readStatus(this.dir);
      return true;
    } catch {
      return false;
    }
  }

  /** Start the service (want up); resolves with the status once it runs (and is ready, with
   * `ready: true`). */
  up(opts?: CommandOptions): Promise<ServiceStatus> {
    return this.command('up', 'u', opts);
  }

  /** Stop the service (want down: TERM, then CONT); resolves once it is down. */
  down(opts?: CommandOptions): Promise<ServiceStatus> {
    return this.command('down', 'd', opts);
  }

  /** Run the service once (not restarted when it exits); resolves once it runs or has run. */
  once(opts?: CommandOptions): Promise<ServiceStatus> {
    return this.command('once', 'o', opts);
  }

  /** Restart: TERM, CONT, want up (sv's `restart`); resolves once a new process runs (and is
   * ready, with `ready: true`). */
  restart(opts?: CommandOptions): Promise<ServiceStatus> {
    return this.command('restart', 'tcu', opts);
  }

  /** Pause the service (SIGSTOP); resolves once the status shows it paused. */
  pause(opts?: CommandOptions): Promise<ServiceStatus> {
    return this.command('pause', 'p', opts);
  }

  /** Continue a paused service (SIGCONT); resolves once the status shows it no longer paused. */
  cont(opts?: CommandOptions): Promise<ServiceStatus> {
    return this.command('cont', 'c', opts);
  }

  /** Send a signal through the supervisor (one of runit's control bytes). For SIGTERM and
   * SIGKILL it resolves once a new process runs (when the service is wanted up); for the
   * others once the byte is written. */
  kill(signal: ServiceSignal, opts?: CommandOptions): Promise<ServiceStatus> {
    const letter = SIGNAL_LETTER[signal];
    if (letter === undefined) return Promise.reject(new ServiceError('ECONTROL', this.dir, `${this.dir}: no control byte for signal ${String(signal)}`));
    return this.command(`kill ${signal}`, letter, opts);
  }

  /** Stop the service and its supervisor (sv's `exit`); resolves once the supervisor is gone. */
  async exit(opts?: CommandOptions): Promise<void> {
    await sendAndAwait(this.dir, 'exit', 'x', opts);
  }

  /** The status, each time it changes (inotify on supervise/, no polling). */
  changes(opts?: ChangesOptions): AsyncGenerator<ServiceStatus, void, undefined> {
    return statusChanges(this.dir, opts);
  }

  /** The lines of the service's log directory `logDir` (relative to the service directory;
   * default `log/main`, where `tsvctl new` puts it), across rotations when following. */
  logLines(opts: LogLinesOptions & { logDir?: string } = {}): AsyncGenerator<LogLine, void, undefined> {
    return logLines(join(this.dir, opts.logDir ?? `${SERVICE.log}/main`), opts);
  }

  /** Send letters and await their effect, as command name. */
  private async command(name: string, letters: string, opts?: CommandOptions): Promise<ServiceStatus> {
    const s = await sendAndAwait(this.dir, name, letters, opts);
    return s ?? readStatus(this.dir);
  }
}

/** Open a service directory: checks it is a directory with a supervise/ (a supervisor has run
 * it), then returns its Service. Rejects with ServiceError `ESTATUS` otherwise. */
export async function openService(dir: string): Promise<Service> {
  const svc = new Service(dir);
  try {
    if (!statSync(join(svc.dir, SERVICE.supervise)).isDirectory()) throw new Error('not a directory');
  } catch (e) {
    throw new ServiceError('ESTATUS', svc.dir, `${svc.dir}: unable to open supervise/: ${(e as Error).message}`, { cause: e });
  }
  return svc;
}
