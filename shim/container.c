/* SPDX-License-Identifier: Apache-2.0 */
/* One container of the pod: create/start/stop/delete through the runtime, its exit, its logs.
 *
 * stdout and stderr are FIFOs in the pod directory, handed to the runtime's create opened
 * read-write. The container therefore always holds a reader of its own output: if the shim
 * dies, the container's writes fill the pipe and block instead of failing with EPIPE, and the
 * next shim opens the same FIFOs and goes on reading. That is what makes adoption after a shim
 * crash possible without losing output. */
#include "shim.h"
#include "cgroup-read.h"
#include "fs.h"
#include "log.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sys/stat.h>
#include <sys/wait.h>

#define PIPE_SIZE       (1024 * 1024)
#define LOG_RETRY_USEC  (500 * USEC_PER_MSEC)
#define READS_PER_EVENT 16

const char *ctr_state_name(enum ctr_state st)
{
    return st == CTR_WAITING ? "waiting" : st == CTR_RUNNING ? "running" : "terminated";
}

/* c comes zeroed from calloc: no memset, which would make the whole struct (and its line
 * buffers) resident for nothing. */
void container_init(struct shim *s, struct container *c, struct ctr_spec *spec)
{
    c->shim = s;
    c->spec = spec;
    c->state = CTR_WAITING;
    c->reason = "ContainerCreating";
    c->pidfd = c->netns_fd = c->out_fd = c->err_fd = c->tty_fd = c->in_fd = -1;
    c->log.fd = -1;
    c->out.name = "stdout";
    c->err.name = "stderr";
    for (int t = 0; t < PROBE_TYPES; t++) {
        c->probes[t].c = c;
        c->probes[t].type = t;
        c->probes[t].spec = &spec->probes[t];
        c->probes[t].fd = c->probes[t].out_fd = -1;
    }
}

static void set_message(struct container *c, const char *msg)
{
    free(c->message);
    c->message = msg ? xstrdup(msg) : NULL;
}

static char *fifo_path(struct container *c, const char *stream)
{
    return xasprintf("%s/%s.%s", c->shim->pod_dir, c->spec->name, stream);
}

/* ---- logs ---- */

static void log_sources_enable(struct container *c, int on)
{
    if (c->out_src)
        sd_event_source_set_enabled(c->out_src, on);
    if (c->err_src)
        sd_event_source_set_enabled(c->err_src, on);
    if (c->tty_src)
        sd_event_source_set_enabled(c->tty_src, on);
}

/* The container's output is read while the log takes it and no attached client holds too much
 * of it (attach.c); otherwise the container waits on its full pipe. */
void container_output_update(struct container *c)
{
    log_sources_enable(c, c->log.n_pending || attach_blocked(c) ? SD_EVENT_OFF : SD_EVENT_ON);
}

static int on_log_retry(sd_event_source *src, uint64_t usec, void *data)
{
    struct container *c = data;
    if (log_file_flush_pending(&c->log) < 0) {
        sd_event_source_set_time_relative(src, LOG_RETRY_USEC);
        sd_event_source_set_enabled(src, SD_EVENT_ONESHOT);
        return 0;
    }
    shim_event(c->shim, c, "log-resumed", "%s", c->log.path);
    container_output_update(c);
    return 0;
}

/* The disk refused: stop reading the pipes so the container blocks on them, retry later. */
static void log_stall(struct container *c)
{
    log_sources_enable(c, SD_EVENT_OFF);
    if (!c->log_retry_timer) {
        sd_event_add_time_relative(c->shim->event, &c->log_retry_timer, CLOCK_MONOTONIC,
                                   LOG_RETRY_USEC, 0, on_log_retry, c);
    } else {
        sd_event_source_set_time_relative(c->log_retry_timer, LOG_RETRY_USEC);
        sd_event_source_set_enabled(c->log_retry_timer, SD_EVENT_ONESHOT);
    }
    shim_event(c->shim, c, "log-stalled", "%s: %s", c->log.path, pr_strerror(c->log.last_errno));
}

/* Reads what the pipe holds (a bounded number of chunks per wake-up, to stay fair to the other
 * containers). Returns true at EOF. */
