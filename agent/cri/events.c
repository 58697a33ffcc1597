/* SPDX-License-Identifier: Apache-2.0 */
/* GetContainerEvents (the kubelet's Evented PLEG): a ContainerEventResponse to every open
 * stream when a container is created, started, stopped or deleted. Created, started, deleted and
 * stopped-by-StopContainer come from the call that made the change, on the loop once it
 * succeeded: the server knows of them first, and the request or response names the container. A
 * container that exits on its own is seen by the shim only, which renames a new status.json into
 * its sandbox's shim dir: an inotify watch on those dirs (added when a sandbox is run, a container
 * is created in one, or found at start-up) reads it and turns running -> terminated into
 * STOPPED. Each container's last event is kept so that one change is told once, whichever of
 * the two saw it first. Each event then gets its statuses on a worker (eventstatus.c), one
 * event at a time, and goes to every open stream. */
#include "agent/pods/pods.h"
#include "json.h"
#include "log.h"
#include "server.h"
#include "util.h"

#include <dirent.h>
#include <sys/inotify.h>
#include <time.h>

/* Containers whose last event is kept; past it the oldest are forgotten. */
#define EVENTS_TRACKED_MAX 65536
#define STATUS_MAX         (4u << 20)

enum { SEEN_NONE = -1 };

struct tracked {
    struct tracked *next;
    char *sandbox;     /* its sandbox's id, when a call named it */
    int last;          /* a RUNTIME__V1__CONTAINER_EVENT_TYPE__*, or SEEN_NONE */
    bool exited_early; /* the shim said terminated before StartContainer's answer came */
    char id[];
};

struct shim_watch {
    struct shim_watch *next;
    int wd;
    char *dir;
    char *sandbox; /* its id: what the containers its status names belong to */
};

/* An event waiting for its statuses (eventstatus.c, on a worker): one at a time, so that the
 * events go out in the order of the changes. */
struct ev_job {
    struct ev_job *next;
    uint8_t *msg; /* the packed ContainerEventResponse without its statuses */
    size_t len;
};

const struct cri_method cri_event_method = {"/podrun.internal/ContainerEventStatuses",
                                            &runtime__v1__container_event_response__descriptor,
                                            cri_event_fill, false, false};

struct cri_events {
    struct ev_job *jobs, *jobs_tail;
    bool job_running;
    struct tracked *tracked;
    size_t ntracked;
    int ifd;
    sd_event_source *src;
    char *sandboxes_dir;
    struct shim_watch *watches;
};

static struct tracked *tracked_get(struct cri_events *e, const char *id, bool add)
{
    for (struct tracked *t = e->tracked; t; t = t->next)
        if (streq(t->id, id))
            return t;
    if (!add)
        return NULL;
    if (e->ntracked >= EVENTS_TRACKED_MAX) {
        struct tracked **p = &e->tracked;
        while ((*p)->next)
            p = &(*p)->next;
        free((*p)->sandbox);
        free(*p);
        *p = NULL;
        e->ntracked--;
    }
    size_t n = strlen(id) + 1;
    struct tracked *t = xcalloc(1, sizeof(*t) + n);
    memcpy(t->id, id, n);
    t->last = SEEN_NONE;
    t->next = e->tracked;
    e->tracked = t;
    e->ntracked++;
    return t;
}

static void tracked_drop(struct cri_events *e, const char *id)
{
    for (struct tracked **p = &e->tracked; *p; p = &(*p)->next)
        if (streq((*p)->id, id)) {
            struct tracked *t = *p;
            *p = t->next;
            free(t->sandbox);
            free(t);
            e->ntracked--;
            return;
        }
}

static void push_all(cri_server *s, const uint8_t *body, size_t len)
{
    _cleanup_free_ uint8_t *framed = grpc_frame(body, len);
    for (struct cri_conn *c = s->conns, *next; c; c = next) {
        next = cri_conn_next(c); /* a failed send frees it */
        cri_conn_push(c, framed, len + GRPC_PREFIX_LEN);
    }
}

static void next_job(cri_server *s)
{
    struct cri_events *e = s->events;
    if (e->job_running || !e->jobs)
        return;
    struct ev_job *j = e->jobs;
    e->jobs = j->next;
    if (!e->jobs)
        e->jobs_tail = NULL;
    struct cri_call *call = xcalloc(1, sizeof(*call));
    call->m = &cri_event_method;
    call->req = j->msg;
    call->req_len = j->len;
    free(j);
    e->job_running = true;
    cri_calls_submit(s, call);
}

