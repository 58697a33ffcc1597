/* SPDX-License-Identifier: Apache-2.0 */
/* Layer unpacking: a layer tarball (plain, gzip or zstd) into a directory, with OCI whiteouts
 * turned into overlayfs ones so that layers stack as lowerdirs, and every entry confined to the
 * directory: no path in the archive may leave it, by "..", an absolute name, a symlink or a
 * hard link. */
#ifndef PODRUN_IMAGES_UNPACK_H
#define PODRUN_IMAGES_UNPACK_H

#include "digest.h"
#include "error.h"
#include "store.h"

/* Unpacks the archive read from srcfd into the (empty) directory destfd; diff_id (may be NULL)
 * is the digest the uncompressed tar must have, as the image config's rootfs.diff_ids say.
 * got (may be NULL) receives the digest it has. */
int unpack_layer_fd(int srcfd, int destfd, const char *what, const char *diff_id,
                    char got[DIGEST_STR_LEN + 1], pr_error **err);
/* Unpacks the stored blob into layers/<hex> unless that exists: into a temp dir, renamed into
 * place when complete, so a failure or a concurrent unpack of the same layer leaves nothing
 * half-made. */
int store_unpack_layer(image_store *s, const char *digest, const char *diff_id, pr_error **err);

#endif
