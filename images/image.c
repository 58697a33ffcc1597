/* SPDX-License-Identifier: Apache-2.0 */
#include "image.h"
#include "json.h"
#include "log.h"
#include "unpack.h"
#include "util.h"

#include <pthread.h>
#include <unistd.h>

int images_read_manifest(image_store *s, const char *digest, manifest *m, pr_error **err)
{
    _cleanup_free_ char *text = NULL;
    int r = store_read_blob(s, digest, MANIFEST_MAX_SIZE, &text, NULL, err);
    if (r < 0)
        return r;
    _cleanup_free_ char *what = xasprintf("manifest %s", digest);
    return manifest_parse(text, what, m, err);
}

int images_read_config(image_store *s, const image_rec *rec, char **out, pr_error **err)
{
    return store_read_blob(s, rec->config, CONFIG_MAX_SIZE, out, NULL, err);
}

/* What the index keeps from the config (created) and what unpacking checks (diff_ids). */
int images_config_info(image_store *s, const char *config, char **created, char ***diff_ids,
                       pr_error **err)
{
    _cleanup_free_ char *text = NULL;
    int r = store_read_blob(s, config, CONFIG_MAX_SIZE, &text, NULL, err);
    if (r < 0)
        return r;
    _cleanup_json_ yajl_val root = NULL;
    _cleanup_free_ char *what = xasprintf("image config %s", config);
    const char *c = NULL;
    yajl_val rootfs = NULL;
    if ((r = json_parse(text, what, &root, err)) < 0 ||
        (r = json_get_str(root, "created", what, &c, err)) < 0 ||
        (r = json_get_object(root, "rootfs", what, &rootfs, err)) < 0 ||
        (rootfs && (r = json_get_strv(rootfs, "diff_ids", what, diff_ids, err)) < 0))
        return r;
    *created = xstrdup(c ? c : "");
    return 0;
}

/* Layers unpack independently into their own directories: a pool of threads takes them as
 * they are queued, so a pull can unpack one layer while it downloads the next. */
typedef struct unpack_job {
    char *digest, *diff_id;
} unpack_job;

struct unpack_pool {
    image_store *s;
    pthread_mutex_t lock;
    pthread_cond_t more;
    unpack_job *jobs;
    size_t njobs, next, cap;
    pthread_t tids[8];
    size_t nthreads, max_threads, idle;
    bool closing;
    pr_error *err; /* the first failure; later jobs are dropped */
};

