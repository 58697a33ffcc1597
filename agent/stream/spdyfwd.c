/* SPDX-License-Identifier: Apache-2.0 */
/* Port-forward over SPDY/3.1 (`portforward.k8s.io`, what kubectl and crictl port-forward
 * speak): one connection carries many forwarded connections over time. For each, the client
 * opens an error stream and a data stream with the same `requestid` and `port` headers; once
 * both are there the server connects to the port inside the pod and relays the data stream;
 * a failure is written on the error stream. At most STREAM_PORTS_MAX pairs are open at once. */
#include "internal.h"
#include "util.h"

#include <poll.h>
#include <sys/socket.h>

#define REQUEST_ID_MAX 64

struct pair {
    char *id;
    uint16_t port;
    uint32_t data_sid, err_sid;
    int fd;       /* the pod's socket, -1 before the connect and after the end */
    uint8_t *buf; /* client data not yet written to the pod */
    size_t len, off;
    bool fin; /* the client ended its data: shut our writing side once buf is out */
};

struct pf {
    struct conn *c;
    const struct stream_request *req;
    struct pair v[STREAM_PORTS_MAX];
    size_t n;
};

static void pair_free(struct pf *pf, size_t i)
{
    struct pair *p = &pf->v[i];
    if (p->fd >= 0)
        close(p->fd);
    free(p->id);
    free(p->buf);
    pf->v[i] = pf->v[--pf->n];
}

/* The end of a forwarded connection: FIN on both streams. */
static void pair_end(struct pf *pf, size_t i)
{
    struct pair *p = &pf->v[i];
    if (p->data_sid)
        spdy_queue_data(pf->c, p->data_sid, SPDY_FLAG_FIN, NULL, 0);
    if (p->err_sid)
        spdy_queue_data(pf->c, p->err_sid, SPDY_FLAG_FIN, NULL, 0);
    pair_free(pf, i);
}

static void pair_connect(struct pf *pf, size_t i)
{
    struct pair *p = &pf->v[i];
    const struct stream_backend *b = &pf->c->s->o.backend;
    _cleanup_error_ pr_error *e = NULL;
    int r = b->port_forward ? b->port_forward(b->data, pf->req->target, p->port, &p->fd, &e)
                            : pr_err(&e, ENOTSUP, "port-forward is not supported");
    if (r < 0) {
        _cleanup_free_ char *m = xasprintf("error forwarding port %u to pod %s: %s", p->port,
                                           pf->req->target, e ? e->msg : "failed");
        spdy_queue_data(pf->c, p->err_sid, 0, m, strlen(m));
        p->fd = -1;
        pair_end(pf, i);
        return;
    }
    set_nonblock(p->fd);
}

static bool port_allowed(const struct stream_request *req, unsigned long port)
{
    if (!req->n_ports)
        return true;
    for (size_t i = 0; i < req->n_ports; i++)
        if (req->ports[i] == port)
            return true;
    return false;
}

static bool pf_syn_stream(struct pf *pf, const struct spdy_frame *f)
{
    struct conn *c = pf->c;
    _cleanup_free_ uint8_t *block = NULL;
    _cleanup_free_ char *type = NULL, *port = NULL, *id = NULL;
    size_t n;
    if (spdy_inflate(&c->z, f->data + 10, f->len - 10, SPDY_HEADERS_MAX, &block, &n) < 0 ||
        spdy_header_get(block, n, "streamtype", &type) < 0 ||
        spdy_header_get(block, n, "port", &port) < 0 ||
        spdy_header_get(block, n, "requestid", &id) < 0)
        return spdy_fail(c, 1);
    if (f->stream <= c->last_stream || f->stream % 2 == 0)
        return spdy_fail(c, 1);
    c->last_stream = f->stream;
    char *end = NULL;
    unsigned long pn = port ? strtoul(port, &end, 10) : 0;
    bool data = type && streq(type, "data"), err = type && streq(type, "error");
    if ((!data && !err) || !port || !*port || *end || pn == 0 || pn > 65535 ||
        !port_allowed(pf->req, pn) || !id || !*id || strlen(id) > REQUEST_ID_MAX) {
        spdy_queue_u32s(c, SPDY_RST_STREAM, f->stream, 1); /* PROTOCOL_ERROR */
        return true;
    }
    size_t i = 0;
    while (i < pf->n && !streq(pf->v[i].id, id))
        i++;
    if (i == pf->n) {
        if (pf->n >= STREAM_PORTS_MAX) {
            spdy_queue_u32s(c, SPDY_RST_STREAM, f->stream, 3); /* REFUSED_STREAM */
            return true;
        }
        pf->v[pf->n++] = (struct pair){.id = steal_pointer(&id), .port = pn, .fd = -1};
    }
    struct pair *p = &pf->v[i];
    uint32_t *slot = data ? &p->data_sid : &p->err_sid;
    if (*slot || p->port != pn) {
        spdy_queue_u32s(c, SPDY_RST_STREAM, f->stream, 1);
        return true;
    }
    *slot = f->stream;
    if (spdy_reply(c, f->stream) < 0)
        return spdy_fail(c, 2);
    if (p->data_sid && p->err_sid)
        pair_connect(pf, i);
    return true;
}

static ssize_t pair_by_stream(struct pf *pf, uint32_t sid)
{
    for (size_t i = 0; i < pf->n; i++)
        if (pf->v[i].data_sid == sid || pf->v[i].err_sid == sid)
            return i;
    return -1;
}

static bool pf_busy(struct pf *pf)
{
    for (size_t i = 0; i < pf->n; i++)
        if (pf->v[i].off < pf->v[i].len)
            return true;
    return false;
}

