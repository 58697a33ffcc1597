/* SPDX-License-Identifier: Apache-2.0 */
/* StatefulSets and DaemonSets on this node: the I/O edge of kube_statefulset_plan. A
 * StatefulSet's pods are SET-S..S+N-1 (S: spec.ordinals.start; hostname SET-N, subdomain its
 * serviceName), each with the claims of its volumeClaimTemplates (TEMPLATE-SET-N, made before
 * the pod and kept after it unless persistentVolumeClaimRetentionPolicy says Delete); a DaemonSet
 * has one pod NAME-<suffix> when the node's labels match its nodeSelector. Pods carry the
 * controller-revision-hash label (the template's hash), which tells an updated pod. Status is
 * computed from the pods when read, as workloads.c does. */
#include "fs.h"
#include "manager.h"
#include "util.h"

#include <sys/random.h>
#include <time.h>

#define REVISION_LABEL "controller-revision-hash"
#define STS            "statefulsets"
#define DS             "daemonsets"
#define REVISIONS      "controllerrevisions"
/* On the claims a StatefulSet makes: its uid. */
#define MADE_BY "podrun.io/statefulset-uid"

static int64_t int_at(yajl_val v, int64_t def)
{
    return v && YAJL_IS_INTEGER(v) ? YAJL_GET_INTEGER(v) : def;
}

static const char *str_at(yajl_val obj, const char *a, const char *b)
{
    return YAJL_GET_STRING(json_get(json_get(obj, a), b));
}

static bool owned_by(const struct pods_entry *e, const struct pods_entry *owner)
{
    const char *u = pods_controller_uid(e->object);
    return u && streq(u, owner->uid) && e->ns && owner->ns && streq(e->ns, owner->ns);
}

/* SET-<template hash>, as a ControllerRevision's name (DaemonSet pods: the hash alone). */
static int revision_of(const struct pods_entry *set, bool sts, char **out, pr_error **err)
{
    char hash[KUBE_HASH_MAX];
    int r = kube_template_hash(json_get(json_get(set->object, "spec"), "template"), 0, hash, err);
    if (r < 0)
        return r;
    *out = sts ? xasprintf("%s-%s", set->name, hash) : xstrdup(hash);
    return 0;
}

static const char *pod_revision(const struct pods_entry *p)
{
    return YAJL_GET_STRING(
        json_get(json_get(json_get(p->object, "metadata"), "labels"), REVISION_LABEL));
}

/* ---- making pods and claims ---- */

static void gen_labels(yajl_gen g, yajl_val labels, const char *const *extra)
{
    jg_key(g, "labels");
    jg_map_open(g);
    for (size_t i = 0; YAJL_IS_OBJECT(labels) && i < labels->u.object.len; i++) {
        bool over = false;
        for (size_t k = 0; extra[k]; k += 2)
            over |= streq(extra[k], labels->u.object.keys[i]);
        if (!over) {
            jg_key(g, labels->u.object.keys[i]);
            jg_value(g, labels->u.object.values[i]);
        }
    }
    for (size_t k = 0; extra[k]; k += 2)
        jg_key_str(g, extra[k], extra[k + 1]);
    jg_map_close(g);
}

static const char *claim_template_name(yajl_val t)
{
    return str_at(t, "metadata", "name");
}

/* The claim TEMPLATE-SET-N, made from its template when missing, marked with the set's uid:
 * persistentVolumeClaimRetentionPolicy Delete deletes only the claims the set made. */
static int ensure_claim(pods_manager *m, const struct pods_entry *set, yajl_val t, int32_t ord,
                        pr_error **err)
{
    _cleanup_free_ char *name = xasprintf("%s-%s-%d", claim_template_name(t), set->name, (int)ord);
    _cleanup_json_ yajl_val rec = NULL;
    if (pods_object_load(m, "persistentvolumeclaims", set->ns, name, &rec, NULL) == 0)
        return 0;
    yajl_val sel = json_get(json_get(json_get(set->object, "spec"), "selector"), "matchLabels");
    yajl_val labels = json_get(json_get(t, "metadata"), "labels");
    _cleanup_gen_ yajl_gen g = json_gen_new(false);
    jg_map_open(g);
    jg_key_str(g, "apiVersion", "v1");
    jg_key_str(g, "kind", "PersistentVolumeClaim");
    jg_key(g, "metadata");
    jg_map_open(g);
    jg_key_str(g, "name", name);
    jg_key_str(g, "namespace", set->ns);
    /* The template's labels and the set's matchLabels, as the controller labels claims. */
    jg_key(g, "labels");
    jg_map_open(g);
    for (size_t i = 0; YAJL_IS_OBJECT(labels) && i < labels->u.object.len; i++)
        if (!json_get(sel, labels->u.object.keys[i])) {
            jg_key(g, labels->u.object.keys[i]);
            jg_value(g, labels->u.object.values[i]);
        }
    for (size_t i = 0; YAJL_IS_OBJECT(sel) && i < sel->u.object.len; i++) {
        jg_key(g, sel->u.object.keys[i]);
        jg_value(g, sel->u.object.values[i]);
    }
    jg_map_close(g);
    yajl_val ann = json_get(json_get(t, "metadata"), "annotations");
    jg_key(g, "annotations");
    jg_map_open(g);
    for (size_t i = 0; YAJL_IS_OBJECT(ann) && i < ann->u.object.len; i++)
        if (!streq(ann->u.object.keys[i], MADE_BY)) {
            jg_key(g, ann->u.object.keys[i]);
            jg_value(g, ann->u.object.values[i]);
        }
    jg_key_str(g, MADE_BY, set->uid);
    jg_map_close(g);
    jg_map_close(g);
    jg_key(g, "spec");
    jg_value(g, json_get(t, "spec"));
    jg_map_close(g);
    int r = pods_apply_gen(m, g, name, err);
    if (r == 0)
        pods_workload_event(m, "statefulsets", set, "Normal", "SuccessfulCreate",
                            "create Claim %s Pod %s-%d in StatefulSet %s success", name, set->name,
                            (int)ord, set->name);
    return r;
}

