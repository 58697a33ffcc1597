/* SPDX-License-Identifier: Apache-2.0 */
/* batch/v1 CronJobs on this node: the CronJob controller (pkg/controller/cronjob, v2) over
 * libkube's schedule (kube_cron_*). Each pass makes the Job of the most recent unmet schedule
 * time (CRON-<minutes since the epoch>, owned through ownerReferences), as concurrencyPolicy
 * and startingDeadlineSeconds allow, and deletes finished Jobs beyond the history limits. What
 * the pods cannot tell, lastScheduleTime and lastSuccessfulTime, is kept beside the CronJob
 * (objects/cronjobstatus/NS/NAME.json, with the CronJob's uid). Schedules are read in
 * spec.timeZone, else in UTC (see DESIGN.md). */
#include "manager.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define STATUS_RES    "cronjobstatus"
#define SCHEDULED_KEY "batch.kubernetes.io/cronjob-scheduled-timestamp"

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

static int64_t parse_time(const char *s)
{
    struct tm tm = {0};
    return s && strptime(s, "%Y-%m-%dT%H:%M:%S", &tm) ? (int64_t)timegm(&tm) : 0;
}

/* PODRUN_CRON_TIME_SCALE=N (for tests): the schedules' clock runs N times as fast as the real
 * one from the CronJob's creation, so that "* * * * *" fires every 60/N seconds. */
static int64_t time_scale(void)
{
    const char *s = getenv("PODRUN_CRON_TIME_SCALE");
    char *end;
    long long v = s && *s ? strtoll(s, &end, 10) : 1;
    return s && *s && !*end && v >= 1 && v <= 3600 ? v : 1;
}

static int64_t cron_clock(const struct pods_entry *cj, int64_t real)
{
    return cj->created + (real - cj->created) * time_scale();
}

static int64_t real_clock(const struct pods_entry *cj, int64_t cron)
{
    int64_t s = time_scale();
    return cj->created + (cron - cj->created + s - 1) / s;
}

struct cron_status {
    int64_t last_schedule, last_success; /* 0: never */
};

static void load_status(pods_manager *m, const struct pods_entry *cj, struct cron_status *st)
{
    *st = (struct cron_status){0};
    _cleanup_json_ yajl_val rec = NULL;
    _cleanup_error_ pr_error *e = NULL;
    if (pods_object_load(m, STATUS_RES, cj->ns, cj->name, &rec, &e) < 0)
        return;
    const char *uid = YAJL_GET_STRING(json_get(rec, "uid"));
    if (!uid || !streq(uid, cj->uid))
        return; /* of a CronJob of this name deleted before */
    yajl_val o = json_get(rec, "object");
    st->last_schedule = int_at(json_get(o, "lastScheduleTime"), 0);
    st->last_success = int_at(json_get(o, "lastSuccessfulTime"), 0);
}

static int save_status(pods_manager *m, const struct pods_entry *cj, const struct cron_status *st,
                       pr_error **err)
{
    _cleanup_gen_ yajl_gen g = json_gen_new(false);
    jg_map_open(g);
    jg_key_int(g, "lastScheduleTime", st->last_schedule);
    jg_key_int(g, "lastSuccessfulTime", st->last_success);
    jg_map_close(g);
    size_t len;
    const char *buf = jg_buf(g, &len);
    _cleanup_free_ char *text = xstrndup(buf, len);
    _cleanup_json_ yajl_val t = NULL;
    int r = json_parse(text, "a CronJob's status", &t, err);
    return r < 0 ? r
                 : pods_object_save(m, STATUS_RES, cj->ns, cj->name, t, cj->uid, cj->created, err);
}

/* One Job of the CronJob, as its controller sees it. */
struct owned_job {
    const struct pods_entry *e;
    int64_t scheduled;  /* its schedule time (annotation), else its creation */
    int64_t completion; /* Complete: its completionTime */
    int state;          /* 0 active, 1 complete, 2 failed */
};

