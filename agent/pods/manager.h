/* SPDX-License-Identifier: Apache-2.0 */
/* The pod manager's insides, shared by its files and by nothing else. */
#ifndef PODRUN_AGENT_PODS_MANAGER_H
#define PODRUN_AGENT_PODS_MANAGER_H

#include "json.h"
#include "pods.h"

#include <stdbool.h>
#include <stddef.h>

struct pods_manager {
    char *run_root, *lib_root, *log_root, *images_root;
    char *cni_conf_dir, *cni_bin_dir, *ipam_data_dir, *runtime, *shim;
    int lockfd;
};

/* ---- exec.c: a helper program with input, output and a time limit ---- */
#define PODS_EXEC_OUTPUT_MAX (1u << 20)
/* Runs argv (argv[0] a path or a name in PATH) with env added to ours, in on stdin; stdout and
 * stderr (each cut at PODS_EXEC_OUTPUT_MAX) into *out and *errout (either may be NULL). Killed
 * after timeout_s seconds. *status gets the exit code (128+signal when killed). */
int pods_exec(char *const *argv, char *const *env, const char *in, size_t in_len, int timeout_s,
              char **out, char **errout, int *status, pr_error **err);

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
int pods_object_remove(pods_manager *m, const char *resource, const char *ns, const char *name,
                       pr_error **err);
/* Equal as JSON values: objects compare by keys whatever their order. */
bool pods_json_equal(yajl_val a, yajl_val b);
/* A key's value in a stored ConfigMap or Secret (decoded from base64 for a Secret's data).
 * -ENOENT when the object or the key is missing. */
int pods_object_key(pods_manager *m, const char *resource, const char *ns, const char *name,
                    const char *key, char **value, pr_error **err);
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
/* The host path a volumeMount binds: its volume's directory, or the subPath inside it,
 * resolved without leaving it (a missing subPath is made as a directory). */
int pods_volume_source(const struct pods_pod_paths *p, const struct kube_pod_spec *s,
                       const struct kube_volume_mount *vm, char **out, pr_error **err);

/* ---- sandbox.c: a pod's pinned network, IPC and UTS namespaces ---- */
/* Pins the namespaces at nsdir/{net,ipc,uts} (nsdir is created); the UTS one gets hostname and
 * the network one a loopback that is up. On failure nothing is left. */
int pods_sandbox_create(const char *nsdir, const char *hostname, pr_error **err);
/* Unpins and removes whatever of them exists. */
int pods_sandbox_destroy(const char *nsdir, pr_error **err);

/* ---- cni.c ---- */
/* ADD of the pod's network (the conflist is saved in poddir/cni.json for the DEL); *ip gets
 * the pod's first address. */
int pods_cni_add(pods_manager *m, const char *uid, const char *netns, const char *poddir, char **ip,
                 pr_error **err);
/* DEL with the conflist saved by the ADD; nothing to do without one. */
int pods_cni_del(pods_manager *m, const char *uid, const char *netns, const char *poddir,
                 pr_error **err);

/* ---- bundle making (containers.c) and the shim's spec (shimspec.c) ---- */
struct pods_pod_paths {
    const char *uid;
    char *run_dir;  /* run-root/pods/<uid> */
    char *shim_dir; /* run_dir/shim */
    char *ns_dir;   /* run_dir/ns */
    char *lib_dir;  /* lib-root/pods/<uid> */
    char *log_dir;  /* log-root/<uid> */
};
void pods_pod_paths_init(pods_manager *m, const char *uid, struct pods_pod_paths *p);
void pods_pod_paths_clear(struct pods_pod_paths *p);
/* lib_dir/containers/<name>: the bundle of one container. */
char *pods_container_dir(const struct pods_pod_paths *p, const char *name);
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

int pods_shim_spec_write(pods_manager *m, const struct kube_object *o,
                         const struct pods_pod_paths *p, pr_error **err);

#endif
