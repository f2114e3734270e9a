// What the command line means, hand-rolled for start-up time (one module, no parser library):
// sv's getopt("w:vV") (stops at the first operand, `--` ends options, clusters like -vw5), LSB
// mode from argv[0], tsvctl's extras (--json, --sv, `log -f -n N`, `signal SIG`), sv's command
// words (runit.md 3.3) and service name resolution (runit.md 3.2).
import { accessSync, constants, statSync } from 'node:fs';
import { EXIT, scanGetopt, SERVICE, SUPERVISE, ToolError, usageError } from '@tsv/core';
import { FRONT_VERBS, unknownCommand } from './command-words.js';

/** Default SVDIR when the environment has none (Debian's build of sv). */
export const DEFAULT_SVDIR = '/etc/service';
/** Default wait (seconds) when neither -w nor SVWAIT is given. */
export const DEFAULT_WAIT = 7;
/** Program names that select sv's normal mode; any other argv[0] selects LSB mode. */
const NORMAL_NAMES = new Set(['tsvctl', 'sv']);

/** Everything the command line and environment say. */
export interface CtlOptions {
  /** argv[0]'s basename (`tsvctl`, or the init-script name in LSB mode) */
  prog: string;
  /** LSB init-script mode: the service is prog, the command the first argument */
  lsb: boolean;
  verbose: boolean;
  /** wait limit in whole seconds */
  waitSec: number;
  /** status: print a JSON array */
  json: boolean;
  /** status: print exactly sv's line even for a tsv service (no extras, no table, no colour) */
  svFormat: boolean;
  command: string;
  /** service names exactly as given */
  services: string[];
  /** words after the command that are neither options nor services (kill/signal: the signal) */
  extra: string[];
  svdir: string;
  /** log: follow */
  follow: boolean;
  /** log: how many last lines (undefined: the showLog default) */
  lines: number | undefined;
}

/** djb's scan_ulong: the leading decimal digits of s as a number (0 when there are none). */
export function scanUlong(s: string): number {
  const m = /^[0-9]*/.exec(s);
  const digits = m?.[0] ?? '';
  return digits === '' ? 0 : Number(digits);
}

/** argv[0]'s basename without a .js/.mjs suffix (so a launcher named tsvctl.js counts). */
export function progName(argv0: string): string {
  const base = argv0.slice(argv0.lastIndexOf('/') + 1);
  return base.replace(/\.m?js$/, '');
}

/** The usage text (two newlines at the end, as sv prints it). */
export function usageText(prog: string, lsb: boolean): string {
  return lsb ? `usage: ${prog} [-w sec] command\n\n` : `usage: ${prog} [-v] [-w sec] command service ...\n\n`;
}

/** Throw the usage error for this mode, with an optional first line. */
function usage(prog: string, lsb: boolean, first?: string): never {
  throw usageError(`${first === undefined ? '' : `${first}\n`}${usageText(prog, lsb)}`, lsb ? EXIT.lsbUsage : EXIT.usage);
}

/** Result of the -V option: the caller prints the version, then the usage. */
export class VersionRequest {
  constructor(readonly prog: string, readonly lsb: boolean) {}
}

/** Parse argv (without node and script) for program prog. Throws the usage ToolError, or
 * returns a VersionRequest for -V. */
