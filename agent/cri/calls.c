/* SPDX-License-Identifier: Apache-2.0 */
/* Calls that may wait (a pull, the store's or the pod manager's lock) run on a few worker
 * threads, so that the loop keeps serving every other stream meanwhile. A finished call goes
 * back to the loop through an eventfd. */
#include "server.h"
#include "util.h"

#include <sys/eventfd.h>

static void cri_call_free(struct cri_call *c)
{
    cri_reply_clear(&c->reply);
    if (c->cancel_fd > 0)
        close(c->cancel_fd);
    free(c->req);
    free(c);
}

static void *worker(void *data)
{
    cri_server *s = data;
    pthread_mutex_lock(&s->lock);
    for (;;) {
        while (!s->queue && !s->stopping) {
            s->idle++;
            pthread_cond_wait(&s->cond, &s->lock);
            s->idle--;
        }
        if (s->stopping)
            break;
        struct cri_call *c = s->queue;
        s->queue = c->next;
        if (!s->queue)
            s->queue_tail = NULL;
        pthread_mutex_unlock(&s->lock);
        cri_method_call_cancellable(c->m, &s->o, c->req, c->req_len, s->o.max_send, c->cancel_fd,
                                    &c->reply);
        pthread_mutex_lock(&s->lock);
        c->next = s->done;
        s->done = c;
        uint64_t one = 1;
        if (write(s->done_fd, &one, sizeof(one)) < 0) {
            /* The counter cannot overflow with so few calls; the loop reads it anyway. */
        }
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

static int on_done(sd_event_source *src, int fd, uint32_t revents, void *data)
{
    cri_server *s = data;
    uint64_t n;
    if (read(fd, &n, sizeof(n)) < 0) {
        /* EAGAIN: another wake-up took it. */
    }
    pthread_mutex_lock(&s->lock);
    struct cri_call *list = s->done;
    s->done = NULL;
    pthread_mutex_unlock(&s->lock);
    while (list) {
        struct cri_call *c = list;
        list = c->next;
        s->inflight--;
        cri_events_after_call(s, c);
        if (c->st)
            cri_stream_done(c->st, &c->reply);
        cri_call_free(c);
    }
    cri_server_check_drained(s);
    return 0;
}

int cri_calls_init(cri_server *s, pr_error **err)
{
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->cond, NULL);
    s->done_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (s->done_fd < 0)
        return pr_err(err, errno, "eventfd");
    int r = sd_event_add_io(s->ev, &s->done_src, s->done_fd, EPOLLIN, on_done, s);
    return r < 0 ? pr_err(err, -r, "watch the calls' eventfd") : 0;
}

void cri_calls_submit(cri_server *s, struct cri_call *call)
{
    s->inflight++;
    pthread_mutex_lock(&s->lock);
    call->next = NULL;
    if (s->queue_tail)
        s->queue_tail->next = call;
    else
        s->queue = call;
    s->queue_tail = call;
    /* A worker is started only when none is idle, up to CRI_WORKERS: an idle server has none. */
    if (!s->idle && s->nworkers < CRI_WORKERS) {
        if (pthread_create(&s->workers[s->nworkers], NULL, worker, s) == 0)
            s->nworkers++;
    }
    pthread_cond_signal(&s->cond);
    pthread_mutex_unlock(&s->lock);
}

/* Workers finish their call first; queued calls are dropped (their streams are gone). */
void cri_calls_stop(cri_server *s)
{
    pthread_mutex_lock(&s->lock);
    s->stopping = true;
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->lock);
    for (unsigned i = 0; i < s->nworkers; i++)
        pthread_join(s->workers[i], NULL);
    s->nworkers = 0;
    for (struct cri_call *lists[] = {s->queue, s->done}, **l = lists; l < lists + 2; l++)
        while (*l) {
            struct cri_call *c = *l;
            *l = c->next;
            cri_call_free(c);
        }
    s->queue = s->queue_tail = s->done = NULL;
    sd_event_source_unref(s->done_src);
    s->done_src = NULL;
    if (s->done_fd >= 0)
        close(s->done_fd);
    s->done_fd = -1;
    pthread_cond_destroy(&s->cond);
    pthread_mutex_destroy(&s->lock);
}
