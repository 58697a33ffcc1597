/* SPDX-License-Identifier: Apache-2.0 */
/* images.h's store, list and record functions: thin over the store (store.c) and the overlay
 * (overlay.c), so that callers outside the library see no store_* function and no record's
 * fields. */
#include "images.h"
#include "digest.h"
#include "overlay.h"
#include "store.h"
#include "util.h"

int images_open(const char *root, bool exclusive, image_store **out, pr_error **err)
{
    return store_open(root, exclusive, out, err);
}

void images_close(image_store *s)
{
    store_close(s);
}

int images_list(image_store *s, image_list **out, pr_error **err)
{
    return store_list_images(s, out, err);
}

size_t images_list_count(const image_list *l)
{
    return l->n;
}

const image_rec *images_list_at(const image_list *l, size_t i)
{
    return &l->v[i];
}

int images_find(image_store *s, const char *ref, char **id, pr_error **err)
{
    image_rec rec = {0};
    int r = store_find_image(s, ref, &rec, err);
    if (r == 0 && id)
        *id = xstrdup(rec.config);
    image_rec_clear(&rec);
    return r;
}

int images_tag(image_store *s, const char *src, const char *dest, pr_error **err)
{
    return store_tag_image(s, src, dest, err);
}

int images_remove(image_store *s, const char *ref, bool force, char **removed_id, pr_error **err)
{
    return store_remove_image(s, ref, force, removed_id, err);
}

int images_prune(image_store *s, struct images_pruned *out, pr_error **err)
{
    return store_gc(s, &out->blobs, &out->layers, &out->bytes, err);
}

const char *images_created(const image_rec *rec)
{
    return rec->created;
}

char *const *images_names(const image_rec *rec)
{
    return rec->names;
}

int64_t images_size(const image_rec *rec)
{
    return rec->size;
}

const char *images_id(const image_rec *rec)
{
    return rec->config;
}

const char *images_manifest_digest(const image_rec *rec)
{
    return rec->manifest;
}

const char *images_store_root(const image_store *s)
{
    return s->root;
}

const char *images_digest_hex(const char *digest)
{
    return digest_hex(digest);
}

int images_process(image_store *s, const char *ref, const char *rootfs, image_process *out,
                   pr_error **err)
{
    image_rec rec = {0};
    int r = store_find_image(s, ref, &rec, err);
    if (r == 0)
        r = images_process_config(s, &rec, rootfs, out, err);
    image_rec_clear(&rec);
    return r;
}
