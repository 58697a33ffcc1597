/* SPDX-License-Identifier: Apache-2.0 */
/* The server: accepting connections on the loop, and the drain on SIGTERM or SIGINT (no new
 * connections nor streams, the calls in flight finish and are answered, then the loop ends). */
#include "agent/stream/stream.h"
#include "log.h"
#include "server.h"
#include "util.h"

#include <signal.h>
#include <sys/socket.h>

/* After the last call is answered, how long a peer gets to read its answers. */
#define CRI_DRAIN_FLUSH_USEC (5 * 1000000ULL)

static int on_flush_timeout(sd_event_source *src, uint64_t usec, void *data)
{
    cri_server *s = data;
    return sd_event_exit(s->ev, 0);
}

void cri_server_check_drained(cri_server *s)
{
    if (!s->draining || s->inflight)
        return;
    bool busy = false;
    for (struct cri_conn *c = s->conns; c && !busy; c = cri_conn_next(c))
        busy = cri_conn_busy(c);
    if (!busy) {
        sd_event_exit(s->ev, 0);
        return;
    }
    if (!s->flush_timer)
        sd_event_add_time_relative(s->ev, &s->flush_timer, CLOCK_MONOTONIC, CRI_DRAIN_FLUSH_USEC, 0,
                                   on_flush_timeout, s);
}

static int on_accept(sd_event_source *src, int fd, uint32_t revents, void *data)
{
    cri_server *s = data;
    for (int i = 0; i < 16; i++) {
        int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (cfd < 0) {
            if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
                pr_debug("cri: accept: %s", pr_strerror(errno));
            break;
        }
        if (s->nconns >= CRI_MAX_CONNS) {
            pr_debug("cri: %u connections already; closing a new one", s->nconns);
            close(cfd);
            continue;
        }
        if (cri_conn_new(s, cfd) < 0)
            pr_debug("cri: cannot serve a new connection");
    }
    return 0;
}

static int on_signal(sd_event_source *src, const struct signalfd_siginfo *si, void *data)
{
    cri_server *s = data;
    if (s->draining) { /* a second signal: stop now */
        s->forced = true;
        return sd_event_exit(s->ev, 0);
    }
    s->draining = true;
    s->accept_src = sd_event_source_disable_unref(s->accept_src);
    cri_unlisten(s);
    for (struct cri_conn *c = s->conns, *next; c; c = next) {
        next = cri_conn_next(c); /* draining may close it */
        cri_conn_drain(c);
    }
    cri_server_check_drained(s);
    return 0;
}

int cri_server_new(const struct cri_options *o, cri_server **out, pr_error **err)
{
    cri_server *s = xcalloc(1, sizeof(*s));
    s->o = *o;
    s->listen_fd = -1;
    s->done_fd = -1;
    if (!s->o.max_recv)
        s->o.max_recv = CRI_MSG_MAX_DEFAULT;
    if (!s->o.max_send)
        s->o.max_send = CRI_MSG_MAX_DEFAULT;
    int r = sd_event_new(&s->ev);
    if (r < 0) {
        free(s);
        return pr_err(err, -r, "create the event loop");
    }
    struct stream_options so = {.address = o->stream_address, .idle_usec = o->stream_idle_usec};
    cri_stream_backend(&s->o, &so.backend);
    if ((r = cri_calls_init(s, err)) < 0 || (r = cri_events_init(s, err)) < 0 ||
        (r = cri_listen(s, err)) < 0 ||
        (r = stream_server_new(&so, &s->o.stream, err)) < 0) {
        cri_server_free(s);
        return r;
    }
    *out = s;
    return 0;
}

const char *cri_server_stream_address(const cri_server *s)
{
    return stream_server_address(s->o.stream);
}

const char *cri_server_path(const cri_server *s)
{
    return s->path;
}

int cri_server_start(cri_server *s, pr_error **err)
{
    int r = sd_event_add_io(s->ev, &s->accept_src, s->listen_fd, EPOLLIN, on_accept, s);
    if (r >= 0)
        r = sd_event_add_signal(s->ev, &s->sig_term, SIGTERM, on_signal, s);
    if (r >= 0)
        r = sd_event_add_signal(s->ev, &s->sig_int, SIGINT, on_signal, s);
    if (r < 0)
        return pr_err(err, -r, "set up the event loop (are SIGTERM and SIGINT blocked?)");
    return 0;
}

int cri_server_run(cri_server *s, pr_error **err)
{
    int r = cri_server_start(s, err);
    if (r < 0)
        return r;
    r = sd_event_loop(s->ev);
    return r < 0 ? pr_err(err, -r, "the event loop failed") : 0;
}

void cri_server_free(cri_server *s)
{
    /* First: its connections call the pod manager through s->o. */
    stream_server_free(s->o.stream);
    s->o.stream = NULL;
    s->accept_src = sd_event_source_disable_unref(s->accept_src);
    while (s->conns)
        cri_conn_free(s->conns);
    if (s->forced && s->inflight) {
        /* Stopped at once with calls still running (a pull): their threads still use the
         * server, so it is not freed; the process is about to exit. */
        cri_unlisten(s);
        return;
    }
    cri_calls_stop(s);
    cri_events_free(s);
    cri_unlisten(s);
    sd_event_source_disable_unref(s->sig_term);
    sd_event_source_disable_unref(s->sig_int);
    sd_event_source_disable_unref(s->flush_timer);
    sd_event_unref(s->ev);
    free(s->path);
    free(s);
}
