/* SPDX-License-Identifier: Apache-2.0 */
/* batch/v1 Job: its spec's schema, the API server's defaults and validation, and the job
 * controller's decision (pkg/controller/job) as a pure function of the spec and the pods. */
#include "schema.h"
#include "json.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>

/* Kubernetes' burst: the most pods one sync creates. */
#define JOB_BURST 500

static const struct kube_field template_fields[] = {
    KUBE_OBJECT(struct kube_pod_template, "metadata", meta, kube_meta_schema, has_meta),
    KUBE_OBJECT(struct kube_pod_template, "spec", spec, kube_pod_spec_schema, has_spec),
    KUBE_FIELDS_END,
};
static const struct kube_schema template_schema = {
    "PodTemplateSpec", sizeof(struct kube_pod_template), template_fields, NULL};

static const struct kube_field job_fields[] = {
    KUBE_FIELD_HAS(struct kube_job, "parallelism", KF_INT32, parallelism, has_parallelism),
    KUBE_FIELD_HAS(struct kube_job, "completions", KF_INT32, completions, has_completions),
    KUBE_FIELD_HAS(struct kube_job, "backoffLimit", KF_INT32, backoff_limit, has_backoff_limit),
    KUBE_FIELD_HAS(struct kube_job, "activeDeadlineSeconds", KF_INT64, active_deadline_seconds,
                   has_active_deadline_seconds),
    KUBE_FIELD_HAS(struct kube_job, "ttlSecondsAfterFinished", KF_INT32, ttl_seconds_after_finished,
                   has_ttl_seconds_after_finished),
    KUBE_FIELD(struct kube_job, "suspend", KF_BOOL, suspend),
    KUBE_FIELD(struct kube_job, "manualSelector", KF_BOOL, manual_selector),
    KUBE_FIELD(struct kube_job, "completionMode", KF_STRING, completion_mode),
    KUBE_FIELD(struct kube_job, "selector", KF_RAW, selector),
    KUBE_OBJECT(struct kube_job, "template", template_, template_schema, has_template),
    {"podFailurePolicy", KF_UNSUPPORTED, 0, NULL, 0},
    {"backoffLimitPerIndex", KF_UNSUPPORTED, 0, NULL, 0},
    {"maxFailedIndexes", KF_UNSUPPORTED, 0, NULL, 0},
    {"podReplacementPolicy", KF_UNSUPPORTED, 0, NULL, 0},
    {"successPolicy", KF_UNSUPPORTED, 0, NULL, 0},
    {"managedBy", KF_UNSUPPORTED, 0, NULL, 0},
    KUBE_FIELDS_END,
};
const struct kube_schema kube_job_spec_schema = {"JobSpec", sizeof(struct kube_job), job_fields,
                                                 NULL};

static int not_negative(const char *field, int64_t v, pr_error **err)
{
    return v < 0
               ? pr_err(err, 0, "spec.%s: Invalid value: %lld: must be greater than or equal to 0",
                        field, (long long)v)
               : 0;
}

int kube_job_check(struct kube_object *o, pr_error **err)
{
    return kube_job_spec_check(&o->u.job, err);
}

