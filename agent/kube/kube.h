/* SPDX-License-Identifier: Apache-2.0 */
/* Kubernetes objects: manifests (YAML or JSON, several documents) into trees with limits, the
 * API's small languages (resource quantities, label selectors), and later the typed objects and
 * the controllers' reconcile functions. Pure: nothing here does I/O beyond what it is handed. */
#ifndef PODRUN_AGENT_KUBE_H
#define PODRUN_AGENT_KUBE_H

#include "error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <yajl/yajl_tree.h>

/* Limits on one manifest (a file, a directory's file, or stdin). Kubernetes' API server takes
 * requests up to 3 MiB and etcd objects up to 1.5 MiB; a manifest holds several objects. */
#define KUBE_MANIFEST_MAX_BYTES (8u << 20)
#define KUBE_MANIFEST_MAX_DEPTH 100     /* nested mappings and sequences */
#define KUBE_MANIFEST_MAX_NODES 1000000 /* values after aliases are expanded */
#define KUBE_MANIFEST_MAX_DOCS  10000

/* The documents of a manifest as JSON-shaped trees (yajl's, freed with yajl_tree_free), empty
 * documents left out. YAML scalars resolve as Kubernetes' YAML decoder resolves them (YAML 1.1:
 * yes/no/on/off are booleans, 0755 is octal, ~ is null); quoted scalars are strings. A text
 * whose first character is `{` or `[` is JSON. Refused with the line and column: malformed
 * input, duplicate keys, unknown tags, and anything over the limits above. */
struct kube_docs {
    yajl_val *v;
    size_t n;
};
int kube_parse_manifest(const char *text, size_t len, const char *what, struct kube_docs *out,
                        pr_error **err);
void kube_docs_clear(struct kube_docs *d);
/* v as YAML the way kubectl writes it: keys sorted, strings that would read back as another
 * type ("123", "true", a timestamp) double-quoted, {} and [] for empty ones. Freshly
 * allocated; an error for a tree over 64 levels deep. */
int kube_yaml_emit(yajl_val v, char **out, size_t *len, pr_error **err);

/* A resource quantity ("100m", "1.5Gi", "2e3", "128974848"), kept exactly as a decimal
 * mantissa scaled by powers of ten and two: value = mantissa * 10^exp10 * 2^exp2. */
struct kube_quantity {
    int64_t mantissa;
    int exp10;
    int exp2;
};
int kube_quantity_parse(const char *s, struct kube_quantity *q, pr_error **err);
/* The value in units of 10^-scale (scale 0: whole units, 3: milli-units), rounded up as
 * Kubernetes rounds (a CPU of 0.0001 is 1m). -ERANGE when it does not fit in 64 bits. */
int kube_quantity_scaled(const struct kube_quantity *q, int scale, int64_t *out);

/* Label selectors: the string form of `-l` ("app=web,tier!=db,env in (a,b),!legacy,canary")
 * and the API's {matchLabels, matchExpressions}. An empty selector matches everything. */
enum kube_sel_op {
    KUBE_SEL_EQ,
    KUBE_SEL_NE,
    KUBE_SEL_IN,
    KUBE_SEL_NOTIN,
    KUBE_SEL_EXISTS,
    KUBE_SEL_NOTEXISTS
};
struct kube_requirement {
    char *key;
    enum kube_sel_op op;
    char **values; /* NULL-terminated; one for EQ and NE, none for (NOT)EXISTS */
};
struct kube_selector {
    struct kube_requirement *req;
    size_t n;
};
int kube_selector_parse(const char *s, struct kube_selector *out, pr_error **err);
int kube_selector_from_object(yajl_val sel, const char *ctx, struct kube_selector *out,
                              pr_error **err);
/* labels: an object of string values (metadata.labels), or NULL for none. */
bool kube_selector_matches(const struct kube_selector *s, yajl_val labels);
void kube_selector_clear(struct kube_selector *s);

/* ---- typed objects (core/v1) ---- */

/* An object of strings (labels, annotations, a ConfigMap's data), borrowed from the tree. */
struct kube_map {
    size_t n;
    const char **keys;
    const char **values;
};
const char *kube_map_get(const struct kube_map *m, const char *key);

/* A port given by number or by name (IntOrString). */
struct kube_int_or_string {
    bool set;
    bool is_string;
    int64_t i;
    const char *s;
};

struct kube_meta {
    const char *name;
    const char *generate_name;
    const char *namespace_;
    const char *uid;
    struct kube_map labels;
    struct kube_map annotations;
    yajl_val owner_references;
};

struct kube_key_ref {
    const char *name;
    const char *key;
    bool optional;
};

struct kube_field_ref {
    const char *api_version;
    const char *field_path;
};

struct kube_resource_field_ref {
    const char *container_name;
    const char *resource;
    const char *divisor;
};

struct kube_env_source {
    bool has_config_map_key_ref, has_secret_key_ref, has_field_ref, has_resource_field_ref;
    struct kube_key_ref config_map_key_ref;
    struct kube_key_ref secret_key_ref;
    struct kube_field_ref field_ref;
    struct kube_resource_field_ref resource_field_ref;
};

struct kube_env_var {
    const char *name;
    const char *value;
    bool has_value_from;
    struct kube_env_source value_from;
};

struct kube_env_from {
    const char *prefix;
    bool has_config_map_ref, has_secret_ref;
    struct kube_key_ref config_map_ref; /* name and optional */
    struct kube_key_ref secret_ref;
};

