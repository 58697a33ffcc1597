/* SPDX-License-Identifier: Apache-2.0 */
/* The pod manager: what the CLI, the controllers and the CRI server share to run pods on this
 * node (DESIGN.md, "4. Agent"). Its first piece is the one builder of OCI runtime configs: every
 * container podrun starts, from a manifest, a CRI request or `podrun image mount`, gets its
 * config.json from pods_bundle_config, so the defaults and the image-versus-pod rules live in
 * one place. */
#ifndef PODRUN_AGENT_PODS_H
#define PODRUN_AGENT_PODS_H

#include "error.h"
#include "images/images.h"
#include "kube/kube.h"
#include "podevents.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

enum pods_ns {
    PODS_NS_PID,
    PODS_NS_NET,
    PODS_NS_IPC,
    PODS_NS_UTS,
    PODS_NS_MOUNT,
    PODS_NS_CGROUP,
    PODS_NS_COUNT,
};

/* How a container gets one namespace: a new one (the default), a pod's pinned one joined by
 * path, or the host's (hostNetwork, hostPID, hostIPC). */
enum pods_ns_mode { PODS_NS_NEW, PODS_NS_JOIN, PODS_NS_HOST };

struct pods_namespace {
    enum pods_ns_mode mode;
    const char *path; /* PODS_NS_JOIN: /run/podrun/netns/POD ... */
};

/* A bind's mountPropagation, in the order of how far it reaches. */
enum pods_propagation { PODS_PROP_PRIVATE, PODS_PROP_HOST_TO_CONTAINER, PODS_PROP_BIDIRECTIONAL };

struct pods_mount {
    const char *destination; /* absolute, inside the container */
    const char *type;        /* "bind", "tmpfs" ... */
    const char *source;
    char *const *options; /* NULL-terminated, may be NULL */
};

/* Limits as the runtime takes them, already converted from Kubernetes quantities; 0 is "not
 * set". */
struct pods_hugepage_limit {
    const char *page_size; /* "2MB", "1GB", as the runtime spec writes it */
    uint64_t limit;        /* bytes */
};
struct pods_resources {
    int64_t memory_limit; /* bytes */
    uint64_t cpu_shares;
    int64_t cpu_quota;   /* microseconds per period */
    uint64_t cpu_period; /* microseconds; 100000 when a quota comes without one */
    int64_t pids_limit;
    /* linux.resources.unified: key, value, key, value ... NULL; cgroup v2 files written as they
     * are (the kubelet's memory.oom.group). */
    char *const *unified;
    /* linux.resources.hugepageLimits: the kubelet sends one per page size the node has, 0 where
     * the pod asked for none (so that it gets none). */
    const struct pods_hugepage_limit *hugepage_limits;
    size_t n_hugepage_limits;
    /* linux.resources.cpu.cpus and .mems (the kubelet's static CPU and memory managers): lists
     * like "0-2,4"; NULL or "": not set. */
    const char *cpuset_cpus, *cpuset_mems;
};

/* seccompProfile as Kubernetes names its types: none (the kubelet's default, and always for a
 * privileged container), podrun's default profile, or a profile given as linux.seccomp. */
enum pods_seccomp { PODS_SECCOMP_UNCONFINED, PODS_SECCOMP_RUNTIME_DEFAULT, PODS_SECCOMP_PROFILE };

/* One container's runtime config as the pod manager decided it. Strings are borrowed. Where a
 * field is unset, the image (when given) supplies it, as a kubelet would. */
struct pods_container_config {
    const char *rootfs; /* absolute */
    bool readonly_rootfs;
    const image_process *image; /* the image's defaults; NULL for none */
    char *const *command;       /* Kubernetes' command: replaces Entrypoint, drops Cmd */
    char *const *args;          /* Kubernetes' args: replace Cmd */
    char *const *env;           /* "K=V", over the image's (a later K wins) */
    const char *cwd;            /* NULL: the image's WorkingDir, else "/" */
    bool has_user;              /* false: the image's user */
    uid_t uid;
    gid_t gid;
    const gid_t *additional_gids;
    size_t n_additional_gids;
    bool terminal;
    bool privileged;       /* every capability, no masked or read-only paths */
    char *const *cap_add;  /* "NET_ADMIN" or "CAP_NET_ADMIN", or "ALL" */
    char *const *cap_drop; /* likewise: ALL first (before cap_add), the others after it */
    bool no_new_privileges;
    enum pods_seccomp seccomp;
    yajl_val seccomp_profile; /* PODS_SECCOMP_PROFILE: the linux.seccomp object */
    const char *hostname;     /* NULL: none set (needs a new or joined UTS namespace) */
    struct pods_namespace namespaces[PODS_NS_COUNT];
    const struct pods_mount *mounts; /* after the defaults; one on a default's destination
                                        replaces that default */
    size_t n_mounts;
    const char *rootfs_propagation; /* linux.rootfsPropagation; NULL: the runtime's default */
    const char *cgroups_path;       /* NULL: the runtime's default */
    struct pods_resources resources;
    bool has_oom_score_adj;
    int oom_score_adj;
    char *const *annotations; /* "key=value", over the image's */
    char *const *sysctls;     /* "key=value": linux.sysctl */
};