/* Deletes the claims TEMPLATE-SET-ord this set made (ord < 0: of every ordinal); one a pod
 * still uses goes when the pod has gone (pvc-protection). A claim the set did not make (made
 * by hand, or by an earlier set of that name) is left. */
static int delete_claims(pods_manager *m, const char *ns, const char *set_name, const char *set_uid,
                         yajl_val claims, int32_t ord, pr_error **err)
{
    struct pods_list l = {0};
    int r = pods_list(m, "persistentvolumeclaims", ns, NULL, &l, err);
    for (size_t i = 0; r == 0 && i < l.n; i++) {
        yajl_val ann = json_get(json_get(l.v[i].object, "metadata"), "annotations");
        const char *made_by = YAJL_GET_STRING(json_get(ann, MADE_BY));
        if (!made_by || !streq(made_by, set_uid))
            continue;
        for (size_t k = 0; k < json_array_len(claims); k++) {
            const char *t = claim_template_name(json_array_at(claims, k));
            size_t tl = t ? strlen(t) : 0, sl = strlen(set_name);
            const char *n = l.v[i].name;
            /* TEMPLATE-SET-N: the ordinal after both names. */
            if (!t || strncmp(n, t, tl) || n[tl] != '-' || strncmp(n + tl + 1, set_name, sl) ||
                n[tl + 1 + sl] != '-')
                continue;
            _cleanup_free_ char *prefix = xstrndup(n, tl + 1 + sl);
            int32_t o = kube_statefulset_ordinal(prefix, n);
            if (o < 0 || (ord >= 0 && o != ord))
                continue;
            r = pods_claim_delete(m, ns, n, err);
            break;
        }
    }
    pods_list_clear(&l);
    return r;
}

/* The pod's spec: the template's, with hostname and subdomain (a StatefulSet's) and each claim
 * template's volume. */
static void gen_pod_spec(yajl_gen g, yajl_val spec, const char *hostname, const char *subdomain,
                         yajl_val claims, const char *set, int32_t ord)
{
    jg_key(g, "spec");
    jg_map_open(g);
    for (size_t i = 0; YAJL_IS_OBJECT(spec) && i < spec->u.object.len; i++) {
        const char *k = spec->u.object.keys[i];
        if ((hostname && (streq(k, "hostname") || streq(k, "subdomain"))) || streq(k, "volumes"))
            continue;
        jg_key(g, k);
        jg_value(g, spec->u.object.values[i]);
    }
    if (hostname)
        jg_key_str(g, "hostname", hostname);
    if (subdomain && *subdomain)
        jg_key_str(g, "subdomain", subdomain);
    yajl_val vols = json_get(spec, "volumes");
    if (json_array_len(vols) + json_array_len(claims) > 0) {
        jg_key(g, "volumes");
        jg_array_open(g);
        for (size_t i = 0; i < json_array_len(vols); i++)
            jg_value(g, json_array_at(vols, i));
        for (size_t i = 0; i < json_array_len(claims); i++) {
            const char *t = claim_template_name(json_array_at(claims, i));
            _cleanup_free_ char *claim = xasprintf("%s-%s-%d", t, set, (int)ord);
            jg_map_open(g);
            jg_key_str(g, "name", t);
            jg_key(g, "persistentVolumeClaim");
            jg_map_open(g);
            jg_key_str(g, "claimName", claim);
            jg_map_close(g);
            jg_map_close(g);
        }
        jg_array_close(g);
    }
    jg_map_close(g);
}

