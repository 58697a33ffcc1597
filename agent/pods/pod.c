/* SPDX-License-Identifier: Apache-2.0 */
/* A pod's life on this node: made in an order whose every step the teardown can undo from
 * what is on disk (sandbox, network, container roots, the shim), and taken down in the
 * reverse order by the same teardown, which a failed apply and every delete share. */
#include "fs.h"
#include "manager.h"
#include "util.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>

#define SHIM_START_TIMEOUT_S 120
#define HOSTNAME_MAX         63

static const char *kind_resource(enum kube_kind k)
{
    switch (k) {
    case KUBE_POD:
        return "pods";
    case KUBE_CONFIGMAP:
        return "configmaps";
    case KUBE_SECRET:
        return "secrets";
    default:
        return "namespaces";
    }
}

static int new_uid(char **out, pr_error **err)
{
    _cleanup_free_ char *text = NULL;
    size_t len;
    int r = read_file("/proc/sys/kernel/random/uuid", &text, &len, err);
    if (r < 0)
        return r;
    text[strcspn(text, "\n")] = '\0';
    if (strlen(text) != 36)
        return pr_err(err, 0, "a pod uid from the kernel is not a UUID");
    *out = steal_pointer(&text);
    return 0;
}

/* The pod's hostname: spec.hostname, else its name cut to a label as the kubelet cuts it. */
static char *pod_hostname(const struct kube_object *o)
{
    if (o->u.pod.hostname)
        return xstrdup(o->u.pod.hostname);
    char *h = xstrndup(o->meta.name, HOSTNAME_MAX);
    for (size_t n = strlen(h); n > 0 && (h[n - 1] == '-' || h[n - 1] == '.'); n--)
        h[n - 1] = '\0';
    return h;
}

static int write_pod_record(const struct pods_pod_paths *p, const char *ns, const char *name,
                            const char *ip, pr_error **err)
{
    _cleanup_gen_ yajl_gen g = json_gen_new(false);
    jg_map_open(g);
    jg_key_str(g, "namespace", ns);
    jg_key_str(g, "name", name);
    jg_key_str(g, "uid", p->uid);
    jg_key_str(g, "ip", ip);
    jg_map_close(g);
    size_t len;
    const char *buf = jg_buf(g, &len);
    _cleanup_free_ char *path = xasprintf("%s/pod.json", p->run_dir);
    return write_file_atomic_volatile(path, buf, len, 0600, err);
}

