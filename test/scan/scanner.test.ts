// The scanner's table with stand-in supervisors (the Supervisor API only, no OS mock): a
// failure of one service is contained, reported once and retried; a stop waits for a start in
// progress; a rename keeps the supervisor; shutting down stops everything.
import t from 'tap';
import { mkdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { ToolError } from '@tsv/core';
import { type HostedSupervisor, readListing, Scanner } from '@tsv/supervise/scan';
import { waitFor } from '@tsv/testkit';
import { scanTmpdir } from '@tsv/testkit/scan';

/** A stand-in supervisor recording what the scanner asked of it. */
class Fake implements HostedSupervisor {
  started = false;
  stopped = false;
  exited: Promise<void>;
  private done: () => void = () => {};
  constructor(
    readonly dir: string,
    readonly name: string,
    private readonly behaviour: { failStart?: boolean; slowStart?: Promise<void> } = {},
  ) {
    this.exited = new Promise((r) => (this.done = r));
  }
  async start(): Promise<void> {
    await this.behaviour.slowStart;
    if (this.behaviour.failStart) throw new ToolError('unable to lock supervise/lock: temporary failure', 111);
    this.started = true;
  }
  async shutdown(): Promise<void> {
    this.stopped = true;
    this.done();
  }
  ownsPid(): boolean {
    return false;
  }
  servicePgid(): number {
    return 0;
  }
  watchPgid(): void {}
}

/** A scanner over dir with a factory the test controls. */
function setup(dir: string, behaviour: (name: string, attempt: number) => ConstructorParameters<typeof Fake>[2]) {
  const made: Fake[] = [];
  const warnings: string[] = [];
  let rescans = 0;
  const attempts = new Map<string, number>();
  const scanner = new Scanner(dir, (d, name) => {
    const n = (attempts.get(name) ?? 0) + 1;
    attempts.set(name, n);
    const f = new Fake(d, name, behaviour(name, n));
    made.push(f);
    return f;
  }, {
    warn: (m) => void warnings.push(m),
    rescan: () => void (rescans += 1),
    serviceStarted: () => {},
    servicePgid: () => {},
    serviceStopped: async () => {},
  });
  return { scanner, made, warnings, rescans: () => rescans, scan: () => scanner.apply(readListing(dir)) };
}

t.test('a failing service is contained, reported once, retried by the timer', async (t) => {
  const dir = scanTmpdir(t);
  for (const n of ['good', 'bad']) mkdirSync(join(dir, n));
  const s = setup(dir, (name, attempt) => ({ failStart: name === 'bad' && attempt < 3 }));
  s.scan();
  await waitFor(() => s.scanner.phases().get('good') === 'up' && s.scanner.phases().get('bad') === 'failed', 5000, 'good up, bad failed');
  t.same(s.warnings, ['unable to supervise bad: unable to lock supervise/lock: temporary failure']);
  t.ok(s.made.find((f) => f.name === 'good')?.dir.startsWith('/proc/self/fd/'), 'the supervisor gets a /proc/self/fd path');
  // the retry timer asks for a rescan; each rescan retries what is due
  await waitFor(() => {
    s.scan();
    return s.scanner.phases().get('bad') === 'up';
  }, 15_000, 'bad up on its third attempt');
  t.equal(s.warnings.length, 1, 'the same failure is not reported again');
  t.ok(s.rescans() >= 1, 'the retry timer asked for a rescan');
  t.ok(await s.scanner.closeAll(), 'close: clean');
  t.ok(s.made.filter((f) => f.started).every((f) => f.stopped), 'every started supervisor was shut down');
});

t.test('rename keeps the supervisor; removal while starting stops it after the start', async (t) => {
  const dir = scanTmpdir(t);
  mkdirSync(join(dir, 'a'));
  mkdirSync(join(dir, 'slow'));
  let release: () => void = () => {};
  const gate = new Promise<void>((r) => (release = r));
  const s = setup(dir, (name) => (name === 'slow' ? { slowStart: gate } : {}));
  s.scan();
  await waitFor(() => s.scanner.phases().get('a') === 'up', 5000, 'a up');
  renameSync(join(dir, 'a'), join(dir, 'b'));
  renameSync(join(dir, 'slow'), join(dir, '.gone'));
  s.scan();
  t.equal(s.scanner.phases().get('b'), 'up', 'renamed, same supervisor');
  t.equal(s.made.filter((f) => f.name === 'a').length, 1, 'no second supervisor for the renamed dir');
  t.equal(s.scanner.phases().get('slow'), 'stopping', 'removed while starting: stopping');
  release();
  await waitFor(() => !s.scanner.phases().has('slow'), 5000, 'slow forgotten');
  const slow = s.made.find((f) => f.name === 'slow')!;
  t.ok(slow.started && slow.stopped, 'it was started, then shut down');
  t.ok(await s.scanner.closeAll());
});
