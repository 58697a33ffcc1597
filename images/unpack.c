/* SPDX-License-Identifier: Apache-2.0 */
#include "unpack.h"
#include "digest.h"
#include "fs.h"
#include "log.h"
#include "util.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#ifndef RESOLVE_BENEATH
#define RESOLVE_NO_XDEV       0x01
#define RESOLVE_NO_MAGICLINKS 0x02
#define RESOLVE_NO_SYMLINKS   0x04
#define RESOLVE_BENEATH       0x08
#endif

#define WHITEOUT_PREFIX ".wh."
#define WHITEOUT_OPAQUE ".wh..wh..opq"

struct dir_time {
    char *path;
    struct timespec times[2];
};

typedef struct unpacker {
    int rootfd;
    const char *what;
    /* The parent directory of the last entry, kept open: tar streams list a directory's
     * entries together, so most entries reuse it. */
    char *cached_parent;
    int cached_fd;
    struct dir_time *dirs;
    size_t ndirs, capdirs;
} unpacker;

/* Turns an archive path into a clean relative one, refusing what could leave the root. */
static int clean_entry_path(unpacker *u, const char *raw, const char *entry, const char *role,
                            char **out, pr_error **err)
{
    if (!entry)
        entry = raw;
    if (!raw || !*raw)
        return pr_err(err, 0, "%s: entry `%s`: empty %s", u->what, entry ? entry : "", role);
    if (raw[0] == '/')
        return pr_err(err, 0, "%s: entry `%s`: absolute %s `%s` refused", u->what, entry, role,
                      raw);
    char *p = xmalloc(strlen(raw) + 1);
    size_t n = 0;
    const char *s = raw;
    while (*s) {
        while (*s == '/')
            s++;
        if (!*s)
            break;
        const char *e = strchr(s, '/');
        size_t len = e ? (size_t)(e - s) : strlen(s);
        if (len == 2 && s[0] == '.' && s[1] == '.') {
            free(p);
            return pr_err(err, 0, "%s: entry `%s`: `..` in the %s `%s` refused", u->what, entry,
                          role, raw);
        }
        if (!(len == 1 && s[0] == '.')) {
            if (n)
                p[n++] = '/';
            memcpy(p + n, s, len);
            n += len;
        }
        s += len;
    }
    p[n] = '\0';
    *out = p;
    return 0;
}

/* Opens a directory below the root without following any symlink, so a link planted by an
 * earlier entry cannot redirect a later write outside. Missing directories are created. */
