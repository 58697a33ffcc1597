/* SPDX-License-Identifier: Apache-2.0 */
/* What a user sees of stored images: `image inspect`'s and `images --format json`'s objects,
 * the short image ID and a name's repository and tag, so every front end shows the same. */
#include "image.h"
#include "json.h"
#include "ref.h"
#include "util.h"

const char *images_id_hex(const image_rec *rec)
{
    return digest_hex(rec->config);
}

void images_name_split(const char *name, char **repo, char **tag)
{
    image_ref ref;
    if (image_ref_parse(name, &ref, NULL) < 0) {
        *repo = xstrdup("<invalid>");
        *tag = xstrdup("<invalid>");
        return;
    }
    *repo = image_ref_repository(&ref);
    *tag = xstrdup(ref.tag ? ref.tag : "<none>");
    image_ref_clear(&ref);
}

void images_gen_summary(yajl_gen g, const image_rec *r)
{
    jg_map_open(g);
    jg_key_str(g, "Id", images_id_hex(r));
    jg_key_str(g, "Digest", r->manifest);
    jg_key(g, "Names");
    jg_array_open(g);
    for (char **n = r->names; *n; n++)
        jg_str(g, *n);
    jg_array_close(g);
    jg_key_str(g, "Created", r->created);
    jg_key_int(g, "Size", r->size);
    jg_key_int(g, "Layers", (long long)strv_length(r->layers));
    jg_map_close(g);
}

static void gen_inspect(yajl_gen g, image_store *s, const image_rec *rec, yajl_val manifest,
                        yajl_val config)
{
    jg_map_open(g);
    jg_key_str(g, "Id", rec->config);
    jg_key_str(g, "Digest", rec->manifest);
    jg_key(g, "RepoTags");
    jg_array_open(g);
    for (char **n = rec->names; *n; n++)
        jg_str(g, *n);
    jg_array_close(g);
    jg_key_str(g, "Created", rec->created);
    yajl_val v;
    if ((v = json_get(config, "architecture")) && YAJL_IS_STRING(v))
        jg_key_str(g, "Architecture", v->u.string);
    if ((v = json_get(config, "os")) && YAJL_IS_STRING(v))
        jg_key_str(g, "Os", v->u.string);
    jg_key_int(g, "Size", rec->size);
    if ((v = json_get(config, "config"))) {
        jg_key(g, "Config");
        jg_value(g, v);
    }
    if ((v = json_get(config, "rootfs"))) {
        jg_key(g, "RootFS");
        jg_value(g, v);
    }
    jg_key(g, "Layers");
    jg_array_open(g);
    for (char **l = rec->layers; *l; l++)
        jg_str(g, *l);
    jg_array_close(g);
    jg_key(g, "LayerDirs");
    jg_array_open(g);
    for (char **l = rec->layers; *l; l++) {
        _cleanup_free_ char *p = store_layer_path(s, *l);
        jg_str(g, p);
    }
    jg_array_close(g);
    jg_key(g, "Manifest");
    jg_value(g, manifest);
    jg_map_close(g);
}

int images_inspect(image_store *s, const char *ref, yajl_gen g, pr_error **err)
{
    image_rec rec = {0};
    int r = store_find_image(s, ref, &rec, err);
    if (r < 0)
        return r;
    _cleanup_free_ char *mtext = NULL, *ctext = NULL;
    _cleanup_json_ yajl_val m = NULL, cfg = NULL;
    if ((r = store_read_blob(s, rec.manifest, MANIFEST_MAX_SIZE, &mtext, NULL, err)) == 0 &&
        (r = images_read_config(s, &rec, &ctext, err)) == 0 &&
        (r = json_parse(mtext, "manifest", &m, err)) == 0 &&
        (r = json_parse(ctext, "config", &cfg, err)) == 0)
        gen_inspect(g, s, &rec, m, cfg);
    image_rec_clear(&rec);
    return r;
}
