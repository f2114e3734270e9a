// @tsv/log: tsvlog as a library. The tsvlog program is a thin wrapper over startLogger; the
// supervisor hosts the same logger in-process (parseTsvlogArgs + startLogger); tsvctl prints
// logs with showLog.
export { parseTsvlogArgs, parseCatArgs, USAGE, CAT_USAGE, EXIT_FATAL, type TsvlogOptions, type CatOptions } from './options.js';
export { startLogger, type LoggerHandle, type LoggerIo } from './logger.js';
export { showLog, renderLine, type ShowLogOptions } from './show-log.js';
export { parseConfig, defaultConfig, type DirConfig, type PatternLine, type UdpTarget } from './config.js';
export { pmatch, select, type Selection } from './pattern.js';
export { LineSplitter, type SegmentSink } from './splitter.js';
export { stampText, tai64nText, localText, nowMicros } from './stamp.js';
