/* SPDX-License-Identifier: Apache-2.0 */
/* Probes with Kubernetes' semantics: startup holds liveness and readiness back until it
 * passes; liveness and startup failures kill the container (the restart policy decides what
 * follows); readiness only sets `ready`.
 *
 * tcpSocket and httpGet need no thread and no fork: the socket is created inside the pod's
 * network namespace (setns there, socket(), setns back; a socket stays in the namespace it was
 * made in) and then driven by the event loop like any other fd. exec goes through the
 * runtime's exec, asynchronously. */
#include "shim.h"
#include "log.h"
#include "netns.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>

static const char *type_names[PROBE_TYPES] = {"startup", "liveness", "readiness"};
static const char *event_names[PROBE_TYPES] = {"Startup", "Liveness", "Readiness"};

int http_status_code(const char *buf, size_t len)
{
    /* "HTTP/1.x NNN ..." */
    if (len < 12 || strncmp(buf, "HTTP/1.", 7) != 0 || buf[8] != ' ')
        return -1;
    int code = 0;
    for (int i = 9; i < 12; i++) {
        if (buf[i] < '0' || buf[i] > '9')
            return -1;
        code = code * 10 + (buf[i] - '0');
    }
    if (len > 12 && buf[12] != ' ' && buf[12] != '\r' && buf[12] != '\n')
        return -1;
    return code;
}

static void attempt_cleanup(struct probe_run *p)
{
    p->io = sd_event_source_disable_unref(p->io);
    p->timeout_timer = sd_event_source_disable_unref(p->timeout_timer);
    if (p->fd >= 0)
        close(p->fd);
    if (p->out_fd >= 0)
        close(p->out_fd);
    p->fd = p->out_fd = -1;
    if (p->pid > 0) {
        shim_unwatch_child(p->c->shim, p->pid);
        kill(p->pid, SIGKILL);
        /* The runtime's exec dies at once; reap it here so it is not left a zombie. */
        waitpid(p->pid, NULL, 0);
        p->pid = 0;
    }
    p->n_buf = p->sent = 0;
    p->in_flight = false;
}

static void probe_result(struct probe_run *p, bool ok, const char *why)
{
    struct container *c = p->c;
    struct probe_spec *spec = p->spec;
    attempt_cleanup(p);
    if (c->state != CTR_RUNNING || c->stopping)
        return;
    if (ok) {
        p->failures = 0;
        if (++p->successes < spec->success_threshold)
            return;
        if (p->type == PROBE_STARTUP && !c->started) {
            c->started = true;
            p->period_timer = sd_event_source_disable_unref(p->period_timer);
            shim_event(c->shim, c, "probe", "startup probe passed");
            if (!c->spec->probes[PROBE_READINESS].handler)
                c->ready = true;
            shim_status_changed(c->shim);
            probes_start(c);
        } else if (p->type == PROBE_READINESS && !c->ready) {
            c->ready = true;
            shim_event(c->shim, c, "ready", "readiness probe passed");
            shim_status_changed(c->shim);
        }
        return;
    }
    p->successes = 0;
    p->failures++;
    shim_event(c->shim, c, "probe-failed", "%s probe failed (%u/%u): %s", type_names[p->type],
               p->failures, spec->failure_threshold, why);
    shim_record(c->shim, c, "Warning", "Unhealthy", "%s probe failed: %s", event_names[p->type],
                why);
    if (p->failures < spec->failure_threshold)
        return;
    if (p->type == PROBE_READINESS) {
        if (c->ready) {
            c->ready = false;
            shim_status_changed(c->shim);
        }
        return;
    }
    p->failures = 0;
    shim_record(c->shim, c, "Normal", "Killing", "Container %s failed %s probe, will be restarted",
                c->spec->name, type_names[p->type]);
    c->killing_recorded = true;
    _cleanup_free_ char *msg =
        xasprintf("%s probe failed: %s", p->type == PROBE_STARTUP ? "Startup" : "Liveness", why);
    container_stop(c, c->spec->stop_signal, c->shim->spec->grace_usec, msg);
}

