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
  /** N: the service is a pool of N instances of run (docs/worker-pools.md) */
  instances: 'instances',
  /** K: a rolling restart of a pool restarts K instances at a time (default 1) */
  rollBatch: 'roll-batch',
  /** ms an instance without notification-fd must stay up to count as ready in a roll (1000) */
  rollSettle: 'roll-settle',
  /** ms an instance of a roll may take to be ready again before the roll stops (60000) */
  rollTimeout: 'roll-timeout',
  /** fd number: run gets the read end of a pipe whose write end only the supervisor holds */
  lifelineFd: 'lifeline-fd',
  /** a signal name: run gets it from the kernel when the supervisor dies (PR_SET_PDEATHSIG) */
  pdeathSignal: 'pdeath-signal',
  /** makes the service scheduled: a cron expression and options (docs/scheduled-services.md) */
  schedule: 'schedule',
  /** of a scheduled service: run after a failed run (service name and status as arguments) */
  notify: 'notify',
  /** paths and globs whose change restarts the service (watch mode, docs/watch-mode.md) */
  watch: 'watch',
  /** cgroup v2 limits (docs/servicedir.md): written to the service's cgroup before each start */
  memoryMax: 'memory-max',
  pidsMax: 'pids-max',
  cpuWeight: 'cpu-weight',
} as const;

/** cgroup v2 names (docs/servicedir.md, "cgroups"). */
export const CGROUP = {
  /** the supervisor's subtree, below its own cgroup: one cgroup per supervised process in it */
  subtree: 'tsv',
  /** in the subtree: where a process meant to outlive its service moves itself */
  outside: 'outside',
  /** suffix of a logger's cgroup (beside its service's) */
  logSuffix: '.log',
  /** environment: `off` makes the supervisor use no cgroups (session mode) */
  envMode: 'TSV_CGROUP',
  /** environment given to run: the cgroup.procs file of `outside` (write a pid to it to leave) */
  envOutside: 'TSV_CGROUP_OUTSIDE',
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
  /** a pool's own state (JSON): size, members, rolling restart (docs/worker-pools.md) */
  pool: 'pool.json',
  /** a pool's per-instance directories: supervise/instance/ID/ (each a supervise dir itself,
   * with a `supervise` symlink to `.` so runit's sv can address ID's directory) */
  instanceDir: 'instance',
  /** a scheduled service's schedule state (JSON): next tick, last run, failures, skipped ticks */
  schedule: 'schedule.json',
  /** the FIFO the service's processes write their stderr into (tsvscan and tsv relay it,
   * prefixed with the service's name) */
  stderr: 'stderr',
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

/** tsvscan's scan directory. */
export const SCANDIR = {
  /** flock'ed by the tsvscan that scans the directory (a dot name: never taken for a service) */
  lock: '.tsvscan.lock',
  /** environment variable naming the default scan directory (runit's sv uses it too) */
  envDir: 'SVDIR',
  /** default scan directory, under $HOME, when SVDIR is unset */
  homeDir: 'service',
} as const;

/** Environment variables tsv's launchers pass to its own Node programs (removed before exec). */
export const ENV = {
  /** the soft RLIMIT_NOFILE the program was started with (Node raises it at start-up) */
  nofile: 'TSV_NOFILE',
  /** the exec wrappers' launchers park NODE_EXTRA_CA_CERTS here: their Node makes no TLS
   * connection, and loading the certificates at start-up costs tens of ms; the wrapper puts
   * NODE_EXTRA_CA_CERTS back for the program it execs */
  extraCaCerts: 'TSV_NODE_EXTRA_CA_CERTS',
  /** given to each instance of a pool: its id, 0..N-1 */
  instance: 'TSV_INSTANCE',
  /** given to each instance of a pool: the pool's name (the service directory's base name) */
  pool: 'TSV_POOL',
  /** given to each instance of a pool: the pool's size when the instance was started */
  poolSize: 'TSV_POOL_SIZE',
  /** given to run when lifeline-fd is set: the fd number of the lifeline */
  lifelineFd: 'TSV_LIFELINE_FD',
  /** seconds tsvscan and tsv give their services to stop after TERM/INT before SIGKILL (-g) */
  stopGrace: 'TSV_STOP_GRACE',
} as const;
