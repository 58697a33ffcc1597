/* SPDX-License-Identifier: Apache-2.0 */
/* podrun load: OCI image layouts (a directory or an oci-archive) and docker-archives. A tar is
 * read once, as a stream: every file goes straight into the blob store (verified against its
 * name when that is a digest), the small metadata files into memory; the images are then
 * assembled from the store. */
#include "fs.h"
#include "image.h"
#include "json.h"
#include "log.h"
#include "ref.h"
#include "util.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>

typedef struct src_file {
    char *name;
    char *link; /* an alias of another entry (docker-archive reuses layers by symlink) */
    char digest[DIGEST_STR_LEN + 1];
    int64_t size;
} src_file;

typedef struct load_src {
    const char *path;
    int dirfd; /* a layout directory, or -1 for an archive already ingested */
    src_file *files;
    size_t nfiles;
    char *index_json, *manifest_json;
    bool has_oci_layout;
} load_src;

static void load_src_clear(load_src *src)
{
    for (size_t i = 0; i < src->nfiles; i++) {
        free(src->files[i].name);
        free(src->files[i].link);
    }
    free(src->files);
    free(src->index_json);
    free(src->manifest_json);
    if (src->dirfd >= 0)
        close(src->dirfd);
}

/* "./a//b" -> "a/b"; names are only keys here, never paths we write to. */
static char *clean_name(const char *raw)
{
    char *c = path_clean_in_root(raw);
    char *r = xstrdup(c + 1);
    free(c);
    return r;
}

static src_file *src_add(load_src *src, const char *name)
{
    src->files = xrealloc(src->files, (src->nfiles + 1) * sizeof(src_file));
    src_file *f = &src->files[src->nfiles++];
    memset(f, 0, sizeof(*f));
    f->name = clean_name(name);
    return f;
}

/* The digest a "blobs/sha256/<hex>" name promises, or NULL. */
static char *digest_from_name(const char *name)
{
    if (!has_prefix(name, "blobs/sha256/"))
        return NULL;
    char *d = xasprintf("sha256:%s", name + strlen("blobs/sha256/"));
    if (!digest_is_valid(d)) {
        free(d);
        return NULL;
    }
    return d;
}

static int read_entry_text(struct archive *a, struct archive_entry *e, const char *what, char **out,
                           pr_error **err)
{
    int64_t size = archive_entry_size(e);
    char limit[SIZE_TEXT_MAX];
    if (size < 0 || size > MANIFEST_MAX_SIZE)
        return pr_err_code(err, EFBIG, "%s: `%s` is larger than %s, the limit for it", what,
                           archive_entry_pathname(e), size_text(MANIFEST_MAX_SIZE, limit));
    char *buf = xmalloc((size_t)size + 1);
    la_ssize_t n = archive_read_data(a, buf, (size_t)size);
    if (n != size) {
        free(buf);
        return pr_err(err, 0, "%s: read `%s`: %s", what, archive_entry_pathname(e),
                      n < 0 ? archive_error_string(a) : "truncated");
    }
    buf[size] = '\0';
    free(*out);
    *out = buf;
    return 0;
}

static int ingest_entry_blob(image_store *s, struct archive *a, struct archive_entry *e,
                             load_src *src, pr_error **err)
{
    const char *name = archive_entry_pathname(e);
    src_file *f = src_add(src, name);
    _cleanup_free_ char *expected = digest_from_name(f->name);
    f->size = archive_entry_size(e);
    if (expected && store_has_blob(s, expected)) {
        memcpy(f->digest, expected, sizeof(f->digest)); /* already stored and verified */
        return 0;
    }
    _cleanup_blob_writer_ blob_writer *w = NULL;
    int r = blob_writer_new(s, expected, -1, &w, err);
    if (r < 0)
        return r;
    const void *block;
    size_t size;
    la_int64_t offset;
    int ar;
    while ((ar = archive_read_data_block(a, &block, &size, &offset)) == ARCHIVE_OK) {
        r = blob_writer_write(w, block, size, err);
        if (r < 0)
            return r;
    }
    if (ar != ARCHIVE_EOF)
        return pr_err(err, 0, "%s: read `%s`: %s", src->path, name, archive_error_string(a));
    r = blob_writer_commit(w, f->digest, err);
    if (r < 0)
        return pr_err_prefix(err, "%s: `%s`", src->path, name);
    return 0;
}

