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

void conn_queue(struct conn *c, const void *data, size_t n)
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

/* ---- SPDY output ---- */

void spdy_queue_control(struct conn *c, uint16_t type, uint8_t flags, const void *data, size_t n)
{
    uint8_t h[8];
    spdy_control_header(h, type, flags, n);
    conn_queue(c, h, 8);
    if (n)
        conn_queue(c, data, n);
}

void spdy_queue_data(struct conn *c, uint32_t stream, uint8_t flags, const void *data, size_t n)
{
    uint8_t h[8];
    spdy_data_header(h, stream, flags, n);
    conn_queue(c, h, 8);
    if (n)
        conn_queue(c, data, n);
}

void spdy_queue_u32s(struct conn *c, uint16_t type, uint32_t a, uint32_t b)
{
    uint8_t d[8] = {a >> 24, a >> 16, a >> 8, a, b >> 24, b >> 16, b >> 8, b};
    spdy_queue_control(c, type, 0, d, 8);
}

void spdy_goaway(struct conn *c, uint32_t status)
{
    spdy_queue_u32s(c, SPDY_GOAWAY, c->last_stream, status);
}

/* SYN_REPLY with no headers, as the kubelet's server answers every stream. */
int spdy_reply(struct conn *c, uint32_t stream)
{
    _cleanup_free_ uint8_t *block = NULL, *z = NULL;
    size_t n = spdy_header_block(NULL, 0, &block), zn;
    if (spdy_deflate(&c->z, block, n, &z, &zn) < 0)
        return -EIO;
    _cleanup_free_ uint8_t *d = xmalloc(4 + zn);
    d[0] = stream >> 24;
    d[1] = stream >> 16;
    d[2] = stream >> 8;
    d[3] = stream;
    memcpy(d + 4, z, zn);
    spdy_queue_control(c, SPDY_SYN_REPLY, 0, d, 4 + zn);
    return 0;
}

/* ---- channels: what the pump sends, whatever the protocol ---- */

static void chan_send(struct conn *c, int ch, const void *data, size_t n)
{
    if (!c->spdy)
        ws_queue(c, WS_BINARY, ch, data, n);
    else if (ch <= CH_RESIZE && c->sid[ch])
        spdy_queue_data(c, c->sid[ch], 0, data, n);
}

/* The end: WebSocket's close frame; SPDY's FIN on the streams the server writes, then GOAWAY. */
static void chan_close(struct conn *c, uint16_t code)
{
    if (!c->spdy) {
        ws_queue_close(c, code);
        return;
    }
    for (int ch = CH_STDOUT; ch <= CH_ERROR; ch++)
        if (c->sid[ch])
            spdy_queue_data(c, c->sid[ch], SPDY_FLAG_FIN, NULL, 0);
    spdy_goaway(c, 0);
}

size_t out_pending(const struct conn *c)
{
    return c->out_len - c->out_off;
}

/* Sends what the socket takes now. -1: the client is gone. */
int conn_flush(struct conn *c)
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
ssize_t conn_read(struct conn *c)
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

int poll_timeout(const struct conn *c, uint64_t limit)
{
    uint64_t now = stream_now_usec(), end = c->last + limit;
    if (now >= end)
        return 0;
    uint64_t ms = (end - now + 999) / 1000;
    return ms > 60000 ? 60000 : (int)ms;
}

/* Sends everything queued (or gives up after limit without progress, or when stopped). */
void conn_drain(struct conn *c, uint64_t limit)
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

void http_reply(struct conn *c, const char *status, const char *msg)
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

/* ---- SPDY/3.1 input ---- */

bool spdy_fail(struct conn *c, uint32_t status)
{
    spdy_goaway(c, status);
    c->failed = true;
    return false;
}

