/* SPDX-License-Identifier: Apache-2.0 */
/* A pod's containers as OCI bundles: each root an overlay of its image (mounted through the
 * image store), each config.json from the one config builder, with the pod's settings mapped
 * the way a kubelet maps them. */
#include "fs.h"
#include "images/images.h"
#include "manager.h"
#include "util.h"

#include <fcntl.h>
#include <sys/stat.h>

char *pods_container_dir(const struct pods_pod_paths *p, const char *name)
{
    return xasprintf("%s/containers/%s", p->lib_dir, name);
}

char *pods_termination_log(const struct pods_pod_paths *p, const char *name)
{
    return xasprintf("%s/containers/%s/termination-log", p->lib_dir, name);
}

char *pods_container_id(const char *uid, const char *name)
{
    return xasprintf("%s-%s", uid, name);
}

/* Every container of the pod, init containers first, through one index. */
static const struct kube_container *container_at(const struct kube_pod_spec *s, size_t i)
{
    return i < s->n_init_containers ? &s->init_containers[i]
                                    : &s->containers[i - s->n_init_containers];
}

static bool has_volume(const struct kube_pod_spec *s, const char *name)
{
    for (size_t i = 0; i < s->n_volumes; i++)
        if (streq(s->volumes[i].name, name))
            return true;
    return false;
}

static int seccomp_of(pods_manager *m, const struct kube_pod_spec *s,
                      const struct kube_container *c, enum pods_seccomp *mode, yajl_val *profile,
                      pr_error **err);

int pods_containers_check(pods_manager *m, const struct kube_object *o, pr_error **err)
{
    const struct kube_pod_spec *s = &o->u.pod;
    int r;
    /* Images are not checked here: pods_pull_images pulls or finds them by their policy. */
    for (size_t i = 0; i < s->n_init_containers + s->n_containers; i++) {
        const struct kube_container *c = container_at(s, i);
        _cleanup_strv_ char **env = NULL;
        const struct pods_env_ctx ctx = {o, NULL, NULL};
        if ((r = pods_container_env(m, &ctx, c, &env, err)) < 0)
            return r;
        enum pods_seccomp mode;
        _cleanup_json_ yajl_val profile = NULL;
        if ((r = seccomp_of(m, s, c, &mode, &profile, err)) < 0)
            return pr_err_prefix(err, "container \"%s\": seccompProfile", c->name);
        for (size_t j = 0; j < c->n_volume_mounts; j++)
            if (!has_volume(s, c->volume_mounts[j].name))
                return pr_err(err, 0, "container \"%s\": volumeMounts[%zu]: no volume \"%s\"",
                              c->name, j, c->volume_mounts[j].name);
    }
    return pods_volumes_check(m, o, err);
}

static int to_int(const char *q, int scale, int64_t *out, pr_error **err)
{
    struct kube_quantity k;
    int r = kube_quantity_parse(q, &k, err);
    if (r == 0 && (r = kube_quantity_scaled(&k, scale, out)) < 0)
        r = pr_err_code(err, ERANGE, "quantity \"%s\" is out of range", q);
    return r;
}

/* limits.memory in bytes; limits.cpu as a CFS quota; the CPU request (the limit when only that
 * is given) as shares, the kubelet's 1024 per CPU with its floor of 2, which is also what a
 * container without a request gets (the kubelet always sets them). */
static int resources(const struct kube_resources *res, struct pods_resources *out, pr_error **err)
{
    const char *mem = kube_map_get(&res->limits, "memory");
    const char *cpu = kube_map_get(&res->limits, "cpu");
    const char *req = kube_map_get(&res->requests, "cpu");
    int64_t v;
    int r;
    if (mem && (r = to_int(mem, 0, &out->memory_limit, err)) < 0)
        return r;
    if (cpu) {
        if ((r = to_int(cpu, 3, &v, err)) < 0)
            return r;
        out->cpu_quota = v < 10 ? 1000 : v * 100;
        out->cpu_period = 100000;
    }
    v = 0;
    if ((req || cpu) && (r = to_int(req ? req : cpu, 3, &v, err)) < 0)
        return r;
    out->cpu_shares = v * 1024 / 1000 < 2        ? 2
                      : v * 1024 / 1000 > 262144 ? 262144
                                                 : (uint64_t)(v * 1024 / 1000);
    return 0;
}

