/* SPDX-License-Identifier: Apache-2.0 */
/* A pod's volumes as the kubelet makes them: emptyDir, configMap and secret directories under
 * the pod's lib dir (the files written from the stored objects, then bound read-only), hostPath
 * checked by type, and subPath resolved without leaving its volume. */
#include "fs.h"
#include "manager.h"
#include "util.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <dirent.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#define DEFAULT_FILE_MODE 0644

static const struct kube_volume *find_volume(const struct kube_pod_spec *s, const char *name)
{
    for (size_t i = 0; i < s->n_volumes; i++)
        if (streq(s->volumes[i].name, name))
            return &s->volumes[i];
    return NULL;
}

static bool no_backsteps(const char *path)
{
    for (const char *c = path; c;) {
        const char *slash = strchr(c, '/');
        size_t n = slash ? (size_t)(slash - c) : strlen(c);
        if (n == 2 && c[0] == '.' && c[1] == '.')
            return false;
        c = slash ? slash + 1 : NULL;
    }
    return true;
}

/* Kubernetes' rule for item paths and subPaths: relative, no ".." component. */
static bool descending_path(const char *path)
{
    return *path && *path != '/' && no_backsteps(path);
}

static bool valid_mode(int32_t mode)
{
    return mode >= 0 && mode <= 0777;
}

static const struct pods_file *file_for(const struct pods_files *f, const char *key)
{
    for (size_t i = 0; i < f->n; i++)
        if (streq(f->v[i].key, key))
            return &f->v[i];
    return NULL;
}

/* The files a volume holds: each (path, file, mode) through fn. Checks all that apply
 * refuses; with fn NULL it only checks. */
typedef int (*file_fn)(int dirfd, const char *path, const struct pods_file *f, mode_t mode,
                       pr_error **err);

/* A ConfigMap's or Secret's keys, all of them or the items', as files. */
static int object_files(pods_manager *m, const char *ns, bool config_map,
                        const struct kube_object_volume *src, mode_t dmode, int dirfd, file_fn fn,
                        pr_error **err)
{
    const char *resource = config_map ? "configmaps" : "secrets";
    const char *kind = config_map ? "configmap" : "secret";
    _cleanup_(pods_files_clear) struct pods_files files = {0};
    _cleanup_error_ pr_error *e = NULL;
    int r;
    if (!src->name || !*src->name)
        return pr_err(err, 0, "%s: a name is required", kind);
    r = pods_object_files(m, resource, ns, src->name, &files, &e);
    if (r == -ENOENT)
        return src->optional ? 0 : pr_err_code(err, ENOENT, "%s \"%s\" not found", kind, src->name);
    if (r < 0) {
        *err = steal_pointer(&e);
        return r;
    }
    if (src->n_items == 0) {
        for (size_t i = 0; i < files.n; i++) {
            const char *k = files.v[i].key;
            if (!*k || strchr(k, '/') || streq(k, ".") || streq(k, ".."))
                return pr_err(err, 0, "%s \"%s\": key \"%s\" cannot be a file name", kind,
                              src->name, k);
            if (fn && (r = fn(dirfd, k, &files.v[i], dmode, err)) < 0)
                return r;
        }
        return 0;
    }
    for (size_t i = 0; i < src->n_items; i++) {
        const struct kube_key_to_path *it = &src->items[i];
        const struct pods_file *f = file_for(&files, it->key ? it->key : "");
        if (!it->path || !descending_path(it->path))
            return pr_err(err, 0, "items[%zu].path \"%s\": must be relative, without \"..\"", i,
                          it->path ? it->path : "");
        if (it->has_mode && !valid_mode(it->mode))
            return pr_err(err, 0, "items[%zu].mode %d: not between 0 and 0777", i, it->mode);
        if (!f) {
            if (src->optional)
                continue;
            return pr_err_code(err, ENOENT, "%s \"%s\": no key \"%s\"", kind, src->name,
                               it->key ? it->key : "");
        }
        if (fn && (r = fn(dirfd, it->path, f, it->has_mode ? (mode_t)it->mode : dmode, err)) < 0)
            return r;
    }
    return 0;
}

