/* SPDX-License-Identifier: Apache-2.0 */
/* Attach's backend: the streaming server's fds relayed to the container's attach socket in its
 * shim (common/attach.h) by a thread of the attachment's own. The server reads the container's
 * output from pipes and writes the client's input to one; a terminal's size goes through a
 * pipe of 4-byte records to the thread, which alone writes the socket. Detaching (cancel)
 * closes the session; the container goes on. Every buffer holds one frame at most. */
#include "agent/pods/pods.h"
#include "agent/stream/stream.h"
#include "attach.h"
#include "methods.h"
#include "util.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>

/* How long the shim has to say hello. */
#define HELLO_WAIT_MS 10000

struct relay {
    char *name;
    int sock;
    /* The relay's ends: in (read), out and err (write), ctl (read; ctl_w the server's). */
    int in, out, err, ctl, ctl_w;
    bool has_stdin, has_tty, in_eof;
    bool send_failed; /* the shim no longer reads: what is left to send is dropped */
    pthread_t thread;
    bool running;
    uint8_t to[ATTACH_HEADER_SIZE + ATTACH_FRAME_MAX]; /* to the shim, not yet sent */
    size_t n_to;
    uint8_t from[ATTACH_HEADER_SIZE + ATTACH_FRAME_MAX]; /* from the shim, a frame at most */
    size_t n_from;
    size_t written; /* of the first frame's data, to out or err */
    int pending;    /* the fd that frame waits for, or -1 */
    /* the end: the container's exit code, or why there is none */
    bool exited;
    int32_t code;
    char *error;
};

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

static void relay_fail(struct relay *x, char *msg)
{
    if (!x->error && !x->exited)
        x->error = msg;
    else
        free(msg);
}

static void queue(struct relay *x, enum attach_channel ch, const void *data, size_t len)
{
    attach_header(x->to + x->n_to, ch, (uint32_t)len);
    if (len)
        memcpy(x->to + x->n_to + ATTACH_HEADER_SIZE, data, len);
    x->n_to += ATTACH_HEADER_SIZE + len;
}

/* One frame's data to fd: true when it is all written (or dropped: the reader is gone). */
static bool deliver(struct relay *x, int fd, const struct attach_frame *f)
{
    if (fd < 0)
        return true;
    while (x->written < f->len) {
        ssize_t n = write(fd, f->data + x->written, f->len - x->written);
        if (n > 0)
            x->written += (size_t)n;
        else if (n < 0 && (errno == EAGAIN || errno == EINTR))
            return false;
        else
            return true;
    }
    return true;
}

/* The frames in from[]: true when the session is over. */
static bool relay_frames(struct relay *x)
{
    size_t off = 0;
    bool done = false;
    x->pending = -1;
    while (!done) {
        struct attach_frame f;
        int r = attach_parse(x->from + off, x->n_from - off, &f);
        if (r < 0) {
            relay_fail(x, xasprintf("attach to %s: a malformed frame from the shim", x->name));
            done = true;
            break;
        }
        if (r == 0)
            break;
        if (f.channel == ATTACH_STDOUT || f.channel == ATTACH_STDERR) {
            int fd = f.channel == ATTACH_STDOUT ? x->out : x->err;
            if (!deliver(x, fd, &f)) {
                x->pending = fd;
                break;
            }
            x->written = 0;
        } else if (f.channel == ATTACH_EXIT) {
            if (attach_exit_decode(&f, &x->code) < 0)
                relay_fail(x, xasprintf("attach to %s: a malformed exit frame", x->name));
            else
                x->exited = !x->error;
            done = true;
        } else if (f.channel == ATTACH_ERROR) {
            relay_fail(x, xasprintf("attach to %s: %.*s", x->name, (int)f.len, f.data));
            done = true;
        }
        off += (size_t)r;
    }
    memmove(x->from, x->from + off, x->n_from - off);
    x->n_from -= off;
    return done;
}

/* The client's input (or its end), dropped when the container has no stdin (as containerd). */
static void read_input(struct relay *x)
{
    if (sizeof(x->to) - x->n_to <= ATTACH_HEADER_SIZE)
        return; /* the other fd's frame took the room: next time */
    uint8_t *p = x->to + x->n_to + ATTACH_HEADER_SIZE;
    size_t room = sizeof(x->to) - x->n_to - ATTACH_HEADER_SIZE;
    ssize_t n = read(x->in, p, room < ATTACH_FRAME_MAX ? room : ATTACH_FRAME_MAX);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n <= 0)
        x->in_eof = true;
    if (x->has_stdin && n >= 0) {
        attach_header(x->to + x->n_to, ATTACH_STDIN, (uint32_t)n);
        x->n_to += ATTACH_HEADER_SIZE + (size_t)n;
    }
}

