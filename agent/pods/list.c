/* SPDX-License-Identifier: Apache-2.0 */
/* Stored objects as `get` lists them; a pod's status comes from its shim's status.json and its
 * address from the pod's record. */
#include "fs.h"
#include "manager.h"
#include "util.h"

#include <dirent.h>

#define YAJL_GET_INTEGER_OR0(v) ((v) && YAJL_IS_INTEGER(v) ? YAJL_GET_INTEGER(v) : 0)

static void entry_clear(struct pods_entry *e)
{
    free(e->ns);
    free(e->name);
    free(e->uid);
    free(e->phase);
    free(e->ip);
    free(e->qos_class);
    free(e->node);
    if (e->object)
        yajl_tree_free(e->object);
    if (e->status)
        yajl_tree_free(e->status);
}

void pods_list_clear(struct pods_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        entry_clear(&l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

void pods_list_keep(struct pods_list *l, bool (*keep)(const struct pods_entry *, void *),
                    void *data)
{
    size_t n = 0;
    for (size_t i = 0; i < l->n; i++) {
        if (keep(&l->v[i], data))
            l->v[n++] = l->v[i];
        else
            entry_clear(&l->v[i]);
    }
    l->n = n;
}

static yajl_val load_quiet(const char *path)
{
    yajl_val v = NULL;
    _cleanup_error_ pr_error *e = NULL;
    if (json_parse_file(path, &v, &e) < 0)
        return NULL;
    return v;
}

/* kubectl's STATUS column: the phase, unless a container says more (CrashLoopBackOff ...). */
static void pod_status(pods_manager *m, struct pods_entry *e)
{
    struct pods_pod_paths p;
    pods_pod_paths_init(m, e->uid, &p);
    _cleanup_free_ char *st = xasprintf("%s/status.json", p.shim_dir);
    _cleanup_free_ char *rec = xasprintf("%s/pod.json", p.run_dir);
    _cleanup_json_ yajl_val r = load_quiet(rec);
    const char *ip = YAJL_GET_STRING(json_get(r, "ip"));
    e->ip = ip ? xstrdup(ip) : NULL;
    const char *qos = YAJL_GET_STRING(json_get(r, "qosClass"));
    e->qos_class = qos ? xstrdup(qos) : NULL;
    const struct pods_node_config *node;
    _cleanup_error_ pr_error *err = NULL;
    if (pods_node_config_get(m, &node, &err) == 0)
        e->node = xstrdup(node->name);
    e->status = load_quiet(st);
    yajl_val waiting = json_get(r, "status");
    if (!e->status && waiting) {
        /* No shim: the pod waits for its image, and its record says how (pod.c). */
        for (size_t i = 0; i < r->u.object.len; i++)
            if (r->u.object.values[i] == waiting)
                r->u.object.values[i] = NULL;
        e->status = waiting;
    }
    const char *phase = YAJL_GET_STRING(json_get(e->status, "phase"));
    const char *reason = phase ? phase : "Unknown";
    yajl_val cs = json_get(e->status, "containerStatuses");
    e->total = (unsigned)json_array_len(json_get(json_get(e->object, "spec"), "containers"));
    for (size_t i = 0; i < json_array_len(cs); i++) {
        yajl_val c = json_array_at(cs, i);
        yajl_val ready = json_get(c, "ready"), rc = json_get(c, "restartCount");
        if (ready && YAJL_IS_TRUE(ready))
            e->ready++;
        if (rc && YAJL_IS_INTEGER(rc))
            e->restarts += (unsigned)YAJL_GET_INTEGER(rc);
        const char *state = YAJL_GET_STRING(json_get(c, "state"));
        const char *why = YAJL_GET_STRING(json_get(c, "reason"));
        if (state && why && *why &&
            (streq(state, "waiting") ||
             (streq(state, "terminated") && phase && !streq(phase, "Running"))))
            reason = why;
    }
    if (phase && streq(phase, "Succeeded") && streq(reason, phase))
        reason = "Completed";
    /* Being deleted (delete_pod's mark): kubectl's STATUS for a deletionTimestamp. */
    _cleanup_free_ char *mark = xasprintf("%s/terminating", p.run_dir);
    bool terminating = access(mark, F_OK) == 0;
    pods_pod_paths_clear(&p);
    /* The pod's own reason (DeadlineExceeded, Evicted) wins, as in kubectl. */
    const char *pod_reason = YAJL_GET_STRING(json_get(e->status, "reason"));
    if (pod_reason && *pod_reason)
        reason = pod_reason;
    if (terminating)
        reason = "Terminating";
    e->phase = xstrdup(reason);
    /* An init container whose image cannot be had: kubectl's Init:ErrImagePull. */
    yajl_val ics = json_get(e->status, "initContainerStatuses");
    for (size_t i = 0; i < json_array_len(ics); i++) {
        const char *why = YAJL_GET_STRING(json_get(json_array_at(ics, i), "reason"));
        if (why && has_prefix(why, "ErrImage")) {
            free(e->phase);
            e->phase = terminating ? xstrdup(reason) : xasprintf("Init:%s", why);
        }
    }
}

static int add_entry(pods_manager *m, const char *resource, const char *ns, const char *name,
                     struct pods_list *out, pr_error **err)
{
    _cleanup_json_ yajl_val rec = NULL;
    int r = pods_object_load(m, resource, ns, name, &rec, err);
    if (r < 0)
        return r;
    const char *uid = YAJL_GET_STRING(json_get(rec, "uid"));
    yajl_val created = json_get(rec, "created");
    yajl_val obj = json_get(rec, "object");
    if (!uid || !obj)
        return pr_err(err, 0, "the record of %s \"%s\" is damaged", resource, name);
    out->v = xrealloc(out->v, (out->n + 1) * sizeof(*out->v));
    struct pods_entry *e = &out->v[out->n++];
    *e = (struct pods_entry){
        .ns = ns ? xstrdup(ns) : NULL,
        .name = xstrdup(name),
        .uid = xstrdup(uid),
        .created = YAJL_IS_INTEGER(created) ? YAJL_GET_INTEGER(created) : 0,
        .generation = YAJL_GET_INTEGER_OR0(json_get(rec, "generation")),
        .creating = json_get(rec, PODS_CREATING) != NULL,
    };
    /* Keep the object, detached from the record that is freed here. */
    for (size_t i = 0; i < rec->u.object.len; i++)
        if (rec->u.object.values[i] == obj)
            rec->u.object.values[i] = NULL;
    e->object = obj;
    if (streq(resource, "pods"))
        pod_status(m, e);
    /* kubectl shows a pod whose deletion has begun as Terminating. */
    if (streq(resource, "pods") && json_get(rec, PODS_DELETING)) {
        free(e->phase);
        e->phase = xstrdup("Terminating");
    }
    return 0;
}

/* Objects in name order, as the API server lists them: "a" before "a-b", which a sort of the
 * file names ("a-b.json" < "a.json") would not give. */
static int by_object_name(const struct dirent **a, const struct dirent **b)
{
    const char *x = (*a)->d_name, *y = (*b)->d_name;
    size_t lx = strlen(x), ly = strlen(y);
    if (lx > 5 && streq(x + lx - 5, ".json"))
        lx -= 5;
    if (ly > 5 && streq(y + ly - 5, ".json"))
        ly -= 5;
    int c = memcmp(x, y, lx < ly ? lx : ly);
    return c ? c : (lx > ly) - (lx < ly);
}

static int list_dir(pods_manager *m, const char *resource, const char *ns, const char *dir,
                    struct pods_list *out, pr_error **err)
{
    struct dirent **names = NULL;
    int n = scandir(dir, &names, NULL, by_object_name), r = 0;
    if (n < 0)
        return errno == ENOENT ? 0 : pr_err(err, errno, "read `%s`", dir);
    for (int i = 0; i < n; i++) {
        const char *f = names[i]->d_name;
        size_t l = strlen(f);
        if (r == 0 && f[0] != '.' && l > 5 && streq(f + l - 5, ".json")) {
            _cleanup_free_ char *name = xstrndup(f, l - 5);
            r = add_entry(m, resource, ns, name, out, err);
            if (r == -ENOENT) /* deleted meanwhile */
                r = 0;
        }
        free(names[i]);
    }
    free(names);
    return r;
}

int pods_list(pods_manager *m, const char *resource, const char *ns, const char *name,
              struct pods_list *out, pr_error **err)
{
    bool cluster = streq(resource, "namespaces") || streq(resource, "ingressclasses") ||
                   streq(resource, "persistentvolumes");
    if (cluster)
        ns = NULL;
    int r;
    if (name) {
        if (!kube_valid_subdomain(name) || (ns && !kube_valid_label_name(ns)))
            return pr_err_code(err, ENOENT, "%s \"%s\" not found", resource, name);
        r = add_entry(m, resource, ns, name, out, err);
        return r == -ENOENT ? pr_err_code(err, ENOENT, "%s \"%s\" not found", resource, name) : r;
    }
    if (cluster || ns) {
        _cleanup_free_ char *dir = cluster
                                       ? xasprintf("%s/objects/%s", m->lib_root, resource)
                                       : xasprintf("%s/objects/%s/%s", m->lib_root, resource, ns);
        return list_dir(m, resource, ns, dir, out, err);
    }
    _cleanup_free_ char *top = xasprintf("%s/objects/%s", m->lib_root, resource);
    struct dirent **names = NULL;
    int n = scandir(top, &names, NULL, alphasort);
    if (n < 0)
        return errno == ENOENT ? 0 : pr_err(err, errno, "read `%s`", top);
    r = 0;
    for (int i = 0; i < n; i++) {
        if (r == 0 && names[i]->d_name[0] != '.') {
            _cleanup_free_ char *dir = xasprintf("%s/%s", top, names[i]->d_name);
            r = list_dir(m, resource, names[i]->d_name, dir, out, err);
        }
        free(names[i]);
    }
    free(names);
    return r;
}

/* The names of a pod's containers as kubectl lists them: the containers, then the init
 * containers marked " (init)". */
static char *container_names(yajl_val spec)
{
    char *out = xstrdup("");
    const char *keys[] = {"containers", "initContainers"};
    for (size_t k = 0; k < ARRAY_SIZE(keys); k++) {
        yajl_val v = json_get(spec, keys[k]);
        for (size_t i = 0; i < json_array_len(v); i++) {
            const char *n = YAJL_GET_STRING(json_get(json_array_at(v, i), "name"));
            char *more =
                xasprintf("%s%s%s%s", out, *out ? ", " : "", n ? n : "", k ? " (init)" : "");
            free(out);
            out = more;
        }
    }
    return out;
}

static bool has_container(yajl_val spec, const char *name)
{
    const char *keys[] = {"containers", "initContainers"};
    for (size_t k = 0; k < ARRAY_SIZE(keys); k++) {
        yajl_val v = json_get(spec, keys[k]);
        for (size_t i = 0; i < json_array_len(v); i++) {
            const char *n = YAJL_GET_STRING(json_get(json_array_at(v, i), "name"));
            if (n && streq(n, name))
                return true;
        }
    }
    return false;
}

int pods_find_container(pods_manager *m, const char *ns, const char *pod, const char *container,
                        char **uid, char **name, char **note, pr_error **err)
{
    struct pods_list l = {0};
    int r = pods_list(m, "pods", ns, pod, &l, err);
    if (r < 0) {
        pods_list_clear(&l);
        return r;
    }
    yajl_val spec = json_get(l.v[0].object, "spec");
    yajl_val ctrs = json_get(spec, "containers");
    const char *found = NULL;
    if (container) {
        found = has_container(spec, container) ? container : NULL;
    } else {
        /* kubectl's choice: the kubectl.kubernetes.io/default-container annotation when it
         * names one of the pod's containers, else the first, said when there was a choice. */
        const char *def =
            YAJL_GET_STRING(json_get(json_get(json_get(l.v[0].object, "metadata"), "annotations"),
                                     "kubectl.kubernetes.io/default-container"));
        found = def && has_container(spec, def)
                    ? def
                    : YAJL_GET_STRING(json_get(json_array_at(ctrs, 0), "name"));
        bool choice = json_array_len(ctrs) > 1 || json_array_len(json_get(spec, "initContainers"));
        if (found && note && found != def && choice) {
            _cleanup_free_ char *all = container_names(spec);
            *note = xasprintf("Defaulted container \"%s\" out of: %s", found, all);
        }
    }
    if (!found)
        r = pr_err_code(err, ENOENT, "container %s is not valid for pod %s",
                        container ? container : "", pod);
    else {
        *uid = xstrdup(l.v[0].uid);
        *name = xstrdup(found);
    }
    pods_list_clear(&l);
    return r;
}

int pods_log_path(pods_manager *m, const char *ns, const char *pod, const char *container,
                  char **path, char **note, pr_error **err)
{
    _cleanup_free_ char *uid = NULL, *name = NULL;
    int r = pods_find_container(m, ns, pod, container, &uid, &name, note, err);
    if (r == 0)
        *path = xasprintf("%s/%s/%s.log", m->log_root, uid, name);
    return r;
}

char **pods_exec_argv(pods_manager *m, const char *uid, const char *name, bool tty,
                      char *const *command)
{
    _cleanup_free_ char *id = pods_container_id(uid, name);
    return pods_exec_argv_id(m, id, tty, command);
}

char **pods_exec_argv_id(pods_manager *m, const char *id, bool tty, char *const *command)
{
    char **argv = NULL;
    strv_extend(&argv, m->runtime);
    strv_extend(&argv, "--root");
    strv_consume(&argv, xasprintf("%s/runtime", m->run_root));
    strv_extend(&argv, "exec");
    if (tty)
        strv_extend(&argv, "--tty");
    strv_extend(&argv, id);
    for (; command && *command; command++)
        strv_extend(&argv, *command);
    return argv;
}

bool pods_objects_stored(pods_manager *m, const char *resource)
{
    _cleanup_free_ char *top = xasprintf("%s/objects/%s", m->lib_root, resource);
    _cleanup_dir_ DIR *d = opendir(top);
    if (!d)
        return false;
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.')
            continue;
        _cleanup_free_ char *sub = xasprintf("%s/%s", top, e->d_name);
        _cleanup_dir_ DIR *s = opendir(sub);
        for (struct dirent *f; s && (f = readdir(s));) {
            size_t l = strlen(f->d_name);
            if (f->d_name[0] != '.' && l > 5 && streq(f->d_name + l - 5, ".json"))
                return true;
        }
    }
    return false;
}
