/* SPDX-License-Identifier: Apache-2.0 */
/* The cgroup mount of config.mounts (type cgroup or cgroup2, usually /sys/fs/cgroup).
 *
 * On a cgroup2 host it is one cgroup2 mount. On a v1 or hybrid host it is a tmpfs holding one
 * mount per hierarchy the process is in, named as on the host, plus "unified" for the v2 part of
 * a hybrid host. With a cgroup namespace each is a fresh mount, which the kernel roots at the
 * namespace's cgroup; without one, the container's own directory of the host hierarchy is
 * bind-mounted, so the container sees its cgroup and nothing above it either way. */

#include "mounts-internal.h"
#include "fs.h"
#include "log.h"
#include "util.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

/* One line of /proc/self/cgroup. */
struct hierarchy {
    char *controllers; /* "cpu,cpuacct", "name=systemd", "" for cgroup2 */
    char *path;
};

static void hierarchies_free(struct hierarchy *h, size_t n)
{
    for (size_t i = 0; h && i < n; i++) {
        free(h[i].controllers);
        free(h[i].path);
    }
    free(h);
}

static int read_hierarchies(struct hierarchy **out, size_t *n, pr_error **err)
{
    _cleanup_free_ char *text = NULL;
    int r = read_file("/proc/self/cgroup", &text, NULL, err);
    if (r < 0)
        return r;
    size_t count = 0, cap = 8;
    struct hierarchy *h = xcalloc(cap, sizeof(*h));
    for (char *line = text, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        char *c1 = strchr(line, ':');
        char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        if (!c2)
            continue;
        if (count == cap) {
            cap *= 2;
            h = xrealloc(h, cap * sizeof(*h));
        }
        h[count].controllers = xasprintf("%.*s", (int)(c2 - c1 - 1), c1 + 1);
        h[count].path = xstrdup(c2 + 1);
        count++;
    }
    *out = h;
    *n = count;
    return 0;
}

/* The host mount of the hierarchy: a cgroup mount with all these controllers, or for cgroup2
 * (controllers ""), the cgroup2 mount. */
static const struct rt_mountinfo *find_hierarchy_mount(const struct rt_mountinfo *mi, size_t n,
                                                       const char *controllers)
{
    for (size_t i = 0; i < n; i++) {
        if (!*controllers && streq(mi[i].fstype, "cgroup2"))
            return &mi[i];
        if (*controllers && streq(mi[i].fstype, "cgroup") &&
            rt_optlist_contains_all(mi[i].superopts, controllers))
            return &mi[i];
    }
    return NULL;
}

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* The container's directory of the hierarchy as a host path: the mount point plus the
 * cgroup path below the mount's root. */
static char *host_cgroup_dir(const struct rt_mountinfo *m, const char *path)
{
    size_t rl = strlen(m->root);
    const char *rel = path;
    if (!streq(m->root, "/")) {
        if (strncmp(path, m->root, rl) != 0 || (path[rl] != '\0' && path[rl] != '/'))
            return NULL;
        rel = path + rl;
    }
    while (*rel == '/')
        rel++;
    return *rel ? xasprintf("%s/%s", m->mountpoint, rel) : xstrdup(m->mountpoint);
}

/* Mounts one hierarchy on name in the directory parentfd (inside the rootfs, already
 * resolved: name is no symlink). */