static void pf_data(struct pf *pf, const struct spdy_frame *f)
{
    ssize_t i = pair_by_stream(pf, f->stream);
    spdy_window_update(pf->c, f->stream, f->len);
    if (i < 0 || pf->v[i].data_sid != f->stream || pf->v[i].fd < 0)
        return; /* the error stream carries nothing from the client */
    struct pair *p = &pf->v[i];
    if (f->len) {
        free(p->buf);
        p->buf = xmalloc(f->len);
        memcpy(p->buf, f->data, f->len);
        p->len = f->len;
        p->off = 0;
    }
    if (f->flags & SPDY_FLAG_FIN)
        p->fin = true;
}

/* The client's frames, up to the first data frame that must wait for a pair's buffer. */
static bool pf_parse(struct pf *pf)
{
    struct conn *c = pf->c;
    size_t off = 0;
    bool go = true;
    while (go && !pf_busy(pf)) {
        struct spdy_frame f;
        int r = spdy_parse(c->in + off, c->in_len - off, STREAM_FRAME_MAX, &f);
        if (r == 0)
            break;
        if (r < 0) {
            go = spdy_fail(c, 1);
            break;
        }
        off += f.size;
        if (!f.control) {
            pf_data(pf, &f);
            continue;
        }
        ssize_t i;
        switch (f.type) {
        case SPDY_SYN_STREAM:
            go = pf_syn_stream(pf, &f);
            break;
        case SPDY_SYN_REPLY:
        case SPDY_HEADERS: {
            _cleanup_free_ uint8_t *block = NULL;
            size_t n;
            if (spdy_inflate(&c->z, f.data + 4, f.len - 4, SPDY_HEADERS_MAX, &block, &n) < 0)
                go = spdy_fail(c, 1);
            break;
        }
        case SPDY_RST_STREAM:
            if ((i = pair_by_stream(pf, f.stream)) >= 0)
                pair_free(pf, i);
            break;
        case SPDY_PING:
            spdy_queue_control(c, SPDY_PING, 0, f.data, f.len);
            break;
        case SPDY_GOAWAY:
            c->peer_closed = true;
            go = false;
            break;
        default:
            break;
        }
    }
    memmove(c->in, c->in + off, c->in_len - off);
    c->in_len -= off;
    return go;
}

/* Writes a pair's pending client data to the pod; after the client's FIN, shuts the pod's
 * reading side down. */
static void pair_write(struct pf *pf, size_t i)
{
    struct pair *p = &pf->v[i];
    if (p->off < p->len) {
        ssize_t n = send(p->fd, p->buf + p->off, p->len - p->off, MSG_NOSIGNAL);
        if (n > 0) {
            p->off += n;
            pf->c->last = stream_now_usec();
        } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
            p->off = p->len = 0;
        }
    }
    if (p->off >= p->len && p->fin) {
        shutdown(p->fd, SHUT_WR);
        p->fin = false;
    }
}

/* One read from a pair's pod socket onto its data stream. false at the pod's end. */
static bool pair_read(struct pf *pf, size_t i)
{
    uint8_t buf[CHUNK];
    ssize_t n = recv(pf->v[i].fd, buf, sizeof(buf), 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return true;
    if (n <= 0)
        return false;
    spdy_queue_data(pf->c, pf->v[i].data_sid, 0, buf, n);
    pf->c->last = stream_now_usec();
    return true;
}

void serve_spdy_port_forward(struct conn *c, const struct stream_request *req)
{
    struct pf pf = {.c = c, .req = req};
    if (spdy_zlib_init(&c->z) < 0)
        return;
    c->last = stream_now_usec();
    bool go = !c->in_len || pf_parse(&pf);
    while (go) {
        struct pollfd p[2 + 2 * STREAM_PORTS_MAX];
        bool room = out_pending(c) < OUT_MAX;
        p[0] = (struct pollfd){
            c->fd, (short)((pf_busy(&pf) ? 0 : POLLIN) | (out_pending(c) ? POLLOUT : 0)), 0};
        p[1] = (struct pollfd){c->s->stop_fd, POLLIN, 0};
        size_t n = pf.n;
        for (size_t i = 0; i < n; i++) {
            struct pair *q = &pf.v[i];
            p[2 + 2 * i] = (struct pollfd){room ? q->fd : -1, POLLIN, 0};
            p[3 + 2 * i] = (struct pollfd){q->off < q->len || q->fin ? q->fd : -1, POLLOUT, 0};
        }
        int t = poll_timeout(c, c->s->o.idle_usec);
        if (!t || (poll(p, 2 + 2 * n, t) < 0 && errno != EINTR) || p[1].revents)
            break;
        /* Pods' sockets first, from the last: pair_end moves the last pair into a hole. */
        for (size_t k = n; k-- > 0;) {
            if (k >= pf.n || pf.v[k].fd < 0)
                continue;
            if (p[3 + 2 * k].revents)
                pair_write(&pf, k);
            if (p[2 + 2 * k].revents && !pair_read(&pf, k))
                pair_end(&pf, k);
        }
        if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t r = conn_read(c);
            if (r == 0 || (r < 0 && r != -EAGAIN))
                break;
        }
        if (c->in_len && !pf_busy(&pf))
            go = pf_parse(&pf);
        if (out_pending(c) && conn_flush(c) < 0)
            break;
    }
    while (pf.n)
        pair_free(&pf, pf.n - 1);
    if (!c->peer_closed && !c->failed)
        spdy_goaway(c, 0);
    conn_drain(c, FLUSH_USEC);
    spdy_zlib_end(&c->z);
}
