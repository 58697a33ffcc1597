/* SPDX-License-Identifier: Apache-2.0 */
/* Inside the images library: making a stored manifest an image of the store (a load, a pull),
 * reading a stored image's config and manifest, and the pool that unpacks layers on worker
 * threads. Not for callers outside images/: they have images.h. */
#ifndef PODRUN_IMAGES_IMAGE_H
#define PODRUN_IMAGES_IMAGE_H

#include "error.h"
#include "images.h"
#include "manifest.h"
#include "store.h"

/* Makes the manifest (already a blob, as are its config and layers) an image of the store:
 * checks every blob is there, unpacks each layer not yet unpacked, and records it under names
 * (NULL-terminated, normalized; may be empty). out (optional) gets the record. */
int images_commit(image_store *s, const char *manifest_digest, const char *index_digest,
                  char *const *names, image_rec *out, pr_error **err);
/* The same for a caller that has just read and verified the manifest (m, an image manifest
 * whose blob is manifest_digest) and its config (created, diff_ids, NULL when it has none): a
 * pull. Nothing is read or parsed a second time. */
int images_commit_verified(image_store *s, const char *manifest_digest, const manifest *m,
                           const char *created, char *const *diff_ids, const char *index_digest,
                           char *const *names, image_rec *out, pr_error **err);

/* From a stored config: its creation time and rootfs.diff_ids (NULL when it has none). */
int images_config_info(image_store *s, const char *config, char **created, char ***diff_ids,
                       pr_error **err);

/* Unpacks layers on worker threads (as many as CPUs) as they are added; finish waits for all
 * of them, returns the first failure and frees the pool. */
typedef struct unpack_pool unpack_pool;
unpack_pool *unpack_pool_new(image_store *s);
void unpack_pool_add(unpack_pool *p, const char *digest, const char *diff_id);
int unpack_pool_finish(unpack_pool *p, pr_error **err);

/* Reads and parses the stored manifest blob digest. */
int images_read_manifest(image_store *s, const char *digest, manifest *m, pr_error **err);

#endif