/* A pod of the set: SET-N for a StatefulSet (ord >= 0), NAME-<suffix> for a DaemonSet. */
static int create_pod(pods_manager *m, const struct pods_entry *set, const char *revision,
                      yajl_val tpl, int32_t ord, pr_error **err)
{
    bool sts = ord >= 0;
    yajl_val spec = json_get(set->object, "spec");
    yajl_val tmeta = json_get(tpl, "metadata"), claims = json_get(spec, "volumeClaimTemplates");
    _cleanup_free_ char *name = NULL, *index = NULL, *gen = NULL;
    int r;
    for (size_t i = 0; sts && i < json_array_len(claims); i++)
        if ((r = ensure_claim(m, set, json_array_at(claims, i), ord, err)) < 0)
            return r;
    if (sts) {
        name = xasprintf("%s-%d", set->name, (int)ord);
        index = xasprintf("%d", (int)ord);
    } else {
        unsigned char rnd[KUBE_SUFFIX_LEN];
        char suffix[KUBE_SUFFIX_LEN + 1];
        if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
            return pr_err(err, errno, "getrandom");
        kube_name_suffix(rnd, suffix);
        name = xasprintf("%s-%s", set->name, suffix);
        gen = xasprintf("%lld", set->generation ? set->generation : 1);
    }
    const char *sts_labels[] = {REVISION_LABEL,
                                revision,
                                "statefulset.kubernetes.io/pod-name",
                                name,
                                "apps.kubernetes.io/pod-index",
                                index,
                                NULL};
    const char *ds_labels[] = {REVISION_LABEL, revision, "pod-template-generation", gen, NULL};
    _cleanup_gen_ yajl_gen g = json_gen_new(false);
    jg_map_open(g);
    jg_key_str(g, "apiVersion", "v1");
    jg_key_str(g, "kind", "Pod");
    jg_key(g, "metadata");
    jg_map_open(g);
    jg_key_str(g, "name", name);
    jg_key_str(g, "namespace", set->ns);
    gen_labels(g, json_get(tmeta, "labels"), sts ? sts_labels : ds_labels);
    yajl_val ann = json_get(tmeta, "annotations");
    if (ann) {
        jg_key(g, "annotations");
        jg_value(g, ann);
    }
    pods_gen_owner(g, sts ? "StatefulSet" : "DaemonSet", set->name, set->uid);
    jg_map_close(g);
    gen_pod_spec(g, json_get(tpl, "spec"), sts ? name : NULL,
                 sts ? YAJL_GET_STRING(json_get(spec, "serviceName")) : NULL, claims, set->name,
                 ord);
    jg_map_close(g);
    r = pods_apply_gen(m, g, name, err);
    if (r < 0)
        return r;
    if (sts)
        pods_workload_event(m, "statefulsets", set, "Normal", "SuccessfulCreate",
                            "create Pod %s in StatefulSet %s successful", name, set->name);
    else
        pods_workload_event(m, "daemonsets", set, "Normal", "SuccessfulCreate", "Created pod: %s",
                            name);
    return 0;
}

/* A pod of the set goes (grace: seconds, -1: the pod's), with the controller's event. */
static int delete_pod(pods_manager *m, const struct pods_entry *set, bool sts,
                      const struct pods_entry *pod, int64_t grace, pr_error **err)
{
    int r = pods_delete_grace(m, "pods", pod->ns, pod->name, grace, err);
    if (r < 0)
        return r;
    if (sts)
        pods_workload_event(m, "statefulsets", set, "Normal", "SuccessfulDelete",
                            "delete Pod %s in StatefulSet %s successful", pod->name, set->name);
    else
        pods_workload_event(m, "daemonsets", set, "Normal", "SuccessfulDelete", "Deleted pod: %s",
                            pod->name);
    return 0;
}

/* ---- observing ---- */

struct set_pod {
    const struct pods_entry *e;
    struct kube_owned_pod p;
    bool dead, updated;
    int32_t ordinal;
};

static size_t observe_set(pods_manager *m, const struct pods_list *pods,
                          const struct pods_entry *set, bool sts, const char *revision,
                          struct set_pod **out)
{
    struct set_pod *v = xcalloc(pods->n + 1, sizeof(*v));
    size_t n = 0;
    for (size_t i = 0; i < pods->n; i++) {
        const struct pods_entry *e = &pods->v[i];
        if (!owned_by(e, set))
            continue;
        int32_t ord = sts ? kube_statefulset_ordinal(set->name, e->name) : 0;
        if (ord < 0)
            continue; /* not a name this controller makes: not its pod to count */
        struct set_pod *s = &v[n++];
        s->e = e;
        s->ordinal = ord;
        pods_observe_owned(m, e, &s->p, &s->dead);
        const char *rev = pod_revision(e);
        s->updated = rev && streq(rev, revision);
    }
    *out = v;
    return n;
}

static bool finished(const struct set_pod *s)
{
    return s->dead || !kube_pod_active(&s->p);
}

/* ---- ControllerRevisions: a StatefulSet's templates, SET-<hash>, numbered ---- */

static bool owned_by_uid(yajl_val obj, const char *uid)
{
    const char *u = pods_controller_uid(obj);
    return u && streq(u, uid);
}

static int ensure_revision(pods_manager *m, const struct pods_entry *set, const char *name,
                           pr_error **err)
{
    _cleanup_json_ yajl_val rec = NULL;
    if (pods_object_load(m, REVISIONS, set->ns, name, &rec, NULL) == 0)
        return 0;
    struct pods_list l = {0};
    int r = pods_list(m, REVISIONS, set->ns, NULL, &l, err);
    long long last = 0;
    for (size_t i = 0; r == 0 && i < l.n; i++)
        if (owned_by_uid(l.v[i].object, set->uid))
            last = MAX(last, int_at(json_get(l.v[i].object, "revision"), 0));
    pods_list_clear(&l);
    if (r < 0)
        return r;
    yajl_val tpl = json_get(json_get(set->object, "spec"), "template");
    yajl_val labels = json_get(json_get(tpl, "metadata"), "labels");
    const char *hash = name + strlen(set->name) + 1;
    const char *extra[] = {REVISION_LABEL, hash, NULL};
    _cleanup_gen_ yajl_gen g = json_gen_new(false);
    jg_map_open(g);
    jg_key_str(g, "apiVersion", "apps/v1");
    jg_key_str(g, "kind", "ControllerRevision");
    jg_key(g, "metadata");
    jg_map_open(g);
    jg_key_str(g, "name", name);
    jg_key_str(g, "namespace", set->ns);
    gen_labels(g, labels, extra);
    pods_gen_owner(g, "StatefulSet", set->name, set->uid);
    jg_map_close(g);
    jg_key(g, "data");
    jg_map_open(g);
    jg_key(g, "spec");
    jg_map_open(g);
    jg_key(g, "template");
    jg_value(g, tpl);
    jg_map_close(g);
    jg_map_close(g);
    jg_key_int(g, "revision", last + 1);
    jg_map_close(g);
    size_t len;
    const char *buf = jg_buf(g, &len);
    _cleanup_free_ char *text = xstrndup(buf, len), *uid = NULL;
    _cleanup_json_ yajl_val t = NULL;
    if ((r = json_parse(text, "a revision", &t, err)) < 0 || (r = pods_new_uid(&uid, err)) < 0)
        return r;
    return pods_object_save(m, REVISIONS, set->ns, name, t, uid, (long long)time(NULL), err);
}

