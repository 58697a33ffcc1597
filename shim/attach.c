/* SPDX-License-Identifier: Apache-2.0 */
/* A container's own stdio (podrun-shim(8), ATTACH): the write end of its stdin pipe or its
 * terminal's master, kept by the shim for the container's life, and one socket per container,
 * POD_DIR/attach/NAME.sock, where any number of clients (up to ATTACH_CLIENTS_MAX) attach with
 * the framing of common/attach.h.
 *
 * No client may stall the container or the shim for long. Output is logged first, then copied
 * into each client's queue; while a client's queue is over CLIENT_QUEUE_MAX the container's
 * output is not read (it waits on its pipe, as under a kubelet, so a slow reader loses
 * nothing), and a client that took nothing of its queue for STALL_USEC is dropped and the
 * output goes on. Input from every client goes into one bounded stdin queue; while the
 * container does not read its stdin the clients are not read either. */
#include "shim.h"
#include "attach.h"
#include "log.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>

/* Clients per container: a person, a CRI Attach or two, with room to spare. */
#define ATTACH_CLIENTS_MAX 16
/* Output queued for one client: over this the container's output waits for it. */
#define CLIENT_QUEUE_MAX ((size_t)1 << 20)
/* A client over its queue that reads nothing for this long is dropped. */
#define STALL_USEC (2 * USEC_PER_SEC)
/* Input queued for the container's stdin: over this the clients are not read. */
#define STDIN_QUEUE_MAX ((size_t)256 << 10)
#define CLIENT_IN_MAX   (ATTACH_HEADER_SIZE + ATTACH_FRAME_MAX)

struct attach_client {
    struct attach_point *ap;
    int fd;
    sd_event_source *src;
    uint8_t in[CLIENT_IN_MAX];
    size_t n_in;
    uint8_t *out;
    size_t n_out;
    bool sent_stdin; /* a session with stdin: its end counts for stdinOnce */
    bool stdin_done;
    bool closing;    /* closed once its queue is written */
    bool progressed; /* wrote something since the stall timer was armed */
    struct attach_client *next;
};

struct attach_point {
    struct container *c;
    int listen_fd;
    sd_event_source *listen_src;
    struct attach_client *clients;
    size_t n_clients;
    uint8_t *stdin_q;
    size_t n_stdin_q;
    sd_event_source *stdin_src; /* the container's stdin turned writable */
    bool stdin_close_pending;   /* stdinOnce: closed once the queue is written */
    bool stdin_closed;
    sd_event_source *stall_timer;
    bool blocked; /* the container's output waits for a client */
};

static void attach_recheck(struct attach_point *ap);

static void client_free(struct attach_client *cl)
{
    struct attach_point *ap = cl->ap;
    for (struct attach_client **pp = &ap->clients; *pp; pp = &(*pp)->next)
        if (*pp == cl) {
            *pp = cl->next;
            break;
        }
    ap->n_clients--;
    sd_event_source_disable_unref(cl->src);
    close(cl->fd);
    free(cl->out);
    free(cl);
    attach_recheck(ap);
}

static bool stdin_full(struct attach_point *ap)
{
    return ap->n_stdin_q >= STDIN_QUEUE_MAX;
}

static void client_update(struct attach_client *cl)
{
    uint32_t ev = 0;
    if (!cl->closing && !stdin_full(cl->ap))
        ev |= EPOLLIN;
    if (cl->n_out)
        ev |= EPOLLOUT;
    sd_event_source_set_io_events(cl->src, ev);
    sd_event_source_set_enabled(cl->src, ev ? SD_EVENT_ON : SD_EVENT_OFF);
}

