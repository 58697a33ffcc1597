/* SPDX-License-Identifier: Apache-2.0 */
/* batch/v1 Job: decoding, the API server's defaults and checks, and the job controller's
 * decision (agent/kube/job.c). */
#include "json.h"
#include "kube/kube.h"
#include "tests/lib/unit.h"
#include "util.h"

#include <time.h>

#define JOB_HEAD "apiVersion: batch/v1\nkind: Job\nmetadata: {name: pi}\nspec:\n"
#define TEMPLATE(rp)                                                                               \
    "  template:\n    spec: {restartPolicy: " rp ", containers: [{name: c, image: busybox}]}\n"

static struct kube_object *decode(const char *text, char **msg)
{
    struct kube_docs d = {0};
    pr_error *err = NULL;
    struct kube_object *o = NULL;
    *msg = NULL;
    if (kube_parse_manifest(text, strlen(text), "d.yaml", &d, &err) < 0 || d.n != 1 ||
        kube_object_decode(steal_pointer(&d.v[0]), "d.yaml", &o, &err) < 0) {
        *msg = xstrdup(err && err->msg ? err->msg : "?");
        o = NULL;
    }
    pr_error_free(err);
    kube_docs_clear(&d);
    return o;
}

static void refused(const char *text, const char *want)
{
    char *msg;
    struct kube_object *o = decode(text, &msg);
    CHECK(o == NULL);
    CHECK(msg && strstr(msg, want));
    if (msg && !strstr(msg, want))
        fprintf(stderr, "  got: %s\n  want: %s\n", msg, want);
    free(msg);
    kube_object_free(o);
}

static void test_job_defaults(void)
{
    char *msg;
    struct kube_object *o = decode(JOB_HEAD TEMPLATE("Never"), &msg);
    CHECK(o != NULL);
    if (!o) {
        fprintf(stderr, "  %s\n", msg);
        free(msg);
        return;
    }
    CHECK(o->kind == KUBE_JOB);
    CHECK(o->u.job.parallelism == 1 && o->u.job.completions == 1 && o->u.job.has_completions);
    CHECK(o->u.job.backoff_limit == 6);
    CHECK_STR(o->u.job.completion_mode, "NonIndexed");
    kube_object_free(o);
    /* parallelism alone: a work queue, no completions. */
    o = decode(JOB_HEAD "  parallelism: 3\n" TEMPLATE("OnFailure"), &msg);
    CHECK(o && o->u.job.parallelism == 3 && !o->u.job.has_completions);
    kube_object_free(o);
    free(msg);
}

static void test_job_validation(void)
{
    /* A pod template's default restartPolicy is Always, which a Job refuses. */
    refused(JOB_HEAD "  template:\n    spec: {containers: [{name: c, image: busybox}]}\n",
            "spec.template.spec.restartPolicy: Unsupported value: \"Always\": supported values: "
            "\"OnFailure\", \"Never\"");
    refused(JOB_HEAD TEMPLATE("Always"), "Unsupported value: \"Always\"");
    refused(JOB_HEAD "  completions: -1\n" TEMPLATE("Never"),
            "spec.completions: Invalid value: -1: must be greater than or equal to 0");
    refused(JOB_HEAD "  backoffLimit: -1\n" TEMPLATE("Never"), "spec.backoffLimit: Invalid value");
    refused(JOB_HEAD "  activeDeadlineSeconds: 0\n" TEMPLATE("Never"),
            "spec.activeDeadlineSeconds: Invalid value: 0: must be greater than 0");
    refused(JOB_HEAD "  completionMode: Indexed\n  parallelism: 2\n" TEMPLATE("Never"),
            "spec.completions: Required value: when completion mode is Indexed");
    refused(JOB_HEAD "  completionMode: Sorted\n" TEMPLATE("Never"),
            "spec.completionMode: Unsupported value: \"Sorted\"");
    refused(JOB_HEAD "  podFailurePolicy: {rules: []}\n" TEMPLATE("Never"),
            "spec.podFailurePolicy: not supported by podrun");
    refused(JOB_HEAD "  selector: {matchLabels: {a: b}}\n" TEMPLATE("Never"), "spec.selector");
    refused("apiVersion: batch/v2\nkind: Job\nmetadata: {name: pi}\nspec:\n" TEMPLATE("Never"),
            "no kind \"Job\" in version \"batch/v2\"");
}

static struct kube_job_params params(int32_t completions, int32_t parallelism, int32_t backoff)
{
    return (struct kube_job_params){.parallelism = parallelism,
                                    .completions = completions,
                                    .backoff_limit = backoff,
                                    .active_deadline = -1,
                                    .start = 1000,
                                    .backoff_base_ms = 10000,
                                    .backoff_max_ms = 600000};
}

