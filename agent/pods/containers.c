/* SPDX-License-Identifier: Apache-2.0 */
/* A pod's containers as OCI bundles: each root an overlay of its image (mounted through the
 * image store), each config.json from the one config builder, with the pod's settings mapped
 * the way a kubelet maps them. */
#include "fs.h"
#include "images/store.h"
#include "manager.h"
#include "util.h"

#include <sys/stat.h>

char *pods_container_dir(const struct pods_pod_paths *p, const char *name)
{
    return xasprintf("%s/containers/%s", p->lib_dir, name);
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
 * is given) as shares, the kubelet's 1024 per CPU with its floor of 2. */
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
    if (req || cpu) {
        if ((r = to_int(req ? req : cpu, 3, &v, err)) < 0)
            return r;
        out->cpu_shares = v * 1024 / 1000 < 2 ? 2 : (uint64_t)(v * 1024 / 1000);
    }
    return 0;
}

struct ctr_build {
    struct pods_container_config cfg;
    char **env, **cap_add, **cap_drop;
    struct pods_mount *mounts;
    char *rootfs;
    image_process img;
};

static void ctr_build_clear(struct ctr_build *b)
{
    strv_free(b->env);
    strv_free(b->cap_add);
    strv_free(b->cap_drop);
    for (size_t i = 0; i < b->cfg.n_mounts; i++)
        free((char *)b->mounts[i].source);
    free(b->mounts);
    free(b->rootfs);
    image_process_clear(&b->img);
}

static char **strv_copy(const char **v)
{
    char **out = NULL;
    for (; v && *v; v++)
        strv_extend(&out, *v);
    return out;
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

static bool run_as_non_root(const struct kube_pod_spec *s, const struct kube_container *c)
{
    if (c->has_security_context && c->security_context.has_run_as_non_root)
        return c->security_context.run_as_non_root;
    return s->has_security_context && s->security_context.has_run_as_non_root &&
           s->security_context.run_as_non_root;
}

static int volume_mounts(const struct pods_pod_paths *p, const struct kube_pod_spec *s,
                         const struct kube_container *c, struct ctr_build *b, pr_error **err)
{
    static char *const rw[] = {"rbind", "rw", NULL}, *const ro[] = {"rbind", "ro", NULL};
    b->mounts = xcalloc(c->n_volume_mounts + 1, sizeof(*b->mounts));
    b->cfg.mounts = b->mounts;
    for (size_t i = 0; i < c->n_volume_mounts; i++) {
        const struct kube_volume_mount *vm = &c->volume_mounts[i];
        char *source;
        int r = pods_volume_source(p, s, vm, &source, err);
        if (r < 0)
            return pr_err_prefix(err, "volumeMounts[%zu]", i);
        /* configMap and secret volumes are read-only whatever the mount says, as the
         * kubelet's are. */
        const struct kube_volume *v = NULL;
        for (size_t j = 0; j < s->n_volumes; j++)
            if (streq(s->volumes[j].name, vm->name))
                v = &s->volumes[j];
        bool read_only = vm->read_only || (v && (v->has_config_map || v->has_secret));
        b->mounts[i] = (struct pods_mount){
            .destination = vm->mount_path,
            .type = "bind",
            .source = source,
            .options = read_only ? ro : rw,
        };
        b->cfg.n_mounts = i + 1;
    }
    return 0;
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
    struct ctr_build b = {0};
    image_rec rec = {0};
    const struct pods_env_ctx ctx = {o, p->uid, ip};
    _cleanup_strv_ char **own_env = NULL, **command = NULL, **args = NULL;
    int r;
    /* The sandbox named the joined UTS namespace; a runtime sets a hostname only in a new one.
     * HOSTNAME is the pod's, as containerd gives it (a variable of the pod's own wins). */
    strv_consume(&b.env, xasprintf("HOSTNAME=%s", hostname));
    if ((r = mkdir_p(dir, 0700, err)) < 0 ||
        (r = images_mount_rootfs(st, c->image, id, dir, &b.rootfs, err)) < 0 ||
        (r = store_find_image(st, c->image, &rec, err)) < 0 ||
        (r = images_process_config(st, &rec, b.rootfs, &b.img, err)) < 0 ||
        (r = pods_container_env(m, &ctx, c, &own_env, err)) < 0 ||
        (r = resources(&c->resources, &b.cfg.resources, err)) < 0)
        goto out;
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
    security(&o->u.pod, c, &b);
    if (run_as_non_root(&o->u.pod, c) && (b.cfg.has_user ? b.cfg.uid : b.img.uid) == 0) {
        r = pr_err(err, 0, "container has runAsNonRoot and image will run as root");
        goto out;
    }
    if ((r = volume_mounts(p, &o->u.pod, c, &b, err)) < 0)
        goto out;
    b.cfg.namespaces[PODS_NS_NET] = (struct pods_namespace){PODS_NS_JOIN, net};
    b.cfg.namespaces[PODS_NS_IPC] = (struct pods_namespace){PODS_NS_JOIN, ipc};
    b.cfg.namespaces[PODS_NS_UTS] = (struct pods_namespace){PODS_NS_JOIN, uts};
    r = pods_bundle_write(dir, &b.cfg, err);
out:
    image_rec_clear(&rec);
    ctr_build_clear(&b);
    return r < 0 ? pr_err_prefix(err, "container \"%s\"", c->name) : 0;
}

int pods_containers_make(pods_manager *m, const struct kube_object *o,
                         const struct pods_pod_paths *p, const char *hostname, const char *ip,
                         pr_error **err)
{
    const struct kube_pod_spec *s = &o->u.pod;
    _cleanup_store_ image_store *st = NULL;
    int r = store_open(m->images_root, false, &st, err);
    if (r == 0)
        r = pods_volumes_make(m, o, p, err);
    for (size_t i = 0; r == 0 && i < s->n_init_containers + s->n_containers; i++)
        r = make_one(m, st, o, container_at(s, i), p, hostname, ip, err);
    return r;
}

/* The runtime's leftovers of a container whose shim is gone: delete --force, quietly (most
 * often there is nothing to delete). */
static void runtime_delete(pods_manager *m, const char *id)
{
    _cleanup_free_ char *root = xasprintf("%s/runtime", m->run_root);
    char *argv[] = {m->runtime, "--root", root, "delete", "--force", (char *)id, NULL};
    int status;
    _cleanup_error_ pr_error *e = NULL;
    pods_exec(argv, NULL, NULL, 0, 30, NULL, NULL, &status, &e);
}

int pods_containers_remove(pods_manager *m, const struct pods_pod_paths *p, pr_error **err)
{
    _cleanup_free_ char *dir = xasprintf("%s/containers", p->lib_dir);
    _cleanup_dir_ DIR *d = opendir(dir);
    if (!d)
        return errno == ENOENT ? 0 : pr_err(err, errno, "open `%s`", dir);
    _cleanup_store_ image_store *st = NULL;
    int r = store_open(m->images_root, false, &st, err);
    if (r < 0)
        return r;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        _cleanup_free_ char *id = pods_container_id(p->uid, e->d_name);
        _cleanup_free_ char *cdir = xasprintf("%s/%s", dir, e->d_name);
        runtime_delete(m, id);
        if ((r = images_unmount_rootfs(st, id, cdir, err)) < 0)
            return r;
        if (rm_rf(cdir) < 0)
            return pr_err(err, errno, "remove `%s`", cdir);
    }
    return 0;
}
