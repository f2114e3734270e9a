// The README works verbatim (issue 11): its shell blocks (4-space indented) are extracted and run
// line by line, in a temp dir with node_modules/.bin on PATH, as a person pasting them would.
// Each line must exit 0. A line ending in `&` is started in the background; as a person waits
// for the supervisor to say its service started before typing on, the test waits for tsv's (or
// tsvscan's) `started` line (deadline 20 s). Long-running lines are started, watched for their
// first output and ended with Ctrl-C (SIGINT), which must give exit 0: `tsvctl log -f`, and
// `npm start` (the demo, run as node service-examples/demo.mjs with TSV_DEMO_DIR in the temp
// dir, so the checkout gets no .tsv-demo/).
// Skipped, and why (few): the first block (`npm ci && npm start`, `npm test`: installing and the
// whole suite are what CI does, not a test); `sv status` when runit is not installed. The demo's
// web port is moved off 8080 (a free port) in the copy: other tests on a shared machine may hold 8080.
import t from 'tap';
import { cpSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { BIN_DIR, ROOT, run, spawnTracked, waitForText } from '@tsv/testkit';
import { killUnderAtEnd, scanEnv, scanTmpdir } from '@tsv/testkit/scan';

/** The README's indented code blocks, each as its lines. */
function shellBlocks(md: string): string[][] {
  const blocks: string[][] = [];
  let cur: string[] | null = null;
  let inFence = false;
  for (const line of md.split('\n')) {
    if (line.startsWith('```')) inFence = !inFence;
    if (!inFence && line.startsWith('    ') && line.trim() !== '') {
      (cur ??= []).push(line.slice(4));
      continue;
    }
    if (cur !== null && line.trim() === '') continue;
    if (cur !== null) blocks.push(cur);
    cur = null;
  }
  if (cur !== null) blocks.push(cur);
  return blocks;
}

/** A free TCP port on 127.0.0.1. */
function freePort(): Promise<number> {
  return new Promise((res) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => res(typeof a === 'object' && a !== null ? a.port : 0));
    });
  });
}

const blocks = shellBlocks(readFileSync(join(ROOT, 'README.md'), 'utf8'));

t.test('the README has the blocks this test knows', async (t) => {
  t.ok(blocks.length >= 3, `${blocks.length} blocks`);
  t.match(blocks[0]?.join('\n') ?? '', /npm ci/, 'the install block first (skipped)');
});

t.test('every README block but the install one, line by line', async (t) => {
  const dir = scanTmpdir(t, 'tsv-readme-');
  killUnderAtEnd(t, dir);
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  // `node scripts/pack.mjs` is run from the checkout: scripts/ resolves the checkout by its real path
  symlinkSync(join(ROOT, 'scripts'), join(dir, 'scripts'));
  const hasSv = (await run('sh', ['-c', 'command -v sv'])).code === 0;
  // the demo's services, copied as demo.mjs would, with web on a free port
  cpSync(join(ROOT, 'service-examples'), join(dir, '.tsv-demo'), { recursive: true, filter: (p) => !p.endsWith('.mjs') || p.includes('/web/') });
  writeFileSync(join(dir, '.tsv-demo', 'web', 'env', 'PORT'), `${await freePort()}\n`);
  // `npm i -g` installs into a prefix of the temp dir, not the machine's (its bin after ours)
  const prefix = join(dir, '.npm-global');
  const env = scanEnv({ PATH: `${BIN_DIR}:${join(prefix, 'bin')}:${process.env.PATH ?? '/usr/bin:/bin'}`, TSV_DEMO_DIR: join(dir, '.tsv-demo'), npm_config_prefix: prefix });
  for (const [i, block] of blocks.entries()) {
    if (i === 0) continue;
    const needsDemo = block.some((l) => l.includes('.tsv-demo'));
    let demo: ReturnType<typeof spawnTracked> | undefined;
    if (needsDemo) {
      // `npm start` in another terminal: the demo supervises .tsv-demo/
      demo = spawnTracked(t, 'node', [join(ROOT, 'service-examples', 'demo.mjs')], { cwd: dir, env });
      await waitForText(demo.stderr, /tsvscan: web: started/, 30_000);
    }
    for (const line of block) {
      if (line.startsWith('sv ') && !hasSv) {
        t.comment(`skipped (runit not installed): ${line}`);
        continue;
      }
      const cmd = line.replace(/\s+#.*$/, '');
      if (cmd.endsWith('&')) {
        const bg = spawnTracked(t, 'bash', ['-c', `exec ${cmd.slice(0, -1)}`], { cwd: dir, env });
        await waitForText(bg.stderr, /: started, pid \d+/, 20_000);
        t.pass(`${line}: started`);
        continue;
      }
      if (/ -f /.test(cmd)) {
        const f = spawnTracked(t, 'bash', ['-c', `exec ${cmd}`], { cwd: dir, env });
        await waitForText(f.stdout, /\n/, 20_000);
        f.child.kill('SIGINT');
        t.equal((await f.exited).code, 0, `${line}: output, then Ctrl-C: exit 0`);
        continue;
      }
      // why 180 s: `node scripts/pack.mjs` builds the addon twice (x64, and arm64 cross-compiled)
      const r = await run('bash', ['-c', cmd], { cwd: dir, env, timeoutMs: 180_000 });
      t.equal(r.code, 0, `${line}: exit 0${r.code === 0 ? '' : `\n${r.stdout}${r.stderr}`}`);
    }
    if (demo !== undefined) {
      // flaky must visibly back off while the demo runs
      await waitForText(demo.stderr, /tsvscan: flaky: backoff: next start in 2 s/, 30_000);
      demo.child.kill('SIGINT');
      t.equal((await demo.exited).code, 0, 'Ctrl-C ends the demo, exit 0');
      t.match(demo.stderr(), /tsvscan: flaky: exited 3/, 'flaky exits 3');
    }
  }
});