static void test_job_creates_up_to_parallelism_and_remaining_completions(void)
{
    struct kube_job_params p = params(5, 2, 6);
    struct kube_job_plan plan;
    kube_job_plan(&p, NULL, 0, 1000000, &plan);
    CHECK(plan.state == KUBE_JOB_RUNNING && plan.create == 2 && plan.active == 0);
    kube_job_plan_clear(&plan);
    struct kube_job_pod pods[] = {
        {.phase = "Succeeded", .index = -1, .finished = 1001},
        {.phase = "Succeeded", .index = -1, .finished = 1002},
        {.phase = "Succeeded", .index = -1, .finished = 1003},
        {.phase = "Succeeded", .index = -1, .finished = 1004},
        {.phase = "Running", .index = -1},
    };
    /* One completion left and one running: nothing more. */
    kube_job_plan(&p, pods, 5, 1005000, &plan);
    CHECK(plan.succeeded == 4 && plan.active == 1 && plan.create == 0);
    kube_job_plan_clear(&plan);
    /* The last one succeeds: Complete at its finish. */
    pods[4] = (struct kube_job_pod){.phase = "Succeeded", .index = -1, .finished = 1010};
    kube_job_plan(&p, pods, 5, 1011000, &plan);
    CHECK(plan.state == KUBE_JOB_COMPLETE && plan.finished_at == 1010 && plan.create == 0);
    kube_job_plan_clear(&plan);
    /* parallelism lowered below the active pods: the pending one goes first. */
    struct kube_job_pod two[] = {{.phase = "Pending", .index = -1},
                                 {.phase = "Running", .index = -1}};
    p = params(5, 1, 6);
    kube_job_plan(&p, two, 2, 1000000, &plan);
    CHECK(plan.n_delete == 1 && plan.delete_idx[0] == 0);
    kube_job_plan_clear(&plan);
}

static void test_job_backoff_doubles_and_fails_past_the_limit(void)
{
    struct kube_job_params p = params(1, 1, 2);
    struct kube_job_pod pods[] = {
        {.phase = "Failed", .index = -1, .finished = 100},
        {.phase = "Failed", .index = -1, .finished = 120},
        {.phase = "Failed", .index = -1, .finished = 200},
    };
    struct kube_job_plan plan;
    /* One failure: 10 s from it. */
    kube_job_plan(&p, pods, 1, 105000, &plan);
    CHECK(plan.create == 0 && plan.wake_ms == 110000 && plan.failed == 1);
    kube_job_plan_clear(&plan);
    kube_job_plan(&p, pods, 1, 110000, &plan);
    CHECK(plan.create == 1);
    kube_job_plan_clear(&plan);
    /* Two failures: 20 s from the last. */
    kube_job_plan(&p, pods, 2, 125000, &plan);
    CHECK(plan.create == 0 && plan.wake_ms == 140000);
    kube_job_plan_clear(&plan);
    /* Three failures with backoffLimit 2: Failed, BackoffLimitExceeded, at the last failure. */
    kube_job_plan(&p, pods, 3, 300000, &plan);
    CHECK(plan.state == KUBE_JOB_FAILED && streq(plan.reason, "BackoffLimitExceeded"));
    CHECK(plan.finished_at == 200 && plan.create == 0 && plan.wake_ms == 0);
    kube_job_plan_clear(&plan);
    /* The cap: 10 failures of 6 minutes' worth... capped at 10 min. */
    p = params(1, 1, 100);
    p.backoff_base_ms = 1000;
    p.backoff_max_ms = 5000;
    struct kube_job_pod many[12];
    for (int i = 0; i < 12; i++)
        many[i] = (struct kube_job_pod){.phase = "Failed", .index = -1, .finished = 50 + i};
    kube_job_plan(&p, many, 12, 62000, &plan);
    CHECK(plan.wake_ms == 61000 + 5000);
    kube_job_plan_clear(&plan);
    /* A success resets the count of failures the back-off doubles on. */
    struct kube_job_pod mixed[] = {
        {.phase = "Failed", .index = -1, .finished = 10},
        {.phase = "Failed", .index = -1, .finished = 11},
        {.phase = "Succeeded", .index = -1, .finished = 12},
        {.phase = "Failed", .index = -1, .finished = 13},
    };
    p = params(3, 1, 6);
    kube_job_plan(&p, mixed, 4, 13500, &plan);
    CHECK(plan.create == 0 && plan.wake_ms == 13000 + 10000);
    kube_job_plan_clear(&plan);
}

static void test_job_on_failure_counts_restarts(void)
{
    struct kube_job_params p = params(1, 1, 3);
    p.on_failure = true;
    struct kube_job_pod pod = {.phase = "Running", .index = -1, .restarts = 2};
    struct kube_job_plan plan;
    kube_job_plan(&p, &pod, 1, 1000, &plan);
    CHECK(plan.state == KUBE_JOB_RUNNING);
    kube_job_plan_clear(&plan);
    pod.restarts = 3;
    kube_job_plan(&p, &pod, 1, 1000, &plan);
    CHECK(plan.state == KUBE_JOB_FAILED && plan.delete_active);
    kube_job_plan_clear(&plan);
}

static void test_job_deadline_and_suspend(void)
{
    struct kube_job_params p = params(1, 1, 6);
    p.active_deadline = 30;
    struct kube_job_pod pod = {.phase = "Running", .index = -1};
    struct kube_job_plan plan;
    kube_job_plan(&p, &pod, 1, 1010000, &plan);
    CHECK(plan.state == KUBE_JOB_RUNNING && plan.wake_ms == 1030000);
    kube_job_plan_clear(&plan);
    kube_job_plan(&p, &pod, 1, 1030000, &plan);
    CHECK(plan.state == KUBE_JOB_FAILED && streq(plan.reason, "DeadlineExceeded"));
    CHECK(plan.delete_active && plan.finished_at == 1030);
    kube_job_plan_clear(&plan);
    p.suspend = true;
    kube_job_plan(&p, &pod, 1, 1010000, &plan);
    CHECK(plan.state == KUBE_JOB_RUNNING && plan.delete_active && plan.create == 0);
    kube_job_plan_clear(&plan);
}

