/* SPDX-License-Identifier: Apache-2.0 */
#include "json.h"
#include "fs.h"
#include "util.h"

#include <inttypes.h>

/* Counts brackets outside strings; malformed text is yajl's to report. */
static bool json_depth_ok(const char *text)
{
    unsigned depth = 0;
    bool in_string = false;
    for (const char *p = text; *p; p++) {
        if (in_string) {
            if (*p == '\\' && p[1])
                p++;
            else if (*p == '"')
                in_string = false;
        } else if (*p == '"') {
            in_string = true;
        } else if (*p == '[' || *p == '{') {
            if (++depth > JSON_MAX_DEPTH)
                return false;
        } else if ((*p == ']' || *p == '}') && depth > 0) {
            depth--;
        }
    }
    return true;
}

int json_parse(const char *text, const char *what, yajl_val *out, pr_error **err)
{
    if (!json_depth_ok(text))
        return pr_err(err, 0, "%s: JSON nested deeper than %d levels, the limit", what,
                      JSON_MAX_DEPTH);
    char ebuf[512] = "";
    yajl_val v = yajl_tree_parse(text, ebuf, sizeof(ebuf));
    if (!v) {
        /* yajl's message spans lines with a caret marker; keep the first line. */
        char *nl = strchr(ebuf, '\n');
        if (nl)
            *nl = '\0';
        return pr_err(err, 0, "%s: malformed JSON: %s", what, *ebuf ? ebuf : "parse error");
    }
    *out = v;
    return 0;
}

int json_parse_file(const char *path, yajl_val *out, pr_error **err)
{
    return json_parse_file_max(path, READ_FILE_DEFAULT_MAX, 0, out, err);
}

int json_parse_file_max(const char *path, size_t max, unsigned flags, yajl_val *out, pr_error **err)
{
    _cleanup_free_ char *text = NULL;
    size_t len;
    int r = read_file_max(path, max, flags, &text, &len, err);
    if (r < 0)
        return r;
    if (strlen(text) != len)
        return pr_err(err, 0, "%s: malformed JSON: contains a NUL byte", path);
    return json_parse(text, path, out, err);
}

yajl_val json_get(yajl_val obj, const char *key)
{
    if (!YAJL_IS_OBJECT(obj))
        return NULL;
    for (size_t i = 0; i < obj->u.object.len; i++)
        if (streq(obj->u.object.keys[i], key))
            return obj->u.object.values[i];
    return NULL;
}

const char *json_type_name(yajl_val v)
{
    if (!v || YAJL_IS_NULL(v))
        return "null";
    if (YAJL_IS_STRING(v))
        return "string";
    if (YAJL_IS_NUMBER(v))
        return "number";
    if (YAJL_IS_OBJECT(v))
        return "object";
    if (YAJL_IS_ARRAY(v))
        return "array";
    return "boolean";
}

static int wrong_type(const char *ctx, const char *key, const char *want, yajl_val v,
                      pr_error **err)
{
    return pr_err(err, 0, "%s%s%s: expected %s, got %s", ctx ? ctx : "", ctx ? "." : "", key, want,
                  json_type_name(v));
}

#define LOOKUP_OR_RETURN(v)                                                                        \
    yajl_val v = json_get(obj, key);                                                               \
    if (!v || YAJL_IS_NULL(v))                                                                     \
        return 0;

int json_get_str(yajl_val obj, const char *key, const char *ctx, const char **out, pr_error **err)
{
    LOOKUP_OR_RETURN(v);
    if (!YAJL_IS_STRING(v))
        return wrong_type(ctx, key, "string", v, err);
    *out = v->u.string;
    return 0;
}

int json_get_bool(yajl_val obj, const char *key, const char *ctx, bool *out, pr_error **err)
{
    LOOKUP_OR_RETURN(v);
    if (!YAJL_IS_TRUE(v) && !YAJL_IS_FALSE(v))
        return wrong_type(ctx, key, "boolean", v, err);
    *out = YAJL_IS_TRUE(v);
    return 0;
}

