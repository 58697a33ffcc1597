/* SPDX-License-Identifier: Apache-2.0 */
/* apps/v1 Deployment and ReplicaSet: their specs' schemas, the API server's defaults and its
 * validation (a selector that selects the template's labels, replicas not negative, a
 * strategy that can make progress). */
#include "schema.h"
#include "json.h"
#include "util.h"

static const struct kube_field template_fields[] = {
    KUBE_OBJECT(struct kube_pod_template, "metadata", meta, kube_meta_schema, has_meta),
    KUBE_OBJECT(struct kube_pod_template, "spec", spec, kube_pod_spec_schema, has_spec),
    KUBE_FIELDS_END,
};
const struct kube_schema kube_pod_template_schema = {
    "PodTemplateSpec", sizeof(struct kube_pod_template), template_fields, NULL};

static const struct kube_field rolling_fields[] = {
    KUBE_FIELD(struct kube_workload, "maxSurge", KF_INT_OR_STRING,
               strategy.rolling_update.max_surge),
    KUBE_FIELD(struct kube_workload, "maxUnavailable", KF_INT_OR_STRING,
               strategy.rolling_update.max_unavailable),
    KUBE_FIELDS_END,
};
/* rollingUpdate decodes into the workload itself: the sub-schema's offsets are the
 * workload's, so strategy's fields are listed against struct kube_workload too. */
static const struct kube_schema rolling_schema = {"RollingUpdateDeployment", 0, rolling_fields,
                                                  NULL};
static const struct kube_field strategy_fields[] = {
    KUBE_FIELD(struct kube_workload, "type", KF_STRING, strategy.type),
    {"rollingUpdate", KF_OBJECT, 0, &rolling_schema,
     1 + offsetof(struct kube_workload, strategy.has_rolling_update)},
    KUBE_FIELDS_END,
};
static const struct kube_schema strategy_schema = {"DeploymentStrategy", 0, strategy_fields, NULL};

static const struct kube_field deployment_fields[] = {
    KUBE_FIELD_HAS(struct kube_workload, "replicas", KF_INT32, replicas, has_replicas),
    KUBE_FIELD(struct kube_workload, "selector", KF_RAW, selector),
    KUBE_OBJECT(struct kube_workload, "template", template_, kube_pod_template_schema, has_template),
    {"strategy", KF_OBJECT, 0, &strategy_schema, 1 + offsetof(struct kube_workload, has_strategy)},
    KUBE_FIELD(struct kube_workload, "minReadySeconds", KF_INT32, min_ready_seconds),
    KUBE_FIELD_HAS(struct kube_workload, "revisionHistoryLimit", KF_INT32, revision_history_limit,
                   has_revision_history_limit),
    KUBE_FIELD_HAS(struct kube_workload, "progressDeadlineSeconds", KF_INT32,
                   progress_deadline_seconds, has_progress_deadline_seconds),
    KUBE_FIELD(struct kube_workload, "paused", KF_BOOL, paused),
    KUBE_FIELDS_END,
};
const struct kube_schema kube_deployment_spec_schema = {
    "DeploymentSpec", sizeof(struct kube_workload), deployment_fields, NULL};

static const struct kube_field replicaset_fields[] = {
    KUBE_FIELD_HAS(struct kube_workload, "replicas", KF_INT32, replicas, has_replicas),
    KUBE_FIELD(struct kube_workload, "selector", KF_RAW, selector),
    KUBE_OBJECT(struct kube_workload, "template", template_, kube_pod_template_schema, has_template),
    KUBE_FIELD(struct kube_workload, "minReadySeconds", KF_INT32, min_ready_seconds),
    KUBE_FIELDS_END,
};
const struct kube_schema kube_replicaset_spec_schema = {
    "ReplicaSetSpec", sizeof(struct kube_workload), replicaset_fields, NULL};

static int check_selector(struct kube_workload *w, pr_error **err)
{
    if (!w->selector || !YAJL_IS_OBJECT(w->selector))
        return pr_err(err, 0, "spec.selector: Required value");
    struct kube_selector sel = {0};
    int r = kube_selector_from_object(w->selector, "spec.selector", &sel, err);
    if (r < 0)
        return r;
    /* An empty selector would select every pod of the namespace: apps/v1 refuses it. */
    if (sel.n == 0)
        r = pr_err(err, 0,
                   "spec.selector: Invalid value: empty selector is invalid for deployment");
    kube_selector_clear(&sel);
    return r;
}

