// One check of the addon's Node-style errors, shared by its test files: an Error with code (the
// errno name), errno (negative, as Node's), syscall, path only where the call takes one, and the
// message `CODE: description, syscall 'path'`.
import type { Test } from 'tap';
import { constants } from 'node:os';

/** What a Node-style error must hold: one code, or any of several (kernels differ). */
export interface Want {
  code: string | string[];
  /** the strerror text; unchecked when absent */
  desc?: string;
  syscall: string;
  path?: string;
}

/** Assert that fn throws the Node-style error want describes. */
export function throwsNodeError(t: Test, fn: () => unknown, want: Want, what: string): void {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  t.ok(err instanceof Error, `${what}: throws an Error`);
  const e = err as NodeJS.ErrnoException;
  const codes = Array.isArray(want.code) ? want.code : [want.code];
  t.ok(codes.includes(e.code as string), `${what}: code ${e.code} in ${codes.join(', ')}`);
  t.equal(e.errno, -(constants.errno as Record<string, number>)[e.code as string]!, `${what}: errno is minus ${e.code}`);
  t.equal(e.syscall, want.syscall, `${what}: syscall`);
  if (want.path === undefined) t.notOk('path' in e, `${what}: no path`);
  else t.equal(e.path, want.path, `${what}: path`);
  if (want.desc !== undefined) {
    const tail = want.path === undefined ? '' : ` '${want.path}'`;
    t.equal(e.message, `${e.code}: ${want.desc}, ${want.syscall}${tail}`, `${what}: message`);
  }
}