static bool read_stream(struct container *c, int fd, struct log_stream *ls, int max_reads)
{
    char buf[16384]; /* a pipe page group per read; bigger only grows our resident stack */
    for (int i = 0; max_reads < 0 || i < max_reads; i++) {
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EIO)
            return true; /* a terminal whose other side every process closed */
        if (n < 0)
            return false; /* EAGAIN */
        if (n == 0)
            return true;
        bool was_ok = c->log.n_pending == 0;
        int fed = log_feed(&c->log, ls, buf, (size_t)n);
        attach_output(c, ls == &c->err ? ATTACH_STDERR : ATTACH_STDOUT, buf, (size_t)n);
        if (fed < 0 && was_ok && max_reads >= 0) {
            log_stall(c);
            return false;
        }
        if (max_reads >= 0 && attach_blocked(c))
            return false; /* a client's queue is full: the rest waits in the pipe */
    }
    return false;
}

static int on_log_io(sd_event_source *src, int fd, uint32_t revents, void *data)
{
    struct container *c = data;
    /* A terminal's output is stdout, as the kubelet logs it. */
    struct log_stream *ls = fd == c->err_fd ? &c->err : &c->out;
    if (read_stream(c, fd, ls, READS_PER_EVENT)) {
        /* Every writer is gone: until the container is started again there is nothing. */
        if (log_stream_flush(&c->log, ls) < 0 && c->log.n_pending)
            log_stall(c);
        sd_event_source_set_enabled(src, SD_EVENT_OFF);
    }
    return 0;
}

/* Everything the container wrote before it exited, so its last words come before our
 * report of its exit. */
static void drain_logs(struct container *c)
{
    if (c->out_fd >= 0)
        read_stream(c, c->out_fd, &c->out, -1);
    if (c->err_fd >= 0)
        read_stream(c, c->err_fd, &c->err, -1);
    if (c->tty_fd >= 0)
        read_stream(c, c->tty_fd, &c->out, -1);
    log_stream_flush(&c->log, &c->out);
    log_stream_flush(&c->log, &c->err);
    if (c->log.n_pending && !c->log_retry_timer)
        log_stall(c);
}

/* The terminal is the container's for one run: a new create makes a new one. */
static void close_tty(struct container *c)
{
    c->tty_src = sd_event_source_disable_unref(c->tty_src);
    if (c->tty_fd >= 0)
        close(c->tty_fd);
    c->tty_fd = -1;
}

static void close_fifos(struct container *c)
{
    c->out_src = sd_event_source_disable_unref(c->out_src);
    c->err_src = sd_event_source_disable_unref(c->err_src);
    if (c->out_fd >= 0)
        close(c->out_fd);
    if (c->err_fd >= 0)
        close(c->err_fd);
    c->out_fd = c->err_fd = -1;
}

/* The FIFOs are opened without following a symlink and used only when they are FIFOs: the
 * container's output must not go into whatever file a name planted in the pod directory
 * points at. */
static int open_fifo(const char *path, int flags, pr_error **err)
{
    int fd = open(path, flags | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return pr_err(err, errno, "open `%s`", path);
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISFIFO(st.st_mode)) {
        close(fd);
        return pr_err(err, 0, "`%s` is not a FIFO", path);
    }
    return fd;
}

static int open_fifo_reader(struct container *c, const char *stream, int *fd, sd_event_source **src,
                            pr_error **err)
{
    _cleanup_free_ char *path = fifo_path(c, stream);
    if (mkfifo(path, 0600) < 0 && errno != EEXIST)
        return pr_err(err, errno, "mkfifo `%s`", path);
    int rfd = open_fifo(path, O_RDONLY, err);
    if (rfd < 0)
        return rfd;
    fcntl(rfd, F_SETPIPE_SZ, PIPE_SIZE); /* a bigger cushion when it is allowed */
    int r = sd_event_add_io(c->shim->event, src, rfd, EPOLLIN, on_log_io, c);
    if (r < 0) {
        close(rfd);
        return pr_err(err, -r, "watch `%s`", path);
    }
    *fd = rfd;
    if (c->log.n_pending || attach_blocked(c))
        sd_event_source_set_enabled(*src, SD_EVENT_OFF);
    return 0;
}

