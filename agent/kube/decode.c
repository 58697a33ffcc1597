/* SPDX-License-Identifier: Apache-2.0 */
#include "schema.h"
#include "json.h"
#include "util.h"

#include <errno.h>
#include <stdint.h>

#define AT(obj, off, type) ((type *)((char *)(obj) + (off)))

static int wrong(const char *path, const char *want, yajl_val v, pr_error **err)
{
    return pr_err(err, 0, "%s: must be %s, not %s", path, want, json_type_name(v));
}

static void set_has(const struct kube_field *f, void *obj)
{
    if (f->aux_offset && f->type != KF_LIST)
        *AT(obj, f->aux_offset - 1, bool) = true;
}

static int decode_int(const struct kube_field *f, yajl_val v, void *obj, const char *path,
                      pr_error **err)
{
    if (!YAJL_IS_INTEGER(v)) {
        /* 3.0 is an integer to the API server; 3.5 is not. */
        if (!YAJL_IS_DOUBLE(v) || v->u.number.d != (double)(long long)v->u.number.d)
            return wrong(path, "an integer", v, err);
    }
    long long i = YAJL_IS_INTEGER(v) ? YAJL_GET_INTEGER(v) : (long long)v->u.number.d;
    if (f->type == KF_INT32) {
        if (i < INT32_MIN || i > INT32_MAX)
            return pr_err(err, 0, "%s: %lld does not fit in 32 bits", path, i);
        *AT(obj, f->offset, int32_t) = (int32_t)i;
    } else {
        *AT(obj, f->offset, int64_t) = i;
    }
    set_has(f, obj);
    return 0;
}

static int decode_strv(yajl_val v, const char ***out, const char *path, pr_error **err)
{
    if (!YAJL_IS_ARRAY(v))
        return wrong(path, "a list of strings", v, err);
    const char **sv = xcalloc(v->u.array.len + 1, sizeof(char *));
    for (size_t i = 0; i < v->u.array.len; i++) {
        yajl_val e = v->u.array.values[i];
        if (!YAJL_IS_STRING(e)) {
            free(sv);
            _cleanup_free_ char *p = xasprintf("%s[%zu]", path, i);
            return wrong(p, "a string", e, err);
        }
        sv[i] = e->u.string;
    }
    *out = sv;
    return 0;
}

static int decode_map(yajl_val v, struct kube_map *m, const char *path, pr_error **err)
{
    if (!YAJL_IS_OBJECT(v))
        return wrong(path, "an object of strings", v, err);
    size_t n = v->u.object.len;
    m->keys = xcalloc(n + 1, sizeof(char *));
    m->values = xcalloc(n + 1, sizeof(char *));
    for (size_t i = 0; i < n; i++) {
        yajl_val e = v->u.object.values[i];
        if (!YAJL_IS_STRING(e)) {
            _cleanup_free_ char *p = xasprintf("%s.%s", path, v->u.object.keys[i]);
            return wrong(p, "a string", e, err);
        }
        m->keys[i] = v->u.object.keys[i];
        m->values[i] = e->u.string;
        m->n++;
    }
    return 0;
}

static int decode_list(const struct kube_field *f, yajl_val v, void *obj, const char *path,
                       pr_error **err)
{
    if (!YAJL_IS_ARRAY(v))
        return wrong(path, "a list", v, err);
    size_t n = v->u.array.len, sz = f->sub->size;
    char *items = xcalloc(n ? n : 1, sz);
    *AT(obj, f->offset, void *) = items;
    for (size_t i = 0; i < n; i++) {
        /* Counted first, so that what a failed element allocated is freed with the list. */
        *AT(obj, f->aux_offset, size_t) = i + 1;
        _cleanup_free_ char *p = xasprintf("%s[%zu]", path, i);
        int r = kube_decode(f->sub, v->u.array.values[i], items + i * sz, p, err);
        if (r < 0)
            return r;
    }
    return 0;
}

