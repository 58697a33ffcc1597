/* SPDX-License-Identifier: Apache-2.0 */
/* autoscaling/v2 (and v1) HorizontalPodAutoscaler: its spec's schema and the API server's
 * checks, and the HPA controller's decisions (pkg/controller/podautoscaler: the replica
 * calculator's resource metrics, the stabilisation window and the default scaling rules) as
 * pure functions. */
#include "schema.h"
#include "json.h"
#include "util.h"

#include <math.h>
#include <stdlib.h>

static const struct kube_field ref_fields[] = {
    KUBE_FIELD(struct kube_hpa, "apiVersion", KF_STRING, target_api_version),
    KUBE_FIELD(struct kube_hpa, "kind", KF_STRING, target_kind),
    KUBE_FIELD(struct kube_hpa, "name", KF_STRING, target_name),
    KUBE_FIELDS_END,
};
/* scaleTargetRef decodes into the HPA's own struct: its offsets are the HPA's. */
static const struct kube_schema ref_schema = {"CrossVersionObjectReference", 0, ref_fields, NULL};

static const struct kube_field v2_fields[] = {
    {"scaleTargetRef", KF_OBJECT, 0, &ref_schema, 0},
    KUBE_FIELD_HAS(struct kube_hpa, "minReplicas", KF_INT32, min_replicas, has_min_replicas),
    KUBE_FIELD(struct kube_hpa, "maxReplicas", KF_INT32, max_replicas),
    KUBE_FIELD(struct kube_hpa, "metrics", KF_RAW, metrics),
    KUBE_FIELD(struct kube_hpa, "behavior", KF_RAW, behavior),
    KUBE_FIELDS_END,
};
const struct kube_schema kube_hpa_v2_spec_schema = {"HorizontalPodAutoscalerSpec",
                                                    sizeof(struct kube_hpa), v2_fields, NULL};

static const struct kube_field v1_fields[] = {
    {"scaleTargetRef", KF_OBJECT, 0, &ref_schema, 0},
    KUBE_FIELD_HAS(struct kube_hpa, "minReplicas", KF_INT32, min_replicas, has_min_replicas),
    KUBE_FIELD(struct kube_hpa, "maxReplicas", KF_INT32, max_replicas),
    KUBE_FIELD_HAS(struct kube_hpa, "targetCPUUtilizationPercentage", KF_INT32, v1_target_cpu,
                   has_v1_target_cpu),
    KUBE_FIELDS_END,
};
const struct kube_schema kube_hpa_v1_spec_schema = {"HorizontalPodAutoscalerSpec",
                                                    sizeof(struct kube_hpa), v1_fields, NULL};

/* One metric of spec.metrics: a Resource (cpu or memory) with a Utilization target. */
static int check_metric(yajl_val m, size_t i, pr_error **err)
{
    const char *type = YAJL_GET_STRING(json_get(m, "type"));
    if (!type)
        return pr_err(err, 0, "spec.metrics[%zu].type: Required value", i);
    if (!streq(type, "Resource"))
        return pr_err_code(err, EOPNOTSUPP,
                           "spec.metrics[%zu].type: \"%s\": not supported by podrun (Resource "
                           "metrics of cpu and memory only: there is no metrics API on the node)",
                           i, type);
    for (size_t k = 0; YAJL_IS_OBJECT(m) && k < m->u.object.len; k++)
        if (!streq(m->u.object.keys[k], "type") && !streq(m->u.object.keys[k], "resource"))
            return pr_err(err, 0, "spec.metrics[%zu].%s: unknown field in MetricSpec", i,
                          m->u.object.keys[k]);
    yajl_val res = json_get(m, "resource"), target = json_get(res, "target");
    const char *name = YAJL_GET_STRING(json_get(res, "name"));
    if (!name)
        return pr_err(err, 0, "spec.metrics[%zu].resource.name: Required value", i);
    if (!streq(name, "cpu") && !streq(name, "memory"))
        return pr_err_code(err, EOPNOTSUPP,
                           "spec.metrics[%zu].resource.name: \"%s\": not supported by podrun "
                           "(cpu and memory)",
                           i, name);
    const char *tt = YAJL_GET_STRING(json_get(target, "type"));
    if (!tt)
        return pr_err(err, 0, "spec.metrics[%zu].resource.target.type: Required value", i);
    if (!streq(tt, "Utilization"))
        return pr_err_code(err, EOPNOTSUPP,
                           "spec.metrics[%zu].resource.target.type: \"%s\": not supported by "
                           "podrun (Utilization only)",
                           i, tt);
    yajl_val u = json_get(target, "averageUtilization");
    if (!u || !YAJL_IS_INTEGER(u) || YAJL_GET_INTEGER(u) <= 0 || YAJL_GET_INTEGER(u) > INT32_MAX)
        return pr_err(err, 0,
                      "spec.metrics[%zu].resource.target.averageUtilization: Invalid value: must "
                      "be greater than 0",
                      i);
    return 0;
}