/* Revisions no pod uses, past revisionHistoryLimit, oldest first (never the update's). */
static int prune_revisions(pods_manager *m, const struct pods_entry *set,
                           const struct pods_list *pods, const char *update, pr_error **err)
{
    struct pods_list l = {0};
    int r = pods_list(m, REVISIONS, set->ns, NULL, &l, err);
    int64_t limit = int_at(json_get(json_get(set->object, "spec"), "revisionHistoryLimit"), 10);
    size_t idle = 0;
    bool *drop = xcalloc(l.n + 1, sizeof(*drop));
    for (size_t i = 0; r == 0 && i < l.n; i++) {
        if (!owned_by_uid(l.v[i].object, set->uid) || streq(l.v[i].name, update))
            continue;
        bool used = false;
        for (size_t k = 0; k < pods->n && !used; k++) {
            const char *rev = pod_revision(&pods->v[k]);
            used = rev && streq(rev, l.v[i].name) && owned_by(&pods->v[k], set);
        }
        drop[i] = !used;
        idle += !used;
    }
    while (r == 0 && (int64_t)idle > limit) {
        size_t oldest = SIZE_MAX;
        for (size_t i = 0; i < l.n; i++)
            if (drop[i] &&
                (oldest == SIZE_MAX || int_at(json_get(l.v[i].object, "revision"), 0) <
                                           int_at(json_get(l.v[oldest].object, "revision"), 0)))
                oldest = i;
        r = pods_object_remove(m, REVISIONS, set->ns, l.v[oldest].name, err);
        drop[oldest] = false;
        idle--;
    }
    free(drop);
    pods_list_clear(&l);
    return r;
}

/* The revision the set is updating from: the lowest ordinal's that is not updated; with none
 * left below a partition (they were deleted), the revision before the update's, as the
 * StatefulSet's status.currentRevision keeps it in Kubernetes; else the update's. */
static char *current_revision(pods_manager *m, const struct pods_entry *set,
                              const struct set_pod *v, size_t n, const char *update)
{
    const char *cur = NULL;
    int32_t lowest = INT32_MAX;
    for (size_t i = 0; i < n; i++)
        if (!finished(&v[i]) && !v[i].updated && pod_revision(v[i].e) && v[i].ordinal < lowest) {
            lowest = v[i].ordinal;
            cur = pod_revision(v[i].e);
        }
    if (cur)
        return xstrdup(cur);
    yajl_val strat = json_get(json_get(set->object, "spec"), "updateStrategy");
    if (int_at(json_get(json_get(strat, "rollingUpdate"), "partition"), 0) <= 0)
        return xstrdup(update);
    struct pods_list l = {0};
    char *best = NULL;
    long long best_n = 0;
    if (pods_list(m, REVISIONS, set->ns, NULL, &l, NULL) == 0)
        for (size_t i = 0; i < l.n; i++) {
            long long num = int_at(json_get(l.v[i].object, "revision"), 0);
            if (owned_by_uid(l.v[i].object, set->uid) && !streq(l.v[i].name, update) &&
                num > best_n) {
                best_n = num;
                free(best);
                best = xstrdup(l.v[i].name);
            }
        }
    pods_list_clear(&l);
    return best ? best : xstrdup(update);
}

/* ---- the StatefulSet controller ---- */

