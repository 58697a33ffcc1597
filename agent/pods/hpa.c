/* SPDX-License-Identifier: Apache-2.0 */
/* HorizontalPodAutoscalers on this node: the HPA controller's I/O edge. Every sync period
 * (15 s, PODRUN_HPA_SYNC_PERIOD for tests) each HPA samples its target's pods from their
 * cgroups (pods_pod_usage: CPU time, whose rate since the last sample is the usage, and the
 * working set), asks libkube for the replicas (kube_hpa_resource_replicas, kube_hpa_normalize)
 * and scales the target. What a sample cannot tell again, the previous CPU times, the
 * recommendations of the stabilisation window and the status, is kept beside the HPA
 * (objects/hpastatus/NS/NAME.json, with the HPA's uid). */
#include "manager.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define STATUS_RES     "hpastatus"
#define SYNC_PERIOD_MS 15000
#define RECS_MAX       4096 /* recommendations kept: an hour of 1 s samples */

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t sync_period_ms(void)
{
    const char *s = getenv("PODRUN_HPA_SYNC_PERIOD");
    char *end;
    double v = s && *s ? strtod(s, &end) : 0;
    return s && *s && !*end && v >= 0.1 && v <= 3600 ? (int64_t)(v * 1000) : SYNC_PERIOD_MS;
}

static int64_t int_at(yajl_val v, int64_t def)
{
    return v && YAJL_IS_INTEGER(v) ? YAJL_GET_INTEGER(v) : def;
}

