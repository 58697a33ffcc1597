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
    /* Pods and Object metrics come from a custom metrics API (custom.metrics.k8s.io),
     * External ones from an external metrics API (external.metrics.k8s.io): adapters a
     * cluster runs, not a node. */
    if (streq(type, "Pods") || streq(type, "Object"))
        return pr_err_code(err, EOPNOTSUPP,
                           "spec.metrics[%zu].type: \"%s\": not supported by podrun (a %s "
                           "metric is read from a custom metrics API, custom.metrics.k8s.io, "
                           "which a node does not serve; Resource metrics of cpu and memory are "
                           "measured from the pods' cgroups)",
                           i, type, type);
    if (streq(type, "External"))
        return pr_err_code(err, EOPNOTSUPP,
                           "spec.metrics[%zu].type: \"External\": not supported by podrun (an "
                           "External metric is read from an external metrics API, "
                           "external.metrics.k8s.io, which a node does not serve; Resource "
                           "metrics of cpu and memory are measured from the pods' cgroups)",
                           i);
    if (!streq(type, "Resource") && !streq(type, "ContainerResource"))
        return pr_err(err, 0,
                      "spec.metrics[%zu].type: Unsupported value: \"%s\": supported values: "
                      "\"ContainerResource\", \"External\", \"Object\", \"Pods\", "
                      "\"Resource\"",
                      i, type);
    /* ContainerResource: one container's usage against its own request, from its cgroup. */
    bool per_container = streq(type, "ContainerResource");
    const char *src = per_container ? "containerResource" : "resource";
    for (size_t k = 0; YAJL_IS_OBJECT(m) && k < m->u.object.len; k++)
        if (!streq(m->u.object.keys[k], "type") && !streq(m->u.object.keys[k], src))
            return pr_err(err, 0, "spec.metrics[%zu].%s: unknown field in MetricSpec", i,
                          m->u.object.keys[k]);
    yajl_val res = json_get(m, src), target = json_get(res, "target");
    const char *name = YAJL_GET_STRING(json_get(res, "name"));
    if (!name)
        return pr_err(err, 0, "spec.metrics[%zu].%s.name: Required value", i, src);
    if (!streq(name, "cpu") && !streq(name, "memory"))
        return pr_err_code(err, EOPNOTSUPP,
                           "spec.metrics[%zu].%s.name: \"%s\": not supported by podrun "
                           "(cpu and memory)",
                           i, src, name);
    if (per_container) {
        const char *c = YAJL_GET_STRING(json_get(res, "container"));
        if (!c || !*c)
            return pr_err(err, 0, "spec.metrics[%zu].containerResource.container: Required value",
                          i);
        if (!kube_valid_label_name(c))
            return pr_err(err, 0,
                          "spec.metrics[%zu].containerResource.container: Invalid value: \"%s\": "
                          "a lowercase RFC 1123 label is required",
                          i, c);
    }
    const char *tt = YAJL_GET_STRING(json_get(target, "type"));
    if (!tt)
        return pr_err(err, 0, "spec.metrics[%zu].%s.target.type: Required value", i, src);
    if (!streq(tt, "Utilization"))
        return pr_err_code(err, EOPNOTSUPP,
                           "spec.metrics[%zu].%s.target.type: \"%s\": not supported by "
                           "podrun (Utilization only)",
                           i, src, tt);
    yajl_val u = json_get(target, "averageUtilization");
    if (!u || !YAJL_IS_INTEGER(u) || YAJL_GET_INTEGER(u) <= 0 || YAJL_GET_INTEGER(u) > INT32_MAX)
        return pr_err(err, 0,
                      "spec.metrics[%zu].%s.target.averageUtilization: Invalid value: must "
                      "be greater than 0",
                      i, src);
    return 0;
}

/* One of behavior.scaleUp/scaleDown.policies: type Pods or Percent, value > 0, periodSeconds
 * 1 to 1800, as the API server validates it. */
