/* SPDX-License-Identifier: Apache-2.0 */
/* The pod's supervisor: one sd-event loop for child exits (SIGCHLD, and pidfds of adopted
 * containers), timers (back-off, grace periods, probes), pipes and the control socket.
 *
 * Recovery: a shim started on a pod directory whose previous shim died reads the old
 * status.json for the record (restart counts, times, completed init containers) and asks the
 * runtime about each container. Running ones are adopted, not stopped: the workload does not
 * depend on the supervisor (its output goes to FIFOs that outlive the shim, see container.c),
 * so a crash of the shim should not become an outage of the pod. Containers the runtime holds
 * but that are not running are deleted and handled like an exit. */
#include "shim.h"
#include "fs.h"
#include "json.h"
#include "log.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

uint64_t now_realtime(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * USEC_PER_SEC + (uint64_t)ts.tv_nsec / 1000;
}

uint64_t now_monotonic(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * USEC_PER_SEC + (uint64_t)ts.tv_nsec / 1000;
}

static struct container *all_at(struct shim *s, size_t i)
{
    return i < s->n_init ? &s->init[i] : &s->ctrs[i - s->n_init];
}
#define n_all(s) ((s)->n_init + (s)->n_ctrs)

struct container *shim_find(struct shim *s, const char *name)
{
    for (size_t i = 0; i < n_all(s); i++)
        if (!all_at(s, i)->vacant && streq(all_at(s, i)->spec->name, name))
            return all_at(s, i);
    return NULL;
}

/* ---- children ---- */

void shim_watch_child(struct shim *s, pid_t pid,
                      void (*on_exit)(struct shim *, void *, const siginfo_t *), void *data)
{
    struct child_watch *w = xcalloc(1, sizeof(*w));
    w->pid = pid;
    w->on_exit = on_exit;
    w->data = data;
    w->next = s->children;
    s->children = w;
}

void shim_unwatch_child(struct shim *s, pid_t pid)
{
    for (struct child_watch **pp = &s->children; *pp; pp = &(*pp)->next)
        if ((*pp)->pid == pid) {
            struct child_watch *w = *pp;
            *pp = w->next;
            free(w);
            return;
        }
}

/* We are a subreaper: besides our own children, whatever a runtime double-forks ends up here.
 * Reap everything; call whoever watches the pid. */
static int on_sigchld(sd_event_source *src, const struct signalfd_siginfo *ssi, void *data)
{
    struct shim *s = data;
    for (;;) {
        siginfo_t si = {0};
        if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG) < 0 || si.si_pid == 0)
            break;
        for (struct child_watch **pp = &s->children; *pp; pp = &(*pp)->next) {
            if ((*pp)->pid != si.si_pid)
                continue;
            struct child_watch *w = *pp;
            *pp = w->next;
            w->on_exit(s, w->data, &si);
            free(w);
            break;
        }
    }
    return 0;
}

static int on_term(sd_event_source *src, const struct signalfd_siginfo *ssi, void *data)
{
    shim_remove_pod(data);
    return 0;
}

/* ---- status ---- */

static const char *pod_phase(struct shim *s)
{
    if (s->init_failed || s->fail_reason)
        return "Failed";
    bool any_running = false, all_done = true, any_failed = false;
    for (size_t i = 0; i < s->n_ctrs; i++) {
        struct container *c = &s->ctrs[i];
        if (c->vacant)
            continue;
        if (c->state == CTR_RUNNING)
            any_running = true;
        if (c->state != CTR_TERMINATED)
            all_done = false;
        if (c->state == CTR_TERMINATED && (!c->has_exit_code || c->exit_code != 0))
            any_failed = true;
    }
    if (all_done)
        return any_failed ? "Failed" : "Succeeded";
    return any_running ? "Running" : "Pending";
}

static void gen_time(yajl_gen g, const char *key, uint64_t usec)
{
    if (!usec)
        return;
    char buf[40];
    format_rfc3339(usec, buf, sizeof(buf));
    jg_key_str(g, key, buf);
}

