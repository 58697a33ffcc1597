/* SPDX-License-Identifier: Apache-2.0 */
/* The CRI's methods: which are served, how a request is decoded, run and answered. A handler
 * gets the decoded request and fills a reply; it may run on a worker thread, so it touches only
 * its arguments and what it opens itself. */
#ifndef PODRUN_CRI_METHODS_H
#define PODRUN_CRI_METHODS_H

#include "agent/cri/api.pb-c.h"
#include "cri.h"
#include "error.h"
#include "grpc.h"
#include "json.h"

#include <protobuf-c/protobuf-c.h>

struct cri_reply {
    int code;      /* enum grpc_code */
    char *message; /* why, when code is not OK */
    uint8_t *body; /* the packed response message, when OK */
    size_t len;
    /* In, for a cancellable method: an fd that turns readable once no one waits for the
     * reply (its deadline passed, its stream was reset, its connection closed); 0: none. */
    int cancel_fd;
};

typedef void (*cri_handler_fn)(const struct cri_options *o, const ProtobufCMessage *req,
                               struct cri_reply *out);

struct cri_method {
    const char *path; /* "/runtime.v1.RuntimeService/Version" */
    const ProtobufCMessageDescriptor *request;
    cri_handler_fn fn; /* NULL: a CRI method podrun does not implement yet (UNIMPLEMENTED) */
    bool on_loop;      /* quick and never waits (no lock, no I/O): runs on the event loop */
    bool streaming;    /* server streaming: the server's messages come from events.c */
    bool cancellable;  /* its worker is told when the reply is no longer awaited (cancel_fd) */
};

/* The method for an HTTP/2 :path, or NULL for one the CRI does not have. */
const struct cri_method *cri_method_find(const char *path);

/* Decodes the request message, runs the handler and packs its response; a response over
 * max_send bytes becomes RESOURCE_EXHAUSTED. */
void cri_method_call(const struct cri_method *m, const struct cri_options *o, const uint8_t *req,
                     size_t len, size_t max_send, struct cri_reply *out);
/* The same, the handler seeing cancel_fd in out (0: none). */
void cri_method_call_cancellable(const struct cri_method *m, const struct cri_options *o,
                                 const uint8_t *req, size_t len, size_t max_send, int cancel_fd,
                                 struct cri_reply *out);

