/* SPDX-License-Identifier: Apache-2.0 */
/* The workloads' events, as the controllers record them: ScalingReplicaSet on a Deployment
 * (deployment-controller), SuccessfulCreate and SuccessfulDelete on a ReplicaSet
 * (replicaset-controller), a StatefulSet (statefulset-controller), a DaemonSet
 * (daemonset-controller), a Job (job-controller, with Completed, BackoffLimitExceeded and
 * DeadlineExceeded) and a CronJob (cronjob-controller, with SawCompletedJob),
 * SuccessfulRescale on an HPA (horizontal-pod-autoscaler), and the events of the pods a controller
 * deleted (their Killing), kept after the pod is gone as the API server keeps them. One file per
 * object, RUN_ROOT/events/RESOURCE/NS/NAME_UID.json in common/podevents' format, written only by
 * the pod manager under its exclusive lock (one writer); a file not written for an hour goes, as
 * the API server's events expire (--event-ttl, 1 h). */
#include "fs.h"
#include "manager.h"
#include "util.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <time.h>

#define EVENTS_TTL_S 3600

/* The pods' last: their entries have no kind (NULL, as the pods' own events). */
static const struct {
    const char *resource, *kind, *component;
} sources[] = {
    {"deployments", "Deployment", "deployment-controller"},
    {"replicasets", "ReplicaSet", "replicaset-controller"},
    {"statefulsets", "StatefulSet", "statefulset-controller"},
    {"daemonsets", "DaemonSet", "daemonset-controller"},
    {"jobs", "Job", "job-controller"},
    {"cronjobs", "CronJob", "cronjob-controller"},
    {"horizontalpodautoscalers", "HorizontalPodAutoscaler", "horizontal-pod-autoscaler"},
    {"pods", NULL, "kubelet"},
};

static const char *component_of(const char *resource)
{
    for (size_t i = 0; i < ARRAY_SIZE(sources); i++)
        if (streq(sources[i].resource, resource))
            return sources[i].component;
    return NULL;
}

static bool json_name(const char *s)
{
    size_t n = strlen(s);
    return n > 5 && streq(s + n - 5, ".json");
}

static char *dir_of(pods_manager *m, const char *resource, const char *ns)
{
    return xasprintf("%s/events/%s/%s", m->run_root, resource, ns);
}