struct kube_container_port {
    const char *name;
    int32_t container_port;
    int32_t host_port;
    const char *host_ip;
    const char *protocol; /* TCP (default), UDP, SCTP */
};

struct kube_resources {
    struct kube_map limits;   /* cpu, memory, ephemeral-storage, hugepages-2Mi ... */
    struct kube_map requests; /* quantities, checked at decode time */
};

struct kube_volume_mount {
    const char *name;
    const char *mount_path;
    bool read_only;
    const char *sub_path;
    const char *mount_propagation;
};

struct kube_http_header {
    const char *name;
    const char *value;
};

struct kube_probe {
    bool has_exec, has_http_get, has_tcp_socket, has_grpc;
    struct {
        const char **command;
    } exec;
    struct {
        const char *path;
        struct kube_int_or_string port;
        const char *host;
        const char *scheme;
        struct kube_http_header *headers;
        size_t n_headers;
    } http_get;
    struct {
        struct kube_int_or_string port;
        const char *host;
    } tcp_socket;
    struct {
        int32_t port;
        const char *service;
    } grpc;
    int32_t initial_delay_seconds, timeout_seconds, period_seconds, success_threshold,
        failure_threshold;
    bool has_timeout_seconds, has_period_seconds, has_success_threshold, has_failure_threshold;
    int64_t termination_grace_period_seconds;
    bool has_termination_grace_period_seconds;
};

struct kube_seccomp_profile {
    const char *type; /* RuntimeDefault, Unconfined, Localhost */
    const char *localhost_profile;
};

struct kube_security_context {
    int64_t run_as_user, run_as_group;
    bool has_run_as_user, has_run_as_group, has_run_as_non_root, has_allow_privilege_escalation;
    bool run_as_non_root, privileged, read_only_root_filesystem, allow_privilege_escalation;
    bool has_capabilities, has_seccomp_profile;
    struct {
        const char **add;
        const char **drop;
    } capabilities;
    struct kube_seccomp_profile seccomp_profile;
    const char *proc_mount;
};

struct kube_container {
    const char *name;
    const char *image;
    const char **command;
    const char **args;
    const char *working_dir;
    struct kube_container_port *ports;
    size_t n_ports;
    struct kube_env_var *env;
    size_t n_env;
    struct kube_env_from *env_from;
    size_t n_env_from;
    struct kube_resources resources;
    struct kube_volume_mount *volume_mounts;
    size_t n_volume_mounts;
    bool has_liveness_probe, has_readiness_probe, has_startup_probe;
    struct kube_probe liveness_probe, readiness_probe, startup_probe;
    const char *image_pull_policy; /* defaulted: Always for :latest or no tag, else IfNotPresent */
    bool has_security_context;
    struct kube_security_context security_context;
    bool stdin_, stdin_once, tty;
    const char *termination_message_path;
    const char *termination_message_policy; /* defaulted: File */
    const char *restart_policy;             /* an init container's "Always": a sidecar */
    yajl_val lifecycle;                     /* postStart / preStop: for the pod manager */
};

struct kube_key_to_path {
    const char *key;
    const char *path;
    int32_t mode;
    bool has_mode;
};

/* A configMap or secret volume, or one of a projected volume's sources (no defaultMode). */
struct kube_object_volume {
    const char *name; /* configMap.name, secret.secretName */
    struct kube_key_to_path *items;
    size_t n_items;
    int32_t default_mode;
    bool has_default_mode;
    bool optional;
};

/* A downwardAPI volume's file: one field of the pod (fieldRef) or a container's resources. */
struct kube_downward_file {
    const char *path;
    bool has_field_ref, has_resource_field_ref;
    struct kube_field_ref field_ref;
    struct kube_resource_field_ref resource_field_ref;
    int32_t mode;
    bool has_mode;
};

struct kube_downward_volume {
    struct kube_downward_file *items;
    size_t n_items;
    int32_t default_mode;
    bool has_default_mode;
};

struct kube_projection {
    bool has_config_map, has_secret, has_downward_api;
    struct kube_object_volume config_map, secret;
    struct kube_downward_volume downward_api;
};

struct kube_volume {
    const char *name;
    bool has_empty_dir, has_config_map, has_secret, has_host_path, has_pvc, has_downward_api,
        has_projected;
    struct {
        const char *medium;
        const char *size_limit;
    } empty_dir;
    struct kube_object_volume config_map, secret;
    struct kube_downward_volume downward_api;
    struct {
        struct kube_projection *sources;
        size_t n_sources;
        int32_t default_mode;
        bool has_default_mode;
    } projected;
    struct {
        const char *path;
        const char *type;
    } host_path;
    struct {
        const char *claim_name;
        bool read_only;
    } pvc;
};

struct kube_pod_security_context {
    int64_t run_as_user, run_as_group, fs_group;
    bool has_run_as_user, has_run_as_group, has_fs_group, has_run_as_non_root;
    bool run_as_non_root;
    yajl_val supplemental_groups;
    const char *supplemental_groups_policy; /* Merge (the default) or Strict */
    yajl_val sysctls;
    bool has_seccomp_profile;
    struct kube_seccomp_profile seccomp_profile;
};

