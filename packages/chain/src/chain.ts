// Running a chain of wrappers: each link changes this process and names the next program; a
// next program that is one of our wrappers is applied here too (fusion), and only the first
// foreign program is exec'd.
import { ENV, envUnset, metaRequest, versionLine } from '@tsv/core';
import { report, writeOut } from '@tsv/os';
import { dup2 } from '@tsv/native';
import { wrapperHelp } from './help.js';
import { execNext, type LinkResult } from './exec-next.js';
import { fusionTarget, ourBinDir, WRAPPER_NAMES, type WrapperName } from './fusion.js';
import { type ChainState, initialState, runAsName } from './state.js';
import { closeSync, openSync } from 'node:fs';

/** One link: parse args, change this process and state, name the next program. */
export type Link = (args: readonly string[], state: ChainState) => LinkResult;

/** Every wrapper, by name, loaded on first use: start-up time is the point of these tools, and
 * each ES module costs a resolve, a read and a compile, so a wrapper loads only its own. */
export const LINKS: Record<WrapperName, () => Promise<Link>> = {
  chpst: async () => (await import('./wrappers/chpst.js')).chpst,
  setuidgid: async () => (await import('./wrappers/setuidgid.js')).setuidgid,
  envuidgid: async () => (await import('./wrappers/envuidgid.js')).envuidgid,
  envdir: async () => (await import('./wrappers/envdir.js')).envdir,
  softlimit: async () => (await import('./wrappers/softlimit.js')).softlimit,
  setlock: async () => (await import('./wrappers/setlock.js')).setlock,
  pgrphack: async () => (await import('./wrappers/pgrphack.js')).pgrphack,
};

/** Make this process look like a freshly started link of the real chain: Node opens /dev/null
 * on a closed fd 0-2 at start-up (so a lock taken later does not land there), and the launcher
 * replaces TSV_NOFILE and TSV_NODE_EXTRA_CA_CERTS, which the link then consumes. */
function enterNextLink(state: ChainState): void {
  envUnset(state.env, ENV.nofile);
  // the next launcher would park NODE_EXTRA_CA_CERTS and that link put it back: a no-op, but a
  // stale TSV_NODE_EXTRA_CA_CERTS would be dropped
  envUnset(state.env, ENV.extraCaCerts);
  for (const fd of [...state.closedStdio].sort((a, b) => a - b)) {
    const got = openSync('/dev/null', 'r+');
    if (got !== fd) {
      dup2(got, fd);
      closeSync(got);
    }
  }
  state.closedStdio = [];
}

/** Load a wrapper for fusion; undefined when its module cannot be read (e.g. after dropping
 * to a user who may not read this installation: the real chain would fail the same way, so
 * exec it for real and let it). */
async function loadLink(name: WrapperName): Promise<Link | undefined> {
  try {
    return await LINKS[name]();
  } catch {
    return undefined;
  }
}

/** Load, in parallel, the wrappers named (as a word or a path's last part) in args: the
 * arguments of every later link are a suffix of the first link's, so this covers the whole
 * chain. Loading them now rather than link by link saves a module-loading round trip per
 * link, and makes fusion independent of the rights of a user a link drops to (a checkout
 * under a 0700 home could no longer be read after setuidgid). A word that only looks like a
 * wrapper's name costs one unused module. */
async function preloadNamed(args: readonly string[]): Promise<void> {
  const names = new Set<WrapperName>();
  for (const a of args) {
    const base = a.slice(a.lastIndexOf('/') + 1);
    const name = WRAPPER_NAMES.find((n) => n === base);
    if (name !== undefined) names.add(name);
  }
  await Promise.all([...names].map(loadLink));
}

/** Run wrapper `name` with args, fusing the links that follow; resolves to the exit status
 * when nothing was exec'd (an error, reported with the failing link's name, or setlock -x).
 * first: the wrapper's function when the caller imported it statically (the CLI entries do:
 * modules found in the static graph load in parallel, a dynamic import adds a round trip). */
export async function runChain(name: WrapperName, args: readonly string[], first?: Link, state: ChainState = initialState()): Promise<number> {
  let link = name;
  // why argv[1]: the launcher runs `node "$0"`, so it is the path this program was run by
  state.runAs ??= runAsName(process.argv[1]);
  let linkArgs = args;
  let run = first ?? (await LINKS[name]());
  await preloadNamed(args);
  // why now: after a uid change our own bin/ may no longer be resolvable
  ourBinDir();
  for (;;) {
    try {
      // why each link: a fused link answers -h/--version as the exec'd program would. chpst's
      // -V is runit's (the version, then the usage, exit 100): only --version is ours there.
      const meta = metaRequest(linkArgs, link === 'chpst');
      if (meta !== undefined) {
        writeOut(meta === 'help' ? wrapperHelp(link, state.runAs ?? link) : `${versionLine(state.runAs ?? link)}\n`);
        return 0;
      }
      const next = run(linkArgs, state);
      if ('exitCode' in next) return next.exitCode;
      const fused = fusionTarget(next, state);
      const fusedRun = fused === undefined ? undefined : await loadLink(fused);
      if (fused === undefined || fusedRun === undefined) execNext(next, state);
      enterNextLink(state);
      link = fused;
      // the real chain's launcher would see the name the program was looked up by
      state.runAs = runAsName(next.prog);
      linkArgs = next.argv.slice(1);
      run = fusedRun;
    } catch (err) {
      return report(link, err);
    }
  }
}
