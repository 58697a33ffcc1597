#include "overlay.h"
#include "fs.h"
#include "images.h"
#include "json.h"
#include "log.h"
#include "unpack.h"
#include "util.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/mount.h>
#include <sys/stat.h>

#define DEFAULT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

static int fresh_dir(const char *path, mode_t mode, pr_error **err)
{
    int r = rm_rf(path);
    if (r < 0)
        return pr_err(err, -r, "remove `%s`", path);
    if (mkdir(path, mode) < 0)
        return pr_err(err, errno, "mkdir `%s`", path);
    return 0;
}

/* "lowerdir=top:...:bottom": overlayfs lists the uppermost lower layer first. */
static int lowerdir_option(image_store *s, const image_rec *rec, const char *ctr_dir, char **out,
                           pr_error **err)
{
    size_t n = strv_length(rec->layers);
    if (n == 0) {
        /* An image without layers (scratch) still needs one lower directory. */
        _cleanup_free_ char *empty = xasprintf("%s/empty", ctr_dir);
        int r = fresh_dir(empty, 0755, err);
        if (r < 0)
            return r;
        *out = xasprintf("lowerdir=%s", empty);
        return 0;
    }
    size_t cap = 16;
    for (size_t i = 0; i < n; i++)
        cap += strlen(s->root) + 8 + DIGEST_HEX_LEN + 1;
    char *opt = xmalloc(cap);
    strcpy(opt, "lowerdir=");
    for (size_t i = n; i-- > 0;) {
        int r = store_unpack_layer(s, rec->layers[i], NULL, err); /* normally already there */
        if (r < 0) {
            free(opt);
            return r;
        }
        _cleanup_free_ char *dir = store_layer_path(s, rec->layers[i]);
        if (strchr(dir, ':') || strchr(dir, ',')) {
            free(opt);
            return pr_err(err, 0,
                          "the image store path `%s` has a `:` or `,`, which overlayfs "
                          "options cannot carry",
                          s->root);
        }
        strcat(opt, dir);
        if (i > 0)
            strcat(opt, ":");
    }
    *out = opt;
    return 0;
}

int images_mount_rootfs(image_store *s, const char *image, const char *container_id,
                        const char *ctr_dir, char **rootfs, pr_error **err)
{
    image_rec rec = {0};
    int r = store_find_image(s, image, &rec, err);
    if (r < 0)
        return r;
    _cleanup_free_ char *upper = xasprintf("%s/upper", ctr_dir);
    _cleanup_free_ char *work = xasprintf("%s/work", ctr_dir);
    _cleanup_free_ char *target = xasprintf("%s/rootfs", ctr_dir);
    _cleanup_free_ char *lower = NULL, *opts = NULL;
    /* Reference first: a prune running meanwhile must not take the layers away. */
    if ((r = store_ref_layers(s, container_id, rec.layers, err)) < 0)
        goto out;
    if ((r = mkdir_p(ctr_dir, 0700, err)) < 0 || (r = fresh_dir(upper, 0755, err)) < 0 ||
        (r = fresh_dir(work, 0700, err)) < 0 ||
        (r = lowerdir_option(s, &rec, ctr_dir, &lower, err)) < 0)
        goto fail;
    if (mkdir(target, 0755) < 0 && errno != EEXIST) {
        r = pr_err(err, errno, "mkdir `%s`", target);
        goto fail;
    }
    opts = xasprintf("%s,upperdir=%s,workdir=%s", lower, upper, work);
    if (strlen(opts) >= 4096) {
        r = pr_err(err, E2BIG, "image %s has too many layers (%zu) for one overlay mount", image,
                   strv_length(rec.layers));
        goto fail;
    }
    if (mount("overlay", target, "overlay", 0, opts) < 0) {
        r = pr_err(err, errno, "mount the overlay root at `%s`", target);
        goto fail;
    }
    *rootfs = steal_pointer(&target);
    goto out;
fail:
    images_unmount_rootfs(s, container_id, ctr_dir, NULL);
out:
    image_rec_clear(&rec);
    return r;
}

