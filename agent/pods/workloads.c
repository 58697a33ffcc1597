/* SPDX-License-Identifier: Apache-2.0 */
/* Deployments through ReplicaSets on this node: the I/O edge of libkube's pure decisions
 * (kube_rollout_step, kube_replicaset_plan). A reconcile reads every Deployment, ReplicaSet
 * and pod from disk, decides, and writes: new ReplicaSets (DEPLOY-<hash>, with the
 * pod-template-hash label and the revision annotation), their replicas, their pods
 * (RS-<suffix>, owned through ownerReferences), and the garbage collector's cascading deletes.
 * Status is not stored: it is computed from the pods whenever it is read. */
#include "manager.h"
#include "util.h"

#include <sys/random.h>
#include <stdio.h>
#include <time.h>

#define REVISION_KEY "deployment.kubernetes.io/revision"
#define HASH_LABEL   "pod-template-hash"
#define CAUSE_KEY    "kubernetes.io/change-cause"

struct observed {
    struct pods_list deps, rss, pods;
    int64_t wake_at; /* when a Ready pod turns available (minReadySeconds); 0: none */
};

static void observed_clear(struct observed *o)
{
    pods_list_clear(&o->deps);
    pods_list_clear(&o->rss);
    pods_list_clear(&o->pods);
}

static int observe(pods_manager *m, struct observed *o, pr_error **err)
{
    int r = pods_list(m, "deployments", NULL, NULL, &o->deps, err);
    if (r == 0)
        r = pods_list(m, "replicasets", NULL, NULL, &o->rss, err);
    if (r == 0)
        r = pods_list(m, "pods", NULL, NULL, &o->pods, err);
    return r;
}

const char *pods_controller_of(yajl_val obj, const char **kind)
{
    yajl_val refs = json_get(json_get(obj, "metadata"), "ownerReferences");
    for (size_t i = 0; i < json_array_len(refs); i++) {
        yajl_val ref = json_array_at(refs, i), c = json_get(ref, "controller");
        if (c && YAJL_IS_TRUE(c)) {
            if (kind)
                *kind = YAJL_GET_STRING(json_get(ref, "kind"));
            return YAJL_GET_STRING(json_get(ref, "uid"));
        }
    }
    return NULL;
}

static const char *controller_uid(yajl_val obj)
{
    return pods_controller_of(obj, NULL);
}

/* Whether the object's controller is a ReplicaSet (other controllers collect their own). */
static bool controller_is_rs(yajl_val obj)
{
    const char *kind = NULL;
    return pods_controller_of(obj, &kind) && kind && streq(kind, "ReplicaSet");
}

int pods_collect_orphans(pods_manager *m, const char *owners, const char *owner_kind,
                         const char *dependents, pr_error **err)
{
    struct pods_list own = {0}, deps = {0};
    int r = pods_list(m, owners, NULL, NULL, &own, err);
    if (r == 0)
        r = pods_list(m, dependents, NULL, NULL, &deps, err);
    for (size_t i = 0; r == 0 && i < deps.n; i++) {
        const char *kind = NULL, *u = pods_controller_of(deps.v[i].object, &kind);
        if (!u || !kind || !streq(kind, owner_kind))
            continue;
        bool found = false;
        for (size_t j = 0; !found && j < own.n; j++)
            found = streq(own.v[j].uid, u);
        if (!found)
            r = pods_delete(m, dependents, deps.v[i].ns, deps.v[i].name, err);
    }
    pods_list_clear(&own);
    pods_list_clear(&deps);
    return r;
}

static bool owned_by(const struct pods_entry *e, const struct pods_entry *owner)
{
    const char *u = controller_uid(e->object);
    return u && streq(u, owner->uid) && e->ns && owner->ns && streq(e->ns, owner->ns);
}

static const char *label(yajl_val obj, const char *key)
{
    return YAJL_GET_STRING(json_get(json_get(json_get(obj, "metadata"), "labels"), key));
}

static const char *annotation(yajl_val obj, const char *key)
{
    return YAJL_GET_STRING(json_get(json_get(json_get(obj, "metadata"), "annotations"), key));
}

static int64_t int_at(yajl_val v, int64_t def)
{
    return v && YAJL_IS_INTEGER(v) ? YAJL_GET_INTEGER(v) : def;
}

static int32_t spec_replicas(yajl_val obj)
{
    return (int32_t)int_at(json_get(json_get(obj, "spec"), "replicas"), 1);
}

/* When the pod's containers last started (status.json's startedAt, RFC 3339 in UTC): for a
 * container without a readiness probe, when it turned Ready. 0 when unknown. */
