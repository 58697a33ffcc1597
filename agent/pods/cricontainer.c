/* SPDX-License-Identifier: Apache-2.0 */
/* A CRI sandbox's containers (pods.h), one at a time: the bundle from the one config builder,
 * the record in the sandbox's containers/ directory, the container written into the shim's
 * spec.json and then asked for (create), started, stopped, deleted by the shim. Their state is
 * the shim's status.json; the records hold what the kubelet gave (metadata, labels,
 * annotations, image, log path). */
#include "fs.h"
#include "images/images.h"
#include "manager.h"
#include "util.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>

#define SPEC_MAX               (4u << 20)
#define EXEC_DEFAULT_TIMEOUT_S 3600

static char *ctr_record_path(const struct pods_pod_paths *p, const char *id)
{
    return xasprintf("%s/containers/%s.json", p->run_dir, id);
}

/* The sandbox that holds container id; -ENOENT when none does. Found by the record's name in
 * each sandbox directory (a stat each), the sandbox's record read only for the one that has it:
 * the kubelet lists every container every second. */
static int find_sandbox(pods_manager *m, const char *id, char **sandbox, pr_error **err)
{
    if (!pods_cri_id_valid(id))
        return pr_err_code(err, ENOENT, "container \"%s\" not found", id ? id : "");
    _cleanup_free_ char *top = xasprintf("%s/sandboxes", m->run_root);
    _cleanup_dir_ DIR *d = opendir(top);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        _cleanup_free_ char *path = xasprintf("%s/%s/containers/%s.json", top, e->d_name, id);
        if (access(path, F_OK) < 0)
            continue;
        _cleanup_free_ char *rec_path = xasprintf("%s/%s/sandbox.json", top, e->d_name);
        _cleanup_json_ yajl_val rec = NULL;
        _cleanup_error_ pr_error *ignored = NULL;
        const char *sid = NULL;
        if (json_parse_file_max(rec_path, 1u << 20, READ_REGULAR, &rec, &ignored) == 0)
            sid = YAJL_GET_STRING(json_get(rec, "id"));
        if (pods_cri_id_valid(sid) && strncmp(sid, e->d_name, strlen(e->d_name)) == 0) {
            *sandbox = xstrdup(sid);
            return 0;
        }
    }
    return pr_err_code(err, ENOENT, "container \"%s\" not found", id);
}

int pods_cri_container_sandbox(pods_manager *m, const char *id, char **sandbox, pr_error **err)
{
    return find_sandbox(m, id, sandbox, err);
}

/* spec.json with the container entry added (add) or the one named drop taken out. */
static int spec_change(const struct pods_pod_paths *p, yajl_val add, const char *drop,
                       pr_error **err)
{
    _cleanup_free_ char *path = xasprintf("%s/spec.json", p->shim_dir);
    _cleanup_json_ yajl_val spec = NULL;
    int r = json_parse_file_max(path, SPEC_MAX, READ_REGULAR, &spec, err);
    if (r < 0)
        return r;
    if (!YAJL_IS_OBJECT(spec))
        return pr_err(err, 0, "`%s` is not an object", path);
    _cleanup_gen_ yajl_gen g = json_gen_new(true);
    jg_map_open(g);
    for (size_t i = 0; i < spec->u.object.len; i++) {
        const char *k = spec->u.object.keys[i];
        jg_key(g, k);
        if (!streq(k, "containers")) {
            jg_value(g, spec->u.object.values[i]);
            continue;
        }
        yajl_val list = spec->u.object.values[i];
        jg_array_open(g);
        for (size_t j = 0; j < json_array_len(list); j++) {
            yajl_val e = json_array_at(list, j);
            const char *n = YAJL_GET_STRING(json_get(e, "name"));
            if (!drop || !n || !streq(n, drop))
                jg_value(g, e);
        }
        if (add)
            jg_value(g, add);
        jg_array_close(g);
    }
    jg_map_close(g);
    size_t len;
    const char *buf = jg_buf(g, &len);
    return write_file_atomic_volatile(path, buf, len, 0600, err);
}

/* The shim's status.json, NULL when there is none. */
static yajl_val shim_status(const struct pods_pod_paths *p)
{
    _cleanup_free_ char *path = xasprintf("%s/status.json", p->shim_dir);
    yajl_val v = NULL;
    if (json_parse_file_max(path, SPEC_MAX, READ_REGULAR, &v, NULL) < 0)
        return NULL;
    return v;
}