static int open_logs(struct container *c, pr_error **err)
{
    int r;
    if (!c->log.path) {
        _cleanup_free_ char *dir = xstrdup(c->spec->log_path);
        char *slash = strrchr(dir, '/');
        if (slash && slash != dir) {
            *slash = '\0';
            if ((r = mkdir_p(dir, 0750, err)) < 0)
                return r;
        }
        if ((r = log_file_open(&c->log, c->spec->log_path, c->shim->spec->log_max_size,
                               c->shim->spec->log_max_files, err)) < 0)
            return r;
    }
    close_fifos(c);
    if ((r = open_fifo_reader(c, "stdout", &c->out_fd, &c->out_src, err)) < 0 ||
        (r = open_fifo_reader(c, "stderr", &c->err_fd, &c->err_src, err)) < 0)
        return r;
    return 0;
}

int container_reopen_log(struct container *c, pr_error **err)
{
    if (!c->log.path)
        return 0;
    int r = log_file_reopen(&c->log, err);
    if (r == 0 && c->log.n_pending && log_file_flush_pending(&c->log) == 0)
        container_output_update(c);
    return r;
}

/* ---- OOM: the memory cgroup's oom_kill counter, read before the runtime deletes it ---- */

/* Leading digits of a number the kernel or the runtime wrote. */
static uint64_t parse_digits(const char *s)
{
    uint64_t v = 0;
    while (*s == ' ' || *s == '\t' || *s == '\n')
        s++;
    for (; *s >= '0' && *s <= '9'; s++)
        v = v * 10 + (uint64_t)(*s - '0');
    return v;
}

static uint64_t read_oom_kills(const char *file)
{
    uint64_t n = 0;
    if (file && cgroup_read_keyed_u64(file, "oom_kill", &n) < 0)
        n = 0;
    return n;
}

/* ---- runtime calls ---- */

static void runtime_delete(struct container *c)
{
    char *args[] = {(char *)"delete", (char *)"--force", c->spec->id, NULL};
    _cleanup_error_ pr_error *err = NULL;
    if (runtime_call(c->shim, args, -1, -1, NULL, &err) < 0 && !strstr(err->msg, "not exist") &&
        !strstr(err->msg, "not found"))
        pr_warning("%s", err->msg);
    c->created = false;
}

void container_delete(struct container *c)
{
    runtime_delete(c);
}

/* The runtime's own words from its --log, for ContainerCannotRun. */
static char *runtime_log_error(struct shim *s)
{
    _cleanup_free_ char *path = xasprintf("%s/runtime.log", s->pod_dir), *text = NULL;
    size_t len;
    if (read_file(path, &text, &len, NULL) < 0)
        return NULL;
    char *last = NULL;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        char *m = strstr(line, "\"msg\":\"");
        if (m && strstr(line, "\"level\":\"error\"")) {
            m += 7;
            char *e = m;
            while (*e && !(*e == '"' && e[-1] != '\\'))
                e++;
            free(last);
            last = strndup(m, (size_t)(e - m));
        }
    }
    return last;
}

static void on_container_exit(struct shim *s, void *data, const siginfo_t *si);

/* runtime.log starts empty for each create, so that its last error is this create's. Emptied
 * only as a regular file with one name, not through a symlink. */
static int empty_runtime_log(const char *path, pr_error **err)
{
    _cleanup_close_ int fd =
        open(path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, 0600);
    if (fd < 0)
        return pr_err(err, errno, "open `%s`", path);
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_nlink > 1)
        return pr_err(err, 0, "`%s` is not a regular file with one name", path);
    if (ftruncate(fd, 0) < 0)
        return pr_err(err, errno, "empty `%s`", path);
    return 0;
}

