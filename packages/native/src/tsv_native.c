/* tsv_native: the only C in tsv. The Unix calls Node lacks, nothing more.
 * Every failure throws a Node-style error: code, errno (negative), syscall, path. */
#define _GNU_SOURCE
#define NAPI_VERSION 8
#include <node_api.h>
#include <uv.h>

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef SYS_close_range
#define SYS_close_range 436 /* the same on every architecture (the generic table) */
#endif
#define TSV_CLOSE_RANGE_UNSHARE (1U << 1)

#define MAX_PATH_ARG 4096

/* A Node-style system error for errno e, described by what (NULL: strerror's text). */
static napi_value make_errno_as(napi_env env, int e, const char *what, const char *syscall, const char *path) {
  const char *name = strerrorname_np(e);
  if (name == NULL) name = "UNKNOWN";
  char desc[256];
  snprintf(desc, sizeof desc, "%s", what != NULL ? what : strerror(e));
  if (desc[0] >= 'A' && desc[0] <= 'Z') desc[0] = (char)(desc[0] - 'A' + 'a');
  char msg[MAX_PATH_ARG + 400];
  if (path != NULL)
    snprintf(msg, sizeof msg, "%s: %s, %s '%s'", name, desc, syscall, path);
  else
    snprintf(msg, sizeof msg, "%s: %s, %s", name, desc, syscall);
  napi_value code, message, err, v;
  napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &code);
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &message);
  napi_create_error(env, code, message, &err);
  napi_create_int32(env, -e, &v);
  napi_set_named_property(env, err, "errno", v);
  napi_set_named_property(env, err, "code", code);
  napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, err, "syscall", v);
  if (path != NULL) {
    napi_create_string_utf8(env, path, NAPI_AUTO_LENGTH, &v);
    napi_set_named_property(env, err, "path", v);
  }
  return err;
}

/* Throw a Node-style system error for errno e, described by what (NULL: strerror's text). */
static napi_value throw_errno_as(napi_env env, int e, const char *what, const char *syscall, const char *path) {
  napi_throw(env, make_errno_as(env, e, what, syscall, path));
  return NULL;
}

/* Throw a Node-style system error for errno e. */
static napi_value throw_errno(napi_env env, int e, const char *syscall, const char *path) {
  return throw_errno_as(env, e, NULL, syscall, path);
}

/* Throw a TypeError for a bad argument. */
static napi_value throw_type(napi_env env, const char *msg) {
  napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", msg);
  return NULL;
}

/* Read argument i as an int32; false (with a pending TypeError) when it is not a number. */
static int arg_int(napi_env env, napi_value v, int32_t *out) {
  napi_valuetype t;
  napi_typeof(env, v, &t);
  if (t != napi_number) { throw_type(env, "expected a number"); return 0; }
  napi_get_value_int32(env, v, out);
  return 1;
}

/* Read a string argument into a malloc'd buffer (caller frees); NULL with a pending TypeError. */
static char *arg_str(napi_env env, napi_value v) {
  napi_valuetype t;
  napi_typeof(env, v, &t);
  if (t != napi_string) { throw_type(env, "expected a string"); return NULL; }
  size_t len = 0;
  napi_get_value_string_utf8(env, v, NULL, 0, &len);
  char *s = malloc(len + 1);
  if (s == NULL) { throw_errno(env, ENOMEM, "malloc", NULL); return NULL; }
  napi_get_value_string_utf8(env, v, s, len + 1, &len);
  return s;
}

/* Read an array of strings into a NULL-terminated, malloc'd vector; NULL on error. */
static char **arg_strv(napi_env env, napi_value arr) {
  bool is_arr = false;
  napi_is_array(env, arr, &is_arr);
  if (!is_arr) { throw_type(env, "expected an array of strings"); return NULL; }
  uint32_t n = 0;
  napi_get_array_length(env, arr, &n);
  char **v = calloc((size_t)n + 1, sizeof(char *));
  if (v == NULL) { throw_errno(env, ENOMEM, "malloc", NULL); return NULL; }
  for (uint32_t i = 0; i < n; i++) {
    napi_value e;
    napi_get_element(env, arr, i, &e);
    v[i] = arg_str(env, e);
    if (v[i] == NULL) {
      for (uint32_t j = 0; j < i; j++) free(v[j]);
      free(v);
      return NULL;
    }
  }
  return v;
}

/* Free a vector made by arg_strv. */
static void free_strv(char **v) {
  if (v == NULL) return;
  for (char **p = v; *p != NULL; p++) free(*p);
  free(v);
}

/* Fetch up to max call arguments. */
static size_t get_args(napi_env env, napi_callback_info info, napi_value *argv, size_t max) {
  size_t argc = max;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  return argc;
}

/* Fetch exactly n arguments; false (with a pending TypeError) when fewer were passed, so a
 * caller's `return NULL` always throws instead of returning undefined. */
static int need_args(napi_env env, napi_callback_info info, napi_value *argv, size_t n) {
  if (get_args(env, info, argv, n) >= n) return 1;
  napi_throw_type_error(env, "ERR_MISSING_ARGS", "too few arguments");
  return 0;
}

static napi_value undefined(napi_env env) {
  napi_value u;
  napi_get_undefined(env, &u);
  return u;
}

static napi_value num(napi_env env, double d) {
  napi_value v;
  napi_create_double(env, d, &v);
  return v;
}

/* execve(path, argv, envp, keepFds): replace this process, leaving no Node residue.
 * Only returns by throwing; the process state it changed is restored first. */
static napi_value Execve(napi_env env, napi_callback_info info) {
  napi_value a[4];
  if (get_args(env, info, a, 4) < 4) return throw_type(env, "execve(path, argv, envp, keepFds)");
  char *path = arg_str(env, a[0]);
  if (path == NULL) return NULL;
  char **argv = arg_strv(env, a[1]);
  char **envp = argv ? arg_strv(env, a[2]) : NULL;
  bool is_arr = false;
  napi_is_array(env, a[3], &is_arr);
  if (argv == NULL || envp == NULL || !is_arr) {
    free(path); free_strv(argv); free_strv(envp);
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    return pending ? NULL : throw_type(env, "keepFds must be an array of numbers");
  }
  uint32_t nkeep = 0;
  napi_get_array_length(env, a[3], &nkeep);
  for (uint32_t i = 0; i < nkeep; i++) {
    napi_value e;
    int32_t fd = -1;
    napi_get_element(env, a[3], i, &e);
    if (napi_get_value_int32(env, e, &fd) != napi_ok || fd < 0) continue;
    /* why: Node opens every fd close-on-exec; an fd meant for the new program must lose the flag. */
    int fl = fcntl(fd, F_GETFD);
    if (fl >= 0) fcntl(fd, F_SETFD, fl & ~FD_CLOEXEC);
  }
  for (int fd = 0; fd <= 2; fd++) {
    /* why: libuv makes stdio pipes and TTYs non-blocking, and O_NONBLOCK lives in the open file
     * description shared with other processes; a program started from a shell expects blocking
     * stdio. Node also marks 0-2 close-on-exec at start-up. */
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0 && (fl & O_NONBLOCK)) fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    int fdfl = fcntl(fd, F_GETFD);
    if (fdfl >= 0 && (fdfl & FD_CLOEXEC)) fcntl(fd, F_SETFD, fdfl & ~FD_CLOEXEC);
  }
  /* why: ignored signals stay ignored across execve; Node ignores SIGPIPE and SIGXFSZ, which a
   * program started from a shell would see at their default action. Handled signals reset by
   * themselves. */
  unsigned char was_ignored[NSIG];
  memset(was_ignored, 0, sizeof was_ignored);
  for (int s = 1; s < NSIG; s++) {
    struct sigaction sa;
    if (sigaction(s, NULL, &sa) == 0 && sa.sa_handler == SIG_IGN && !(sa.sa_flags & SA_SIGINFO)) {
      was_ignored[s] = 1;
      signal(s, SIG_DFL);
    }
  }
  sigset_t empty, old;
  sigemptyset(&empty);
  /* why: the signal mask survives execve; the new program must start with nothing blocked. */
  pthread_sigmask(SIG_SETMASK, &empty, &old);
  execve(path, argv, envp);
  int e = errno;
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  for (int s = 1; s < NSIG; s++)
    if (was_ignored[s]) signal(s, SIG_IGN);
  throw_errno(env, e, "execve", path);
  free(path); free_strv(argv); free_strv(envp);
  return NULL;
}

/* flock(fd, exclusive, nonblocking): take a flock(2) lock (never fcntl: runsv uses flock). */
static napi_value Flock(napi_env env, napi_callback_info info) {
  napi_value a[3];
  if (get_args(env, info, a, 3) < 3) return throw_type(env, "flock(fd, exclusive, nonblocking)");
  int32_t fd;
  bool ex = true, nb = false;
  if (!arg_int(env, a[0], &fd)) return NULL;
  napi_get_value_bool(env, a[1], &ex);
  napi_get_value_bool(env, a[2], &nb);
  int op = (ex ? LOCK_EX : LOCK_SH) | (nb ? LOCK_NB : 0);
  int r;
  /* why: a blocking flock is interrupted by any signal Node handles; waiting must go on. */
  do r = flock(fd, op); while (r < 0 && errno == EINTR);
  if (r < 0) return throw_errno(env, errno, "flock", NULL);
  return undefined(env);
}

/* funlock(fd): release a flock(2) lock. */
static napi_value Funlock(napi_env env, napi_callback_info info) {
  napi_value a[1];
  int32_t fd;
  if (!need_args(env, info, a, 1) || !arg_int(env, a[0], &fd)) return NULL;
  if (flock(fd, LOCK_UN) < 0) return throw_errno(env, errno, "flock", NULL);
  return undefined(env);
}

/* mkfifo(path, mode). */
static napi_value Mkfifo(napi_env env, napi_callback_info info) {
  napi_value a[2];
  int32_t mode;
  if (get_args(env, info, a, 2) < 2) return throw_type(env, "mkfifo(path, mode)");
  char *path = arg_str(env, a[0]);
  if (path == NULL) return NULL;
  if (!arg_int(env, a[1], &mode)) { free(path); return NULL; }
  if (mkfifo(path, (mode_t)mode) < 0) {
    throw_errno(env, errno, "mkfifo", path);
    free(path);
    return NULL;
  }
  free(path);
  return undefined(env);
}

/* Read the optional dir fd argument i (AT_FDCWD when absent or undefined); false with a
 * pending TypeError when it is there and not a number. */
static int opt_dir_fd(napi_env env, napi_callback_info info, napi_value *a, size_t i, int32_t *dir) {
  size_t argc = get_args(env, info, a, i + 1);
  if (argc <= i) return 1;
  napi_valuetype t;
  napi_typeof(env, a[i], &t);
  if (t == napi_undefined) return 1;
  return arg_int(env, a[i], dir);
}

/* The arguments (name, x[, dirFd]) of writeSpare and renameExchange: name as a malloc'd string
 * (the caller frees), a[1] left to the caller, *dir the fd or AT_FDCWD; NULL on error. */
static char *args_name_dir(napi_env env, napi_callback_info info, napi_value *a, int32_t *dir) {
  if (!need_args(env, info, a, 2)) return NULL;
  *dir = AT_FDCWD;
  if (!opt_dir_fd(env, info, a, 2, dir)) return NULL;
  return arg_str(env, a[0]);
}

/* Read a Buffer or string argument: *data points into the Buffer, or at *owned (malloc'd, the
 * caller frees) for a string; false with a pending TypeError for anything else. */
