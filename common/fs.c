/* SPDX-License-Identifier: Apache-2.0 */
#include "fs.h"
#include "util.h"

#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <dirent.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>

#ifndef RESOLVE_IN_ROOT
#define RESOLVE_NO_XDEV       0x01
#define RESOLVE_NO_MAGICLINKS 0x02
#define RESOLVE_NO_SYMLINKS   0x04
#define RESOLVE_BENEATH       0x08
#define RESOLVE_IN_ROOT       0x10
#endif
#ifndef SYS_openat2
#define SYS_openat2 437
#endif
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif
#ifndef SYS_close_range
#define SYS_close_range 436
#endif

struct pr_open_how {
    unsigned long long flags;
    unsigned long long mode;
    unsigned long long resolve;
};

int sys_openat2(int dirfd, const char *path, int flags, mode_t mode, unsigned long long resolve)
{
    struct pr_open_how how = {.flags = (unsigned)flags, .mode = mode, .resolve = resolve};
    return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
}

int sys_pidfd_open(pid_t pid, unsigned int flags)
{
    return (int)syscall(SYS_pidfd_open, pid, flags);
}

int sys_pidfd_send_signal(int pidfd, int sig)
{
    return (int)syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
}

int sys_close_range(unsigned int first, unsigned int last, unsigned int flags)
{
    return (int)syscall(SYS_close_range, first, last, flags);
}

