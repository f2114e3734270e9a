// Opening supervise/control and supervise/ok for writing only when they are FIFOs. Anyone who
// can write supervise/ can replace either by a symlink to a regular file (or a device): sv opens
// and writes whatever is there, so root's `sv hup` overwrites the file's first bytes. tsvctl
// opens non-blocking and checks the opened fd itself, so nothing but a FIFO is ever written.
import { closeSync, constants, fstatSync, openSync, statSync } from 'node:fs';

/** The error for a control file that exists but is no FIFO (no code: errstr prints the text,
 * in sv's form `unable to open supervise/control: not a fifo`). */
export class NotFifoError extends Error {
  constructor(path: string) {
    super('not a fifo');
    this.name = 'NotFifoError';
    Object.defineProperty(this, 'path', { value: path, enumerable: false });
  }
}

/** Open the FIFO path write-only, non-blocking; throws NotFifoError for anything else, or the
 * open error (ENXIO: no reader, i.e. no supervisor). */
export function openFifoForWrite(path: string): number {
  // why stat first: opening some devices has effects of its own (a tape rewinds on close, a
  // terminal may become ours); the fstat below is what decides, as the name may be swapped
  // between the two calls.
  if (!statSync(path).isFIFO()) throw new NotFifoError(path);
  // why O_NONBLOCK: a FIFO with no reader fails with ENXIO at once instead of hanging; O_NOCTTY:
  // a swapped-in terminal never becomes our controlling terminal.
  const fd = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  let fifo = false;
  try {
    fifo = fstatSync(fd).isFIFO();
  } finally {
    if (!fifo) closeSync(fd);
  }
  if (!fifo) throw new NotFifoError(path);
  return fd;
}
