/* SPDX-License-Identifier: Apache-2.0 */
/* podrun save: stored images as an oci-archive (an OCI layout in a tar), the names in each
 * index entry's annotations so that podrun, skopeo, podman and containerd all read them back. */
#include "fs.h"
#include "image.h"
#include "json.h"
#include "ref.h"
#include "util.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>

static int add_entry(struct archive *a, const char *name, const void *data, size_t len,
                     const char *what, pr_error **err)
{
    struct archive_entry *e = archive_entry_new();
    archive_entry_set_pathname(e, name);
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_size(e, (la_int64_t)len);
    int r = archive_write_header(a, e);
    archive_entry_free(e);
    if (r != ARCHIVE_OK || (len && archive_write_data(a, data, len) != (la_ssize_t)len))
        return pr_err(err, 0, "%s: write `%s`: %s", what, name, archive_error_string(a));
    return 0;
}

static int add_dir(struct archive *a, const char *name, const char *what, pr_error **err)
{
    struct archive_entry *e = archive_entry_new();
    archive_entry_set_pathname(e, name);
    archive_entry_set_filetype(e, AE_IFDIR);
    archive_entry_set_perm(e, 0755);
    int r = archive_write_header(a, e);
    archive_entry_free(e);
    return r == ARCHIVE_OK
               ? 0
               : pr_err(err, 0, "%s: write `%s`: %s", what, name, archive_error_string(a));
}

static int add_blob(image_store *s, struct archive *a, const char *digest, char ***done,
                    const char *what, pr_error **err)
{
    for (char **d = *done; *d; d++)
        if (streq(*d, digest))
            return 0;
    size_t n = strv_length(*done);
    *done = xrealloc(*done, (n + 2) * sizeof(char *));
    (*done)[n] = xstrdup(digest);
    (*done)[n + 1] = NULL;

    _cleanup_close_ int fd = store_open_blob(s, digest, err);
    if (fd < 0)
        return fd;
    struct stat st;
    if (fstat(fd, &st) < 0)
        return pr_err(err, errno, "stat blob %s", digest);
    _cleanup_free_ char *name = xasprintf("blobs/sha256/%s", digest_hex(digest));
    struct archive_entry *e = archive_entry_new();
    archive_entry_set_pathname(e, name);
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_size(e, st.st_size);
    int r = archive_write_header(a, e);
    archive_entry_free(e);
    if (r != ARCHIVE_OK)
        return pr_err(err, 0, "%s: write `%s`: %s", what, name, archive_error_string(a));
    _cleanup_free_ char *buf = xmalloc(1 << 20);
    for (;;) {
        ssize_t got = read(fd, buf, 1 << 20);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            return pr_err(err, errno, "read blob %s", digest);
        if (got == 0)
            break;
        if (archive_write_data(a, buf, (size_t)got) != got)
            return pr_err(err, 0, "%s: write `%s`: %s", what, name, archive_error_string(a));
    }
    return 0;
}

static void gen_index_entry(yajl_gen g, image_store *s, const image_rec *rec, const char *name)
{
    int64_t size = 0;
    store_blob_size(s, rec->manifest, &size, NULL);
    jg_map_open(g);
    jg_key_str(g, "mediaType", MT_OCI_MANIFEST);
    jg_key_str(g, "digest", rec->manifest);
    jg_key_int(g, "size", size);
    if (name) {
        jg_key(g, "annotations");
        jg_map_open(g);
        jg_key_str(g, "io.containerd.image.name", name);
        /* The OCI annotation carries the tag alone, as skopeo and podman expect. */
        image_ref ref;
        if (image_ref_parse(name, &ref, NULL) == 0) {
            if (ref.tag)
                jg_key_str(g, "org.opencontainers.image.ref.name", ref.tag);
            image_ref_clear(&ref);
        }
        jg_map_close(g);
    }
    jg_map_close(g);
}

static void archive_write_freep(struct archive **a)
{
    if (*a)
        archive_write_free(*a);
}

static int write_archive(image_store *s, image_rec *recs, char **names, size_t n, int fd,
                         const char *what, pr_error **err)
{
    __attribute__((cleanup(archive_write_freep))) struct archive *a = archive_write_new();
    archive_write_set_format_pax_restricted(a);
    if (archive_write_open_fd(a, fd) != ARCHIVE_OK)
        return pr_err(err, 0, "%s: %s", what, archive_error_string(a));
    _cleanup_gen_ yajl_gen g = json_gen_new(false);
    jg_map_open(g);
    jg_key_int(g, "schemaVersion", 2);
    jg_key_str(g, "mediaType", MT_OCI_INDEX);
    jg_key(g, "manifests");
    jg_array_open(g);
    for (size_t i = 0; i < n; i++)
        gen_index_entry(g, s, &recs[i], names[i]);
    jg_array_close(g);
    jg_map_close(g);
    size_t len;
    const char *index = jg_buf(g, &len);
    const char layout[] = "{\"imageLayoutVersion\":\"1.0.0\"}";
    int r;
    if ((r = add_entry(a, "oci-layout", layout, strlen(layout), what, err)) < 0 ||
        (r = add_entry(a, "index.json", index, len, what, err)) < 0 ||
        (r = add_dir(a, "blobs", what, err)) < 0 || (r = add_dir(a, "blobs/sha256", what, err)) < 0)
        return r;
    _cleanup_strv_ char **done = xcalloc(1, sizeof(char *));
    for (size_t i = 0; i < n; i++) {
        if ((r = add_blob(s, a, recs[i].manifest, &done, what, err)) < 0 ||
            (r = add_blob(s, a, recs[i].config, &done, what, err)) < 0)
            return r;
        for (char **l = recs[i].layers; *l; l++)
            if ((r = add_blob(s, a, *l, &done, what, err)) < 0)
                return r;
    }
    if (archive_write_close(a) != ARCHIVE_OK)
        return pr_err(err, 0, "%s: %s", what, archive_error_string(a));
    return 0;
}