static int open_dir_beneath(unpacker *u, const char *path, const char *entry, pr_error **err)
{
    if (!*path)
        return fcntl(u->rootfd, F_DUPFD_CLOEXEC, 3);
    int fd = sys_openat2(u->rootfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0,
                         RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS |
                             RESOLVE_NO_XDEV);
    if (fd >= 0)
        return fd;
    if (errno == ELOOP || errno == EXDEV || errno == ENOTDIR) {
        /* Tell a symlink in the way apart from other failures: that is the attack. */
        return pr_err(err, 0,
                      "%s: entry `%s`: its path goes through a symlink or a non-directory "
                      "(`%s`): refused",
                      u->what, entry, path);
    }
    if (errno != ENOENT && errno != ENOSYS)
        return pr_err(err, errno, "%s: entry `%s`: open `%s`", u->what, entry, path);
    /* Walk one component at a time, creating what is missing (and the ENOSYS fallback). */
    _cleanup_free_ char *copy = xstrdup(path);
    int cur = fcntl(u->rootfd, F_DUPFD_CLOEXEC, 3);
    for (char *save = NULL, *c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
        int next = openat(cur, c, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (next < 0 && errno == ENOENT) {
            if (mkdirat(cur, c, 0755) < 0 && errno != EEXIST) {
                int e = errno;
                close(cur);
                return pr_err(err, e, "%s: entry `%s`: create directory `%s`", u->what, entry, c);
            }
            next = openat(cur, c, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        }
        if (next < 0) {
            int e = errno;
            close(cur);
            if (e == ELOOP || e == ENOTDIR)
                return pr_err(err, 0,
                              "%s: entry `%s`: its path goes through a symlink or a "
                              "non-directory (`%s`): refused",
                              u->what, entry, c);
            return pr_err(err, e, "%s: entry `%s`: open `%s`", u->what, entry, c);
        }
        close(cur);
        cur = next;
    }
    return cur;
}

static void invalidate_cache(unpacker *u)
{
    free(u->cached_parent);
    u->cached_parent = NULL;
    if (u->cached_fd >= 0)
        close(u->cached_fd);
    u->cached_fd = -1;
}

/* The parent of path, opened; *name points at the last component inside path. */
static int parent_of(unpacker *u, char *path, const char **name, pr_error **err)
{
    char *slash = strrchr(path, '/');
    _cleanup_free_ char *parent = slash ? strndup(path, (size_t)(slash - path)) : xstrdup("");
    *name = slash ? slash + 1 : path;
    int fd;
    if (u->cached_parent && streq(u->cached_parent, parent)) {
        fd = u->cached_fd;
    } else {
        fd = open_dir_beneath(u, parent, path, err);
        if (fd >= 0) {
            invalidate_cache(u);
            u->cached_parent = xstrdup(parent);
            u->cached_fd = fd;
        }
    }
    return fd;
}

/* Removes whatever is at name unless it is a directory and keep_dir is set. */
static int clear_slot(unpacker *u, int dirfd, const char *name, bool keep_dir, const char *entry,
                      pr_error **err)
{
    struct stat st;
    if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return errno == ENOENT ? 0 : pr_err(err, errno, "%s: entry `%s`: stat", u->what, entry);
    if (S_ISDIR(st.st_mode) && keep_dir)
        return 1;
    /* What goes is a child of dirfd, the cached parent: the cache stays valid. */
    int r = rm_rf_at(dirfd, name);
    if (r < 0)
        return pr_err(err, -r, "%s: entry `%s`: remove what was there", u->what, entry);
    return 0;
}

static int write_data(unpacker *u, struct archive *a, struct archive_entry *e, int fd,
                      const char *entry, pr_error **err)
{
    const void *block;
    size_t size;
    la_int64_t offset, end = 0;
    int r;
    while ((r = archive_read_data_block(a, &block, &size, &offset)) == ARCHIVE_OK) {
        const char *p = block;
        if (offset != end && lseek(fd, offset, SEEK_SET) < 0) /* sparse hole */
            return pr_err(err, errno, "%s: entry `%s`: seek", u->what, entry);
        end = offset + (la_int64_t)size;
        while (size > 0) {
            ssize_t n = write(fd, p, size);
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0)
                return pr_err(err, errno, "%s: entry `%s`: write", u->what, entry);
            p += n;
            size -= (size_t)n;
        }
    }
    if (r != ARCHIVE_EOF)
        return pr_err(err, 0, "%s: entry `%s`: read: %s", u->what, entry, archive_error_string(a));
    la_int64_t size_want = archive_entry_size_is_set(e) ? archive_entry_size(e) : end;
    if (size_want > end)
        end = size_want;
    if (end > 0 && lseek(fd, 0, SEEK_CUR) != end && ftruncate(fd, end) < 0) /* ends in a hole */
        return pr_err(err, errno, "%s: entry `%s`: truncate", u->what, entry);
    return 0;
}

static int apply_xattrs_fd(unpacker *u, struct archive_entry *e, int fd, const char *entry,
                           pr_error **err)
{
    const char *name;
    const void *value;
    size_t size;
    archive_entry_xattr_reset(e);
    while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK) {
        /* overlayfs' own attributes steer how layers combine: an image may not set them. */
        if (has_prefix(name, "trusted.overlay.")) {
            pr_warning("%s: entry `%s`: ignoring xattr %s", u->what, entry, name);
            continue;
        }
        if (fsetxattr(fd, name, value, size, 0) < 0) {
            if (errno == ENOTSUP || errno == EPERM) {
                pr_warning("%s: entry `%s`: cannot set xattr %s: %s", u->what, entry, name,
                           strerror(errno));
                continue;
            }
            return pr_err(err, errno, "%s: entry `%s`: set xattr %s", u->what, entry, name);
        }
    }
    return 0;
}