static int64_t last_started(yajl_val status)
{
    yajl_val cs = json_get(status, "containerStatuses");
    int64_t last = 0;
    for (size_t i = 0; i < json_array_len(cs); i++) {
        const char *t = YAJL_GET_STRING(json_get(json_array_at(cs, i), "startedAt"));
        struct tm tm = {0};
        if (t && strptime(t, "%Y-%m-%dT%H:%M:%S", &tm))
            last = MAX(last, (int64_t)timegm(&tm));
    }
    return last;
}

/* A pod as its ReplicaSet sees it: *dead when its shim is gone while it should run. */
static void observe_pod(pods_manager *m, const struct pods_entry *e, struct kube_owned_pod *p,
                        bool *dead)
{
    const char *phase = YAJL_GET_STRING(json_get(e->status, "phase"));
    *p = (struct kube_owned_pod){
        .name = e->name,
        .phase = phase ? phase : "Pending",
        .created = e->created,
        .ready_since = last_started(e->status) ? last_started(e->status) : e->created,
        .restarts = (int32_t)e->restarts,
    };
    p->ready = streq(p->phase, "Running") && e->total > 0 && e->ready == e->total;
    /* A pod being made (seen by a reader before its shim starts) is not dead. */
    *dead = !(e->creating && !pods_manager_exclusive(m)) && !pods_pod_shim_running(m, e->uid) &&
            !pods_pod_waiting(m, e->uid) && !streq(p->phase, "Succeeded") &&
            !streq(p->phase, "Failed");
    if (*dead)
        p->phase = "Failed";
}

struct rs_counts {
    int32_t pods, ready, available;
    int64_t newest; /* the latest creation of one of its active pods */
};

static void count_pods(pods_manager *m, struct observed *o, const struct pods_entry *rs,
                       int32_t min_ready, int64_t now, struct rs_counts *c)
{
    *c = (struct rs_counts){0};
    for (size_t i = 0; i < o->pods.n; i++) {
        if (!owned_by(&o->pods.v[i], rs))
            continue;
        struct kube_owned_pod p;
        bool dead;
        observe_pod(m, &o->pods.v[i], &p, &dead);
        if (!kube_pod_active(&p))
            continue;
        c->pods++;
        c->newest = MAX(c->newest, p.created);
        c->ready += p.ready;
        bool available = kube_pod_available(&p, min_ready, now);
        c->available += available;
        /* Turning available changes no file: the loop must wake for it. */
        if (p.ready && !available) {
            int64_t at = p.ready_since + min_ready;
            o->wake_at = o->wake_at ? MIN(o->wake_at, at) : at;
        }
    }
}

/* ---- writing objects ---- */

/* obj with spec.replicas set to n, as a new tree. */
static int with_replicas(yajl_val obj, int32_t n, yajl_val *out, pr_error **err)
{
    _cleanup_gen_ yajl_gen g = json_gen_new(false);
    jg_map_open(g);
    for (size_t i = 0; i < obj->u.object.len; i++) {
        const char *k = obj->u.object.keys[i];
        yajl_val v = obj->u.object.values[i];
        jg_key(g, k);
        if (!streq(k, "spec") || !YAJL_IS_OBJECT(v)) {
            jg_value(g, v);
            continue;
        }
        jg_map_open(g);
        for (size_t j = 0; j < v->u.object.len; j++)
            if (!streq(v->u.object.keys[j], "replicas")) {
                jg_key(g, v->u.object.keys[j]);
                jg_value(g, v->u.object.values[j]);
            }
        jg_key_int(g, "replicas", n);
        jg_map_close(g);
    }
    jg_map_close(g);
    size_t len;
    const char *buf = jg_buf(g, &len);
    _cleanup_free_ char *text = xstrndup(buf, len);
    return json_parse(text, "an object", out, err);
}

static int save_entry(pods_manager *m, const char *resource, const struct pods_entry *e,
                      yajl_val obj, pr_error **err)
{
    /* A change of spec: one more generation, as the API server counts them. */
    return pods_object_save_gen(m, resource, e->ns, e->name, obj, e->uid, e->created,
                                (e->generation ? e->generation : 1) + 1, err);
}

static int set_replicas(pods_manager *m, const char *resource, struct pods_entry *e, int32_t n,
                        pr_error **err);

/* The Deployment controller scales one of its ReplicaSets, and says so. */
static int scale_rs(pods_manager *m, const struct pods_entry *d, struct pods_entry *rs, int32_t n,
                    pr_error **err)
{
    int32_t was = spec_replicas(rs->object);
    int r = set_replicas(m, "replicasets", rs, n, err);
    if (r == 0 && n != was)
        pods_workload_event(m, "deployments", d, "Normal", "ScalingReplicaSet",
                            "Scaled %s replica set %s to %d", n > was ? "up" : "down", rs->name, n);
    return r;
}