static void cannot_run(struct container *c, const char *msg)
{
    _cleanup_free_ char *rt_msg = runtime_log_error(c->shim);
    _cleanup_free_ char *full =
        rt_msg && !strstr(msg, rt_msg) ? xasprintf("%s: %s", msg, rt_msg) : xstrdup(msg);
    hooks_cancel(c);
    if (c->pid > 0)
        shim_unwatch_child(c->shim, c->pid);
    if (c->pidfd >= 0) {
        sys_pidfd_send_signal(c->pidfd, SIGKILL);
        close(c->pidfd);
        c->pidfd = -1;
    }
    /* Only what we created: the runtime may hold another pod's container under this id. */
    if (c->created)
        runtime_delete(c);
    close_fifos(c);
    close_tty(c);
    attach_exited(c, 128);
    c->pid = 0;
    c->state = CTR_TERMINATED;
    c->reason = "ContainerCannotRun";
    c->exit_code = 128;
    c->has_exit_code = true;
    c->finished_at = now_realtime();
    set_message(c, full);
    shim_event(c->shim, c, "failed", "%s", full);
    shim_record(c->shim, c, "Warning", "Failed", "Error: %s", full);
    shim_container_finished(c->shim, c);
}

static int read_pid_file(const char *path, pid_t *pid)
{
    _cleanup_free_ char *text = NULL;
    size_t len;
    if (read_file(path, &text, &len, NULL) < 0)
        return -errno;
    uint64_t v = parse_digits(text);
    if (v == 0 || v > INT32_MAX)
        return -EINVAL;
    *pid = (pid_t)v;
    return 0;
}

/* After create: what we watch and probe the container through. */
static int attach_process(struct container *c, pid_t pid)
{
    c->pid = pid;
    c->pidfd = sys_pidfd_open(pid, 0);
    if (c->pidfd < 0)
        return -errno;
    _cleanup_free_ char *ns = xasprintf("/proc/%d/ns/net", pid);
    c->netns_fd = open(ns, O_RDONLY | O_CLOEXEC);
    free(c->oom_file);
    c->oom_file = cgroup_oom_file_of(pid);
    c->oom_kills_at_start = read_oom_kills(c->oom_file);
    return 0;
}

static void mark_running(struct container *c)
{
    c->state = CTR_RUNNING;
    c->reason = NULL;
    set_message(c, NULL);
    c->has_exit_code = false;
    c->started = !c->spec->probes[PROBE_STARTUP].handler || !c->shim->spec->supervise;
    c->ready =
        c->started && (!c->spec->probes[PROBE_READINESS].handler || !c->shim->spec->supervise);
    if (c->spec->is_init)
        c->ready = false;
    shim_status_changed(c->shim);
    if (c->shim->spec->supervise)
        probes_start(c);
}

bool container_bundle_is_ours(struct container *c, const char *bundle)
{
    if (!bundle || !c->spec->bundle)
        return false;
    if (streq(bundle, c->spec->bundle))
        return true;
    _cleanup_free_ char *real = realpath(c->spec->bundle, NULL);
    return real && streq(bundle, real);
}

/* Before create: an id the runtime already holds is either a leftover of ours (our bundle),
 * deleted, or another pod's container, which is not touched: ours cannot run under that id. */
static int claim_id(struct container *c, pr_error **err)
{
    _cleanup_free_ char *status = NULL, *bundle = NULL;
    pid_t pid = 0;
    if (runtime_state(c->shim, c->spec->id, &status, &pid, &bundle, NULL) < 0)
        return 0; /* no such container */
    if (!container_bundle_is_ours(c, bundle))
        return pr_err(err, 0,
                      "container id \"%s\" is already used by another container (bundle `%s`, "
                      "%s): not touched",
                      c->spec->id, bundle ? bundle : "unknown", status);
    c->created = true;
    runtime_delete(c);
    return 0;
}

