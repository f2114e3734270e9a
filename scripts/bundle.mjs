// Bundles every executable of the workspace into one CommonJS file,
// packages/<pkg>/dist/<name>.bundle.cjs (with <name>.bundle.cjs.map), required by its launcher packages/<pkg>/bin/<name>.cjs.
// Why: Node 20 loads ES modules one file at a time (about 1 ms each) and starting its ES module
// loader at all costs ~10 ms more; one CommonJS file starts ~30 ms faster than ~15 ES modules,
// and start-up time is a feature of every tool here. Runs after `tsc -b` (it bundles tsc's
// output, so type checking stays tsc's job). import.meta.url becomes the bundle's own file URL;
// the bundle sits in dist/, the depth of the modules it replaces, so paths computed from it
// (../bin, ../package.json) still resolve, and the addon is found by package name.
import { build } from 'esbuild';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const packagesDir = resolve(fileURLToPath(new URL('../packages', import.meta.url)));
// why: CommonJS has no import.meta; the sources' import.meta.url becomes this file's URL.
const banner = "const __tsvMetaUrl = require('node:url').pathToFileURL(__filename).href;";

/** Every { pkgDir, name } pair of an executable declared in a workspace package's "bin". */
function executables() {
  const out = [];
  for (const pkg of readdirSync(packagesDir)) {
    const manifest = join(packagesDir, pkg, 'package.json');
    if (!existsSync(manifest)) continue;
    const bins = JSON.parse(readFileSync(manifest, 'utf8')).bin ?? {};
    for (const name of Object.keys(bins)) out.push({ pkgDir: join(packagesDir, pkg), name });
  }
  return out;
}

// Modules bundled into a file of their own beside the executable's bundle, which requires that
// file only when it imports the module. Why: esbuild puts a lazily imported module into the same
// file (run only when imported, but parsed at every start); yargs (tsvctl's own verbs) is 280 KB
// that `tsvctl status` must neither read nor parse. Keyed by executable: module (relative to
// dist/) and the bundle's name.
// chokidar (watch mode's watcher) is loaded only for a service with a `watch` file.
const separate = {
  tsvctl: [{ module: 'verbs/front.js', bundle: 'tsvctl-front' }],
  tsv: [{ module: 'watch-files.js', bundle: 'tsv-watch' }],
  tsvscan: [{ module: 'watch-files.js', bundle: 'tsvscan-watch' }],
};

/** An esbuild plugin: imports of the separate modules become requires of their bundles. */
function separatePlugin(dist, mods) {
  return {
    name: 'separate',
    setup(b) {
      b.onResolve({ filter: /^\./ }, (args) => {
        const m = mods.find((x) => resolve(args.resolveDir, args.path) === join(dist, x.module));
        return m === undefined ? undefined : { path: `./${m.bundle}.bundle.cjs`, external: true };
      });
    },
  };
}

/** esbuild options shared by every bundle. */
const common = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  // why: CommonJS has no import(): lazy imports of a separate bundle become require() calls
  // (bundled modules are unaffected: esbuild inlines them either way).
  supported: { 'dynamic-import': false },
  define: { 'import.meta.url': '__tsvMetaUrl' },
  banner: { js: banner },
  // why: a .map beside each bundle (and its sourceMappingURL comment), chained through tsc's own
  // maps, lets coverage (NODE_V8_COVERAGE, tap's report) count lines of packages/*/src/*.ts.
  // Node reads the map only when source maps or coverage are on, so a normal start pays nothing.
  sourcemap: 'linked',
  logLevel: 'warning',
};

/** Bundle every executable. outDir(pkgDir) is where a package's bundles go (default its dist/);
 * define adds esbuild defines; sourcemap false drops the maps (the published package). */
export async function bundleAll({ outDir = (pkgDir) => join(pkgDir, 'dist'), define = {}, sourcemap = common.sourcemap } = {}) {
  const opts = { ...common, sourcemap, define: { ...common.define, ...define } };
  await Promise.all(
    executables().flatMap(({ pkgDir, name }) => {
      const dist = join(pkgDir, 'dist');
      const out = outDir(pkgDir);
      const mods = separate[name] ?? [];
      return [
        build({ ...opts, entryPoints: [join(dist, 'cli', `${name}.js`)], outfile: join(out, `${name}.bundle.cjs`), plugins: [separatePlugin(dist, mods)] }),
        ...mods.map((m) => build({ ...opts, entryPoints: [join(dist, m.module)], outfile: join(out, `${m.bundle}.bundle.cjs`) })),
      ];
    }),
  );
}

/** Every executable's launcher: { name, pkgDir, launcher } (packages/<pkg>/bin/<name>.cjs). */
export function launchers() {
  return executables().map(({ pkgDir, name }) => {
    const bins = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')).bin;
    return { name, pkgDir, launcher: join(pkgDir, bins[name]) };
  });
}

// why the check: scripts/pack.mjs imports this file for bundleAll; run as a script, it bundles.
if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await bundleAll();
