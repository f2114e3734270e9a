// Watch mode's wait for a stopped run's process group to be empty before the new run starts
// (so the old process and the port it held are gone). Polled: the members are no children of
// ours once run has exited, and Linux gives no event for the death of another's child; the
// poll runs only during a watch restart, from the stop signal until the group is empty.
import { pidsInGroup } from '@tsv/os';

/** How often an emptying group is looked at, ms. */
const GROUP_POLL_MS = 20;

/** Call done once process group pgid has no member (at once when it has none); returns a
 * function that cancels the wait. */
export function whenGroupGone(pgid: number, done: () => void): () => void {
  let timer: NodeJS.Timeout | undefined;
  const check = (): void => {
    timer = undefined;
    // why: pidsInGroup asks the kernel first (one kill(2) when the group is empty) and does
    // not count zombies, which hold no port.
    if (pidsInGroup(pgid).length === 0) done();
    else timer = setTimeout(check, GROUP_POLL_MS);
  };
  check();
  return () => clearTimeout(timer);
}
