/* SPDX-License-Identifier: Apache-2.0 */
/* The token cache: a CRI call leaves its request here under a random token and the client's
 * connection takes it, once, within STREAM_TOKEN_TTL_USEC. Bounded, so calls that are never
 * followed cannot grow it. */
#include "internal.h"
#include "util.h"

#include <sys/random.h>

struct stream_token {
    char id[STREAM_TOKEN_LEN + 1];
    uint64_t expires;
    struct stream_request req;
};

void stream_request_copy(struct stream_request *dst, const struct stream_request *src)
{
    *dst = *src;
    dst->target = xstrdup(src->target ? src->target : "");
    dst->command = NULL;
    for (char **c = src->command; c && *c; c++)
        strv_extend(&dst->command, *c);
    dst->ports = NULL;
    if (src->n_ports) {
        dst->ports = xmalloc(src->n_ports * sizeof(*dst->ports));
        memcpy(dst->ports, src->ports, src->n_ports * sizeof(*dst->ports));
    }
}

void stream_request_clear(struct stream_request *r)
{
    free(r->target);
    strv_freep(&r->command);
    free(r->ports);
    *r = (struct stream_request){0};
}

void stream_tokens_init(struct stream_tokens *t)
{
    pthread_mutex_init(&t->lock, NULL);
    t->v = NULL;
    t->n = 0;
}

void stream_tokens_clear(struct stream_tokens *t)
{
    for (size_t i = 0; i < t->n; i++)
        stream_request_clear(&t->v[i].req);
    free(t->v);
    t->v = NULL;
    t->n = 0;
    pthread_mutex_destroy(&t->lock);
}

/* Under the lock. */
static void expire(struct stream_tokens *t, uint64_t now)
{
    size_t k = 0;
    for (size_t i = 0; i < t->n; i++) {
        if (t->v[i].expires <= now)
            stream_request_clear(&t->v[i].req);
        else
            t->v[k++] = t->v[i];
    }
    t->n = k;
}

int stream_tokens_add(struct stream_tokens *t, const struct stream_request *req, uint64_t now,
                      char id[STREAM_TOKEN_LEN + 1])
{
    uint8_t raw[STREAM_TOKEN_LEN / 2];
    if (getrandom(raw, sizeof(raw), 0) != sizeof(raw))
        return -errno ?: -EIO;
    for (size_t i = 0; i < sizeof(raw); i++)
        sprintf(id + 2 * i, "%02x", raw[i]);
    pthread_mutex_lock(&t->lock);
    expire(t, now);
    if (t->n >= STREAM_TOKENS_MAX) {
        pthread_mutex_unlock(&t->lock);
        return -EAGAIN;
    }
    if (!t->v)
        t->v = xmalloc(STREAM_TOKENS_MAX * sizeof(*t->v));
    struct stream_token *k = &t->v[t->n++];
    memcpy(k->id, id, sizeof(k->id));
    k->expires = now + STREAM_TOKEN_TTL_USEC;
    stream_request_copy(&k->req, req);
    pthread_mutex_unlock(&t->lock);
    return 0;
}

int stream_tokens_take(struct stream_tokens *t, const char *id, uint64_t now,
                       struct stream_request *out)
{
    int r = -ENOENT;
    pthread_mutex_lock(&t->lock);
    expire(t, now);
    for (size_t i = 0; i < t->n; i++) {
        if (!streq(t->v[i].id, id))
            continue;
        *out = t->v[i].req;
        t->v[i] = t->v[--t->n];
        r = 0;
        break;
    }
    pthread_mutex_unlock(&t->lock);
    return r;
}