static void archive_read_freep(struct archive **a)
{
    if (*a)
        archive_read_free(*a);
}

static bool is_docker_legacy_metadata(const char *name)
{
    const char *base = strrchr(name, '/');
    base = base ? base + 1 : name;
    return streq(name, "repositories") ||
           (base != name && (streq(base, "json") || streq(base, "VERSION")));
}

static int ingest_archive(image_store *s, int fd, load_src *src, pr_error **err)
{
    __attribute__((cleanup(archive_read_freep))) struct archive *a = archive_read_new();
    archive_read_support_filter_all(a);
    archive_read_support_format_tar(a);
    archive_read_support_format_gnutar(a);
    if (archive_read_open_fd(a, fd, 1 << 20) != ARCHIVE_OK)
        return pr_err(err, 0, "%s: not an image archive: %s", src->path, archive_error_string(a));
    struct archive_entry *e;
    int ar;
    while ((ar = archive_read_next_header(a, &e)) != ARCHIVE_EOF) {
        if (ar != ARCHIVE_OK && ar != ARCHIVE_WARN)
            return pr_err(err, 0, "%s: not an image archive: %s", src->path,
                          archive_error_string(a));
        _cleanup_free_ char *name = clean_name(archive_entry_pathname(e));
        int r = 0;
        if (archive_entry_hardlink(e)) {
            src_file *f = src_add(src, name);
            f->link = clean_name(archive_entry_hardlink(e));
        } else if (archive_entry_filetype(e) == AE_IFLNK) {
            src_file *f = src_add(src, name);
            /* Relative to the link's directory, kept inside the archive's namespace. */
            char *slash = strrchr(name, '/');
            _cleanup_free_ char *joined = xasprintf("%.*s/%s", slash ? (int)(slash - name) : 0,
                                                    name, archive_entry_symlink(e));
            f->link = clean_name(joined);
        } else if (archive_entry_filetype(e) != AE_IFREG) {
            continue;
        } else if (streq(name, "index.json")) {
            r = read_entry_text(a, e, src->path, &src->index_json, err);
        } else if (streq(name, "manifest.json")) {
            r = read_entry_text(a, e, src->path, &src->manifest_json, err);
        } else if (streq(name, "oci-layout")) {
            src->has_oci_layout = true;
        } else if (is_docker_legacy_metadata(name)) {
            continue; /* old docker save's per-layer json/VERSION and repositories: unused */
        } else {
            r = ingest_entry_blob(s, a, e, src, err);
        }
        if (r < 0)
            return r;
    }
    return 0;
}

static src_file *src_find(load_src *src, const char *name)
{
    _cleanup_free_ char *clean = clean_name(name);
    for (int hops = 0; hops < 16; hops++) {
        src_file *f = NULL;
        for (size_t i = 0; i < src->nfiles; i++)
            if (streq(src->files[i].name, clean))
                f = &src->files[i];
        if (!f || !f->link)
            return f;
        free(clean);
        clean = xstrdup(f->link);
    }
    return NULL;
}

/* Makes sure the blob a descriptor names is in the store, verified. */
static int src_blob(image_store *s, load_src *src, const char *name, const char *expected,
                    int64_t size, char digest[DIGEST_STR_LEN + 1], pr_error **err)
{
    if (src->dirfd >= 0) {
        if (expected && store_has_blob(s, expected)) {
            memcpy(digest, expected, DIGEST_STR_LEN + 1);
            return 0;
        }
        _cleanup_close_ int fd = open_in_root(src->dirfd, name, O_RDONLY, err);
        if (fd < 0)
            return pr_err_prefix(err, "%s", src->path);
        int r = store_put_blob_fd(s, fd, expected, size, digest, err);
        return r < 0 ? pr_err_prefix(err, "%s: `%s`", src->path, name) : 0;
    }
    src_file *f = src_find(src, name);
    if (!f)
        return pr_err(err, ENOENT, "%s: `%s` is missing from the archive", src->path, name);
    if (expected && !streq(expected, f->digest))
        return pr_err(err, 0, "%s: `%s`: digest mismatch: expected %s, the data hashes to %s",
                      src->path, name, expected, f->digest);
    if (size >= 0 && f->size != size)
        return pr_err(err, 0, "%s: `%s`: size mismatch: expected %lld, got %lld", src->path, name,
                      (long long)size, (long long)f->size);
    memcpy(digest, f->digest, DIGEST_STR_LEN + 1);
    return 0;
}

