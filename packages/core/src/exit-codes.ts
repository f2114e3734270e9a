// Exit statuses of tsv's programs, by meaning: the values are the peers' (runit, daemontools,
// sv's LSB mode), so that under a peer's name a program exits as that peer does. One table, so
// that no program spells a status as a bare number.

/** Every exit status a tsv program uses on purpose. */
export const EXIT = {
  /** success */
  ok: 0,
  /** usage error: bad option or argument (runit, daemontools) */
  usage: 100,
  /** temporary failure: any error at run time, a failed exec of the next program included
   * (daemontools and runit wrappers: test scripts check `$? = 111`); also envdir's usage */
  temporary: 111,
  /** sv counts failed services in its status, up to this many */
  svMaxFailures: 99,
  /** LSB init-script mode (sv/tsvctl as /etc/init.d/NAME): invalid arguments */
  lsbUsage: 2,
  /** LSB `status`: the service is not running */
  lsbNotRunning: 3,
  /** LSB `status`: the status is unknown (unreadable) */
  lsbUnknown: 4,
} as const;

/** One of the statuses above. */
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];
