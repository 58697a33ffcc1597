/* SPDX-License-Identifier: Apache-2.0 */
/* A pod's events: the manager's own (run-root/pods/<uid>/events.json: Scheduled, Pulling,
 * Pulled, Failed) and its shim's (shim/events.json: Created, Started, Killing, BackOff,
 * Unhealthy, OOMKilling), both kept by common/podevents. They go with the pod: its directory
 * is removed when the pod is deleted (DESIGN.md §2, podrun(1) EVENTS). */
#include "manager.h"
#include "util.h"

#include <stdarg.h>
#include <stdlib.h>
#include <time.h>

uint64_t pods_now_usec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

void pods_record(const struct pods_pod_paths *p, const char *type, const char *reason,
                 const char *component, const char *field_path, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    _cleanup_free_ char *msg = xvasprintf(fmt, ap);
    va_end(ap);
    _cleanup_free_ char *path = xasprintf("%s/" PODEVENTS_FILE, p->run_dir);
    struct podevents ev = {0};
    _cleanup_error_ pr_error *e = NULL;
    /* Events are a record of what happened: one that cannot be kept does not fail the pod. */
    if (podevents_load(path, &ev, &e) == 0) {
        podevents_record(&ev, type, reason, component, field_path, pods_now_usec(), msg);
        podevents_save(path, &ev, &e);
    }
    podevents_clear(&ev);
}

static void event_clear(struct pods_event *ev)
{
    free(ev->ns);
    free(ev->name);
    free(ev->uid);
    free(ev->kind);
    podevent_clear(&ev->e);
}

void pods_events_clear(struct pods_events *l)
{
    for (size_t i = 0; i < l->n; i++)
        event_clear(&l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

void pods_events_keep(struct pods_events *l, bool (*keep)(const struct pods_event *, void *),
                      void *data)
{
    size_t n = 0;
    for (size_t i = 0; i < l->n; i++) {
        if (keep(&l->v[i], data))
            l->v[n++] = l->v[i];
        else
            event_clear(&l->v[i]);
    }
    l->n = n;
}

static int load_pod(pods_manager *m, const struct pods_entry *pe, struct pods_events *out,
                    pr_error **err)
{
    struct pods_pod_paths p;
    pods_pod_paths_init(m, pe->uid, &p);
    _cleanup_free_ char *mine = xasprintf("%s/" PODEVENTS_FILE, p.run_dir);
    _cleanup_free_ char *shim = xasprintf("%s/" PODEVENTS_FILE, p.shim_dir);
    pods_pod_paths_clear(&p);
    struct podevents all = {0}, more = {0};
    int r = podevents_load(mine, &all, err);
    if (r == 0 && (r = podevents_load(shim, &more, err)) == 0)
        podevents_take(&all, &more);
    if (r < 0) {
        podevents_clear(&all);
        return pr_err_prefix(err, "events of pod \"%s\"", pe->name);
    }
    out->v = xrealloc(out->v, (out->n + all.n + 1) * sizeof(*out->v));
    for (size_t i = 0; i < all.n; i++)
        out->v[out->n++] = (struct pods_event){.ns = xstrdup(pe->ns),
                                               .name = xstrdup(pe->name),
                                               .uid = xstrdup(pe->uid),
                                               .e = all.v[i]};
    free(all.v);
    return 0;
}

/* The API server lists events by name, POD.<first time in hex>: by pod, then by first time. */
static int by_name(const void *a, const void *b)
{
    const struct pods_event *x = a, *y = b;
    int c = strcmp(x->ns, y->ns);
    if (!c)
        c = strcmp(x->name, y->name);
    if (!c)
        c = x->e.first_usec < y->e.first_usec ? -1 : x->e.first_usec > y->e.first_usec;
    return c;
}

int pods_events_list(pods_manager *m, const char *ns, const char *pod, struct pods_events *out,
                     pr_error **err)
{
    struct pods_list l = {0};
    int r = pods_list(m, "pods", ns, pod, &l, err);
    for (size_t i = 0; r == 0 && i < l.n; i++)
        r = load_pod(m, &l.v[i], out, err);
    pods_list_clear(&l);
    /* Every event: the workloads' and the deleted pods' too. */
    if (r == 0 && !pod)
        r = pods_workload_events_list(m, ns, NULL, out, err);
    if (r == 0 && out->n)
        qsort(out->v, out->n, sizeof(*out->v), by_name);
    return r;
}
