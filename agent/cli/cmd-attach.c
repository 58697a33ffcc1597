/* SPDX-License-Identifier: Apache-2.0 */
/* podrun attach: a running container's own stdio, as kubectl attach has it, through the
 * container's attach socket in its shim (common/attach.h, podrun-shim(8) ATTACH). With -t the
 * terminal is raw for the session and restored after it; SIGWINCH sends the new size. */
#include "attach.h"
#include "commands.h"
#include "json.h"
#include "util.h"

#include "agent/pods/pods.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define USAGE "usage: podrun attach [-i] [-t] [-q] POD [-c CONTAINER] [-n NAMESPACE]"
/* kubectl's --pod-running-timeout default. */
#define POD_RUNNING_TIMEOUT_MS 60000

void cli_pod_state_clear(struct cli_pod_state *st)
{
    free(st->phase);
    free(st->reason);
    free(st->message);
    free(st->restart_policy);
    *st = (struct cli_pod_state){0};
}

int cli_pod_state(struct podrun_global *g, const char *ns, const char *pod, const char *ctr,
                  struct cli_pod_state *st, pr_error **err)
{
    struct pods_manager *m = NULL;
    struct pods_list l = {0};
    cli_pod_state_clear(st);
    int r = open_manager(g, false, &m, err);
    if (r < 0)
        return r;
    r = pods_list(m, "pods", ns, pod, &l, err);
    pods_manager_close(m);
    if (r < 0)
        return r;
    yajl_val status = l.n ? l.v[0].status : NULL;
    const char *phase = YAJL_GET_STRING(json_get(status, "phase"));
    st->phase = xstrdup(phase ? phase : "Pending");
    const char *policy = YAJL_GET_STRING(json_get(status, "restartPolicy"));
    st->restart_policy = policy ? xstrdup(policy) : NULL;
    yajl_val cs = json_get(status, "containerStatuses");
    for (size_t i = 0; i < json_array_len(cs); i++) {
        yajl_val c = json_array_at(cs, i);
        const char *name = YAJL_GET_STRING(json_get(c, "name"));
        if (!name || (ctr && !streq(name, ctr)) || (!ctr && i > 0))
            continue;
        const char *state = YAJL_GET_STRING(json_get(c, "state"));
        const char *reason = YAJL_GET_STRING(json_get(c, "reason"));
        const char *msg = YAJL_GET_STRING(json_get(c, "message"));
        yajl_val code = json_get(c, "exitCode");
        st->running = state && streq(state, "running");
        st->terminated = state && streq(state, "terminated");
        st->has_exit_code = code && YAJL_IS_INTEGER(code);
        st->exit_code = st->has_exit_code ? (int)YAJL_GET_INTEGER(code) : 0;
        st->reason = reason ? xstrdup(reason) : NULL;
        st->message = msg ? xstrdup(msg) : NULL;
    }
    pods_list_clear(&l);
    return 0;
}

bool cli_pod_completed(const struct cli_pod_state *st)
{
    return streq(st->phase, "Succeeded") || streq(st->phase, "Failed");
}

int cli_wait_pod(struct podrun_global *g, const char *ns, const char *pod, const char *ctr,
                 bool (*done)(const struct cli_pod_state *), struct cli_pod_state *st,
                 pr_error **err)
{
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        int r = cli_pod_state(g, ns, pod, ctr, st, err);
        if (r < 0 || done(st))
            return r;
        struct timespec t;
        clock_gettime(CLOCK_MONOTONIC, &t);
        if ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000 >
            POD_RUNNING_TIMEOUT_MS)
            return pr_err_code(err, ETIMEDOUT, "timed out waiting for the condition");
        poll(NULL, 0, 100);
    }
}

bool cli_pod_attachable(const struct cli_pod_state *st)
{
    return st->running || cli_pod_completed(st);
}

/* ---- the session ---- */

struct session {
    int sock;
    bool in, tty, raw;
    bool stdin_eof;
    uint8_t out[ATTACH_HEADER_SIZE + ATTACH_FRAME_MAX]; /* to the shim, not yet written */
    size_t n_out;
    uint8_t buf[ATTACH_HEADER_SIZE + ATTACH_FRAME_MAX]; /* from the shim, a frame at most */
    size_t n_buf;
    struct termios saved;
    bool saved_tio;
};

static void queue_frame(struct session *ss, enum attach_channel ch, const void *data, size_t len)
{
    attach_header(ss->out + ss->n_out, ch, (uint32_t)len);
    if (len)
        memcpy(ss->out + ss->n_out + ATTACH_HEADER_SIZE, data, len);
    ss->n_out += ATTACH_HEADER_SIZE + len;
}