static yajl_val status_of(yajl_val st, const char *id)
{
    yajl_val list = json_get(st, "containerStatuses");
    for (size_t i = 0; i < json_array_len(list); i++) {
        const char *n = YAJL_GET_STRING(json_get(json_array_at(list, i), "name"));
        if (n && streq(n, id))
            return json_array_at(list, i);
    }
    return NULL;
}

static bool running(yajl_val st, const char *id)
{
    if (id) {
        const char *s = YAJL_GET_STRING(json_get(status_of(st, id), "state"));
        return s && streq(s, "running");
    }
    yajl_val list = json_get(st, "containerStatuses");
    for (size_t i = 0; i < json_array_len(list); i++) {
        const char *s = YAJL_GET_STRING(json_get(json_array_at(list, i), "state"));
        if (s && streq(s, "running"))
            return true;
    }
    return false;
}

int pods_cri_wait_stopped(pods_manager *m, const struct pods_pod_paths *p, const char *id,
                          int timeout_s, pr_error **err)
{
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        if (!pods_shim_alive(p))
            return 0;
        _cleanup_json_ yajl_val st = shim_status(p);
        if (!running(st, id))
            return 0;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec - start.tv_sec > timeout_s)
            return pr_err_code(err, ETIMEDOUT, "%s %s did not stop within %d s",
                               id ? "container" : "sandbox", id ? id : p->uid, timeout_s);
        struct timespec ts = {0, 10 * 1000000};
        nanosleep(&ts, NULL);
    }
}

static int name_taken(const struct pods_pod_paths *p, const struct pods_cri_container *c,
                      pr_error **err)
{
    _cleanup_free_ char *dir = xasprintf("%s/containers", p->run_dir);
    _cleanup_dir_ DIR *d = opendir(dir);
    if (!d)
        return 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (e->d_name[0] == '.')
            continue;
        if (!(len == PODS_CRI_ID_LEN + 5 && streq(e->d_name + PODS_CRI_ID_LEN, ".json"))) {
            /* A record a create killed before its rename left half-written: no container's
             * (none lists it), and stale, since the caller holds the sandbox's lock. */
            if (strstr(e->d_name, ".json.tmp."))
                unlinkat(dirfd(d), e->d_name, 0);
            continue;
        }
        _cleanup_free_ char *path = xasprintf("%s/%s", dir, e->d_name);
        _cleanup_json_ yajl_val rec = NULL;
        if (json_parse_file_max(path, 1u << 20, READ_REGULAR, &rec, NULL) < 0)
            continue;
        const char *n = YAJL_GET_STRING(json_get(rec, "name"));
        yajl_val a = json_get(rec, "attempt");
        if (n && streq(n, c->name) && YAJL_IS_INTEGER(a) && YAJL_GET_INTEGER(a) == c->attempt)
            return pr_err_code(err, EEXIST,
                               "container name \"%s_%u\" is reserved for %s in "
                               "sandbox %s",
                               c->name, c->attempt, YAJL_GET_STRING(json_get(rec, "id")), p->uid);
    }
    return 0;
}

/* The image's /etc/passwd entry of name (a regular file, read within the container's root). */
#define PASSWD_MAX ((size_t)16 << 20)
static int lookup_user(const char *rootfs, const char *name, uid_t *uid, gid_t *gid, pr_error **err)
{
    _cleanup_close_ int root = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (root < 0)
        return pr_err(err, errno, "open `%s`", rootfs);
    _cleanup_error_ pr_error *e = NULL;
    _cleanup_close_ int fd =
        open_in_root(root, "/etc/passwd", O_RDONLY | O_NONBLOCK | O_CLOEXEC, &e);
    struct stat st;
    _cleanup_free_ char *text = NULL;
    size_t len;
    if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
        read_fd_max(fd, "/etc/passwd", PASSWD_MAX, &text, &len, &e) < 0)
        return pr_err_code(err, EINVAL,
                           "run_as_username \"%s\": the image has no readable /etc/passwd", name);
    size_t n = strlen(name);
    for (char *line = text, *nl; line && *line; line = nl ? nl + 1 : NULL) {
        nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        unsigned long u, g;
        if (strncmp(line, name, n) == 0 && line[n] == ':' &&
            sscanf(line + n, ":%*[^:]:%lu:%lu", &u, &g) == 2) {
            *uid = (uid_t)u;
            *gid = (gid_t)g;
            return 0;
        }
    }
    return pr_err_code(err, EINVAL, "run_as_username \"%s\" is not in the image's /etc/passwd",
                       name);
}

