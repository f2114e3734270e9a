// The options tsvscan and tsv take under their own names (`-q`, `-g secs`), their help texts,
// and the exit grace's default. Under runsvdir's and runsv's names none of this applies.
import { ENV, EXIT, helpText, usageError, type ToolError } from '@tsv/core';

/** The default exit grace, s: under docker stop's 10 s, so the supervisor still says which
 * services it had to kill before the runtime kills it. */
export const DEFAULT_GRACE_S = 8;

/** What both supervisors' own options give. */
export interface SupervisorArgs {
  /** no event lines */
  quiet: boolean;
  /** the exit grace, ms (0: wait for ever) */
  graceMs: number;
  /** the words after the options */
  rest: string[];
}

/** Parse `[-q] [-g secs] [--] rest...`; the grace defaults to $TSV_STOP_GRACE, else 8 s. */
export function parseSupervisorArgs(prog: string, argv: readonly string[], env: NodeJS.ProcessEnv, usage: string): SupervisorArgs {
  let quiet = false;
  let grace: string | undefined = env[ENV.stopGrace];
  let graceFrom = ENV.stopGrace as string;
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--') {
      i++;
      break;
    }
    if (a === '-q') quiet = true;
    else if (a === '-g' || (a.startsWith('-g') && a.length > 2)) {
      grace = a.length > 2 ? a.slice(2) : argv[++i];
      graceFrom = '-g';
      if (grace === undefined) throw usageError(usage, EXIT.usage);
    } else if (a.startsWith('-') && a.length > 1) throw badOption(prog, a, usage);
    else break;
  }
  let graceMs = DEFAULT_GRACE_S * 1000;
  if (grace !== undefined) {
    if (!/^[0-9]+(\.[0-9]+)?$/.test(grace)) throw usageError(`${prog}: fatal: invalid number for ${graceFrom}: ${grace}\n${usage}`, EXIT.usage);
    graceMs = Math.round(Number(grace) * 1000);
  }
  return { quiet, graceMs, rest: argv.slice(i) };
}

/** An unknown option, named. */
function badOption(prog: string, a: string, usage: string): ToolError {
  return usageError(`${prog}: illegal option -- ${a.slice(1)}\n${usage}`, EXIT.usage);
}

const COMMON: readonly (readonly [string, string])[] = [
  ['-q', 'quiet: no event lines (started, exited, backoff ...); the services\' own stderr lines still come, prefixed with their name'],
  ['-g secs', `after TERM or Ctrl-C, the services get secs to stop, then what is left of each is SIGKILLed and named (default ${DEFAULT_GRACE_S}, or $${ENV.stopGrace}; 0: wait for ever; a service's own timeout-kill wins)`],
  ['-h, --help', 'this help'],
  ['-V, --version', 'the version line'],
];

/** tsvscan's help text. */
export function tsvscanHelp(): string {
  return helpText('tsvscan', {
    what: 'supervises every service directory of DIR in one process (as runit\'s runsvdir), starting services added to DIR and stopping those removed, within milliseconds. It prints a line per event of each service, and every line the services write to its stderr prefixed with their name.',
    synopsis: ['tsvscan [-q] [-g secs] [--main NAME] [DIR]'],
    options: [['--main NAME', 'when NAME\'s run exits, stop every service and exit with its exit code (128 + signal if killed): a container\'s main service (docs/containers.md)'], ...COMMON],
    examples: ['mkdir -p ~/service && tsvctl new ~/service/ticker -- sh -c \'while :; do echo tick; sleep 1; done\' && tsvscan ~/service'],
    note: 'DIR defaults to $SVDIR, else ~/service (which must exist). TERM or Ctrl-C stops every service and exits 0; HUP rescans. Documentation: docs/tsvscan.md.',
  });
}

/** tsv's help text. */
export function tsvHelp(): string {
  return helpText('tsv', {
    what: 'supervises one service directory (as runit\'s runsv): runs ./run, restarts it when it ends (backing off while it dies quickly), runs the logger of log/, and obeys tsvctl (or runit\'s sv) through supervise/.',
    synopsis: ['tsv [-q] [-g secs] DIR'],
    options: COMMON,
    examples: ['tsvctl new ./svc -- sh -c \'while :; do echo tick; sleep 1; done\' && tsv ./svc'],
    note: 'TERM or Ctrl-C (or tsvctl exit DIR) stops the service and its logger, then exits 0. Documentation: docs/tsv.md.',
  });
}
