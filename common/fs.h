/* SPDX-License-Identifier: Apache-2.0 */
/* File helpers: whole-file reads, atomic writes (temp, fsync, rename), locks, recursive
 * removal, and path resolution confined to a root directory. */
#ifndef PODRUN_FS_H
#define PODRUN_FS_H

#include "error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Whole reads are bounded (DESIGN.md, "Limits"): *out is NUL-terminated, and an input larger
 * than max fails with EFBIG and a message naming the limit, before more than max + 1 bytes are
 * read (a regular file whose size is over it is refused before any). read_file and read_file_at
 * take READ_FILE_DEFAULT_MAX, for files podrun or the kernel writes (state, /proc, cgroupfs). */
#define READ_FILE_DEFAULT_MAX ((size_t)16 << 20)
/* Flag for the *_max forms: refuse anything but a regular file (a device such as /dev/zero, a
 * FIFO, a directory), without blocking on it, where only a file makes sense (a config). */
#define READ_REGULAR 0x1u
int read_file(const char *path, char **out, size_t *len, pr_error **err);
int read_file_at(int dirfd, const char *path, char **out, size_t *len, pr_error **err);
int read_file_max(const char *path, size_t max, unsigned flags, char **out, size_t *len,
                  pr_error **err);
int read_file_at_max(int dirfd, const char *path, size_t max, unsigned flags, char **out,
                     size_t *len, pr_error **err);
/* Reads fd to its end; what names it in errors ("standard input"). */
int read_fd_max(int fd, const char *what, size_t max, char **out, size_t *len, pr_error **err);
/* "4 MiB", "64 KiB" or "N bytes", for messages that name a limit. */
#define SIZE_TEXT_MAX 32
const char *size_text(size_t n, char buf[SIZE_TEXT_MAX]);
/* Write to an existing file (procfs, sysfs, cgroupfs): one write(2), no O_CREAT. */
int write_file(const char *path, const char *data, size_t len, pr_error **err);
int write_file_at(int dirfd, const char *path, const char *data, size_t len, pr_error **err);
int write_file_atomic(const char *path, const void *data, size_t len, mode_t mode, pr_error **err);
/* The same without fsync: for state that cannot outlive a reboot anyway (a runtime's view of
 * running processes), where readers need the atomic rename but nobody needs durability. */
int write_file_atomic_volatile(const char *path, const void *data, size_t len, mode_t mode,
                               pr_error **err);
int mkdir_p(const char *path, mode_t mode, pr_error **err);
/* Removes a directory tree without crossing into other mounts; ENOENT is success. */
int rm_rf(const char *path);
int rm_rf_at(int dirfd, const char *name);

/* flock() on path (created if needed); returns the fd holding the lock. */
int lock_path(const char *path, bool exclusive, pr_error **err);

/* Opens path as seen from inside root (rootfd), so that '..' and symlinks, absolute ones
 * included, never leave it. openat2(RESOLVE_IN_ROOT) where the kernel has it, a
 * component-by-component walk where it does not. flags as for openat (O_PATH typical). */
int open_in_root(int rootfd, const char *path, int flags, pr_error **err);
/* Like open_in_root, creating missing directories on the way (and the last component as a
 * directory, or as an empty file when last_is_file). Returns an O_PATH fd on the result. */
int mkdir_in_root(int rootfd, const char *path, mode_t mode, bool last_is_file, pr_error **err);

/* Resolves path inside the root rootfd the way the kernel would with rootfd as "/", following
 * symlinks that exist (confined to the root) and keeping missing components as they are, so a
 * dangling symlink's target is created inside the root instead of failing. The result is a clean
 * absolute path with no symlinks for the components that exist. */
int resolve_in_root(int rootfd, const char *path, char **out, pr_error **err);

/* Lexically resolves "." and ".." and repeated slashes into an absolute path, clamped at "/"
 * as inside a root, where ".." of the top is the top. Freshly allocated. */
char *path_clean_in_root(const char *path);

/* "/proc/self/fd/N" for handing an fd to path-based syscalls (mount(2)). */
#define FD_PATH_MAX 32
const char *fd_path(int fd, char buf[FD_PATH_MAX]);

/* Syscall wrappers the C library may lack. */
int sys_openat2(int dirfd, const char *path, int flags, mode_t mode, unsigned long long resolve);
int sys_pidfd_open(pid_t pid, unsigned int flags);
int sys_pidfd_send_signal(int pidfd, int sig);
int sys_close_range(unsigned int first, unsigned int last, unsigned int flags);
/* fork(2) with the child born in the cgroup2 directory cgroup_fd (clone3 CLONE_INTO_CGROUP,
 * Linux 5.7). -1 with errno ENOSYS, E2BIG or EINVAL where the kernel lacks it. As after any raw
 * clone, the child must not rely on glibc's cached thread id (no pthread calls). */
pid_t sys_clone3_into_cgroup(int cgroup_fd);
/* In a child between fork and exec: the signal state a new program expects, whatever its
 * parent's (podrun serve ignores SIGPIPE and blocks the signals its loop takes): SIGPIPE's
 * default disposition and no signal blocked. Async-signal-safe. */
void child_signals_default(void);

/* inotify: watches dir (mask | IN_ONLYDIR) and, when sub, each directory in it. A missing one
 * is fine (its parent's watch reports its creation). */
int fs_watch_dir(int fd, const char *dir, uint32_t mask, bool sub, pr_error **err);

#endif
