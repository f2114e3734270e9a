// djb-style error strings (runit, daemontools), not libc strerror: see shared spec README.

const TABLE: Readonly<Record<string, string>> = {
  ENOENT: 'file does not exist',
  EACCES: 'access denied',
  EPERM: 'permission denied',
  EAGAIN: 'temporary failure',
  EWOULDBLOCK: 'temporary failure',
  ENXIO: 'device not configured',
  EISDIR: 'is a directory',
  ENOTDIR: 'not a directory',
  EEXIST: 'file already exists',
  EINTR: 'interrupted system call',
  ENOMEM: 'out of memory',
  ENOSPC: 'out of disk space',
  EPIPE: 'broken pipe',
  EROFS: 'read-only file system',
  ENOEXEC: 'exec format error',
  EINVAL: 'invalid argument',
  EBUSY: 'device busy',
  ELOOP: 'symbolic link loop',
  ENAMETOOLONG: 'file name too long',
  ESRCH: 'no such process',
  ECHILD: 'no child processes',
  ETXTBSY: 'text busy',
  EMFILE: 'out of file descriptors',
  ENFILE: 'file table overflow',
  EBADF: 'file descriptor not open',
  EIO: 'input/output error',
  EDQUOT: 'disk quota exceeded',
  E2BIG: 'argument list too long',
};

/** The djb error text for an error code such as 'ENOENT' (falls back to the code itself). */
export function errstrOfCode(code: string | undefined): string {
  if (code === undefined) return 'unknown error';
  return TABLE[code] ?? code.toLowerCase();
}

/** The djb error text for a thrown value (a Node system error or anything else). */
export function errstr(err: unknown): string {
  if (err !== null && typeof err === 'object' && 'code' in err && typeof err.code === 'string') {
    return errstrOfCode(err.code);
  }
  return err instanceof Error ? err.message : String(err);
}

/** The code of a Node system error, or undefined. */
export function errCode(err: unknown): string | undefined {
  if (err !== null && typeof err === 'object' && 'code' in err && typeof err.code === 'string') return err.code;
  return undefined;
}
