/* SPDX-License-Identifier: Apache-2.0 */
/* Deleting many pods at once (a scale-down, a Deployment's cascade, delete -f of many): each
 * pod is marked first (under the manager's lock, as one delete does), then their shims stop
 * side by side on a few threads (a shim's stop waits out its containers' grace periods, which
 * need not follow one another), then each pod's teardown runs in turn, its shim already gone.
 * The threads only run the shims' remove requests: everything that touches shared state (CNI,
 * cgroups, records) stays on the calling thread. */
#include "manager.h"
#include "util.h"

#include <pthread.h>
#include <stdatomic.h>

/* Shims stopped at once: enough that 20 pods at 1 s grace take a couple of seconds, few
 * enough that a node's CPU is not flooded with runtime processes. */
#define STOP_PARALLEL 16

struct stop_work {
    pods_manager *m;
    char **uids;
    size_t n;
    int64_t grace;
    atomic_size_t next;
};

static void *stop_worker(void *arg)
{
    struct stop_work *w = arg;
    for (size_t i; (i = atomic_fetch_add(&w->next, 1)) < w->n;) {
        if (!w->uids[i])
            continue;
        /* A failure here is met again by the pod's teardown, which reports it. */
        _cleanup_error_ pr_error *e = NULL;
        pods_pod_shim_stop(w->m, w->uids[i], w->grace, &e);
    }
    return NULL;
}

static void stop_all(pods_manager *m, char **uids, size_t n, int64_t grace)
{
    struct stop_work w = {.m = m, .uids = uids, .n = n, .grace = grace};
    atomic_init(&w.next, 0);
    size_t k = MIN(n, (size_t)STOP_PARALLEL), started = 0;
    pthread_t t[STOP_PARALLEL];
    for (; started + 1 < k; started++)
        if (pthread_create(&t[started], NULL, stop_worker, &w) != 0)
            break;
    stop_worker(&w); /* this thread works too; with no thread made it does everything */
    for (size_t i = 0; i < started; i++)
        pthread_join(t[i], NULL);
}

/* Marks them and stops their shims; their uids (NULL where the mark failed). */
static char **mark_and_stop(pods_manager *m, const struct pods_ref *v, size_t n, int64_t grace,
                            bool keep_events)
{
    char **uids = xcalloc(n + 1, sizeof(*uids));
    for (size_t i = 0; i < n; i++) {
        _cleanup_error_ pr_error *e = NULL;
        /* A pod that cannot be marked is left to its own delete, which says why. */
        if (kube_valid_subdomain(v[i].name) && v[i].ns && kube_valid_label_name(v[i].ns))
            pods_pod_delete_begin(m, v[i].ns, v[i].name, &uids[i], &e);
    }
    /* A controller deletes them: their events stay listed after them (the shim's go with its
     * directory when it stops, so before). */
    for (size_t i = 0; keep_events && i < n; i++)
        if (uids[i])
            pods_events_keep_deleted(m, v[i].ns, v[i].name, uids[i]);
    pods_endpoints_leave(m);
    stop_all(m, uids, n, grace);
    return uids;
}

static void uids_free(char **uids, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(uids[i]);
    free(uids);
}

void pods_stop_pods(pods_manager *m, const struct pods_ref *v, size_t n, int64_t grace)
{
    if (n >= 2)
        uids_free(mark_and_stop(m, v, n, grace, false), n);
}

int pods_delete_pods(pods_manager *m, const struct pods_ref *v, size_t n, int64_t grace,
                     pr_error **err)
{
    if (n == 0)
        return 0;
    uids_free(mark_and_stop(m, v, n, grace, true), n);
    bool deferred = m->defer_services_sync;
    pods_services_defer(m, true);
    int first = 0;
    for (size_t i = 0; i < n; i++) {
        pr_error *e = NULL;
        int r = pods_delete_grace(m, "pods", v[i].ns, v[i].name, grace, &e);
        if (r < 0 && first == 0) {
            first = r;
            *err = e;
            e = NULL;
        }
        pr_error_free(e);
    }
    pods_services_defer(m, deferred);
    if (!deferred) {
        _cleanup_error_ pr_error *e = NULL;
        int r = pods_services_sync(m, &e);
        if (r < 0 && first == 0) {
            first = r;
            *err = steal_pointer(&e);
        }
    }
    return first;
}
