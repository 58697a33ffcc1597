/* SPDX-License-Identifier: Apache-2.0 */
/* What the sandbox and container calls share: maps between protobuf-c and JSON, label
 * selectors, timestamps, opening the pod manager, the filters of the list calls and the verbose
 * "info" of the status calls. */
#include "agent/pods/pods.h"
#include "methods.h"
#include "util.h"

#include <time.h>

void *cri_pool_add(struct cri_pool *p, void *ptr)
{
    p->v = xrealloc(p->v, (p->n + 1) * sizeof(*p->v));
    p->v[p->n++] = ptr;
    return ptr;
}

void cri_pool_free(struct cri_pool *p)
{
    for (size_t i = 0; i < p->n; i++)
        free(p->v[i]);
    free(p->v);
    p->v = NULL;
    p->n = 0;
}

char **cri_map_strv(void *const *entries, size_t n)
{
    char **v = xcalloc(2 * n + 1, sizeof(*v));
    for (size_t i = 0; i < n; i++) {
        const struct cri_map_entry *e = entries[i];
        v[2 * i] = e->key;
        v[2 * i + 1] = e->value;
    }
    return v;
}

bool cri_labels_match(yajl_val labels, void *const *selector, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const struct cri_map_entry *e = selector[i];
        const char *v = YAJL_GET_STRING(json_get(labels, e->key));
        if (!v || !streq(v, e->value))
            return false;
    }
    return true;
}

int cri_open_pods(const struct cri_options *o, bool exclusive, struct pods_manager **m,
                  struct cri_reply *out)
{
    _cleanup_error_ pr_error *e = NULL;
    int r = o->open_pods(o->open_pods_data, exclusive, m, &e);
    if (r < 0)
        cri_reply_failed(out, r, e, "open the pod manager");
    return r;
}

int64_t cri_rfc3339_ns(const char *s)
{
    struct tm tm = {0};
    if (!s || !strptime(s, "%Y-%m-%dT%H:%M:%S", &tm))
        return 0;
    return (int64_t)timegm(&tm) * 1000000000LL;
}

int64_t cri_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

bool cri_id_matches(const char *want, const char *id)
{
    /* As containerd: a prefix of the id names it too. */
    return !want || !*want || (id && strncmp(id, want, strlen(want)) == 0);
}

int64_t cri_json_int(yajl_val v)
{
    return YAJL_IS_INTEGER(v) ? YAJL_GET_INTEGER(v) : 0;
}

char *cri_json_str(yajl_val v)
{
    return YAJL_GET_STRING(v) ?: (char *)"";
}

Runtime__V1__PodSandboxState cri_sandbox_state(yajl_val rec)
{
    const char *s = YAJL_GET_STRING(json_get(rec, "state"));
    return s && streq(s, "ready") ? RUNTIME__V1__POD_SANDBOX_STATE__SANDBOX_READY
                                  : RUNTIME__V1__POD_SANDBOX_STATE__SANDBOX_NOTREADY;
}

Runtime__V1__ContainerState cri_container_state(yajl_val st)
{
    const char *s = YAJL_GET_STRING(json_get(st, "state"));
    if (!s)
        return RUNTIME__V1__CONTAINER_STATE__CONTAINER_UNKNOWN;
    if (streq(s, "running"))
        return RUNTIME__V1__CONTAINER_STATE__CONTAINER_RUNNING;
    if (streq(s, "terminated"))
        return RUNTIME__V1__CONTAINER_STATE__CONTAINER_EXITED;
    return RUNTIME__V1__CONTAINER_STATE__CONTAINER_CREATED;
}

void cri_sandbox_meta(Runtime__V1__PodSandboxMetadata *md, yajl_val rec)
{
    *md = (Runtime__V1__PodSandboxMetadata)RUNTIME__V1__POD_SANDBOX_METADATA__INIT;
    md->name = cri_json_str(json_get(rec, "name"));
    md->namespace_ = cri_json_str(json_get(rec, "namespace"));
    md->uid = cri_json_str(json_get(rec, "uid"));
    md->attempt = (uint32_t)cri_json_int(json_get(rec, "attempt"));
}

void cri_container_meta(Runtime__V1__ContainerMetadata *md, yajl_val rec)
{
    *md = (Runtime__V1__ContainerMetadata)RUNTIME__V1__CONTAINER_METADATA__INIT;
    md->name = cri_json_str(json_get(rec, "name"));
    md->attempt = (uint32_t)cri_json_int(json_get(rec, "attempt"));
}