static int src_descriptor(image_store *s, load_src *src, const descriptor *d, pr_error **err)
{
    _cleanup_free_ char *name = xasprintf("blobs/sha256/%s", digest_hex(d->digest));
    char got[DIGEST_STR_LEN + 1];
    return src_blob(s, src, name, d->digest, d->size, got, err);
}

static char *stem_of(const char *path)
{
    const char *base = strrchr(path, '/');
    base = base && base[1] ? base + 1 : path;
    char *stem = xstrdup(base);
    char *dot = strchr(stem, '.');
    if (dot && dot != stem)
        *dot = '\0';
    for (char *c = stem; *c; c++)
        *c = (*c >= 'A' && *c <= 'Z') ? (char)(*c - 'A' + 'a') : *c;
    return stem;
}

/* The name an index entry gives its image: containerd's full name, or the OCI ref.name, which
 * is either a full reference or just a tag (then the image is localhost/<file stem>:<tag>). */
static char **names_for(const load_src *src, const descriptor *d)
{
    char **names = xcalloc(2, sizeof(char *));
    const char *n = d->image_name ? d->image_name : d->ref_name;
    if (!n)
        return names;
    _cleanup_free_ char *full = NULL;
    if (!d->image_name && !strchr(n, '/') && !strchr(n, ':')) {
        _cleanup_free_ char *stem = stem_of(src->path);
        full = xasprintf("localhost/%s:%s", stem, n);
        n = full;
    }
    if (image_ref_normalize_string(n, &names[0], NULL) < 0)
        pr_warning("%s: ignoring the unusable image name `%s`", src->path, n);
    return names;
}

static char *describe_loaded(const image_rec *rec)
{
    if (!rec->names[0])
        return xstrdup(rec->config);
    size_t len = 1;
    for (char **n = rec->names; *n; n++)
        len += strlen(*n) + 1;
    char *s = xmalloc(len);
    s[0] = '\0';
    for (char **n = rec->names; *n; n++) {
        if (n != rec->names)
            strcat(s, " ");
        strcat(s, *n);
    }
    return s;
}

/* One entry of index.json: an image manifest, or an index to pick the host's image from. */
static int load_oci_entry(image_store *s, load_src *src, const descriptor *d, char ***loaded,
                          pr_error **err)
{
    int r = src_descriptor(s, src, d, err);
    if (r < 0)
        return r;
    manifest m = {0};
    r = images_read_manifest(s, d->digest, &m, err);
    if (r < 0)
        return r;
    const char *index_digest = NULL;
    _cleanup_free_ char *manifest_digest = xstrdup(d->digest);
    if (m.is_index) {
        _cleanup_free_ char *what = xasprintf("%s: index %s", src->path, d->digest);
        int i = index_pick_host(&m, what, err);
        if (i < 0) {
            manifest_clear(&m);
            return i;
        }
        index_digest = d->digest;
        free(manifest_digest);
        manifest_digest = xstrdup(m.manifests[i].digest);
        r = src_descriptor(s, src, &m.manifests[i], err);
        manifest_clear(&m);
        if (r < 0 || (r = images_read_manifest(s, manifest_digest, &m, err)) < 0)
            return r;
        if (m.is_index) {
            manifest_clear(&m);
            return pr_err(err, 0, "%s: nested indexes are not supported", src->path);
        }
    }
    r = src_descriptor(s, src, &m.config, err);
    for (size_t i = 0; r == 0 && i < m.nlayers; i++)
        r = src_descriptor(s, src, &m.layers[i], err);
    manifest_clear(&m);
    if (r < 0)
        return r;
    _cleanup_strv_ char **names = names_for(src, d);
    image_rec rec = {0};
    r = images_commit(s, manifest_digest, index_digest, names, &rec, err);
    if (r < 0)
        return r;
    strv_consume(loaded, describe_loaded(&rec));
    image_rec_clear(&rec);
    return 0;
}

