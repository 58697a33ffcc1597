/* SPDX-License-Identifier: Apache-2.0 */
/* Applied objects on disk: lib-root/objects/RESOURCE/NS/NAME.json (namespaces:
 * lib-root/objects/namespaces/NAME.json), each a record {"uid", "created", "object"} written
 * atomically; a pod's has "creating": true while the pod is being made, "deleting": true while
 * it is being taken down. Names come from decoded objects: RFC 1123, never '/' nor a leading
 * '.'. */
#include "fs.h"
#include "log.h"
#include "manager.h"
#include "util.h"

#include <dirent.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>

#define OBJECT_FILE_MAX (8u << 20)

char *pods_object_path(pods_manager *m, const char *resource, const char *ns, const char *name)
{
    if (!ns)
        return xasprintf("%s/objects/%s/%s.json", m->lib_root, resource, name);
    return xasprintf("%s/objects/%s/%s/%s.json", m->lib_root, resource, ns, name);
}

int pods_object_load(pods_manager *m, const char *resource, const char *ns, const char *name,
                     yajl_val *out, pr_error **err)
{
    _cleanup_free_ char *path = pods_object_path(m, resource, ns, name);
    _cleanup_free_ char *text = NULL;
    size_t len;
    _cleanup_error_ pr_error *e = NULL;
    int r = read_file(path, &text, &len, &e);
    if (r == -ENOENT)
        return r;
    if (r < 0) {
        *err = steal_pointer(&e);
        return r;
    }
    if (len > OBJECT_FILE_MAX)
        return pr_err_code(err, EFBIG, "`%s`: over %u bytes", path, OBJECT_FILE_MAX);
    return json_parse(text, path, out, err);
}

/* write_file_atomic writes PATH.tmp.PID then renames it: a writer killed in between leaves that
 * file, which no later writer (another pid) would reuse. Those of dead writers go. */
static void remove_stale_temps(const char *path)
{
    _cleanup_free_ char *dir = xstrdup(path);
    char *slash = strrchr(dir, '/');
    *slash = '\0';
    _cleanup_free_ char *prefix = xasprintf("%s.tmp.", slash + 1);
    _cleanup_dir_ DIR *d = opendir(dir);
    if (!d)
        return;
    for (struct dirent *e; (e = readdir(d));) {
        if (!has_prefix(e->d_name, prefix))
            continue;
        char *end;
        long pid = strtol(e->d_name + strlen(prefix), &end, 10);
        if (*end || pid <= 0 || pid > INT_MAX || kill((pid_t)pid, 0) == 0 || errno != ESRCH)
            continue;
        if (unlinkat(dirfd(d), e->d_name, 0) < 0 && errno != ENOENT)
            pr_debug("pods: cannot remove stale `%s/%s`: %s", dir, e->d_name, strerror(errno));
    }
}

static int object_save(pods_manager *m, const char *resource, const char *ns, const char *name,
                       yajl_val object, const char *uid, long long created, const char *mark,
                       long long generation, pr_error **err);

int pods_object_save(pods_manager *m, const char *resource, const char *ns, const char *name,
                     yajl_val object, const char *uid, long long created, pr_error **err)
{
    return object_save(m, resource, ns, name, object, uid, created, NULL, 0, err);
}

int pods_object_save_as(pods_manager *m, const char *resource, const char *ns, const char *name,
                        yajl_val object, const char *uid, long long created, const char *mark,
                        pr_error **err)
{
    return object_save(m, resource, ns, name, object, uid, created, mark, 0, err);
}

int pods_object_save_gen(pods_manager *m, const char *resource, const char *ns, const char *name,
                         yajl_val object, const char *uid, long long created, long long generation,
                         pr_error **err)
{
    return object_save(m, resource, ns, name, object, uid, created, NULL, generation, err);
}