static void test_job_indexed_fills_missing_indexes(void)
{
    struct kube_job_params p = params(5, 3, 6);
    p.indexed = true;
    struct kube_job_pod pods[] = {
        {.phase = "Succeeded", .index = 0, .finished = 1},
        {.phase = "Succeeded", .index = 0, .finished = 2}, /* a duplicate counts once */
        {.phase = "Running", .index = 1},
        {.phase = "Succeeded", .index = 3, .finished = 3},
        {.phase = "Failed", .index = 2, .finished = 0},
    };
    struct kube_job_plan plan;
    kube_job_plan(&p, pods, ARRAY_SIZE(pods), 100000, &plan);
    CHECK(plan.succeeded == 2 && plan.active == 1 && plan.failed == 1);
    CHECK(plan.create == 2 && plan.indexes[0] == 2 && plan.indexes[1] == 4);
    CHECK_STR(plan.completed_indexes, "0,3");
    kube_job_plan_clear(&plan);
}

static void test_job_work_queue_completes_when_one_succeeds_and_none_runs(void)
{
    struct kube_job_params p = params(-1, 3, 6);
    struct kube_job_pod pods[] = {
        {.phase = "Succeeded", .index = -1, .finished = 5},
        {.phase = "Running", .index = -1},
    };
    struct kube_job_plan plan;
    kube_job_plan(&p, pods, 2, 10000, &plan);
    CHECK(plan.state == KUBE_JOB_RUNNING && plan.create == 0 && plan.n_delete == 0);
    kube_job_plan_clear(&plan);
    pods[1].phase = "Succeeded";
    kube_job_plan(&p, pods, 2, 10000, &plan);
    CHECK(plan.state == KUBE_JOB_COMPLETE);
    kube_job_plan_clear(&plan);
    kube_job_plan(&p, NULL, 0, 10000, &plan);
    CHECK(plan.create == 3);
    kube_job_plan_clear(&plan);
}

/* Seconds since the epoch of a UTC date. */
static int64_t utc(int y, int mo, int d, int h, int mi)
{
    struct tm tm = {
        .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi};
    return (int64_t)timegm(&tm);
}

static int64_t next_of(const char *spec, int64_t after)
{
    struct kube_cron c;
    pr_error *err = NULL;
    if (kube_cron_parse(spec, &c, &err) < 0) {
        fprintf(stderr, "# %s: %s\n", spec, err->msg);
        pr_error_free(err);
        return -2;
    }
    return kube_cron_next(&c, after);
}

static void cron_refused(const char *spec, const char *want)
{
    struct kube_cron c;
    pr_error *err = NULL;
    CHECK(kube_cron_parse(spec, &c, &err) < 0);
    CHECK(err && strstr(err->msg, want));
    if (err && !strstr(err->msg, want))
        fprintf(stderr, "  got: %s\n  want: %s\n", err->msg, want);
    pr_error_free(err);
}

static void test_cron_next_times(void)
{
    int64_t t0 = utc(2026, 12, 6, 3, 27); /* a Sunday */
    CHECK(next_of("* * * * *", t0) == utc(2026, 12, 6, 3, 28));
    CHECK(next_of("* * * * *", t0 + 30) == utc(2026, 12, 6, 3, 28));
    CHECK(next_of("*/15 * * * *", t0) == utc(2026, 12, 6, 3, 30));
    CHECK(next_of("5 4 * * *", t0) == utc(2026, 12, 6, 4, 5));
    CHECK(next_of("@hourly", t0) == utc(2026, 12, 6, 4, 0));
    CHECK(next_of("@daily", t0) == utc(2026, 12, 7, 0, 0));
    CHECK(next_of("@weekly", t0) == utc(2026, 12, 13, 0, 0));
    CHECK(next_of("@monthly", t0) == utc(2027, 1, 1, 0, 0));
    CHECK(next_of("@yearly", t0) == utc(2027, 1, 1, 0, 0));
    CHECK(next_of("0 9 * * MON-FRI", t0) == utc(2026, 12, 7, 9, 0));
    CHECK(next_of("0 0 * FEB sun", t0) == utc(2027, 2, 7, 0, 0));
    CHECK(next_of("30 2 1,15 * *", t0) == utc(2026, 12, 15, 2, 30));
    /* 5/20: from 5 to the field's end, every 20. */
    CHECK(next_of("5/20 3 * * *", t0) == utc(2026, 12, 6, 3, 45));
    CHECK(next_of("0-10/5 4 * * *", t0) == utc(2026, 12, 6, 4, 0));
    /* Both day fields restricted: either matches (the 13th, or a Friday). */
    CHECK(next_of("0 0 13 * 5", t0) == utc(2026, 12, 11, 0, 0));
    /* One day field '*': the other alone decides; '?' is '*'. */
    CHECK(next_of("0 0 ? * 5", t0) == utc(2026, 12, 11, 0, 0));
    CHECK(next_of("0 0 29 2 *", t0) == utc(2028, 2, 29, 0, 0));
    CHECK(next_of("0 0 30 2 *", t0) == -1);
}

static void test_cron_most_recent_and_missed(void)
{
    struct kube_cron c;
    pr_error *err = NULL;
    CHECK(kube_cron_parse("*/10 * * * *", &c, &err) == 0);
    int64_t missed = 0, t0 = utc(2026, 1, 1, 0, 0);
    CHECK(kube_cron_most_recent(&c, t0, t0 + 35 * 60, &missed) == t0 + 30 * 60);
    CHECK(missed == 3);
    CHECK(kube_cron_most_recent(&c, t0, t0 + 5 * 60, &missed) == -1 && missed == 0);
    /* A year of every minute: the count stops past the limit, the latest is still found. */
    CHECK(kube_cron_parse("* * * * *", &c, &err) == 0);
    CHECK(kube_cron_most_recent(&c, t0, t0 + 366 * 86400 + 59, &missed) == t0 + 366 * 86400);
    CHECK(missed == KUBE_CRON_MISSED_MAX + 1);
}

