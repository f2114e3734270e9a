// `tsvctl new`'s command line split in two before yargs sees it: options and NAME (for yargs),
// and CMD, passed through untouched (yargs would read CMD's own options and turn `8000` into a
// number). CMD is what follows `--`, else every word after NAME.

/** new's options that take a value in the next word (unless written --opt=value). */
const WITH_VALUE = new Set(['--cwd', '--user', '--env', '--ready-fd']);

/** The words for yargs, and CMD's words (empty when this is not `new`). */
export function splitNewArgs(args: readonly string[]): { yargsArgs: string[]; cmd: string[] } {
  if (args[0] !== 'new') return { yargsArgs: [...args], cmd: [] };
  const dd = args.indexOf('--');
  if (dd >= 0) return { yargsArgs: args.slice(0, dd), cmd: args.slice(dd + 1) };
  for (let i = 1; i < args.length; i++) {
    const a = args[i] as string;
    if (WITH_VALUE.has(a)) {
      i++;
      continue;
    }
    if (a.startsWith('-') && a !== '-') continue;
    // why: the first operand is NAME; whatever follows belongs to CMD, options included.
    return { yargsArgs: args.slice(0, i + 1), cmd: args.slice(i + 1) };
  }
  return { yargsArgs: [...args], cmd: [] };
}