int json_get_int64(yajl_val obj, const char *key, const char *ctx, int64_t *out, pr_error **err)
{
    LOOKUP_OR_RETURN(v);
    if (!YAJL_IS_INTEGER(v))
        return wrong_type(ctx, key, "integer", v, err);
    *out = YAJL_GET_INTEGER(v);
    return 0;
}

int json_get_uint64(yajl_val obj, const char *key, const char *ctx, uint64_t *out, pr_error **err)
{
    LOOKUP_OR_RETURN(v);
    if (!YAJL_IS_NUMBER(v))
        return wrong_type(ctx, key, "unsigned integer", v, err);
    /* yajl parses integers as long long; values above INT64_MAX only survive as text. */
    const char *s = v->u.number.r;
    if (!s || *s == '-' || strpbrk(s, ".eE"))
        return wrong_type(ctx, key, "unsigned integer", v, err);
    char *end;
    errno = 0;
    unsigned long long u = strtoull(s, &end, 10);
    if (errno || *end)
        return pr_err(err, 0, "%s.%s: %s out of range", ctx ? ctx : "", key, s);
    *out = u;
    return 0;
}

int json_get_object(yajl_val obj, const char *key, const char *ctx, yajl_val *out, pr_error **err)
{
    LOOKUP_OR_RETURN(v);
    if (!YAJL_IS_OBJECT(v))
        return wrong_type(ctx, key, "object", v, err);
    *out = v;
    return 0;
}

int json_get_array(yajl_val obj, const char *key, const char *ctx, yajl_val *out, pr_error **err)
{
    LOOKUP_OR_RETURN(v);
    if (!YAJL_IS_ARRAY(v))
        return wrong_type(ctx, key, "array", v, err);
    *out = v;
    return 0;
}

int json_value_strv(yajl_val arr, const char *ctx, char ***out, pr_error **err)
{
    if (!YAJL_IS_ARRAY(arr))
        return pr_err(err, 0, "%s: expected array, got %s", ctx, json_type_name(arr));
    size_t n = arr->u.array.len;
    char **v = xcalloc(n + 1, sizeof(char *));
    for (size_t i = 0; i < n; i++) {
        yajl_val s = arr->u.array.values[i];
        if (!YAJL_IS_STRING(s)) {
            strv_freep(&v);
            return pr_err(err, 0, "%s[%zu]: expected string, got %s", ctx, i, json_type_name(s));
        }
        v[i] = xstrdup(s->u.string);
    }
    *out = v;
    return 0;
}

int json_get_strv(yajl_val obj, const char *key, const char *ctx, char ***out, pr_error **err)
{
    LOOKUP_OR_RETURN(v);
    _cleanup_free_ char *c = xasprintf("%s%s%s", ctx ? ctx : "", ctx ? "." : "", key);
    return json_value_strv(v, c, out, err);
}

yajl_gen json_gen_new(bool pretty)
{
    yajl_gen g = yajl_gen_alloc(NULL);
    if (!g)
        abort();
    yajl_gen_config(g, yajl_gen_beautify, pretty ? 1 : 0);
    yajl_gen_config(g, yajl_gen_validate_utf8, 0);
    return g;
}