/* What runs, by Kubernetes' rule: command replaces the image's Entrypoint and drops its Cmd;
 * args alone replace the Cmd. Freshly allocated; NULL when nothing is left to run. */
char **pods_container_argv(const image_process *img, char *const *command, char *const *args);

/* The config.json for c, pretty-printed, in *out. Errors name the field that is wrong. */
int pods_bundle_config(const struct pods_container_config *c, char **out, pr_error **err);

/* Writes dir/config.json atomically from c; dir must exist and not be a symlink. */
int pods_bundle_write(const char *dir, const struct pods_container_config *c, pr_error **err);

/* ---- the pod manager: state, objects, pods ---- */

/* Where the manager keeps everything. NULL fields get their defaults (common/paths.h) in
 * pods_manager_open; tests set every one to a temp dir. */
struct pods_roots {
    const char *run_root;      /* /run/podrun: pods/<uid>/ (shim dir, pinned ns), locks */
    const char *lib_root;      /* /var/lib/podrun: objects/, pods/<uid>/ (bundles, emptyDirs) */
    const char *log_root;      /* /var/log/podrun/pods: <uid>/ container logs */
    const char *images_root;   /* NULL: the image store's default */
    const char *cni_conf_dir;  /* /etc/cni/net.d */
    const char *cni_bin_dir;   /* CNI_PATH (':'-separated) */
    const char *ipam_data_dir; /* ipam.dataDir of the default conflist podrun writes */
    const char *runtime;       /* podrun-runtime (a path, or a name in PATH) */
    const char *shim;          /* podrun-shim */
    /* DNS as the kubelet's settings give it: clusterDNS (','-separated addresses; none until
     * the cluster has a DNS server), clusterDomain, and --resolv-conf (the node's resolver
     * file that Default reads; "" for none, as with the kubelet). */
    const char *cluster_dns;    /* NULL: none */
    const char *cluster_domain; /* cluster.local */
    const char *resolv_conf;    /* /etc/resolv.conf */
    const char *node_config;    /* NULL: lib-root/node.yaml if it exists */
    const char *node_name;      /* NULL: the config's name, else the hostname */
    const char *cgroup_root;    /* NULL: the config's cgroupRoot, else PODS_DEFAULT_CGROUP_ROOT */
    /* Services: the clusterIP range (NULL: 10.96.0.0/12, the API server's
     * --service-cluster-ip-range default) and the NodePort range (NULL: "30000-32767"). */
    const char *service_cidr;
    const char *node_port_range;
};

#define PODS_DEFAULT_CNI_CONF_DIR "/etc/cni/net.d"
#define PODS_DEFAULT_CNI_BIN_DIR  "/opt/cni/bin"
#define PODS_DEFAULT_CONFLIST     "10-podrun.conflist"
#define PODS_DEFAULT_SUBNET       "10.88.0.0/16"
#define PODS_DEFAULT_BRIDGE       "podrun0"
#define PODS_DEFAULT_DOMAIN       "cluster.local"
#define PODS_DEFAULT_RESOLV_CONF  "/etc/resolv.conf"
/* The node's resolv.conf is read whole up to this (DESIGN.md, "Limits on input"). */
#define PODS_RESOLV_CONF_MAX     (64u << 10)
#define PODS_DEFAULT_CGROUP_ROOT "/podrun"
/* The Kubernetes API podrun follows, as the node's kubeletVersion. */
#define PODS_KUBELET_VERSION "v1.31.0-podrun"

typedef struct pods_manager pods_manager;

/* Opens the manager's state with a lock (run-root/pods.lock) held until close: exclusive for a
 * caller that changes pods, so concurrent podrun processes take turns; shared for one that only
 * reads (every state file is replaced atomically). */
int pods_manager_open(const struct pods_roots *roots, bool exclusive, pods_manager **out,
                      pr_error **err);
/* Without the lock, for a reader that must not wait out a long apply or delete (get -w): every
 * state file is replaced atomically, so each one read is whole, but a listing may see a pod
 * half made or half gone (a delete's pod shows as Terminating). Never for a change. */
