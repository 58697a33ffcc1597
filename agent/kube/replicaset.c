/* SPDX-License-Identifier: Apache-2.0 */
/* The ReplicaSet controller's decision, as a pure function: how many pods to create and which to
 * delete, given the replicas wanted and the pods it owns. Which pods go first follows
 * Kubernetes' ranking (pkg/controller: ActivePodsWithRanks), so that a scale-down removes the
 * pods a cluster would remove: the ones that serve least. */
#include "kube.h"
#include "util.h"

#include <stdlib.h>

/* Kubernetes' burstReplicas: the most pods one sync creates or deletes. */
#define REPLICASET_BURST 500

bool kube_pod_active(const struct kube_owned_pod *p)
{
    return !p->terminating &&
           !(p->phase && (streq(p->phase, "Succeeded") || streq(p->phase, "Failed")));
}

bool kube_pod_available(const struct kube_owned_pod *p, int32_t min_ready_seconds, int64_t now)
{
    if (!kube_pod_active(p) || !p->ready)
        return false;
    return min_ready_seconds <= 0 || p->ready_since + min_ready_seconds <= now;
}

static int phase_rank(const char *phase)
{
    /* Pending before Unknown before Running: a pod that does not run yet goes first. */
    if (!phase || streq(phase, "Pending"))
        return 0;
    if (streq(phase, "Unknown"))
        return 1;
    return 2;
}

struct ranked {
    const struct kube_owned_pod *p;
    size_t idx;
};

/* < 0: a is deleted before b. */
static int deletion_order(const void *x, const void *y)
{
    const struct kube_owned_pod *a = ((const struct ranked *)x)->p,
                                *b = ((const struct ranked *)y)->p;
    int ra = phase_rank(a->phase), rb = phase_rank(b->phase);
    if (ra != rb)
        return ra - rb;
    if (a->ready != b->ready)
        return a->ready ? 1 : -1;
    /* Ready for less time goes first: it has warmed fewer caches. */
    if (a->ready && a->ready_since != b->ready_since)
        return a->ready_since > b->ready_since ? -1 : 1;
    if (a->restarts != b->restarts)
        return a->restarts > b->restarts ? -1 : 1;
    if (a->created != b->created)
        return a->created > b->created ? -1 : 1;
    /* Stable for equal pods, so that one sync and the next agree. */
    return ((const struct ranked *)x)->idx < ((const struct ranked *)y)->idx ? -1 : 1;
}

void kube_replicaset_plan(int32_t replicas, const struct kube_owned_pod *pods, size_t n,
                          struct kube_replicaset_plan *out)
{
    *out = (struct kube_replicaset_plan){0};
    size_t active = 0;
    for (size_t i = 0; i < n; i++)
        active += kube_pod_active(&pods[i]);
    size_t want = replicas > 0 ? (size_t)replicas : 0;
    if (active < want) {
        out->create = MIN(want - active, (size_t)REPLICASET_BURST);
        return;
    }
    size_t extra = MIN(active - want, (size_t)REPLICASET_BURST);
    if (!extra)
        return;
    _cleanup_free_ struct ranked *r = xcalloc(active, sizeof(*r));
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (kube_pod_active(&pods[i]))
            r[k++] = (struct ranked){&pods[i], i};
    qsort(r, k, sizeof(*r), deletion_order);
    out->delete_idx = xcalloc(extra, sizeof(*out->delete_idx));
    for (size_t i = 0; i < extra; i++)
        out->delete_idx[i] = r[i].idx;
    out->n_delete = extra;
}

void kube_replicaset_plan_clear(struct kube_replicaset_plan *p)
{
    free(p->delete_idx);
    *p = (struct kube_replicaset_plan){0};
}