void child_signals_default(void)
{
    struct sigaction dfl = {.sa_handler = SIG_DFL};
    sigaction(SIGPIPE, &dfl, NULL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
}

/* struct clone_args up to its cgroup field (CLONE_ARGS_SIZE_VER2), as <linux/sched.h> has it;
 * spelled out because that header and glibc's <sched.h> define the CLONE_ flags twice. */
struct pr_clone_args {
    uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid,
        set_tid_size, cgroup;
};
#define PR_CLONE_INTO_CGROUP 0x200000000ULL

pid_t sys_clone3_into_cgroup(int cgroup_fd)
{
    struct pr_clone_args a = {
        .flags = PR_CLONE_INTO_CGROUP, .exit_signal = SIGCHLD, .cgroup = (uint64_t)cgroup_fd};
    return (pid_t)syscall(SYS_clone3, &a, sizeof(a));
}

const char *fd_path(int fd, char buf[FD_PATH_MAX])
{
    snprintf(buf, FD_PATH_MAX, "/proc/self/fd/%d", fd);
    return buf;
}

const char *size_text(size_t n, char buf[SIZE_TEXT_MAX])
{
    static const char *const units[] = {"bytes", "KiB", "MiB", "GiB"};
    size_t u = 0;
    while (u + 1 < ARRAY_SIZE(units) && n >= 1024 && n % 1024 == 0) {
        n /= 1024;
        u++;
    }
    size_t k = format_ull(buf, n);
    buf[k++] = ' ';
    strcpy(buf + k, units[u]);
    return buf;
}

static int too_big(pr_error **err, const char *what, size_t max)
{
    char t[SIZE_TEXT_MAX];
    return pr_err_code(err, EFBIG, "`%s` is larger than %s, the limit for it", what,
                       size_text(max, t));
}

int read_fd_max(int fd, const char *what, size_t max, char **out, size_t *len, pr_error **err)
{
    struct stat st;
    if (fstat(fd, &st) < 0)
        return pr_err(err, errno, "stat `%s`", what);
    /* A regular file tells its size: refuse it before reading. Anything else (a pipe, a
     * device, a /proc file that says 0) is read up to one byte past the limit. */
    if (S_ISREG(st.st_mode) && (uintmax_t)st.st_size > max)
        return too_big(err, what, max);
    size_t cap = S_ISREG(st.st_mode) && st.st_size > 0 ? (size_t)st.st_size + 2 : 4096;
    if (cap > max + 2)
        cap = max + 2;
    size_t n = 0;
    _cleanup_free_ char *buf = xmalloc(cap);
    for (;;) {
        if (n > max)
            return too_big(err, what, max);
        if (cap - n < 2) {
            cap = cap > (max + 2) / 2 ? max + 2 : cap * 2;
            buf = xrealloc(buf, cap);
        }
        ssize_t r = read(fd, buf + n, cap - n - 1);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return pr_err(err, errno, "read `%s`", what);
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    buf[n] = '\0';
    if (len)
        *len = n;
    *out = steal_pointer(&buf);
    return 0;
}

int read_file_at_max(int dirfd, const char *path, size_t max, unsigned flags, char **out,
                     size_t *len, pr_error **err)
{
    /* O_NONBLOCK: opening a FIFO that only a regular file should be must not wait for a
     * writer. It changes nothing for a regular file's reads. */
    int oflags = O_RDONLY | O_CLOEXEC | O_NOCTTY | ((flags & READ_REGULAR) ? O_NONBLOCK : 0);
    _cleanup_close_ int fd = openat(dirfd, path, oflags);
    if (fd < 0)
        return pr_err(err, errno, "open `%s`", path);
    if (flags & READ_REGULAR) {
        struct stat st;
        if (fstat(fd, &st) < 0)
            return pr_err(err, errno, "stat `%s`", path);
        if (!S_ISREG(st.st_mode))
            return pr_err_code(err, EINVAL, "`%s` is not a regular file", path);
    }
    return read_fd_max(fd, path, max, out, len, err);
}

int read_file_max(const char *path, size_t max, unsigned flags, char **out, size_t *len,
                  pr_error **err)
{
    return read_file_at_max(AT_FDCWD, path, max, flags, out, len, err);
}

int read_file_at(int dirfd, const char *path, char **out, size_t *len, pr_error **err)
{
    return read_file_at_max(dirfd, path, READ_FILE_DEFAULT_MAX, 0, out, len, err);
}

int read_file(const char *path, char **out, size_t *len, pr_error **err)
{
    return read_file_at_max(AT_FDCWD, path, READ_FILE_DEFAULT_MAX, 0, out, len, err);
}

int write_file_at(int dirfd, const char *path, const char *data, size_t len, pr_error **err)
{
    _cleanup_close_ int fd = openat(dirfd, path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return pr_err(err, errno, "open `%s`", path);
    ssize_t w = write(fd, data, len);
    if (w < 0)
        return pr_err(err, errno, "write `%.*s` to `%s`", (int)(len > 64 ? 64 : len), data, path);
    if ((size_t)w != len)
        return pr_err(err, EIO, "short write to `%s`", path);
    return 0;
}

int write_file(const char *path, const char *data, size_t len, pr_error **err)
{
    return write_file_at(AT_FDCWD, path, data, len, err);
}

static int write_atomic(const char *path, const void *data, size_t len, mode_t mode, bool sync,
                        pr_error **err)
{
    /* By thread: the CRI server's workers write the same files at once (DESIGN.md §4); in a
     * single-threaded program the thread id is the pid. */
    _cleanup_free_ char *tmp = xasprintf("%s.tmp.%d", path, (int)gettid());
    /* A new file of our own: never written through a symlink or into a file someone put under
     * the temporary name (a stale one, left by a writer that died with our id, goes first). */
    const int flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
    _cleanup_close_ int fd = open(tmp, flags, mode);
    if (fd < 0 && errno == EEXIST && unlink(tmp) == 0)
        fd = open(tmp, flags, mode);
    if (fd < 0)
        return pr_err(err, errno, "create `%s`", tmp);
    const char *p = data;
    size_t left = len;
    while (left > 0) {
        ssize_t w = write(fd, p, left);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            int e = errno;
            unlink(tmp);
            return pr_err(err, e, "write `%s`", tmp);
        }
        p += w;
        left -= (size_t)w;
    }
    /* fsync is what makes the rename a commit point across a crash; on tmpfs it is free. */
    if (sync && fsync(fd) < 0) {
        int e = errno;
        unlink(tmp);
        return pr_err(err, e, "fsync `%s`", tmp);
    }
    if (rename(tmp, path) < 0) {
        int e = errno;
        unlink(tmp);
        return pr_err(err, e, "rename `%s` to `%s`", tmp, path);
    }
    return 0;
}

int write_file_atomic(const char *path, const void *data, size_t len, mode_t mode, pr_error **err)
{
    return write_atomic(path, data, len, mode, true, err);
}

int write_file_atomic_volatile(const char *path, const void *data, size_t len, mode_t mode,
                               pr_error **err)
{
    return write_atomic(path, data, len, mode, false, err);
}

int mkdir_p(const char *path, mode_t mode, pr_error **err)
{
    _cleanup_free_ char *p = xstrdup(path);
    for (char *s = p + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        if (mkdir(p, mode) < 0 && errno != EEXIST)
            return pr_err(err, errno, "mkdir `%s`", p);
        *s = '/';
    }
    if (mkdir(p, mode) < 0 && errno != EEXIST)
        return pr_err(err, errno, "mkdir `%s`", p);
    return 0;
}

int rm_rf_at(int dirfd, const char *name)
{
    struct stat st;
    if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return errno == ENOENT ? 0 : -errno;
    if (!S_ISDIR(st.st_mode)) {
        if (unlinkat(dirfd, name, 0) < 0 && errno != ENOENT)
            return -errno;
        return 0;
    }
    int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? 0 : -errno;
    _cleanup_dir_ DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return -errno;
    }
    struct dirent *de;
    int ret = 0;
    while ((de = readdir(d))) {
        if (streq(de->d_name, ".") || streq(de->d_name, ".."))
            continue;
        struct stat cst;
        if (fstatat(fd, de->d_name, &cst, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(cst.st_mode) &&
            cst.st_dev != st.st_dev)
            return -EBUSY; /* a mount point: never delete into another filesystem */
        int r = rm_rf_at(fd, de->d_name);
        if (r < 0 && ret == 0)
            ret = r;
    }
    if (unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT && ret == 0)
        ret = -errno;
    return ret;
}

int rm_rf(const char *path)
{
    return rm_rf_at(AT_FDCWD, path);
}

int lock_path(const char *path, bool exclusive, pr_error **err)
{
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return pr_err(err, errno, "open lock `%s`", path);
    while (flock(fd, exclusive ? LOCK_EX : LOCK_SH) < 0) {
        if (errno == EINTR)
            continue;
        int e = errno;
        close(fd);
        return pr_err(err, e, "lock `%s`", path);
    }
    return fd;
}

/* The walk used where openat2 is missing (before Linux 5.6) or refused (seccomp'd hosts).
 * It keeps a stack of directory fds from the root so that '..' pops instead of leaving, and
 * restarts symlink targets from the root, as RESOLVE_IN_ROOT does. */
#define MAX_SYMLINKS 40

static int walk_in_root(int rootfd, const char *path, int flags, pr_error **err)
{
    _cleanup_free_ char *todo = xstrdup(path);
    int stack[PATH_MAX / 2];
    int depth = 0, links = 0;
    int cur = dup(rootfd);
    if (cur < 0)
        return pr_err(err, errno, "dup root fd");
    stack[depth++] = cur;
    char *rest = todo;
    int ret = -1;

    for (;;) {
        while (*rest == '/')
            rest++;
        if (*rest == '\0') {
            /* Reopen the final directory with the caller's flags. */
            ret = openat(stack[depth - 1], ".", flags | O_CLOEXEC);
            if (ret < 0)
                ret = pr_err(err, errno, "open `%s` in root", path);
            break;
        }
        char *slash = strchr(rest, '/');
        char comp[NAME_MAX + 1];
        size_t clen = slash ? (size_t)(slash - rest) : strlen(rest);
        if (clen > NAME_MAX) {
            ret = pr_err(err, ENAMETOOLONG, "resolve `%s`", path);
            break;
        }
        memcpy(comp, rest, clen);
        comp[clen] = '\0';
        rest += clen;
        bool last = *rest == '\0' || strspn(rest, "/") == strlen(rest);

        if (streq(comp, "."))
            continue;
        if (streq(comp, "..")) {
            if (depth > 1)
                close(stack[--depth]);
            continue;
        }
        struct stat st;
        if (fstatat(stack[depth - 1], comp, &st, AT_SYMLINK_NOFOLLOW) < 0) {
            ret = pr_err(err, errno, "resolve `%s` in root", path);
            break;
        }
        if (S_ISLNK(st.st_mode) && !(last && (flags & O_NOFOLLOW))) {
            if (++links > MAX_SYMLINKS) {
                ret = pr_err(err, ELOOP, "resolve `%s` in root", path);
                break;
            }
            char target[PATH_MAX];
            ssize_t n = readlinkat(stack[depth - 1], comp, target, sizeof(target) - 1);
            if (n < 0) {
                ret = pr_err(err, errno, "readlink `%s` in root", comp);
                break;
            }
            target[n] = '\0';
            if (target[0] == '/') {
                while (depth > 1)
                    close(stack[--depth]);
            }
            char *joined = xasprintf("%s/%s", target, rest);
            free(todo);
            todo = joined;
            rest = todo;
            continue;
        }
        if (last) {
            ret = openat(stack[depth - 1], comp, flags | O_NOFOLLOW | O_CLOEXEC);
            if (ret < 0)
                ret = pr_err(err, errno, "open `%s` in root", path);
            break;
        }
        if (!S_ISDIR(st.st_mode)) {
            ret = pr_err(err, ENOTDIR, "resolve `%s` in root", path);
            break;
        }
        if ((size_t)depth >= ARRAY_SIZE(stack)) {
            ret = pr_err(err, ENAMETOOLONG, "resolve `%s` in root", path);
            break;
        }
        int next = openat(stack[depth - 1], comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (next < 0) {
            ret = pr_err(err, errno, "resolve `%s` in root", path);
            break;
        }
        stack[depth++] = next;
    }
    while (depth > 0)
        close(stack[--depth]);
    return ret;
}

static int openat2_works = -1;

int open_in_root(int rootfd, const char *path, int flags, pr_error **err)
{
    if (openat2_works != 0) {
        const char *p = path;
        while (*p == '/')
            p++;
        int fd = sys_openat2(rootfd, *p ? p : ".", flags | O_CLOEXEC, 0,
                             RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
        if (fd >= 0) {
            openat2_works = 1;
            return fd;
        }
        if (errno != ENOSYS && errno != EPERM && errno != EAGAIN)
            return pr_err(err, errno, "open `%s` in root", path);
        if (errno != EAGAIN)
            openat2_works = 0;
    }
    return walk_in_root(rootfd, path, flags, err);
}

static char *path_join(const char *dir, const char *name, size_t nlen)
{
    if (streq(dir, "/"))
        return xasprintf("/%.*s", (int)nlen, name);
    return xasprintf("%s/%.*s", dir, (int)nlen, name);
}

static void path_pop(char *path)
{
    char *slash = strrchr(path, '/');
    if (slash == path)
        path[1] = '\0';
    else if (slash)
        *slash = '\0';
}

/* The target of name in the directory resolved (inside the root), or NULL when it is not a
 * symlink or does not exist. */
static char *read_link_in_root(int rootfd, const char *resolved, const char *name)
{
    _cleanup_close_ int dirfd = open_in_root(rootfd, resolved, O_PATH | O_DIRECTORY, NULL);
    if (dirfd < 0)
        return NULL;
    char buf[PATH_MAX];
    ssize_t n = readlinkat(dirfd, name, buf, sizeof(buf) - 1);
    if (n <= 0)
        return NULL;
    buf[n] = '\0';
    return xstrdup(buf);
}

int resolve_in_root(int rootfd, const char *path, char **out, pr_error **err)
{
    _cleanup_free_ char *resolved = xstrdup("/");
    _cleanup_free_ char *rest = xstrdup(path);
    const char *p = rest;
    int links = 0;

    while (*p) {
        while (*p == '/')
            p++;
        const char *end = strchrnul(p, '/');
        size_t len = end - p;
        if (len == 0)
            break;
        if (len == 1 && p[0] == '.') {
            p = end;
            continue;
        }
        if (len == 2 && p[0] == '.' && p[1] == '.') {
            path_pop(resolved);
            p = end;
            continue;
        }
        _cleanup_free_ char *name = xasprintf("%.*s", (int)len, p);
        _cleanup_free_ char *target = read_link_in_root(rootfd, resolved, name);
        if (!target) {
            char *next = path_join(resolved, p, len);
            free(resolved);
            resolved = next;
            p = end;
            continue;
        }
        if (++links > MAX_SYMLINKS)
            return pr_err(err, ELOOP, "resolve `%s` in the root", path);
        /* Splice the link target in front of what is left; an absolute target restarts at
         * the root of the container, never the host's. */
        char *next = xasprintf("%s/%s", target, end);
        free(rest);
        rest = next;
        p = rest;
        if (target[0] == '/')
            strcpy(resolved, "/");
    }
    *out = steal_pointer(&resolved);
    return 0;
}

/* Lexically resolves "." and ".." in an absolute-or-relative path, clamped at "/": inside a
 * root, ".." of the top is the top. */
char *path_clean_in_root(const char *path)
{
    char *out = xmalloc(strlen(path) + 2);
    size_t n = 0;
    out[n++] = '/';
    const char *p = path;
    while (*p) {
        while (*p == '/')
            p++;
        if (!*p)
            break;
        const char *e = strchr(p, '/');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == 1 && p[0] == '.') {
            /* skip */
        } else if (len == 2 && p[0] == '.' && p[1] == '.') {
            while (n > 1 && out[n - 1] != '/')
                n--;
            if (n > 1)
                n--;
        } else {
            if (n > 1 && out[n - 1] != '/')
                out[n++] = '/';
            memcpy(out + n, p, len);
            n += len;
        }
        p += len;
    }
    if (n > 1 && out[n - 1] == '/')
        n--;
    out[n] = '\0';
    return out;
}

int mkdir_in_root(int rootfd, const char *path, mode_t mode, bool last_is_file, pr_error **err)
{
    /* Create one missing component at a time below the deepest existing directory,
     * re-resolving through open_in_root each time so a concurrent symlink swap is caught. */
    _cleanup_free_ char *p = path_clean_in_root(path);
    int fd = open_in_root(rootfd, p, O_PATH, NULL);
    if (fd >= 0)
        return fd;

    char *slash = strrchr(p, '/');
    _cleanup_close_ int parent = -1;
    const char *name = p;
    if (slash) {
        *slash = '\0';
        name = slash + 1;
        if (*p) {
            parent = mkdir_in_root(rootfd, p, 0755, false, err);
            if (parent < 0)
                return parent;
        } else {
            parent = dup(rootfd);
        }
    } else {
        parent = dup(rootfd);
    }
    if (parent < 0)
        return pr_err(err, errno, "dup");
    /* O_PATH fds cannot be used with mkdirat on all kernels; get a real directory fd. */
    char buf[FD_PATH_MAX];
    _cleanup_close_ int dirfd = open(fd_path(parent, buf), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0)
        return pr_err(err, errno, "open parent of `%s`", path);
    if (last_is_file) {
        int f = openat(dirfd, name, O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, mode);
        if (f < 0 && errno != EEXIST)
            return pr_err(err, errno, "create `%s` in root", path);
        if (f >= 0)
            close(f);
    } else if (mkdirat(dirfd, name, mode) < 0 && errno != EEXIST) {
        return pr_err(err, errno, "mkdir `%s` in root", path);
    }
    fd = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return pr_err(err, errno, "open `%s` in root", path);
    return fd;
}

int fs_watch_dir(int fd, const char *dir, uint32_t mask, bool sub, pr_error **err)
{
    if (inotify_add_watch(fd, dir, mask | IN_ONLYDIR) < 0)
        return errno == ENOENT ? 0 : pr_err(err, errno, "watch `%s`", dir);
    if (!sub)
        return 0;
    DIR *d = opendir(dir);
    if (!d)
        return errno == ENOENT ? 0 : pr_err(err, errno, "read `%s`", dir);
    int r = 0;
    for (struct dirent *e; r == 0 && (e = readdir(d));) {
        if (e->d_name[0] == '.' || e->d_type != DT_DIR)
            continue;
        char *p = xasprintf("%s/%s", dir, e->d_name);
        r = fs_watch_dir(fd, p, mask, false, err);
        free(p);
    }
    closedir(d);
    return r;
}
