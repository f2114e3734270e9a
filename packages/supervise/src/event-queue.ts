// Run-to-completion delivery of events to the shell of a pure table (Slot, Pool, ScheduleShell):
// an event that an effect causes is queued behind the current one, never handled inside it.
import { errstr } from '@tsv/core';

/** Hands each event to `handle`, one at a time, in order; `settled` runs once a burst drained. */
export class EventQueue<E> {
  private readonly events: E[] = [];
  private running = false;

  constructor(
    private readonly handle: (e: E) => void,
    private readonly warn: (line: string) => void,
    private readonly settled?: () => void,
  ) {}

  /** Queue evs and drain, unless a burst is draining already (it takes them). True when this
   * call drained the burst (the caller may then act after it). */
  push(evs: readonly E[]): boolean {
    if (evs.length === 0) return false;
    this.events.push(...evs);
    if (this.running) return false;
    this.running = true;
    try {
      while (this.events.length > 0) {
        const e = this.events.shift() as E;
        // why: one bad event must not leave the queue stuck with running set, nor stop the rest
        try {
          this.handle(e);
        } catch (err) {
          this.warn(`internal error: ${errstr(err)}`);
        }
      }
      this.settled?.();
    } finally {
      this.running = false;
    }
    return true;
  }
}