struct kube_pod_spec {
    struct kube_container *init_containers;
    size_t n_init_containers;
    struct kube_container *containers;
    size_t n_containers;
    struct kube_volume *volumes;
    size_t n_volumes;
    const char *restart_policy;               /* defaulted: Always */
    int64_t termination_grace_period_seconds; /* defaulted: 30 */
    bool has_termination_grace_period_seconds;
    int64_t active_deadline_seconds;
    bool has_active_deadline_seconds;
    const char *dns_policy; /* defaulted: ClusterFirst */
    struct kube_map node_selector;
    const char *node_name;
    const char *hostname;
    const char *subdomain;
    bool host_network, host_pid, host_ipc, share_process_namespace, set_hostname_as_fqdn;
    bool has_security_context;
    struct kube_pod_security_context security_context;
    yajl_val host_aliases;
    yajl_val dns_config;
    yajl_val tolerations;
    yajl_val affinity;
};

/* ---- Services (v1), service.c ---- */
struct kube_service_port {
    const char *name;
    const char *protocol; /* defaulted: TCP */
    int32_t port;
    struct kube_int_or_string target_port; /* defaulted: port */
    int32_t node_port;                     /* 0: none yet (allocated on apply) */
    const char *app_protocol;
};

struct kube_service_spec {
    const char *type; /* defaulted: ClusterIP */
    struct kube_map selector;
    struct kube_service_port *ports;
    size_t n_ports;
    const char *cluster_ip;              /* NULL: allocate; "None": headless */
    const char **cluster_ips;            /* must agree with cluster_ip */
    const char *session_affinity;        /* defaulted: None */
    yajl_val session_affinity_config;    /* checked: clientIP.timeoutSeconds */
    int32_t affinity_timeout;            /* ClientIP: seconds (defaulted: 10800); else 0 */
    const char *external_traffic_policy; /* Cluster (the default for NodePort) or Local */
    const char *internal_traffic_policy; /* defaulted: Cluster */
    const char **ip_families;
    const char *ip_family_policy;
    bool publish_not_ready_addresses;
    const char *load_balancer_ip;    /* LoadBalancer: the pool address asked for (NULL: any) */
    yajl_val allocate_lb_node_ports; /* checked: true (the default) only */
    const char *external_name;       /* ExternalName: the CNAME's target (a DNS subdomain) */
    int32_t health_check_node_port;  /* LoadBalancer with Local: 0 allocates one */
};

/* ---- Ingress and IngressClass (networking.k8s.io/v1), ingress.c ---- */
struct kube_ingress_port {
    int32_t number; /* 0: by name */
    const char *name;
};
struct kube_ingress_service_ref {
    const char *name;
    struct kube_ingress_port port;
    bool has_port;
};
struct kube_ingress_backend {
    struct kube_ingress_service_ref service;
    bool has_service;
};
struct kube_ingress_path {
    const char *path;      /* "/..."; NULL: "/" (ImplementationSpecific only) */
    const char *path_type; /* Exact, Prefix, ImplementationSpecific */
    struct kube_ingress_backend backend;
    bool has_backend;
};
struct kube_ingress_rule {
    const char *host; /* NULL: any; "*.example.com": one label */
    struct kube_ingress_http {
        struct kube_ingress_path *paths;
        size_t n_paths;
    } http;
    bool has_http;
};
struct kube_ingress_tls {
    const char **hosts;
    const char *secret_name;
};
struct kube_ingress_spec {
    const char *class_name;
    struct kube_ingress_backend default_backend;
    bool has_default_backend;
    struct kube_ingress_tls *tls;
    size_t n_tls;
    struct kube_ingress_rule *rules;
    size_t n_rules;
};
struct kube_ingress_class_spec {
    const char *controller;
};
/* Whether an Ingress names a host (its rules' or its TLS entries'), for messages. */
bool kube_ingress_host_valid(const char *host);

enum kube_kind {
    KUBE_POD,
    KUBE_CONFIGMAP,
    KUBE_SECRET,
    KUBE_NAMESPACE,
    KUBE_DEPLOYMENT,
    KUBE_REPLICASET,
    KUBE_SERVICE,
    KUBE_INGRESS,
    KUBE_INGRESSCLASS,
    KUBE_ENDPOINTSLICE,
    KUBE_STATEFULSET,
    KUBE_DAEMONSET,
    KUBE_PVC,
    KUBE_PV,
    KUBE_JOB,
    KUBE_CRONJOB,
    KUBE_HPA,
};

/* A PodTemplateSpec: the pods a workload makes. */
struct kube_pod_template {
    struct kube_meta meta;
    struct kube_pod_spec spec;
    bool has_meta, has_spec;
};

/* An apps/v1 Deployment or ReplicaSet (the strategy and the rollout's fields are a
 * Deployment's), with the API server's defaults: replicas 1, RollingUpdate 25%/25%,
 * revisionHistoryLimit 10, progressDeadlineSeconds 600. */
struct kube_workload {
    int32_t replicas;
    bool has_replicas;
    yajl_val selector; /* {matchLabels, matchExpressions}, checked against the template */
    struct kube_pod_template template_;
    bool has_template;
    struct {
        const char *type; /* RollingUpdate or Recreate */
        bool has_rolling_update;
        struct {
            struct kube_int_or_string max_surge, max_unavailable;
        } rolling_update;
    } strategy;
    bool has_strategy;
    int32_t min_ready_seconds;
    int32_t revision_history_limit;
    bool has_revision_history_limit;
    int32_t progress_deadline_seconds;
    bool has_progress_deadline_seconds;
    bool paused;
};
/* An apps/v1 StatefulSet or DaemonSet (statefulset.c): the pods' part is a kube_workload's
 * (selector and template checked alike); defaults as the API server's: podManagementPolicy
 * OrderedReady, updateStrategy RollingUpdate (partition 0), revisionHistoryLimit 10. */
