/* SPDX-License-Identifier: Apache-2.0 */
/* A container's lifecycle hooks and its termination message, as the kubelet runs and reads
 * them.
 *
 * postStart runs after every start of the container, the shim's restarts included, which is
 * why the shim runs it and not the pod manager. A postStart that fails gets the container
 * stopped (its preStop and grace period apply) and the exit is reported with reason
 * FailedPostStartHook; the restart policy then decides, as for any exit.
 *
 * preStop runs when the container is to be stopped (pod removal, a failed liveness probe, a
 * stop request) and must finish within the grace period, whose deadline is already set by
 * container_stop: only when the hook is done is the stop signal sent; at the deadline the
 * container is killed, hook or not.
 *
 * Each handler is a child process of the shim, so every one ends in the same SIGCHLD path:
 * exec through the runtime's exec; httpGet from a child that joins the container's network
 * namespace and makes the request; sleep is a timer.
 *
 * The termination message is a file of the pod manager's, bound into the container at its
 * terminationMessagePath. It is read from the host side, opened without following a link, and
 * only as a regular file: what the container did to the path inside its root cannot send the
 * shim anywhere else. */
#include "shim.h"
#include "fs.h"
#include "log.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

/* The kubelet's bounds: 4096 bytes per container and 12 KiB for the whole pod; the log
 * fallback takes at most the last 80 lines and 2048 bytes. */
#define MESSAGE_MAX           4096
#define POD_MESSAGES_MAX      (12 * 1024)
#define LOG_FALLBACK_LINES    80
#define LOG_FALLBACK_BYTES    2048
#define HTTP_HOOK_TIMEOUT_SEC 10

struct hook_run {
    struct container *c;
    enum hook_type type;
    pid_t pid;
    int out_fd;
    sd_event_source *timer; /* HOOK_SLEEP */
};

static const char *hook_names[HOOK_TYPES] = {"PostStart", "PreStop"};

static void hook_end(struct container *c)
{
    struct hook_run *h = c->hook;
    if (!h)
        return;
    c->hook = NULL;
    h->timer = sd_event_source_disable_unref(h->timer);
    if (h->pid > 0) {
        shim_unwatch_child(c->shim, h->pid);
        kill(h->pid, SIGKILL);
        waitpid(h->pid, NULL, 0);
    }
    if (h->out_fd >= 0)
        close(h->out_fd);
    free(h);
}

void hooks_cancel(struct container *c)
{
    hook_end(c);
}

/* The end of a hook: what follows depends on which. */
static void hook_done(struct container *c, enum hook_type type, bool ok, const char *why)
{
    hook_end(c);
    if (type == HOOK_PRE_STOP) {
        if (!ok)
            shim_event(c->shim, c, "prestop-failed", "PreStop hook failed: %s", why);
        if (c->state == CTR_RUNNING && c->pending_stop_signal)
            container_signal(c, c->pending_stop_signal);
        c->pending_stop_signal = 0;
        return;
    }
    if (ok || c->state != CTR_RUNNING || c->stopping)
        return;
    _cleanup_free_ char *msg = xasprintf("PostStart hook failed: %s", why);
    shim_event(c->shim, c, "FailedPostStartHook", "%s", msg);
    c->post_start_failed = true;
    container_stop(c, c->spec->stop_signal, c->shim->spec->grace_usec, msg);
}

static void on_hook_exit(struct shim *s, void *data, const siginfo_t *si)
{
    struct hook_run *h = data;
    struct container *c = h->c;
    h->pid = 0; /* reaped */
    char out[256] = "";
    if (h->out_fd >= 0) {
        ssize_t n = read(h->out_fd, out, sizeof(out) - 1);
        out[n > 0 ? n : 0] = '\0';
        out[strcspn(out, "\n")] = '\0';
    }
    bool ok = si->si_code == CLD_EXITED && si->si_status == 0;
    int code = si->si_code == CLD_EXITED ? si->si_status : 128 + si->si_status;
    _cleanup_free_ char *why = xasprintf("exit %d%s%s", code, *out ? ": " : "", out);
    hook_done(c, h->type, ok, why);
}