static void entry_times(struct archive_entry *e, struct timespec ts[2])
{
    ts[1].tv_sec = archive_entry_mtime(e);
    ts[1].tv_nsec = archive_entry_mtime_nsec(e);
    if (archive_entry_atime_is_set(e)) {
        ts[0].tv_sec = archive_entry_atime(e);
        ts[0].tv_nsec = archive_entry_atime_nsec(e);
    } else {
        ts[0] = ts[1];
    }
}

/* Owner, then mode (chown clears setuid), xattrs and times, all through an fd on the new
 * inode itself. */
static int apply_metadata_fd(unpacker *u, struct archive_entry *e, int fd, const char *entry,
                             pr_error **err)
{
    if (fchown(fd, (uid_t)archive_entry_uid(e), (gid_t)archive_entry_gid(e)) < 0)
        return pr_err(err, errno, "%s: entry `%s`: chown", u->what, entry);
    if (fchmod(fd, archive_entry_perm(e) & 07777) < 0)
        return pr_err(err, errno, "%s: entry `%s`: chmod", u->what, entry);
    int r = apply_xattrs_fd(u, e, fd, entry, err);
    if (r < 0)
        return r;
    struct timespec ts[2];
    entry_times(e, ts);
    if (futimens(fd, ts) < 0)
        return pr_err(err, errno, "%s: entry `%s`: set times", u->what, entry);
    return 0;
}

static int extract_file(unpacker *u, struct archive *a, struct archive_entry *e, int dirfd,
                        const char *name, const char *entry, pr_error **err)
{
    int r = clear_slot(u, dirfd, name, false, entry, err);
    if (r < 0)
        return r;
    _cleanup_close_ int fd =
        openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return pr_err(err, errno, "%s: entry `%s`: create", u->what, entry);
    r = write_data(u, a, e, fd, entry, err);
    if (r < 0)
        return r;
    return apply_metadata_fd(u, e, fd, entry, err);
}

static int record_dir(unpacker *u, struct archive_entry *e, int fd, const char *path,
                      pr_error **err);

static int extract_dir(unpacker *u, struct archive_entry *e, int dirfd, const char *name,
                       const char *path, pr_error **err)
{
    int r = clear_slot(u, dirfd, name, true, path, err);
    if (r < 0)
        return r;
    if (r == 0 && mkdirat(dirfd, name, 0700) < 0)
        return pr_err(err, errno, "%s: entry `%s`: mkdir", u->what, path);
    _cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return pr_err(err, errno, "%s: entry `%s`: open", u->what, path);
    return record_dir(u, e, fd, path, err);
}

static int record_dir(unpacker *u, struct archive_entry *e, int fd, const char *path,
                      pr_error **err)
{
    int r = apply_metadata_fd(u, e, fd, path, err);
    if (r < 0)
        return r;
    /* Writing entries inside changes the directory's mtime: set it again at the end. */
    if (u->ndirs == u->capdirs) {
        u->capdirs = u->capdirs ? 2 * u->capdirs : 64;
        u->dirs = xrealloc(u->dirs, u->capdirs * sizeof(*u->dirs));
    }
    u->dirs[u->ndirs].path = xstrdup(path);
    entry_times(e, u->dirs[u->ndirs].times);
    u->ndirs++;
    return 0;
}