static int check_policy(yajl_val p, const char *path, struct kube_hpa_policy *out, pr_error **err)
{
    if (!YAJL_IS_OBJECT(p))
        return pr_err(err, 0, "%s: must be an object", path);
    const char *type = NULL;
    int64_t value = 0, period = 0;
    for (size_t k = 0; k < p->u.object.len; k++) {
        const char *key = p->u.object.keys[k];
        yajl_val v = p->u.object.values[k];
        if (streq(key, "type")) {
            if (!(type = YAJL_GET_STRING(v)))
                return pr_err(err, 0, "%s.type: must be a string", path);
        } else if (streq(key, "value") || streq(key, "periodSeconds")) {
            if (!YAJL_IS_INTEGER(v) || YAJL_GET_INTEGER(v) < INT32_MIN ||
                YAJL_GET_INTEGER(v) > INT32_MAX)
                return pr_err(err, 0, "%s.%s: must be a 32-bit integer", path, key);
            *(streq(key, "value") ? &value : &period) = YAJL_GET_INTEGER(v);
        } else {
            return pr_err(err, 0, "%s.%s: unknown field in HPAScalingPolicy", path, key);
        }
    }
    if (!type || (!streq(type, "Pods") && !streq(type, "Percent")))
        return pr_err(err, 0,
                      "%s.type: Unsupported value: \"%s\": supported values: \"Percent\", "
                      "\"Pods\"",
                      path, type ? type : "");
    if (value <= 0)
        return pr_err(err, 0, "%s.value: Invalid value: %lld: must be greater than zero", path,
                      (long long)value);
    if (period <= 0)
        return pr_err(err, 0, "%s.periodSeconds: Invalid value: %lld: must be greater than zero",
                      path, (long long)period);
    if (period > 1800)
        return pr_err(err, 0,
                      "%s.periodSeconds: Invalid value: %lld: must be less than or equal to 1800",
                      path, (long long)period);
    *out = (struct kube_hpa_policy){streq(type, "Percent"), (int32_t)value, (int32_t)period};
    return 0;
}

/* behavior.scaleUp / scaleDown: stabilizationWindowSeconds (0 to 3600), selectPolicy and
 * policies over Kubernetes' defaults (the given policies replace the default ones). */
static int check_rules(yajl_val rules, const char *which, int32_t *window,
                       struct kube_hpa_rules *out, pr_error **err)
{
    if (rules && !YAJL_IS_OBJECT(rules) && !YAJL_IS_NULL(rules))
        return pr_err(err, 0, "spec.behavior.%s: must be an object", which);
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
        } else if (streq(key, "selectPolicy")) {
            const char *sp = YAJL_GET_STRING(v);
            if (sp && streq(sp, "Max"))
                out->select = KUBE_HPA_SELECT_MAX;
            else if (sp && streq(sp, "Min"))
                out->select = KUBE_HPA_SELECT_MIN;
            else if (sp && streq(sp, "Disabled"))
                out->select = KUBE_HPA_SELECT_DISABLED;
            else
                return pr_err(err, 0,
                              "spec.behavior.%s.selectPolicy: Unsupported value: \"%s\": "
                              "supported values: \"Disabled\", \"Max\", \"Min\"",
                              which, sp ? sp : "");
        } else if (streq(key, "policies")) {
            if (!YAJL_IS_ARRAY(v))
                return pr_err(err, 0, "spec.behavior.%s.policies: must be a list", which);
            if (v->u.array.len > ARRAY_SIZE(out->policies))
                return pr_err(err, 0,
                              "spec.behavior.%s.policies: Too many: %zu: podrun takes at most "
                              "%zu policies",
                              which, v->u.array.len, ARRAY_SIZE(out->policies));
            out->n = 0;
            for (size_t i = 0; i < v->u.array.len; i++) {
                _cleanup_free_ char *path = xasprintf("spec.behavior.%s.policies[%zu]", which, i);
                int r = check_policy(v->u.array.values[i], path, &out->policies[out->n++], err);
                if (r < 0)
                    return r;
            }
            if (!out->n)
                return pr_err(err, 0,
                              "spec.behavior.%s.policies: Required value: must specify at least "
                              "one Policy",
                              which);
        } else if (streq(key, "tolerance")) {
            return pr_err_code(err, EOPNOTSUPP,
                               "spec.behavior.%s.tolerance: not supported by podrun (an alpha "
                               "field, HPAConfigurableTolerance: the tolerance is 0.1)",
                               which);
        } else {
            return pr_err(err, 0, "spec.behavior.%s.%s: unknown field in HPAScalingRules", which,
                          key);
        }
    }
    return 0;
}