/* A new stream: its streamtype names its channel. */
static bool spdy_syn_stream(struct conn *c, const struct spdy_frame *f)
{
    _cleanup_free_ uint8_t *block = NULL;
    _cleanup_free_ char *type = NULL;
    size_t n;
    if (spdy_inflate(&c->z, f->data + 10, f->len - 10, SPDY_HEADERS_MAX, &block, &n) < 0 ||
        spdy_header_get(block, n, "streamtype", &type) < 0)
        return spdy_fail(c, 1);
    if (f->stream <= c->last_stream || f->stream % 2 == 0)
        return spdy_fail(c, 1); /* a client's ids are odd and grow */
    c->last_stream = f->stream;
    if (++c->nstreams > SPDY_STREAMS_MAX)
        return spdy_fail(c, 1);
    static const char *const names[] = {"stdin", "stdout", "stderr", "error", "resize"};
    int ch = -1;
    for (int i = 0; i <= CH_RESIZE; i++)
        if (type && streq(type, names[i]))
            ch = i;
    if (ch < 0 || c->sid[ch] || !c->spdy_setup) {
        /* unknown, twice the same, or after the command started: REFUSED_STREAM */
        spdy_queue_u32s(c, SPDY_RST_STREAM, f->stream, 3);
        return true;
    }
    c->sid[ch] = f->stream;
    return spdy_reply(c, f->stream) == 0 || spdy_fail(c, 2);
}

void spdy_window_update(struct conn *c, uint32_t stream, uint32_t n)
{
    if (!n)
        return;
    spdy_queue_u32s(c, SPDY_WINDOW_UPDATE, stream, n);
    spdy_queue_u32s(c, SPDY_WINDOW_UPDATE, 0, n);
}

/* Resize events are JSON objects one after another on their stream. */
static bool spdy_resize(struct conn *c, const struct spdy_frame *f, on_message_fn on_msg,
                        void *data)
{
    if (c->resize_len + f->len > 4096) {
        c->resize_len = 0; /* not resize events: dropped */
        return true;
    }
    c->resize_buf = xrealloc(c->resize_buf, c->resize_len + f->len + 1);
    memcpy(c->resize_buf + 1 + c->resize_len, f->data, f->len);
    c->resize_len += f->len;
    bool go = true;
    char *end;
    while (go && (end = memchr(c->resize_buf + 1, '}', c->resize_len))) {
        size_t n = end - (c->resize_buf + 1) + 1;
        c->resize_buf[0] = CH_RESIZE;
        uint8_t *msg = xmalloc(n + 1);
        memcpy(msg, c->resize_buf, n + 1);
        go = on_msg(c, data, msg, n + 1);
        free(msg);
        memmove(c->resize_buf + 1, c->resize_buf + 1 + n, c->resize_len - n);
        c->resize_len -= n;
    }
    return go;
}

static bool spdy_data(struct conn *c, const struct spdy_frame *f, on_message_fn on_msg, void *data)
{
    bool go = true;
    if (f->stream == c->sid[CH_STDIN] && c->sid[CH_STDIN]) {
        if (f->len) {
            uint8_t *msg = xmalloc(f->len + 1);
            msg[0] = CH_STDIN;
            memcpy(msg + 1, f->data, f->len);
            go = on_msg(c, data, msg, f->len + 1);
            free(msg);
        }
        if (go && f->flags & SPDY_FLAG_FIN)
            go = on_msg(c, data, (uint8_t[]){CH_CLOSE, CH_STDIN}, 2);
    } else if (f->stream == c->sid[CH_RESIZE] && c->sid[CH_RESIZE]) {
        go = spdy_resize(c, f, on_msg, data);
    }
    spdy_window_update(c, f->stream, f->len);
    return go;
}

/* conn_parse's SPDY twin. While the streams are being set up (spdy_setup), it stops at the
 * first data frame, leaving it for the pump. */
static bool spdy_conn_parse(struct conn *c, on_message_fn on_msg, bool (*busy)(void *), void *data)
{
    size_t off = 0;
    bool go = true;
    while (go && (!busy || !busy(data))) {
        struct spdy_frame f;
        int r = spdy_parse(c->in + off, c->in_len - off, STREAM_FRAME_MAX, &f);
        if (r == 0)
            break;
        if (r < 0) {
            go = spdy_fail(c, 1);
            break;
        }
        if (!f.control && c->spdy_setup)
            break;
        off += f.size;
        if (!f.control) {
            go = spdy_data(c, &f, on_msg, data);
            continue;
        }
        switch (f.type) {
        case SPDY_SYN_STREAM:
            go = spdy_syn_stream(c, &f);
            break;
        case SPDY_SYN_REPLY:
        case SPDY_HEADERS: {
            /* Nothing to read in them, but the zlib context goes through every block. */
            _cleanup_free_ uint8_t *block = NULL;
            size_t n;
            if (spdy_inflate(&c->z, f.data + 4, f.len - 4, SPDY_HEADERS_MAX, &block, &n) < 0)
                go = spdy_fail(c, 1);
            break;
        }
        case SPDY_PING:
            spdy_queue_control(c, SPDY_PING, 0, f.data, f.len);
            break;
        case SPDY_GOAWAY:
            c->peer_closed = true;
            go = false;
            break;
        default: /* RST_STREAM, SETTINGS, WINDOW_UPDATE: nothing to do */
            break;
        }
    }
    memmove(c->in, c->in + off, c->in_len - off);
    c->in_len -= off;
    return go;
}

