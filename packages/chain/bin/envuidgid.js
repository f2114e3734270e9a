#!/bin/sh
":" //; TSV_NOFILE=$(ulimit -Sn) exec node "$0" "$@"
// Launcher. The line above runs under /bin/sh: Node raises RLIMIT_NOFILE's soft limit at
// start-up, so the shell hands the original on (TSV_NOFILE) for programs we exec or spawn.
// Node then reads this file as JavaScript, where that line is a string and a comment.
import '../dist/cli/envuidgid.js';
