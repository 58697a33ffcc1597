/* SPDX-License-Identifier: Apache-2.0 */
/* podrun-shim: one supervisor per pod (DESIGN.md §2). The library holds the pod spec parser,
 * the CRI logger, the runtime driver, probes, the control socket and the event loop; main.c
 * only parses the command line and detaches. */
#ifndef PODRUN_SHIM_H
#define PODRUN_SHIM_H

#include "attach.h"
#include "error.h"
#include "podevents.h"

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

#define USEC_PER_SEC  1000000ULL
#define USEC_PER_MSEC 1000ULL

/* ---- pod spec (spec.json) ---- */

enum restart_policy { RESTART_ALWAYS, RESTART_ON_FAILURE, RESTART_NEVER };
enum probe_handler { PROBE_NONE, PROBE_EXEC, PROBE_HTTP, PROBE_TCP };
enum probe_type { PROBE_STARTUP, PROBE_LIVENESS, PROBE_READINESS, PROBE_TYPES };

struct probe_spec {
    enum probe_handler handler;
    char **command; /* exec */
    char *host;     /* httpGet / tcpSocket; NULL: 127.0.0.1 inside the pod's netns */
    char *path;     /* httpGet, "/" by default */
    char **headers; /* httpGet, "Name: value" */
    int port;
    struct sockaddr_storage addr; /* host and port; addr_len 0 when host is not an address */
    socklen_t addr_len;
    char *request; /* httpGet: the whole request */
    uint64_t initial_delay_usec, period_usec, timeout_usec;
    unsigned success_threshold, failure_threshold;
};

/* lifecycle hooks: an exec or httpGet handler as a probe has them, or a sleep. */
enum hook_type { HOOK_POST_START, HOOK_PRE_STOP, HOOK_TYPES };
enum hook_handler { HOOK_NONE, HOOK_EXEC, HOOK_HTTP, HOOK_SLEEP };
struct hook_spec {
    enum hook_handler handler;
    struct probe_spec probe; /* HOOK_EXEC, HOOK_HTTP: command, or address and request */
    uint64_t sleep_usec;
};

/* An emptyDir whose usage the shim watches (the kubelet evicts a pod over its sizeLimit). */
struct volume_limit {
    char *name;
    char *path; /* absolute, on the host */
    uint64_t limit_bytes;
};

struct ctr_spec {
    char *name;
    char *id;     /* the runtime's container id: "<pod>-<name>" unless the spec names one */
    char *bundle; /* absolute */
    char *log_path;
    int stop_signal;
    bool is_init;
    struct probe_spec probes[PROBE_TYPES];
    struct hook_spec hooks[HOOK_TYPES];
    char *termination_message_path;    /* host file bound at terminationMessagePath; NULL none */
    bool termination_message_fallback; /* FallbackToLogsOnError */
    /* The container's own stdin (kept by the shim), closed after the first attach session
     * with stdinOnce; a terminal (the runtime's --console-socket). attach.c. */
    bool stdin_, stdin_once, tty;
};

struct pod_spec {
    char *name;
    /* The pod's namespace and uid, for its events; NULL when not given. */
    char *ns, *uid;
    char *runtime;      /* binary keeping DESIGN.md §1 */
    char *runtime_root; /* its --root; NULL: the runtime's default */
    bool runtime_systemd_cgroup; /* its --systemd-cgroup (cgroupsPath is SLICE:PREFIX:NAME) */
    bool supervise;
    enum restart_policy restart;
    uint64_t grace_usec;
    uint64_t backoff_base_usec, backoff_cap_usec, backoff_reset_usec;
    uint64_t runtime_timeout_usec;
    uint64_t log_max_size;
    unsigned log_max_files;
    struct ctr_spec *init;
    size_t n_init;
    struct ctr_spec *ctrs;
    size_t n_ctrs;
    uint64_t active_deadline_usec; /* 0: none */
    struct volume_limit *volume_limits;
    size_t n_volume_limits;
    uint64_t volume_check_usec;
    char *pid_namespace; /* shareProcessNamespace: where to pin the pod's PID namespace */
    /* A CRI sandbox: it may start with no container, containers come and go by the create and
     * delete requests (sandbox.c), and none starts but by a start request. */
    bool sandbox;
};