static void *unpack_pool_worker(void *data)
{
    unpack_pool *p = data;
    pthread_mutex_lock(&p->lock);
    for (;;) {
        while (p->next == p->njobs && !p->closing) {
            p->idle++;
            pthread_cond_wait(&p->more, &p->lock);
            p->idle--;
        }
        if (p->next == p->njobs)
            break;
        unpack_job *j = &p->jobs[p->next++];
        if (p->err)
            continue;
        char *digest = j->digest, *diff_id = j->diff_id;
        pthread_mutex_unlock(&p->lock);
        pr_error *e = NULL;
        int r = store_unpack_layer(p->s, digest, diff_id, &e);
        pthread_mutex_lock(&p->lock);
        if (r < 0 && !p->err)
            p->err = steal_pointer(&e);
        pr_error_free(e);
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

unpack_pool *unpack_pool_new(image_store *s)
{
    unpack_pool *p = xcalloc(1, sizeof(*p));
    p->s = s;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    p->max_threads = cpus < 1                           ? 1
                     : cpus > (long)ARRAY_SIZE(p->tids) ? ARRAY_SIZE(p->tids)
                                                        : (size_t)cpus;
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->more, NULL);
    return p;
}

void unpack_pool_add(unpack_pool *p, const char *digest, const char *diff_id)
{
    pthread_mutex_lock(&p->lock);
    if (p->njobs == p->cap) {
        p->cap = p->cap ? 2 * p->cap : 8;
        p->jobs = xrealloc(p->jobs, p->cap * sizeof(unpack_job));
    }
    p->jobs[p->njobs++] = (unpack_job){xstrdup(digest), diff_id ? xstrdup(diff_id) : NULL};
    /* A new thread only when none is waiting for work. */
    if (p->idle == 0 && p->nthreads < p->max_threads &&
        pthread_create(&p->tids[p->nthreads], NULL, unpack_pool_worker, p) == 0)
        p->nthreads++;
    pthread_cond_signal(&p->more);
    pthread_mutex_unlock(&p->lock);
}

int unpack_pool_finish(unpack_pool *p, pr_error **err)
{
    pthread_mutex_lock(&p->lock);
    p->closing = true;
    pthread_cond_broadcast(&p->more);
    pthread_mutex_unlock(&p->lock);
    for (size_t i = 0; i < p->nthreads; i++)
        pthread_join(p->tids[i], NULL);
    /* Jobs no thread ever took (thread creation failed): run them here. */
    for (; p->next < p->njobs && !p->err; p->next++)
        store_unpack_layer(p->s, p->jobs[p->next].digest, p->jobs[p->next].diff_id, &p->err);
    int r = 0;
    if (p->err) {
        r = -(p->err->errnum ? p->err->errnum : EINVAL);
        if (err && !*err)
            *err = steal_pointer(&p->err);
        pr_error_free(p->err);
    }
    for (size_t i = 0; i < p->njobs; i++) {
        free(p->jobs[i].digest);
        free(p->jobs[i].diff_id);
    }
    free(p->jobs);
    pthread_cond_destroy(&p->more);
    pthread_mutex_destroy(&p->lock);
    free(p);
    return r;
}

int images_commit(image_store *s, const char *manifest_digest, const char *index_digest,
                  char *const *names, image_rec *out, pr_error **err)
{
    manifest m = {0};
    _cleanup_strv_ char **diff_ids = NULL;
    _cleanup_free_ char *created = NULL;
    int r = images_read_manifest(s, manifest_digest, &m, err);
    if (r < 0)
        return r;
    if (m.is_index)
        r = pr_err(err, 0, "%s is an index, not an image manifest", manifest_digest);
    else if (!store_has_blob(s, m.config.digest))
        r = pr_err(err, ENOENT, "image config %s is missing", m.config.digest);
    else
        r = images_config_info(s, m.config.digest, &created, &diff_ids, err);
    if (r == 0)
        r = images_commit_verified(s, manifest_digest, &m, created, diff_ids, index_digest, names,
                                   out, err);
    manifest_clear(&m);
    return r;
}

int images_commit_verified(image_store *s, const char *manifest_digest, const manifest *m,
                           const char *created, char *const *diff_ids, const char *index_digest,
                           char *const *names, image_rec *out, pr_error **err)
{
    if (m->is_index)
        return pr_err(err, 0, "%s is an index, not an image manifest", manifest_digest);
    if (diff_ids && strv_length(diff_ids) != m->nlayers)
        return pr_err(err, 0, "image config %s lists %zu diff_ids for the manifest's %zu layers",
                      m->config.digest, strv_length(diff_ids), m->nlayers);
    image_rec rec = {0};
    rec.manifest = xstrdup(manifest_digest);
    rec.config = xstrdup(m->config.digest);
    rec.created = xstrdup(created ? created : "");
    rec.index = index_digest ? xstrdup(index_digest) : NULL;
    rec.names = xcalloc(strv_length(names) + 1, sizeof(char *));
    for (size_t i = 0; names && names[i]; i++)
        rec.names[i] = xstrdup(names[i]);
    rec.layers = xcalloc(m->nlayers + 1, sizeof(char *));
    rec.media_types = xcalloc(m->nlayers + 1, sizeof(char *));
    for (size_t i = 0; i < m->nlayers; i++) {
        const descriptor *d = &m->layers[i];
        rec.layers[i] = xstrdup(d->digest);
        rec.media_types[i] = xstrdup(d->media_type ? d->media_type : MT_OCI_LAYER);
        rec.size += d->size;
    }
    unpack_pool *pool = unpack_pool_new(s);
    for (size_t i = 0; i < m->nlayers; i++)
        unpack_pool_add(pool, rec.layers[i], diff_ids ? diff_ids[i] : NULL);
    int r = unpack_pool_finish(pool, err);
    if (r == 0)
        r = store_add_image(s, &rec, err);
    if (r == 0 && out)
        *out = rec;
    else
        image_rec_clear(&rec);
    return r;
}