static int arg_bytes(napi_env env, napi_value v, const char **data, size_t *len, char **owned) {
  bool is_buf = false;
  *owned = NULL;
  napi_is_buffer(env, v, &is_buf);
  if (is_buf) {
    void *d = NULL;
    napi_get_buffer_info(env, v, &d, len);
    *data = d;
    return 1;
  }
  napi_valuetype t;
  napi_typeof(env, v, &t);
  if (t != napi_string) { throw_type(env, "expected a string or a Buffer"); return 0; }
  /* why the length napi reports, not strlen: a string may hold NUL characters, and its whole
   * UTF-8 form is written, as writeFileSync would. */
  size_t n = 0;
  napi_get_value_string_utf8(env, v, NULL, 0, &n);
  *owned = malloc(n + 1);
  if (*owned == NULL) { throw_errno(env, ENOMEM, "malloc", NULL); return 0; }
  napi_get_value_string_utf8(env, v, *owned, n + 1, len);
  *data = *owned;
  return 1;
}

/* A handler that does nothing, for SIGIO (see WriteSpare). */
static void ignore_signal(int s) { (void)s; }

/* Make sure a lease-break signal (SIGIO) cannot end the process. */
static void guard_sigio(void) {
  static bool done = false;
  if (done) return;
  done = true;
  struct sigaction cur;
  if (sigaction(SIGIO, NULL, &cur) < 0) return;
  /* why a handler, not SIG_IGN: an ignored signal stays ignored in every child across execve,
   * a handler is reset to the default there; and one Node or the user set is kept. */
  if (cur.sa_handler != SIG_DFL || (cur.sa_flags & SA_SIGINFO)) return;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = ignore_signal;
  sa.sa_flags = SA_RESTART;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGIO, &sa, NULL);
}

/* The core of writeSpare (any thread): 1 written, 0 not a spare it may write, -errno when
 * the write failed. */
static int spare_rewrite(int dir, const char *path, const char *data, size_t len) {
  /* why O_NONBLOCK: a FIFO put there must not block the open (a regular file ignores it);
   * O_NOFOLLOW: a symlink put there must not send the write elsewhere. */
  int fd = openat(dir, path, O_WRONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) return 0;
  struct stat st;
  /* why one link: a second name would show the rewrite outside supervise/. */
  /* why a write lease: granted only when this is the file's only open file description (EAGAIN
   * otherwise: a reader of the last status still holds it); EINVAL, EACCES: no leases here. */
  if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1 || fcntl(fd, F_SETLEASE, F_WRLCK) < 0) {
    close(fd);
    return 0;
  }
  /* why: taking the lease made this process the owner its break is signalled to (SIGIO); no
   * owner, no signal, even where someone else's handler re-raises SIGIO to die of it. The opener
   * still waits for the write. guard_sigio (called by every entry point first) covers the one
   * syscall in between. */
  fcntl(fd, F_SETOWN, 0);
  size_t off = 0;
  int err = 0;
  while (off < len) {
    ssize_t w = pwrite(fd, data + off, len - off, (off_t)off);
    if (w < 0) {
      if (errno == EINTR) continue;
      err = errno;
      break;
    }
    off += (size_t)w;
  }
  if (err == 0 && (size_t)st.st_size > len && ftruncate(fd, (off_t)len) < 0) err = errno;
  fcntl(fd, F_SETLEASE, F_UNLCK);
  close(fd);
  return err != 0 ? -err : 1;
}

/* writeSpare(path, data[, dirFd]): rewrite the regular file path (relative to dirFd when given)
 * in place with data, only when no other
 * open file description of it exists anywhere; true when written, false when path is missing,
 * not a plain regular file of one link, or open elsewhere (or the filesystem has no leases).
 *
 * Why: a status write is a new file renamed over the old one, and on ext4 each create scans the
 * inodes freed in the last minutes and each rename over a file frees one (with a discard): most
 * of a supervisor's CPU per restart. Rewriting the spare copy (the file the last exchange put
 * out of sight) costs neither, and is exactly as safe as a fresh file for every reader: the
 * write lease is granted only when nobody else has the file open, and while it is held any open
 * of it waits until the write is whole, so no reader ever sees this inode change under it. */
static napi_value WriteSpare(napi_env env, napi_callback_info info) {
  napi_value a[3];
  int32_t dir;
  char *path = args_name_dir(env, info, a, &dir);
  if (path == NULL) return NULL;
  const char *data;
  size_t len;
  char *owned;
  if (!arg_bytes(env, a[1], &data, &len, &owned)) { free(path); return NULL; }
  guard_sigio();
  int r = spare_rewrite(dir, path, data, len);
  if (r < 0) {
    throw_errno(env, -r, "write", path);
    free(path); free(owned);
    return NULL;
  }
  free(path); free(owned);
  napi_value result;
  napi_get_boolean(env, r == 1, &result);
  return result;
}

#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif

/* The core of renameExchange (any thread): 1 exchanged, 0 renamed (nothing to swap with, or
 * no exchange on this filesystem), -errno when both failed (*syscall names the call). */
static int exchange_names(int dir, const char *from, const char *to, const char **sc) {
  /* why syscall(): glibc before 2.28 and musl lack a renameat2 wrapper. */
  if (syscall(SYS_renameat2, dir, from, dir, to, RENAME_EXCHANGE) == 0) return 1;
  int e = errno;
  /* why ENOENT alone is not enough: it also says from is missing, which rename reports. */
  if (e != ENOENT && e != EINVAL && e != ENOSYS) {
    *sc = "renameat2";
    return -e;
  }
  if (renameat(dir, from, dir, to) < 0) {
    *sc = "rename";
    return -errno;
  }
  return 0;
}

/* renameExchange(from, to[, dirFd]): swap the two names (relative to dirFd when given)
 * atomically (renameat2 RENAME_EXCHANGE), so to becomes from's file and from keeps to's old one;
 * true. Where to does not exist or the
 * filesystem cannot exchange, rename(2) from over to instead; false (from is gone then). */
static napi_value RenameExchange(napi_env env, napi_callback_info info) {
  napi_value a[3];
  int32_t dir;
  char *from = args_name_dir(env, info, a, &dir);
  if (from == NULL) return NULL;
  char *to = arg_str(env, a[1]);
  if (to == NULL) { free(from); return NULL; }
  const char *sc = NULL;
  int r = exchange_names(dir, from, to, &sc);
  if (r < 0) throw_errno(env, -r, sc, from);
  free(from); free(to);
  if (r < 0) return NULL;
  napi_value result;
  napi_get_boolean(env, r == 1, &result);
  return result;
}

/* ---- writeFiles: a status projection in one trip to the thread pool ---- */

/* One file of a writeFiles call, and how its write went. */
struct wf_file {
  char *tmp;   /* name.new */
  char *name;
  char *data;
  size_t len;
  int step;    /* 0: written and swapped in; else the WF_ step that failed */
  int err;
  const char *syscall;
};

enum { WF_OK = 0, WF_WRITE, WF_OPEN, WF_RENAME };

struct wf_work {
  napi_async_work work;
  napi_ref cb;
  int dir;
  uint32_t n;
  struct wf_file *files;
};

/* Make name.new afresh with data (create first; unlink and create again only where one is in
 * the way): 0, or -errno with *sc naming the call. */
static int wf_create(int dir, const char *tmp, const char *data, size_t len, const char **sc) {
  int fd;
  for (int tries = 0;; tries++) {
    do fd = openat(dir, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOCTTY | O_CLOEXEC, 0644); while (fd < 0 && errno == EINTR);
    if (fd >= 0) break;
    if (errno != EEXIST || tries > 0) {
      *sc = "open";
      return -errno;
    }
    if (unlinkat(dir, tmp, 0) < 0 && errno != ENOENT) {
      *sc = "unlink";
      return -errno;
    }
  }
  size_t off = 0;
  while (off < len) {
    ssize_t w = write(fd, data + off, len - off);
    if (w < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      close(fd);
      *sc = "write";
      return -e;
    }
    off += (size_t)w;
  }
  if (close(fd) < 0 && errno != EINTR) {
    *sc = "close";
    return -errno;
  }
  return 0;
}

/* The thread pool's part: every file in order, each rewritten in its spare or made afresh,
 * then swapped in. */
static void wf_execute(napi_env env, void *arg) {
  (void)env;
  struct wf_work *w = arg;
  for (uint32_t i = 0; i < w->n; i++) {
    struct wf_file *f = &w->files[i];
    int r = spare_rewrite(w->dir, f->tmp, f->data, f->len);
    if (r < 0) {
      f->step = WF_WRITE; f->err = -r; f->syscall = "write";
      continue;
    }
    if (r == 0) {
      r = wf_create(w->dir, f->tmp, f->data, f->len, &f->syscall);
      if (r < 0) {
        f->step = WF_OPEN; f->err = -r;
        continue;
      }
    }
    r = exchange_names(w->dir, f->tmp, f->name, &f->syscall);
    if (r < 0) {
      f->step = WF_RENAME; f->err = -r;
    }
  }
}

/* Free a writeFiles job's copies. */
static void wf_free(struct wf_work *w) {
  for (uint32_t i = 0; i < w->n; i++) {
    free(w->files[i].tmp); free(w->files[i].name); free(w->files[i].data);
  }
  free(w->files);
  free(w);
}

/* The results array of a writeFiles job: results[i] null, or file i's error (with .step);
 * every file an ECANCELED error when the job never ran (cancelled). */
static napi_value wf_results(napi_env env, struct wf_work *w, bool ran) {
  napi_value results;
  napi_create_array_with_length(env, w->n, &results);
  static const char *steps[] = { "", "write", "open", "rename" };
  for (uint32_t i = 0; i < w->n; i++) {
    struct wf_file *f = &w->files[i];
    napi_value v;
    if (ran && f->step == WF_OK) {
      napi_get_null(env, &v);
    } else {
      v = ran ? make_errno_as(env, f->err, NULL, f->syscall, f->tmp) : make_errno_as(env, ECANCELED, NULL, "write", f->tmp);
      napi_value st;
      napi_create_string_utf8(env, ran ? steps[f->step] : "open", NAPI_AUTO_LENGTH, &st);
      napi_set_named_property(env, v, "step", st);
    }
    napi_set_element(env, results, i, v);
  }
  return results;
}

/* Back on the loop: cb(results). */
static void wf_complete(napi_env env, napi_status status, void *arg) {
  struct wf_work *w = arg;
  napi_value cb, results, undef;
  napi_get_reference_value(env, w->cb, &cb);
  results = wf_results(env, w, status == napi_ok);
  napi_get_undefined(env, &undef);
  napi_delete_reference(env, w->cb);
  napi_delete_async_work(env, w->work);
  wf_free(w);
  /* why no result check: an exception the callback throws is Node's uncaught exception */
  napi_call_function(env, undef, cb, 1, &results, NULL);
}

/* The job of writeFiles(dirFd, entries) with a copy of every entry (the thread pool may not
 * touch a JS value: a Buffer may be detached meanwhile); NULL with a pending exception. */
static struct wf_work *wf_parse(napi_env env, napi_value dirv, napi_value arr) {
  int32_t dir;
  if (!arg_int(env, dirv, &dir)) return NULL;
  bool is_arr = false;
  napi_is_array(env, arr, &is_arr);
  if (!is_arr) { throw_type(env, "writeFiles: entries must be an array of [tmp, name, data]"); return NULL; }
  uint32_t n = 0;
  napi_get_array_length(env, arr, &n);
  struct wf_work *w = calloc(1, sizeof *w);
  if (w != NULL) w->files = calloc(n + 1, sizeof *w->files);
  if (w == NULL || w->files == NULL) { free(w); throw_errno(env, ENOMEM, "malloc", NULL); return NULL; }
  w->dir = dir;
  for (uint32_t i = 0; i < n; i++) {
    napi_value e, tmp, name, data;
    bool ea = false;
    napi_get_element(env, arr, i, &e);
    napi_is_array(env, e, &ea);
    if (!ea) { wf_free(w); throw_type(env, "writeFiles: each entry is [tmp, name, data]"); return NULL; }
    napi_get_element(env, e, 0, &tmp);
    napi_get_element(env, e, 1, &name);
    napi_get_element(env, e, 2, &data);
    w->n = i + 1;
    struct wf_file *f = &w->files[i];
    const char *bytes;
    char *owned = NULL;
    if ((f->tmp = arg_str(env, tmp)) == NULL || (f->name = arg_str(env, name)) == NULL || !arg_bytes(env, data, &bytes, &f->len, &owned)) {
      wf_free(w);
      return NULL;
    }
    if (owned != NULL) {
      f->data = owned;
    } else {
      f->data = malloc(f->len + 1);
      if (f->data == NULL) { wf_free(w); throw_errno(env, ENOMEM, "malloc", NULL); return NULL; }
      memcpy(f->data, bytes, f->len);
    }
  }
  guard_sigio();
  return w;
}

