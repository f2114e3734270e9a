// sv's commands (runit.md 3.3) as `tsvctl help` lists them. They are parsed by argv.ts, never by
// yargs: these entries only describe them.

/** One command's synopsis (yargs' command syntax) and what it does. */
export interface CommandHelp {
  synopsis: string;
  describe: string;
}

const S = '<service..>';

/** Every sv-style command, in sv's order, then tsvctl's hand-parsed additions. */
export const SV_COMMANDS: readonly CommandHelp[] = [
  { synopsis: `status ${S}`, describe: "sv's status line (plus tsv's extras); a table for several services on a terminal; --json, --sv" },
  { synopsis: `up ${S}`, describe: 'start the service; restart it whenever it stops' },
  { synopsis: `down ${S}`, describe: 'stop it (TERM, then CONT) and keep it down' },
  { synopsis: `once ${S}`, describe: 'start it, but do not restart it when it stops' },
  { synopsis: `pause ${S}`, describe: 'send STOP' },
  { synopsis: `cont ${S}`, describe: 'send CONT' },
  { synopsis: `hup ${S}`, describe: 'send HUP (alarm, interrupt, quit, 1, 2, term, kill: ALRM, INT, QUIT, USR1, USR2, TERM, KILL)' },
  { synopsis: `exit ${S}`, describe: 'stop the service, then its supervisor' },
  { synopsis: `start ${S}`, describe: 'up, and wait until it runs (-w SEC, default 7)' },
  { synopsis: `stop ${S}`, describe: 'down, and wait until it is down' },
  { synopsis: `restart ${S}`, describe: 'TERM, CONT, up, and wait until it runs again' },
  { synopsis: `reload ${S}`, describe: 'send HUP and wait' },
  { synopsis: `shutdown ${S}`, describe: 'exit, and wait until the supervisor is gone' },
  { synopsis: `try-restart ${S}`, describe: 'restart only when it is running' },
  { synopsis: `check ${S}`, describe: 'wait until the state the supervisor wants is reached' },
  { synopsis: `force-stop ${S}`, describe: 'stop; on timeout send KILL (also force-reload, force-restart, force-shutdown)' },
  { synopsis: `signal <sig> ${S}`, describe: 'send any signal by name or number (kill SIG SERVICE... too)' },
  { synopsis: `log ${S}`, describe: 'print the last lines of its log (-n N), follow it (-f)' },
];