static int on_sleep_done(sd_event_source *src, uint64_t usec, void *data)
{
    struct hook_run *h = data;
    hook_done(h->c, h->type, true, "");
    return 0;
}

/* The child's reason, on its fd 2 (the pipe the shim reads), then its end. */
static _Noreturn __attribute__((format(printf, 1, 2))) void child_fail(const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (n > 0 && write(2, msg, (size_t)n < sizeof(msg) ? (size_t)n : sizeof(msg) - 1) < 0) {
        /* nobody left to tell */
    }
    _exit(1);
}

/* The httpGet child: in the container's network namespace, one request; exit 0 for a status
 * from 200 to 399, 1 otherwise with the reason on fd 2 (the pipe). */
static _Noreturn void http_child(struct container *c, const struct probe_spec *p)
{
    char buf[512];
    size_t n = 0;
    if (c->netns_fd >= 0 && setns(c->netns_fd, CLONE_NEWNET) < 0)
        child_fail("join the pod's network: %s\n", strerror(errno));
    if (!p->addr_len)
        child_fail("host \"%s\" is not an address\n", p->host ? p->host : "");
    int fd = socket(p->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct timeval tv = {HTTP_HOOK_TIMEOUT_SEC, 0};
    if (fd >= 0) {
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    }
    if (fd < 0 || connect(fd, (const struct sockaddr *)&p->addr, p->addr_len) < 0)
        child_fail("connect to port %d: %s\n", p->port, strerror(errno));
    size_t len = strlen(p->request);
    for (size_t off = 0; off < len;) {
        ssize_t w = write(fd, p->request + off, len - off);
        if (w <= 0)
            child_fail("send: %s\n", strerror(errno));
        off += (size_t)w;
    }
    while (n < sizeof(buf) - 1 && !memchr(buf, '\n', n)) {
        ssize_t r = read(fd, buf + n, sizeof(buf) - 1 - n);
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    int code = http_status_code(buf, n);
    if (code >= 200 && code < 400)
        _exit(0);
    child_fail("HTTP status %d\n", code);
}

static int start_http(struct hook_run *h, const struct probe_spec *p, pr_error **err)
{
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) < 0)
        return pr_err(err, errno, "pipe");
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return pr_err(err, errno, "fork");
    }
    if (pid == 0) {
        dup2(fds[1], 2);
        http_child(h->c, p);
    }
    close(fds[1]);
    fcntl(fds[0], F_SETFL, O_NONBLOCK);
    h->out_fd = fds[0];
    return pid;
}

/* Starts c's hook of this type; false when there is none (or it could not start, which is a
 * failure reported through hook_done). */
static bool hook_start(struct container *c, enum hook_type type)
{
    const struct hook_spec *spec = &c->spec->hooks[type];
    _cleanup_error_ pr_error *err = NULL;
    if (spec->handler == HOOK_NONE || !c->shim->spec->supervise)
        return false;
    hook_end(c);
    struct hook_run *h = xcalloc(1, sizeof(*h));
    h->c = c;
    h->type = type;
    h->out_fd = -1;
    c->hook = h;
    shim_event(c->shim, c, "hook", "running the %s hook", hook_names[type]);
    int r = 0;
    if (spec->handler == HOOK_SLEEP) {
        r = sd_event_add_time_relative(c->shim->event, &h->timer, CLOCK_MONOTONIC, spec->sleep_usec,
                                       0, on_sleep_done, h);
        if (r < 0)
            r = pr_err(&err, -r, "timer");
    } else if (spec->handler == HOOK_EXEC) {
        r = runtime_spawn_exec(c->shim, c->spec->id, spec->probe.command, &h->out_fd, &err);
    } else {
        r = start_http(h, &spec->probe, &err);
    }
    if (r < 0) {
        hook_done(c, type, false, err ? err->msg : "could not start");
        return true;
    }
    if (spec->handler != HOOK_SLEEP) {
        h->pid = r;
        shim_watch_child(c->shim, h->pid, on_hook_exit, h);
    }
    return true;
}

