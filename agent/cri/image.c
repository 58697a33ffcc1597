/* SPDX-License-Identifier: Apache-2.0 */
/* ImageService over the image store: list, status, pull (with the credentials the kubelet
 * passes), remove, and the store's filesystem usage. */
#include "images/images.h"
#include "json.h"
#include "methods.h"
#include "util.h"

#include <ftw.h>
#include <sys/stat.h>
#include <time.h>

/* An image as the CRI shows it; the strings point into rec and into *keep (freed by the
 * caller with strv_free). */
struct cri_image {
    Runtime__V1__Image img;
    Runtime__V1__ImageSpec spec;
    Runtime__V1__Int64Value uid;
    char **tags, **digests;
    char *username;
};

static void cri_image_clear(struct cri_image *ci)
{
    strv_free(ci->tags);
    strv_free(ci->digests);
    free(ci->username);
}

/* The config's User: a number (uid, as "1000" or "1000:1000") or a name. */
static void image_user(image_store *s, const image_rec *rec, struct cri_image *ci)
{
    _cleanup_free_ char *text = NULL;
    _cleanup_json_ yajl_val cfg = NULL;
    _cleanup_error_ pr_error *e = NULL;
    if (images_read_config(s, rec, &text, &e) < 0 || json_parse(text, "config", &cfg, &e) < 0)
        return;
    const char *user = YAJL_GET_STRING(json_get(json_get(cfg, "config"), "User"));
    if (!user || !*user)
        return;
    size_t n = strcspn(user, ":");
    char *end;
    errno = 0;
    long long v = strtoll(user, &end, 10);
    if (n && end == user + n && !errno && v >= 0) {
        ci->uid.value = v;
        ci->img.uid = &ci->uid;
    } else {
        ci->username = xstrndup(user, n);
        ci->img.username = ci->username;
    }
}

static bool strv_has(char *const *v, const char *s)
{
    for (; v && *v; v++)
        if (streq(*v, s))
            return true;
    return false;
}

static void image_fill(image_store *s, const image_rec *rec, struct cri_image *ci)
{
    Runtime__V1__Image img = RUNTIME__V1__IMAGE__INIT;
    Runtime__V1__ImageSpec spec = RUNTIME__V1__IMAGE_SPEC__INIT;
    ci->img = img;
    ci->spec = spec;
    runtime__v1__int64_value__init(&ci->uid);
    ci->tags = ci->digests = NULL;
    ci->username = NULL;
    for (char *const *n = images_names(rec); n && *n; n++) {
        _cleanup_free_ char *repo = NULL, *tag = NULL;
        images_name_split(*n, &repo, &tag);
        /* A name pulled by digest is a repo digest, not a tag. */
        bool by_digest = strchr(*n, '@') != NULL;
        if (!by_digest)
            strv_extend(&ci->tags, *n);
        _cleanup_free_ char *dig =
            by_digest ? xstrdup(*n) : xasprintf("%s@%s", repo, images_manifest_digest(rec));
        if (!strv_has(ci->digests, dig))
            strv_extend(&ci->digests, dig);
    }
    ci->img.id = (char *)images_id(rec);
    ci->img.n_repo_tags = strv_length(ci->tags);
    ci->img.repo_tags = ci->tags;
    ci->img.n_repo_digests = strv_length(ci->digests);
    ci->img.repo_digests = ci->digests;
    ci->img.size = images_size(rec) > 0 ? (uint64_t)images_size(rec) : 0;
    ci->spec.image = (char *)images_id(rec);
    ci->img.spec = &ci->spec;
    image_user(s, rec, ci);
}

/* The ID of the stored image ref names: a name, a short name, an ID (prefix), or repo@digest
 * (the manifest digest the kubelet sees in repo_digests). -ENOENT when there is none. */
static int image_lookup(image_store *s, const image_list *l, const char *ref, char **id,
                        pr_error **err)
{
    if (!ref || !*ref)
        return pr_err_code(err, EINVAL, "no image given");
    const char *at = strchr(ref, '@');
    if (!at)
        return images_find(s, ref, id, err);
    for (size_t i = 0; i < images_list_count(l); i++) {
        const image_rec *rec = images_list_at(l, i);
        if (streq(images_manifest_digest(rec), at + 1)) {
            *id = xstrdup(images_id(rec));
            return 0;
        }
    }
    return pr_err_code(err, ENOENT, "image `%s` not found", ref);
}

