/* SPDX-License-Identifier: Apache-2.0 */
/* The container's root filesystem: config.mounts performed in order with every destination
 * resolved inside the rootfs, pivot_root, then masked and read-only paths.
 *
 * Every mount target is an O_PATH fd obtained by resolving the destination with the rootfs as
 * "/" (openat2 RESOLVE_IN_ROOT or an equivalent walk), handed to mount(2) as
 * /proc/self/fd/N: a symlink in the image, however it is made, cannot redirect a mount onto the
 * host (CVE-2021-30465). */

#include "mounts.h"
#include "mounts-internal.h"
#include "fs.h"
#include "json.h"
#include "log.h"
#include "util.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>

#ifndef __NR_mount_setattr
#define __NR_mount_setattr 442
#endif
#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif

/* --- config access ------------------------------------------------------------------------- */

struct mount_entry {
    const char *destination;
    const char *type;
    const char *source;
    char **options;
    bool is_bind;
};

static void mount_entry_clear(struct mount_entry *m)
{
    strv_freep(&m->options);
    m->options = NULL;
}

static int read_mount_entry(yajl_val v, size_t i, struct mount_entry *m, pr_error **err)
{
    char ctx[48];
    *m = (struct mount_entry){0};
    snprintf(ctx, sizeof(ctx), "mounts[%zu]", i);
    if (!YAJL_IS_OBJECT(v))
        return pr_err(err, 0, "%s: must be an object, not %s", ctx, json_type_name(v));
    int r = json_get_str(v, "destination", ctx, &m->destination, err);
    if (r == 0)
        r = json_get_str(v, "type", ctx, &m->type, err);
    if (r == 0)
        r = json_get_str(v, "source", ctx, &m->source, err);
    if (r == 0)
        r = json_get_strv(v, "options", ctx, &m->options, err);
    if (r < 0)
        return r;
    if (!m->destination)
        return pr_err(err, 0, "%s.destination: required", ctx);
    if (m->destination[0] != '/')
        return pr_err(err, 0, "%s.destination: `%s` is not an absolute path", ctx, m->destination);
    if (json_get(v, "uidMappings") || json_get(v, "gidMappings"))
        return pr_err(err, 0, "%s: idmapped mounts (uidMappings, gidMappings) are not supported",
                      ctx);
    m->is_bind = (m->type && streq(m->type, "bind")) || rt_options_have_bind(m->options);
    return 0;
}

/* linux.rootfsPropagation as MS_ flags; 0 when unset. */
static int root_propagation(yajl_val config, unsigned long *out, pr_error **err)
{
    yajl_val lnx = json_get(config, "linux");
    const char *name = NULL;
    *out = 0;
    int r = json_get_str(lnx, "rootfsPropagation", "linux", &name, err);
    if (r < 0 || !name || !*name)
        return r;
    if (!rt_propagation_parse(name, out))
        return pr_err(err, 0, "linux.rootfsPropagation: unknown propagation \"%s\"", name);
    return 0;
}

/* True when linux.namespaces has an entry of this type. */
static bool has_namespace(yajl_val config, const char *type)
{
    yajl_val nss = json_get(json_get(config, "linux"), "namespaces");
    for (size_t i = 0; i < json_array_len(nss); i++) {
        const char *t = YAJL_GET_STRING(json_get(json_array_at(nss, i), "type"));
        if (t && streq(t, type))
            return true;
    }
    return false;
}

static int validate_path_list(yajl_val lnx, const char *key, pr_error **err)
{
    _cleanup_strv_ char **paths = NULL;
    int r = json_get_strv(lnx, key, "linux", &paths, err);
    if (r < 0)
        return r;
    for (size_t i = 0; paths && paths[i]; i++)
        if (paths[i][0] != '/')
            return pr_err(err, 0, "linux.%s[%zu]: `%s` is not an absolute path", key, i, paths[i]);
    return 0;
}