int pods_manager_open_unlocked(const struct pods_roots *roots, pods_manager **out, pr_error **err);
void pods_manager_close(pods_manager *m);
static inline void pods_manager_closep(pods_manager **m)
{
    if (*m)
        pods_manager_close(*m);
}
#define _cleanup_pods_manager_ __attribute__((cleanup(pods_manager_closep)))

/* What the manager refuses on one node before making anything: fields of features this slice
 * does not run (named), generateName (apply needs a name). */
int pods_check_object(const struct kube_object *o, pr_error **err);

/* 0 when a pod's network can be set up now (a valid CNI configuration, or none yet and the
 * plugins of the default one podrun writes, and its plugins in the CNI path); 1 when not, with
 * *reason (a CamelCase word) and *message saying why. */
int pods_network_status(pods_manager *m, char **reason, char **message);

enum pods_apply_result { PODS_CREATED, PODS_CONFIGURED, PODS_UNCHANGED };

/* Stores o (a ConfigMap, Secret or Namespace) or runs it (a Pod). A Pod whose spec differs from
 * the running one's is refused, as the API server refuses pod updates. A failed pod leaves
 * nothing behind. */
int pods_apply(pods_manager *m, const struct kube_object *o, enum pods_apply_result *res,
               pr_error **err);

/* Deletes an object by kind ("pods", "configmaps", "secrets", "namespaces"), namespace and
 * name; a pod is stopped and everything it had is removed. -ENOENT when there is none.
 * Idempotent: a delete that failed part-way is finished by the next. */
int pods_delete(pods_manager *m, const char *resource, const char *ns, const char *name,
                pr_error **err);
/* The same with a pod's grace period given (delete --grace-period): seconds, 0 to kill at once
 * without preStop, -1 for the pod's terminationGracePeriodSeconds. */
/* After a reboot (no RUN_ROOT/booted mark): every recorded pod made anew, same name and uid,
 * under the exclusive lock; *workloads: Deployments or ReplicaSets are recorded (the caller
 * starts their controller loop). Goes on after a pod that fails; returns the first failure. */
bool pods_needs_recovery(pods_manager *m);
/* Pods or workloads are recorded (something to recover). */
bool pods_recorded(pods_manager *m);
int pods_recover(pods_manager *m, size_t *recreated, bool *workloads, pr_error **err);
/* Deletes these pods as pods_delete_grace does, their shims stopped concurrently (a bounded
 * number at a time): the grace periods run side by side, as a kubelet's do. For the
 * controllers: the pods' events are kept past them (pods_workload_events_list). Goes on after
 * a failure; returns the first. */
struct pods_ref {
    const char *ns, *name;
};
int pods_delete_pods(pods_manager *m, const struct pods_ref *v, size_t n, int64_t grace,
                     pr_error **err);
/* Its first part: marks them deleting and stops their shims concurrently; each pod's
 * pods_delete_grace then takes the rest down (and says what failed). */
void pods_stop_pods(pods_manager *m, const struct pods_ref *v, size_t n, int64_t grace);
int pods_delete_grace(pods_manager *m, const char *resource, const char *ns, const char *name,
                      int64_t grace, pr_error **err);

/* One stored object as `get` shows it. */
struct pods_entry {
    char *ns, *name, *uid;
    long long created;    /* seconds since the epoch */
    long long generation; /* metadata.generation of a workload; 0 for other objects */
    /* A pod being made by a command that holds the manager's lock (its record marked
     * creating): a reader without the lock sees it before its shim runs. */
    bool creating;
    yajl_val object; /* the applied object, with metadata.namespace/uid/creationTimestamp */
    /* pods only: */
    char *phase;     /* Pending, Running, Succeeded, Failed, Unknown; a container's reason wins */
    char *ip;        /* NULL when none */
    char *qos_class; /* Guaranteed, Burstable, BestEffort; NULL when the record lacks it */
    char *node;      /* the node's name (spec.nodeName) */
    unsigned ready, total, restarts;
    yajl_val status; /* the shim's status.json, or NULL */
};
struct pods_list {
    struct pods_entry *v;
    size_t n;
};
/* Lists objects of resource in ns (NULL: every namespace), or the one named name. */
int pods_list(pods_manager *m, const char *resource, const char *ns, const char *name,
              struct pods_list *out, pr_error **err);
void pods_list_clear(struct pods_list *l);
/* Drops (and frees) the entries keep refuses, in order. */
void pods_list_keep(struct pods_list *l, bool (*keep)(const struct pods_entry *, void *),
                    void *data);

/* The log file of a pod's container (the CRI format, written by its shim); container NULL as
 * pods_find_container. */
