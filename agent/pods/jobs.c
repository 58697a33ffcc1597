/* SPDX-License-Identifier: Apache-2.0 */
/* batch/v1 Jobs on this node: the I/O edge of libkube's kube_job_plan. A reconcile reads each
 * Job and the pods it owns, decides, and writes: pods from the template (JOB-<suffix>, Indexed:
 * JOB-<index>-<suffix>, with the job-name and controller-uid labels and an ownerReference),
 * the deletion of active pods of a finished or suspended Job, and of a Job whose
 * ttlSecondsAfterFinished has passed. Finished pods stay, as in Kubernetes: the Job's status
 * (succeeded, failed, its conditions) is counted from them whenever it is read. */
#include "manager.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/random.h>
#include <time.h>

#define INDEX_KEY "batch.kubernetes.io/job-completion-index"

/* Kubernetes' DefaultJobPodFailureBackOff and MaxJobPodFailureBackOff. */
#define BACKOFF_BASE_MS 10000
#define BACKOFF_MAX_MS  600000

static bool owned_by_job(const struct pods_entry *pod, const struct pods_entry *job)
{
    const char *kind = NULL, *u = pods_controller_of(pod->object, &kind);
    return u && kind && streq(kind, "Job") && streq(u, job->uid) && streq(pod->ns, job->ns);
}

static int64_t int_at(yajl_val v, int64_t def)
{
    return v && YAJL_IS_INTEGER(v) ? YAJL_GET_INTEGER(v) : def;
}

static int64_t rfc3339(const char *t)
{
    struct tm tm = {0};
    return t && strptime(t, "%Y-%m-%dT%H:%M:%S", &tm) ? (int64_t)timegm(&tm) : 0;
}