static int check_template(struct kube_object *o, struct kube_workload *w, pr_error **err)
{
    yajl_val tpl = json_get(json_get(o->tree, "spec"), "template");
    if (!w->has_template || !w->template_.has_spec)
        return pr_err(err, 0, "spec.template.spec: Required value");
    struct kube_selector sel = {0};
    int r = kube_selector_from_object(w->selector, "spec.selector", &sel, err);
    if (r < 0)
        return r;
    bool ok = kube_selector_matches(&sel, json_get(json_get(tpl, "metadata"), "labels"));
    kube_selector_clear(&sel);
    if (!ok)
        return pr_err(err, 0,
                      "spec.template.metadata.labels: Invalid value: `selector` does not match "
                      "template `labels`");
    const char *rp = w->template_.spec.restart_policy;
    if (rp && !streq(rp, "Always"))
        return pr_err(err, 0,
                      "spec.template.spec.restartPolicy: Unsupported value: \"%s\": supported "
                      "values: \"Always\"",
                      rp);
    if (w->template_.spec.has_active_deadline_seconds)
        return pr_err(err, 0,
                      "spec.template.spec.activeDeadlineSeconds: Forbidden: "
                      "activeDeadlineSeconds in ReplicaSet is not Supported");
    return 0;
}

static int check_strategy(struct kube_workload *w, pr_error **err)
{
    if (!w->strategy.type)
        w->strategy.type = "RollingUpdate";
    bool recreate = streq(w->strategy.type, "Recreate");
    if (!recreate && !streq(w->strategy.type, "RollingUpdate"))
        return pr_err(err, 0,
                      "spec.strategy.type: Unsupported value: \"%s\": supported values: "
                      "\"Recreate\", \"RollingUpdate\"",
                      w->strategy.type);
    if (recreate && w->strategy.has_rolling_update)
        return pr_err(err, 0,
                      "spec.strategy.rollingUpdate: Forbidden: may not be specified when strategy "
                      "`type` is 'Recreate'");
    if (recreate)
        return 0;
    struct kube_int_or_string *s = &w->strategy.rolling_update.max_surge,
                              *u = &w->strategy.rolling_update.max_unavailable;
    if (!s->set)
        *s = (struct kube_int_or_string){.set = true, .is_string = true, .s = "25%"};
    if (!u->set)
        *u = (struct kube_int_or_string){.set = true, .is_string = true, .s = "25%"};
    /* Both zero as written (not as rounded for few replicas) can never progress. */
    struct kube_rollout d = {.replicas = 100, .max_surge = *s, .max_unavailable = *u};
    int32_t surge, unavail;
    int r = kube_rollout_limits(&d, &surge, &unavail, err);
    if (r < 0)
        return r;
    bool zero_s = !s->is_string ? s->i == 0 : surge == 0;
    bool zero_u = !u->is_string ? u->i == 0 : (u->s[0] == '0' && u->s[1] == '%');
    if (zero_s && zero_u)
        return pr_err(err, 0,
                      "spec.strategy.rollingUpdate.maxUnavailable: Invalid value: may not be 0 "
                      "when `maxSurge` is 0");
    return 0;
}

int kube_workload_check(struct kube_object *o, pr_error **err)
{
    struct kube_workload *w = &o->u.workload;
    int r;
    if (!w->has_replicas)
        w->replicas = 1;
    if (w->replicas < 0)
        return pr_err(err, 0,
                      "spec.replicas: Invalid value: %d: must be greater than or equal to 0",
                      w->replicas);
    if (w->min_ready_seconds < 0)
        return pr_err(err, 0,
                      "spec.minReadySeconds: Invalid value: %d: must be greater than or equal "
                      "to 0",
                      w->min_ready_seconds);
    if ((r = check_selector(w, err)) < 0 || (r = check_template(o, w, err)) < 0)
        return r;
    if (o->kind != KUBE_DEPLOYMENT)
        return 0;
    if (!w->has_revision_history_limit)
        w->revision_history_limit = 10;
    if (!w->has_progress_deadline_seconds)
        w->progress_deadline_seconds = 600;
    if (w->revision_history_limit < 0)
        return pr_err(err, 0,
                      "spec.revisionHistoryLimit: Invalid value: %d: must be greater than or "
                      "equal to 0",
                      w->revision_history_limit);
    if (w->progress_deadline_seconds <= w->min_ready_seconds)
        return pr_err(err, 0,
                      "spec.progressDeadlineSeconds: Invalid value: %d: must be greater than "
                      "minReadySeconds",
                      w->progress_deadline_seconds);
    return check_strategy(w, err);
}

int kube_workload_check_pods(struct kube_object *o, struct kube_workload *w, pr_error **err)
{
    int r = check_selector(w, err);
    return r < 0 ? r : check_template(o, w, err);
}