/* The list's record of the image with this ID; NULL when it went meanwhile. */
static const image_rec *rec_by_id(const image_list *l, const char *id, size_t *at)
{
    for (size_t i = 0; i < images_list_count(l); i++)
        if (streq(images_id(images_list_at(l, i)), id)) {
            if (at)
                *at = i;
            return images_list_at(l, i);
        }
    return NULL;
}

static bool is_not_found(int r, const pr_error *e)
{
    return r == -ENOENT || (e && e->errnum == ENOENT) ||
           (e && e->msg && strstr(e->msg, "not found"));
}

void cri_list_images(const struct cri_options *o, const ProtobufCMessage *req,
                     struct cri_reply *out)
{
    const Runtime__V1__ListImagesRequest *in = (const Runtime__V1__ListImagesRequest *)req;
    const char *want =
        in->filter && in->filter->image && in->filter->image->image && *in->filter->image->image
            ? in->filter->image->image
            : NULL;
    _cleanup_error_ pr_error *e = NULL;
    _cleanup_images_ image_store *s = NULL;
    _cleanup_image_list_ image_list *l = NULL;
    int r = images_open(o->images_root, false, &s, &e);
    if (r == 0)
        r = images_list(s, &l, &e);
    if (r < 0) {
        cri_reply_failed(out, r, e, "list images");
        return;
    }
    size_t first = 0, n = images_list_count(l);
    if (want) {
        /* The one image the filter names, or none. */
        _cleanup_free_ char *only = NULL;
        r = image_lookup(s, l, want, &only, &e);
        if (r < 0 && !is_not_found(r, e)) {
            cri_reply_failed(out, r, e, "list images");
            return;
        }
        n = r == 0 && rec_by_id(l, only, &first) ? 1 : 0;
    }
    struct cri_image *cis = xcalloc(n ? n : 1, sizeof(*cis));
    Runtime__V1__Image **imgs = xcalloc(n ? n : 1, sizeof(*imgs));
    for (size_t i = 0; i < n; i++) {
        image_fill(s, images_list_at(l, first + i), &cis[i]);
        imgs[i] = &cis[i].img;
    }
    Runtime__V1__ListImagesResponse resp = RUNTIME__V1__LIST_IMAGES_RESPONSE__INIT;
    resp.n_images = n;
    resp.images = imgs;
    cri_reply_ok(out, &resp.base);
    for (size_t i = 0; i < n; i++)
        cri_image_clear(&cis[i]);
    free(cis);
    free(imgs);
}

void cri_image_status(const struct cri_options *o, const ProtobufCMessage *req,
                      struct cri_reply *out)
{
    const Runtime__V1__ImageStatusRequest *in = (const Runtime__V1__ImageStatusRequest *)req;
    const char *ref = in->image ? in->image->image : NULL;
    _cleanup_error_ pr_error *e = NULL;
    _cleanup_images_ image_store *s = NULL;
    int r = images_open(o->images_root, false, &s, &e);
    if (r < 0) {
        cri_reply_failed(out, r, e, "image status");
        return;
    }
    Runtime__V1__ImageStatusResponse resp = RUNTIME__V1__IMAGE_STATUS_RESPONSE__INIT;
    _cleanup_image_list_ image_list *l = NULL;
    _cleanup_free_ char *id = NULL;
    const image_rec *rec = NULL;
    if ((r = images_list(s, &l, &e)) < 0) {
        cri_reply_failed(out, r, e, "image status");
        return;
    }
    r = image_lookup(s, l, ref, &id, &e);
    if (r == 0 && !(rec = rec_by_id(l, id, NULL)))
        r = pr_err_code(&e, ENOENT, "image `%s` not found", ref);
    if (r < 0) {
        /* Absent is an answer with no image, not an error: the kubelet then pulls. */
        if (is_not_found(r, e) && ref && *ref)
            cri_reply_ok(out, &resp.base);
        else
            cri_reply_failed(out, r, e, "image status");
        return;
    }
    struct cri_image ci;
    image_fill(s, rec, &ci);
    resp.image = &ci.img;
    Runtime__V1__ImageStatusResponse__InfoEntry info =
        RUNTIME__V1__IMAGE_STATUS_RESPONSE__INFO_ENTRY__INIT;
    Runtime__V1__ImageStatusResponse__InfoEntry *infos[] = {&info};
    _cleanup_gen_ yajl_gen g = NULL;
    _cleanup_free_ char *json = NULL;
    if (in->verbose) {
        /* `podrun image inspect`'s object, under "info" as containerd puts its own. */
        g = json_gen_new(false);
        _cleanup_error_ pr_error *ie = NULL;
        if (images_inspect(s, id, g, &ie) == 0) {
            size_t len;
            const char *buf = jg_buf(g, &len);
            json = xstrndup(buf, len);
            info.key = (char *)"info";
            info.value = json;
            resp.n_info = 1;
            resp.info = infos;
        }
    }
    cri_reply_ok(out, &resp.base);
    cri_image_clear(&ci);
}

