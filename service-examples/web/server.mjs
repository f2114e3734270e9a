// Example service: a tiny HTTP server that reports readiness on fd 3 (s6's notification-fd
// protocol) once it listens, and logs one line per request to stdout.
import { createServer } from 'node:http';
import { writeSync, closeSync } from 'node:fs';

const port = Number(process.env.PORT ?? 8080);
let hits = 0;
const server = createServer((req, res) => {
  hits += 1;
  console.log(`${req.method} ${req.url} -> 200 (hit ${hits})`);
  res.end(`hello from pid ${process.pid}, hit ${hits}\n`);
});
server.listen(port, '127.0.0.1', () => {
  console.log(`listening on http://127.0.0.1:${port}`);
  try {
    writeSync(3, 'ready\n');
    closeSync(3);
  } catch {
    // not started with a readiness fd
  }
});
process.on('SIGTERM', () => {
  console.log('SIGTERM: closing');
  server.close(() => process.exit(0));
});
process.on('SIGHUP', () => console.log(`SIGHUP: ${hits} hits so far`));