/* The downward API's items as files; uid NULL while checking, before the pod has one. */
static int downward_files(const struct kube_object *o, const char *uid,
                          const struct kube_downward_volume *d, mode_t dmode, int dirfd, file_fn fn,
                          pr_error **err)
{
    for (size_t i = 0; i < d->n_items; i++) {
        const struct kube_downward_file *it = &d->items[i];
        _cleanup_free_ char *value = NULL;
        if (!it->path || !descending_path(it->path))
            return pr_err(err, 0, "items[%zu].path \"%s\": must be relative, without \"..\"", i,
                          it->path ? it->path : "");
        int r = pods_downward_value(o, uid, it, &value, err);
        if (r < 0)
            return pr_err_prefix(err, "items[%zu]", i);
        struct pods_file f = {(char *)it->path, value, strlen(value)};
        if (fn && (r = fn(dirfd, it->path, &f, it->has_mode ? (mode_t)it->mode : dmode, err)) < 0)
            return r;
    }
    return 0;
}

static int default_mode(bool has, int32_t mode, mode_t *out, pr_error **err)
{
    if (has && !valid_mode(mode))
        return pr_err(err, 0, "defaultMode %d: not between 0 and 0777", mode);
    *out = has ? (mode_t)mode : DEFAULT_FILE_MODE;
    return 0;
}

/* Whether a volume is files the pod manager writes (bound read-only, as the kubelet's). */
static bool is_files_volume(const struct kube_volume *v)
{
    return v->has_config_map || v->has_secret || v->has_downward_api || v->has_projected;
}

static int volume_files(pods_manager *m, const struct kube_object *o, const char *uid,
                        const struct kube_volume *v, int dirfd, file_fn fn, pr_error **err)
{
    const char *ns = o->meta.namespace_ ? o->meta.namespace_ : "default";
    mode_t dmode = DEFAULT_FILE_MODE;
    int r;
    if (v->has_config_map || v->has_secret) {
        const struct kube_object_volume *src = v->has_config_map ? &v->config_map : &v->secret;
        if ((r = default_mode(src->has_default_mode, src->default_mode, &dmode, err)) < 0)
            return r;
        return object_files(m, ns, v->has_config_map, src, dmode, dirfd, fn, err);
    }
    if (v->has_downward_api) {
        const struct kube_downward_volume *d = &v->downward_api;
        if ((r = default_mode(d->has_default_mode, d->default_mode, &dmode, err)) < 0)
            return r;
        return downward_files(o, uid, d, dmode, dirfd, fn, err);
    }
    if ((r = default_mode(v->projected.has_default_mode, v->projected.default_mode, &dmode, err)) <
        0)
        return r;
    for (size_t i = 0; i < v->projected.n_sources; i++) {
        const struct kube_projection *p = &v->projected.sources[i];
        if (p->has_downward_api)
            r = downward_files(o, uid, &p->downward_api, dmode, dirfd, fn, err);
        else
            r = object_files(m, ns, p->has_config_map,
                             p->has_config_map ? &p->config_map : &p->secret, dmode, dirfd, fn,
                             err);
        if (r < 0)
            return pr_err_prefix(err, "projected.sources[%zu]", i);
    }
    return 0;
}

bool pods_volume_read_only(const struct kube_volume *v)
{
    return is_files_volume(v) || (v->has_pvc && v->pvc.read_only);
}

static int check_type(const char *path, const char *type, const struct stat *st, pr_error **err)
{
    static const struct {
        const char *type;
        mode_t fmt;
        const char *what;
    } types[] = {
        {"Directory", S_IFDIR, "a directory"},
        {"DirectoryOrCreate", S_IFDIR, "a directory"},
        {"File", S_IFREG, "a file"},
        {"FileOrCreate", S_IFREG, "a file"},
        {"Socket", S_IFSOCK, "a socket"},
        {"CharDevice", S_IFCHR, "a character device"},
        {"BlockDevice", S_IFBLK, "a block device"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(types); i++)
        if (streq(type, types[i].type)) {
            if (!st)
                return pr_err_code(err, ENOENT, "hostPath type check failed: %s does not exist",
                                   path);
            if ((st->st_mode & S_IFMT) != types[i].fmt)
                return pr_err(err, 0, "hostPath type check failed: %s is not %s", path,
                              types[i].what);
            return 0;
        }
    return pr_err(err, 0, "hostPath.type \"%s\": not a HostPathType", type);
}

/* The kubelet follows symlinks when it checks a hostPath's type; so does this. make: create
 * what an ...OrCreate type lacks. */
static int host_path(const struct kube_volume *v, bool make, pr_error **err)
{
    const char *path = v->host_path.path, *type = v->host_path.type ? v->host_path.type : "";
    struct stat st;
    if (!path || *path != '/' || !no_backsteps(path))
        return pr_err(err, 0, "hostPath.path \"%s\": must be absolute, without \"..\"",
                      path ? path : "");
    if (!*type)
        return 0;
    if (stat(path, &st) == 0)
        return check_type(path, type, &st, err);
    if (errno != ENOENT)
        return pr_err(err, errno, "hostPath `%s`", path);
    if (streq(type, "DirectoryOrCreate")) {
        if (!make)
            return 0;
        return mkdir_p(path, 0755, err);
    }
    if (streq(type, "FileOrCreate")) {
        /* As the kubelet: the file, not its parent directory. */
        if (!make) {
            _cleanup_free_ char *parent = xstrdup(path);
            *strrchr(parent, '/') = '\0';
            struct stat pst;
            if (*parent && (stat(parent, &pst) < 0 || !S_ISDIR(pst.st_mode)))
                return pr_err_code(err, ENOENT,
                                   "hostPath: %s: its directory does not exist (FileOrCreate "
                                   "makes the file only)",
                                   path);
            return 0;
        }
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd < 0)
            return pr_err(err, errno, "hostPath: create `%s`", path);
        close(fd);
        return 0;
    }
    return check_type(path, type, NULL, err);
}

