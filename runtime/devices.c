/* SPDX-License-Identifier: Apache-2.0 */
/* Device nodes and the /dev links every container gets: linux.devices, the default devices
 * (null zero full random urandom tty), /dev/fd, stdin, stdout, stderr, core and ptmx.
 * /dev/console is the terminal code's business. In a user namespace mknod is refused, so the
 * host's node is bind-mounted onto an empty file instead. */

#include "mounts-internal.h"
#include "fs.h"
#include "json.h"
#include "log.h"
#include "util.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

struct device {
    const char *path;
    mode_t type; /* S_IFCHR, S_IFBLK, S_IFIFO */
    int64_t major, minor;
    mode_t mode;
    uid_t uid;
    gid_t gid;
};

static const struct device default_devices[] = {
    {"/dev/null", S_IFCHR, 1, 3, 0666, 0, 0},    {"/dev/zero", S_IFCHR, 1, 5, 0666, 0, 0},
    {"/dev/full", S_IFCHR, 1, 7, 0666, 0, 0},    {"/dev/random", S_IFCHR, 1, 8, 0666, 0, 0},
    {"/dev/urandom", S_IFCHR, 1, 9, 0666, 0, 0}, {"/dev/tty", S_IFCHR, 5, 0, 0666, 0, 0},
};

static const struct {
    const char *target, *name;
} dev_links[] = {
    {"/proc/self/fd", "fd"},
    {"/proc/self/fd/0", "stdin"},
    {"/proc/self/fd/1", "stdout"},
    {"/proc/self/fd/2", "stderr"},
};

/* Reads linux.devices[i]; strings point into the tree. */
static int read_device(yajl_val v, size_t i, struct device *d, pr_error **err)
{
    char ctx[48];
    snprintf(ctx, sizeof(ctx), "linux.devices[%zu]", i);
    *d = (struct device){.mode = 0666};
    if (!YAJL_IS_OBJECT(v))
        return pr_err(err, 0, "%s: must be an object, not %s", ctx, json_type_name(v));
    const char *type = NULL;
    int64_t mode = -1, uid = 0, gid = 0;
    int r = json_get_str(v, "path", ctx, &d->path, err);
    if (r == 0)
        r = json_get_str(v, "type", ctx, &type, err);
    if (r == 0)
        r = json_get_int64(v, "major", ctx, &d->major, err);
    if (r == 0)
        r = json_get_int64(v, "minor", ctx, &d->minor, err);
    if (r == 0)
        r = json_get_int64(v, "fileMode", ctx, &mode, err);
    if (r == 0)
        r = json_get_int64(v, "uid", ctx, &uid, err);
    if (r == 0)
        r = json_get_int64(v, "gid", ctx, &gid, err);
    if (r < 0)
        return r;
    if (!d->path || d->path[0] != '/')
        return pr_err(err, 0, "%s.path: must be an absolute path", ctx);
    if (!type || strlen(type) != 1 || !strchr("cbup", type[0]))
        return pr_err(err, 0, "%s.type: must be one of c, b, u, p, not \"%s\"", ctx,
                      type ? type : "");
    d->type = type[0] == 'b' ? S_IFBLK : type[0] == 'p' ? S_IFIFO : S_IFCHR;
    if (d->type != S_IFIFO && (!json_get(v, "major") || !json_get(v, "minor")))
        return pr_err(err, 0, "%s: major and minor are required for type %s", ctx, type);
    if (mode >= 0) {
        if (mode > 07777)
            return pr_err(err, 0, "%s.fileMode: %lld is not a permission mode", ctx,
                          (long long)mode);
        d->mode = (mode_t)mode;
    }
    if (uid < 0 || gid < 0 || uid > UINT32_MAX || gid > UINT32_MAX)
        return pr_err(err, 0, "%s: uid and gid must be 32-bit unsigned", ctx);
    d->uid = (uid_t)uid;
    d->gid = (gid_t)gid;
    return 0;
}

int rt_validate_devices(yajl_val config, pr_error **err)
{
    yajl_val devices = NULL;
    int r = json_get_array(json_get(config, "linux"), "devices", "linux", &devices, err);
    for (size_t i = 0; r == 0 && i < json_array_len(devices); i++) {
        struct device d;
        r = read_device(json_array_at(devices, i), i, &d, err);
    }
    return r;
}

/* An empty file at the device's place, with the host's node bind-mounted on it. */
static int bind_device(int dirfd, const char *name, const struct device *d, pr_error **err)
{
    int f = openat(dirfd, name, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0000);
    if (f < 0 && errno != EEXIST)
        return pr_err(err, errno, "create `%s`", d->path);
    if (f >= 0)
        close(f);
    _cleanup_close_ int target = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (target < 0)
        return pr_err(err, errno, "open `%s`", d->path);
    char buf[FD_PATH_MAX];
    if (mount(d->path, fd_path(target, buf), NULL, MS_BIND, NULL) < 0)
        return pr_err(err, errno, "bind mount device `%s` from the host", d->path);
    return 0;
}