/* One record of a CRI-format log (crilog.c): its message (in line, up to the end) or NULL when
 * the line is not a record; whether the line ends with it (F) or goes on (P); its stream. */
#define PODS_CRI_LOG_TS_MAX 64
const char *pods_cri_log_message(char *line, size_t len, bool *full, bool *is_stderr);
int pods_log_path(pods_manager *m, const char *ns, const char *pod, const char *container,
                  char **path, char **note, pr_error **err);

/* A pod's container by name (init containers too): the pod's uid and the container's name.
 * container NULL: kubectl's default, the one the kubectl.kubernetes.io/default-container
 * annotation names, else the first; when there was a choice, *note (if note is not NULL) gets
 * kubectl's message `Defaulted container "A" out of: A, B, I (init)`. */
int pods_find_container(pods_manager *m, const char *ns, const char *pod, const char *container,
                        char **uid, char **name, char **note, pr_error **err);
/* The runtime's exec of command in that container, in the foreground (it relays a terminal
 * with tty, forwards signals and exits with the command's status). */
char **pods_exec_argv(pods_manager *m, const char *uid, const char *name, bool tty,
                      char *const *command);
/* The same for a container given by its runtime id. */
char **pods_exec_argv_id(pods_manager *m, const char *id, bool tty, char *const *command);
/* The directory of a pod's attach sockets (common/attach.h: attach_connect(dir, container)). */
char *pods_attach_dir(pods_manager *m, const char *uid);
/* The attach socket (dir, name) of a container the streaming server is given: a CRI
 * container's in its sandbox's shim, or a CLI pod's "<pod uid>-<name>". ENOENT when none. */
int pods_stream_attach_socket(pods_manager *m, const char *id, char **dir, char **name,
                              pr_error **err);
/* streams.c, for the CRI's streaming server: a container by its runtime id
 * (pods_container_id: "<pod uid>-<name>"), and the pinned network namespace of a pod by its
 * uid (*path NULL for a hostNetwork pod: the node's). ENOENT when there is none. */
int pods_container_by_id(pods_manager *m, const char *id, char **uid, char **name, pr_error **err);
/* The runtime id of a container the streaming server is given: a CRI container's own id, or a
 * CLI pod's "<pod uid>-<name>" (pods_container_by_id). ENOENT when there is none. */
int pods_stream_runtime_id(pods_manager *m, const char *id, char **runtime_id, pr_error **err);
/* The CRI container's sandbox id; ENOENT when id is no CRI container. */
int pods_cri_container_sandbox(pods_manager *m, const char *id, char **sandbox, pr_error **err);
/* Where CRI sandboxes' run dirs are (RUN_ROOT/sandboxes), and one sandbox's shim dir (whose
 * status.json the shim renames in on every container change) under it: for the CRI's
 * GetContainerEvents, which watches them. */
char *pods_cri_sandboxes_dir(pods_manager *m);
char *pods_cri_shim_dir_in(const char *sandboxes_dir, const char *sandbox);
int pods_sandbox_netns(pods_manager *m, const char *uid, char **path, pr_error **err);

/* ---- the node ---- */

/* This machine as a v1 Node (metadata, spec.podCIDR, status: capacity, allocatable,
 * conditions, addresses, nodeInfo), to be freed with yajl_tree_free. */
int pods_node_object(pods_manager *m, yajl_val *out, pr_error **err);

#define PODS_NODE_HUGE_MAX 8
struct pods_node_resources {
    int64_t cpu, memory, storage, pods; /* millicores, bytes, bytes, count */
    int64_t huge[PODS_NODE_HUGE_MAX], huge_size[PODS_NODE_HUGE_MAX]; /* bytes, by page size */
    size_t n_huge;
};
/* Capacity from the kernel, and allocatable: capacity minus the reserve (and minus
 * pre-allocated huge pages for memory). */
int pods_node_resources(pods_manager *m, struct pods_node_resources *cap,
                        struct pods_node_resources *alloc, pr_error **err);

/* A pod on the node, with its requests and limits (from the pod's record). */
struct pods_node_pod {
    char *ns, *name, *uid;
    const char *qos; /* "Guaranteed", "Burstable", "BestEffort" */
    struct kube_compute compute;
    bool terminated; /* Succeeded or Failed: no longer counted */
    bool recorded;   /* its object is stored (false: an apply killed part-way left it) */
    long long created;
};
int pods_node_pods(pods_manager *m, struct pods_node_pod **v, size_t *n, pr_error **err);
void pods_node_pods_free(struct pods_node_pod *v, size_t n);

/* Quantities as the API server prints them: "2", "1500m"; "16331584Ki", "2Gi", "0". */
char *pods_cpu_text(int64_t milli);
char *pods_bytes_text(int64_t bytes);
/* The node's address: the first IPv4 address of an interface that is up and not loopback,
 * podrun's bridge last. NULL when there is none. */
