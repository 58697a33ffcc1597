/* SPDX-License-Identifier: Apache-2.0 */
/* The pod manager's insides, shared by its files and by nothing else. */
#ifndef PODRUN_AGENT_PODS_MANAGER_H
#define PODRUN_AGENT_PODS_MANAGER_H

#include "capabilities.h"
#include "json.h"
#include "pods.h"

#include <stdbool.h>
#include <stddef.h>

struct pods_manager {
    char *run_root, *lib_root, *log_root, *images_root;
    char *cni_conf_dir, *cni_bin_dir, *ipam_data_dir, *runtime, *shim;
    char *cluster_dns, *cluster_domain, *resolv_conf;
    bool cluster_domain_given; /* --cluster-domain: wins over node.yaml's clusterDomain */
    char *node_config, *node_name, *cgroup_root; /* NULL: the config file's, the defaults */
    char *service_cidr, *node_port_range;        /* NULL: the defaults */
    struct pods_services_taken *services_taken;  /* services.c's, loaded on first use */
    bool defer_services_sync;                    /* pods_services_defer */
    struct pods_node_config *node;               /* loaded on first use */
    int lockfd;
    bool exclusive; /* lockfd is the exclusive lock */
    struct pull_options pull;
};

/* Whether m holds the manager's exclusive lock: a pod record marked creating is then of a
 * command that died; to a reader without it, of one that is making the pod now. */
bool pods_manager_exclusive(const pods_manager *m);

/* A new object uid (a UUID from the kernel), as the API server gives one. */
int pods_new_uid(char **out, pr_error **err);

/* ---- node.c: the node's settings (the config file, then the flags) ---- */
struct pods_node_reserve {
    int64_t cpu, memory, storage, pids; /* millicores, bytes, bytes, count */
};
struct pods_node_config {
    char *name;
    char **labels;                     /* "key=value", besides the ones podrun sets */
    struct pods_node_reserve reserved; /* systemReserved + kubeReserved */
    int64_t max_pods;
    char *cgroup_root;      /* absolute, in every cgroup hierarchy */
    char *pod_cidr;         /* NULL: the default conflist's subnet, if any */
    int64_t pod_pids_limit; /* the kubelet's podPidsLimit: -1 for none */
    int64_t log_max_size;   /* containerLogMaxSize, bytes */
    int64_t log_max_files;  /* containerLogMaxFiles */
    char **lb_pool;         /* loadBalancerPool: "A.B.C.D/N" or "A.B.C.D-E.F.G.H" (checked) */
    int ingress_http_port, ingress_https_port; /* the Ingress proxy's (80, 443) */
    char *cluster_domain;                      /* NULL: --cluster-domain's, or cluster.local */
};
int pods_node_config_get(pods_manager *m, const struct pods_node_config **out, pr_error **err);
void pods_node_config_free(struct pods_node_config *c);
int64_t pods_meminfo_kib(const char *key);
/* The node's allocatable process ids: pid_max less the reserve, as the kubelet bounds kubepods. */
int64_t pods_node_pids_allocatable(const struct pods_node_config *c);

/* ---- tlscheck.c: kubernetes.io/tls Secrets ---- */
/* A PEM certificate and the private key that goes with it. */
int pods_tls_pair_check(const char *crt, size_t crt_len, const char *key, size_t key_len,
                        pr_error **err);
/* A Secret of type kubernetes.io/tls being applied: its tls.crt and tls.key load as a pair
 * (any other object: 0). */
int pods_tls_secret_check(const struct kube_object *o, pr_error **err);

/* ---- ingress.c: the Ingress controller (nginx, configured and supervised by podrun) ---- */
int pods_ingress_apply(pods_manager *m, const struct kube_object *o, enum pods_apply_result *res,
                       pr_error **err);
/* The proxy as the stored Ingresses want it: configured, (re)started or reloaded after its
 * configuration tested good, or stopped with everything of it removed when none is left. */
int pods_ingress_sync(pods_manager *m, pr_error **err);

/* ---- nginx.c: the Ingress controller's nginx, all of it under dir ---- */
/* nginx -p DIR/ -c CONF -e DIR/error.log [-t]; *out gets its output. Without test it
 * daemonizes; -EINVAL when it exits non-zero. */
