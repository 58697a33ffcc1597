/* SPDX-License-Identifier: Apache-2.0 */
#include "store.h"
#include "fs.h"
#include "json.h"
#include "log.h"
#include "ref.h"
#include "util.h"

#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>

static const char *const store_dirs[] = {"blobs",   "blobs/sha256", "layers",
                                         "diffids", "tmp",          "containers"};

int store_open(const char *root, bool exclusive, image_store **out, pr_error **err)
{
    if (!root)
        root = getenv("PODRUN_IMAGES_ROOT");
    if (!root || !*root)
        root = IMAGES_DEFAULT_ROOT;
    int r = mkdir_p(root, 0700, err);
    if (r < 0)
        return r;
    _cleanup_close_ int rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (rootfd < 0)
        return pr_err(err, errno, "open image store `%s`", root);
    for (size_t i = 0; i < ARRAY_SIZE(store_dirs); i++)
        if (mkdirat(rootfd, store_dirs[i], 0700) < 0 && errno != EEXIST)
            return pr_err(err, errno, "create `%s/%s`", root, store_dirs[i]);
    _cleanup_free_ char *lock = xasprintf("%s/store.lock", root);
    int lockfd = lock_path(lock, exclusive, err);
    if (lockfd < 0)
        return lockfd;
    image_store *s = xcalloc(1, sizeof(*s));
    s->root = xstrdup(root);
    s->rootfd = steal_fd(&rootfd);
    s->lockfd = lockfd;
    s->exclusive = exclusive;
    *out = s;
    return 0;
}

void store_close(image_store *s)
{
    close(s->lockfd);
    close(s->rootfd);
    free(s->root);
    free(s);
}

char *store_blob_path(image_store *s, const char *digest)
{
    return xasprintf("%s/blobs/sha256/%s", s->root, digest_hex(digest));
}

char *store_layer_path(image_store *s, const char *digest)
{
    return xasprintf("%s/layers/%s", s->root, digest_hex(digest));
}

/* --- staging --- */

int store_lock_staging(int fd, const char *what, pr_error **err)
{
    while (flock(fd, LOCK_EX) < 0)
        if (errno != EINTR)
            return pr_err(err, errno, "lock `%s`", what);
    return 0;
}

/* The writer's pid in a staging name KIND-PID-..., or 0. */
static pid_t staging_pid(const char *name)
{
    const char *p = strchr(name, '-');
    if (!p || !isdigit((unsigned char)p[1]))
        return 0;
    char *end;
    long v = strtol(p + 1, &end, 10);
    return *end == '-' && v > 0 && v <= INT_MAX ? (pid_t)v : 0;
}

/* Whether the writer of a staging entry is dead. Its pid, while it lives, covers the moment
 * between making the entry and locking it; the lock covers a writer in another pid namespace
 * and a pid reused by a process that is not a writer. */
static bool staging_is_stale(int dirfd, const char *name)
{
    pid_t pid = staging_pid(name);
    if (pid > 0 && (kill(pid, 0) == 0 || errno == EPERM))
        return false;
    _cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return false;
    return flock(fd, LOCK_EX | LOCK_NB) == 0;
}

void store_clear_stale_staging(image_store *s)
{
    s->staging_cleared = true;
    int fd = openat(s->rootfd, "tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return;
    _cleanup_dir_ DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return;
    }
    for (struct dirent *de; (de = readdir(d));) {
        if (streq(de->d_name, ".") || streq(de->d_name, "..") || !staging_is_stale(fd, de->d_name))
            continue;
        int r = rm_rf_at(fd, de->d_name);
        if (r < 0)
            pr_debug("images: cannot remove stale `%s/tmp/%s`: %s", s->root, de->d_name,
                     strerror(-r));
    }
}

/* --- blob writer --- */

