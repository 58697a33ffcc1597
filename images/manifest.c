/* SPDX-License-Identifier: Apache-2.0 */
#include "manifest.h"
#include "digest.h"
#include "json.h"
#include "util.h"

void descriptor_clear(descriptor *d)
{
    free(d->media_type);
    free(d->digest);
    free(d->os);
    free(d->arch);
    free(d->variant);
    free(d->ref_name);
    free(d->image_name);
    memset(d, 0, sizeof(*d));
}

void manifest_clear(manifest *m)
{
    descriptor_clear(&m->config);
    for (size_t i = 0; i < m->nlayers; i++)
        descriptor_clear(&m->layers[i]);
    for (size_t i = 0; i < m->nmanifests; i++)
        descriptor_clear(&m->manifests[i]);
    free(m->layers);
    free(m->manifests);
    free(m->media_type);
    memset(m, 0, sizeof(*m));
}

bool media_type_is_index(const char *mt)
{
    return mt && (streq(mt, MT_OCI_INDEX) || streq(mt, MT_DOCKER_LIST));
}

static char *dup_or_null(const char *s)
{
    return s ? xstrdup(s) : NULL;
}

static int parse_descriptor(yajl_val v, const char *what, descriptor *d, pr_error **err)
{
    const char *mt = NULL, *digest = NULL, *os = NULL, *arch = NULL, *variant = NULL;
    yajl_val platform = NULL, ann = NULL;
    int r;
    if ((r = json_get_str(v, "mediaType", what, &mt, err)) < 0 ||
        (r = json_get_str(v, "digest", what, &digest, err)) < 0 ||
        (r = json_get_int64(v, "size", what, &d->size, err)) < 0 ||
        (r = json_get_object(v, "platform", what, &platform, err)) < 0 ||
        (r = json_get_object(v, "annotations", what, &ann, err)) < 0)
        return r;
    if (platform && ((r = json_get_str(platform, "os", what, &os, err)) < 0 ||
                     (r = json_get_str(platform, "architecture", what, &arch, err)) < 0 ||
                     (r = json_get_str(platform, "variant", what, &variant, err)) < 0))
        return r;
    if (!digest_is_valid(digest))
        return pr_err(err, 0, "%s: a descriptor has a missing or unsupported digest `%s`", what,
                      digest ? digest : "");
    if (d->size < 0)
        return pr_err(err, 0, "%s: descriptor %s has a negative size", what, digest);
    d->media_type = dup_or_null(mt);
    d->digest = xstrdup(digest);
    d->os = dup_or_null(os);
    d->arch = dup_or_null(arch);
    d->variant = dup_or_null(variant);
    if (ann) {
        const char *ref = NULL, *name = NULL;
        if ((r = json_get_str(ann, "org.opencontainers.image.ref.name", what, &ref, err)) < 0 ||
            (r = json_get_str(ann, "io.containerd.image.name", what, &name, err)) < 0)
            return r;
        d->ref_name = dup_or_null(ref);
        d->image_name = dup_or_null(name);
    }
    return 0;
}

static int parse_descriptors(yajl_val arr, const char *what, descriptor **out, size_t *n,
                             pr_error **err)
{
    size_t len = json_array_len(arr);
    *out = xcalloc(len ? len : 1, sizeof(descriptor));
    for (*n = 0; *n < len; (*n)++) {
        int r = parse_descriptor(json_array_at(arr, *n), what, &(*out)[*n], err);
        if (r < 0)
            return r;
    }
    return 0;
}

int manifest_parse(const char *text, const char *what, manifest *out, pr_error **err)
{
    _cleanup_json_ yajl_val root = NULL;
    int r = json_parse(text, what, &root, err);
    if (r < 0)
        return r;
    manifest m = {0};
    const char *mt = NULL;
    int64_t schema = 0;
    yajl_val config = NULL, layers = NULL, manifests = NULL;
    if ((r = json_get_str(root, "mediaType", what, &mt, err)) < 0 ||
        (r = json_get_int64(root, "schemaVersion", what, &schema, err)) < 0 ||
        (r = json_get_object(root, "config", what, &config, err)) < 0 ||
        (r = json_get_array(root, "layers", what, &layers, err)) < 0 ||
        (r = json_get_array(root, "manifests", what, &manifests, err)) < 0)
        return r;
    if (schema == 1 || (mt && (streq(mt, MT_DOCKER_V1) || streq(mt, MT_DOCKER_V1S))))
        return pr_err(err, 0, "%s: Docker schema 1 manifests are not supported", what);
    if (schema != 2)
        return pr_err(err, 0, "%s: unsupported schemaVersion %lld", what, (long long)schema);
    m.is_index = mt ? media_type_is_index(mt) : (manifests && !config);
    if (mt && !m.is_index && !streq(mt, MT_OCI_MANIFEST) && !streq(mt, MT_DOCKER_MANIFEST)) {
        return pr_err(err, 0, "%s: unsupported manifest media type `%s`", what, mt);
    }
    m.media_type = xstrdup(mt ? mt : m.is_index ? MT_OCI_INDEX : MT_OCI_MANIFEST);
    if (m.is_index) {
        r = parse_descriptors(manifests, what, &m.manifests, &m.nmanifests, err);
    } else {
        if (!config)
            r = pr_err(err, 0, "%s: a manifest without a config", what);
        else
            r = parse_descriptor(config, what, &m.config, err);
        if (r == 0 && json_array_len(layers) > MANIFEST_MAX_LAYERS)
            r = pr_err(err, 0, "%s: %zu layers, more than the limit of %d", what,
                       json_array_len(layers), MANIFEST_MAX_LAYERS);
        if (r == 0)
            r = parse_descriptors(layers, what, &m.layers, &m.nlayers, err);
    }
    if (r < 0) {
        manifest_clear(&m);
        return r;
    }
    *out = m;
    return 0;
}

const char *host_arch(void)
{
#if defined(__x86_64__)
    return "amd64";
#elif defined(__aarch64__)
    return "arm64";
#elif defined(__i386__)
    return "386";
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    return "ppc64le";
#elif defined(__s390x__)
    return "s390x";
#elif defined(__riscv) && __riscv_xlen == 64
    return "riscv64";
#else
    return "unknown";
#endif
}

bool descriptor_is_host(const descriptor *d)
{
    return d->os && d->arch && streq(d->os, "linux") && streq(d->arch, host_arch());
}

int index_pick_host(const manifest *idx, const char *what, pr_error **err)
{
    for (size_t i = 0; i < idx->nmanifests; i++)
        if (descriptor_is_host(&idx->manifests[i]))
            return (int)i;
    _cleanup_free_ char *seen = xstrdup("");
    for (size_t i = 0; i < idx->nmanifests; i++) {
        const descriptor *d = &idx->manifests[i];
        char *n =
            xasprintf("%s%s%s/%s%s%s", seen, *seen ? ", " : "", d->os ? d->os : "?",
                      d->arch ? d->arch : "?", d->variant ? "/" : "", d->variant ? d->variant : "");
        free(seen);
        seen = n;
    }
    return pr_err(err, ENOENT, "%s: no image for this platform (linux/%s) in the index; it has: %s",
                  what, host_arch(), *seen ? seen : "nothing");
}
