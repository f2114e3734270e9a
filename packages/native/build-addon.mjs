// The addon's install step. When the package ships a prebuilt addon for this platform and
// architecture (prebuilds/<platform>-<arch>/*.node: the published package does, see
// scripts/pack.mjs) and it loads here, there is nothing to do: no compiler needed. Otherwise
// (the workspace, which has no prebuilds/; another architecture; a libc the prebuild does not
// load on; or npm_config_build_from_source=true) it builds from source with node-gyp (needs
// python3, make and a C compiler), passing --nodedir when Node's headers are installed beside
// the running node (Debian puts them under /usr), so no user config is needed.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

/** The prebuilt addon for this platform that loads in this Node, if any. */
function loadablePrebuild() {
  const dir = join(here, 'prebuilds', `${process.platform}-${process.arch}`);
  if (!existsSync(dir)) return undefined;
  const require = createRequire(import.meta.url);
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.node'))) {
    try {
      // why load it rather than trust the name: a glibc build does not load on musl (Alpine).
      require(join(dir, f));
      return join(dir, f);
    } catch (e) {
      process.stderr.write(`tsv native: prebuilt ${f} does not load here (${e.message}): building from source\n`);
    }
  }
  return undefined;
}

const prebuilt = process.env.npm_config_build_from_source === 'true' ? undefined : loadablePrebuild();
if (prebuilt !== undefined) {
  process.stdout.write(`tsv native: using the prebuilt addon ${prebuilt.slice(here.length + 1)}\n`);
  process.exit(0);
}

const prefix = dirname(dirname(process.execPath));
const args = ['rebuild'];
if (existsSync(join(prefix, 'include', 'node', 'node_api.h'))) args.push(`--nodedir=${prefix}`);
const gyp = process.env.npm_config_node_gyp;
const r = gyp
  ? spawnSync(process.execPath, [gyp, ...args], { stdio: 'inherit', cwd: here })
  : spawnSync('node-gyp', args, { stdio: 'inherit', cwd: here });
if (r.error) {
  process.stderr.write(`tsv native: unable to run node-gyp: ${r.error.message}\n`);
  process.exit(1);
}
if (r.status !== 0) process.stderr.write('tsv native: building the addon from source failed: it needs python3, make and a C compiler (no prebuilt addon for this platform)\n');
process.exit(r.status ?? 1);