/* Containers a sandbox holds at once (slots of deleted ones are reused): a kubelet's pod has a
 * few, and a slot's address must not move while its container has timers and children. */
#define SHIM_SANDBOX_CTRS_MAX 64

/* spec.json is read whole up to this (DESIGN.md, "Limits"): a pod of many containers, each
 * with its own command, environment and probes, is tens of kilobytes. */
#define POD_SPEC_MAX ((size_t)4 << 20)
int pod_spec_parse(const char *text, const char *what, struct pod_spec **out, pr_error **err);
int pod_spec_load(const char *path, struct pod_spec **out, pr_error **err);
void pod_spec_free(struct pod_spec *s);
void ctr_spec_free(struct ctr_spec *c);
const char *restart_policy_name(enum restart_policy p);
int signal_from_name(const char *name);

/* Kubernetes' crash-loop back-off: the delay before restart number n (n >= 1). */
uint64_t backoff_delay(uint64_t base, uint64_t cap, unsigned n);

/* ---- CRI logger ---- */

#define LOG_LINE_MAX 16384 /* longer lines are split into P records */

struct log_file {
    char *path;
    int fd;
    uint64_t size;
    uint64_t max_size; /* 0: no rotation */
    unsigned max_files;
    dev_t dev; /* the live file: rotation moves only this one */
    ino_t ino;
    bool rotation_refused;
    char *pending; /* records not yet on disk (disk full): the pipe is not read meanwhile */
    size_t n_pending;
    int last_errno;
};

struct log_stream {
    const char *name; /* "stdout" / "stderr" */
    char *line;       /* LOG_LINE_MAX bytes, only while a line is incomplete */
    size_t n_line;
};

/* "2016-10-06T00:17:09.669794202Z" from a CLOCK_REALTIME timespec; buf >= 40 bytes. */
void format_rfc3339_nano(const struct timespec *ts, char *buf, size_t size);
void format_rfc3339(uint64_t realtime_usec, char *buf, size_t size);
int log_file_open(struct log_file *lf, const char *path, uint64_t max_size, unsigned max_files,
                  pr_error **err);
void log_file_close(struct log_file *lf);
int log_file_reopen(struct log_file *lf, pr_error **err);
/* Feeds bytes read from a stream; whole lines become F records, a buffer's worth of a line
 * without newline a P record. Returns 0, or -errno when the disk refused (data kept pending). */
int log_feed(struct log_file *lf, struct log_stream *ls, const char *data, size_t len);
/* At EOF: the rest of an unterminated line as an F record. */
int log_stream_flush(struct log_file *lf, struct log_stream *ls);
void log_stream_free(struct log_stream *ls);
/* Retries pending records; 0 when all are on disk. */
int log_file_flush_pending(struct log_file *lf);

/* ---- the running pod ---- */

enum ctr_state { CTR_WAITING, CTR_RUNNING, CTR_TERMINATED };

struct shim;
struct container;

struct child_watch {
    pid_t pid;
    void (*on_exit)(struct shim *s, void *data, const siginfo_t *si);
    void *data;
    struct child_watch *next;
};

struct probe_run {
    struct container *c;
    enum probe_type type;
    struct probe_spec *spec;
    sd_event_source *period_timer;
    sd_event_source *timeout_timer;
    sd_event_source *io;
    int fd;        /* tcp/http socket */
    pid_t pid;     /* exec child */
    int out_fd;    /* exec child's output */
    char buf[512]; /* http status line */
    size_t n_buf;
    size_t sent;
    unsigned successes, failures;
    bool in_flight;
};

struct container {
    struct shim *shim;
    struct ctr_spec *spec;
    enum ctr_state state;
    const char *reason; /* static string */
    char *message;
    pid_t pid;
    int pidfd;
    int netns_fd;
    int exit_code;
    bool has_exit_code;
    unsigned restart_count;
    uint64_t started_at, finished_at; /* CLOCK_REALTIME usec */
    uint64_t started_mono;
    bool ready, started; /* started: the startup probe passed (or there is none) */
    bool created;        /* the runtime holds a container for it */
    bool adopted;        /* running when a previous shim died: not our child */
    bool vacant;         /* a sandbox's slot whose container was deleted (sandbox.c) */
    bool stop_requested; /* stopped on request: no restart */
    bool stopping;
    /* The Killing event of the stop that follows is recorded already (a failed probe). */
    bool killing_recorded;
    bool done;          /* init container that completed */
    unsigned backoff_n; /* restarts since the back-off was last reset */
    char *oom_file;     /* memory.events / memory.oom_control of its cgroup */
    uint64_t oom_kills_at_start;
    /* last termination, for lastState */
    bool has_last;
    int last_exit_code;
    const char *last_reason;
    uint64_t last_started_at, last_finished_at;