int images_unmount_rootfs(image_store *s, const char *container_id, const char *ctr_dir,
                          pr_error **err)
{
    _cleanup_free_ char *target = xasprintf("%s/rootfs", ctr_dir);
    if (umount2(target, UMOUNT_NOFOLLOW) < 0 && errno != EINVAL && errno != ENOENT)
        return pr_err(err, errno, "unmount `%s`", target);
    static const char *const parts[] = {"rootfs", "upper", "work", "empty"};
    for (size_t i = 0; i < ARRAY_SIZE(parts); i++) {
        _cleanup_free_ char *p = xasprintf("%s/%s", ctr_dir, parts[i]);
        int r = rm_rf(p);
        if (r < 0)
            return pr_err(err, -r, "remove `%s`", p);
    }
    return store_unref_layers(s, container_id, err);
}

/* --- image config to process --- */

void image_process_clear(image_process *p)
{
    strv_freep(&p->args);
    strv_freep(&p->env);
    free(p->cwd);
    free(p->additional_gids);
    free(p->stop_signal);
    strv_freep(&p->exposed_ports);
    strv_freep(&p->volumes);
    strv_freep(&p->labels);
    memset(p, 0, sizeof(*p));
}

static bool env_has(char *const *env, const char *key)
{
    size_t kl = strlen(key);
    for (; env && *env; env++)
        if (strncmp(*env, key, kl) == 0 && (*env)[kl] == '=')
            return true;
    return false;
}

static bool parse_id(const char *s, unsigned long *out)
{
    if (!*s)
        return false;
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || *end || v > UINT_MAX - 1)
        return false;
    *out = v;
    return true;
}

/* One line of /etc/passwd or /etc/group split at ':'. */
static size_t split_fields(char *line, char **f, size_t max)
{
    size_t n = 0;
    f[n++] = line;
    for (char *c = line; *c && n < max; c++)
        if (*c == ':') {
            *c = '\0';
            f[n++] = c + 1;
        }
    return n;
}

/* The image's /etc/passwd or /etc/group; NULL when it has none. The image made it: a FIFO
 * there must not hang us at open, and a device such as /dev/zero must not be read forever, so
 * anything but a regular file counts as none, and a file is read under the default limit. */
static char *read_in_root(int rootfd, const char *path)
{
    _cleanup_close_ int fd = open_in_root(rootfd, path, O_RDONLY | O_NONBLOCK, NULL);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
        return NULL;
    char *text = NULL;
    if (read_fd_max(fd, path, READ_FILE_DEFAULT_MAX, &text, NULL, NULL) < 0)
        return NULL;
    return text;
}

struct pw_entry {
    bool found;
    char *name;
    unsigned long uid, gid;
    char *home;
};