/* Queue data's job (execute in libuv's thread pool, then done on the loop), keeping cb for done
 * in *ref: false, with nothing queued and the reference dropped, when the pool would not take it. */
static bool queue_job(napi_env env, const char *label, napi_async_execute_callback execute, napi_async_complete_callback done, void *data, napi_value cb, napi_ref *ref, napi_async_work *work) {
  napi_value name;
  napi_create_string_utf8(env, label, NAPI_AUTO_LENGTH, &name);
  napi_create_reference(env, cb, 1, ref);
  if (napi_create_async_work(env, NULL, name, execute, done, data, work) == napi_ok && napi_queue_async_work(env, *work) == napi_ok) return true;
  napi_delete_reference(env, *ref);
  return false;
}

/* writeFiles(dirFd, entries, cb): in libuv's thread pool, for each [tmp, name, data] of entries
 * in order, what writeSpare(tmp, data, dirFd) does, or where there is no spare a new tmp (0644,
 * created first, unlinked and created again only when one is in the way), then
 * renameExchange(tmp, name, dirFd); cb(results) on the loop, results[i] null or file i's error
 * (Node-style, with step: 'write' | 'open' | 'rename'). dirFd -100 (AT_FDCWD): paths as given.
 *
 * Why one job for all: a status projection is four files; done with fs/promises each is an
 * open, a write and a close, twelve trips to the pool and back per projection, each a promise,
 * a handle object and a wake-up of the loop: about 0.4 ms of the loop's CPU for every service a
 * tsvscan of 1000 starts (bench/scan), where one job costs one. */
static napi_value WriteFiles(napi_env env, napi_callback_info info) {
  napi_value a[3];
  if (!need_args(env, info, a, 3)) return NULL;
  napi_valuetype ct;
  napi_typeof(env, a[2], &ct);
  if (ct != napi_function) return throw_type(env, "writeFiles(dirFd, [[tmp, name, data]...], cb)");
  struct wf_work *w = wf_parse(env, a[0], a[1]);
  if (w == NULL) return NULL;
  if (!queue_job(env, "tsv.writeFiles", wf_execute, wf_complete, w, a[2], &w->cb, &w->work)) {
    wf_free(w);
    return throw_errno(env, EAGAIN, "uv_queue_work", NULL);
  }
  return undefined(env);
}

/* writeFilesSync(dirFd, entries) -> results: what writeFiles does, here and now (the status
 * writes after a start: one burst, one write, no turn of the loop). */
static napi_value WriteFilesSync(napi_env env, napi_callback_info info) {
  napi_value a[2];
  if (!need_args(env, info, a, 2)) return NULL;
  struct wf_work *w = wf_parse(env, a[0], a[1]);
  if (w == NULL) return NULL;
  wf_execute(env, w);
  napi_value results = wf_results(env, w, true);
  wf_free(w);
  return results;
}

/* pipe(): a real pipe (not a socketpair), both ends close-on-exec; returns [readFd, writeFd]. */
static napi_value Pipe(napi_env env, napi_callback_info info) {
  (void)info;
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) < 0) return throw_errno(env, errno, "pipe2", NULL);
  napi_value arr, v;
  napi_create_array_with_length(env, 2, &arr);
  napi_create_int32(env, fds[0], &v);
  napi_set_element(env, arr, 0, v);
  napi_create_int32(env, fds[1], &v);
  napi_set_element(env, arr, 1, v);
  return arr;
}

/* Convert an rlim_t to a JS number (RLIM_INFINITY becomes Infinity). */
static napi_value rlim_to_js(napi_env env, rlim_t r) {
  return num(env, r == RLIM_INFINITY ? (double)INFINITY : (double)r);
}

/* Convert a JS number to an rlim_t (Infinity or anything past the range becomes RLIM_INFINITY). */
static rlim_t rlim_from_js(napi_env env, napi_value v) {
  double d = 0;
  napi_get_value_double(env, v, &d);
  if (!(d < 18446744073709551615.0) || d < 0) return RLIM_INFINITY;
  return (rlim_t)d;
}

/* getrlimit(resource) -> { soft, hard }. */
static napi_value Getrlimit(napi_env env, napi_callback_info info) {
  napi_value a[1];
  int32_t res;
  if (!need_args(env, info, a, 1) || !arg_int(env, a[0], &res)) return NULL;
  struct rlimit rl;
  if (getrlimit(res, &rl) < 0) return throw_errno(env, errno, "getrlimit", NULL);
  napi_value o;
  napi_create_object(env, &o);
  napi_set_named_property(env, o, "soft", rlim_to_js(env, rl.rlim_cur));
  napi_set_named_property(env, o, "hard", rlim_to_js(env, rl.rlim_max));
  return o;
}

/* setrlimit(resource, soft, hard). */
static napi_value Setrlimit(napi_env env, napi_callback_info info) {
  napi_value a[3];
  int32_t res;
  if (get_args(env, info, a, 3) < 3) return throw_type(env, "setrlimit(resource, soft, hard)");
  if (!arg_int(env, a[0], &res)) return NULL;
  struct rlimit rl = { rlim_from_js(env, a[1]), rlim_from_js(env, a[2]) };
  if (setrlimit(res, &rl) < 0) return throw_errno(env, errno, "setrlimit", NULL);
  return undefined(env);
}

/* setsid() -> the new session id. */
static napi_value Setsid(napi_env env, napi_callback_info info) {
  (void)info;
  pid_t s = setsid();
  if (s < 0) return throw_errno(env, errno, "setsid", NULL);
  return num(env, s);
}

/* chroot(path). */
static napi_value Chroot(napi_env env, napi_callback_info info) {
  napi_value a[1];
  if (get_args(env, info, a, 1) < 1) return throw_type(env, "chroot(path)");
  char *path = arg_str(env, a[0]);
  if (path == NULL) return NULL;
  if (chroot(path) < 0) {
    throw_errno(env, errno, "chroot", path);
    free(path);
    return NULL;
  }
  free(path);
  return undefined(env);
}

/* setCloexec(fd, on): set or clear FD_CLOEXEC on fd. */
static napi_value SetCloexec(napi_env env, napi_callback_info info) {
  napi_value a[2];
  int32_t fd;
  bool on = false;
  if (!need_args(env, info, a, 2) || !arg_int(env, a[0], &fd)) return NULL;
  napi_get_value_bool(env, a[1], &on);
  int fl = fcntl(fd, F_GETFD);
  if (fl < 0) return throw_errno(env, errno, "fcntl", NULL);
  if (fcntl(fd, F_SETFD, on ? (fl | FD_CLOEXEC) : (fl & ~FD_CLOEXEC)) < 0)
    return throw_errno(env, errno, "fcntl", NULL);
  return undefined(env);
}

/* setNonblock(fd, on): set or clear O_NONBLOCK on fd's open file description. */
static napi_value SetNonblock(napi_env env, napi_callback_info info) {
  napi_value a[2];
  int32_t fd;
  bool on = false;
  if (!need_args(env, info, a, 2) || !arg_int(env, a[0], &fd)) return NULL;
  napi_get_value_bool(env, a[1], &on);
  int fl = fcntl(fd, F_GETFL);
  if (fl < 0) return throw_errno(env, errno, "fcntl", NULL);
  if (fcntl(fd, F_SETFL, on ? (fl | O_NONBLOCK) : (fl & ~O_NONBLOCK)) < 0)
    return throw_errno(env, errno, "fcntl", NULL);
  return undefined(env);
}

/* dup2(oldfd, newfd) -> newfd (the copy is inheritable, as dup2 makes it). */
static napi_value Dup2(napi_env env, napi_callback_info info) {
  napi_value a[2];
  int32_t o, n;
  if (!need_args(env, info, a, 2) || !arg_int(env, a[0], &o) || !arg_int(env, a[1], &n)) return NULL;
  int r;
  do r = dup2(o, n); while (r < 0 && errno == EINTR);
  if (r < 0) return throw_errno(env, errno, "dup2", NULL);
  return num(env, r);
}

/* setChildSubreaper(on): prctl(PR_SET_CHILD_SUBREAPER) so orphaned descendants come back to us. */
static napi_value SetChildSubreaper(napi_env env, napi_callback_info info) {
  napi_value a[1];
  bool on = true;
  if (get_args(env, info, a, 1) >= 1) napi_get_value_bool(env, a[0], &on);
  if (prctl(PR_SET_CHILD_SUBREAPER, on ? 1 : 0, 0, 0, 0) < 0)
    return throw_errno(env, errno, "prctl", NULL);
  return undefined(env);
}

/* waitpid(pid, nohang) -> null when nothing was reaped, else { pid, code, signal, core, raw }.
 * Callers reap only pids libuv does not know about (see packages/native/README.md). */
static napi_value Waitpid(napi_env env, napi_callback_info info) {
  napi_value a[2];
  int32_t pid;
  bool nohang = true;
  size_t n = get_args(env, info, a, 2);
  if (n < 1) return throw_type(env, "waitpid(pid, nohang)");
  if (!arg_int(env, a[0], &pid)) return NULL;
  if (n >= 2) napi_get_value_bool(env, a[1], &nohang);
  int st = 0;
  pid_t r;
  do r = waitpid(pid, &st, nohang ? WNOHANG : 0); while (r < 0 && errno == EINTR);
  if (r < 0) return throw_errno(env, errno, "waitpid", NULL);
  napi_value out;
  if (r == 0) {
    napi_get_null(env, &out);
    return out;
  }
  napi_create_object(env, &out);
  napi_set_named_property(env, out, "pid", num(env, r));
  napi_value nul;
  napi_get_null(env, &nul);
  napi_set_named_property(env, out, "code", WIFEXITED(st) ? num(env, WEXITSTATUS(st)) : nul);
  napi_set_named_property(env, out, "signal", WIFSIGNALED(st) ? num(env, WTERMSIG(st)) : nul);
  napi_value core;
  napi_get_boolean(env, WIFSIGNALED(st) && WCOREDUMP(st), &core);
  napi_set_named_property(env, out, "core", core);
  napi_set_named_property(env, out, "raw", num(env, st));
  return out;
}

/* ---- spawn: fork/exec without libuv, for a reaper that is O(1) per exit ---- */

/* Steps of the child's set-up, to name the one that failed. */
enum { STEP_DUP = 1, STEP_SETSID, STEP_CHDIR, STEP_RLIMIT, STEP_EXEC, STEP_CGROUP, STEP_UNSHARE };

/* What the child reports when a step fails (on the error pipe after fork; in the shared
 * spawn_args after a vfork-style clone). */
struct spawn_err {
  int step;
  int err;
};

/* Everything the child needs, prepared (allocated) by the parent before the fork: the child
 * calls nothing that allocates or takes a lock, only async-signal-safe syscall wrappers. */
