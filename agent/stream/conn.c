/* SPDX-License-Identifier: Apache-2.0 */
/* One streaming connection, on its own thread: the request head, the token, the WebSocket
 * handshake, then the pump between the client's channels and the process's fds (exec, attach)
 * or the pod's sockets (port-forward). Every wait is a poll() that also watches the server's
 * stop eventfd and the idle deadline, so neither a silent client nor one that never reads
 * holds the thread for longer than the idle timeout. */
#include "internal.h"
#include "json.h"
#include "util.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <termios.h>

/* Bytes queued to the client before the process's output is no longer read. */
#define OUT_MAX (256u << 10)
/* One read of a process's output or a pod's socket. */
#define CHUNK (32u << 10)
/* After the exit status is queued, how long the client gets to read it. */
#define FLUSH_USEC (5ULL * 1000000ULL)

enum { CH_STDIN, CH_STDOUT, CH_STDERR, CH_ERROR, CH_RESIZE, CH_CLOSE = 255 };

struct conn {
    stream_server *s;
    int fd;
    uint8_t *in; /* bytes received and not yet parsed */
    size_t in_len, in_cap;
    uint8_t *out; /* bytes to send */
    size_t out_len, out_off;
    uint64_t last; /* the last time anything moved */
    struct ws_reader rd;
    bool v5, peer_closed, failed;
};

static void conn_queue(struct conn *c, const void *data, size_t n)
{
    if (c->out_off && c->out_off == c->out_len)
        c->out_off = c->out_len = 0;
    c->out = xrealloc(c->out, c->out_len + n);
    memcpy(c->out + c->out_len, data, n);
    c->out_len += n;
}

/* A binary message on channel ch (ch < 0: a frame of opcode with no channel byte). */
static void ws_queue(struct conn *c, int opcode, int ch, const void *data, size_t n)
{
    uint8_t hdr[11];
    size_t h = ws_header(hdr, opcode, n + (ch >= 0));
    if (ch >= 0)
        hdr[h++] = ch;
    conn_queue(c, hdr, h);
    if (n)
        conn_queue(c, data, n);
}

static void ws_queue_close(struct conn *c, uint16_t code)
{
    uint8_t b[2] = {code >> 8, code & 0xff};
    ws_queue(c, WS_CLOSE, -1, b, 2);
}

static size_t out_pending(const struct conn *c)
{
    return c->out_len - c->out_off;
}

/* Sends what the socket takes now. -1: the client is gone. */
static int conn_flush(struct conn *c)
{
    while (out_pending(c)) {
        ssize_t n = send(c->fd, c->out + c->out_off, out_pending(c), MSG_NOSIGNAL);
        if (n < 0)
            return errno == EAGAIN || errno == EINTR ? 0 : -1;
        c->out_off += n;
        c->last = stream_now_usec();
    }
    return 0;
}

/* Reads what the socket has, up to room for one frame of the largest size. 0 at EOF. */
static ssize_t conn_read(struct conn *c)
{
    size_t cap = STREAM_FRAME_MAX + 16;
    if (c->in_cap < cap) {
        c->in = xrealloc(c->in, cap);
        c->in_cap = cap;
    }
    if (c->in_len >= cap)
        return -ENOBUFS;
    ssize_t n = recv(c->fd, c->in + c->in_len, cap - c->in_len, 0);
    if (n < 0)
        return errno == EAGAIN || errno == EINTR ? -EAGAIN : -errno;
    c->in_len += n;
    if (n)
        c->last = stream_now_usec();
    return n;
}

static int poll_timeout(const struct conn *c, uint64_t limit)
{
    uint64_t now = stream_now_usec(), end = c->last + limit;
    if (now >= end)
        return 0;
    uint64_t ms = (end - now + 999) / 1000;
    return ms > 60000 ? 60000 : (int)ms;
}

