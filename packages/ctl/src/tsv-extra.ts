// supervise/tsv.json, tsv's record of what runit's status cannot say (the reader is @tsv/os's
// readExtraFile). Loaded only when a service has one (a real runsv never writes it).
export { readExtraFile } from '@tsv/os';
export { monoNowMs } from '@tsv/core';
