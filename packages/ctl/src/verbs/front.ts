// tsvctl's own verbs (help, completion, list, new) and its --help, parsed with yargs. Loaded
// only when one of them runs (ctl.ts imports this lazily): a bundled yargs costs tens of ms of
// CPU per start, which the runit verbs (status, up, ...) that scripts call in loops must not pay.
import { readdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { resolve } from 'node:path';
import { defaultScanDir, EXIT, ToolError, warnLine } from '@tsv/core';
import { report, writeErr, writeOut } from '@tsv/os';
import yargs, { type Argv } from 'yargs';
import { DEFAULT_SVDIR, isLocalName } from '../argv.js';
import { wantColour } from '../colour.js';
import { isKnownCommand, nearestCommand } from '../command-words.js';
import { listServices } from './list.js';
import { dryRun, jobDir, listJobs } from './jobs.js';
import { renderDryRun, renderJobsJson, renderJobsTable } from './jobs-render.js';
import { renderListJson, renderListTable } from './list-render.js';
import { makeService, userInPasswd } from './new-service.js';
import { splitNewArgs } from './new-args.js';
import { SV_COMMANDS } from './sv-commands.js';
import { BOOT_INITS, isBootInit, unknownInit } from './boot-units.js';
import { bootFor, installBoot, printable, targetExists } from './boot.js';

const DESCRIPTION = `tsvctl controls services supervised by tsv, tsvscan or runit's runsv, and reports their status.
It is runit's sv (the same commands, lines and exit codes, so sv scripts keep working), plus
listing a scan directory, making service directories, waiting without polling and reading logs.`;

const SYNOPSIS = `Usage:
  tsvctl [-v] [-w SEC] COMMAND SERVICE...
  tsvctl list [--json] [DIR]
  tsvctl jobs [--json] [DIR]    tsvctl jobs -n NAME [--count K] [DIR]
  tsvctl new [--cwd DIR] [--user U] [--env K=V]... [--ready-fd N] [--down] [--log-run] NAME [--] CMD...
  tsvctl boot systemd|systemd-user|launchd|openrc|runit|s6 [--install [--to PATH]] [DIR]
  tsvctl help [COMMAND]

A SERVICE starting with / or . (or ending in /) is a path; any other name is looked up in $SVDIR
(default /etc/service).`;

const EPILOGUE = `Under its own name tsvctl takes command words exactly (a typo is an error, exit 100); installed
as sv it keeps sv's first-letter rule (\`sv upp x\` is up). Documentation: docs/tsvctl.md.`;

/** Is the user of a --user spec known to /etc/passwd (where tsv's chpst looks it up)? An
 * unreadable file gives no warning. */
function userKnown(spec: string): boolean {
  try {
    return userInPasswd(spec, readFileSync('/etc/passwd', 'utf8'));
  } catch {
    return true;
  }
}

/** Completions for a service word: the services of $SVDIR (default /etc/service, as sv finds
 * them) starting with current; none for a path (the shell completes file names then). */
function serviceNames(env: NodeJS.ProcessEnv, current: string): string[] {
  if (isLocalName(current) && current !== '') return [];
  try {
    return readdirSync(env.SVDIR ?? DEFAULT_SVDIR).filter((n) => !n.startsWith('.') && n.startsWith(current));
  } catch {
    return [];
  }
}

/** `completion bash|zsh`: yargs takes no word after `completion` and picks zsh's script from
 * $SHELL or $ZSH_NAME when it is created, so the shell's name sets them and is dropped. */
function chooseShell(args: readonly string[], env: NodeJS.ProcessEnv): readonly string[] {
  if (args[0] !== 'completion' || (args[1] !== 'zsh' && args[1] !== 'bash')) return args;
  if (args[1] === 'zsh') env.ZSH_NAME = 'zsh';
  else {
    env.SHELL = '/bin/bash';
    delete env.ZSH_NAME;
  }
  return [args[0], ...args.slice(2)];
}

/** What a parse leaves behind: the verb's exit code, and the command `help COMMAND` asked about. */
interface FrontResult {
  code: number;
  help?: string;
}

/** The yargs parser of every verb; result receives what the verb that ran decided. */
function parser(args: readonly string[], env: NodeJS.ProcessEnv, cmdWords: readonly string[], result: FrontResult): Argv {
  const y = yargs([...args])
    .scriptName('tsvctl')
    .usage(`${DESCRIPTION}\n\n${SYNOPSIS}`)
    .parserConfiguration({ 'camel-case-expansion': false })
    .exitProcess(false)
    .version(false)
    .help('help')
    .alias('help', 'h')
    .wrap(Math.min(100, process.stdout.columns ?? 100))
    // why: yargs' strict mode takes its own completion command for an unknown argument.
    .strict(args[0] !== 'completion')
    .recommendCommands()
    .option('v', { type: 'boolean', global: false, describe: 'sv commands: wait until the effect is visible, print ok:/timeout: lines' })
    .option('w', { type: 'number', global: false, requiresArg: true, describe: 'sv commands: wait at most SEC seconds (implies -v; default 7, or $SVWAIT)' })
    .option('V', { type: 'boolean', global: false, describe: 'print the version' })
    .group(['v', 'w', 'V', 'help'], 'Options:')
    .command(
      'list [dir]',
      'one table of every service of a scan directory: state, pid, uptime, restarts, last exit, readiness, CPU, memory, backoff',
      (c) =>
        c
          .positional('dir', { type: 'string', describe: 'the scan directory (default $SVDIR, else ~/service: the directory tsvscan scans)' })
          .option('json', { type: 'boolean', describe: 'print a JSON array instead of the table' })
          .example('tsvctl list ~/service', 'every service tsvscan ~/service supervises'),
      (a) => {
        const dir = typeof a.dir === 'string' ? a.dir : defaultScanDir(env, homedir());
        const rows = listServices(dir);
        writeOut(a.json === true ? renderListJson(rows) : renderListTable(rows, wantColour(process.stdout, env)));
        result.code = EXIT.ok;
      },
    )
    .command(
      'jobs [dir]',
      'the scheduled services (a schedule file) of a scan directory: next run, last run, its status and time, failures in a row, skipped ticks',
      (c) =>
        c
          .positional('dir', { type: 'string', describe: 'the scan directory (default $SVDIR, else ~/service)' })
          .option('json', { type: 'boolean', describe: 'print a JSON array instead of the table' })
          .option('n', { type: 'string', requiresArg: true, describe: 'dry run: print the next runs of service NAME (a path, or a name in DIR) and start nothing' })
          .option('count', { type: 'number', requiresArg: true, default: 5, describe: 'with -n: how many runs' })
          .example('tsvctl jobs ~/service', 'when each job runs next, and how its last run ended')
          .example('tsvctl jobs -n backup', 'the next 5 runs of backup'),
      (a) => {
        const dir = typeof a.dir === 'string' ? a.dir : defaultScanDir(env, homedir());
        const nowMs = Date.now();
        if (typeof a.n === 'string') {
          const count = Number(a.count);
          if (!Number.isInteger(count) || count < 1 || count > 1000) throw new ToolError(`jobs: --count needs a number from 1 to 1000: ${String(a.count)}`, EXIT.usage);
          const d = dryRun(jobDir(a.n, dir), nowMs, count);
          writeOut(a.json === true ? `${JSON.stringify(d.ticks.map((t) => new Date(t).toISOString()))}\n` : renderDryRun(a.n, d, nowMs));
        } else {
          const rows = listJobs(dir);
          writeOut(a.json === true ? renderJobsJson(rows) : renderJobsTable(rows, nowMs, wantColour(process.stdout, env)));
        }
        result.code = EXIT.ok;
      },
    )
    .command(
      'new <name> [cmd..]',
      'make a service directory NAME running CMD, with a logger into NAME/log/main',
      (c) =>
        c
          .positional('name', { type: 'string', describe: 'the directory to make (refused when it exists)' })
          .positional('cmd', { type: 'string', array: true, describe: 'the command and its arguments (after --, or after NAME)' })
          .option('cwd', { type: 'string', requiresArg: true, describe: 'run CMD in directory DIR (default: the service directory NAME)' })
          .option('user', { type: 'string', requiresArg: true, describe: 'run CMD as user U (chpst -u U)' })
          .option('env', { type: 'string', array: true, nargs: 1, requiresArg: true, describe: 'set K to V for CMD (env/K, read by envdir); repeatable' })
          .option('ready-fd', { type: 'number', requiresArg: true, describe: 'CMD writes a newline to fd N when ready (notification-fd)' })
          .option('down', { type: 'boolean', describe: 'do not start it until told (a down file)' })
          .option('log-run', { type: 'boolean', describe: 'also make log/run (exec tsvlog -tt ./main), a logger process: needed under runit\'s runsv' })
          .example('tsvctl new ~/service/web -- python3 -m http.server', 'tsvscan ~/service starts it at once'),
      (a) => {
        const name = String(a.name);
        const made = makeService({
          name,
          cmd: cmdWords,
          cwd: typeof a.cwd === 'string' ? resolve(a.cwd) : undefined,
          user: typeof a.user === 'string' ? a.user : undefined,
          env: Array.isArray(a.env) ? a.env.map(String) : undefined,
          readyFd: a['ready-fd'] === undefined ? undefined : Number(a['ready-fd']),
          down: a.down === true,
          logRun: a['log-run'] === true,
        });
        writeOut(`${name}: made ${made.join(', ')}\n`);
        if (typeof a.user === 'string' && !userKnown(a.user)) writeErr(warnLine('tsvctl', `user ${a.user.split(':')[0] ?? ''} is not in /etc/passwd: chpst -u will refuse to start ${name}/run unless the user is added`));
        result.code = EXIT.ok;
      },
    )
    .command(
      'boot <init> [dir]',
      'print the unit (or service directory) that starts tsvscan DIR at boot under INIT; --install writes it',
      (c) =>
        c
          .positional('init', { type: 'string', describe: `the init system: ${BOOT_INITS.join(', ')}` })
          .positional('dir', { type: 'string', describe: 'the scan directory (default $SVDIR, else ~/service)' })
          .option('install', { type: 'boolean', describe: 'write it where INIT looks (or to --to), and print how to enable it' })
          .option('to', { type: 'string', requiresArg: true, describe: 'with --install: write here instead (the unit file, or the service directory)' })
          .example('tsvctl boot systemd-user --install', 'start tsvscan ~/service at boot as this user')
          .example('tsvctl boot systemd /srv/service | sudo tee /etc/systemd/system/tsvscan.service', 'a system unit'),
      (a) => {
        const init = String(a.init);
        if (!isBootInit(init)) throw unknownInit(init);
        const dir = typeof a.dir === 'string' ? a.dir : defaultScanDir(env, homedir());
        const out = bootFor(init, dir, env);
        if (a.install !== true) {
          if (typeof a.to === 'string') throw new ToolError('--to needs --install', EXIT.usage);
          writeOut(printable(out));
          result.code = EXIT.ok;
          return;
        }
        const to = typeof a.to === 'string' ? a.to : undefined;
        const replaced = targetExists(out, to);
        const where = installBoot(out, to);
        writeOut(`${replaced ? 'replaced' : 'wrote'} ${where}\nto enable it:\n${out.enable.map((l) => `  ${l}\n`).join('')}`);
        result.code = EXIT.ok;
      },
    )
    .command(
      'help [command]',
      'show this help, or the help of one command',
      (c) => c.positional('command', { type: 'string' }),
      (a) => {
        if (typeof a.command !== 'string') {
          y.showHelp('log');
          return;
        }
        if (!isKnownCommand(a.command)) throw new ToolError(`unknown command: ${a.command} (did you mean ${nearestCommand(a.command)}?)`, EXIT.usage);
        result.help = a.command;
      },
    )
    .completion('completion', 'print a completion script for bash or zsh (`tsvctl completion bash >> ~/.bashrc`)', (current: string, argv: { _: unknown[] }, fallback: () => unknown, done: (completions: string[]) => unknown) => {
      // why: after an sv command word, the words are services: names in $SVDIR; a path (or
      // nothing to offer) gives the shell no words, so it falls back to file names.
      const word = argv._.map(String).find((w, i) => i > 0 && w !== current && !w.startsWith('-'));
      if (word !== undefined && SV_COMMANDS.some((c) => c.synopsis.split(' ')[0] === word)) done(serviceNames(env, current));
      else fallback();
    })
    .epilogue(EPILOGUE)
    .example('tsvctl -w 5 restart ./web', 'restart ./web, and wait up to 5 s until it runs again')
    .example('tsvctl list', 'every service of $SVDIR (else ~/service) in one table')
    .fail((msg, err) => {
      throw err ?? new ToolError(msg, EXIT.usage);
    });
  for (const c of SV_COMMANDS) y.command(c.synopsis, c.describe);
  return y;
}

/** Run tsvctl's yargs front end on args; resolves to the exit code. */
export async function runFront(args: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const { yargsArgs, cmd } = splitNewArgs(chooseShell(args, env));
  const result: FrontResult = { code: EXIT.ok };
  try {
    await parser(yargsArgs, env, cmd, result).parseAsync();
    if (result.help !== undefined) await parser([result.help, '--help'], env, [], result).parseAsync();
  } catch (e) {
    // why: this file is a bundle of its own (see scripts/bundle.mjs), with its own copy of
    // ToolError: the main bundle's runMain would not know it, so errors are reported here.
    return report('tsvctl', e);
  }
  return result.code;
}