/* The API server's defaults of a given behavior: up by max(4 pods, 100%) per 15 s, down by
 * 100% per 15 s, selectPolicy Max. */
static void default_rules(struct kube_hpa *h)
{
    h->up_rules = (struct kube_hpa_rules){
        .select = KUBE_HPA_SELECT_MAX, .n = 2, .policies = {{false, 4, 15}, {true, 100, 15}}};
    h->down_rules = (struct kube_hpa_rules){
        .select = KUBE_HPA_SELECT_MAX, .n = 1, .policies = {{true, 100, 15}}};
}

static int add_container_target(struct kube_hpa *h, yajl_val res, size_t i, pr_error **err)
{
    const char *c = YAJL_GET_STRING(json_get(res, "container"));
    bool cpu = streq(YAJL_GET_STRING(json_get(res, "name")) ?: "", "cpu");
    for (size_t k = 0; k < h->n_container_targets; k++)
        if (streq(h->container_targets[k].container, c) && h->container_targets[k].cpu == cpu)
            return pr_err(err, 0, "spec.metrics[%zu]: Duplicate value: %s of container %s", i,
                          cpu ? "cpu" : "memory", c);
    if (h->n_container_targets == ARRAY_SIZE(h->container_targets))
        return pr_err(err, 0,
                      "spec.metrics[%zu]: Too many: podrun takes at most %zu ContainerResource "
                      "metrics",
                      i, ARRAY_SIZE(h->container_targets));
    h->container_targets[h->n_container_targets++] = (struct kube_hpa_container_target){
        c, cpu, (int32_t)YAJL_GET_INTEGER(json_get(json_get(res, "target"), "averageUtilization"))};
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
        if (streq(YAJL_GET_STRING(json_get(m, "type")) ?: "", "ContainerResource")) {
            if ((r = add_container_target(h, json_get(m, "containerResource"), i, err)) < 0)
                return r;
            continue;
        }
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
    if (b && !YAJL_IS_NULL(b) && !YAJL_IS_OBJECT(b))
        return pr_err(err, 0, "spec.behavior: must be an object");
    h->has_behavior = YAJL_IS_OBJECT(b);
    default_rules(h);
    for (size_t k = 0; YAJL_IS_OBJECT(b) && k < b->u.object.len; k++) {
        const char *key = b->u.object.keys[k];
        int r;
        if (streq(key, "scaleUp"))
            r = check_rules(b->u.object.values[k], "scaleUp", &h->up_window, &h->up_rules, err);
        else if (streq(key, "scaleDown"))
            r = check_rules(b->u.object.values[k], "scaleDown", &h->down_window, &h->down_rules,
                            err);
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

/* math.Ceil of the float product, as the controller rounds (the agent does not link libm). */
static int64_t ceil_int(double x)
{
    if (x >= 9e18 || x <= -9e18)
        return x > 0 ? INT64_MAX : INT64_MIN;
    int64_t t = (int64_t)x;
    return (double)t < x ? t + 1 : t;
}

/* The replicas changed by the events within the period ending now. */
static int64_t change_in_period(const struct kube_hpa_scale_event *ev, size_t n, int32_t period,
                                int64_t now)
{
    int64_t sum = 0;
    for (size_t i = 0; i < n; i++)
        if (ev[i].at > now - period)
            sum += ev[i].change;
    return sum;
}

int32_t kube_hpa_rules_limit(const struct kube_hpa_rules *r, bool up, int32_t current,
                             const struct kube_hpa_scale_event *ups, size_t n_ups,
                             const struct kube_hpa_scale_event *downs, size_t n_downs, int64_t now)
{
    if (r->select == KUBE_HPA_SELECT_DISABLED)
        return current;
    /* Max picks the largest change: the highest limit up, the lowest down. */
    bool highest = up == (r->select == KUBE_HPA_SELECT_MAX);
    int64_t result = highest ? INT32_MIN : INT32_MAX;
    for (size_t i = 0; i < r->n; i++) {
        const struct kube_hpa_policy *p = &r->policies[i];
        int64_t start = (int64_t)current - change_in_period(ups, n_ups, p->period_seconds, now) +
                        change_in_period(downs, n_downs, p->period_seconds, now);
        int64_t proposed;
        if (!p->percent)
            proposed = up ? start + p->value : start - p->value;
        else if (up) /* rounded up, or a small set would never grow */
            proposed = ceil_int((double)start * (1.0 + (double)p->value / 100.0));
        else
            proposed = (int64_t)((double)start * (1.0 - (double)p->value / 100.0));
        proposed = MAX(MIN(proposed, (int64_t)INT32_MAX), (int64_t)INT32_MIN);
        result = highest ? MAX(result, proposed) : MIN(result, proposed);
    }
    return (int32_t)result;
}

int32_t kube_hpa_rules_longest_period(const struct kube_hpa_rules *r)
{
    int32_t longest = 0;
    for (size_t i = 0; i < r->n; i++)
        longest = MAX(longest, r->policies[i].period_seconds);
    return longest;
}

static void limit(struct kube_hpa_result *out, int32_t to, const char *reason, const char *msg)
{
    out->desired = to;
    out->limited = true;
    out->limited_reason = reason;
    out->limited_message = msg;
}

#define MSG_TOO_MANY  "the desired replica count is more than the maximum replica count"
#define MSG_TOO_FEW   "the desired replica count is less than the minimum replica count"
#define MSG_UP_RATE   "the desired replica count is increasing faster than the maximum scale rate"
#define MSG_DOWN_RATE "the desired replica count is decreasing faster than the maximum scale rate"

/* convertDesiredReplicasWithBehaviorRate: a change is held within the rules' limit (never
 * past the current count the other way) and the bounds. */
static void behavior_rate(const struct kube_hpa_scale *s, struct kube_hpa_result *out)
{
    int32_t want = out->desired;
    if (want > s->current) {
        int32_t most =
            kube_hpa_rules_limit(s->up_rules, true, s->current, s->up_events, s->n_up_events,
                                 s->down_events, s->n_down_events, s->now);
        most = MAX(most, s->current);
        if (s->max > most) {
            if (want > most)
                limit(out, most, "ScaleUpLimit", MSG_UP_RATE);
        } else if (want > s->max) {
            limit(out, s->max, "TooManyReplicas", MSG_TOO_MANY);
        }
    } else if (want < s->current) {
        int32_t fewest =
            kube_hpa_rules_limit(s->down_rules, false, s->current, s->up_events, s->n_up_events,
                                 s->down_events, s->n_down_events, s->now);
        fewest = MIN(fewest, s->current);
        if (s->min < fewest) {
            if (want < fewest)
                limit(out, fewest, "ScaleDownLimit", MSG_DOWN_RATE);
        } else if (want < s->min) {
            limit(out, s->min, "TooFewReplicas", MSG_TOO_FEW);
        }
    }
}

/* convertDesiredReplicasWithRules (no behavior): up to max(2 * current, 4), within the
 * bounds. */
static void fixed_rate(const struct kube_hpa_scale *s, struct kube_hpa_result *out)
{
    int64_t up_limit = MAX((int64_t)s->current * 2, 4);
    bool rate = s->max > up_limit;
    int32_t most = rate ? (int32_t)up_limit : s->max;
    if (out->desired < s->min)
        limit(out, s->min, "TooFewReplicas", MSG_TOO_FEW);
    else if (out->desired > most)
        limit(out, most, rate ? "ScaleUpLimit" : "TooManyReplicas",
              rate ? MSG_UP_RATE : MSG_TOO_MANY);
}

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
    out->desired = stable;
    out->limited_reason = "DesiredWithinRange";
    out->limited_message = "the desired count is within the acceptable range";
    if (s->up_rules && s->down_rules)
        behavior_rate(s, out);
    else
        fixed_rate(s, out);
}

void kube_hpa_recommendations_clear(struct kube_hpa_recommendations *r)
{
    free(r->v);
    *r = (struct kube_hpa_recommendations){0};
}