/* Sends everything queued (or gives up after limit without progress, or when stopped). */
static void conn_drain(struct conn *c, uint64_t limit)
{
    c->last = stream_now_usec();
    while (out_pending(c)) {
        struct pollfd p[2] = {{c->fd, POLLOUT, 0}, {c->s->stop_fd, POLLIN, 0}};
        int t = poll_timeout(c, limit);
        if (!t || poll(p, 2, t) < 0 || p[1].revents)
            return;
        if (conn_flush(c) < 0)
            return;
    }
}

static void http_reply(struct conn *c, const char *status, const char *msg)
{
    _cleanup_free_ char *r = xasprintf("HTTP/1.1 %s\r\nContent-Type: text/plain; charset=utf-8\r\n"
                                       "Content-Length: %zu\r\nConnection: close\r\n\r\n%s\n",
                                       status, strlen(msg) + 1, msg);
    conn_queue(c, r, strlen(r));
    conn_drain(c, STREAM_HANDSHAKE_USEC);
}

/* Reads the request head into c->in (NUL-terminated in place); the bytes after it stay. */
static int read_head(struct conn *c, char **head)
{
    for (;;) {
        uint8_t *end = c->in_len >= 4 ? memmem(c->in, c->in_len, "\r\n\r\n", 4) : NULL;
        if (end) {
            size_t hl = end - c->in + 4;
            *head = xstrndup((char *)c->in, hl - 2);
            memmove(c->in, c->in + hl, c->in_len - hl);
            c->in_len -= hl;
            return 0;
        }
        if (c->in_len > STREAM_HEAD_MAX)
            return -EMSGSIZE;
        struct pollfd p[2] = {{c->fd, POLLIN, 0}, {c->s->stop_fd, POLLIN, 0}};
        int t = poll_timeout(c, STREAM_HANDSHAKE_USEC);
        if (!t)
            return -ETIMEDOUT;
        if (poll(p, 2, t) < 0 && errno != EINTR)
            return -errno;
        if (p[1].revents)
            return -ECANCELED;
        if (p[0].revents) {
            ssize_t n = conn_read(c);
            if (n == 0)
                return -ECONNRESET;
            if (n < 0 && n != -EAGAIN)
                return (int)n;
        }
    }
}

/* ---- messages from the client ---- */

/* What the pump does with one complete data message; it returns false to end. */
typedef bool (*on_message_fn)(struct conn *c, void *data, uint8_t *msg, size_t len);

/* Parses the frames received so far; stops early when busy() says the pump cannot take a
 * message now (its previous one is still being written). Returns false to end the connection. */
static bool conn_parse(struct conn *c, on_message_fn on_msg, bool (*busy)(void *), void *data)
{
    size_t off = 0;
    bool go = true;
    while (go && !busy(data)) {
        struct ws_frame f;
        int r = ws_parse(c->in + off, c->in_len - off, STREAM_FRAME_MAX, &f);
        if (r == 0)
            break;
        if (r < 0) {
            ws_queue_close(c, r == -EMSGSIZE ? 1009 : 1002);
            c->failed = true;
            go = false;
            break;
        }
        off += f.size;
        int e = ws_reader_feed(&c->rd, &f, STREAM_FRAME_MAX);
        if (e < 0) {
            ws_queue_close(c, e == -EMSGSIZE ? 1009 : 1002);
            c->failed = true;
            go = false;
        } else if (e == WS_CONTROL) {
            if (f.opcode == WS_CLOSE) {
                ws_queue_close(c, 1000);
                c->peer_closed = true;
                go = false;
            } else if (f.opcode == WS_PING) {
                ws_queue(c, WS_PONG, -1, f.payload, f.len);
            }
        } else if (e == WS_MESSAGE) {
            go = on_msg(c, data, c->rd.msg, c->rd.len);
            c->rd.len = 0;
            c->rd.opcode = 0;
        }
    }
    memmove(c->in, c->in + off, c->in_len - off);
    c->in_len -= off;
    return go;
}

/* ---- exec and attach ---- */

