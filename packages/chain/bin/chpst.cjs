#!/bin/sh
":" //; PWD=$(/bin/grep -m1 -z '^PWD=' /proc/$$/environ 2>/dev/null; echo ".$?"); case $PWD in .1) unset PWD;; PWD=*.0) PWD=${PWD#PWD=}; PWD=${PWD%.0};; *) PWD=$(pwd);; esac; if [ "${NODE_EXTRA_CA_CERTS+x}" ]; then TSV_NODE_EXTRA_CA_CERTS=$NODE_EXTRA_CA_CERTS; export TSV_NODE_EXTRA_CA_CERTS; unset NODE_EXTRA_CA_CERTS; else unset TSV_NODE_EXTRA_CA_CERTS; fi; TSV_NOFILE=$(ulimit -Sn) exec node "$0" "$@"
// Launcher. The line above runs under /bin/sh. First it undoes what sh did to PWD: a POSIX sh
// sets and exports PWD at start-up (dash even when the caller passed none, and it replaces a
// stale one), and Node would hand that on to every program we exec or spawn, where runsv and
// runit's chpst pass the environment exactly as given. /proc/$$/environ still holds the
// environment this process was exec'd with (sh keeps its variables elsewhere): no PWD there
// (grep status 1) unsets it, a PWD there gets its value back ($(...) drops the NUL grep -z
// prints; '.$?' protects a trailing newline); without /proc or /bin/grep (not PATH's: the
// caller's PATH may hold none, or another), sh's value stays. Costs one fork+exec (~2 ms).
// Node raises RLIMIT_NOFILE's soft limit at start-up, so the shell hands
// the original on (TSV_NOFILE) for programs we exec or spawn. It also parks NODE_EXTRA_CA_CERTS
// in TSV_NODE_EXTRA_CA_CERTS: this Node makes no TLS connection, loading the certificates would
// cost tens of ms per start, and the program puts the variable back (core unparkEnv) for the
// programs it spawns or execs (see docs/exec.md).
// Node then reads this file as CommonJS (.cjs: no ES module loader to start, ~10 ms), where
// that line is a string and a comment.
require('../dist/chpst.bundle.cjs');