char *pods_node_ip(void);
/* The node's pod subnet: the config's podCIDR, else the default conflist's. NULL if unknown. */
char *pods_node_pod_cidr(pods_manager *m);
/* The cluster domain: --cluster-domain, else node.yaml's clusterDomain, else cluster.local. */
const char *pods_cluster_domain(pods_manager *m);

/* ---- resource usage, from the cgroups (podrun top) ---- */
struct pods_usage {
    uint64_t cpu_ns;       /* CPU time used so far */
    uint64_t memory_bytes; /* working set: usage minus inactive file pages */
};
/* A pod's usage (container NULL), or one of its containers'. -ENOENT when it has no cgroup. */
int pods_pod_usage(pods_manager *m, const char *uid, const char *container, struct pods_usage *out,
                   pr_error **err);
/* The whole machine's: CPU time of all CPUs but idle and iowait (/proc/stat), and memory in
 * use minus inactive file pages (/proc/meminfo). */
int pods_node_usage(struct pods_usage *out, pr_error **err);

/* How apply pulls (images/images.h): progress reports, registries.conf, TLS. Default: none,
 * the defaults. */
void pods_set_pull_options(pods_manager *m, const struct pull_options *o);

/* One event of a pod (podevents.h), with the pod it is about. */
struct pods_event {
    char *ns, *name, *uid;
    struct podevent e;
    char *kind; /* the object's: NULL for a Pod, "Deployment", "ReplicaSet", "Job", ... */
};
struct pods_events {
    struct pods_event *v;
    size_t n;
};
/* The events of the pods in ns (NULL: every namespace), or of the one named pod, in the API
 * server's order (by pod, then by first time). */
int pods_events_list(pods_manager *m, const char *ns, const char *pod, struct pods_events *out,
                     pr_error **err);
void pods_events_clear(struct pods_events *l);
/* Drops (and frees) the events keep refuses, in order. */
/* The workloads' events (Deployments', ReplicaSets') in ns (NULL: all), and those of pods a
 * controller deleted; resource: only that one's ("deployments", ...), NULL: all. */
int pods_workload_events_list(pods_manager *m, const char *ns, const char *resource,
                              struct pods_events *out, pr_error **err);
void pods_events_keep(struct pods_events *l, bool (*keep)(const struct pods_event *, void *),
                      void *data);

/* An O_PATH fd on the root directory of a pod's running container (NULL container: the pod's
 * only one) as its processes see it; every path under it is the container's and must be
 * opened within it (open_in_root). -ESRCH when the container is not running. */
int pods_container_root(pods_manager *m, const char *ns, const char *pod, const char *container,
                        int *rootfd, pr_error **err);
/* The working directory of that container's process (its bundle's process.cwd), a path in
 * the container: where kubectl's tar in the container takes a relative path from. */
int pods_container_cwd(pods_manager *m, const char *ns, const char *pod, const char *container,
                       char **cwd, pr_error **err);

/* Waiting for a change to resource's objects (and, for pods, to their status), for `get -w`:
 * inotify on the state directories, no polling. The watch keeps no lock: the caller lists
 * again (with a manager of its own) after each wait. */
struct pods_watch;
int pods_watch_open(pods_manager *m, const char *resource, struct pods_watch **out, pr_error **err);
/* Blocks until something may have changed (a burst counts once); -EINTR on a signal. */
int pods_watch_wait(struct pods_watch *w, pr_error **err);
void pods_watch_free(struct pods_watch *w);

/* ---- services (services.c) ---- */

/* Each stored service's endpoints (services in ns, NULL: every namespace; or the one named),
 * computed now from the pods' labels, IPs and readiness. */
struct pods_endpoints_of {
    char *ns, *name;
    long long created;
    bool manual; /* no selector: its endpoints are its stored EndpointSlices' */
};
struct pods_endpoint {
    size_t service;             /* index into services */
    char *ip, *pod, *port_name; /* pod NULL: an EndpointSlice's address */
    char *hostname;             /* its DNS name under a headless service, or NULL */
    int32_t port;
    const char *protocol;
    bool ready;
};
struct pods_endpoints {
    struct pods_endpoints_of *services;
    size_t n_services;
    struct pods_endpoint *v;
    size_t n;
};
int pods_service_endpoints(pods_manager *m, const char *ns, const char *name,
                           struct pods_endpoints *out, pr_error **err);