int container_start(struct container *c)
{
    struct shim *s = c->shim;
    _cleanup_error_ pr_error *err = NULL;
    c->restart_timer = sd_event_source_disable_unref(c->restart_timer);
    if (c->state == CTR_RUNNING)
        return 0;
    if (c->started_at || c->has_last)
        c->restart_count++;
    c->stop_requested = c->stopping = false;
    c->state = CTR_WAITING;
    c->reason = "ContainerCreating";
    if (c->created)
        runtime_delete(c);
    hooks_reset_termination_message(c);
    if (claim_id(c, &err) < 0 || open_logs(c, &err) < 0) {
        cannot_run(c, err->msg);
        return -1;
    }
    _cleanup_free_ char *out_path = fifo_path(c, "stdout"), *err_path = fifo_path(c, "stderr");
    _cleanup_free_ char *pid_file = xasprintf("%s/%s.pid", s->pod_dir, c->spec->name);
    _cleanup_free_ char *rt_log = xasprintf("%s/runtime.log", s->pod_dir);
    _cleanup_close_ int wout = open_fifo(out_path, O_RDWR, &err);
    _cleanup_close_ int werr = wout < 0 ? -1 : open_fifo(err_path, O_RDWR, &err);
    if (wout < 0 || werr < 0) {
        cannot_run(c, err->msg);
        return -1;
    }
    /* The runtime writes in blocking mode. */
    fcntl(wout, F_SETFL, 0);
    fcntl(werr, F_SETFL, 0);
    unlink(pid_file);
    if (empty_runtime_log(rt_log, &err) < 0) {
        cannot_run(c, err->msg);
        return -1;
    }
    close_tty(c);
    _cleanup_close_ int child_in = attach_stdin_pipe(c, &err);
    _cleanup_close_ int console = -1;
    _cleanup_free_ char *console_path = attach_console_path(c);
    if ((c->spec->stdin_ && !c->spec->tty && child_in < 0) ||
        (c->spec->tty && (console = attach_console_listen(c, &err)) < 0)) {
        cannot_run(c, err->msg);
        return -1;
    }
    char *create[] = {(char *)"--log",
                      rt_log,
                      (char *)"--log-format",
                      (char *)"json",
                      (char *)"create",
                      (char *)"--bundle",
                      c->spec->bundle,
                      (char *)"--pid-file",
                      pid_file,
                      c->spec->id,
                      NULL,
                      NULL,
                      NULL};
    if (c->spec->tty) {
        /* runc's order: the options, then the id. */
        create[9] = (char *)"--console-socket";
        create[10] = console_path;
        create[11] = c->spec->id;
    }
    if (runtime_call_in(s, create, child_in, wout, werr, NULL, &err) < 0) {
        c->created = true; /* whatever a failed or killed runtime left: delete --force it */
        if (c->spec->tty)
            unlink(console_path);
        cannot_run(c, err->msg);
        return -1;
    }
    c->created = true;
    if (c->spec->tty &&
        (attach_console_receive(c, console, &err) < 0 ||
         sd_event_add_io(s->event, &c->tty_src, c->tty_fd, EPOLLIN, on_log_io, c) < 0)) {
        cannot_run(c, err ? err->msg : "watch the container's terminal");
        return -1;
    }
    if (c->tty_src)
        container_output_update(c);
    shim_record(s, c, "Normal", "Created", "Created container %s", c->spec->name);
    pid_t pid = 0;
    if (read_pid_file(pid_file, &pid) < 0 || attach_process(c, pid) < 0) {
        cannot_run(c, "the runtime created no process (no pid file)");
        return -1;
    }
    shim_watch_child(s, pid, on_container_exit, c);
    char *start[] = {(char *)"start", c->spec->id, NULL};
    if (runtime_call(s, start, -1, -1, NULL, &err) < 0) {
        cannot_run(c, err->msg);
        return -1;
    }
    c->started_at = now_realtime();
    c->started_mono = now_monotonic();
    c->finished_at = 0;
    c->adopted = false;
    shim_event(s, c, "started", "pid %d", (int)pid);
    shim_record(s, c, "Normal", "Started", "Started container %s", c->spec->name);
    mark_running(c);
    hooks_post_start(c);
    return 0;
}

/* ---- exit ---- */

