/* SPDX-License-Identifier: Apache-2.0 */
/* From a stored image to a container: its root as an overlay mount (the image's layers as
 * lowerdirs, a fresh upper and work dir per container), and the image config's process
 * settings as the pieces of an OCI runtime config. The mount, the unmount and image_process
 * are public (images.h); these are what the library and its tests use besides. */
#ifndef PODRUN_IMAGES_OVERLAY_H
#define PODRUN_IMAGES_OVERLAY_H

#include "error.h"
#include "images.h"
#include "store.h"

#include <sys/types.h>

/* Reads the image config and resolves its User through the image's /etc/passwd and /etc/group
 * as seen in rootfs (the mounted root: layers already combined). */
int images_process_config(image_store *s, const image_rec *rec, const char *rootfs,
                          image_process *out, pr_error **err);
/* Resolves a User string ("name", "uid", "name:group", "uid:gid", ...) inside rootfs. */
int images_resolve_user(int rootfd, const char *user, image_process *p, pr_error **err);

#endif
