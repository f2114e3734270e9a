// softlimit (daemontools 0.76): softlimit [-acdflmoprst n] child.
import { badNumber, EXIT, getopt, type ToolError, usage } from '@tsv/core';
import { RLIMIT } from '@tsv/native';
import { envPath } from '../env-dir.js';
import type { LinkResult } from '../exec-next.js';
import { MEM_RESOURCES, parseLimit, queueOption, type LimitValue } from '../limits.js';
import type { ChainState } from '../state.js';

/** softlimit's usage line for a program run as name. */
export function softlimitUsageText(name: string): string {
  return `${name}: usage: ${name} [-a allbytes] [-c corebytes] [-d databytes] [-f filebytes] [-l lockbytes] [-m membytes] [-o openfiles] [-p processes] [-r residentbytes] [-s stackbytes] [-t cpusecs] child`;
}

export const SOFTLIMIT_USAGE = softlimitUsageText('softlimit');

/** Resources of each option. */
const OPTS: Record<string, readonly number[]> = {
  a: [RLIMIT.AS],
  c: [RLIMIT.CORE],
  d: [RLIMIT.DATA],
  f: [RLIMIT.FSIZE],
  l: [RLIMIT.MEMLOCK],
  m: MEM_RESOURCES,
  o: [RLIMIT.NOFILE],
  p: [RLIMIT.NPROC],
  r: [RLIMIT.RSS],
  s: [RLIMIT.STACK],
  t: [RLIMIT.CPU],
};

/** One limit option as given. */
export interface SoftlimitSetting {
  opt: string;
  text: string;
  value: LimitValue;
  resources: readonly number[];
}

/** softlimit's options. */
export interface SoftlimitOptions {
  settings: SoftlimitSetting[];
  prog: string[];
}

/** The usage error of softlimit run as name (exit 100; also for a bad number). */
function softlimitUsage(name: string, cause?: unknown): ToolError {
  return usage(name, softlimitUsageText(name), EXIT.usage, cause);
}

/** Parse softlimit's command line: unsigned decimal values or '=' (soft := hard). */
export function parseSoftlimit(args: readonly string[], name = 'softlimit'): SoftlimitOptions {
  let parsed;
  try {
    parsed = getopt(args, 'a:c:d:f:l:m:o:p:r:s:t:');
  } catch (err) {
    throw softlimitUsage(name, err);
  }
  const settings: SoftlimitSetting[] = [];
  for (const { opt, arg } of parsed.opts) {
    const value = parseLimit(arg, true);
    if (value === undefined) throw badNumber(name, opt, arg, softlimitUsageText(name), EXIT.usage);
    settings.push({ opt, text: arg, value, resources: OPTS[opt] as readonly number[] });
  }
  if (parsed.rest.length === 0) throw softlimitUsage(name);
  return { settings, prog: parsed.rest };
}

/** Queue the limits in argument order (set just before execve); values above the hard limit
 * are clamped to it, with a warning line for single-resource options. */
export function applySoftlimit(o: SoftlimitOptions, state: ChainState): LinkResult {
  for (const s of o.settings) {
    const w = queueOption(state, s.resources, s.value, s.opt, s.text);
    if (w !== undefined) state.warn('softlimit', w);
  }
  return { prog: o.prog[0] as string, argv: [...o.prog], pathVar: envPath(state.env), style: 'djb' };
}

/** softlimit as one link. */
export function softlimit(args: readonly string[], state: ChainState): LinkResult {
  return applySoftlimit(parseSoftlimit(args, state.runAs), state);
}
