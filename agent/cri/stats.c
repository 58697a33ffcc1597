/* SPDX-License-Identifier: Apache-2.0 */
/* RuntimeService's stats calls: CPU time and working set of sandboxes and containers, read from
 * their cgroups by the pod manager at the time of the call (usage_nano_cores, which needs two
 * samples, is the kubelet's to compute). */
#include "agent/pods/pods.h"
#include "methods.h"
#include "util.h"

static Runtime__V1__UInt64Value *u64(struct cri_pool *pool, uint64_t v)
{
    Runtime__V1__UInt64Value *x = cri_pool_add(pool, xmalloc(sizeof(*x)));
    *x = (Runtime__V1__UInt64Value)RUNTIME__V1__UINT64_VALUE__INIT;
    x->value = v;
    return x;
}

static void fill_usage(struct cri_pool *pool, const struct pods_usage *u,
                       Runtime__V1__CpuUsage **cpu, Runtime__V1__MemoryUsage **mem)
{
    int64_t now = cri_now_ns();
    Runtime__V1__CpuUsage *c = cri_pool_add(pool, xmalloc(sizeof(*c)));
    *c = (Runtime__V1__CpuUsage)RUNTIME__V1__CPU_USAGE__INIT;
    c->timestamp = now;
    c->usage_core_nano_seconds = u64(pool, u->cpu_ns);
    Runtime__V1__MemoryUsage *m = cri_pool_add(pool, xmalloc(sizeof(*m)));
    *m = (Runtime__V1__MemoryUsage)RUNTIME__V1__MEMORY_USAGE__INIT;
    m->timestamp = now;
    m->working_set_bytes = u64(pool, u->memory_bytes);
    *cpu = c;
    *mem = m;
}

/* One container's stats; running false when it has no cgroup (not running): attributes only. */
static Runtime__V1__ContainerStats *container_stats(struct cri_pool *pool, struct pods_manager *m,
                                                    yajl_val rec, bool *running)
{
    Runtime__V1__ContainerStats *cs = cri_pool_add(pool, xmalloc(sizeof(*cs)));
    *cs = (Runtime__V1__ContainerStats)RUNTIME__V1__CONTAINER_STATS__INIT;
    Runtime__V1__ContainerAttributes *a = cri_pool_add(pool, xmalloc(sizeof(*a)));
    *a = (Runtime__V1__ContainerAttributes)RUNTIME__V1__CONTAINER_ATTRIBUTES__INIT;
    Runtime__V1__ContainerMetadata *md = cri_pool_add(pool, xmalloc(sizeof(*md)));
    cri_container_meta(md, rec);
    a->id = cri_json_str(json_get(rec, "id"));
    a->metadata = md;
    CRI_MAP_FROM_JSON(pool, json_get(rec, "labels"), Runtime__V1__ContainerAttributes__LabelsEntry,
                      RUNTIME__V1__CONTAINER_ATTRIBUTES__LABELS_ENTRY__INIT, a->n_labels,
                      a->labels);
    CRI_MAP_FROM_JSON(pool, json_get(rec, "annotations"),
                      Runtime__V1__ContainerAttributes__AnnotationsEntry,
                      RUNTIME__V1__CONTAINER_ATTRIBUTES__ANNOTATIONS_ENTRY__INIT, a->n_annotations,
                      a->annotations);
    cs->attributes = a;
    struct pods_usage u;
    _cleanup_error_ pr_error *e = NULL;
    *running = pods_cri_container_usage(m, a->id, &u, &e) == 0;
    if (*running)
        fill_usage(pool, &u, &cs->cpu, &cs->memory);
    return cs;
}

void cri_container_stats(const struct cri_options *o, const ProtobufCMessage *req,
                         struct cri_reply *out)
{
    const Runtime__V1__ContainerStatsRequest *in = (const Runtime__V1__ContainerStatsRequest *)req;
    struct pods_manager *m = NULL;
    _cleanup_json_ yajl_val rec = NULL, st = NULL;
    if (cri_get_record(o, in->container_id, "ContainerStats", &rec, &st, &m, out) < 0)
        return;
    struct cri_pool pool = {0};
    bool running;
    Runtime__V1__ContainerStatsResponse resp = RUNTIME__V1__CONTAINER_STATS_RESPONSE__INIT;
    resp.stats = container_stats(&pool, m, rec, &running);
    pods_manager_close(m);
    cri_reply_ok(out, &resp.base);
    cri_pool_free(&pool);
}

void cri_list_container_stats(const struct cri_options *o, const ProtobufCMessage *req,
                              struct cri_reply *out)
{
    const Runtime__V1__ListContainerStatsRequest *in =
        (const Runtime__V1__ListContainerStatsRequest *)req;
    const Runtime__V1__ContainerStatsFilter *f = in->filter;
    struct cri_filter keep = CRI_FILTER(f);
    keep.sandbox = f ? f->pod_sandbox_id : NULL;
    struct pods_manager *m = NULL;
    struct cri_records recs = {0};
    if (cri_list_records(o, true, &keep, "ListContainerStats", &recs, &m, out) < 0)
        return;
    size_t k = 0;
    struct cri_pool pool = {0};
    Runtime__V1__ContainerStats **v = cri_pool_add(&pool, xcalloc(recs.n + 1, sizeof(*v)));
    for (size_t i = 0; i < recs.n; i++) {
        bool running;
        Runtime__V1__ContainerStats *cs = container_stats(&pool, m, recs.rec[i], &running);
        /* Running containers only, as the CRI says. */
        if (running)
            v[k++] = cs;
    }
    pods_manager_close(m);
    Runtime__V1__ListContainerStatsResponse resp = RUNTIME__V1__LIST_CONTAINER_STATS_RESPONSE__INIT;
    resp.n_stats = k;
    resp.stats = v;
    cri_reply_ok(out, &resp.base);
    cri_pool_free(&pool);
    cri_records_free(&recs);
}