export function parseArgs(prog: string, args: readonly string[], env: NodeJS.ProcessEnv): CtlOptions | VersionRequest {
  const lsb = !NORMAL_NAMES.has(prog);
  const o: CtlOptions = {
    prog,
    lsb,
    verbose: false,
    waitSec: env.SVWAIT !== undefined ? scanUlong(env.SVWAIT) : DEFAULT_WAIT,
    json: false,
    svFormat: false,
    command: '',
    services: [],
    extra: [],
    svdir: env.SVDIR ?? DEFAULT_SVDIR,
    follow: false,
    lines: undefined,
  };
  // why: sv's getopt("w:vV"), with tsvctl's --json and --sv accepted among the options; acted
  // on in order, as sv's loop does (-V answers before a later complaint).
  const scan = scanGetopt(args, 'w:vV', { longFlags: ['--json', '--sv'] });
  for (const { opt, arg } of scan.opts) {
    if (opt === '--json') o.json = true;
    else if (opt === '--sv') o.svFormat = true;
    else if (opt === 'v') o.verbose = true;
    else if (opt === 'V') return new VersionRequest(prog, lsb);
    else {
      // why: sv reads `-w abc` as 0 (scan_ulong); under its own name tsvctl names the bad value
      if (prog === 'tsvctl' && !/^[0-9]+/.test(arg)) throw new ToolError(`invalid number for -w: ${arg}`, EXIT.usage);
      o.waitSec = scanUlong(arg);
      o.verbose = true;
    }
  }
  if (scan.error !== undefined) usage(prog, lsb, `${prog}: ${scan.error.message}`);
  const args2 = scan.rest;
  let i = 0;
  const command = args2[i++];
  if (command === undefined) usage(prog, lsb);
  // why: under its own name tsvctl is strict (a typo is an error naming the nearest word); as
  // sv, or in LSB mode, sv's first-letter leniency stays (scripts rely on it).
  const unknown = prog === 'tsvctl' ? unknownCommand(command) : undefined;
  if (unknown !== undefined) throw unknown;
  // why: the yargs verbs take their own options after the word, never sv's -v/-w before it
  if (prog === 'tsvctl' && FRONT_VERBS.includes(command)) throw new ToolError(`${command} takes no -v or -w: tsvctl ${command} --help`, EXIT.usage);
  o.command = command;
  let rest = args2.slice(i);
  if (command === 'status') {
    // tsvctl's status options may follow the word: `tsvctl status --json svc`.
    while (rest[0] === '--json' || rest[0] === '--sv') {
      if (rest[0] === '--json') o.json = true;
      else o.svFormat = true;
      rest = rest.slice(1);
    }
  } else if (command === 'log') {
    rest = parseLogOptions(o, rest);
  } else if (command === 'signal') {
    if (rest.length === 0) usage(prog, lsb);
    o.extra = [rest[0] as string];
    rest = rest.slice(1);
  }
  if (lsb) {
    o.services = [prog];
    // why: sv ignores further words in LSB mode; we keep them for `NAME kill SIG`.
    if (command !== 'signal') o.extra = rest;
  } else {
    if (rest.length === 0) usage(prog, lsb);
    o.services = rest;
  }
  return o;
}

/** The operands after options in getopt's syntax (withValue: the letters taking a value),
 * reading someone else's command line: unknown letters are taken for flags. */
export function operandsOf(words: readonly string[], withValue: string): string[] {
  const optstring = [...withValue].map((c) => `${c}:`).join('');
  return scanGetopt(words, optstring, { unknown: 'accept' }).rest;
}

/** Parse `log`'s own options (-f, -n N, clusters like -fn20); returns the remaining words. */
function parseLogOptions(o: CtlOptions, words: string[]): string[] {
  const scan = scanGetopt(words, 'fn:');
  for (const { opt, arg } of scan.opts) {
    if (opt === 'f') o.follow = true;
    else {
      if (!/^[0-9]+$/.test(arg)) usage(o.prog, o.lsb, `${o.prog}: log: -n needs a number: ${arg}`);
      o.lines = Number(arg);
    }
  }
  if (scan.error !== undefined) usage(o.prog, o.lsb, `${o.prog}: ${scan.error.message}`);
  return scan.rest;
}

// ---- command words (runit.md 3.3): mirrors runit's sv.c switch

/** What to do for each service. */
export type Action = 'status' | 'control' | 'check' | 'signal' | 'log';

/** A parsed command word. */
export interface CommandPlan {
  action: Action;
  /** bytes written to supervise/control (control), or the letters to wait for (check: 'C') */
  acts: string;
  /** the command waits even without -v (start, stop, restart, force-..., capitals) */
  alwaysWait: boolean;
  /** on timeout print `kill:` and send `k` */
  kill: boolean;
}