static const char *file_kind(mode_t m)
{
    return S_ISDIR(m)    ? "directory"
           : S_ISLNK(m)  ? "symbolic link"
           : S_ISCHR(m)  ? "character device"
           : S_ISBLK(m)  ? "block device"
           : S_ISFIFO(m) ? "FIFO"
           : S_ISSOCK(m) ? "socket"
                         : "special file";
}

/* The archive replaces path by a rename, which would as well replace a device node (-o
 * /dev/null), a FIFO or a symlink (not its target): only a new name or a regular file may be
 * written. And never a file of the store itself (images.json), whatever the path. */
static int check_output(image_store *s, const char *path, pr_error **err)
{
    struct stat st;
    if (!*path)
        return pr_err(err, 0, "save: the output path is empty");
    if (lstat(path, &st) == 0) {
        if (!S_ISREG(st.st_mode))
            return pr_err(err, 0,
                          "save: `%s` is a %s: refusing to replace it (write to a new name or a "
                          "regular file)",
                          path, file_kind(st.st_mode));
    } else if (errno != ENOENT) {
        return pr_err(err, errno, "save: `%s`", path);
    }
    _cleanup_free_ char *copy = xstrdup(path);
    _cleanup_free_ char *dir = realpath(dirname(copy), NULL);
    if (!dir)
        return pr_err(err, errno, "save: the directory of `%s`", path);
    /* By identity, not by name: a bind mount of the store is the store too. */
    struct stat store;
    if (fstat(s->rootfd, &store) < 0)
        return pr_err(err, errno, "save: stat the image store `%s`", s->root);
    for (;;) {
        if (stat(dir, &st) == 0 && st.st_dev == store.st_dev && st.st_ino == store.st_ino)
            return pr_err(err, 0,
                          "save: `%s` is inside the image store `%s`: refusing to write there",
                          path, s->root);
        char *slash = strrchr(dir, '/');
        if (!slash || streq(dir, "/"))
            return 0;
        slash[slash == dir ? 1 : 0] = '\0';
    }
}

int images_save(image_store *s, char *const *refs, const char *path, pr_error **err)
{
    size_t n = strv_length(refs);
    if (n == 0)
        return pr_err(err, 0, "save: name at least one image");
    image_rec *recs = xcalloc(n, sizeof(image_rec));
    _cleanup_strv_ char **names = xcalloc(n + 1, sizeof(char *));
    int r = 0;
    size_t got = 0;
    for (; got < n; got++) {
        r = store_find_image(s, refs[got], &recs[got], err);
        if (r < 0)
            break;
        /* Save under the name the user gave, when it is one of the image's names. */
        _cleanup_free_ char *norm = NULL;
        if (image_ref_normalize_string(refs[got], &norm, NULL) == 0) {
            for (char **nm = recs[got].names; *nm; nm++)
                if (streq(*nm, norm))
                    names[got] = xstrdup(norm);
        }
        if (!names[got] && recs[got].names[0] &&
            !has_prefix(digest_hex(recs[got].config), refs[got]))
            names[got] = xstrdup(recs[got].names[0]);
    }
    if (r == 0)
        r = check_output(s, path, err);
    if (r == 0) {
        _cleanup_free_ char *tmp = xasprintf("%s.tmp.%d", path, (int)getpid());
        _cleanup_close_ int fd =
            open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd < 0) {
            r = pr_err(err, errno, "create `%s`", tmp);
        } else {
            /* names[] may hold NULLs in the middle: pass an array, not a vector. */
            char **name_arr = xcalloc(n, sizeof(char *));
            for (size_t i = 0; i < n; i++)
                name_arr[i] = names[i];
            r = write_archive(s, recs, name_arr, n, fd, path, err);
            free(name_arr);
            if (r == 0 && fsync(fd) < 0)
                r = pr_err(err, errno, "sync `%s`", tmp);
            /* Again just before the rename: the path may have changed while writing. */
            if (r == 0)
                r = check_output(s, path, err);
            if (r == 0 && rename(tmp, path) < 0)
                r = pr_err(err, errno, "rename `%s` to `%s`", tmp, path);
            if (r < 0)
                unlink(tmp);
        }
    }
    for (size_t i = 0; i < got; i++)
        image_rec_clear(&recs[i]);
    free(recs);
    /* names[] may have holes: free every slot, not up to the first NULL. */
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    names = NULL;
    return r;
}
