/* SPDX-License-Identifier: Apache-2.0 */
/* A pod's life on this node: made in an order whose every step the teardown can undo from
 * what is on disk (sandbox, network, container roots, the shim), and taken down in the
 * reverse order by the same teardown, which a failed apply and every delete share. */
#include "fs.h"
#include "manager.h"
#include "util.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>

static const char *kind_resource(enum kube_kind k)
{
    switch (k) {
    case KUBE_POD:
        return "pods";
    case KUBE_CONFIGMAP:
        return "configmaps";
    case KUBE_SECRET:
        return "secrets";
    case KUBE_SERVICE:
        return "services";
    case KUBE_DEPLOYMENT:
        return "deployments";
    case KUBE_REPLICASET:
        return "replicasets";
    case KUBE_INGRESS:
        return "ingresses";
    case KUBE_INGRESSCLASS:
        return "ingressclasses";
    case KUBE_ENDPOINTSLICE:
        return "endpointslices";
    case KUBE_STATEFULSET:
        return "statefulsets";
    case KUBE_DAEMONSET:
        return "daemonsets";
    case KUBE_PVC:
        return "persistentvolumeclaims";
    case KUBE_PV:
        return "persistentvolumes";
    case KUBE_JOB:
        return "jobs";
    case KUBE_CRONJOB:
        return "cronjobs";
    case KUBE_HPA:
        return "horizontalpodautoscalers";
    default:
        return "namespaces";
    }
}

static bool workload(const struct kube_object *o)
{
    return o->kind == KUBE_DEPLOYMENT || o->kind == KUBE_REPLICASET ||
           o->kind == KUBE_STATEFULSET || o->kind == KUBE_DAEMONSET || o->kind == KUBE_JOB ||
           o->kind == KUBE_CRONJOB || o->kind == KUBE_HPA;
}

int pods_new_uid(char **out, pr_error **err)
{
    _cleanup_free_ char *text = NULL;
    size_t len;
    int r = read_file("/proc/sys/kernel/random/uuid", &text, &len, err);
    if (r < 0)
        return r;
    text[strcspn(text, "\n")] = '\0';
    if (strlen(text) != 36)
        return pr_err(err, 0, "a uid from the kernel is not a UUID");
    *out = steal_pointer(&text);
    return 0;
}

/* What the node counts of a pod (admission, describe node, the QoS cgroups). */
struct pod_facts {
    enum kube_qos qos;
    struct kube_compute compute;
    long long created;
};

static int write_pod_record(const struct pods_pod_paths *p, const char *ns, const char *name,
                            const char *ip, const struct pod_facts *f, pr_error **err)
{
    _cleanup_gen_ yajl_gen g = json_gen_new(false);
    jg_map_open(g);
    jg_key_str(g, "namespace", ns);
    jg_key_str(g, "name", name);
    jg_key_str(g, "uid", p->uid);
    jg_key_str(g, "ip", ip);
    jg_key_str(g, "qosClass", kube_qos_name(f->qos));
    jg_key_int(g, "cpuRequest", f->compute.cpu_request);
    jg_key_int(g, "memoryRequest", f->compute.memory_request);
    jg_key_int(g, "cpuLimit", f->compute.has_cpu_limit ? f->compute.cpu_limit : 0);
    jg_key_int(g, "memoryLimit", f->compute.has_memory_limit ? f->compute.memory_limit : 0);
    jg_key_int(g, "created", f->created);
    jg_map_close(g);
    size_t len;
    const char *buf = jg_buf(g, &len);
    _cleanup_free_ char *path = xasprintf("%s/pod.json", p->run_dir);
    return write_file_atomic_volatile(path, buf, len, 0600, err);
}

/* The record of a pod that waits for its images (being pulled, or one that could not be had):
 * no sandbox, no shim, its containers waiting as the kubelet shows them (reason on the one
 * that failed, ContainerCreating or PodInitializing on the others), in the shape of the shim's
 * status.json. */