/* Writes what it can; false when the client is gone (freed). */
static bool client_flush(struct attach_client *cl)
{
    while (cl->n_out) {
        ssize_t n = send(cl->fd, cl->out, cl->n_out, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            break;
        if (n <= 0) {
            client_free(cl);
            return false;
        }
        memmove(cl->out, cl->out + n, cl->n_out - (size_t)n);
        cl->n_out -= (size_t)n;
        cl->progressed = true;
    }
    if (cl->closing && !cl->n_out) {
        client_free(cl);
        return false;
    }
    client_update(cl);
    if (cl->ap->blocked && cl->n_out < CLIENT_QUEUE_MAX)
        attach_recheck(cl->ap);
    return true;
}

static int on_stall_timer(sd_event_source *src, uint64_t usec, void *data)
{
    struct attach_point *ap = data;
    struct container *c = ap->c;
    for (struct attach_client *cl = ap->clients, *next; cl; cl = next) {
        next = cl->next;
        if (cl->n_out >= CLIENT_QUEUE_MAX && !cl->progressed) {
            shim_event(c->shim, c, "attach-dropped",
                       "a client read nothing of its %zu queued bytes in %llu ms", cl->n_out,
                       (unsigned long long)(STALL_USEC / USEC_PER_MSEC));
            client_free(cl);
        }
    }
    for (struct attach_client *cl = ap->clients; cl; cl = cl->next)
        cl->progressed = false;
    /* Recomputed: the timer runs again while a client (one that read) still holds too much. */
    ap->blocked = false;
    attach_recheck(ap);
    return 0;
}

/* Whether a client holds a full queue: the container's output waits while one does, and the
 * stall timer runs. */
static void attach_recheck(struct attach_point *ap)
{
    bool blocked = false;
    for (struct attach_client *cl = ap->clients; cl; cl = cl->next)
        blocked |= cl->n_out >= CLIENT_QUEUE_MAX;
    if (blocked == ap->blocked)
        return;
    ap->blocked = blocked;
    if (blocked) {
        for (struct attach_client *cl = ap->clients; cl; cl = cl->next)
            cl->progressed = false;
        if (!ap->stall_timer)
            sd_event_add_time_relative(ap->c->shim->event, &ap->stall_timer, CLOCK_MONOTONIC,
                                       STALL_USEC, 0, on_stall_timer, ap);
        else {
            sd_event_source_set_time_relative(ap->stall_timer, STALL_USEC);
            sd_event_source_set_enabled(ap->stall_timer, SD_EVENT_ONESHOT);
        }
    } else if (ap->stall_timer) {
        sd_event_source_set_enabled(ap->stall_timer, SD_EVENT_OFF);
    }
    container_output_update(ap->c);
}

bool attach_blocked(struct container *c)
{
    return c->attach && c->attach->blocked;
}

/* Queues a frame (the queue may pass CLIENT_QUEUE_MAX by what one read of the container's
 * output brings: then the output waits). */
static bool client_queue(struct attach_client *cl, enum attach_channel ch, const void *data,
                         size_t len)
{
    cl->out = xrealloc(cl->out, cl->n_out + ATTACH_HEADER_SIZE + len);
    attach_header(cl->out + cl->n_out, ch, (uint32_t)len);
    if (len)
        memcpy(cl->out + cl->n_out + ATTACH_HEADER_SIZE, data, len);
    cl->n_out += ATTACH_HEADER_SIZE + len;
    if (cl->n_out >= CLIENT_QUEUE_MAX && !cl->ap->blocked)
        attach_recheck(cl->ap);
    return true;
}

static void client_end(struct attach_client *cl, enum attach_channel ch, const void *data,
                       size_t len)
{
    if (cl->closing || !client_queue(cl, ch, data, len))
        return;
    cl->closing = true;
    client_flush(cl);
}

static void client_error(struct attach_client *cl, const char *msg)
{
    client_end(cl, ATTACH_ERROR, msg, strlen(msg));
}

/* ---- the container's stdin ---- */

static void clients_update_all(struct attach_point *ap)
{
    for (struct attach_client *cl = ap->clients; cl; cl = cl->next)
        client_update(cl);
}

static void stdin_close_now(struct attach_point *ap)
{
    struct container *c = ap->c;
    ap->stdin_src = sd_event_source_disable_unref(ap->stdin_src);
    if (c->in_fd >= 0)
        close(c->in_fd);
    c->in_fd = -1;
    ap->stdin_closed = true;
    ap->stdin_close_pending = false;
    ap->n_stdin_q = 0;
}

static int on_stdin_writable(sd_event_source *src, int fd, uint32_t revents, void *data);

static void stdin_flush(struct attach_point *ap)
{
    struct container *c = ap->c;
    bool was_full = stdin_full(ap);
    while (ap->n_stdin_q && c->in_fd >= 0) {
        ssize_t n = write(c->in_fd, ap->stdin_q, ap->n_stdin_q);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            break;
        if (n < 0) { /* the container closed its stdin: what is left has no reader */
            ap->n_stdin_q = 0;
            break;
        }
        memmove(ap->stdin_q, ap->stdin_q + n, ap->n_stdin_q - (size_t)n);
        ap->n_stdin_q -= (size_t)n;
    }
    if (ap->n_stdin_q && c->in_fd >= 0) {
        if (!ap->stdin_src && sd_event_add_io(c->shim->event, &ap->stdin_src, c->in_fd, EPOLLOUT,
                                              on_stdin_writable, ap) < 0)
            ap->n_stdin_q = 0;
    } else {
        ap->stdin_src = sd_event_source_disable_unref(ap->stdin_src);
        if (ap->stdin_close_pending)
            stdin_close_now(ap);
    }
    if (was_full != stdin_full(ap))
        clients_update_all(ap);
}

static int on_stdin_writable(sd_event_source *src, int fd, uint32_t revents, void *data)
{
    stdin_flush(data);
    return 0;
}

static void stdin_write(struct attach_point *ap, const uint8_t *data, size_t len)
{
    if (ap->stdin_closed || ap->stdin_close_pending || ap->c->in_fd < 0)
        return; /* closed (stdinOnce): input goes nowhere, as the kubelet's */
    ap->stdin_q = xrealloc(ap->stdin_q, ap->n_stdin_q + len);
    memcpy(ap->stdin_q + ap->n_stdin_q, data, len);
    ap->n_stdin_q += len;
    stdin_flush(ap);
}

/* stdinOnce: the first session with stdin has ended. A pipe is closed once what was sent is
 * written (the container reads EOF); a terminal cannot be half-closed, so it is sent the EOF
 * character (^D) and takes no more input. */
static void stdin_session_ended(struct attach_point *ap)
{
    struct container *c = ap->c;
    if (!c->spec->stdin_once || ap->stdin_closed || ap->stdin_close_pending)
        return;
    if (c->spec->tty) {
        static const uint8_t eot = 4;
        stdin_write(ap, &eot, 1);
    }
    shim_event(c->shim, c, "stdin-closed", "stdinOnce: the first attach session ended");
    ap->stdin_close_pending = true;
    stdin_flush(ap);
}

/* ---- clients ---- */

/* false when the client is gone. */
static bool client_frame(struct attach_client *cl, const struct attach_frame *f)
{
    struct attach_point *ap = cl->ap;
    struct container *c = ap->c;
    switch (f->channel) {
    case ATTACH_STDIN:
        if (!c->spec->stdin_) {
            client_error(cl, "the container was not created with stdin (spec.containers[].stdin)");
            return false;
        }
        if (cl->stdin_done)
            return true;
        cl->sent_stdin = true;
        if (f->len == 0) {
            cl->stdin_done = true;
            stdin_session_ended(ap);
        } else {
            stdin_write(ap, f->data, f->len);
        }
        return true;
    case ATTACH_RESIZE: {
        unsigned rows, cols;
        if (attach_resize_decode(f, &rows, &cols) < 0) {
            client_error(cl, "a resize frame is 4 bytes");
            return false;
        }
        struct winsize ws = {.ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols};
        if (c->tty_fd >= 0)
            ioctl(c->tty_fd, TIOCSWINSZ, &ws);
        return true;
    }
    default:
        client_error(cl, "a client sends only stdin and resize frames");
        return false;
    }
}

static void client_gone(struct attach_client *cl)
{
    struct attach_point *ap = cl->ap;
    bool ended = cl->sent_stdin && !cl->stdin_done;
    client_free(cl);
    if (ended)
        stdin_session_ended(ap);
}

static int on_client_io(sd_event_source *src, int fd, uint32_t revents, void *data)
{
    struct attach_client *cl = data;
    if ((revents & EPOLLOUT) && !client_flush(cl))
        return 0;
    if (!(revents & (EPOLLIN | EPOLLHUP | EPOLLERR)))
        return 0;
    if (cl->closing || stdin_full(cl->ap)) {
        /* Not read now; a peer gone meanwhile would be reported again and again. */
        if (revents & (EPOLLHUP | EPOLLERR))
            client_gone(cl);
        return 0;
    }
    ssize_t n = recv(fd, cl->in + cl->n_in, sizeof(cl->in) - cl->n_in, MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return 0;
    if (n <= 0) {
        client_gone(cl);
        return 0;
    }
    cl->n_in += (size_t)n;
    size_t off = 0;
    for (;;) {
        struct attach_frame f;
        int r = attach_parse(cl->in + off, cl->n_in - off, &f);
        if (r < 0) {
            client_error(cl, "malformed frame");
            return 0;
        }
        if (r == 0)
            break;
        if (!client_frame(cl, &f))
            return 0;
        off += (size_t)r;
        if (cl->closing)
            return 0;
    }
    memmove(cl->in, cl->in + off, cl->n_in - off);
    cl->n_in -= off;
    return 0;
}

static int on_accept(sd_event_source *src, int fd, uint32_t revents, void *data)
{
    struct attach_point *ap = data;
    struct container *c = ap->c;
    int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (cfd < 0)
        return 0;
    if (ap->n_clients >= ATTACH_CLIENTS_MAX) {
        close(cfd);
        shim_event(c->shim, c, "attach-refused", "%d clients already", ATTACH_CLIENTS_MAX);
        return 0;
    }
    struct attach_client *cl = xcalloc(1, sizeof(*cl));
    cl->ap = ap;
    cl->fd = cfd;
    if (sd_event_add_io(c->shim->event, &cl->src, cfd, EPOLLIN, on_client_io, cl) < 0) {
        close(cfd);
        free(cl);
        return 0;
    }
    cl->next = ap->clients;
    ap->clients = cl;
    ap->n_clients++;
    uint8_t flags = (c->spec->stdin_ ? ATTACH_F_STDIN : 0) |
                    (c->spec->stdin_once ? ATTACH_F_STDIN_ONCE : 0) |
                    (c->spec->tty ? ATTACH_F_TTY : 0);
    if (!client_queue(cl, ATTACH_HELLO, &flags, 1))
        return 0;
    if (c->state != CTR_RUNNING || c->stopping) {
        _cleanup_free_ char *msg = xasprintf("container %s is not running", c->spec->name);
        client_error(cl, msg);
        return 0;
    }
    client_flush(cl);
    return 0;
}

/* ---- the container's side ---- */

void attach_open(struct container *c)
{
    _cleanup_error_ pr_error *err = NULL;
    _cleanup_free_ char *dir = xasprintf("%s/attach", c->shim->pod_dir);
    if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
        pr_warning("attach: mkdir `%s`: %s", dir, pr_strerror(errno));
        return;
    }
    int fd = attach_listen(dir, c->spec->name, &err);
    if (fd < 0) {
        pr_warning("%s", err->msg);
        return;
    }
    struct attach_point *ap = xcalloc(1, sizeof(*ap));
    ap->c = c;
    ap->listen_fd = fd;
    if (sd_event_add_io(c->shim->event, &ap->listen_src, fd, EPOLLIN, on_accept, ap) < 0) {
        close(fd);
        free(ap);
        return;
    }
    c->attach = ap;
}

void attach_output(struct container *c, enum attach_channel ch, const char *data, size_t len)
{
    struct attach_point *ap = c->attach;
    if (!ap)
        return;
    for (struct attach_client *cl = ap->clients, *next; cl; cl = next) {
        next = cl->next;
        if (cl->closing)
            continue;
        bool ok = true;
        for (size_t off = 0; ok && off < len; off += ATTACH_FRAME_MAX) {
            size_t n = len - off < ATTACH_FRAME_MAX ? len - off : ATTACH_FRAME_MAX;
            ok = client_queue(cl, ch, data + off, n);
        }
        if (ok)
            client_flush(cl);
    }
}

void attach_exited(struct container *c, int code)
{
    struct attach_point *ap = c->attach;
    if (ap) {
        uint8_t buf[4];
        attach_exit_encode(buf, code);
        for (struct attach_client *cl = ap->clients, *next; cl; cl = next) {
            next = cl->next;
            client_end(cl, ATTACH_EXIT, buf, sizeof(buf));
        }
        stdin_close_now(ap);
    } else if (c->in_fd >= 0) {
        close(c->in_fd);
        c->in_fd = -1;
    }
}

void attach_free(struct container *c)
{
    struct attach_point *ap = c->attach;
    if (c->in_fd >= 0)
        close(c->in_fd);
    c->in_fd = -1;
    if (!ap)
        return;
    while (ap->clients)
        client_free(ap->clients);
    ap->stall_timer = sd_event_source_disable_unref(ap->stall_timer);
    ap->stdin_src = sd_event_source_disable_unref(ap->stdin_src);
    sd_event_source_disable_unref(ap->listen_src);
    close(ap->listen_fd);
    free(ap->stdin_q);
    free(ap);
    c->attach = NULL;
}

/* Before create: the read end of a new stdin pipe for the container (its write end kept), or
 * -1 when it has none or has a terminal. */
int attach_stdin_pipe(struct container *c, pr_error **err)
{
    if (!c->spec->stdin_ || c->spec->tty)
        return -1;
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        return pr_err(err, errno, "pipe for the stdin of %s", c->spec->name);
    fcntl(p[1], F_SETFL, O_NONBLOCK);
    if (c->in_fd >= 0)
        close(c->in_fd);
    c->in_fd = p[1];
    if (c->attach) {
        c->attach->stdin_closed = c->attach->stdin_close_pending = false;
        c->attach->n_stdin_q = 0;
    }
    return p[0];
}

/* ---- the terminal: the runc CLI's --console-socket ---- */

char *attach_console_path(struct container *c)
{
    return xasprintf("%s/tty.sock", c->shim->pod_dir);
}

int attach_console_listen(struct container *c, pr_error **err)
{
    _cleanup_free_ char *path = attach_console_path(c);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof(sa.sun_path))
        return pr_err(err, 0, "console socket path `%s` is too long", path);
    strcpy(sa.sun_path, path);
    unlink(path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return pr_err(err, errno, "socket");
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || chmod(path, 0600) < 0 ||
        listen(fd, 1) < 0) {
        int e = errno;
        close(fd);
        unlink(path);
        return pr_err(err, e, "listen on `%s`", path);
    }
    return fd;
}