static int owned_jobs(pods_manager *m, const struct pods_entry *cj, const struct pods_list *jobs,
                      struct owned_job **out, size_t *n, pr_error **err)
{
    *out = xcalloc(jobs->n + 1, sizeof(**out));
    *n = 0;
    for (size_t i = 0; i < jobs->n; i++) {
        const struct pods_entry *j = &jobs->v[i];
        const char *kind = NULL, *u = pods_controller_of(j->object, &kind);
        if (!u || !kind || !streq(kind, "CronJob") || !streq(u, cj->uid) || !streq(j->ns, cj->ns))
            continue;
        _cleanup_json_ yajl_val st = NULL;
        int r = pods_job_status(m, j, &st, err);
        if (r < 0)
            return r;
        struct owned_job *o = &(*out)[(*n)++];
        const char *sched = YAJL_GET_STRING(
            json_get(json_get(json_get(j->object, "metadata"), "annotations"), SCHEDULED_KEY));
        *o = (struct owned_job){.e = j, .scheduled = sched ? parse_time(sched) : j->created};
        yajl_val cs = json_get(st, "conditions");
        for (size_t k = 0; k < json_array_len(cs); k++) {
            const char *type = YAJL_GET_STRING(json_get(json_array_at(cs, k), "type"));
            if (type && streq(type, "Complete"))
                o->state = 1;
            else if (type && streq(type, "Failed"))
                o->state = 2;
        }
        o->completion = parse_time(YAJL_GET_STRING(json_get(st, "completionTime")));
    }
    return 0;
}

static int delete_job(pods_manager *m, const struct pods_entry *cj, const struct pods_entry *job,
                      pr_error **err)
{
    int r = pods_delete(m, "jobs", job->ns, job->name, err);
    if (r == 0)
        pods_workload_event(m, "cronjobs", cj, "Normal", "SuccessfulDelete", "Deleted job %s",
                            job->name);
    return r;
}

/* The oldest finished Jobs of a state beyond limit go. */
static int trim_history(pods_manager *m, const struct pods_entry *cj, struct owned_job *jobs,
                        size_t n, int state, int64_t limit, pr_error **err)
{
    size_t count = 0;
    for (size_t i = 0; i < n; i++)
        count += jobs[i].e && jobs[i].state == state;
    int r = 0;
    while (r == 0 && (int64_t)count > limit) {
        size_t oldest = SIZE_MAX;
        for (size_t i = 0; i < n; i++)
            if (jobs[i].e && jobs[i].state == state &&
                (oldest == SIZE_MAX || jobs[i].scheduled < jobs[oldest].scheduled))
                oldest = i;
        r = delete_job(m, cj, jobs[oldest].e, err);
        jobs[oldest].e = NULL;
        count--;
    }
    return r;
}

/* The Job of schedule time t: CRON-<minutes>, from jobTemplate. */
static int create_job(pods_manager *m, const struct pods_entry *cj, int64_t t, pr_error **err)
{
    yajl_val tpl = json_get(json_get(cj->object, "spec"), "jobTemplate");
    yajl_val tmeta = json_get(tpl, "metadata");
    _cleanup_free_ char *name = xasprintf("%s-%lld", cj->name, (long long)(t / 60));
    _cleanup_json_ yajl_val have = NULL;
    _cleanup_error_ pr_error *e = NULL;
    if (pods_object_load(m, "jobs", cj->ns, name, &have, &e) == 0)
        return 0; /* made by a pass that did not live to record it */
    char ts[32];
    format_time(t, ts);
    _cleanup_gen_ yajl_gen g = json_gen_new(false);
    jg_map_open(g);
    jg_key_str(g, "apiVersion", "batch/v1");
    jg_key_str(g, "kind", "Job");
    jg_key(g, "metadata");
    jg_map_open(g);
    jg_key_str(g, "name", name);
    jg_key_str(g, "namespace", cj->ns);
    yajl_val labels = json_get(tmeta, "labels"), ann = json_get(tmeta, "annotations");
    if (labels) {
        jg_key(g, "labels");
        jg_value(g, labels);
    }
    jg_key(g, "annotations");
    jg_map_open(g);
    for (size_t i = 0; YAJL_IS_OBJECT(ann) && i < ann->u.object.len; i++)
        if (!streq(ann->u.object.keys[i], SCHEDULED_KEY)) {
            jg_key(g, ann->u.object.keys[i]);
            jg_value(g, ann->u.object.values[i]);
        }
    jg_key_str(g, SCHEDULED_KEY, ts);
    jg_map_close(g);
    jg_key(g, "ownerReferences");
    jg_array_open(g);
    jg_map_open(g);
    jg_key_str(g, "apiVersion", "batch/v1");
    jg_key_str(g, "kind", "CronJob");
    jg_key_str(g, "name", cj->name);
    jg_key_str(g, "uid", cj->uid);
    jg_key_bool(g, "controller", true);
    jg_key_bool(g, "blockOwnerDeletion", true);
    jg_map_close(g);
    jg_array_close(g);
    jg_map_close(g);
    jg_key(g, "spec");
    jg_value(g, json_get(tpl, "spec"));
    jg_map_close(g);
    size_t len;
    const char *buf = jg_buf(g, &len);
    _cleanup_free_ char *text = xstrndup(buf, len);
    yajl_val tree = NULL;
    int r = json_parse(text, "a Job of a CronJob", &tree, err);
    if (r < 0)
        return r;
    struct kube_object *o = NULL;
    enum pods_apply_result res;
    if ((r = kube_object_decode(tree, name, &o, err)) == 0)
        r = pods_apply(m, o, &res, err);
    kube_object_free(o);
    if (r == 0)
        pods_workload_event(m, "cronjobs", cj, "Normal", "SuccessfulCreate", "Created job %s",
                            name);
    return r;
}