static int write_waiting_record(const struct pods_pod_paths *p, const char *ns,
                                const struct kube_object *o, size_t failed, const char *reason,
                                const char *message, pr_error **err)
{
    const struct kube_pod_spec *s = &o->u.pod;
    _cleanup_gen_ yajl_gen g = json_gen_new(false);
    jg_map_open(g);
    jg_key_str(g, "namespace", ns);
    jg_key_str(g, "name", o->meta.name);
    jg_key_str(g, "uid", p->uid);
    jg_key(g, "status");
    jg_map_open(g);
    jg_key_str(g, "phase", "Pending");
    for (int list = 0; list < 2; list++) {
        size_t base = list ? s->n_init_containers : 0;
        size_t n = list ? s->n_containers : s->n_init_containers;
        const struct kube_container *cs = list ? s->containers : s->init_containers;
        jg_key(g, list ? "containerStatuses" : "initContainerStatuses");
        jg_array_open(g);
        for (size_t i = 0; i < n; i++) {
            bool this = base + i == failed;
            jg_map_open(g);
            jg_key_str(g, "name", cs[i].name);
            jg_key_str(g, "state", "waiting");
            jg_key_str(g, "reason",
                       this                           ? reason
                       : list && s->n_init_containers ? "PodInitializing"
                                                      : "ContainerCreating");
            if (this)
                jg_key_str(g, "message", message);
            jg_key_uint(g, "restartCount", 0);
            jg_key_bool(g, "ready", false);
            jg_key_bool(g, "started", false);
            jg_map_close(g);
        }
        jg_array_close(g);
    }
    jg_map_close(g);
    jg_map_close(g);
    size_t len;
    const char *buf = jg_buf(g, &len);
    _cleanup_free_ char *path = xasprintf("%s/pod.json", p->run_dir);
    return write_file_atomic_volatile(path, buf, len, 0600, err);
}

/* A pod whose record says it waits for its image (no shim ever started). */
static bool waiting_for_image(pods_manager *m, const char *uid)
{
    struct pods_pod_paths p;
    pods_pod_paths_init(m, uid, &p);
    _cleanup_free_ char *path = xasprintf("%s/pod.json", p.run_dir);
    pods_pod_paths_clear(&p);
    _cleanup_json_ yajl_val rec = NULL;
    _cleanup_error_ pr_error *e = NULL;
    return json_parse_file(path, &rec, &e) == 0 && json_get(rec, "status") != NULL;
}

bool pods_pod_shim_running(pods_manager *m, const char *uid)
{
    struct pods_pod_paths p;
    pods_pod_paths_init(m, uid, &p);
    bool alive = pods_shim_alive(&p);
    pods_pod_paths_clear(&p);
    return alive;
}

bool pods_pod_waiting(pods_manager *m, const char *uid)
{
    return waiting_for_image(m, uid);
}

/* grace: seconds, or -1 for the pod's terminationGracePeriodSeconds. */
static int shim_remove(pods_manager *m, const struct pods_pod_paths *p, int64_t grace,
                       pr_error **err)
{
    if (!pods_shim_alive(p))
        return 0;
    _cleanup_free_ char *req =
        grace >= 0 ? xasprintf("{\"cmd\":\"remove\",\"timeoutSeconds\":%lld}", (long long)grace)
                   : xstrdup("{\"cmd\":\"remove\"}");
    char *argv[] = {m->shim, "--pod-dir", p->shim_dir, "--request", req, NULL};
    _cleanup_free_ char *out = NULL, *errout = NULL;
    int status;
    /* The shim waits each container's grace period; a pod may ask for a long one. */
    int r = pods_exec(argv, NULL, NULL, 0, 3600, &out, &errout, &status, err);
    if (r < 0)
        return r;
    if (pods_shim_alive(p))
        return pr_err(err, 0, "the shim of the pod did not go away after remove: %s%s", out,
                      errout);
    return 0;
}