static int create_device(struct rt_rootfs_ctx *ctx, const struct device *d, pr_error **err)
{
    _cleanup_free_ char *resolved = NULL;
    int r = resolve_in_root(ctx->rootfd, d->path, &resolved, err);
    if (r < 0)
        return r;
    char *slash = strrchr(resolved, '/');
    const char *name = slash + 1;
    if (!*name)
        return pr_err(err, 0, "device path `%s` names the root", d->path);
    *slash = '\0';
    _cleanup_close_ int dirfd =
        mkdir_in_root(ctx->rootfd, *resolved ? resolved : "/", 0755, false, err);
    if (dirfd < 0)
        return pr_err_prefix(err, "device `%s`", d->path);

    if (ctx->in_userns)
        return bind_device(dirfd, name, d, err);
    if (mknodat(dirfd, name, d->type | (d->mode & 07777), makedev(d->major, d->minor)) < 0) {
        /* An existing node (a rootfs's own /dev) is kept as it is. */
        if (errno == EEXIST)
            return 0;
        /* mknod denied (a devices cgroup, a nested container): fall back to the host's. */
        if (errno == EPERM)
            return bind_device(dirfd, name, d, err);
        return pr_err(err, errno, "mknod `%s`", d->path);
    }
    /* mknod applied the umask: set the mode asked for. */
    if (fchownat(dirfd, name, d->uid, d->gid, AT_SYMLINK_NOFOLLOW) < 0)
        return pr_err(err, errno, "chown `%s`", d->path);
    if (fchmodat(dirfd, name, d->mode & 07777, 0) < 0)
        return pr_err(err, errno, "chmod `%s`", d->path);
    return 0;
}

/* /dev is the host's when the config bind-mounts it: nothing to create then. */
static bool dev_is_bind_mounted(yajl_val config)
{
    yajl_val mounts = json_get(config, "mounts");
    for (size_t i = 0; i < json_array_len(mounts); i++) {
        yajl_val m = json_array_at(mounts, i);
        const char *dest = YAJL_GET_STRING(json_get(m, "destination"));
        const char *type = YAJL_GET_STRING(json_get(m, "type"));
        if (!dest)
            continue;
        _cleanup_free_ char *clean = path_clean_in_root(dest);
        if (!streq(clean, "/dev"))
            continue;
        _cleanup_strv_ char **opts = NULL;
        json_get_strv(m, "options", "mount", &opts, NULL);
        if ((type && streq(type, "bind")) || rt_options_have_bind(opts))
            return true;
    }
    return false;
}

static bool listed(const struct device *devs, size_t n, const char *path)
{
    _cleanup_free_ char *clean = path_clean_in_root(path);
    for (size_t i = 0; i < n; i++) {
        _cleanup_free_ char *other = path_clean_in_root(devs[i].path);
        if (streq(clean, other))
            return true;
    }
    return false;
}

static int create_links(int devfd, pr_error **err)
{
    for (size_t i = 0; i < ARRAY_SIZE(dev_links); i++)
        if (symlinkat(dev_links[i].target, devfd, dev_links[i].name) < 0 && errno != EEXIST)
            return pr_err(err, errno, "symlink /dev/%s", dev_links[i].name);
    /* Checked on the host's /proc, still mounted before pivot_root. */
    if (access("/proc/kcore", F_OK) == 0 && symlinkat("/proc/kcore", devfd, "core") < 0 &&
        errno != EEXIST)
        return pr_err(err, errno, "symlink /dev/core");
    /* The devpts instance's ptmx, not the host's. */
    if (unlinkat(devfd, "ptmx", 0) < 0 && errno != ENOENT)
        return pr_err(err, errno, "remove /dev/ptmx");
    if (symlinkat("pts/ptmx", devfd, "ptmx") < 0)
        return pr_err(err, errno, "symlink /dev/ptmx");
    return 0;
}

int rt_setup_devices(struct rt_rootfs_ctx *ctx, yajl_val config, pr_error **err)
{
    if (dev_is_bind_mounted(config))
        return 0;
    yajl_val devices = json_get(json_get(config, "linux"), "devices");
    size_t n = json_array_len(devices);
    _cleanup_free_ struct device *devs = xcalloc(n ? n : 1, sizeof(*devs));
    for (size_t i = 0; i < n; i++) {
        int r = read_device(json_array_at(devices, i), i, &devs[i], err);
        if (r == 0)
            r = create_device(ctx, &devs[i], err);
        if (r < 0)
            return r;
    }
    for (size_t i = 0; i < ARRAY_SIZE(default_devices); i++) {
        if (listed(devs, n, default_devices[i].path))
            continue;
        int r = create_device(ctx, &default_devices[i], err);
        if (r < 0)
            return r;
    }
    _cleanup_close_ int dev = mkdir_in_root(ctx->rootfd, "/dev", 0755, false, err);
    if (dev < 0)
        return dev;
    /* An O_PATH fd is enough for the *at calls below. */
    return create_links(dev, err);
}