static int load_oci(image_store *s, load_src *src, char ***loaded, pr_error **err)
{
    manifest idx = {0};
    _cleanup_free_ char *what = xasprintf("%s: index.json", src->path);
    int r = manifest_parse(src->index_json, what, &idx, err);
    if (r < 0)
        return r;
    if (!idx.is_index) {
        manifest_clear(&idx);
        return pr_err(err, 0, "%s is not an image index", what);
    }
    /* A layout may list one manifest per platform directly: take the host's. */
    bool any_platform = false, any_host = false;
    for (size_t i = 0; i < idx.nmanifests; i++) {
        any_platform |= idx.manifests[i].os != NULL;
        any_host |= descriptor_is_host(&idx.manifests[i]);
    }
    if (any_platform && !any_host) {
        for (size_t i = 0; i < idx.nmanifests; i++)
            if (!idx.manifests[i].os) /* entries without a platform still count */
                any_host = true;
        if (!any_host) {
            r = index_pick_host(&idx, what, err);
            manifest_clear(&idx);
            return r;
        }
    }
    for (size_t i = 0; r == 0 && i < idx.nmanifests; i++) {
        const descriptor *d = &idx.manifests[i];
        if (d->os && !descriptor_is_host(d)) {
            pr_debug("%s: skipping %s for %s/%s", src->path, d->digest, d->os, d->arch);
            continue;
        }
        r = load_oci_entry(s, src, d, loaded, err);
    }
    manifest_clear(&idx);
    return r;
}

/* docker-archive layers are whatever docker wrote: plain tar, or compressed by newer ones. */
static const char *sniff_layer_type(image_store *s, const char *digest)
{
    _cleanup_close_ int fd = store_open_blob(s, digest, NULL);
    unsigned char magic[4] = {0};
    if (fd >= 0 && read(fd, magic, sizeof(magic)) == (ssize_t)sizeof(magic)) {
        if (magic[0] == 0x1f && magic[1] == 0x8b)
            return MT_OCI_LAYER_GZ;
        if (magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f && magic[3] == 0xfd)
            return MT_OCI_LAYER_ZST;
    }
    return MT_OCI_LAYER;
}

static int load_docker_image(image_store *s, load_src *src, yajl_val item, char ***loaded,
                             pr_error **err)
{
    const char *config = NULL;
    _cleanup_strv_ char **layers = NULL, **tags = NULL;
    int r;
    if ((r = json_get_str(item, "Config", "manifest.json", &config, err)) < 0 ||
        (r = json_get_strv(item, "Layers", "manifest.json", &layers, err)) < 0 ||
        (r = json_get_strv(item, "RepoTags", "manifest.json", &tags, err)) < 0)
        return r;
    if (!config)
        return pr_err(err, 0, "%s: manifest.json: an image without Config", src->path);
    if (strv_length(layers) > MANIFEST_MAX_LAYERS)
        return pr_err(err, 0, "%s: manifest.json: %zu layers, more than the limit of %d", src->path,
                      strv_length(layers), MANIFEST_MAX_LAYERS);
    char config_digest[DIGEST_STR_LEN + 1];
    int64_t config_size;
    if ((r = src_blob(s, src, config, NULL, -1, config_digest, err)) < 0 ||
        (r = store_blob_size(s, config_digest, &config_size, err)) < 0)
        return r;
    _cleanup_gen_ yajl_gen g = json_gen_new(false);
    jg_map_open(g);
    jg_key_int(g, "schemaVersion", 2);
    jg_key_str(g, "mediaType", MT_OCI_MANIFEST);
    jg_key(g, "config");
    jg_map_open(g);
    jg_key_str(g, "mediaType", MT_OCI_CONFIG);
    jg_key_str(g, "digest", config_digest);
    jg_key_int(g, "size", config_size);
    jg_map_close(g);
    jg_key(g, "layers");
    jg_array_open(g);
    for (char **l = layers; l && *l; l++) {
        char digest[DIGEST_STR_LEN + 1];
        int64_t size;
        if ((r = src_blob(s, src, *l, NULL, -1, digest, err)) < 0 ||
            (r = store_blob_size(s, digest, &size, err)) < 0)
            return r;
        jg_map_open(g);
        jg_key_str(g, "mediaType", sniff_layer_type(s, digest));
        jg_key_str(g, "digest", digest);
        jg_key_int(g, "size", size);
        jg_map_close(g);
    }
    jg_array_close(g);
    jg_map_close(g);
    size_t len;
    const char *buf = jg_buf(g, &len);
    char manifest_digest[DIGEST_STR_LEN + 1];
    r = store_put_blob(s, buf, len, NULL, manifest_digest, err);
    if (r < 0)
        return r;
    _cleanup_strv_ char **names = xcalloc(strv_length(tags) + 1, sizeof(char *));
    size_t n = 0;
    for (char **t = tags; t && *t; t++)
        if (image_ref_normalize_string(*t, &names[n], NULL) == 0)
            n++;
        else
            pr_warning("%s: ignoring the unusable tag `%s`", src->path, *t);
    image_rec rec = {0};
    r = images_commit(s, manifest_digest, NULL, names, &rec, err);
    if (r < 0)
        return r;
    strv_consume(loaded, describe_loaded(&rec));
    image_rec_clear(&rec);
    return 0;
}