static void test_cron_refusals(void)
{
    cron_refused("* * * *", "expected exactly 5 fields, found 4");
    cron_refused("* * * * * *", "expected exactly 5 fields, found more");
    cron_refused("60 * * * *", "minute: 60 is beyond 0-59");
    cron_refused("* 24 * * *", "hour: 24 is beyond 0-23");
    cron_refused("* * 0 * *", "day of month: 0 is beyond 1-31");
    cron_refused("* * * 13 *", "month");
    cron_refused("* * * * 7", "day of week: 7 is beyond 0-6");
    cron_refused("* * * * FUN", "day of week: \"FUN\" is not a number");
    cron_refused("*/0 * * * *", "minute");
    cron_refused("5-1 * * * *", "minute");
    cron_refused("@every 1h", "@every is not supported by podrun");
    cron_refused("@fortnightly", "unrecognized descriptor: @fortnightly");
    cron_refused("CRON_TZ=Europe/Paris * * * * *", "cannot use TZ or CRON_TZ in schedule");
    cron_refused("1, * * * *", "minute");
}

#define CJ_HEAD "apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: hello}\nspec:\n"
#define JOB_TEMPLATE                                                                               \
    "  jobTemplate:\n    spec:\n      template:\n        spec: {restartPolicy: OnFailure, "        \
    "containers: [{name: c, image: busybox}]}\n"

static void test_cronjob_defaults_and_validation(void)
{
    char *msg;
    struct kube_object *o = decode(CJ_HEAD "  schedule: \"* * * * *\"\n" JOB_TEMPLATE, &msg);
    CHECK(o != NULL);
    if (o) {
        CHECK(o->kind == KUBE_CRONJOB);
        CHECK_STR(o->u.cronjob.concurrency_policy, "Allow");
        CHECK(o->u.cronjob.successful_jobs_history_limit == 3);
        CHECK(o->u.cronjob.failed_jobs_history_limit == 1);
        CHECK(o->u.cronjob.job_template.spec.backoff_limit == 6);
    }
    kube_object_free(o);
    free(msg);
    refused(CJ_HEAD JOB_TEMPLATE, "spec.schedule: Required value");
    refused(CJ_HEAD "  schedule: \"61 * * * *\"\n" JOB_TEMPLATE,
            "spec.schedule: Invalid value: \"61 * * * *\": minute: 61 is beyond 0-59");
    refused(CJ_HEAD "  schedule: \"TZ=UTC * * * * *\"\n" JOB_TEMPLATE,
            "cannot use TZ or CRON_TZ in schedule, use timeZone field instead");
    refused(CJ_HEAD "  schedule: \"@hourly\"\n  timeZone: Europe/Pariss\n" JOB_TEMPLATE,
            "spec.timeZone: Invalid value: \"Europe/Pariss\": unknown time zone Europe/Pariss");
    refused(CJ_HEAD "  schedule: \"@hourly\"\n  concurrencyPolicy: Never\n" JOB_TEMPLATE,
            "spec.concurrencyPolicy: Unsupported value: \"Never\"");
    refused(CJ_HEAD "  schedule: \"@hourly\"\n  failedJobsHistoryLimit: -1\n" JOB_TEMPLATE,
            "spec.failedJobsHistoryLimit: Invalid value: -1");
    refused(CJ_HEAD "  schedule: \"@hourly\"\n  jobTemplate:\n    spec:\n      template:\n"
                    "        spec: {containers: [{name: c, image: busybox}]}\n",
            "spec.jobTemplate: spec.template.spec.restartPolicy: Unsupported value: \"Always\"");
    refused("apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: "
            "a2345678901234567890123456789012345678901234567890123}\nspec:\n"
            "  schedule: \"@hourly\"\n" JOB_TEMPLATE,
            "must be no more than 52 characters");
}

/* ---- HorizontalPodAutoscaler ---- */

static struct kube_hpa_pod hpod(bool ready, bool has, int64_t usage, int64_t request)
{
    return (struct kube_hpa_pod){
        .name = "p", .ready = ready, .has_metric = has, .usage = usage, .request = request};
}

static void test_hpa_formula_and_tolerance(void)
{
    struct kube_hpa_metric m;
    pr_error *err = NULL;
    /* 2 pods at 90% of 100m against 50%: ceil(2 * 90/50) = 4. */
    struct kube_hpa_pod two[] = {hpod(true, true, 90, 100), hpod(true, true, 90, 100)};
    CHECK(kube_hpa_resource_replicas(two, 2, true, 2, 50, 0.1, &m, &err) == 0);
    CHECK(m.replicas == 4 && m.utilization == 90 && m.average == 90);
    /* Within the tolerance (54/50 = 1.08): the current count. */
    two[0].usage = two[1].usage = 54;
    CHECK(kube_hpa_resource_replicas(two, 2, true, 2, 50, 0.1, &m, &err) == 0);
    CHECK(m.replicas == 2);
    /* Just beyond (56/50 = 1.12): ceil(2 * 1.12) = 3. */
    two[0].usage = two[1].usage = 56;
    CHECK(kube_hpa_resource_replicas(two, 2, true, 2, 50, 0.1, &m, &err) == 0);
    CHECK(m.replicas == 3);
    /* Down: 10% of 50% over 4 pods is ceil(4 * 0.2) = 1. */
    struct kube_hpa_pod four[] = {hpod(true, true, 10, 100), hpod(true, true, 10, 100),
                                  hpod(true, true, 10, 100), hpod(true, true, 10, 100)};
    CHECK(kube_hpa_resource_replicas(four, 4, true, 4, 50, 0.1, &m, &err) == 0);
    CHECK(m.replicas == 1);
    /* A measured pod without a request: an error, as the controller's. */
    two[1].request = 0;
    CHECK(kube_hpa_resource_replicas(two, 2, true, 2, 50, 0.1, &m, &err) < 0);
    CHECK(err && strstr(err->msg, "missing request for cpu"));
    pr_error_free(err);
    err = NULL;
    struct kube_hpa_pod none[] = {hpod(true, false, 0, 100)};
    CHECK(kube_hpa_resource_replicas(none, 1, true, 1, 50, 0.1, &m, &err) < 0);
    CHECK(err && strstr(err->msg, "did not receive metrics"));
    pr_error_free(err);
}