static void format_time(int64_t t, char out[32])
{
    struct tm tm;
    time_t tt = (time_t)t;
    gmtime_r(&tt, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* One container's request of a resource; a limit alone is the request, as the API server
 * defaults it. -1 without one. */
static int64_t one_request(yajl_val container, bool cpu)
{
    yajl_val res = json_get(container, "resources");
    const char *key = cpu ? "cpu" : "memory";
    const char *q = YAJL_GET_STRING(json_get(json_get(res, "requests"), key));
    if (!q)
        q = YAJL_GET_STRING(json_get(json_get(res, "limits"), key));
    struct kube_quantity kq;
    int64_t v;
    _cleanup_error_ pr_error *e = NULL;
    if (!q || kube_quantity_parse(q, &kq, &e) < 0 || kube_quantity_scaled(&kq, cpu ? 3 : 0, &v) < 0)
        return -1;
    return v;
}

/* The pods' requests of a resource (a container without one: 0 for the pod, as the
 * calculator refuses it). */
static int64_t pod_request(yajl_val spec, bool cpu)
{
    yajl_val cs = json_get(spec, "containers");
    int64_t sum = 0;
    for (size_t i = 0; i < json_array_len(cs); i++) {
        int64_t v = one_request(json_array_at(cs, i), cpu);
        if (v < 0)
            return 0;
        sum += v;
    }
    return sum;
}

/* What the HPA keeps between samples. */
struct kept {
    int64_t last_sample_ms, last_scale;
    struct kube_hpa_recommendations recs;
    struct {
        struct kube_hpa_scale_event *v;
        size_t n;
    } events[2];      /* up, down: the scale events of the behavior's longest policy period */
    yajl_val samples; /* {uid: [cpu_ns, ms]} of the last sample, in rec */
    yajl_val status;  /* the last status, in rec */
    yajl_val rec;
};

static void kept_clear(struct kept *k)
{
    kube_hpa_recommendations_clear(&k->recs);
    free(k->events[0].v);
    free(k->events[1].v);
    if (k->rec)
        yajl_tree_free(k->rec);
    *k = (struct kept){0};
}

static void load_kept(pods_manager *m, const struct pods_entry *h, struct kept *k)
{
    *k = (struct kept){0};
    _cleanup_error_ pr_error *e = NULL;
    if (pods_object_load(m, STATUS_RES, h->ns, h->name, &k->rec, &e) < 0)
        return;
    const char *uid = YAJL_GET_STRING(json_get(k->rec, "uid"));
    if (!uid || !streq(uid, h->uid)) {
        yajl_tree_free(k->rec);
        k->rec = NULL;
        return;
    }
    yajl_val o = json_get(k->rec, "object");
    k->last_sample_ms = int_at(json_get(o, "lastSample"), 0);
    k->last_scale = int_at(json_get(o, "lastScale"), 0);
    k->samples = json_get(o, "samples");
    k->status = json_get(o, "status");
    yajl_val recs = json_get(o, "recommendations");
    size_t n = MIN(json_array_len(recs), (size_t)RECS_MAX);
    k->recs.v = xcalloc(n + 1, sizeof(*k->recs.v));
    for (size_t i = 0; i < n; i++) {
        yajl_val r = json_array_at(recs, i);
        if (json_array_len(r) == 2)
            k->recs.v[k->recs.n++] = (struct kube_hpa_recommendation){
                int_at(json_array_at(r, 0), 0), (int32_t)int_at(json_array_at(r, 1), 0)};
    }
    for (int d = 0; d < 2; d++) {
        yajl_val ev = json_get(o, d ? "scaleDownEvents" : "scaleUpEvents");
        size_t len = MIN(json_array_len(ev), (size_t)RECS_MAX);
        k->events[d].v = xcalloc(len + 1, sizeof(*k->events[d].v));
        for (size_t i = 0; i < len; i++) {
            yajl_val r = json_array_at(ev, i);
            if (json_array_len(r) == 2)
                k->events[d].v[k->events[d].n++] = (struct kube_hpa_scale_event){
                    int_at(json_array_at(r, 0), 0), (int32_t)int_at(json_array_at(r, 1), 0)};
        }
    }
}

/* storeScaleEvent: with a behavior, a scale's change is kept for the longest period of the
 * rules of its direction (older events are dropped). */
static void store_scale_event(struct kept *k, const struct kube_hpa *h, int32_t from, int32_t to,
                              int64_t now)
{
    if (!h->has_behavior || from == to)
        return;
    int d = to < from;
    int32_t keep = kube_hpa_rules_longest_period(d ? &h->down_rules : &h->up_rules);
    size_t n = 0;
    for (size_t i = 0; i < k->events[d].n; i++)
        if (k->events[d].v[i].at > now - keep)
            k->events[d].v[n++] = k->events[d].v[i];
    k->events[d].v = xrealloc(k->events[d].v, (n + 1) * sizeof(*k->events[d].v));
    k->events[d].v[n++] = (struct kube_hpa_scale_event){now, d ? from - to : to - from};
    k->events[d].n = MIN(n, (size_t)RECS_MAX);
}

/* One pod of the target, sampled. */
struct sampled {
    const struct pods_entry *e;
    bool ok;
    struct pods_usage u;
    bool c_ok[4]; /* each ContainerResource metric's container */
    struct pods_usage c[4];
};

/* The metrics in order: cpu and memory of whole pods, then each ContainerResource. */
#define METRICS_MAX 6
struct metric_of {
    bool cpu;
    const char *container; /* NULL: the whole pod */
    int32_t target;
    size_t c; /* its index in container_targets */
};

static size_t metrics_of(const struct kube_hpa *h, struct metric_of out[METRICS_MAX])
{
    size_t n = 0;
    if (h->cpu_target >= 0)
        out[n++] = (struct metric_of){true, NULL, h->cpu_target, 0};
    if (h->memory_target >= 0)
        out[n++] = (struct metric_of){false, NULL, h->memory_target, 0};
    for (size_t i = 0; i < h->n_container_targets && n < METRICS_MAX; i++)
        out[n++] =
            (struct metric_of){h->container_targets[i].cpu, h->container_targets[i].container,
                               h->container_targets[i].target, i};
    return n;
}

/* One container's request of a resource (a limit alone is the request); 0 without one or
 * without that container, which the calculator refuses. */
static int64_t container_request(yajl_val spec, const char *name, bool cpu)
{
    yajl_val cs = json_get(spec, "containers");
    for (size_t i = 0; i < json_array_len(cs); i++) {
        yajl_val c = json_array_at(cs, i);
        const char *cn = YAJL_GET_STRING(json_get(c, "name"));
        if (cn && streq(cn, name)) {
            int64_t v = one_request(c, cpu);
            return v < 0 ? 0 : v;
        }
    }
    return 0;
}

struct target {
    const char *resource; /* deployments, replicasets, statefulsets */
    struct pods_list obj;
    int32_t replicas;
};

static int find_target(pods_manager *m, const struct pods_entry *h, struct target *t, char **why)
{
    yajl_val ref = json_get(json_get(h->object, "spec"), "scaleTargetRef");
    const char *kind = YAJL_GET_STRING(json_get(ref, "kind"));
    const char *name = YAJL_GET_STRING(json_get(ref, "name"));
    *t = (struct target){0};
    t->resource = kind ? pods_resource_name(kind) : NULL;
    if (!t->resource || (!streq(t->resource, "deployments") && !streq(t->resource, "replicasets") &&
                         !streq(t->resource, "statefulsets"))) {
        *why = xasprintf("podrun scales Deployments, ReplicaSets and StatefulSets, not \"%s\"",
                         kind ? kind : "");
        return -EINVAL;
    }
    _cleanup_error_ pr_error *e = NULL;
    if (pods_list(m, t->resource, h->ns, name, &t->obj, &e) < 0) {
        *why = xasprintf("the HPA controller was unable to get the target's current scale: %s",
                         e && e->msg ? e->msg : "not found");
        return -ENOENT;
    }
    t->replicas = (int32_t)int_at(json_get(json_get(t->obj.v[0].object, "spec"), "replicas"), 1);
    return 0;
}

struct pass {
    struct metric_of specs[METRICS_MAX];
    size_t n_specs;
    struct kube_hpa_metric metric[METRICS_MAX]; /* in the order of specs */
    bool have[METRICS_MAX];
    char *error; /* a metric that could not be computed */
    int32_t proposal;
    struct kube_hpa_result res;
    bool disabled;
    const char *rescale_reason;
};

static void gen_condition(yajl_gen g, const char *type, bool ok, const char *reason,
                          const char *msg, int64_t at)
{
    char t[32];
    format_time(at, t);
    jg_map_open(g);
    jg_key_str(g, "type", type);
    jg_key_str(g, "status", ok ? "True" : "False");
    jg_key_str(g, "lastTransitionTime", t);
    jg_key_str(g, "reason", reason);
    jg_key_str(g, "message", msg);
    jg_map_close(g);
}

/* How the controller names a metric in its messages. */
static const char *metric_name(const struct metric_of *m)
{
    if (m->container)
        return m->cpu ? "cpu container resource utilization (percentage of request)"
                      : "memory container resource utilization (percentage of request)";
    return m->cpu ? "cpu resource utilization (percentage of request)"
                  : "memory resource utilization (percentage of request)";
}

static void gen_status(yajl_gen g, const struct kube_object *spec, const struct target *t,
                       const struct pass *p, const char *target_err, int64_t last_scale,
                       int64_t now)
{
    jg_key(g, "status");
    jg_map_open(g);
    jg_key_int(g, "currentReplicas", t ? t->replicas : 0);
    jg_key_int(g, "desiredReplicas", p->res.desired);
    if (last_scale) {
        char ts[32];
        format_time(last_scale, ts);
        jg_key_str(g, "lastScaleTime", ts);
    }
    bool any = false;
    for (size_t i = 0; i < p->n_specs; i++)
        any |= p->have[i];
    if (any) {
        jg_key(g, "currentMetrics");
        jg_array_open(g);
        for (size_t i = 0; i < p->n_specs; i++) {
            if (!p->have[i])
                continue;
            const struct metric_of *ms = &p->specs[i];
            jg_map_open(g);
            jg_key_str(g, "type", ms->container ? "ContainerResource" : "Resource");
            jg_key(g, ms->container ? "containerResource" : "resource");
            jg_map_open(g);
            jg_key_str(g, "name", ms->cpu ? "cpu" : "memory");
            if (ms->container)
                jg_key_str(g, "container", ms->container);
            jg_key(g, "current");
            jg_map_open(g);
            char v[32];
            if (!ms->cpu)
                snprintf(v, sizeof(v), "%lld", (long long)p->metric[i].average);
            else
                snprintf(v, sizeof(v), "%lldm", (long long)p->metric[i].average);
            jg_key_str(g, "averageValue", v);
            jg_key_int(g, "averageUtilization", p->metric[i].utilization);
            jg_map_close(g);
            jg_map_close(g);
            jg_map_close(g);
        }
        jg_array_close(g);
    }
    jg_key(g, "conditions");
    jg_array_open(g);
    if (target_err) {
        gen_condition(g, "AbleToScale", false, "FailedGetScale", target_err, now);
    } else {
        gen_condition(g, "AbleToScale", true, p->res.able_reason, p->res.able_message, now);
        if (p->disabled)
            gen_condition(g, "ScalingActive", false, "ScalingDisabled",
                          "scaling is disabled since the replica count of the target is zero", now);
        else if (p->error)
            gen_condition(g, "ScalingActive", false, "FailedGetResourceMetric", p->error, now);
        else {
            _cleanup_free_ char *msg =
                xasprintf("the HPA was able to successfully calculate a replica count from %s",
                          p->n_specs ? metric_name(&p->specs[0])
                                     : "cpu resource utilization (percentage "
                                       "of request)");
            gen_condition(g, "ScalingActive", true, "ValidMetricFound", msg, now);
        }
        if (!p->disabled && !p->error)
            gen_condition(g, "ScalingLimited", p->res.limited, p->res.limited_reason,
                          p->res.limited_message, now);
    }
    jg_array_close(g);
    jg_map_close(g);
}

/* The proposal of the metrics (the largest), as computeReplicasForMetrics. */
static void compute(const struct kube_object *spec, const struct target *t, struct sampled *pods,
                    size_t n, const struct kept *k, int64_t now, struct pass *p)
{
    struct kube_hpa_pod *in = xcalloc(n + 1, sizeof(*in));
    p->proposal = -1;
    p->n_specs = metrics_of(&spec->u.hpa, p->specs);
    for (size_t i = 0; i < p->n_specs; i++) {
        const struct metric_of *ms = &p->specs[i];
        for (size_t j = 0; j < n; j++) {
            const struct pods_entry *e = pods[j].e;
            const char *phase = YAJL_GET_STRING(json_get(e->status, "phase"));
            phase = phase ? phase : "Pending";
            yajl_val ps = json_get(e->object, "spec");
            in[j] = (struct kube_hpa_pod){
                .name = e->name,
                .ignored = streq(phase, "Failed") || streq(phase, "Succeeded"),
                .pending = streq(phase, "Pending"),
                .ready = streq(phase, "Running") && e->total && e->ready == e->total,
                .request = ms->container ? container_request(ps, ms->container, ms->cpu)
                                         : pod_request(ps, ms->cpu),
            };
            bool ok = ms->container ? pods[j].c_ok[ms->c] : pods[j].ok;
            const struct pods_usage *u = ms->container ? &pods[j].c[ms->c] : &pods[j].u;
            if (!ok)
                continue;
            if (!ms->cpu) {
                in[j].has_metric = true;
                in[j].usage = (int64_t)u->memory_bytes;
                continue;
            }
            /* CPU: the rate since this pod's (container's) last sample. */
            _cleanup_free_ char *key =
                ms->container ? xasprintf("%s/%s", e->uid, ms->container) : xstrdup(e->uid);
            yajl_val prev = json_get(k->samples, key);
            if (json_array_len(prev) != 2)
                continue;
            int64_t ns0 = int_at(json_array_at(prev, 0), -1),
                    ms0 = int_at(json_array_at(prev, 1), 0);
            int64_t dt = now - ms0;
            if (ns0 >= 0 && dt > 0 && (int64_t)u->cpu_ns >= ns0) {
                in[j].has_metric = true;
                in[j].usage = ((int64_t)u->cpu_ns - ns0) / (dt * 1000);
            }
        }
        _cleanup_error_ pr_error *e = NULL;
        if (kube_hpa_resource_replicas(in, n, ms->cpu, t->replicas, ms->target, KUBE_HPA_TOLERANCE,
                                       &p->metric[i], &e) < 0) {
            free(p->error);
            p->error = xasprintf("the HPA was unable to compute the replica count: %s",
                                 e && e->msg ? e->msg : "no metrics");
            continue;
        }
        p->have[i] = true;
        if (p->metric[i].replicas > p->proposal) {
            p->proposal = p->metric[i].replicas;
            p->rescale_reason = metric_name(ms);
        }
    }
    free(in);
}

static int save_kept(pods_manager *m, const struct pods_entry *h, const struct kube_object *spec,
                     const struct target *t, const struct pass *p, const char *target_err,
                     const struct kept *k, struct sampled *pods, size_t n, int64_t now,
                     int64_t last_scale, pr_error **err)
{
    _cleanup_gen_ yajl_gen g = json_gen_new(false);
    jg_map_open(g);
    jg_key_int(g, "lastSample", now);
    jg_key_int(g, "lastScale", last_scale);
    jg_key(g, "samples");
    jg_map_open(g);
    for (size_t i = 0; i < n; i++) {
        if (pods[i].ok) {
            jg_key(g, pods[i].e->uid);
            jg_array_open(g);
            yajl_gen_integer(g, (long long)((long long)pods[i].u.cpu_ns));
            yajl_gen_integer(g, (long long)(now));
            jg_array_close(g);
        }
        for (size_t c = 0; c < spec->u.hpa.n_container_targets; c++) {
            if (!pods[i].c_ok[c])
                continue;
            _cleanup_free_ char *key =
                xasprintf("%s/%s", pods[i].e->uid, spec->u.hpa.container_targets[c].container);
            bool again = false; /* cpu and memory of one container: one sample */
            for (size_t d = 0; d < c; d++)
                again |= streq(spec->u.hpa.container_targets[d].container,
                               spec->u.hpa.container_targets[c].container);
            if (again)
                continue;
            jg_key(g, key);
            jg_array_open(g);
            yajl_gen_integer(g, (long long)pods[i].c[c].cpu_ns);
            yajl_gen_integer(g, (long long)now);
            jg_array_close(g);
        }
    }
    jg_map_close(g);
    jg_key(g, "recommendations");
    jg_array_open(g);
    for (size_t i = k->recs.n > RECS_MAX ? k->recs.n - RECS_MAX : 0; i < k->recs.n; i++) {
        jg_array_open(g);
        yajl_gen_integer(g, (long long)(k->recs.v[i].at));
        yajl_gen_integer(g, (long long)(k->recs.v[i].replicas));
        jg_array_close(g);
    }
    jg_array_close(g);
    for (int d = 0; d < 2; d++) {
        jg_key(g, d ? "scaleDownEvents" : "scaleUpEvents");
        jg_array_open(g);
        for (size_t i = 0; i < k->events[d].n; i++) {
            jg_array_open(g);
            yajl_gen_integer(g, (long long)k->events[d].v[i].at);
            yajl_gen_integer(g, (long long)k->events[d].v[i].change);
            jg_array_close(g);
        }
        jg_array_close(g);
    }
    gen_status(g, spec, t, p, target_err, last_scale, now / 1000);
    jg_map_close(g);
    size_t len;
    const char *buf = jg_buf(g, &len);
    _cleanup_free_ char *text = xstrndup(buf, len);
    _cleanup_json_ yajl_val tree = NULL;
    int r = json_parse(text, "an HPA's status", &tree, err);
    return r < 0 ? r
                 : pods_object_save(m, STATUS_RES, h->ns, h->name, tree, h->uid, h->created, err);
}

/* SuccessfulRescale, worded as the controller words it: the bound the target was outside of,
 * else the metric above its target, else all below. */
static void record_rescale(pods_manager *m, const struct pods_entry *h, const struct pass *p,
                           bool bounded, int32_t current, int32_t desired)
{
    if (bounded)
        pods_workload_event(m, "horizontalpodautoscalers", h, "Normal", "SuccessfulRescale",
                            "New size: %d; reason: %s", (int)desired, p->rescale_reason);
    else if (desired > current)
        pods_workload_event(m, "horizontalpodautoscalers", h, "Normal", "SuccessfulRescale",
                            "New size: %d; reason: %s above target", (int)desired,
                            p->rescale_reason ? p->rescale_reason : "cpu resource utilization");
    else
        pods_workload_event(m, "horizontalpodautoscalers", h, "Normal", "SuccessfulRescale",
                            "New size: %d; reason: All metrics below target", (int)desired);
}

static int reconcile_hpa(pods_manager *m, const struct pods_entry *h, const struct pods_list *all,
                         int64_t now, int64_t *wake_ms, pr_error **err)
{
    int64_t period = sync_period_ms();
    struct kept k;
    load_kept(m, h, &k);
    if (k.last_sample_ms && now < k.last_sample_ms + period && now >= k.last_sample_ms) {
        int64_t at = k.last_sample_ms + period;
        *wake_ms = *wake_ms ? MIN(*wake_ms, at) : at;
        kept_clear(&k);
        return 0;
    }
    *wake_ms = *wake_ms ? MIN(*wake_ms, now + period) : now + period;
    /* The stored spec, typed again (it was checked when applied). */
    yajl_val copy = NULL;
    _cleanup_gen_ yajl_gen g = json_gen_new(false);
    jg_value(g, h->object);
    size_t len;
    const char *buf = jg_buf(g, &len);
    _cleanup_free_ char *text = xstrndup(buf, len);
    struct kube_object *spec = NULL;
    int r = json_parse(text, "an HPA", &copy, err);
    if (r == 0)
        r = kube_object_decode(copy, h->name, &spec, err);
    if (r < 0) {
        kept_clear(&k);
        return r;
    }
    struct target t;
    _cleanup_free_ char *why = NULL;
    struct pass p = {0};
    struct sampled *pods = xcalloc(all->n + 1, sizeof(*pods));
    size_t n = 0;
    int64_t last_scale = k.last_scale;
    if (find_target(m, h, &t, &why) == 0) {
        struct kube_selector sel = {0};
        _cleanup_error_ pr_error *e = NULL;
        yajl_val s = json_get(json_get(t.obj.v[0].object, "spec"), "selector");
        if (kube_selector_from_object(s, "spec.selector", &sel, &e) == 0) {
            for (size_t i = 0; i < all->n; i++) {
                const struct pods_entry *pe = &all->v[i];
                if (!streq(pe->ns, h->ns) ||
                    !kube_selector_matches(&sel,
                                           json_get(json_get(pe->object, "metadata"), "labels")))
                    continue;
                _cleanup_error_ pr_error *e2 = NULL;
                pods[n].e = pe;
                pods[n].ok = pods_pod_usage(m, pe->uid, NULL, &pods[n].u, &e2) == 0;
                for (size_t c = 0; c < spec->u.hpa.n_container_targets; c++) {
                    _cleanup_error_ pr_error *e3 = NULL;
                    pods[n].c_ok[c] =
                        pods_pod_usage(m, pe->uid, spec->u.hpa.container_targets[c].container,
                                       &pods[n].c[c], &e3) == 0;
                }
                n++;
            }
        }
        kube_selector_clear(&sel);
        const struct kube_hpa *hs = &spec->u.hpa;
        p.n_specs = metrics_of(hs, p.specs);
        int32_t desired = t.replicas;
        bool bounded = t.replicas > hs->max_replicas || t.replicas < hs->min_replicas;
        p.res = (struct kube_hpa_result){.desired = t.replicas,
                                         .able_reason = "ReadyForNewScale",
                                         .able_message = "recommended size matches current size",
                                         .limited_reason = "DesiredWithinRange",
                                         .limited_message =
                                             "the desired count is within the acceptable range"};
        if (t.replicas == 0 && hs->min_replicas != 0) {
            p.disabled = true;
        } else if (t.replicas > hs->max_replicas) {
            desired = hs->max_replicas;
            p.rescale_reason = "Current number of replicas above Spec.MaxReplicas";
        } else if (t.replicas < hs->min_replicas) {
            desired = hs->min_replicas;
            p.rescale_reason = "Current number of replicas below Spec.MinReplicas";
        } else {
            compute(spec, &t, pods, n, &k, now, &p);
            if (p.proposal >= 0) {
                struct kube_hpa_scale sc = {t.replicas,       p.proposal,    hs->min_replicas,
                                            hs->max_replicas, hs->up_window, hs->down_window,
                                            now / 1000};
                if (hs->has_behavior) {
                    sc.up_rules = &hs->up_rules;
                    sc.down_rules = &hs->down_rules;
                    sc.up_events = k.events[0].v;
                    sc.n_up_events = k.events[0].n;
                    sc.down_events = k.events[1].v;
                    sc.n_down_events = k.events[1].n;
                }
                kube_hpa_normalize(&sc, &k.recs, &p.res);
                desired = p.res.desired;
            }
        }
        p.res.desired = desired;
        if (desired != t.replicas && !p.disabled) {
            r = pods_scale(m, t.resource, h->ns, t.obj.v[0].name, desired, err);
            if (r == 0) {
                last_scale = now / 1000;
                store_scale_event(&k, hs, t.replicas, desired, now / 1000);
                record_rescale(m, h, &p, bounded, t.replicas, desired);
            }
        }
    }
    if (r == 0)
        r = save_kept(m, h, spec, why ? NULL : &t, &p, why, &k, pods, n, now, last_scale, err);
    if (!why)
        pods_list_clear(&t.obj);
    free(p.error);
    free(pods);
    kube_object_free(spec);
    kept_clear(&k);
    return r;
}

int pods_hpas_reconcile(pods_manager *m, bool *any, int64_t *wake_at, pr_error **err)
{
    struct pods_list hpas = {0}, pods = {0};
    int r = pods_list(m, "horizontalpodautoscalers", NULL, NULL, &hpas, err);
    if (r == 0 && hpas.n)
        r = pods_list(m, "pods", NULL, NULL, &pods, err);
    int64_t now = now_ms(), wake = 0;
    int first = 0;
    for (size_t i = 0; r == 0 && i < hpas.n; i++) {
        pr_error *e = NULL;
        int rh = reconcile_hpa(m, &hpas.v[i], &pods, now, &wake, &e);
        if (rh < 0 && first == 0) {
            first = rh;
            *err = e;
        } else {
            pr_error_free(e);
        }
    }
    *any = r < 0 || hpas.n > 0;
    *wake_at = wake ? (wake + 999) / 1000 : 0;
    pods_list_clear(&hpas);
    pods_list_clear(&pods);
    return r < 0 ? r : first;
}

int pods_hpa_forget(pods_manager *m, const char *ns, const char *name, pr_error **err)
{
    int r = pods_object_remove(m, STATUS_RES, ns, name, err);
    if (r == -ENOENT) {
        pr_error_free(*err);
        *err = NULL;
        r = 0;
    }
    return r;
}

int pods_hpa_status(pods_manager *m, const struct pods_entry *h, yajl_val *out, pr_error **err)
{
    struct kept k;
    load_kept(m, h, &k);
    _cleanup_gen_ yajl_gen g = json_gen_new(false);
    if (k.status) {
        jg_value(g, k.status);
    } else {
        /* Not sampled yet: what kubectl shows of a new HPA. */
        jg_map_open(g);
        jg_key_int(g, "currentReplicas", 0);
        jg_key_int(g, "desiredReplicas", 0);
        jg_map_close(g);
    }
    kept_clear(&k);
    size_t len;
    const char *buf = jg_buf(g, &len);
    _cleanup_free_ char *text = xstrndup(buf, len);
    return json_parse(text, "an HPA's status", out, err);
}
