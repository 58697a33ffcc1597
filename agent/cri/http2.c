/* SPDX-License-Identifier: Apache-2.0 */
/* One client connection: an HTTP/2 session (nghttp2) whose streams are gRPC calls (unary, or
 * server-streaming: GetContainerEvents, whose messages events.c pushes). The
 * socket is non-blocking and served by the loop; a peer that stops reading only fills its own
 * connection's queue, and a stream is answered as soon as anything is wrong with it, so that no
 * peer holds up another. nghttp2 does the HTTP/2 (flow control, limits on its own frames,
 * floods); this file the gRPC on top (grpc.c), per https://github.com/grpc/grpc/blob/master/doc/
 * PROTOCOL-HTTP2.md. */
#include "grpc.h"
#include "log.h"
#include "server.h"
#include "util.h"

#include <nghttp2/nghttp2.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

struct cri_stream {
    struct cri_conn *c;
    struct cri_stream *prev, *next;
    int32_t id;
    char *path;
    bool is_post, grpc_type, headers_done, bad_timeout, responded;
    uint64_t timeout_us; /* 0: none */
    struct grpc_reader rd;
    size_t counted; /* request bytes this stream holds, in its connection's and the server's */
    sd_event_source *timer;
    struct cri_call *call; /* on a worker */
    uint8_t *out;          /* the framed response message */
    size_t out_len, out_off;
    /* A server-streaming call: the messages not yet handed to nghttp2 (a bounded queue), and
     * the status its trailers carry once ended and the queue is empty. */
    bool streaming, ended;
    int end_code;
    struct cri_msg *q_head, *q_tail;
    size_t q_bytes;
};

struct cri_msg {
    struct cri_msg *next;
    size_t len;
    uint8_t data[]; /* framed */
};

struct cri_conn {
    cri_server *s;
    struct cri_conn *prev, *next;
    int fd;
    nghttp2_session *h2;
    sd_event_source *io;
    struct cri_stream *streams;
    size_t buffered; /* request bytes held by this connection's streams */
};

static void conn_flush(struct cri_conn *c);

/* ---- answering a stream ---- */

#define NV(n, v)                                                                                   \
    {                                                                                              \
        (uint8_t *)(n), (uint8_t *)(v), strlen(n), strlen(v), NGHTTP2_NV_FLAG_NONE                 \
    }

static void stream_forget_call(struct cri_stream *st)
{
    if (st->call) {
        st->call->st = NULL;
        /* No one waits for its reply any more: a cancellable call stops. */
        if (st->call->cancel_fd > 0 && eventfd_write(st->call->cancel_fd, 1) < 0)
            pr_debug("cri: cancel a call: %s", strerror(errno));
    }
    st->call = NULL;
    st->timer = sd_event_source_disable_unref(st->timer);
}

static ssize_t read_body(nghttp2_session *h2, int32_t id, uint8_t *buf, size_t len, uint32_t *flags,
                         nghttp2_data_source *src, void *data)
{
    struct cri_stream *st = src->ptr;
    size_t n = st->out_len - st->out_off;
    if (n > len)
        n = len;
    memcpy(buf, st->out + st->out_off, n);
    st->out_off += n;
    if (st->out_off == st->out_len) {
        *flags |= NGHTTP2_DATA_FLAG_EOF | NGHTTP2_DATA_FLAG_NO_END_STREAM;
        nghttp2_nv trailers[] = {NV("grpc-status", "0")};
        if (nghttp2_submit_trailer(h2, id, trailers, ARRAY_SIZE(trailers)) != 0)
            return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    }
    return (ssize_t)n;
}