struct ctr_build {
    struct pods_container_config cfg;
    char **env, **cap_add, **cap_drop, **sysctls;
    struct pods_mount *mounts;
    char *rootfs;
    image_process img;
    yajl_val seccomp_profile;
    gid_t *gids;
};

static void ctr_build_clear(struct ctr_build *b)
{
    strv_free(b->env);
    strv_free(b->cap_add);
    strv_free(b->cap_drop);
    strv_free(b->sysctls);
    for (size_t i = 0; i < b->cfg.n_mounts; i++)
        free((char *)b->mounts[i].source);
    free(b->mounts);
    free(b->rootfs);
    image_process_clear(&b->img);
    if (b->seccomp_profile)
        yajl_tree_free(b->seccomp_profile);
    free(b->gids);
}

static char **strv_copy(const char **v)
{
    char **out = NULL;
    for (; v && *v; v++)
        strv_extend(&out, *v);
    return out;
}

static void add_gid(struct ctr_build *b, gid_t g)
{
    for (size_t i = 0; i < b->cfg.n_additional_gids; i++)
        if (b->gids[i] == g)
            return;
    b->gids = xrealloc(b->gids, (b->cfg.n_additional_gids + 1) * sizeof(*b->gids));
    b->gids[b->cfg.n_additional_gids++] = g;
    b->cfg.additional_gids = b->gids;
}

/* The pod's supplementalGroups and fsGroup join the groups the process has (the image's for
 * its user, merged, as Kubernetes' default SupplementalGroupsPolicy does). Checked before. */
static void pod_groups(const struct kube_pod_security_context *ps, struct ctr_build *b)
{
    size_t n = ps ? json_array_len(ps->supplemental_groups) : 0;
    if (!ps || (!n && !ps->has_fs_group))
        return;
    if (!b->cfg.has_user) {
        b->cfg.has_user = true;
        b->cfg.uid = b->img.uid;
        b->cfg.gid = b->img.gid;
        for (size_t i = 0; i < b->img.n_additional_gids; i++)
            add_gid(b, b->img.additional_gids[i]);
    }
    for (size_t i = 0; i < n; i++)
        add_gid(b, (gid_t)YAJL_GET_INTEGER(json_array_at(ps->supplemental_groups, i)));
    if (ps->has_fs_group)
        add_gid(b, (gid_t)ps->fs_group);
}

static void security(const struct kube_pod_spec *s, const struct kube_container *c,
                     struct ctr_build *b)
{
    const struct kube_pod_security_context *ps =
        s->has_security_context ? &s->security_context : NULL;
    const struct kube_security_context *cs = c->has_security_context ? &c->security_context : NULL;
    bool has_uid = (cs && cs->has_run_as_user) || (ps && ps->has_run_as_user);
    bool has_gid = (cs && cs->has_run_as_group) || (ps && ps->has_run_as_group);
    if (has_uid || has_gid) {
        b->cfg.has_user = true;
        b->cfg.uid = cs && cs->has_run_as_user   ? (uid_t)cs->run_as_user
                     : ps && ps->has_run_as_user ? (uid_t)ps->run_as_user
                                                 : b->img.uid;
        b->cfg.gid = cs && cs->has_run_as_group   ? (gid_t)cs->run_as_group
                     : ps && ps->has_run_as_group ? (gid_t)ps->run_as_group
                     : has_uid                    ? 0
                                                  : b->img.gid;
    }
    pod_groups(ps, b);
    for (size_t i = 0; ps && i < json_array_len(ps->sysctls); i++) {
        yajl_val e = json_array_at(ps->sysctls, i);
        strv_consume(&b->sysctls, xasprintf("%s=%s", YAJL_GET_STRING(json_get(e, "name")),
                                            YAJL_GET_STRING(json_get(e, "value"))));
        b->cfg.sysctls = b->sysctls;
    }
    if (!cs)
        return;
    b->cfg.privileged = cs->privileged;
    b->cfg.readonly_rootfs = cs->read_only_root_filesystem;
    b->cfg.no_new_privileges =
        cs->has_allow_privilege_escalation && !cs->allow_privilege_escalation;
    if (cs->has_capabilities) {
        b->cap_add = strv_copy(cs->capabilities.add);
        b->cap_drop = strv_copy(cs->capabilities.drop);
        b->cfg.cap_add = b->cap_add;
        b->cfg.cap_drop = b->cap_drop;
    }
}

