// Builds the addon from source with node-gyp at install time (no prebuilt download: these
// machines cannot fetch one). Passes --nodedir explicitly when Node's headers are installed
// beside the running node (Debian puts them under /usr), so no user config is needed.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

const prefix = dirname(dirname(process.execPath));
const args = ['rebuild'];
if (existsSync(join(prefix, 'include', 'node', 'node_api.h'))) args.push(`--nodedir=${prefix}`);
const gyp = process.env.npm_config_node_gyp;
const r = gyp
  ? spawnSync(process.execPath, [gyp, ...args], { stdio: 'inherit' })
  : spawnSync('node-gyp', args, { stdio: 'inherit' });
if (r.error) {
  process.stderr.write(`tsv native: unable to run node-gyp: ${r.error.message}\n`);
  process.exit(1);
}
process.exit(r.status ?? 1);
