/* SPDX-License-Identifier: Apache-2.0 */
/* The kubelet's admission of a pod (pkg/kubelet/lifecycle/predicate.go) on this one node: the
 * scheduler's resource fit against what is left of allocatable, then node affinity and
 * nodeSelector against the node's labels, then nodeName. The first failure is the reason,
 * with the kubelet's words, and the pod is refused before anything of it is made. */
#include "fs.h"
#include "manager.h"
#include "util.h"

#include <dirent.h>

static const char *str(yajl_val v, const char *key)
{
    return YAJL_GET_STRING(json_get(v, key));
}

static int64_t num(yajl_val v, const char *key)
{
    yajl_val n = json_get(v, key);
    return YAJL_IS_INTEGER(n) ? YAJL_GET_INTEGER(n) : 0;
}

void pods_node_pods_free(struct pods_node_pod *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(v[i].ns);
        free(v[i].name);
        free(v[i].uid);
    }
    free(v);
}

static const char *qos_of(const char *s)
{
    static const char *const names[] = {"Guaranteed", "Burstable", "BestEffort"};
    for (size_t i = 0; s && i < ARRAY_SIZE(names); i++)
        if (streq(s, names[i]))
            return names[i];
    return "BestEffort";
}

int pods_node_pods(pods_manager *m, struct pods_node_pod **out, size_t *n_out, pr_error **err)
{
    _cleanup_free_ char *dir = xasprintf("%s/pods", m->run_root);
    struct dirent **names = NULL;
    int n = scandir(dir, &names, NULL, alphasort);
    *out = NULL;
    *n_out = 0;
    if (n < 0)
        return errno == ENOENT ? 0 : pr_err(err, errno, "read `%s`", dir);
    struct pods_node_pod *v = NULL;
    size_t count = 0;
    for (int i = 0; i < n; i++) {
        const char *uid = names[i]->d_name;
        _cleanup_free_ char *rec_path = xasprintf("%s/%s/pod.json", dir, uid);
        _cleanup_free_ char *st_path = xasprintf("%s/%s/shim/status.json", dir, uid);
        _cleanup_json_ yajl_val rec = NULL, st = NULL;
        _cleanup_error_ pr_error *e = NULL;
        if (uid[0] == '.' || json_parse_file(rec_path, &rec, &e) < 0 || !str(rec, "name") ||
            !str(rec, "namespace")) {
            free(names[i]);
            continue;
        }
        json_parse_file(st_path, &st, &e);
        const char *phase = str(st, "phase");
        /* A pod whose apply was killed before its object was stored is not one the API knows
         * (a delete finishes it); it does not hold the node's resources. */
        _cleanup_json_ yajl_val obj = NULL;
        _cleanup_error_ pr_error *e2 = NULL;
        bool recorded =
            pods_object_load(m, "pods", str(rec, "namespace"), str(rec, "name"), &obj, &e2) == 0 &&
            streq(str(obj, "uid") ?: "", uid);
        v = xrealloc(v, (count + 1) * sizeof(*v));
        v[count++] = (struct pods_node_pod){
            .ns = xstrdup(str(rec, "namespace")),
            .name = xstrdup(str(rec, "name")),
            .uid = xstrdup(uid),
            .qos = qos_of(str(rec, "qosClass")),
            .compute =
                {
                    .cpu_request = num(rec, "cpuRequest"),
                    .cpu_limit = num(rec, "cpuLimit"),
                    .memory_request = num(rec, "memoryRequest"),
                    .memory_limit = num(rec, "memoryLimit"),
                    .has_cpu_limit = num(rec, "cpuLimit") > 0,
                    .has_memory_limit = num(rec, "memoryLimit") > 0,
                },
            .terminated = phase && (streq(phase, "Succeeded") || streq(phase, "Failed")),
            .recorded = recorded,
            .created = num(rec, "created"),
        };
        free(names[i]);
    }
    free(names);
    *out = v;
    *n_out = count;
    return 0;
}

/* ---- node affinity ---- */

static int unsupported(pr_error **err, const char *field)
{
    return pr_err_code(err, EOPNOTSUPP, "%s: not supported by podrun's pod manager yet", field);
}

static bool in_values(yajl_val values, const char *s)
{
    for (size_t i = 0; s && i < json_array_len(values); i++)
        if (streq(YAJL_GET_STRING(json_array_at(values, i)) ?: "", s))
            return true;
    return false;
}