/* behavior.scaleUp / scaleDown: stabilizationWindowSeconds (0 to 3600); podrun keeps
 * Kubernetes' default policies and refuses others by name. */
static int check_rules(yajl_val rules, const char *which, int32_t *window, pr_error **err)
{
    for (size_t k = 0; YAJL_IS_OBJECT(rules) && k < rules->u.object.len; k++) {
        const char *key = rules->u.object.keys[k];
        yajl_val v = rules->u.object.values[k];
        if (streq(key, "stabilizationWindowSeconds")) {
            if (!YAJL_IS_INTEGER(v) || YAJL_GET_INTEGER(v) < 0 || YAJL_GET_INTEGER(v) > 3600)
                return pr_err(err, 0,
                              "spec.behavior.%s.stabilizationWindowSeconds: Invalid value: must "
                              "be from 0 to 3600",
                              which);
            *window = (int32_t)YAJL_GET_INTEGER(v);
        } else if (streq(key, "policies") || streq(key, "selectPolicy") ||
                   streq(key, "tolerance")) {
            return pr_err_code(err, EOPNOTSUPP,
                               "spec.behavior.%s.%s: not supported by podrun (Kubernetes' "
                               "default scaling policies apply)",
                               which, key);
        } else {
            return pr_err(err, 0, "spec.behavior.%s.%s: unknown field in HPAScalingRules", which,
                          key);
        }
    }
    return 0;
}

int kube_hpa_check(struct kube_object *o, pr_error **err)
{
    struct kube_hpa *h = &o->u.hpa;
    bool v1 = streq(o->api_version, "autoscaling/v1");
    if (!h->target_kind || !*h->target_kind)
        return pr_err(err, 0, "spec.scaleTargetRef.kind: Required value");
    if (!h->target_name || !*h->target_name)
        return pr_err(err, 0, "spec.scaleTargetRef.name: Required value");
    if (!h->has_min_replicas)
        h->min_replicas = 1;
    if (h->min_replicas < 1)
        return pr_err(err, 0,
                      "spec.minReplicas: Invalid value: %d: must be greater than or equal to 1",
                      h->min_replicas);
    if (h->max_replicas < 1)
        return pr_err(err, 0, "spec.maxReplicas: Invalid value: %d: must be greater than 0",
                      h->max_replicas);
    if (h->max_replicas < h->min_replicas)
        return pr_err(err, 0,
                      "spec.maxReplicas: Invalid value: %d: must be greater than or equal to "
                      "`minReplicas`",
                      h->max_replicas);
    h->cpu_target = -1;
    h->memory_target = -1;
    h->up_window = 0;
    h->down_window = 300;
    if (v1) {
        if (h->has_v1_target_cpu && h->v1_target_cpu < 1)
            return pr_err(err, 0,
                          "spec.targetCPUUtilizationPercentage: Invalid value: %d: must be "
                          "greater than 0",
                          h->v1_target_cpu);
        h->cpu_target = h->has_v1_target_cpu ? h->v1_target_cpu : 80;
        return 0;
    }
    yajl_val ms = h->metrics;
    if (ms && !YAJL_IS_ARRAY(ms))
        return pr_err(err, 0, "spec.metrics: must be a list");
    for (size_t i = 0; i < json_array_len(ms); i++) {
        yajl_val m = json_array_at(ms, i);
        int r = check_metric(m, i, err);
        if (r < 0)
            return r;
        yajl_val res = json_get(m, "resource");
        const char *rname = YAJL_GET_STRING(json_get(res, "name"));
        bool cpu = rname && streq(rname, "cpu");
        int32_t *t = cpu ? &h->cpu_target : &h->memory_target;
        if (*t >= 0)
            return pr_err(err, 0, "spec.metrics[%zu]: Duplicate value: %s", i,
                          cpu ? "cpu" : "memory");
        *t = (int32_t)YAJL_GET_INTEGER(json_get(json_get(res, "target"), "averageUtilization"));
    }
    /* No metric: 80% of the CPU requested, the controller's default. */
    if (!json_array_len(ms))
        h->cpu_target = 80;
    yajl_val b = h->behavior;
    for (size_t k = 0; YAJL_IS_OBJECT(b) && k < b->u.object.len; k++) {
        const char *key = b->u.object.keys[k];
        int r;
        if (streq(key, "scaleUp"))
            r = check_rules(b->u.object.values[k], "scaleUp", &h->up_window, err);
        else if (streq(key, "scaleDown"))
            r = check_rules(b->u.object.values[k], "scaleDown", &h->down_window, err);
        else
            r = pr_err(err, 0, "spec.behavior.%s: unknown field in HorizontalPodAutoscalerBehavior",
                       key);
        if (r < 0)
            return r;
    }
    return 0;
}