static void gen_container(yajl_gen g, struct container *c)
{
    jg_map_open(g);
    jg_key_str(g, "name", c->spec->name);
    jg_key_str(g, "id", c->spec->id);
    jg_key_str(g, "state", ctr_state_name(c->state));
    jg_key_str(g, "reason", c->reason);
    jg_key_str(g, "message", c->message);
    if (c->pid > 0)
        jg_key_int(g, "pid", c->pid);
    if (c->state == CTR_TERMINATED && c->has_exit_code)
        jg_key_int(g, "exitCode", c->exit_code);
    jg_key_uint(g, "restartCount", c->restart_count);
    gen_time(g, "startedAt", c->started_at);
    if (c->state == CTR_TERMINATED)
        gen_time(g, "finishedAt", c->finished_at);
    jg_key_bool(g, "ready", c->ready);
    jg_key_bool(g, "started", c->state == CTR_RUNNING && c->started);
    if (c->adopted)
        jg_key_bool(g, "adopted", true);
    if (c->spec->is_init)
        jg_key_bool(g, "completed", c->done);
    jg_key_str(g, "logPath", c->spec->log_path);
    if (c->log.n_pending) {
        jg_key_str(g, "logError", pr_strerror(c->log.last_errno));
        jg_key_uint(g, "logPendingBytes", c->log.n_pending);
    }
    if (c->has_last) {
        jg_key(g, "lastState");
        jg_map_open(g);
        jg_key_int(g, "exitCode", c->last_exit_code);
        jg_key_str(g, "reason", c->last_reason);
        jg_key_str(g, "message", c->last_message);
        gen_time(g, "startedAt", c->last_started_at);
        gen_time(g, "finishedAt", c->last_finished_at);
        jg_map_close(g);
    }
    jg_map_close(g);
}

int shim_status_json(struct shim *s, char **out, size_t *len)
{
    _cleanup_gen_ yajl_gen g = json_gen_new(false);
    jg_map_open(g);
    jg_key_str(g, "pod", s->spec->name);
    jg_key_int(g, "shimPid", getpid());
    jg_key_str(g, "phase", pod_phase(s));
    jg_key_bool(g, "supervise", s->spec->supervise);
    jg_key_str(g, "restartPolicy", restart_policy_name(s->spec->restart));
    podlife_status(s, g);
    jg_key(g, "initContainerStatuses");
    jg_array_open(g);
    for (size_t i = 0; i < s->n_init; i++)
        gen_container(g, &s->init[i]);
    jg_array_close(g);
    jg_key(g, "containerStatuses");
    jg_array_open(g);
    for (size_t i = 0; i < s->n_ctrs; i++)
        if (!s->ctrs[i].vacant)
            gen_container(g, &s->ctrs[i]);
    jg_array_close(g);
    jg_map_close(g);
    const char *buf = jg_buf(g, len);
    *out = xmalloc(*len + 2);
    memcpy(*out, buf, *len);
    (*out)[(*len)++] = '\n';
    (*out)[*len] = '\0';
    return 0;
}

void shim_status_changed(struct shim *s)
{
    if (s->removing && !s->event)
        return;
    _cleanup_free_ char *text = NULL;
    size_t len;
    shim_status_json(s, &text, &len);
    _cleanup_free_ char *path = xasprintf("%s/status.json", s->pod_dir);
    _cleanup_error_ pr_error *err = NULL;
    /* Atomic (rename) but not fsync'd: the record is rebuilt from the runtime after a reboot
     * anyway, and probes must not cost a disk flush. */
    if (write_file_atomic_volatile(path, text, len, 0644, &err) < 0)
        pr_warning("%s", err->msg);
}

void shim_event(struct shim *s, struct container *c, const char *event, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    _cleanup_free_ char *msg = xvasprintf(fmt, ap);
    va_end(ap);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    char tbuf[48];
    format_rfc3339_nano(&ts, tbuf, sizeof(tbuf));
    _cleanup_gen_ yajl_gen g = json_gen_new(false);
    jg_map_open(g);
    jg_key_str(g, "time", tbuf);
    jg_key_str(g, "pod", s->spec->name);
    if (c)
        jg_key_str(g, "container", c->spec->name);
    jg_key_str(g, "event", event);
    jg_key_str(g, "message", msg);
    jg_map_close(g);
    size_t len;
    const char *buf = jg_buf(g, &len);
    _cleanup_free_ char *line = xasprintf("%.*s\n", (int)len, buf);
    pr_debug("%s", buf);
    control_broadcast(s, line, len + 1);
    shim_status_changed(s);
}