static int lchown_and_times(unpacker *u, struct archive_entry *e, int dirfd, const char *name,
                            const char *entry, pr_error **err)
{
    if (fchownat(dirfd, name, (uid_t)archive_entry_uid(e), (gid_t)archive_entry_gid(e),
                 AT_SYMLINK_NOFOLLOW) < 0)
        return pr_err(err, errno, "%s: entry `%s`: chown", u->what, entry);
    struct timespec ts[2];
    entry_times(e, ts);
    if (utimensat(dirfd, name, ts, AT_SYMLINK_NOFOLLOW) < 0)
        return pr_err(err, errno, "%s: entry `%s`: set times", u->what, entry);
    return 0;
}

static int extract_symlink(unpacker *u, struct archive_entry *e, int dirfd, const char *name,
                           const char *entry, pr_error **err)
{
    const char *target = archive_entry_symlink(e);
    if (!target)
        return pr_err(err, 0, "%s: entry `%s`: symlink without a target", u->what, entry);
    int r = clear_slot(u, dirfd, name, false, entry, err);
    if (r < 0)
        return r;
    /* The target is stored as given: it is only ever resolved inside the container's root,
     * and no later entry is written through it (parents are opened with no symlinks). */
    if (symlinkat(target, dirfd, name) < 0)
        return pr_err(err, errno, "%s: entry `%s`: symlink", u->what, entry);
    return lchown_and_times(u, e, dirfd, name, entry, err);
}

static int extract_node(unpacker *u, struct archive_entry *e, int dirfd, const char *name,
                        const char *entry, pr_error **err)
{
    int r = clear_slot(u, dirfd, name, false, entry, err);
    if (r < 0)
        return r;
    mode_t type = archive_entry_filetype(e);
    dev_t dev = makedev(archive_entry_rdevmajor(e), archive_entry_rdevminor(e));
    if (mknodat(dirfd, name, type | (archive_entry_perm(e) & 07777), type == AE_IFIFO ? 0 : dev) <
        0)
        return pr_err(err, errno, "%s: entry `%s`: mknod", u->what, entry);
    r = lchown_and_times(u, e, dirfd, name, entry, err);
    if (r < 0)
        return r;
    if (fchmodat(dirfd, name, archive_entry_perm(e) & 07777, 0) < 0)
        return pr_err(err, errno, "%s: entry `%s`: chmod", u->what, entry);
    return 0;
}