static int write_bundle(pods_manager *m, image_store *st, const struct pods_pod_paths *p,
                        yajl_val sb, const struct pods_cri_container *c, const char *id,
                        const char *dir, pr_error **err)
{
    _cleanup_free_ char *rootfs = NULL;
    image_process img = {0};
    _cleanup_free_ char *parent = xasprintf("%s/containers", p->lib_dir);
    _cleanup_json_ yajl_val profile = NULL;
    int r;
    /* Read first, so that a missing or bad profile fails the call before anything is made. */
    if (c->seccomp == PODS_SECCOMP_PROFILE &&
        (r = pods_seccomp_file(c->seccomp_file, &profile, err)) < 0)
        return r;
    if ((r = mkdir_p(parent, 0700, err)) < 0 ||
        (r = images_mount_rootfs(st, c->image, id, dir, &rootfs, err)) < 0)
        return r;
    uid_t uid = c->uid;
    gid_t gid = c->gid;
    bool has_user = c->has_user;
    if ((r = images_process(st, c->image, rootfs, &img, err)) < 0 ||
        (c->username && !c->has_user &&
         (r = lookup_user(rootfs, c->username, &uid, &gid, err)) < 0)) {
        image_process_clear(&img);
        return r;
    }
    if (c->username && !c->has_user)
        has_user = true;
    if (c->has_group)
        gid = c->gid;
    else if (c->has_user)
        gid = 0;
    /* Supplemental groups join the groups the process has: the image user's when the image
     * names the user (as the kubelet's Merge policy, and containers.c, do). */
    _cleanup_free_ gid_t *gids = NULL;
    size_t n_gids = 0;
    if (c->n_groups) {
        if (!has_user) {
            has_user = true;
            uid = img.uid;
            gid = img.gid;
            gids = xcalloc(img.n_additional_gids + c->n_groups, sizeof(*gids));
            memcpy(gids, img.additional_gids, img.n_additional_gids * sizeof(*gids));
            n_gids = img.n_additional_gids;
        } else {
            gids = xcalloc(c->n_groups, sizeof(*gids));
        }
        for (size_t i = 0; i < c->n_groups; i++) {
            bool have = false;
            for (size_t j = 0; j < n_gids; j++)
                have |= gids[j] == c->groups[i];
            if (!have)
                gids[n_gids++] = c->groups[i];
        }
    }
    _cleanup_free_ char *net = xasprintf("%s/net", p->ns_dir);
    _cleanup_free_ char *ipc = xasprintf("%s/ipc", p->ns_dir);
    _cleanup_free_ char *uts = xasprintf("%s/uts", p->ns_dir);
    _cleanup_free_ char *resolv = xasprintf("%s/etc/resolv.conf", p->run_dir);
    _cleanup_free_ char *hostname = xasprintf("%s/etc/hostname", p->run_dir);
    _cleanup_free_ char *cgroup = pods_cri_cgroups_path(sb, id);
    bool host_net = YAJL_IS_TRUE(json_get(sb, "hostNetwork"));
    bool host_ipc = YAJL_IS_TRUE(json_get(sb, "hostIPC"));
    struct pods_mount *mounts = xcalloc(c->n_mounts + 2, sizeof(*mounts));
    size_t n = 0;
    bool own_resolv = true, own_hostname = true;
    enum pods_propagation widest = PODS_PROP_PRIVATE;
    for (size_t i = 0; i < c->n_mounts; i++) {
        own_resolv &= !streq(c->mounts[i].container_path, "/etc/resolv.conf");
        own_hostname &= !streq(c->mounts[i].container_path, "/etc/hostname");
        mounts[n++] =
            (struct pods_mount){c->mounts[i].container_path, "bind", c->mounts[i].host_path,
                                pods_bind_options(c->mounts[i].readonly, c->mounts[i].propagation)};
        if (c->mounts[i].propagation > widest)
            widest = c->mounts[i].propagation;
    }
    if (own_resolv)
        mounts[n++] = (struct pods_mount){"/etc/resolv.conf", "bind", resolv,
                                          pods_bind_options(false, PODS_PROP_PRIVATE)};
    if (own_hostname && !host_net)
        mounts[n++] = (struct pods_mount){"/etc/hostname", "bind", hostname,
                                          pods_bind_options(false, PODS_PROP_PRIVATE)};
    struct pods_container_config cfg = {
        .rootfs = rootfs,
        .readonly_rootfs = c->readonly_rootfs,
        .image = &img,
        .command = c->command,
        .args = c->args,
        .env = c->env,
        .cwd = c->cwd && *c->cwd ? c->cwd : NULL,
        .has_user = has_user,
        .uid = uid,
        .gid = gid,
        .additional_gids = gids,
        .n_additional_gids = n_gids,
        .privileged = c->privileged,
        .cap_add = c->cap_add,
        .cap_drop = c->cap_drop,
        .no_new_privileges = c->no_new_privileges,
        .seccomp = c->seccomp,
        .seccomp_profile = profile,
        .mounts = mounts,
        .n_mounts = n,
        .rootfs_propagation = pods_rootfs_propagation(widest),
        .cgroups_path = cgroup,
        .resources = c->resources,
        .has_oom_score_adj = c->has_oom_score_adj,
        .oom_score_adj = c->oom_score_adj,
        .terminal = c->tty,
    };
    cfg.namespaces[PODS_NS_NET] = host_net ? (struct pods_namespace){PODS_NS_HOST, NULL}
                                           : (struct pods_namespace){PODS_NS_JOIN, net};
    cfg.namespaces[PODS_NS_UTS] = host_net ? (struct pods_namespace){PODS_NS_HOST, NULL}
                                           : (struct pods_namespace){PODS_NS_JOIN, uts};
    cfg.namespaces[PODS_NS_IPC] = host_ipc ? (struct pods_namespace){PODS_NS_HOST, NULL}
                                           : (struct pods_namespace){PODS_NS_JOIN, ipc};
    _cleanup_free_ char *pidns = xasprintf("%s/pid", p->ns_dir);
    _cleanup_strv_ char **sysctls = NULL;
    yajl_val sv = json_get(sb, "sysctls");
    for (size_t i = 0; YAJL_IS_OBJECT(sv) && i < sv->u.object.len; i++)
        if (YAJL_IS_STRING(sv->u.object.values[i]))
            strv_consume(&sysctls, xasprintf("%s=%s", sv->u.object.keys[i],
                                             YAJL_GET_STRING(sv->u.object.values[i])));
    cfg.sysctls = sysctls;
    cfg.namespaces[PODS_NS_PID] =
        (struct pods_namespace){c->pid, c->pid == PODS_NS_JOIN ? pidns : NULL};
    r = pods_bundle_write(dir, &cfg, err);
    free(mounts);
    image_process_clear(&img);
    return r;
}