/* Takes down whatever of the pod exists, last-made first. Every step runs even after one
 * failed (a CNI DEL that fails must not keep the namespaces pinned), but the pod's dirs, which
 * hold what the failed steps need to be retried (the CNI config, the bundles), stay until a
 * teardown succeeds. */
static int teardown(pods_manager *m, const struct pods_pod_paths *p, int64_t grace, pr_error **err)
{
    _cleanup_free_ char *netns = xasprintf("%s/net", p->ns_dir);
    int r = shim_remove(m, p, grace, err);
    if (r == 0) {
        /* With a shim still there, its containers and their roots stay: it would restart them. */
        int r2 = pods_containers_remove(m, p, err);
        int r5 = pods_pidns_kill(p, err);
        /* After the containers: their cgroups are inside the pod's. */
        int r8 = r2 < 0 ? 0 : pods_cgroup_remove(m, p->uid, err);
        int r6 = pods_hostports_del(m, p, err);
        int r3 = pods_cni_del(m, p->uid, netns, p->run_dir, err);
        int r4 = pods_sandbox_destroy(p->ns_dir, err);
        int r7 = pods_volumes_unmount(p, err);
        r = r2 < 0 ? r2 : r5 < 0 ? r5 : r8 < 0 ? r8 : r6 < 0 ? r6 : r3 < 0 ? r3 : r4 < 0 ? r4 : r7;
    }
    if (r < 0)
        return pr_err_prefix(err, "remove pod %s", p->uid);
    const char *dirs[] = {p->lib_dir, p->log_dir, p->run_dir};
    for (size_t i = 0; i < ARRAY_SIZE(dirs); i++)
        if (rm_rf(dirs[i]) < 0)
            return pr_err(err, errno, "remove pod %s: remove `%s`", p->uid, dirs[i]);
    return 0;
}

static int make_pod(pods_manager *m, const struct kube_object *o, const char *ns,
                    struct pods_pod_paths *p, const struct pod_facts *f, pr_error **err)
{
    const struct kube_pod_spec *s = &o->u.pod;
    _cleanup_free_ char *hostname = NULL;
    _cleanup_free_ char *netns = xasprintf("%s/net", p->ns_dir);
    _cleanup_free_ char *ip = NULL;
    int ns_flags =
        (s->host_network ? 0 : CLONE_NEWNET | CLONE_NEWUTS) | (s->host_ipc ? 0 : CLONE_NEWIPC);
    int r;
    if ((r = pods_pod_hostname(m, o, ns, &hostname, err)) < 0)
        return r;
    _cleanup_free_ char *cgroup = pods_cgroup_pod_path(m, f->qos, p->uid);
    /* The record first: the QoS classes' shares count the pods that have one. */
    if ((r = write_pod_record(p, ns, o->meta.name, NULL, f, err)) < 0 ||
        (r = pods_cgroup_create(m, p->uid, f->qos, &f->compute, err)) < 0)
        return r;
    p->cgroup = cgroup;
    /* A hostNetwork pod's IP is the node's, as the kubelet reports it. */
    if ((r = pods_sandbox_create(p->ns_dir, ns_flags, hostname, err)) == 0 && s->host_network &&
        !(ip = pods_node_ip()))
        r = pr_err(err, 0, "spec.hostNetwork: the node has no IPv4 address to report");
    if (r < 0 ||
        (!s->host_network && (r = pods_cni_add(m, p->uid, netns, p->run_dir, &ip, err)) < 0) ||
        (r = pods_hostports_add(m, o, p, ip, err)) < 0 ||
        (r = write_pod_record(p, ns, o->meta.name, ip, f, err)) < 0 ||
        (r = pods_etc_make(m, o, p, ns, hostname, ip, err)) < 0 ||
        (r = mkdir_p(p->shim_dir, 0700, err)) < 0 || (r = mkdir_p(p->log_dir, 0700, err)) < 0 ||
        (r = pods_containers_make(m, o, p, hostname, ip, err)) < 0 ||
        (r = pods_shim_spec_write(m, o, p, err)) < 0 || (r = pods_shim_start(m, p, err)) < 0) {
        p->cgroup = NULL;
        return r;
    }
    p->cgroup = NULL;
    return 0;
}

