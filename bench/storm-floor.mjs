// The floor of a Node supervisor on our addon, for bench/storm.bench.mjs: `node storm-floor.mjs
// DIR [loop]` supervises every subdirectory of DIR with the least a restart needs and nothing
// else: at SIGCHLD, waitid and waitpid; the respawn of ./run (in libuv's thread pool as tsvscan
// does, or with `loop` on the loop's own thread); once it has exec'd, one atomic write of
// supervise/pid, tsv.json and status, as tsvscan's coalesced write after a crash. No state
// machine, no settings, no cgroup, no logger pipe, no messages, no control FIFO: what is left is
// the cost of Node, libuv and the syscalls themselves. Not a supervisor anyone should run.
import { mkdirSync, openSync, readdirSync, constants } from 'node:fs';
import { join } from 'node:path';
import { SERVICE, SUPERVISE, encodeStatus, envFromRecord, taiFromMs } from '../packages/core/dist/index.js';
import { spawn, spawnAsync, waitidPeek, waitpid, writeFilesSync } from '../packages/native/dist/index.js';

const [dir, mode] = process.argv.slice(2);
const onLoop = mode === 'loop';
const envp = envFromRecord(process.env);
/** pid -> its service */
const running = new Map();

/** One restart's write: the three files tsvscan changes at a respawn, each `.new` then swapped in. */
function writeStatus(svc, pid) {
  const now = Date.now();
  const status = encodeStatus({ time: taiFromMs(now), pid, paused: false, wantUp: true, gotTerm: false, state: 'run' });
  const json = JSON.stringify({ v: 1, supervisor: { pid: process.pid }, state: 'run', pid, since: now, want: 'up', restarts: ++svc.restarts, lastExit: svc.lastExit });
  const file = (name, data) => [name + SUPERVISE.newSuffix, name, data];
  writeFilesSync(svc.fd, [file(SUPERVISE.pid, `${pid}\n`), file(SUPERVISE.extra, json), file(SUPERVISE.status, status)]);
}

/** Start ./run of svc; its write once the child has exec'd. */
function start(svc) {
  const done = (err, pid) => {
    if (err !== null) throw err;
    running.set(pid, svc);
    writeStatus(svc, pid);
  };
  const args = [join(svc.path, SERVICE.run), [`./${SERVICE.run}`], envp, svc.path, [0, 1, 2], { setsid: true }];
  if (onLoop) done(null, spawn(...args));
  else spawnAsync(...args, done);
}

process.on('SIGCHLD', () => {
  for (let p = waitidPeek(); p !== null; p = waitidPeek()) {
    waitpid(p.pid, false);
    const svc = running.get(p.pid);
    if (svc === undefined) continue;
    running.delete(p.pid);
    svc.lastExit = p.code;
    start(svc);
  }
});
process.on('SIGTERM', () => process.exit(0));
// why: a signal listener does not keep Node's loop alive, and between spawns nothing else does.
setInterval(() => {}, 1 << 30);

for (const name of readdirSync(dir)) {
  const path = join(dir, name);
  mkdirSync(join(path, SERVICE.supervise), { recursive: true });
  start({ path, fd: openSync(join(path, SERVICE.supervise), constants.O_RDONLY | constants.O_DIRECTORY), restarts: 0, lastExit: null });
}