/* One requirement of a term (NodeSelectorRequirement) against value (NULL: no such label). */
static int requirement(yajl_val req, const char *path, const char *value, bool fields, bool *match,
                       pr_error **err)
{
    const char *op = str(req, "operator");
    yajl_val values = json_get(req, "values");
    if (!str(req, "key") || !op)
        return pr_err(err, 0, "%s: key and operator are required", path);
    if (values && !YAJL_IS_ARRAY(values))
        return pr_err(err, 0, "%s.values: expected a list of strings", path);
    size_t nv = json_array_len(values);
    if (streq(op, "In") || streq(op, "NotIn")) {
        if (!nv)
            return pr_err(err, 0, "%s.values: Required value: must be specified for %s", path, op);
        *match = in_values(values, value) == streq(op, "In");
        return 0;
    }
    if (fields)
        return pr_err(err, 0, "%s.operator: Unsupported value: \"%s\": supported values: In, NotIn",
                      path, op);
    if (streq(op, "Exists") || streq(op, "DoesNotExist")) {
        if (nv)
            return pr_err(err, 0, "%s.values: Forbidden: may not be specified for %s", path, op);
        *match = (value != NULL) == streq(op, "Exists");
        return 0;
    }
    if (streq(op, "Gt") || streq(op, "Lt")) {
        const char *v0 = nv == 1 ? YAJL_GET_STRING(json_array_at(values, 0)) : NULL;
        char *end;
        long long want = v0 ? strtoll(v0, &end, 10) : 0;
        if (!v0 || !*v0 || *end)
            return pr_err(err, 0, "%s.values: must be a single integer for %s", path, op);
        long long have = value ? strtoll(value, &end, 10) : 0;
        *match = value && *value && !*end && (streq(op, "Gt") ? have > want : have < want);
        return 0;
    }
    return pr_err(err, 0,
                  "%s.operator: Unsupported value: \"%s\": supported values: DoesNotExist, Exists, "
                  "Gt, In, Lt, NotIn",
                  path, op);
}

/* A NodeSelectorTerm: its requirements all hold; a term with none matches nothing. */
static int term(yajl_val t, const char *path, yajl_val labels, const char *node, bool *match,
                pr_error **err)
{
    static const char *const keys[] = {"matchExpressions", "matchFields"};
    size_t total = 0;
    *match = true;
    for (size_t i = 0; YAJL_IS_OBJECT(t) && i < t->u.object.len; i++)
        if (!streq(t->u.object.keys[i], keys[0]) && !streq(t->u.object.keys[i], keys[1]))
            return pr_err(err, 0, "%s.%s: unknown field", path, t->u.object.keys[i]);
    for (size_t k = 0; k < ARRAY_SIZE(keys); k++) {
        yajl_val list = json_get(t, keys[k]);
        if (list && !YAJL_IS_ARRAY(list))
            return pr_err(err, 0, "%s.%s: expected a list", path, keys[k]);
        for (size_t i = 0; i < json_array_len(list); i++) {
            yajl_val req = json_array_at(list, i);
            _cleanup_free_ char *p = xasprintf("%s.%s[%zu]", path, keys[k], i);
            const char *key = str(req, "key");
            if (k == 1 && key && !streq(key, "metadata.name"))
                return pr_err(err, 0,
                              "%s.key: Invalid value: \"%s\": a field selector supports "
                              "only metadata.name",
                              p, key);
            const char *value = k == 1 ? node : key ? str(labels, key) : NULL;
            bool ok = false;
            int r = requirement(req, p, value, k == 1, &ok, err);
            if (r < 0)
                return r;
            *match = *match && ok;
            total++;
        }
    }
    if (!total)
        *match = false;
    return 0;
}