static int reconcile_sts(pods_manager *m, const struct pods_list *pods,
                         const struct pods_entry *set, pr_error **err)
{
    yajl_val spec = json_get(set->object, "spec");
    _cleanup_free_ char *revision = NULL;
    int r = revision_of(set, true, &revision, err);
    if (r < 0 || (r = ensure_revision(m, set, revision, err)) < 0)
        return r;
    struct set_pod *v = NULL;
    size_t n = observe_set(m, pods, set, true, revision, &v);
    struct kube_sts_pod *in = xcalloc(n + 1, sizeof(*in));
    for (size_t i = 0; i < n; i++)
        in[i] = (struct kube_sts_pod){
            .ordinal = v[i].ordinal,
            .running_ready = !finished(&v[i]) && v[i].p.ready,
            .terminating = v[i].p.terminating,
            .failed = finished(&v[i]),
            .updated = v[i].updated,
        };
    const char *policy = str_at(set->object, "spec", "podManagementPolicy");
    const char *strategy = str_at(spec, "updateStrategy", "type");
    struct kube_sts_spec s = {
        .replicas = (int32_t)int_at(json_get(spec, "replicas"), 1),
        .parallel = policy && streq(policy, "Parallel"),
        .on_delete = strategy && streq(strategy, "OnDelete"),
        .partition = (int32_t)int_at(
            json_get(json_get(json_get(spec, "updateStrategy"), "rollingUpdate"), "partition"), 0),
        .start = (int32_t)int_at(json_get(json_get(spec, "ordinals"), "start"), 0),
    };
    s.max_unavailable = kube_statefulset_max_unavailable(spec, s.replicas);
    const char *when_scaled = str_at(spec, "persistentVolumeClaimRetentionPolicy", "whenScaled");
    bool scaled_delete = when_scaled && streq(when_scaled, "Delete");
    int64_t end = (int64_t)s.start + s.replicas;
    struct kube_sts_plan plan;
    kube_statefulset_plan(&s, in, n, &plan);
    for (size_t i = 0; r == 0 && i < plan.n_delete; i++) {
        int32_t ord = plan.delete_[i];
        for (size_t k = 0; r == 0 && k < n; k++)
            if (v[k].ordinal == ord)
                r = delete_pod(m, set, true, v[k].e, finished(&v[k]) ? 0 : -1, err);
        /* whenScaled Delete: a pod condemned by a scale-down takes its claims along. */
        if (r == 0 && scaled_delete && (ord < s.start || ord >= end))
            r = delete_claims(m, set->ns, set->name, set->uid,
                              json_get(spec, "volumeClaimTemplates"), ord, err);
    }
    /* Below the partition, while an update is under way, a pod is made from the current
     * revision's template (kept in its ControllerRevision), as Kubernetes makes it. */
    _cleanup_free_ char *current = current_revision(m, set, v, n, revision);
    _cleanup_json_ yajl_val old = NULL;
    if (!streq(current, revision) && !s.on_delete)
        pods_object_load(m, REVISIONS, set->ns, current, &old, NULL);
    yajl_val old_tpl =
        json_get(json_get(json_get(json_get(old, "object"), "data"), "spec"), "template");
    for (size_t i = 0; r == 0 && i < plan.n_create; i++) {
        bool below = old_tpl && plan.create[i] < s.partition;
        r = create_pod(m, set, below ? current : revision,
                       below ? old_tpl : json_get(spec, "template"), plan.create[i], err);
    }
    if (r == 0)
        r = prune_revisions(m, set, pods, revision, err);
    kube_statefulset_plan_clear(&plan);
    free(in);
    free(v);
    return r;
}

int pods_set_deleting(pods_manager *m, const char *ns, const char *name, yajl_val rec,
                      pr_error **err)
{
    yajl_val spec = json_get(json_get(rec, "object"), "spec");
    const char *when = str_at(spec, "persistentVolumeClaimRetentionPolicy", "whenDeleted");
    const char *uid = YAJL_GET_STRING(json_get(rec, "uid"));
    if (!when || !streq(when, "Delete") || !uid)
        return 0;
    return delete_claims(m, ns, name, uid, json_get(spec, "volumeClaimTemplates"), -1, err);
}

/* ---- the DaemonSet controller ---- */

static int node_wants(pods_manager *m, const struct pods_entry *set, bool *wants, pr_error **err)
{
    _cleanup_json_ yajl_val node = NULL;
    int r = pods_node_object(m, &node, err);
    if (r < 0)
        return r;
    yajl_val sel = json_get(json_get(json_get(json_get(set->object, "spec"), "template"), "spec"),
                            "nodeSelector");
    *wants = kube_node_selector_matches(sel, json_get(json_get(node, "metadata"), "labels"));
    return 0;
}

/* maxSurge: the new pod beside the old one, the old one gone once the new one is available.
 * A surge pod the node cannot take (a hostPort the old pod holds) waits, as in Kubernetes the
 * scheduler leaves it unplaced and the rollout stalls: a Warning tells why. */
static int surge_ds(pods_manager *m, const struct pods_entry *set, const char *revision,
                    const struct set_pod *old, const struct set_pod *nw, pr_error **err)
{
    yajl_val spec = json_get(set->object, "spec");
    int32_t min_ready = (int32_t)int_at(json_get(spec, "minReadySeconds"), 0);
    struct kube_ds_node node = {
        .has_old = old != NULL,
        .has_new = nw != NULL,
        .new_available = nw && kube_pod_available(&nw->p, min_ready, (int64_t)time(NULL)),
    };
    switch (kube_daemonset_surge_step(&node)) {
    case KUBE_DS_DELETE_OLD:
        return delete_pod(m, set, false, old->e, -1, err);
    case KUBE_DS_CREATE_NEW: {
        pr_error *e = NULL;
        int r = create_pod(m, set, revision, json_get(spec, "template"), -1, &e);
        if (r == -EADDRINUSE && old) {
            pods_workload_event(m, "daemonsets", set, "Warning", "FailedCreate",
                                "Error creating: %s", e && e->msg ? e->msg : "hostPort in use");
            pr_error_free(e);
            return 0;
        }
        if (r < 0)
            *err = e;
        return r;
    }
    case KUBE_DS_WAIT:
        break;
    }
    return 0;
}

