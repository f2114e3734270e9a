// docs/api.md's examples, run as written: every ```js block is extracted, written as an ES
// module beside the example service `web` (made as the page says, with `tsvctl new`), and run
// in page order with node, once under tsv and once under runit's runsv (its logger a real
// svlogd). Each block must exit 0; the checks below look at what the blocks printed.
import t, { type Test } from 'tap';
import { readFileSync, rmSync, symlinkSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, run, waitFor, waitForText } from '@tsv/testkit';
import { ctlEnv, ctlRoot, HAVE_RUNIT, okAlive, supervise, tsvctl } from '@tsv/testkit/ctl';

/** The ```js blocks of docs/api.md, in order. */
function blocks(): string[] {
  const md = readFileSync(join(ROOT, 'docs', 'api.md'), 'utf8');
  return [...md.matchAll(/^```js\n([\s\S]*?)^```$/gm)].map((m) => m[1] as string);
}

/** Make `web` in root as the page says (tsvctl new), adapted for runsv: a log/run with svlogd. */
async function makeWeb(root: string, program: 'tsv' | 'runsv'): Promise<string> {
  const r = await tsvctl(['new', 'web', '--', 'sh', '-c', 'while :; do echo tick; sleep 1; done'], { cwd: root });
  if (r.code !== 0) throw new Error(`tsvctl new failed: ${r.stderr}`);
  const web = join(root, 'web');
  if (program === 'runsv') {
    rmSync(join(web, 'log', 'tsvlog'));
    writeFileSync(join(web, 'log', 'run'), '#!/bin/sh\nexec svlogd -tt ./main\n');
    chmodSync(join(web, 'log', 'run'), 0o755);
  }
  return web;
}

/** Run every block against a service supervised by program; returns their stdout, in order. */
async function runBlocks(t: Test, program: 'tsv' | 'runsv'): Promise<string[]> {
  const root = ctlRoot(t);
  // why: the blocks import '@tsv/api' as a user's program would: from a node_modules beside them.
  symlinkSync(join(ROOT, 'node_modules'), join(root, 'node_modules'));
  const web = await makeWeb(root, program);
  await supervise(t, program, web);
  // the examples read the log: wait for its first line
  await waitForText(() => { try { return readFileSync(join(web, 'log', 'main', 'current'), 'utf8'); } catch { return ''; } }, /tick/, 15_000);
  const outs: string[] = [];
  const all = blocks();
  for (const [i, code] of all.entries()) {
    const file = join(root, `example-${i + 1}.mjs`);
    writeFileSync(file, code);
    const r = await run(process.execPath, [file], { cwd: root, env: ctlEnv(), timeoutMs: 30_000 });
    t.equal(r.code, 0, `${program}: example ${i + 1} exits 0${r.code === 0 ? '' : `: ${r.stderr}`}`);
    outs.push(r.stdout);
  }
  await waitFor(() => !okAlive(web), 10_000, 'the supervisor gone after the last example');
  return outs;
}

const checks = (t: Test, outs: string[], program: 'tsv' | 'runsv'): void => {
  t.equal(outs.length, 6, 'six examples');
  const [status, commands, errors, changes, log, exit] = outs as [string, string, string, string, string, string];
  t.match(status, program === 'tsv' ? /^run \d+ up \d+ tsv\n$/ : /^run \d+ up \d+ runit\n$/, 'status');
  const m = /^restarted: pid (\d+) -> (\d+)\ndown\n$/.exec(commands);
  t.ok(m !== null && m[1] !== m[2], `restart gave a new pid: ${commands}`);
  t.match(errors, /^true ESTATUS\nETIMEOUT restart (run|down|finish)\n$/, 'errors');
  const lines = changes.trim().split('\n');
  t.match(lines[0], /^run \d+$/, 'changes: the current status first');
  t.ok(lines.length >= 2 && lines.at(-1) !== lines[0], `changes: ends on a new process: ${changes}`);
  t.match(log, /^\d{4}-\d\d-\d\dT[\d:.]+Z tick\n[\s\S]*new: tick\n$/, 'log lines, then a followed one');
  t.equal(exit, 'false\n', 'exit');
};

t.test('docs/api.md examples under tsv', async (t) => {
  checks(t, await runBlocks(t, 'tsv'), 'tsv');
});

t.test('docs/api.md examples under runit', { skip: HAVE_RUNIT ? false : 'runit not installed' }, async (t) => {
  checks(t, await runBlocks(t, 'runsv'), 'runsv');
});