static void test_hpa_missing_and_unready_pods(void)
{
    struct kube_hpa_metric m;
    pr_error *err = NULL;
    /* Scale-up with an unready pod: it counts as idle. 1 ready at 200% of 50 wants 4 alone;
     * with the unready one at 0: (200+0)/2 = 100% -> ceil(2 * 2) = 4. */
    struct kube_hpa_pod up[] = {hpod(true, true, 200, 100), hpod(false, true, 300, 100)};
    CHECK(kube_hpa_resource_replicas(up, 2, true, 2, 50, 0.1, &m, &err) == 0);
    CHECK(m.replicas == 4 && m.utilization == 200);
    /* Memory has no readiness rule: both pods count, (200+300)/2 = 250% -> ceil(2 * 5) = 10. */
    CHECK(kube_hpa_resource_replicas(up, 2, false, 2, 50, 0.1, &m, &err) == 0);
    CHECK(m.replicas == 10);
    /* Scale-down with a pod missing its metric: it counts as its full request, which here
     * reverses the direction (ratio 0.4 becomes 1.2): the current count. */
    struct kube_hpa_pod down[] = {hpod(true, true, 20, 100), hpod(true, false, 0, 100)};
    CHECK(kube_hpa_resource_replicas(down, 2, true, 2, 50, 0.1, &m, &err) == 0);
    CHECK(m.replicas == 2);
    /* Scale-up with a pod missing its metric: it counts as idle. 1 at 150% of 50 (3.0);
     * with the missing one at 0: 75/50 = 1.5 -> ceil(2 * 1.5) = 3. */
    struct kube_hpa_pod miss[] = {hpod(true, true, 150, 100), hpod(true, false, 0, 100)};
    CHECK(kube_hpa_resource_replicas(miss, 2, true, 2, 50, 0.1, &m, &err) == 0);
    CHECK(m.replicas == 3);
    /* Pending pods are unready; failed ones are ignored. */
    struct kube_hpa_pod mixed[] = {hpod(true, true, 100, 100), hpod(true, false, 0, 100),
                                   hpod(true, true, 999, 100)};
    mixed[1].pending = true;
    mixed[2].ignored = true;
    CHECK(kube_hpa_resource_replicas(mixed, 3, true, 3, 50, 0.1, &m, &err) == 0);
    /* The pending pod counts as idle on this scale-up: (100 + 0) / 200 is the target. */
    CHECK(m.utilization == 100 && m.replicas == 3);
    pr_error_free(err);
}

static void test_hpa_stabilisation_and_limits(void)
{
    struct kube_hpa_recommendations recs = {0};
    struct kube_hpa_result r;
    struct kube_hpa_scale s = {.current = 5,
                               .proposal = 2,
                               .min = 1,
                               .max = 10,
                               .up_window = 0,
                               .down_window = 300,
                               .now = 1000};
    /* Earlier recommendations of 5 within the window hold a scale-down. */
    kube_hpa_normalize(&(struct kube_hpa_scale){5, 5, 1, 10, 0, 300, 900}, &recs, &r);
    kube_hpa_normalize(&s, &recs, &r);
    CHECK(r.desired == 5 && streq(r.able_reason, "ScaleDownStabilized"));
    /* Once the window has passed over them (the 2 of 1000 is the highest left): down. */
    s.now = 1201;
    kube_hpa_normalize(&s, &recs, &r);
    CHECK(r.desired == 2 && streq(r.able_reason, "ReadyForNewScale"));
    CHECK(recs.n == 2); /* the one of 900 dropped */
    /* Up without a behavior: limited to max(2 * current, 4), then to max. */
    s = (struct kube_hpa_scale){
        .current = 2, .proposal = 9, .min = 1, .max = 10, .down_window = 300, .now = 2000};
    kube_hpa_recommendations_clear(&recs);
    kube_hpa_normalize(&s, &recs, &r);
    CHECK(r.desired == 4 && r.limited && streq(r.limited_reason, "ScaleUpLimit"));
    s.current = 6;
    s.proposal = 40;
    kube_hpa_normalize(&s, &recs, &r);
    CHECK(r.desired == 10 && streq(r.limited_reason, "TooManyReplicas"));
    /* Below min: min. */
    kube_hpa_recommendations_clear(&recs);
    s = (struct kube_hpa_scale){.current = 3, .proposal = 1, .min = 2, .max = 10, .now = 3000};
    kube_hpa_normalize(&s, &recs, &r);
    CHECK(r.desired == 2 && streq(r.limited_reason, "TooFewReplicas"));
    /* A scale-up window holds an increase. */
    kube_hpa_recommendations_clear(&recs);
    kube_hpa_normalize(&(struct kube_hpa_scale){3, 3, 1, 10, 60, 0, 3990}, &recs, &r);
    kube_hpa_normalize(&(struct kube_hpa_scale){3, 5, 1, 10, 60, 0, 4000}, &recs, &r);
    CHECK(r.desired == 3 && streq(r.able_reason, "ScaleUpStabilized"));
    kube_hpa_recommendations_clear(&recs);
}