static int validate_mount(yajl_val v, size_t i, pr_error **err)
{
    _cleanup_(mount_entry_clear) struct mount_entry m = {0};
    int r = read_mount_entry(v, i, &m, err);
    if (r < 0)
        return r;
    char ctx[48];
    snprintf(ctx, sizeof(ctx), "mounts[%zu].options", i);
    struct rt_mount_opts o;
    r = rt_mount_opts_parse(m.options, m.is_bind, ctx, &o, err);
    if (r < 0)
        return r;
    if (o.ignored)
        pr_debug("%s: ignoring \"%s\": filesystem data a bind mount of `%s` cannot take", ctx,
                 o.ignored, m.destination);
    rt_mount_opts_free(&o);
    if (m.is_bind) {
        struct stat st;
        if (!m.source || !*m.source)
            return pr_err(err, 0, "mounts[%zu].source: required for a bind mount", i);
        /* Relative sources are relative to the bundle, the runtime's working directory. */
        if (stat(m.source, &st) < 0)
            return pr_err(err, errno, "mounts[%zu].source: bind source `%s`", i, m.source);
    } else if (!m.type || !*m.type) {
        return pr_err(err, 0, "mounts[%zu].type: required for a mount that is not a bind mount", i);
    }
    return 0;
}

int rt_mounts_validate(yajl_val config, pr_error **err)
{
    unsigned long prop;
    int r = root_propagation(config, &prop, err);
    if (r < 0)
        return r;
    yajl_val mounts = NULL;
    r = json_get_array(config, "mounts", "config", &mounts, err);
    if (r < 0)
        return r;
    for (size_t i = 0; i < json_array_len(mounts); i++) {
        r = validate_mount(json_array_at(mounts, i), i, err);
        if (r < 0)
            return r;
    }
    yajl_val lnx = json_get(config, "linux");
    r = validate_path_list(lnx, "maskedPaths", err);
    if (r == 0)
        r = validate_path_list(lnx, "readonlyPaths", err);
    if (r == 0)
        r = rt_validate_devices(config, err);
    if (r == 0) {
        bool ro = false;
        r = json_get_bool(json_get(config, "root"), "readonly", "root", &ro, err);
    }
    return r;
}

/* --- paths inside the root ----------------------------------------------------------------- */

int rt_open_dest(int rootfd, const char *dest, bool as_file, char **resolved, pr_error **err)
{
    _cleanup_free_ char *path = NULL;
    int r = resolve_in_root(rootfd, dest, &path, err);
    if (r < 0)
        return r;
    int fd = mkdir_in_root(rootfd, path, 0755, as_file, err);
    if (fd < 0)
        return pr_err_prefix(err, "mount destination `%s`", dest);
    if (resolved)
        *resolved = steal_pointer(&path);
    return fd;
}

/* After a mount, the O_PATH fd taken before still names the covered directory: look the
 * destination up again (inside the root) to reach the new mount. */
static int reopen_dest(int rootfd, const char *resolved, pr_error **err)
{
    int fd = open_in_root(rootfd, resolved, O_PATH, err);
    if (fd < 0)
        return pr_err_prefix(err, "reopen mount `%s`", resolved);
    return fd;
}

/* --- mount helpers ------------------------------------------------------------------------- */

/* The per-mount flags of the mount at target, as MS_ flags. */
static unsigned long mount_flags_of(const char *target)
{
    struct statfs s;
    unsigned long f = 0;
    if (statfs(target, &s) < 0)
        return 0;
    if (s.f_flags & ST_RDONLY)
        f |= MS_RDONLY;
    if (s.f_flags & ST_NOSUID)
        f |= MS_NOSUID;
    if (s.f_flags & ST_NODEV)
        f |= MS_NODEV;
    if (s.f_flags & ST_NOEXEC)
        f |= MS_NOEXEC;
    if (s.f_flags & ST_NOATIME)
        f |= MS_NOATIME;
    else if (s.f_flags & ST_RELATIME)
        f |= MS_RELATIME;
    else
        f |= MS_STRICTATIME;
    if (s.f_flags & ST_NODIRATIME)
        f |= MS_NODIRATIME;
    return f;
}

#define ATIME_FLAGS    (MS_NOATIME | MS_RELATIME | MS_STRICTATIME)
#define SECURITY_FLAGS (MS_NOSUID | MS_NODEV | MS_NOEXEC)

