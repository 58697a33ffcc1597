/* SPDX-License-Identifier: Apache-2.0 */
/* The images library's one public header, for every part outside images/ (the CLI, the pod
 * manager): opening the store, listing, finding, tagging, removing and pruning images, import,
 * export, inspect, pulling from registries, and turning a stored image into a container root.
 * The store, its records and its lists are opaque here; what a caller shows of an image it
 * reads through the functions below. The other headers of images/ are the library's internals
 * (DESIGN.md, "Include boundaries": nothing outside images/ includes them). */
#ifndef PODRUN_IMAGES_IMAGES_H
#define PODRUN_IMAGES_IMAGES_H

#include "error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <yajl/yajl_gen.h>

typedef struct image_store image_store; /* an open store */
typedef struct image_rec image_rec;     /* one image of the store's index */
typedef struct image_list image_list;   /* every image of the index */

/* --- the store --- */
/* root NULL: $PODRUN_IMAGES_ROOT, else the default. exclusive: for removing content. */
int images_open(const char *root, bool exclusive, image_store **out, pr_error **err);
void images_close(image_store *s);
static inline void images_closep(image_store **s)
{
    if (*s)
        images_close(*s);
}
/* Closes the store at the end of the scope. */
#define _cleanup_images_ __attribute__((cleanup(images_closep)))

int images_list(image_store *s, image_list **out, pr_error **err);
size_t images_list_count(const image_list *l);
const image_rec *images_list_at(const image_list *l, size_t i);
void image_list_free(image_list *l);
static inline void image_list_freep(image_list **l)
{
    if (*l)
        image_list_free(*l);
}
#define _cleanup_image_list_ __attribute__((cleanup(image_list_freep)))

/* By name, short name or ID (prefix). id (optional) gets the image's ID: the digest of its
 * config. */
int images_find(image_store *s, const char *ref, char **id, pr_error **err);
int images_tag(image_store *s, const char *src, const char *dest, pr_error **err);
/* Removes a name (the image with its last one) or the image an ID names; *removed_id gets the
 * ID when the image went. Its blobs stay until images_prune. */
int images_remove(image_store *s, const char *ref, bool force, char **removed_id, pr_error **err);
struct images_pruned {
    unsigned blobs, layers;
    uint64_t bytes;
};
/* Deletes what no image nor mounted container uses; the store must be open exclusive. */
int images_prune(image_store *s, struct images_pruned *out, pr_error **err);

/* --- what is shown of an image (inspect.c) --- */
/* The image ID without its algorithm: the hex of the config digest. */
const char *images_id_hex(const image_rec *rec);
/* Its creation time from the config; NULL when the config has none. */
const char *images_created(const image_rec *rec);
/* Its names, normalized references (NULL-terminated, may be empty). */
char *const *images_names(const image_rec *rec);
/* The sum of its layer blobs' sizes. */
int64_t images_size(const image_rec *rec);
/* Its ID: the digest of its config ("sha256:..."). */
const char *images_id(const image_rec *rec);
/* The digest of its manifest, which a "repo@digest" reference names. */
const char *images_manifest_digest(const image_rec *rec);
/* The image's config JSON, as stored. */
int images_read_config(image_store *s, const image_rec *rec, char **out, pr_error **err);
/* The store's directory (what a CRI ImageFsInfo reports on). */
const char *images_store_root(const image_store *s);
/* A digest ("sha256:...") without its algorithm. */
const char *images_digest_hex(const char *digest);
/* A stored name's repository and tag; "<invalid>" for both when it is not a reference (an
 * index written by hand could hold a newline that fakes a row). */
void images_name_split(const char *name, char **repo, char **tag);
/* `images --format json`'s object for one image. */
void images_gen_summary(yajl_gen g, const image_rec *rec);
/* `image inspect`'s object for the image ref names. Nothing is written to g on failure. */
int images_inspect(image_store *s, const char *ref, yajl_gen g, pr_error **err);

/* --- import and export (load.c, save.c) --- */
/* Imports an OCI layout directory, an oci-archive or a docker-archive (tar, optionally
 * compressed). *loaded gets one line per image: its names, or its ID when it has none. */
int images_load(image_store *s, const char *path, char ***loaded, pr_error **err);
/* Writes the images refs name as an oci-archive at path (atomically, by a rename). path must
 * be a new name or a regular file, outside the store: anything else is refused. */
