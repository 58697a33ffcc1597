/* SPDX-License-Identifier: Apache-2.0 */
/* batch/v1 Job: decoding, the API server's defaults and checks, and the job controller's
 * decision (agent/kube/job.c). */
#include "json.h"
#include "kube/kube.h"
#include "tests/lib/unit.h"
#include "util.h"

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
    UNIT_DONE();
}