int pods_nginx_run(const char *dir, const char *conf, bool test, char **out, pr_error **err);
/* The pid of dir's running nginx master (its pid file's process, its title naming dir), or 0. */
pid_t pods_nginx_master(const char *dir);
/* Starts nginx on conf and waits for its pid file. */
int pods_nginx_start(const char *dir, const char *conf, pr_error **err);
/* Stops it (SIGQUIT, SIGTERM after half the wait) and removes dir. */
int pods_nginx_stop(const char *dir, pr_error **err);

/* ---- loadbalancer.c: LoadBalancer services' addresses (a pool, announced as MetalLB's
 * layer-2 mode announces them) ---- */
/* Checks one entry of loadBalancerPool; fills the first and last address (host order). */
int pods_lb_range_parse(const char *s, uint32_t *lo, uint32_t *hi, pr_error **err);
/* Whether ip is in the pool; and a free address of it (taken(ip) says which are not). */
bool pods_lb_in_pool(char *const *pool, const char *ip);
char *pods_lb_pick(char *const *pool, bool (*taken)(const char *ip, void *data), void *data);
/* Makes the node answer ARP for exactly the addresses in want (NULL-terminated): each gets
 * added as a /32 to the interface whose IPv4 subnet holds it, and those podrun added before
 * and no longer wanted are removed (its record: run-root lb-addrs.json). */
int pods_lb_announce(pods_manager *m, char *const *want, pr_error **err);

/* ---- admission.c: the kubelet's admission of a pod on this node ---- */
/* Refuses a pod that does not fit (OutOfcpu, OutOfmemory, OutOfpods), whose nodeName names
 * another node or whose nodeSelector or node affinity the node does not match; *c gets the
 * pod's requests and limits. Called under the manager's exclusive lock, so that what it
 * counts cannot change before the pod is recorded. */
int pods_admit(pods_manager *m, const struct kube_object *o, struct kube_compute *c,
               pr_error **err);

/* ---- cgroups.c: the pod's cgroup under its QoS class's, as the kubelet lays them out ---- */
/* ROOT/kubepods[/burstable|/besteffort]/pod<uid>, the same in every hierarchy. */
char *pods_cgroup_pod_path(pods_manager *m, enum kube_qos q, const char *uid);
/* Makes the pod's cgroup (and the QoS parents it needs) in every hierarchy with the pod's
 * limits, and updates the QoS classes' cpu shares. */
int pods_cgroup_create(pods_manager *m, const char *uid, enum kube_qos q,
                       const struct kube_compute *c, pr_error **err);
/* Removes the pod's cgroup (its containers' must be gone) and the QoS parents podrun made that
 * are empty now. Nothing there is fine. */
int pods_cgroup_remove(pods_manager *m, const char *uid, pr_error **err);
/* CPU time and working set of the cgroup at path (the same in every hierarchy); -ENOENT when
 * it has none. */
int pods_cgroup_usage(const char *path, struct pods_usage *out, pr_error **err);

/* ---- exec.c: a helper program with input, output and a time limit ---- */
#define PODS_EXEC_OUTPUT_MAX (1u << 20)
/* Runs argv (argv[0] a path or a name in PATH) with env added to ours, in on stdin; stdout and
 * stderr (each cut at PODS_EXEC_OUTPUT_MAX) into *out and *errout (either may be NULL). Killed
 * after timeout_s seconds. *status gets the exit code (128+signal when killed). */
int pods_exec(char *const *argv, char *const *env, const char *in, size_t in_len, int timeout_s,
              char **out, char **errout, int *status, pr_error **err);

/* ---- services.c ---- */
/* Stores a Service with its clusterIP and nodePorts allocated (kept from the stored one when
 * re-applied), refusing what the API server refuses: an address outside the range or taken,
 * a nodePort outside its range or taken. Under the exclusive lock. */
int pods_service_apply(pods_manager *m, const struct kube_object *o, enum pods_apply_result *res,
                       pr_error **err);
/* What the services hold, as this process knows it: freed, and forgotten after a delete. */
struct pods_services_taken;
void pods_services_taken_free(struct pods_services_taken *t);
void pods_services_forget(pods_manager *m);
/* ---- dns.c: the cluster DNS ---- */
/* What the DNS serves of one service, noted by the services' sync as it reads them (so that
 * the stored services are read once per sync). */
