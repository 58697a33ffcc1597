/* SPDX-License-Identifier: Apache-2.0 */
/* PersistentVolumeClaims bound to local volumes, as a local-path provisioner binds them: each
 * claim gets a PersistentVolume pvc-<claim uid> and a directory of that name under
 * lib-root/volumes, which outlives the pods that mount it and goes with the claim
 * (reclaimPolicy Delete). A claim that a pod uses is not removed under it (Kubernetes'
 * pvc-protection): it is marked Terminating and removed once no pod uses it.
 *
 * Paths: the volumes root and each volume directory are opened without following symlinks,
 * and a directory is removed only when it is the one recorded in its volume (device and inode
 * noted when podrun made it), never through a symlink (rm_rf_at does not follow them). */
#include "fs.h"
#include "manager.h"
#include "util.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>

#define CLAIMS         "persistentvolumeclaims"
#define VOLUMES        "persistentvolumes"
#define INODE_KEY      "podrun.io/volume-inode"
#define PROVISIONER    "podrun.io/local-path"
#define PVC_PROTECTION "kubernetes.io/pvc-protection"

static char *volume_name(const char *claim_uid)
{
    return xasprintf("pvc-%s", claim_uid);
}

/* lib-root/volumes, made when missing, as an fd that is the real directory (not a symlink). */
static int volumes_root(pods_manager *m, bool make, int *out, pr_error **err)
{
    _cleanup_free_ char *dir = xasprintf("%s/volumes", m->lib_root);
    if (make) {
        int r = mkdir_p(dir, 0700, err);
        if (r < 0)
            return r;
    }
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return pr_err(err, errno, "open the volumes root `%s`", dir);
    *out = fd;
    return 0;
}

static const char *claim_uid_of(yajl_val rec)
{
    const char *u = YAJL_GET_STRING(json_get(rec, "uid"));
    return u && strlen(u) == 36 && !strchr(u, '/') && u[0] != '.' ? u : NULL;
}

static bool claim_terminating(yajl_val obj)
{
    return json_get(json_get(obj, "metadata"), "deletionTimestamp") != NULL;
}

static void now_text(char out[32])
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* The PV object for a claim whose directory is dir (device and inode noted). */
static int save_volume(pods_manager *m, const char *ns, const char *claim, const char *uid,
                       yajl_val cobj, const char *dir, const struct stat *st, pr_error **err)
{
    yajl_val spec = json_get(cobj, "spec");
    yajl_val storage = json_get(json_get(json_get(spec, "resources"), "requests"), "storage");
    _cleanup_free_ char *name = volume_name(uid);
    _cleanup_free_ char *inode =
        xasprintf("%llu:%llu", (unsigned long long)st->st_dev, (unsigned long long)st->st_ino);
    const char *cls = YAJL_GET_STRING(json_get(spec, "storageClassName"));
    _cleanup_gen_ yajl_gen g = json_gen_new(false);
    jg_map_open(g);
    jg_key_str(g, "apiVersion", "v1");
    jg_key_str(g, "kind", "PersistentVolume");
    jg_key(g, "metadata");
    jg_map_open(g);
    jg_key_str(g, "name", name);
    jg_key(g, "annotations");
    jg_map_open(g);
    jg_key_str(g, "pv.kubernetes.io/provisioned-by", PROVISIONER);
    jg_key_str(g, INODE_KEY, inode);
    jg_map_close(g);
    jg_key(g, "finalizers");
    jg_array_open(g);
    jg_str(g, "kubernetes.io/pv-protection");
    jg_array_close(g);
    jg_map_close(g);
    jg_key(g, "spec");
    jg_map_open(g);
    jg_key(g, "accessModes");
    jg_value(g, json_get(spec, "accessModes"));
    jg_key(g, "capacity");
    jg_map_open(g);
    jg_key(g, "storage");
    jg_value(g, storage);
    jg_map_close(g);
    jg_key(g, "claimRef");
    jg_map_open(g);
    jg_key_str(g, "apiVersion", "v1");
    jg_key_str(g, "kind", "PersistentVolumeClaim");
    jg_key_str(g, "name", claim);
    jg_key_str(g, "namespace", ns);
    jg_key_str(g, "uid", uid);
    jg_map_close(g);
    jg_key(g, "hostPath");
    jg_map_open(g);
    jg_key_str(g, "path", dir);
    jg_key_str(g, "type", "DirectoryOrCreate");
    jg_map_close(g);
    jg_key_str(g, "persistentVolumeReclaimPolicy", "Delete");
    jg_key_str(g, "storageClassName", cls ? cls : KUBE_LOCAL_PATH_CLASS);
    jg_key_str(g, "volumeMode", "Filesystem");
    jg_map_close(g);
    jg_map_close(g);
    size_t len;
    const char *buf = jg_buf(g, &len);
    _cleanup_free_ char *text = xstrndup(buf, len);
    _cleanup_json_ yajl_val t = NULL;
    int r = json_parse(text, "a volume", &t, err);
    if (r < 0)
        return r;
    /* The volume's uid is the claim's: one volume per claim, found from either. */
    return pods_object_save(m, VOLUMES, NULL, name, t, uid, (long long)time(NULL), err);
}