static int set_replicas(pods_manager *m, const char *resource, struct pods_entry *e, int32_t n,
                        pr_error **err)
{
    yajl_val t = NULL;
    int r = with_replicas(e->object, n, &t, err);
    if (r == 0)
        r = save_entry(m, resource, e, t, err);
    if (r == 0) {
        yajl_tree_free(e->object);
        e->object = t;
        e->generation = (e->generation ? e->generation : 1) + 1;
    } else if (t) {
        yajl_tree_free(t);
    }
    return r;
}

static void gen_owner(yajl_gen g, const char *kind, const char *name, const char *uid)
{
    jg_key(g, "ownerReferences");
    jg_array_open(g);
    jg_map_open(g);
    jg_key_str(g, "apiVersion", kind[0] == 'P' ? "v1" : "apps/v1");
    jg_key_str(g, "kind", kind);
    jg_key_str(g, "name", name);
    jg_key_str(g, "uid", uid);
    jg_key_bool(g, "controller", true);
    jg_key_bool(g, "blockOwnerDeletion", true);
    jg_map_close(g);
    jg_array_close(g);
}

/* name: the map labels, plus key=value when key is given. */
static void gen_map_plus(yajl_gen g, const char *name, yajl_val labels, const char *key,
                         const char *value)
{
    jg_key(g, name);
    jg_map_open(g);
    for (size_t i = 0; YAJL_IS_OBJECT(labels) && i < labels->u.object.len; i++)
        if (!key || !streq(labels->u.object.keys[i], key)) {
            jg_key(g, labels->u.object.keys[i]);
            jg_value(g, labels->u.object.values[i]);
        }
    if (key)
        jg_key_str(g, key, value);
    jg_map_close(g);
}

static int tree_of(yajl_gen g, yajl_val *out, pr_error **err)
{
    size_t len;
    const char *buf = jg_buf(g, &len);
    _cleanup_free_ char *text = xstrndup(buf, len);
    return json_parse(text, "an object", out, err);
}

static int new_name_suffix(char out[KUBE_SUFFIX_LEN + 1], pr_error **err)
{
    unsigned char rnd[KUBE_SUFFIX_LEN];
    if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
        return pr_err(err, errno, "getrandom");
    kube_name_suffix(rnd, out);
    return 0;
}

/* Applies a tree made here (a ReplicaSet or a pod) through the same checks as a manifest. */
static int apply_tree(pods_manager *m, yajl_val t, const char *what, pr_error **err)
{
    struct kube_object *o = NULL;
    int r = kube_object_decode(t, what, &o, err);
    enum pods_apply_result res;
    if (r == 0)
        r = pods_apply(m, o, &res, err);
    kube_object_free(o);
    return r;
}

/* A pod of the ReplicaSet from its template, named RS-<suffix>. */
static int create_pod(pods_manager *m, const struct pods_entry *rs, pr_error **err)
{
    yajl_val tpl = json_get(json_get(rs->object, "spec"), "template");
    yajl_val tmeta = json_get(tpl, "metadata");
    char suffix[KUBE_SUFFIX_LEN + 1];
    int r = new_name_suffix(suffix, err);
    if (r < 0)
        return r;
    _cleanup_free_ char *name = xasprintf("%s-%s", rs->name, suffix);
    _cleanup_gen_ yajl_gen g = json_gen_new(false);
    jg_map_open(g);
    jg_key_str(g, "apiVersion", "v1");
    jg_key_str(g, "kind", "Pod");
    jg_key(g, "metadata");
    jg_map_open(g);
    jg_key_str(g, "name", name);
    jg_key_str(g, "namespace", rs->ns);
    gen_map_plus(g, "labels", json_get(tmeta, "labels"), NULL, NULL);
    yajl_val ann = json_get(tmeta, "annotations");
    if (ann) {
        jg_key(g, "annotations");
        jg_value(g, ann);
    }
    gen_owner(g, "ReplicaSet", rs->name, rs->uid);
    jg_map_close(g);
    jg_key(g, "spec");
    jg_value(g, json_get(tpl, "spec"));
    jg_map_close(g);
    yajl_val t = NULL;
    if ((r = tree_of(g, &t, err)) < 0 || (r = apply_tree(m, t, name, err)) < 0)
        return r;
    pods_workload_event(m, "replicasets", rs, "Normal", "SuccessfulCreate", "Created pod: %s",
                        name);
    return 0;
}

/* ---- the ReplicaSet controller ---- */

