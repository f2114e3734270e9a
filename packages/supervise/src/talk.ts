// What a supervisor says about its service (tsvscan's and tsv's event lines): a pure reading of
// one step of the machine, before and after, as the lines a person watching wants to see.
import type { MachineState } from './machine.js';

/** The event lines (without the service's name) one step of the machine makes. */
export function narrate(before: Readonly<MachineState>, after: Readonly<MachineState>): string[] {
  const out: string[] = [];
  if (after.lastExit !== null && after.lastExit !== before.lastExit) out.push(exitLine(after.lastExit));
  if (after.stopSent && !before.stopSent && after.pid !== 0) out.push(`stopping, ${after.settings.downSignal} to pid ${after.pid}`);
  if (after.phase === 'run' && after.starts > before.starts && after.pid !== 0) out.push(`started, pid ${after.pid}`);
  if (after.restartAt !== null && after.restartAt !== before.restartAt) out.push(`backoff: next start in ${seconds(after.restartAt.delayMs)} (${after.failures} quick death${after.failures === 1 ? '' : 's'})`);
  if (after.givenUp && !before.givenUp) out.push(`given up after ${after.quickDeaths.length} quick deaths: tsvctl up starts it again`);
  if (before.phase !== 'down' && after.phase === 'down' && after.want !== 'up') out.push('stopped');
  return out;
}

/** `exited 3`, `killed by SIGKILL`, with the reason when known. */
function exitLine(e: NonNullable<MachineState['lastExit']>): string {
  const what = e.signal !== null ? `killed by ${e.signal}` : `exited ${e.code ?? 0}`;
  return e.reason !== undefined ? `${what}: ${e.reason}` : what;
}

/** 1.5 s, 16 s. */
function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}
