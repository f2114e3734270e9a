// @tsv/os: the one OS layer: /proc, exec, diagnostics written to stderr (the syscalls Node
// lacks come from @tsv/native). Everything pure is @tsv/core's.
export * from './diag.js';
export * from './exec.js';
export * from './proc.js';
export * from './lock.js';
export * from './spawn.js';
export * from './child-watcher.js';
export * from './fifo.js';
export * from './supervise-io.js';
export * from './check-script.js';
export * from './cgroup.js';
export * from './dir-fd.js';
export * from './optional-file.js';