struct spawn_args {
  const char *path;
  char **argv;
  char **envp;
  const char *cwd; /* NULL: stay */
  int cwd_fd;      /* -1, or an fd on the directory to fchdir to (cwd is then only its name) */
  const int *fds;  /* fds[i] becomes fd i; -1: closed */
  int *tmp;        /* scratch, nfds entries */
  int nfds;
  int errfd;       /* write end of the CLOEXEC error pipe (fork); -1: report in fail (CLONE_VM) */
  struct spawn_err fail; /* the failed step and its errno (CLONE_VM: the parent reads it) */
  int setsid;
  int set_nofile;
  int pdeathsig;   /* 0: none; else the signal the child gets when its parent thread dies */
  pid_t parent;    /* the parent's pid, to catch a parent that died before prctl */
  int cgroup_fd;   /* -1, or an O_WRONLY fd on a cgroup's cgroup.procs the child joins by
                   * writing "0" (the fallback where clone3(CLONE_INTO_CGROUP) is unavailable) */
  char **sh_argv;  /* NULL, or { "/bin/sh", path, argv[1..], NULL } for the ENOEXEC fallback */
  struct rlimit nofile;
  int keep_below;  /* 0, or: the child shares the parent's fd table (CLONE_FILES) and first
                   * makes a private copy of only the fds below this number (spawn slots) */
  volatile int started; /* set by the child first thing: it ran (shared memory, CLONE_VM) */
};

/* Report a failed step (on the error pipe, or in the memory shared with the suspended parent)
 * and exit 127 (the child never returns). */
static void child_fail(struct spawn_args *a, int errfd, int step, int e) {
  struct spawn_err rec = { step, e };
  if (errfd < 0) {
    a->fail = rec;
    _exit(127);
  }
  ssize_t w;
  do w = write(errfd, &rec, sizeof rec); while (w < 0 && errno == EINTR);
  _exit(127);
}

/* The child's side, between fork (or clone(CLONE_VM|CLONE_VFORK)) and execve. Runs with every
 * signal blocked (the parent blocked them), so no handler of Node's runs here; with CLONE_VM it
 * shares the parent's memory, so it writes nothing but its own scratch array, errno and, on a
 * failure, spawn_args.fail. */
static int child_main(void *arg) {
  struct spawn_args *a = arg;
  a->started = 1;
  int n = a->nfds;
  int errfd = a->errfd;
  /* why: the error pipe and every source fd are first copied to numbers >= n, so that putting
   * fds[i] on i can never overwrite a source or the pipe still needed (fds = [1, 0] swaps). The
   * copies are close-on-exec: they vanish at execve. A child that shares our table closes
   * everything above its list once the dups are done (below); in a copied table nothing else
   * is closed explicitly (Node opens everything close-on-exec, as libuv relies on too). */
  if (errfd >= 0 && errfd < n) {
    errfd = fcntl(errfd, F_DUPFD_CLOEXEC, n);
    if (errfd < 0) _exit(127);
  }
  /* why: where clone3(CLONE_INTO_CGROUP) cannot be used (see Spawn) the child joins
   * the service's cgroup itself, first thing and before execve, so that run and everything it
   * ever forks (daemonized, setsid'd or not) is born inside it: moving the pid from the parent
   * after the spawn would leave a window in which run could fork a child that stays behind.
   * Writing "0" to cgroup.procs moves the writer's own thread group (this vfork child only, not
   * the suspended parent: CLONE_VM without CLONE_THREAD is a process of its own). It costs a
   * cgroup migration (an RCU grace period on cgroup_threadgroup_rwsem's write side), which is
   * why clone3 is the normal path. The fd is read before the dups below so a low number is
   * never overwritten (it is close-on-exec). */
  if (a->cgroup_fd >= 0) {
    ssize_t w;
    do w = write(a->cgroup_fd, "0", 1); while (w < 0 && errno == EINTR);
    if (w != 1) child_fail(a, errfd, STEP_CGROUP, w < 0 ? errno : EIO);
  }
  /* why before the unshare below: cwd may name an fd of the parent's (tsvscan's services are
   * /proc/self/fd/N), which the private copy does not have. */
  if (a->cwd_fd >= 0) {
    if (fchdir(a->cwd_fd) < 0) child_fail(a, errfd, STEP_CHDIR, errno);
  } else if (a->cwd != NULL && chdir(a->cwd) < 0) {
    child_fail(a, errfd, STEP_CHDIR, errno);
  }
  if (a->keep_below > 0) {
    /* why: with CLONE_FILES no fd table was copied at the clone; this copies only the fds
     * below keep_below (0-2, the runtime's own few, and the slots holding this child's
     * sources), where a copy of the whole table would cost, with execve closing each copied
     * fd again, ~100-200 ns per fd the parent holds. Until it returns, every fd is the
     * parent's: nothing before it may dup2, close or open. The failure is set first: a
     * seccomp filter that kills on an unknown syscall leaves it set, and the parent then
     * spawns without sharing. */
    a->fail.step = STEP_UNSHARE;
    a->fail.err = ENOSYS;
    if (syscall(SYS_close_range, (unsigned)a->keep_below, ~0U, TSV_CLOSE_RANGE_UNSHARE) < 0) child_fail(a, errfd, STEP_UNSHARE, errno);
    a->fail.step = 0;
    a->fail.err = 0;
  }
  for (int i = 0; i < n; i++) {
    a->tmp[i] = -1;
    if (a->fds[i] < 0) continue;
    a->tmp[i] = fcntl(a->fds[i], F_DUPFD_CLOEXEC, n);
    if (a->tmp[i] < 0) child_fail(a, errfd, STEP_DUP, errno);
  }
  for (int i = 0; i < n; i++) {
    if (a->tmp[i] < 0) {
      close(i);
      continue;
    }
    /* why: dup2 makes the copy inheritable (no FD_CLOEXEC on i). */
    if (dup2(a->tmp[i], i) < 0) child_fail(a, errfd, STEP_DUP, errno);
    if (i <= 2) {
      /* why: libuv makes stdio pipes and TTYs non-blocking and O_NONBLOCK lives in the open
       * file description; a program expects blocking stdio (libuv's child set-up does this). */
      int fl = fcntl(i, F_GETFL);
      if (fl >= 0 && (fl & O_NONBLOCK)) fcntl(i, F_SETFL, fl & ~O_NONBLOCK);
    }
  }
  /* why: what the private copy holds above the fds given (the runtime's few, the slots, the
   * scratch copies, any low fd someone left without close-on-exec) goes now, so the program
   * gets exactly the fds given; execve would close all but the last kind anyway. */
  if (a->keep_below > 0) syscall(SYS_close_range, (unsigned)n, ~0U, 0U);
  if (a->setsid && setsid() < 0) child_fail(a, errfd, STEP_SETSID, errno);
  /* why: the kernel's parent-death signal (a worker pool's option, docs/worker-pools.md): Node
   * cannot set it for a child. It fires when the thread that forked exits (Node's main thread
   * here, so the supervisor's death), and is cleared at execve of a set-uid/set-gid program.
   * A parent that died before the prctl is seen by getppid() having changed: the signal then
   * goes at once, as it would have a moment later. */
  if (a->pdeathsig > 0) {
    if (prctl(PR_SET_PDEATHSIG, (unsigned long)a->pdeathsig) < 0) child_fail(a, errfd, STEP_SETSID, errno);
    if (getppid() != a->parent) kill(getpid(), a->pdeathsig);
  }
  /* why: after the dups, so the copies above n may exceed the lowered limit: setrlimit does
   * not touch open fds, and the child's own limit is separate from the parent's (no
   * CLONE_THREAD), so the supervisor never runs with a lowered limit, not even for a moment. */
  if (a->set_nofile && setrlimit(RLIMIT_NOFILE, &a->nofile) < 0) child_fail(a, errfd, STEP_RLIMIT, errno);
  /* why: ignored signals stay ignored across execve (Node ignores SIGPIPE); handled ones would
   * run Node's handler in this child if delivered before execve. Every disposition goes back to
   * default first, then the mask (inherited, and all blocked by the parent) is emptied. */
  struct sigaction dfl;
  memset(&dfl, 0, sizeof dfl);
  dfl.sa_handler = SIG_DFL;
  for (int s = 1; s < NSIG; s++) {
    if (s == SIGKILL || s == SIGSTOP) continue;
    sigaction(s, &dfl, NULL); /* EINVAL for glibc's reserved 32/33: harmless */
  }
  sigset_t empty;
  sigemptyset(&empty);
  sigprocmask(SIG_SETMASK, &empty, NULL);
  execve(a->path, a->argv, a->envp);
  /* why: a script without "#!" fails with ENOEXEC; execvp (so child_process, through libuv)
   * then runs it with /bin/sh, and run scripts written for that must keep working. */
  if (errno == ENOEXEC && a->sh_argv != NULL) {
    execve("/bin/sh", a->sh_argv, a->envp);
    errno = ENOEXEC;
  }
  child_fail(a, errfd, STEP_EXEC, errno);
  return 127;
}

/* Read an optional boolean property of obj. */
static bool prop_bool(napi_env env, napi_value obj, const char *name) {
  bool has = false, v = false;
  if (napi_has_named_property(env, obj, name, &has) != napi_ok || !has) return false;
  napi_value p;
  napi_get_named_property(env, obj, name, &p);
  napi_coerce_to_bool(env, p, &p);
  napi_get_value_bool(env, p, &v);
  return v;
}

/* Read an optional number property of obj into *out; false when absent or not a number. */
static bool prop_num(napi_env env, napi_value obj, const char *name, double *out) {
  bool has = false;
  if (napi_has_named_property(env, obj, name, &has) != napi_ok || !has) return false;
  napi_value p;
  napi_valuetype t;
  napi_get_named_property(env, obj, name, &p);
  napi_typeof(env, p, &t);
  if (t != napi_number) return false;
  napi_get_value_double(env, p, out);
  return true;
}

#define SPAWN_STACK (64 * 1024)

/* ---- clone3(CLONE_INTO_CGROUP): a child born in its cgroup ---- */

/* The kernel's struct clone_args up to .cgroup (CLONE_ARGS_SIZE_VER2, Linux 5.7), declared here
 * so the build does not depend on how recent the headers are (a cross toolchain's may predate
 * it). Every field is a __u64, so there is no padding. */
struct tsv_clone_args {
  uint64_t flags;
  uint64_t pidfd;
  uint64_t child_tid;
  uint64_t parent_tid;
  uint64_t exit_signal;
  uint64_t stack;
  uint64_t stack_size;
  uint64_t tls;
  uint64_t set_tid;
  uint64_t set_tid_size;
  uint64_t cgroup;
};
#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif

#if defined(__x86_64__) || defined(__aarch64__)
#define HAVE_TSV_CLONE3 1
/* tsv_clone3(args, size, fn, arg): the raw clone3 syscall (435 on every architecture: syscalls
 * added since Linux 5.1 share one number). In the child, which the kernel starts on
 * args->stack + args->stack_size, it calls fn(arg) and then SYS_exit with its result, never
 * returning into C; in the parent it returns the child's pid or -errno.
 * why asm: glibc has no clone3 wrapper that takes a child function, and a child sharing our
 * memory (CLONE_VM) must not return through the caller's frame: with CLONE_VFORK the parent
 * sleeps on that same stack, so a raw syscall() on the parent's stack would have the child
 * overwrite the return address the parent is about to use. Like musl's __clone: fn and arg are
 * kept in registers the syscall preserves, the child switches to nothing (the kernel already
 * set its stack pointer) and calls fn at once. Hidden: called directly, never through the PLT. */