static void queue_resize(struct session *ss)
{
    struct winsize ws;
    if (ss->n_out + ATTACH_HEADER_SIZE + 4 > sizeof(ss->out) ||
        ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) < 0)
        return;
    uint8_t b[4];
    attach_resize_encode(b, ws.ws_row, ws.ws_col);
    queue_frame(ss, ATTACH_RESIZE, b, sizeof(b));
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -errno;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* 1: the session is over (*code set, or err for an ERROR frame), 0: go on. */
static int read_frames(struct session *ss, const char *ctr, bool *exited, int *code, pr_error **err)
{
    ssize_t n = read(ss->sock, ss->buf + ss->n_buf, sizeof(ss->buf) - ss->n_buf);
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return 0;
    if (n <= 0)
        return pr_err(err, n < 0 ? errno : 0,
                      "the attach session of container %s ended without its exit (the shim "
                      "closed it)",
                      ctr);
    ss->n_buf += (size_t)n;
    size_t off = 0;
    int done = 0;
    while (!done) {
        struct attach_frame f;
        int r = attach_parse(ss->buf + off, ss->n_buf - off, &f);
        if (r < 0)
            return pr_err(err, EBADMSG, "attach: malformed frame from the shim");
        if (r == 0)
            break;
        off += (size_t)r;
        int32_t c;
        switch (f.channel) {
        case ATTACH_STDOUT:
        case ATTACH_STDERR:
            write_all(f.channel == ATTACH_STDOUT ? STDOUT_FILENO : STDERR_FILENO, f.data, f.len);
            break;
        case ATTACH_EXIT:
            if (attach_exit_decode(&f, &c) < 0)
                return pr_err(err, EBADMSG, "attach: malformed exit frame");
            *exited = true;
            *code = c;
            done = 1;
            break;
        case ATTACH_ERROR: {
            _cleanup_free_ char *msg = strndup((const char *)f.data, f.len);
            return pr_err_code(err, strstr(msg, "is not running") ? ESRCH : EIO, "%s", msg);
        }
        default:
            break;
        }
    }
    memmove(ss->buf, ss->buf + off, ss->n_buf - off);
    ss->n_buf -= off;
    return done;
}

static void restore_terminal(struct session *ss)
{
    if (ss->saved_tio)
        tcsetattr(STDIN_FILENO, TCSADRAIN, &ss->saved);
    ss->saved_tio = false;
}