static int reconcile_cronjob(pods_manager *m, const struct pods_entry *cj,
                             const struct pods_list *jobs, int64_t real_now, int64_t *wake,
                             pr_error **err)
{
    yajl_val spec = json_get(cj->object, "spec");
    const char *sched = YAJL_GET_STRING(json_get(spec, "schedule"));
    const char *policy = YAJL_GET_STRING(json_get(spec, "concurrencyPolicy"));
    yajl_val suspend = json_get(spec, "suspend"),
             deadline = json_get(spec, "startingDeadlineSeconds");
    const char *zone = YAJL_GET_STRING(json_get(spec, "timeZone"));
    struct kube_cron cron;
    int r = kube_cron_parse(sched ? sched : "", &cron, err);
    if (r < 0)
        return pr_err_prefix(err, "cronjob %s/%s: spec.schedule", cj->ns, cj->name);
    /* Read each pass: a tzdata upgrade applies from the next one, as a restarted controller. */
    _cleanup_(kube_tz_freep) struct kube_tz *tz = NULL;
    if (zone && (r = kube_tz_load(zone, &tz, err)) < 0)
        return pr_err_prefix(err, "cronjob %s/%s: spec.timeZone", cj->ns, cj->name);
    struct cron_status st;
    load_status(m, cj, &st);
    struct cron_status before = st;
    struct owned_job *own = NULL;
    size_t n = 0;
    if ((r = owned_jobs(m, cj, jobs, &own, &n, err)) < 0)
        goto out;
    size_t active = 0;
    for (size_t i = 0; i < n; i++) {
        active += own[i].state == 0;
        if (own[i].state == 1)
            st.last_success = MAX(st.last_success, own[i].completion);
        if (own[i].state)
            pods_workload_event_once(m, "cronjobs", cj, own[i].completion, "Normal",
                                     "SawCompletedJob", "Saw completed job: %s, status: %s",
                                     own[i].e->name, own[i].state == 1 ? "Complete" : "Failed");
    }
    if ((r = trim_history(m, cj, own, n, 1, int_at(json_get(spec, "successfulJobsHistoryLimit"), 3),
                          err)) < 0 ||
        (r = trim_history(m, cj, own, n, 2, int_at(json_get(spec, "failedJobsHistoryLimit"), 1),
                          err)) < 0)
        goto out;
    if (suspend && YAJL_IS_TRUE(suspend))
        goto out;
    int64_t now = cron_clock(cj, real_now);
    int64_t earliest = st.last_schedule ? st.last_schedule : cj->created;
    if (deadline && YAJL_IS_INTEGER(deadline))
        earliest = MAX(earliest, now - YAJL_GET_INTEGER(deadline));
    int64_t next = kube_cron_next_in(&cron, tz, now);
    if (next >= 0) {
        int64_t w = real_clock(cj, next);
        *wake = *wake ? MIN(*wake, w) : w;
    }
    int64_t t = kube_cron_most_recent_in(&cron, tz, earliest, now, NULL);
    if (t < 0)
        goto out;
    bool forbid = policy && streq(policy, "Forbid"), replace = policy && streq(policy, "Replace");
    if (forbid && active)
        goto out; /* tried again when the active Job finishes (its pods wake the loop) */
    for (size_t i = 0; r == 0 && replace && i < n; i++)
        if (own[i].e && own[i].state == 0)
            r = delete_job(m, cj, own[i].e, err);
    if (r == 0 && (r = create_job(m, cj, t, err)) == 0)
        st.last_schedule = t;
out:
    free(own);
    if (r == 0 &&
        (st.last_schedule != before.last_schedule || st.last_success != before.last_success))
        r = save_status(m, cj, &st, err);
    return r;
}