__attribute__((visibility("hidden"))) long tsv_clone3(struct tsv_clone_args *args, size_t size, int (*fn)(void *), void *arg);
#if defined(__x86_64__)
/* why these registers: args in rdi, size in rsi (the syscall's own), fn and arg in r8/r9 (rdx
 * and rcx: rcx is clobbered by syscall, with r11). The stack top is 16-byte aligned (malloc'd,
 * SPAWN_STACK a multiple of 16), as the ABI wants at a call; rbp is zeroed to end the frame
 * chain for debuggers. */
__asm__(
    ".text\n"
    ".globl tsv_clone3\n"
    ".hidden tsv_clone3\n"
    ".type tsv_clone3,@function\n"
    ".p2align 4\n"
    "tsv_clone3:\n"
    "  mov %rdx, %r8\n"
    "  mov %rcx, %r9\n"
    "  mov $435, %eax\n"
    "  syscall\n"
    "  test %rax, %rax\n"
    "  jz 1f\n"
    "  ret\n"
    "1:\n"
    "  xor %ebp, %ebp\n"
    "  mov %r9, %rdi\n"
    "  call *%r8\n"
    "  mov %eax, %edi\n"
    "  mov $60, %eax\n" /* SYS_exit */
    "  syscall\n"
    "  hlt\n"
    ".size tsv_clone3, .-tsv_clone3\n");
#else
/* why these registers: args in x0, size in x1 (the syscall's own), fn and arg in x9/x10 (svc
 * preserves every register but x0). The child's sp (stack + stack_size) is 16-byte aligned, as
 * AArch64 requires for any sp-relative access; x29/x30 are zeroed to end the frame chain. */
__asm__(
    ".text\n"
    ".globl tsv_clone3\n"
    ".hidden tsv_clone3\n"
    ".type tsv_clone3,%function\n"
    ".p2align 2\n"
    "tsv_clone3:\n"
    "  mov x9, x2\n"
    "  mov x10, x3\n"
    "  mov x8, #435\n"
    "  svc #0\n"
    "  cbz x0, 1f\n"
    "  ret\n"
    "1:\n"
    "  mov x29, #0\n"
    "  mov x30, #0\n"
    "  mov x0, x10\n"
    "  blr x9\n"
    "  mov x8, #93\n" /* SYS_exit */
    "  svc #0\n"
    "  brk #0\n"
    ".size tsv_clone3, .-tsv_clone3\n");
#endif
#endif

/* Whether clone3(CLONE_INTO_CGROUP) is known not to work here: probed by the first spawn into
 * a cgroup and remembered for the life of the process. */
static int clone3_unavailable =
#ifdef HAVE_TSV_CLONE3
    0;
#else
    1;
#endif

/* Whether clone3's error e means the call itself is unavailable (use the write fallback), not
 * that the cgroup is unusable. why each: ENOSYS, a kernel before 5.3 or a seccomp filter that
 * refuses unknown syscalls (Docker's profile answers clone3 with ENOSYS so that glibc falls
 * back to clone); EINVAL, a kernel 5.3-5.6 that knows clone3 but not CLONE_INTO_CGROUP; E2BIG,
 * one that does not know clone_args this long; EPERM, a seccomp filter that denies it (the
 * cgroup's own permission errors are EACCES or ENOENT). */
static bool clone3_missing(int e) {
  return e == ENOSYS || e == EINVAL || e == E2BIG || e == EPERM;
}

/* Cgroups whose children clone3 cannot start (see the retry in Spawn), by id: a cgroup2
 * directory's inode number is its cgroup id, never reused. A small ring: tsvscan's services
 * are at most a few hundred, and one forgotten costs one more retry. */
#define REFUSED_IDS 256
static uint64_t clone3_refused[REFUSED_IDS];
static unsigned clone3_refused_n;

/* Whether clone3 is known to kill children born in the cgroup of directory fd dir. */
static bool clone3_refuses(int dir) {
  if (clone3_refused_n == 0) return false;
  struct stat st;
  if (fstat(dir, &st) < 0) return false;
  unsigned n = clone3_refused_n < REFUSED_IDS ? clone3_refused_n : REFUSED_IDS;
  for (unsigned i = 0; i < n; i++)
    if (clone3_refused[i] == (uint64_t)st.st_ino) return true;
  return false;
}

/* Remember that clone3 kills children born in the cgroup of directory fd dir. */
static void clone3_refused_add(int dir) {
  struct stat st;
  if (fstat(dir, &st) < 0) return;
  clone3_refused[clone3_refused_n++ % REFUSED_IDS] = (uint64_t)st.st_ino;
  if (clone3_refused_n >= 2 * REFUSED_IDS) clone3_refused_n -= REFUSED_IDS;
}

/* The path an fd is open on (its /proc/self/fd link, without the " (deleted)" the kernel adds
 * for a removed directory), for error messages; NULL when unknown. */
static const char *fd_path(int fd, char *buf, size_t size) {
  char link[64];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  ssize_t n = readlink(link, buf, size - 1);
  if (n <= 0 || buf[0] != '/') return NULL;
  buf[n] = '\0';
  const char *del = " (deleted)";
  size_t dl = strlen(del);
  if ((size_t)n > dl && strcmp(buf + n - dl, del) == 0) buf[n - dl] = '\0';
  return buf;
}

/* The path of the cgroup.procs file below the directory fd dir, into buf, for error messages. */
static const char *procs_path(int dir, char *buf, size_t size) {
  char d[MAX_PATH_ARG];
  const char *p = fd_path(dir, d, sizeof d);
  snprintf(buf, size, "%s%scgroup.procs", p == NULL ? "" : p, p == NULL ? "" : "/");
  return buf;
}

/* ---- spawn slots: the few low fds a child sharing our fd table keeps ---- */

#define SPAWN_SLOTS 8

/* Why slots: a vfork-style child copies the parent's whole fd table, and execve closes every
 * copied close-on-exec fd again; a tsvscan of 1000 services holds ~8000 fds, so each spawn cost
 * ~1-2 ms, in the parent (the copy) and in the child (the closes, which also preempt the
 * parent). Instead the child shares the table (CLONE_FILES) and keeps a private copy of the
 * fds below slot_limit only (close_range with CLOSE_RANGE_UNSHARE, Linux 5.9). The sources it
 * needs are first dup'd onto slots: low fds reserved at load, each holding /dev/null between
 * spawns. slot_lock: one spawn at a time uses them (worker threads may spawn too). */
static pthread_mutex_t slot_lock = PTHREAD_MUTEX_INITIALIZER;
static int slot_null = -1;
static int slot_fd[SPAWN_SLOTS];
static int slot_limit = 0;         /* 1 + the highest slot; 0: no slots */
static int share_unavailable = 0;  /* close_range(CLOSE_RANGE_UNSHARE) failed once: never again */

/* Reserve the slots (at load, while the table is small): /dev/null on the lowest free fds. */
static void slots_reserve(void) {
  int nul = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (nul < 0) return;
  int hi = nul;
  for (int k = 0; k < SPAWN_SLOTS; k++) {
    slot_fd[k] = fcntl(nul, F_DUPFD_CLOEXEC, 3);
    if (slot_fd[k] < 0) {
      while (k-- > 0) close(slot_fd[k]);
      close(nul);
      return;
    }
    if (slot_fd[k] > hi) hi = slot_fd[k];
  }
  slot_null = nul;
  slot_limit = hi + 1;
}

/* Put /dev/null back on the first used slots, dropping our extra references to the sources. */
static void slots_clear(int used) {
  for (int k = 0; k < used; k++) dup3(slot_null, slot_fd[k], O_CLOEXEC);
}

/* Put each source fd of fds at or above slot_limit on a slot (the same source on the same
 * slot), writing the child's list into out; how many slots were used, -1 when more are needed
 * than there are (spawn unshared), or -2 with errno when a dup3 failed (a source not open). */
static int slots_fill(const int *fds, int n, int *out) {
  int used = 0, src[SPAWN_SLOTS];
  for (int i = 0; i < n; i++) {
    out[i] = fds[i];
    if (fds[i] < slot_limit) continue;
    int k = 0;
    while (k < used && src[k] != fds[i]) k++;
    if (k == used) {
      if (used == SPAWN_SLOTS) {
        slots_clear(used);
        return -1;
      }
      if (dup3(fds[i], slot_fd[used], O_CLOEXEC) < 0) {
        int e = errno;
        slots_clear(used);
        errno = e;
        return -2;
      }
      src[used++] = fds[i];
    }
    out[i] = slot_fd[k];
  }
  return used;
}

/* The clock tick (1/100 s, USER_HZ, as /proc/PID/stat counts) CLOCK_BOOTTIME is in; -1 when
 * it cannot be read. */
static long long boottime_tick(void) {
  struct timespec ts;
  if (clock_gettime(CLOCK_BOOTTIME, &ts) < 0) return -1;
  return (long long)ts.tv_sec * 100 + ts.tv_nsec / 10000000;
}

/* The start time of the child the last spawn on this thread made, or -1 (see SpawnStartTicks). */
static _Thread_local long long last_spawn_ticks = -1;

/* Whether path names a file through an fd (which a child keeping only the low fds lacks). */
static bool names_fd_path(const char *path) {
  return strncmp(path, "/proc/self/fd/", 14) == 0 || strncmp(path, "/proc/thread-self/fd/", 21) == 0 || strncmp(path, "/dev/fd/", 8) == 0;
}

/* One spawn: its arguments, copied out of JS (so the thread pool can run it), and its outcome. */
struct spawn_job {
  napi_async_work work;
  napi_ref cb;
  struct spawn_args sa;
  char *path;
  char *cwd;
  char **argv;
  char **envp;
  int *fds;  /* the child's list (spawnAsync: the job's own copies in place of the caller's fds) */
  int *tmp;
  int *mfds;
  uint32_t n;
  bool use_fork, no_clone3, no_share;
  int cg_dir;   /* -1, or the cgroup directory fd (spawnAsync: the job's own copy) */
  int *owned;   /* fds the job opened (spawnAsync), closed when it is freed */
  int n_owned;
  /* the outcome: pid > 0, or err and the call that failed (the failed child already reaped) */
  pid_t pid;
  long long ticks;      /* the child's start tick, -1 when not known */
  int err;
  const char *what;     /* NULL: strerror's text */
  const char *syscall;
  const char *err_path; /* NULL, path, cwd or err_buf */
  char err_buf[MAX_PATH_ARG + 16];
};

/* Free a spawn job, closing what it opened. */
static void spawn_free(struct spawn_job *j) {
  if (j->sa.cgroup_fd >= 0) close(j->sa.cgroup_fd);
  for (int i = 0; i < j->n_owned; i++) close(j->owned[i]);
  free(j->owned);
  free(j->sa.sh_argv); free(j->path); free(j->cwd); free_strv(j->argv); free_strv(j->envp);
  free(j->fds); free(j->tmp); free(j->mfds);
  free(j);
}

/* Record the job's failure: errno e in syscall on path (what: the text, NULL for strerror's). */
static void spawn_error(struct spawn_job *j, int e, const char *what, const char *syscall, const char *path) {
  j->pid = -1;
  j->err = e;
  j->what = what;
  j->syscall = syscall;
  j->err_path = path;
}

/* The job's own copy (close-on-exec, at or above min) of fd, or -1 with errno. */
static int spawn_own(struct spawn_job *j, int fd, int min) {
  int d = fcntl(fd, F_DUPFD_CLOEXEC, min);
  if (d >= 0) j->owned[j->n_owned++] = d;
  return d;
}

/* spawnAsync: the fds the job names (the cgroup directory, each source at or above the slots,
 * a cwd named through an fd) replaced by copies of its own, so that the caller closing a
 * number while the job waits in the pool (and the number being reused) cannot hand the child
 * another file. False with an exception pending. */