static int object_save(pods_manager *m, const char *resource, const char *ns, const char *name,
                       yajl_val object, const char *uid, long long created, const char *mark,
                       long long generation, pr_error **err)
{
    _cleanup_free_ char *path = pods_object_path(m, resource, ns, name);
    _cleanup_free_ char *dir = xstrdup(path);
    *strrchr(dir, '/') = '\0';
    int r = mkdir_p(dir, 0700, err);
    if (r < 0)
        return r;
    remove_stale_temps(path);
    _cleanup_gen_ yajl_gen g = json_gen_new(false);
    jg_map_open(g);
    jg_key_str(g, "uid", uid);
    jg_key_int(g, "created", created);
    if (mark)
        jg_key_bool(g, mark, true);
    if (generation > 0)
        jg_key_int(g, "generation", generation);
    jg_key(g, "object");
    jg_value(g, object);
    jg_map_close(g);
    size_t len;
    const char *buf = jg_buf(g, &len);
    /* Secrets live here too: readable by root only. */
    return write_file_atomic(path, buf, len, 0600, err);
}

int pods_object_remove(pods_manager *m, const char *resource, const char *ns, const char *name,
                       pr_error **err)
{
    _cleanup_free_ char *path = pods_object_path(m, resource, ns, name);
    remove_stale_temps(path);
    if (unlink(path) < 0 && errno != ENOENT)
        return pr_err(err, errno, "remove `%s`", path);
    return 0;
}

bool pods_json_equal(yajl_val a, yajl_val b)
{
    if (!a || !b)
        return a == b;
    if (YAJL_IS_OBJECT(a) != YAJL_IS_OBJECT(b) || YAJL_IS_ARRAY(a) != YAJL_IS_ARRAY(b))
        return false;
    if (YAJL_IS_OBJECT(a)) {
        if (a->u.object.len != b->u.object.len)
            return false;
        for (size_t i = 0; i < a->u.object.len; i++)
            if (!pods_json_equal(a->u.object.values[i], json_get(b, a->u.object.keys[i])))
                return false;
        return true;
    }
    if (YAJL_IS_ARRAY(a)) {
        if (a->u.array.len != b->u.array.len)
            return false;
        for (size_t i = 0; i < a->u.array.len; i++)
            if (!pods_json_equal(a->u.array.values[i], b->u.array.values[i]))
                return false;
        return true;
    }
    if (YAJL_IS_STRING(a) || YAJL_IS_STRING(b))
        return YAJL_IS_STRING(a) && YAJL_IS_STRING(b) && streq(a->u.string, b->u.string);
    if (YAJL_IS_NUMBER(a) || YAJL_IS_NUMBER(b))
        return YAJL_IS_NUMBER(a) && YAJL_IS_NUMBER(b) && streq(a->u.number.r, b->u.number.r);
    return a->type == b->type;
}

static int b64_value(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    return c == '+' ? 62 : c == '/' ? 63 : -1;
}

/* Decodes standard base64 into *out (NUL-terminated, *len bytes, which may hold NULs). */
static int b64_decode_len(const char *s, char **out, size_t *len)
{
    size_t n = strlen(s);
    char *buf = xmalloc(n / 4 * 3 + 4), *o = buf;
    uint32_t acc = 0;
    int bits = 0;
    for (; *s && *s != '='; s++) {
        int v = b64_value(*s);
        if (v < 0) {
            free(buf);
            return -EINVAL;
        }
        acc = acc << 6 | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            *o++ = (char)(acc >> bits & 0xff);
        }
    }
    *o = '\0';
    *out = buf;
    *len = (size_t)(o - buf);
    return 0;
}

int pods_b64_decode(const char *s, char **out, size_t *len)
{
    return b64_decode_len(s, out, len);
}

/* Secrets' data was checked as base64 when applied; a value with a NUL byte cannot be an
 * environment variable and is refused. */
static int b64_decode(const char *s, char **out)
{
    size_t len;
    char *buf;
    if (b64_decode_len(s, &buf, &len) < 0)
        return -EINVAL;
    if (memchr(buf, '\0', len)) {
        free(buf);
        return -EINVAL;
    }
    *out = buf;
    return 0;
}

/* The value of key in a stored object's data: a Secret's stringData wins over its data. */
static int data_value(const char *resource, yajl_val obj, const char *key, char **out)
{
    bool secret = streq(resource, "secrets");
    yajl_val v = secret ? json_get(json_get(obj, "stringData"), key) : NULL;
    if (v && YAJL_IS_STRING(v)) {
        *out = xstrdup(v->u.string);
        return 0;
    }
    v = json_get(json_get(obj, "data"), key);
    if (!v || !YAJL_IS_STRING(v))
        return -ENOENT;
    if (secret)
        return b64_decode(v->u.string, out);
    *out = xstrdup(v->u.string);
    return 0;
}

