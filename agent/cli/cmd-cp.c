/* SPDX-License-Identifier: Apache-2.0 */
/* podrun cp: files and directories out of and into a running container, as kubectl cp copies
 * them, but through the container's root (pods_container_root) instead of a tar inside it. So
 * every path on the container's side is hostile: the path given is resolved within the root
 * (open_in_root: RESOLVE_IN_ROOT), each entry below it is opened relative to its directory's fd
 * with O_NOFOLLOW (a link swapped in meanwhile is not followed), an entry is looked at through
 * an O_PATH fd before anything reads or writes it (a device or FIFO is never opened), and a
 * file is read up to the size it had then. The local side follows kubectl's rules.
 *
 * A relative path in the container is taken from the container's working directory, as
 * kubectl's tar run there takes it (still resolved within the root). Into the container,
 * kubectl's `tar -xmf -` runs as the container's root and so keeps the files' uid, gid and
 * mode bits (setuid included), mtime set to the copy's time; with --no-preserve (`tar
 * --no-same-permissions --no-same-owner`) they are the copier's, under the umask. podrun does
 * the same by number (a tar in the container would map the user's name through the image's
 * /etc/passwd first), when it runs as root. Out of the container kubectl's untar sets the mode
 * and no owner: podrun does the same. */
#include "commands.h"
#include "fs.h"
#include "pods/pods.h"
#include "util.h"

#include <dirent.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <sys/stat.h>

#define USAGE "usage: podrun cp [-c CONTAINER] [-n NAMESPACE] SRC DEST (one of them [NS/]POD:PATH)"

/* Limits on what a container can make podrun copy out (it controls the tree). */
#define CP_MAX_DEPTH   128
#define CP_MAX_ENTRIES (1u << 20)
#define CP_MAX_BYTES   (64ull << 30)

struct spec {
    char *ns, *pod; /* pod NULL: a local path */
    const char *path;
};

struct copy {
    unsigned entries;
    unsigned long long bytes;
    bool preserve; /* into the container: uid, gid and mode bits kept */
};

/* Into the container with preserve: the source's owner, then its mode (chown clears setuid),
 * on the new entry through an O_PATH fd or, for a link, its name (never followed). */
static int keep_owner_mode(int fd, int dirfd, const char *name, const struct stat *st,
                           const char *what, pr_error **err)
{
    int r = geteuid() != 0 ? 0
            : fd >= 0      ? fchownat(fd, "", st->st_uid, st->st_gid, AT_EMPTY_PATH)
                           : fchownat(dirfd, name, st->st_uid, st->st_gid, AT_SYMLINK_NOFOLLOW);
    if (r < 0)
        return pr_err(err, errno, "set the owner of `%s` in the container", what);
    if (fd < 0)
        return 0; /* a link has no mode of its own */
    char p[64];
    snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
    if (chmod(p, st->st_mode & 07777) < 0)
        return pr_err(err, errno, "set the mode of `%s` in the container", what);
    return 0;
}

/* kubectl's file spec: [[namespace/]pod:]file/path. */
static int parse_spec(char *arg, struct spec *s, pr_error **err)
{
    char *colon = strchr(arg, ':');
    *s = (struct spec){.path = arg};
    if (!colon)
        return 0;
    if (colon == arg)
        return pr_err(err, 0,
                      "filespec must match the canonical format: [[namespace/]pod:]file/path");
    *colon = '\0';
    char *slash = strchr(arg, '/');
    if (slash && strchr(slash + 1, '/'))
        return pr_err(err, 0,
                      "filespec must match the canonical format: [[namespace/]pod:]file/path");
    if (slash) {
        *slash = '\0';
        s->ns = arg;
        s->pod = slash + 1;
    } else {
        s->pod = arg;
    }
    s->path = colon + 1;
    return 0;
}