#define HPA_HEAD "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: h}\n"
#define HPA_REF  "  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}\n"

static void test_hpa_decoding(void)
{
    char *msg;
    struct kube_object *o = decode(HPA_HEAD "spec:\n" HPA_REF "  maxReplicas: 5\n", &msg);
    CHECK(o && o->u.hpa.min_replicas == 1 && o->u.hpa.cpu_target == 80 &&
          o->u.hpa.memory_target == -1 && o->u.hpa.down_window == 300 && o->u.hpa.up_window == 0);
    kube_object_free(o);
    free(msg);
    o = decode(HPA_HEAD "spec:\n" HPA_REF "  maxReplicas: 5\n  metrics:\n"
                        "  - {type: Resource, resource: {name: memory, target: {type: Utilization, "
                        "averageUtilization: 60}}}\n  behavior: {scaleDown: "
                        "{stabilizationWindowSeconds: 5}}\n",
               &msg);
    CHECK(o && o->u.hpa.cpu_target == -1 && o->u.hpa.memory_target == 60 &&
          o->u.hpa.down_window == 5);
    kube_object_free(o);
    free(msg);
    o = decode("apiVersion: autoscaling/v1\nkind: HorizontalPodAutoscaler\nmetadata: {name: h}\n"
               "spec:\n" HPA_REF "  maxReplicas: 5\n  targetCPUUtilizationPercentage: 30\n",
               &msg);
    CHECK(o && o->u.hpa.cpu_target == 30);
    kube_object_free(o);
    free(msg);
    refused(HPA_HEAD "spec:\n" HPA_REF "  maxReplicas: 0\n",
            "spec.maxReplicas: Invalid value: 0: must be greater than 0");
    refused(HPA_HEAD "spec:\n" HPA_REF "  minReplicas: 4\n  maxReplicas: 3\n",
            "spec.maxReplicas: Invalid value: 3: must be greater than or equal to `minReplicas`");
    refused(HPA_HEAD "spec:\n" HPA_REF "  maxReplicas: 3\n  targetCPUUtilizationPercentage: 5\n",
            "spec.targetCPUUtilizationPercentage: unknown field");
    refused(HPA_HEAD "spec:\n" HPA_REF "  maxReplicas: 3\n  metrics: [{type: Pods}]\n",
            "spec.metrics[0].type: \"Pods\": not supported by podrun");
    refused(HPA_HEAD "spec:\n" HPA_REF "  maxReplicas: 3\n  behavior: {scaleUp: {policies: []}}\n",
            "spec.behavior.scaleUp.policies: Required value: must specify at least one Policy");
    refused(HPA_HEAD "spec:\n" HPA_REF "  maxReplicas: 3\n  metrics: [{type: External}]\n",
            "external.metrics.k8s.io");
    refused(HPA_HEAD "spec:\n" HPA_REF "  maxReplicas: 3\n  metrics: [{type: Object}]\n",
            "spec.metrics[0].type: \"Object\": not supported by podrun (a Object metric is read "
            "from a custom metrics API");
    o = decode(HPA_HEAD "spec:\n" HPA_REF "  maxReplicas: 5\n  metrics:\n"
                        "  - {type: ContainerResource, containerResource: {name: cpu, container: "
                        "app, target: {type: Utilization, averageUtilization: 60}}}\n"
                        "  - {type: ContainerResource, containerResource: {name: memory, "
                        "container: app, target: {type: Utilization, averageUtilization: 70}}}\n",
               &msg);
    CHECK(o && o->u.hpa.cpu_target == -1 && o->u.hpa.memory_target == -1 &&
          o->u.hpa.n_container_targets == 2);
    if (o && o->u.hpa.n_container_targets == 2) {
        CHECK_STR(o->u.hpa.container_targets[0].container, "app");
        CHECK(o->u.hpa.container_targets[0].cpu && o->u.hpa.container_targets[0].target == 60);
        CHECK(!o->u.hpa.container_targets[1].cpu && o->u.hpa.container_targets[1].target == 70);
    }
    kube_object_free(o);
    free(msg);
    refused(HPA_HEAD "spec:\n" HPA_REF "  maxReplicas: 3\n  metrics:\n"
                     "  - {type: ContainerResource, containerResource: {name: cpu, target: {type: "
                     "Utilization, averageUtilization: 60}}}\n",
            "spec.metrics[0].containerResource.container: Required value");
    refused(HPA_HEAD "spec:\n" HPA_REF "  maxReplicas: 3\n  metrics:\n"
                     "  - {type: ContainerResource, containerResource: {name: cpu, container: a, "
                     "target: {type: AverageValue, averageValue: 1}}}\n",
            "spec.metrics[0].containerResource.target.type: \"AverageValue\": not supported");
    refused(HPA_HEAD "spec:\n" HPA_REF "  maxReplicas: 3\n  metrics:\n"
                     "  - {type: ContainerResource, containerResource: {name: cpu, container: a, "
                     "target: {type: Utilization, averageUtilization: 6}}}\n"
                     "  - {type: ContainerResource, containerResource: {name: cpu, container: a, "
                     "target: {type: Utilization, averageUtilization: 7}}}\n",
            "spec.metrics[1]: Duplicate value: cpu of container a");
    refused(HPA_HEAD "spec:\n" HPA_REF "  maxReplicas: 3\n  metrics: [{type: Cpu}]\n",
            "spec.metrics[0].type: Unsupported value: \"Cpu\"");
    refused(HPA_HEAD "spec:\n  maxReplicas: 3\n", "spec.scaleTargetRef.kind: Required value");
}