static int reconcile_ds(pods_manager *m, const struct pods_list *pods, const struct pods_entry *set,
                        pr_error **err)
{
    _cleanup_free_ char *revision = NULL;
    bool wants = false;
    int r = revision_of(set, false, &revision, err);
    if (r < 0 || (r = node_wants(m, set, &wants, err)) < 0)
        return r;
    struct set_pod *v = NULL;
    size_t n = observe_set(m, pods, set, false, revision, &v);
    yajl_val spec = json_get(set->object, "spec");
    const char *strategy = str_at(spec, "updateStrategy", "type");
    bool on_delete = strategy && streq(strategy, "OnDelete");
    bool surge = kube_daemonset_surges(spec);
    size_t active = 0;
    const struct set_pod *old = NULL, *nw = NULL;
    for (size_t i = 0; r == 0 && i < n; i++) {
        /* A finished pod, one the node no longer wants, or one too many: with surge one old
         * and one new pod, else one pod (the newest go). */
        bool extra = surge ? (v[i].updated ? nw != NULL : old != NULL) : active >= 1;
        if (finished(&v[i]) || !wants || extra) {
            r = delete_pod(m, set, false, v[i].e, finished(&v[i]) ? 0 : -1, err);
            continue;
        }
        active++;
        if (surge) {
            *(v[i].updated ? &nw : &old) = &v[i];
            continue;
        }
        /* RollingUpdate with maxUnavailable and no surge: the old pod goes first. */
        if (!v[i].updated && !on_delete) {
            r = delete_pod(m, set, false, v[i].e, -1, err);
            active--;
        }
    }
    if (r == 0 && wants && surge)
        r = surge_ds(m, set, revision, old, nw, err);
    else if (r == 0 && wants && active == 0)
        r = create_pod(m, set, revision, json_get(spec, "template"), -1, err);
    free(v);
    return r;
}

/* ---- passes ---- */

static bool owner_among(const struct pods_entry *e, const struct pods_list *a,
                        const struct pods_list *b)
{
    const char *u = pods_controller_uid(e->object);
    for (size_t i = 0; u && i < a->n; i++)
        if (streq(a->v[i].uid, u))
            return true;
    for (size_t i = 0; u && i < b->n; i++)
        if (streq(b->v[i].uid, u))
            return true;
    return false;
}

static bool set_pod(const struct pods_entry *e)
{
    yajl_val refs = json_get(json_get(e->object, "metadata"), "ownerReferences");
    for (size_t i = 0; i < json_array_len(refs); i++) {
        yajl_val ref = json_array_at(refs, i), c = json_get(ref, "controller");
        const char *kind = YAJL_GET_STRING(json_get(ref, "kind"));
        if (c && YAJL_IS_TRUE(c) && kind &&
            (streq(kind, "StatefulSet") || streq(kind, "DaemonSet")))
            return true;
    }
    return false;
}

int pods_sets_collect(pods_manager *m, pr_error **err)
{
    struct pods_list sts = {0}, ds = {0}, pods = {0};
    int r = pods_list(m, STS, NULL, NULL, &sts, err);
    if (r == 0)
        r = pods_list(m, DS, NULL, NULL, &ds, err);
    if (r == 0)
        r = pods_list(m, "pods", NULL, NULL, &pods, err);
    for (size_t i = 0; r == 0 && i < pods.n; i++)
        if (set_pod(&pods.v[i]) && !owner_among(&pods.v[i], &sts, &ds))
            r = pods_delete(m, "pods", pods.v[i].ns, pods.v[i].name, err);
    struct pods_list revs = {0};
    if (r == 0)
        r = pods_list(m, REVISIONS, NULL, NULL, &revs, err);
    for (size_t i = 0; r == 0 && i < revs.n; i++)
        if (!owner_among(&revs.v[i], &sts, &ds))
            r = pods_object_remove(m, REVISIONS, revs.v[i].ns, revs.v[i].name, err);
    pods_list_clear(&revs);
    pods_list_clear(&sts);
    pods_list_clear(&ds);
    pods_list_clear(&pods);
    return r;
}

int pods_sets_reconcile(pods_manager *m, bool *any, pr_error **err)
{
    struct pods_list sts = {0}, ds = {0}, pods = {0};
    int first = pods_sets_collect(m, err), r;
    if ((r = pods_list(m, STS, NULL, NULL, &sts, first < 0 ? NULL : err)) == 0 &&
        (r = pods_list(m, DS, NULL, NULL, &ds, first < 0 ? NULL : err)) == 0)
        r = pods_list(m, "pods", NULL, NULL, &pods, first < 0 ? NULL : err);
    if (r < 0 && first == 0)
        first = r;
    *any = r < 0 || sts.n + ds.n > 0;
    /* One set that cannot progress must not hold the others back: the first error is told. */
    for (size_t i = 0; r == 0 && i < sts.n + ds.n; i++) {
        pr_error *e = NULL;
        int ri = i < sts.n ? reconcile_sts(m, &pods, &sts.v[i], &e)
                           : reconcile_ds(m, &pods, &ds.v[i - sts.n], &e);
        if (ri < 0 && first == 0) {
            first = ri;
            *err = e;
            e = NULL;
        }
        pr_error_free(e);
    }
    pods_list_clear(&sts);
    pods_list_clear(&ds);
    pods_list_clear(&pods);
    return first;
}