struct kube_set {
    struct kube_workload w;
    const char *service_name;
    const char *pod_management_policy;
    struct {
        const char *type; /* RollingUpdate or OnDelete */
        bool has_rolling_update;
        struct {
            int32_t partition;
            struct kube_int_or_string max_unavailable, max_surge;
        } rolling_update;
    } update_strategy;
    yajl_val volume_claim_templates; /* checked: each a claim (kube_claim_check) */
    /* A StatefulSet's template as its pods get it (a volume for each claim template), owned:
     * w.template_ is decoded from it. */
    yajl_val template_tree;
    struct {
        const char *when_deleted, *when_scaled; /* Retain (default) or Delete */
    } retention;
    bool has_retention;
    int32_t ordinals_start; /* spec.ordinals.start: the first pod is SET-start */
    bool has_ordinals;
};

/* A v1 PersistentVolumeClaim's spec (statefulset.c), defaulted: storageClassName local-path,
 * volumeMode Filesystem. */
struct kube_claim {
    const char **access_modes;
    const char *storage_class;
    const char *volume_mode;
    const char *volume_name;
    const char *storage; /* resources.requests.storage, checked as a quantity */
    int64_t storage_bytes;
    yajl_val resources;
};
#define KUBE_LOCAL_PATH_CLASS "local-path"
/* Checks and defaults a claim's spec tree (a PVC's or a volumeClaimTemplate's, at path). */
int kube_claim_check(yajl_val spec, const char *path, struct kube_claim *out, pr_error **err);

/* A batch/v1 Job's spec with the API server's defaults (job.c): parallelism 1, completions 1
 * when neither is given (unset with parallelism given: a work queue, has_completions false),
 * backoffLimit 6, completionMode NonIndexed. */
struct kube_job {
    int32_t parallelism, completions, backoff_limit;
    bool has_parallelism, has_completions, has_backoff_limit;
    int64_t active_deadline_seconds;
    bool has_active_deadline_seconds;
    int32_t ttl_seconds_after_finished;
    bool has_ttl_seconds_after_finished;
    bool suspend, manual_selector;
    const char *completion_mode; /* NonIndexed or Indexed */
    yajl_val selector;
    struct kube_pod_template template_;
    bool has_template;
};

/* A batch/v1 CronJob's spec with the API server's defaults (cronjob.c): concurrencyPolicy
 * Allow, successfulJobsHistoryLimit 3, failedJobsHistoryLimit 1. */
struct kube_cronjob {
    const char *schedule, *time_zone, *concurrency_policy;
    int64_t starting_deadline_seconds;
    bool has_starting_deadline_seconds;
    bool suspend;
    int32_t successful_jobs_history_limit, failed_jobs_history_limit;
    bool has_successful_jobs_history_limit, has_failed_jobs_history_limit;
    struct {
        struct kube_meta meta;
        struct kube_job spec;
        bool has_meta, has_spec;
    } job_template;
    bool has_job_template;
};

/* An autoscaling/v2 (or v1) HorizontalPodAutoscaler's spec, checked (hpa.c): minReplicas 1;
 * the targets in percent of the pods' requests (-1: none; no metric at all: cpu 80); the
 * stabilisation windows in seconds (scale-up 0, scale-down 300 unless behavior says). */
struct kube_hpa {
    const char *target_api_version, *target_kind, *target_name;
    int32_t min_replicas, max_replicas;
    bool has_min_replicas;
    yajl_val metrics, behavior;
    int32_t v1_target_cpu;
    bool has_v1_target_cpu;
    int32_t cpu_target, memory_target;
    int32_t up_window, down_window;
    /* ContainerResource metrics: one container's cpu or memory against its own request. */
    struct kube_hpa_container_target {
        const char *container;
        bool cpu;
        int32_t target; /* averageUtilization */
    } container_targets[4];
    size_t n_container_targets;
    /* spec.behavior given: its rules, Kubernetes' defaults filled in (kube_hpa_rules). */
    bool has_behavior;
    struct kube_hpa_rules {
        enum { KUBE_HPA_SELECT_MAX, KUBE_HPA_SELECT_MIN, KUBE_HPA_SELECT_DISABLED } select;
        size_t n;
        struct kube_hpa_policy {
            bool percent; /* type Percent; else Pods */
            int32_t value, period_seconds;
        } policies[8];
    } up_rules, down_rules;
};

/* Whether objects of the kind live in a namespace. A cluster-scoped one (Namespace) has
 * meta.namespace_ NULL after kube_object_decode, whatever its manifest says, as the API server
 * clears it; a namespaced one has its manifest's namespace or "default". */
bool kube_kind_namespaced(enum kube_kind k);

/* One object of a manifest, typed; keeps its tree (every string points into it). */
struct kube_object {
    enum kube_kind kind;
    const char *api_version;
    const char *kind_name;
    struct kube_meta meta;
    union {
        struct kube_pod_spec pod;
        struct {
            struct kube_map data;
            struct kube_map binary_data; /* base64, checked */
            bool immutable;
        } config_map;
        struct {
            struct kube_map data;        /* base64, checked */
            struct kube_map string_data; /* plain */
            const char *type;            /* defaulted: Opaque */
            bool immutable;
        } secret;
        struct kube_service_spec service;
        struct kube_workload workload; /* Deployment, ReplicaSet */
        struct kube_ingress_spec ingress;
        struct kube_ingress_class_spec ingress_class;
        struct {
            const char *address_type;  /* IPv4 */
            yajl_val endpoints, ports; /* checked by kube_endpointslice_check */
        } endpoint_slice;              /* discovery.k8s.io/v1 */
        struct kube_set set;           /* StatefulSet, DaemonSet */
        struct kube_claim claim;       /* PersistentVolumeClaim */
        struct kube_job job;
        struct kube_cronjob cronjob;
        struct kube_hpa hpa;
    } u;
    yajl_val tree;
};