void pods_endpoints_clear(struct pods_endpoints *l);
void pods_endpoints_of_clear(struct pods_endpoints *l);
/* Brings the services' data path (nftables, table ip podrun_services) in line with the stored
 * services and the pods as they are now, changing only what differs; apply and delete of pods
 * and services run it, and any caller (a controller loop) may. Needs the exclusive lock. */
int pods_services_sync(pods_manager *m, pr_error **err);
/* defer: apply and delete leave the sync to the caller, who runs it once after a batch of
 * objects (a manifest of many services). */
void pods_services_defer(pods_manager *m, bool defer);

/* ---- cluster DNS (dns.c): dnsmasq, supervised while a Service exists or a pod uses it ---- */

/* Whether the cluster DNS should run: a Service is stored or a pod uses it. */
bool pods_dns_enabled(pods_manager *m);
/* Whether any object of a namespaced resource is stored, in any namespace. */
bool pods_objects_stored(pods_manager *m, const char *resource);
/* The cluster DNS server's address: the pod network's gateway; NULL when it has none. */
char *pods_dns_address(pods_manager *m);

/* ---- workloads (workloads.c): Deployments through ReplicaSets ---- */

/* One pass of the Deployment and ReplicaSet controllers and of the garbage collector over
 * everything on disk: ReplicaSets made and scaled as the rollouts allow, pods made and
 * deleted, pods whose shim died replaced, dependents of deleted owners deleted. *workloads
 * tells whether any Deployment or ReplicaSet remains (the controller loop's reason to run);
 * *wake_at (seconds since the epoch, 0 for none) when a Ready pod turns available by
 * minReadySeconds, which no file tells. */
int pods_reconcile(pods_manager *m, bool *workloads, int64_t *wake_at, pr_error **err);
/* The garbage collector alone: ReplicaSets and pods whose controller is gone. */
int pods_workloads_collect(pods_manager *m, pr_error **err);
/* A Deployment's or ReplicaSet's status (replicas, readyReplicas, availableReplicas,
 * updatedReplicas, conditions), computed from its pods now. */
int pods_workload_status(pods_manager *m, const char *resource, const struct pods_entry *e,
                         yajl_val *out, pr_error **err);
/* Sets spec.replicas of a stored Deployment or ReplicaSet. */
int pods_scale(pods_manager *m, const char *resource, const char *ns, const char *name,
               int32_t replicas, pr_error **err);
/* An inotify descriptor watching what a reconcile depends on: the stored Deployments,
 * ReplicaSets and pods, and the shim directories of running pods (status changes, and the
 * shim's lock closed when it dies). */
int pods_controllers_watch_open(pods_manager *m, int *fd, pr_error **err);

/* ---- StatefulSets, DaemonSets (sets.c), PersistentVolumeClaims and volumes (claims.c) ---- */

/* A StatefulSet's (replicas, readyReplicas, currentReplicas, updatedReplicas,
 * availableReplicas, currentRevision, updateRevision) or a DaemonSet's (desiredNumberScheduled,
 * currentNumberScheduled, numberReady, updatedNumberScheduled, numberAvailable) status, from
 * its pods now. */
int pods_set_status(pods_manager *m, const char *resource, const struct pods_entry *e,
                    yajl_val *out, pr_error **err);
/* A claim's status (phase Bound with accessModes and capacity once its volume is made) or a
 * volume's (Bound). */
int pods_claim_status(pods_manager *m, const char *resource, const struct pods_entry *e,
                      yajl_val *out, pr_error **err);
/* The status of any stored object whose status is computed when read (workloads, sets,
 * claims, volumes); leaves *out alone for the other kinds. */
int pods_object_status(pods_manager *m, const char *resource, const struct pods_entry *e,
                       yajl_val *out, pr_error **err);
/* Claims being deleted are removed (with their volumes) once no pod uses them, and claims
 * without a volume get one; *pending when a claim still waits for its pods. */
int pods_claims_collect(pods_manager *m, bool *pending, pr_error **err);
/* The API group of a resource ("apps", "networking.k8s.io" ...); NULL for the core group. */
const char *pods_resource_group(const char *resource);
/* kubectl's singular of a resource: pod, ingress, ingressclass. */
char *pods_resource_singular(const char *resource);

/* ---- batch/v1 Jobs (jobs.c) ---- */

/* One pass of the job controller (and the TTL-after-finished one) over every stored Job: pods
 * made and deleted as kube_job_plan decides, finished Jobs past their TTL deleted. *any tells
 * whether a Job remains; *wake_at (seconds since the epoch, 0: none) when a decision changes
 * with no file changing (a back-off ends, a deadline or a TTL passes). PODRUN_JOB_BACKOFF_MS
 * in the environment sets the back-off's first delay (for tests; default 10000). */