struct pods_dns_service {
    char *ns, *name, *type, *cluster_ip, *external_name;
    char **srv; /* named ports: "NAME PROTO PORT" */
};
struct pods_dns_services {
    struct pods_dns_service *v;
    size_t n;
};
void pods_dns_note(struct pods_dns_services *l, const char *ns, const char *name,
                   const struct kube_service_spec *s);
void pods_dns_services_clear(struct pods_dns_services *l);
/* dnsmasq's names and configuration in line with the services l (every stored one) and the
 * pods as they are; started when gone (or restarted when what it reads only at start changed),
 * stopped with the last Service. pods_services_sync runs it. Needs the exclusive lock. */
int pods_dns_sync(pods_manager *m, const struct pods_dns_services *l, pr_error **err);
/* Whether dnsmasq can be run here: without it ClusterFirst pods get the node's resolver. */
bool pods_dns_runnable(void);
/* A pod (its run directory) uses the cluster DNS: marked so, and dnsmasq started when no
 * Service has started it already. Needs the exclusive lock. */
int pods_dns_use(pods_manager *m, const char *run_dir, pr_error **err);
/* With no Service stored, stops the cluster DNS when no pod uses it any more (a pod undone). */
void pods_dns_release(pods_manager *m);
/* A service's endpoints (slices.c): from the pods its selector picks, or, without a selector,
 * from the stored EndpointSlices in slices labelled with its name. */
void pods_endpoints_compute(const struct kube_service_spec *s, const char *ns, const char *name,
                            const struct kube_endpoint_pod *pods, size_t n,
                            const struct pods_list *slices, struct kube_service_endpoints *out);
/* Pods marked terminating leave the services' data path before their shims stop them. */
void pods_endpoints_leave(pods_manager *m);

/* ---- objects.c: applied objects under lib-root/objects ---- */
/* ns NULL for cluster-scoped resources (namespaces). */
char *pods_object_path(pods_manager *m, const char *resource, const char *ns, const char *name);
/* The stored record {"uid", "created", "object"}; -ENOENT when there is none. */
int pods_object_load(pods_manager *m, const char *resource, const char *ns, const char *name,
                     yajl_val *out, pr_error **err);
int pods_object_save(pods_manager *m, const char *resource, const char *ns, const char *name,
                     yajl_val object, const char *uid, long long created, pr_error **err);
/* The same with the key mark (PODS_CREATING, PODS_DELETING) set to true: a pod's record is
 * written creating before anything of the pod is made (and again without the mark once the pod
 * is whole), and deleting before anything of it is taken down. A record still marked when the
 * manager's exclusive lock is ours is of an apply or a delete that died: its uid names what to
 * take down. */
#define PODS_CREATING "creating"
#define PODS_DELETING "deleting"
int pods_object_save_as(pods_manager *m, const char *resource, const char *ns, const char *name,
                        yajl_val object, const char *uid, long long created, const char *mark,
                        pr_error **err);
/* The same with metadata.generation (a workload's: 1, and one more for each change of its
 * spec); 0 leaves it out. */
int pods_object_save_gen(pods_manager *m, const char *resource, const char *ns, const char *name,
                         yajl_val object, const char *uid, long long created, long long generation,
                         pr_error **err);
int pods_object_remove(pods_manager *m, const char *resource, const char *ns, const char *name,
                       pr_error **err);
/* Equal as JSON values: objects compare by keys whatever their order. */
bool pods_json_equal(yajl_val a, yajl_val b);
/* A key's value in a stored ConfigMap or Secret (decoded from base64 for a Secret's data).
 * -ENOENT when the object or the key is missing. */
int pods_object_key(pods_manager *m, const char *resource, const char *ns, const char *name,
                    const char *key, char **value, pr_error **err);
/* Standard base64 into *out (NUL-terminated, *len bytes); -EINVAL for other text. */
int pods_b64_decode(const char *s, char **out, size_t *len);
/* Every key=value of a stored ConfigMap or Secret, as "KEY=VALUE" strings. */
int pods_object_pairs(pods_manager *m, const char *resource, const char *ns, const char *name,
                      char ***pairs, pr_error **err);

