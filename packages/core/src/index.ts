// @tsv/core: the pure half of tsv: codecs (status, control, TAI64N, tsv.json, /proc/PID/stat),
// on-disk names, word files, PATH lookup and env lists, typed errors. No I/O: that is @tsv/os.
export * from './errstr.js';
export * from './tool-error.js';
export * from './tai64n.js';
export * from './names.js';
export * from './status-codec.js';
export * from './control-codec.js';
export * from './env-list.js';
export * from './proc-stat.js';
export * from './extra-status.js';
export * from './status-projection.js';
export * from './word-file.js';
export * from './exit-codes.js';
export * from './getopt.js';
export * from './scan-dir-default.js';
export * from './schedule-status.js';
export * from './wait-checks.js';
export * from './help.js';
