/* SPDX-License-Identifier: Apache-2.0 */
/* JSON over yajl: parsing with errors that name the file and field, typed getters that
 * refuse the wrong type instead of guessing, and a thin writer over yajl_gen. */
#ifndef PODRUN_JSON_H
#define PODRUN_JSON_H

#include "error.h"
#include "fs.h" /* READ_REGULAR, READ_FILE_DEFAULT_MAX */

#include <stdbool.h>
#include <stdint.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

/* Nesting deeper than this is refused before yajl sees the text (DESIGN.md, "Limits"): yajl's
 * tree is freed by recursion, so a few hundred kilobytes of "[" would overflow the stack. */
#define JSON_MAX_DEPTH 64
int json_parse(const char *text, const char *what, yajl_val *out, pr_error **err);
/* The file read whole under read_file's default limit (any kind of file), or under max with
 * read_file_max's flags (READ_REGULAR). */
int json_parse_file(const char *path, yajl_val *out, pr_error **err);
int json_parse_file_max(const char *path, size_t max, unsigned flags, yajl_val *out,
                        pr_error **err);

static inline void yajl_tree_freep(yajl_val *v)
{
    if (*v)
        yajl_tree_free(*v);
}
#define _cleanup_json_ __attribute__((cleanup(yajl_tree_freep)))

/* Object member lookup; NULL when obj is not an object or has no such key. */
yajl_val json_get(yajl_val obj, const char *key);
const char *json_type_name(yajl_val v);

/* Typed getters: a missing key (or JSON null) leaves *out untouched and returns 0; a key of
 * the wrong type is an error naming ctx.key. */
int json_get_str(yajl_val obj, const char *key, const char *ctx, const char **out, pr_error **err);
int json_get_bool(yajl_val obj, const char *key, const char *ctx, bool *out, pr_error **err);
int json_get_int64(yajl_val obj, const char *key, const char *ctx, int64_t *out, pr_error **err);
int json_get_uint64(yajl_val obj, const char *key, const char *ctx, uint64_t *out, pr_error **err);
int json_get_object(yajl_val obj, const char *key, const char *ctx, yajl_val *out, pr_error **err);
int json_get_array(yajl_val obj, const char *key, const char *ctx, yajl_val *out, pr_error **err);
/* Array of strings as a NULL-terminated vector (freshly allocated, strings too). */
int json_get_strv(yajl_val obj, const char *key, const char *ctx, char ***out, pr_error **err);
int json_value_strv(yajl_val arr, const char *ctx, char ***out, pr_error **err);

static inline size_t json_array_len(yajl_val a)
{
    return YAJL_IS_ARRAY(a) ? a->u.array.len : 0;
}
static inline yajl_val json_array_at(yajl_val a, size_t i)
{
    return a->u.array.values[i];
}

/* Writer. */
yajl_gen json_gen_new(bool pretty);
static inline void yajl_gen_freep(yajl_gen *g)
{
    if (*g)
        yajl_gen_free(*g);
}
#define _cleanup_gen_ __attribute__((cleanup(yajl_gen_freep)))
void jg_str(yajl_gen g, const char *s);
void jg_key(yajl_gen g, const char *k);
void jg_key_str(yajl_gen g, const char *k, const char *v); /* v NULL: omitted */
void jg_key_int(yajl_gen g, const char *k, long long v);
void jg_key_uint(yajl_gen g, const char *k, unsigned long long v);
void jg_key_bool(yajl_gen g, const char *k, bool v);
/* "k": [strings of the NULL-terminated vector v] (an empty array for NULL). */
void jg_key_strv(yajl_gen g, const char *k, char *const *v);
/* "k": {the pairs of kv, key, value, ... NULL} (an empty object for NULL). */
void jg_key_kv(yajl_gen g, const char *k, char *const *kv);
void jg_map_open(yajl_gen g);
void jg_map_close(yajl_gen g);
void jg_array_open(yajl_gen g);
void jg_array_close(yajl_gen g);
/* Re-emit a parsed tree value verbatim. */
void jg_value(yajl_gen g, yajl_val v);
/* Returns the buffer (owned by g until yajl_gen_free) and its length. */
const char *jg_buf(yajl_gen g, size_t *len);
/* A copy of obj with the value at path (keys of nested maps, NULL-terminated) replaced by what
 * put writes, the maps on the way made when missing; put NULL removes the key. */
int json_with(yajl_val obj, const char *const *path, void (*put)(yajl_gen g, void *ctx), void *ctx,
              yajl_val *out, pr_error **err);

#endif
