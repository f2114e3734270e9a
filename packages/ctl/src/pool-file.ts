// A pool's pool.json (written by tsv beside the pool's status: docs/worker-pools.md), read by
// status and list to show one line per instance under the pool's line, and the `DIR@ID` form
// that names one instance of a pool.
import { readFileSync } from 'node:fs';
import { SERVICE, SUPERVISE } from '@tsv/core';

/** What tsvctl uses of pool.json. */
export interface PoolInfo {
  size: number;
  state: string;
  batch: number;
  rolling: { inFlight: number[]; queued: number[] } | null;
  failed: { id: number; reason: string } | null;
  instances: { id: number; retiring: boolean }[];
}

/** The pool.json of service directory dir, or undefined (not a pool, or unreadable). */
export function readPoolFile(dir: string): PoolInfo | undefined {
  let text: string;
  try {
    text = readFileSync(`${dir}/${SERVICE.supervise}/${SUPERVISE.pool}`, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const x = JSON.parse(text) as Partial<PoolInfo> & { v?: unknown };
    if (x.v !== 1 || typeof x.size !== 'number' || !Array.isArray(x.instances)) return undefined;
    return { size: x.size, state: String(x.state), batch: Number(x.batch ?? 1), rolling: x.rolling ?? null, failed: x.failed ?? null, instances: x.instances };
  } catch {
    return undefined;
  }
}

/** The directory of instance id of the pool in dir: supervise/instance/ID (a supervise dir
 * with a `supervise -> .` link, so every reader of DIR/supervise/ works on it). */
export function instanceDir(dir: string, id: number): string {
  return `${dir}/${SERVICE.supervise}/${SUPERVISE.instanceDir}/${id}`;
}

/** The pool's own notes for its status line: size, the roll under way or the failed one. */
export function poolNotes(p: PoolInfo): string[] {
  const out = [`pool ${p.size}`];
  if (p.rolling !== null) {
    const left = p.rolling.inFlight.length + p.rolling.queued.length;
    out.push(`rolling restart: ${p.size - left}/${p.size} done, restarting ${p.rolling.inFlight.map((i) => `@${i}`).join(' ')}`);
  }
  if (p.failed !== null) out.push(`rolling restart failed: instance ${p.failed.id} ${p.failed.reason}`);
  return out;
}
