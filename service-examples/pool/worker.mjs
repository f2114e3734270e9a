// Example pool worker: instance TSV_INSTANCE of TSV_POOL_SIZE listens on 8090 + its id, says
// it is ready on fd 3 (notification-fd), stops gracefully on SIGTERM (in-flight requests are
// answered), and exits by itself when the supervisor is gone: its lifeline (lifeline-fd, here
// fd 4) reads end-of-file then.
import { closeSync, writeSync } from 'node:fs';
import { createServer } from 'node:http';
import { Socket } from 'node:net';

const id = Number(process.env.TSV_INSTANCE ?? 0);
const port = 8090 + id;
const server = createServer((req, res) => {
  console.log(`instance ${id}: ${req.method} ${req.url}`);
  res.end(`hello from instance ${id} of ${process.env.TSV_POOL_SIZE ?? '?'} (pid ${process.pid})\n`);
});
/** Stop accepting and exit once the last request is answered. */
function stop(why) {
  console.log(`instance ${id}: ${why}: closing`);
  server.close(() => process.exit(0));
  server.closeIdleConnections();
}
server.listen(port, '127.0.0.1', () => {
  console.log(`instance ${id}: listening on http://127.0.0.1:${port}`);
  try {
    writeSync(3, 'ready\n');
    closeSync(3);
  } catch {
    // not started with a readiness fd
  }
});
process.on('SIGTERM', () => stop('SIGTERM'));
if (process.env.TSV_LIFELINE_FD !== undefined) {
  // why: a net.Socket polls the pipe (fs.createReadStream would block a threadpool thread in
  // read(2) and hold up process.exit)
  const lifeline = new Socket({ fd: Number(process.env.TSV_LIFELINE_FD), readable: true, writable: false });
  lifeline.on('data', () => undefined);
  lifeline.on('end', () => stop('supervisor gone (lifeline EOF)'));
}