static int decode_field(const struct kube_field *f, yajl_val v, void *obj, const char *path,
                        pr_error **err)
{
    switch (f->type) {
    case KF_STRING:
        if (!YAJL_IS_STRING(v))
            return wrong(path, "a string", v, err);
        *AT(obj, f->offset, const char *) = v->u.string;
        set_has(f, obj);
        return 0;
    case KF_INT64:
    case KF_INT32:
        return decode_int(f, v, obj, path, err);
    case KF_BOOL:
        if (!YAJL_IS_TRUE(v) && !YAJL_IS_FALSE(v))
            return wrong(path, "true or false", v, err);
        *AT(obj, f->offset, bool) = YAJL_IS_TRUE(v);
        set_has(f, obj);
        return 0;
    case KF_STRV:
        return decode_strv(v, AT(obj, f->offset, const char **), path, err);
    case KF_MAP:
        return decode_map(v, AT(obj, f->offset, struct kube_map), path, err);
    case KF_INT_OR_STRING: {
        struct kube_int_or_string *is = AT(obj, f->offset, struct kube_int_or_string);
        if (YAJL_IS_STRING(v)) {
            *is = (struct kube_int_or_string){.set = true, .is_string = true, .s = v->u.string};
            return 0;
        }
        if (!YAJL_IS_INTEGER(v))
            return wrong(path, "an integer or a string", v, err);
        *is = (struct kube_int_or_string){.set = true, .i = YAJL_GET_INTEGER(v)};
        return 0;
    }
    case KF_OBJECT:
        set_has(f, obj);
        return kube_decode(f->sub, v, AT(obj, f->offset, void), path, err);
    case KF_LIST:
        return decode_list(f, v, obj, path, err);
    case KF_RAW:
        *AT(obj, f->offset, yajl_val) = v;
        return 0;
    case KF_IGNORED:
        return 0;
    case KF_UNSUPPORTED:
        return pr_err_code(err, EOPNOTSUPP, "%s: not supported by podrun", path);
    }
    return -EINVAL;
}

int kube_decode(const struct kube_schema *s, yajl_val v, void *obj, const char *path,
                pr_error **err)
{
    if (v && !YAJL_IS_NULL(v) && !YAJL_IS_OBJECT(v))
        return wrong(path, "an object", v, err);
    for (size_t i = 0; v && YAJL_IS_OBJECT(v) && i < v->u.object.len; i++) {
        const char *key = v->u.object.keys[i];
        yajl_val val = v->u.object.values[i];
        const struct kube_field *f = s->fields;
        while (f->name && !streq(f->name, key))
            f++;
        _cleanup_free_ char *p = *path ? xasprintf("%s.%s", path, key) : xstrdup(key);
        if (!f->name)
            return pr_err(err, 0, "%s: unknown field in %s", p, s->name);
        if (!val || YAJL_IS_NULL(val))
            continue;
        int r = decode_field(f, val, obj, p, err);
        if (r < 0)
            return r;
    }
    return s->validate ? s->validate(obj, path, err) : 0;
}

void kube_decode_free(const struct kube_schema *s, void *obj)
{
    for (const struct kube_field *f = s->fields; f->name; f++) {
        switch (f->type) {
        case KF_STRV:
            free(*AT(obj, f->offset, const char **));
            break;
        case KF_MAP: {
            struct kube_map *m = AT(obj, f->offset, struct kube_map);
            free(m->keys);
            free(m->values);
            break;
        }
        case KF_OBJECT:
            kube_decode_free(f->sub, AT(obj, f->offset, void));
            break;
        case KF_LIST: {
            char *items = *AT(obj, f->offset, char *);
            size_t n = *AT(obj, f->aux_offset, size_t);
            for (size_t i = 0; i < n; i++)
                kube_decode_free(f->sub, items + i * f->sub->size);
            free(items);
            break;
        }
        default:
            break;
        }
    }
}

const char *kube_map_get(const struct kube_map *m, const char *key)
{
    for (size_t i = 0; i < m->n; i++)
        if (streq(m->keys[i], key))
            return m->values[i];
    return NULL;
}