void hooks_post_start(struct container *c)
{
    c->post_start_failed = false;
    hook_start(c, HOOK_POST_START);
}

bool hooks_pre_stop(struct container *c, int sig)
{
    if (c->spec->hooks[HOOK_PRE_STOP].handler == HOOK_NONE || !c->shim->spec->supervise)
        return false;
    c->pending_stop_signal = sig;
    hook_start(c, HOOK_PRE_STOP);
    return true;
}

/* ---- the termination message ---- */

/* The file at path, as a regular file reached without a symlink, emptied. */
void hooks_reset_termination_message(struct container *c)
{
    const char *path = c->spec->termination_message_path;
    if (!path)
        return;
    int fd = open(path, O_WRONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    struct stat st;
    if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
        ftruncate(fd, 0);
    if (fd >= 0)
        close(fd);
}

/* Up to max bytes of the file, or NULL. */
static char *read_message_file(const char *path, size_t max)
{
    _cleanup_close_ int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
        return NULL;
    char *buf = xmalloc(max + 1);
    size_t n = 0;
    while (n < max) {
        ssize_t r = read(fd, buf + n, max - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    buf[n] = '\0';
    if (n == 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

/* The end of the container's log, as FallbackToLogsOnError takes it: the messages of the
 * last lines (the CRI prefix "TIME STREAM TAG " cut), at most 80 lines and 2048 bytes. */
static char *log_tail(const char *path)
{
    _cleanup_close_ int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
        return NULL;
    char raw[4 * LOG_FALLBACK_BYTES + 1];
    off_t from = st.st_size > (off_t)(sizeof(raw) - 1) ? st.st_size - (off_t)(sizeof(raw) - 1) : 0;
    ssize_t n = pread(fd, raw, sizeof(raw) - 1, from);
    if (n <= 0)
        return NULL;
    raw[n] = '\0';
    /* Lines from the end back; a first line cut by the window is dropped. */
    char *lines[LOG_FALLBACK_LINES];
    size_t nl = 0, total = 0;
    char *end = raw + n;
    while (end > raw && nl < LOG_FALLBACK_LINES) {
        if (end[-1] == '\n')
            *--end = '\0';
        char *start = end;
        while (start > raw && start[-1] != '\n')
            start--;
        if (start == raw && from > 0)
            break;
        char *msg = start;
        for (int field = 0; field < 3 && msg; field++) {
            msg = strchr(msg, ' ');
            msg = msg ? msg + 1 : NULL;
        }
        if (!msg)
            msg = start + strlen(start);
        if (total + strlen(msg) + 1 > LOG_FALLBACK_BYTES)
            break;
        total += strlen(msg) + 1;
        lines[nl++] = msg;
        end = start;
    }
    if (nl == 0)
        return NULL;
    char *out = xmalloc(total + 1);
    out[0] = '\0';
    for (size_t i = nl; i > 0; i--) {
        strcat(out, lines[i - 1]);
        if (i > 1)
            strcat(out, "\n");
    }
    return out;
}

void hooks_termination_message(struct container *c)
{
    struct shim *s = c->shim;
    size_t n_ctrs = s->n_init + s->n_ctrs;
    size_t max = POD_MESSAGES_MAX / (n_ctrs ? n_ctrs : 1);
    if (max > MESSAGE_MAX)
        max = MESSAGE_MAX;
    _cleanup_free_ char *msg = c->spec->termination_message_path
                                   ? read_message_file(c->spec->termination_message_path, max)
                                   : NULL;
    bool failed = !c->has_exit_code || c->exit_code != 0;
    if (!msg && c->spec->termination_message_fallback && failed)
        msg = log_tail(c->spec->log_path);
    if (!msg)
        return;
    free(c->message);
    c->message = steal_pointer(&msg);
}