static int node_affinity(yajl_val aff, yajl_val labels, const char *node, bool *match,
                         pr_error **err)
{
    *match = true;
    if (!aff || YAJL_IS_NULL(aff))
        return 0;
    if (!YAJL_IS_OBJECT(aff))
        return pr_err(err, 0, "spec.affinity: expected an object");
    for (size_t i = 0; i < aff->u.object.len; i++) {
        const char *k = aff->u.object.keys[i];
        if (streq(k, "podAffinity") || streq(k, "podAntiAffinity")) {
            _cleanup_free_ char *f = xasprintf("spec.affinity.%s", k);
            return unsupported(err, f);
        }
        if (!streq(k, "nodeAffinity"))
            return pr_err(err, 0, "spec.affinity.%s: unknown field", k);
    }
    yajl_val na = json_get(aff, "nodeAffinity");
    for (size_t i = 0; YAJL_IS_OBJECT(na) && i < na->u.object.len; i++) {
        const char *k = na->u.object.keys[i];
        /* A preference among nodes: with one node there is nothing to prefer. */
        if (!streq(k, "requiredDuringSchedulingIgnoredDuringExecution") &&
            !streq(k, "preferredDuringSchedulingIgnoredDuringExecution"))
            return pr_err(err, 0, "spec.affinity.nodeAffinity.%s: unknown field", k);
    }
    yajl_val req = json_get(na, "requiredDuringSchedulingIgnoredDuringExecution");
    if (!req || YAJL_IS_NULL(req))
        return 0;
    yajl_val terms = json_get(req, "nodeSelectorTerms");
    const char *base = "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution";
    if (!YAJL_IS_ARRAY(terms) || !json_array_len(terms))
        return pr_err(err, 0,
                      "%s.nodeSelectorTerms: Required value: must have at least one node "
                      "selector term",
                      base);
    *match = false;
    for (size_t i = 0; i < json_array_len(terms); i++) {
        _cleanup_free_ char *p = xasprintf("%s.nodeSelectorTerms[%zu]", base, i);
        bool ok = false;
        int r = term(json_array_at(terms, i), p, labels, node, &ok, err);
        if (r < 0)
            return r;
        *match = *match || ok;
    }
    return 0;
}

/* ---- admission ---- */

static int rejected(pr_error **err, const char *reason, const char *message)
{
    return pr_err_code(err, EPERM, "%s: Pod was rejected: %s", reason, message);
}

static int out_of(pr_error **err, const char *res, long long req, long long used, long long cap)
{
    _cleanup_free_ char *reason = xasprintf("OutOf%s", res);
    _cleanup_free_ char *msg = xasprintf("Node didn't have enough resource: %s, requested: %lld, "
                                         "used: %lld, capacity: %lld",
                                         res, req, used, cap);
    return rejected(err, reason, msg);
}

int pods_admit(pods_manager *m, const struct kube_object *o, struct kube_compute *c, pr_error **err)
{
    const struct kube_pod_spec *s = &o->u.pod;
    struct pods_node_resources cap, alloc;
    const struct pods_node_config *cfg;
    int r;
    if ((r = kube_pod_compute(s, c, err)) < 0 || (r = pods_node_config_get(m, &cfg, err)) < 0 ||
        (r = pods_node_resources(m, &cap, &alloc, err)) < 0)
        return r;
    /* The spec's affinity is checked first: a field podrun lacks is an error, not a misfit. */
    _cleanup_json_ yajl_val node = NULL;
    if ((r = pods_node_object(m, &node, err)) < 0)
        return r;
    yajl_val labels = json_get(json_get(node, "metadata"), "labels");
    bool match = true, aff = true;
    for (size_t i = 0; i < s->node_selector.n; i++) {
        const char *have = str(labels, s->node_selector.keys[i]);
        match = match && have && streq(have, s->node_selector.values[i]);
    }
    if ((r = node_affinity(s->affinity, labels, cfg->name, &aff, err)) < 0)
        return r;
    struct pods_node_pod *pods = NULL;
    size_t n = 0;
    if ((r = pods_node_pods(m, &pods, &n, err)) < 0)
        return r;
    long long used_cpu = 0, used_mem = 0, used_pods = 0;
    for (size_t i = 0; i < n; i++)
        if (!pods[i].terminated && pods[i].recorded) {
            used_cpu += pods[i].compute.cpu_request;
            used_mem += pods[i].compute.memory_request;
            used_pods++;
        }
    pods_node_pods_free(pods, n);
    if (used_pods + 1 > alloc.pods)
        return out_of(err, "pods", 1, used_pods, alloc.pods);
    if (c->cpu_request > 0 && used_cpu + c->cpu_request > alloc.cpu)
        return out_of(err, "cpu", c->cpu_request, used_cpu, alloc.cpu);
    if (c->memory_request > 0 && used_mem + c->memory_request > alloc.memory)
        return out_of(err, "memory", c->memory_request, used_mem, alloc.memory);
    if (!match || !aff)
        return rejected(err, "NodeAffinity",
                        "Predicate NodeAffinity failed: node(s) didn't match Pod's node "
                        "affinity/selector");
    if (s->node_name && *s->node_name && !streq(s->node_name, cfg->name))
        return rejected(err, "NodeName",
                        "Predicate NodeName failed: node(s) didn't match the requested node name");
    return 0;
}