/* seccompProfile: the container's, else the pod's; none means Unconfined, the kubelet's
 * default. A Localhost profile is read now, so that a missing one fails the apply. */
static int seccomp_of(pods_manager *m, const struct kube_pod_spec *s,
                      const struct kube_container *c, enum pods_seccomp *mode, yajl_val *profile,
                      pr_error **err)
{
    const struct kube_seccomp_profile *p =
        c->has_security_context && c->security_context.has_seccomp_profile
            ? &c->security_context.seccomp_profile
        : s->has_security_context && s->security_context.has_seccomp_profile
            ? &s->security_context.seccomp_profile
            : NULL;
    *mode = PODS_SECCOMP_UNCONFINED;
    if (!p || streq(p->type, "Unconfined"))
        return 0;
    if (streq(p->type, "RuntimeDefault")) {
        *mode = PODS_SECCOMP_RUNTIME_DEFAULT;
        return 0;
    }
    *mode = PODS_SECCOMP_PROFILE;
    return pods_seccomp_localhost(m, p->localhost_profile ? p->localhost_profile : "", profile,
                                  err);
}

static bool run_as_non_root(const struct kube_pod_spec *s, const struct kube_container *c)
{
    if (c->has_security_context && c->security_context.has_run_as_non_root)
        return c->security_context.run_as_non_root;
    return s->has_security_context && s->security_context.has_run_as_non_root &&
           s->security_context.run_as_non_root;
}

/* As the kubelet: an empty file of the pod's, anyone's to write (the container may run as
 * any user), bound at terminationMessagePath unless a volume is mounted there. */
static int termination_mount(const struct pods_pod_paths *p, const struct kube_container *c,
                             struct ctr_build *b, pr_error **err)
{
    static char *const rw[] = {"rbind", "rw", NULL};
    const char *dest = c->termination_message_path;
    for (size_t i = 0; i < c->n_volume_mounts; i++)
        if (streq(c->volume_mounts[i].mount_path, dest))
            return 0;
    char *file = pods_termination_log(p, c->name);
    int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0666);
    if (fd < 0 || fchmod(fd, 0666) < 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        pr_err(err, e, "create `%s`", file);
        free(file);
        return -e;
    }
    close(fd);
    b->mounts[b->cfg.n_mounts++] = (struct pods_mount){
        .destination = dest,
        .type = "bind",
        .source = file,
        .options = rw,
    };
    return 0;
}

static int volume_mounts(pods_manager *m, const char *ns, const struct pods_pod_paths *p,
                         const struct kube_pod_spec *s, const struct kube_container *c,
                         struct ctr_build *b, pr_error **err)
{
    enum pods_propagation widest = PODS_PROP_PRIVATE;
    /* Room for the pod's /etc files after the volumes (pods_etc_mounts). */
    b->mounts = xcalloc(c->n_volume_mounts + 4, sizeof(*b->mounts));
    b->cfg.mounts = b->mounts;
    for (size_t i = 0; i < c->n_volume_mounts; i++) {
        const struct kube_volume_mount *vm = &c->volume_mounts[i];
        char *source;
        int r = pods_volume_source(m, ns, p, s, vm, &source, err);
        if (r < 0)
            return pr_err_prefix(err, "volumeMounts[%zu]", i);
        const struct kube_volume *v = NULL;
        for (size_t j = 0; j < s->n_volumes; j++)
            if (streq(s->volumes[j].name, vm->name))
                v = &s->volumes[j];
        bool read_only = vm->read_only || (v && pods_volume_read_only(v));
        enum pods_propagation prop = pods_propagation_of(vm->mount_propagation);
        b->mounts[i] = (struct pods_mount){
            .destination = vm->mount_path,
            .type = "bind",
            .source = source,
            .options = pods_bind_options(read_only, prop),
        };
        b->cfg.n_mounts = i + 1;
        if ((r = pods_propagation_check(source, prop, err)) < 0)
            return pr_err_prefix(err, "volumeMounts[%zu]", i);
        if (prop > widest)
            widest = prop;
    }
    b->cfg.rootfs_propagation = pods_rootfs_propagation(widest);
    return termination_mount(p, c, b, err);
}