static bool c_parse(struct conn *c, on_message_fn on_msg, bool (*busy)(void *), void *data)
{
    return c->spdy ? spdy_conn_parse(c, on_msg, busy, data) : conn_parse(c, on_msg, busy, data);
}

/* ---- exec and attach ---- */

struct pump {
    struct stream_proc *p;
    uint8_t *stdin_buf; /* a message for the process's stdin not yet written whole */
    size_t stdin_len, stdin_off;
    int in_fd; /* where stdin goes: p->in, or the pty */
    bool out_done, err_done, in_closed;
    bool close_after; /* stdin ends once what is pending is written */
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
    if (u->p->pty < 0 && !u->p->resize)
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
        if (u->p->resize)
            u->p->resize(u->p, (unsigned)h, (unsigned)w);
        else
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
        if (len == 2 && msg[1] == CH_STDIN) {
            if (pump_busy(u))
                u->close_after = true;
            else
                close_stdin(u);
        }
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
    /* as apierrors.NewInternalError, which the kubelet writes when a command cannot start */
    _cleanup_free_ char *m = xasprintf("Internal error occurred: %s", msg);
    jg_key_str(g, "status", "Failure");
    jg_key_str(g, "message", m);
    jg_key_str(g, "reason", "InternalError");
    jg_key(g, "details");
    jg_map_open(g);
    jg_key(g, "causes");
    jg_array_open(g);
    jg_map_open(g);
    jg_key_str(g, "message", msg);
    jg_map_close(g);
    jg_array_close(g);
    jg_map_close(g);
    jg_key_int(g, "code", 500);
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
    chan_send(c, ch, buf, n);
    c->last = stream_now_usec();
    return true;
}

void set_nonblock(int fd)
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
        chan_send(c, CH_ERROR, j, strlen(j));
        chan_close(c, 1000);
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
        go = c_parse(c, exec_message, pump_busy, &u);
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
            go = c_parse(c, exec_message, pump_busy, &u);
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
                if (!pump_busy(&u) && u.close_after)
                    close_stdin(&u);
                /* the next messages may be waiting in the buffer already */
                if (!pump_busy(&u))
                    go = c_parse(c, exec_message, pump_busy, &u);
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
        chan_send(c, CH_ERROR, j, strlen(j));
        chan_close(c, 1000);
        conn_drain(c, FLUSH_USEC);
    } else {
        p.cancel(&p);
        if (go && !c->peer_closed) {
            chan_close(c, 1001);
            conn_flush(c);
        }
    }
    for (int *fd = &p.in; fd <= &p.pty; fd++)
        if (*fd >= 0)
            close(*fd);
    p.release(&p);
}

/* ---- exec and attach over SPDY/3.1 ---- */

static bool setup_message(struct conn *c, void *data, uint8_t *msg, size_t len)
{
    return true; /* data frames wait for the pump (spdy_setup) */
}

/* The client opens a stream per channel (streamtype header) and waits for each reply; the
 * command starts once all the request's channels are there. */