/* Answers the stream (once): the message with grpc-status 0, or a Trailers-Only error. */
static void respond_http(struct cri_stream *st, const char *http_status, int code, const char *msg,
                         uint8_t *body, size_t len)
{
    if (st->responded) {
        free(body);
        return;
    }
    st->responded = true;
    stream_forget_call(st);
    struct cri_conn *c = st->c;
    if (code == GRPC_OK) {
        st->out = grpc_frame(body, len);
        st->out_len = len + GRPC_PREFIX_LEN;
        free(body);
        nghttp2_nv hdrs[] = {NV(":status", "200"), NV("content-type", "application/grpc"),
                             NV("grpc-accept-encoding", "identity")};
        nghttp2_data_provider prd = {.source.ptr = st, .read_callback = read_body};
        if (nghttp2_submit_response(c->h2, st->id, hdrs, ARRAY_SIZE(hdrs), &prd) != 0)
            nghttp2_submit_rst_stream(c->h2, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_INTERNAL_ERROR);
        return;
    }
    free(body);
    char num[12];
    snprintf(num, sizeof(num), "%d", code);
    _cleanup_free_ char *enc = grpc_percent_encode(msg ? msg : "");
    nghttp2_nv hdrs[] = {NV(":status", http_status), NV("content-type", "application/grpc"),
                         NV("grpc-accept-encoding", "identity"), NV("grpc-status", num),
                         NV("grpc-message", enc)};
    pr_debug("cri: stream %d %s: grpc-status %d: %s", st->id, st->path ? st->path : "?", code,
             msg ? msg : "");
    /* A request not yet whole is not cut off with RST_STREAM: gRPC clients take that for a
     * failure of its own and lose the status. What more it sends is dropped unread (on_data). */
    if (nghttp2_submit_response(c->h2, st->id, hdrs, ARRAY_SIZE(hdrs), NULL) != 0)
        nghttp2_submit_rst_stream(c->h2, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_INTERNAL_ERROR);
}

/* The next queued message of a streaming call; its end (trailers) once ended and drained. A
 * peer that reads slowly gets what its flow-control window allows: nghttp2 asks for bytes only
 * then, and the rest waits in the queue. */
static ssize_t read_stream(nghttp2_session *h2, int32_t id, uint8_t *buf, size_t len,
                           uint32_t *flags, nghttp2_data_source *src, void *data)
{
    struct cri_stream *st = src->ptr;
    if (st->out_off == st->out_len && st->q_head) {
        struct cri_msg *m = st->q_head;
        st->q_head = m->next;
        if (!st->q_head)
            st->q_tail = NULL;
        st->q_bytes -= m->len;
        st->c->s->queued -= m->len;
        free(st->out);
        st->out = xmalloc(m->len);
        memcpy(st->out, m->data, m->len);
        st->out_len = m->len;
        st->out_off = 0;
        free(m);
    }
    size_t n = MIN(st->out_len - st->out_off, len);
    if (n) {
        memcpy(buf, st->out + st->out_off, n);
        st->out_off += n;
        return (ssize_t)n;
    }
    if (!st->ended)
        return NGHTTP2_ERR_DEFERRED;
    *flags |= NGHTTP2_DATA_FLAG_EOF | NGHTTP2_DATA_FLAG_NO_END_STREAM;
    char num[12];
    snprintf(num, sizeof(num), "%d", st->end_code);
    nghttp2_nv trailers[] = {NV("grpc-status", num)};
    if (nghttp2_submit_trailer(h2, id, trailers, ARRAY_SIZE(trailers)) != 0)
        return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    return 0;
}

/* Opens a streaming call's response: headers now, messages as cri_conn_push brings them. */
static void respond_streaming(struct cri_stream *st)
{
    st->responded = st->streaming = true;
    st->c->s->subscribers++;
    nghttp2_nv hdrs[] = {NV(":status", "200"), NV("content-type", "application/grpc"),
                         NV("grpc-accept-encoding", "identity")};
    nghttp2_data_provider prd = {.source.ptr = st, .read_callback = read_stream};
    if (nghttp2_submit_response(st->c->h2, st->id, hdrs, ARRAY_SIZE(hdrs), &prd) != 0)
        nghttp2_submit_rst_stream(st->c->h2, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_INTERNAL_ERROR);
}

/* Ends a streaming call with trailers once what is queued is sent. */
static void stream_end(struct cri_stream *st, int code)
{
    if (!st->streaming || st->ended)
        return;
    st->ended = true;
    st->end_code = code;
    nghttp2_session_resume_data(st->c->h2, st->id);
}

void cri_conn_push(struct cri_conn *c, const uint8_t *framed, size_t len)
{
    for (struct cri_stream *st = c->streams; st; st = st->next) {
        if (!st->streaming || st->ended)
            continue;
        if (st->q_bytes + len > CRI_STREAM_QUEUE_MAX || c->s->queued + len > CRI_SERVER_QUEUE_MAX) {
            /* A peer that does not read: its stream goes, not the server's memory. */
            pr_debug("cri: stream %d: %zu bytes queued and unread; resetting it", st->id,
                     st->q_bytes);
            st->ended = true;
            nghttp2_submit_rst_stream(c->h2, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_ENHANCE_YOUR_CALM);
            continue;
        }
        struct cri_msg *m = xmalloc(sizeof(*m) + len);
        m->next = NULL;
        m->len = len;
        memcpy(m->data, framed, len);
        if (st->q_tail)
            st->q_tail->next = m;
        else
            st->q_head = m;
        st->q_tail = m;
        st->q_bytes += len;
        c->s->queued += len;
        nghttp2_session_resume_data(c->h2, st->id);
    }
    conn_flush(c);
}