/* command and args with $(VAR) references to the container's env expanded. */
static char **expand_all(const char **v, char *const *env)
{
    char **out = NULL;
    for (; v && *v; v++)
        strv_consume(&out, pods_expand(*v, env));
    return out;
}

static int make_one(pods_manager *m, image_store *st, const struct kube_object *o,
                    const struct kube_container *c, const struct pods_pod_paths *p,
                    const char *hostname, const char *ip, pr_error **err)
{
    _cleanup_free_ char *dir = pods_container_dir(p, c->name);
    _cleanup_free_ char *id = pods_container_id(p->uid, c->name);
    _cleanup_free_ char *net = xasprintf("%s/net", p->ns_dir);
    _cleanup_free_ char *ipc = xasprintf("%s/ipc", p->ns_dir);
    _cleanup_free_ char *uts = xasprintf("%s/uts", p->ns_dir);
    _cleanup_free_ char *pid = xasprintf("%s/pid", p->ns_dir);
    const struct kube_pod_spec *s = &o->u.pod;
    struct ctr_build b = {0};
    const struct pods_env_ctx ctx = {o, p->uid, ip};
    _cleanup_strv_ char **own_env = NULL, **command = NULL, **args = NULL;
    _cleanup_free_ char *cgroup = p->cgroup ? xasprintf("%s/%s", p->cgroup, id) : NULL;
    int r;
    /* The sandbox named the joined UTS namespace; a runtime sets a hostname only in a new one.
     * HOSTNAME is the pod's, as containerd gives it (a variable of the pod's own wins). */
    strv_consume(&b.env, xasprintf("HOSTNAME=%s", hostname));
    if ((r = mkdir_p(dir, 0700, err)) < 0 ||
        (r = images_mount_rootfs(st, c->image, id, dir, &b.rootfs, err)) < 0 ||
        (r = images_process(st, c->image, b.rootfs, &b.img, err)) < 0 ||
        (r = pods_container_env(m, &ctx, c, &own_env, err)) < 0 ||
        (r = resources(&c->resources, &b.cfg.resources, err)) < 0)
        goto out;
    /* A terminal: TERM=xterm as containerd's WithTTY sets it (the pod's own wins). */
    if (c->tty)
        strv_extend(&b.env, "TERM=xterm");
    for (char **e = own_env; e && *e; e++)
        strv_extend(&b.env, *e);
    command = expand_all(c->command, own_env);
    args = expand_all(c->args, own_env);
    b.cfg.rootfs = b.rootfs;
    b.cfg.image = &b.img;
    b.cfg.command = command;
    b.cfg.args = args;
    b.cfg.env = b.env;
    b.cfg.cwd = c->working_dir;
    b.cfg.terminal = c->tty; /* its master goes to the shim (--console-socket) */
    b.cfg.cgroups_path = cgroup;
    security(&o->u.pod, c, &b);
    if ((r = seccomp_of(m, &o->u.pod, c, &b.cfg.seccomp, &b.seccomp_profile, err)) < 0)
        goto out;
    b.cfg.seccomp_profile = b.seccomp_profile;
    if (run_as_non_root(&o->u.pod, c) && (b.cfg.has_user ? b.cfg.uid : b.img.uid) == 0) {
        r = pr_err(err, 0, "container has runAsNonRoot and image will run as root");
        goto out;
    }
    if ((r = volume_mounts(m, o->meta.namespace_, p, &o->u.pod, c, &b, err)) < 0)
        goto out;
    b.cfg.n_mounts += pods_etc_mounts(p, c, &b.mounts[b.cfg.n_mounts]);
    /* The sandbox's namespaces, or the node's where the pod asks for them (hostNetwork brings
     * the node's UTS namespace too, as containerd does); the shared PID namespace is held by
     * the shim (DESIGN.md §2). */
    b.cfg.namespaces[PODS_NS_NET] = s->host_network ? (struct pods_namespace){PODS_NS_HOST, NULL}
                                                    : (struct pods_namespace){PODS_NS_JOIN, net};
    b.cfg.namespaces[PODS_NS_UTS] = s->host_network ? (struct pods_namespace){PODS_NS_HOST, NULL}
                                                    : (struct pods_namespace){PODS_NS_JOIN, uts};
    b.cfg.namespaces[PODS_NS_IPC] = s->host_ipc ? (struct pods_namespace){PODS_NS_HOST, NULL}
                                                : (struct pods_namespace){PODS_NS_JOIN, ipc};
    b.cfg.namespaces[PODS_NS_PID] = s->host_pid ? (struct pods_namespace){PODS_NS_HOST, NULL}
                                    : s->share_process_namespace
                                        ? (struct pods_namespace){PODS_NS_JOIN, pid}
                                        : (struct pods_namespace){PODS_NS_NEW, NULL};
    r = pods_bundle_write(dir, &b.cfg, err);
out:
    ctr_build_clear(&b);
    return r < 0 ? pr_err_prefix(err, "container \"%s\"", c->name) : 0;
}

