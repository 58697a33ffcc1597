/* SPDX-License-Identifier: Apache-2.0 */
/* From a stored image to a container: its root as an overlay mount (the image's layers as
 * lowerdirs, a fresh upper and work dir per container), and the image config's process
 * settings as the pieces of an OCI runtime config. */
#ifndef PODRUN_IMAGES_OVERLAY_H
#define PODRUN_IMAGES_OVERLAY_H

#include "error.h"
#include "store.h"

#include <sys/types.h>

/* Mounts the root of a container made from image at ctr_dir/rootfs, with ctr_dir/upper and
 * ctr_dir/work (created fresh; ctr_dir is created if missing). The layers are recorded as used
 * by container_id so that prune keeps them. *rootfs gets the mount point. */
int images_mount_rootfs(image_store *s, const char *image, const char *container_id,
                        const char *ctr_dir, char **rootfs, pr_error **err);
/* Unmounts ctr_dir/rootfs, removes the upper and work dirs (the container's changes) and the
 * layer references. Missing pieces are not an error, so it also cleans up after a crash. */
int images_unmount_rootfs(image_store *s, const char *container_id, const char *ctr_dir,
                          pr_error **err);

typedef struct image_process {
    char **args;       /* Entrypoint + Cmd */
    char **entrypoint; /* apart too: Kubernetes' command replaces one, its args the other */
    char **cmd;
    char **env;  /* the image's Env, plus PATH and HOME when it lacks them */
    char *cwd;   /* WorkingDir or "/" */
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
/* Reads the image config and resolves its User through the image's /etc/passwd and /etc/group
 * as seen in rootfs (the mounted root: layers already combined). */
int images_process_config(image_store *s, const image_rec *rec, const char *rootfs,
                          image_process *out, pr_error **err);
/* Resolves a User string ("name", "uid", "name:group", "uid:gid", ...) inside rootfs. */
int images_resolve_user(int rootfd, const char *user, image_process *p, pr_error **err);

#endif