static int volume_error(pr_error **err, size_t i, const struct kube_volume *v)
{
    return pr_err_prefix(err, "spec.volumes[%zu] \"%s\"", i, v->name);
}

int pods_volumes_check(pods_manager *m, const struct kube_object *o, pr_error **err)
{
    const struct kube_pod_spec *s = &o->u.pod;
    for (size_t i = 0; i < s->n_volumes; i++) {
        const struct kube_volume *v = &s->volumes[i];
        int r = 0;
        if (is_files_volume(v))
            r = volume_files(m, o, NULL, v, -1, NULL, err);
        else if (v->has_host_path)
            r = host_path(v, false, err);
        else if (v->has_pvc) {
            /* Checked before anything of the pod is made: a missing claim makes nothing. */
            _cleanup_free_ char *dir = NULL;
            r = pods_claim_dir(m, o->meta.namespace_, v->pvc.claim_name, &dir, err);
        }
        if (r < 0)
            return volume_error(err, i, v);
    }
    return 0;
}

static int write_one(int dirfd, const char *path, const struct pods_file *f, mode_t mode,
                     pr_error **err)
{
    _cleanup_free_ char *parent = xstrdup(path);
    char *slash = strrchr(parent, '/');
    _cleanup_close_ int pfd = -1;
    int at = dirfd;
    const char *base = path;
    if (slash) {
        *slash = '\0';
        base = slash + 1;
        if ((pfd = mkdir_in_root(dirfd, parent, 0755, false, err)) < 0)
            return pfd;
        /* mkdir_in_root gives O_PATH; a real directory fd to create in. */
        int d = openat(pfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (d < 0)
            return pr_err(err, errno, "open `%s`", parent);
        close(pfd);
        pfd = at = d;
    }
    _cleanup_close_ int fd =
        openat(at, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return pr_err(err, errno, "create `%s`", path);
    for (size_t off = 0; off < f->len;) {
        ssize_t n = write(fd, f->data + off, f->len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return pr_err(err, n < 0 ? errno : EIO, "write `%s`", path);
        off += (size_t)n;
    }
    if (fchmod(fd, mode) < 0)
        return pr_err(err, errno, "chmod `%s`", path);
    return 0;
}

static int make_dir(const char *path, mode_t mode, int *fd, pr_error **err)
{
    if (mkdir(path, mode) < 0)
        return pr_err(err, errno, "create `%s`", path);
    if (chmod(path, mode) < 0)
        return pr_err(err, errno, "chmod `%s`", path);
    if (fd && (*fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
        return pr_err(err, errno, "open `%s`", path);
    return 0;
}

/* What a Memory emptyDir may hold: its sizeLimit; else, as the kubelet sizes it, the pod's
 * memory limit when every container has one; else the node's memory. */
static int memory_size(const struct kube_pod_spec *s, const struct kube_volume *v, int64_t *out,
                       pr_error **err)
{
    struct kube_quantity q;
    int64_t sum = 0, one;
    *out = 0;
    if (v->empty_dir.size_limit) {
        if (kube_quantity_parse(v->empty_dir.size_limit, &q, err) < 0 ||
            kube_quantity_scaled(&q, 0, out) < 0)
            return pr_err(err, ERANGE, "emptyDir.sizeLimit \"%s\"", v->empty_dir.size_limit);
        if (*out <= 0)
            return pr_err(err, 0, "emptyDir.sizeLimit \"%s\": must be positive",
                          v->empty_dir.size_limit);
        return 0;
    }
    for (size_t i = 0; i < s->n_containers; i++) {
        const char *l = kube_map_get(&s->containers[i].resources.limits, "memory");
        if (!l || kube_quantity_parse(l, &q, NULL) < 0 || kube_quantity_scaled(&q, 0, &one) < 0) {
            long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
            *out = pages > 0 && size > 0 ? (int64_t)pages * size : 0;
            return 0;
        }
        sum += one;
    }
    *out = sum;
    return 0;
}

/* A Memory emptyDir is a tmpfs. Its pages are charged to the memory cgroup of the container
 * that writes them, so they count against that container's (and the pod's) memory limit, as
 * they do under the kubelet. */
static int memory_dir(const struct kube_pod_spec *s, const struct kube_volume *v, const char *dir,
                      pr_error **err)
{
    int64_t size;
    int r = memory_size(s, v, &size, err);
    if (r < 0)
        return r;
    _cleanup_free_ char *opts =
        size > 0 ? xasprintf("mode=0777,size=%lld", (long long)size) : xstrdup("mode=0777");
    if (mount("tmpfs", dir, "tmpfs", MS_NOSUID | MS_NODEV, opts) < 0)
        return pr_err(err, errno, "mount a tmpfs on `%s`", dir);
    return 0;
}

int pods_volumes_unmount(const struct pods_pod_paths *p, pr_error **err)
{
    _cleanup_free_ char *vols = xasprintf("%s/volumes", p->lib_dir);
    _cleanup_dir_ DIR *d = opendir(vols);
    if (!d)
        return errno == ENOENT ? 0 : pr_err(err, errno, "open `%s`", vols);
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        _cleanup_free_ char *dir = xasprintf("%s/%s", vols, e->d_name);
        /* Only a Memory emptyDir is a mount point here; EINVAL says this one is not. */
        while (umount2(dir, MNT_DETACH | UMOUNT_NOFOLLOW) == 0)
            ;
        if (errno != EINVAL && errno != ENOENT)
            return pr_err(err, errno, "unmount `%s`", dir);
    }
    return 0;
}

/* The kubelet's SetVolumeOwnership: every file and directory the group's, group-readable (and
 * writable in a writable volume), directories setgid so new files stay the group's. The pod
 * manager made everything in the tree, so lchown and chmod on it change only its own. */
static int own_tree(int dirfd, gid_t gid, bool read_only, int depth, pr_error **err)
{
    const mode_t mask = read_only ? 0440 : 0660;
    struct stat st;
    if (fstat(dirfd, &st) < 0 || fchown(dirfd, (uid_t)-1, gid) < 0 ||
        fchmod(dirfd, (st.st_mode & 07777) | mask | 0110 | S_ISGID) < 0)
        return -errno;
    if (depth > 64)
        return 0;
    int fd2 = dup(dirfd);
    DIR *d = fd2 < 0 ? NULL : fdopendir(fd2);
    if (!d) {
        if (fd2 >= 0)
            close(fd2);
        return -errno;
    }
    struct dirent *e;
    int r = 0;
    while (r == 0 && (e = readdir(d))) {
        if (streq(e->d_name, ".") || streq(e->d_name, ".."))
            continue;
        if (fstatat(dirfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
            r = -errno;
        } else if (S_ISDIR(st.st_mode)) {
            int sub = openat(dirfd, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            r = sub < 0 ? -errno : own_tree(sub, gid, read_only, depth + 1, err);
            if (sub >= 0)
                close(sub);
        } else if (S_ISREG(st.st_mode)) {
            if (fchownat(dirfd, e->d_name, (uid_t)-1, gid, AT_SYMLINK_NOFOLLOW) < 0 ||
                fchmodat(dirfd, e->d_name, (st.st_mode & 07777) | mask, 0) < 0)
                r = -errno;
        }
    }
    closedir(d);
    return r;
}

static int fs_group(const char *dir, gid_t gid, bool read_only, pr_error **err)
{
    _cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    int r = fd < 0 ? -errno : own_tree(fd, gid, read_only, 0, err);
    return r < 0 ? pr_err(err, -r, "fsGroup: the group of `%s`", dir) : 0;
}

int pods_volumes_make(pods_manager *m, const struct kube_object *o, const struct pods_pod_paths *p,
                      pr_error **err)
{
    const struct kube_pod_spec *s = &o->u.pod;
    _cleanup_free_ char *vols = xasprintf("%s/volumes", p->lib_dir);
    int r = 0;
    if (s->n_volumes && (r = mkdir_p(vols, 0700, err)) < 0)
        return r;
    for (size_t i = 0; r == 0 && i < s->n_volumes; i++) {
        const struct kube_volume *v = &s->volumes[i];
        _cleanup_free_ char *dir = xasprintf("%s/%s", vols, v->name);
        _cleanup_close_ int fd = -1;
        if (v->has_empty_dir) {
            /* World-writable like the kubelet's, so any runAsUser can use it; its parents stay
             * root's alone (the container sees the bind mount, not them). */
            r = make_dir(dir, 0777, NULL, err);
            if (r == 0 && v->empty_dir.medium && streq(v->empty_dir.medium, "Memory"))
                r = memory_dir(s, v, dir, err);
        } else if (is_files_volume(v)) {
            if ((r = make_dir(dir, 0755, &fd, err)) == 0)
                r = volume_files(m, o, p->uid, v, fd, write_one, err);
        } else if (v->has_host_path) {
            r = host_path(v, true, err);
        } else if (v->has_pvc) {
            free(dir);
            dir = NULL;
            r = pods_claim_dir(m, o->meta.namespace_, v->pvc.claim_name, &dir, err);
        }
        /* fsGroup: the volumes the pod owns (never a hostPath) become the group's. */
        if (r == 0 && !v->has_host_path && s->has_security_context &&
            s->security_context.has_fs_group)
            r = fs_group(dir, (gid_t)s->security_context.fs_group, !v->has_empty_dir && !v->has_pvc,
                         err);
        if (r < 0)
            return volume_error(err, i, v);
    }
    return 0;
}

static char *fd_target(int fd)
{
    _cleanup_free_ char *link = xasprintf("/proc/self/fd/%d", fd);
    char buf[PATH_MAX];
    ssize_t n = readlink(link, buf, sizeof(buf) - 1);
    if (n < 0)
        return NULL;
    buf[n] = '\0';
    return xstrdup(buf);
}

/* subPath inside base: RESOLVE_BENEATH makes the kernel refuse any step (a symlink, absolute
 * or relative) that would leave base. */
static int sub_path(const char *base, const char *sub, char **out, pr_error **err)
{
    const unsigned long long how = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
    if (!descending_path(sub))
        return pr_err(err, 0, "subPath \"%s\": must be relative, without \"..\"", sub);
    _cleanup_close_ int basefd = open(base, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (basefd < 0)
        return pr_err(err, errno, "open `%s`", base);
    _cleanup_close_ int fd = sys_openat2(basefd, sub, O_PATH | O_CLOEXEC, 0, how);
    if (fd < 0 && errno == ENOENT) {
        int made = mkdir_in_root(basefd, sub, 0755, false, err);
        if (made < 0)
            return made;
        close(made);
        fd = sys_openat2(basefd, sub, O_PATH | O_CLOEXEC, 0, how);
    }
    if (fd < 0 && (errno == EXDEV || errno == ELOOP))
        return pr_err(err, errno, "subPath \"%s\": leaves its volume (through a symlink)", sub);
    if (fd < 0)
        return pr_err(err, errno, "subPath \"%s\" in `%s`", sub, base);
    if (!(*out = fd_target(fd)))
        return pr_err(err, errno, "subPath \"%s\": its path", sub);
    return 0;
}

int pods_volume_source(pods_manager *m, const char *ns, const struct pods_pod_paths *p,
                       const struct kube_pod_spec *s, const struct kube_volume_mount *vm,
                       char **out, pr_error **err)
{
    const struct kube_volume *v = find_volume(s, vm->name);
    if (!v)
        return pr_err(err, 0, "volumeMount \"%s\": no such volume", vm->name);
    _cleanup_free_ char *base = NULL;
    if (v->has_pvc) {
        /* The claim's volume directory, outside the pod's: it outlives the pod. */
        int r = pods_claim_dir(m, ns, v->pvc.claim_name, &base, err);
        if (r < 0)
            return r;
    } else {
        base = v->has_host_path ? xstrdup(v->host_path.path)
                                : xasprintf("%s/volumes/%s", p->lib_dir, v->name);
    }
    if (!vm->sub_path || !*vm->sub_path) {
        *out = steal_pointer(&base);
        return 0;
    }
    return sub_path(base, vm->sub_path, out, err);
}
