// The help text of each exec wrapper (-h/--help), in the layout every tsv program shares.
import { helpText, type HelpSpec } from '@tsv/core';
import type { WrapperName } from './fusion.js';

/** The closing note of a wrapper's help. */
const note = (name: string): string => `Exits 100 on a usage error, 111 when it cannot change the process or run PROG. Documentation: docs/${name}.md.`;

/** What each wrapper's help says. */
const SPECS: Record<WrapperName, HelpSpec> = {
  chpst: {
    what: 'runs PROG with a changed process state (user, environment, limits, lock, nice, session), as runit\'s chpst; the same PID execs PROG.',
    synopsis: ['chpst [-vP012] [-u user[:group]] [-U user[:group]] [-b argv0] [-e dir] [-/ root] [-C pwd] [-n nice] [-l|-L lock] [-m n] [-d n] [-o n] [-p n] [-f n] [-c n] [-t n] PROG...'],
    options: [
      ['-u user[:group]', 'run as user (and group)'],
      ['-U user[:group]', 'set $UID and $GID of user (as envuidgid)'],
      ['-b argv0', 'run PROG with this argv[0]'],
      ['-e dir', 'set environment variables from the files of dir (as envdir)'],
      ['-/ root', 'chroot to root'],
      ['-C pwd', 'change to pwd (after -/)'],
      ['-n inc', 'add inc to the nice value'],
      ['-l file', 'wait for an exclusive lock on file; -L: fail at once if it is held'],
      ['-m bytes', 'soft limit of data, stack, locked and total memory'],
      ['-d, -o, -p, -f, -c, -t n', 'soft limit of data segment, open files, processes, file size, core size, CPU seconds'],
      ['-P', 'run in a new session and process group'],
      ['-0, -1, -2', 'close standard input, output, error'],
      ['-v', 'verbose warnings'],
      ['-V', 'print the version, then the usage, exit 100 (runit\'s chpst)'],
      ['-h, --help', 'this help; --version: the version line'],
    ],
    examples: ['chpst -u nobody -e ./env -o 1024 ./server --port 8080'],
    note: note('chpst'),
  },
  setuidgid: {
    what: 'runs PROG as ACCOUNT (its uid, its gid and its supplementary groups), as daemontools\' setuidgid.',
    synopsis: ['setuidgid ACCOUNT PROG...'],
    options: [['-h, --help', 'this help'], ['-V, --version', 'the version line']],
    examples: ['setuidgid nobody ./server'],
    note: note('setuidgid'),
  },
  envuidgid: {
    what: 'runs PROG with $UID and $GID set to ACCOUNT\'s uid and gid, as daemontools\' envuidgid (the process itself does not change user).',
    synopsis: ['envuidgid ACCOUNT PROG...'],
    options: [['-h, --help', 'this help'], ['-V, --version', 'the version line']],
    examples: ['envuidgid nobody sh -c \'echo $UID $GID\''],
    note: note('envuidgid'),
  },
  envdir: {
    what: 'runs PROG with environment variables set from the files of DIR (a file\'s first line is the value; an empty file removes the variable), as daemontools\' envdir.',
    synopsis: ['envdir DIR PROG...'],
    options: [['-h, --help', 'this help'], ['-V, --version', 'the version line']],
    examples: ['mkdir env && echo 8080 > env/PORT && envdir ./env sh -c \'echo $PORT\''],
    note: note('envdir'),
  },
  softlimit: {
    what: 'runs PROG with soft resource limits, as daemontools\' softlimit (a value of = means the hard limit).',
    synopsis: ['softlimit [-a allbytes] [-c corebytes] [-d databytes] [-f filebytes] [-l lockbytes] [-m membytes] [-o openfiles] [-p processes] [-r residentbytes] [-s stackbytes] [-t cpusecs] PROG...'],
    options: [
      ['-m bytes', 'data, stack, locked and total memory (-a, -d, -l, -s set one each)'],
      ['-o n', 'open files'],
      ['-p n', 'processes'],
      ['-c, -f, -r bytes', 'core file, file size, resident set'],
      ['-t secs', 'CPU seconds'],
      ['-h, --help', 'this help; -V, --version: the version line'],
    ],
    examples: ['softlimit -m 100000000 -o 256 ./server'],
    note: note('softlimit'),
  },
  setlock: {
    what: 'runs PROG holding an exclusive lock on FILE (created if need be), as daemontools\' setlock.',
    synopsis: ['setlock [-nNxX] FILE PROG...'],
    options: [
      ['-n', 'fail at once when the lock is held (-N: wait, the default)'],
      ['-x', 'exit 0 quietly when the lock cannot be had (-X: report it, the default)'],
      ['-h, --help', 'this help; -V, --version: the version line'],
    ],
    examples: ['setlock -n /tmp/backup.lock ./backup.sh'],
    note: note('setlock'),
  },
  pgrphack: {
    what: 'runs PROG in a process group of its own, as daemontools\' pgrphack.',
    synopsis: ['pgrphack PROG...'],
    options: [['-h, --help', 'this help'], ['-V, --version', 'the version line']],
    examples: ['pgrphack ./server'],
    note: note('pgrphack'),
  },
};

/** The help text of wrapper name, run as prog. */
export function wrapperHelp(name: WrapperName, prog: string): string {
  return helpText(prog, SPECS[name]);
}