void shim_record(struct shim *s, struct container *c, const char *type, const char *reason,
                 const char *fmt, ...)
{
    if (s->removed)
        return;
    va_list ap;
    va_start(ap, fmt);
    _cleanup_free_ char *msg = xvasprintf(fmt, ap);
    va_end(ap);
    _cleanup_free_ char *field =
        c ? xasprintf("spec.%s{%s}", c->spec->is_init ? "initContainers" : "containers",
                      c->spec->name)
          : NULL;
    podevents_record(&s->events, type, reason, "kubelet", field, now_realtime(), msg);
    _cleanup_free_ char *path = xasprintf("%s/" PODEVENTS_FILE, s->pod_dir);
    _cleanup_error_ pr_error *err = NULL;
    if (podevents_save(path, &s->events, &err) < 0)
        pr_warning("%s", err->msg);
}

/* ---- the pod's course ---- */

static bool should_restart(struct shim *s, struct container *c)
{
    if (c->spec->is_init)
        return s->spec->restart != RESTART_NEVER;
    if (!s->spec->supervise)
        return false;
    bool failed = !c->has_exit_code || c->exit_code != 0;
    return s->spec->restart == RESTART_ALWAYS || (s->spec->restart == RESTART_ON_FAILURE && failed);
}

void shim_start_pod(struct shim *s)
{
    if (s->removing || s->init_failed || s->fail_reason)
        return;
    while (s->next_init < s->n_init && s->init[s->next_init].done)
        s->next_init++;
    if (s->next_init < s->n_init) {
        struct container *c = &s->init[s->next_init];
        if (c->state != CTR_RUNNING && !c->restart_timer)
            container_start(c);
        return;
    }
    /* A sandbox's containers start by request only, as the kubelet asks for them. */
    for (size_t i = 0; i < s->n_ctrs && !s->spec->sandbox; i++) {
        struct container *c = &s->ctrs[i];
        if (c->state == CTR_WAITING && !c->restart_timer && !c->stop_requested)
            container_start(c);
    }
    shim_status_changed(s);
}

static void check_removed(struct shim *s)
{
    for (size_t i = 0; i < n_all(s); i++)
        if (all_at(s, i)->state == CTR_RUNNING)
            return;
    sd_event_exit(s->event, 0);
}

void shim_container_finished(struct shim *s, struct container *c)
{
    if (s->removing) {
        check_removed(s);
        return;
    }
    shim_status_changed(s);
    if (c->stop_requested)
        return;
    bool ok = c->has_exit_code && c->exit_code == 0;
    if (c->spec->is_init && ok) {
        c->done = true;
        c->backoff_n = 0;
        shim_status_changed(s);
        shim_start_pod(s);
        return;
    }
    if (should_restart(s, c)) {
        container_schedule_restart(c);
        return;
    }
    if (c->spec->is_init) {
        s->init_failed = true;
        shim_event(s, c, "pod-failed", "init container %s failed", c->spec->name);
    }
}

void shim_remove_pod(struct shim *s)
{
    if (s->removing)
        return;
    s->removing = true;
    shim_event(s, NULL, "removing", "stopping every container");
    for (size_t i = 0; i < n_all(s); i++) {
        struct container *c = all_at(s, i);
        if (c->vacant)
            continue;
        c->stop_requested = true;
        c->restart_timer = sd_event_source_disable_unref(c->restart_timer);
        if (c->state == CTR_RUNNING)
            container_stop(c, c->spec->stop_signal,
                           s->has_remove_grace ? s->remove_grace_usec : s->spec->grace_usec,
                           "pod removed");
    }
    check_removed(s);
}

/* ---- recovery ---- */

static uint64_t parse_rfc3339(const char *s)
{
    struct tm tm = {0};
    if (!s || !strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm))
        return 0;
    return (uint64_t)timegm(&tm) * USEC_PER_SEC;
}

static const char *static_reason(const char *r)
{
    static const char *known[] = {"Completed",          "Error",
                                  "OOMKilled",          "CrashLoopBackOff",
                                  "ContainerCannotRun", "ContainerCreating",
                                  "FailedPostStartHook"};
    for (size_t i = 0; r && i < ARRAY_SIZE(known); i++)
        if (streq(r, known[i]))
            return known[i];
    return r ? "Error" : NULL;
}