static void respond_error(struct cri_stream *st, int code, const char *msg)
{
    respond_http(st, "200", code, msg, NULL, 0);
}

static void respond_reply(struct cri_stream *st, struct cri_reply *r)
{
    if (r->code == GRPC_OK) {
        respond_http(st, "200", GRPC_OK, NULL, r->body, r->len);
        r->body = NULL;
        r->len = 0;
    } else {
        respond_error(st, r->code, r->message);
    }
}

void cri_stream_done(struct cri_stream *st, struct cri_reply *reply)
{
    st->call = NULL;
    struct cri_conn *c = st->c;
    respond_reply(st, reply);
    conn_flush(c);
}

static int on_deadline(sd_event_source *src, uint64_t usec, void *data)
{
    struct cri_stream *st = data;
    struct cri_conn *c = st->c;
    if (st->streaming)
        stream_end(st, GRPC_DEADLINE_EXCEEDED);
    else
        respond_error(st, GRPC_DEADLINE_EXCEEDED, "the call's grpc-timeout passed");
    conn_flush(c);
    return 0;
}

/* ---- a request ---- */

static void stream_free(struct cri_stream *st)
{
    stream_forget_call(st);
    struct cri_conn *c = st->c;
    if (st->prev)
        st->prev->next = st->next;
    else
        c->streams = st->next;
    if (st->next)
        st->next->prev = st->prev;
    c->buffered -= st->counted;
    c->s->buffered -= st->counted;
    grpc_reader_clear(&st->rd);
    while (st->q_head) {
        struct cri_msg *m = st->q_head;
        st->q_head = m->next;
        c->s->queued -= m->len;
        free(m);
    }
    if (st->streaming)
        c->s->subscribers--;
    free(st->path);
    free(st->out);
    free(st);
}

/* The request's headers are all in: anything wrong with them is answered now. */
static void headers_done(struct cri_stream *st)
{
    st->headers_done = true;
    if (!st->is_post) {
        respond_http(st, "405", GRPC_INTERNAL, "gRPC requests are POSTs", NULL, 0);
        return;
    }
    if (!st->grpc_type) {
        respond_http(st, "415", GRPC_INTERNAL, "the content-type is not application/grpc", NULL, 0);
        return;
    }
    if (st->bad_timeout) {
        respond_error(st, GRPC_INTERNAL, "malformed grpc-timeout");
        return;
    }
    const struct cri_method *m = st->path ? cri_method_find(st->path) : NULL;
    if (!m) {
        _cleanup_free_ char *msg = xasprintf("unknown method %s", st->path ? st->path : "(none)");
        respond_error(st, GRPC_UNIMPLEMENTED, msg);
        return;
    }
    if (st->timeout_us) {
        int r = sd_event_add_time_relative(st->c->s->ev, &st->timer, CLOCK_MONOTONIC,
                                           st->timeout_us, 1000, on_deadline, st);
        if (r < 0)
            respond_error(st, GRPC_INTERNAL, "cannot arm the call's deadline");
    }
}

