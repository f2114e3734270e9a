// @tsv/core: shared codecs, names, diagnostics and exec helpers.
export * from './errstr.js';
export * from './diag.js';
export * from './tai64n.js';
export * from './names.js';
export * from './status-codec.js';
export * from './control-codec.js';
export * from './exec.js';
export * from './proc.js';
export * from './extra-status.js';
export * from './exit-codes.js';