static bool spawn_own_fds(napi_env env, struct spawn_job *j) {
  int min = slot_limit > 3 ? slot_limit : 3;
  j->owned = calloc(j->n + 2, sizeof(int));
  if (j->owned == NULL) { throw_errno(env, ENOMEM, "malloc", NULL); return false; }
  if (j->cg_dir >= 0) {
    int d = spawn_own(j, j->cg_dir, min);
    if (d < 0) { throw_errno(env, errno, "clone3", NULL); return false; }
    j->cg_dir = d;
  }
  if (j->cwd != NULL && names_fd_path(j->cwd)) {
    /* why O_PATH: the child only fchdir's to it (Linux 3.5); no read permission is needed */
    int d;
    do d = open(j->cwd, O_PATH | O_DIRECTORY | O_CLOEXEC); while (d < 0 && errno == EINTR);
    if (d < 0) { throw_errno(env, errno, "chdir", j->cwd); return false; }
    j->owned[j->n_owned++] = d;
    j->sa.cwd_fd = d;
  }
  for (uint32_t i = 0; i < j->n; i++) {
    int fd = j->fds[i];
    if (fd < min) continue;
    uint32_t k = 0;
    while (k < i && j->tmp[k] != fd) k++;
    /* tmp (scratch until the child uses it) remembers each entry's original number */
    j->tmp[i] = fd;
    if (k < i) {
      j->fds[i] = j->fds[k];
      continue;
    }
    int d = spawn_own(j, fd, min);
    if (d < 0) { throw_errno(env, errno, "spawn", j->path); return false; }
    j->fds[i] = d;
  }
  return true;
}

/* The job of spawn or spawnAsync (arguments a[0..5], as spawn's); NULL with an exception
 * pending. */
static struct spawn_job *spawn_parse(napi_env env, napi_value *a, bool async) {
  struct spawn_job *j = calloc(1, sizeof *j);
  if (j == NULL) { throw_errno(env, ENOMEM, "malloc", NULL); return NULL; }
  j->sa.cgroup_fd = -1;
  j->sa.cwd_fd = -1;
  j->cg_dir = -1;
  j->ticks = -1;
  napi_valuetype ct, ft;
  bool is_arr = false;
  if ((j->path = arg_str(env, a[0])) == NULL || (j->argv = arg_strv(env, a[1])) == NULL || (j->envp = arg_strv(env, a[2])) == NULL) goto fail;
  napi_typeof(env, a[3], &ct);
  if (ct == napi_string) {
    if ((j->cwd = arg_str(env, a[3])) == NULL) goto fail;
  } else if (ct != napi_null && ct != napi_undefined) {
    throw_type(env, "cwd must be a string or null");
    goto fail;
  }
  napi_is_array(env, a[4], &is_arr);
  if (!is_arr) { throw_type(env, "fds must be an array of numbers"); goto fail; }
  napi_get_array_length(env, a[4], &j->n);
  j->fds = calloc(j->n + 1, sizeof(int));
  j->tmp = calloc(j->n + 1, sizeof(int));
  j->mfds = calloc(j->n + 1, sizeof(int));
  if (j->fds == NULL || j->tmp == NULL || j->mfds == NULL) { throw_errno(env, ENOMEM, "malloc", NULL); goto fail; }
  for (uint32_t i = 0; i < j->n; i++) {
    napi_value e;
    int32_t fd = -1;
    napi_get_element(env, a[4], i, &e);
    if (napi_get_value_int32(env, e, &fd) != napi_ok) { throw_type(env, "fds must be an array of numbers"); goto fail; }
    j->fds[i] = fd < 0 ? -1 : fd;
  }
  napi_typeof(env, a[5], &ft);
  if (ft == napi_object) {
    struct spawn_args *sa = &j->sa;
    sa->setsid = prop_bool(env, a[5], "setsid");
    double pds;
    if (prop_num(env, a[5], "pdeathsig", &pds) && pds >= 1 && pds < NSIG) {
      /* why refused: the kernel sends it when the THREAD that forked exits, and spawnAsync
       * forks on a thread of the pool, not the loop's */
      if (async) { throw_type(env, "spawnAsync cannot set pdeathsig: use spawn"); goto fail; }
      sa->pdeathsig = (int)pds;
      sa->parent = getpid();
    }
    double cgfd;
    if (prop_num(env, a[5], "cgroupDirFd", &cgfd) && cgfd >= 0 && cgfd <= INT32_MAX) j->cg_dir = (int)cgfd;
    j->use_fork = prop_bool(env, a[5], "fork");
    j->no_clone3 = prop_bool(env, a[5], "noClone3");
    j->no_share = prop_bool(env, a[5], "noShareFds");
    if (prop_bool(env, a[5], "shell")) {
      size_t argc = 0;
      while (j->argv[argc] != NULL) argc++;
      /* the vector borrows path and argv's strings: only the array itself is freed */
      sa->sh_argv = calloc(argc + 2, sizeof(char *));
      if (sa->sh_argv == NULL) { throw_errno(env, ENOMEM, "malloc", NULL); goto fail; }
      sa->sh_argv[0] = (char *)"/bin/sh";
      sa->sh_argv[1] = j->path;
      for (size_t i = 1; i < argc; i++) sa->sh_argv[i + 1] = j->argv[i];
    }
    double soft;
    if (prop_num(env, a[5], "nofile", &soft) && soft >= 0) {
      struct rlimit cur;
      if (getrlimit(RLIMIT_NOFILE, &cur) == 0) {
        rlim_t s = soft >= 18446744073709551615.0 ? RLIM_INFINITY : (rlim_t)soft;
        /* why: clamped to the hard limit, as restoreNofile does: an unprivileged child cannot
         * raise it, and the soft limit may not exceed it. */
        if (cur.rlim_max != RLIM_INFINITY && (s == RLIM_INFINITY || s > cur.rlim_max)) s = cur.rlim_max;
        sa->set_nofile = 1;
        sa->nofile.rlim_cur = s;
        sa->nofile.rlim_max = cur.rlim_max;
      }
    }
  }
  if (async && !spawn_own_fds(env, j)) goto fail;
  return j;
fail:
  spawn_free(j);
  return NULL;
}

/* The spawn itself, on whichever thread calls it (spawn: the loop's; spawnAsync: the pool's,
 * which is then the one suspended until the child has exec'd): sets pid and ticks, or the
 * error (spawn_error), the failed child already reaped. Touches no JS value. */
static void spawn_run(struct spawn_job *j) {
  struct spawn_args *const sa = &j->sa;
  const int cg_dir = j->cg_dir;
  const char *const path = j->path;
  const bool use_fork = j->use_fork;
  bool slots_held = false;
  int slots_used = 0;
  bool via_clone3 = cg_dir >= 0 && !use_fork && !j->no_clone3 && !clone3_unavailable && !clone3_refuses(cg_dir);
again:
  sa->started = 0;
  if (cg_dir >= 0 && !via_clone3 && sa->cgroup_fd < 0) {
    /* why in the parent, relative to the directory fd: the child may only make
     * async-signal-safe calls, and openat names the same cgroup the fd does (a path could have
     * been replaced since it was opened). */
    do sa->cgroup_fd = openat(cg_dir, "cgroup.procs", O_WRONLY | O_CLOEXEC); while (sa->cgroup_fd < 0 && errno == EINTR);
    if (sa->cgroup_fd < 0) {
      int e = errno;
      spawn_error(j, e, NULL, "open", procs_path(cg_dir, j->err_buf, sizeof j->err_buf));
      return;
    }
  }
  /* why no pipe for the vfork-style clone: the parent is suspended until the child has exec'd
   * (exec_mmap, past which execve cannot fail back) or exited, and the child reports a failure
   * in the memory they share. A close-on-exec pipe's EOF comes later: execve closes the child's
   * copies of the parent's close-on-exec fds one by one after it has released the parent, so a
   * read for that EOF waited, fd by fd, for the child's copy of the whole table to be closed
   * (1000 services hold ~8000 fds: ~2.5 ms a spawn, the main thread idle). fork shares no
   * memory: the pipe. */
  int ep[2] = { -1, -1 };
  if (use_fork && pipe2(ep, O_CLOEXEC) < 0) { spawn_error(j, errno, NULL, "pipe2", NULL); return; }
  sa->fail.step = 0;
  sa->fail.err = 0;
  sa->path = path;
  sa->argv = j->argv;
  sa->envp = j->envp;
  sa->cwd = j->cwd;
  sa->fds = j->fds;
  sa->tmp = j->tmp;
  sa->nfds = (int)j->n;
  sa->errfd = ep[1];
  sa->keep_below = 0;
  if (!use_fork && !j->no_share && !share_unavailable && slot_limit > 0 && !names_fd_path(path)) {
    pthread_mutex_lock(&slot_lock);
    int used = slots_fill(j->fds, (int)j->n, j->mfds);
    if (used >= 0) {
      slots_held = true;
      slots_used = used;
      sa->fds = j->mfds;
      sa->keep_below = slot_limit;
    } else {
      int e = errno;
      pthread_mutex_unlock(&slot_lock);
      /* why "spawn": the error the child's dup of a closed source reports (STEP_DUP) */
      if (used == -2) { spawn_error(j, e, NULL, "spawn", path); return; }
    }
  }
  unsigned long share = sa->keep_below > 0 ? CLONE_FILES : 0;
  /* why: every signal blocked from before the fork until the child's execve: a handler of
   * Node's (libuv writes to its signal pipe) must not run in the child, and with CLONE_VM it
   * would run on the parent's memory. The child empties the mask once the dispositions are
   * back to default. */
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  pid_t pid;
  /* why: the kernel stamps the child's start (start_boottime, /proc/PID/stat's field 22 in
   * ticks since boot, time namespace included as clock_gettime includes it) inside the clone:
   * read before and after, one tick on both sides is its tick, with no read of
   * /proc/PID/stat (which waits while the child is in execve). */
  long long tick_before = boottime_tick();
  if (use_fork) {
    pid = fork();
    if (pid == 0) child_main(sa);
  } else {
    /* why: clone(CLONE_VM|CLONE_VFORK) (what glibc's posix_spawn does) copies no page tables:
     * fork's cost grows with the parent's memory (a Node process maps hundreds of MiB), vfork's
     * does not. The child runs on its own stack, one buffer per thread allocated once: the
     * calling thread is suspended until the child has exec'd or exited, so no two children
     * ever use it at once. SIGCHLD as the exit signal makes it an ordinary child for waitpid
     * and waitid (any other needs __WCLONE). */
    static _Thread_local char *stack = NULL;
    if (stack == NULL) stack = malloc(SPAWN_STACK);
    if (stack == NULL) {
      pid = -1;
      errno = ENOMEM;
    } else if (via_clone3) {
#ifdef HAVE_TSV_CLONE3
      /* why clone3(CLONE_INTO_CGROUP) (Linux 5.7): the child is born in the service's cgroup,
       * so it never migrates. A migration (the write of "0" to cgroup.procs) takes
       * cgroup_threadgroup_rwsem for writing, which waits for an RCU grace period: 6-9 ms a
       * spawn when spawns are spaced as respawns are (bench/cgroup-spawn.bench.mjs), where
       * being born there costs under 1 ms (nothing once the cgroup has a member). Same vfork
       * semantics as the clone() below: shared memory, parent suspended until execve, own
       * stack, SIGCHLD. */
      struct tsv_clone_args ca;
      memset(&ca, 0, sizeof ca);
      ca.flags = CLONE_VM | CLONE_VFORK | CLONE_INTO_CGROUP | share;
      ca.exit_signal = SIGCHLD;
      ca.stack = (uint64_t)(uintptr_t)stack;
      ca.stack_size = SPAWN_STACK;
      ca.cgroup = (uint64_t)cg_dir;
      long r = tsv_clone3(&ca, sizeof ca, child_main, sa);
      if (r < 0) {
        pid = -1;
        errno = (int)-r;
      } else {
        pid = (pid_t)r;
      }
#else
      pid = -1;
      errno = ENOSYS;
#endif
    } else {
      /* the stack grows down on every Linux architecture Node runs on (not hppa) */
      pid = clone(child_main, stack + SPAWN_STACK, CLONE_VM | CLONE_VFORK | (int)share | SIGCHLD, sa);
    }
  }
  int fork_err = errno;
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  if (slots_held) {
    /* why now: the child has exec'd or exited, so it holds its own copies (or none) */
    slots_clear(slots_used);
    slots_held = false;
    pthread_mutex_unlock(&slot_lock);
  }
  if (ep[1] >= 0) close(ep[1]);
  if (pid < 0) {
    if (ep[0] >= 0) close(ep[0]);
    if (via_clone3 && clone3_missing(fork_err)) {
      /* why once: the answer is the kernel's or the seccomp filter's, the same for every later
       * spawn of this process; from now on every spawn into a cgroup joins by the write. */
      clone3_unavailable = 1;
      via_clone3 = false;
      goto again;
    }
    /* why the cgroup's path: clone3's other errors are the cgroup's (EOPNOTSUPP: "domain
     * invalid", e.g. below a threaded cgroup; EBUSY: it has controllers enabled for its
     * children; ENOENT or ENODEV: removed; EBADF: not a cgroup2 directory; EAGAIN: pids.max
     * reached; EACCES: no write permission on its cgroup.procs), and the caller needs to know
     * which cgroup. */
    if (via_clone3 && fork_err == EBADF && fcntl(cg_dir, F_GETFD) >= 0) {
      /* why its own text: the kernel says EBADF for an open fd that is not on a cgroup2
       * directory (a plain directory, a cgroup v1 one, the cgroup.procs file itself), where
       * "bad file descriptor" would send the reader looking for a closed fd. */
      spawn_error(j, EBADF, "not a cgroup2 directory", "clone3", fd_path(cg_dir, j->err_buf, sizeof j->err_buf));
    } else if (via_clone3 && fork_err != ENOMEM) {
      spawn_error(j, fork_err, NULL, "clone3", fd_path(cg_dir, j->err_buf, sizeof j->err_buf));
    } else {
      spawn_error(j, fork_err, NULL, "spawn", path);
    }
    return;
  }
  if (via_clone3 && !sa->started) {
    /* why: a child that never ran was killed as the kernel made it, before its first
     * instruction: cgroup_post_fork SIGKILLs a child whose cgroup's kill_seq (a count of writes
     * to cgroup.kill) changed during the fork, and kernels that count kills so (6.18 here)
     * take the "before" value from the PARENT's cgroup when the child goes elsewhere with
     * CLONE_INTO_CGROUP (cgroup_css_set_fork reads it before it has the destination): every
     * child born in a cgroup that has ever been cgroup.kill'ed (a stop after timeout-kill, a
     * takeover) dies at birth, and so would all of them if our own cgroup had been.
     * Joining by the write compares nothing (the child is made in our own cgroup, then moved).
     * So: reap it, join by the write this time and for every later spawn into this cgroup (one
     * made again after its rmdir is a new cgroup, and clone3 is tried afresh). */
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {}
    clone3_refused_add(cg_dir);
    via_clone3 = false;
    goto again;
  }
  struct spawn_err rec = sa->fail;
  bool failed = rec.step != 0;
  if (use_fork) {
    /* why: the write end is close-on-exec, so EOF (0 bytes) means the exec succeeded; a record
     * means a step failed and the child is exiting. */
    ssize_t r;
    do r = read(ep[0], &rec, sizeof rec); while (r < 0 && errno == EINTR);
    close(ep[0]);
    failed = r == (ssize_t)sizeof rec;
  }
  if (failed) {
    int st;
    /* why: the failed child is ours alone (no one else knows its pid): reap it now so no
     * zombie is left for a SIGCHLD handler to puzzle over. */
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {}
    if (rec.step == STEP_UNSHARE) {
      /* why once: close_range's answer (ENOSYS before Linux 5.9, EINVAL before it knew
       * CLOSE_RANGE_UNSHARE, a seccomp filter's) is the same for every later spawn. */
      share_unavailable = 1;
      goto again;
    }
    if (rec.step == STEP_EXEC) spawn_error(j, rec.err, NULL, "execve", path);
    else if (rec.step == STEP_CHDIR) spawn_error(j, rec.err, NULL, "chdir", j->cwd);
    else if (rec.step == STEP_SETSID) spawn_error(j, rec.err, NULL, "setsid", NULL);
    else if (rec.step == STEP_RLIMIT) spawn_error(j, rec.err, NULL, "setrlimit", NULL);
    else if (rec.step == STEP_CGROUP) spawn_error(j, rec.err, NULL, "write", procs_path(cg_dir, j->err_buf, sizeof j->err_buf));
    else spawn_error(j, rec.err, NULL, "spawn", path);
    return;
  }
  long long tick_after = boottime_tick();
  j->pid = pid;
  j->ticks = tick_before >= 0 && tick_before == tick_after ? tick_before : -1;
}