static void serve_spdy(struct conn *c, const struct stream_request *req)
{
    bool want[CH_RESIZE + 1] = {[CH_STDIN] = req->in,
                                [CH_STDOUT] = req->out,
                                [CH_STDERR] = req->err && !req->tty,
                                [CH_ERROR] = true,
                                [CH_RESIZE] = req->tty};
    if (spdy_zlib_init(&c->z) < 0)
        return;
    c->spdy_setup = true;
    c->last = stream_now_usec();
    bool go = true;
    for (;;) {
        bool ready = true;
        for (int ch = 0; ch <= CH_RESIZE; ch++)
            ready &= !want[ch] || c->sid[ch];
        if (ready || !go)
            break;
        struct pollfd p[2] = {{c->fd, (short)(POLLIN | (out_pending(c) ? POLLOUT : 0)), 0},
                              {c->s->stop_fd, POLLIN, 0}};
        int t = poll_timeout(c, STREAM_HANDSHAKE_USEC);
        if (!t || (poll(p, 2, t) < 0 && errno != EINTR) || p[1].revents) {
            go = false;
            break;
        }
        if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t n = conn_read(c);
            if (n == 0 || (n < 0 && n != -EAGAIN)) {
                go = false;
                break;
            }
            go = spdy_conn_parse(c, setup_message, NULL, NULL);
        }
        if (out_pending(c) && conn_flush(c) < 0)
            go = false;
    }
    c->spdy_setup = false;
    if (go)
        serve_process(c, req);
    else if (!c->peer_closed)
        conn_drain(c, FLUSH_USEC); /* the GOAWAY of a protocol error */
    spdy_zlib_end(&c->z);
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

static void serve_spdy_upgrade(struct conn *c, const struct http_head *h,
                               const struct stream_request *req)
{
    if (strcasecmp(http_header(h, "Upgrade"), "SPDY/3.1") != 0 ||
        !http_headers_have(h, "Connection", "upgrade")) {
        http_reply(c, "400 Bad Request", "expected Upgrade: SPDY/3.1 and Connection: Upgrade");
        return;
    }
    if (req->kind == STREAM_PORT_FORWARD) {
        if (!http_headers_have(h, "X-Stream-Protocol-Version", "portforward.k8s.io")) {
            http_reply(c, "403 Forbidden",
                       "unable to negotiate protocol: over SPDY this server's port-forward "
                       "speaks portforward.k8s.io");
            return;
        }
        static const char fwd[] = "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n"
                                  "Upgrade: SPDY/3.1\r\n"
                                  "X-Stream-Protocol-Version: portforward.k8s.io\r\n\r\n";
        conn_queue(c, fwd, sizeof(fwd) - 1);
        c->spdy = true;
        serve_spdy_port_forward(c, req);
        return;
    }
    if (!http_headers_have(h, "X-Stream-Protocol-Version", "v4.channel.k8s.io")) {
        http_reply(c, "403 Forbidden",
                   "unable to negotiate protocol: over SPDY this server speaks "
                   "v4.channel.k8s.io");
        return;
    }
    static const char resp[] = "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n"
                               "Upgrade: SPDY/3.1\r\n"
                               "X-Stream-Protocol-Version: v4.channel.k8s.io\r\n\r\n";
    conn_queue(c, resp, sizeof(resp) - 1);
    c->spdy = true;
    c->v5 = true; /* a FIN on stdin is delivered as v5's close */
    serve_spdy(c, req);
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
        serve_spdy_upgrade(c, &h, &req);
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

/* After a protocol error, what the client still sends is read and dropped for a moment (at
 * most 1 s and 1 MiB) before the close: closing with unread bytes would send a reset, which
 * can destroy the error frame on its way to the client. */
static void linger_close(struct conn *c)
{
    conn_drain(c, FLUSH_USEC);
    shutdown(c->fd, SHUT_WR);
    uint64_t end = stream_now_usec() + 1000000;
    size_t dropped = 0;
    uint8_t buf[16384];
    while (dropped < (1u << 20)) {
        uint64_t now = stream_now_usec();
        if (now >= end)
            break;
        struct pollfd p = {c->fd, POLLIN, 0};
        if (poll(&p, 1, (int)((end - now) / 1000) + 1) <= 0)
            break;
        ssize_t n = recv(c->fd, buf, sizeof(buf), 0);
        if (n <= 0 && !(n < 0 && (errno == EAGAIN || errno == EINTR)))
            break;
        if (n > 0)
            dropped += n;
    }
}

void *stream_conn_main(void *arg)
{
    struct stream_conn_arg *a = arg;
    struct conn c = {.s = a->s, .fd = a->fd, .last = stream_now_usec()};
    free(a);
    serve(&c);
    if (c.failed)
        linger_close(&c);
    close(c.fd);
    free(c.in);
    free(c.out);
    ws_reader_clear(&c.rd);
    free(c.resize_buf);
    stream_server *s = c.s;
    pthread_mutex_lock(&s->lock);
    s->nconns--;
    pthread_cond_broadcast(&s->gone);
    pthread_mutex_unlock(&s->lock);
    return NULL;
}
