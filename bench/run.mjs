// `npm run bench`: runs every bench/*.bench.mjs (each exports `title` and `run()` returning a
// markdown section) and writes them, with the machine's description, to docs/benchmarks.md.
// `npm run bench -- NAME` runs only the benchmarks whose file name contains NAME.
import { readdirSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './lib.mjs';

const only = process.argv[2];
const dir = join(ROOT, 'bench');
const files = readdirSync(dir).filter((f) => f.endsWith('.bench.mjs') && (!only || f.includes(only))).sort();
const out = join(ROOT, 'docs', 'benchmarks.md');
const sections = new Map();
/** hand-written notes after a section's end marker, up to the next section: kept as they are */
const notes = new Map();
// Keep sections of benchmarks not run this time, so a partial run does not erase them.
if (existsSync(out)) {
  const old = readFileSync(out, 'utf8');
  for (const m of old.matchAll(/<!-- bench:(\S+) -->\n([\s\S]*?)<!-- \/bench:\1 -->\n?([\s\S]*?)(?=<!-- bench:|$)/g)) {
    sections.set(m[1], m[2]);
    if (m[3].trim() !== '') notes.set(m[1], m[3]);
  }
}
for (const f of files) {
  const name = f.replace(/\.bench\.mjs$/, '');
  process.stderr.write(`bench: ${name}...\n`);
  const mod = await import(join(dir, f));
  const body = await mod.run();
  sections.set(name, `## ${mod.title}\n\n${body.trim()}\n`);
  process.stdout.write(`\n## ${mod.title}\n\n${body.trim()}\n`);
}
const head = `# Benchmarks\n\nWritten by \`npm run bench\` (bench/). Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}. Peers are measured side by side in the same run when installed; \`node -e ''\` is the floor, measured in the same environment (NODE_EXTRA_CA_CERTS=${process.env.NODE_EXTRA_CA_CERTS ? 'set' : 'unset'}).\n`;
const body = [...sections.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `<!-- bench:${k} -->\n${v}<!-- /bench:${k} -->${notes.has(k) ? `\n${notes.get(k).trimEnd()}\n` : ''}`).join('\n');
writeFileSync(out, `${head}\n${body}\n`);
process.stderr.write(`bench: wrote ${out}\n`);