static void container_exited(struct container *c, bool known, int code)
{
    struct shim *s = c->shim;
    drain_logs(c);
    close_tty(c);
    attach_exited(c, known ? code : -1);
    hooks_cancel(c);
    bool oom = c->oom_file && read_oom_kills(c->oom_file) > c->oom_kills_at_start;
    probes_stop(c);
    c->kill_timer = sd_event_source_disable_unref(c->kill_timer);
    c->exit_src = sd_event_source_disable_unref(c->exit_src);
    if (c->pidfd >= 0)
        close(c->pidfd);
    if (c->netns_fd >= 0)
        close(c->netns_fd);
    c->pidfd = c->netns_fd = -1;
    c->state = CTR_TERMINATED;
    c->has_exit_code = known;
    c->exit_code = known ? code : -1;
    c->reason = oom                  ? "OOMKilled"
                : c->post_start_failed ? "FailedPostStartHook"
                : known && code == 0   ? "Completed"
                                       : "Error";
    if (!known && !c->message)
        set_message(c, "exit status unknown: the container exited while adopted by a "
                       "restarted shim");
    c->finished_at = now_realtime();
    c->ready = false;
    c->pid = 0;
    c->stopping = false;
    hooks_termination_message(c);
    runtime_delete(c);
    if (oom) {
        shim_event(s, c, "oom", "killed by the OOM killer");
        shim_record(s, c, "Warning", "OOMKilling",
                    "Memory cgroup out of memory: the OOM killer killed a process of container %s",
                    c->spec->name);
    }
    shim_event(s, c, "exited", "code %d reason %s", c->exit_code, c->reason);
    shim_container_finished(s, c);
}

static void on_container_exit(struct shim *s, void *data, const siginfo_t *si)
{
    struct container *c = data;
    int code = si->si_code == CLD_EXITED ? si->si_status : 128 + si->si_status;
    container_exited(c, true, code);
}

/* An adopted container is not our child: its pidfd turns readable when it exits, but its exit
 * status went to whoever inherited it. */
static int on_adopted_exit(sd_event_source *src, int fd, uint32_t revents, void *data)
{
    struct container *c = data;
    container_exited(c, false, -1);
    return 0;
}

int container_adopt(struct container *c, pid_t pid)
{
    _cleanup_error_ pr_error *err = NULL;
    if (attach_process(c, pid) < 0)
        return -1;
    c->created = true;
    c->adopted = true;
    if (open_logs(c, &err) < 0)
        pr_warning("adopting %s: %s", c->spec->name, err->msg);
    if (sd_event_add_io(c->shim->event, &c->exit_src, c->pidfd, EPOLLIN, on_adopted_exit, c) < 0)
        return -1;
    if (!c->started_at)
        c->started_at = now_realtime();
    c->started_mono = now_monotonic();
    shim_event(c->shim, c, "adopted", "pid %d", (int)pid);
    mark_running(c);
    return 0;
}

/* ---- stop ---- */

static void send_signal(struct container *c, int sig)
{
    _cleanup_free_ char *num = xasprintf("%d", sig);
    char *args[] = {(char *)"kill", c->spec->id, num, NULL};
    _cleanup_error_ pr_error *err = NULL;
    if (runtime_call(c->shim, args, -1, -1, NULL, &err) < 0) {
        /* The runtime failed us; the pidfd still reaches exactly this process. */
        pr_warning("%s; signalling pid %d directly", err->msg, (int)c->pid);
        if (c->pidfd >= 0)
            sys_pidfd_send_signal(c->pidfd, sig);
    }
}

void container_signal(struct container *c, int sig)
{
    send_signal(c, sig);
}

void container_kill_now(struct container *c)
{
    hooks_cancel(c);
    if (c->state != CTR_RUNNING)
        return;
    c->kill_timer = sd_event_source_disable_unref(c->kill_timer);
    shim_event(c->shim, c, "killing", "SIGKILL");
    send_signal(c, SIGKILL);
}

static int on_kill_timer(sd_event_source *src, uint64_t usec, void *data)
{
    container_kill_now(data);
    return 0;
}

