// The peers' own published checks (issue 10 item 10), reconstructed: runit's src/chpst.check
// (2.1.2, plus the failed-exec lines of later versions) and the wrapper parts of daemontools'
// rts.tests (envdir, setlock, pgrphack, softlimit, envuidgid; setuidgid in the same style).
// Each script runs twice, side by side: once with our wrappers first in PATH under the peers'
// names, once with the installed runit/daemontools programs; the transcripts (stdout, stderr
// and every `$?`) must be the same. Scripts test `$? = 111` for a failed exec, for instance.
import t from 'tap';
import { existsSync, mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { bin, IS_ROOT, run, tmpdir } from '@tsv/testkit';

/** Where the installed peers live (Debian's runit and daemontools packages). */
const PEER_DIR = '/usr/bin';

/** The checks, by the programs they need. Each line's status is echoed, as the originals do;
 * `exec 2>&1` puts the diagnostics in the transcript, in order. */
const CHECKS: Record<string, { needs: string[]; root?: boolean; script: string }> = {
  'chpst.check': {
    needs: ['chpst'],
    script: `
chpst; echo $?
chpst -P true; echo $?
chpst -012 true; echo $?
mkdir ctmp; echo 1 >ctmp/test
chpst -ectmp env | sed -ne '/^test=1$/p'; echo $?
rm -rf ctmp
chpst -lctmp true; echo $?; rm -f ctmp
chpst -Lctmp true; echo $?; rm -f ctmp
chpst ./ENOENT.err; echo $?
chpst -2 ./ENOENT.err 2>/dev/null; echo $?
chpst -012 ./ENOENT.err; echo $?
chpst -e ./no-such-dir true; echo $?
chpst -u no-such-user-x true; echo $?
`,
  },
  envdir: {
    needs: ['envdir'],
    script: `
envdir whatever; echo $?
ln -s env1 env1
envdir env1 echo yes; echo $?
rm env1; mkdir env1; ln -s Message env1/Message
envdir env1 echo yes; echo $?
rm env1/Message; echo This is a test. This is only a test. >env1/Message
envdir env1 sh -c 'echo $Message'; echo $?
mkdir env2; touch env2/Message
envdir env1 envdir env2 sh -c 'echo \${Message-removed}'; echo $?
envdir env1 ./nonexistent; echo $?
`,
  },
  setlock: {
    needs: ['setlock'],
    script: `
setlock whatever; echo $?
setlock nonexistent/lock echo wrong; echo $?
setlock -x nonexistent/lock echo wrong; echo $?
setlock lock echo ok; echo $?
echo ok >lock
setlock lock cat lock; echo $?
rm -f lock
setlock lock sh -c 'setlock -n lock echo one && echo two'; echo $?
setlock lock sh -c 'setlock -nx lock echo one && echo two'; echo $?
setlock lock ./nonexistent; echo $?
`,
  },
  pgrphack: {
    needs: ['pgrphack'],
    script: `
pgrphack; echo $?
pgrphack ./nonexistent; echo $?
pgrphack echo ok; echo $?
`,
  },
  softlimit: {
    needs: ['softlimit'],
    script: `
softlimit; echo $?
softlimit ./nonexistent; echo $?
softlimit -p0 echo ./nonexistent; echo $?
softlimit -o x true; echo $?
`,
  },
  envuidgid: {
    needs: ['envuidgid'],
    script: `
envuidgid; echo $?
envuidgid root; echo $?
envuidgid root printenv UID; echo $?
envuidgid root ./nonexistent; echo $?
envuidgid no-such-user-x true; echo $?
`,
  },
  setuidgid: {
    needs: ['setuidgid'],
    root: true,
    script: `
setuidgid; echo $?
setuidgid root; echo $?
setuidgid nobody id -u; echo $?
setuidgid root ./nonexistent; echo $?
setuidgid no-such-user-x true; echo $?
`,
  },
};

/** A directory holding, under the peers' names, links to ours or to the installed programs. */
function linkDir(root: string, which: 'ours' | 'peers', names: string[]): string {
  const d = join(root, which);
  mkdirSync(d);
  for (const n of names) symlinkSync(which === 'ours' ? bin(n) : join(PEER_DIR, n), join(d, n));
  return d;
}

/** Run script in a fresh directory with links first in PATH; the whole transcript. */
async function transcript(root: string, which: string, links: string, script: string): Promise<string> {
  const cwd = join(root, `run-${which}`);
  mkdirSync(cwd);
  const env = { PATH: `${links}:/usr/bin:/bin` };
  const r = await run('/bin/sh', ['-c', `exec 2>&1\n${script}`], { cwd, env });
  return `${r.stdout}${r.stderr}exit ${r.code}\n`;
}

/** The names of all the wrappers a script may call (a check calls others, e.g. setlock's
 * inner setlock; envdir's chained envdir). */
const ALL = ['chpst', 'envdir', 'setlock', 'pgrphack', 'softlimit', 'envuidgid', 'setuidgid'];

for (const [name, check] of Object.entries(CHECKS)) {
  const missing = check.needs.filter((n) => !existsSync(join(PEER_DIR, n)));
  const skip = missing.length > 0 ? `not installed: ${missing.join(' ')}` : check.root === true && !IS_ROOT ? 'needs root' : false;
  t.test(`${name}: our wrappers print and exit as the installed peers`, { skip }, async (t) => {
    const root = tmpdir(t, 'tsv-peer-');
    const names = ALL.filter((n) => existsSync(join(PEER_DIR, n)));
    const theirs = await transcript(root, 'peers', linkDir(root, 'peers', names), check.script);
    const ours = await transcript(root, 'ours', linkDir(root, 'ours', names), check.script);
    // the documented differences: our chpst has runit 2.2.0's -C (its usage line says so), and a
    // bad number is named on a line of its own before the usage (issue 11; exit codes the same)
    t.equal(ours.replace(/ \[-C pwd\]/g, '').replace(/^\S+: fatal: invalid number for -\w: .*\n/gm, ''), theirs, 'the same transcript');
    t.match(theirs, /\n111\n/, 'the check exercises a 111');
  });
}

t.test('usage lines say the name the program was run as', async (t) => {
  const root = tmpdir(t, 'tsv-peer-');
  const d = join(root, 'names');
  mkdirSync(d);
  const cases: Array<[string, string, number, string]> = [
    ['envdir', 'my-envdir', 111, 'my-envdir: usage: my-envdir dir child\n'],
    ['pgrphack', 'my-pgrphack', 100, 'my-pgrphack: usage: my-pgrphack child\n'],
    ['setuidgid', 'my-setuidgid', 100, 'my-setuidgid: usage: my-setuidgid account child\n'],
    ['envuidgid', 'my-envuidgid', 100, 'my-envuidgid: usage: my-envuidgid account child\n'],
    ['setlock', 'my-setlock', 100, 'my-setlock: usage: my-setlock [ -nNxX ] file program [ arg ... ]\n'],
  ];
  for (const [prog, alias, code, usage] of cases) {
    symlinkSync(bin(prog), join(d, alias));
    const r = await run(join(d, alias), [], { env: { PATH: '/usr/bin:/bin' } });
    t.same([r.code, r.stderr], [code, usage], alias);
  }
  symlinkSync(bin('softlimit'), join(d, 'lim'));
  const s = await run(join(d, 'lim'), ['-Z', 'true'], { env: { PATH: '/usr/bin:/bin' } });
  t.equal(s.code, 100);
  t.match(s.stderr, /^lim: illegal option -- Z\nlim: usage: lim \[-a allbytes\]/);
  symlinkSync(bin('chpst'), join(d, 'my-chpst'));
  const c = await run(join(d, 'my-chpst'), [], { env: { PATH: '/usr/bin:/bin' } });
  t.equal(c.code, 100);
  t.match(c.stderr, /^usage: my-chpst \[-vVP012\]/);
  // chpst under a wrapper's name is that wrapper, as runit's chpst dispatches on its name
  mkdirSync(join(d, 'as'));
  symlinkSync(bin('chpst'), join(d, 'as', 'envdir'));
  const e = await run(join(d, 'as', 'envdir'), [], { env: { PATH: '/usr/bin:/bin' } });
  t.same([e.code, e.stderr], [111, 'envdir: usage: envdir dir child\n']);
  // fused: the link's name is the one the chain looked it up by
  const f = await run(bin('chpst'), ['pgrphack'], { env: { PATH: `${join(bin('chpst'), '..')}:/usr/bin:/bin` } });
  t.same([f.code, f.stderr], [100, 'pgrphack: usage: pgrphack child\n']);
});