/* A behavior's rules: Kubernetes' defaults filled in, the given policies replacing them. */
static void test_hpa_behavior_decoding(void)
{
    char *msg;
    struct kube_object *o = decode(HPA_HEAD "spec:\n" HPA_REF "  maxReplicas: 5\n", &msg);
    CHECK(o && !o->u.hpa.has_behavior);
    kube_object_free(o);
    free(msg);
    o = decode(HPA_HEAD "spec:\n" HPA_REF "  maxReplicas: 5\n  behavior:\n"
                        "    scaleDown:\n      selectPolicy: Min\n      policies:\n"
                        "      - {type: Pods, value: 1, periodSeconds: 60}\n"
                        "      - {type: Percent, value: 50, periodSeconds: 30}\n",
               &msg);
    CHECK(o && o->u.hpa.has_behavior);
    if (o) {
        const struct kube_hpa_rules *up = &o->u.hpa.up_rules, *down = &o->u.hpa.down_rules;
        CHECK(up->select == KUBE_HPA_SELECT_MAX && up->n == 2 && !up->policies[0].percent &&
              up->policies[0].value == 4 && up->policies[0].period_seconds == 15 &&
              up->policies[1].percent && up->policies[1].value == 100);
        CHECK(down->select == KUBE_HPA_SELECT_MIN && down->n == 2 && !down->policies[0].percent &&
              down->policies[0].value == 1 && down->policies[0].period_seconds == 60 &&
              down->policies[1].percent && down->policies[1].value == 50 &&
              down->policies[1].period_seconds == 30);
        CHECK(o->u.hpa.down_window == 300 && kube_hpa_rules_longest_period(down) == 60);
    }
    kube_object_free(o);
    free(msg);
    o = decode(HPA_HEAD "spec:\n" HPA_REF "  maxReplicas: 5\n  behavior:\n"
                        "    scaleUp: {selectPolicy: Disabled}\n",
               &msg);
    CHECK(o && o->u.hpa.up_rules.select == KUBE_HPA_SELECT_DISABLED && o->u.hpa.up_rules.n == 2 &&
          o->u.hpa.down_rules.n == 1 && o->u.hpa.down_rules.policies[0].percent);
    kube_object_free(o);
    free(msg);
#define BEH HPA_HEAD "spec:\n" HPA_REF "  maxReplicas: 3\n  behavior:\n"
    refused(BEH "    scaleUp: {policies: [{type: Replicas, value: 1, periodSeconds: 1}]}\n",
            "spec.behavior.scaleUp.policies[0].type: Unsupported value: \"Replicas\": supported "
            "values: \"Percent\", \"Pods\"");
    refused(BEH "    scaleUp: {policies: [{type: Pods, value: 0, periodSeconds: 1}]}\n",
            "spec.behavior.scaleUp.policies[0].value: Invalid value: 0: must be greater than zero");
    refused(BEH "    scaleDown: {policies: [{type: Pods, value: 1, periodSeconds: 0}]}\n",
            "spec.behavior.scaleDown.policies[0].periodSeconds: Invalid value: 0: must be "
            "greater than zero");
    refused(BEH "    scaleDown: {policies: [{type: Pods, value: 1, periodSeconds: 1801}]}\n",
            "spec.behavior.scaleDown.policies[0].periodSeconds: Invalid value: 1801: must be "
            "less than or equal to 1800");
    refused(BEH "    scaleDown: {selectPolicy: Avg}\n",
            "spec.behavior.scaleDown.selectPolicy: Unsupported value: \"Avg\"");
    refused(BEH "    scaleDown: {policies: [{type: Pods, value: 1, periodSeconds: 1, x: 1}]}\n",
            "spec.behavior.scaleDown.policies[0].x: unknown field in HPAScalingPolicy");
    refused(BEH "    scaleUp: {tolerance: 0.05}\n",
            "spec.behavior.scaleUp.tolerance: not supported");
#undef BEH
}