struct blob_writer {
    image_store *store;
    digester *dg;
    char *expected;
    int64_t expected_size;
    int64_t size;
    int fd;
    char tmpname[64]; /* relative to the store root */
    bool committed;
};

int blob_writer_new(image_store *s, const char *expected_digest, int64_t expected_size,
                    blob_writer **out, pr_error **err)
{
    if (expected_digest) {
        int r = digest_check(expected_digest, "blob", err);
        if (r < 0)
            return r;
    }
    blob_writer *w = xcalloc(1, sizeof(*w));
    w->store = s;
    w->expected = expected_digest ? xstrdup(expected_digest) : NULL;
    w->expected_size = expected_size;
    w->fd = -1;
    if (!s->staging_cleared)
        store_clear_stale_staging(s);
    for (int attempt = 0; attempt < 100 && w->fd < 0; attempt++) {
        snprintf(w->tmpname, sizeof(w->tmpname), "tmp/blob-%d-%08lx", (int)getpid(),
                 (unsigned long)random());
        w->fd = openat(s->rootfd, w->tmpname, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (w->fd < 0 && errno != EEXIST) {
            int e = errno;
            free(w->expected);
            free(w);
            return pr_err(err, e, "create a temp blob in `%s/tmp`", s->root);
        }
    }
    int r = w->fd < 0 ? pr_err(err, EEXIST, "create a temp blob in `%s/tmp`", s->root)
                      : store_lock_staging(w->fd, w->tmpname, err);
    if (r < 0) {
        if (w->fd >= 0) {
            unlinkat(s->rootfd, w->tmpname, 0);
            close(w->fd);
        }
        free(w->expected);
        free(w);
        return r;
    }
    w->dg = digester_new();
    *out = w;
    return 0;
}

int blob_writer_write(blob_writer *w, const void *data, size_t len, pr_error **err)
{
    if (w->expected_size >= 0 && w->size + (int64_t)len > w->expected_size)
        return pr_err(err, 0, "blob %s: size mismatch: more data than its declared %lld bytes",
                      w->expected ? w->expected : "", (long long)w->expected_size);
    digester_update(w->dg, data, len);
    const char *p = data;
    while (len > 0) {
        ssize_t n = write(w->fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return pr_err(err, errno, "write blob to `%s/%s`", w->store->root, w->tmpname);
        p += n;
        len -= (size_t)n;
        w->size += n;
    }
    return 0;
}

int blob_writer_restart(blob_writer *w, pr_error **err)
{
    char scratch[DIGEST_STR_LEN + 1];
    digester_final(w->dg, scratch); /* resets it */
    w->size = 0;
    if (ftruncate(w->fd, 0) < 0 || lseek(w->fd, 0, SEEK_SET) < 0)
        return pr_err(err, errno, "truncate `%s/%s`", w->store->root, w->tmpname);
    return 0;
}

int64_t blob_writer_size(const blob_writer *w)
{
    return w->size;
}

int blob_writer_commit(blob_writer *w, char digest_out[DIGEST_STR_LEN + 1], pr_error **err)
{
    char got[DIGEST_STR_LEN + 1];
    digester_final(w->dg, got);
    if (w->expected && !streq(got, w->expected))
        return pr_err(err, 0, "blob %s: digest mismatch: the data hashes to %s", w->expected, got);
    if (w->expected_size >= 0 && w->size != w->expected_size)
        return pr_err(err, 0, "blob %s: size mismatch: got %lld bytes, expected %lld", got,
                      (long long)w->size, (long long)w->expected_size);
    if (fdatasync(w->fd) < 0)
        return pr_err(err, errno, "sync `%s/%s`", w->store->root, w->tmpname);
    if (fchmod(w->fd, 0644) < 0)
        return pr_err(err, errno, "chmod `%s/%s`", w->store->root, w->tmpname);
    _cleanup_free_ char *dest = xasprintf("blobs/sha256/%s", digest_hex(got));
    if (renameat(w->store->rootfd, w->tmpname, w->store->rootfd, dest) < 0)
        return pr_err(err, errno, "rename blob into `%s/%s`", w->store->root, dest);
    w->committed = true;
    if (digest_out)
        memcpy(digest_out, got, sizeof(got));
    return 0;
}

void blob_writer_free(blob_writer *w)
{
    if (!w->committed)
        unlinkat(w->store->rootfd, w->tmpname, 0);
    close(w->fd);
    digester_free(w->dg);
    free(w->expected);
    free(w);
}

int store_put_blob(image_store *s, const void *data, size_t len, const char *expected_digest,
                   char digest_out[DIGEST_STR_LEN + 1], pr_error **err)
{
    _cleanup_blob_writer_ blob_writer *w = NULL;
    int r = blob_writer_new(s, expected_digest, -1, &w, err);
    if (r < 0)
        return r;
    r = blob_writer_write(w, data, len, err);
    if (r < 0)
        return r;
    return blob_writer_commit(w, digest_out, err);
}

int store_put_blob_fd(image_store *s, int fd, const char *expected_digest, int64_t expected_size,
                      char digest_out[DIGEST_STR_LEN + 1], pr_error **err)
{
    _cleanup_blob_writer_ blob_writer *w = NULL;
    int r = blob_writer_new(s, expected_digest, expected_size, &w, err);
    if (r < 0)
        return r;
    _cleanup_free_ char *buf = xmalloc(1 << 20);
    for (;;) {
        ssize_t n = read(fd, buf, 1 << 20);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return pr_err(err, errno, "read blob %s", expected_digest ? expected_digest : "");
        if (n == 0)
            break;
        r = blob_writer_write(w, buf, (size_t)n, err);
        if (r < 0)
            return r;
    }
    return blob_writer_commit(w, digest_out, err);
}

bool store_has_blob(image_store *s, const char *digest)
{
    if (!digest_is_valid(digest))
        return false;
    _cleanup_free_ char *rel = xasprintf("blobs/sha256/%s", digest_hex(digest));
    return faccessat(s->rootfd, rel, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

int store_open_blob(image_store *s, const char *digest, pr_error **err)
{
    int r = digest_check(digest, "blob", err);
    if (r < 0)
        return r;
    _cleanup_free_ char *rel = xasprintf("blobs/sha256/%s", digest_hex(digest));
    int fd = openat(s->rootfd, rel, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return pr_err(err, errno, "open blob %s in `%s`", digest, s->root);
    return fd;
}

int store_blob_size(image_store *s, const char *digest, int64_t *size, pr_error **err)
{
    _cleanup_close_ int fd = store_open_blob(s, digest, err);
    if (fd < 0)
        return fd;
    struct stat st;
    if (fstat(fd, &st) < 0)
        return pr_err(err, errno, "stat blob %s", digest);
    *size = st.st_size;
    return 0;
}

int store_read_blob(image_store *s, const char *digest, size_t max, char **out, size_t *len,
                    pr_error **err)
{
    _cleanup_close_ int fd = store_open_blob(s, digest, err);
    if (fd < 0)
        return fd;
    struct stat st;
    if (fstat(fd, &st) < 0)
        return pr_err(err, errno, "stat blob %s", digest);
    if ((size_t)st.st_size > max)
        return pr_err(err, EFBIG, "blob %s is %lld bytes, more than a manifest or config may be",
                      digest, (long long)st.st_size);
    return read_fd_max(fd, digest, max, out, len, err);
}

/* --- the index --- */

void image_rec_clear(image_rec *r)
{
    free(r->manifest);
    free(r->config);
    free(r->index);
    free(r->created);
    strv_freep(&r->names);
    strv_freep(&r->layers);
    strv_freep(&r->media_types);
    memset(r, 0, sizeof(*r));
}

void image_list_free(image_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        image_rec_clear(&l->v[i]);
    free(l->v);
    free(l);
}

static char **strv_new_empty(void)
{
    return xcalloc(1, sizeof(char *));
}

static char **strv_copy(char *const *v)
{
    size_t n = v ? strv_length(v) : 0;
    char **c = xcalloc(n + 1, sizeof(char *));
    for (size_t i = 0; i < n; i++)
        c[i] = xstrdup(v[i]);
    return c;
}

static bool strv_contains(char *const *v, const char *s)
{
    for (; v && *v; v++)
        if (streq(*v, s))
            return true;
    return false;
}

static void strv_remove(char **v, const char *s)
{
    size_t j = 0;
    for (size_t i = 0; v && v[i]; i++) {
        if (streq(v[i], s))
            free(v[i]);
        else
            v[j++] = v[i];
    }
    if (v)
        v[j] = NULL;
}

static void image_rec_copy(image_rec *dst, const image_rec *src)
{
    dst->manifest = xstrdup(src->manifest);
    dst->config = xstrdup(src->config);
    dst->index = src->index ? xstrdup(src->index) : NULL;
    dst->created = src->created ? xstrdup(src->created) : NULL;
    dst->names = strv_copy(src->names);
    dst->layers = strv_copy(src->layers);
    dst->media_types = strv_copy(src->media_types);
    dst->size = src->size;
}

static int parse_rec(yajl_val v, image_rec *r, pr_error **err)
{
    const char *manifest = NULL, *config = NULL, *index = NULL, *created = NULL;
    int ret;
    if ((ret = json_get_str(v, "manifest", "images.json", &manifest, err)) < 0 ||
        (ret = json_get_str(v, "config", "images.json", &config, err)) < 0 ||
        (ret = json_get_str(v, "index", "images.json", &index, err)) < 0 ||
        (ret = json_get_str(v, "created", "images.json", &created, err)) < 0 ||
        (ret = json_get_int64(v, "size", "images.json", &r->size, err)) < 0 ||
        (ret = json_get_strv(v, "names", "images.json", &r->names, err)) < 0 ||
        (ret = json_get_strv(v, "layers", "images.json", &r->layers, err)) < 0 ||
        (ret = json_get_strv(v, "mediaTypes", "images.json", &r->media_types, err)) < 0)
        return ret;
    if (!digest_is_valid(manifest) || !digest_is_valid(config))
        return pr_err(err, 0, "images.json: an image without valid manifest and config digests");
    for (char **l = r->layers; l && *l; l++)
        if (!digest_is_valid(*l))
            return pr_err(err, 0, "images.json: bad layer digest `%s`", *l);
    r->manifest = xstrdup(manifest);
    r->config = xstrdup(config);
    r->index = index ? xstrdup(index) : NULL;
    r->created = created ? xstrdup(created) : NULL;
    if (!r->names)
        r->names = strv_new_empty();
    if (!r->layers)
        r->layers = strv_new_empty();
    if (!r->media_types)
        r->media_types = strv_new_empty();
    return 0;
}

static int read_index(image_store *s, image_list **out, pr_error **err)
{
    image_list *l = xcalloc(1, sizeof(*l));
    _cleanup_free_ char *text = NULL;
    int r = read_file_at(s->rootfd, "images.json", &text, NULL, NULL);
    if (r < 0) {
        if (errno != ENOENT) {
            image_list_free(l);
            return pr_err(err, errno, "read `%s/images.json`", s->root);
        }
        *out = l;
        return 0;
    }
    _cleanup_json_ yajl_val root = NULL;
    yajl_val arr = NULL;
    if ((r = json_parse(text, "images.json", &root, err)) < 0 ||
        (r = json_get_array(root, "images", "images.json", &arr, err)) < 0) {
        image_list_free(l);
        return r;
    }
    size_t n = json_array_len(arr);
    l->v = xcalloc(n ? n : 1, sizeof(image_rec));
    for (size_t i = 0; i < n; i++) {
        r = parse_rec(json_array_at(arr, i), &l->v[l->n], err);
        if (r < 0) {
            image_rec_clear(&l->v[l->n]);
            image_list_free(l);
            return r;
        }
        l->n++;
    }
    *out = l;
    return 0;
}

static int write_index(image_store *s, const image_list *l, pr_error **err)
{
    _cleanup_gen_ yajl_gen g = json_gen_new(true);
    jg_map_open(g);
    jg_key(g, "images");
    jg_array_open(g);
    for (size_t i = 0; i < l->n; i++) {
        const image_rec *r = &l->v[i];
        jg_map_open(g);
        jg_key_str(g, "manifest", r->manifest);
        jg_key_str(g, "config", r->config);
        jg_key_str(g, "index", r->index);
        jg_key_str(g, "created", r->created);
        jg_key_int(g, "size", r->size);
        jg_key_strv(g, "names", r->names);
        jg_key_strv(g, "layers", r->layers);
        jg_key_strv(g, "mediaTypes", r->media_types);
        jg_map_close(g);
    }
    jg_array_close(g);
    jg_map_close(g);
    size_t len;
    const char *buf = jg_buf(g, &len);
    _cleanup_free_ char *path = xasprintf("%s/images.json", s->root);
    return write_file_atomic(path, buf, len, 0600, err);
}

static int lock_index(image_store *s, pr_error **err)
{
    _cleanup_free_ char *path = xasprintf("%s/index.lock", s->root);
    return lock_path(path, true, err);
}

int store_list_images(image_store *s, image_list **out, pr_error **err)
{
    return read_index(s, out, err);
}

int store_add_image(image_store *s, const image_rec *rec, pr_error **err)
{
    _cleanup_close_ int lock = lock_index(s, err);
    if (lock < 0)
        return lock;
    _cleanup_image_list_ image_list *l = NULL;
    int r = read_index(s, &l, err);
    if (r < 0)
        return r;
    image_rec *same = NULL;
    for (size_t i = 0; i < l->n; i++) {
        if (streq(l->v[i].manifest, rec->manifest)) {
            same = &l->v[i];
            continue;
        }
        for (char **n = rec->names; n && *n; n++)
            strv_remove(l->v[i].names, *n);
    }
    if (same) {
        for (char **n = rec->names; n && *n; n++)
            if (!strv_contains(same->names, *n))
                strv_extend(&same->names, *n);
        if (rec->index && !same->index)
            same->index = xstrdup(rec->index);
    } else {
        l->v = xrealloc(l->v, (l->n + 1) * sizeof(image_rec));
        image_rec_copy(&l->v[l->n++], rec);
    }
    return write_index(s, l, err);
}

static bool is_hex_prefix(const char *s)
{
    size_t n = strlen(s);
    if (n < 3 || n > DIGEST_HEX_LEN)
        return false;
    return strspn(s, "0123456789abcdef") == n;
}

int image_list_find(const image_list *l, const char *ref, pr_error **err)
{
    /* An ID or a prefix of one (sha256: optional). */
    const char *hex = has_prefix(ref, "sha256:") ? ref + 7 : ref;
    if (is_hex_prefix(hex)) {
        int found = -1;
        for (size_t i = 0; i < l->n; i++) {
            if (!has_prefix(digest_hex(l->v[i].config), hex))
                continue;
            if (found >= 0 && !streq(l->v[found].config, l->v[i].config))
                return pr_err(err, 0, "image ID prefix `%s` is ambiguous", ref);
            found = (int)i;
        }
        if (found >= 0)
            return found;
    }
    _cleanup_free_ char *norm = NULL;
    if (image_ref_normalize_string(ref, &norm, NULL) == 0) {
        for (size_t i = 0; i < l->n; i++)
            if (strv_contains(l->v[i].names, ref) || strv_contains(l->v[i].names, norm))
                return (int)i;
    }
    /* A short name matches any registry's image of that name, if only one has it. */
    if (image_ref_is_short(ref)) {
        _cleanup_free_ char *suffix = xasprintf("/%s%s", ref, strchr(ref, ':') ? "" : ":latest");
        int found = -1;
        for (size_t i = 0; i < l->n; i++)
            for (char **n = l->v[i].names; *n; n++) {
                size_t nl = strlen(*n), sl = strlen(suffix);
                if (nl > sl && streq(*n + nl - sl, suffix)) {
                    if (found >= 0 && found != (int)i)
                        return pr_err(err, 0, "short name `%s` matches several images", ref);
                    found = (int)i;
                }
            }
        if (found >= 0)
            return found;
    }
    return pr_err(err, ENOENT, "image `%s` is not in the store", ref);
}

int store_find_image(image_store *s, const char *ref, image_rec *out, pr_error **err)
{
    _cleanup_image_list_ image_list *l = NULL;
    int r = read_index(s, &l, err);
    if (r < 0)
        return r;
    int i = image_list_find(l, ref, err);
    if (i < 0)
        return i;
    image_rec_copy(out, &l->v[i]);
    return 0;
}

int store_tag_image(image_store *s, const char *src, const char *dest, pr_error **err)
{
    _cleanup_free_ char *name = NULL;
    int r = image_ref_normalize_string(dest, &name, err);
    if (r < 0)
        return r;
    if (strchr(name, '@'))
        return pr_err(err, 0, "tag `%s`: a tag cannot contain a digest", dest);
    image_rec rec = {0};
    r = store_find_image(s, src, &rec, err);
    if (r < 0)
        return r;
    strv_freep(&rec.names);
    rec.names = strv_new_empty();
    strv_extend(&rec.names, name);
    r = store_add_image(s, &rec, err);
    image_rec_clear(&rec);
    return r;
}

int store_remove_image(image_store *s, const char *ref, bool force, char **removed_id,
                       pr_error **err)
{
    _cleanup_close_ int lock = lock_index(s, err);
    if (lock < 0)
        return lock;
    _cleanup_image_list_ image_list *l = NULL;
    int r = read_index(s, &l, err);
    if (r < 0)
        return r;
    int i = image_list_find(l, ref, err);
    if (i < 0)
        return i;
    image_rec *rec = &l->v[i];
    /* By name: untag; the image goes with its last name. By ID: the image goes, and if it
     * still has several names that needs --force, as with docker. */
    _cleanup_free_ char *norm = NULL;
    bool by_name = image_ref_normalize_string(ref, &norm, NULL) == 0 &&
                   (strv_contains(rec->names, ref) || strv_contains(rec->names, norm));
    if (!by_name && image_ref_is_short(ref) && !has_prefix(digest_hex(rec->config), ref)) {
        /* A short name resolved by suffix: remove the full name it matched. */
        _cleanup_free_ char *suffix = xasprintf("/%s%s", ref, strchr(ref, ':') ? "" : ":latest");
        for (char **n = rec->names; *n; n++)
            if (strlen(*n) > strlen(suffix) && streq(*n + strlen(*n) - strlen(suffix), suffix)) {
                free(norm);
                norm = xstrdup(*n);
                by_name = true;
                break;
            }
    }
    if (by_name) {
        strv_remove(rec->names, strv_contains(rec->names, ref) ? ref : norm);
        if (rec->names[0]) {
            *removed_id = NULL;
            return write_index(s, l, err);
        }
    } else if (strv_length(rec->names) > 1 && !force) {
        return pr_err(err, 0,
                      "image %s has several names (%s, ...): remove them by name, or use --force",
                      rec->config, rec->names[0]);
    }
    *removed_id = xstrdup(rec->config);
    image_rec_clear(rec);
    memmove(&l->v[i], &l->v[i + 1], (l->n - (size_t)i - 1) * sizeof(image_rec));
    l->n--;
    return write_index(s, l, err);
}

/* --- garbage collection --- */

static void strv_add_unique(char ***v, const char *s)
{
    if (s && !strv_contains(*v, s))
        strv_extend(v, s);
}

static int collect_container_refs(image_store *s, char ***keep, pr_error **err)
{
    int fd = openat(s->rootfd, "containers", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? 0 : pr_err(err, errno, "open `%s/containers`", s->root);
    _cleanup_dir_ DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return pr_err(err, errno, "open `%s/containers`", s->root);
    }
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        _cleanup_free_ char *text = NULL;
        if (read_file_at(fd, de->d_name, &text, NULL, NULL) < 0)
            continue;
        for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n"))
            if (digest_is_valid(line))
                strv_add_unique(keep, line);
    }
    return 0;
}

/* Removes the entries of dir (relative to the root) whose name is not the hex of a kept
 * digest. */
static int sweep_dir(image_store *s, const char *dir, char *const *keep, bool all, unsigned *count,
                     uint64_t *bytes, pr_error **err)
{
    int fd = openat(s->rootfd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return pr_err(err, errno, "open `%s/%s`", s->root, dir);
    _cleanup_dir_ DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return pr_err(err, errno, "open `%s/%s`", s->root, dir);
    }
    struct dirent *de;
    while ((de = readdir(d))) {
        if (streq(de->d_name, ".") || streq(de->d_name, ".."))
            continue;
        if (!all) {
            _cleanup_free_ char *digest = xasprintf("sha256:%s", de->d_name);
            if (strv_contains(keep, digest))
                continue;
        }
        struct stat st;
        if (fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode))
            *bytes += (uint64_t)st.st_size;
        int r = rm_rf_at(fd, de->d_name);
        if (r < 0)
            return pr_err(err, -r, "remove `%s/%s/%s`", s->root, dir, de->d_name);
        (*count)++;
    }
    return 0;
}

int store_gc(image_store *s, unsigned *blobs, unsigned *layers, uint64_t *bytes, pr_error **err)
{
    if (!s->exclusive)
        return pr_err(err, 0,
                      "internal error: garbage collection needs the store locked exclusive");
    _cleanup_image_list_ image_list *l = NULL;
    int r = read_index(s, &l, err);
    if (r < 0)
        return r;
    _cleanup_strv_ char **keep = strv_new_empty();
    for (size_t i = 0; i < l->n; i++) {
        strv_add_unique(&keep, l->v[i].manifest);
        strv_add_unique(&keep, l->v[i].config);
        strv_add_unique(&keep, l->v[i].index);
        for (char **x = l->v[i].layers; *x; x++)
            strv_add_unique(&keep, *x);
    }
    r = collect_container_refs(s, &keep, err);
    if (r < 0)
        return r;
    unsigned tmp = 0;
    uint64_t b = 0;
    *blobs = *layers = 0;
    if ((r = sweep_dir(s, "blobs/sha256", keep, false, blobs, &b, err)) < 0 ||
        (r = sweep_dir(s, "layers", keep, false, layers, &b, err)) < 0 ||
        (r = sweep_dir(s, "diffids", keep, false, &tmp, &b, err)) < 0 ||
        (r = sweep_dir(s, "tmp", keep, true, &tmp, &b, err)) < 0)
        return r;
    *bytes = b;
    return 0;
}

void store_gc_if_alone(image_store *s)
{
    unsigned blobs = 0, layers = 0;
    uint64_t bytes = 0;
    if (s->exclusive) {
        store_gc(s, &blobs, &layers, &bytes, NULL);
        return;
    }
    if (flock(s->lockfd, LOCK_EX | LOCK_NB) < 0) {
        /* A failed conversion may have dropped the shared lock: take it back. */
        while (flock(s->lockfd, LOCK_SH) < 0 && errno == EINTR)
            ;
        return;
    }
    s->exclusive = true;
    store_gc(s, &blobs, &layers, &bytes, NULL);
    s->exclusive = false;
    while (flock(s->lockfd, LOCK_SH) < 0 && errno == EINTR)
        ;
    pr_debug("after the failure: removed %u unreferenced blobs and %u layers", blobs, layers);
}

bool store_container_id_is_valid(const char *id)
{
    size_t n = strlen(id);
    if (n == 0 || n > STORE_CONTAINER_ID_MAX || id[0] == '.')
        return false;
    for (const char *c = id; *c; c++)
        if (*c == '/' || (unsigned char)*c <= ' ' || *c == 0x7f)
            return false;
    return true;
}

#define DIR_PREFIX "dir "

int store_ref_layers(image_store *s, const char *container_id, const char *dir, char *const *layers,
                     pr_error **err)
{
    if (!store_container_id_is_valid(container_id))
        return pr_err(err, 0, "invalid container id `%s`", container_id);
    if (strchr(dir, '\n'))
        return pr_err(err, 0, "container directory `%s` has a newline", dir);
    size_t cap = strlen(DIR_PREFIX) + strlen(dir) + 2;
    for (char *const *l = layers; *l; l++)
        cap += strlen(*l) + 1;
    _cleanup_free_ char *text = xmalloc(cap);
    strcpy(text, DIR_PREFIX);
    strcat(text, dir);
    strcat(text, "\n");
    for (char *const *l = layers; *l; l++) {
        strcat(text, *l);
        strcat(text, "\n");
    }
    /* O_EXCL: an id already in use keeps its record (and the mount it stands for). */
    _cleanup_free_ char *rel = xasprintf("containers/%s", container_id);
    _cleanup_close_ int fd =
        openat(s->rootfd, rel, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0 && errno == EEXIST) {
        _cleanup_free_ char *other = NULL;
        store_container_dir(s, container_id, &other, NULL);
        return pr_err_code(err, EEXIST, "container id `%s` already has an image mount%s%s%s",
                           container_id, other ? " at `" : "", other ? other : "",
                           other ? "`" : "");
    }
    if (fd < 0)
        return pr_err(err, errno, "create `%s/%s`", s->root, rel);
    size_t len = strlen(text);
    ssize_t w = write(fd, text, len);
    if (w != (ssize_t)len || fsync(fd) < 0) {
        int e = w < 0 ? errno : EIO;
        unlinkat(s->rootfd, rel, 0);
        return pr_err(err, e, "write `%s/%s`", s->root, rel);
    }
    return 0;
}

int store_container_dir(image_store *s, const char *container_id, char **dir, pr_error **err)
{
    *dir = NULL;
    if (!store_container_id_is_valid(container_id))
        return pr_err(err, 0, "invalid container id `%s`", container_id);
    _cleanup_free_ char *rel = xasprintf("containers/%s", container_id);
    _cleanup_free_ char *text = NULL;
    int r = read_file_at(s->rootfd, rel, &text, NULL, NULL);
    if (r < 0)
        return pr_err(err, -r, "container `%s` has no image mount", container_id);
    if (has_prefix(text, DIR_PREFIX)) {
        char *nl = strchr(text, '\n');
        *dir = strndup(text + strlen(DIR_PREFIX),
                       nl ? (size_t)(nl - text) - strlen(DIR_PREFIX) : strlen(text));
    }
    return 0;
}

int store_unref_layers(image_store *s, const char *container_id, pr_error **err)
{
    if (!store_container_id_is_valid(container_id))
        return pr_err(err, 0, "invalid container id `%s`", container_id);
    _cleanup_free_ char *rel = xasprintf("containers/%s", container_id);
    if (unlinkat(s->rootfd, rel, 0) < 0 && errno != ENOENT)
        return pr_err(err, errno, "remove `%s/%s`", s->root, rel);
    return 0;
}