/* ---- the API server's defaults, written into what is stored ---- */

static void gen_int_or_string(yajl_gen g, const char *key, const struct kube_int_or_string *v)
{
    if (v->is_string)
        jg_key_str(g, key, v->s);
    else
        jg_key_int(g, key, v->i);
}

/* updateStrategy as decoded (its defaults filled in). */
static void gen_strategy(yajl_gen g, const struct kube_object *o)
{
    const struct kube_set *s = &o->u.set;
    jg_key(g, "updateStrategy");
    jg_map_open(g);
    jg_key_str(g, "type", s->update_strategy.type);
    if (streq(s->update_strategy.type, "RollingUpdate")) {
        jg_key(g, "rollingUpdate");
        jg_map_open(g);
        if (o->kind == KUBE_STATEFULSET) {
            jg_key_int(g, "partition", s->update_strategy.rolling_update.partition);
            if (s->update_strategy.rolling_update.max_unavailable.set)
                gen_int_or_string(g, "maxUnavailable",
                                  &s->update_strategy.rolling_update.max_unavailable);
        } else {
            gen_int_or_string(g, "maxUnavailable",
                              &s->update_strategy.rolling_update.max_unavailable);
            gen_int_or_string(g, "maxSurge", &s->update_strategy.rolling_update.max_surge);
        }
        jg_map_close(g);
    }
    jg_map_close(g);
}

static void gen_spec_defaults(yajl_gen g, const struct kube_object *o, yajl_val spec)
{
    jg_map_open(g);
    for (size_t i = 0; YAJL_IS_OBJECT(spec) && i < spec->u.object.len; i++) {
        const char *k = spec->u.object.keys[i];
        if (o->kind != KUBE_PVC && streq(k, "updateStrategy"))
            continue;
        if (o->kind == KUBE_STATEFULSET && streq(k, "persistentVolumeClaimRetentionPolicy"))
            continue;
        jg_key(g, k);
        jg_value(g, spec->u.object.values[i]);
    }
    if (o->kind == KUBE_PVC) {
        if (!json_get(spec, "storageClassName"))
            jg_key_str(g, "storageClassName", o->u.claim.storage_class);
        if (!json_get(spec, "volumeMode"))
            jg_key_str(g, "volumeMode", o->u.claim.volume_mode);
        jg_map_close(g);
        return;
    }
    const struct kube_set *s = &o->u.set;
    gen_strategy(g, o);
    if (!json_get(spec, "revisionHistoryLimit"))
        jg_key_int(g, "revisionHistoryLimit", s->w.revision_history_limit);
    if (o->kind == KUBE_STATEFULSET) {
        if (!json_get(spec, "replicas"))
            jg_key_int(g, "replicas", s->w.replicas);
        if (!json_get(spec, "podManagementPolicy"))
            jg_key_str(g, "podManagementPolicy", s->pod_management_policy);
        jg_key(g, "persistentVolumeClaimRetentionPolicy");
        jg_map_open(g);
        jg_key_str(g, "whenDeleted", s->retention.when_deleted);
        jg_key_str(g, "whenScaled", s->retention.when_scaled);
        jg_map_close(g);
    }
    jg_map_close(g);
}

int pods_object_defaulted(const struct kube_object *o, struct kube_object **out, pr_error **err)
{
    *out = NULL;
    if (o->kind != KUBE_STATEFULSET && o->kind != KUBE_DAEMONSET && o->kind != KUBE_PVC)
        return 0;
    yajl_val t = o->tree;
    _cleanup_gen_ yajl_gen g = json_gen_new(false);
    jg_map_open(g);
    for (size_t i = 0; YAJL_IS_OBJECT(t) && i < t->u.object.len; i++) {
        jg_key(g, t->u.object.keys[i]);
        if (streq(t->u.object.keys[i], "spec"))
            gen_spec_defaults(g, o, t->u.object.values[i]);
        else
            jg_value(g, t->u.object.values[i]);
    }
    jg_map_close(g);
    size_t len;
    const char *buf = jg_buf(g, &len);
    _cleanup_free_ char *text = xstrndup(buf, len);
    yajl_val d = NULL;
    int r = json_parse(text, "the object", &d, err);
    if (r < 0)
        return r;
    struct kube_object *n = NULL;
    if ((r = kube_object_decode(d, o->meta.name, &n, err)) < 0)
        return r;
    /* The namespace as the caller set it (apply -n). */
    n->meta.namespace_ = o->meta.namespace_;
    *out = n;
    return 0;
}

/* ---- updates the API server refuses ---- */