int kube_job_spec_check(struct kube_job *j, pr_error **err)
{
    if (!j->has_parallelism)
        j->parallelism = 1;
    if (!j->has_completions && !j->has_parallelism) {
        j->completions = 1;
        j->has_completions = true;
    }
    if (!j->has_backoff_limit)
        j->backoff_limit = 6;
    if (!j->completion_mode)
        j->completion_mode = "NonIndexed";
    int r;
    if ((r = not_negative("parallelism", j->parallelism, err)) < 0 ||
        (j->has_completions && (r = not_negative("completions", j->completions, err)) < 0) ||
        (r = not_negative("backoffLimit", j->backoff_limit, err)) < 0 ||
        (r = not_negative("ttlSecondsAfterFinished", j->ttl_seconds_after_finished, err)) < 0)
        return r;
    if (j->has_active_deadline_seconds && j->active_deadline_seconds <= 0)
        return pr_err(err, 0,
                      "spec.activeDeadlineSeconds: Invalid value: %lld: must be greater than 0",
                      (long long)j->active_deadline_seconds);
    bool indexed = streq(j->completion_mode, "Indexed");
    if (!indexed && !streq(j->completion_mode, "NonIndexed"))
        return pr_err(err, 0,
                      "spec.completionMode: Unsupported value: \"%s\": supported values: "
                      "\"NonIndexed\", \"Indexed\"",
                      j->completion_mode);
    if (indexed && !j->has_completions)
        return pr_err(err, 0, "spec.completions: Required value: when completion mode is Indexed");
    if (indexed && j->parallelism > 100000)
        return pr_err(err, 0,
                      "spec.parallelism: Invalid value: %d: must be less than or equal to 100000 "
                      "when completion mode is Indexed",
                      j->parallelism);
    if (j->manual_selector || j->selector)
        return pr_err_code(err, EOPNOTSUPP,
                           "spec.selector: not supported by podrun (the job controller makes it "
                           "from the Job's uid)");
    if (!j->has_template || !j->template_.has_spec)
        return pr_err(err, 0, "spec.template.spec: Required value");
    const char *rp = j->template_.spec.restart_policy;
    if (!rp || (!streq(rp, "Never") && !streq(rp, "OnFailure")))
        return pr_err(err, 0,
                      "spec.template.spec.restartPolicy: Unsupported value: \"%s\": supported "
                      "values: \"OnFailure\", \"Never\"",
                      rp ? rp : "Always");
    return 0;
}

/* ---- the job controller's decision ---- */

static bool finished(const struct kube_job_pod *p, const char *phase)
{
    return p->phase && streq(p->phase, phase);
}

static bool active(const struct kube_job_pod *p)
{
    return !p->terminating && !finished(p, "Succeeded") && !finished(p, "Failed");
}

/* The back-off before the next pod: base * 2^(failures after the last success - 1), capped,
 * counted from the last of those failures. 0 when none is due. */
static int64_t backoff_until(const struct kube_job_params *p, const struct kube_job_pod *pods,
                             size_t n)
{
    int64_t last_success = 0, last_failure = 0;
    for (size_t i = 0; i < n; i++)
        if (finished(&pods[i], "Succeeded"))
            last_success = MAX(last_success, pods[i].finished);
    int failures = 0;
    for (size_t i = 0; i < n; i++)
        if (finished(&pods[i], "Failed") && pods[i].finished >= last_success) {
            failures++;
            last_failure = MAX(last_failure, pods[i].finished);
        }
    if (!failures || !last_failure)
        return 0;
    int64_t delay = p->backoff_base_ms;
    for (int i = 1; i < failures && delay < p->backoff_max_ms; i++)
        delay *= 2;
    return last_failure * 1000 + MIN(delay, p->backoff_max_ms);
}

/* "0-2,4,6-7" of the indexes set in done[0..n). */
static char *index_ranges(const bool *done, int32_t n)
{
    char *s = xstrdup("");
    for (int32_t i = 0; i < n; i++) {
        if (!done[i])
            continue;
        int32_t j = i;
        while (j + 1 < n && done[j + 1])
            j++;
        char *t = j > i ? xasprintf("%s%s%d-%d", s, *s ? "," : "", i, j)
                        : xasprintf("%s%s%d", s, *s ? "," : "", i);
        free(s);
        s = t;
        i = j;
    }
    return s;
}