int rt_remount_bind(const char *target, unsigned long flags, unsigned long cleared, pr_error **err)
{
    /* A bind remount replaces all per-mount flags. Keep what the bind inherited from its
     * source (nosuid, nodev, noexec, the atime mode) unless the options said otherwise. */
    unsigned long have = mount_flags_of(target);
    flags &= ~(MS_BIND | MS_REC | MS_REMOUNT);
    flags |= have & SECURITY_FLAGS & ~cleared;
    if (!(flags & ATIME_FLAGS) && !(cleared & ATIME_FLAGS))
        flags |= have & (ATIME_FLAGS | MS_NODIRATIME);
    if (mount(NULL, target, NULL, MS_BIND | MS_REMOUNT | flags, NULL) == 0)
        return 0;
    if (errno != EPERM)
        return pr_err(err, errno, "remount `%s`", target);
    /* EPERM: the flags are locked by a less privileged namespace; only adding is allowed. */
    flags |= have & (SECURITY_FLAGS | MS_RDONLY | MS_NODIRATIME);
    flags = (flags & ~ATIME_FLAGS) | (have & ATIME_FLAGS);
    if (mount(NULL, target, NULL, MS_BIND | MS_REMOUNT | flags, NULL) < 0)
        return pr_err(err, errno, "remount `%s`", target);
    return 0;
}

/* Adds MS_RDONLY to the mount at target and keeps everything else as it is. */
static int remount_readonly(const char *target, pr_error **err)
{
    return rt_remount_bind(target, MS_RDONLY, 0, err);
}

struct rt_mount_attr {
    uint64_t attr_set, attr_clr, propagation, userns_fd;
};

int rt_apply_propagation(const char *target, const struct rt_mount_opts *o, const char *what,
                         pr_error **err)
{
    for (size_t i = 0; i < o->n_propagation; i++)
        if (mount(NULL, target, NULL, o->propagation[i], NULL) < 0)
            return pr_err(err, errno, "set propagation of `%s`", what);
    if (!o->attr_set && !o->attr_clr)
        return 0;
    struct rt_mount_attr attr = {.attr_set = o->attr_set, .attr_clr = o->attr_clr};
    if (syscall(__NR_mount_setattr, AT_FDCWD, target, AT_RECURSIVE, &attr, sizeof(attr)) < 0) {
        if (errno == ENOSYS)
            return pr_err(err, errno,
                          "recursive mount options on `%s` need mount_setattr (Linux 5.12)", what);
        return pr_err(err, errno, "set recursive mount attributes of `%s`", what);
    }
    return 0;
}

/* --- config.mounts ------------------------------------------------------------------------- */

static int bind_mount(struct rt_rootfs_ctx *ctx, const char *source, const char *dest,
                      const struct rt_mount_opts *o, pr_error **err)
{
    struct stat st;
    if (stat(source, &st) < 0)
        return pr_err(err, errno, "bind mount source `%s`", source);
    _cleanup_free_ char *resolved = NULL;
    _cleanup_close_ int fd = rt_open_dest(ctx->rootfd, dest, !S_ISDIR(st.st_mode), &resolved, err);
    if (fd < 0)
        return fd;
    char buf[FD_PATH_MAX];
    if (!(o->flags & MS_REMOUNT) &&
        mount(source, fd_path(fd, buf), NULL, MS_BIND | (o->flags & MS_REC), NULL) < 0)
        return pr_err(err, errno, "bind mount `%s` on `%s`", source, dest);

    _cleanup_close_ int top = reopen_dest(ctx->rootfd, resolved, err);
    if (top < 0)
        return top;
    /* What the lookup found must be the bind just made (its root is the source), not
     * something a concurrent rename put in the way: the remount below must not miss. */
    struct stat now;
    if (!(o->flags & MS_REMOUNT) &&
        (fstat(top, &now) < 0 || now.st_dev != st.st_dev || now.st_ino != st.st_ino))
        return pr_err(err, 0, "bind mount on `%s` changed while it was being set up", dest);
    fd_path(top, buf);
    /* A bind mount ignores every flag but MS_REC: the others need a remount. */
    if ((o->flags & ~(MS_BIND | MS_REC | MS_REMOUNT)) || (o->flags & MS_REMOUNT)) {
        int r = rt_remount_bind(buf, o->flags, o->cleared, err);
        if (r < 0)
            return pr_err_prefix(err, "bind mount `%s`", dest);
    }
    return rt_apply_propagation(buf, o, dest, err);
}

/* Where the kernel refuses a fresh instance (sysfs in a user namespace that does not own the
 * network namespace, mqueue without an IPC namespace of its own), show the host's. */
static int bind_host_instead(struct rt_rootfs_ctx *ctx, const char *host, const char *dest,
                             const struct rt_mount_opts *o, pr_error **err)
{
    struct rt_mount_opts b = *o;
    pr_debug("mounting host `%s` on `%s` instead of a new instance", host, dest);
    b.flags |= MS_BIND | MS_REC;
    b.data = NULL;
    return bind_mount(ctx, host, dest, &b, err);
}