/* By name, or by uid when name is NULL. */
static void lookup_passwd(const char *passwd, const char *name, unsigned long uid,
                          struct pw_entry *pw)
{
    if (!passwd)
        return;
    _cleanup_free_ char *copy = xstrdup(passwd);
    for (char *save = NULL, *line = strtok_r(copy, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        char *f[7];
        unsigned long u, g;
        if (split_fields(line, f, 7) < 7 || !parse_id(f[2], &u) || !parse_id(f[3], &g))
            continue;
        if (name ? streq(f[0], name) : u == uid) {
            pw->found = true;
            pw->name = xstrdup(f[0]);
            pw->uid = u;
            pw->gid = g;
            pw->home = xstrdup(f[5]);
            return;
        }
    }
}

static bool lookup_group(const char *group_file, const char *name, unsigned long *gid)
{
    if (!group_file)
        return false;
    _cleanup_free_ char *copy = xstrdup(group_file);
    for (char *save = NULL, *line = strtok_r(copy, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        char *f[4];
        unsigned long g;
        if (split_fields(line, f, 4) < 3 || !parse_id(f[2], &g))
            continue;
        if (streq(f[0], name)) {
            *gid = g;
            return true;
        }
    }
    return false;
}

static void supplementary_groups(const char *group_file, const char *user, gid_t primary,
                                 image_process *p)
{
    if (!group_file || !user)
        return;
    _cleanup_free_ char *copy = xstrdup(group_file);
    for (char *save = NULL, *line = strtok_r(copy, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        char *f[4];
        unsigned long g;
        if (split_fields(line, f, 4) < 4 || !parse_id(f[2], &g) || g == primary)
            continue;
        for (char *save2 = NULL, *m = strtok_r(f[3], ",", &save2); m;
             m = strtok_r(NULL, ",", &save2)) {
            if (streq(m, user)) {
                p->additional_gids =
                    xrealloc(p->additional_gids, (p->n_additional_gids + 1) * sizeof(gid_t));
                p->additional_gids[p->n_additional_gids++] = (gid_t)g;
                break;
            }
        }
    }
}

int images_resolve_user(int rootfd, const char *user, image_process *p, pr_error **err)
{
    _cleanup_free_ char *passwd = read_in_root(rootfd, "/etc/passwd");
    _cleanup_free_ char *group = read_in_root(rootfd, "/etc/group");
    _cleanup_free_ char *u = xstrdup(user && *user ? user : "0");
    char *g = strchr(u, ':');
    if (g)
        *g++ = '\0';
    struct pw_entry pw = {0};
    unsigned long id;
    if (parse_id(u, &id)) {
        lookup_passwd(passwd, NULL, id, &pw);
        p->uid = (uid_t)id;
        p->gid = pw.found ? (gid_t)pw.gid : 0;
    } else {
        lookup_passwd(passwd, u, 0, &pw);
        if (!pw.found)
            return pr_err(err, ENOENT, "user `%s` is not in the image's /etc/passwd", u);
        p->uid = (uid_t)pw.uid;
        p->gid = (gid_t)pw.gid;
    }
    int r = 0;
    if (g) {
        if (parse_id(g, &id))
            p->gid = (gid_t)id;
        else if (lookup_group(group, g, &id))
            p->gid = (gid_t)id;
        else
            r = pr_err(err, ENOENT, "group `%s` is not in the image's /etc/group", g);
    }
    if (r == 0) {
        supplementary_groups(group, pw.name, p->gid, p);
        if (!env_has(p->env, "HOME"))
            strv_consume(&p->env, xasprintf("HOME=%s", pw.found && *pw.home ? pw.home : "/"));
    }
    free(pw.name);
    free(pw.home);
    return r;
}

static void object_keys(yajl_val obj, char ***out)
{
    if (!YAJL_IS_OBJECT(obj))
        return;
    for (size_t i = 0; i < obj->u.object.len; i++)
        strv_consume(out, xstrdup(obj->u.object.keys[i]));
}

int images_process_config(image_store *s, const image_rec *rec, const char *rootfs,
                          image_process *out, pr_error **err)
{
    _cleanup_free_ char *text = NULL;
    _cleanup_json_ yajl_val root = NULL;
    _cleanup_free_ char *what = xasprintf("image config %s", rec->config);
    int r;
    if ((r = images_read_config(s, rec, &text, err)) < 0 ||
        (r = json_parse(text, what, &root, err)) < 0)
        return r;
    yajl_val cfg = NULL, labels = NULL;
    const char *cwd = NULL, *user = NULL, *stop = NULL;
    _cleanup_strv_ char **entrypoint = NULL, **cmd = NULL;
    image_process p = {0};
    if ((r = json_get_object(root, "config", what, &cfg, err)) < 0)
        return r;
    if (cfg && ((r = json_get_strv(cfg, "Entrypoint", what, &entrypoint, err)) < 0 ||
                (r = json_get_strv(cfg, "Cmd", what, &cmd, err)) < 0 ||
                (r = json_get_strv(cfg, "Env", what, &p.env, err)) < 0 ||
                (r = json_get_str(cfg, "WorkingDir", what, &cwd, err)) < 0 ||
                (r = json_get_str(cfg, "User", what, &user, err)) < 0 ||
                (r = json_get_str(cfg, "StopSignal", what, &stop, err)) < 0 ||
                (r = json_get_object(cfg, "Labels", what, &labels, err)) < 0)) {
        image_process_clear(&p);
        return r;
    }
    for (char **a = entrypoint; a && *a; a++)
        strv_consume(&p.args, xstrdup(*a));
    for (char **a = cmd; a && *a; a++)
        strv_consume(&p.args, xstrdup(*a));
    if (!p.args) {
        image_process_clear(&p);
        return pr_err(err, 0, "%s: the image has neither Entrypoint nor Cmd", what);
    }
    if (!env_has(p.env, "PATH"))
        strv_consume(&p.env, xstrdup(DEFAULT_PATH));
    p.cwd = xstrdup(cwd && *cwd ? cwd : "/");
    p.stop_signal = stop && *stop ? xstrdup(stop) : NULL;
    object_keys(json_get(cfg, "ExposedPorts"), &p.exposed_ports);
    object_keys(json_get(cfg, "Volumes"), &p.volumes);
    for (size_t i = 0; labels && i < labels->u.object.len; i++) {
        yajl_val v = labels->u.object.values[i];
        strv_consume(&p.labels, xasprintf("%s=%s", labels->u.object.keys[i],
                                          YAJL_IS_STRING(v) ? v->u.string : ""));
    }
    _cleanup_close_ int rootfd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (rootfd < 0) {
        image_process_clear(&p);
        return pr_err(err, errno, "open `%s`", rootfs);
    }
    r = images_resolve_user(rootfd, user, &p, err);
    if (r < 0) {
        image_process_clear(&p);
        return r;
    }
    *out = p;
    return 0;
}

static char *join(char *const *v, const char *sep)
{
    size_t len = 1;
    for (char *const *x = v; x && *x; x++)
        len += strlen(*x) + strlen(sep);
    char *s = xmalloc(len);
    s[0] = '\0';
    for (char *const *x = v; x && *x; x++) {
        if (x != v)
            strcat(s, sep);
        strcat(s, *x);
    }
    return s;
}

char *images_runtime_config_json(const image_process *p, const char *rootfs)
{
    _cleanup_gen_ yajl_gen g = json_gen_new(true);
    jg_map_open(g);
    jg_key(g, "process");
    jg_map_open(g);
    jg_key(g, "user");
    jg_map_open(g);
    jg_key_uint(g, "uid", p->uid);
    jg_key_uint(g, "gid", p->gid);
    if (p->n_additional_gids) {
        jg_key(g, "additionalGids");
        jg_array_open(g);
        for (size_t i = 0; i < p->n_additional_gids; i++)
            yajl_gen_integer(g, p->additional_gids[i]);
        jg_array_close(g);
    }
    jg_map_close(g);
    jg_key_strv(g, "args", p->args);
    jg_key_strv(g, "env", p->env);
    jg_key_str(g, "cwd", p->cwd);
    jg_map_close(g);
    jg_key(g, "root");
    jg_map_open(g);
    jg_key_str(g, "path", rootfs);
    jg_key_bool(g, "readonly", false);
    jg_map_close(g);
    /* What a runtime config has no field for travels as the OCI image annotations. */
    jg_key(g, "annotations");
    jg_map_open(g);
    for (char **l = p->labels; l && *l; l++) {
        _cleanup_free_ char *k = xstrdup(*l);
        char *eq = strchr(k, '=');
        *eq = '\0';
        jg_key_str(g, k, eq + 1);
    }
    jg_key_str(g, "org.opencontainers.image.stopSignal", p->stop_signal);
    if (p->exposed_ports) {
        _cleanup_free_ char *ports = join(p->exposed_ports, ",");
        jg_key_str(g, "org.opencontainers.image.exposedPorts", ports);
    }
    if (p->volumes) {
        _cleanup_free_ char *vols = join(p->volumes, ",");
        jg_key_str(g, "org.opencontainers.image.volumes", vols);
    }
    jg_map_close(g);
    jg_map_close(g);
    size_t len;
    const char *buf = jg_buf(g, &len);
    return strndup(buf, len);
}