/* The rules' limits as horizontal.go computes them. */
static void test_hpa_behavior_limits(void)
{
    struct kube_hpa_rules up = {KUBE_HPA_SELECT_MAX, 2, {{false, 4, 15}, {true, 100, 15}}};
    /* Max of +4 and +100%: from 2, 6; from 10, 20. */
    CHECK(kube_hpa_rules_limit(&up, true, 2, NULL, 0, NULL, 0, 100) == 6);
    CHECK(kube_hpa_rules_limit(&up, true, 10, NULL, 0, NULL, 0, 100) == 20);
    /* Min: the smaller change. */
    up.select = KUBE_HPA_SELECT_MIN;
    CHECK(kube_hpa_rules_limit(&up, true, 2, NULL, 0, NULL, 0, 100) == 4);
    CHECK(kube_hpa_rules_limit(&up, true, 10, NULL, 0, NULL, 0, 100) == 14);
    up.select = KUBE_HPA_SELECT_DISABLED;
    CHECK(kube_hpa_rules_limit(&up, true, 10, NULL, 0, NULL, 0, 100) == 10);
    /* Percent up is rounded up: 10% of 3 still adds one. */
    struct kube_hpa_rules pct = {KUBE_HPA_SELECT_MAX, 1, {{true, 10, 60}}};
    CHECK(kube_hpa_rules_limit(&pct, true, 3, NULL, 0, NULL, 0, 100) == 4);
    /* Events within a period count from the period's start: 2 added 10 s ago, of at most
     * 2 per 60 s: no more now; once past the period, 2 more. */
    struct kube_hpa_rules two = {KUBE_HPA_SELECT_MAX, 1, {{false, 2, 60}}};
    struct kube_hpa_scale_event added[] = {{90, 2}};
    CHECK(kube_hpa_rules_limit(&two, true, 4, added, 1, NULL, 0, 100) == 4);
    CHECK(kube_hpa_rules_limit(&two, true, 4, added, 1, NULL, 0, 150) == 6);
    /* Down: Percent rounds down (the replicas left), Max the largest change. */
    struct kube_hpa_rules down = {KUBE_HPA_SELECT_MAX, 2, {{false, 1, 60}, {true, 50, 60}}};
    CHECK(kube_hpa_rules_limit(&down, false, 5, NULL, 0, NULL, 0, 100) == 2);
    down.select = KUBE_HPA_SELECT_MIN;
    CHECK(kube_hpa_rules_limit(&down, false, 5, NULL, 0, NULL, 0, 100) == 4);
    /* 1 removed 30 s ago: the period started at 5, so 50% leaves 2 (from 4 now). */
    down.select = KUBE_HPA_SELECT_MAX;
    struct kube_hpa_scale_event removed[] = {{70, 1}};
    CHECK(kube_hpa_rules_limit(&down, false, 4, NULL, 0, removed, 1, 100) == 2);
    down.select = KUBE_HPA_SELECT_MIN;
    CHECK(kube_hpa_rules_limit(&down, false, 4, NULL, 0, removed, 1, 100) == 4);

    /* Normalised: the limit, then the bounds, with their conditions. */
    struct kube_hpa_recommendations recs = {0};
    struct kube_hpa_result r;
    struct kube_hpa_rules slow_up = {KUBE_HPA_SELECT_MAX, 1, {{false, 1, 60}}};
    struct kube_hpa_rules slow_down = {KUBE_HPA_SELECT_MAX, 1, {{false, 1, 60}}};
    struct kube_hpa_scale s = {.current = 2,
                               .proposal = 8,
                               .min = 1,
                               .max = 10,
                               .now = 1000,
                               .up_rules = &slow_up,
                               .down_rules = &slow_down};
    kube_hpa_normalize(&s, &recs, &r);
    CHECK(r.desired == 3 && r.limited && streq(r.limited_reason, "ScaleUpLimit"));
    /* The one added 10 s ago uses the period up: it stays at 3. */
    struct kube_hpa_scale_event ev[] = {{990, 1}};
    s.current = 3;
    s.up_events = ev;
    s.n_up_events = 1;
    kube_hpa_normalize(&s, &recs, &r);
    CHECK(r.desired == 3 && streq(r.limited_reason, "ScaleUpLimit"));
    /* Down by one per minute; the bound wins when it is higher. */
    kube_hpa_recommendations_clear(&recs);
    s = (struct kube_hpa_scale){.current = 5,
                                .proposal = 1,
                                .min = 1,
                                .max = 10,
                                .now = 2000,
                                .up_rules = &slow_up,
                                .down_rules = &slow_down};
    kube_hpa_normalize(&s, &recs, &r);
    CHECK(r.desired == 4 && streq(r.limited_reason, "ScaleDownLimit") &&
          streq(r.limited_message,
                "the desired replica count is decreasing faster than the maximum scale rate"));
    kube_hpa_recommendations_clear(&recs);
    s.min = 5;
    s.current = 6;
    kube_hpa_normalize(&s, &recs, &r);
    CHECK(r.desired == 5 && streq(r.limited_reason, "TooFewReplicas"));
    /* Disabled down: never below the current count. */
    kube_hpa_recommendations_clear(&recs);
    struct kube_hpa_rules off = {KUBE_HPA_SELECT_DISABLED, 1, {{true, 100, 15}}};
    s = (struct kube_hpa_scale){.current = 5,
                                .proposal = 1,
                                .min = 1,
                                .max = 10,
                                .now = 3000,
                                .up_rules = &slow_up,
                                .down_rules = &off};
    kube_hpa_normalize(&s, &recs, &r);
    CHECK(r.desired == 5 && streq(r.limited_reason, "ScaleDownLimit"));
    /* Within the limits: DesiredWithinRange. */
    kube_hpa_recommendations_clear(&recs);
    s = (struct kube_hpa_scale){.current = 5,
                                .proposal = 6,
                                .min = 1,
                                .max = 10,
                                .now = 4000,
                                .up_rules = &slow_up,
                                .down_rules = &slow_down};
    kube_hpa_normalize(&s, &recs, &r);
    CHECK(r.desired == 6 && !r.limited && streq(r.limited_reason, "DesiredWithinRange"));
    kube_hpa_recommendations_clear(&recs);
}

int main(void)
{
    RUN(test_job_defaults);
    RUN(test_job_validation);
    RUN(test_job_creates_up_to_parallelism_and_remaining_completions);
    RUN(test_job_backoff_doubles_and_fails_past_the_limit);
    RUN(test_job_on_failure_counts_restarts);
    RUN(test_job_deadline_and_suspend);
    RUN(test_job_indexed_fills_missing_indexes);
    RUN(test_job_work_queue_completes_when_one_succeeds_and_none_runs);
    RUN(test_cron_next_times);
    RUN(test_cron_most_recent_and_missed);
    RUN(test_cron_refusals);
    RUN(test_cronjob_defaults_and_validation);
    RUN(test_hpa_formula_and_tolerance);
    RUN(test_hpa_missing_and_unready_pods);
    RUN(test_hpa_stabilisation_and_limits);
    RUN(test_hpa_decoding);
    RUN(test_hpa_behavior_decoding);
    RUN(test_hpa_behavior_limits);
    UNIT_DONE();
}
