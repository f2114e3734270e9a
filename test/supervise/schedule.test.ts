// Black-box tests of scheduled services (a `schedule` file) with the built tsv, tsvctl and
// runit's own sv and daemontools' svstat: a six-field expression firing every 2 s runs on time,
// never overlaps a long run (the tick is skipped and shown), `tsvctl jobs` shows what the
// supervisor wrote, between runs sv and svstat read the service as down; once, the log markers,
// notify (failing, hanging), an invalid expression. No sleeps: every wait is for something seen.
import t from 'tap';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeScheduleStatus, type ScheduleStatus } from '@tsv/core';
import { bin, run, testPath, waitFor, waitForText } from '@tsv/testkit';
import { makeService, serviceRoot, startTsv, status } from '@tsv/testkit/supervise';

const SV = '/usr/bin/sv';
const SVSTAT = '/usr/bin/svstat';

/** supervise/schedule.json of dir, undefined until written. */
function sched(dir: string): ScheduleStatus | undefined {
  try {
    return decodeScheduleStatus(readFileSync(join(dir, 'supervise', 'schedule.json'), 'utf8'));
  } catch {
    return undefined;
  }
}

/** A file's text, '' when missing. */
function text(p: string): string {
  try {
    return readFileSync(p, 'utf8');
  } catch {
    return '';
  }
}

/** tsvctl with our PATH, in cwd. */
function tsvctl(cwd: string, args: string[]): ReturnType<typeof run> {
  return run(bin('tsvctl'), args, { cwd, env: { ...process.env, PATH: testPath(), TZ: 'UTC', NO_COLOR: '1' } });
}

/** A run script: appends `start <epoch ms>` and `end` to runs.log; flags an overlap when a
 * previous run's marker file is still there; sleeps for the seconds in the file `sleep`. */
const RUN = `#!/bin/sh
cd "$(dirname "$0")" 2>/dev/null || true
if [ -e running ]; then echo OVERLAP >> runs.log; fi
: > running
echo "start $(date +%s%3N)" >> runs.log
echo "run output line"
sleep "$(cat sleep 2>/dev/null || echo 0)"
rm -f running
echo end >> runs.log
exit "$(cat code 2>/dev/null || echo 0)"
`;