static void restore_record(struct container *c, yajl_val v)
{
    const char *st = NULL, *reason = NULL, *started = NULL, *finished = NULL;
    int64_t rc = 0, code = -1;
    bool done = false;
    yajl_val last = NULL;
    json_get_str(v, "state", "status", &st, NULL);
    json_get_str(v, "reason", "status", &reason, NULL);
    json_get_str(v, "startedAt", "status", &started, NULL);
    json_get_str(v, "finishedAt", "status", &finished, NULL);
    json_get_int64(v, "restartCount", "status", &rc, NULL);
    json_get_int64(v, "exitCode", "status", &code, NULL);
    json_get_bool(v, "completed", "status", &done, NULL);
    json_get_object(v, "lastState", "status", &last, NULL);
    c->restart_count = rc > 0 ? (unsigned)rc : 0;
    c->started_at = parse_rfc3339(started);
    c->done = done;
    if (st && streq(st, "terminated")) {
        c->state = CTR_TERMINATED;
        c->reason = static_reason(reason);
        c->finished_at = parse_rfc3339(finished);
        c->has_exit_code = json_get(v, "exitCode") != NULL;
        c->exit_code = (int)code;
    }
    if (last) {
        int64_t lc = 0;
        const char *lr = NULL, *ls = NULL, *lf = NULL;
        json_get_int64(last, "exitCode", "lastState", &lc, NULL);
        json_get_str(last, "reason", "lastState", &lr, NULL);
        json_get_str(last, "startedAt", "lastState", &ls, NULL);
        json_get_str(last, "finishedAt", "lastState", &lf, NULL);
        c->has_last = true;
        c->last_exit_code = (int)lc;
        c->last_reason = static_reason(lr);
        c->last_started_at = parse_rfc3339(ls);
        c->last_finished_at = parse_rfc3339(lf);
    }
}

/* The record of the previous shim of this pod says the container ran as exactly this process. */
static bool record_says_running(yajl_val record, pid_t pid)
{
    const char *st = NULL;
    int64_t rpid = 0;
    if (!record || json_get_str(record, "state", "status", &st, NULL) < 0 ||
        json_get_int64(record, "pid", "status", &rpid, NULL) < 0)
        return false;
    return st && streq(st, "running") && rpid == pid;
}

static void recover_container(struct shim *s, struct container *c, yajl_val record)
{
    if (record)
        restore_record(c, record);
    _cleanup_free_ char *status = NULL, *bundle = NULL;
    pid_t pid = 0;
    if (runtime_state(s, c->spec->id, &status, &pid, &bundle, NULL) < 0)
        return; /* the runtime has no such container: nothing to adopt */
    if (!container_bundle_is_ours(c, bundle)) {
        /* Another pod's container under the same runtime id: neither adopted nor deleted.
         * Starting ours reports ContainerCannotRun. */
        pr_warning("container id \"%s\" belongs to bundle `%s`, not `%s`: not adopted", c->spec->id,
                   bundle ? bundle : "unknown", c->spec->bundle);
        return;
    }
    if (streq(status, "running") && pid > 0 && record_says_running(record, pid) &&
        container_adopt(c, pid) == 0)
        return;
    /* Created but never started, stopped, paused by someone: not a state we can supervise
     * from the middle. Delete it; the record says what happens next. */
    c->created = true;
    container_delete(c);
    if (record && c->state != CTR_TERMINATED && c->started_at) {
        c->state = CTR_TERMINATED;
        c->reason = "Error";
        c->has_exit_code = false;
        c->finished_at = now_realtime();
        free(c->message);
        c->message = xstrdup("exited while no shim was watching");
    }
}

static void recover(struct shim *s)
{
    _cleanup_free_ char *path = xasprintf("%s/status.json", s->pod_dir);
    _cleanup_json_ yajl_val old = NULL;
    if (access(path, F_OK) == 0 && json_parse_file(path, &old, NULL) < 0)
        pr_warning("ignoring unreadable `%s`", path);
    yajl_val lists[2] = {json_get(old, "initContainerStatuses"),
                         json_get(old, "containerStatuses")};
    for (size_t i = 0; i < n_all(s); i++) {
        struct container *c = all_at(s, i);
        yajl_val list = lists[i < s->n_init ? 0 : 1], record = NULL;
        for (size_t j = 0; j < json_array_len(list); j++) {
            const char *name = NULL;
            json_get_str(json_array_at(list, j), "name", "status", &name, NULL);
            if (name && streq(name, c->spec->name))
                record = json_array_at(list, j);
        }
        recover_container(s, c, record);
    }
    if (old)
        shim_event(s, NULL, "recovered", "record of a previous shim read");
    /* A finished container whose record says it ran is judged again by the policy. */
    for (size_t i = 0; i < n_all(s); i++) {
        struct container *c = all_at(s, i);
        if (c->state == CTR_TERMINATED && !c->done &&
            (!c->spec->is_init || !c->has_exit_code || c->exit_code != 0)) {
            if (should_restart(s, c))
                container_schedule_restart(c);
            else if (c->spec->is_init)
                s->init_failed = true;
        } else if (c->spec->is_init && c->state == CTR_TERMINATED && c->has_exit_code &&
                   c->exit_code == 0) {
            c->done = true;
        }
    }
}