void cri_reply_ok(struct cri_reply *r, const ProtobufCMessage *resp);
void cri_reply_error(struct cri_reply *r, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* From a library's failure: the code its errno maps to, and its message. */
void cri_reply_failed(struct cri_reply *r, int rc, const pr_error *e, const char *what);
void cri_reply_clear(struct cri_reply *r);

/* runtime.c */
void cri_version(const struct cri_options *o, const ProtobufCMessage *req, struct cri_reply *out);
void cri_status(const struct cri_options *o, const ProtobufCMessage *req, struct cri_reply *out);
void cri_runtime_config(const struct cri_options *o, const ProtobufCMessage *req,
                        struct cri_reply *out);

/* image.c */
void cri_list_images(const struct cri_options *o, const ProtobufCMessage *req,
                     struct cri_reply *out);
void cri_image_status(const struct cri_options *o, const ProtobufCMessage *req,
                      struct cri_reply *out);
void cri_pull_image(const struct cri_options *o, const ProtobufCMessage *req,
                    struct cri_reply *out);
void cri_remove_image(const struct cri_options *o, const ProtobufCMessage *req,
                      struct cri_reply *out);
void cri_image_fs_info(const struct cri_options *o, const ProtobufCMessage *req,
                       struct cri_reply *out);

/* streaming.c: the calls answer a URL on the streaming server (agent/stream), and the backend
 * that server runs them with. */
struct stream_backend;
void cri_exec(const struct cri_options *o, const ProtobufCMessage *req, struct cri_reply *out);
void cri_attach(const struct cri_options *o, const ProtobufCMessage *req, struct cri_reply *out);
void cri_port_forward(const struct cri_options *o, const ProtobufCMessage *req,
                      struct cri_reply *out);
void cri_stream_backend(const struct cri_options *o, struct stream_backend *b);
/* podcalls.c: what the sandbox and container calls share */
struct pods_manager;
/* Allocations a response points into, freed together after it is packed. */
struct cri_pool {
    void **v;
    size_t n;
};
void *cri_pool_add(struct cri_pool *p, void *ptr);
void cri_pool_free(struct cri_pool *p);
/* Every map<string, string> entry protobuf-c generates has this layout. */
struct cri_map_entry {
    ProtobufCMessage base;
    char *key;
    char *value;
};
/* A map field as key, value, ... NULL (pointing into the request). */
char **cri_map_strv(void *const *entries, size_t n);
/* linux.resources.unified as the kubelet sends it: at most CRI_UNIFIED_MAX cgroup v2 file
 * names and values without control characters; answers INVALID_ARGUMENT naming the entry. */
#define CRI_UNIFIED_MAX 64
#define CRI_UNIFIED_KEY_MAX 64
#define CRI_UNIFIED_VALUE_MAX 4096
int cri_check_unified(void *const *entries, size_t n, const char *call, struct cri_reply *out);
/* hugepage_limits: at most CRI_HUGEPAGES_MAX, page sizes as "2MB" or "1GB" (the runtime spec's
 * form, which the kubelet sends). cri_hugepages points into the request. */
#define CRI_HUGEPAGES_MAX 8
int cri_check_hugepages(Runtime__V1__HugepageLimit *const *v, size_t n, const char *call,
                        struct cri_reply *out);
struct pods_hugepage_limit *cri_hugepages(Runtime__V1__HugepageLimit *const *v, size_t n);
/* cpuset_cpus and cpuset_mems: CPU/node lists ("0-2,4") of at most CRI_CPUSET_MAX bytes. */
#define CRI_CPUSET_MAX 1024
int cri_check_cpuset(const char *cpus, const char *mems, const char *call, struct cri_reply *out);
/* A sandbox's sysctls: at most CRI_SYSCTLS_MAX dotted names of [a-z0-9_.-], values as above. */
#define CRI_SYSCTLS_MAX 64
#define CRI_SYSCTL_KEY_MAX 128
int cri_check_sysctls(void *const *entries, size_t n, struct cri_reply *out);
/* Every key=value of the selector is in labels (a JSON object). */
bool cri_labels_match(yajl_val labels, void *const *selector, size_t n);
/* A JSON object's string members as a map field's entries, of the type init names. */
#define CRI_MAP_FROM_JSON(pool, obj, ENTRY_T, INIT, n_out, out)                                    \
    do {                                                                                           \
        yajl_val o_ = (obj);                                                                       \
        size_t n_ = o_ && YAJL_IS_OBJECT(o_) ? o_->u.object.len : 0;                               \
        ENTRY_T **v_ = cri_pool_add((pool), xcalloc(n_ + 1, sizeof(*v_)));                         \
        for (size_t i_ = 0; i_ < n_; i_++) {                                                       \
            ENTRY_T *e_ = cri_pool_add((pool), xmalloc(sizeof(*e_)));                              \
            *e_ = (ENTRY_T)INIT;                                                                   \
            e_->key = (char *)o_->u.object.keys[i_];                                               \
            e_->value = YAJL_GET_STRING(o_->u.object.values[i_]) ?: (char *)"";                    \
            v_[i_] = e_;                                                                           \
        }                                                                                          \
        (n_out) = n_;                                                                              \
        (out) = v_;                                                                                \
    } while (0)
/* Opens the pod manager, or answers the call with why not. */
int cri_open_pods(const struct cri_options *o, bool exclusive, struct pods_manager **m,
                  struct cri_reply *out);
/* "2006-01-02T15:04:05Z" as nanoseconds since the epoch; 0 for none. */
int64_t cri_rfc3339_ns(const char *s);
int64_t cri_now_ns(void);
/* want is a prefix of id (as containerd names things); NULL or "" wants any, even no id. */
bool cri_id_matches(const char *want, const char *id);
/* A record's integer, 0 when it is not one; its string, "" when it is not one. */
int64_t cri_json_int(yajl_val v);
char *cri_json_str(yajl_val v);
/* The state of a sandbox's record, of a container's status (UNKNOWN for none). */
Runtime__V1__PodSandboxState cri_sandbox_state(yajl_val rec);
Runtime__V1__ContainerState cri_container_state(yajl_val st);
/* Metadata from a record; its strings point into rec. */
void cri_sandbox_meta(Runtime__V1__PodSandboxMetadata *md, yajl_val rec);
void cri_container_meta(Runtime__V1__ContainerMetadata *md, yajl_val rec);
/* A status call's verbose info, as containerd: one entry "info" holding the JSON document g
 * made. Returns the entries (one, then NULL) of the InfoEntry type entry describes, in pool. */
void *cri_verbose_info(struct cri_pool *pool, const ProtobufCMessageDescriptor *entry, yajl_gen g);
/* Records a list call keeps, rec[i] with st[i] (a container's status, or NULL), i < n. */
struct cri_records {
    yajl_val *rec;
    yajl_val *st;
    size_t n;
};
void cri_records_add(struct cri_records *r, yajl_val rec, yajl_val st);
void cri_records_free(struct cri_records *r);
/* What a list call's filter keeps; the zero value keeps everything. */
struct cri_filter {
    const char *id;      /* a prefix of the id */
    const char *sandbox; /* containers: a prefix of their sandbox's id */
    bool has_state;
    int state;           /* the sandbox's or container's state, when has_state */
    void *const *labels; /* a label selector: every key=value of it */
    size_t n_labels;
};
/* A list call's filter (any of the CRI's four, or NULL) as far as all of them go: the id and
 * the label selector. */
#define CRI_FILTER(f)                                                                              \
    ((f) ? (struct cri_filter){.id = (f)->id,                                                      \
                               .labels = (void *const *)(f)->label_selector,                       \
                               .n_labels = (f)->n_label_selector}                                  \
         : (struct cri_filter){0})
/* A list or status call's start: opens the pod manager and reads what f keeps of the sandboxes
 * (or of the containers, with their statuses), in the manager's order, leaving out one that
 * cannot be read (it just went); or the record of the sandbox id (with st, of the container id and
 * its status); or answers the call, named in call, with why not and returns < 0. The manager is
 * then closed, or left open in *keep when keep is not NULL. */
int cri_list_records(const struct cri_options *o, bool containers, const struct cri_filter *f,
                     const char *call, struct cri_records *recs, struct pods_manager **keep,
                     struct cri_reply *out);
int cri_get_record(const struct cri_options *o, const char *id, const char *call, yajl_val *rec,
                   yajl_val *st, struct pods_manager **keep, struct cri_reply *out);

/* eventstatus.c: a ContainerEventResponse with its sandbox's and containers' statuses. */
void cri_event_fill(const struct cri_options *o, const ProtobufCMessage *req,
                    struct cri_reply *out);

/* sandbox.c */
void cri_run_pod_sandbox(const struct cri_options *o, const ProtobufCMessage *req,
                         struct cri_reply *out);
void cri_stop_pod_sandbox(const struct cri_options *o, const ProtobufCMessage *req,
                          struct cri_reply *out);
void cri_remove_pod_sandbox(const struct cri_options *o, const ProtobufCMessage *req,
                            struct cri_reply *out);
void cri_pod_sandbox_status(const struct cri_options *o, const ProtobufCMessage *req,
                            struct cri_reply *out);
void cri_list_pod_sandbox(const struct cri_options *o, const ProtobufCMessage *req,
                          struct cri_reply *out);
void cri_update_runtime_config(const struct cri_options *o, const ProtobufCMessage *req,
                               struct cri_reply *out);

/* container.c */
void cri_create_container(const struct cri_options *o, const ProtobufCMessage *req,
                          struct cri_reply *out);
void cri_start_container(const struct cri_options *o, const ProtobufCMessage *req,
                         struct cri_reply *out);
void cri_stop_container(const struct cri_options *o, const ProtobufCMessage *req,
                        struct cri_reply *out);
void cri_remove_container(const struct cri_options *o, const ProtobufCMessage *req,
                          struct cri_reply *out);
void cri_list_containers(const struct cri_options *o, const ProtobufCMessage *req,
                         struct cri_reply *out);
void cri_container_status(const struct cri_options *o, const ProtobufCMessage *req,
                          struct cri_reply *out);
void cri_exec_sync(const struct cri_options *o, const ProtobufCMessage *req, struct cri_reply *out);
void cri_reopen_container_log(const struct cri_options *o, const ProtobufCMessage *req,
                              struct cri_reply *out);
void cri_update_container_resources(const struct cri_options *o, const ProtobufCMessage *req,
                                    struct cri_reply *out);

/* stats.c */
void cri_container_stats(const struct cri_options *o, const ProtobufCMessage *req,
                         struct cri_reply *out);
void cri_list_container_stats(const struct cri_options *o, const ProtobufCMessage *req,
                              struct cri_reply *out);
void cri_pod_sandbox_stats(const struct cri_options *o, const ProtobufCMessage *req,
                           struct cri_reply *out);
void cri_list_pod_sandbox_stats(const struct cri_options *o, const ProtobufCMessage *req,
                                struct cri_reply *out);
/* attach.c: the backend's attach (data: the cri_options), and its relay over a connected
 * attach socket (taken, closed on failure), which unit tests drive with a socketpair. */
struct stream_request;
struct stream_proc;
int cri_backend_attach(void *data, const struct stream_request *req, struct stream_proc *out,
                       pr_error **err);
int cri_attach_relay(int sock, const char *name, const struct stream_request *req,
                     struct stream_proc *out, pr_error **err);

#endif