static int reconcile_rs(pods_manager *m, const struct observed *o, const struct pods_entry *rs,
                        int64_t now, pr_error **err)
{
    (void)now;
    struct kube_owned_pod *pods = xcalloc(o->pods.n + 1, sizeof(*pods));
    const struct pods_entry **ents = xcalloc(o->pods.n + 1, sizeof(*ents));
    size_t n = 0;
    int r = 0;
    for (size_t i = 0; r == 0 && i < o->pods.n; i++) {
        const struct pods_entry *e = &o->pods.v[i];
        if (!owned_by(e, rs))
            continue;
        bool dead;
        observe_pod(m, e, &pods[n], &dead);
        /* A pod whose shim died runs nothing any more: it is replaced, as a node's lost
         * pods are. */
        if (dead) {
            _cleanup_error_ pr_error *e2 = NULL;
            pods_delete_grace(m, "pods", e->ns, e->name, 0, &e2);
            continue;
        }
        ents[n++] = e;
    }
    struct kube_replicaset_plan plan = {0};
    kube_replicaset_plan(spec_replicas(rs->object), pods, n, &plan);
    struct pods_ref *del = xcalloc(plan.n_delete + 1, sizeof(*del));
    for (size_t i = 0; i < plan.n_delete; i++)
        del[i] = (struct pods_ref){ents[plan.delete_idx[i]]->ns, ents[plan.delete_idx[i]]->name};
    r = pods_delete_pods(m, del, plan.n_delete, -1, err);
    for (size_t i = 0; r == 0 && i < plan.n_delete; i++)
        pods_workload_event(m, "replicasets", rs, "Normal", "SuccessfulDelete", "Deleted pod: %s",
                            del[i].name);
    free(del);
    for (size_t i = 0; r == 0 && i < plan.create; i++)
        r = create_pod(m, rs, err);
    kube_replicaset_plan_clear(&plan);
    free(pods);
    free(ents);
    return r;
}

/* ---- the Deployment controller ---- */

static long revision_of(yajl_val obj)
{
    const char *s =
        YAJL_GET_STRING(json_get(json_get(json_get(obj, "metadata"), "annotations"), REVISION_KEY));
    return s ? strtol(s, NULL, 10) : 0;
}

/* The Deployment's ReplicaSet for the template with this hash: DEPLOY-<hash>, 0 replicas. */
static int create_rs(pods_manager *m, const struct pods_entry *d, const char *hash, long revision,
                     pr_error **err)
{
    yajl_val spec = json_get(d->object, "spec"), tpl = json_get(spec, "template");
    yajl_val sel = json_get(spec, "selector"), tmeta = json_get(tpl, "metadata");
    _cleanup_free_ char *name = xasprintf("%s-%s", d->name, hash);
    _cleanup_free_ char *desired = xasprintf("%d", spec_replicas(d->object));
    _cleanup_free_ char *rev = xasprintf("%ld", revision);
    _cleanup_gen_ yajl_gen g = json_gen_new(false);
    jg_map_open(g);
    jg_key_str(g, "apiVersion", "apps/v1");
    jg_key_str(g, "kind", "ReplicaSet");
    jg_key(g, "metadata");
    jg_map_open(g);
    jg_key_str(g, "name", name);
    jg_key_str(g, "namespace", d->ns);
    gen_map_plus(g, "labels", json_get(tmeta, "labels"), HASH_LABEL, hash);
    jg_key(g, "annotations");
    jg_map_open(g);
    jg_key_str(g, "deployment.kubernetes.io/desired-replicas", desired);
    jg_key_str(g, REVISION_KEY, rev);
    /* The Deployment's change-cause goes with the revision it made: rollout history shows it. */
    jg_key_str(g, CAUSE_KEY, annotation(d->object, CAUSE_KEY));
    jg_map_close(g);
    gen_owner(g, "Deployment", d->name, d->uid);
    jg_map_close(g);
    jg_key(g, "spec");
    jg_map_open(g);
    jg_key_int(g, "replicas", 0);
    jg_key_int(g, "minReadySeconds", int_at(json_get(spec, "minReadySeconds"), 0));
    jg_key(g, "selector");
    jg_map_open(g);
    for (size_t i = 0; YAJL_IS_OBJECT(sel) && i < sel->u.object.len; i++)
        if (!streq(sel->u.object.keys[i], "matchLabels")) {
            jg_key(g, sel->u.object.keys[i]);
            jg_value(g, sel->u.object.values[i]);
        }
    gen_map_plus(g, "matchLabels", json_get(sel, "matchLabels"), HASH_LABEL, hash);
    jg_map_close(g);
    jg_key(g, "template");
    jg_map_open(g);
    jg_key(g, "metadata");
    jg_map_open(g);
    for (size_t i = 0; YAJL_IS_OBJECT(tmeta) && i < tmeta->u.object.len; i++)
        if (!streq(tmeta->u.object.keys[i], "labels")) {
            jg_key(g, tmeta->u.object.keys[i]);
            jg_value(g, tmeta->u.object.values[i]);
        }
    gen_map_plus(g, "labels", json_get(tmeta, "labels"), HASH_LABEL, hash);
    jg_map_close(g);
    jg_key(g, "spec");
    jg_value(g, json_get(tpl, "spec"));
    jg_map_close(g);
    jg_map_close(g);
    jg_map_close(g);
    yajl_val t = NULL;
    int r = tree_of(g, &t, err);
    return r < 0 ? r : apply_tree(m, t, name, err);
}