/* spawn(path, argv, envp, cwd, fds, flags) -> pid. flags: { setsid, cgroupDirFd (an fd open on
 * a cgroup v2 directory: the child is born in that cgroup, by clone3(CLONE_INTO_CGROUP), or
 * joins it before anything else where clone3 is unavailable), noClone3 (always join by the
 * write to cgroup.procs: for measuring and testing the fallback), nofile (soft limit to put
 * back in the child), shell (on ENOEXEC run path with /bin/sh, as execvp does), fork (use
 * fork(), not clone(CLONE_VM|CLONE_VFORK): for measuring; it joins by the write too),
 * noShareFds (copy the whole fd table, as where close_range cannot unshare: for measuring and
 * testing that fallback) }. Where the child shares the table (the normal vfork-style path) it
 * gets exactly the fds given; a copied table also passes on our fds that lack close-on-exec.
 * Exec and set-up failures are thrown here, synchronously, after the child is reaped. */
static napi_value Spawn(napi_env env, napi_callback_info info) {
  napi_value a[6];
  if (get_args(env, info, a, 6) < 6) return throw_type(env, "spawn(path, argv, envp, cwd, fds, flags)");
  last_spawn_ticks = -1;
  struct spawn_job *j = spawn_parse(env, a, false);
  if (j == NULL) return NULL;
  spawn_run(j);
  napi_value result = NULL;
  if (j->pid > 0) {
    last_spawn_ticks = j->ticks;
    result = num(env, j->pid);
  } else {
    throw_errno_as(env, j->err, j->what, j->syscall, j->err_path);
  }
  spawn_free(j);
  return result;
}

/* The thread pool's part of spawnAsync. */
static void spawn_execute(napi_env env, void *arg) {
  (void)env;
  spawn_run(arg);
}

/* Back on the loop: cb(err, pid, ticks). */
static void spawn_complete(napi_env env, napi_status status, void *arg) {
  struct spawn_job *j = arg;
  napi_value cb, undef, out[3];
  napi_get_reference_value(env, j->cb, &cb);
  napi_get_undefined(env, &undef);
  napi_get_null(env, &out[0]);
  napi_get_null(env, &out[1]);
  napi_get_null(env, &out[2]);
  if (status != napi_ok) {
    out[0] = make_errno_as(env, ECANCELED, NULL, "spawn", j->path);
  } else if (j->pid > 0) {
    out[1] = num(env, j->pid);
    if (j->ticks >= 0) out[2] = num(env, (double)j->ticks);
  } else {
    out[0] = make_errno_as(env, j->err, j->what, j->syscall, j->err_path);
  }
  napi_delete_reference(env, j->cb);
  napi_delete_async_work(env, j->work);
  spawn_free(j);
  /* why no result check: an exception the callback throws is Node's uncaught exception */
  napi_call_function(env, undef, cb, 3, out, NULL);
}

/* spawnAsync(path, argv, envp, cwd, fds, flags, cb): spawn's work in libuv's thread pool;
 * cb(err, pid, startTicks) on the loop (err null and pid set once the child has exec'd; err
 * Node-style as spawn throws it, the failed child reaped; startTicks as spawnStartTicks, null
 * when not known). Bad arguments, and fds that cannot be copied, throw here. No pdeathsig.
 *
 * Why: a vfork-style spawn suspends its thread until the child has exec'd (for a shebang
 * script: the kernel opening the script and its interpreter, ~0.25 ms, more when the child
 * waits for a CPU). On the loop, a tsvscan starting 1000 services sat ~0.45 s in those waits;
 * here a pool thread waits instead and the loop goes on setting up the next services. The job
 * holds its own copies of the fds it names (see spawn_own_fds). */
static napi_value SpawnAsync(napi_env env, napi_callback_info info) {
  napi_value a[7];
  napi_valuetype ct = napi_undefined;
  if (get_args(env, info, a, 7) == 7) napi_typeof(env, a[6], &ct);
  if (ct != napi_function) return throw_type(env, "spawnAsync(path, argv, envp, cwd, fds, flags, cb)");
  struct spawn_job *j = spawn_parse(env, a, true);
  if (j == NULL) return NULL;
  if (!queue_job(env, "tsv.spawn", spawn_execute, spawn_complete, j, a[6], &j->cb, &j->work)) {
    spawn_free(j);
    return throw_errno(env, EAGAIN, "uv_queue_work", NULL);
  }
  return undefined(env);
}

/* spawnSlots() -> the fds the addon reserved at load for spawns (see slots_reserve): ours, not
 * inherited, for a program that lists its fds to tell what it inherited. */
static napi_value SpawnSlots(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value arr;
  napi_create_array(env, &arr);
  if (slot_limit == 0) return arr;
  napi_set_element(env, arr, 0, num(env, slot_null));
  for (int k = 0; k < SPAWN_SLOTS; k++) napi_set_element(env, arr, (uint32_t)k + 1, num(env, slot_fd[k]));
  return arr;
}

/* spawnStartTicks() -> the start time (clock ticks since boot, /proc/PID/stat's field 22) of
 * the child the last spawn on this thread made, or null when it is not known (the clock crossed
 * a tick during the clone, or that spawn failed): then read it from /proc. */
static napi_value SpawnStartTicks(napi_env env, napi_callback_info info) {
  (void)info;
  if (last_spawn_ticks < 0) {
    napi_value v;
    napi_get_null(env, &v);
    return v;
  }
  return num(env, (double)last_spawn_ticks);
}

/* waitidPeek() -> { pid, code, signal } of one exited child, left unreaped (WNOWAIT), or null
 * when none has exited (or there are no children). */
static napi_value WaitidPeek(napi_env env, napi_callback_info info) {
  (void)info;
  siginfo_t si;
  memset(&si, 0, sizeof si);
  int r;
  do r = waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT); while (r < 0 && errno == EINTR);
  napi_value out;
  if (r < 0 && errno != ECHILD) return throw_errno(env, errno, "waitid", NULL);
  /* why: with WNOHANG, "no child has exited yet" is success with si_pid 0, not an error. */
  if (r < 0 || si.si_pid == 0) {
    napi_get_null(env, &out);
    return out;
  }
  napi_value nul;
  napi_get_null(env, &nul);
  napi_create_object(env, &out);
  napi_set_named_property(env, out, "pid", num(env, si.si_pid));
  bool exited = si.si_code == CLD_EXITED;
  napi_set_named_property(env, out, "code", exited ? num(env, si.si_status) : nul);
  napi_set_named_property(env, out, "signal", exited ? nul : num(env, si.si_status));
  return out;
}

/* Export one function under name. */
/* ---- at-least-once pipe reading (tsvlog): tee, splice, pipe sizes, edge-triggered readiness ---- */

/* tee(in, out, len) with SPLICE_F_NONBLOCK: copy up to len bytes from the head of pipe in into
 * pipe out WITHOUT consuming them. Returns the count, 0 at end of input (empty, no writer), or
 * -1 when nothing can be copied now (EAGAIN: in empty, or out full). */
