// What this package uses of @tsv/core and @tsv/native, imported in one place: at start-up every
// bare specifier costs a package resolution (package.json exports, symlink realpath) for each
// module that imports it, and a wrapper's start-up time is what it is judged on.
export { fatalFrom, report, runMain, ToolError, usageError, warnLine, writeErr } from '@tsv/core/diag';
export { errCode } from '@tsv/core/errstr';
export { candidates, envFromRecord, envSet, envUnset, execvpe, inheritedFds, lookupStep, startNofile, type EnvList } from '@tsv/core/exec';
export { ENV } from '@tsv/core/names';
export { EXIT } from '@tsv/core/exit-codes';
export { chroot, dup2, flock, getrlimit, RLIMIT, setrlimit, setsid } from '@tsv/native';
