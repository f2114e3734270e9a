// runit's 20-byte supervise/status record and the `stat` line, pure codecs (spec runit.md 2.7).
import { packTai64n, unpackTai64n, type Tai64nTime } from './tai64n.js';

/** Size of runit's status file. */
export const STATUS_SIZE = 20;

/** Run state as stored in byte 19. */
export type RunState = 'down' | 'run' | 'finish';

/** What the 20-byte record says. */
export interface StatusRecord {
  /** start_time (wall clock) */
  time: Tai64nTime;
  /** pid of the current child (run or finish), 0 when none */
  pid: number;
  paused: boolean;
  /** byte 17: 'u' when want is up, else 'd' (down, once and exit) */
  wantUp: boolean;
  gotTerm: boolean;
  state: RunState;
}

const STATES: readonly RunState[] = ['down', 'run', 'finish'];

/** Encode a status record into runit's 20 bytes (time big-endian, pid little-endian). */
export function encodeStatus(s: StatusRecord): Buffer {
  const b = Buffer.alloc(STATUS_SIZE);
  packTai64n(s.time, b, 0);
  b.writeUInt32LE(s.pid >>> 0, 12);
  b[16] = s.paused ? 1 : 0;
  b[17] = s.wantUp ? 0x75 : 0x64;
  b[18] = s.gotTerm ? 1 : 0;
  b[19] = STATES.indexOf(s.state);
  return b;
}

/** Decode runit's 20-byte status; undefined when the size is wrong ("bad format"). Also
 * accepts daemontools' 18-byte layout when allowShort is set (state derived from the pid). */
export function decodeStatus(b: Buffer, allowShort = false): StatusRecord | undefined {
  if (b.length !== STATUS_SIZE && !(allowShort && b.length === 18)) return undefined;
  const pid = b.readUInt32LE(12);
  const state = b.length === STATUS_SIZE ? (STATES[b[19] ?? 0] ?? 'down') : pid !== 0 ? 'run' : 'down';
  return {
    time: unpackTai64n(b, 0),
    pid,
    paused: b[16] === 1,
    wantUp: b[17] === 0x75,
    gotTerm: b.length === STATUS_SIZE && b[18] === 1,
    state,
  };
}

/** The `stat` line: `<state>[, paused][, got TERM][, want down|, want exit]\n`. */
export function formatStat(s: { state: RunState; paused: boolean; gotTerm: boolean; want: 'up' | 'down' | 'exit' }): string {
  let line: string = s.state;
  if (s.paused) line += ', paused';
  if (s.gotTerm) line += ', got TERM';
  if (s.state !== 'down') {
    if (s.want === 'down') line += ', want down';
    else if (s.want === 'exit') line += ', want exit';
  }
  return `${line}\n`;
}