struct rs_marks {
    const char *revision, *cause;
    yajl_val old;
};

static void put_marks(yajl_gen g, void *ctx)
{
    const struct rs_marks *k = ctx;
    jg_map_open(g);
    for (size_t i = 0; YAJL_IS_OBJECT(k->old) && i < k->old->u.object.len; i++)
        if (!streq(k->old->u.object.keys[i], REVISION_KEY) &&
            !streq(k->old->u.object.keys[i], CAUSE_KEY)) {
            jg_key(g, k->old->u.object.keys[i]);
            jg_value(g, k->old->u.object.values[i]);
        }
    jg_key_str(g, REVISION_KEY, k->revision);
    jg_key_str(g, CAUSE_KEY, k->cause);
    jg_map_close(g);
}

/* The template the Deployment came back to (an undo, or a change reverted) is its newest
 * revision again, with the Deployment's change-cause, as Kubernetes renumbers it. */
static int mark_current(pods_manager *m, const struct pods_entry *d, struct pods_entry *rs,
                        long max_rev, pr_error **err)
{
    long rev = revision_of(rs->object);
    const char *cause = annotation(d->object, CAUSE_KEY), *had = annotation(rs->object, CAUSE_KEY);
    bool same_cause = (!cause && !had) || (cause && had && streq(cause, had));
    if (rev >= max_rev && same_cause)
        return 0;
    _cleanup_free_ char *text = xasprintf("%ld", rev >= max_rev ? rev : max_rev + 1);
    struct rs_marks k = {text, cause, json_get(json_get(rs->object, "metadata"), "annotations")};
    static const char *const path[] = {"metadata", "annotations", NULL};
    yajl_val t = NULL;
    int r = json_with(rs->object, path, put_marks, &k, &t, err);
    if (r == 0)
        r = pods_object_save_gen(m, "replicasets", rs->ns, rs->name, t, rs->uid, rs->created,
                                 rs->generation ? rs->generation : 1, err);
    if (r == 0) {
        yajl_tree_free(rs->object);
        rs->object = t;
    } else if (t) {
        yajl_tree_free(t);
    }
    return r;
}

/* A paused Deployment makes no new ReplicaSet and rolls nothing; its replicas still apply,
 * to the one ReplicaSet that runs (or the newest), as Kubernetes' scale does when paused. */
static int scale_paused(pods_manager *m, const struct pods_entry *d, struct pods_entry **rs,
                        size_t n, pr_error **err)
{
    size_t active = 0, pick = SIZE_MAX, newest = SIZE_MAX;
    for (size_t i = 0; i < n; i++) {
        if (spec_replicas(rs[i]->object) > 0) {
            active++;
            pick = i;
        }
        if (newest == SIZE_MAX || revision_of(rs[i]->object) > revision_of(rs[newest]->object))
            newest = i;
    }
    if (active == 0)
        pick = newest;
    if (active > 1 || pick == SIZE_MAX ||
        spec_replicas(rs[pick]->object) == spec_replicas(d->object))
        return 0;
    return scale_rs(m, d, rs[pick], spec_replicas(d->object), err);
}

/* The rollout's parameters from a stored Deployment (checked when it was applied). */
static int rollout_of(yajl_val obj, struct kube_rollout *d, int32_t *min_ready, int32_t *history,
                      pr_error **err)
{
    yajl_val spec = json_get(obj, "spec"), st = json_get(spec, "strategy");
    yajl_val ru = json_get(st, "rollingUpdate");
    const char *type = YAJL_GET_STRING(json_get(st, "type"));
    yajl_val paused = json_get(spec, "paused");
    *d = (struct kube_rollout){
        .replicas = spec_replicas(obj),
        .recreate = type && streq(type, "Recreate"),
        .paused = paused && YAJL_IS_TRUE(paused),
    };
    const char *keys[] = {"maxSurge", "maxUnavailable"};
    struct kube_int_or_string *v[] = {&d->max_surge, &d->max_unavailable};
    for (size_t i = 0; i < 2; i++) {
        yajl_val x = json_get(ru, keys[i]);
        if (x && YAJL_IS_INTEGER(x))
            *v[i] = (struct kube_int_or_string){.set = true, .i = YAJL_GET_INTEGER(x)};
        else if (x && YAJL_IS_STRING(x))
            *v[i] = (struct kube_int_or_string){.set = true, .is_string = true, .s = x->u.string};
        else
            *v[i] = (struct kube_int_or_string){.set = true, .is_string = true, .s = "25%"};
    }
    *min_ready = (int32_t)int_at(json_get(spec, "minReadySeconds"), 0);
    *history = (int32_t)int_at(json_get(spec, "revisionHistoryLimit"), 10);
    (void)err;
    return 0;
}