static void decide_state(const struct kube_job_params *p, const struct kube_job_pod *pods, size_t n,
                         int32_t restarts, bool complete, int64_t now_ms, struct kube_job_plan *out)
{
    if (complete) {
        out->state = KUBE_JOB_COMPLETE;
        for (size_t i = 0; i < n; i++)
            if (finished(&pods[i], "Succeeded"))
                out->finished_at = MAX(out->finished_at, pods[i].finished);
        return;
    }
    bool past_restarts =
        p->on_failure && (p->backoff_limit == 0 ? restarts > 0 : restarts >= p->backoff_limit);
    if (out->failed > p->backoff_limit || past_restarts) {
        out->state = KUBE_JOB_FAILED;
        out->reason = "BackoffLimitExceeded";
        for (size_t i = 0; i < n; i++)
            if (finished(&pods[i], "Failed"))
                out->finished_at = MAX(out->finished_at, pods[i].finished);
        if (!out->finished_at)
            out->finished_at = now_ms / 1000;
        return;
    }
    if (p->active_deadline >= 0 && !p->suspend) {
        int64_t end = (p->start + p->active_deadline) * 1000;
        if (now_ms >= end) {
            out->state = KUBE_JOB_FAILED;
            out->reason = "DeadlineExceeded";
            out->finished_at = p->start + p->active_deadline;
            return;
        }
        out->wake_ms = end;
    }
}

/* Which active pods go when there are more than wanted: pending ones first, then the last. */
static void pick_deletions(const struct kube_job_pod *pods, size_t n, int32_t extra,
                           struct kube_job_plan *out)
{
    out->delete_idx = xcalloc((size_t)extra + 1, sizeof(*out->delete_idx));
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = n; i-- > 0 && out->n_delete < (size_t)extra;) {
            bool pending = !pods[i].phase || streq(pods[i].phase, "Pending");
            if (active(&pods[i]) && (pass ? !pending : pending))
                out->delete_idx[out->n_delete++] = i;
        }
}

void kube_job_plan(const struct kube_job_params *p, const struct kube_job_pod *pods, size_t n,
                   int64_t now_ms, struct kube_job_plan *out)
{
    *out = (struct kube_job_plan){0};
    int32_t completions = p->completions, restarts = 0;
    bool *done = NULL, *running = NULL;
    if (p->indexed && completions > 0) {
        done = xcalloc((size_t)completions, sizeof(bool));
        running = xcalloc((size_t)completions, sizeof(bool));
    }
    for (size_t i = 0; i < n; i++) {
        const struct kube_job_pod *x = &pods[i];
        bool in_range = x->index >= 0 && x->index < completions;
        if (finished(x, "Succeeded")) {
            if (!done)
                out->succeeded++;
            else if (in_range && !done[x->index]) {
                done[x->index] = true;
                out->succeeded++;
            }
        } else if (finished(x, "Failed")) {
            out->failed++;
        } else if (!x->terminating) {
            out->active++;
            restarts += x->restarts;
            if (running && in_range)
                running[x->index] = true;
        }
    }
    if (done)
        out->completed_indexes = index_ranges(done, completions);
    bool complete =
        completions >= 0 ? out->succeeded >= completions : out->succeeded > 0 && out->active == 0;
    decide_state(p, pods, n, restarts, complete, now_ms, out);
    if (out->state != KUBE_JOB_RUNNING || p->suspend) {
        out->delete_active = out->active > 0;
        if (out->state != KUBE_JOB_RUNNING)
            out->wake_ms = 0;
        goto done;
    }
    int32_t want = p->parallelism;
    if (completions >= 0)
        want = MIN(want, completions - out->succeeded);
    else if (out->succeeded > 0)
        want = MIN(want, out->active); /* a work queue drains: no new pod after a success */
    if (out->active > want) {
        pick_deletions(pods, n, out->active - want, out);
        goto done;
    }
    if (out->active == want)
        goto done;
    int64_t until = backoff_until(p, pods, n);
    if (until > now_ms) {
        out->wake_ms = out->wake_ms ? MIN(out->wake_ms, until) : until;
        goto done;
    }
    size_t create = MIN((size_t)(want - out->active), (size_t)JOB_BURST);
    if (!done) {
        out->create = create;
        goto done;
    }
    out->indexes = xcalloc(create + 1, sizeof(int32_t));
    for (int32_t i = 0; i < completions && out->create < create; i++)
        if (!done[i] && !running[i])
            out->indexes[out->create++] = i;
done:
    free(done);
    free(running);
}

void kube_job_plan_clear(struct kube_job_plan *p)
{
    free(p->indexes);
    free(p->delete_idx);
    free(p->completed_indexes);
    *p = (struct kube_job_plan){0};
}
