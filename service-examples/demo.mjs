// `npm start`: copies the example services to .tsv-demo/ (once) and supervises them all with
// tsvscan in the foreground. Ctrl-C (SIGINT) stops every service and exits.
import { cpSync, existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = dirname(here);
const dest = process.env.TSV_DEMO_DIR ?? join(root, '.tsv-demo');
const binDir = join(root, 'node_modules', '.bin');

if (!existsSync(dest)) {
  mkdirSync(dest, { recursive: true });
  for (const name of readdirSync(here)) {
    if (statSync(join(here, name)).isDirectory()) cpSync(join(here, name), join(dest, name), { recursive: true });
  }
}
const relPath = relative(process.cwd(), dest) || '.';
// why './': like sv, tsvctl looks a bare name up in $SVDIR; a path must start with '.' or '/'
const rel = relPath.startsWith('.') || relPath.startsWith('/') ? relPath : `./${relPath}`;
process.stdout.write(`tsv demo: supervising ${rel}/* with tsvscan (Ctrl-C stops everything).
In another terminal, from ${process.cwd()}:
  export PATH="${binDir}:$PATH"
  tsvctl status ${rel}/*            # state, pid, uptime, last exit, restarts, readiness
  curl http://127.0.0.1:8080/       # the web service (readiness via notification-fd)
  tsvctl log -f ${rel}/web          # its log, stamps in local time, follows rotations
  tsvctl restart ${rel}/web         # returns as soon as it is up again
  tsvctl kill USR1 ${rel}/ticker    # any signal by name
  tsvctl restart ${rel}/pool        # a pool of 2 workers (ports 8090, 8091): rolling restart
  echo 4 > ${rel}/pool/instances && tsvctl reload ${rel}/pool   # resize to 4
  sv status ${rel}/web              # runit's own sv works too, when installed
  tsvctl jobs ${rel}                # the scheduled job (backup): next run, last run, status
  tsvctl log ${rel}/backup          # each run of it between its start and end markers
`);
const child = spawn(join(binDir, 'tsvscan'), [dest], {
  stdio: 'inherit',
  env: { ...process.env, PATH: `${binDir}:${process.env.PATH ?? '/usr/bin:/bin'}` },
});
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => child.kill(sig));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