int images_save(image_store *s, char *const *refs, const char *path, pr_error **err);

/* --- pulling from registries (pull.c): the OCI distribution API v2 over libcurl, with the
 * containers-registries.conf(5) configuration podman and CRI-O read --- */
/* One blob being copied, as the progress callback sees it. */
struct pull_blob_progress {
    const char *digest;
    int64_t have, total; /* bytes stored so far, and the descriptor's size */
    bool done, failed;
};
enum pull_progress_event {
    PULL_PROGRESS_START,  /* a batch of blobs starts (the config, then the missing layers) */
    PULL_PROGRESS_UPDATE, /* some bytes moved or a blob finished; at most every 100 ms */
    PULL_PROGRESS_END,    /* the batch is over: every blob is done or failed */
};
/* The library draws nothing (DESIGN.md, "Libraries are quiet"): a caller that wants progress
 * gets every blob of the batch on each event, and shows it as it likes. */
typedef void (*pull_progress_fn)(enum pull_progress_event ev,
                                 const struct pull_blob_progress *blobs, size_t n, void *userdata);

struct pull_options {
    pull_progress_fn progress; /* NULL: no progress reports */
    void *progress_data;
    bool quiet;
    int tls_verify; /* -1: from registries.conf; 0: plain HTTP / unverified TLS allowed */
    const char *registries_conf; /* NULL: $CONTAINERS_REGISTRIES_CONF or /etc/containers/... */
    const char *auth_file;       /* NULL: $REGISTRY_AUTH_FILE, XDG auth.json, docker config */
    /* Credentials a caller was given for this pull (a CRI AuthConfig), used instead of the auth
     * file's: base64 "user:password" for basic auth and a token server, and a registry token
     * sent as a bearer token from the first request. NULL: none. */
    const char *basic_auth;
    const char *bearer_token;
    /* Readable once the caller gives up (a CRI call's deadline passed, its stream was reset):
     * the pull stops with -ECANCELED, leaving no staging behind. In a process (pull.c) it is
     * looked at while blobs download; a pull in a child (spawn.c) is killed at once. 0, the
     * default: never (a caller's standard input is no cancel). */
    int cancel_fd;
};

/* Pulls ref (a short name goes through aliases and unqualified-search-registries) and
 * records it under its fully qualified name. id (optional) gets the image's ID. */
int images_pull(image_store *s, const char *ref, const struct pull_options *o, char **id,
                pr_error **err);

/* --- from a stored image to a container (overlay.c) --- */
/* Mounts the root of a container made from image at ctr_dir/rootfs, with ctr_dir/upper and
 * ctr_dir/work (created fresh; ctr_dir is created if missing). The layers are recorded as used
 * by container_id so that prune keeps them. *rootfs gets the mount point. */
int images_mount_rootfs(image_store *s, const char *image, const char *container_id,
                        const char *ctr_dir, char **rootfs, pr_error **err);
/* Unmounts ctr_dir/rootfs, removes the upper and work dirs (the container's changes) and the
 * layer references. Missing pieces are not an error, so it also cleans up after a crash.
 * -ENOENT: the store has no record of container_id and nothing is mounted there (an unmount
 * that already finished); -EBUSY: no record, but something else is mounted there. */
int images_unmount_rootfs(image_store *s, const char *container_id, const char *ctr_dir,
                          pr_error **err);

/* The image config's process settings, as the pieces of an OCI runtime config. */
typedef struct image_process {
    char **args;       /* Entrypoint + Cmd */
    char **entrypoint; /* apart too: Kubernetes' command replaces one, its args the other */
    char **cmd;
    char **env; /* the image's Env, plus PATH and HOME when it lacks them */
    char *cwd;  /* WorkingDir or "/" */
    uid_t uid;
    gid_t gid;
    gid_t *additional_gids;
    size_t n_additional_gids;
    char *stop_signal;    /* StopSignal, or NULL */
    char **exposed_ports; /* "80/tcp" ... */
    char **volumes;       /* "/data" ... */
    char **labels;        /* "key=value" ... */
} image_process;

void image_process_clear(image_process *p);
/* The config of the image ref names, with its User resolved through the image's /etc/passwd
 * and /etc/group as seen in rootfs (the container's mounted root: layers already combined). */
int images_process(image_store *s, const char *ref, const char *rootfs, image_process *out,
                   pr_error **err);

#endif