static int extract_hardlink(unpacker *u, struct archive_entry *e, int dirfd, const char *name,
                            const char *entry, pr_error **err)
{
    _cleanup_free_ char *target = NULL;
    int r = clean_entry_path(u, archive_entry_hardlink(e), entry, "hard link target", &target, err);
    if (r < 0)
        return r;
    const char *tname;
    /* Resolved beneath the root like any entry; linkat without AT_SYMLINK_FOLLOW links the
     * name itself, so a link to a symlink never reaches what the symlink points at. */
    _cleanup_close_ int tdir = -1;
    {
        char *slash = strrchr(target, '/');
        if (slash) {
            *slash = '\0';
            tdir = open_dir_beneath(u, target, entry, err);
            *slash = '/';
            tname = slash + 1;
        } else {
            tdir = fcntl(u->rootfd, F_DUPFD_CLOEXEC, 3);
            tname = target;
        }
        if (tdir < 0)
            return tdir;
    }
    struct stat st;
    if (fstatat(tdir, tname, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return pr_err(err, errno, "%s: entry `%s`: hard link target `%s`", u->what, entry, target);
    if (S_ISDIR(st.st_mode))
        return pr_err(err, 0, "%s: entry `%s`: hard link to a directory refused", u->what, entry);
    if (streq(target, entry))
        return 0;
    r = clear_slot(u, dirfd, name, false, entry, err);
    if (r < 0)
        return r;
    if (linkat(tdir, tname, dirfd, name, 0) < 0)
        return pr_err(err, errno, "%s: entry `%s`: link to `%s`", u->what, entry, target);
    return 0;
}

static int extract_whiteout(unpacker *u, int dirfd, const char *name, const char *entry,
                            pr_error **err)
{
    if (streq(name, WHITEOUT_OPAQUE)) {
        if (fsetxattr(dirfd, "trusted.overlay.opaque", "y", 1, 0) < 0)
            return pr_err(err, errno, "%s: entry `%s`: mark the directory opaque", u->what, entry);
        return 0;
    }
    const char *victim = name + strlen(WHITEOUT_PREFIX);
    if (has_prefix(victim, ".wh.")) /* other AUFS metadata (.wh..wh.plnk, ...): nothing to do */
        return 0;
    if (!*victim || streq(victim, ".") || streq(victim, ".."))
        return pr_err(err, 0, "%s: entry `%s`: malformed whiteout", u->what, entry);
    int r = clear_slot(u, dirfd, victim, false, entry, err);
    if (r < 0)
        return r;
    if (mknodat(dirfd, victim, S_IFCHR | 0, makedev(0, 0)) < 0)
        return pr_err(err, errno, "%s: entry `%s`: create the overlay whiteout", u->what, entry);
    return 0;
}

static int extract_entry(unpacker *u, struct archive *a, struct archive_entry *e, pr_error **err)
{
    _cleanup_free_ char *path = NULL;
    int r = clean_entry_path(u, archive_entry_pathname(e), NULL, "path", &path, err);
    if (r < 0)
        return r;
    if (!*path) /* "./": the root itself */
        return archive_entry_filetype(e) == AE_IFDIR ? record_dir(u, e, u->rootfd, ".", err) : 0;
    const char *name;
    int dirfd = parent_of(u, path, &name, err);
    if (dirfd < 0)
        return dirfd;
    if (has_prefix(name, WHITEOUT_PREFIX))
        return extract_whiteout(u, dirfd, name, path, err);
    if (archive_entry_hardlink(e))
        return extract_hardlink(u, e, dirfd, name, path, err);
    switch (archive_entry_filetype(e)) {
    case AE_IFREG:
        return extract_file(u, a, e, dirfd, name, path, err);
    case AE_IFDIR:
        return extract_dir(u, e, dirfd, name, path, err);
    case AE_IFLNK:
        return extract_symlink(u, e, dirfd, name, path, err);
    case AE_IFCHR:
    case AE_IFBLK:
    case AE_IFIFO:
        return extract_node(u, e, dirfd, name, path, err);
    default:
        return pr_err(err, 0, "%s: entry `%s`: unsupported file type 0%o", u->what, path,
                      (unsigned)archive_entry_filetype(e));
    }
}

static int restore_dir_times(unpacker *u, pr_error **err)
{
    /* Deepest first does not matter: setting a directory's times does not touch its parent. */
    for (size_t i = 0; i < u->ndirs; i++) {
        _cleanup_close_ int fd =
            sys_openat2(u->rootfd, u->dirs[i].path, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0,
                        RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS);
        if (fd < 0)
            continue; /* removed by a later entry */
        if (futimens(fd, u->dirs[i].times) < 0)
            return pr_err(err, errno, "%s: set times of `%s`", u->what, u->dirs[i].path);
    }
    return 0;
}

static void unpacker_done(unpacker *u)
{
    invalidate_cache(u);
    for (size_t i = 0; i < u->ndirs; i++)
        free(u->dirs[i].path);
    free(u->dirs);
}

static void archive_read_freep(struct archive **a)
{
    if (*a)
        archive_read_free(*a);
}

/* The layer is decompressed by one archive reader in raw mode, whose output is hashed (the
 * diff_id the image config names) on its way to the tar reader: one pass, one decompression. */
typedef struct diff_stream {
    struct archive *raw;
    digester *dg;
    bool eof;
} diff_stream;

static la_ssize_t diff_stream_read(struct archive *a, void *data, const void **buf)
{
    diff_stream *d = data;
    size_t size;
    la_int64_t offset;
    if (d->eof)
        return 0;
    int r = archive_read_data_block(d->raw, buf, &size, &offset);
    if (r == ARCHIVE_EOF) {
        d->eof = true;
        return 0;
    }
    if (r != ARCHIVE_OK) {
        archive_set_error(a, EIO, "%s", archive_error_string(d->raw));
        return -1;
    }
    digester_update(d->dg, *buf, size);
    return (la_ssize_t)size;
}

static int open_raw(int srcfd, const char *what, struct archive **out, pr_error **err)
{
    struct archive *raw = archive_read_new();
    struct archive_entry *e;
    archive_read_support_filter_gzip(raw);
    archive_read_support_filter_zstd(raw);
    archive_read_support_filter_none(raw);
    archive_read_support_format_raw(raw);
    if (archive_read_open_fd(raw, srcfd, 1 << 20) != ARCHIVE_OK ||
        archive_read_next_header(raw, &e) != ARCHIVE_OK) {
        int r = pr_err(err, 0, "%s: cannot decompress the layer (tar, gzip or zstd): %s", what,
                       archive_error_string(raw));
        archive_read_free(raw);
        return r;
    }
    *out = raw;
    return 0;
}

static int extract_all(struct archive *a, int destfd, const char *what, pr_error **err)
{
    unpacker u = {.rootfd = destfd, .what = what, .cached_fd = -1};
    struct archive_entry *e;
    int r = 0;
    for (;;) {
        int ar = archive_read_next_header(a, &e);
        if (ar == ARCHIVE_EOF)
            break;
        if (ar == ARCHIVE_WARN) {
            pr_warning("%s: %s", what, archive_error_string(a));
        } else if (ar != ARCHIVE_OK) {
            r = pr_err(err, 0, "%s: corrupt layer: %s", what, archive_error_string(a));
            break;
        }
        r = extract_entry(&u, a, e, err);
        if (r < 0)
            break;
    }
    if (r == 0)
        r = restore_dir_times(&u, err);
    unpacker_done(&u);
    return r;
}

static int check_diff_id(const char *what, const char *want, const char *got, pr_error **err)
{
    if (want && !streq(want, got))
        return pr_err(err, 0,
                      "%s: diff_id mismatch: the image config says %s, the uncompressed "
                      "layer hashes to %s",
                      what, want, got);
    return 0;
}

int unpack_layer_fd(int srcfd, int destfd, const char *what, const char *diff_id,
                    char got[DIGEST_STR_LEN + 1], pr_error **err)
{
    if (diff_id && !digest_is_valid(diff_id))
        return pr_err(err, 0, "%s: unsupported diff_id `%s` in the image config", what, diff_id);
    __attribute__((cleanup(archive_read_freep))) struct archive *raw = NULL;
    int r = open_raw(srcfd, what, &raw, err);
    if (r < 0)
        return r;
    _cleanup_digester_ digester *dg = digester_new();
    diff_stream ds = {.raw = raw, .dg = dg};
    __attribute__((cleanup(archive_read_freep))) struct archive *a = archive_read_new();
    archive_read_support_filter_none(a);
    archive_read_support_format_tar(a);
    archive_read_support_format_gnutar(a);
    if (archive_read_open(a, &ds, NULL, diff_stream_read, NULL) != ARCHIVE_OK)
        return pr_err(err, 0, "%s: not a tar archive: %s", what, archive_error_string(a));
    r = extract_all(a, destfd, what, err);
    if (r < 0)
        return r;
    /* The tar reader stops at the end-of-archive marker: hash the padding after it too. */
    const void *buf;
    while (diff_stream_read(a, &ds, &buf) > 0)
        ;
    char computed[DIGEST_STR_LEN + 1];
    digester_final(dg, computed);
    if (got)
        memcpy(got, computed, sizeof(computed));
    return check_diff_id(what, diff_id, computed, err);
}

/* The diff_id of a stored layer blob: recorded in diffids/<hex> when it was unpacked, or
 * computed (and recorded) by decompressing it again. */
static int layer_diff_id(image_store *s, const char *digest, char out[DIGEST_STR_LEN + 1],
                         pr_error **err)
{
    _cleanup_free_ char *rel = xasprintf("diffids/%s", digest_hex(digest));
    _cleanup_free_ char *text = NULL;
    if (read_file_at(s->rootfd, rel, &text, NULL, NULL) == 0 && digest_is_valid(text)) {
        memcpy(out, text, DIGEST_STR_LEN + 1);
        return 0;
    }
    _cleanup_close_ int src = store_open_blob(s, digest, err);
    if (src < 0)
        return src;
    __attribute__((cleanup(archive_read_freep))) struct archive *raw = NULL;
    _cleanup_free_ char *what = xasprintf("layer %.19s", digest);
    int r = open_raw(src, what, &raw, err);
    if (r < 0)
        return r;
    _cleanup_digester_ digester *dg = digester_new();
    const void *block;
    size_t size;
    la_int64_t offset;
    while ((r = archive_read_data_block(raw, &block, &size, &offset)) == ARCHIVE_OK)
        digester_update(dg, block, size);
    if (r != ARCHIVE_EOF)
        return pr_err(err, 0, "%s: decompress: %s", what, archive_error_string(raw));
    digester_final(dg, out);
    _cleanup_free_ char *path = xasprintf("%s/%s", s->root, rel);
    return write_file_atomic(path, out, DIGEST_STR_LEN, 0644, err);
}

int store_unpack_layer(image_store *s, const char *digest, const char *diff_id, pr_error **err)
{
    int r = digest_check(digest, "layer", err);
    if (r < 0)
        return r;
    _cleanup_free_ char *what = xasprintf("layer %.19s", digest);
    _cleanup_free_ char *rel = xasprintf("layers/%s", digest_hex(digest));
    if (faccessat(s->rootfd, rel, F_OK, AT_SYMLINK_NOFOLLOW) == 0) {
        /* Unpacked for another image: this one's config must agree on what it holds. */
        char got[DIGEST_STR_LEN + 1];
        if (!diff_id)
            return 0;
        r = layer_diff_id(s, digest, got, err);
        return r < 0 ? r : check_diff_id(what, diff_id, got, err);
    }
    _cleanup_close_ int src = store_open_blob(s, digest, err);
    if (src < 0)
        return src;
    if (!s->staging_cleared)
        store_clear_stale_staging(s);
    _cleanup_free_ char *tmp =
        xasprintf("%s/tmp/layer-%d-%.12s-XXXXXX", s->root, (int)getpid(), digest_hex(digest));
    if (!mkdtemp(tmp))
        return pr_err(err, errno, "create a temp dir in `%s/tmp`", s->root);
    _cleanup_close_ int destfd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (destfd < 0 || store_lock_staging(destfd, tmp, err) < 0) {
        r = destfd < 0 ? pr_err(err, errno, "open `%s`", tmp) : -EIO;
        rm_rf(tmp);
        return r;
    }
    /* Layer roots are 0755 like any root directory (mkdtemp made it 0700). */
    char got[DIGEST_STR_LEN + 1];
    if (fchmod(destfd, 0755) < 0)
        r = pr_err(err, errno, "chmod `%s`", tmp);
    if (r == 0)
        r = unpack_layer_fd(src, destfd, what, diff_id, got, err);
    if (r == 0 && syncfs(destfd) < 0)
        r = pr_err(err, errno, "sync `%s`", tmp);
    /* What the blob decompresses to is a fact about the blob: record it before the layer
     * appears, so that a layer directory always has its diff_id next to it. */
    _cleanup_free_ char *record = xasprintf("%s/diffids/%s", s->root, digest_hex(digest));
    if (r == 0)
        r = write_file_atomic(record, got, DIGEST_STR_LEN, 0644, err);
    _cleanup_free_ char *dest = xasprintf("%s/%s", s->root, rel);
    if (r == 0 && rename(tmp, dest) < 0) {
        if (errno == ENOTEMPTY || errno == EEXIST)
            r = 0; /* another process unpacked it first; ours goes */
        else
            r = pr_err(err, errno, "rename `%s` to `%s`", tmp, dest);
        rm_rf(tmp);
    } else if (r < 0) {
        rm_rf(tmp);
    }
    return r;
}