/* Every key of a stored ConfigMap (data, binaryData decoded) or Secret (data decoded,
 * stringData over it) with its bytes, for files of a volume. -ENOENT when there is no object. */
struct pods_file {
    char *key, *data;
    size_t len;
};
struct pods_files {
    struct pods_file *v;
    size_t n;
};
int pods_object_files(pods_manager *m, const char *resource, const char *ns, const char *name,
                      struct pods_files *out, pr_error **err);
void pods_files_clear(struct pods_files *f);

struct pods_pod_paths;
/* ---- volumes.c: configMap, secret, hostPath and emptyDir volumes, subPath ---- */
/* Refuses, before anything is made, what would fail: a missing object or key that is not
 * optional, a bad item path or mode, a hostPath whose type does not match. */
int pods_volumes_check(pods_manager *m, const struct kube_object *o, pr_error **err);
/* Makes lib_dir/volumes/NAME for emptyDir, configMap and secret volumes (the files written),
 * and a hostPath's DirectoryOrCreate/FileOrCreate. */
int pods_volumes_make(pods_manager *m, const struct kube_object *o, const struct pods_pod_paths *p,
                      pr_error **err);
/* Unmounts the pod's Memory emptyDirs (tmpfs); none mounted is fine. */
int pods_volumes_unmount(const struct pods_pod_paths *p, pr_error **err);
/* configMap, secret, downwardAPI and projected volumes: bound read-only whatever the mount
 * says, as the kubelet binds them. */
bool pods_volume_read_only(const struct kube_volume *v);
/* The host path a volumeMount binds: its volume's directory, or the subPath inside it,
 * resolved without leaving it (a missing subPath is made as a directory). */
int pods_volume_source(pods_manager *m, const char *ns, const struct pods_pod_paths *p,
                       const struct kube_pod_spec *s, const struct kube_volume_mount *vm,
                       char **out, pr_error **err);

/* ---- lifecycle.c: postStart and preStop for the shim ---- */
/* The lifecycle tree (c->lifecycle) checked as strictly as typed fields; path names it. */
int pods_lifecycle_check(const struct kube_container *c, yajl_val lc, const char *path,
                         pr_error **err);
/* "lifecycle" for the shim's spec (after the check), named ports resolved. */
void pods_lifecycle_gen(yajl_gen g, const struct kube_container *c);

/* ---- downward.c: the downward API's values ---- */
/* resourceFieldRef: the container's (containerName, else default_container) limit or request,
 * divided by the divisor and rounded up; a limit not set is the node's capacity. */
int pods_resource_value(const struct kube_pod_spec *s, const char *default_container,
                        const struct kube_resource_field_ref *ref, char **out, pr_error **err);
/* A downwardAPI volume file's content; uid NULL (before the pod has one) gives "". */
int pods_downward_value(const struct kube_object *o, const char *uid,
                        const struct kube_downward_file *f, char **out, pr_error **err);

/* ---- seccomp.c: the RuntimeDefault profile, and Localhost profiles ---- */
/* "seccomp": podrun's default profile as linux.seccomp, for a container with caps. */
void pods_seccomp_default(yajl_gen g, const bool caps[CAP_NAMES_COUNT]);
/* mountPropagation (propagation.c): the source's mount must already propagate (shared, or
 * slave for HostToContainer); the bind's options; the root's propagation for the widest. */
int pods_propagation_check(const char *source, enum pods_propagation prop, pr_error **err);
char *const *pods_bind_options(bool read_only, enum pods_propagation prop);
const char *pods_rootfs_propagation(enum pods_propagation widest);
/* Kubernetes' name (None, HostToContainer, Bidirectional; NULL: None) as the enum. */
enum pods_propagation pods_propagation_of(const char *name);
/* The subnet the first CNI configuration's IPAM hands out; NULL when none names one. */
char *pods_cni_subnet(pods_manager *m);
/* linux.resources.hugepageLimits; nothing when there are none. */
void pods_gen_hugepages(yajl_gen g, const struct pods_resources *res);
/* linux.resources.unified from key, value pairs; nothing when there are none. */
void pods_gen_unified(yajl_gen g, char *const *unified);
/* Localhost profiles live in lib-root/seccomp/; one is read (a regular file, at most
 * PODS_SECCOMP_PROFILE_MAX) by its path relative to that directory, resolved without leaving
 * it (no "..", no symlink out), and must be a JSON object with a defaultAction. */