static int write_ctr_record(const struct pods_pod_paths *p, const struct pods_cri_container *c,
                            const char *id, const char *image_id, const char *log_path,
                            pr_error **err)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    _cleanup_gen_ yajl_gen g = json_gen_new(false);
    jg_map_open(g);
    jg_key_str(g, "id", id);
    jg_key_str(g, "sandbox", p->uid);
    jg_key_str(g, "name", c->name);
    jg_key_int(g, "attempt", c->attempt);
    jg_key_str(g, "image", c->image);
    jg_key_str(g, "imageRef", image_id);
    jg_key_int(g, "createdAt", (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec);
    jg_key_str(g, "logPath", log_path);
    jg_key_kv(g, "labels", c->labels);
    jg_key_kv(g, "annotations", c->annotations);
    jg_key_bool(g, "stdin", c->stdin_);
    jg_key_bool(g, "stdinOnce", c->stdin_once);
    jg_key_bool(g, "tty", c->tty);
    jg_map_close(g);
    size_t len;
    const char *buf = jg_buf(g, &len);
    _cleanup_free_ char *dir = xasprintf("%s/containers", p->run_dir);
    _cleanup_free_ char *path = ctr_record_path(p, id);
    int r = mkdir_p(dir, 0700, err);
    return r < 0 ? r : write_file_atomic(path, buf, len, 0600, err);
}