static void read_resize(struct relay *x)
{
    uint8_t b[4];
    if (sizeof(x->to) - x->n_to < ATTACH_HEADER_SIZE + sizeof(b))
        return; /* the input took the room: read next time */
    if (read(x->ctl, b, sizeof(b)) == (ssize_t)sizeof(b) && x->has_tty)
        queue(x, ATTACH_RESIZE, b, sizeof(b));
}

/* false when the shim is gone. A failed send does not end the session: the container's last
 * output and its exit may still wait to be read (the shim closes once it has sent them, maybe
 * before it read the client's last input). */
static bool relay_socket(struct relay *x, short revents)
{
    if (revents & POLLOUT) {
        ssize_t n = send(x->sock, x->to, x->n_to, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            memmove(x->to, x->to + n, x->n_to - (size_t)n);
            x->n_to -= (size_t)n;
        } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
            x->send_failed = true;
            x->n_to = 0;
        }
    }
    if (revents & (POLLIN | POLLHUP | POLLERR)) {
        ssize_t n = recv(x->sock, x->from + x->n_from, sizeof(x->from) - x->n_from, MSG_DONTWAIT);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
            return false;
        if (n > 0)
            x->n_from += (size_t)n;
    }
    return true;
}

static void *relay_main(void *arg)
{
    struct relay *x = arg;
    while (!relay_frames(x)) {
        size_t room = sizeof(x->to) - x->n_to;
        bool reading = x->pending < 0 && x->n_from < sizeof(x->from);
        struct pollfd pf[4] = {
            {reading || x->n_to ? x->sock : -1,
             (short)((reading ? POLLIN : 0) | (x->n_to ? POLLOUT : 0)), 0},
            {x->pending, POLLOUT, 0},
            {x->in >= 0 && !x->in_eof && room > ATTACH_HEADER_SIZE ? x->in : -1, POLLIN, 0},
            /* Always watched: its hangup is relay_stop's, which must wake a relay waiting
             * on a client that does not read (pending) as much as one reading the shim. */
            {x->ctl, (short)(room >= ATTACH_HEADER_SIZE + 4 ? POLLIN : 0), 0},
        };
        if (poll(pf, 4, -1) < 0) {
            if (errno == EINTR)
                continue;
            relay_fail(x, xasprintf("attach to %s: poll: %s", x->name, strerror(errno)));
            break;
        }
        if (pf[0].revents && !relay_socket(x, pf[0].revents)) {
            relay_fail(x, xasprintf("the attach session of container %s ended without its exit "
                                    "(the shim closed it)",
                                    x->name));
            break;
        }
        /* A size first: a client sends it before what is typed at that size (stty). */
        if (pf[3].revents & POLLIN) {
            read_resize(x);
        } else if (pf[3].revents) {
            relay_fail(x, xasprintf("the attach session of container %s was closed", x->name));
            break;
        }
        if (pf[2].revents)
            read_input(x);
        if (x->send_failed)
            x->n_to = 0;
    }
    /* The server sees the end of the output, then waits. */
    close_fd(&x->out);
    close_fd(&x->err);
    return NULL;
}

static void relay_stop(struct relay *x)
{
    if (!x->running)
        return;
    /* The thread's poll wakes to the end of the control pipe (whatever it waits for) and of
     * the socket. */
    close_fd(&x->ctl_w);
    shutdown(x->sock, SHUT_RDWR);
    pthread_join(x->thread, NULL);
    x->running = false;
}

static int relay_wait(struct stream_proc *p, pr_error **err)
{
    struct relay *x = p->data;
    if (x->running) {
        pthread_join(x->thread, NULL);
        x->running = false;
    }
    if (x->exited && x->code < 0)
        return pr_err(err, 0, "container %s ended with an unknown exit code", x->name);
    if (x->exited)
        return x->code > 255 ? 255 : x->code;
    return pr_err(err, 0, "%s", x->error ? x->error : "attach ended without an exit");
}

static void relay_cancel(struct stream_proc *p)
{
    relay_stop(p->data);
}

static void relay_resize(struct stream_proc *p, unsigned rows, unsigned cols)
{
    struct relay *x = p->data;
    uint8_t b[4];
    attach_resize_encode(b, rows, cols);
    if (write(x->ctl_w, b, sizeof(b)) < 0) {
        /* the relay is behind: this size is dropped, a later one follows */
    }
}