static int on_probe_timeout(sd_event_source *src, uint64_t usec, void *data)
{
    struct probe_run *p = data;
    _cleanup_free_ char *why =
        xasprintf("timed out after %llu ms", (unsigned long long)(p->spec->timeout_usec / 1000));
    probe_result(p, false, why);
    return 0;
}

/* ---- exec ---- */

static void on_exec_exit(struct shim *s, void *data, const siginfo_t *si)
{
    struct probe_run *p = data;
    p->pid = 0; /* reaped already */
    bool ok = si->si_code == CLD_EXITED && si->si_status == 0;
    char out[256] = "";
    if (p->out_fd >= 0) {
        ssize_t n = read(p->out_fd, out, sizeof(out) - 1);
        out[n > 0 ? n : 0] = '\0';
        out[strcspn(out, "\n")] = '\0';
    }
    _cleanup_free_ char *why =
        xasprintf("exit %d%s%s", si->si_code == CLD_EXITED ? si->si_status : 128 + si->si_status,
                  *out ? ": " : "", out);
    probe_result(p, ok, why);
}

static int start_exec(struct probe_run *p, pr_error **err)
{
    int r = runtime_spawn_exec(p->c->shim, p->c->spec->id, p->spec->command, &p->out_fd, err);
    if (r < 0)
        return r;
    p->pid = r;
    shim_watch_child(p->c->shim, p->pid, on_exec_exit, p);
    return 0;
}

/* ---- tcpSocket / httpGet ---- */

static int socket_in_netns(struct container *c, int family, pr_error **err)
{
    const int type = SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC;
    if (c->netns_fd < 0) {
        int fd = socket(family, type, 0);
        return fd < 0 ? pr_err(err, errno, "socket") : fd;
    }
    return netns_socket(c->netns_fd, c->shim->self_netns_fd, family, type, 0, err);
}

static int http_send(struct probe_run *p)
{
    const char *req = p->spec->request;
    size_t len = strlen(req);
    while (p->sent < len) {
        ssize_t n = send(p->fd, req + p->sent, len - p->sent, MSG_NOSIGNAL);
        if (n < 0)
            return errno == EAGAIN ? 0 : -errno;
        p->sent += (size_t)n;
    }
    return 1;
}

static int on_socket_io(sd_event_source *src, int fd, uint32_t revents, void *data)
{
    struct probe_run *p = data;
    if (!p->sent && !p->n_buf) {
        int soerr = 0;
        socklen_t sl = sizeof(soerr);
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
            soerr = errno;
        if (soerr) {
            _cleanup_free_ char *why = xasprintf("connect: %s", pr_strerror(soerr));
            probe_result(p, false, why);
            return 0;
        }
        if (p->spec->handler == PROBE_TCP) {
            probe_result(p, true, NULL);
            return 0;
        }
    }
    if (revents & EPOLLOUT) {
        int r = http_send(p);
        if (r < 0) {
            _cleanup_free_ char *why = xasprintf("send: %s", pr_strerror(-r));
            probe_result(p, false, why);
            return 0;
        }
        if (r > 0)
            sd_event_source_set_io_events(src, EPOLLIN);
        return 0;
    }
    ssize_t n = recv(fd, p->buf + p->n_buf, sizeof(p->buf) - 1 - p->n_buf, 0);
    if (n < 0 && errno == EAGAIN)
        return 0;
    if (n > 0)
        p->n_buf += (size_t)n;
    if (n > 0 && !memchr(p->buf, '\n', p->n_buf) && p->n_buf < sizeof(p->buf) - 1)
        return 0;
    int code = http_status_code(p->buf, p->n_buf);
    if (code < 0) {
        probe_result(p, false, n < 0 ? pr_strerror(errno) : "malformed HTTP response");
        return 0;
    }
    _cleanup_free_ char *why = xasprintf("HTTP probe failed with statuscode: %d", code);
    probe_result(p, code >= 200 && code < 400, why);
    return 0;
}

