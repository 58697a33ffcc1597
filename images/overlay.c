/* SPDX-License-Identifier: Apache-2.0 */
#include "overlay.h"
#include "fs.h"
#include "image.h"
#include "json.h"
#include "log.h"
#include "unpack.h"
#include "util.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/mount.h>
#include <sys/stat.h>

#define DEFAULT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* Each piece image mount makes must be new: an existing DIR/upper holds somebody's data. */
static int make_new_dir(const char *path, mode_t mode, bool *made, pr_error **err)
{
    if (mkdir(path, mode) < 0)
        return errno == EEXIST ? pr_err_code(err, EEXIST,
                                             "`%s` already exists: refusing to replace it (image "
                                             "unmount the container that made it, or use another "
                                             "directory)",
                                             path)
                               : pr_err(err, errno, "mkdir `%s`", path);
    *made = true;
    return 0;
}

/* "lowerdir=top:...:bottom": overlayfs lists the uppermost lower layer first. */
static int lowerdir_option(image_store *s, const image_rec *rec, const char *ctr_dir,
                           bool *made_empty, char **out, pr_error **err)
{
    size_t n = strv_length(rec->layers);
    if (n == 0) {
        /* An image without layers (scratch) still needs one lower directory. */
        _cleanup_free_ char *empty = xasprintf("%s/empty", ctr_dir);
        int r = make_new_dir(empty, 0755, made_empty, err);
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

/* Turns a mountinfo field back into text: the kernel writes some bytes as \ooo. */
static void unescape_octal(char *s)
{
    char *w = s;
    for (char *r = s; *r;) {
        if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' &&
            r[3] >= '0' && r[3] <= '7') {
            *w++ = (char)((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
            r += 4;
        } else {
            *w++ = *r++;
        }
    }
    *w = '\0';
}

enum rootfs_state { ROOTFS_NOT_MOUNTED, ROOTFS_OURS, ROOTFS_FOREIGN };

/* What is mounted on target (its topmost mount): nothing, the overlay image mount made with
 * upper as its upperdir, or anything else. Read from /proc/self/mountinfo, where mount points
 * are canonical. */
static int rootfs_mount_state(const char *target, const char *upper, enum rootfs_state *state,
                              pr_error **err)
{
    _cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
    if (!f)
        return pr_err(err, errno, "open /proc/self/mountinfo");
    _cleanup_free_ char *line = NULL;
    _cleanup_free_ char *want = xasprintf("upperdir=%s", upper);
    size_t cap = 0;
    *state = ROOTFS_NOT_MOUNTED;
    while (getline(&line, &cap, f) > 0) {
        line[strcspn(line, "\n")] = '\0';
        /* id parent major:minor root mountpoint options [optional...] - fstype source super */
        char *save = NULL, *field[5];
        size_t n = 0;
        for (char *t = strtok_r(line, " ", &save); t && n < 5; t = strtok_r(NULL, " ", &save))
            field[n++] = t;
        if (n < 5)
            continue;
        unescape_octal(field[4]);
        if (!streq(field[4], target))
            continue;
        char *t;
        while ((t = strtok_r(NULL, " ", &save)) && !streq(t, "-"))
            ;
        char *fstype = strtok_r(NULL, " ", &save);
        strtok_r(NULL, " ", &save);
        char *super = strtok_r(NULL, " ", &save);
        bool ours = false;
        if (fstype && super && streq(fstype, "overlay")) {
            char *save2 = NULL;
            for (char *o = strtok_r(super, ",", &save2); o && !ours;
                 o = strtok_r(NULL, ",", &save2)) {
                unescape_octal(o);
                ours = streq(o, want);
            }
        }
        /* Later lines are mounted on top of earlier ones: the last one wins. */
        *state = ours ? ROOTFS_OURS : ROOTFS_FOREIGN;
    }
    return 0;
}

/* An existing DIR/rootfs may only be an empty directory with nothing mounted on it. */
static int check_rootfs_free(const char *target, pr_error **err)
{
    struct stat st;
    if (lstat(target, &st) < 0)
        return errno == ENOENT ? 0 : pr_err(err, errno, "stat `%s`", target);
    if (!S_ISDIR(st.st_mode))
        return pr_err_code(err, EEXIST, "`%s` exists and is not a directory: refusing to use it",
                           target);
    enum rootfs_state state;
    int r = rootfs_mount_state(target, "", &state, err);
    if (r < 0)
        return r;
    if (state != ROOTFS_NOT_MOUNTED)
        return pr_err_code(err, EBUSY, "something is already mounted on `%s`", target);
    _cleanup_dir_ DIR *d = opendir(target);
    if (!d)
        return pr_err(err, errno, "open `%s`", target);
    struct dirent *de;
    while ((de = readdir(d)))
        if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
            return pr_err_code(err, ENOTEMPTY, "`%s` is not empty: refusing to mount over it",
                               target);
    return 0;
}

struct made {
    bool upper, work, empty, rootfs, record;
};

/* Undoes a failed mount: only what this call made. */
static void undo_mount(image_store *s, const char *container_id, const char *dir,
                       const struct made *m)
{
    static const char *const parts[] = {"upper", "work", "empty", "rootfs"};
    const bool made[] = {m->upper, m->work, m->empty, m->rootfs};
    for (size_t i = 0; i < ARRAY_SIZE(parts); i++) {
        if (!made[i])
            continue;
        _cleanup_free_ char *p = xasprintf("%s/%s", dir, parts[i]);
        if (i == 3)
            rmdir(p);
        else
            rm_rf(p);
    }
    if (m->record)
        store_unref_layers(s, container_id, NULL);
}

int images_mount_rootfs(image_store *s, const char *image, const char *container_id,
                        const char *ctr_dir, char **rootfs, pr_error **err)
{
    if (!store_container_id_is_valid(container_id))
        return pr_err(err, 0,
                      "invalid container id `%s` (1 to %d characters, no `/`, spaces or control "
                      "characters, not starting with `.`)",
                      container_id, STORE_CONTAINER_ID_MAX);
    image_rec rec = {0};
    int r = store_find_image(s, image, &rec, err);
    if (r < 0)
        return r;
    struct made made = {0};
    _cleanup_free_ char *dir = NULL, *upper = NULL, *work = NULL, *target = NULL;
    _cleanup_free_ char *lower = NULL, *opts = NULL;
    if ((r = mkdir_p(ctr_dir, 0700, err)) < 0)
        goto out;
    if (!(dir = realpath(ctr_dir, NULL))) {
        r = pr_err(err, errno, "resolve `%s`", ctr_dir);
        goto out;
    }
    if (strpbrk(dir, ":,")) {
        r = pr_err(err, 0, "`%s` has a `:` or `,`, which overlayfs options cannot carry", dir);
        goto out;
    }
    upper = xasprintf("%s/upper", dir);
    work = xasprintf("%s/work", dir);
    target = xasprintf("%s/rootfs", dir);
    if ((r = check_rootfs_free(target, err)) < 0)
        goto out;
    /* Reference first: a prune running meanwhile must not take the layers away. */
    if ((r = store_ref_layers(s, container_id, dir, rec.layers, err)) < 0)
        goto out;
    made.record = true;
    if ((r = make_new_dir(upper, 0755, &made.upper, err)) < 0 ||
        (r = make_new_dir(work, 0700, &made.work, err)) < 0 ||
        (r = lowerdir_option(s, &rec, dir, &made.empty, &lower, err)) < 0)
        goto fail;
    if (mkdir(target, 0755) == 0)
        made.rootfs = true;
    else if (errno != EEXIST) {
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
    undo_mount(s, container_id, dir, &made);
out:
    image_rec_clear(&rec);
    return r;
}

/* The directory's canonical path, or when it no longer exists, its absolute lexical path. */
static char *canonical_dir(const char *path)
{
    char *c = realpath(path, NULL);
    if (c || errno != ENOENT)
        return c;
    if (path[0] == '/')
        return path_clean_in_root(path);
    _cleanup_free_ char *cwd = getcwd(NULL, 0);
    if (!cwd)
        return NULL;
    _cleanup_free_ char *abs = xasprintf("%s/%s", cwd, path);
    return path_clean_in_root(abs);
}

int images_unmount_rootfs(image_store *s, const char *container_id, const char *ctr_dir,
                          pr_error **err)
{
    _cleanup_free_ char *recorded = NULL;
    _cleanup_error_ pr_error *norec = NULL;
    int r = store_container_dir(s, container_id, &recorded, &norec);
    if (r < 0 && r != -ENOENT) {
        *err = steal_pointer(&norec);
        return r;
    }
    _cleanup_free_ char *dir = canonical_dir(ctr_dir);
    if (!dir)
        return pr_err(err, errno, "resolve `%s`", ctr_dir);
    if (r == -ENOENT) {
        /* The record goes last: an unmount that got that far, and was cut before its caller
         * removed the container's directory, has nothing left to do (-ENOENT, which a caller
         * finishing a teardown takes as done). Anything mounted there now is not ours: -EBUSY,
         * never to be taken for done. Either way nothing here is touched. */
        _cleanup_free_ char *target = xasprintf("%s/rootfs", dir);
        _cleanup_free_ char *upper = xasprintf("%s/upper", dir);
        enum rootfs_state state;
        if ((r = rootfs_mount_state(target, upper, &state, err)) < 0)
            return r;
        if (state != ROOTFS_NOT_MOUNTED)
            return pr_err_code(err, EBUSY, "%s, and something else is mounted on `%s`",
                               norec && norec->msg ? norec->msg : "no image mount", target);
        *err = steal_pointer(&norec);
        return -ENOENT;
    }
    if (recorded && !streq(dir, recorded))
        return pr_err_code(err, EPERM,
                           "`%s` is not where container `%s`'s root is mounted (`%s`): refusing to "
                           "touch it",
                           ctr_dir, container_id, recorded);
    _cleanup_free_ char *target = xasprintf("%s/rootfs", dir);
    _cleanup_free_ char *upper = xasprintf("%s/upper", dir);
    enum rootfs_state state;
    if ((r = rootfs_mount_state(target, upper, &state, err)) < 0)
        return r;
    if (state == ROOTFS_FOREIGN)
        return pr_err_code(err, EBUSY,
                           "`%s` has a mount that is not container `%s`'s overlay: refusing to "
                           "unmount it",
                           target, container_id);
    /* A record from before directories were recorded: only its overlay proves the owner. */
    if (!recorded && state != ROOTFS_OURS)
        return pr_err_code(err, EPERM,
                           "container `%s`'s root is not mounted at `%s`: refusing to touch it",
                           container_id, target);
    if (state == ROOTFS_OURS && umount2(target, UMOUNT_NOFOLLOW) < 0)
        return pr_err(err, errno, "unmount `%s`", target);
    static const char *const parts[] = {"upper", "work", "empty"};
    for (size_t i = 0; i < ARRAY_SIZE(parts); i++) {
        _cleanup_free_ char *p = xasprintf("%s/%s", dir, parts[i]);
        r = rm_rf(p);
        if (r < 0)
            return pr_err(err, -r, "remove `%s`", p);
    }
    /* Image mount left rootfs empty; whatever is in it now is not ours to delete. */
    if (rmdir(target) < 0 && errno != ENOENT && errno != ENOTEMPTY)
        return pr_err(err, errno, "remove `%s`", target);
    return store_unref_layers(s, container_id, err);
}

/* --- image config to process --- */

void image_process_clear(image_process *p)
{
    strv_freep(&p->args);
    strv_freep(&p->entrypoint);
    strv_freep(&p->cmd);
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
    p.entrypoint = steal_pointer(&entrypoint);
    p.cmd = steal_pointer(&cmd);
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