static int fs_mount(struct rt_rootfs_ctx *ctx, const struct mount_entry *m,
                    const struct rt_mount_opts *o, bool *dev_ro, pr_error **err)
{
    const char *type = m->type;
    bool is_sysfs = streq(type, "sysfs"), is_mqueue = streq(type, "mqueue");
    if (is_sysfs && ctx->in_userns && !ctx->new_netns)
        return bind_host_instead(ctx, "/sys", m->destination, o, err);

    _cleanup_free_ char *resolved = NULL;
    _cleanup_close_ int fd = rt_open_dest(ctx->rootfd, m->destination, false, &resolved, err);
    if (fd < 0)
        return fd;
    unsigned long flags = o->flags;
    /* /dev must stay writable until the devices exist; it is made read-only afterwards. */
    if ((flags & MS_RDONLY) && streq(resolved, "/dev")) {
        flags &= ~MS_RDONLY;
        *dev_ro = true;
    }
    char buf[FD_PATH_MAX];
    const char *source = m->source && *m->source ? m->source : type;
    if (mount(source, fd_path(fd, buf), type, flags, o->data) < 0) {
        if (errno == EPERM && ctx->in_userns && (is_sysfs || is_mqueue))
            return bind_host_instead(ctx, is_sysfs ? "/sys" : "/dev/mqueue", m->destination, o,
                                     err);
        return pr_err(err, errno, "mount %s on `%s`%s%s", type, m->destination,
                      o->data ? " with " : "", o->data ? o->data : "");
    }
    if (o->n_propagation == 0 && !o->attr_set && !o->attr_clr)
        return 0;
    _cleanup_close_ int top = reopen_dest(ctx->rootfd, resolved, err);
    if (top < 0)
        return top;
    return rt_apply_propagation(fd_path(top, buf), o, m->destination, err);
}

static int do_mount(struct rt_rootfs_ctx *ctx, yajl_val v, size_t i, bool *dev_ro, pr_error **err)
{
    _cleanup_(mount_entry_clear) struct mount_entry m = {0};
    int r = read_mount_entry(v, i, &m, err);
    if (r < 0)
        return r;
    char ctxname[48];
    snprintf(ctxname, sizeof(ctxname), "mounts[%zu].options", i);
    struct rt_mount_opts o;
    r = rt_mount_opts_parse(m.options, m.is_bind, ctxname, &o, err);
    if (r < 0)
        return r;
    pr_debug("mount %zu: %s %s on %s", i, m.type ? m.type : "bind", m.source ? m.source : "",
             m.destination);
    if (m.is_bind)
        r = bind_mount(ctx, m.source ? m.source : "", m.destination, &o, err);
    else if (!m.type)
        r = pr_err(err, 0, "mounts[%zu].type: required for a mount that is not a bind mount", i);
    else if (streq(m.type, "cgroup") || streq(m.type, "cgroup2"))
        r = rt_mount_cgroup(ctx, m.destination, &o, err);
    else
        r = fs_mount(ctx, &m, &o, dev_ro, err);
    rt_mount_opts_free(&o);
    return r;
}

static int remount_dev_readonly(struct rt_rootfs_ctx *ctx, pr_error **err)
{
    _cleanup_close_ int fd = open_in_root(ctx->rootfd, "/dev", O_PATH | O_DIRECTORY, err);
    if (fd < 0)
        return fd;
    char buf[FD_PATH_MAX];
    return remount_readonly(fd_path(fd, buf), err);
}

/* The mount holding path, made private (itself only) when it is shared. */
static int make_mount_private(const char *path, pr_error **err)
{
    struct statx stx;
    if (statx(AT_FDCWD, path, 0, STATX_MNT_ID, &stx) < 0)
        return pr_err(err, errno, "find the mount of rootfs `%s`", path);
    if (!(stx.stx_mask & STATX_MNT_ID))
        return pr_err(err, EOPNOTSUPP, "find the mount of rootfs `%s`", path);
    struct rt_mountinfo *v = NULL;
    size_t n = 0;
    int r = rt_mountinfo_read(&v, &n, err);
    if (r < 0)
        return r;
    for (size_t i = 0; r == 0 && i < n; i++)
        if (v[i].id == stx.stx_mnt_id && v[i].shared &&
            mount(NULL, v[i].mountpoint, NULL, MS_PRIVATE, NULL) < 0)
            r = pr_err(err, errno, "make the mount of rootfs `%s` (at `%s`) private", path,
                       v[i].mountpoint);
    rt_mountinfo_free(v, n);
    return r;
}

