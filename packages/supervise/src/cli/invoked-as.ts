// The name a program was run as: a symlink named like a peer (runsv, runsvdir) makes it behave
// as that peer, usage lines and exit codes included.

/** Basename of the launcher as invoked (process.argv[1]), without a .cjs/.mjs/.js suffix. */
export function invokedAs(argv1: string | undefined, fallback: string): string {
  if (argv1 === undefined || argv1 === '') return fallback;
  // why: Node keeps argv[1] as given (made absolute, symlinks not resolved), so a symlink
  // runsvdir -> tsvscan.cjs shows up here as .../runsvdir.
  const base = argv1.slice(argv1.lastIndexOf('/') + 1).replace(/\.[cm]?js$/, '');
  return base === '' ? fallback : base;
}
