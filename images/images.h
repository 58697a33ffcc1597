/* SPDX-License-Identifier: Apache-2.0 */
/* The images library's public header for the CLI and the agent: opening the store, listing,
 * finding, tagging, removing and pruning images, import, export, inspect, and turning a stored
 * image into a container root (overlay.h, included here). Pulling is in pull.h: the only part
 * that talks to registries, with progress types of its own that a display needs without the
 * rest. A caller of this header calls no store_* or digest_* function: those are the
 * library's internals (store.h is included for its types). */
#ifndef PODRUN_IMAGES_IMAGES_H
#define PODRUN_IMAGES_IMAGES_H

#include "error.h"
#include "manifest.h"
#include "overlay.h"
#include "store.h"

#include <yajl/yajl_gen.h>

/* --- the store, as the CLI uses it (thin over store.h) --- */
/* root NULL: $PODRUN_IMAGES_ROOT, else the default. exclusive: for removing content. */
static inline int images_open(const char *root, bool exclusive, image_store **out, pr_error **err)
{
    return store_open(root, exclusive, out, err);
}
/* Closes the store at the end of the scope. */
#define _cleanup_images_ _cleanup_store_
static inline int images_list(image_store *s, image_list **out, pr_error **err)
{
    return store_list_images(s, out, err);
}
/* By name, short name or ID (prefix). */
static inline int images_find(image_store *s, const char *ref, image_rec *out, pr_error **err)
{
    return store_find_image(s, ref, out, err);
}
static inline int images_tag(image_store *s, const char *src, const char *dest, pr_error **err)
{
    return store_tag_image(s, src, dest, err);
}
/* Removes a name (the image with its last one) or the image an ID names; *removed_id gets the
 * ID when the image went. Its blobs stay until images_prune. */
static inline int images_remove(image_store *s, const char *ref, bool force, char **removed_id,
                                pr_error **err)
{
    return store_remove_image(s, ref, force, removed_id, err);
}
struct images_pruned {
    unsigned blobs, layers;
    uint64_t bytes;
};
/* Deletes what no image nor mounted container uses; the store must be open exclusive. */
static inline int images_prune(image_store *s, struct images_pruned *out, pr_error **err)
{
    return store_gc(s, &out->blobs, &out->layers, &out->bytes, err);
}

/* --- what is shown of an image (inspect.c) --- */
/* The image ID without its algorithm: the hex of the config digest. */
const char *images_id_hex(const image_rec *rec);
/* A stored name's repository and tag; "<invalid>" for both when it is not a reference (an
 * index written by hand could hold a newline that fakes a row). */
void images_name_split(const char *name, char **repo, char **tag);
/* `images --format json`'s object for one image. */
void images_gen_summary(yajl_gen g, const image_rec *rec);
/* `image inspect`'s object for the image ref names. Nothing is written to g on failure. */
int images_inspect(image_store *s, const char *ref, yajl_gen g, pr_error **err);

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

/* Imports an OCI layout directory, an oci-archive or a docker-archive (tar, optionally
 * compressed). *loaded gets one line per image: its names, or its ID when it has none. */
int images_load(image_store *s, const char *path, char ***loaded, pr_error **err);

/* Writes the images refs name as an oci-archive at path (atomically, by a rename). path must
 * be a new name or a regular file, outside the store: anything else is refused. */
int images_save(image_store *s, char *const *refs, const char *path, pr_error **err);

/* From a stored config: its creation time and rootfs.diff_ids (NULL when it has none). */
int images_config_info(image_store *s, const char *config, char **created, char ***diff_ids,
                       pr_error **err);

/* Unpacks layers on worker threads (as many as CPUs) as they are added; finish waits for all
 * of them, returns the first failure and frees the pool. */
typedef struct unpack_pool unpack_pool;
unpack_pool *unpack_pool_new(image_store *s);
void unpack_pool_add(unpack_pool *p, const char *digest, const char *diff_id);
int unpack_pool_finish(unpack_pool *p, pr_error **err);

/* The image's config JSON, as stored. */
int images_read_config(image_store *s, const image_rec *rec, char **out, pr_error **err);
/* Reads and parses the stored manifest blob digest. */
int images_read_manifest(image_store *s, const char *digest, manifest *m, pr_error **err);

#endif