/* ---- the replica calculator (GetResourceReplicas) ---- */

/* The utilisation (percent of the requests) of the pods with a metric, and its ratio to the
 * target. */
static int utilization(const struct kube_hpa_pod *pods, size_t n, const int64_t *usage,
                       const bool *use, int32_t target, double *ratio, int32_t *pct,
                       int64_t *average, pr_error **err)
{
    int64_t total = 0, requests = 0, count = 0;
    for (size_t i = 0; i < n; i++)
        if (use[i]) {
            total += usage[i];
            requests += pods[i].request;
            count++;
        }
    if (requests <= 0)
        return pr_err(err, 0, "no metrics returned matched known pods");
    *pct = (int32_t)(total * 100 / requests);
    *ratio = (double)*pct / (double)target;
    if (average)
        *average = count ? total / count : 0;
    return 0;
}

int kube_hpa_resource_replicas(const struct kube_hpa_pod *pods, size_t n, bool cpu, int32_t current,
                               int32_t target, double tolerance, struct kube_hpa_metric *out,
                               pr_error **err)
{
    *out = (struct kube_hpa_metric){0};
    bool *use = xcalloc(n + 1, sizeof(bool));
    bool *unready = xcalloc(n + 1, sizeof(bool)), *missing = xcalloc(n + 1, sizeof(bool));
    int64_t *usage = xcalloc(n + 1, sizeof(int64_t));
    size_t ready = 0, n_unready = 0, n_missing = 0, n_metrics = 0;
    int r = 0;
    for (size_t i = 0; i < n; i++) {
        const struct kube_hpa_pod *p = &pods[i];
        if (p->ignored)
            continue;
        if (p->pending || (p->has_metric && cpu && !p->ready)) {
            unready[i] = true;
            n_unready++;
            continue;
        }
        if (!p->has_metric) {
            missing[i] = true;
            n_missing++;
            continue;
        }
        if (p->request <= 0) {
            r = pr_err(err, 0, "missing request for %s in pod %s", cpu ? "cpu" : "memory",
                       p->name ? p->name : "?");
            goto out;
        }
        use[i] = true;
        usage[i] = p->usage;
        ready++;
        n_metrics++;
    }
    if (!n_metrics) {
        r = pr_err(err, 0, "did not receive metrics for targeted pods (pods might be unready)");
        goto out;
    }
    double ratio;
    if ((r = utilization(pods, n, usage, use, target, &ratio, &out->utilization, &out->average,
                         err)) < 0)
        goto out;
    bool up_with_unready = n_unready > 0 && ratio > 1.0;
    if (!up_with_unready && !n_missing) {
        out->replicas =
            fabs(1.0 - ratio) <= tolerance ? current : (int32_t)ceil(ratio * (double)ready);
        goto out;
    }
    /* Missing metrics count as the full request on a scale-down and as nothing on a scale-up;
     * unready pods as nothing on a scale-up: no flapping from pods that cannot tell. */
    for (size_t i = 0; i < n; i++) {
        bool req = pods[i].request > 0;
        if (missing[i] && ratio != 1.0 && req) {
            use[i] = true;
            usage[i] = ratio < 1.0 ? pods[i].request * MAX(100, target) / 100 : 0;
            n_metrics++;
        } else if (unready[i] && up_with_unready && req) {
            use[i] = true;
            usage[i] = 0;
            n_metrics++;
        }
    }
    double again;
    int32_t ignored_pct;
    if ((r = utilization(pods, n, usage, use, target, &again, &ignored_pct, NULL, err)) < 0)
        goto out;
    int32_t want = (int32_t)ceil(again * (double)n_metrics);
    if (fabs(1.0 - again) <= tolerance || (ratio < 1.0 && again > 1.0) ||
        (ratio > 1.0 && again < 1.0) || (again < 1.0 && want > current) ||
        (again > 1.0 && want < current))
        out->replicas = current;
    else
        out->replicas = want;
out:
    free(use);
    free(unready);
    free(missing);
    free(usage);
    return r;
}