static int session_loop(struct session *ss, const char *ctr, int sigfd, int *code, pr_error **err)
{
    bool exited = false;
    for (;;) {
        struct pollfd pf[3] = {
            {.fd = ss->sock, .events = POLLIN | (ss->n_out ? POLLOUT : 0)},
            {.fd = sigfd, .events = POLLIN},
            {.fd = ss->in && !ss->stdin_eof && !ss->n_out ? STDIN_FILENO : -1, .events = POLLIN},
        };
        if (poll(pf, 3, -1) < 0) {
            if (errno == EINTR)
                continue;
            return pr_err(err, errno, "poll");
        }
        if (pf[0].revents & POLLOUT) {
            ssize_t w = send(ss->sock, ss->out, ss->n_out, MSG_NOSIGNAL | MSG_DONTWAIT);
            if (w > 0) {
                memmove(ss->out, ss->out + w, ss->n_out - (size_t)w);
                ss->n_out -= (size_t)w;
            }
        }
        if (pf[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            int r = read_frames(ss, ctr, &exited, code, err);
            if (r < 0)
                return r;
            if (r > 0)
                return 0;
        }
        if (pf[1].revents & POLLIN) {
            struct signalfd_siginfo si;
            if (read(sigfd, &si, sizeof(si)) != sizeof(si))
                continue;
            if (si.ssi_signo != SIGWINCH)
                return pr_err_code(err, EINTR, "detached from container %s (%s)", ctr,
                                   strsignal((int)si.ssi_signo));
            if (ss->tty)
                queue_resize(ss);
        }
        if (pf[2].revents & (POLLIN | POLLHUP | POLLERR)) {
            uint8_t data[ATTACH_FRAME_MAX];
            ssize_t n = read(STDIN_FILENO, data, sizeof(data));
            if (n < 0 && (errno == EINTR || errno == EAGAIN))
                continue;
            if (n <= 0) {
                ss->stdin_eof = true;
                queue_frame(ss, ATTACH_STDIN, NULL, 0); /* our EOF (stdinOnce closes it) */
            } else {
                queue_frame(ss, ATTACH_STDIN, data, (size_t)n);
            }
        }
    }
}

int cli_attach(struct podrun_global *g, const char *ns, const char *pod, const char *container,
               bool in, bool tty, bool quiet, int *code, pr_error **err)
{
    struct pods_manager *m = NULL;
    _cleanup_free_ char *uid = NULL, *name = NULL, *dir = NULL, *note = NULL;
    int r = open_manager(g, false, &m, err);
    if (r < 0)
        return r;
    r = pods_find_container(m, ns, pod, container, &uid, &name, quiet ? NULL : &note, err);
    if (note)
        fprintf(stderr, "%s\n", note);
    if (r == 0)
        dir = pods_attach_dir(m, uid);
    pods_manager_close(m);
    if (r < 0)
        return r;
    struct session *ss = xcalloc(1, sizeof(*ss));
    _cleanup_free_ struct session *ss_free = ss;
    ss->sock = attach_connect(dir, name, err);
    if (ss->sock < 0)
        return ss->sock;
    _cleanup_close_ int sock_closer = ss->sock;
    /* The shim's hello first: what the container has. */
    uint8_t flags = 0;
    for (;;) {
        ssize_t n = read(ss->sock, ss->buf + ss->n_buf, sizeof(ss->buf) - ss->n_buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return pr_err(err, n < 0 ? errno : 0, "attach to %s: the shim closed the session",
                          name);
        ss->n_buf += (size_t)n;
        struct attach_frame f;
        int p = attach_parse(ss->buf, ss->n_buf, &f);
        if (p < 0 || (p > 0 && (f.channel != ATTACH_HELLO || f.len != 1)))
            return pr_err(err, EBADMSG, "attach to %s: the shim did not say hello", name);
        if (p == 0)
            continue;
        flags = f.data[0];
        memmove(ss->buf, ss->buf + p, ss->n_buf - (size_t)p);
        ss->n_buf -= (size_t)p;
        break;
    }
    if (tty && !(flags & ATTACH_F_TTY)) {
        /* kubectl's words; it goes on without a terminal. */
        fprintf(stderr, "error: Unable to use a TTY - container %s did not allocate one\n", name);
        tty = false;
    } else if (!tty && (flags & ATTACH_F_TTY)) {
        tty = true; /* the container was made with a terminal: its output is the terminal's */
    }
    if (in && !(flags & ATTACH_F_STDIN))
        return pr_err(err, 0,
                      "cannot attach stdin: container %s was not created with stdin "
                      "(spec.containers[].stdin)",
                      name);
    ss->in = in;
    ss->tty = tty;
    ss->raw = tty && in && isatty(STDIN_FILENO);
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGWINCH);
    if (ss->raw) {
        /* Ended by a signal, the terminal is given back as it was (then the session ends). */
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGHUP);
        sigaddset(&mask, SIGINT);
    }
    sigprocmask(SIG_BLOCK, &mask, NULL);
    _cleanup_close_ int sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
    if (sigfd < 0)
        return pr_err(err, errno, "signalfd");
    /* kubectl's hint, whatever the session (-q leaves it out). */
    if (!quiet)
        fprintf(stderr, "If you don't see a command prompt, try pressing enter.\n");
    if (ss->raw && tcgetattr(STDIN_FILENO, &ss->saved) == 0) {
        struct termios raw = ss->saved;
        cfmakeraw(&raw);
        ss->saved_tio = tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
    }
    if (ss->tty && isatty(STDIN_FILENO))
        queue_resize(ss);
    fflush(stdout);
    r = session_loop(ss, name, sigfd, code, err);
    restore_terminal(ss);
    /* kubectl's: the container restarts, so the session can be taken up again. */
    struct cli_pod_state st = {0};
    if (r == 0 && ss->raw && cli_pod_state(g, ns, pod, name, &st, NULL) == 0 && st.restart_policy &&
        streq(st.restart_policy, "Always"))
        printf("Session ended, resume using 'podrun attach %s -c %s -i -t' command when the pod "
               "is running\n",
               pod, name);
    cli_pod_state_clear(&st);
    return r;
}

int cmd_attach(struct podrun_global *g, int argc, char **argv, pr_error **err)
{
    static const struct option opts[] = {
        {"stdin", no_argument, NULL, 'i'},           {"tty", no_argument, NULL, 't'},
        {"quiet", no_argument, NULL, 'q'},           {"container", required_argument, NULL, 'c'},
        {"namespace", required_argument, NULL, 'n'}, {NULL, 0, NULL, 0},
    };
    const char *ns = "default", *container = NULL;
    bool in = false, tty = false, quiet = false;
    int c;
    while ((c = cli_getopt(argc, argv, "itqc:n:", opts)) != -1) {
        if (c == 'i')
            in = true;
        else if (c == 't')
            tty = true;
        else if (c == 'q')
            quiet = true;
        else if (c == 'c')
            container = optarg;
        else if (c == 'n')
            ns = optarg;
        else
            return pr_err(err, 0, USAGE);
    }
    if (argc - optind != 1)
        return pr_err(err, 0, "expected POD. POD is a required argument for the attach command\n%s",
                      USAGE);
    const char *pod = argv[optind];
    struct cli_pod_state st = {0};
    int r = cli_wait_pod(g, ns, pod, container, cli_pod_attachable, &st, err);
    if (r == 0 && cli_pod_completed(&st))
        r = pr_err(err, 0, "cannot attach a container in a completed pod; current phase is %s",
                   st.phase);
    cli_pod_state_clear(&st);
    if (r < 0)
        return r;
    int code = 0;
    /* kubectl attach ends when the container does, successfully: its exit code is not ours. */
    return cli_attach(g, ns, pod, container, in, tty, quiet, &code, err);
}