int pods_set_apply_check(pods_manager *m, const struct kube_object *o, pr_error **err)
{
    bool sts = o->kind == KUBE_STATEFULSET;
    _cleanup_json_ yajl_val rec = NULL;
    if (pods_object_load(m, sts ? STS : DS, o->meta.namespace_, o->meta.name, &rec, NULL) < 0)
        return 0; /* a new one */
    yajl_val old = json_get(json_get(rec, "object"), "spec"), now = json_get(o->tree, "spec");
    if (!sts) {
        if (!pods_json_equal(json_get(old, "selector"), json_get(now, "selector")))
            return pr_err_code(err, EPERM,
                               "DaemonSet.apps \"%s\" is invalid: spec.selector: Invalid value: "
                               "field is immutable",
                               o->meta.name);
        return 0;
    }
    /* What a StatefulSet may change (apps/validation: ValidateStatefulSetUpdate). */
    static const char *const mutable_[] = {"replicas",
                                           "ordinals",
                                           "template",
                                           "updateStrategy",
                                           "persistentVolumeClaimRetentionPolicy",
                                           "minReadySeconds",
                                           NULL};
    const yajl_val specs[] = {old, now};
    for (size_t k = 0; k < 2; k++)
        for (size_t i = 0; YAJL_IS_OBJECT(specs[k]) && i < specs[k]->u.object.len; i++) {
            const char *key = specs[k]->u.object.keys[i];
            bool ok = false;
            for (size_t j = 0; mutable_[j]; j++)
                ok |= streq(mutable_[j], key);
            if (!ok && !pods_json_equal(json_get(old, key), json_get(now, key)))
                return pr_err_code(err, EPERM,
                                   "StatefulSet.apps \"%s\" is invalid: spec: Forbidden: updates "
                                   "to statefulset spec for fields other than 'replicas', "
                                   "'ordinals', 'template', 'updateStrategy', "
                                   "'persistentVolumeClaimRetentionPolicy' and "
                                   "'minReadySeconds' are forbidden (%s)",
                                   o->meta.name, key);
        }
    return 0;
}

/* ---- status, computed when read ---- */

int pods_set_status(pods_manager *m, const char *resource, const struct pods_entry *set,
                    yajl_val *out, pr_error **err)
{
    bool sts = streq(resource, STS);
    _cleanup_free_ char *revision = NULL;
    struct pods_list pods = {0};
    int r = revision_of(set, sts, &revision, err);
    if (r == 0)
        r = pods_list(m, "pods", set->ns, NULL, &pods, err);
    if (r < 0) {
        pods_list_clear(&pods);
        return r;
    }
    yajl_val spec = json_get(set->object, "spec");
    int32_t min_ready = (int32_t)int_at(json_get(spec, "minReadySeconds"), 0);
    int64_t now = time(NULL);
    struct set_pod *v = NULL;
    size_t n = observe_set(m, &pods, set, sts, revision, &v);
    int32_t count = 0, ready = 0, available = 0, updated = 0, current = 0;
    for (size_t i = 0; i < n; i++) {
        if (finished(&v[i]))
            continue;
        count++;
        ready += v[i].p.ready;
        available += kube_pod_available(&v[i].p, min_ready, now);
        updated += v[i].updated;
    }
    _cleanup_free_ char *current_rev =
        sts ? current_revision(m, set, v, n, revision) : xstrdup(revision);
    for (size_t i = 0; i < n; i++)
        if (!finished(&v[i]) && pod_revision(v[i].e) && streq(pod_revision(v[i].e), current_rev))
            current++;
    _cleanup_gen_ yajl_gen g = json_gen_new(false);
    jg_map_open(g);
    jg_key_int(g, "observedGeneration", set->generation ? set->generation : 1);
    if (sts) {
        jg_key_int(g, "replicas", count);
        jg_key_int(g, "readyReplicas", ready);
        jg_key_int(g, "currentReplicas", current);
        jg_key_int(g, "updatedReplicas", updated);
        jg_key_int(g, "availableReplicas", available);
        jg_key_str(g, "currentRevision", current_rev);
        jg_key_str(g, "updateRevision", revision);
        jg_key_int(g, "collisionCount", 0);
    } else {
        bool wants = false;
        _cleanup_error_ pr_error *e = NULL;
        node_wants(m, set, &wants, &e);
        int32_t desired = wants ? 1 : 0;
        jg_key_int(g, "currentNumberScheduled", wants ? MIN(count, 1) : 0);
        jg_key_int(g, "numberMisscheduled", wants ? 0 : count);
        jg_key_int(g, "desiredNumberScheduled", desired);
        jg_key_int(g, "numberReady", wants ? ready : 0);
        jg_key_int(g, "updatedNumberScheduled", wants ? updated : 0);
        jg_key_int(g, "numberAvailable", wants ? available : 0);
        if (desired - (wants ? available : 0) > 0)
            jg_key_int(g, "numberUnavailable", desired - available);
    }
    jg_map_close(g);
    free(v);
    pods_list_clear(&pods);
    size_t len;
    const char *buf = jg_buf(g, &len);
    _cleanup_free_ char *text = xstrndup(buf, len);
    return json_parse(text, "a status", out, err);
}

int pods_object_status(pods_manager *m, const char *resource, const struct pods_entry *e,
                       yajl_val *out, pr_error **err)
{
    if (streq(resource, "deployments") || streq(resource, "replicasets"))
        return pods_workload_status(m, resource, e, out, err);
    if (streq(resource, STS) || streq(resource, DS))
        return pods_set_status(m, resource, e, out, err);
    if (streq(resource, "persistentvolumeclaims") || streq(resource, "persistentvolumes"))
        return pods_claim_status(m, resource, e, out, err);
    if (streq(resource, "jobs"))
        return pods_job_status(m, e, out, err);
    if (streq(resource, "cronjobs"))
        return pods_cronjob_status(m, e, out, err);
    if (streq(resource, "horizontalpodautoscalers"))
        return pods_hpa_status(m, e, out, err);
    return 0;
}