const plan = (action: Action, acts: string, alwaysWait = false, kill = false): CommandPlan => ({ action, acts, alwaysWait, kill });

/** Single letters that name a command by their first character (sv's `upfoo` is `up`). */
const LETTER_COMMANDS = new Set(['u', 'd', 'o', 'p', 'h', 'a', 'i', 'k', 'q', '1', '2', 't', 'c']);

/** The plan for an sv command word, or undefined when sv would print its usage. lsb: only
 * `status` is accepted among the status words (LSB init-script mode). */
export function planCommand(word: string, lsb: boolean): CommandPlan | undefined {
  const first = word.charAt(0);
  switch (first) {
    case 'x':
    case 'e':
      return plan('control', 'x');
    case 'X':
    case 'E':
      return plan('control', 'x', true, true);
    case 'D':
      return plan('control', 'd', true, true);
    case 'T':
      return plan('control', 'tc', true, true);
    case 's':
      if (word === 'shutdown') return plan('control', 'x', true);
      if (word === 'start') return plan('control', 'u', true);
      if (word === 'stop') return plan('control', 'd', true);
      if (lsb && word !== 'status') return undefined;
      return plan('status', '');
    case 'r':
      if (word === 'restart') return plan('control', 'tcu', true);
      if (word === 'reload') return plan('control', 'h', true);
      return undefined;
    case 'f':
      if (word === 'force-reload') return plan('control', 'tc', true, true);
      if (word === 'force-restart') return plan('control', 'tcu', true, true);
      if (word === 'force-shutdown') return plan('control', 'x', true, true);
      if (word === 'force-stop') return plan('control', 'd', true, true);
      return undefined;
    default:
      break;
  }
  if (word === 'try-restart') return plan('control', 'tc', true);
  if (word === 'check') return plan('check', 'C', true);
  if (LETTER_COMMANDS.has(first)) return plan('control', first);
  return undefined;
}

// ---- service names (runit.md 3.2)

/** Does sv take this name relative to the current directory (rather than SVDIR)? */
export function isLocalName(name: string): boolean {
  return name === '' || name.startsWith('/') || name.startsWith('.') || name.endsWith('/');
}

/** The path of service name. Why not path.resolve: sv does chdir(SVDIR) then chdir(name), so
 * `..` after a symlink must be resolved by the kernel, not lexically; plain concatenation
 * gives the kernel the same walk. */
export function servicePath(name: string, svdir: string): string {
  const path = isLocalName(name) ? name : `${svdir}/${name}`;
  // why: `web@2` names instance 2 of the pool web (docs/worker-pools.md), unless a directory
  // of that very name exists; its supervise/instance/2 is a supervise dir that links
  // supervise to itself, so every command works on it as on a service directory.
  const at = path.lastIndexOf('@');
  if (at > 0 && /^\d+$/.test(path.slice(at + 1)) && chdirError(path) !== undefined) return `${path.slice(0, at)}/${SERVICE.supervise}/${SUPERVISE.instanceDir}/${path.slice(at + 1)}`;
  return path;
}

/** Why chdir(path) would fail, as a Node-style error, or undefined when it would succeed. */
export function chdirError(path: string): NodeJS.ErrnoException | undefined {
  if (path === '') return Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
  try {
    if (!statSync(path).isDirectory()) return Object.assign(new Error('ENOTDIR'), { code: 'ENOTDIR' });
    // why: chdir needs search (x) permission on the directory itself.
    accessSync(path, constants.X_OK);
    return undefined;
  } catch (e) {
    return e as NodeJS.ErrnoException;
  }
}

/** Does word look like an attempt at a signal (a number, or letters with an optional SIG
 * prefix)? `kill WORD svc` is then the signal form, and WORD must be a known signal (so a
 * typo such as `kill USR3 svc` is refused instead of sending k to svc). */
export function looksLikeSignal(word: string): boolean {
  return /^([0-9]+|(SIG)?[A-Z][A-Z0-9+-]*)$/i.test(word);
}
