// Soft resource limits (softlimit, chpst -m -d -o -p -f -c -r -t). They are queued in the chain
// state and set just before execve (see exec-next.ts): lowering RLIMIT_AS or RLIMIT_DATA under
// a running Node process would make its next allocation fatal.
import { getrlimit, RLIMIT } from '@tsv/native';
import type { ChainState } from './state.js';

/** A limit value: a number of bytes/files/seconds, or '=' (soft := hard, softlimit only). */
export type LimitValue = number | '=';

/** Resources of chpst's and softlimit's -m (runit: DATA, STACK, MEMLOCK, AS; VMEM is AS on Linux). */
export const MEM_RESOURCES: readonly number[] = [RLIMIT.DATA, RLIMIT.STACK, RLIMIT.MEMLOCK, RLIMIT.AS];

/** Names of the resources, for messages. */
const NAMES = new Map<number, string>(Object.entries(RLIMIT).map(([k, v]) => [v as number, k]));

/** Parse an unsigned decimal limit (or '=' when allowed); undefined means usage. Values past
 * 2^53 are kept as Infinity: they are clamped to the hard limit anyway. */
export function parseLimit(arg: string, allowEquals: boolean): LimitValue | undefined {
  if (allowEquals && arg === '=') return '=';
  if (!/^\d+$/.test(arg)) return undefined;
  const n = Number(arg);
  return Number.isSafeInteger(n) ? n : Infinity;
}

/** Queue soft := min(value, hard) for resource; '=' queues the hard limit. Returns the hard
 * limit when value had to be clamped (the caller may warn), else undefined. */
export function queueLimit(state: ChainState, resource: number, value: LimitValue): number | undefined {
  const hard = getrlimit(resource).hard;
  if (value === '=') {
    state.limits.set(resource, hard);
    return undefined;
  }
  state.limits.set(resource, Math.min(value, hard));
  return value > hard ? hard : undefined;
}

/** Queue one option's value on each resource; a warning text when a single-resource option
 * asked for more than the hard limit (-m is "up to" by design: it clamps silently, as the
 * usual `-m 300000000` exceeds the typical 8 MiB MEMLOCK hard limit). */
export function queueOption(state: ChainState, resources: readonly number[], value: LimitValue, opt: string, text: string): string | undefined {
  let clampedTo: number | undefined;
  for (const r of resources) clampedTo = queueLimit(state, r, value) ?? clampedTo;
  if (clampedTo === undefined || resources.length !== 1) return undefined;
  const name = NAMES.get(resources[0] as number) ?? 'limit';
  return `-${opt} ${text} is above the hard limit of RLIMIT_${name}: set to ${clampedTo}`;
}
