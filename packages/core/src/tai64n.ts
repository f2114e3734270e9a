// TAI64 / TAI64N codecs, pure. Label = 2^62 + 10 + unix seconds, no leap-second table
// (as runit, daemontools and s6 do).

/** 2^62 + 10: the TAI64 label of the Unix epoch. */
export const TAI64_EPOCH = 0x400000000000000an;

/** A point in time as whole Unix seconds and nanoseconds. */
export interface Tai64nTime {
  seconds: number;
  nanos: number;
}

/** A wall-clock time in ms as TAI64N parts, nanoseconds ending in 500 as runit writes them. */
export function taiFromMs(ms: number): Tai64nTime {
  const whole = Math.floor(ms);
  return { seconds: Math.floor(whole / 1000), nanos: (whole % 1000) * 1_000_000 + 500 };
}

/** Pack a time into 12 bytes of TAI64N (big-endian) at buf[off]. */
export function packTai64n(t: Tai64nTime, buf: Buffer = Buffer.alloc(12), off = 0): Buffer {
  buf.writeBigUInt64BE(TAI64_EPOCH + BigInt(t.seconds), off);
  buf.writeUInt32BE(t.nanos, off + 8);
  return buf;
}

/** Unpack 12 bytes of TAI64N at buf[off]. */
export function unpackTai64n(buf: Buffer, off = 0): Tai64nTime {
  return { seconds: Number(buf.readBigUInt64BE(off) - TAI64_EPOCH), nanos: buf.readUInt32BE(off + 8) };
}

/** Text form: `@` + 24 lowercase hex digits. */
export function formatTai64n(t: Tai64nTime): string {
  return `@${packTai64n(t).toString('hex')}`;
}

/** Parse the text form (`@` + 24 hex digits); undefined when it is not one. */
export function parseTai64n(text: string): Tai64nTime | undefined {
  if (!/^@[0-9a-fA-F]{24}$/.test(text)) return undefined;
  return unpackTai64n(Buffer.from(text.slice(1), 'hex'));
}
