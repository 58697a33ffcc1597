/* SPDX-License-Identifier: Apache-2.0 */
/* batch/v1 CronJob: its spec's schema, the API server's defaults and validation. */
#include "schema.h"
#include "json.h"
#include "util.h"

#include <string.h>

/* A CronJob's name leaves room for the 11 characters of its Jobs' "-<minutes>". */
#define CRONJOB_NAME_MAX 52

static const struct kube_field template_fields[] = {
    {"metadata", KF_OBJECT, offsetof(struct kube_cronjob, job_template.meta), &kube_meta_schema,
     1 + offsetof(struct kube_cronjob, job_template.has_meta)},
    {"spec", KF_OBJECT, offsetof(struct kube_cronjob, job_template.spec), &kube_job_spec_schema,
     1 + offsetof(struct kube_cronjob, job_template.has_spec)},
    KUBE_FIELDS_END,
};
/* The template decodes into the CronJob's own struct: its offsets are the CronJob's. */
static const struct kube_schema template_schema = {"JobTemplateSpec", 0, template_fields, NULL};

static const struct kube_field cronjob_fields[] = {
    KUBE_FIELD(struct kube_cronjob, "schedule", KF_STRING, schedule),
    KUBE_FIELD(struct kube_cronjob, "timeZone", KF_STRING, time_zone),
    KUBE_FIELD_HAS(struct kube_cronjob, "startingDeadlineSeconds", KF_INT64,
                   starting_deadline_seconds, has_starting_deadline_seconds),
    KUBE_FIELD(struct kube_cronjob, "concurrencyPolicy", KF_STRING, concurrency_policy),
    KUBE_FIELD(struct kube_cronjob, "suspend", KF_BOOL, suspend),
    KUBE_FIELD_HAS(struct kube_cronjob, "successfulJobsHistoryLimit", KF_INT32,
                   successful_jobs_history_limit, has_successful_jobs_history_limit),
    KUBE_FIELD_HAS(struct kube_cronjob, "failedJobsHistoryLimit", KF_INT32,
                   failed_jobs_history_limit, has_failed_jobs_history_limit),
    {"jobTemplate", KF_OBJECT, 0, &template_schema,
     1 + offsetof(struct kube_cronjob, has_job_template)},
    KUBE_FIELDS_END,
};
const struct kube_schema kube_cronjob_spec_schema = {"CronJobSpec", sizeof(struct kube_cronjob),
                                                     cronjob_fields, NULL};

int kube_cronjob_check(struct kube_object *o, pr_error **err)
{
    struct kube_cronjob *c = &o->u.cronjob;
    if (o->meta.name && strlen(o->meta.name) > CRONJOB_NAME_MAX)
        return pr_err(err, 0,
                      "metadata.name: Invalid value: \"%s\": must be no more than %d characters",
                      o->meta.name, CRONJOB_NAME_MAX);
    if (!c->schedule || !*c->schedule)
        return pr_err(err, 0, "spec.schedule: Required value");
    struct kube_cron cron;
    int r = kube_cron_parse(c->schedule, &cron, err);
    if (r < 0)
        return pr_err_prefix(err, "spec.schedule: Invalid value: \"%s\"", c->schedule);
    if (c->time_zone) {
        /* As the API server, which loads the zone (time.LoadLocation) to validate it. */
        struct kube_tz *z = NULL;
        r = kube_tz_load(c->time_zone, &z, err);
        kube_tz_free(z);
        if (r < 0)
            return pr_err_prefix(err, "spec.timeZone: Invalid value: \"%s\"", c->time_zone);
    }
    if (!c->concurrency_policy)
        c->concurrency_policy = "Allow";
    if (!streq(c->concurrency_policy, "Allow") && !streq(c->concurrency_policy, "Forbid") &&
        !streq(c->concurrency_policy, "Replace"))
        return pr_err(err, 0,
                      "spec.concurrencyPolicy: Unsupported value: \"%s\": supported values: "
                      "\"Allow\", \"Forbid\", \"Replace\"",
                      c->concurrency_policy);
    if (c->has_starting_deadline_seconds && c->starting_deadline_seconds < 0)
        return pr_err(err, 0,
                      "spec.startingDeadlineSeconds: Invalid value: %lld: must be greater than "
                      "or equal to 0",
                      (long long)c->starting_deadline_seconds);
    if (!c->has_successful_jobs_history_limit)
        c->successful_jobs_history_limit = 3;
    if (!c->has_failed_jobs_history_limit)
        c->failed_jobs_history_limit = 1;
    if (c->successful_jobs_history_limit < 0 || c->failed_jobs_history_limit < 0)
        return pr_err(err, 0,
                      "spec.%sJobsHistoryLimit: Invalid value: %d: must be greater than or "
                      "equal to 0",
                      c->successful_jobs_history_limit < 0 ? "successful" : "failed",
                      c->successful_jobs_history_limit < 0 ? c->successful_jobs_history_limit
                                                           : c->failed_jobs_history_limit);
    if (!c->has_job_template || !c->job_template.has_spec)
        return pr_err(err, 0, "spec.jobTemplate.spec.template.spec: Required value");
    r = kube_job_spec_check(&c->job_template.spec, err);
    return r < 0 ? pr_err_prefix(err, "spec.jobTemplate") : 0;
}