int pods_jobs_reconcile(pods_manager *m, bool *any, int64_t *wake_at, pr_error **err);
/* The garbage collector for Jobs: pods whose Job is gone. */
int pods_jobs_collect(pods_manager *m, pr_error **err);
/* A Job's status (active, ready, succeeded, failed, startTime, completionTime, conditions,
 * completedIndexes), counted from its pods now. */
int pods_job_status(pods_manager *m, const struct pods_entry *job, yajl_val *out, pr_error **err);

/* ---- batch/v1 CronJobs (cronjobs.c) ---- */

/* One pass of the CronJob controller: the Job of each CronJob's most recent unmet schedule
 * time made (as concurrencyPolicy, suspend and startingDeadlineSeconds allow), finished Jobs
 * beyond the history limits deleted. *any: a CronJob remains; *wake_at: its next schedule time
 * (seconds since the epoch), 0 for none. Schedules are in UTC. PODRUN_CRON_TIME_SCALE=N in the
 * environment (for tests) runs the schedules' clock N times as fast from each CronJob's
 * creation. */
int pods_cronjobs_reconcile(pods_manager *m, bool *any, int64_t *wake_at, pr_error **err);
/* The garbage collector for CronJobs: Jobs whose CronJob is gone. */
int pods_cronjobs_collect(pods_manager *m, pr_error **err);
/* After a CronJob is deleted: its kept status and its Jobs go. */
int pods_cronjob_forget(pods_manager *m, const char *ns, const char *name, pr_error **err);
/* A CronJob's status (active, lastScheduleTime, lastSuccessfulTime). */
int pods_cronjob_status(pods_manager *m, const struct pods_entry *cj, yajl_val *out,
                        pr_error **err);

/* ---- HorizontalPodAutoscalers (hpa.c) ---- */

/* One pass of the HPA controller: each HPA due (every PODRUN_HPA_SYNC_PERIOD seconds, default
 * 15) samples its target's pods' cgroups and scales the target as Kubernetes' controller
 * would. *any: an HPA remains; *wake_at: when the next one is due (seconds since the epoch). */
int pods_hpas_reconcile(pods_manager *m, bool *any, int64_t *wake_at, pr_error **err);
/* After an HPA is deleted: what it kept goes. */
int pods_hpa_forget(pods_manager *m, const char *ns, const char *name, pr_error **err);
/* An HPA's status as its last sample left it (currentReplicas, desiredReplicas,
 * lastScaleTime, currentMetrics, conditions). */
int pods_hpa_status(pods_manager *m, const struct pods_entry *h, yajl_val *out, pr_error **err);

/* "pods", "pod", "po", "Pod" -> "pods"; NULL for a resource podrun does not serve. */
const char *pods_resource_name(const char *s);

/* ---- CRI sandboxes and their containers (crisandbox.c, cricontainer.c) ----
 * A sandbox is a pod as a kubelet makes it through the CRI: namespaces, network and a shim
 * that neither probes nor restarts (the kubelet does both, DESIGN.md §2), then containers
 * created, started, stopped and removed one at a time. State lives in run-root/sandboxes/<id>/
 * (sandbox.json, containers/<id>.json, the shim's dir), so a server that restarts finds
 * everything as it was. Ids are 64 hex digits. Key-value lists (labels, annotations) are
 * NULL-terminated arrays of key, value, key, value ... */
#define PODS_CRI_ID_LEN 64
struct pods_sandbox_config {
    const char *name, *ns, *uid; /* the metadata: with attempt, unique among sandboxes */
    uint32_t attempt;
    const char *hostname;      /* NULL or "": none (host network) */
    const char *log_directory; /* absolute; containers' log paths are relative to it */
    const char *cgroup_parent; /* the kubelet's (cgroupfs); NULL or "": a pod cgroup of ours */
    char *const *dns_servers, *const *dns_searches, *const *dns_options;
    bool host_network, host_ipc;
    bool share_pid; /* namespace_options.pid POD: one PID namespace for its containers */
    char *const *sysctls; /* key, value ... NULL: set in the pod's namespaces by every container
                             (the same namespaces, so the same effect as once) */
    char *const *labels, *const *annotations;
    const struct pods_port_mapping *port_mappings; /* host ports, as hostPort takes them */
    size_t n_port_mappings;
    /* The CRI server's cgroup driver is systemd: cgroup_parent is a slice (NULL or "": none,
     * the runtime's default slice), containers are scopes cri-podrun-<id>.scope in it. */
    bool systemd_cgroup;
};
struct pods_port_mapping {
    int container_port, host_port;
    const char *protocol; /* "TCP", "UDP", "SCTP" */
    const char *host_ip;  /* NULL or "": every address */
};
bool pods_cri_id_valid(const char *id);
int pods_sandbox_run(pods_manager *m, const struct pods_sandbox_config *c, char **id,
                     pr_error **err);
