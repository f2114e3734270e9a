// Line stamps: -t `@<tai64n> `, -tt `YYYY-MM-DD_HH:MM:SS.fffff ` (UTC), -ttt with `T`; and the
// microsecond wall clock they are made from.
import { formatTai64n, packTai64n } from '@tsv/core';

/** Offset (ms) added to the monotonic clock to make it the wall clock; re-anchored on drift. */
let anchor = performance.timeOrigin;

/** Wall-clock time in whole microseconds. Date.now() has only milliseconds, so the sub-ms part
 * comes from the monotonic clock, re-anchored whenever the two disagree (clock steps). */
export function nowMicros(): number {
  const wall = Date.now();
  let t = anchor + performance.now();
  if (t < wall - 1 || t >= wall + 2) {
    anchor += wall + 0.5 - t;
    t = wall + 0.5;
  }
  return Math.floor(t * 1000);
}

/** Two decimal digits. */
function d2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** The `@` + 24 hex TAI64N text of a time in µs (nanoseconds end in 500, as runit writes). */
export function tai64nText(us: number): string {
  const seconds = Math.floor(us / 1e6);
  const nanos = (us - seconds * 1e6) * 1000 + 500;
  return formatTai64n({ seconds, nanos });
}

/** The whole-second part of the last stamp made, per mode (it changes once a second). */
const secondCache: { sec: number; text: string }[] = [0, 1, 2, 3].map(() => ({ sec: -1, text: '' }));

/** The stamp text (with its trailing space) for mode 1, 2 or 3 at time us; '' for mode 0. */
export function stampText(mode: 0 | 1 | 2 | 3, us: number): string {
  if (mode === 0) return '';
  const sec = Math.floor(us / 1e6);
  const c = secondCache[mode] as { sec: number; text: string };
  if (mode === 1) {
    if (c.sec !== sec) {
      c.sec = sec;
      c.text = `@${packTai64n({ seconds: sec, nanos: 0 }).toString('hex', 0, 8)}`;
    }
    return `${c.text}${((us - sec * 1e6) * 1000 + 500).toString(16).padStart(8, '0')} `;
  }
  if (c.sec !== sec) {
    const d = new Date(sec * 1000);
    const date = `${d.getUTCFullYear()}-${d2(d.getUTCMonth() + 1)}-${d2(d.getUTCDate())}`;
    const time = `${d2(d.getUTCHours())}:${d2(d.getUTCMinutes())}:${d2(d.getUTCSeconds())}`;
    c.sec = sec;
    c.text = `${date}${mode === 2 ? '_' : 'T'}${time}.`;
  }
  return `${c.text}${String(Math.floor((us - sec * 1e6) / 10)).padStart(5, '0')} `;
}

/** Local time like tai64nlocal: `YYYY-MM-DD HH:MM:SS.nnnnnnnnn`. */
export function localText(seconds: number, nanos: number): string {
  const d = new Date(seconds * 1000);
  const date = `${d.getFullYear()}-${d2(d.getMonth() + 1)}-${d2(d.getDate())}`;
  const time = `${d2(d.getHours())}:${d2(d.getMinutes())}:${d2(d.getSeconds())}`;
  return `${date} ${time}.${String(nanos).padStart(9, '0')}`;
}
