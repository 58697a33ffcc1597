/* SPDX-License-Identifier: Apache-2.0 */
/* shim.sock: JSON requests and replies, one per line.
 *   {"cmd":"status"}                          -> {"ok":true,"status":{...}}
 *   {"cmd":"stop","container":"web","timeoutSeconds":5}   (no container: all of them)
 *   {"cmd":"start","container":"web"}          (no container: all of them)
 *   {"cmd":"exec","container":"web","command":["ls"],"timeoutSeconds":10}
 *                                             -> {"ok":true,"exitCode":0,"output":"..."}
 *   {"cmd":"reopen-logs"}                     (with "container": that one's only)
 *   {"cmd":"create","container":"NAME"}       a sandbox's new container, from spec.json
 *                                             (written there first), created, not started
 *   {"cmd":"delete","container":"NAME"}       a sandbox's container that is not running:
 *                                             deleted from the runtime, its log closed
 *   {"cmd":"events"}                          -> {"ok":true} then one event per line
 *   {"cmd":"remove","timeoutSeconds":5}        -> stops and deletes everything, closes its
 *                                                logs, then replies and exits (timeoutSeconds:
 *                                                the grace period instead of the pod's; 0 kills
 *                                                at once and runs no preStop)
 * Errors: {"ok":false,"error":"..."}. */
#include "shim.h"
#include "json.h"
#include "log.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#define REQUEST_MAX  65536
#define EXEC_OUT_MAX 65536
/* Clients at once. Past it the oldest idle one makes room (one that never sent a request
 * first, an events stream last), so that a crowd of idle connections never locks out a status
 * request; a client with an exec in flight is not closed for that. */
#define CLIENTS_MAX       256
#define ACCEPT_PAUSE_USEC (100 * USEC_PER_MSEC)
/* timeoutSeconds of exec and stop: whole seconds up to a year (in microseconds it must not
 * wrap around). */
#define TIMEOUT_MAX_SECONDS (365LL * 86400)

struct client {
    struct shim *shim;
    int fd;
    sd_event_source *src;
    char *buf;
    size_t n;
    bool events;
    bool closing;
    bool busy;             /* inside its own request: freed by on_client_io, not under it */
    bool spoke;            /* has sent a request */
    bool discarding;       /* the rest of a line over REQUEST_MAX, already answered */
    bool awaiting_removal; /* asked for remove: answered when the pod is gone */
    /* exec in flight */
    pid_t exec_pid;
    int exec_fd;
    sd_event_source *exec_src, *exec_timer;
    char *exec_out;
    size_t exec_n;
    struct client *next;
};

static void client_free(struct client *cl)
{
    struct shim *s = cl->shim;
    for (struct client **pp = &s->clients; *pp; pp = &(*pp)->next)
        if (*pp == cl) {
            *pp = cl->next;
            s->n_clients--;
            break;
        }
    if (cl->exec_pid > 0) {
        shim_unwatch_child(s, cl->exec_pid);
        kill(cl->exec_pid, SIGKILL);
        waitpid(cl->exec_pid, NULL, 0);
    }
    sd_event_source_disable_unref(cl->exec_src);
    sd_event_source_disable_unref(cl->exec_timer);
    if (cl->exec_fd >= 0)
        close(cl->exec_fd);
    sd_event_source_disable_unref(cl->src);
    close(cl->fd);
    free(cl->exec_out);
    free(cl->buf);
    free(cl);
}

static void client_send(struct client *cl, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = send(cl->fd, data, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            /* A reader too slow for its events (or gone): it loses the stream, not us. */
            cl->closing = true;
            return;
        }
        data += n;
        len -= (size_t)n;
    }
}

static void reply_gen(struct client *cl, yajl_gen g)
{
    size_t len;
    const char *buf = jg_buf(g, &len);
    client_send(cl, buf, len);
    client_send(cl, "\n", 1);
}

static void reply_ok(struct client *cl)
{
    client_send(cl, "{\"ok\":true}\n", 12);
}