void container_stop(struct container *c, int sig, uint64_t grace_usec, const char *why)
{
    /* A failed probe recorded its own Killing event, with the reason. */
    bool recorded = c->killing_recorded;
    c->killing_recorded = false;
    c->restart_timer = sd_event_source_disable_unref(c->restart_timer);
    if (c->state != CTR_RUNNING) {
        if (c->state == CTR_WAITING && c->stop_requested) {
            c->state = CTR_TERMINATED;
            shim_status_changed(c->shim);
        }
        return;
    }
    if (why)
        set_message(c, why);
    if (c->stopping)
        return;
    c->stopping = true;
    shim_event(c->shim, c, "stopping", "signal %d, grace %llu ms%s%s", sig,
               (unsigned long long)(grace_usec / 1000), why ? ": " : "", why ? why : "");
    if (!recorded)
        shim_record(c->shim, c, "Normal", "Killing", "Stopping container %s", c->spec->name);
    if (grace_usec == 0) {
        container_kill_now(c);
        return;
    }
    /* preStop first when there is one; the deadline below covers it too. */
    if (!hooks_pre_stop(c, sig))
        send_signal(c, sig);
    if (c->state == CTR_RUNNING)
        sd_event_add_time_relative(c->shim->event, &c->kill_timer, CLOCK_MONOTONIC, grace_usec, 0,
                                   on_kill_timer, c);
}

/* ---- restart with back-off ---- */

static int on_restart_timer(sd_event_source *src, uint64_t usec, void *data)
{
    struct container *c = data;
    c->restart_timer = sd_event_source_disable_unref(c->restart_timer);
    container_start(c);
    return 0;
}

void container_schedule_restart(struct container *c)
{
    struct shim *s = c->shim;
    uint64_t ran = c->started_mono ? now_monotonic() - c->started_mono : 0;
    /* Kubernetes forgets the back-off of a container that ran long enough. */
    if (ran >= s->spec->backoff_reset_usec)
        c->backoff_n = 0;
    uint64_t delay =
        backoff_delay(s->spec->backoff_base_usec, s->spec->backoff_cap_usec, ++c->backoff_n);
    c->has_last = true;
    c->last_exit_code = c->exit_code;
    c->last_reason = c->reason;
    c->last_started_at = c->started_at;
    c->last_finished_at = c->finished_at;
    free(c->last_message);
    c->last_message = c->message ? xstrdup(c->message) : NULL;
    c->state = CTR_WAITING;
    c->reason = "CrashLoopBackOff";
    _cleanup_free_ char *msg = xasprintf("back-off %llu ms restarting failed container",
                                         (unsigned long long)(delay / 1000));
    set_message(c, msg);
    shim_event(s, c, "backoff", "%llu ms", (unsigned long long)(delay / 1000));
    /* The kubelet names the pod NAME_NAMESPACE(UID). */
    _cleanup_free_ char *pod = s->spec->ns && s->spec->uid ? xasprintf("%s_%s(%s)", s->spec->name,
                                                                       s->spec->ns, s->spec->uid)
                                                           : xstrdup(s->spec->name);
    shim_record(s, c, "Warning", "BackOff", "Back-off restarting failed container %s in pod %s",
                c->spec->name, pod);
    sd_event_add_time_relative(s->event, &c->restart_timer, CLOCK_MONOTONIC, delay, 0,
                               on_restart_timer, c);
    shim_status_changed(s);
}

void container_free(struct container *c)
{
    hooks_cancel(c);
    free(c->last_message);
    c->last_message = NULL;
    probes_stop(c);
    close_fifos(c);
    close_tty(c);
    attach_free(c);
    c->kill_timer = sd_event_source_disable_unref(c->kill_timer);
    c->restart_timer = sd_event_source_disable_unref(c->restart_timer);
    c->log_retry_timer = sd_event_source_disable_unref(c->log_retry_timer);
    c->exit_src = sd_event_source_disable_unref(c->exit_src);
    if (c->pidfd >= 0)
        close(c->pidfd);
    if (c->netns_fd >= 0)
        close(c->netns_fd);
    c->pidfd = c->netns_fd = -1;
    log_file_close(&c->log);
    log_stream_free(&c->out);
    log_stream_free(&c->err);
    free(c->message);
    free(c->oom_file);
    c->message = c->oom_file = NULL;
}