t.test('every 2 s (six fields): on time, no overlap with a long run, tsvctl jobs, sv and svstat', async (t) => {
  const root = serviceRoot(t);
  const dir = makeService(root, 'job', { run: RUN, schedule: '*/2 * * * * *\n', 'log/tsvlog': '-tt ./main\n', 'log/main/.keep': '', sleep: '0\n' });
  const tsv = await startTsv(t, dir);

  // Runs on time: three short runs, each started within a second of its even-second tick.
  const s3 = await waitFor(() => {
    const s = sched(dir);
    return s !== undefined && s.runs >= 3 && s.running === null && s.last !== null ? s : undefined;
  }, 20_000, 'three runs');
  t.equal(s3.state, 'waiting');
  t.equal(s3.expression, '*/2 * * * * *');
  const last = s3.last as NonNullable<ScheduleStatus['last']>;
  t.equal((last.tick ?? 1) % 2000, 0, 'the tick is an even second');
  t.ok(last.start - (last.tick ?? 0) >= 0 && last.start - (last.tick ?? 0) < 1000, `started ${last.start - (last.tick ?? 0)} ms after its tick`);
  t.ok(last.durationMs >= 0 && last.durationMs < 2000, `duration ${last.durationMs} ms`);
  t.equal(last.code, 0);
  t.equal(s3.failures, 0);
  t.ok(s3.next !== null && s3.next > last.start && (s3.next ?? 0) % 2000 === 0, 'next is the following even second');
  const starts = text(join(dir, 'runs.log')).split('\n').filter((l) => l.startsWith('start '));
  t.ok(starts.length >= 3);

  // Between runs the service is down for runit's sv and daemontools' svstat.
  if (existsSync(SV)) {
    const line = await waitFor(async () => {
      const r = await run(SV, ['status', './job'], { cwd: root });
      return /^down: \.\/job: \d+s, normally up; run: log: \(pid \d+\) \d+s$/.test(r.stdout.trim()) ? r.stdout : undefined;
    }, 10_000, 'sv status to read down between runs');
    t.notMatch(line, /want up/, 'sv does not report a service that should be running');
  }
  if (existsSync(SVSTAT)) {
    await waitFor(async () => /^\.\/job: down \d+ seconds, normally up$/.test((await run(SVSTAT, ['./job'], { cwd: root })).stdout.trim()), 10_000, 'svstat down between runs');
  }

  // tsvctl jobs shows what the supervisor wrote.
  const json = JSON.parse((await tsvctl(root, ['jobs', '--json', root])).stdout) as { name: string; next: number | null; runs: number; last: { code: number } | null; problem: string | null }[];
  t.equal(json.length, 1);
  t.match(json[0], { name: 'job', problem: null, last: { code: 0 } });
  const table = await tsvctl(root, ['jobs', root]);
  t.equal(table.code, 0);
  const [head, row] = table.stdout.split('\n');
  t.match(head, /^JOB\s+NEXT RUN\s+LAST RUN\s+STATUS\s+TIME\s+FAILS\s+NOTE$/);
  t.match(row, /^job\s+in [0-9]s \(today \d\d:\d\d:\d[02468]\)\s+(\d+s ago|in 0s) \(today \d\d:\d\d:\d[02468]\)\s+(0|running \(pid \d+\))\s+\d+(ms|\.\ds)\s+0/);

  // A long run (5 s) outlives two ticks: they are skipped and shown; the runs never overlap.
  writeFileSync(join(dir, 'sleep'), '5\n');
  const skipped = await waitFor(() => {
    const s = sched(dir);
    return s !== undefined && s.skipped >= 2 && s.running !== null ? s : undefined;
  }, 20_000, 'ticks skipped during a long run');
  t.equal(skipped.lastSkip?.why, 'running');
  const during = await tsvctl(root, ['jobs', root]);
  t.match(during.stdout, /running \(pid \d+\)/, 'jobs shows the run going on');
  t.match(during.stdout, /ticks skipped \(previous run still running\)/, 'and the skipped ticks');
  if (existsSync(SV)) {
    const r = await run(SV, ['status', './job'], { cwd: root });
    t.match(r.stdout, /^run: \.\/job: \(pid \d+\) \d+s, want down; run: log:/, 'during a run: runit reads a once-run');
  }
  writeFileSync(join(dir, 'sleep'), '0\n');
  await waitFor(() => {
    const s = sched(dir);
    return s !== undefined && s.last !== null && s.last.durationMs >= 4000 && s.runs >= (skipped.runs ?? 0) + 1 ? s : undefined;
  }, 20_000, 'the long run to end');
  t.notMatch(text(join(dir, 'runs.log')), /OVERLAP/, 'no run started while another ran');
  // why: the warning is in the pipe before the status write, but reaches this process a moment later.
  await waitForText(tsv.stderr, /warning: tick \S+ skipped: run \d+ still runs/, 15_000);
  t.match(tsv.stderr(), /warning: tick \S+ skipped: run \d+ still runs/);

  // The log: each run between its start and end markers.
  const log = await tsvctl(root, ['log', '-n', '200', './job']);
  t.match(log.stdout, /tsv: job job: run \d+ start \(tick [0-9T:.-]+Z\)\n.*run output line\n.*tsv: job job: run \d+ end: exit 0 after \d/, 'a run reads as one block');
});