static void send_event(cri_server *s, const struct tracked *t, Runtime__V1__ContainerEventType type)
{
    struct cri_events *e = s->events;
    /* With no one to tell, the statuses are not worth their cost (a pod manager open per
     * container): the change is still kept (container_event), so nothing is told twice. */
    if (!s->subscribers)
        return;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    Runtime__V1__ContainerEventResponse ev = RUNTIME__V1__CONTAINER_EVENT_RESPONSE__INIT;
    Runtime__V1__PodSandboxStatus sb = RUNTIME__V1__POD_SANDBOX_STATUS__INIT;
    ev.container_id = (char *)t->id;
    ev.container_event_type = type;
    ev.created_at = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
    if (t->sandbox) {
        sb.id = t->sandbox;
        ev.pod_sandbox_status = &sb;
    }
    struct ev_job *j = xcalloc(1, sizeof(*j));
    j->len = protobuf_c_message_get_packed_size(&ev.base);
    j->msg = xmalloc(j->len ? j->len : 1);
    protobuf_c_message_pack(&ev.base, j->msg);
    if (e->jobs_tail)
        e->jobs_tail->next = j;
    else
        e->jobs = j;
    e->jobs_tail = j;
    next_job(s);
}

/* The event's statuses came (or not: then it goes without them). */
static void job_done(cri_server *s, const struct cri_call *c)
{
    s->events->job_running = false;
    if (c->reply.code == GRPC_OK)
        push_all(s, c->reply.body, c->reply.len);
    else
        push_all(s, c->req, c->req_len);
    next_job(s);
}

/* Tells a container's change once: an event a container already had is not sent again. */
static void container_event(cri_server *s, const char *id, Runtime__V1__ContainerEventType type)
{
    struct cri_events *e = s->events;
    struct tracked *t = tracked_get(e, id, true);
    if (t->last == (int)type)
        return;
    if (type == RUNTIME__V1__CONTAINER_EVENT_TYPE__CONTAINER_STOPPED_EVENT &&
        t->last == RUNTIME__V1__CONTAINER_EVENT_TYPE__CONTAINER_DELETED_EVENT)
        return;
    t->last = (int)type;
    send_event(s, t, type);
    if (type == RUNTIME__V1__CONTAINER_EVENT_TYPE__CONTAINER_STARTED_EVENT && t->exited_early) {
        t->exited_early = false;
        t->last = RUNTIME__V1__CONTAINER_EVENT_TYPE__CONTAINER_STOPPED_EVENT;
        send_event(s, t, RUNTIME__V1__CONTAINER_EVENT_TYPE__CONTAINER_STOPPED_EVENT);
    }
    if (type == RUNTIME__V1__CONTAINER_EVENT_TYPE__CONTAINER_DELETED_EVENT)
        tracked_drop(e, id);
}

/* ---- the shims' status.json ---- */

static void watch_shim(cri_server *s, const char *sandbox)
{
    struct cri_events *e = s->events;
    if (e->ifd < 0 || !e->sandboxes_dir || !sandbox || !*sandbox || strchr(sandbox, '/'))
        return;
    _cleanup_free_ char *dir = pods_cri_shim_dir_in(e->sandboxes_dir, sandbox);
    int wd = inotify_add_watch(
        e->ifd, dir, IN_MOVED_TO | IN_CLOSE_WRITE | IN_ONLYDIR | IN_DONT_FOLLOW | IN_EXCL_UNLINK);
    if (wd < 0) {
        pr_debug("cri: events: cannot watch %s: %s", dir, pr_strerror(errno));
        return;
    }
    for (struct shim_watch *w = e->watches; w; w = w->next)
        if (w->wd == wd)
            return;
    struct shim_watch *w = xcalloc(1, sizeof(*w));
    w->wd = wd;
    w->dir = dir;
    dir = NULL;
    w->sandbox = xstrdup(sandbox);
    w->next = e->watches;
    e->watches = w;
}

