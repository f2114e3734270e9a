// Packs the one package users install: `npm i -g tsvscan` / `npx tsvscan DIR` (the workspace's
// packages are private and wired by name; users get a single package with every executable).
//
//   node scripts/pack.mjs [OUTDIR]      (after `npm run build`; default OUTDIR: the current dir)
//
// prints the path of the tarball (tsvscan-VERSION.tgz). What goes in it, built in a temporary
// directory (nothing of the work tree changes):
//   bin/NAME.cjs         the launchers, as in packages/*/bin (so chain fusion finds ../bin)
//   dist/NAME.bundle.cjs the executables bundled again with the addon named relative to them
//                        (define __TSV_ADDON__, see packages/native/lib/index.ts), no source maps
//   addon.cjs            node-gyp-build's loader, bundled in (no runtime dependency at all)
//   prebuilds/linux-x64, prebuilds/linux-arm64   the addon prebuilt with prebuildify (N-API, so
//                        one binary serves every Node >= 20.19); arm64 cross-compiled with
//                        Debian's aarch64-linux-gnu-gcc
//   build-addon.mjs, binding.gyp, src/  the install step: nothing when a prebuild loads, else a
//                        build from source (the fallback: other architectures, musl)
// Why prebuilt: installing with a prebuild takes no compiler and a few seconds; without one the
// install needs python3, make and a C compiler (see docs/install.md for the figures).
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { bundleAll, launchers } from './bundle.mjs';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const native = join(root, 'packages', 'native');
/** The published name: `npx tsvscan DIR` runs the bin of the package's own name. */
export const PACKAGE_NAME = 'tsvscan';

/** Run a command, failing loudly (this is a build script: its errors go to the developer). */
function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', ...opts });
  if (r.error) throw new Error(`${cmd}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: exit ${r.status}\n${r.stdout ?? ''}${r.stderr ?? ''}`);
  return r.stdout ?? '';
}

/** Build the addon with prebuildify for arch into stage/prebuilds (in a scratch copy of the
 * sources, so packages/native/build, the workspace's own addon, is left alone). */
function prebuild(stage, arch) {
  const work = mkdtempSync(join(tmpdir(), `tsv-prebuild-${arch}-`));
  try {
    cpSync(join(native, 'src'), join(work, 'src'), { recursive: true });
    copyFileSync(join(native, 'binding.gyp'), join(work, 'binding.gyp'));
    // why: prebuildify names the binary after package.json's name (prebuilds/linux-x64/tsv_native.node).
    writeFileSync(join(work, 'package.json'), '{"name":"tsv_native","version":"0.0.0","private":true}\n');
    // why a directory holding only include/node: node-gyp adds <nodedir>/include/node to the
    // include path; with nodedir=/usr (Debian's headers) it would add /usr/include, the host's
    // libc headers, ahead of the cross compiler's own (the arm64 build then fails).
    const headers = join(dirname(dirname(process.execPath)), 'include', 'node');
    const env = { ...process.env };
    if (existsSync(join(headers, 'node_api.h'))) {
      mkdirSync(join(work, 'nodedir', 'include'), { recursive: true });
      symlinkSync(headers, join(work, 'nodedir', 'include', 'node'));
      env.npm_config_nodedir = join(work, 'nodedir');
    }
    const args = ['--napi', '--strip', '--arch', arch];
    if (arch !== process.arch) {
      const cross = { arm64: 'aarch64-linux-gnu', x64: 'x86_64-linux-gnu' }[arch];
      if (cross === undefined) throw new Error(`no cross compiler known for ${arch}`);
      // why gcc as the linker too: the addon is C only, and the cross g++ is not needed.
      Object.assign(env, { CC: `${cross}-gcc`, CXX: `${cross}-gcc`, LINK: `${cross}-gcc` });
      args.push('--strip-bin', `${cross}-strip`);
    }
    env.PATH = `${join(root, 'node_modules', '.bin')}:${env.PATH ?? ''}`;
    // why piped: node-gyp's progress goes to stderr; it is shown only when the build fails.
    run(process.execPath, [join(root, 'node_modules', 'prebuildify', 'bin.js'), ...args], { cwd: work, env, stdio: ['ignore', 'pipe', 'pipe'] });
    cpSync(join(work, 'prebuilds'), join(stage, 'prebuilds'), { recursive: true });
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** The package.json users install. */
function manifest() {
  const rootPkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const version = JSON.parse(readFileSync(join(native, 'package.json'), 'utf8')).version;
  const bin = {};
  for (const { name } of launchers()) bin[name] = `bin/${name}.cjs`;
  return {
    name: PACKAGE_NAME,
    version,
    description: rootPkg.description,
    keywords: ['supervisor', 'runit', 'daemontools', 'process', 'service', 'init'],
    os: ['linux'],
    engines: rootPkg.engines,
    bin,
    // why no dependencies: node-gyp-build is bundled into addon.cjs, everything else into the
    // bundles, so installing the tarball fetches nothing (it works offline).
    scripts: { install: 'node build-addon.mjs' },
    files: ['bin/', 'dist/', 'addon.cjs', 'build-addon.mjs', 'binding.gyp', 'src/', 'prebuilds/', 'README.md'],
  };
}

/** Assemble the package in a temporary directory, pack it into outDir; returns the tarball. */
export async function pack(outDir, { arches = ['x64', 'arm64'] } = {}) {
  const stage = mkdtempSync(join(tmpdir(), 'tsv-pack-'));
  try {
    await bundleAll({ outDir: () => join(stage, 'dist'), define: { __TSV_ADDON__: '"../addon.cjs"' }, sourcemap: false });
    mkdirSync(join(stage, 'bin'));
    for (const { name, launcher } of launchers()) {
      copyFileSync(launcher, join(stage, 'bin', `${name}.cjs`));
      chmodSync(join(stage, 'bin', `${name}.cjs`), 0o755);
    }
    await build({ entryPoints: [join(native, 'addon.cjs')], outfile: join(stage, 'addon.cjs'), bundle: true, platform: 'node', format: 'cjs', target: 'node20', logLevel: 'error' });
    copyFileSync(join(native, 'build-addon.mjs'), join(stage, 'build-addon.mjs'));
    copyFileSync(join(native, 'binding.gyp'), join(stage, 'binding.gyp'));
    cpSync(join(native, 'src'), join(stage, 'src'), { recursive: true });
    for (const arch of arches) prebuild(stage, arch);
    copyFileSync(join(root, 'README.md'), join(stage, 'README.md'));
    writeFileSync(join(stage, 'package.json'), `${JSON.stringify(manifest(), null, 2)}\n`);
    mkdirSync(outDir, { recursive: true });
    const out = run('npm', ['pack', '--json', '--pack-destination', resolve(outDir)], { cwd: stage });
    return join(resolve(outDir), basename(JSON.parse(out)[0].filename));
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

// why realpath: run through a symlinked scripts/ (as the README test does), argv[1] is the link's
// path while import.meta.url is the file's real one.
if (process.argv[1] !== undefined && realpathSync(resolve(process.argv[1])) === fileURLToPath(import.meta.url)) {
  process.stdout.write(`${await pack(process.argv[2] ?? '.')}\n`);
}