t.test('tsvctl jobs -n (dry run), once, invalid and never-firing expressions', async (t) => {
  const root = serviceRoot(t);
  const yearly = makeService(root, 'yearly', { run: RUN, schedule: '0 0 1 1 *\ntz=Europe/Paris\n' });
  const bad = makeService(root, 'bad', { run: RUN, schedule: '61 * * * *\n' });
  const feb = makeService(root, 'feb', { run: RUN, schedule: '0 0 30 2 *\n' });

  const dry = await tsvctl(root, ['jobs', '-n', 'yearly', '--count', '2', root]);
  t.equal(dry.code, 0);
  t.match(dry.stdout, /^yearly: 0 0 1 1 \* \(Europe\/Paris\)\n20\d\d-12-31T23:00:00.000Z {2}in \S+ \(\S+ 23:00:00\)\n20\d\d-12-31T23:00:00.000Z/);
  t.equal(sched(yearly), undefined, 'a dry run starts nothing and writes nothing');
  const dryBad = await tsvctl(root, ['jobs', '-n', './bad', root]);
  t.equal(dryBad.code, 100);
  t.equal(dryBad.stderr, `tsvctl: fatal: ./bad/schedule: invalid minute: 61 (Invalid value for minute: 61)\n`);
  t.equal((await tsvctl(root, ['jobs', '-n', 'feb', root])).stdout, 'feb: 0 0 30 2 *\nnever fires\n');

  const ty = await startTsv(t, yearly, { quiet: true });
  const tb = await startTsv(t, bad, { quiet: true });
  const tf = await startTsv(t, feb, { quiet: true });
  await waitFor(() => sched(yearly)?.state === 'waiting', 10_000, 'yearly scheduled');
  const once = await tsvctl(root, ['-w', '5', 'once', './yearly']);
  t.equal(once.code, 0, once.stdout + once.stderr);
  const ran = await waitFor(() => {
    const s = sched(yearly);
    return s?.last != null ? s : undefined;
  }, 10_000, 'the once run');
  t.equal(ran.last?.manual, true, 'recorded as a run asked by once');
  t.equal(ran.state, 'waiting', 'and the schedule goes on');

  await waitFor(() => sched(bad)?.state === 'invalid', 10_000, 'bad: invalid');
  t.equal(sched(bad)?.reason, 'schedule: invalid minute: 61 (Invalid value for minute: 61)');
  await waitFor(() => /warning: schedule: invalid minute: 61 \(Invalid value for minute: 61\); the service stays down\n/.test(tb.stderr()), 10_000, 'the one-line warning');
  t.equal(tb.stderr().split('\n').filter((l) => l !== '').length, 1, 'one line');
  t.equal(status(bad)?.state, 'down');
  t.equal(status(bad)?.pid, 0);
  const st = await tsvctl(root, ['status', './bad']);
  t.match(st.stdout, /^down: \.\/bad: \d+s, normally up, schedule: invalid minute: 61 \(Invalid value for minute: 61\)\n$/, 'tsvctl status says why it is not scheduled');
  await waitFor(() => sched(feb)?.state === 'never', 10_000, 'feb: never');
  t.match(tf.stderr(), /warning: schedule: never fires: 0 0 30 2 \*; the service stays down/);
  const jobs = await tsvctl(root, ['jobs', root]);
  t.match(jobs.stdout, /\nbad\s+-\s+-\s+-\s+-\s+0\s+schedule: invalid minute: 61/);
  t.match(jobs.stdout, /\nfeb\s+-\s+-\s+-\s+-\s+0\s+schedule: never fires: 0 0 30 2 \*/);
  t.match(jobs.stdout, /\nyearly\s+in \S+ \(\S+.* 23:00:00\)\s+\S+ ago \(today/);
  t.equal(ty.stderr(), '');

  // Fixed, then `tsvctl up` re-reads the file.
  writeFileSync(join(bad, 'schedule'), '0 0 1 1 *\n');
  await tsvctl(root, ['up', './bad']);
  await waitFor(() => sched(bad)?.state === 'waiting', 10_000, 'bad fixed');
});

t.test('notify: after a failed run, with its status and log lines; a hanging notify is killed', async (t) => {
  const root = serviceRoot(t);
  const dir = makeService(root, 'fails', {
    run: RUN,
    code: '3\n',
    schedule: '*/2 * * * * *\nnotify-timeout=1s\n',
    'log/tsvlog': '-tt ./main\n',
    'log/main/.keep': '',
    notify: `#!/bin/sh\n{ echo "args $1 $2 fails=$TSV_FAILURES why=$TSV_NOTIFY code=$TSV_EXIT_CODE"; cat; echo "--"; } >> notified\n[ -e hang ] && exec sleep 1000\nexit 0\n`,
  });
  const tsv = await startTsv(t, dir);
  const got = await waitFor(() => (/--\n/.test(text(join(dir, 'notified'))) ? text(join(dir, 'notified')) : undefined), 20_000, 'notify to run');
  t.match(got, /^args fails exit 3 fails=1 why=failure code=3\n/);
  t.match(got, /tsv: job fails: run 1 start \(tick .*\n.*run output line\n.*tsv: job fails: run 1 end: exit 3 after /, 'stdin: the run\'s lines from the log');

  writeFileSync(join(dir, 'hang'), '');
  await waitFor(() => /still runs after 1000 ms: killed/.test(tsv.stderr()), 20_000, 'the hanging notify killed');
  const before = sched(dir)?.runs ?? 0;
  await waitFor(() => (sched(dir)?.runs ?? 0) >= before + 2, 20_000, 'runs go on meanwhile');
  t.ok((sched(dir)?.failures ?? 0) >= 3, 'failures in a row counted');
});