static int start_socket(struct probe_run *p, pr_error **err)
{
    struct probe_spec *spec = p->spec;
    const char *host = spec->host ? spec->host : "127.0.0.1";
    /* Names would need a resolver inside the pod; kubelet resolves from the node. */
    if (!spec->addr_len)
        return pr_err(err, 0, "host \"%s\" is not an IP address", host);
    int fd = socket_in_netns(p->c, spec->addr.ss_family, err);
    if (fd < 0)
        return fd;
    p->fd = fd;
    if (connect(fd, (struct sockaddr *)&spec->addr, spec->addr_len) < 0 && errno != EINPROGRESS)
        return pr_err(err, errno, "connect %s:%d", host, spec->port);
    int r = sd_event_add_io(p->c->shim->event, &p->io, fd, EPOLLOUT, on_socket_io, p);
    if (r < 0)
        return pr_err(err, -r, "watch probe socket");
    return 0;
}

/* ---- scheduling ---- */

/* A probe may fire up to this late, or a quarter of its period when that is shorter (periods
 * may be fractions here; Kubernetes' are whole seconds). Within that window sd-event wakes on
 * a boundary shared by every process on the host (perturbed per boot, not per process), so the
 * probes of all pods run in one burst each period instead of each shim waking alone on an idle
 * machine: 50 pods with 1 s probes cost 1.4-1.6% of a core this way against 2.3% with a 10 ms
 * window (tests/bench/shim.sh). Periods stay exact (each is counted from the last scheduled
 * time, not from when it fired); only the phase moves, by less than kubelet's own start-up
 * jitter of up to a whole period. */
#define PROBE_ALIGN_USEC (250 * USEC_PER_MSEC)

static int on_period(sd_event_source *src, uint64_t usec, void *data)
{
    struct probe_run *p = data;
    sd_event_source_set_time(src, usec + p->spec->period_usec);
    sd_event_source_set_enabled(src, SD_EVENT_ON);
    if (p->in_flight || p->c->state != CTR_RUNNING)
        return 0;
    p->in_flight = true;
    sd_event_add_time_relative(p->c->shim->event, &p->timeout_timer, CLOCK_MONOTONIC,
                               p->spec->timeout_usec, 0, on_probe_timeout, p);
    _cleanup_error_ pr_error *err = NULL;
    int r = p->spec->handler == PROBE_EXEC ? start_exec(p, &err) : start_socket(p, &err);
    if (r < 0)
        probe_result(p, false, err->msg);
    return 0;
}

static void probe_arm(struct probe_run *p)
{
    if (!p->spec->handler || p->period_timer)
        return;
    p->successes = p->failures = 0;
    uint64_t window = p->spec->period_usec / 4;
    if (window > PROBE_ALIGN_USEC)
        window = PROBE_ALIGN_USEC;
    if (window == 0)
        window = 1; /* 0 would mean sd-event's default of 250 ms */
    sd_event_add_time_relative(p->c->shim->event, &p->period_timer, CLOCK_MONOTONIC,
                               p->spec->initial_delay_usec, window, on_period, p);
}

void probes_start(struct container *c)
{
    if (!c->started) {
        probe_arm(&c->probes[PROBE_STARTUP]);
        return;
    }
    probe_arm(&c->probes[PROBE_LIVENESS]);
    probe_arm(&c->probes[PROBE_READINESS]);
}

void probes_stop(struct container *c)
{
    for (int t = 0; t < PROBE_TYPES; t++) {
        struct probe_run *p = &c->probes[t];
        attempt_cleanup(p);
        p->period_timer = sd_event_source_disable_unref(p->period_timer);
        p->successes = p->failures = 0;
    }
}