/* ---- life ---- */

static int take_pod_lock(struct shim *s, pr_error **err)
{
    _cleanup_free_ char *path = xasprintf("%s/shim.lock", s->pod_dir);
    int fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600);
    if (fd < 0)
        return pr_err(err, errno, "open `%s`", path);
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        int e = errno;
        close(fd);
        if (e == EWOULDBLOCK)
            return pr_err(err, 0, "another shim already runs the pod in `%s`", s->pod_dir);
        return pr_err(err, e, "lock `%s`", path);
    }
    s->lock_fd = fd;
    return 0;
}

/* The names the shim makes in its pod directory. One planted there in advance (a symlink, a
 * device, a hard link to a file elsewhere) would have the shim write, truncate or remove
 * through it: the pod directory is refused instead, before anything in it is used. */
enum pod_file_kind { POD_FILE_REGULAR, POD_FILE_WRITTEN, POD_FILE_FIFO };

static int check_pod_file(struct shim *s, const char *name, const char *suffix,
                          enum pod_file_kind kind, pr_error **err)
{
    _cleanup_free_ char *path = xasprintf("%s/%s%s", s->pod_dir, name, suffix);
    struct stat st;
    if (lstat(path, &st) < 0)
        return errno == ENOENT ? 0 : pr_err(err, errno, "pod directory: stat `%s`", path);
    static const char *const wanted[] = {"a regular file", "a regular file", "a FIFO"};
    bool ok = kind == POD_FILE_FIFO ? S_ISFIFO(st.st_mode) : S_ISREG(st.st_mode);
    if (S_ISLNK(st.st_mode))
        return pr_err(err, 0, "pod directory: `%s` is a symbolic link (the shim follows none)",
                      path);
    if (!ok)
        return pr_err(err, 0, "pod directory: `%s` is not %s", path, wanted[kind]);
    if (kind == POD_FILE_WRITTEN && st.st_nlink > 1)
        return pr_err(err, 0, "pod directory: `%s` has other hard links", path);
    return 0;
}

static int check_pod_dir(struct shim *s, pr_error **err)
{
    static const struct {
        const char *name;
        enum pod_file_kind kind;
    } files[] = {{"shim.log", POD_FILE_WRITTEN},
                 {"shim.lock", POD_FILE_REGULAR},
                 {"runtime.log", POD_FILE_WRITTEN},
                 {"status.json", POD_FILE_REGULAR},
                 {"pidns.pid", POD_FILE_REGULAR},
                 {PODEVENTS_FILE, POD_FILE_REGULAR}};
    int r;
    for (size_t i = 0; i < ARRAY_SIZE(files); i++)
        if ((r = check_pod_file(s, files[i].name, "", files[i].kind, err)) < 0)
            return r;
    for (size_t i = 0; i < s->spec->n_init + s->spec->n_ctrs; i++) {
        const char *name =
            i < s->spec->n_init ? s->spec->init[i].name : s->spec->ctrs[i - s->spec->n_init].name;
        if ((r = check_pod_file(s, name, ".stdout", POD_FILE_FIFO, err)) < 0 ||
            (r = check_pod_file(s, name, ".stderr", POD_FILE_FIFO, err)) < 0 ||
            (r = check_pod_file(s, name, ".pid", POD_FILE_REGULAR, err)) < 0)
            return r;
    }
    return 0;
}