int rt_rootfs_prepare(yajl_val config, const char *rootfs, bool in_userns, pr_error **err)
{
    unsigned long prop;
    int r = root_propagation(config, &prop, err);
    if (r < 0)
        return r;
    /* Cut propagation to the host before the first mount: slave, or private when the config
     * asks for private. The propagation the config asks for is set on the new / at the end.
     * Shared (a Bidirectional volume's rootfsPropagation) is kept from the start, as runc
     * does: only copies still in the host's peer groups can be bound so that what the
     * container mounts there reaches the host; the root's own mount is made private so that
     * its bind cannot propagate and pivot_root accepts it. */
    unsigned long initial = (prop & MS_SHARED)    ? prop
                            : (prop & MS_PRIVATE) ? MS_REC | MS_PRIVATE
                                                  : MS_REC | MS_SLAVE;
    if (mount(NULL, "/", NULL, initial, NULL) < 0)
        return pr_err(err, errno, "set propagation of /");
    if ((initial & MS_SHARED) && (r = make_mount_private(rootfs, err)) < 0)
        return r;
    /* pivot_root needs the new root to be a mount point. */
    if (mount(rootfs, rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
        return pr_err(err, errno, "bind mount rootfs `%s`", rootfs);

    struct rt_rootfs_ctx ctx = {
        .rootfs = rootfs,
        .in_userns = in_userns,
        .new_netns = has_namespace(config, "network"),
        .new_cgroupns = has_namespace(config, "cgroup"),
    };
    /* Opened after the bind so that lookups from it see the mounts made below. */
    _cleanup_close_ int rootfd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (rootfd < 0)
        return pr_err(err, errno, "open rootfs `%s`", rootfs);
    ctx.rootfd = rootfd;

    yajl_val mounts = json_get(config, "mounts");
    bool dev_ro = false;
    for (size_t i = 0; i < json_array_len(mounts); i++) {
        r = do_mount(&ctx, json_array_at(mounts, i), i, &dev_ro, err);
        if (r < 0)
            return r;
    }
    r = rt_setup_devices(&ctx, config, err);
    if (r == 0 && dev_ro)
        r = remount_dev_readonly(&ctx, err);
    return r;
}

/* --- pivot --------------------------------------------------------------------------------- */

static int pivot(const char *rootfs, pr_error **err)
{
    _cleanup_close_ int oldroot = open("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
    if (oldroot < 0)
        return pr_err(err, errno, "open /");
    _cleanup_close_ int newroot = open(rootfs, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
    if (newroot < 0)
        return pr_err(err, errno, "open rootfs `%s`", rootfs);
    if (fchdir(newroot) < 0)
        return pr_err(err, errno, "chdir to rootfs `%s`", rootfs);
    /* pivot_root(".", "."): the old root ends up stacked on top of the new one, with no
     * directory needed inside the rootfs to hold it. */
    if (syscall(SYS_pivot_root, ".", ".") < 0)
        return pr_err(err, errno, "pivot_root to `%s`", rootfs);
    if (fchdir(oldroot) < 0)
        return pr_err(err, errno, "chdir to the old root");
    /* Slave first, so unmounting it cannot propagate anywhere. */
    if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0)
        return pr_err(err, errno, "make the old root rslave");
    if (umount2(".", MNT_DETACH) < 0)
        return pr_err(err, errno, "detach the old root");
    return 0;
}

static bool path_is_under(const char *path, const char *dir)
{
    size_t n = strlen(dir);
    if (streq(dir, "/"))
        return true;
    return strncmp(path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

/* Without pivot_root the host's mounts stay reachable under the chroot: detach every mount
 * that neither holds the rootfs nor lies inside it. */
static void detach_host_mounts(const char *rootfs)
{
    struct rt_mountinfo *mi = NULL;
    size_t n = 0;
    if (rt_mountinfo_read(&mi, &n, NULL) < 0)
        return;
    for (size_t i = n; i-- > 0;) {
        const char *mp = mi[i].mountpoint;
        if (path_is_under(rootfs, mp) || path_is_under(mp, rootfs))
            continue;
        if (umount2(mp, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
            pr_debug("cannot detach `%s`: %s", mp, strerror(errno));
    }
    rt_mountinfo_free(mi, n);
}

static int move_root(const char *rootfs, pr_error **err)
{
    if (chdir(rootfs) < 0)
        return pr_err(err, errno, "chdir to rootfs `%s`", rootfs);
    /* mountinfo shows canonical paths: compare with the canonical rootfs. */
    _cleanup_free_ char *canonical = realpath(rootfs, NULL);
    detach_host_mounts(canonical ? canonical : rootfs);
    if (mount(rootfs, "/", NULL, MS_MOVE, NULL) < 0)
        return pr_err(err, errno, "move rootfs `%s` to /", rootfs);
    if (chroot(".") < 0)
        return pr_err(err, errno, "chroot to `%s`", rootfs);
    return 0;
}

int rt_rootfs_pivot(const char *rootfs, bool no_pivot, pr_error **err)
{
    int r = no_pivot ? move_root(rootfs, err) : pivot(rootfs, err);
    if (r < 0)
        return r;
    if (chdir("/") < 0)
        return pr_err(err, errno, "chdir /");
    return 0;
}

/* --- after pivot --------------------------------------------------------------------------- */

static int make_readonly_path(const char *path, pr_error **err)
{
    if (mount(path, path, NULL, MS_BIND | MS_REC, NULL) < 0) {
        if (errno == ENOENT)
            return 0;
        return pr_err(err, errno, "bind readonly path `%s`", path);
    }
    return remount_readonly(path, err);
}

/* Masking with /dev/null is only safe when /dev/null is the null device. */
static int check_dev_null(pr_error **err)
{
    struct stat st;
    if (stat("/dev/null", &st) < 0)
        return pr_err(err, errno, "stat /dev/null");
    if (!S_ISCHR(st.st_mode) || major(st.st_rdev) != 1 || minor(st.st_rdev) != 3)
        return pr_err(err, 0, "/dev/null in the container is not the null device");
    return 0;
}

static int mask_path(const char *path, bool *null_checked, pr_error **err)
{
    struct stat st;
    if (stat(path, &st) < 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            return 0;
        return pr_err(err, errno, "masked path `%s`", path);
    }
    if (S_ISDIR(st.st_mode)) {
        if (mount("tmpfs", path, "tmpfs", MS_RDONLY, NULL) < 0)
            return pr_err(err, errno, "mask `%s` with a tmpfs", path);
        return 0;
    }
    if (!*null_checked) {
        int r = check_dev_null(err);
        if (r < 0)
            return r;
        *null_checked = true;
    }
    if (mount("/dev/null", path, NULL, MS_BIND, NULL) < 0)
        return pr_err(err, errno, "mask `%s` with /dev/null", path);
    return 0;
}

int rt_rootfs_finalize(yajl_val config, pr_error **err)
{
    yajl_val lnx = json_get(config, "linux");
    _cleanup_strv_ char **ro_paths = NULL;
    _cleanup_strv_ char **masked = NULL;
    int r = json_get_strv(lnx, "readonlyPaths", "linux", &ro_paths, err);
    if (r == 0)
        r = json_get_strv(lnx, "maskedPaths", "linux", &masked, err);
    if (r < 0)
        return r;
    for (size_t i = 0; ro_paths && ro_paths[i]; i++) {
        r = make_readonly_path(ro_paths[i], err);
        if (r < 0)
            return r;
    }
    bool null_checked = false;
    for (size_t i = 0; masked && masked[i]; i++) {
        r = mask_path(masked[i], &null_checked, err);
        if (r < 0)
            return r;
    }
    bool readonly = false;
    r = json_get_bool(json_get(config, "root"), "readonly", "root", &readonly, err);
    if (r < 0)
        return r;
    if (readonly) {
        r = remount_readonly("/", err);
        if (r < 0)
            return pr_err_prefix(err, "root.readonly");
    }
    unsigned long prop;
    r = root_propagation(config, &prop, err);
    if (r < 0)
        return r;
    if (prop && mount(NULL, "/", NULL, prop, NULL) < 0)
        return pr_err(err, errno, "set rootfsPropagation of /");
    return 0;
}

void rt_mounts_features(yajl_gen g)
{
    jg_array_open(g);
    const char *name;
    for (size_t i = 0; (name = rt_mount_option_name(i)); i++)
        jg_str(g, name);
    jg_array_close(g);
}