/* Old files of the directory go (names are NAME_UID.json, nothing else is touched). */
static void expire(const char *dir)
{
    _cleanup_dir_ DIR *d = opendir(dir);
    time_t now = time(NULL);
    for (struct dirent *e; d && (e = readdir(d));) {
        struct stat st;
        if (!strchr(e->d_name, '_') || !json_name(e->d_name) ||
            fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
            continue;
        if (now - st.st_mtime > EVENTS_TTL_S)
            unlinkat(dirfd(d), e->d_name, 0);
    }
}

static void add(pods_manager *m, const char *resource, const char *ns, const char *name,
                const char *uid, struct podevents *more, const char *type, const char *reason,
                const char *component, const char *msg, bool once)
{
    _cleanup_free_ char *dir = dir_of(m, resource, ns);
    _cleanup_error_ pr_error *e = NULL;
    /* Events are a record: one that cannot be kept fails nothing. */
    if (mkdir_p(dir, 0700, &e) < 0)
        return;
    expire(dir);
    _cleanup_free_ char *path = xasprintf("%s/%s_%s.json", dir, name, uid);
    struct podevents ev = {0};
    if (podevents_load(path, &ev, &e) == 0) {
        if (more)
            podevents_take(&ev, more);
        for (size_t i = 0; once && reason && i < ev.n; i++)
            if (streq(ev.v[i].reason, reason) && streq(ev.v[i].message, msg))
                reason = NULL;
        /* Not rewritten for nothing: the file's time is its events' age (expire). */
        if (reason)
            podevents_record(&ev, type, reason, component, NULL, pods_now_usec(), msg);
        if (reason || more)
            podevents_save(path, &ev, &e);
    }
    podevents_clear(&ev);
}

void pods_workload_event(pods_manager *m, const char *resource, const struct pods_entry *obj,
                         const char *type, const char *reason, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    _cleanup_free_ char *msg = xvasprintf(fmt, ap);
    va_end(ap);
    add(m, resource, obj->ns, obj->name, obj->uid, NULL, type, reason, component_of(resource), msg,
        false);
}

void pods_workload_event_once(pods_manager *m, const char *resource, const struct pods_entry *obj,
                              int64_t since, const char *type, const char *reason, const char *fmt,
                              ...)
{
    /* A state older than the events' life was recorded and has expired since: not again. */
    if (since && time(NULL) - since > EVENTS_TTL_S)
        return;
    va_list ap;
    va_start(ap, fmt);
    _cleanup_free_ char *msg = xvasprintf(fmt, ap);
    va_end(ap);
    add(m, resource, obj->ns, obj->name, obj->uid, NULL, type, reason, component_of(resource), msg,
        true);
}

void pods_events_keep_deleted(pods_manager *m, const char *ns, const char *name, const char *uid)
{
    struct pods_pod_paths p;
    pods_pod_paths_init(m, uid, &p);
    _cleanup_free_ char *mine = xasprintf("%s/" PODEVENTS_FILE, p.run_dir);
    _cleanup_free_ char *shim = xasprintf("%s/" PODEVENTS_FILE, p.shim_dir);
    pods_pod_paths_clear(&p);
    struct podevents all = {0}, more = {0};
    _cleanup_error_ pr_error *e = NULL;
    if (podevents_load(mine, &all, &e) == 0 && podevents_load(shim, &more, &e) == 0)
        podevents_take(&all, &more);
    /* The kubelet's Killing of each container, recorded here as the shim stops them. */
    _cleanup_json_ yajl_val rec = NULL;
    if (pods_object_load(m, "pods", ns, name, &rec, &e) == 0) {
        yajl_val cs = json_get(json_get(json_get(rec, "object"), "spec"), "containers");
        for (size_t i = 0; i < json_array_len(cs); i++) {
            const char *c = YAJL_GET_STRING(json_get(json_array_at(cs, i), "name"));
            if (!c)
                continue;
            _cleanup_free_ char *fp = xasprintf("spec.containers{%s}", c);
            _cleanup_free_ char *msg = xasprintf("Stopping container %s", c);
            podevents_record(&all, "Normal", "Killing", "kubelet", fp, pods_now_usec(), msg);
        }
    }
    if (all.n)
        add(m, "pods", ns, name, uid, &all, NULL, NULL, NULL, NULL, false);
    podevents_clear(&all);
    podevents_clear(&more);
}

/* NAME_UID.json of a directory into out, with kind (NULL for a pod, as pods' own). Pods still
 * listed (live) are skipped: their events are their own files'. */
static void load_dir(const char *dir, const char *ns, const char *kind,
                     const struct pods_list *live, struct pods_events *out)
{
    _cleanup_dir_ DIR *d = opendir(dir);
    for (struct dirent *de; d && (de = readdir(d));) {
        char *us = strrchr(de->d_name, '_');
        if (!us || !json_name(de->d_name))
            continue;
        _cleanup_free_ char *name = xstrndup(de->d_name, (size_t)(us - de->d_name));
        _cleanup_free_ char *uid = xstrndup(us + 1, strlen(us + 1) - strlen(".json"));
        bool alive = false;
        for (size_t i = 0; live && i < live->n; i++)
            alive |= streq(live->v[i].uid, uid);
        if (alive)
            continue;
        _cleanup_free_ char *path = xasprintf("%s/%s", dir, de->d_name);
        struct podevents ev = {0};
        _cleanup_error_ pr_error *e = NULL;
        if (podevents_load(path, &ev, &e) < 0)
            continue;
        out->v = xrealloc(out->v, (out->n + ev.n + 1) * sizeof(*out->v));
        for (size_t i = 0; i < ev.n; i++)
            out->v[out->n++] = (struct pods_event){.ns = xstrdup(ns),
                                                   .name = xstrdup(name),
                                                   .uid = xstrdup(uid),
                                                   .kind = kind ? xstrdup(kind) : NULL,
                                                   .e = ev.v[i]};
        free(ev.v);
    }
}

int pods_workload_events_list(pods_manager *m, const char *ns, const char *resource,
                              struct pods_events *out, pr_error **err)
{
    struct pods_list live = {0};
    int r = pods_list(m, "pods", ns, NULL, &live, err);
    if (r < 0)
        return r;
    for (size_t i = 0; i < ARRAY_SIZE(sources); i++) {
        if (resource && !streq(resource, sources[i].resource))
            continue;
        const char *kind = sources[i].kind;
        if (ns) {
            _cleanup_free_ char *dir = dir_of(m, sources[i].resource, ns);
            load_dir(dir, ns, kind, &live, out);
            continue;
        }
        _cleanup_free_ char *top = xasprintf("%s/events/%s", m->run_root, sources[i].resource);
        _cleanup_dir_ DIR *d = opendir(top);
        for (struct dirent *de; d && (de = readdir(d));) {
            if (de->d_name[0] == '.')
                continue;
            _cleanup_free_ char *dir = xasprintf("%s/%s", top, de->d_name);
            load_dir(dir, de->d_name, kind, &live, out);
        }
    }
    pods_list_clear(&live);
    return 0;
}