/* Types one document: apiVersion and kind first (a kind podrun does not serve yet is an error
 * naming it), then strict decoding, Kubernetes' defaults and its validation. Takes the tree in
 * every case. where names the document ("pod.yaml, document 2") in errors. */
int kube_object_decode(yajl_val tree, const char *where, struct kube_object **out, pr_error **err);
void kube_object_free(struct kube_object *o);

/* Names: RFC 1123 subdomain (at most 253) for most objects, label (63) for namespaces and
 * containers. */
bool kube_valid_subdomain(const char *s);
bool kube_valid_label_name(const char *s);

/* ---- Services' endpoints (endpoints.c): a pure function of the service and the pods ---- */

/* What the endpoints controller sees of one pod. */
struct kube_endpoint_pod {
    const char *ns, *name, *uid, *ip; /* ip NULL: none yet (not an endpoint) */
    bool ready;                       /* its Ready condition is True */
    bool terminating;                 /* being deleted, or finished */
    yajl_val labels;                  /* metadata.labels */
    yajl_val spec;                    /* the pod's spec (containers' named ports) */
};
/* One address of one service port. */
struct kube_endpoint {
    size_t pod; /* index into the pods given; SIZE_MAX: an EndpointSlice's address */
    const char *ip;
    int32_t port;
    bool ready;
    const char *hostname;  /* an EndpointSlice's endpoint's hostname, or NULL */
    const char *node_name; /* an EndpointSlice's endpoint's nodeName; NULL for a pod's (this
                            * node's: podrun runs them all here) */
};
struct kube_port_endpoints {
    struct kube_endpoint *v;
    size_t n;
};
/* For each of the service's ports (out->v[i] for spec->ports[i]): the pods of ns whose labels
 * the selector matches, that have an IP and are not terminating, with the targetPort resolved
 * (by name: the pod's container port of that name and protocol; a pod without it is left out
 * of that port, as the EndpointSlice controller does), sorted by IP. A service without a
 * selector has none. out must be freed with kube_service_endpoints_clear. */
struct kube_service_endpoints {
    struct kube_port_endpoints *v;
    size_t n;
    /* A headless service without ports (as the API server accepts it): its pods' addresses,
     * port 0, as its EndpointSlice lists them with no ports. */
    struct kube_port_endpoints addresses;
};
void kube_service_endpoints(const struct kube_service_spec *spec, const char *ns,
                            const struct kube_endpoint_pod *pods, size_t n,
                            struct kube_service_endpoints *out);
void kube_service_endpoints_clear(struct kube_service_endpoints *e);

/* ---- EndpointSlices (discovery.k8s.io/v1, endpointslice.c) ---- */

#define KUBE_SERVICE_NAME_LABEL "kubernetes.io/service-name"
/* The API server's validation of an EndpointSlice: addressType IPv4 (others unsupported),
 * endpoints (at most 1000, each 1 to 100 addresses), ports (at most 100; names unique). */
int kube_endpointslice_check(const struct kube_object *o, pr_error **err);
/* A service without a selector takes its endpoints from the slices given (stored objects,
 * those labelled with its name in its namespace): for each service port, the slices' ports of
 * the same name and protocol, each address of each endpoint (ready unless its conditions say
 * ready: false), sorted by IP; ip points into the slices' trees, pod is SIZE_MAX. */
void kube_endpointslice_endpoints(const struct kube_service_spec *spec, const yajl_val *slices,
                                  size_t n, struct kube_service_endpoints *out);

/* ---- compute resources and QoS (resources.c) ---- */

/* cpu in millicores, memory in bytes. A request defaults to the limit, as the API server
 * defaults it. For a pod: requests and limits are the larger of the containers' sum and the
 * largest init container's; has_*_limit when every container (init ones too) has that limit. */
struct kube_compute {
    int64_t cpu_request, memory_request, cpu_limit, memory_limit;
    bool has_cpu_limit, has_memory_limit;
};
int kube_container_compute(const struct kube_container *c, struct kube_compute *out,
                           pr_error **err);
int kube_pod_compute(const struct kube_pod_spec *s, struct kube_compute *out, pr_error **err);

enum kube_qos { KUBE_QOS_BESTEFFORT, KUBE_QOS_BURSTABLE, KUBE_QOS_GUARANTEED };
/* The pod's QoS class as the API server computes status.qosClass. */
enum kube_qos kube_pod_qos(const struct kube_pod_spec *s);
const char *kube_qos_name(enum kube_qos q);

/* ---- controllers: pure functions of desired and observed state (apps/v1) ---- */

/* What a ReplicaSet's controller sees of one pod it owns. Times in seconds since the epoch. */
struct kube_owned_pod {
    const char *name;
    const char *phase; /* Pending, Running, Succeeded, Failed, Unknown */
    bool terminating;  /* being deleted */
    bool ready;
    int64_t ready_since; /* when it last turned Ready */
    int32_t restarts;    /* the most restarts of any of its containers */
    int64_t created;
};
/* A pod counts toward replicas while it is neither being deleted nor finished. */
bool kube_pod_active(const struct kube_owned_pod *p);
/* Active and Ready for at least min_ready_seconds at now. */
bool kube_pod_available(const struct kube_owned_pod *p, int32_t min_ready_seconds, int64_t now);