void *cri_verbose_info(struct cri_pool *pool, const ProtobufCMessageDescriptor *entry, yajl_gen g)
{
    struct cri_map_entry *e = cri_pool_add(pool, xmalloc(entry->sizeof_message));
    protobuf_c_message_init(entry, e);
    size_t len;
    const char *buf = jg_buf(g, &len);
    e->key = (char *)"info";
    e->value = cri_pool_add(pool, xstrndup(buf, len));
    void **v = cri_pool_add(pool, xcalloc(2, sizeof(*v)));
    v[0] = e;
    return v;
}

void cri_records_add(struct cri_records *r, yajl_val rec, yajl_val st)
{
    r->rec = xrealloc(r->rec, (r->n + 1) * sizeof(*r->rec));
    r->st = xrealloc(r->st, (r->n + 1) * sizeof(*r->st));
    r->rec[r->n] = rec;
    r->st[r->n++] = st;
}

void cri_records_free(struct cri_records *r)
{
    for (size_t i = 0; i < r->n; i++) {
        if (r->rec[i])
            yajl_tree_free(r->rec[i]);
        if (r->st[i])
            yajl_tree_free(r->st[i]);
    }
    free(r->rec);
    free(r->st);
    *r = (struct cri_records){0};
}

static bool labels_kept(const struct cri_filter *f, yajl_val rec)
{
    return cri_labels_match(json_get(rec, "labels"), f->labels, f->n_labels);
}

/* Fails only when the list cannot be had. */
static int sandboxes_matching(struct pods_manager *m, const struct cri_filter *f,
                              struct cri_records *out, pr_error **err)
{
    _cleanup_strv_ char **ids = NULL;
    int r = pods_sandbox_ids(m, &ids, err);
    if (r < 0)
        return r;
    for (size_t i = 0; ids && ids[i]; i++) {
        yajl_val rec = NULL;
        _cleanup_error_ pr_error *e = NULL;
        /* One that went between the listing and the read is not there any more. */
        if (!cri_id_matches(f->id, ids[i]) || pods_sandbox_record(m, ids[i], &rec, &e) < 0)
            continue;
        if ((f->has_state && (int)cri_sandbox_state(rec) != f->state) || !labels_kept(f, rec)) {
            yajl_tree_free(rec);
            continue;
        }
        cri_records_add(out, rec, NULL);
    }
    return 0;
}

static int containers_matching(struct pods_manager *m, const struct cri_filter *f,
                               struct cri_records *out, pr_error **err)
{
    _cleanup_strv_ char **ids = NULL;
    int r = pods_cri_container_ids(m, NULL, &ids, err);
    if (r < 0)
        return r;
    for (size_t i = 0; ids && ids[i]; i++) {
        yajl_val rec = NULL, st = NULL;
        _cleanup_error_ pr_error *e = NULL;
        if (!cri_id_matches(f->id, ids[i]) || pods_cri_container_get(m, ids[i], &rec, &st, &e) < 0)
            continue;
        if (!cri_id_matches(f->sandbox, YAJL_GET_STRING(json_get(rec, "sandbox"))) ||
            (f->has_state && (int)cri_container_state(st) != f->state) || !labels_kept(f, rec)) {
            yajl_tree_free(rec);
            if (st)
                yajl_tree_free(st);
            continue;
        }
        cri_records_add(out, rec, st);
    }
    return 0;
}

/* The manager kept open for the caller, or closed. */
static void close_or_keep(struct pods_manager *m, struct pods_manager **keep)
{
    if (keep)
        *keep = m;
    else
        pods_manager_close(m);
}

int cri_list_records(const struct cri_options *o, bool containers, const struct cri_filter *f,
                     const char *call, struct cri_records *recs, struct pods_manager **keep,
                     struct cri_reply *out)
{
    struct pods_manager *m = NULL;
    int r = cri_open_pods(o, false, &m, out);
    if (r < 0)
        return r;
    _cleanup_error_ pr_error *e = NULL;
    r = containers ? containers_matching(m, f, recs, &e) : sandboxes_matching(m, f, recs, &e);
    if (r < 0) {
        pods_manager_close(m);
        cri_records_free(recs);
        cri_reply_failed(out, r, e, call);
        return r;
    }
    close_or_keep(m, keep);
    return 0;
}

int cri_get_record(const struct cri_options *o, const char *id, const char *call, yajl_val *rec,
                   yajl_val *st, struct pods_manager **keep, struct cri_reply *out)
{
    struct pods_manager *m = NULL;
    int r = cri_open_pods(o, false, &m, out);
    if (r < 0)
        return r;
    _cleanup_error_ pr_error *e = NULL;
    r = st ? pods_cri_container_get(m, id, rec, st, &e) : pods_sandbox_record(m, id, rec, &e);
    if (r < 0) {
        pods_manager_close(m);
        cri_reply_failed(out, r, e, call);
        return r;
    }
    close_or_keep(m, keep);
    return 0;
}