    struct log_file log;
    struct log_stream out, err;
    int out_fd, err_fd; /* read ends of the stdout/stderr FIFOs */
    sd_event_source *out_src, *err_src;
    int tty_fd; /* the terminal's master while it runs with one; -1 */
    sd_event_source *tty_src;
    int in_fd; /* where its stdin is written: the pipe's write end, or the master again */
    struct attach_point *attach;
    sd_event_source *kill_timer, *restart_timer, *log_retry_timer, *exit_src;
    struct probe_run probes[PROBE_TYPES];
    struct hook_run *hook;   /* a lifecycle hook in flight (hooks.c) */
    bool post_start_failed;  /* killed because its postStart failed */
    int pending_stop_signal; /* sent when the preStop hook is done */
    char *last_message;
};

struct client;

struct shim {
    sd_event *event;
    char *pod_dir;
    struct pod_spec *spec;
    struct container *init;
    size_t n_init;
    struct container *ctrs;
    size_t n_ctrs;
    size_t next_init; /* init containers run in order; n_init when done */
    bool init_failed;
    bool removing;
    bool removed; /* every container deleted and the pod files gone */
    int lock_fd;
    int listen_fd;
    int reserve_fd; /* spent to accept-and-close a connection when descriptors run out */
    int self_netns_fd;
    sd_event_source *listen_src;
    sd_event_source *accept_pause; /* accepting resumes when it fires */
    struct child_watch *children;
    struct client *clients;
    size_t n_clients;
    int exit_code;
    int ready_fd; /* tells the starting process we are up (or why not), then closed */
    /* podlife.c: the pod's own course (activeDeadlineSeconds, eviction) */
    const char *fail_reason; /* static: DeadlineExceeded, Evicted; NULL while not failed */
    char *fail_message;
    uint64_t start_time;        /* CLOCK_REALTIME usec: when the pod first started */
    uint64_t remove_grace_usec; /* a remove request's grace period, over the spec's */
    bool has_remove_grace;
    sd_event_source *deadline_timer, *volume_timer;
    pid_t pidns_pid; /* the init holding the pod's shared PID namespace; 0: none */
    bool pidns_adopted;
    sd_event_source *pidns_src; /* the adopted init's pidfd */
    /* What DIR/events.json holds. */
    struct podevents events;
};

/* shim.c */
/* spec: already parsed (taken over), or NULL to load DIR/spec.json. */
int shim_new(const char *pod_dir, struct pod_spec *spec, struct shim **out, pr_error **err);
int shim_run(struct shim *s, pr_error **err);
void shim_free(struct shim *s);
void shim_watch_child(struct shim *s, pid_t pid,
                      void (*on_exit)(struct shim *, void *, const siginfo_t *), void *data);