/* ---- normalisation: stabilisation window, scaling rules, bounds ---- */

void kube_hpa_normalize(const struct kube_hpa_scale *s, struct kube_hpa_recommendations *recs,
                        struct kube_hpa_result *out)
{
    *out = (struct kube_hpa_result){0};
    int32_t up = s->proposal, down = s->proposal;
    int64_t keep_from = s->now - MAX(s->up_window, s->down_window);
    size_t k = 0;
    for (size_t i = 0; i < recs->n; i++) {
        const struct kube_hpa_recommendation *r = &recs->v[i];
        if (r->at > s->now - s->up_window)
            up = MIN(up, r->replicas);
        if (r->at > s->now - s->down_window)
            down = MAX(down, r->replicas);
        if (r->at > keep_from)
            recs->v[k++] = *r;
    }
    recs->n = k;
    recs->v = xrealloc(recs->v, (recs->n + 1) * sizeof(*recs->v));
    recs->v[recs->n++] = (struct kube_hpa_recommendation){s->now, s->proposal};
    int32_t stable = s->current;
    if (stable < up)
        stable = up;
    if (stable > down)
        stable = down;
    if (stable != s->proposal) {
        bool held_up = stable < s->proposal;
        out->able_reason = held_up ? "ScaleUpStabilized" : "ScaleDownStabilized";
        out->able_message =
            held_up ? "recent recommendations were lower than current one, applying the lowest "
                      "recent recommendation"
                    : "recent recommendations were higher than current one, applying the "
                      "highest recent recommendation";
    } else {
        out->able_reason = "ReadyForNewScale";
        out->able_message = "recommended size matches current size";
    }
    /* The default rules: up by at most max(100%, 4 pods) per period, down by up to 100%. */
    out->desired = stable;
    out->limited_reason = "DesiredWithinRange";
    out->limited_message = "the desired count is within the acceptable range";
    if (stable > s->current) {
        int64_t limit = MAX((int64_t)s->current * 2, (int64_t)s->current + 4);
        int32_t most = s->max;
        const char *why = "TooManyReplicas",
                   *msg = "the desired replica count is more than the maximum replica count";
        if (limit < most) {
            most = (int32_t)limit;
            why = "ScaleUpLimit";
            msg = "the desired replica count is increasing faster than the maximum scale rate";
        }
        if (stable > most) {
            out->desired = most;
            out->limited = true;
            out->limited_reason = why;
            out->limited_message = msg;
        }
    } else if (stable < s->current && stable < s->min) {
        out->desired = s->min;
        out->limited = true;
        out->limited_reason = "TooFewReplicas";
        out->limited_message = "the desired replica count is less than the minimum replica count";
    }
}

void kube_hpa_recommendations_clear(struct kube_hpa_recommendations *r)
{
    free(r->v);
    *r = (struct kube_hpa_recommendations){0};
}