int pods_object_key(pods_manager *m, const char *resource, const char *ns, const char *name,
                    const char *key, char **value, pr_error **err)
{
    _cleanup_json_ yajl_val rec = NULL;
    int r = pods_object_load(m, resource, ns, name, &rec, err);
    if (r < 0)
        return r;
    r = data_value(resource, json_get(rec, "object"), key, value);
    if (r == -EINVAL)
        return pr_err(err, 0, "%s \"%s\": key \"%s\" holds a NUL byte or bad base64", resource,
                      name, key);
    return r;
}

static void add_pairs(const char *resource, yajl_val obj, const char *field, char ***pairs)
{
    yajl_val d = json_get(obj, field);
    for (size_t i = 0; YAJL_IS_OBJECT(d) && i < d->u.object.len; i++) {
        _cleanup_free_ char *v = NULL;
        if (data_value(resource, obj, d->u.object.keys[i], &v) == 0)
            strv_consume(pairs, xasprintf("%s=%s", d->u.object.keys[i], v));
    }
}

int pods_object_pairs(pods_manager *m, const char *resource, const char *ns, const char *name,
                      char ***pairs, pr_error **err)
{
    _cleanup_json_ yajl_val rec = NULL;
    int r = pods_object_load(m, resource, ns, name, &rec, err);
    if (r < 0)
        return r;
    yajl_val obj = json_get(rec, "object");
    add_pairs(resource, obj, "data", pairs);
    if (streq(resource, "secrets"))
        add_pairs(resource, obj, "stringData", pairs);
    return 0;
}

void pods_files_clear(struct pods_files *f)
{
    for (size_t i = 0; i < f->n; i++) {
        free(f->v[i].key);
        free(f->v[i].data);
    }
    free(f->v);
    *f = (struct pods_files){0};
}

static struct pods_file *files_slot(struct pods_files *f, const char *key)
{
    for (size_t i = 0; i < f->n; i++)
        if (streq(f->v[i].key, key)) {
            free(f->v[i].data);
            return &f->v[i];
        }
    f->v = xrealloc(f->v, (f->n + 1) * sizeof(*f->v));
    f->v[f->n] = (struct pods_file){.key = xstrdup(key)};
    return &f->v[f->n++];
}

/* field's keys into f: base64-decoded when b64, as they are otherwise. */
static int add_files(yajl_val obj, const char *field, bool b64, struct pods_files *f)
{
    yajl_val d = json_get(obj, field);
    for (size_t i = 0; YAJL_IS_OBJECT(d) && i < d->u.object.len; i++) {
        yajl_val v = d->u.object.values[i];
        if (!YAJL_IS_STRING(v))
            continue;
        char *buf;
        size_t len;
        if (b64) {
            if (b64_decode_len(v->u.string, &buf, &len) < 0)
                return -EINVAL;
        } else {
            buf = xstrdup(v->u.string);
            len = strlen(buf);
        }
        struct pods_file *slot = files_slot(f, d->u.object.keys[i]);
        slot->data = buf;
        slot->len = len;
    }
    return 0;
}

int pods_object_files(pods_manager *m, const char *resource, const char *ns, const char *name,
                      struct pods_files *out, pr_error **err)
{
    _cleanup_json_ yajl_val rec = NULL;
    int r = pods_object_load(m, resource, ns, name, &rec, err);
    if (r < 0)
        return r;
    yajl_val obj = json_get(rec, "object");
    bool secret = streq(resource, "secrets");
    /* A Secret's stringData wins over its data, as the API server merges them. */
    if ((r = add_files(obj, "data", secret, out)) == 0)
        r = add_files(obj, secret ? "stringData" : "binaryData", !secret, out);
    if (r < 0) {
        pods_files_clear(out);
        return pr_err(err, 0, "%s \"%s\": a value is not base64", resource, name);
    }
    return 0;
}
