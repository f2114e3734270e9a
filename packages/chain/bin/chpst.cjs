#!/bin/sh
":" //; if [ "${NODE_EXTRA_CA_CERTS+x}" ]; then TSV_NODE_EXTRA_CA_CERTS=$NODE_EXTRA_CA_CERTS; export TSV_NODE_EXTRA_CA_CERTS; unset NODE_EXTRA_CA_CERTS; else unset TSV_NODE_EXTRA_CA_CERTS; fi; TSV_NOFILE=$(ulimit -Sn) exec node "$0" "$@"
// Launcher. The line above runs under /bin/sh: Node raises RLIMIT_NOFILE's soft limit at
// start-up, so the shell hands the original on (TSV_NOFILE) for programs we exec or spawn. It
// also parks NODE_EXTRA_CA_CERTS in TSV_NODE_EXTRA_CA_CERTS: this Node makes no TLS connection,
// loading the certificates would cost tens of ms per start, and the program puts the variable
// back (core unparkEnv) for the programs it spawns or execs (see docs/exec.md).
// Node then reads this file as CommonJS (.cjs: no ES module loader to start, ~10 ms), where
// that line is a string and a comment.
require('../dist/chpst.bundle.cjs');
