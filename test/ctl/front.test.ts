// tsvctl's yargs front end, black-box: --help/-h/help [VERB], completion scripts, the strict
// command word under the name tsvctl (sv's first-letter rule as sv), and that the sv verbs never
// load the yargs bundle (a require hook lists the loaded files; strace, when installed, the opens).
import t from 'tap';
import { existsSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bin, run, tmpdir } from '@tsv/testkit';
import { ctlEnv, ctlRoot, HAVE_RUNIT, makeService, onPath, sv, TRAP_RUN, tsvctl } from '@tsv/testkit/ctl';

t.test('--help, -h and help print what tsvctl does, its synopsis, every command, options, examples', async (t) => {
  for (const args of [['--help'], ['-h'], ['help']]) {
    const r = await tsvctl(args);
    t.equal(r.code, 0, `tsvctl ${args.join(' ')}: exit 0`);
    t.equal(r.stderr, '');
    t.match(r.stdout, /^tsvctl controls services/);
    t.match(r.stdout, /Usage:\n\s*tsvctl \[-v\] \[-w SEC\] COMMAND SERVICE\.\.\./);
    for (const w of ['list', 'new', 'help', 'completion', 'status', 'up', 'down', 'once', 'restart', 'force-stop', 'signal', 'log', 'check', 'try-restart']) t.match(r.stdout, new RegExp(`\\n  tsvctl ${w} `), `lists ${w}`);
    t.match(r.stdout, /Options:[\s\S]*-w[\s\S]*--help/);
    t.match(r.stdout, /Examples:\n  tsvctl -w 5 restart \.\/web/);
  }
  let r = await tsvctl(['help', 'list']);
  t.equal(r.code, 0);
  t.match(r.stdout, /^tsvctl list \[dir\]\n[\s\S]*--json[\s\S]*Examples:/);
  r = await tsvctl(['help', 'new']);
  t.match(r.stdout, /--user[\s\S]*--env[\s\S]*--ready-fd[\s\S]*--down[\s\S]*--log-run/);
  r = await tsvctl(['up', '--help']);
  t.equal(r.code, 0);
  t.match(r.stdout, /^tsvctl up <service\.\.>\n/);
  r = await tsvctl(['help', 'stpo']);
  t.equal(r.code, 100);
  t.equal(r.stderr, 'tsvctl: fatal: unknown command: stpo (did you mean stop?)\n');
  r = await tsvctl(['list', '--bogus']);
  t.equal(r.code, 100, 'an unknown option of a yargs verb is a usage error');
  t.match(r.stderr, /^tsvctl: fatal: Unknown argument: bogus\n$/);
});