static int load_docker(image_store *s, load_src *src, char ***loaded, pr_error **err)
{
    _cleanup_json_ yajl_val root = NULL;
    _cleanup_free_ char *what = xasprintf("%s: manifest.json", src->path);
    int r = json_parse(src->manifest_json, what, &root, err);
    if (r < 0)
        return r;
    if (!YAJL_IS_ARRAY(root))
        return pr_err(err, 0, "%s: not a docker-archive manifest (want an array)", what);
    for (size_t i = 0; i < json_array_len(root); i++) {
        r = load_docker_image(s, src, json_array_at(root, i), loaded, err);
        if (r < 0)
            return r;
    }
    return 0;
}

/* A missing file is no error (the layout is the other kind); one over the limit is. */
static int read_dir_text(int dirfd, const char *dir, const char *name, char **out, pr_error **err)
{
    _cleanup_close_ int fd = open_in_root(dirfd, name, O_RDONLY | O_NONBLOCK, NULL);
    if (fd < 0)
        return errno == ENOENT ? 0 : pr_err(err, errno, "%s: open `%s`", dir, name);
    struct stat st;
    if (fstat(fd, &st) < 0)
        return pr_err(err, errno, "%s: stat `%s`", dir, name);
    if (!S_ISREG(st.st_mode))
        return pr_err(err, 0, "%s: `%s` is not a regular file", dir, name);
    int r = read_fd_max(fd, name, MANIFEST_MAX_SIZE, out, NULL, err);
    return r < 0 ? pr_err_prefix(err, "%s", dir) : 0;
}

int images_load(image_store *s, const char *path, char ***loaded, pr_error **err)
{
    load_src src = {.path = path, .dirfd = -1};
    int r = 0;
    *loaded = xcalloc(1, sizeof(char *));
    store_clear_stale_staging(s);
    bool is_stdin = streq(path, "-");
    _cleanup_close_ int fd = is_stdin ? dup(STDIN_FILENO) : open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0)
        return pr_err(err, errno, "open `%s`", path);
    if (is_stdin)
        src.path = "standard input";
    if (S_ISDIR(st.st_mode)) {
        src.dirfd = steal_fd(&fd);
        if ((r = read_dir_text(src.dirfd, path, "index.json", &src.index_json, err)) == 0)
            r = read_dir_text(src.dirfd, path, "manifest.json", &src.manifest_json, err);
    } else {
        r = ingest_archive(s, fd, &src, err);
    }
    if (r == 0) {
        if (src.manifest_json)
            r = load_docker(s, &src, loaded, err);
        else if (src.index_json)
            r = load_oci(s, &src, loaded, err);
        else
            r = pr_err(err, 0,
                       "%s: neither an OCI layout (index.json) nor a docker-archive "
                       "(manifest.json)",
                       path);
    }
    if (r == 0 && !(*loaded)[0])
        r = pr_err(err, 0, "%s: no image in it", path);
    load_src_clear(&src);
    if (r < 0)
        store_gc_if_alone(s);
    return r;
}