/* A credential goes into an HTTP header: no control characters, no line breaks. */
static bool header_safe(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return false;
    return true;
}

static char *base64(const char *in)
{
    static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t n = strlen(in);
    char *out = xmalloc((n + 2) / 3 * 4 + 1), *o = out;
    const unsigned char *p = (const unsigned char *)in;
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)p[i] << 16 | (i + 1 < n ? (unsigned)p[i + 1] << 8 : 0) |
                     (i + 2 < n ? p[i + 2] : 0);
        *o++ = tbl[v >> 18 & 63];
        *o++ = tbl[v >> 12 & 63];
        *o++ = i + 1 < n ? tbl[v >> 6 & 63] : '=';
        *o++ = i + 2 < n ? tbl[v & 63] : '=';
    }
    *o = 0;
    return out;
}

/* The AuthConfig as the pull's credentials. identity_token (an OAuth refresh token exchanged at
 * the token server) is not supported and refused rather than ignored. */
static int pull_auth(const Runtime__V1__AuthConfig *a, struct pull_options *po, char **basic,
                     struct cri_reply *out)
{
    if (!a)
        return 0;
    const char *fields[] = {a->username, a->password, a->auth, a->registry_token};
    for (size_t i = 0; i < ARRAY_SIZE(fields); i++)
        if (fields[i] && !header_safe(fields[i])) {
            cri_reply_error(out, GRPC_INVALID_ARGUMENT,
                            "pull: the auth config holds a control character");
            return -EINVAL;
        }
    if (a->identity_token && *a->identity_token) {
        cri_reply_error(out, GRPC_INVALID_ARGUMENT,
                        "pull: auth.identity_token (an OAuth refresh token) is not supported; "
                        "give username and password, auth or registry_token");
        return -EINVAL;
    }
    if (a->auth && *a->auth) {
        *basic = xstrdup(a->auth);
    } else if (a->username && *a->username) {
        _cleanup_free_ char *up = xasprintf("%s:%s", a->username, a->password ? a->password : "");
        *basic = base64(up);
    }
    po->basic_auth = *basic;
    if (a->registry_token && *a->registry_token)
        po->bearer_token = a->registry_token;
    return 0;
}

void cri_pull_image(const struct cri_options *o, const ProtobufCMessage *req, struct cri_reply *out)
{
    const Runtime__V1__PullImageRequest *in = (const Runtime__V1__PullImageRequest *)req;
    const char *ref = in->image ? in->image->image : NULL;
    if (!ref || !*ref) {
        cri_reply_error(out, GRPC_INVALID_ARGUMENT, "pull: no image given");
        return;
    }
    struct pull_options po = {.quiet = true,
                              .tls_verify = -1,
                              .registries_conf = o->registries_conf,
                              .auth_file = o->auth_file,
                              /* the deadline passed or the client left: the pull stops */
                              .cancel_fd = out->cancel_fd};
    _cleanup_free_ char *basic = NULL;
    if (pull_auth(in->auth, &po, &basic, out) < 0)
        return;
    _cleanup_error_ pr_error *e = NULL;
    _cleanup_images_ image_store *s = NULL;
    _cleanup_free_ char *id = NULL;
    int r = images_open(o->images_root, false, &s, &e);
    if (r == 0)
        r = images_pull(s, ref, &po, &id, &e);
    if (r < 0) {
        /* A pull fails for many reasons at once (one per registry tried): UNKNOWN, with them
         * all in the message, as containerd answers. */
        cri_reply_error(out, GRPC_UNKNOWN, "%s", e && e->msg ? e->msg : pr_strerror(-r));
        return;
    }
    Runtime__V1__PullImageResponse resp = RUNTIME__V1__PULL_IMAGE_RESPONSE__INIT;
    resp.image_ref = id; /* the image ID, which ImageStatus and CreateContainer take */
    cri_reply_ok(out, &resp.base);
}

