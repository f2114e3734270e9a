// The `config` file of a log directory (svlogd §3): one directive per line, chosen by its first
// character. Pure: text in, settings and warnings out.

/** One selection line: `+` / `-` select or deselect for the log, `e` / `E` for stderr. */
export interface PatternLine {
  kind: '+' | '-' | 'e' | 'E';
  pattern: Buffer;
}

/** UDP destination of `u` / `U` lines. */
export interface UdpTarget {
  host: string;
  port: number;
  /** `U`: selected lines go to UDP only, not to the directory */
  only: boolean;
}

/** The settings of one log directory. */
export interface DirConfig {
  /** `s`: rotate when current reaches this many bytes (0: never by size) */
  size: number;
  /** `n`: keep at most this many old files (0: keep all) */
  num: number;
  /** `N`: on a full disk, delete old files while more than this remain (when N < n) */
  min: number;
  /** `t`: rotate a non-empty current after this many seconds (0: never) */
  timeout: number;
  /** `!`: processor command for `/bin/sh -c` ('' : none) */
  processor: string;
  /** `p`: prefix written after the stamp */
  prefix: string;
  /** `u` / `U` */
  udp: UdpTarget | undefined;
  /** `+ - e E` lines in file order */
  patterns: PatternLine[];
}

/** svlogd's defaults, the starting point of every (re)read. */
export function defaultConfig(): DirConfig {
  return { size: 1_000_000, num: 10, min: 10, timeout: 0, processor: '', prefix: '', udp: undefined, patterns: [] };
}

/** A number with an optional unit suffix, or undefined when malformed. */
function scaled(text: string, units: Record<string, number>): number | undefined {
  const m = /^([0-9]+)([a-z]?)$/.exec(text);
  if (!m) return undefined;
  const unit = m[2] === '' ? 1 : units[m[2] ?? ''];
  if (unit === undefined) return undefined;
  return Number(m[1]) * unit;
}

/** Parse `a.b.c.d[:port]` (IPv4 only, default port 514), or an error text. */
function parseUdp(text: string, only: boolean): UdpTarget | string {
  const m = /^([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})(?::([0-9]+))?$/.exec(text);
  if (!m || m.slice(1, 5).some((p) => Number(p) > 255)) return 'bad udp address';
  const port = m[5] === undefined ? 514 : Number(m[5]);
  if (port === 0 || port > 65535) return 'bad udp port';
  return { host: m.slice(1, 5).join('.'), port, only };
}

/** Parse a config file's text: the settings, plus one warning per malformed line
 * (`line N: text: why`); malformed lines are skipped, the rest is kept. */
export function parseConfig(text: string | Buffer): { config: DirConfig; warnings: string[] } {
  const config = defaultConfig();
  const warnings: string[] = [];
  const lines = (typeof text === 'string' ? Buffer.from(text) : text).toString('latin1').split('\n');
  lines.forEach((line, idx) => {
    if (line === '' || line[0] === '#') return;
    const rest = line.slice(1);
    // Numbers and addresses tolerate trailing blanks and a CR (svlogd's scan stops there too).
    const value = rest.replace(/[ \t\r]+$/, '');
    const bad = (why: string): void => {
      warnings.push(`line ${idx + 1}: ${line}: ${why}`);
    };
    switch (line[0]) {
      case 's': {
        const v = scaled(value, { k: 1024, m: 1048576 });
        if (v === undefined) bad('bad size');
        else config.size = v;
        break;
      }
      case 'n':
      case 'N': {
        const v = scaled(value, {});
        if (v === undefined) bad('bad number');
        else if (line[0] === 'n') config.num = v;
        else config.min = v;
        break;
      }
      case 't': {
        const v = scaled(value, { s: 1, m: 60, h: 3600 });
        if (v === undefined) bad('bad timeout');
        else config.timeout = v;
        break;
      }
      case '!':
        // A bare `!` is ignored (svlogd).
        if (rest !== '') config.processor = rest;
        break;
      case 'u':
      case 'U': {
        const u = parseUdp(value, line[0] === 'U');
        if (typeof u === 'string') bad(u);
        else config.udp = u;
        break;
      }
      case 'p':
        config.prefix = rest;
        break;
      case '+':
      case '-':
      case 'e':
      case 'E':
        config.patterns.push({ kind: line[0], pattern: Buffer.from(rest, 'latin1') });
        break;
      default:
        bad('unknown directive');
    }
  });
  return { config, warnings };
}