int pods_containers_make(pods_manager *m, const struct kube_object *o,
                         const struct pods_pod_paths *p, const char *hostname, const char *ip,
                         pr_error **err)
{
    const struct kube_pod_spec *s = &o->u.pod;
    _cleanup_images_ image_store *st = NULL;
    int r = images_open(m->images_root, false, &st, err);
    if (r == 0)
        r = pods_volumes_make(m, o, p, err);
    for (size_t i = 0; r == 0 && i < s->n_init_containers + s->n_containers; i++)
        r = make_one(m, st, o, container_at(s, i), p, hostname, ip, err);
    return r;
}

int pods_container_root_remove(pods_manager *m, struct image_store *st, const char *id,
                               const char *dir, pr_error **err)
{
    /* The runtime's leftovers, quietly: most often there is nothing to delete. */
    _cleanup_free_ char *root = xasprintf("%s/runtime", m->run_root);
    char *argv[] = {m->runtime, "--root", root, "delete", "--force", (char *)id, NULL};
    int status;
    _cleanup_error_ pr_error *e = NULL;
    pods_exec(argv, NULL, NULL, 0, 30, NULL, NULL, &status, &e);
    /* -ENOENT: an earlier teardown, cut after the store forgot the container, got that far;
     * what is left is the directory. */
    int r = images_unmount_rootfs(st, id, dir, err);
    if (r == -ENOENT) {
        if (err) {
            pr_error_free(*err);
            *err = NULL;
        }
    } else if (r < 0) {
        return r;
    }
    if (rm_rf(dir) < 0)
        return pr_err(err, errno, "remove `%s`", dir);
    return 0;
}

int pods_containers_remove(pods_manager *m, const struct pods_pod_paths *p, pr_error **err)
{
    _cleanup_free_ char *dir = xasprintf("%s/containers", p->lib_dir);
    _cleanup_dir_ DIR *d = opendir(dir);
    if (!d)
        return errno == ENOENT ? 0 : pr_err(err, errno, "open `%s`", dir);
    _cleanup_images_ image_store *st = NULL;
    int r = images_open(m->images_root, false, &st, err);
    if (r < 0)
        return r;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        _cleanup_free_ char *id = pods_container_id(p->uid, e->d_name);
        _cleanup_free_ char *cdir = xasprintf("%s/%s", dir, e->d_name);
        if ((r = pods_container_root_remove(m, st, id, cdir, err)) < 0)
            return r;
    }
    return 0;
}