static int check_container(const struct pods_cri_container *c, pr_error **err)
{
    if (!c->name || !kube_valid_label_name(c->name))
        return pr_err_code(err, EINVAL, "config.metadata.name \"%s\" is not a valid name",
                           c->name ? c->name : "");
    if (!c->image || !*c->image)
        return pr_err_code(err, EINVAL, "config.image.image is required");
    if (c->log_path && (c->log_path[0] == '/' || strstr(c->log_path, "..")))
        return pr_err_code(err, EINVAL,
                           "config.log_path \"%s\": a path inside the sandbox's log directory "
                           "is required",
                           c->log_path);
    for (size_t i = 0; i < c->n_mounts; i++)
        if (!c->mounts[i].container_path || c->mounts[i].container_path[0] != '/' ||
            !c->mounts[i].host_path || c->mounts[i].host_path[0] != '/')
            return pr_err_code(err, EINVAL, "config.mounts[%zu]: absolute paths are required", i);
    /* The kubelet allows Bidirectional only to privileged containers, as the API server. */
    for (size_t i = 0; i < c->n_mounts; i++) {
        if (c->mounts[i].propagation == PODS_PROP_BIDIRECTIONAL && !c->privileged)
            return pr_err_code(err, EINVAL,
                               "config.mounts[%zu]: Bidirectional propagation needs a privileged "
                               "container",
                               i);
        int r = pods_propagation_check(c->mounts[i].host_path, c->mounts[i].propagation, err);
        if (r < 0)
            return pr_err_prefix(err, "config.mounts[%zu]", i);
    }
    return 0;
}

/* Unmounts and removes what a container had on disk, and its record; missing is fine. */
static int remove_files(pods_manager *m, image_store *st, const struct pods_pod_paths *p,
                        const char *id, pr_error **err)
{
    _cleanup_free_ char *dir = pods_container_dir(p, id);
    int r = pods_container_root_remove(m, st, id, dir, err);
    if (r < 0)
        return r;
    _cleanup_free_ char *rec = ctr_record_path(p, id);
    if (unlink(rec) < 0 && errno != ENOENT)
        return pr_err(err, errno, "remove `%s`", rec);
    return 0;
}

int pods_cri_containers_remove_all(pods_manager *m, const struct pods_pod_paths *p, pr_error **err)
{
    _cleanup_free_ char *dir = xasprintf("%s/containers", p->lib_dir);
    _cleanup_dir_ DIR *d = opendir(dir);
    if (!d)
        return errno == ENOENT ? 0 : pr_err(err, errno, "open `%s`", dir);
    _cleanup_images_ image_store *st = NULL;
    int r = images_open(m->images_root, false, &st, err);
    struct dirent *e;
    while (r == 0 && (e = readdir(d)))
        if (pods_cri_id_valid(e->d_name))
            r = remove_files(m, st, p, e->d_name, err);
    return r;
}