static void reply_error(struct client *cl, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void reply_error(struct client *cl, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    _cleanup_free_ char *msg = xvasprintf(fmt, ap);
    va_end(ap);
    _cleanup_gen_ yajl_gen g = json_gen_new(false);
    jg_map_open(g);
    jg_key_bool(g, "ok", false);
    jg_key_str(g, "error", msg);
    jg_map_close(g);
    reply_gen(cl, g);
}

void control_broadcast(struct shim *s, const char *line, size_t len)
{
    for (struct client *cl = s->clients, *next; cl; cl = next) {
        next = cl->next;
        if (!cl->events)
            continue;
        client_send(cl, line, len);
        if (cl->closing && !cl->busy)
            client_free(cl);
    }
}

/* ---- exec ---- */

static void exec_finish(struct client *cl, int code, const char *error)
{
    cl->exec_src = sd_event_source_disable_unref(cl->exec_src);
    cl->exec_timer = sd_event_source_disable_unref(cl->exec_timer);
    if (cl->exec_fd >= 0) {
        char tmp[4096];
        ssize_t n;
        while ((n = read(cl->exec_fd, tmp, sizeof(tmp))) > 0 && cl->exec_n < EXEC_OUT_MAX) {
            cl->exec_out = xrealloc(cl->exec_out, cl->exec_n + (size_t)n + 1);
            memcpy(cl->exec_out + cl->exec_n, tmp, (size_t)n);
            cl->exec_n += (size_t)n;
        }
        close(cl->exec_fd);
        cl->exec_fd = -1;
    }
    _cleanup_gen_ yajl_gen g = json_gen_new(false);
    jg_map_open(g);
    jg_key_bool(g, "ok", error == NULL);
    if (error)
        jg_key_str(g, "error", error);
    else
        jg_key_int(g, "exitCode", code);
    jg_key(g, "output");
    yajl_gen_string(g, (const unsigned char *)(cl->exec_out ? cl->exec_out : ""), cl->exec_n);
    jg_map_close(g);
    reply_gen(cl, g);
    free(cl->exec_out);
    cl->exec_out = NULL;
    cl->exec_n = 0;
}

static void on_exec_exit(struct shim *s, void *data, const siginfo_t *si)
{
    struct client *cl = data;
    cl->exec_pid = 0;
    exec_finish(cl, si->si_code == CLD_EXITED ? si->si_status : 128 + si->si_status, NULL);
}

static int on_exec_output(sd_event_source *src, int fd, uint32_t revents, void *data)
{
    struct client *cl = data;
    char tmp[4096];
    ssize_t n = read(fd, tmp, sizeof(tmp));
    if (n > 0 && cl->exec_n < EXEC_OUT_MAX) {
        cl->exec_out = xrealloc(cl->exec_out, cl->exec_n + (size_t)n + 1);
        memcpy(cl->exec_out + cl->exec_n, tmp, (size_t)n);
        cl->exec_n += (size_t)n;
    }
    if (n == 0)
        sd_event_source_set_enabled(src, SD_EVENT_OFF);
    return 0;
}

static int on_exec_timeout(sd_event_source *src, uint64_t usec, void *data)
{
    struct client *cl = data;
    if (cl->exec_pid > 0) {
        shim_unwatch_child(cl->shim, cl->exec_pid);
        kill(cl->exec_pid, SIGKILL);
        waitpid(cl->exec_pid, NULL, 0);
        cl->exec_pid = 0;
    }
    exec_finish(cl, -1, "exec timed out");
    return 0;
}

/* timeoutSeconds when the request has it: 1, *usec set; 0 when absent. */
static int get_timeout(yajl_val req, uint64_t *usec, pr_error **err)
{
    int64_t t = 0;
    int r = json_get_int64(req, "timeoutSeconds", "request", &t, err);
    if (r < 0)
        return r;
    yajl_val v = json_get(req, "timeoutSeconds");
    if (!v || YAJL_IS_NULL(v))
        return 0;
    if (t < 0 || t > TIMEOUT_MAX_SECONDS)
        return pr_err(err, 0, "request.timeoutSeconds: %lld is out of range (0 to %lld seconds)",
                      (long long)t, TIMEOUT_MAX_SECONDS);
    *usec = (uint64_t)t * USEC_PER_SEC;
    return 1;
}

static void do_exec(struct client *cl, struct container *c, yajl_val req)
{
    _cleanup_strv_ char **cmd = NULL;
    _cleanup_error_ pr_error *err = NULL;
    uint64_t timeout = 0;
    if (json_get_strv(req, "command", "request", &cmd, &err) < 0 ||
        get_timeout(req, &timeout, &err) < 0)
        return reply_error(cl, "%s", err->msg);
    if (!cmd || !cmd[0])
        return reply_error(cl, "exec: command is required");
    if (timeout == 0)
        timeout = 30 * USEC_PER_SEC;
    if (cl->exec_pid > 0)
        return reply_error(cl, "exec: one at a time per connection");
    if (c->state != CTR_RUNNING)
        return reply_error(cl, "exec: container %s is not running", c->spec->name);
    int r = runtime_spawn_exec(cl->shim, c->spec->id, cmd, &cl->exec_fd, &err);
    if (r < 0)
        return reply_error(cl, "%s", err->msg);
    cl->exec_pid = r;
    shim_watch_child(cl->shim, cl->exec_pid, on_exec_exit, cl);
    sd_event_add_io(cl->shim->event, &cl->exec_src, cl->exec_fd, EPOLLIN, on_exec_output, cl);
    sd_event_add_time_relative(cl->shim->event, &cl->exec_timer, CLOCK_MONOTONIC, timeout, 0,
                               on_exec_timeout, cl);
}

/* ---- requests ---- */

static void for_each_target(struct shim *s, struct container *one,
                            void (*fn)(struct client *, struct container *, yajl_val),
                            struct client *cl, yajl_val req)
{
    if (one) {
        fn(cl, one, req);
        return;
    }
    for (size_t i = 0; i < s->n_ctrs; i++)
        if (!s->ctrs[i].vacant)
            fn(cl, &s->ctrs[i], req);
}

static void stop_one(struct client *cl, struct container *c, yajl_val req)
{
    uint64_t grace = cl->shim->spec->grace_usec;
    get_timeout(req, &grace, NULL); /* checked before */
    c->stop_requested = true;
    container_stop(c, c->spec->stop_signal, grace, "stopped on request");
}

static void start_one(struct client *cl, struct container *c, yajl_val req)
{
    if (c->state == CTR_RUNNING)
        return;
    c->stop_requested = false;
    c->restart_timer = sd_event_source_disable_unref(c->restart_timer);
    container_start(c);
}

static void handle_request(struct client *cl, const char *line)
{
    struct shim *s = cl->shim;
    _cleanup_json_ yajl_val req = NULL;
    _cleanup_error_ pr_error *err = NULL;
    const char *cmd = NULL, *name = NULL;
    if (json_parse(line, "request", &req, &err) < 0 ||
        json_get_str(req, "cmd", "request", &cmd, &err) < 0 ||
        json_get_str(req, "container", "request", &name, &err) < 0)
        return reply_error(cl, "%s", err->msg);
    if (!cmd)
        return reply_error(cl, "request: cmd is required");
    struct container *c = NULL;
    if (streq(cmd ? cmd : "", "create")) {
        if (!name)
            return reply_error(cl, "create: container is required");
        if (s->removing)
            return reply_error(cl, "the pod is being removed");
        if (sandbox_create_container(s, name, &err) < 0)
            return reply_error(cl, "%s", err->msg);
        return reply_ok(cl);
    }
    if (name && !(c = shim_find(s, name)))
        return reply_error(cl, "no container \"%s\" in this pod", name);
    if (streq(cmd, "status")) {
        _cleanup_free_ char *st = NULL;
        size_t len;
        shim_status_json(s, &st, &len);
        _cleanup_free_ char *out = xasprintf("{\"ok\":true,\"status\":%.*s}\n", (int)len - 1, st);
        client_send(cl, out, strlen(out));
    } else if (streq(cmd, "stop")) {
        uint64_t grace;
        if (get_timeout(req, &grace, &err) < 0)
            return reply_error(cl, "%s", err->msg);
        reply_ok(cl);
        for_each_target(s, c, stop_one, cl, req);
    } else if (streq(cmd, "start")) {
        if (s->removing)
            return reply_error(cl, "the pod is being removed");
        for_each_target(s, c, start_one, cl, req);
        reply_ok(cl);
    } else if (streq(cmd, "exec")) {
        if (!c)
            return reply_error(cl, "exec: container is required");
        do_exec(cl, c, req);
    } else if (streq(cmd, "reopen-logs")) {
        for (size_t i = 0; i < s->n_init + s->n_ctrs; i++) {
            struct container *x = i < s->n_init ? &s->init[i] : &s->ctrs[i - s->n_init];
            if (x->vacant || (c && x != c))
                continue;
            if (container_reopen_log(x, &err) < 0)
                return reply_error(cl, "%s", err->msg);
        }
        reply_ok(cl);
    } else if (streq(cmd, "delete")) {
        if (!c)
            return reply_error(cl, "delete: container is required");
        if (sandbox_delete_container(s, c, &err) < 0)
            return reply_error(cl, "%s", err->msg);
        reply_ok(cl);
    } else if (streq(cmd, "events")) {
        cl->events = true;
        reply_ok(cl);
    } else if (streq(cmd, "remove")) {
        /* timeoutSeconds: the grace period instead of the pod's (delete --grace-period). */
        uint64_t grace = s->spec->grace_usec;
        int g = get_timeout(req, &grace, &err);
        if (g < 0)
            return reply_error(cl, "%s", err->msg);
        /* The answer waits for the end, so that "ok" means nothing of the pod is left open: a
         * caller may unmount the log directory or delete the pod dir at once. */
        cl->awaiting_removal = true;
        if (g > 0 && !s->removing) {
            s->remove_grace_usec = grace;
            s->has_remove_grace = true;
        }
        shim_remove_pod(s);
    } else {
        reply_error(cl,
                    "unknown cmd \"%s\" (status, stop, start, exec, reopen-logs, events, "
                    "remove, create, delete)",
                    cmd);
    }
}

/* Every line gets an answer, a malformed one an error. */
static void handle_line(struct client *cl, char *line, size_t len)
{
    cl->busy = true;
    cl->spoke = true;
    if (len == 0)
        reply_error(cl, "request: empty line (one JSON object per line)");
    else if (memchr(line, '\0', len))
        reply_error(cl, "request: a NUL byte in the line (one JSON object per line)");
    else
        handle_request(cl, line);
    cl->busy = false;
}

/* Takes a chunk apart into lines. A line longer than REQUEST_MAX is answered with an error as
 * soon as it is too long, and the rest of it is read and dropped: memory stays bounded and the
 * connection stays usable for the next line. */
static void client_consume(struct client *cl, const char *p, size_t left)
{
    while (left > 0 && !cl->closing) {
        const char *nl = memchr(p, '\n', left);
        size_t take = nl ? (size_t)(nl - p) : left;
        if (cl->discarding) {
            cl->discarding = nl == NULL;
        } else if (cl->n + take > REQUEST_MAX) {
            free(cl->buf);
            cl->buf = NULL;
            cl->n = 0;
            cl->discarding = nl == NULL;
            cl->busy = true;
            reply_error(cl, "request: a line longer than %d bytes", REQUEST_MAX);
            cl->busy = false;
        } else {
            cl->buf = xrealloc(cl->buf, cl->n + take + 1);
            memcpy(cl->buf + cl->n, p, take);
            cl->n += take;
            cl->buf[cl->n] = '\0';
            if (nl) {
                _cleanup_free_ char *line = steal_pointer(&cl->buf);
                size_t len = cl->n;
                cl->n = 0;
                handle_line(cl, line, len);
            }
        }
        if (!nl)
            break;
        left -= take + 1;
        p = nl + 1;
    }
}

static int on_client_io(sd_event_source *src, int fd, uint32_t revents, void *data)
{
    struct client *cl = data;
    char tmp[4096];
    ssize_t n = recv(fd, tmp, sizeof(tmp), 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return 0;
    if (n <= 0) {
        client_free(cl);
        return 0;
    }
    client_consume(cl, tmp, (size_t)n);
    if (cl->closing)
        client_free(cl);
    return 0;
}

/* 0: never sent a request, 1: sent some, 2: reads events; -1: not to be closed. */
static int eviction_rank(const struct client *cl)
{
    if (cl->busy || cl->exec_pid > 0)
        return -1;
    return cl->events ? 2 : cl->spoke ? 1 : 0;
}

/* Closes the oldest client of the lowest rank. The list is newest first. */
static bool evict_idle(struct shim *s)
{
    struct client *victim = NULL;
    int best = 3;
    for (struct client *cl = s->clients; cl; cl = cl->next) {
        int rank = eviction_rank(cl);
        if (rank >= 0 && rank <= best) {
            best = rank;
            victim = cl;
        }
    }
    if (!victim)
        return false;
    client_free(victim);
    return true;
}

static int on_accept_resume(sd_event_source *src, uint64_t usec, void *data)
{
    struct shim *s = data;
    s->accept_pause = sd_event_source_disable_unref(s->accept_pause);
    sd_event_source_set_enabled(s->listen_src, SD_EVENT_ON);
    return 0;
}

/* The listening socket stays readable while a connection waits: not accepting it would make
 * the loop spin. Accepting is paused for a moment instead. */
static void pause_accepting(struct shim *s)
{
    if (s->accept_pause)
        return;
    if (sd_event_add_time_relative(s->event, &s->accept_pause, CLOCK_MONOTONIC, ACCEPT_PAUSE_USEC,
                                   0, on_accept_resume, s) < 0)
        return;
    sd_event_source_set_enabled(s->listen_src, SD_EVENT_OFF);
}

/* Out of descriptors with nobody to close: the reserve descriptor is given up to take the
 * waiting connection off the queue and close it, so its client learns at once. */
static void refuse_one(struct shim *s)
{
    if (s->reserve_fd < 0) {
        pause_accepting(s);
        return;
    }
    close(s->reserve_fd);
    int fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC);
    if (fd >= 0)
        close(fd);
    s->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno != EAGAIN)
        pause_accepting(s);
}