void cri_remove_image(const struct cri_options *o, const ProtobufCMessage *req,
                      struct cri_reply *out)
{
    const Runtime__V1__RemoveImageRequest *in = (const Runtime__V1__RemoveImageRequest *)req;
    const char *ref = in->image ? in->image->image : NULL;
    Runtime__V1__RemoveImageResponse resp = RUNTIME__V1__REMOVE_IMAGE_RESPONSE__INIT;
    _cleanup_error_ pr_error *e = NULL;
    _cleanup_free_ char *removed = NULL, *id = NULL;
    int r;
    {
        _cleanup_images_ image_store *s = NULL;
        _cleanup_image_list_ image_list *l = NULL;
        r = images_open(o->images_root, false, &s, &e);
        if (r == 0)
            r = images_list(s, &l, &e);
        if (r == 0 && (r = image_lookup(s, l, ref, &id, &e)) < 0 && is_not_found(r, e) && ref &&
            *ref) {
            /* Already gone: removing is idempotent for the kubelet. */
            cri_reply_ok(out, &resp.base);
            return;
        }
        /* The image with all its names, as the CRI removes it (by ID, forced). */
        if (r == 0)
            r = images_remove(s, id, true, &removed, &e);
    }
    if (r < 0) {
        cri_reply_failed(out, r, e, "remove image");
        return;
    }
    /* The kubelet removes images to free disk: the blobs and layers go now, not at a prune. */
    _cleanup_images_ image_store *x = NULL;
    struct images_pruned pruned;
    if ((r = images_open(o->images_root, true, &x, &e)) < 0 ||
        (r = images_prune(x, &pruned, &e)) < 0) {
        cri_reply_failed(out, r, e, "remove image: free its content");
        return;
    }
    cri_reply_ok(out, &resp.base);
}

/* nftw has no user pointer; each worker thread walks with its own totals. */
static __thread uint64_t walk_bytes, walk_inodes;

static int walk_one(const char *path, const struct stat *st, int flag, struct FTW *f)
{
    walk_bytes += (uint64_t)st->st_blocks * 512;
    walk_inodes++;
    return 0;
}

void cri_image_fs_info(const struct cri_options *o, const ProtobufCMessage *req,
                       struct cri_reply *out)
{
    _cleanup_error_ pr_error *e = NULL;
    _cleanup_images_ image_store *s = NULL;
    int r = images_open(o->images_root, false, &s, &e);
    if (r < 0) {
        cri_reply_failed(out, r, e, "image filesystem info");
        return;
    }
    walk_bytes = walk_inodes = 0;
    /* What the store holds (as containerd reports its snapshotter's usage), on its own file
     * system only, links not followed. */
    const char *root = images_store_root(s);
    if (nftw(root, walk_one, 16, FTW_PHYS | FTW_MOUNT) < 0) {
        cri_reply_error(out, GRPC_UNKNOWN, "image filesystem info: walk `%s`: %s", root,
                        pr_strerror(errno));
        return;
    }
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    Runtime__V1__FilesystemIdentifier id = RUNTIME__V1__FILESYSTEM_IDENTIFIER__INIT;
    id.mountpoint = (char *)root;
    Runtime__V1__UInt64Value used = RUNTIME__V1__UINT64_VALUE__INIT;
    Runtime__V1__UInt64Value inodes = RUNTIME__V1__UINT64_VALUE__INIT;
    used.value = walk_bytes;
    inodes.value = walk_inodes;
    Runtime__V1__FilesystemUsage fu = RUNTIME__V1__FILESYSTEM_USAGE__INIT;
    fu.timestamp = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
    fu.fs_id = &id;
    fu.used_bytes = &used;
    fu.inodes_used = &inodes;
    Runtime__V1__FilesystemUsage *fus[] = {&fu};
    Runtime__V1__ImageFsInfoResponse resp = RUNTIME__V1__IMAGE_FS_INFO_RESPONSE__INIT;
    resp.n_image_filesystems = 1;
    resp.image_filesystems = fus;
    cri_reply_ok(out, &resp.base);
}