int pods_cri_container_create(pods_manager *m, const char *sandbox,
                              const struct pods_cri_container *c, char **id, pr_error **err)
{
    _cleanup_json_ yajl_val sb = NULL;
    int r;
    if ((r = check_container(c, err)) < 0 || (r = pods_sandbox_record(m, sandbox, &sb, err)) < 0)
        return r;
    const char *state = YAJL_GET_STRING(json_get(sb, "state"));
    if (!state || !streq(state, "ready"))
        return pr_err_code(err, EBUSY, "sandbox %s is not ready", sandbox);
    if (c->pid == PODS_NS_JOIN && !YAJL_IS_TRUE(json_get(sb, "sharePID")))
        return pr_err_code(err, EINVAL,
                           "the pod's PID namespace: sandbox %s was not made with one "
                           "(namespace_options.pid POD)",
                           sandbox);
    struct pods_pod_paths p;
    pods_sandbox_paths_init(m, sandbox, &p);
    _cleanup_free_ char *cid = NULL, *image_id = NULL, *log_path = NULL;
    _cleanup_images_ image_store *st = NULL;
    _cleanup_close_ int lock = -1;
    const char *logdir = YAJL_GET_STRING(json_get(sb, "logDirectory"));
    if (c->log_path && *c->log_path)
        log_path = xasprintf("%s/%s", logdir ? logdir : "", c->log_path);
    if ((r = pods_sandbox_lock(&p, &lock, err)) < 0 || (r = name_taken(&p, c, err)) < 0 ||
        (r = pods_cri_new_id(&cid, err)) < 0 ||
        (r = images_open(m->images_root, false, &st, err)) < 0 ||
        (r = images_find(st, c->image, &image_id, err)) < 0) {
        pods_pod_paths_clear(&p);
        return r;
    }
    _cleanup_free_ char *dir = pods_container_dir(&p, cid);
    /* The record first: a remove of the sandbox finds what to undo from it and the bundle. */
    if ((r = write_ctr_record(&p, c, cid, image_id, log_path, err)) < 0 ||
        (r = write_bundle(m, st, &p, sb, c, cid, dir, err)) < 0)
        goto fail;
    if (log_path) {
        _cleanup_free_ char *parent = xstrdup(log_path);
        *strrchr(parent, '/') = '\0';
        if ((r = mkdir_p(parent, 0755, err)) < 0)
            goto fail;
    }
    {
        _cleanup_gen_ yajl_gen g = json_gen_new(false);
        jg_map_open(g);
        jg_key_str(g, "name", cid);
        jg_key_str(g, "id", cid);
        jg_key_str(g, "bundle", dir);
        /* No log path from the kubelet: the output goes nowhere, as with containerd. */
        jg_key_str(g, "logPath", log_path ? log_path : "/dev/null");
        /* The shim keeps its stdin and terminal as a CLI pod's (podrun-shim(8), ATTACH). */
        jg_key_bool(g, "stdin", c->stdin_);
        jg_key_bool(g, "stdinOnce", c->stdin_once);
        jg_key_bool(g, "tty", c->tty);
        jg_map_close(g);
        size_t len;
        const char *buf = jg_buf(g, &len);
        _cleanup_free_ char *text = xstrndup(buf, len);
        _cleanup_json_ yajl_val entry = NULL;
        _cleanup_free_ char *req = xasprintf("{\"cmd\":\"create\",\"container\":\"%s\"}", cid);
        if ((r = json_parse(text, "container", &entry, err)) < 0 ||
            (r = spec_change(&p, entry, NULL, err)) < 0 ||
            (r = pods_shim_request(m, &p, req, 30, NULL, err)) < 0) {
            _cleanup_error_ pr_error *e = NULL;
            spec_change(&p, NULL, cid, &e);
            goto fail;
        }
    }
    pods_pod_paths_clear(&p);
    *id = steal_pointer(&cid);
    return 0;
fail : {
    _cleanup_error_ pr_error *e = NULL;
    remove_files(m, st, &p, cid, &e);
    pods_pod_paths_clear(&p);
    return r;
}
}

/* The sandbox of container id, its paths set up. */
static int open_ctr(pods_manager *m, const char *id, struct pods_pod_paths *p, char **sandbox,
                    pr_error **err)
{
    int r = find_sandbox(m, id, sandbox, err);
    if (r < 0)
        return r;
    pods_sandbox_paths_init(m, *sandbox, p);
    return 0;
}

int pods_cri_container_start(pods_manager *m, const char *id, pr_error **err)
{
    struct pods_pod_paths p;
    _cleanup_free_ char *sb = NULL;
    int r = open_ctr(m, id, &p, &sb, err);
    if (r < 0)
        return r;
    _cleanup_json_ yajl_val st = shim_status(&p);
    const char *state = YAJL_GET_STRING(json_get(status_of(st, id), "state"));
    if (!state || !streq(state, "waiting"))
        r = pr_err_code(err, EBUSY, "container %s is not in the created state (%s)", id,
                        state ? state : "unknown");
    _cleanup_free_ char *req = xasprintf("{\"cmd\":\"start\",\"container\":\"%s\"}", id);
    if (r == 0)
        r = pods_shim_request(m, &p, req, 60, NULL, err);
    if (r == 0) {
        /* The start is the shim's: the answer comes before it has run; the state tells. */
        _cleanup_json_ yajl_val after = shim_status(&p);
        yajl_val cs = status_of(after, id);
        const char *s = YAJL_GET_STRING(json_get(cs, "state"));
        const char *reason = YAJL_GET_STRING(json_get(cs, "reason"));
        if (s && streq(s, "terminated") && reason && streq(reason, "ContainerCannotRun"))
            r = pr_err(err, 0, "container %s cannot run: %s", id,
                       YAJL_GET_STRING(json_get(cs, "message")) ?: "no message");
    }
    pods_pod_paths_clear(&p);
    return r;
}