static void read_status(cri_server *s, const struct shim_watch *w)
{
    struct cri_events *e = s->events;
    _cleanup_free_ char *path = xasprintf("%s/status.json", w->dir);
    _cleanup_json_ yajl_val st = NULL;
    if (json_parse_file_max(path, STATUS_MAX, READ_REGULAR, &st, NULL) < 0)
        return;
    yajl_val list = json_get(st, "containerStatuses");
    for (size_t i = 0; i < json_array_len(list); i++) {
        yajl_val c = json_array_at(list, i);
        const char *id = YAJL_GET_STRING(json_get(c, "name"));
        const char *state = YAJL_GET_STRING(json_get(c, "state"));
        if (!id || !state)
            continue;
        /* One first seen here (made before this server started, or whose CreateContainer is
         * not answered yet) is known from now on, in the state it has, without an event. */
        struct tracked *t = tracked_get(e, id, true);
        if (!t->sandbox)
            t->sandbox = xstrdup(w->sandbox);
        if (streq(state, "running")) {
            if (t->last == SEEN_NONE)
                t->last = RUNTIME__V1__CONTAINER_EVENT_TYPE__CONTAINER_STARTED_EVENT;
        } else if (streq(state, "terminated")) {
            if (t->last == SEEN_NONE)
                t->last = RUNTIME__V1__CONTAINER_EVENT_TYPE__CONTAINER_STOPPED_EVENT;
            else if (t->last == RUNTIME__V1__CONTAINER_EVENT_TYPE__CONTAINER_STARTED_EVENT)
                container_event(s, id, RUNTIME__V1__CONTAINER_EVENT_TYPE__CONTAINER_STOPPED_EVENT);
            else if (t->last == RUNTIME__V1__CONTAINER_EVENT_TYPE__CONTAINER_CREATED_EVENT)
                t->exited_early = true;
        }
    }
}

static int on_inotify(sd_event_source *src, int fd, uint32_t revents, void *data)
{
    cri_server *s = data;
    struct cri_events *e = s->events;
    char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
    for (;;) {
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n <= 0)
            break;
        for (char *p = buf; p < buf + n;) {
            struct inotify_event *ev = (struct inotify_event *)p;
            p += sizeof(*ev) + ev->len;
            for (struct shim_watch **w = &e->watches; *w; w = &(*w)->next) {
                if ((*w)->wd != ev->wd)
                    continue;
                if (ev->mask & IN_IGNORED) { /* the sandbox is gone */
                    struct shim_watch *gone = *w;
                    *w = gone->next;
                    free(gone->dir);
                    free(gone->sandbox);
                    free(gone);
                } else if (ev->len && streq(ev->name, "status.json")) {
                    read_status(s, *w);
                }
                break;
            }
        }
    }
    return 0;
}

/* ---- the calls ---- */

/* RemovePodSandbox removed its containers too: each is DELETED, as containerd tells it (its
 * sandbox removal removes them one by one), and forgotten, so that a server whose pods come
 * and go keeps no trace of each. */
static void sandbox_removed(cri_server *s, const char *sandbox)
{
    _cleanup_strv_ char **ids = NULL;
    /* A container first seen in a shim's status at start knows its sandbox by the state
     * directory's name: the id's first 24 digits, unique as that directory is. */
    for (struct tracked *t = s->events->tracked; t; t = t->next)
        if (t->sandbox && strlen(t->sandbox) >= 24 && has_prefix(sandbox, t->sandbox))
            strv_extend(&ids, t->id);
    for (char **id = ids; id && *id; id++)
        container_event(s, *id, RUNTIME__V1__CONTAINER_EVENT_TYPE__CONTAINER_DELETED_EVENT);
}