#define PODS_SECCOMP_PROFILE_MAX ((size_t)1 << 20)
int pods_seccomp_localhost(pods_manager *m, const char *profile, yajl_val *out, pr_error **err);
/* A profile at an absolute path the kubelet resolved (CRI's localhost_ref): a regular file of
 * at most PODS_SECCOMP_PROFILE_MAX bytes holding an object with a defaultAction. */
int pods_seccomp_file(const char *path, yajl_val *out, pr_error **err);

/* ---- sandbox.c: a pod's pinned network, IPC and UTS namespaces ---- */
/* Pins the namespaces flags asks for (CLONE_NEWNET, CLONE_NEWIPC, CLONE_NEWUTS) at
 * nsdir/{net,ipc,uts} (nsdir is created); the UTS one gets hostname and the network one a
 * loopback that is up. On failure nothing is left. */
int pods_sandbox_create(const char *nsdir, int flags, const char *hostname, pr_error **err);
/* Unpins and removes whatever of them exists, and the shim's pin of a shared PID namespace. */
int pods_sandbox_destroy(const char *nsdir, pr_error **err);

/* ---- etc.c: the pod's /etc/hosts, /etc/resolv.conf and /etc/hostname ---- */
/* Refuses what the API server and the kubelet refuse (dnsConfig, hostAliases, an FQDN hostname
 * over 64 characters) before anything is made. */
int pods_etc_check(pods_manager *m, const struct kube_object *o, const char *ns, pr_error **err);
/* The hostname the pod's UTS namespace, /etc/hostname and $HOSTNAME get: the node's with
 * hostNetwork, else spec.hostname or the pod's name cut to a label, made an FQDN by
 * setHostnameAsFQDN with a subdomain. */
int pods_pod_hostname(pods_manager *m, const struct kube_object *o, const char *ns, char **out,
                      pr_error **err);
/* Writes run_dir/etc/{hosts,hostname,resolv.conf}. */
int pods_etc_make(pods_manager *m, const struct kube_object *o, const struct pods_pod_paths *p,
                  const char *ns, const char *hostname, const char *ip, pr_error **err);
/* Their bind mounts for container c, those c does not mount itself, into out (room for 3);
 * the sources are allocated. Returns how many. */
size_t pods_etc_mounts(const struct pods_pod_paths *p, const struct kube_container *c,
                       struct pods_mount *out);

/* Kills the init of the pod's shared PID namespace that a dead shim left (shim_dir/pidns.pid,
 * checked against ns_dir/pid); nothing when there is none. */
int pods_pidns_kill(const struct pods_pod_paths *p, pr_error **err);

/* ---- hostports.c: hostPort through podrun's nftables table ---- */
/* Refuses a pod whose hostPorts collide with each other or with another pod's (named). */
int pods_hostports_check(pods_manager *m, const struct kube_object *o, pr_error **err);
/* Records the pod's claims (run_dir/hostports.json) and adds its rules towards ip, in one
 * batch (none for hostNetwork: its ports are the node's). */
int pods_hostports_add(pods_manager *m, const struct kube_object *o, const struct pods_pod_paths *p,
                       const char *ip, pr_error **err);
/* A CRI sandbox's port mappings (its p->uid the sandbox id): refused when they collide with
 * each other or with another pod's or sandbox's, else claimed and forwarded to ip. */
int pods_hostports_add_mappings(pods_manager *m, const struct pods_pod_paths *p,
                                const struct pods_port_mapping *v, size_t n, const char *ip,
                                pr_error **err);
/* Removes the pod's rules (the table with the last) and its claims; nothing without claims. */
int pods_hostports_del(pods_manager *m, const struct pods_pod_paths *p, pr_error **err);

/* ---- cni.c ---- */
/* ADD of the pod's network (the conflist is saved in poddir/cni.json for the DEL); *ip gets
 * the pod's first address. */