/* Opens the claim's volume directory as recorded in its PV: -ENOENT when there is none; an
 * error when what is there is not the directory podrun made. */
static int open_volume_dir(pods_manager *m, yajl_val pv, const char *name, int *out, pr_error **err)
{
    _cleanup_close_ int root = -1;
    int r = volumes_root(m, false, &root, err);
    if (r < 0)
        return r;
    struct stat st;
    if (fstatat(root, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return errno == ENOENT ? -ENOENT : pr_err(err, errno, "volume %s", name);
    const char *note =
        YAJL_GET_STRING(json_get(json_get(json_get(pv, "metadata"), "annotations"), INODE_KEY));
    _cleanup_free_ char *have =
        xasprintf("%llu:%llu", (unsigned long long)st.st_dev, (unsigned long long)st.st_ino);
    if (!S_ISDIR(st.st_mode) || !note || !streq(note, have))
        return pr_err(err, EPERM,
                      "volume %s: `%s/volumes/%s` is not the directory podrun made for it (it "
                      "was replaced); podrun leaves it alone",
                      name, m->lib_root, name);
    int fd = openat(root, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return pr_err(err, errno, "open volume %s", name);
    *out = fd;
    return 0;
}

int pods_claim_provision(pods_manager *m, const char *ns, const char *claim, pr_error **err)
{
    _cleanup_json_ yajl_val rec = NULL, pv = NULL;
    int r = pods_object_load(m, CLAIMS, ns, claim, &rec, err);
    if (r < 0)
        return r;
    const char *uid = claim_uid_of(rec);
    if (!uid)
        return pr_err(err, 0, "persistentvolumeclaim \"%s\": its record has no valid uid", claim);
    _cleanup_free_ char *name = volume_name(uid);
    if ((r = pods_object_load(m, VOLUMES, NULL, name, &pv, NULL)) == 0)
        return 0;
    _cleanup_close_ int root = -1;
    if ((r = volumes_root(m, true, &root, err)) < 0)
        return r;
    /* A directory of this name that no volume records is not podrun's to take over. */
    if (mkdirat(root, name, 0777) < 0)
        return pr_err(err, errno, "make volume `%s/volumes/%s`", m->lib_root, name);
    struct stat st;
    if (fstatat(root, name, &st, AT_SYMLINK_NOFOLLOW) < 0 || fchmodat(root, name, 0777, 0) < 0)
        return pr_err(err, errno, "volume `%s/volumes/%s`", m->lib_root, name);
    _cleanup_free_ char *dir = xasprintf("%s/volumes/%s", m->lib_root, name);
    r = save_volume(m, ns, claim, uid, json_get(rec, "object"), dir, &st, err);
    if (r < 0)
        unlinkat(root, name, AT_REMOVEDIR);
    return r;
}

int pods_claim_dir(pods_manager *m, const char *ns, const char *claim, char **out, pr_error **err)
{
    _cleanup_json_ yajl_val rec = NULL, pv = NULL;
    int r = pods_object_load(m, CLAIMS, ns, claim, &rec, err);
    if (r == -ENOENT)
        return pr_err_code(err, ENOENT, "persistentvolumeclaim \"%s\" not found", claim);
    if (r < 0)
        return r;
    if (claim_terminating(json_get(rec, "object")))
        return pr_err_code(err, EBUSY, "persistentvolumeclaim \"%s\" is being deleted", claim);
    const char *uid = claim_uid_of(rec);
    if (!uid)
        return pr_err(err, 0, "persistentvolumeclaim \"%s\": its record has no valid uid", claim);
    _cleanup_free_ char *name = volume_name(uid);
    if ((r = pods_object_load(m, VOLUMES, NULL, name, &pv, NULL)) == -ENOENT) {
        if ((r = pods_claim_provision(m, ns, claim, err)) < 0)
            return r;
        r = pods_object_load(m, VOLUMES, NULL, name, &pv, err);
    }
    if (r < 0)
        return r;
    _cleanup_close_ int fd = -1;
    if ((r = open_volume_dir(m, json_get(pv, "object"), name, &fd, err)) == -ENOENT)
        return pr_err_code(err, ENOENT,
                           "volume %s of persistentvolumeclaim \"%s\": its "
                           "directory is gone",
                           name, claim);
    if (r < 0)
        return r;
    *out = xasprintf("%s/volumes/%s", m->lib_root, name);
    return 0;
}

/* Whether a pod that is not finished mounts the claim. */
static int claim_in_use(pods_manager *m, const char *ns, const char *claim, bool *used,
                        pr_error **err)
{
    struct pods_list l = {0};
    int r = pods_list(m, "pods", ns, NULL, &l, err);
    *used = false;
    for (size_t i = 0; r == 0 && !*used && i < l.n; i++) {
        const char *ph = l.v[i].phase;
        if (ph && (streq(ph, "Succeeded") || streq(ph, "Failed")))
            continue;
        yajl_val vols = json_get(json_get(l.v[i].object, "spec"), "volumes");
        for (size_t k = 0; k < json_array_len(vols); k++) {
            const char *c = YAJL_GET_STRING(
                json_get(json_get(json_array_at(vols, k), "persistentVolumeClaim"), "claimName"));
            *used |= c && streq(c, claim);
        }
    }
    pods_list_clear(&l);
    return r;
}

/* The volume goes first (its directory, then its object), then the claim: a removal cut short
 * is finished by the next. */
static int remove_claim(pods_manager *m, const char *ns, const char *claim, yajl_val rec,
                        pr_error **err)
{
    const char *uid = claim_uid_of(rec);
    int r;
    if (uid) {
        _cleanup_free_ char *name = volume_name(uid);
        _cleanup_json_ yajl_val pv = NULL;
        r = pods_object_load(m, VOLUMES, NULL, name, &pv, err);
        if (r < 0 && r != -ENOENT)
            return r;
        if (r == 0) {
            _cleanup_close_ int fd = -1;
            r = open_volume_dir(m, json_get(pv, "object"), name, &fd, err);
            if (r < 0 && r != -ENOENT)
                return pr_err_prefix(err, "delete persistentvolumeclaim \"%s\"", claim);
            if (r == 0) {
                _cleanup_close_ int root = -1;
                if ((r = volumes_root(m, false, &root, err)) < 0)
                    return r;
                if ((r = rm_rf_at(root, name)) < 0)
                    return pr_err(err, -r, "remove volume `%s/volumes/%s`", m->lib_root, name);
            }
            if ((r = pods_object_remove(m, VOLUMES, NULL, name, err)) < 0)
                return r;
        }
    }
    return pods_object_remove(m, CLAIMS, ns, claim, err);
}

/* The claim as stored, with metadata.deletionTimestamp and the pvc-protection finalizer. */
static int mark_terminating(pods_manager *m, const char *ns, const char *claim, yajl_val rec,
                            pr_error **err)
{
    yajl_val obj = json_get(rec, "object");
    char ts[32];
    now_text(ts);
    _cleanup_gen_ yajl_gen g = json_gen_new(false);
    jg_map_open(g);
    for (size_t i = 0; YAJL_IS_OBJECT(obj) && i < obj->u.object.len; i++) {
        const char *k = obj->u.object.keys[i];
        yajl_val v = obj->u.object.values[i];
        jg_key(g, k);
        if (!streq(k, "metadata") || !YAJL_IS_OBJECT(v)) {
            jg_value(g, v);
            continue;
        }
        jg_map_open(g);
        for (size_t j = 0; j < v->u.object.len; j++)
            if (!streq(v->u.object.keys[j], "deletionTimestamp") &&
                !streq(v->u.object.keys[j], "finalizers")) {
                jg_key(g, v->u.object.keys[j]);
                jg_value(g, v->u.object.values[j]);
            }
        jg_key_str(g, "deletionTimestamp", ts);
        jg_key(g, "finalizers");
        jg_array_open(g);
        jg_str(g, PVC_PROTECTION);
        jg_array_close(g);
        jg_map_close(g);
    }
    jg_map_close(g);
    size_t len;
    const char *buf = jg_buf(g, &len);
    _cleanup_free_ char *text = xstrndup(buf, len);
    _cleanup_json_ yajl_val t = NULL;
    int r = json_parse(text, "a claim", &t, err);
    yajl_val created = json_get(rec, "created");
    if (r == 0)
        r = pods_object_save(m, CLAIMS, ns, claim, t, YAJL_GET_STRING(json_get(rec, "uid")),
                             YAJL_IS_INTEGER(created) ? YAJL_GET_INTEGER(created) : 0, err);
    return r;
}

int pods_claim_delete(pods_manager *m, const char *ns, const char *claim, pr_error **err)
{
    _cleanup_json_ yajl_val rec = NULL;
    int r = pods_object_load(m, CLAIMS, ns, claim, &rec, err);
    if (r == -ENOENT)
        return pr_err_code(err, ENOENT, "persistentvolumeclaims \"%s\" not found", claim);
    bool used = false;
    if (r < 0 || (r = claim_in_use(m, ns, claim, &used, err)) < 0)
        return r;
    if (used)
        return claim_terminating(json_get(rec, "object"))
                   ? 0
                   : mark_terminating(m, ns, claim, rec, err);
    return remove_claim(m, ns, claim, rec, err);
}

int pods_claims_collect(pods_manager *m, bool *pending, pr_error **err)
{
    struct pods_list l = {0};
    int r = pods_list(m, CLAIMS, NULL, NULL, &l, err);
    if (pending)
        *pending = false;
    for (size_t i = 0; r == 0 && i < l.n; i++) {
        const struct pods_entry *e = &l.v[i];
        if (!claim_terminating(e->object)) {
            /* A claim whose provisioning was cut short gets its volume now. */
            r = pods_claim_provision(m, e->ns, e->name, err);
            continue;
        }
        bool used = false;
        if ((r = claim_in_use(m, e->ns, e->name, &used, err)) < 0)
            break;
        if (used) {
            if (pending)
                *pending = true;
            continue;
        }
        _cleanup_json_ yajl_val rec = NULL;
        if ((r = pods_object_load(m, CLAIMS, e->ns, e->name, &rec, err)) == 0)
            r = remove_claim(m, e->ns, e->name, rec, err);
    }
    pods_list_clear(&l);
    return r;
}

int pods_claim_apply_check(pods_manager *m, const struct kube_object *o, pr_error **err)
{
    if (o->kind == KUBE_PV)
        return pr_err_code(err, EOPNOTSUPP,
                           "persistentvolume \"%s\": podrun provisions the volumes of claims "
                           "itself (" KUBE_LOCAL_PATH_CLASS "); apply a PersistentVolumeClaim",
                           o->meta.name);
    _cleanup_json_ yajl_val rec = NULL;
    int r = pods_object_load(m, CLAIMS, o->meta.namespace_, o->meta.name, &rec, NULL);
    if (r < 0)
        return 0;
    yajl_val old = json_get(rec, "object");
    if (claim_terminating(old))
        return pr_err_code(err, EBUSY, "persistentvolumeclaim \"%s\" is being deleted",
                           o->meta.name);
    if (!pods_json_equal(json_get(old, "spec"), json_get(o->tree, "spec")))
        return pr_err_code(err, EPERM,
                           "PersistentVolumeClaim \"%s\" is invalid: spec: Forbidden: spec is "
                           "immutable after creation (podrun does not resize its volumes)",
                           o->meta.name);
    return 0;
}

int pods_volume_delete_check(pods_manager *m, const char *name, pr_error **err)
{
    _cleanup_json_ yajl_val pv = NULL;
    int r = pods_object_load(m, VOLUMES, NULL, name, &pv, err);
    if (r == -ENOENT)
        return pr_err_code(err, ENOENT, "persistentvolumes \"%s\" not found", name);
    if (r < 0)
        return r;
    yajl_val ref = json_get(json_get(json_get(pv, "object"), "spec"), "claimRef");
    return pr_err_code(err, EPERM,
                       "persistentvolume \"%s\" is bound to persistentvolumeclaim \"%s/%s\": "
                       "delete the claim (its reclaimPolicy Delete removes the volume)",
                       name, YAJL_GET_STRING(json_get(ref, "namespace")) ?: "",
                       YAJL_GET_STRING(json_get(ref, "name")) ?: "");
}

int pods_claim_status(pods_manager *m, const char *resource, const struct pods_entry *e,
                      yajl_val *out, pr_error **err)
{
    _cleanup_gen_ yajl_gen g = json_gen_new(false);
    jg_map_open(g);
    if (streq(resource, VOLUMES)) {
        /* A volume exists only while bound: podrun makes it for its claim. */
        jg_key_str(g, "phase", "Bound");
    } else {
        _cleanup_free_ char *name = volume_name(e->uid ? e->uid : "");
        _cleanup_json_ yajl_val pv = NULL;
        bool bound = e->uid && pods_object_load(m, VOLUMES, NULL, name, &pv, NULL) == 0;
        yajl_val spec = json_get(e->object, "spec");
        jg_key_str(g, "phase", bound ? "Bound" : "Pending");
        if (bound) {
            jg_key(g, "accessModes");
            jg_value(g, json_get(spec, "accessModes"));
            jg_key(g, "capacity");
            jg_map_open(g);
            jg_key(g, "storage");
            jg_value(g, json_get(json_get(json_get(spec, "resources"), "requests"), "storage"));
            jg_map_close(g);
        }
    }
    jg_map_close(g);
    size_t len;
    const char *buf = jg_buf(g, &len);
    _cleanup_free_ char *text = xstrndup(buf, len);
    return json_parse(text, "a status", out, err);
}