int pods_cri_container_stop(pods_manager *m, const char *id, int64_t timeout, pr_error **err)
{
    struct pods_pod_paths p;
    _cleanup_free_ char *sb = NULL;
    int r = open_ctr(m, id, &p, &sb, err);
    if (r < 0)
        return r;
    if (timeout < 0)
        timeout = 0;
    if (timeout > 3600)
        timeout = 3600;
    _cleanup_json_ yajl_val st = shim_status(&p);
    if (pods_shim_alive(&p) && running(st, id)) {
        _cleanup_free_ char *req =
            xasprintf("{\"cmd\":\"stop\",\"container\":\"%s\",\"timeoutSeconds\":%lld}", id,
                      (long long)timeout);
        r = pods_shim_request(m, &p, req, 60, NULL, err);
        if (r == 0)
            r = pods_cri_wait_stopped(m, &p, id, (int)timeout + 30, err);
    }
    pods_pod_paths_clear(&p);
    return r;
}

int pods_cri_container_remove(pods_manager *m, const char *id, pr_error **err)
{
    struct pods_pod_paths p;
    _cleanup_free_ char *sb = NULL;
    _cleanup_error_ pr_error *e = NULL;
    int r = open_ctr(m, id, &p, &sb, &e);
    if (r == -ENOENT)
        return 0;
    if (r < 0) {
        if (err)
            *err = steal_pointer(&e);
        return r;
    }
    _cleanup_images_ image_store *st = NULL;
    _cleanup_close_ int lock = -1;
    if ((r = pods_cri_container_stop(m, id, 0, err)) == 0 &&
        (r = pods_sandbox_lock(&p, &lock, err)) == 0 && pods_shim_alive(&p)) {
        _cleanup_json_ yajl_val status = shim_status(&p);
        _cleanup_free_ char *req = xasprintf("{\"cmd\":\"delete\",\"container\":\"%s\"}", id);
        if (status_of(status, id))
            r = pods_shim_request(m, &p, req, 60, NULL, err);
    }
    if (r == 0)
        r = spec_change(&p, NULL, id, err);
    if (r == 0 && (r = images_open(m->images_root, false, &st, err)) == 0)
        r = remove_files(m, st, &p, id, err);
    pods_pod_paths_clear(&p);
    return r;
}

int pods_cri_container_get(pods_manager *m, const char *id, yajl_val *record, yajl_val *status,
                           pr_error **err)
{
    struct pods_pod_paths p;
    _cleanup_free_ char *sb = NULL;
    int r = open_ctr(m, id, &p, &sb, err);
    if (r < 0)
        return r;
    _cleanup_free_ char *path = ctr_record_path(&p, id);
    r = json_parse_file_max(path, 1u << 20, READ_REGULAR, record, err);
    *status = NULL;
    if (r == 0) {
        yajl_val st = shim_status(&p);
        yajl_val one = status_of(st, id);
        if (one) {
            /* A copy of the one entry, so the caller frees one tree. */
            _cleanup_gen_ yajl_gen g = json_gen_new(false);
            jg_value(g, one);
            size_t len;
            const char *buf = jg_buf(g, &len);
            _cleanup_free_ char *text = xstrndup(buf, len);
            json_parse(text, "status", status, NULL);
        }
        if (st)
            yajl_tree_free(st);
    }
    pods_pod_paths_clear(&p);
    return r;
}

int pods_cri_container_ids(pods_manager *m, const char *sandbox, char ***ids, pr_error **err)
{
    _cleanup_strv_ char **sbs = NULL;
    int r = 0;
    *ids = NULL;
    if (sandbox) {
        if (pods_cri_id_valid(sandbox))
            strv_extend(&sbs, sandbox);
    } else if ((r = pods_sandbox_ids(m, &sbs, err)) < 0) {
        return r;
    }
    for (size_t i = 0; sbs && sbs[i]; i++) {
        struct pods_pod_paths p;
        pods_sandbox_paths_init(m, sbs[i], &p);
        _cleanup_free_ char *dir = xasprintf("%s/containers", p.run_dir);
        pods_pod_paths_clear(&p);
        _cleanup_dir_ DIR *d = opendir(dir);
        struct dirent *e;
        while (d && (e = readdir(d))) {
            size_t n = strlen(e->d_name);
            if (n == PODS_CRI_ID_LEN + 5 && streq(e->d_name + PODS_CRI_ID_LEN, ".json")) {
                _cleanup_free_ char *cid = xstrndup(e->d_name, PODS_CRI_ID_LEN);
                if (pods_cri_id_valid(cid))
                    strv_extend(ids, cid);
            }
        }
    }
    return 0;
}