static napi_value Tee(napi_env env, napi_callback_info info) {
  napi_value a[3];
  int32_t in, out, len;
  if (!need_args(env, info, a, 3) || !arg_int(env, a[0], &in) || !arg_int(env, a[1], &out) || !arg_int(env, a[2], &len))
    return throw_type(env, "tee(in, out, len)");
  ssize_t n;
  do n = tee(in, out, (size_t)len, SPLICE_F_NONBLOCK);
  while (n < 0 && errno == EINTR);
  if (n < 0 && errno == EAGAIN) return num(env, -1);
  if (n < 0) return throw_errno(env, errno, "tee", NULL);
  return num(env, (double)n);
}

/* splice(in, out, len) with SPLICE_F_NONBLOCK, no offsets: move up to len bytes from pipe in to
 * out (e.g. /dev/null, to consume what a tee already copied). Returns the count, 0 at end of
 * input, -1 on EAGAIN. */
static napi_value Splice(napi_env env, napi_callback_info info) {
  napi_value a[3];
  int32_t in, out, len;
  if (!need_args(env, info, a, 3) || !arg_int(env, a[0], &in) || !arg_int(env, a[1], &out) || !arg_int(env, a[2], &len))
    return throw_type(env, "splice(in, out, len)");
  ssize_t n;
  do n = splice(in, NULL, out, NULL, (size_t)len, SPLICE_F_NONBLOCK);
  while (n < 0 && errno == EINTR);
  if (n < 0 && errno == EAGAIN) return num(env, -1);
  if (n < 0) return throw_errno(env, errno, "splice", NULL);
  return num(env, (double)n);
}

/* readAvailable(fd, buf): one read(2) of up to buf's length from a non-blocking fd. Returns the
 * count, 0 at end of input, -1 on EAGAIN. why not fs.readSync: its EAGAIN is an exception, an
 * Error with a formatted message built at every drain of a pipe that holds nothing (tsvscan
 * drains a service's stderr FIFO at each exit and each start of run). */
static napi_value ReadAvailable(napi_env env, napi_callback_info info) {
  napi_value a[2];
  int32_t fd;
  void *data = NULL;
  size_t len = 0;
  bool is_buf = false;
  if (!need_args(env, info, a, 2) || !arg_int(env, a[0], &fd) || napi_is_buffer(env, a[1], &is_buf) != napi_ok || !is_buf ||
      napi_get_buffer_info(env, a[1], &data, &len) != napi_ok)
    return throw_type(env, "readAvailable(fd, buf)");
  ssize_t n;
  do n = read(fd, data, len);
  while (n < 0 && errno == EINTR);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return num(env, -1);
  if (n < 0) return throw_errno(env, errno, "read", NULL);
  return num(env, (double)n);
}

/* pipeSize(fd, size): F_GETPIPE_SZ when size is 0, else F_SETPIPE_SZ; returns the capacity. */
static napi_value PipeSize(napi_env env, napi_callback_info info) {
  napi_value a[2];
  int32_t fd, size;
  if (!need_args(env, info, a, 2) || !arg_int(env, a[0], &fd) || !arg_int(env, a[1], &size))
    return throw_type(env, "pipeSize(fd, size)");
  int r = size > 0 ? fcntl(fd, F_SETPIPE_SZ, size) : fcntl(fd, F_GETPIPE_SZ);
  if (r < 0) return throw_errno(env, errno, size > 0 ? "fcntl F_SETPIPE_SZ" : "fcntl F_GETPIPE_SZ", NULL);
  return num(env, r);
}

/* An edge watcher: fd registered EPOLLET in a private epoll set, whose epoll fd libuv polls. */
typedef struct {
  uv_poll_t poll;
  int epfd;
  napi_env env;
  napi_ref cb;
  napi_async_context actx;
  int stopped;
} edge_watch;

/* libuv is done with the handle: free it. */
static void edge_closed(uv_handle_t *h) {
  edge_watch *w = (edge_watch *)h->data;
  close(w->epfd);
  free(w);
}

/* The epoll fd is readable: an edge happened on the watched fd. */
static void edge_ready(uv_poll_t *p, int status, int events) {
  (void)status;
  (void)events;
  edge_watch *w = (edge_watch *)p->data;
  struct epoll_event ev[4];
  int n, hup = 0;
  /* why: reading the events re-arms nothing (edge-triggered); the epoll fd reads "not ready"
   * again until the watched fd sees a new write or hang-up, so data left in the pipe on purpose
   * does not wake us in a loop. */
  while ((n = epoll_wait(w->epfd, ev, 4, 0)) > 0)
    for (int i = 0; i < n; i++)
      if (ev[i].events & (EPOLLHUP | EPOLLERR)) hup = 1;
  if (w->stopped) return;
  napi_env env = w->env;
  napi_handle_scope scope;
  napi_open_handle_scope(env, &scope);
  napi_value cb, recv, arg, result;
  napi_get_reference_value(env, w->cb, &cb);
  /* why: make_callback needs an object as receiver (undefined leaves a TypeError pending). */
  napi_get_global(env, &recv);
  napi_get_boolean(env, hup, &arg);
  /* why: make_callback, not call_function: promise jobs queued by the callback run after it. */
  napi_make_callback(env, w->actx, recv, cb, 1, &arg, &result);
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (pending) {
    napi_value err;
    napi_get_and_clear_last_exception(env, &err);
    napi_fatal_exception(env, err);
  }
  napi_close_handle_scope(env, scope);
}

/* watchEdges(fd, cb): call cb(hup) each time fd gets new data (EPOLLIN edge) or is hung up.
 * Returns a handle for unwatchEdges. The watch keeps the event loop alive, like a socket. */
static napi_value WatchEdges(napi_env env, napi_callback_info info) {
  napi_value a[2];
  int32_t fd;
  napi_valuetype t;
  if (!need_args(env, info, a, 2) || !arg_int(env, a[0], &fd) || napi_typeof(env, a[1], &t) != napi_ok || t != napi_function)
    return throw_type(env, "watchEdges(fd, cb)");
  uv_loop_t *loop;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok) return throw_type(env, "no event loop");
  int epfd = epoll_create1(EPOLL_CLOEXEC);
  if (epfd < 0) return throw_errno(env, errno, "epoll_create1", NULL);
  struct epoll_event ev = {.events = EPOLLIN | EPOLLET, .data = {.fd = fd}};
  /* why: EPOLLET: one event per write into the pipe (Linux wakes readers on every write), and
   * an event at once if data is already there when we register. */
  if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
    int e = errno;
    close(epfd);
    return throw_errno(env, e, "epoll_ctl", NULL);
  }
  edge_watch *w = calloc(1, sizeof *w);
  if (!w) {
    close(epfd);
    return throw_errno(env, ENOMEM, "watchEdges", NULL);
  }
  w->epfd = epfd;
  w->env = env;
  napi_create_reference(env, a[1], 1, &w->cb);
  napi_value name, resource;
  napi_create_string_utf8(env, "tsv.watchEdges", NAPI_AUTO_LENGTH, &name);
  /* why: an object, not NULL: Node 20 converts the resource with ToObject and would leave a
   * TypeError pending for the next call into the addon. */
  napi_create_object(env, &resource);
  napi_async_init(env, resource, name, &w->actx);
  uv_poll_init(loop, &w->poll, epfd);
  w->poll.data = w;
  uv_poll_start(&w->poll, UV_READABLE, edge_ready);
  napi_value ext;
  napi_create_external(env, w, NULL, NULL, &ext);
  return ext;
}

/* unwatchEdges(handle): stop a watcher (idempotent); the epoll fd is closed. */
static napi_value UnwatchEdges(napi_env env, napi_callback_info info) {
  napi_value a[1];
  void *p = NULL;
  if (!need_args(env, info, a, 1) || napi_get_value_external(env, a[0], &p) != napi_ok || !p)
    return throw_type(env, "unwatchEdges(handle)");
  edge_watch *w = (edge_watch *)p;
  if (w->stopped) return undefined(env);
  w->stopped = 1;
  uv_poll_stop(&w->poll);
  napi_delete_reference(env, w->cb);
  napi_async_destroy(env, w->actx);
  uv_close((uv_handle_t *)&w->poll, edge_closed);
  return undefined(env);
}

static void export_fn(napi_env env, napi_value exports, const char *name, napi_callback cb) {
  napi_value fn;
  napi_create_function(env, name, NAPI_AUTO_LENGTH, cb, NULL, &fn);
  napi_set_named_property(env, exports, name, fn);
}

/* Export one integer constant under name. */
static void export_int(napi_env env, napi_value obj, const char *name, int v) {
  napi_value n;
  napi_create_int32(env, v, &n);
  napi_set_named_property(env, obj, name, n);
}

static napi_value Init(napi_env env, napi_value exports) {
  static pthread_once_t slots_once = PTHREAD_ONCE_INIT;
  /* why at load: the table is small then (fds 0-2 and the runtime's own), so the slots are
   * low and a child sharing it copies little; Init runs again in each worker thread. */
  pthread_once(&slots_once, slots_reserve);
  export_fn(env, exports, "execve", Execve);
  export_fn(env, exports, "flock", Flock);
  export_fn(env, exports, "funlock", Funlock);
  export_fn(env, exports, "mkfifo", Mkfifo);
  export_fn(env, exports, "writeSpare", WriteSpare);
  export_fn(env, exports, "renameExchange", RenameExchange);
  export_fn(env, exports, "writeFiles", WriteFiles);
  export_fn(env, exports, "writeFilesSync", WriteFilesSync);
  export_fn(env, exports, "pipe", Pipe);
  export_fn(env, exports, "spawnStartTicks", SpawnStartTicks);
  export_fn(env, exports, "spawnSlots", SpawnSlots);
  export_fn(env, exports, "getrlimit", Getrlimit);
  export_fn(env, exports, "setrlimit", Setrlimit);
  export_fn(env, exports, "setsid", Setsid);
  export_fn(env, exports, "chroot", Chroot);
  export_fn(env, exports, "setCloexec", SetCloexec);
  export_fn(env, exports, "setNonblock", SetNonblock);
  export_fn(env, exports, "dup2", Dup2);
  export_fn(env, exports, "setChildSubreaper", SetChildSubreaper);
  export_fn(env, exports, "waitpid", Waitpid);
  export_fn(env, exports, "tee", Tee);
  export_fn(env, exports, "splice", Splice);
  export_fn(env, exports, "readAvailable", ReadAvailable);
  export_fn(env, exports, "pipeSize", PipeSize);
  export_fn(env, exports, "watchEdges", WatchEdges);
  export_fn(env, exports, "unwatchEdges", UnwatchEdges);
  export_fn(env, exports, "spawn", Spawn);
  export_fn(env, exports, "spawnAsync", SpawnAsync);
  export_fn(env, exports, "waitidPeek", WaitidPeek);
  napi_value rl;
  napi_create_object(env, &rl);
  export_int(env, rl, "AS", RLIMIT_AS);
  export_int(env, rl, "CORE", RLIMIT_CORE);
  export_int(env, rl, "CPU", RLIMIT_CPU);
  export_int(env, rl, "DATA", RLIMIT_DATA);
  export_int(env, rl, "FSIZE", RLIMIT_FSIZE);
  export_int(env, rl, "MEMLOCK", RLIMIT_MEMLOCK);
  export_int(env, rl, "NOFILE", RLIMIT_NOFILE);
  export_int(env, rl, "NPROC", RLIMIT_NPROC);
  export_int(env, rl, "RSS", RLIMIT_RSS);
  export_int(env, rl, "STACK", RLIMIT_STACK);
  napi_set_named_property(env, exports, "RLIMIT", rl);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