void jg_str(yajl_gen g, const char *s)
{
    yajl_gen_string(g, (const unsigned char *)s, strlen(s));
}
void jg_key(yajl_gen g, const char *k)
{
    jg_str(g, k);
}
void jg_key_str(yajl_gen g, const char *k, const char *v)
{
    if (!v)
        return;
    jg_str(g, k);
    jg_str(g, v);
}
/* Numbers as digits we make (yajl_gen_integer would sprintf them): same output. */
void jg_key_int(yajl_gen g, const char *k, long long v)
{
    char buf[24];
    size_t n = format_ll(buf, v);
    jg_str(g, k);
    yajl_gen_number(g, buf, n);
}
void jg_key_uint(yajl_gen g, const char *k, unsigned long long v)
{
    char buf[24];
    size_t n = format_ull(buf, v);
    jg_str(g, k);
    yajl_gen_number(g, buf, n);
}
void jg_key_bool(yajl_gen g, const char *k, bool v)
{
    jg_str(g, k);
    yajl_gen_bool(g, v);
}
void jg_key_strv(yajl_gen g, const char *k, char *const *v)
{
    jg_str(g, k);
    yajl_gen_array_open(g);
    for (; v && *v; v++)
        jg_str(g, *v);
    yajl_gen_array_close(g);
}
void jg_key_kv(yajl_gen g, const char *k, char *const *kv)
{
    jg_str(g, k);
    yajl_gen_map_open(g);
    for (size_t i = 0; kv && kv[i] && kv[i + 1]; i += 2)
        jg_key_str(g, kv[i], kv[i + 1]);
    yajl_gen_map_close(g);
}
void jg_map_open(yajl_gen g)
{
    yajl_gen_map_open(g);
}
void jg_map_close(yajl_gen g)
{
    yajl_gen_map_close(g);
}
void jg_array_open(yajl_gen g)
{
    yajl_gen_array_open(g);
}
void jg_array_close(yajl_gen g)
{
    yajl_gen_array_close(g);
}

void jg_value(yajl_gen g, yajl_val v)
{
    if (!v || YAJL_IS_NULL(v)) {
        yajl_gen_null(g);
    } else if (YAJL_IS_STRING(v)) {
        jg_str(g, v->u.string);
    } else if (YAJL_IS_NUMBER(v)) {
        yajl_gen_number(g, v->u.number.r, strlen(v->u.number.r));
    } else if (YAJL_IS_TRUE(v) || YAJL_IS_FALSE(v)) {
        yajl_gen_bool(g, YAJL_IS_TRUE(v));
    } else if (YAJL_IS_ARRAY(v)) {
        yajl_gen_array_open(g);
        for (size_t i = 0; i < v->u.array.len; i++)
            jg_value(g, v->u.array.values[i]);
        yajl_gen_array_close(g);
    } else {
        yajl_gen_map_open(g);
        for (size_t i = 0; i < v->u.object.len; i++) {
            jg_str(g, v->u.object.keys[i]);
            jg_value(g, v->u.object.values[i]);
        }
        yajl_gen_map_close(g);
    }
}

const char *jg_buf(yajl_gen g, size_t *len)
{
    const unsigned char *buf;
    size_t l;
    yajl_gen_get_buf(g, &buf, &l);
    if (len)
        *len = l;
    return (const char *)buf;
}

static void gen_with(yajl_gen g, yajl_val v, const char *const *path,
                     void (*put)(yajl_gen g, void *ctx), void *ctx)
{
    if (!*path) {
        put(g, ctx);
        return;
    }
    bool seen = false;
    yajl_gen_map_open(g);
    for (size_t i = 0; v && YAJL_IS_OBJECT(v) && i < v->u.object.len; i++) {
        const char *k = v->u.object.keys[i];
        if (!streq(k, path[0])) {
            jg_str(g, k);
            jg_value(g, v->u.object.values[i]);
            continue;
        }
        seen = true;
        if (!put && !path[1])
            continue;
        jg_str(g, k);
        gen_with(g, v->u.object.values[i], path + 1, put, ctx);
    }
    /* A missing key is made (with the maps on its way) only to put something there. */
    if (!seen && put) {
        jg_str(g, path[0]);
        gen_with(g, NULL, path + 1, put, ctx);
    }
    yajl_gen_map_close(g);
}

int json_with(yajl_val obj, const char *const *path, void (*put)(yajl_gen g, void *ctx), void *ctx,
              yajl_val *out, pr_error **err)
{
    _cleanup_gen_ yajl_gen g = json_gen_new(false);
    gen_with(g, obj, path, put, ctx);
    size_t len;
    const char *buf = jg_buf(g, &len);
    _cleanup_free_ char *text = xstrndup(buf, len);
    return json_parse(text, "an edited object", out, err);
}