int pods_cri_exec_sync(pods_manager *m, const char *id, char *const *argv, int64_t timeout,
                       char **out, char **errout, int *code, pr_error **err)
{
    struct pods_pod_paths p;
    _cleanup_free_ char *sb = NULL;
    int r = open_ctr(m, id, &p, &sb, err);
    if (r < 0)
        return r;
    pods_pod_paths_clear(&p);
    if (!argv || !argv[0])
        return pr_err_code(err, EINVAL, "cmd: a command is required");
    _cleanup_free_ char *root = xasprintf("%s/runtime", m->run_root);
    _cleanup_strv_ char **args = NULL;
    strv_extend(&args, m->runtime);
    strv_extend(&args, "--root");
    strv_extend(&args, root);
    strv_extend(&args, "exec");
    strv_extend(&args, id);
    for (char *const *a = argv; *a; a++)
        strv_extend(&args, *a);
    int t = timeout > 0 && timeout < EXEC_DEFAULT_TIMEOUT_S ? (int)timeout : EXEC_DEFAULT_TIMEOUT_S;
    return pods_exec(args, NULL, NULL, 0, t, out, errout, code, err);
}

int pods_cri_reopen_log(pods_manager *m, const char *id, pr_error **err)
{
    struct pods_pod_paths p;
    _cleanup_free_ char *sb = NULL;
    int r = open_ctr(m, id, &p, &sb, err);
    if (r < 0)
        return r;
    _cleanup_free_ char *req = xasprintf("{\"cmd\":\"reopen-logs\",\"container\":\"%s\"}", id);
    r = pods_shim_request(m, &p, req, 30, NULL, err);
    pods_pod_paths_clear(&p);
    return r;
}

int pods_cri_container_update(pods_manager *m, const char *id, const struct pods_resources *res,
                              pr_error **err)
{
    struct pods_pod_paths p;
    _cleanup_free_ char *sb = NULL;
    int r = open_ctr(m, id, &p, &sb, err);
    if (r < 0)
        return r;
    pods_pod_paths_clear(&p);
    /* linux.resources as the runtime's update -r takes it. */
    _cleanup_gen_ yajl_gen g = json_gen_new(false);
    jg_map_open(g);
    if (res->memory_limit > 0) {
        jg_key(g, "memory");
        jg_map_open(g);
        jg_key_int(g, "limit", res->memory_limit);
        jg_map_close(g);
    }
    bool cpus = res->cpuset_cpus && *res->cpuset_cpus, mems = res->cpuset_mems && *res->cpuset_mems;
    if (res->cpu_shares || res->cpu_quota || res->cpu_period || cpus || mems) {
        jg_key(g, "cpu");
        jg_map_open(g);
        if (res->cpu_shares)
            jg_key_uint(g, "shares", res->cpu_shares);
        if (res->cpu_quota)
            jg_key_int(g, "quota", res->cpu_quota);
        if (res->cpu_period)
            jg_key_uint(g, "period", res->cpu_period);
        if (cpus)
            jg_key_str(g, "cpus", res->cpuset_cpus);
        if (mems)
            jg_key_str(g, "mems", res->cpuset_mems);
        jg_map_close(g);
    }
    pods_gen_hugepages(g, res);
    pods_gen_unified(g, res->unified);
    jg_map_close(g);
    size_t len;
    const char *buf = jg_buf(g, &len);
    _cleanup_free_ char *root = xasprintf("%s/runtime", m->run_root);
    char *argv[] = {m->runtime, "--root", root, "update", "-r", "-", (char *)id, NULL};
    _cleanup_free_ char *errout = NULL;
    int status;
    if ((r = pods_exec(argv, NULL, buf, len, 60, NULL, &errout, &status, err)) < 0)
        return r;
    if (status != 0) {
        errout[strcspn(errout, "\n")] = '\0';
        return pr_err_code(err, EBUSY, "update container %s: %s", id,
                           *errout ? errout : "the runtime failed");
    }
    return 0;
}
