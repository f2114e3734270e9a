// Every on-disk name tsv reads or writes, in one place.

/** Files of a service directory. */
export const SERVICE = {
  run: 'run',
  finish: 'finish',
  down: 'down',
  check: 'check',
  log: 'log',
  supervise: 'supervise',
  control: 'control',
  notificationFd: 'notification-fd',
  timeoutKill: 'timeout-kill',
  timeoutFinish: 'timeout-finish',
  downSignal: 'down-signal',
  maxDeathTally: 'max-death-tally',
  restartPolicy: 'restart',
  /** in log/ without a run script: the tsvlog arguments (one line, words split on blanks) of
   * a logger the supervisor hosts in-process instead of spawning log/run */
  logInProcess: 'tsvlog',
} as const;

/** Files inside supervise/. */
export const SUPERVISE = {
  lock: 'lock',
  control: 'control',
  ok: 'ok',
  status: 'status',
  stat: 'stat',
  pid: 'pid',
  /** tsv's extra status (JSON): what runit's 20 bytes cannot say. */
  extra: 'tsv.json',
  /** suffix of the temporary file written before the atomic rename */
  newSuffix: '.new',
} as const;

/** Files of a log directory (svlogd layout). */
export const LOGDIR = {
  current: 'current',
  lock: 'lock',
  state: 'state',
  newstate: 'newstate',
  config: 'config',
} as const;

/** Environment variables tsv's launchers pass to its own Node programs (removed before exec). */
export const ENV = {
  /** the soft RLIMIT_NOFILE the program was started with (Node raises it at start-up) */
  nofile: 'TSV_NOFILE',
} as const;