/* Stops every container at once and gives back the network (CNI DEL); the sandbox stays,
 * NotReady. Idempotent; -ENOENT for an id that never was. */
int pods_sandbox_stop(pods_manager *m, const char *id, pr_error **err);
/* Stops and removes it and its containers, leaving nothing. Idempotent: 0 for none. */
int pods_sandbox_remove(pods_manager *m, const char *id, pr_error **err);
/* The sandbox's record: id, name, namespace, uid, attempt, createdAt (ns), state ("ready",
 * "notready"), ip, hostname, logDirectory, cgroupParent, netns, labels, annotations. */
int pods_sandbox_record(pods_manager *m, const char *id, yajl_val *out, pr_error **err);
/* Every sandbox's id. */
int pods_sandbox_ids(pods_manager *m, char ***ids, pr_error **err);

struct pods_cri_mount {
    const char *container_path, *host_path;
    bool readonly;
    enum pods_propagation propagation;
};
struct pods_cri_container {
    const char *name;
    uint32_t attempt;
    const char *image;                               /* a name or id in the image store */
    char *const *command, *const *args, *const *env; /* env: "K=V" */
    const char *cwd;
    const struct pods_cri_mount *mounts;
    size_t n_mounts;
    const char *log_path; /* relative to the sandbox's log_directory; NULL: none */
    char *const *labels, *const *annotations;
    struct pods_resources resources;
    bool has_oom_score_adj;
    int oom_score_adj;
    bool privileged, readonly_rootfs, no_new_privileges;
    char *const *cap_add, *const *cap_drop;
    bool has_user, has_group;
    uid_t uid;
    gid_t gid;
    const char *username; /* run_as_username: looked up in the image's /etc/passwd */
    const gid_t *groups;  /* supplemental_groups, merged with the image user's (Merge policy) */
    size_t n_groups;
    enum pods_seccomp seccomp;
    const char *seccomp_file; /* PODS_SECCOMP_PROFILE: the profile's absolute path on the node
                                 (the kubelet's localhost_ref) */
    /* PODS_NS_NEW (the container's own), PODS_NS_HOST, or PODS_NS_JOIN: the sandbox's shared
     * one (its sandbox must have been made with share_pid) */
    enum pods_ns_mode pid;
    /* The container's own stdin (kept by its shim for Attach), closed after the first attach
     * session with stdin_once; a terminal (its output logged as stdout). */
    bool stdin_, stdin_once, tty;
};
int pods_cri_container_create(pods_manager *m, const char *sandbox,
                              const struct pods_cri_container *c, char **id, pr_error **err);
int pods_cri_container_start(pods_manager *m, const char *id, pr_error **err);
/* Waits until it stopped: the stop signal, then SIGKILL after timeout seconds. Idempotent. */
int pods_cri_container_stop(pods_manager *m, const char *id, int64_t timeout, pr_error **err);
/* Idempotent: 0 for none. A running container is killed first. */
int pods_cri_container_remove(pods_manager *m, const char *id, pr_error **err);
/* The container's record (id, sandbox, name, attempt, image, imageRef, createdAt, logPath,
 * labels, annotations) and its shim's status of it (NULL when the shim knows none). */
int pods_cri_container_get(pods_manager *m, const char *id, yajl_val *record, yajl_val *status,
                           pr_error **err);
/* The ids of the containers of one sandbox (NULL: of all). */
int pods_cri_container_ids(pods_manager *m, const char *sandbox, char ***ids, pr_error **err);
/* Runs argv in the container; stdout and stderr (each cut at 1 MiB), its exit code. timeout 0:
 * an hour. -ETIMEDOUT when it ran out of time. */
int pods_cri_exec_sync(pods_manager *m, const char *id, char *const *argv, int64_t timeout,
                       char **out, char **errout, int *code, pr_error **err);
int pods_cri_reopen_log(pods_manager *m, const char *id, pr_error **err);
/* New limits for a running container (the runtime's update): memory, CPU shares, quota and
 * period; 0 leaves one as it is. */
int pods_cri_container_update(pods_manager *m, const char *id, const struct pods_resources *res,
                              pr_error **err);
/* Usage from the cgroups (cristats.c): a sandbox's (its pod cgroup, containers included) or a
 * container's. -ENOENT when there is no such cgroup (a container not running). */
int pods_cri_sandbox_usage(pods_manager *m, const char *id, struct pods_usage *out, pr_error **err);
int pods_cri_container_usage(pods_manager *m, const char *id, struct pods_usage *out,
                             pr_error **err);

#endif