t.test('completion prints bash and zsh scripts; the query lists commands', async (t) => {
  const bash = await tsvctl(['completion', 'bash'], { env: ctlEnv({ SHELL: '/bin/zsh' }) });
  t.equal(bash.code, 0);
  t.match(bash.stdout, /complete -o bashdefault -o default -F _tsvctl_yargs_completions tsvctl\n/);
  t.match(bash.stdout, /tsvctl --get-yargs-completions/);
  const zsh = await tsvctl(['completion', 'zsh'], { env: ctlEnv({ SHELL: '/bin/bash' }) });
  t.equal(zsh.code, 0);
  t.match(zsh.stdout, /^#compdef tsvctl\n/);
  t.match(zsh.stdout, /compdef _tsvctl_yargs_completions tsvctl/);
  const q = await tsvctl(['--get-yargs-completions', 'tsvctl', 're']);
  t.equal(q.code, 0);
  for (const w of ['restart', 'reload', 'list', 'new', 'status']) t.match(q.stdout, new RegExp(`^${w}$`, 'm'));
  // after an sv command: the services of $SVDIR; nothing for a path (the shell completes files)
  const svdir = ctlRoot(t);
  for (const n of ['web', 'worker', 'api']) makeService(svdir, n, { run: TRAP_RUN });
  const s = await tsvctl(['--get-yargs-completions', 'tsvctl', 'restart', 'w'], { env: ctlEnv({ SVDIR: svdir }) });
  t.same(s.stdout.split('\n').filter(Boolean).sort(), ['web', 'worker']);
  const p = await tsvctl(['--get-yargs-completions', 'tsvctl', 'up', './'], { env: ctlEnv({ SVDIR: svdir }) });
  t.equal(p.stdout, '');
  if (onPath('bash')) {
    // the bash script loads in bash and registers the completion
    const script = join(tmpdir(t), 'tsvctl.bash');
    writeFileSync(script, bash.stdout);
    const r = await run('bash', ['-c', `source ${script}; complete -p tsvctl`]);
    t.equal(r.code, 0, r.stderr);
    t.match(r.stdout, /_tsvctl_yargs_completions tsvctl/);
  }
});

t.test('under its own name tsvctl refuses an unknown command word; as sv the first letter counts', async (t) => {
  const root = ctlRoot(t);
  makeService(root, 'svc', { run: TRAP_RUN });
  for (const [word, near] of [['stpo', 'stop'], ['restrat', 'restart'], ['lsit', 'list'], ['bogus', 'log'], ['upfoo', 'up']] as const) {
    const r = await tsvctl([word, './svc'], { cwd: root });
    t.equal(r.code, 100, `${word}: exit 100`);
    t.equal(r.stderr, `tsvctl: fatal: unknown command: ${word} (did you mean ${near}?)\n`);
    t.equal(r.stdout, '', `${word}: nothing done`);
  }
  // one-letter commands and the long words are still exact commands
  const st = await tsvctl(['s', './svc'], { cwd: root });
  t.equal(st.code, 1);
  t.equal(st.stdout, 'warning: ./svc: unable to open supervise/ok: file does not exist\n');
  // installed as sv: sv's leniency, byte for byte like runit's sv
  const svLink = join(root, 'sv');
  symlinkSync(bin('tsvctl'), svLink);
  const a = await run(svLink, ['stpo', './svc'], { cwd: root, env: ctlEnv() });
  t.equal(a.code, 1, 'sv stpo is status');
  t.equal(a.stdout, 'warning: ./svc: unable to open supervise/ok: file does not exist\n');
  if (HAVE_RUNIT) {
    const b = await sv(['stpo', './svc'], { cwd: root });
    t.same([a.code, a.stdout, a.stderr], [b.code, b.stdout, b.stderr], 'as runit sv');
    const c = await run(svLink, ['bogus', './svc'], { cwd: root, env: ctlEnv() });
    const d = await sv(['bogus', './svc'], { cwd: root });
    t.same([c.code, c.stdout, c.stderr], [d.code, d.stdout, d.stderr], 'sv bogus: the usage, as runit sv');
  }
});

/** The files the tsvctl process had loaded through require when it exited. */
async function loadedFiles(root: string, args: string[]): Promise<{ files: string[]; code: number | null }> {
  const hook = join(root, 'hook.cjs');
  const out = join(root, 'loaded.txt');
  writeFileSync(hook, `process.on('exit', () => require('fs').writeFileSync(${JSON.stringify(out)}, Object.keys(require.cache).join('\\n')));\n`);
  // why: `env` sets NODE_OPTIONS just before the exec, past tap's own hook in the environment.
  const r = await run('env', [`NODE_OPTIONS=--require=${hook}`, bin('tsvctl'), ...args], { cwd: root, env: ctlEnv() });
  return { files: readFileSync(out, 'utf8').split('\n'), code: r.code };
}

t.test('the sv verbs never load the yargs bundle', async (t) => {
  const root = ctlRoot(t);
  makeService(root, 'svc', { run: TRAP_RUN });
  for (const args of [['status', './svc'], ['-V'], ['up', './svc'], ['stpo', './svc']]) {
    const { files } = await loadedFiles(root, args);
    t.ok(files.some((f) => f.endsWith('/tsvctl.bundle.cjs')), `${args.join(' ')}: the hook saw the main bundle`);
    t.notOk(files.some((f) => /tsvctl-front|yargs/.test(f)), `${args.join(' ')}: no yargs`, { files });
  }
  const { files } = await loadedFiles(root, ['help']);
  t.ok(files.some((f) => f.endsWith('/tsvctl-front.bundle.cjs')), 'help loads the front bundle');
  if (onPath('strace')) {
    const trace = join(root, 'trace.txt');
    await run('strace', ['-f', '-e', 'trace=openat', '-o', trace, bin('tsvctl'), 'status', './svc'], { cwd: root, env: ctlEnv() });
    const opened = readFileSync(trace, 'utf8');
    t.match(opened, /tsvctl\.bundle\.cjs/, 'strace saw the main bundle opened');
    t.notMatch(opened, /tsvctl-front|yargs/, 'status opens no yargs file');
  }
  t.ok(existsSync(join(root, 'svc', 'run')));
});