/* What to do to have `replicas` active pods: create `create` pods, or delete the pods at
 * delete_idx (indices into the pods given), in Kubernetes' order: pending before running, not
 * ready before ready, ready for less time first, more restarts first, newest first. At most 500
 * either way, as Kubernetes' burst. */
struct kube_replicaset_plan {
    size_t create;
    size_t *delete_idx;
    size_t n_delete;
};
void kube_replicaset_plan(int32_t replicas, const struct kube_owned_pod *pods, size_t n,
                          struct kube_replicaset_plan *out);
void kube_replicaset_plan_clear(struct kube_replicaset_plan *p);

/* A Deployment's pod-template hash (the pod-template-hash label and the ReplicaSet name's
 * suffix, "NAME-55fdcd95bf"): FNV-1a over the template's canonical form and the collision
 * count, written in Kubernetes' letters. */
#define KUBE_HASH_MAX 16
int kube_template_hash(yajl_val template_, int32_t collision_count, char out[KUBE_HASH_MAX],
                       pr_error **err);
/* The five letters the API server appends to a generateName ("NAME-55fdcd95bf-22mh2"), from
 * five random bytes the caller draws. */
#define KUBE_SUFFIX_LEN 5
void kube_name_suffix(const unsigned char random[KUBE_SUFFIX_LEN], char out[KUBE_SUFFIX_LEN + 1]);

/* A Deployment's rollout, as far as its strategy goes. */
struct kube_rollout {
    int32_t replicas;
    bool recreate; /* strategy Recreate; else RollingUpdate */
    bool paused;
    struct kube_int_or_string max_surge;       /* unset: 25% */
    struct kube_int_or_string max_unavailable; /* unset: 25% */
};
/* One ReplicaSet of the Deployment, as observed. */
struct kube_rs_state {
    int64_t created;
    int32_t replicas;  /* spec.replicas */
    int32_t pods;      /* active pods it owns */
    int32_t available; /* of those, available */
};
/* maxSurge rounded up and maxUnavailable rounded down from percentages of replicas; both 0 gives
 * one unavailable, as Kubernetes resolves them. */
int kube_rollout_limits(const struct kube_rollout *d, int32_t *max_surge, int32_t *max_unavailable,
                        pr_error **err);
/* One step of the rollout towards the ReplicaSet at new_idx (it must exist, perhaps with 0
 * replicas): want[i] is each ReplicaSet's new spec.replicas (unchanged ones keep theirs). A
 * rolling step scales the new one up within the surge, or the old ones down as far as
 * availability allows (unavailable pods first, oldest ReplicaSet first); Recreate scales the old
 * ones to 0 and the new one up once no old pod is left. Paused: no change. */
int kube_rollout_step(const struct kube_rollout *d, const struct kube_rs_state *rs, size_t n,
                      size_t new_idx, int32_t *want, pr_error **err);
/* The new ReplicaSet has all replicas available and no old one has a replica or a pod. */
bool kube_rollout_complete(const struct kube_rollout *d, const struct kube_rs_state *rs, size_t n,
                           size_t new_idx);

/* ---- StatefulSets (statefulset.c) ---- */

/* One pod of a StatefulSet, by ordinal, as its controller sees it. */
struct kube_sts_pod {
    int32_t ordinal;
    bool running_ready; /* Running, every container Ready */
    bool terminating;   /* being deleted */
    bool failed;        /* finished or its shim is gone: to be replaced */
    bool updated;       /* of the update revision (the current template) */
};
struct kube_sts_spec {
    int32_t replicas;
    bool parallel;  /* podManagementPolicy Parallel; else OrderedReady */
    bool on_delete; /* updateStrategy OnDelete; else RollingUpdate */
    int32_t partition;
    int32_t start;           /* spec.ordinals.start: the replicas are start .. start+replicas-1 */
    int32_t max_unavailable; /* rollingUpdate.maxUnavailable resolved (>= 1); 0: not given */
};
/* What one pass does: the ordinals to create (ascending) and to delete (in the order given:
 * failed pods, then scale-down from the highest ordinal, then one rolling-update victim),
 * as Kubernetes' StatefulSet controller decides (pkg/controller/statefulset,
 * updateStatefulSet): OrderedReady waits for every lower pod to be Running and Ready before
 * it creates, and deletes condemned pods (outside start .. start+replicas-1) one at a time,
 * highest first, while the others are Running and Ready; a rolling update replaces the highest
 * ordinal at or above the partition that is not updated once all are Running and Ready, or with
 * maxUnavailable up to that many at once less those unavailable (Parallel: beside creations). */
struct kube_sts_plan {
    int32_t *create;
    size_t n_create;
    int32_t *delete_;
    size_t n_delete;
};
void kube_statefulset_plan(const struct kube_sts_spec *s, const struct kube_sts_pod *pods, size_t n,
                           struct kube_sts_plan *out);
void kube_statefulset_plan_clear(struct kube_sts_plan *p);
/* rollingUpdate.maxUnavailable of a stored StatefulSet spec (an integer or a percentage of
 * replicas, rounded down, at least 1); 0 when not given. */
int32_t kube_statefulset_max_unavailable(yajl_val spec, int32_t replicas);
/* The ordinal of a pod named SET-N (N without leading zeros, within int32); -1 otherwise. */
int32_t kube_statefulset_ordinal(const char *set, const char *pod);
/* A DaemonSet's rollingUpdate with maxSurge on this node (KEP-1591, the daemon controller's
 * rollingUpdate): the new pod is made beside the old one, whether the old is available or not,
 * and the old one goes once the new one is available (Ready for minReadySeconds). */