static int reconcile_deployment_once(pods_manager *m, struct observed *o,
                                     const struct pods_entry *d, int64_t now, bool fresh,
                                     pr_error **err)
{
    char hash[KUBE_HASH_MAX];
    yajl_val tpl = json_get(json_get(d->object, "spec"), "template");
    struct kube_rollout ro;
    int32_t min_ready, history;
    int r = kube_template_hash(tpl, 0, hash, err);
    if (r < 0 || (r = rollout_of(d->object, &ro, &min_ready, &history, err)) < 0)
        return r;
    size_t n = 0, new_idx = SIZE_MAX;
    long max_rev = 0;
    struct pods_entry **rs = xcalloc(o->rss.n + 1, sizeof(*rs));
    for (size_t i = 0; i < o->rss.n; i++)
        if (owned_by(&o->rss.v[i], d)) {
            const char *h = label(o->rss.v[i].object, HASH_LABEL);
            if (h && streq(h, hash))
                new_idx = n;
            max_rev = MAX(max_rev, revision_of(o->rss.v[i].object));
            rs[n++] = &o->rss.v[i];
        }
    if (ro.paused) {
        r = scale_paused(m, d, rs, n, err);
        free(rs);
        return r;
    }
    if (new_idx == SIZE_MAX) {
        /* The template changed (or is new): its ReplicaSet, then the rollout's first step in
         * this same pass (apply makes the pods, not only their ReplicaSet). */
        free(rs);
        if (fresh || (r = create_rs(m, d, hash, max_rev + 1, err)) < 0)
            return r < 0 ? r : pr_err(err, 0, "the ReplicaSet %s-%s did not appear", d->name, hash);
        pods_list_clear(&o->rss);
        if ((r = pods_list(m, "replicasets", NULL, NULL, &o->rss, err)) < 0)
            return r;
        return reconcile_deployment_once(m, o, d, now, true, err);
    }
    if ((r = mark_current(m, d, rs[new_idx], max_rev, err)) < 0) {
        free(rs);
        return r;
    }
    struct kube_rs_state *st = xcalloc(n, sizeof(*st));
    int32_t *want = xcalloc(n, sizeof(*want));
    for (size_t i = 0; i < n; i++) {
        struct rs_counts c;
        count_pods(m, o, rs[i], min_ready, now, &c);
        st[i] = (struct kube_rs_state){rs[i]->created, spec_replicas(rs[i]->object), c.pods,
                                       c.available};
    }
    r = kube_rollout_step(&ro, st, n, new_idx, want, err);
    for (size_t i = 0; r == 0 && i < n; i++)
        if (want[i] != st[i].replicas)
            r = scale_rs(m, d, rs[i], want[i], err);
    /* Old ReplicaSets scaled to nothing beyond revisionHistoryLimit go, oldest first. */
    size_t idle = 0;
    for (size_t i = 0; i < n; i++)
        idle += i != new_idx && want[i] == 0 && st[i].pods == 0;
    while (r == 0 && idle > (size_t)history) {
        size_t oldest = SIZE_MAX;
        for (size_t i = 0; i < n; i++)
            if (i != new_idx && rs[i] && want[i] == 0 && st[i].pods == 0 &&
                (oldest == SIZE_MAX ||
                 revision_of(rs[i]->object) < revision_of(rs[oldest]->object)))
                oldest = i;
        if (oldest == SIZE_MAX)
            break;
        r = pods_object_remove(m, "replicasets", rs[oldest]->ns, rs[oldest]->name, err);
        rs[oldest] = NULL;
        idle--;
    }
    free(st);
    free(want);
    free(rs);
    return r;
}

static int reconcile_deployment(pods_manager *m, struct observed *o, const struct pods_entry *d,
                                int64_t now, pr_error **err)
{
    return reconcile_deployment_once(m, o, d, now, false, err);
}

/* ---- the garbage collector ---- */

static bool owner_exists(const struct pods_entry *e, const struct pods_list *owners)
{
    const char *u = controller_uid(e->object);
    if (!u)
        return true; /* not a dependent */
    for (size_t i = 0; i < owners->n; i++)
        if (streq(owners->v[i].uid, u))
            return true;
    return false;
}