int pods_cni_add(pods_manager *m, const char *uid, const char *netns, const char *poddir, char **ip,
                 pr_error **err);
/* DEL with the conflist saved by the ADD; nothing to do without one. */
int pods_cni_del(pods_manager *m, const char *uid, const char *netns, const char *poddir,
                 pr_error **err);

/* ---- events.c ---- */
uint64_t pods_now_usec(void);
/* Records an event of the pod in run_dir/events.json (aggregated; a failure is ignored). */
void pods_record(const struct pods_pod_paths *p, const char *type, const char *reason,
                 const char *component, const char *field_path, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

/* Takes what is left of the recorded pod down and makes it anew, same name and uid (after a
 * reboot: recover.c). */
int pods_pod_recreate(pods_manager *m, const char *ns, const char *name, pr_error **err);
/* The containers' cgroups left in the pod's when the runtime's state was lost (a reboot
 * without one: the run root emptied), empty ones only. */
void pods_cgroup_remove_orphans(pods_manager *m, const char *uid);
/* CNI DEL of uid with the network's current configuration, when the pod's saved one went with
 * the run root: its IP allocation is released. */
int pods_cni_release(pods_manager *m, const char *uid, pr_error **err);

/* ---- wlevents.c: the workloads' events ---- */
/* Records an event of the controller of resource ("deployments", "replicasets",
 * "statefulsets", "daemonsets", "jobs", "cronjobs", "horizontalpodautoscalers") on obj. */
void pods_workload_event(pods_manager *m, const char *resource, const struct pods_entry *obj,
                         const char *type, const char *reason, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
/* The same, once: not when obj has the event already, nor when the state it tells of came
 * (since, epoch seconds; 0: unknown) longer ago than events live. For states the controllers
 * see again on every pass (a Job's Completed). */
void pods_workload_event_once(pods_manager *m, const char *resource, const struct pods_entry *obj,
                              int64_t since, const char *type, const char *reason, const char *fmt,
                              ...) __attribute__((format(printf, 7, 8)));
/* Keeps a pod's events (its Killing) past its deletion: before its run dir goes. */
void pods_events_keep_deleted(pods_manager *m, const char *ns, const char *name, const char *uid);

/* ---- pull.c: the images of a pod's containers, by their imagePullPolicy ---- */
/* Pulls or finds each container's image (init containers first), recording Pulling, Pulled
 * and Failed. On a failure that leaves the pod waiting, *waiting_reason gets ErrImagePull or
 * ErrImageNeverPull and *failed the container's index (init containers first). */
int pods_pull_images(pods_manager *m, const struct kube_object *o, const struct pods_pod_paths *p,
                     const char **waiting_reason, size_t *failed, pr_error **err);

/* ---- pod.c: a pod's liveness, for the controllers ---- */
/* Its shim holds the pod (false: it died or never started). */
bool pods_pod_shim_running(pods_manager *m, const char *uid);
/* It waits for its image (no shim yet, on purpose). */
bool pods_pod_waiting(pods_manager *m, const char *uid);
/* The marks of a delete (deleting, terminating) before anything is taken down; *uid: its uid. */
int pods_pod_delete_begin(pods_manager *m, const char *ns, const char *name, char **uid,
                          pr_error **err);
/* Stops the pod's shim and containers (grace: seconds, -1: the pod's), nothing else: safe to
 * run for several pods at once from threads. */
int pods_pod_shim_stop(pods_manager *m, const char *uid, int64_t grace, pr_error **err);

/* ---- bundle making (containers.c) and the shim's spec (shimspec.c) ---- */
struct pods_pod_paths {
    const char *uid;
    char *run_dir;      /* run-root/pods/<uid> */
    char *shim_dir;     /* run_dir/shim */
    char *ns_dir;       /* run_dir/ns */
    char *lib_dir;      /* lib-root/pods/<uid> */
    char *log_dir;      /* log-root/<uid> */
    const char *cgroup; /* the pod's cgroup (pods_cgroup_pod_path); NULL: the runtime's default */
};
void pods_pod_paths_init(pods_manager *m, const char *uid, struct pods_pod_paths *p);
void pods_pod_paths_clear(struct pods_pod_paths *p);
/* lib_dir/containers/<name>: the bundle of one container. */
char *pods_container_dir(const struct pods_pod_paths *p, const char *name);
/* The host file bound at the container's terminationMessagePath: the shim reads it. */
char *pods_termination_log(const struct pods_pod_paths *p, const char *name);
/* The runtime's id of a container, also its id in the image store. */
char *pods_container_id(const char *uid, const char *name);

/* ---- env.c: a container's environment as Kubernetes makes it ---- */
struct pods_env_ctx {
    const struct kube_object *pod;
    const char *uid; /* NULL while checking, before the pod exists */
    const char *ip;  /* likewise */
};
/* The container's own variables as "K=V": envFrom, then env (values with $(VAR) expanded from
 * the variables before them; ConfigMap and Secret keys; the downward API's fieldRef). */
int pods_container_env(pods_manager *m, const struct pods_env_ctx *ctx,
                       const struct kube_container *c, char ***env, pr_error **err);
/* s with $(VAR) replaced by VAR's value in env ("K=V", the last K wins) where VAR is defined,
 * kept as it is where not, and $$ made $: Kubernetes' expansion of env, command and args. */
char *pods_expand(const char *s, char *const *env);
/* Whether env's fieldRef.fieldPath names a field podrun gives (metadata.name, .namespace, .uid,
 * .labels['K'], .annotations['K'], spec.nodeName, status.podIP, status.podIPs). */
bool pods_field_path_supported(const char *path);

/* Checks what needs the stores (images, ConfigMaps, Secrets) before anything is made. */
int pods_containers_check(pods_manager *m, const struct kube_object *o, pr_error **err);
/* Mounts every container's root and writes its config.json. */
int pods_containers_make(pods_manager *m, const struct kube_object *o,
                         const struct pods_pod_paths *p, const char *hostname, const char *ip,
                         pr_error **err);
/* Removes every container's runtime leftovers, root and bundle (all missing is fine). */
int pods_containers_remove(pods_manager *m, const struct pods_pod_paths *p, pr_error **err);
/* One container's: the runtime's leftovers (delete --force), its root unmounted from the store
 * st and its directory dir removed; what is already gone is fine. */
struct image_store;
int pods_container_root_remove(pods_manager *m, struct image_store *st, const char *id,
                               const char *dir, pr_error **err);

int pods_shim_spec_write(pods_manager *m, const struct kube_object *o,
                         const struct pods_pod_paths *p, pr_error **err);
/* Starts the pod's shim on the spec written (podrun-shim --pod-dir), given
 * SHIM_START_TIMEOUT_S; a failure's exit code and first line of stderr make the error. */
#define SHIM_START_TIMEOUT_S 120
int pods_shim_start(pods_manager *m, const struct pods_pod_paths *p, pr_error **err);
/* True while a shim holds its lock on the pod's (or sandbox's) shim directory. */
bool pods_shim_alive(const struct pods_pod_paths *p);

/* ---- workloads.c's helpers for the other controllers (sets.c) ---- */
/* The uid of the object's controller (its ownerReferences' entry with controller: true). */
const char *pods_controller_uid(yajl_val obj);
/* The same, and *kind (when kind is not NULL) its kind. */
const char *pods_controller_of(yajl_val obj, const char **kind);
/* The garbage collector's part for one kind of owner: the dependents (objects of resource
 * dependents) whose controller is an owner_kind no longer among the stored owners go. */
int pods_collect_orphans(pods_manager *m, const char *owners, const char *owner_kind,
                         const char *dependents, pr_error **err);
/* A pod as its controller sees it; *dead when its shim is gone while it should run. */
void pods_observe_owned(pods_manager *m, const struct pods_entry *e, struct kube_owned_pod *p,
                        bool *dead);
/* metadata.ownerReferences naming kind/name/uid as the controller. */
void pods_gen_owner(yajl_gen g, const char *kind, const char *name, const char *uid);
/* Applies the object g holds through the same checks as a manifest's. */
int pods_apply_gen(pods_manager *m, yajl_gen g, const char *what, pr_error **err);

/* ---- claims.c: PersistentVolumeClaims and their local volumes ---- */
/* Makes the claim's volume (pvc-<uid>: its directory under lib-root/volumes and its PV
 * object) when it has none. */
int pods_claim_provision(pods_manager *m, const char *ns, const char *claim, pr_error **err);
/* The directory a pod mounts for the claim: an error when the claim is missing or being
 * deleted, or when its directory is not the one podrun made. */
int pods_claim_dir(pods_manager *m, const char *ns, const char *claim, char **out, pr_error **err);
/* Deletes the claim and its volume, or marks it Terminating while a pod uses it. */
int pods_claim_delete(pods_manager *m, const char *ns, const char *claim, pr_error **err);
/* What apply refuses of a claim (a change of spec, a claim being deleted) or a volume. */
int pods_claim_apply_check(pods_manager *m, const struct kube_object *o, pr_error **err);
/* A volume is deleted through its claim: an error naming it. */
int pods_volume_delete_check(pods_manager *m, const char *name, pr_error **err);
/* ---- sets.c ---- */
/* One pass of the StatefulSet and DaemonSet controllers; *any when one remains. */
int pods_sets_reconcile(pods_manager *m, bool *any, pr_error **err);
/* A StatefulSet, DaemonSet or claim with the API server's defaults written into its spec
 * (what is stored, and what -o yaml shows); *out NULL for other kinds. */
int pods_object_defaulted(const struct kube_object *o, struct kube_object **out, pr_error **err);
/* What the API server refuses of a changed StatefulSet or DaemonSet (immutable fields). */
int pods_set_apply_check(pods_manager *m, const struct kube_object *o, pr_error **err);
/* The garbage collector's part for them: pods whose set is gone. */
int pods_sets_collect(pods_manager *m, pr_error **err);
/* A StatefulSet about to be deleted (rec: its record): with
 * persistentVolumeClaimRetentionPolicy.whenDeleted Delete, the claims it made go (when their
 * pods have gone). */
int pods_set_deleting(pods_manager *m, const char *ns, const char *name, yajl_val rec,
                      pr_error **err);
/* ---- crisandbox.c, cricontainer.c: CRI sandboxes' insides ---- */
int pods_cri_new_id(char **out, pr_error **err);
/* A sandbox's paths: run-root/sandboxes/<id> (record, shim, ns, etc, containers/),
 * lib-root/sandboxes/<id> (bundles). Cleared with pods_pod_paths_clear. */
void pods_sandbox_paths_init(pods_manager *m, const char *id, struct pods_pod_paths *p);
/* The sandbox's own lock (run_dir/lock): its containers are made and removed under it. */
int pods_sandbox_lock(const struct pods_pod_paths *p, int *fd, pr_error **err);
/* One request to the shim (podrun-shim --request); an error reply becomes the error. */
int pods_shim_request(pods_manager *m, const struct pods_pod_paths *p, const char *req,
                      int timeout_s, yajl_val *reply, pr_error **err);
/* Until container id (NULL: every container) is not running, or the shim is gone. */
int pods_cri_wait_stopped(pods_manager *m, const struct pods_pod_paths *p, const char *id,
                          int timeout_s, pr_error **err);
/* Every container's runtime leftovers, root, bundle and record. */
int pods_cri_containers_remove_all(pods_manager *m, const struct pods_pod_paths *p, pr_error **err);

/* ---- cricgroup.c: a sandbox's and its containers' cgroups under either cgroup driver ---- */
#define PODS_CRI_SCOPE_PREFIX "cri-podrun"
/* Refuses a cgroup_parent of the other driver (a slice under cgroupfs, a path under systemd),
 * naming both; NULL or "" is fine. */
int pods_cri_check_cgroup_parent(const char *parent, bool systemd, pr_error **err);
/* The OCI cgroupsPath of container id in the sandbox of record sandbox: PARENT/<id>, or
 * SLICE:cri-podrun:<id> for the runtime's --systemd-cgroup. */
char *pods_cri_cgroups_path(yajl_val sandbox, const char *id);
/* The cgroup directory (relative to a hierarchy's root) of the sandbox (id NULL) or of its
 * container id: PARENT[/<id>], or the slice's path[/cri-podrun-<id>.scope]; -ENOENT when the
 * sandbox has no cgroup of its own. */
int pods_cri_cgroup_dir(yajl_val sandbox, const char *id, char **out, pr_error **err);

#endif