struct pump {
    struct stream_proc *p;
    uint8_t *stdin_buf; /* a message for the process's stdin not yet written whole */
    size_t stdin_len, stdin_off;
    int in_fd; /* where stdin goes: p->in, or the pty */
    bool out_done, err_done, in_closed;
};

static bool pump_busy(void *data)
{
    struct pump *u = data;
    return u->stdin_off < u->stdin_len;
}

static void close_stdin(struct pump *u)
{
    if (u->p->pty >= 0) {
        /* A terminal's end of input is its EOF character. */
        if (!u->in_closed && write(u->p->pty, "\x04", 1) < 0) {
            /* the terminal is gone: nothing to end */
        }
    } else if (u->p->in >= 0) {
        close(u->p->in);
        u->p->in = -1;
    }
    u->in_fd = -1;
    u->in_closed = true;
}

static void resize(struct pump *u, const uint8_t *msg, size_t len)
{
    if (u->p->pty < 0)
        return;
    _cleanup_free_ char *text = xstrndup((const char *)msg, len);
    yajl_val v = NULL;
    _cleanup_error_ pr_error *e = NULL;
    if (json_parse(text, "resize", &v, &e) < 0)
        return;
    int64_t w = 0, h = 0;
    if (json_get_int64(v, "Width", "resize", &w, &e) == 0 &&
        json_get_int64(v, "Height", "resize", &h, &e) == 0 && w >= 0 && w <= 65535 && h >= 0 &&
        h <= 65535) {
        struct winsize ws = {.ws_row = h, .ws_col = w};
        ioctl(u->p->pty, TIOCSWINSZ, &ws);
    }
    yajl_tree_free(v);
}

static bool exec_message(struct conn *c, void *data, uint8_t *msg, size_t len)
{
    struct pump *u = data;
    if (!len)
        return true;
    if (c->v5 && msg[0] == CH_CLOSE) {
        if (len == 2 && msg[1] == CH_STDIN)
            close_stdin(u);
        return true;
    }
    if (msg[0] == CH_STDIN && u->in_fd >= 0 && len > 1) {
        free(u->stdin_buf);
        u->stdin_buf = xmalloc(len - 1);
        memcpy(u->stdin_buf, msg + 1, len - 1);
        u->stdin_len = len - 1;
        u->stdin_off = 0;
    } else if (msg[0] == CH_RESIZE) {
        resize(u, msg + 1, len - 1);
    }
    return true;
}

/* The exit status as the kubelet writes it on the v4 error channel: a metav1.Status. */
static char *exit_status_json(int code)
{
    if (code == 0)
        return xstrdup("{\"metadata\":{},\"status\":\"Success\"}");
    return xasprintf("{\"metadata\":{},\"status\":\"Failure\",\"message\":\"command terminated "
                     "with non-zero exit code: exit status %d\",\"reason\":\"NonZeroExitCode\","
                     "\"details\":{\"causes\":[{\"reason\":\"ExitCode\",\"message\":\"%d\"}]}}",
                     code, code);
}

static char *failure_json(const char *msg)
{
    yajl_gen g = json_gen_new(false);
    jg_map_open(g);
    jg_key(g, "metadata");
    jg_map_open(g);
    jg_map_close(g);
    jg_key_str(g, "status", "Failure");
    jg_key_str(g, "message", msg);
    jg_key_str(g, "reason", "InternalError");
    jg_map_close(g);
    const unsigned char *buf;
    size_t len;
    yajl_gen_get_buf(g, &buf, &len);
    char *s = xstrndup((const char *)buf, len);
    yajl_gen_free(g);
    return s;
}

/* Reads one chunk of a process's output into channel ch. false at its end. */
static bool forward_output(struct conn *c, int fd, int ch)
{
    uint8_t buf[CHUNK];
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return true;
    if (n <= 0)
        return false; /* EOF, or EIO once a terminal's last writer is gone */
    ws_queue(c, WS_BINARY, ch, buf, n);
    c->last = stream_now_usec();
    return true;
}