int pods_workloads_collect(pods_manager *m, pr_error **err)
{
    struct observed o = {0};
    int r = observe(m, &o, err);
    for (size_t i = 0; r == 0 && i < o.rss.n; i++)
        if (!owner_exists(&o.rss.v[i], &o.deps))
            r = pods_object_remove(m, "replicasets", o.rss.v[i].ns, o.rss.v[i].name, err);
    observed_clear(&o);
    if (r == 0)
        r = observe(m, &o, err);
    struct pods_ref *del = xcalloc(o.pods.n + 1, sizeof(*del));
    size_t n = 0;
    for (size_t i = 0; r == 0 && i < o.pods.n; i++) {
        const char *u = controller_uid(o.pods.v[i].object);
        if (u && controller_is_rs(o.pods.v[i].object) && !owner_exists(&o.pods.v[i], &o.rss))
            del[n++] = (struct pods_ref){o.pods.v[i].ns, o.pods.v[i].name};
    }
    if (r == 0)
        r = pods_delete_pods(m, del, n, -1, err);
    free(del);
    observed_clear(&o);
    return r;
}

/* Keeps the first error and goes on: one workload that cannot progress (a pod whose image
 * cannot be pulled) must not hold the others back. */
static void keep_first(int r, pr_error **e, int *first, pr_error **err)
{
    if (r < 0 && *first == 0) {
        *first = r;
        *err = *e;
        *e = NULL;
    }
    pr_error_free(*e);
    *e = NULL;
}

int pods_reconcile(pods_manager *m, bool *workloads, int64_t *wake_at, pr_error **err)
{
    int64_t now = time(NULL);
    int first = 0;
    pr_error *e = NULL;
    keep_first(pods_workloads_collect(m, &e), &e, &first, err);
    struct observed o = {0};
    int r = observe(m, &o, &e);
    keep_first(r, &e, &first, err);
    for (size_t i = 0; r == 0 && i < o.deps.n; i++)
        keep_first(reconcile_deployment(m, &o, &o.deps.v[i], now, &e), &e, &first, err);
    if (wake_at)
        *wake_at = o.wake_at;
    observed_clear(&o);
    /* The ReplicaSets as the Deployments left them. */
    if (r == 0) {
        r = observe(m, &o, &e);
        keep_first(r, &e, &first, err);
    }
    for (size_t i = 0; r == 0 && i < o.rss.n; i++)
        keep_first(reconcile_rs(m, &o, &o.rss.v[i], now, &e), &e, &first, err);
    if (workloads)
        *workloads = r < 0 || o.deps.n + o.rss.n > 0;
    observed_clear(&o);
    /* StatefulSets and DaemonSets, then claims waiting for their pods to go. */
    bool sets = false, claims = false;
    keep_first(pods_sets_reconcile(m, &sets, &e), &e, &first, err);
    keep_first(pods_claims_collect(m, &claims, &e), &e, &first, err);
    if (workloads)
        *workloads = *workloads || sets || claims;
    /* CronJobs make Jobs, which make pods (cronjobs.c, jobs.c). */
    bool cronjobs = false, jobs = false;
    int64_t cron_wake = 0, job_wake = 0;
    keep_first(pods_cronjobs_reconcile(m, &cronjobs, &cron_wake, &e), &e, &first, err);
    keep_first(pods_jobs_reconcile(m, &jobs, &job_wake, &e), &e, &first, err);
    if (workloads)
        *workloads |= jobs || cronjobs;
    if (wake_at && job_wake)
        *wake_at = *wake_at ? MIN(*wake_at, job_wake) : job_wake;
    if (wake_at && cron_wake)
        *wake_at = *wake_at ? MIN(*wake_at, cron_wake) : cron_wake;
    /* HorizontalPodAutoscalers (hpa.c): a timer only while one exists. */
    bool hpas = false;
    int64_t hpa_wake = 0;
    keep_first(pods_hpas_reconcile(m, &hpas, &hpa_wake, &e), &e, &first, err);
    if (workloads)
        *workloads |= hpas;
    if (wake_at && hpa_wake)
        *wake_at = *wake_at ? MIN(*wake_at, hpa_wake) : hpa_wake;
    /* Services follow their pods' readiness (the loop's pass ends with their sync) and the
     * cluster DNS's and the Ingress controller's servers are restarted when they die: the loop
     * runs while a Service or an Ingress is stored, as kube-proxy runs on every node. */
    if (workloads)
        *workloads |= pods_objects_stored(m, "services") || pods_objects_stored(m, "ingresses");
    return first;
}

/* ---- status, computed when read ---- */