struct kube_ds_node {
    bool has_old, has_new, new_available;
};
enum kube_ds_step { KUBE_DS_WAIT, KUBE_DS_CREATE_NEW, KUBE_DS_DELETE_OLD };
enum kube_ds_step kube_daemonset_surge_step(const struct kube_ds_node *n);
/* Whether a stored DaemonSet spec surges: RollingUpdate with a maxSurge above 0 (or 0%). */
bool kube_daemonset_surges(yajl_val spec);
/* Whether the node's labels (an object of strings) satisfy a nodeSelector (likewise). */
bool kube_node_selector_matches(yajl_val selector, yajl_val labels);

/* ---- batch/v1 Job (job.c): the job controller's decision, pure ---- */

/* A Job's parameters as its controller reads them from the stored spec. */
struct kube_job_params {
    int32_t parallelism;
    int32_t completions; /* -1: unset (a work queue: done when one pod succeeds) */
    int32_t backoff_limit;
    int64_t active_deadline; /* seconds; -1: none */
    bool indexed, suspend, on_failure;
    int64_t start;           /* startTime: seconds since the epoch */
    int64_t backoff_base_ms; /* the first retry's delay (Kubernetes: 10 s), doubled per failure */
    int64_t backoff_max_ms;  /* its cap (Kubernetes: 10 min) */
};
/* One pod of the Job as its controller sees it. */
struct kube_job_pod {
    const char *phase; /* Pending, Running, Succeeded, Failed */
    bool terminating;
    int32_t index;    /* Indexed: its completion index; -1 otherwise or when unknown */
    int32_t restarts; /* its containers' restarts, summed (OnFailure counts them as failures) */
    int64_t finished; /* when it succeeded or failed (its last container's finishedAt); 0 */
};
enum kube_job_state { KUBE_JOB_RUNNING, KUBE_JOB_COMPLETE, KUBE_JOB_FAILED };
/* The Job's counts, its state and what its controller does next. */
struct kube_job_plan {
    int32_t active, succeeded, failed;
    enum kube_job_state state;
    const char *reason;  /* Failed: BackoffLimitExceeded or DeadlineExceeded */
    int64_t finished_at; /* Complete or Failed: when (completionTime for Complete) */
    size_t create;       /* pods to create now (NonIndexed) */
    int32_t *indexes;    /* Indexed: the completion index of each pod to create */
    bool delete_active;  /* finished or suspended: its active pods go */
    size_t *delete_idx;  /* extra active pods (parallelism lowered): indices into the pods */
    size_t n_delete;
    int64_t wake_ms; /* when the decision changes with no pod changing (back-off, deadline): ms
                      * since the epoch, 0 for never */
    char *completed_indexes; /* Indexed: "0-2,4", as status.completedIndexes */
};
/* now_ms: milliseconds since the epoch. The state follows Kubernetes' job controller: Complete
 * once succeeded pods reach completions (work queue: one succeeded and none active); Failed when
 * failed pods exceed backoffLimit (OnFailure: the active pods' restarts reach it) or
 * activeDeadlineSeconds has passed since start. A new pod after failures waits the back-off
 * base * 2^(failures since the last success - 1), capped, from the last failure. */
void kube_job_plan(const struct kube_job_params *p, const struct kube_job_pod *pods, size_t n,
                   int64_t now_ms, struct kube_job_plan *out);
void kube_job_plan_clear(struct kube_job_plan *p);

/* ---- batch/v1 CronJob's schedule (cron.c) ---- */

#define KUBE_CRON_MAX        512 /* characters of a schedule */
#define KUBE_CRON_MISSED_MAX 100 /* Kubernetes' limit of missed start times it tells of */
/* A parsed schedule: one bit per allowed value; *_star when the day field was '*' or '?'
 * (cron's rule: then both day fields must match, else either). */
struct kube_cron {
    uint64_t minute;
    uint32_t hour, dom;
    uint16_t month;
    uint8_t dow;
    bool dom_star, dow_star;
};
/* "*\/5 0-6 1,15 JAN-MAR MON-FRI", "@hourly" ...: robfig/cron's standard parser, which the
 * API server validates with. TZ= and CRON_TZ= prefixes are refused as the API server refuses
 * them. The error tells what is wrong, without the field's path. */
int kube_cron_parse(const char *spec, struct kube_cron *out, pr_error **err);
/* The first time the schedule names strictly after `after` (seconds since the epoch, UTC);
 * -1 when none within five years (Feb 30). */
int64_t kube_cron_next(const struct kube_cron *c, int64_t after);
/* The latest time the schedule names in (earliest, now]; -1 for none. *missed: how many there
 * are, counted up to KUBE_CRON_MISSED_MAX + 1. */
int64_t kube_cron_most_recent(const struct kube_cron *c, int64_t earliest, int64_t now,
                              int64_t *missed);

/* ---- a CronJob's spec.timeZone (tz.c) ---- */

#define KUBE_TZ_FILE_MAX 65536 /* bytes of a zone's TZif file (the largest in tzdata: 4 KiB) */
#define KUBE_TZ_NAME_MAX 255   /* characters of a zone's name (a path beneath zoneinfo) */
/* A zone's rules: its transitions and the POSIX TZ rule past them. NULL stands for UTC. */
struct kube_tz;
/* The API server's check of the name (IANA naming, not "Local"), without the field's path. */
int kube_tz_name_check(const char *name, pr_error **err);
/* A TZif file's contents (tzfile(5), versions 1-4) to rules; "malformed time zone
 * information" when they are not. */