static void set_nonblock(int fd)
{
    if (fd >= 0)
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

static void serve_process(struct conn *c, const struct stream_request *req)
{
    const struct stream_backend *b = &c->s->o.backend;
    struct stream_proc p = {.in = -1, .out = -1, .err = -1, .pty = -1};
    _cleanup_error_ pr_error *e = NULL;
    int (*start)(void *, const struct stream_request *, struct stream_proc *, pr_error **) =
        req->kind == STREAM_EXEC ? b->exec : b->attach;
    int r = start ? start(b->data, req, &p, &e)
                  : pr_err(&e, ENOTSUP, "%s is not supported by this server",
                           req->kind == STREAM_EXEC ? "exec" : "attach");
    if (r < 0) {
        _cleanup_free_ char *j = failure_json(e ? e->msg : "failed");
        ws_queue(c, WS_BINARY, CH_ERROR, j, strlen(j));
        ws_queue_close(c, 1000);
        conn_drain(c, FLUSH_USEC);
        return;
    }
    struct pump u = {.p = &p};
    u.in_fd = p.pty >= 0 ? (req->in ? p.pty : -1) : p.in;
    u.out_done = p.pty < 0 && p.out < 0;
    u.err_done = p.pty >= 0 || p.err < 0;
    set_nonblock(p.in);
    set_nonblock(p.out);
    set_nonblock(p.err);
    set_nonblock(p.pty);
    int outfd = p.pty >= 0 ? p.pty : p.out;
    bool ended = u.out_done && u.err_done, go = true;
    c->last = stream_now_usec();
    /* Frames that came with the request head. */
    if (c->in_len)
        go = conn_parse(c, exec_message, pump_busy, &u);
    while (go && !(u.out_done && u.err_done)) {
        bool room = out_pending(c) < OUT_MAX;
        struct pollfd pf[5] = {
            {c->fd, (short)((pump_busy(&u) ? 0 : POLLIN) | (out_pending(c) ? POLLOUT : 0)), 0},
            {c->s->stop_fd, POLLIN, 0},
            {u.out_done || !room ? -1 : outfd, POLLIN, 0},
            {u.err_done || !room ? -1 : p.err, POLLIN, 0},
            {pump_busy(&u) ? u.in_fd : -1, POLLOUT, 0},
        };
        int t = poll_timeout(c, c->s->o.idle_usec);
        if (!t)
            break; /* idle: nothing moved either way */
        if (poll(pf, 5, t) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (pf[1].revents)
            break;
        if (pf[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t n = conn_read(c);
            if (n == 0 || (n < 0 && n != -EAGAIN))
                break;
            go = conn_parse(c, exec_message, pump_busy, &u);
        }
        if (pf[0].revents & POLLOUT && conn_flush(c) < 0)
            break;
        if (pf[2].revents && !forward_output(c, outfd, CH_STDOUT))
            u.out_done = true;
        if (pf[3].revents && !forward_output(c, p.err, CH_STDERR))
            u.err_done = true;
        if (pf[4].revents) {
            ssize_t n = write(u.in_fd, u.stdin_buf + u.stdin_off, u.stdin_len - u.stdin_off);
            if (n > 0) {
                u.stdin_off += n;
                c->last = stream_now_usec();
                /* the next messages may be waiting in the buffer already */
                if (!pump_busy(&u))
                    go = conn_parse(c, exec_message, pump_busy, &u);
            } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
                u.stdin_len = u.stdin_off = 0; /* the process closed its stdin */
                u.in_fd = -1;
            }
        }
        if (out_pending(c) && conn_flush(c) < 0)
            break;
        ended = u.out_done && u.err_done;
    }
    free(u.stdin_buf);
    if (ended) {
        _cleanup_error_ pr_error *we = NULL;
        int code = p.wait(&p, &we);
        _cleanup_free_ char *j =
            code >= 0 ? exit_status_json(code) : failure_json(we ? we->msg : "wait failed");
        ws_queue(c, WS_BINARY, CH_ERROR, j, strlen(j));
        ws_queue_close(c, 1000);
        conn_drain(c, FLUSH_USEC);
    } else {
        p.cancel(&p);
        if (go && !c->peer_closed) {
            ws_queue_close(c, 1001);
            conn_flush(c);
        }
    }
    for (int *fd = &p.in; fd <= &p.pty; fd++)
        if (*fd >= 0)
            close(*fd);
    p.release(&p);
}

/* ---- port-forward ---- */

struct fwd_port {
    uint16_t port;
    int fd;       /* the pod's socket; -1 when done */
    uint8_t *buf; /* client data not yet written to it */
    size_t len, off;
};
struct fwd {
    struct fwd_port v[STREAM_PORTS_MAX];
    size_t n;
};

static bool fwd_busy(void *data)
{
    struct fwd *w = data;
    for (size_t i = 0; i < w->n; i++)
        if (w->v[i].off < w->v[i].len)
            return true;
    return false;
}

static bool fwd_message(struct conn *c, void *data, uint8_t *msg, size_t len)
{
    struct fwd *w = data;
    if (!len || msg[0] % 2 || msg[0] / 2 >= w->n || len == 1)
        return true; /* error channels carry nothing from the client */
    struct fwd_port *p = &w->v[msg[0] / 2];
    if (p->fd < 0)
        return true;
    free(p->buf);
    p->buf = xmalloc(len - 1);
    memcpy(p->buf, msg + 1, len - 1);
    p->len = len - 1;
    p->off = 0;
    return true;
}

/* The ports of the query (?port=80&port=8080), checked against what the CRI request allowed. */
static int parse_ports(const char *query, const struct stream_request *req, struct fwd *w,
                       char **why)
{
    _cleanup_free_ char *q = xstrdup(query ? query : "");
    char *save = NULL;
    for (char *kv = strtok_r(q, "&", &save); kv; kv = strtok_r(NULL, "&", &save)) {
        if (strncmp(kv, "port=", 5) != 0)
            continue;
        char *end;
        errno = 0;
        unsigned long port = strtoul(kv + 5, &end, 10);
        if (!kv[5] || *end || errno || port == 0 || port > 65535) {
            *why = xasprintf("bad port `%s`", kv + 5);
            return -EINVAL;
        }
        bool allowed = !req->n_ports;
        for (size_t i = 0; i < req->n_ports; i++)
            allowed |= req->ports[i] == port;
        if (!allowed) {
            *why = xasprintf("port %lu is not one the PortForward request named", port);
            return -EPERM;
        }
        if (w->n >= STREAM_PORTS_MAX) {
            *why = xasprintf("more than %d ports", STREAM_PORTS_MAX);
            return -E2BIG;
        }
        w->v[w->n++] = (struct fwd_port){.port = port, .fd = -1};
    }
    if (!w->n) {
        *why = xstrdup("no port=N in the query");
        return -EINVAL;
    }
    return 0;
}

static void serve_port_forward(struct conn *c, const struct stream_request *req, struct fwd *w)
{
    const struct stream_backend *b = &c->s->o.backend;
    size_t live = 0;
    for (size_t i = 0; i < w->n; i++) {
        struct fwd_port *p = &w->v[i];
        /* Each channel starts with its port, little-endian, as the kubelet's does. */
        uint8_t pb[2] = {p->port & 0xff, p->port >> 8};
        ws_queue(c, WS_BINARY, 2 * i, pb, 2);
        ws_queue(c, WS_BINARY, 2 * i + 1, pb, 2);
        _cleanup_error_ pr_error *e = NULL;
        int r = b->port_forward ? b->port_forward(b->data, req->target, p->port, &p->fd, &e)
                                : pr_err(&e, ENOTSUP, "port-forward is not supported");
        if (r < 0) {
            _cleanup_free_ char *m = xasprintf("error forwarding port %u to pod %s: %s", p->port,
                                               req->target, e ? e->msg : "failed");
            ws_queue(c, WS_BINARY, 2 * i + 1, m, strlen(m));
            p->fd = -1;
            continue;
        }
        set_nonblock(p->fd);
        live++;
    }
    c->last = stream_now_usec();
    if (c->in_len && !conn_parse(c, fwd_message, fwd_busy, w))
        live = 0;
    while (live) {
        struct pollfd pf[2 + 2 * STREAM_PORTS_MAX];
        bool room = out_pending(c) < OUT_MAX;
        pf[0] = (struct pollfd){
            c->fd, (short)((fwd_busy(w) ? 0 : POLLIN) | (out_pending(c) ? POLLOUT : 0)), 0};
        pf[1] = (struct pollfd){c->s->stop_fd, POLLIN, 0};
        for (size_t i = 0; i < w->n; i++) {
            struct fwd_port *p = &w->v[i];
            pf[2 + 2 * i] = (struct pollfd){room ? p->fd : -1, POLLIN, 0};
            pf[3 + 2 * i] = (struct pollfd){p->off < p->len ? p->fd : -1, POLLOUT, 0};
        }
        int t = poll_timeout(c, c->s->o.idle_usec);
        if (!t || (poll(pf, 2 + 2 * w->n, t) < 0 && errno != EINTR) || pf[1].revents)
            break;
        if (pf[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t n = conn_read(c);
            if (n == 0 || (n < 0 && n != -EAGAIN))
                break;
            if (!conn_parse(c, fwd_message, fwd_busy, w))
                break;
        }
        for (size_t i = 0; i < w->n; i++) {
            struct fwd_port *p = &w->v[i];
            if (p->fd >= 0 && pf[3 + 2 * i].revents) {
                ssize_t n = send(p->fd, p->buf + p->off, p->len - p->off, MSG_NOSIGNAL);
                if (n > 0) {
                    p->off += n;
                    c->last = stream_now_usec();
                } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
                    p->off = p->len = 0;
                }
            }
            if (p->fd >= 0 && pf[2 + 2 * i].revents && !forward_output(c, p->fd, 2 * i)) {
                close(p->fd);
                p->fd = -1;
                p->off = p->len = 0;
                live--;
            }
        }
        if (!fwd_busy(w) && c->in_len && !conn_parse(c, fwd_message, fwd_busy, w))
            break;
        if (out_pending(c) && conn_flush(c) < 0)
            break;
    }
    for (size_t i = 0; i < w->n; i++) {
        if (w->v[i].fd >= 0)
            close(w->v[i].fd);
        free(w->v[i].buf);
    }
    if (!c->peer_closed)
        ws_queue_close(c, 1000);
    conn_drain(c, FLUSH_USEC);
}

/* ---- the handshake ---- */

static const char *pick_protocol(const char *offered, enum stream_kind kind)
{
    static const char *const exec_protos[] = {"v5.channel.k8s.io", "v4.channel.k8s.io"};
    static const char *const fwd_protos[] = {"v4.channel.k8s.io", "channel.k8s.io"};
    const char *const *v = kind == STREAM_PORT_FORWARD ? fwd_protos : exec_protos;
    for (size_t i = 0; i < 2; i++)
        if (http_list_has(offered, v[i]))
            return v[i];
    return NULL;
}

static void serve(struct conn *c)
{
    _cleanup_free_ char *head = NULL;
    int r = read_head(c, &head);
    if (r == -EMSGSIZE) {
        http_reply(c, "431 Request Header Fields Too Large", "the request head is too large");
        return;
    }
    if (r < 0)
        return;
    struct http_head h;
    if (http_parse_head(head, &h) < 0) {
        http_reply(c, "400 Bad Request", "malformed HTTP request");
        return;
    }
    static const char *const prefixes[] = {"/exec/", "/attach/", "/portforward/"};
    enum stream_kind kind = 0;
    const char *token = NULL;
    for (size_t i = 0; i < ARRAY_SIZE(prefixes); i++)
        if (strncmp(h.target, prefixes[i], strlen(prefixes[i])) == 0) {
            kind = i;
            token = h.target + strlen(prefixes[i]);
        }
    if (!token || (!streq(h.method, "GET") && !streq(h.method, "POST"))) {
        http_reply(c, "404 Not Found", "no such streaming endpoint");
        return;
    }
    char *query = strchr(token, '?');
    if (query)
        *query++ = '\0';
    struct stream_request req = {0};
    if (strlen(token) != STREAM_TOKEN_LEN ||
        stream_tokens_take(&c->s->tokens, token, stream_now_usec(), &req) < 0) {
        http_reply(c, "404 Not Found", "unknown or expired streaming token");
        return;
    }
    if (req.kind != kind) {
        http_reply(c, "404 Not Found", "the token is for another kind of stream");
        stream_request_clear(&req);
        return;
    }
    const char *upgrade = http_header(&h, "Upgrade");
    if (upgrade && strncasecmp(upgrade, "SPDY/", 5) == 0) {
        http_reply(c, "400 Bad Request",
                   "SPDY/3.1 streams are not supported by podrun yet; use WebSocket "
                   "(v4.channel.k8s.io or v5.channel.k8s.io)");
        stream_request_clear(&req);
        return;
    }
    const char *key = http_header(&h, "Sec-WebSocket-Key");
    const char *version = http_header(&h, "Sec-WebSocket-Version");
    if (!upgrade || !http_list_has(upgrade, "websocket") ||
        !http_list_has(http_header(&h, "Connection"), "upgrade") || !key || strlen(key) != 24 ||
        !version || !streq(version, "13")) {
        http_reply(c, "400 Bad Request",
                   "expected a WebSocket upgrade (Upgrade: websocket, Sec-WebSocket-Version: 13)");
        stream_request_clear(&req);
        return;
    }
    const char *proto = pick_protocol(http_header(&h, "Sec-WebSocket-Protocol"), kind);
    if (!proto) {
        http_reply(c, "400 Bad Request",
                   kind == STREAM_PORT_FORWARD
                       ? "unsupported subprotocol; this server speaks v4.channel.k8s.io"
                       : "unsupported subprotocol; this server speaks v5.channel.k8s.io and "
                         "v4.channel.k8s.io");
        stream_request_clear(&req);
        return;
    }
    struct fwd w = {0};
    if (kind == STREAM_PORT_FORWARD) {
        _cleanup_free_ char *why = NULL;
        if (parse_ports(query, &req, &w, &why) < 0) {
            _cleanup_free_ char *m = xasprintf("port-forward: %s", why);
            http_reply(c, "400 Bad Request", m);
            stream_request_clear(&req);
            return;
        }
    }
    char accept[29];
    ws_accept_key(key, accept);
    _cleanup_free_ char *resp =
        xasprintf("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                  "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n"
                  "Sec-WebSocket-Protocol: %s\r\n\r\n",
                  accept, proto);
    conn_queue(c, resp, strlen(resp));
    c->v5 = streq(proto, "v5.channel.k8s.io");
    if (kind == STREAM_PORT_FORWARD)
        serve_port_forward(c, &req, &w);
    else
        serve_process(c, &req);
    stream_request_clear(&req);
}

void *stream_conn_main(void *arg)
{
    struct stream_conn_arg *a = arg;
    struct conn c = {.s = a->s, .fd = a->fd, .last = stream_now_usec()};
    free(a);
    serve(&c);
    close(c.fd);
    free(c.in);
    free(c.out);
    ws_reader_clear(&c.rd);
    stream_server *s = c.s;
    pthread_mutex_lock(&s->lock);
    s->nconns--;
    pthread_cond_broadcast(&s->gone);
    pthread_mutex_unlock(&s->lock);
    return NULL;
}