static void relay_free(struct relay *x)
{
    relay_stop(x);
    int *fds[] = {&x->sock, &x->in, &x->out, &x->err, &x->ctl, &x->ctl_w};
    for (size_t i = 0; i < ARRAY_SIZE(fds); i++)
        close_fd(fds[i]);
    free(x->name);
    free(x->error);
    free(x);
}

static void relay_release(struct stream_proc *p)
{
    relay_free(p->data);
    p->data = NULL;
}

/* The shim's first frame: what the container has. */
static int read_hello(struct relay *x, pr_error **err)
{
    for (;;) {
        struct pollfd pf = {x->sock, POLLIN, 0};
        int r = poll(&pf, 1, HELLO_WAIT_MS);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return pr_err(err, r < 0 ? errno : ETIMEDOUT, "attach to %s: the shim said no hello",
                          x->name);
        ssize_t n = recv(x->sock, x->from + x->n_from, sizeof(x->from) - x->n_from, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return pr_err(err, n < 0 ? errno : 0, "attach to %s: the shim closed the session",
                          x->name);
        x->n_from += (size_t)n;
        struct attach_frame f;
        int p = attach_parse(x->from, x->n_from, &f);
        if (p < 0 || (p > 0 && (f.channel != ATTACH_HELLO || f.len != 1)))
            return pr_err(err, EBADMSG, "attach to %s: the shim did not say hello", x->name);
        if (p == 0)
            continue;
        x->has_stdin = f.data[0] & ATTACH_F_STDIN;
        x->has_tty = f.data[0] & ATTACH_F_TTY;
        memmove(x->from, x->from + p, x->n_from - (size_t)p);
        x->n_from -= (size_t)p;
        return 0;
    }
}

/* A pipe: *ours gets the end of the given index (0 read, 1 write), nonblocking. */
static int relay_pipe(int *ours, int *theirs, int index, pr_error **err)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        return pr_err(err, errno, "pipe");
    *ours = p[index];
    *theirs = p[!index];
    fcntl(*ours, F_SETFL, fcntl(*ours, F_GETFL) | O_NONBLOCK);
    return 0;
}

int cri_attach_relay(int sock, const char *name, const struct stream_request *req,
                     struct stream_proc *out, pr_error **err)
{
    struct relay *x = xcalloc(1, sizeof(*x));
    x->name = xstrdup(name);
    x->sock = sock;
    x->in = x->out = x->err = x->ctl = x->ctl_w = x->pending = -1;
    *out = (struct stream_proc){.in = -1,
                                .out = -1,
                                .err = -1,
                                .pty = -1,
                                .wait = relay_wait,
                                .cancel = relay_cancel,
                                .release = relay_release,
                                .data = x};
    int r = read_hello(x, err);
    if (r == 0 && req->in)
        r = relay_pipe(&x->in, &out->in, 0, err);
    if (r == 0 && req->out)
        r = relay_pipe(&x->out, &out->out, 1, err);
    /* With a terminal, the client has no stderr stream (the terminal's output is stdout). */
    if (r == 0 && req->err && !req->tty)
        r = relay_pipe(&x->err, &out->err, 1, err);
    /* Always: its end is how relay_stop wakes the relay; resizes only with a terminal. */
    if (r == 0) {
        r = relay_pipe(&x->ctl, &x->ctl_w, 0, err);
        if (r == 0) {
            fcntl(x->ctl_w, F_SETFL, fcntl(x->ctl_w, F_GETFL) | O_NONBLOCK);
            if (req->tty)
                out->resize = relay_resize;
        }
    }
    if (r == 0) {
        r = -pthread_create(&x->thread, NULL, relay_main, x);
        if (r < 0)
            pr_err(err, -r, "start the attach relay of %s", name);
        x->running = r == 0;
    }
    if (r < 0) {
        for (int *fd = &out->in; fd <= &out->pty; fd++)
            close_fd(fd);
        relay_free(x);
        *out = (struct stream_proc){.in = -1, .out = -1, .err = -1, .pty = -1};
    }
    return r;
}

int cri_backend_attach(void *data, const struct stream_request *req, struct stream_proc *out,
                       pr_error **err)
{
    const struct cri_options *o = data;
    struct pods_manager *m = NULL;
    _cleanup_free_ char *name = NULL, *dir = NULL;
    int r = o->open_pods(o->open_pods_data, false, &m, err);
    if (r < 0)
        return r;
    r = pods_stream_attach_socket(m, req->target, &dir, &name, err);
    pods_manager_close(m);
    if (r < 0)
        return r;
    int sock = attach_connect(dir, name, err);
    if (sock < 0)
        return sock;
    return cri_attach_relay(sock, name, req, out, err);
}