/* The node's name, for the Scheduled event. */
static char *node_name(pods_manager *m)
{
    const struct pods_node_config *c = NULL;
    _cleanup_error_ pr_error *e = NULL;
    if (pods_node_config_get(m, &c, &e) == 0 && c->name)
        return xstrdup(c->name);
    char host[256] = "";
    gethostname(host, sizeof(host) - 1);
    return xstrdup(host);
}

/* Undoes a pod that failed: its teardown, then its stored object, so that nothing is left;
 * when the teardown fails the object stays for a delete to find and finish. */
static void undo_pod(pods_manager *m, const struct kube_object *o, const char *ns,
                     const struct pods_pod_paths *p, pr_error **err)
{
    _cleanup_error_ pr_error *e = NULL;
    if (teardown(m, p, -1, &e) == 0) {
        pods_object_remove(m, "pods", ns, o->meta.name, &e);
        pods_dns_release(m);
        return;
    }
    if (err && *err) {
        char *msg = xasprintf("%s; undoing it failed too: %s; `podrun delete pod %s` finishes it",
                              (*err)->msg, e ? e->msg : "", o->meta.name);
        free((*err)->msg);
        (*err)->msg = msg;
    }
}

/* Runs the pod o: a new one (uid NULL), or one that waits for its image (its uid). The pod is
 * stored first, waiting (ContainerCreating), with its directory (where its events go): a
 * podrun killed from there on leaves a pod that delete finds and removes, or, killed while
 * pulling, that the next apply takes up. A pull that fails leaves the pod stored and waiting
 * (ErrImagePull, as the kubelet shows it) with nothing else made, and the next apply retries
 * it; any other failure takes the pod down and leaves nothing. */