int shim_new(const char *pod_dir, struct pod_spec *spec, struct shim **out, pr_error **err)
{
    struct shim *s = xcalloc(1, sizeof(*s));
    s->lock_fd = s->listen_fd = s->reserve_fd = s->self_netns_fd = s->ready_fd = -1;
    s->pod_dir = xstrdup(pod_dir);
    s->spec = spec;
    *out = s;
    _cleanup_free_ char *spec_path = xasprintf("%s/spec.json", pod_dir);
    int r;
    if ((r = take_pod_lock(s, err)) < 0 ||
        (!s->spec && (r = pod_spec_load(spec_path, &s->spec, err)) < 0) ||
        (r = check_pod_dir(s, err)) < 0)
        return r;
    /* A previous shim's events go on being counted. A record that cannot be read (too large,
     * not JSON) is a lost history, not a reason to leave the pod unsupervised. */
    _cleanup_free_ char *events = xasprintf("%s/" PODEVENTS_FILE, pod_dir);
    _cleanup_error_ pr_error *ev_err = NULL;
    if (podevents_load(events, &s->events, &ev_err) < 0)
        pr_warning("%s; its events start afresh", ev_err->msg);
    s->self_netns_fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
        return pr_err(err, errno, "PR_SET_CHILD_SUBREAPER");
    if ((r = sd_event_new(&s->event)) < 0)
        return pr_err(err, -r, "sd_event_new");
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGCHLD);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigprocmask(SIG_BLOCK, &mask, NULL);
    signal(SIGPIPE, SIG_IGN);
    if ((r = sd_event_add_signal(s->event, NULL, SIGCHLD, on_sigchld, s)) < 0 ||
        (r = sd_event_add_signal(s->event, NULL, SIGTERM, on_term, s)) < 0 ||
        (r = sd_event_add_signal(s->event, NULL, SIGINT, on_term, s)) < 0)
        return pr_err(err, -r, "sd_event_add_signal");
    s->n_init = s->spec->n_init;
    s->n_ctrs = s->spec->n_ctrs;
    s->init = xcalloc(s->n_init + 1, sizeof(struct container));
    /* A sandbox's slots are all there from the start: containers point into both arrays. */
    size_t slots = s->spec->sandbox ? SHIM_SANDBOX_CTRS_MAX : s->n_ctrs;
    s->ctrs = xcalloc(slots, sizeof(struct container));
    if (s->spec->sandbox) {
        s->spec->ctrs = xrealloc(s->spec->ctrs, slots * sizeof(struct ctr_spec));
        memset(s->spec->ctrs + s->n_ctrs, 0, (slots - s->n_ctrs) * sizeof(struct ctr_spec));
    }
    for (size_t i = 0; i < s->n_init; i++)
        container_init(s, &s->init[i], &s->spec->init[i]);
    for (size_t i = 0; i < s->n_ctrs; i++)
        container_init(s, &s->ctrs[i], &s->spec->ctrs[i]);
    if ((r = control_listen(s, err)) < 0)
        return r;
    for (size_t i = 0; i < s->n_ctrs; i++)
        attach_open(&s->ctrs[i]);
    return 0;
}

static void remove_pod_files(struct shim *s)
{
    /* Every container is gone from the runtime; what is left is ours. */
    for (size_t i = 0; i < n_all(s); i++) {
        struct container *c = all_at(s, i);
        if (!c->vacant && c->created)
            container_delete(c);
    }
    pidns_stop(s);
    rm_rf(s->pod_dir);
    /* Logs closed too, before anyone hears the pod is gone: the caller may unmount them. */
    for (size_t i = 0; i < n_all(s); i++)
        if (!all_at(s, i)->vacant)
            container_free(all_at(s, i));
    s->removed = true;
    /* Last: clients waiting on a remove request get their answer, then EOF. */
    control_close_all(s);
}

int shim_run(struct shim *s, pr_error **err)
{
    recover(s);
    int r = pidns_start(s, err);
    if (r < 0)
        return r;
    podlife_start(s);
    shim_status_changed(s);
    if (s->ready_fd >= 0) {
        _cleanup_free_ char *ok = xasprintf("OK %d\n", (int)getpid());
        if (write(s->ready_fd, ok, strlen(ok)) < 0)
            pr_warning("telling the caller we are up: %s", pr_strerror(errno));
        close(s->ready_fd);
        s->ready_fd = -1;
    }
    shim_start_pod(s);
    r = sd_event_loop(s->event);
    if (r < 0)
        return pr_err(err, -r, "event loop");
    if (s->removing)
        remove_pod_files(s);
    return 0;
}

void shim_free(struct shim *s)
{
    if (!s)
        return;
    podlife_stop(s);
    for (size_t i = 0; s->spec && i < n_all(s); i++)
        if (!all_at(s, i)->vacant)
            container_free(all_at(s, i));
    control_close_all(s);
    while (s->children)
        shim_unwatch_child(s, s->children->pid);
    free(s->init);
    free(s->ctrs);
    sd_event_unref(s->event);
    pod_spec_free(s->spec);
    podevents_clear(&s->events);
    if (s->lock_fd >= 0)
        close(s->lock_fd);
    if (s->self_netns_fd >= 0)
        close(s->self_netns_fd);
    free(s->pod_dir);
    free(s);
}