static void format_time(int64_t t, char out[32])
{
    struct tm tm;
    time_t tt = (time_t)t;
    gmtime_r(&tt, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* The back-off's first delay: PODRUN_JOB_BACKOFF_MS (for tests), else Kubernetes' 10 s. */
static int64_t backoff_base_ms(void)
{
    const char *s = getenv("PODRUN_JOB_BACKOFF_MS");
    char *end;
    long long v = s && *s ? strtoll(s, &end, 10) : -1;
    return s && *s && !*end && v >= 0 && v <= BACKOFF_MAX_MS ? v : BACKOFF_BASE_MS;
}

static void params_of(const struct pods_entry *job, struct kube_job_params *p)
{
    yajl_val spec = json_get(job->object, "spec");
    yajl_val c = json_get(spec, "completions"), par = json_get(spec, "parallelism");
    const char *mode = YAJL_GET_STRING(json_get(spec, "completionMode"));
    const char *rp =
        YAJL_GET_STRING(json_get(json_get(json_get(spec, "template"), "spec"), "restartPolicy"));
    yajl_val suspend = json_get(spec, "suspend");
    *p = (struct kube_job_params){
        .parallelism = (int32_t)int_at(par, 1),
        /* Both unset: 1 and 1; parallelism alone: a work queue (kube_job_check's defaults). */
        .completions = (int32_t)int_at(c, par && YAJL_IS_INTEGER(par) ? -1 : 1),
        .backoff_limit = (int32_t)int_at(json_get(spec, "backoffLimit"), 6),
        .active_deadline = int_at(json_get(spec, "activeDeadlineSeconds"), -1),
        .indexed = mode && streq(mode, "Indexed"),
        .suspend = suspend && YAJL_IS_TRUE(suspend),
        .on_failure = rp && streq(rp, "OnFailure"),
        .start = job->created,
        .backoff_base_ms = backoff_base_ms(),
        .backoff_max_ms = BACKOFF_MAX_MS,
    };
}

/* A pod as the job controller sees it; a pod whose shim died unfinished has failed. */
static void observe_pod(pods_manager *m, const struct pods_entry *e, struct kube_job_pod *p)
{
    const char *phase = YAJL_GET_STRING(json_get(e->status, "phase"));
    const char *idx = YAJL_GET_STRING(
        json_get(json_get(json_get(e->object, "metadata"), "annotations"), INDEX_KEY));
    *p = (struct kube_job_pod){.phase = phase ? phase : "Pending", .index = -1};
    if (idx) {
        char *end;
        long v = strtol(idx, &end, 10);
        if (!*end && v >= 0 && v <= INT32_MAX)
            p->index = (int32_t)v;
    }
    bool done = streq(p->phase, "Succeeded") || streq(p->phase, "Failed");
    /* A pod being made (a reader sees it before its shim starts) has not failed. */
    if (!done && !(e->creating && !pods_manager_exclusive(m)) &&
        !pods_pod_shim_running(m, e->uid) && !pods_pod_waiting(m, e->uid)) {
        p->phase = "Failed";
        done = true;
    }
    yajl_val cs = json_get(e->status, "containerStatuses");
    for (size_t i = 0; i < json_array_len(cs); i++) {
        yajl_val c = json_array_at(cs, i);
        p->restarts += (int32_t)int_at(json_get(c, "restartCount"), 0);
        p->finished = MAX(p->finished, rfc3339(YAJL_GET_STRING(json_get(c, "finishedAt"))));
    }
    if (done && !p->finished)
        p->finished = e->created;
}

/* The Job's pods and the controller's decision about them, now. */
struct job_view {
    struct kube_job_params params;
    struct kube_job_pod *pods;
    const struct pods_entry **ents;
    size_t n;
    struct kube_job_plan plan;
};

static void view_clear(struct job_view *v)
{
    free(v->pods);
    free(v->ents);
    kube_job_plan_clear(&v->plan);
}

static void view_job(pods_manager *m, const struct pods_entry *job, const struct pods_list *pods,
                     int64_t now_ms, struct job_view *v)
{
    *v = (struct job_view){0};
    params_of(job, &v->params);
    v->pods = xcalloc(pods->n + 1, sizeof(*v->pods));
    v->ents = xcalloc(pods->n + 1, sizeof(*v->ents));
    for (size_t i = 0; i < pods->n; i++)
        if (owned_by_job(&pods->v[i], job)) {
            observe_pod(m, &pods->v[i], &v->pods[v->n]);
            v->ents[v->n++] = &pods->v[i];
        }
    kube_job_plan(&v->params, v->pods, v->n, now_ms, &v->plan);
}

/* ---- pods of the Job ---- */

static void gen_labels(yajl_gen g, yajl_val labels, const struct pods_entry *job, int32_t index)
{
    jg_key(g, "labels");
    jg_map_open(g);
    for (size_t i = 0; YAJL_IS_OBJECT(labels) && i < labels->u.object.len; i++) {
        const char *k = labels->u.object.keys[i];
        if (strstr(k, "controller-uid") || strstr(k, "job-name") || streq(k, INDEX_KEY))
            continue;
        jg_key(g, k);
        jg_value(g, labels->u.object.values[i]);
    }
    jg_key_str(g, "batch.kubernetes.io/controller-uid", job->uid);
    jg_key_str(g, "batch.kubernetes.io/job-name", job->name);
    jg_key_str(g, "controller-uid", job->uid);
    jg_key_str(g, "job-name", job->name);
    if (index >= 0) {
        char s[16];
        snprintf(s, sizeof(s), "%d", index);
        jg_key_str(g, INDEX_KEY, s);
    }
    jg_map_close(g);
}

/* A container with JOB_COMPLETION_INDEX in its environment (Indexed Jobs). */
static void gen_container(yajl_gen g, yajl_val c, const char *index)
{
    jg_map_open(g);
    bool has_env = false;
    for (size_t i = 0; YAJL_IS_OBJECT(c) && i < c->u.object.len; i++) {
        const char *k = c->u.object.keys[i];
        jg_key(g, k);
        if (!index || !streq(k, "env")) {
            jg_value(g, c->u.object.values[i]);
            continue;
        }
        has_env = true;
        yajl_val env = c->u.object.values[i];
        jg_array_open(g);
        jg_map_open(g);
        jg_key_str(g, "name", "JOB_COMPLETION_INDEX");
        jg_key_str(g, "value", index);
        jg_map_close(g);
        for (size_t j = 0; j < json_array_len(env); j++)
            jg_value(g, json_array_at(env, j));
        jg_array_close(g);
    }
    if (index && !has_env) {
        jg_key(g, "env");
        jg_array_open(g);
        jg_map_open(g);
        jg_key_str(g, "name", "JOB_COMPLETION_INDEX");
        jg_key_str(g, "value", index);
        jg_map_close(g);
        jg_array_close(g);
    }
    jg_map_close(g);
}

static void gen_spec(yajl_gen g, yajl_val spec, const struct pods_entry *job, int32_t index)
{
    char idx[16];
    snprintf(idx, sizeof(idx), "%d", index);
    jg_key(g, "spec");
    if (index < 0) {
        jg_value(g, spec);
        return;
    }
    jg_map_open(g);
    bool hostname = false;
    for (size_t i = 0; YAJL_IS_OBJECT(spec) && i < spec->u.object.len; i++) {
        const char *k = spec->u.object.keys[i];
        yajl_val v = spec->u.object.values[i];
        jg_key(g, k);
        hostname |= streq(k, "hostname");
        if (!streq(k, "containers") && !streq(k, "initContainers")) {
            jg_value(g, v);
            continue;
        }
        jg_array_open(g);
        for (size_t j = 0; j < json_array_len(v); j++)
            gen_container(g, json_array_at(v, j), idx);
        jg_array_close(g);
    }
    /* As the job controller names an Indexed Job's pod's host: JOB-INDEX. */
    if (!hostname) {
        _cleanup_free_ char *h = xasprintf("%s-%d", job->name, index);
        if (strlen(h) <= 63)
            jg_key_str(g, "hostname", h);
    }
    jg_map_close(g);
}

static int create_pod(pods_manager *m, const struct pods_entry *job, int32_t index, pr_error **err)
{
    yajl_val tpl = json_get(json_get(job->object, "spec"), "template");
    yajl_val tmeta = json_get(tpl, "metadata");
    unsigned char rnd[KUBE_SUFFIX_LEN];
    char suffix[KUBE_SUFFIX_LEN + 1];
    if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
        return pr_err(err, errno, "getrandom");
    kube_name_suffix(rnd, suffix);
    _cleanup_free_ char *name = index >= 0 ? xasprintf("%s-%d-%s", job->name, index, suffix)
                                           : xasprintf("%s-%s", job->name, suffix);
    _cleanup_gen_ yajl_gen g = json_gen_new(false);
    jg_map_open(g);
    jg_key_str(g, "apiVersion", "v1");
    jg_key_str(g, "kind", "Pod");
    jg_key(g, "metadata");
    jg_map_open(g);
    jg_key_str(g, "name", name);
    jg_key_str(g, "namespace", job->ns);
    gen_labels(g, json_get(tmeta, "labels"), job, index);
    yajl_val ann = json_get(tmeta, "annotations");
    if (ann || index >= 0) {
        jg_key(g, "annotations");
        jg_map_open(g);
        for (size_t i = 0; YAJL_IS_OBJECT(ann) && i < ann->u.object.len; i++)
            if (!streq(ann->u.object.keys[i], INDEX_KEY)) {
                jg_key(g, ann->u.object.keys[i]);
                jg_value(g, ann->u.object.values[i]);
            }
        if (index >= 0) {
            char s[16];
            snprintf(s, sizeof(s), "%d", index);
            jg_key_str(g, INDEX_KEY, s);
        }
        jg_map_close(g);
    }
    jg_key(g, "ownerReferences");
    jg_array_open(g);
    jg_map_open(g);
    jg_key_str(g, "apiVersion", "batch/v1");
    jg_key_str(g, "kind", "Job");
    jg_key_str(g, "name", job->name);
    jg_key_str(g, "uid", job->uid);
    jg_key_bool(g, "controller", true);
    jg_key_bool(g, "blockOwnerDeletion", true);
    jg_map_close(g);
    jg_array_close(g);
    jg_map_close(g);
    gen_spec(g, json_get(tpl, "spec"), job, index);
    jg_map_close(g);
    size_t len;
    const char *buf = jg_buf(g, &len);
    _cleanup_free_ char *text = xstrndup(buf, len);
    yajl_val t = NULL;
    int r = json_parse(text, "a pod of a Job", &t, err);
    if (r < 0)
        return r;
    struct kube_object *o = NULL;
    enum pods_apply_result res;
    if ((r = kube_object_decode(t, name, &o, err)) == 0)
        r = pods_apply(m, o, &res, err);
    kube_object_free(o);
    if (r == 0)
        pods_workload_event(m, "jobs", job, "Normal", "SuccessfulCreate", "Created pod: %s", name);
    return r;
}

/* ---- the controller ---- */

static int delete_pod(pods_manager *m, const struct pods_entry *job, const struct pods_entry *pod,
                      pr_error **err)
{
    int r = pods_delete(m, "pods", pod->ns, pod->name, err);
    if (r == 0)
        pods_workload_event(m, "jobs", job, "Normal", "SuccessfulDelete", "Deleted pod: %s",
                            pod->name);
    return r;
}

/* The Job's end, recorded once as the controller records it when it sets the condition. */
static void record_finish(pods_manager *m, const struct pods_entry *job,
                          const struct kube_job_plan *p)
{
    if (p->state == KUBE_JOB_COMPLETE)
        pods_workload_event_once(m, "jobs", job, p->finished_at, "Normal", "Completed",
                                 "Job completed");
    else if (p->state == KUBE_JOB_FAILED && p->reason)
        pods_workload_event_once(m, "jobs", job, p->finished_at, "Warning", p->reason, "%s",
                                 streq(p->reason, "DeadlineExceeded")
                                     ? "Job was active longer than specified deadline"
                                     : "Job has reached the specified backoff limit");
}

static int reconcile_job(pods_manager *m, const struct pods_entry *job,
                         const struct pods_list *pods, int64_t now_ms, int64_t *wake_ms,
                         pr_error **err)
{
    struct job_view v;
    view_job(m, job, pods, now_ms, &v);
    struct kube_job_plan *p = &v.plan;
    int r = 0;
    for (size_t i = 0; r == 0 && p->delete_active && i < v.n; i++)
        if (!streq(v.pods[i].phase, "Succeeded") && !streq(v.pods[i].phase, "Failed"))
            r = delete_pod(m, job, v.ents[i], err);
    for (size_t i = 0; r == 0 && i < p->n_delete; i++)
        r = delete_pod(m, job, v.ents[p->delete_idx[i]], err);
    for (size_t i = 0; r == 0 && i < p->create; i++)
        r = create_pod(m, job, p->indexes ? p->indexes[i] : -1, err);
    if (r == 0)
        record_finish(m, job, p);
    int64_t wake = p->wake_ms;
    yajl_val ttl = json_get(json_get(job->object, "spec"), "ttlSecondsAfterFinished");
    if (r == 0 && p->state != KUBE_JOB_RUNNING && ttl && YAJL_IS_INTEGER(ttl)) {
        /* The TTL-after-finished controller: the Job goes, and its pods with it. */
        int64_t at = (p->finished_at + YAJL_GET_INTEGER(ttl)) * 1000;
        if (at <= now_ms)
            r = pods_delete(m, "jobs", job->ns, job->name, err);
        else
            wake = at;
    }
    if (wake)
        *wake_ms = *wake_ms ? MIN(*wake_ms, wake) : wake;
    view_clear(&v);
    return r;
}

int pods_jobs_collect(pods_manager *m, pr_error **err)
{
    return pods_collect_orphans(m, "jobs", "Job", "pods", err);
}

int pods_jobs_reconcile(pods_manager *m, bool *any, int64_t *wake_at, pr_error **err)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t now_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    struct pods_list jobs = {0}, pods = {0};
    int r = pods_jobs_collect(m, err);
    if (r == 0)
        r = pods_list(m, "jobs", NULL, NULL, &jobs, err);
    if (r == 0)
        r = pods_list(m, "pods", NULL, NULL, &pods, err);
    int64_t wake_ms = 0;
    int first = 0;
    /* One Job that cannot progress (an image that cannot be pulled) holds no other back. */
    for (size_t i = 0; r == 0 && i < jobs.n; i++) {
        pr_error *e = NULL;
        int rj = reconcile_job(m, &jobs.v[i], &pods, now_ms, &wake_ms, &e);
        if (rj < 0 && first == 0) {
            first = rj;
            *err = e;
        } else {
            pr_error_free(e);
        }
    }
    *any = r < 0 || jobs.n > 0;
    *wake_at = wake_ms ? (wake_ms + 999) / 1000 : 0;
    pods_list_clear(&jobs);
    pods_list_clear(&pods);
    return r < 0 ? r : first;
}

/* ---- status, computed when read ---- */

static void gen_condition(yajl_gen g, const char *type, const char *reason, const char *msg,
                          int64_t at)
{
    char t[32];
    format_time(at, t);
    jg_map_open(g);
    jg_key_str(g, "type", type);
    jg_key_str(g, "status", "True");
    jg_key_str(g, "lastProbeTime", t);
    jg_key_str(g, "lastTransitionTime", t);
    jg_key_str(g, "reason", reason);
    jg_key_str(g, "message", msg);
    jg_map_close(g);
}

int pods_job_status(pods_manager *m, const struct pods_entry *job, yajl_val *out, pr_error **err)
{
    struct pods_list pods = {0};
    int r = pods_list(m, "pods", job->ns, NULL, &pods, err);
    if (r < 0)
        return r;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct job_view v;
    view_job(m, job, &pods, (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000, &v);
    const struct kube_job_plan *p = &v.plan;
    int32_t ready = 0;
    for (size_t i = 0; i < v.n; i++)
        ready += streq(v.pods[i].phase, "Running") && v.ents[i]->total > 0 &&
                 v.ents[i]->ready == v.ents[i]->total;
    _cleanup_gen_ yajl_gen g = json_gen_new(false);
    jg_map_open(g);
    char t[32];
    bool suspended = v.params.suspend && p->state == KUBE_JOB_RUNNING;
    if (p->state != KUBE_JOB_RUNNING || suspended) {
        jg_key(g, "conditions");
        jg_array_open(g);
        if (p->state == KUBE_JOB_COMPLETE)
            gen_condition(g, "Complete", "CompletionsReached",
                          "Reached expected number of succeeded pods", p->finished_at);
        else if (p->state == KUBE_JOB_FAILED)
            gen_condition(g, "Failed", p->reason,
                          streq(p->reason, "DeadlineExceeded")
                              ? "Job was active longer than specified deadline"
                              : "Job has reached the specified backoff limit",
                          p->finished_at);
        else
            gen_condition(g, "Suspended", "JobSuspended", "Job suspended", job->created);
        jg_array_close(g);
    }
    /* startTime: when the Job was made (podrun does not move it when a suspended Job
     * resumes). */
    if (!suspended) {
        format_time(job->created, t);
        jg_key_str(g, "startTime", t);
    }
    if (p->state == KUBE_JOB_COMPLETE) {
        format_time(p->finished_at, t);
        jg_key_str(g, "completionTime", t);
    }
    if (p->state == KUBE_JOB_RUNNING && p->active)
        jg_key_int(g, "active", p->active);
    if (p->state == KUBE_JOB_RUNNING)
        jg_key_int(g, "ready", ready);
    if (p->succeeded)
        jg_key_int(g, "succeeded", p->succeeded);
    if (p->failed)
        jg_key_int(g, "failed", p->failed);
    if (p->completed_indexes && *p->completed_indexes)
        jg_key_str(g, "completedIndexes", p->completed_indexes);
    jg_key(g, "uncountedTerminatedPods");
    jg_map_open(g);
    jg_map_close(g);
    jg_map_close(g);
    view_clear(&v);
    pods_list_clear(&pods);
    size_t len;
    const char *buf = jg_buf(g, &len);
    _cleanup_free_ char *text = xstrndup(buf, len);
    return json_parse(text, "a Job's status", out, err);
}