/* True while a shim holds its lock on the pod directory. */
static bool shim_alive(const struct pods_pod_paths *p)
{
    _cleanup_free_ char *lock = xasprintf("%s/shim.lock", p->shim_dir);
    _cleanup_close_ int fd = open(lock, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return false;
    return flock(fd, LOCK_EX | LOCK_NB) < 0 && errno == EWOULDBLOCK;
}

static int shim_remove(pods_manager *m, const struct pods_pod_paths *p, pr_error **err)
{
    if (!shim_alive(p))
        return 0;
    char *argv[] = {m->shim, "--pod-dir", p->shim_dir, "--request", "{\"cmd\":\"remove\"}", NULL};
    _cleanup_free_ char *out = NULL, *errout = NULL;
    int status;
    /* The shim waits each container's grace period; a pod may ask for a long one. */
    int r = pods_exec(argv, NULL, NULL, 0, 3600, &out, &errout, &status, err);
    if (r < 0)
        return r;
    if (shim_alive(p))
        return pr_err(err, 0, "the shim of the pod did not go away after remove: %s%s", out,
                      errout);
    return 0;
}

/* Takes down whatever of the pod exists, last-made first. Every step runs even after one
 * failed (a CNI DEL that fails must not keep the namespaces pinned), but the pod's dirs, which
 * hold what the failed steps need to be retried (the CNI config, the bundles), stay until a
 * teardown succeeds. */
static int teardown(pods_manager *m, const struct pods_pod_paths *p, pr_error **err)
{
    _cleanup_free_ char *netns = xasprintf("%s/net", p->ns_dir);
    int r = shim_remove(m, p, err);
    if (r == 0) {
        /* With a shim still there, its containers and their roots stay: it would restart them. */
        int r2 = pods_containers_remove(m, p, err);
        int r3 = pods_cni_del(m, p->uid, netns, p->run_dir, err);
        int r4 = pods_sandbox_destroy(p->ns_dir, err);
        r = r2 < 0 ? r2 : r3 < 0 ? r3 : r4;
    }
    if (r < 0)
        return pr_err_prefix(err, "remove pod %s", p->uid);
    const char *dirs[] = {p->lib_dir, p->log_dir, p->run_dir};
    for (size_t i = 0; i < ARRAY_SIZE(dirs); i++)
        if (rm_rf(dirs[i]) < 0)
            return pr_err(err, errno, "remove pod %s: remove `%s`", p->uid, dirs[i]);
    return 0;
}

static int start_shim(pods_manager *m, const struct pods_pod_paths *p, pr_error **err)
{
    char *argv[] = {m->shim, "--pod-dir", p->shim_dir, NULL};
    _cleanup_free_ char *out = NULL, *errout = NULL;
    int status;
    int r = pods_exec(argv, NULL, NULL, 0, SHIM_START_TIMEOUT_S, &out, &errout, &status, err);
    if (r < 0)
        return r;
    if (status != 0) {
        errout[strcspn(errout, "\n")] = '\0';
        return pr_err(err, 0, "the shim failed (exit %d): %s", status,
                      *errout ? errout : "no message");
    }
    return 0;
}

static int make_pod(pods_manager *m, const struct kube_object *o, const char *ns,
                    const struct pods_pod_paths *p, pr_error **err)
{
    _cleanup_free_ char *hostname = pod_hostname(o);
    _cleanup_free_ char *netns = xasprintf("%s/net", p->ns_dir);
    _cleanup_free_ char *ip = NULL;
    _cleanup_free_ char *pods_dir = xasprintf("%s/pods", m->run_root);
    int r;
    if ((r = mkdir_p(pods_dir, 0700, err)) < 0)
        return r;
    if (mkdir(p->run_dir, 0700) < 0)
        return pr_err(err, errno, "create `%s`", p->run_dir);
    if ((r = write_pod_record(p, ns, o->meta.name, NULL, err)) < 0 ||
        (r = pods_sandbox_create(p->ns_dir, hostname, err)) < 0 ||
        (r = pods_cni_add(m, p->uid, netns, p->run_dir, &ip, err)) < 0 ||
        (r = write_pod_record(p, ns, o->meta.name, ip, err)) < 0 ||
        (r = mkdir_p(p->shim_dir, 0700, err)) < 0 || (r = mkdir_p(p->log_dir, 0700, err)) < 0 ||
        (r = pods_containers_make(m, o, p, hostname, ip, err)) < 0 ||
        (r = pods_shim_spec_write(m, o, p, err)) < 0)
        return r;
    return start_shim(m, p, err);
}

static int create_pod(pods_manager *m, const struct kube_object *o, const char *ns, pr_error **err)
{
    _cleanup_free_ char *uid = NULL;
    int r;
    if ((r = pods_containers_check(m, o, err)) < 0 || (r = new_uid(&uid, err)) < 0)
        return pr_err_prefix(err, "pod \"%s\"", o->meta.name);
    struct pods_pod_paths p;
    pods_pod_paths_init(m, uid, &p);
    long long created = (long long)time(NULL);
    /* The record first: an apply killed from here on leaves the uid that names what it made. */
    r = pods_object_save_as(m, "pods", ns, o->meta.name, o->tree, uid, created, PODS_CREATING, err);
    if (r < 0) {
        pods_pod_paths_clear(&p);
        return pr_err_prefix(err, "pod \"%s\"", o->meta.name);
    }
    r = make_pod(m, o, ns, &p, err);
    if (r == 0)
        r = pods_object_save(m, "pods", ns, o->meta.name, o->tree, uid, created, err);
    if (r < 0) {
        pr_err_prefix(err, "pod \"%s\"", o->meta.name);
        _cleanup_error_ pr_error *e = NULL;
        if (teardown(m, &p, &e) < 0 || pods_object_remove(m, "pods", ns, o->meta.name, &e) < 0) {
            /* The record stays, so that a delete finds what is left and finishes it. */
            if (err && *err) {
                char *msg = xasprintf("%s; undoing it failed too: %s; `podrun delete pod %s` "
                                      "finishes it",
                                      (*err)->msg, e ? e->msg : "", o->meta.name);
                free((*err)->msg);
                (*err)->msg = msg;
            }
        }
    }
    pods_pod_paths_clear(&p);
    return r;
}

/* A record still "creating" or "deleting" under the manager's exclusive lock is of an apply or a
 * delete that died half-way: what is left of the pod is taken down and the record goes, so that
 * the pod is made anew. */
static int clear_dead_create(pods_manager *m, const char *ns, const char *name, yajl_val rec,
                             pr_error **err)
{
    const char *uid = YAJL_GET_STRING(json_get(rec, "uid"));
    if (!uid || strlen(uid) != 36 || strchr(uid, '/') || uid[0] == '.')
        return pr_err(err, 0, "pod \"%s\": its record has no valid uid", name);
    struct pods_pod_paths p;
    pods_pod_paths_init(m, uid, &p);
    int r = teardown(m, &p, err);
    pods_pod_paths_clear(&p);
    if (r == 0)
        r = pods_object_remove(m, "pods", ns, name, err);
    if (r < 0)
        return pr_err_prefix(err, "pod \"%s\": clearing what an apply that died left", name);
    return 0;
}

static int check_namespace(pods_manager *m, const char *ns, pr_error **err)
{
    if (streq(ns, "default"))
        return 0;
    _cleanup_json_ yajl_val rec = NULL;
    int r = pods_object_load(m, "namespaces", NULL, ns, &rec, err);
    if (r == -ENOENT)
        return pr_err_code(err, ENOENT, "namespaces \"%s\" not found", ns);
    return r;
}

int pods_apply(pods_manager *m, const struct kube_object *o, enum pods_apply_result *res,
               pr_error **err)
{
    const char *resource = kind_resource(o->kind);
    const char *ns = o->kind == KUBE_NAMESPACE ? NULL
                     : o->meta.namespace_      ? o->meta.namespace_
                                               : "default";
    int r = pods_check_object(o, err);
    if (r < 0 || (ns && (r = check_namespace(m, ns, err)) < 0))
        return r;
    _cleanup_json_ yajl_val rec = NULL;
    r = pods_object_load(m, resource, ns, o->meta.name, &rec, err);
    if (r == 0 && o->kind == KUBE_POD &&
        (json_get(rec, PODS_CREATING) || json_get(rec, PODS_DELETING))) {
        if ((r = clear_dead_create(m, ns, o->meta.name, rec, err)) < 0)
            return r;
        r = -ENOENT;
    }
    if (r == -ENOENT) {
        *res = PODS_CREATED;
        if (o->kind == KUBE_POD)
            return create_pod(m, o, ns, err);
        _cleanup_free_ char *uid = NULL;
        if ((r = new_uid(&uid, err)) < 0)
            return r;
        return pods_object_save(m, resource, ns, o->meta.name, o->tree, uid, (long long)time(NULL),
                                err);
    }
    if (r < 0)
        return r;
    yajl_val old = json_get(rec, "object");
    if (pods_json_equal(old, o->tree)) {
        *res = PODS_UNCHANGED;
        return 0;
    }
    if (o->kind == KUBE_POD && !pods_json_equal(json_get(old, "spec"), json_get(o->tree, "spec")))
        return pr_err_code(err, EPERM,
                           "The Pod \"%s\" is invalid: spec: Forbidden: pod updates may not change "
                           "fields other than `spec.containers[*].image`, "
                           "`spec.initContainers[*].image`, `spec.activeDeadlineSeconds`, "
                           "`spec.tolerations` (only additions to existing tolerations) or "
                           "`spec.terminationGracePeriodSeconds` (and podrun changes none of these "
                           "in place yet: delete the pod and apply it again)",
                           o->meta.name);
    *res = PODS_CONFIGURED;
    const char *uid = YAJL_GET_STRING(json_get(rec, "uid"));
    yajl_val created = json_get(rec, "created");
    return pods_object_save(m, resource, ns, o->meta.name, o->tree, uid ? uid : "",
                            YAJL_IS_INTEGER(created) ? YAJL_GET_INTEGER(created) : time(NULL), err);
}

static int delete_pod(pods_manager *m, const char *ns, const char *name, yajl_val rec,
                      pr_error **err)
{
    const char *uid = YAJL_GET_STRING(json_get(rec, "uid"));
    if (!uid || strlen(uid) != 36 || strchr(uid, '/') || uid[0] == '.')
        return pr_err(err, 0, "pod \"%s\": its record has no valid uid", name);
    /* Marked first: a delete killed half-way leaves a pod that get shows Terminating and that
     * the next apply or delete finishes taking down, not one that looks whole. */
    yajl_val created = json_get(rec, "created");
    int r = json_get(rec, PODS_DELETING)
                ? 0
                : pods_object_save_as(m, "pods", ns, name, json_get(rec, "object"), uid,
                                      YAJL_IS_INTEGER(created) ? YAJL_GET_INTEGER(created) : 0,
                                      PODS_DELETING, err);
    if (r < 0)
        return r;
    struct pods_pod_paths p;
    pods_pod_paths_init(m, uid, &p);
    r = teardown(m, &p, err);
    pods_pod_paths_clear(&p);
    if (r < 0)
        return r;
    return pods_object_remove(m, "pods", ns, name, err);
}

/* A namespace goes with everything in it. */
static int delete_namespace_contents(pods_manager *m, const char *ns, pr_error **err)
{
    static const char *const resources[] = {"pods", "configmaps", "secrets"};
    for (size_t i = 0; i < ARRAY_SIZE(resources); i++) {
        struct pods_list l = {0};
        int r = pods_list(m, resources[i], ns, NULL, &l, err);
        for (size_t j = 0; r == 0 && j < l.n; j++)
            r = pods_delete(m, resources[i], ns, l.v[j].name, err);
        pods_list_clear(&l);
        if (r < 0)
            return r;
    }
    return 0;
}

int pods_delete(pods_manager *m, const char *resource, const char *ns, const char *name,
                pr_error **err)
{
    if (streq(resource, "namespaces"))
        ns = NULL;
    if (!kube_valid_subdomain(name) || (ns && !kube_valid_label_name(ns)))
        return pr_err_code(err, ENOENT, "%s \"%s\" not found", resource, name);
    _cleanup_json_ yajl_val rec = NULL;
    int r = pods_object_load(m, resource, ns, name, &rec, err);
    if (r == -ENOENT)
        return pr_err_code(err, ENOENT, "%s \"%s\" not found", resource, name);
    if (r < 0)
        return r;
    if (streq(resource, "pods"))
        return delete_pod(m, ns, name, rec, err);
    if (streq(resource, "namespaces") && (r = delete_namespace_contents(m, name, err)) < 0)
        return r;
    return pods_object_remove(m, resource, ns, name, err);
}