static int accept_client(struct shim *s)
{
    int cfd = accept4(s->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (cfd >= 0 || (errno != EMFILE && errno != ENFILE))
        return cfd;
    /* Out of descriptors: an idle client makes room for the new one. */
    if (evict_idle(s) &&
        (cfd = accept4(s->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0)
        return cfd;
    if (errno == EMFILE || errno == ENFILE) {
        refuse_one(s);
        errno = EAGAIN;
    }
    return -1;
}

static int on_accept(sd_event_source *src, int fd, uint32_t revents, void *data)
{
    struct shim *s = data;
    int cfd = accept_client(s);
    if (cfd < 0) {
        if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
            pause_accepting(s); /* ENOMEM, ENOBUFS ...: try again shortly */
        return 0;
    }
    if (s->n_clients >= CLIENTS_MAX && !evict_idle(s)) {
        close(cfd); /* every client has an exec in flight */
        return 0;
    }
    struct client *cl = xcalloc(1, sizeof(*cl));
    cl->shim = s;
    cl->fd = cfd;
    cl->exec_fd = -1;
    if (sd_event_add_io(s->event, &cl->src, cfd, EPOLLIN, on_client_io, cl) < 0) {
        close(cfd);
        free(cl);
        return 0;
    }
    cl->next = s->clients;
    s->clients = cl;
    s->n_clients++;
    return 0;
}

int control_listen(struct shim *s, pr_error **err)
{
    _cleanup_free_ char *path = xasprintf("%s/shim.sock", s->pod_dir);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof(sa.sun_path))
        return pr_err(err, 0, "socket path `%s` is too long", path);
    strcpy(sa.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return pr_err(err, errno, "socket");
    unlink(path); /* a dead shim's: we hold the pod lock, so it is not a live one's */
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || chmod(path, 0600) < 0 ||
        listen(fd, 16) < 0) {
        int e = errno;
        close(fd);
        return pr_err(err, e, "listen on `%s`", path);
    }
    s->listen_fd = fd;
    s->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    int r = sd_event_add_io(s->event, &s->listen_src, fd, EPOLLIN, on_accept, s);
    if (r < 0)
        return pr_err(err, -r, "watch `%s`", path);
    return 0;
}

void control_close_all(struct shim *s)
{
    for (struct client *cl = s->clients; cl; cl = cl->next)
        if (cl->awaiting_removal && !cl->closing) {
            if (s->removed)
                reply_ok(cl);
            else
                reply_error(cl, "the shim stopped before the pod was removed");
        }
    while (s->clients)
        client_free(s->clients);
    s->listen_src = sd_event_source_disable_unref(s->listen_src);
    s->accept_pause = sd_event_source_disable_unref(s->accept_pause);
    if (s->listen_fd >= 0)
        close(s->listen_fd);
    s->listen_fd = -1;
    if (s->reserve_fd >= 0)
        close(s->reserve_fd);
    s->reserve_fd = -1;
}