static int mount_hierarchy(struct rt_rootfs_ctx *ctx, int parentfd, const char *name,
                           const char *what, const char *fstype, const char *controllers,
                           const struct rt_mountinfo *host, const char *path,
                           const struct rt_mount_opts *o, pr_error **err)
{
    unsigned long flags = o->flags & ~(MS_BIND | MS_REC | MS_REMOUNT);
    char buf[FD_PATH_MAX];
    _cleanup_close_ int fd = openat(parentfd, name, O_PATH | O_NOFOLLOW | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return pr_err(err, errno, "open `%s`", what);
    if (ctx->new_cgroupns) {
        const char *data = *controllers ? controllers : NULL;
        if (mount("cgroup", fd_path(fd, buf), fstype, flags, data) == 0)
            return 0;
        /* A user namespace that does not own the cgroup namespace: bind instead. */
        if (errno != EPERM && errno != EBUSY)
            return pr_err(err, errno, "mount %s %s on `%s`", fstype, controllers, what);
    }
    _cleanup_free_ char *dir = host_cgroup_dir(host, path);
    if (!dir)
        return pr_err(err, 0, "cgroup `%s` is outside the host's mount of `%s`", path,
                      host->mountpoint);
    if (mount(dir, fd_path(fd, buf), NULL, MS_BIND | MS_REC, NULL) < 0)
        return pr_err(err, errno, "bind mount cgroup `%s` on `%s`", dir, what);
    if (!flags)
        return 0;
    /* The fd still names the directory under the new mount: look it up again. */
    _cleanup_close_ int top = openat(parentfd, name, O_PATH | O_NOFOLLOW | O_DIRECTORY | O_CLOEXEC);
    if (top < 0)
        return pr_err(err, errno, "open `%s`", what);
    return rt_remount_bind(fd_path(top, buf), flags, o->cleared, err);
}

static int mount_cgroup2(struct rt_rootfs_ctx *ctx, const char *dest, const struct rt_mount_opts *o,
                         const struct hierarchy *h, size_t nh, const struct rt_mountinfo *mi,
                         size_t nmi, pr_error **err)
{
    const struct hierarchy *unified = NULL;
    for (size_t i = 0; i < nh; i++)
        if (!*h[i].controllers)
            unified = &h[i];
    const struct rt_mountinfo *host = find_hierarchy_mount(mi, nmi, "");
    if (!unified || !host)
        return pr_err(err, 0, "cgroup2 is not mounted on the host");
    _cleanup_free_ char *resolved = NULL;
    _cleanup_close_ int fd = rt_open_dest(ctx->rootfd, dest, false, &resolved, err);
    if (fd < 0)
        return fd;
    char *slash = strrchr(resolved, '/');
    if (slash[1] == '\0')
        return pr_err(err, 0, "cannot mount cgroup2 on the container's /");
    _cleanup_free_ char *parent =
        slash == resolved ? xstrdup("/") : xasprintf("%.*s", (int)(slash - resolved), resolved);
    _cleanup_close_ int parentfd = open_in_root(ctx->rootfd, parent, O_PATH | O_DIRECTORY, err);
    if (parentfd < 0)
        return parentfd;
    int r =
        mount_hierarchy(ctx, parentfd, slash + 1, dest, "cgroup2", "", host, unified->path, o, err);
    if (r < 0 || (!o->n_propagation && !o->attr_set && !o->attr_clr))
        return r;
    char buf[FD_PATH_MAX];
    _cleanup_close_ int top = open_in_root(ctx->rootfd, resolved, O_PATH, err);
    if (top < 0)
        return top;
    return rt_apply_propagation(fd_path(top, buf), o, dest, err);
}

/* "cpu,cpuacct" mounted as /sys/fs/cgroup/cpu,cpuacct gets the cpu and cpuacct links. */
static void link_comounted(int dirfd, const char *name)
{
    if (!strchr(name, ','))
        return;
    _cleanup_free_ char *copy = xstrdup(name);
    char *save = NULL;
    for (char *c = strtok_r(copy, ",", &save); c; c = strtok_r(NULL, ",", &save))
        if (!strchr(c, '=') && symlinkat(name, dirfd, c) < 0 && errno != EEXIST)
            pr_debug("cannot link cgroup `%s` to `%s`: %s", c, name, strerror(errno));
}

static int mount_v1_hierarchy(struct rt_rootfs_ctx *ctx, int dirfd, const char *dest,
                              const struct hierarchy *h, const struct rt_mountinfo *mi, size_t nmi,
                              const struct rt_mount_opts *o, pr_error **err)
{
    const struct rt_mountinfo *host = find_hierarchy_mount(mi, nmi, h->controllers);
    if (!host) {
        pr_debug("cgroup hierarchy %s is not mounted on the host", h->controllers);
        return 0;
    }
    const char *name = base_name(host->mountpoint);
    if (!*name || streq(name, ".") || streq(name, "..") || strchr(name, '/'))
        return 0;
    if (mkdirat(dirfd, name, 0755) < 0 && errno != EEXIST)
        return pr_err(err, errno, "mkdir `%s/%s`", dest, name);
    _cleanup_free_ char *what = xasprintf("%s/%s", dest, name);
    const char *fstype = *h->controllers ? "cgroup" : "cgroup2";
    int r = mount_hierarchy(ctx, dirfd, name, what, fstype, h->controllers, host, h->path, o, err);
    if (r == 0 && *h->controllers)
        link_comounted(dirfd, name);
    return r;
}

static int mount_cgroup_v1(struct rt_rootfs_ctx *ctx, const char *dest,
                           const struct rt_mount_opts *o, const struct hierarchy *h, size_t nh,
                           const struct rt_mountinfo *mi, size_t nmi, pr_error **err)
{
    _cleanup_free_ char *resolved = NULL;
    _cleanup_close_ int fd = rt_open_dest(ctx->rootfd, dest, false, &resolved, err);
    if (fd < 0)
        return fd;
    char buf[FD_PATH_MAX];
    /* The tmpfs gets the hierarchies' directories, so it is read-only only at the end. */
    unsigned long tmpfs_flags = (o->flags & ~(MS_RDONLY | MS_BIND | MS_REC | MS_REMOUNT)) |
                                MS_NOSUID | MS_NODEV | MS_NOEXEC;
    if (mount("tmpfs", fd_path(fd, buf), "tmpfs", tmpfs_flags, "mode=755") < 0)
        return pr_err(err, errno, "mount tmpfs on `%s`", dest);
    _cleanup_close_ int top = open_in_root(ctx->rootfd, resolved, O_PATH | O_DIRECTORY, err);
    if (top < 0)
        return top;
    fd_path(top, buf);
    _cleanup_close_ int dirfd = open(buf, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0)
        return pr_err(err, errno, "open the tmpfs on `%s`", dest);

    for (size_t i = 0; i < nh; i++) {
        int r = mount_v1_hierarchy(ctx, dirfd, dest, &h[i], mi, nmi, o, err);
        if (r < 0)
            return r;
    }
    if (o->flags & MS_RDONLY) {
        int r = rt_remount_bind(buf, tmpfs_flags | MS_RDONLY, 0, err);
        if (r < 0)
            return r;
    }
    return rt_apply_propagation(buf, o, dest, err);
}

int rt_mount_cgroup(struct rt_rootfs_ctx *ctx, const char *dest, const struct rt_mount_opts *o,
                    pr_error **err)
{
    struct hierarchy *h = NULL;
    struct rt_mountinfo *mi = NULL;
    size_t nh = 0, nmi = 0;
    int r = read_hierarchies(&h, &nh, err);
    if (r == 0)
        r = rt_mountinfo_read(&mi, &nmi, err);
    if (r == 0) {
        /* Before pivot_root, /sys/fs/cgroup is still the host's. */
        struct statfs s;
        bool v2 = statfs("/sys/fs/cgroup", &s) == 0 && s.f_type == CGROUP2_SUPER_MAGIC;
        if (v2)
            r = mount_cgroup2(ctx, dest, o, h, nh, mi, nmi, err);
        else
            r = mount_cgroup_v1(ctx, dest, o, h, nh, mi, nmi, err);
    }
    hierarchies_free(h, nh);
    rt_mountinfo_free(mi, nmi);
    return r;
}