int kube_tz_parse(const void *data, size_t len, struct kube_tz **out, pr_error **err);
/* The zone of that name read beneath /usr/share/zoneinfo (openat2 RESOLVE_BENEATH, at most
 * KUBE_TZ_FILE_MAX bytes); "UTC" is *out = NULL without a file. "unknown time zone NAME" as Go's
 * time.LoadLocation says. */
int kube_tz_load(const char *name, struct kube_tz **out, pr_error **err);
void kube_tz_free(struct kube_tz *z);
static inline void kube_tz_freep(struct kube_tz **z)
{
    kube_tz_free(*z);
}
/* The zone's offset from UTC in seconds (east positive) at t. */
int32_t kube_tz_offset(const struct kube_tz *z, int64_t t);
/* kube_cron_next and kube_cron_most_recent with the schedule's fields read in zone z (NULL:
 * UTC), as robfig/cron's SpecSchedule.Next walks: a time that does not exist in a DST gap is
 * not run that day; a time that happens twice in an overlap runs at both instants. */
int64_t kube_cron_next_in(const struct kube_cron *c, const struct kube_tz *z, int64_t after);
int64_t kube_cron_most_recent_in(const struct kube_cron *c, const struct kube_tz *z,
                                 int64_t earliest, int64_t now, int64_t *missed);

/* ---- HorizontalPodAutoscaler (hpa.c): the HPA controller's decisions, pure ---- */

#define KUBE_HPA_TOLERANCE 0.1 /* --horizontal-pod-autoscaler-tolerance's default */
/* One pod of the scale target as the replica calculator sees it, for one resource. */
struct kube_hpa_pod {
    const char *name;
    bool ignored;    /* being deleted, or Failed */
    bool pending;    /* phase Pending */
    bool ready;      /* its Ready condition */
    bool has_metric; /* a usage was measured */
    int64_t usage;   /* millicores or bytes */
    int64_t request; /* its containers' requests summed, same unit; 0: one lacks it */
};
/* A metric's proposal: replicas, the current utilisation (percent of the requests) and the
 * average usage of the pods measured. */
struct kube_hpa_metric {
    int32_t replicas, utilization;
    int64_t average;
};
/* Kubernetes' GetResourceReplicas: ceil(ready pods * utilisation / target) beyond the
 * tolerance, current within it; pods without a metric count as their full request on a
 * scale-down and as idle on a scale-up, unready pods (cpu) as idle on a scale-up, and a
 * proposal they would reverse keeps the current count. An error when no pod has a metric or a
 * measured pod has no request. */
int kube_hpa_resource_replicas(const struct kube_hpa_pod *pods, size_t n, bool cpu, int32_t current,
                               int32_t target, double tolerance, struct kube_hpa_metric *out,
                               pr_error **err);
/* The recommendations of the last stabilisation window (seconds since the epoch). */
struct kube_hpa_recommendation {
    int64_t at;
    int32_t replicas;
};
struct kube_hpa_recommendations {
    struct kube_hpa_recommendation *v;
    size_t n;
};
void kube_hpa_recommendations_clear(struct kube_hpa_recommendations *r);
/* The changes the HPA made (seconds since the epoch, replicas added or removed), kept for
 * its longest policy period: a policy limits the change over its period. */
struct kube_hpa_scale_event {
    int64_t at;
    int32_t change;
};
struct kube_hpa_scale {
    int32_t current, proposal, min, max;
    int32_t up_window, down_window;
    int64_t now;
    /* spec.behavior's rules and the scale events; NULL rules: no behavior, the controller's
     * fixed rate (up to max(2 * current, 4)). */
    const struct kube_hpa_rules *up_rules, *down_rules;
    const struct kube_hpa_scale_event *up_events, *down_events;
    size_t n_up_events, n_down_events;
};
/* The AbleToScale and ScalingLimited conditions' reasons and messages (static strings). */
struct kube_hpa_result {
    int32_t desired;
    const char *able_reason, *able_message;
    bool limited;
    const char *limited_reason, *limited_message;
};
/* normalizeDesiredReplicas(WithBehaviors): the proposal held within the highest
 * recommendation of the scale-down window and the lowest of the scale-up window (recs keeps
 * what the windows need, the proposal added), then the rate (the behavior's rules and events,
 * or without a behavior up to max(2 * current, 4)) and the bounds. */
void kube_hpa_normalize(const struct kube_hpa_scale *s, struct kube_hpa_recommendations *recs,
                        struct kube_hpa_result *out);
/* calculateScaleUpLimitWithScalingRules / calculateScaleDownLimitWithBehaviors: the most (up)
 * or fewest (down) replicas the rules allow now, each policy counted from the replicas at the
 * start of its period (the events within it undone); selectPolicy Max takes the largest
 * change, Min the smallest, Disabled none (current). */
int32_t kube_hpa_rules_limit(const struct kube_hpa_rules *r, bool up, int32_t current,
                             const struct kube_hpa_scale_event *ups, size_t n_ups,
                             const struct kube_hpa_scale_event *downs, size_t n_downs, int64_t now);
/* The longest periodSeconds of the rules' policies: how long their events are kept. */
int32_t kube_hpa_rules_longest_period(const struct kube_hpa_rules *r);

#endif