void cri_events_after_call(cri_server *s, const struct cri_call *c)
{
    if (!s->events)
        return;
    if (c->m == &cri_event_method) {
        job_done(s, c);
        return;
    }
    if (c->reply.code != GRPC_OK)
        return;
    const char *name = strrchr(c->m->path, '/') + 1;
    ProtobufCMessage *req = NULL, *resp = NULL;
#define UNPACK(v, d, len, buf)                                                                     \
    (v = protobuf_c_message_unpack(&runtime__v1__##d##__descriptor, NULL, len, buf))
    if (streq(name, "RunPodSandbox")) {
        if (UNPACK(resp, run_pod_sandbox_response, c->reply.len, c->reply.body))
            watch_shim(s, ((Runtime__V1__RunPodSandboxResponse *)resp)->pod_sandbox_id);
    } else if (streq(name, "CreateContainer")) {
        const char *sb = NULL;
        if (UNPACK(req, create_container_request, c->req_len, c->req)) {
            sb = ((Runtime__V1__CreateContainerRequest *)req)->pod_sandbox_id;
            watch_shim(s, sb);
        }
        if (UNPACK(resp, create_container_response, c->reply.len, c->reply.body)) {
            const char *id = ((Runtime__V1__CreateContainerResponse *)resp)->container_id;
            struct tracked *t = tracked_get(s->events, id, true);
            if (!t->sandbox && sb && *sb)
                t->sandbox = xstrdup(sb);
            container_event(s, id, RUNTIME__V1__CONTAINER_EVENT_TYPE__CONTAINER_CREATED_EVENT);
        }
    } else if (streq(name, "StartContainer")) {
        if (UNPACK(req, start_container_request, c->req_len, c->req))
            container_event(s, ((Runtime__V1__StartContainerRequest *)req)->container_id,
                            RUNTIME__V1__CONTAINER_EVENT_TYPE__CONTAINER_STARTED_EVENT);
    } else if (streq(name, "StopContainer")) {
        if (UNPACK(req, stop_container_request, c->req_len, c->req)) {
            const char *id = ((Runtime__V1__StopContainerRequest *)req)->container_id;
            struct tracked *t = tracked_get(s->events, id, false);
            /* Stopping one that never started, or is not there, changes nothing. */
            if (t && t->last == RUNTIME__V1__CONTAINER_EVENT_TYPE__CONTAINER_STARTED_EVENT)
                container_event(s, id, RUNTIME__V1__CONTAINER_EVENT_TYPE__CONTAINER_STOPPED_EVENT);
        }
    } else if (streq(name, "RemovePodSandbox")) {
        if (UNPACK(req, remove_pod_sandbox_request, c->req_len, c->req))
            sandbox_removed(s, ((Runtime__V1__RemovePodSandboxRequest *)req)->pod_sandbox_id);
    } else if (streq(name, "RemoveContainer")) {
        /* RemoveContainer of one that is not there succeeds too (it is idempotent), but deletes
         * nothing: only a container the server knows of gets DELETED. */
        if (UNPACK(req, remove_container_request, c->req_len, c->req)) {
            const char *id = ((Runtime__V1__RemoveContainerRequest *)req)->container_id;
            if (tracked_get(s->events, id, false))
                container_event(s, id, RUNTIME__V1__CONTAINER_EVENT_TYPE__CONTAINER_DELETED_EVENT);
        }
    }
#undef UNPACK
    if (req)
        protobuf_c_message_free_unpacked(req, NULL);
    if (resp)
        protobuf_c_message_free_unpacked(resp, NULL);
}

/* The sandboxes' dir from the pod manager, and a watch on each sandbox's shim dir there now. */
static void watch_existing(cri_server *s)
{
    struct cri_events *e = s->events;
    struct pods_manager *m = NULL;
    pr_error *err = NULL;
    if (!s->o.open_pods || s->o.open_pods(s->o.open_pods_data, false, &m, &err) < 0) {
        pr_debug("cri: events: no pod manager, containers that exit are not told: %s",
                 err && err->msg ? err->msg : "none configured");
        pr_error_free(err);
        return;
    }
    e->sandboxes_dir = pods_cri_sandboxes_dir(m);
    pods_manager_close(m);
    DIR *d = opendir(e->sandboxes_dir);
    for (struct dirent *de; d && (de = readdir(d));)
        if (de->d_name[0] != '.')
            watch_shim(s, de->d_name);
    for (struct shim_watch *w = e->watches; w; w = w->next)
        read_status(s, w);
    if (d)
        closedir(d);
}

int cri_events_init(cri_server *s, pr_error **err)
{
    struct cri_events *e = xcalloc(1, sizeof(*e));
    s->events = e;
    e->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (e->ifd < 0)
        return pr_err(err, errno, "inotify_init1 (for the containers' events)");
    int r = sd_event_add_io(s->ev, &e->src, e->ifd, EPOLLIN, on_inotify, s);
    if (r < 0)
        return pr_err(err, -r, "watch the containers' events");
    watch_existing(s);
    return 0;
}

void cri_events_free(cri_server *s)
{
    struct cri_events *e = s->events;
    if (!e)
        return;
    while (e->tracked) {
        struct tracked *t = e->tracked;
        e->tracked = t->next;
        free(t->sandbox);
        free(t);
    }
    while (e->jobs) {
        struct ev_job *j = e->jobs;
        e->jobs = j->next;
        free(j->msg);
        free(j);
    }
    while (e->watches) {
        struct shim_watch *w = e->watches;
        e->watches = w->next;
        free(w->dir);
        free(w->sandbox);
        free(w);
    }
    sd_event_source_disable_unref(e->src);
    if (e->ifd >= 0)
        close(e->ifd);
    free(e->sandboxes_dir);
    free(e);
    s->events = NULL;
}