int pods_cronjobs_collect(pods_manager *m, pr_error **err)
{
    return pods_collect_orphans(m, "cronjobs", "CronJob", "jobs", err);
}

int pods_cronjobs_reconcile(pods_manager *m, bool *any, int64_t *wake_at, pr_error **err)
{
    int64_t now = time(NULL);
    struct pods_list cjs = {0}, jobs = {0};
    int r = pods_cronjobs_collect(m, err);
    if (r == 0)
        r = pods_list(m, "cronjobs", NULL, NULL, &cjs, err);
    if (r == 0)
        r = pods_list(m, "jobs", NULL, NULL, &jobs, err);
    int first = 0;
    *wake_at = 0;
    for (size_t i = 0; r == 0 && i < cjs.n; i++) {
        pr_error *e = NULL;
        int rc = reconcile_cronjob(m, &cjs.v[i], &jobs, now, wake_at, &e);
        if (rc < 0 && first == 0) {
            first = rc;
            *err = e;
        } else {
            pr_error_free(e);
        }
    }
    *any = r < 0 || cjs.n > 0;
    pods_list_clear(&cjs);
    pods_list_clear(&jobs);
    return r < 0 ? r : first;
}

int pods_cronjob_forget(pods_manager *m, const char *ns, const char *name, pr_error **err)
{
    int r = pods_object_remove(m, STATUS_RES, ns, name, err);
    if (r == -ENOENT) {
        pr_error_free(*err);
        *err = NULL;
        r = 0;
    }
    return r < 0 ? r : pods_cronjobs_collect(m, err);
}

int pods_cronjob_status(pods_manager *m, const struct pods_entry *cj, yajl_val *out, pr_error **err)
{
    struct pods_list jobs = {0};
    int r = pods_list(m, "jobs", cj->ns, NULL, &jobs, err);
    struct owned_job *own = NULL;
    size_t n = 0;
    if (r == 0)
        r = owned_jobs(m, cj, &jobs, &own, &n, err);
    struct cron_status st;
    load_status(m, cj, &st);
    _cleanup_gen_ yajl_gen g = json_gen_new(false);
    jg_map_open(g);
    bool any = false;
    for (size_t i = 0; r == 0 && i < n; i++) {
        if (own[i].state == 1)
            st.last_success = MAX(st.last_success, own[i].completion);
        if (own[i].state != 0)
            continue;
        if (!any) {
            jg_key(g, "active");
            jg_array_open(g);
            any = true;
        }
        jg_map_open(g);
        jg_key_str(g, "apiVersion", "batch/v1");
        jg_key_str(g, "kind", "Job");
        jg_key_str(g, "name", own[i].e->name);
        jg_key_str(g, "namespace", own[i].e->ns);
        jg_key_str(g, "uid", own[i].e->uid);
        jg_map_close(g);
    }
    if (any)
        jg_array_close(g);
    char t[32];
    if (st.last_schedule) {
        format_time(st.last_schedule, t);
        jg_key_str(g, "lastScheduleTime", t);
    }
    if (st.last_success) {
        format_time(st.last_success, t);
        jg_key_str(g, "lastSuccessfulTime", t);
    }
    jg_map_close(g);
    free(own);
    pods_list_clear(&jobs);
    if (r < 0)
        return r;
    size_t len;
    const char *buf = jg_buf(g, &len);
    _cleanup_free_ char *text = xstrndup(buf, len);
    return json_parse(text, "a CronJob's status", out, err);
}
