/* SPDX-License-Identifier: Apache-2.0 */
/* The image store: content-addressed blobs, unpacked layers and the image index under one root.
 *
 * Layout of the root (default /var/lib/podrun/images):
 *   blobs/sha256/<hex>   every manifest, config and layer blob, verified when written
 *   layers/<hex>/        a layer blob unpacked (overlayfs whiteouts), shared by every image
 *   diffids/<hex>        the digest of that layer uncompressed (its diff_id), once verified
 *   images.json          the index: name -> manifest, config and layer digests
 *   containers/<id>      layers a mounted container root uses (so prune keeps them)
 *   tmp/                 blobs and layers being written; renamed into place when complete
 *   store.lock           shared while adding content, exclusive while deleting it
 *   index.lock           exclusive around each read-modify-write of images.json */
#ifndef PODRUN_IMAGES_STORE_H
#define PODRUN_IMAGES_STORE_H

#include "digest.h"
#include "error.h"
#include "images.h"
#include "paths.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define IMAGES_DEFAULT_ROOT PODRUN_IMAGES_ROOT

/* images.h names it; only the library sees inside. */
struct image_store {
    char *root;
    int rootfd;
    int lockfd;
    bool exclusive;
    bool staging_cleared; /* store_clear_stale_staging ran on this handle */
};

/* root NULL: $PODRUN_IMAGES_ROOT, else the default. exclusive: lock out every other user of
 * the store (deleting content); otherwise share it with other readers and writers. */
int store_open(const char *root, bool exclusive, image_store **out, pr_error **err);
void store_close(image_store *s);
static inline void store_closep(image_store **s)
{
    if (*s)
        store_close(*s);
}
#define _cleanup_store_ __attribute__((cleanup(store_closep)))

/* Staging (tmp/) is named KIND-PID-..., and its writer holds an exclusive flock on the file or
 * directory while it writes. This removes the staging of writers that are dead (their pid is
 * gone and the lock is free), never a live writer's; the first write through a handle calls it,
 * and store_gc removes all of tmp/ (no writer can run while the store is held exclusive).
 * Best effort: what cannot be removed now is left for the next time. */
void store_clear_stale_staging(image_store *s);
/* Locks a staging file or directory that fd refers to (see above). */
int store_lock_staging(int fd, const char *what, pr_error **err);

/* --- blobs --- */
typedef struct blob_writer blob_writer;

/* expected_digest NULL: the digest is computed and returned by commit. expected_size < 0:
 * unknown. Data goes to a temp file under tmp/; nothing is visible until commit. */
int blob_writer_new(image_store *s, const char *expected_digest, int64_t expected_size,
                    blob_writer **out, pr_error **err);
int blob_writer_write(blob_writer *w, const void *data, size_t len, pr_error **err);
/* Start over (a server that ignored a range request). */
int blob_writer_restart(blob_writer *w, pr_error **err);
int64_t blob_writer_size(const blob_writer *w);
/* Verifies digest and size, syncs and renames into place; on mismatch the data is discarded. */
int blob_writer_commit(blob_writer *w, char digest_out[DIGEST_STR_LEN + 1], pr_error **err);
/* Discards whatever was written (no-op after commit) and frees. */
void blob_writer_free(blob_writer *w);
static inline void blob_writer_freep(blob_writer **w)
{
    if (*w)
        blob_writer_free(*w);
}
#define _cleanup_blob_writer_ __attribute__((cleanup(blob_writer_freep)))

int store_put_blob(image_store *s, const void *data, size_t len, const char *expected_digest,
                   char digest_out[DIGEST_STR_LEN + 1], pr_error **err);
/* Copies an fd's content into the store, verifying expected_digest when given. */
int store_put_blob_fd(image_store *s, int fd, const char *expected_digest, int64_t expected_size,
                      char digest_out[DIGEST_STR_LEN + 1], pr_error **err);
bool store_has_blob(image_store *s, const char *digest);
int store_blob_size(image_store *s, const char *digest, int64_t *size, pr_error **err);
int store_open_blob(image_store *s, const char *digest, pr_error **err);
/* Whole blob into memory (manifests, configs): at most max bytes. */
int store_read_blob(image_store *s, const char *digest, size_t max, char **out, size_t *len,
                    pr_error **err);
char *store_blob_path(image_store *s, const char *digest);
char *store_layer_path(image_store *s, const char *digest);

/* --- the image index --- */
struct image_rec {
    char *manifest;     /* digest of the image manifest */
    char *config;       /* digest of the config: the image ID */
    char *index;        /* digest of the index it was picked from, or NULL */
    char *created;      /* from the config, may be NULL */
    char **names;       /* normalized references, may be empty */
    char **layers;      /* layer blob digests, bottom first */
    char **media_types; /* of each layer */
    int64_t size;       /* sum of the layer blob sizes */
};

struct image_list {
    image_rec *v;
    size_t n;
};

void image_rec_clear(image_rec *r);

int store_list_images(image_store *s, image_list **out, pr_error **err);
/* Adds rec (or merges its names into the record with the same manifest); each of its names is
 * taken away from any other image, as a tag moves. */
int store_add_image(image_store *s, const image_rec *rec, pr_error **err);
/* Finds an image by name (normalized as a reference), by short name, or by ID (prefix). */
int image_list_find(const image_list *l, const char *ref, pr_error **err);
int store_find_image(image_store *s, const char *ref, image_rec *out, pr_error **err);
int store_tag_image(image_store *s, const char *src, const char *dest, pr_error **err);
/* Removes the name ref names (and the image with its last name), or the image an ID names.
 * *removed_id gets the ID when the image itself went. Does not delete blobs (see store_gc). */
int store_remove_image(image_store *s, const char *ref, bool force, char **removed_id,
                       pr_error **err);

/* Deletes blobs and layer directories no image (nor mounted container) references, and stale
 * temp files. Needs the store opened exclusive. Counts what it removed. */
int store_gc(image_store *s, unsigned *blobs, unsigned *layers, uint64_t *bytes, pr_error **err);

/* After a failed import: when no other process is using the store, removes what no image
 * references (the blobs the failure left). Never waits for others; if there are any, the
 * leftovers stay until the next prune. */
void store_gc_if_alone(image_store *s);

/* Container references keep layers alive while a root built from them is mounted, and say
 * where it is mounted (dir, canonical), so that only that directory is ever unmounted for the
 * id. A container id is a file name: 1 to STORE_CONTAINER_ID_MAX bytes, no '/', no leading '.',
 * no space or control characters. */
#define STORE_CONTAINER_ID_MAX 200
bool store_container_id_is_valid(const char *id);
/* Fails with EEXIST when the id already has a record: ids are not reused while mounted. */
int store_ref_layers(image_store *s, const char *container_id, const char *dir, char *const *layers,
                     pr_error **err);
/* The directory the id's root was mounted for; ENOENT when it has no record. *dir is NULL for
 * a record written before directories were recorded. */
int store_container_dir(image_store *s, const char *container_id, char **dir, pr_error **err);
int store_unref_layers(image_store *s, const char *container_id, pr_error **err);

#endif
