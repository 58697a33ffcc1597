/* SPDX-License-Identifier: Apache-2.0 */
/* What the sandbox and container calls share: maps between protobuf-c and JSON, label
 * selectors, timestamps, opening the pod manager. */
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