/* After create: the pty master the runtime sent (it connected during create, so the
 * connection and its message are queued). */
int attach_console_receive(struct container *c, int listen_fd, pr_error **err)
{
    _cleanup_free_ char *path = attach_console_path(c);
    unlink(path);
    _cleanup_close_ int conn = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (conn < 0)
        return pr_err(err, errno, "the runtime sent no terminal to `%s`", path);
    char name[256];
    struct iovec iov = {.iov_base = name, .iov_len = sizeof(name)};
    union {
        struct cmsghdr h;
        char buf[CMSG_SPACE(sizeof(int))];
    } u;
    struct msghdr mh = {
        .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof(u.buf)};
    ssize_t n = recvmsg(conn, &mh, MSG_CMSG_CLOEXEC);
    struct cmsghdr *cm = n < 0 ? NULL : CMSG_FIRSTHDR(&mh);
    if (!cm || cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS ||
        cm->cmsg_len != CMSG_LEN(sizeof(int)))
        return pr_err(err, n < 0 ? errno : 0, "the runtime sent no terminal to `%s`", path);
    int master;
    memcpy(&master, CMSG_DATA(cm), sizeof(int));
    struct stat st;
    if (fstat(master, &st) < 0 || !S_ISCHR(st.st_mode)) {
        close(master);
        return pr_err(err, 0, "what the runtime sent to `%s` is not a terminal", path);
    }
    fcntl(master, F_SETFL, O_NONBLOCK);
    c->tty_fd = master;
    if (c->spec->stdin_) {
        if (c->in_fd >= 0)
            close(c->in_fd);
        /* A second descriptor: the event loop watches one for output and this for input. */
        c->in_fd = fcntl(master, F_DUPFD_CLOEXEC, 3);
        if (c->attach) {
            c->attach->stdin_closed = c->attach->stdin_close_pending = false;
            c->attach->n_stdin_q = 0;
        }
    }
    return 0;
}