int pods_workload_status(pods_manager *m, const char *resource, const struct pods_entry *e,
                         yajl_val *out, pr_error **err)
{
    struct observed o = {0};
    int r = observe(m, &o, err);
    if (r < 0) {
        observed_clear(&o);
        return r;
    }
    int64_t now = time(NULL);
    struct kube_rollout ro;
    int32_t min_ready = 0, history, replicas = 0, ready = 0, available = 0, updated = 0;
    bool deploy = streq(resource, "deployments");
    if (deploy)
        rollout_of(e->object, &ro, &min_ready, &history, NULL);
    else
        min_ready = (int32_t)int_at(json_get(json_get(e->object, "spec"), "minReadySeconds"), 0);
    char hash[KUBE_HASH_MAX] = "";
    if (deploy)
        kube_template_hash(json_get(json_get(e->object, "spec"), "template"), 0, hash, NULL);
    bool complete = false;
    int64_t progress = 0; /* the last sign of progress: the new ReplicaSet or a pod of it made */
    for (size_t i = 0; i < o.rss.n; i++) {
        const struct pods_entry *rs = &o.rss.v[i];
        if (deploy ? !owned_by(rs, e) : !streq(rs->uid, e->uid))
            continue;
        struct rs_counts c;
        count_pods(m, &o, rs, min_ready, now, &c);
        replicas += c.pods;
        ready += c.ready;
        available += c.available;
        const char *h = label(rs->object, HASH_LABEL);
        if (deploy && h && streq(h, hash)) {
            updated = c.pods;
            progress = MAX(rs->created, c.newest);
            complete = c.available >= ro.replicas && spec_replicas(rs->object) == ro.replicas;
        }
    }
    int32_t want = spec_replicas(e->object);
    _cleanup_gen_ yajl_gen g = json_gen_new(false);
    jg_map_open(g);
    /* Each reconcile is synchronous with the change that called it, and status is counted
     * when read: it always reflects the latest generation. */
    jg_key_int(g, "observedGeneration", e->generation ? e->generation : 1);
    jg_key_int(g, "replicas", replicas);
    if (deploy)
        jg_key_int(g, "updatedReplicas", updated);
    else
        jg_key_int(g, "fullyLabeledReplicas", replicas);
    jg_key_int(g, "readyReplicas", ready);
    jg_key_int(g, "availableReplicas", available);
    if (deploy && replicas - available > 0)
        jg_key_int(g, "unavailableReplicas", replicas - available);
    if (deploy) {
        int32_t surge = 0, unavail = 0;
        kube_rollout_limits(&ro, &surge, &unavail, NULL);
        bool avail = available >= want - unavail;
        jg_key(g, "conditions");
        jg_array_open(g);
        jg_map_open(g);
        jg_key_str(g, "type", "Available");
        jg_key_str(g, "status", avail ? "True" : "False");
        jg_key_str(g, "reason", avail ? "MinimumReplicasAvailable" : "MinimumReplicasUnavailable");
        jg_key_str(g, "message",
                   avail ? "Deployment has minimum availability."
                         : "Deployment does not have minimum availability.");
        jg_map_close(g);
        /* Nothing made nor turned available for progressDeadlineSeconds: the rollout is said
         * to have failed (it goes on, as in Kubernetes, and a change of template restarts the
         * clock). */
        int64_t deadline =
            int_at(json_get(json_get(e->object, "spec"), "progressDeadlineSeconds"), 600);
        bool stuck = !complete && !ro.paused && progress && now - progress > deadline;
        jg_map_open(g);
        jg_key_str(g, "type", "Progressing");
        jg_key_str(g, "status", stuck ? "False" : "True");
        jg_key_str(g, "reason",
                   complete ? "NewReplicaSetAvailable"
                   : stuck  ? "ProgressDeadlineExceeded"
                            : "ReplicaSetUpdated");
        _cleanup_free_ char *msg =
            xasprintf(complete ? "ReplicaSet \"%s-%s\" has successfully progressed."
                      : stuck  ? "ReplicaSet \"%s-%s\" has timed out progressing."
                               : "ReplicaSet \"%s-%s\" is progressing.",
                      e->name, hash);
        jg_key_str(g, "message", msg);
        jg_map_close(g);
        jg_array_close(g);
    }
    jg_map_close(g);
    observed_clear(&o);
    return tree_of(g, out, err);
}

int pods_scale(pods_manager *m, const char *resource, const char *ns, const char *name,
               int32_t replicas, pr_error **err)
{
    struct pods_list l = {0};
    int r = pods_list(m, resource, ns, name, &l, err);
    if (r == 0)
        r = set_replicas(m, resource, &l.v[0], replicas, err);
    pods_list_clear(&l);
    return r;
}

/* ---- for the other controllers (sets.c) ---- */

const char *pods_controller_uid(yajl_val obj)
{
    return controller_uid(obj);
}

void pods_observe_owned(pods_manager *m, const struct pods_entry *e, struct kube_owned_pod *p,
                        bool *dead)
{
    observe_pod(m, e, p, dead);
}

void pods_gen_owner(yajl_gen g, const char *kind, const char *name, const char *uid)
{
    gen_owner(g, kind, name, uid);
}

int pods_apply_gen(pods_manager *m, yajl_gen g, const char *what, pr_error **err)
{
    yajl_val t = NULL;
    int r = tree_of(g, &t, err);
    return r < 0 ? r : apply_tree(m, t, what, err);
}