/* One sandbox's stats with its running containers'; recs keeps the records they point into. */
static Runtime__V1__PodSandboxStats *sandbox_stats(struct cri_pool *pool, struct pods_manager *m,
                                                   yajl_val rec, struct cri_records *recs)
{
    const char *id = YAJL_GET_STRING(json_get(rec, "id"));
    Runtime__V1__PodSandboxStats *ps = cri_pool_add(pool, xmalloc(sizeof(*ps)));
    *ps = (Runtime__V1__PodSandboxStats)RUNTIME__V1__POD_SANDBOX_STATS__INIT;
    Runtime__V1__PodSandboxAttributes *a = cri_pool_add(pool, xmalloc(sizeof(*a)));
    *a = (Runtime__V1__PodSandboxAttributes)RUNTIME__V1__POD_SANDBOX_ATTRIBUTES__INIT;
    Runtime__V1__PodSandboxMetadata *md = cri_pool_add(pool, xmalloc(sizeof(*md)));
    cri_sandbox_meta(md, rec);
    a->id = (char *)id;
    a->metadata = md;
    CRI_MAP_FROM_JSON(pool, json_get(rec, "labels"), Runtime__V1__PodSandboxAttributes__LabelsEntry,
                      RUNTIME__V1__POD_SANDBOX_ATTRIBUTES__LABELS_ENTRY__INIT, a->n_labels,
                      a->labels);
    CRI_MAP_FROM_JSON(pool, json_get(rec, "annotations"),
                      Runtime__V1__PodSandboxAttributes__AnnotationsEntry,
                      RUNTIME__V1__POD_SANDBOX_ATTRIBUTES__ANNOTATIONS_ENTRY__INIT,
                      a->n_annotations, a->annotations);
    ps->attributes = a;
    Runtime__V1__LinuxPodSandboxStats *l = cri_pool_add(pool, xmalloc(sizeof(*l)));
    *l = (Runtime__V1__LinuxPodSandboxStats)RUNTIME__V1__LINUX_POD_SANDBOX_STATS__INIT;
    ps->linux = l;
    struct pods_usage u;
    _cleanup_error_ pr_error *e = NULL;
    if (pods_cri_sandbox_usage(m, id, &u, &e) == 0)
        fill_usage(pool, &u, &l->cpu, &l->memory);
    _cleanup_strv_ char **ids = NULL;
    if (pods_cri_container_ids(m, id, &ids, &e) < 0)
        return ps;
    size_t n = strv_length(ids);
    l->containers = cri_pool_add(pool, xcalloc(n + 1, sizeof(*l->containers)));
    for (size_t i = 0; i < n; i++) {
        yajl_val crec = NULL, st = NULL;
        _cleanup_error_ pr_error *e2 = NULL;
        if (pods_cri_container_get(m, ids[i], &crec, &st, &e2) < 0)
            continue;
        cri_records_add(recs, crec, st);
        bool running;
        Runtime__V1__ContainerStats *cs = container_stats(pool, m, crec, &running);
        if (running)
            l->containers[l->n_containers++] = cs;
    }
    return ps;
}

void cri_pod_sandbox_stats(const struct cri_options *o, const ProtobufCMessage *req,
                           struct cri_reply *out)
{
    const Runtime__V1__PodSandboxStatsRequest *in =
        (const Runtime__V1__PodSandboxStatsRequest *)req;
    struct pods_manager *m = NULL;
    _cleanup_json_ yajl_val rec = NULL;
    if (cri_get_record(o, in->pod_sandbox_id, "PodSandboxStats", &rec, NULL, &m, out) < 0)
        return;
    struct cri_pool pool = {0};
    struct cri_records recs = {0};
    Runtime__V1__PodSandboxStatsResponse resp = RUNTIME__V1__POD_SANDBOX_STATS_RESPONSE__INIT;
    resp.stats = sandbox_stats(&pool, m, rec, &recs);
    pods_manager_close(m);
    cri_reply_ok(out, &resp.base);
    cri_pool_free(&pool);
    cri_records_free(&recs);
}

void cri_list_pod_sandbox_stats(const struct cri_options *o, const ProtobufCMessage *req,
                                struct cri_reply *out)
{
    const Runtime__V1__ListPodSandboxStatsRequest *in =
        (const Runtime__V1__ListPodSandboxStatsRequest *)req;
    const Runtime__V1__PodSandboxStatsFilter *f = in->filter;
    struct cri_filter keep = CRI_FILTER(f);
    struct pods_manager *m = NULL;
    struct cri_records recs = {0};
    if (cri_list_records(o, false, &keep, "ListPodSandboxStats", &recs, &m, out) < 0)
        return;
    struct cri_pool pool = {0};
    size_t n = recs.n;
    Runtime__V1__PodSandboxStats **v = cri_pool_add(&pool, xcalloc(n + 1, sizeof(*v)));
    /* The containers' records are added after the sandboxes' (the first n). */
    for (size_t i = 0; i < n; i++)
        v[i] = sandbox_stats(&pool, m, recs.rec[i], &recs);
    pods_manager_close(m);
    Runtime__V1__ListPodSandboxStatsResponse resp =
        RUNTIME__V1__LIST_POD_SANDBOX_STATS_RESPONSE__INIT;
    resp.n_stats = n;
    resp.stats = v;
    cri_reply_ok(out, &resp.base);
    cri_pool_free(&pool);
    cri_records_free(&recs);
}