/* An O_PATH fd opened again for I/O: the same inode, whatever its name points to now. */
static int reopen(int pathfd, int flags)
{
    char p[64];
    snprintf(p, sizeof(p), "/proc/self/fd/%d", pathfd);
    return open(p, flags | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
}

static const char *kind_name(mode_t m)
{
    return S_ISCHR(m)    ? "a character device"
           : S_ISBLK(m)  ? "a block device"
           : S_ISFIFO(m) ? "a FIFO"
           : S_ISSOCK(m) ? "a socket"
                         : "not a regular file";
}

/* Copies at most size bytes (what the source had when it was looked at). */
static int copy_data(int in, int out, off_t size, struct copy *c, const char *what, pr_error **err)
{
    char buf[65536];
    off_t left = size;
    while (left > 0) {
        ssize_t n = read(in, buf, left < (off_t)sizeof(buf) ? (size_t)left : sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return pr_err(err, errno, "read `%s`", what);
        if (n == 0)
            break; /* shrank meanwhile */
        if ((c->bytes += (unsigned long long)n) > CP_MAX_BYTES)
            return pr_err_code(err, EFBIG, "`%s`: the copy is over %llu GiB, the limit", what,
                               CP_MAX_BYTES >> 30);
        for (ssize_t off = 0; off < n;) {
            ssize_t w = write(out, buf + off, (size_t)(n - off));
            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0)
                return pr_err(err, errno, "write `%s`", what);
            off += w;
        }
        left -= n;
    }
    return 0;
}

static int count_entry(struct copy *c, const char *what, int depth, pr_error **err)
{
    if (++c->entries > CP_MAX_ENTRIES)
        return pr_err_code(err, EFBIG, "`%s`: over %u entries, the limit of a copy", what,
                           CP_MAX_ENTRIES);
    if (depth > CP_MAX_DEPTH)
        return pr_err_code(err, ELOOP, "`%s`: deeper than %d directories, the limit", what,
                           CP_MAX_DEPTH);
    return 0;
}

/* ---- out of the container ---- */

static int out_entry(int pathfd, const char *what, int dstdir, const char *dst, int depth,
                     struct copy *c, pr_error **err);

static int out_dir(int dirfd, const char *what, int dstdir, const char *dst, mode_t mode, int depth,
                   struct copy *c, pr_error **err)
{
    if (mkdirat(dstdir, dst, mode & 07777) < 0 && errno != EEXIST)
        return pr_err(err, errno, "create `%s`", dst);
    _cleanup_close_ int out = openat(dstdir, dst, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (out < 0)
        return pr_err(err, errno, "open `%s`", dst);
    int fd = reopen(dirfd, O_RDONLY | O_DIRECTORY);
    if (fd < 0)
        return pr_err(err, errno, "open `%s` in the container", what);
    DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return pr_err(err, errno, "read `%s` in the container", what);
    }
    int r = 0;
    struct dirent *de;
    while (r == 0 && (errno = 0, de = readdir(d))) {
        if (streq(de->d_name, ".") || streq(de->d_name, ".."))
            continue;
        _cleanup_free_ char *sub = xasprintf("%s/%s", what, de->d_name);
        _cleanup_close_ int child = openat(dirfd, de->d_name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (child < 0) {
            if (errno == ENOENT)
                continue; /* gone meanwhile */
            r = pr_err(err, errno, "open `%s` in the container", sub);
            break;
        }
        r = out_entry(child, sub, out, de->d_name, depth + 1, c, err);
    }
    if (r == 0 && errno)
        r = pr_err(err, errno, "read `%s` in the container", what);
    closedir(d);
    return r;
}

/* pathfd: an O_PATH fd on the container's entry (what: its path there, for messages); the copy
 * goes to dst in dstdir. */
static int out_entry(int pathfd, const char *what, int dstdir, const char *dst, int depth,
                     struct copy *c, pr_error **err)
{
    struct stat st;
    int r = count_entry(c, what, depth, err);
    if (r < 0)
        return r;
    if (fstat(pathfd, &st) < 0)
        return pr_err(err, errno, "stat `%s` in the container", what);
    if (S_ISLNK(st.st_mode)) {
        /* kubectl's untar skips links too: one could point anywhere on this machine. */
        char target[PATH_MAX];
        ssize_t n = readlinkat(pathfd, "", target, sizeof(target) - 1);
        target[n > 0 ? n : 0] = '\0';
        fprintf(stderr, "warning: skipping symlink: \"%s\" -> \"%s\"\n", dst, target);
        return 0;
    }
    if (S_ISDIR(st.st_mode))
        return out_dir(pathfd, what, dstdir, dst, st.st_mode, depth, c, err);
    if (!S_ISREG(st.st_mode))
        return pr_err_code(err, EPERM,
                           "`%s` in the container is %s: podrun copies files and "
                           "directories only",
                           what, kind_name(st.st_mode));
    /* Refused before anything is written: a sparse file costs the container nothing. */
    if ((unsigned long long)st.st_size > CP_MAX_BYTES - c->bytes)
        return pr_err_code(err, EFBIG, "`%s`: the copy would be over %llu GiB, the limit", what,
                           CP_MAX_BYTES >> 30);
    _cleanup_close_ int in = reopen(pathfd, O_RDONLY);
    if (in < 0)
        return pr_err(err, errno, "open `%s` in the container", what);
    _cleanup_close_ int out =
        openat(dstdir, dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, st.st_mode & 0777);
    if (out < 0)
        return pr_err(err, errno, "create `%s`", dst);
    return copy_data(in, out, st.st_size, c, what, err);
}

static int copy_out(int rootfd, const char *src, const char *dst, pr_error **err)
{
    _cleanup_close_ int fd = open_in_root(rootfd, src, O_PATH, err);
    if (fd < 0)
        return pr_err_prefix(err, "%s", src);
    struct copy c = {0};
    /* The local path becomes the copy, as kubectl's untar of the stripped prefix makes it. */
    return out_entry(fd, src, AT_FDCWD, dst, 0, &c, err);
}

/* ---- into the container ---- */

/* Makes name in dirfd (the container's) ready for a new entry of type want: a link there is
 * removed (never followed), a directory kept for a directory, anything else refused. */
static int clear_target(int dirfd, const char *name, const char *what, mode_t want, pr_error **err)
{
    struct stat st;
    if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return errno == ENOENT ? 0 : pr_err(err, errno, "stat `%s` in the container", what);
    if (S_ISLNK(st.st_mode) || (S_ISREG(st.st_mode) && !S_ISREG(want) && !S_ISDIR(want))) {
        if (unlinkat(dirfd, name, 0) < 0)
            return pr_err(err, errno, "replace `%s` in the container", what);
        return 0;
    }
    if (S_ISDIR(st.st_mode) && S_ISDIR(want))
        return 0;
    if (S_ISREG(st.st_mode) && S_ISREG(want))
        return 0;
    if (S_ISDIR(st.st_mode))
        return pr_err_code(err, EISDIR,
                           "cannot overwrite directory `%s` in the container "
                           "with a non-directory",
                           what);
    if (S_ISREG(st.st_mode))
        return pr_err_code(err, ENOTDIR,
                           "cannot overwrite non-directory `%s` in the "
                           "container with a directory",
                           what);
    return pr_err_code(err, EPERM, "`%s` in the container is %s: podrun writes no such file", what,
                       kind_name(st.st_mode));
}

static int in_entry(int srcdir, const char *src, const char *local, int dirfd, const char *name,
                    const char *what, int depth, struct copy *c, pr_error **err);

static int in_dir(int srcfd, const char *local, int dirfd, const char *name, const char *what,
                  mode_t mode, int depth, struct copy *c, pr_error **err)
{
    int r = clear_target(dirfd, name, what, S_IFDIR, err);
    if (r < 0)
        return r;
    if (mkdirat(dirfd, name, mode & 07777) < 0 && errno != EEXIST)
        return pr_err(err, errno, "create `%s` in the container", what);
    _cleanup_close_ int sub = openat(dirfd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (sub < 0)
        return pr_err(err, errno, "open `%s` in the container", what);
    struct stat sst;
    if (c->preserve &&
        (fstat(srcfd, &sst) < 0 || (r = keep_owner_mode(sub, dirfd, name, &sst, what, err)) < 0))
        return r < 0 ? r : pr_err(err, errno, "stat `%s`", local);
    int fd = dup(srcfd);
    DIR *d = fd < 0 ? NULL : fdopendir(fd);
    if (!d) {
        if (fd >= 0)
            close(fd);
        return pr_err(err, errno, "read `%s`", local);
    }
    struct dirent *de;
    while (r == 0 && (de = readdir(d))) {
        if (streq(de->d_name, ".") || streq(de->d_name, ".."))
            continue;
        _cleanup_free_ char *l = xasprintf("%s/%s", local, de->d_name);
        _cleanup_free_ char *w = xasprintf("%s/%s", what, de->d_name);
        r = in_entry(srcfd, de->d_name, l, sub, de->d_name, w, depth + 1, c, err);
    }
    closedir(d);
    return r;
}

/* The local entry src in srcdir (local: its path, for messages) to name in the container's
 * directory dirfd (what: its path there). */
static int in_entry(int srcdir, const char *src, const char *local, int dirfd, const char *name,
                    const char *what, int depth, struct copy *c, pr_error **err)
{
    struct stat st;
    int r = count_entry(c, local, depth, err);
    if (r < 0)
        return r;
    /* The top one is followed as kubectl's os.Stat follows it; those below are not. */
    if (fstatat(srcdir, src, &st, depth ? AT_SYMLINK_NOFOLLOW : 0) < 0)
        return pr_err(err, errno, "%s", local);
    if (S_ISLNK(st.st_mode)) {
        /* A link is made as a link (kubectl's tar keeps it): making one follows nothing. */
        char target[PATH_MAX];
        ssize_t n = readlinkat(srcdir, src, target, sizeof(target) - 1);
        if (n < 0)
            return pr_err(err, errno, "read link `%s`", local);
        target[n] = '\0';
        if ((r = clear_target(dirfd, name, what, S_IFLNK, err)) < 0)
            return r;
        if (symlinkat(target, dirfd, name) < 0)
            return pr_err(err, errno, "create link `%s` in the container", what);
        return c->preserve ? keep_owner_mode(-1, dirfd, name, &st, what, err) : 0;
    }
    if (S_ISDIR(st.st_mode)) {
        _cleanup_close_ int fd =
            openat(srcdir, src, O_RDONLY | O_DIRECTORY | O_CLOEXEC | (depth ? O_NOFOLLOW : 0));
        if (fd < 0)
            return pr_err(err, errno, "open `%s`", local);
        return in_dir(fd, local, dirfd, name, what, st.st_mode, depth, c, err);
    }
    if (!S_ISREG(st.st_mode)) {
        fprintf(stderr, "warning: skipping `%s`: %s\n", local, kind_name(st.st_mode));
        return 0;
    }
    _cleanup_close_ int in =
        openat(srcdir, src, O_RDONLY | O_CLOEXEC | O_NONBLOCK | (depth ? O_NOFOLLOW : 0));
    if (in < 0)
        return pr_err(err, errno, "open `%s`", local);
    if ((r = clear_target(dirfd, name, what, S_IFREG, err)) < 0)
        return r;
    _cleanup_close_ int out =
        openat(dirfd, name, O_WRONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC,
               st.st_mode & 0777);
    if (out < 0)
        return pr_err(err, errno, "create `%s` in the container", what);
    /* What was opened is checked, not what was looked at: a FIFO or device put there
     * meanwhile is refused before anything is written to it. */
    struct stat ost;
    if (fstat(out, &ost) < 0 || !S_ISREG(ost.st_mode))
        return pr_err_code(err, EPERM, "`%s` in the container is not a regular file", what);
    if (ftruncate(out, 0) < 0)
        return pr_err(err, errno, "truncate `%s` in the container", what);
    if (c->preserve && (r = keep_owner_mode(out, dirfd, name, &st, what, err)) < 0)
        return r;
    return copy_data(in, out, st.st_size, c, local, err);
}

static int copy_in(int rootfd, const char *src, const char *dst, bool preserve, pr_error **err)
{
    struct copy c = {.preserve = preserve};
    _cleanup_free_ char *s1 = xstrdup(src), *d1 = xstrdup(dst), *d2 = xstrdup(dst);
    const char *base = basename(s1);
    if (!*base || streq(base, ".") || streq(base, ".."))
        base = "."; /* "dir/." copies dir's contents */
    /* Into an existing directory: the copy under the source's name, as kubectl does. */
    pr_error *e = NULL;
    _cleanup_close_ int dir = open_in_root(rootfd, dst, O_PATH | O_DIRECTORY, &e);
    pr_error_free(e);
    const char *name, *what = dst;
    _cleanup_free_ char *w = NULL;
    if (dir >= 0 && !streq(base, ".")) {
        name = base;
        what = w = xasprintf("%s/%s", streq(dst, "/") ? "" : dst, base);
    } else if (dir >= 0) {
        name = ".";
    } else {
        name = basename(d1);
        if (!*name || streq(name, ".") || streq(name, ".."))
            return pr_err(err, 0, "`%s`: not a name to create in the container", dst);
        dir = open_in_root(rootfd, dirname(d2), O_PATH | O_DIRECTORY, err);
        if (dir < 0)
            return pr_err_prefix(err, "%s", dst);
    }
    if (streq(name, ".")) {
        /* "." is the directory itself: its contents go into it. */
        struct stat st;
        if (stat(src, &st) < 0)
            return pr_err(err, errno, "%s", src);
        if (!S_ISDIR(st.st_mode))
            return pr_err(err, 0, "`%s` is not a directory", src);
        _cleanup_close_ int fd = open(src, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
            return pr_err(err, errno, "open `%s`", src);
        DIR *d = fdopendir(dup(fd));
        if (!d)
            return pr_err(err, errno, "read `%s`", src);
        int r = 0;
        struct dirent *de;
        while (r == 0 && (de = readdir(d))) {
            if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                continue;
            _cleanup_free_ char *l = xasprintf("%s/%s", src, de->d_name);
            _cleanup_free_ char *ww = xasprintf("%s/%s", what, de->d_name);
            r = in_entry(fd, de->d_name, l, dir, de->d_name, ww, 1, &c, err);
        }
        closedir(d);
        return r;
    }
    return in_entry(AT_FDCWD, src, src, dir, name, what, 0, &c, err);
}

int cmd_cp(struct podrun_global *g, int argc, char **argv, pr_error **err)
{
    static const struct option opts[] = {
        {"container", required_argument, NULL, 'c'},
        {"namespace", required_argument, NULL, 'n'},
        {"no-preserve", no_argument, NULL, 'P'},
        {NULL, 0, NULL, 0},
    };
    const char *ns = NULL, *container = NULL;
    bool preserve = true;
    int c;
    while ((c = cli_getopt(argc, argv, "c:n:", opts)) != -1) {
        if (c == 'P')
            preserve = false;
        else if (c == 'c')
            container = optarg;
        else if (c == 'n')
            ns = optarg;
        else
            return pr_err(err, 0, USAGE);
    }
    if (argc - optind != 2)
        return pr_err(err, 0, "source and destination are required");
    struct spec src, dst;
    int r = parse_spec(argv[optind], &src, err);
    if (r < 0 || (r = parse_spec(argv[optind + 1], &dst, err)) < 0)
        return r;
    if (!*src.path || !*dst.path)
        return pr_err(err, 0, "filepath can not be empty");
    if (src.pod && dst.pod)
        return pr_err(err, 0, "one of src or dest must be a local file specification");
    if (!src.pod && !dst.pod)
        return pr_err(err, 0, "one of src or dest must be a remote file specification");
    struct spec *remote = src.pod ? &src : &dst;
    const char *pod_ns = remote->ns ? remote->ns : ns ? ns : "default";
    struct pods_manager *m = NULL;
    if ((r = open_manager(g, false, &m, err)) < 0)
        return r;
    int rootfd = -1;
    _cleanup_free_ char *cwd = NULL, *full = NULL;
    /* kubectl's tar takes a relative path from the container's working directory. */
    if (remote->path[0] != '/' &&
        (r = pods_container_cwd(m, pod_ns, remote->pod, container, &cwd, err)) == 0)
        remote->path = full = xasprintf("%s/%s", streq(cwd, "/") ? "" : cwd, remote->path);
    if (r == 0)
        r = pods_container_root(m, pod_ns, remote->pod, container, &rootfd, err);
    /* The lock is not held while copying: the root fd keeps the container's tree. */
    pods_manager_close(m);
    if (r < 0)
        return r;
    r = src.pod ? copy_out(rootfd, src.path, dst.path, err)
                : copy_in(rootfd, src.path, dst.path, preserve, err);
    close(rootfd);
    return r;
}