/* The request stream ended: run the call. */
static void request_done(struct cri_stream *st)
{
    if (st->responded || !st->headers_done)
        return;
    const char *why = NULL;
    int code = grpc_reader_finish(&st->rd, &why);
    if (code) {
        respond_error(st, code, why);
        return;
    }
    const struct cri_method *m = cri_method_find(st->path);
    cri_server *s = st->c->s;
    if (m->streaming) {
        ProtobufCMessage *req =
            protobuf_c_message_unpack(m->request, NULL, st->rd.msg_len, st->rd.msg);
        if (!req) {
            _cleanup_free_ char *msg = xasprintf("%s: the request is not a valid %s message",
                                                 m->path + 1, m->request->name);
            respond_error(st, GRPC_INTERNAL, msg);
            return;
        }
        protobuf_c_message_free_unpacked(req, NULL);
        if (s->draining) {
            respond_error(st, GRPC_UNAVAILABLE, "the server is stopping");
            return;
        }
        respond_streaming(st);
        return;
    }
    if (!m->fn || m->on_loop) {
        struct cri_reply reply;
        cri_method_call(m, &s->o, st->rd.msg, st->rd.msg_len, s->o.max_send, &reply);
        respond_reply(st, &reply);
        cri_reply_clear(&reply);
        return;
    }
    struct cri_call *call = xcalloc(1, sizeof(*call));
    call->m = m;
    call->req = st->rd.msg;
    call->req_len = st->rd.msg_len;
    call->st = st;
    if (m->cancellable && (call->cancel_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0)
        call->cancel_fd = 0; /* it runs to its end, as any call */
    /* The call owns the bytes now; they stay counted while the stream lives. */
    st->rd.msg = NULL;
    st->call = call;
    cri_calls_submit(s, call);
}

/* ---- nghttp2's callbacks ---- */

static ssize_t on_send(nghttp2_session *h2, const uint8_t *data, size_t len, int flags, void *user)
{
    struct cri_conn *c = user;
    ssize_t n = send(c->fd, data, len, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n >= 0)
        return n;
    if (errno == EAGAIN || errno == EINTR)
        return NGHTTP2_ERR_WOULDBLOCK;
    return NGHTTP2_ERR_CALLBACK_FAILURE;
}

static int on_begin_headers(nghttp2_session *h2, const nghttp2_frame *f, void *user)
{
    struct cri_conn *c = user;
    if (f->hd.type != NGHTTP2_HEADERS || f->headers.cat != NGHTTP2_HCAT_REQUEST)
        return 0;
    struct cri_stream *st = xcalloc(1, sizeof(*st));
    st->c = c;
    st->id = f->hd.stream_id;
    st->rd.max = c->s->o.max_recv;
    st->next = c->streams;
    if (c->streams)
        c->streams->prev = st;
    c->streams = st;
    nghttp2_session_set_stream_user_data(h2, st->id, st);
    return 0;
}

static bool is_grpc_type(const uint8_t *v, size_t len)
{
    static const char t[] = "application/grpc";
    size_t tl = sizeof(t) - 1;
    return len >= tl && memcmp(v, t, tl) == 0 && (len == tl || v[tl] == '+' || v[tl] == ';');
}

static int on_header(nghttp2_session *h2, const nghttp2_frame *f, const uint8_t *name, size_t nlen,
                     const uint8_t *value, size_t vlen, uint8_t flags, void *user)
{
    struct cri_stream *st = nghttp2_session_get_stream_user_data(h2, f->hd.stream_id);
    if (!st || st->headers_done)
        return 0; /* trailers from the client carry nothing a call uses */
#define IS(n) (nlen == strlen(n) && memcmp(name, n, nlen) == 0)
    if (IS(":path")) {
        free(st->path);
        st->path = xstrndup((const char *)value, vlen);
    } else if (IS(":method")) {
        st->is_post = vlen == 4 && memcmp(value, "POST", 4) == 0;
    } else if (IS("content-type")) {
        st->grpc_type = is_grpc_type(value, vlen);
    } else if (IS("grpc-timeout")) {
        st->bad_timeout = grpc_parse_timeout((const char *)value, vlen, &st->timeout_us) < 0;
        if (!st->bad_timeout && !st->timeout_us)
            st->timeout_us = 1; /* 0 units: already past */
    }
#undef IS
    return 0;
}

static int on_frame_recv(nghttp2_session *h2, const nghttp2_frame *f, void *user)
{
    struct cri_stream *st = nghttp2_session_get_stream_user_data(h2, f->hd.stream_id);
    if (!st)
        return 0;
    if (f->hd.type == NGHTTP2_HEADERS && f->headers.cat == NGHTTP2_HCAT_REQUEST)
        headers_done(st);
    if ((f->hd.type == NGHTTP2_HEADERS || f->hd.type == NGHTTP2_DATA) &&
        (f->hd.flags & NGHTTP2_FLAG_END_STREAM)) {
        request_done(st);
    }
    return 0;
}

static int on_data(nghttp2_session *h2, uint8_t flags, int32_t id, const uint8_t *data, size_t len,
                   void *user)
{
    struct cri_conn *c = user;
    struct cri_stream *st = nghttp2_session_get_stream_user_data(h2, id);
    if (!st || st->responded || !st->headers_done)
        return 0;
    if (c->buffered + len > CRI_CONN_BUFFER_MAX || c->s->buffered + len > CRI_SERVER_BUFFER_MAX) {
        respond_error(st, GRPC_RESOURCE_EXHAUSTED,
                      "the requests in flight are over the server's limit; try again");
        return 0;
    }
    size_t before = st->rd.cap;
    const char *why = NULL;
    int code = grpc_reader_feed(&st->rd, data, len, &why);
    size_t grown = st->rd.cap - before;
    st->counted += grown;
    c->buffered += grown;
    c->s->buffered += grown;
    if (code == GRPC_RESOURCE_EXHAUSTED) {
        _cleanup_free_ char *msg = xasprintf(
            "the request message (%zu bytes) is larger than the server's limit of %zu bytes",
            st->rd.msg_len, st->rd.max);
        respond_error(st, code, msg);
    } else if (code) {
        respond_error(st, code, why);
    }
    return 0;
}

static int on_stream_close(nghttp2_session *h2, int32_t id, uint32_t error, void *user)
{
    struct cri_stream *st = nghttp2_session_get_stream_user_data(h2, id);
    if (st) {
        nghttp2_session_set_stream_user_data(h2, id, NULL);
        stream_free(st);
    }
    cri_server_check_drained(((struct cri_conn *)user)->s);
    return 0;
}

/* ---- the connection ---- */

void cri_conn_free(struct cri_conn *c)
{
    cri_server *s = c->s;
    while (c->streams)
        stream_free(c->streams);
    nghttp2_session_del(c->h2);
    sd_event_source_disable_unref(c->io);
    close(c->fd);
    if (c->prev)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    s->nconns--;
    free(c);
    cri_server_check_drained(s);
}

static void conn_flush(struct cri_conn *c)
{
    if (nghttp2_session_send(c->h2) != 0) {
        cri_conn_free(c);
        return;
    }
    bool r = nghttp2_session_want_read(c->h2), w = nghttp2_session_want_write(c->h2);
    if (!r && !w) {
        cri_conn_free(c);
        return;
    }
    /* Still wanting to write after a send means the socket is full: wait until it drains. */
    sd_event_source_set_io_events(c->io, EPOLLIN | (w ? EPOLLOUT : 0));
}

static int on_io(sd_event_source *src, int fd, uint32_t revents, void *data)
{
    struct cri_conn *c = data;
    if (revents & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
        uint8_t buf[16384];
        /* A bounded share per wake-up, so one busy peer cannot starve the others. */
        for (int i = 0; i < 4; i++) {
            ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
            if (n < 0 && (errno == EAGAIN || errno == EINTR))
                break;
            if (n <= 0 || nghttp2_session_mem_recv(c->h2, buf, (size_t)n) < 0) {
                cri_conn_free(c);
                return 0;
            }
            if ((size_t)n < sizeof(buf))
                break;
        }
    }
    conn_flush(c);
    return 0;
}

int cri_conn_new(cri_server *s, int fd)
{
    struct cri_conn *c = xcalloc(1, sizeof(*c));
    c->s = s;
    c->fd = fd;
    nghttp2_session_callbacks *cb;
    if (nghttp2_session_callbacks_new(&cb) != 0) {
        close(fd);
        free(c);
        return -ENOMEM;
    }
    nghttp2_session_callbacks_set_send_callback(cb, on_send);
    nghttp2_session_callbacks_set_on_begin_headers_callback(cb, on_begin_headers);
    nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cb, on_frame_recv);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, on_data);
    nghttp2_session_callbacks_set_on_stream_close_callback(cb, on_stream_close);
    int r = nghttp2_session_server_new(&c->h2, cb, c);
    nghttp2_session_callbacks_del(cb);
    if (r != 0) {
        close(fd);
        free(c);
        return -ENOMEM;
    }
    nghttp2_settings_entry settings[] = {
        {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, CRI_MAX_STREAMS},
        {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, 64 * 1024},
    };
    nghttp2_submit_settings(c->h2, NGHTTP2_FLAG_NONE, settings, ARRAY_SIZE(settings));
    r = sd_event_add_io(s->ev, &c->io, fd, EPOLLIN, on_io, c);
    if (r < 0) {
        nghttp2_session_del(c->h2);
        close(fd);
        free(c);
        return r;
    }
    c->next = s->conns;
    if (s->conns)
        s->conns->prev = c;
    s->conns = c;
    s->nconns++;
    conn_flush(c);
    return 0;
}

void cri_conn_drain(struct cri_conn *c)
{
    for (struct cri_stream *st = c->streams; st; st = st->next)
        stream_end(st, GRPC_OK);
    nghttp2_submit_goaway(c->h2, NGHTTP2_FLAG_NONE, nghttp2_session_get_last_proc_stream_id(c->h2),
                          NGHTTP2_NO_ERROR, NULL, 0);
    conn_flush(c);
}

bool cri_conn_busy(const struct cri_conn *c)
{
    return nghttp2_session_want_write(c->h2) || c->streams;
}

struct cri_conn *cri_conn_next(const struct cri_conn *c)
{
    return c->next;
}