void shim_unwatch_child(struct shim *s, pid_t pid);
void shim_status_changed(struct shim *s);
void shim_event(struct shim *s, struct container *c, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Records a Kubernetes event of the pod (c: about that container) in DIR/events.json. */
void shim_record(struct shim *s, struct container *c, const char *type, const char *reason,
                 const char *fmt, ...) __attribute__((format(printf, 5, 6)));
void shim_remove_pod(struct shim *s);
struct container *shim_find(struct shim *s, const char *name);
void shim_start_pod(struct shim *s);
void shim_container_finished(struct shim *s, struct container *c);
uint64_t now_realtime(void);
uint64_t now_monotonic(void);
int shim_status_json(struct shim *s, char **out, size_t *len);

/* runtime.c: the runtime CLI, synchronously with a timeout (its calls are short) */
int runtime_call(struct shim *s, char *const *args, int out_fd, int err_fd, char **output,
                 pr_error **err);
/* The same with the runtime's stdin (in_fd; -1: /dev/null), which create gives the container. */
int runtime_call_in(struct shim *s, char *const *args, int in_fd, int out_fd, int err_fd,
                    char **output, pr_error **err);
/* exec asynchronously: argv for `runtime exec`, output to a pipe; returns the child pid. */
int runtime_spawn_exec(struct shim *s, const char *id, char *const *cmd, int *out_fd,
                       pr_error **err);
/* bundle (may be NULL): the bundle the runtime created the container from. */
int runtime_state(struct shim *s, const char *id, char **status, pid_t *pid, char **bundle,
                  pr_error **err);

/* container.c */
void container_init(struct shim *s, struct container *c, struct ctr_spec *spec);
void container_free(struct container *c);
int container_start(struct container *c);
void container_stop(struct container *c, int sig, uint64_t grace_usec, const char *why);
void container_kill_now(struct container *c);
void container_signal(struct container *c, int sig); /* through the runtime, else the pidfd */
void container_delete(struct container *c);
int container_adopt(struct container *c, pid_t pid);
/* Whether a container the runtime holds under our id was made from this container's bundle:
 * runtime ids are shared by every pod under one runtimeRoot. */
bool container_bundle_is_ours(struct container *c, const char *bundle);
void container_schedule_restart(struct container *c);
int container_reopen_log(struct container *c, pr_error **err);
void container_output_update(struct container *c);
const char *ctr_state_name(enum ctr_state st);

/* pidns.c: the init that holds a pod's shared PID namespace */
int pidns_hold_main(void);
/* Adopts the running init of the pinned namespace, or clones a new one and pins it. */
int pidns_start(struct shim *s, pr_error **err);
/* Kills the init and removes the pin (after every container is deleted). */
void pidns_stop(struct shim *s);

/* probe.c */
void probes_start(struct container *c);
void probes_stop(struct container *c);
/* HTTP status line "HTTP/1.1 200 OK": the code, or -1 when malformed. */
int http_status_code(const char *buf, size_t len);

/* hooks.c: postStart and preStop, and the termination message */
/* After each start: runs postStart; a failure kills the container (FailedPostStartHook). */
void hooks_post_start(struct container *c);
/* Runs preStop, then sends sig; returns false when there is none to run (send it now). */
bool hooks_pre_stop(struct container *c, int sig);
/* Ends a hook in flight (the container is gone or killed). */
void hooks_cancel(struct container *c);
/* At exit: the container's termination message into c->message (bounded, see hooks.c). */
void hooks_termination_message(struct container *c);
/* Before each start: the termination message file emptied. */
void hooks_reset_termination_message(struct container *c);

/* podlife.c: activeDeadlineSeconds and emptyDir sizeLimit, the shim's own limits on the pod */
void podlife_start(struct shim *s);
void podlife_stop(struct shim *s);
/* Stops every container for good and marks the pod Failed with reason and message. */
void shim_fail_pod(struct shim *s, const char *reason, const char *message);
void podlife_status(struct shim *s, void *gen); /* the pod-level status keys (a yajl_gen) */
/* Bytes a directory tree holds (blocks, as du counts them), not crossing into other mounts. */
uint64_t dir_usage(const char *path);

/* attach.c: the container's own stdio and its attach socket (podrun-shim(8), ATTACH) */
void attach_open(struct container *c);
void attach_free(struct container *c);
/* Output the container wrote, to every attached client (after the log has it). */
void attach_output(struct container *c, enum attach_channel ch, const char *data, size_t len);
/* The container exited: clients get its code and are closed; its stdin is closed. */
void attach_exited(struct container *c, int code);
/* An attached client holds a full queue: the container's output waits (a bounded time). */
bool attach_blocked(struct container *c);
int attach_stdin_pipe(struct container *c, pr_error **err);
char *attach_console_path(struct container *c);
int attach_console_listen(struct container *c, pr_error **err);
int attach_console_receive(struct container *c, int listen_fd, pr_error **err);
/* sandbox.c: a CRI sandbox's containers, made and deleted one at a time */
/* Takes container name from DIR/spec.json (the pod manager wrote it there first) into a free
 * slot, created but not started. */
int sandbox_create_container(struct shim *s, const char *name, pr_error **err);
/* Deletes a container that is not running from the runtime, closes its log, frees its slot. */
int sandbox_delete_container(struct shim *s, struct container *c, pr_error **err);

/* control.c */
int control_listen(struct shim *s, pr_error **err);
void control_broadcast(struct shim *s, const char *line, size_t len);
void control_close_all(struct shim *s);

#endif