static int create_pod(pods_manager *m, const struct kube_object *o, const char *ns,
                      const char *waiting_uid, pr_error **err)
{
    _cleanup_free_ char *uid = waiting_uid ? xstrdup(waiting_uid) : NULL;
    struct pod_facts f = {.qos = kube_pod_qos(&o->u.pod), .created = (long long)time(NULL)};
    int r;
    if ((r = pods_containers_check(m, o, err)) < 0 || (r = pods_etc_check(m, o, ns, err)) < 0 ||
        (r = pods_hostports_check(m, o, err)) < 0 || (r = pods_admit(m, o, &f.compute, err)) < 0 ||
        (!uid && (r = pods_new_uid(&uid, err)) < 0))
        return pr_err_prefix(err, "pod \"%s\"", o->meta.name);
    struct pods_pod_paths p;
    pods_pod_paths_init(m, uid, &p);
    long long created = (long long)time(NULL);
    /* The record first, marked: an apply killed from here on leaves the uid that names what it
     * made, and the next apply or delete finishes taking it down (clear_dead_create). */
    if ((r = pods_object_save_as(m, "pods", ns, o->meta.name, o->tree, uid, created, PODS_CREATING,
                                 err)) < 0) {
        pods_pod_paths_clear(&p);
        return pr_err_prefix(err, "pod \"%s\"", o->meta.name);
    }
    _cleanup_free_ char *pods_dir = xasprintf("%s/pods", m->run_root);
    /* A new pod, or one brought back after a reboot (its uid kept, its run dir gone). */
    if (!waiting_uid || access(p.run_dir, F_OK) != 0) {
        if ((r = mkdir_p(pods_dir, 0700, err)) < 0 ||
            (mkdir(p.run_dir, 0700) < 0 && (r = pr_err(err, errno, "create `%s`", p.run_dir)) < 0))
            goto fail;
        _cleanup_free_ char *node = node_name(m);
        pods_record(&p, "Normal", "Scheduled", "default-scheduler", NULL,
                    "Successfully assigned %s/%s to %s", ns, o->meta.name, node);
        if ((r = write_waiting_record(&p, ns, o, SIZE_MAX, NULL, NULL, err)) < 0)
            goto fail;
    }
    const char *waiting = NULL;
    size_t failed = 0;
    if ((r = pods_pull_images(m, o, &p, &waiting, &failed, err)) < 0 && waiting) {
        /* The pod stays, waiting: its record says why, and the error tells the user. */
        _cleanup_error_ pr_error *e = NULL;
        /* Stored without the mark: a pod that waits is no apply that died. */
        if (write_waiting_record(&p, ns, o, failed, waiting, (*err)->msg, &e) == 0 &&
            pods_object_save(m, "pods", ns, o->meta.name, o->tree, uid, created, &e) == 0) {
            pods_pod_paths_clear(&p);
            return pr_err_prefix(err,
                                 "pod \"%s\" is kept waiting with %s (`podrun apply` again "
                                 "retries, `podrun delete pod %s` removes it)",
                                 o->meta.name, waiting, o->meta.name);
        }
    }
    if (r == 0)
        r = make_pod(m, o, ns, &p, &f, err);
    if (r == 0)
        r = pods_object_save(m, "pods", ns, o->meta.name, o->tree, uid, created, err);
fail:
    if (r < 0) {
        pr_err_prefix(err, "pod \"%s\"", o->meta.name);
        undo_pod(m, o, ns, &p, err);
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
    int r = teardown(m, &p, -1, err);
    pods_pod_paths_clear(&p);
    if (r == 0)
        r = pods_object_remove(m, "pods", ns, name, err);
    if (r < 0)
        return pr_err_prefix(err, "pod \"%s\": clearing what an apply that died left", name);
    return 0;
}

int pods_pod_recreate(pods_manager *m, const char *ns, const char *name, pr_error **err)
{
    _cleanup_json_ yajl_val rec = NULL;
    int r = pods_object_load(m, "pods", ns, name, &rec, err);
    if (r < 0)
        return r;
    /* An apply or a delete that the reboot cut short: what it left goes, as the next command
     * would have done. */
    if (json_get(rec, PODS_CREATING) || json_get(rec, PODS_DELETING))
        return clear_dead_create(m, ns, name, rec, err);
    const char *uid = YAJL_GET_STRING(json_get(rec, "uid"));
    if (!uid || strlen(uid) != 36 || strchr(uid, '/') || uid[0] == '.')
        return pr_err(err, 0, "pod \"%s\": its record has no valid uid", name);
    /* The object as it was applied, through the same checks (decode takes its own tree). */
    _cleanup_gen_ yajl_gen g = json_gen_new(false);
    jg_value(g, json_get(rec, "object"));
    size_t len;
    const char *buf = jg_buf(g, &len);
    _cleanup_free_ char *text = xstrndup(buf, len);
    yajl_val tree = NULL;
    struct kube_object *o = NULL;
    if ((r = json_parse(text, "a stored pod", &tree, err)) == 0)
        r = kube_object_decode(tree, name, &o, err);
    /* What is left of the pod's last life (its IP, its cgroup, its dirs) goes first; the pod
     * is then made anew under the same name and uid, with a new sandbox. */
    struct pods_pod_paths p;
    pods_pod_paths_init(m, uid, &p);
    if (r == 0)
        pods_cgroup_remove_orphans(m, uid);
    _cleanup_free_ char *saved = xasprintf("%s/cni.json", p.run_dir);
    if (r == 0 && !o->u.pod.host_network && access(saved, F_OK) != 0)
        r = pods_cni_release(m, uid, err);
    if (r == 0)
        r = teardown(m, &p, 0, err);
    pods_pod_paths_clear(&p);
    if (r == 0)
        r = create_pod(m, o, ns, uid, err);
    kube_object_free(o);
    return r;
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

static int apply_object(pods_manager *m, const struct kube_object *o, enum pods_apply_result *res,
                        pr_error **err);
static int apply_defaulted(pods_manager *m, const struct kube_object *o,
                           enum pods_apply_result *res, pr_error **err);

/* Pods and services decide the services' data path: it follows every apply of either (an
 * unchanged one too, so that a re-apply refreshes readiness). */
int pods_apply(pods_manager *m, const struct kube_object *given, enum pods_apply_result *res,
               pr_error **err)
{
    /* Stored with the API server's defaults (StatefulSets, DaemonSets, claims). */
    struct kube_object *defaulted = NULL;
    int r = pods_object_defaulted(given, &defaulted, err);
    if (r < 0)
        return r;
    r = apply_defaulted(m, defaulted ? defaulted : given, res, err);
    kube_object_free(defaulted);
    return r;
}

static int apply_defaulted(pods_manager *m, const struct kube_object *o,
                           enum pods_apply_result *res, pr_error **err)
{
    int r = (o->kind == KUBE_PVC || o->kind == KUBE_PV) ? pods_claim_apply_check(m, o, err)
            : (o->kind == KUBE_STATEFULSET || o->kind == KUBE_DAEMONSET)
                ? pods_set_apply_check(m, o, err)
                : 0;
    if (r == 0)
        r = apply_object(m, o, res, err);
    /* A claim is bound to a volume of its own as soon as it is stored. */
    if (r == 0 && o->kind == KUBE_PVC)
        r = pods_claim_provision(m, o->meta.namespace_, o->meta.name, err);
    if (r == 0 &&
        (o->kind == KUBE_POD || o->kind == KUBE_SERVICE || o->kind == KUBE_ENDPOINTSLICE) &&
        !m->defer_services_sync)
        r = pods_services_sync(m, err);
    /* The Ingress controller follows its objects at once (services: with their sync). */
    if (r == 0 && (o->kind == KUBE_INGRESS || o->kind == KUBE_INGRESSCLASS ||
                   (o->kind == KUBE_SECRET && *res != PODS_UNCHANGED)))
        r = pods_ingress_sync(m, err);
    return r;
}

static int apply_object(pods_manager *m, const struct kube_object *o, enum pods_apply_result *res,
                        pr_error **err)
{
    const char *resource = kind_resource(o->kind);
    /* NULL for a cluster-scoped kind (a Namespace), else the manifest's or "default". */
    const char *ns = o->meta.namespace_;
    int r = pods_check_object(o, err);
    if (r < 0 || (ns && (r = check_namespace(m, ns, err)) < 0))
        return r;
    if (o->kind == KUBE_SERVICE)
        return pods_service_apply(m, o, res, err);
    if (o->kind == KUBE_INGRESS)
        return pods_ingress_apply(m, o, res, err);
    if ((r = pods_tls_secret_check(o, err)) < 0)
        return r;
    _cleanup_json_ yajl_val rec = NULL;
    r = pods_object_load(m, resource, ns, o->meta.name, &rec, err);
    if (r == 0 && o->kind == KUBE_POD &&
        (json_get(rec, PODS_CREATING) || json_get(rec, PODS_DELETING))) {
        const char *u = YAJL_GET_STRING(json_get(rec, "uid"));
        if (json_get(rec, PODS_CREATING) && u && strlen(u) == 36 && !strchr(u, '/') &&
            pods_json_equal(json_get(json_get(rec, "object"), "spec"), json_get(o->tree, "spec")) &&
            waiting_for_image(m, u)) {
            /* An apply killed while it pulled: nothing but the pod's record and events was
             * made, and this apply takes the pod up where it stopped. */
            *res = PODS_CREATED;
            return create_pod(m, o, ns, u, err);
        }
        if ((r = clear_dead_create(m, ns, o->meta.name, rec, err)) < 0)
            return r;
        r = -ENOENT;
    }
    if (r == -ENOENT) {
        *res = PODS_CREATED;
        if (o->kind == KUBE_POD)
            return create_pod(m, o, ns, NULL, err);
        _cleanup_free_ char *uid = NULL;
        if ((r = pods_new_uid(&uid, err)) < 0)
            return r;
        return pods_object_save_gen(m, resource, ns, o->meta.name, o->tree, uid,
                                    (long long)time(NULL), workload(o) ? 1 : 0, err);
    }
    if (r < 0)
        return r;
    yajl_val old = json_get(rec, "object");
    const char *rec_uid = YAJL_GET_STRING(json_get(rec, "uid"));
    if (o->kind == KUBE_POD && rec_uid && strlen(rec_uid) == 36 && !strchr(rec_uid, '/') &&
        pods_json_equal(json_get(old, "spec"), json_get(o->tree, "spec")) &&
        waiting_for_image(m, rec_uid)) {
        /* Nothing runs yet: this apply is the retry the kubelet's back-off would make. */
        *res = PODS_CREATED;
        return create_pod(m, o, ns, rec_uid, err);
    }
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
    yajl_val created = json_get(rec, "created"), gen = json_get(rec, "generation");
    long long generation = gen && YAJL_IS_INTEGER(gen) ? YAJL_GET_INTEGER(gen) : 1;
    if (!pods_json_equal(json_get(old, "spec"), json_get(o->tree, "spec")))
        generation++;
    return pods_object_save_gen(m, resource, ns, o->meta.name, o->tree, uid ? uid : "",
                                YAJL_IS_INTEGER(created) ? YAJL_GET_INTEGER(created) : time(NULL),
                                workload(o) ? generation : 0, err);
}

/* The marks a delete makes before it takes anything down; *uid_out: the pod's uid (borrowed
 * from rec). */
static int mark_deleting(pods_manager *m, const char *ns, const char *name, yajl_val rec,
                         const char **uid_out, pr_error **err)
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
    /* Marked first, so a listing (get -w) shows the pod Terminating while its containers stop,
     * as the API server's deletionTimestamp does; the mark goes with the run dir. */
    struct pods_pod_paths p;
    pods_pod_paths_init(m, uid, &p);
    _cleanup_free_ char *mark = xasprintf("%s/terminating", p.run_dir);
    _cleanup_close_ int fd = open(mark, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    pods_pod_paths_clear(&p);
    *uid_out = uid;
    return 0;
}

int pods_pod_delete_begin(pods_manager *m, const char *ns, const char *name, char **uid,
                          pr_error **err)
{
    _cleanup_json_ yajl_val rec = NULL;
    const char *u = NULL;
    int r = pods_object_load(m, "pods", ns, name, &rec, err);
    if (r == 0)
        r = mark_deleting(m, ns, name, rec, &u, err);
    if (r == 0)
        *uid = xstrdup(u);
    return r;
}

int pods_pod_shim_stop(pods_manager *m, const char *uid, int64_t grace, pr_error **err)
{
    struct pods_pod_paths p;
    pods_pod_paths_init(m, uid, &p);
    int r = shim_remove(m, &p, grace, err);
    pods_pod_paths_clear(&p);
    return r;
}

static int delete_pod(pods_manager *m, const char *ns, const char *name, yajl_val rec,
                      int64_t grace, pr_error **err)
{
    const char *uid = NULL;
    int r = mark_deleting(m, ns, name, rec, &uid, err);
    if (r < 0)
        return r;
    pods_endpoints_leave(m);
    struct pods_pod_paths p;
    pods_pod_paths_init(m, uid, &p);
    r = teardown(m, &p, grace, err);
    pods_pod_paths_clear(&p);
    if (r < 0)
        return r;
    return pods_object_remove(m, "pods", ns, name, err);
}

/* A namespace goes with everything in it. */
static int delete_namespace_contents(pods_manager *m, const char *ns, pr_error **err)
{
    static const char *const resources[] = {"ingresses",
                                            "horizontalpodautoscalers",
                                            "deployments",
                                            "replicasets",
                                            "statefulsets",
                                            "daemonsets",
                                            "cronjobs",
                                            "jobs",
                                            "services",
                                            "pods",
                                            "persistentvolumeclaims",
                                            "configmaps",
                                            "secrets",
                                            "endpointslices"};
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
    return pods_delete_grace(m, resource, ns, name, -1, err);
}

static int delete_object(pods_manager *m, const char *resource, const char *ns, const char *name,
                         int64_t grace, pr_error **err);

int pods_delete_grace(pods_manager *m, const char *resource, const char *ns, const char *name,
                      int64_t grace, pr_error **err)
{
    int r = delete_object(m, resource, ns, name, grace, err);
    if (streq(resource, "services") || streq(resource, "namespaces"))
        pods_services_forget(m);
    if (r == 0 && !m->defer_services_sync &&
        (streq(resource, "pods") || streq(resource, "services") || streq(resource, "namespaces") ||
         streq(resource, "endpointslices")))
        r = pods_services_sync(m, err);
    if (r == 0 && (streq(resource, "ingresses") || streq(resource, "ingressclasses") ||
                   streq(resource, "secrets")))
        r = pods_ingress_sync(m, err);
    return r;
}

static int delete_object(pods_manager *m, const char *resource, const char *ns, const char *name,
                         int64_t grace, pr_error **err)
{
    if (streq(resource, "namespaces") || streq(resource, "ingressclasses") ||
        streq(resource, "persistentvolumes"))
        ns = NULL;
    if (streq(resource, "nodes"))
        return pr_err_code(err, EPERM, "nodes \"%s\": podrun does not delete the node it runs on",
                           name);
    /* A stored EndpointSlice (a selectorless service's, written by hand) can be deleted. */
    _cleanup_json_ yajl_val slice = NULL;
    _cleanup_error_ pr_error *no_slice = NULL;
    if (streq(resource, "endpoints") ||
        (streq(resource, "endpointslices") &&
         (!ns || !kube_valid_subdomain(name) ||
          pods_object_load(m, resource, ns, name, &slice, &no_slice) < 0)))
        return pr_err_code(err, EPERM,
                           "%s \"%s\": podrun computes a service's endpoints from its pods; "
                           "delete the service",
                           resource, name);
    if (!kube_valid_subdomain(name) || (ns && !kube_valid_label_name(ns)))
        return pr_err_code(err, ENOENT, "%s \"%s\" not found", resource, name);
    _cleanup_json_ yajl_val rec = NULL;
    int r = pods_object_load(m, resource, ns, name, &rec, err);
    if (r == -ENOENT)
        return pr_err_code(err, ENOENT, "%s \"%s\" not found", resource, name);
    if (r < 0)
        return r;
    if (streq(resource, "pods")) {
        r = delete_pod(m, ns, name, rec, grace, err);
        /* A claim that waited for this pod to go (pvc-protection) goes now. */
        return r < 0 ? r : pods_claims_collect(m, NULL, err);
    }
    if (streq(resource, "persistentvolumeclaims"))
        return pods_claim_delete(m, ns, name, err);
    if (streq(resource, "persistentvolumes"))
        return pods_volume_delete_check(m, name, err);
    if (streq(resource, "namespaces") && (r = delete_namespace_contents(m, name, err)) < 0)
        return r;
    if (streq(resource, "statefulsets") && (r = pods_set_deleting(m, ns, name, rec, err)) < 0)
        return r;
    if ((r = pods_object_remove(m, resource, ns, name, err)) < 0)
        return r;
    /* The garbage collector's cascade: ReplicaSets, then their pods. */
    if (streq(resource, "deployments") || streq(resource, "replicasets"))
        return pods_workloads_collect(m, err);
    if (streq(resource, "statefulsets") || streq(resource, "daemonsets"))
        return pods_sets_collect(m, err);
    if (streq(resource, "jobs"))
        return pods_jobs_collect(m, err);
    if (streq(resource, "cronjobs"))
        return pods_cronjob_forget(m, ns, name, err);
    if (streq(resource, "horizontalpodautoscalers"))
        return pods_hpa_forget(m, ns, name, err);
    return 0;
}
