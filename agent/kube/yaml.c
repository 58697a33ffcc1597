/* SPDX-License-Identifier: Apache-2.0 */
/* Manifests to trees. libyaml's event parser feeds an explicit stack (no recursion, so depth is
 * a counted limit, not the C stack's); aliases are copied with every node counted, so a
 * "billion laughs" document stops at the node limit. JSON is read by the same parser: a JSON
 * text is a YAML flow collection, and libyaml takes JSON's `"key":value` form. */
#include "kube.h"
#include "util.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <regex.h>
#include <yaml.h>

struct frame {
    yajl_val node;
    size_t cap;
    char *key;         /* a mapping's key waiting for its value */
    bool key_is_merge; /* that key is YAML's merge key `<<` */
    bool *merged;      /* per entry: came from a merge, so an explicit key replaces it */
    char *anchor;
    yaml_mark_t key_mark;
};

struct anchor {
    char *name;
    yajl_val node;
};

struct builder {
    const char *what;
    struct frame *stack;
    size_t depth, stack_cap;
    struct anchor *anchors;
    size_t n_anchors;
    size_t nodes;
    yajl_val root;
    yajl_val *orphans; /* merged-in values an anchor may still name: freed with the document */
    size_t n_orphans;
    pr_error **err;
};

static int fail_at(struct builder *b, yaml_mark_t m, const char *fmt, const char *arg)
{
    return pr_err(b->err, 0, "%s:%zu:%zu: %s%s%s", b->what, m.line + 1, m.column + 1, fmt,
                  arg ? " " : "", arg ? arg : "");
}

static int count_node(struct builder *b, yaml_mark_t m)
{
    if (++b->nodes > KUBE_MANIFEST_MAX_NODES)
        return pr_err(b->err, 0, "%s:%zu:%zu: more than %d values (aliases included): refused",
                      b->what, m.line + 1, m.column + 1, KUBE_MANIFEST_MAX_NODES);
    return 0;
}

/* ---- scalars ---- */

static yajl_val new_node(yajl_type t)
{
    yajl_val v = xcalloc(1, sizeof(*v));
    v->type = t;
    return v;
}

static bool in_list(const char *s, const char *const *list)
{
    for (; *list; list++)
        if (streq(s, *list))
            return true;
    return false;
}

static const char *const yes_words[] = {"y",    "Y",    "yes", "Yes", "YES", "true",
                                        "True", "TRUE", "on",  "On",  "ON",  NULL};
static const char *const no_words[] = {"n",     "N",     "no",  "No",  "NO",  "false",
                                       "False", "FALSE", "off", "Off", "OFF", NULL};
static const char *const null_words[] = {"", "~", "null", "Null", "NULL", NULL};

/* Digits with YAML's `_` separators dropped; NULL when s holds anything but a number's
 * characters, so that "1_000" is a number and "a_b" is not even tried. */
static char *strip_underscores(const char *s)
{
    char *out = xmalloc(strlen(s) + 1), *o = out;
    for (; *s; s++)
        if (*s != '_')
            *o++ = *s;
    *o = '\0';
    return out;
}

static bool parse_int(const char *text, long long *out)
{
    _cleanup_free_ char *s = strip_underscores(text);
    const char *p = s;
    bool neg = *p == '-';
    if (*p == '-' || *p == '+')
        p++;
    int base = 10;
    if (p[0] == '0' && (p[1] == 'b' || p[1] == 'B'))
        base = 2, p += 2;
    else if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
        base = 16, p += 2;
    else if (p[0] == '0' && p[1] == 'o')
        base = 8, p += 2;
    else if (p[0] == '0' && p[1])
        base = 8, p += 1; /* YAML 1.1: 0755 is octal */
    if (!*p)
        return false;
    unsigned long long v = 0;
    for (; *p; p++) {
        int d = *p >= '0' && *p <= '9'   ? *p - '0'
                : *p >= 'a' && *p <= 'f' ? *p - 'a' + 10
                : *p >= 'A' && *p <= 'F' ? *p - 'A' + 10
                                         : 99;
        if (d >= base || v > (ULLONG_MAX - (unsigned)d) / (unsigned)base)
            return false;
        v = v * (unsigned)base + (unsigned)d;
    }
    if (v > (unsigned long long)LLONG_MAX + neg)
        return false;
    *out = neg ? (long long)(0 - v) : (long long)v;
    return true;
}

static bool parse_float(const char *text, double *out)
{
    static const char *const inf[] = {".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", NULL};
    static const char *const ninf[] = {"-.inf", "-.Inf", "-.INF", NULL};
    static const char *const nan_words[] = {".nan", ".NaN", ".NAN", NULL};
    if (in_list(text, inf) || in_list(text, ninf) || in_list(text, nan_words)) {
        *out = in_list(text, nan_words) ? NAN : in_list(text, inf) ? INFINITY : -INFINITY;
        return true;
    }
    static regex_t re;
    static bool compiled;
    if (!compiled) {
        if (regcomp(&re, "^[-+]?(\\.[0-9]+|[0-9]+(\\.[0-9]*)?)([eE][-+]?[0-9]+)?$",
                    REG_EXTENDED | REG_NOSUB) != 0)
            abort();
        compiled = true;
    }
    _cleanup_free_ char *s = strip_underscores(text);
    if (regexec(&re, s, 0, NULL, 0) != 0)
        return false;
    char *end;
    errno = 0;
    *out = strtod(s, &end);
    return *end == '\0';
}

/* JSON's number syntax: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
static bool json_number_text(const char *s)
{
    if (*s == '-')
        s++;
    if (*s == '0')
        s++;
    else if (*s >= '1' && *s <= '9')
        s += strspn(s, "0123456789");
    else
        return false;
    if (*s == '.') {
        size_t n = strspn(++s, "0123456789");
        if (!n)
            return false;
        s += n;
    }
    if (*s == 'e' || *s == 'E') {
        s++;
        if (*s == '+' || *s == '-')
            s++;
        size_t n = strspn(s, "0123456789");
        if (!n)
            return false;
        s += n;
    }
    return *s == '\0';
}

/* The tree is written out as JSON (stored objects, `get -o json`): a YAML form JSON lacks
 * (0755, 0x1F, 1_000, +1, .5) gets its value's JSON text. */
static yajl_val number_node(const char *text, long long i, double d, bool is_int)
{
    yajl_val v = new_node(yajl_t_number);
    if (json_number_text(text))
        v->u.number.r = xstrdup(text);
    else if (is_int)
        v->u.number.r = xasprintf("%lld", i);
    else if (isfinite(d))
        v->u.number.r = xasprintf("%.17g", d);
    else
        v->u.number.r = xstrdup(text);
    v->u.number.d = is_int ? (double)i : d;
    v->u.number.i = is_int ? i : 0;
    v->u.number.flags = YAJL_NUMBER_DOUBLE_VALID | (is_int ? YAJL_NUMBER_INT_VALID : 0);
    return v;
}

static yajl_val string_node(const char *text)
{
    yajl_val v = new_node(yajl_t_string);
    v->u.string = xstrdup(text);
    return v;
}

#define YTAG(x) "tag:yaml.org,2002:" x

/* Resolves a scalar as Kubernetes' YAML decoder does; NULL for an unknown tag. */
static yajl_val resolve_scalar(const yaml_event_t *e, const char **why)
{
    const char *text = (const char *)e->data.scalar.value;
    const char *tag = (const char *)e->data.scalar.tag;
    bool plain = e->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
    long long i;
    double d;
    if (tag && !streq(tag, "!")) {
        if (streq(tag, YTAG("str")) || streq(tag, YTAG("binary")) || streq(tag, YTAG("timestamp")))
            return string_node(text);
        if (streq(tag, YTAG("null")))
            return new_node(yajl_t_null);
        if (streq(tag, YTAG("bool")) && (in_list(text, yes_words) || in_list(text, no_words)))
            return new_node(in_list(text, yes_words) ? yajl_t_true : yajl_t_false);
        if (streq(tag, YTAG("int")) && parse_int(text, &i))
            return number_node(text, i, 0, true);
        if (streq(tag, YTAG("float")) && (parse_int(text, &i) || parse_float(text, &d)))
            return parse_int(text, &i) ? number_node(text, 0, (double)i, false)
                                       : number_node(text, 0, d, false);
        *why = "a value its tag does not allow, or an unknown tag:";
        return NULL;
    }
    if (!plain || tag)
        return string_node(text);
    if (in_list(text, null_words))
        return new_node(yajl_t_null);
    if (in_list(text, yes_words))
        return new_node(yajl_t_true);
    if (in_list(text, no_words))
        return new_node(yajl_t_false);
    bool numeric = (*text >= '0' && *text <= '9') || *text == '-' || *text == '+' || *text == '.';
    if (numeric && parse_int(text, &i))
        return number_node(text, i, 0, true);
    if (numeric && parse_float(text, &d))
        return number_node(text, 0, d, false);
    return string_node(text);
}

/* ---- collections ---- */

static void object_put(struct frame *f, char *key, yajl_val v, bool merged)
{
    yajl_val o = f->node;
    if (o->u.object.len == f->cap) {
        f->cap = f->cap ? f->cap * 2 : 8;
        o->u.object.keys = xrealloc(o->u.object.keys, f->cap * sizeof(char *));
        o->u.object.values = xrealloc(o->u.object.values, f->cap * sizeof(yajl_val));
        f->merged = xrealloc(f->merged, f->cap * sizeof(bool));
    }
    o->u.object.keys[o->u.object.len] = key;
    o->u.object.values[o->u.object.len] = v;
    f->merged[o->u.object.len++] = merged;
}

static ssize_t object_find(yajl_val o, const char *key)
{
    for (size_t i = 0; i < o->u.object.len; i++)
        if (streq(o->u.object.keys[i], key))
            return (ssize_t)i;
    return -1;
}

static int copy_node(struct builder *b, yajl_val src, yaml_mark_t m, yajl_val *out);

/* `<<: *base` or `<<: [*a, *b]`: keys the mapping does not have yet come from the others. */
static int merge_into(struct builder *b, struct frame *f, yajl_val src, yaml_mark_t m)
{
    if (YAJL_IS_ARRAY(src)) {
        for (size_t i = 0; i < src->u.array.len; i++) {
            if (!YAJL_IS_OBJECT(src->u.array.values[i]))
                return fail_at(b, m, "a merge key `<<` takes mappings only", NULL);
            int r = merge_into(b, f, src->u.array.values[i], m);
            if (r < 0)
                return r;
        }
        return 0;
    }
    if (!YAJL_IS_OBJECT(src))
        return fail_at(b, m, "a merge key `<<` takes a mapping or a list of mappings", NULL);
    for (size_t i = 0; i < src->u.object.len; i++) {
        if (object_find(f->node, src->u.object.keys[i]) >= 0)
            continue;
        yajl_val v = NULL;
        int r = copy_node(b, src->u.object.values[i], m, &v);
        if (r < 0) {
            yajl_tree_free(v);
            return r;
        }
        object_put(f, xstrdup(src->u.object.keys[i]), v, true);
    }
    return 0;
}

/* Hands a finished value to its parent: the document root, an array's next element, or the
 * value of the pending key. Takes v in every case. */
static int attach(struct builder *b, yajl_val v, yaml_mark_t m)
{
    if (b->depth == 0) {
        b->root = v;
        return 0;
    }
    struct frame *f = &b->stack[b->depth - 1];
    yajl_val p = f->node;
    if (YAJL_IS_ARRAY(p)) {
        if (p->u.array.len == f->cap) {
            f->cap = f->cap ? f->cap * 2 : 8;
            p->u.array.values = xrealloc(p->u.array.values, f->cap * sizeof(yajl_val));
        }
        p->u.array.values[p->u.array.len++] = v;
        return 0;
    }
    if (!f->key) {
        yajl_tree_free(v);
        return fail_at(b, m, "a mapping key must be a plain value, not a list or a mapping", NULL);
    }
    _cleanup_free_ char *key = steal_pointer(&f->key);
    if (f->key_is_merge) {
        f->key_is_merge = false;
        int r = merge_into(b, f, v, f->key_mark);
        b->orphans = xrealloc(b->orphans, (b->n_orphans + 1) * sizeof(yajl_val));
        b->orphans[b->n_orphans++] = v;
        return r;
    }
    ssize_t at = object_find(p, key);
    if (at >= 0 && !f->merged[at]) {
        yajl_tree_free(v);
        return fail_at(b, f->key_mark, "duplicate key", key);
    }
    if (at >= 0) {
        yajl_tree_free(p->u.object.values[at]);
        p->u.object.values[at] = v;
        f->merged[at] = false;
        return 0;
    }
    object_put(f, steal_pointer(&key), v, false);
    return 0;
}

static int copy_node(struct builder *b, yajl_val src, yaml_mark_t m, yajl_val *out)
{
    int r = count_node(b, m);
    if (r < 0)
        return r;
    yajl_val v = new_node(src->type);
    *out = v;
    switch (src->type) {
    case yajl_t_string:
        v->u.string = xstrdup(src->u.string);
        return 0;
    case yajl_t_number:
        v->u.number = src->u.number;
        v->u.number.r = xstrdup(src->u.number.r);
        return 0;
    case yajl_t_array:
        v->u.array.values = xcalloc(src->u.array.len + 1, sizeof(yajl_val));
        /* Counted before the copy, so a copy cut short by the limit is freed whole. */
        for (size_t i = 0; i < src->u.array.len; i++) {
            v->u.array.len++;
            if ((r = copy_node(b, src->u.array.values[i], m, &v->u.array.values[i])) < 0)
                return r;
        }
        return 0;
    case yajl_t_object:
        v->u.object.keys = xcalloc(src->u.object.len + 1, sizeof(char *));
        v->u.object.values = xcalloc(src->u.object.len + 1, sizeof(yajl_val));
        for (size_t i = 0; i < src->u.object.len; i++) {
            v->u.object.keys[i] = xstrdup(src->u.object.keys[i]);
            v->u.object.len++;
            if ((r = copy_node(b, src->u.object.values[i], m, &v->u.object.values[i])) < 0)
                return r;
        }
        return 0;
    default:
        return 0;
    }
}

/* ---- anchors ---- */

static void remember_anchor(struct builder *b, const char *name, yajl_val v)
{
    /* A later anchor of the same name hides the earlier one, as in YAML. */
    b->anchors = xrealloc(b->anchors, (b->n_anchors + 1) * sizeof(*b->anchors));
    b->anchors[b->n_anchors++] = (struct anchor){xstrdup(name), v};
}

static yajl_val find_anchor(struct builder *b, const char *name)
{
    for (size_t i = b->n_anchors; i > 0; i--)
        if (streq(b->anchors[i - 1].name, name))
            return b->anchors[i - 1].node;
    return NULL;
}

static void forget_anchors(struct builder *b)
{
    for (size_t i = 0; i < b->n_orphans; i++)
        yajl_tree_free(b->orphans[i]);
    free(b->orphans);
    b->orphans = NULL;
    b->n_orphans = 0;
    for (size_t i = 0; i < b->n_anchors; i++)
        free(b->anchors[i].name);
    free(b->anchors);
    b->anchors = NULL;
    b->n_anchors = 0;
}

/* ---- events ---- */

static int push(struct builder *b, yajl_type t, const char *anchor, yaml_mark_t m)
{
    if (b->depth >= KUBE_MANIFEST_MAX_DEPTH)
        return pr_err(b->err, 0, "%s:%zu:%zu: nested more than %d deep: refused", b->what,
                      m.line + 1, m.column + 1, KUBE_MANIFEST_MAX_DEPTH);
    int r = count_node(b, m);
    if (r < 0)
        return r;
    if (b->depth == b->stack_cap) {
        b->stack_cap = b->stack_cap ? b->stack_cap * 2 : 16;
        b->stack = xrealloc(b->stack, b->stack_cap * sizeof(*b->stack));
    }
    b->stack[b->depth++] =
        (struct frame){.node = new_node(t), .anchor = anchor ? xstrdup(anchor) : NULL};
    return 0;
}

static int pop(struct builder *b, yaml_mark_t m)
{
    struct frame f = b->stack[--b->depth];
    free(f.key);
    free(f.merged);
    if (f.anchor)
        remember_anchor(b, f.anchor, f.node);
    free(f.anchor);
    return attach(b, f.node, m);
}

static bool awaiting_key(struct builder *b)
{
    if (b->depth == 0)
        return false;
    struct frame *f = &b->stack[b->depth - 1];
    return YAJL_IS_OBJECT(f->node) && !f->key;
}

static int on_scalar(struct builder *b, const yaml_event_t *e)
{
    const char *text = (const char *)e->data.scalar.value;
    if (awaiting_key(b)) {
        struct frame *f = &b->stack[b->depth - 1];
        f->key_is_merge = e->data.scalar.style == YAML_PLAIN_SCALAR_STYLE && streq(text, "<<");
        f->key = xstrdup(text);
        f->key_mark = e->start_mark;
        return 0;
    }
    int r = count_node(b, e->start_mark);
    if (r < 0)
        return r;
    const char *why = NULL;
    yajl_val v = resolve_scalar(e, &why);
    if (!v)
        return fail_at(b, e->start_mark, why, (const char *)e->data.scalar.tag);
    if (e->data.scalar.anchor)
        remember_anchor(b, (const char *)e->data.scalar.anchor, v);
    return attach(b, v, e->start_mark);
}

static int on_alias(struct builder *b, const yaml_event_t *e)
{
    const char *name = (const char *)e->data.alias.anchor;
    yajl_val src = find_anchor(b, name);
    if (!src)
        return fail_at(b, e->start_mark, "alias to an unknown (or enclosing) anchor", name);
    if (awaiting_key(b)) {
        if (!YAJL_IS_STRING(src) && !YAJL_IS_NUMBER(src))
            return fail_at(b, e->start_mark, "a mapping key must be a plain value:", name);
        struct frame *f = &b->stack[b->depth - 1];
        f->key = xstrdup(YAJL_IS_STRING(src) ? src->u.string : src->u.number.r);
        f->key_mark = e->start_mark;
        return 0;
    }
    yajl_val v = NULL;
    int r = copy_node(b, src, e->start_mark, &v);
    if (r < 0) {
        yajl_tree_free(v);
        return r;
    }
    return attach(b, v, e->start_mark);
}

static const char *collection_tag_problem(const yaml_char_t *tag, bool mapping)
{
    if (!tag || streq((const char *)tag, "!"))
        return NULL;
    if (streq((const char *)tag, mapping ? YTAG("map") : YTAG("seq")))
        return NULL;
    return "an unknown tag:";
}

static void builder_reset(struct builder *b)
{
    while (b->depth > 0) {
        struct frame *f = &b->stack[--b->depth];
        yajl_tree_free(f->node);
        free(f->key);
        free(f->merged);
        free(f->anchor);
    }
    /* Anchored nodes live in the tree (or were freed with it); only names are ours. */
    forget_anchors(b);
    yajl_tree_free(b->root);
    b->root = NULL;
}

static int on_event(struct builder *b, const yaml_event_t *e, struct kube_docs *docs)
{
    const char *problem;
    switch (e->type) {
    case YAML_DOCUMENT_START_EVENT:
        builder_reset(b);
        return 0;
    case YAML_DOCUMENT_END_EVENT:
        forget_anchors(b);
        if (b->root && !YAJL_IS_NULL(b->root)) {
            if (docs->n >= KUBE_MANIFEST_MAX_DOCS)
                return pr_err(b->err, 0, "%s: more than %d documents: refused", b->what,
                              KUBE_MANIFEST_MAX_DOCS);
            docs->v = xrealloc(docs->v, (docs->n + 1) * sizeof(yajl_val));
            docs->v[docs->n++] = steal_pointer(&b->root);
        }
        return 0;
    case YAML_MAPPING_START_EVENT:
        if ((problem = collection_tag_problem(e->data.mapping_start.tag, true)))
            return fail_at(b, e->start_mark, problem, (const char *)e->data.mapping_start.tag);
        if (awaiting_key(b))
            return fail_at(b, e->start_mark,
                           "a mapping key must be a plain value, not a list or a mapping", NULL);
        return push(b, yajl_t_object, (const char *)e->data.mapping_start.anchor, e->start_mark);
    case YAML_SEQUENCE_START_EVENT:
        if ((problem = collection_tag_problem(e->data.sequence_start.tag, false)))
            return fail_at(b, e->start_mark, problem, (const char *)e->data.sequence_start.tag);
        if (awaiting_key(b))
            return fail_at(b, e->start_mark,
                           "a mapping key must be a plain value, not a list or a mapping", NULL);
        return push(b, yajl_t_array, (const char *)e->data.sequence_start.anchor, e->start_mark);
    case YAML_MAPPING_END_EVENT:
    case YAML_SEQUENCE_END_EVENT:
        return pop(b, e->start_mark);
    case YAML_SCALAR_EVENT:
        return on_scalar(b, e);
    case YAML_ALIAS_EVENT:
        return on_alias(b, e);
    default:
        return 0;
    }
}

void kube_docs_clear(struct kube_docs *d)
{
    for (size_t i = 0; i < d->n; i++)
        yajl_tree_free(d->v[i]);
    free(d->v);
    d->v = NULL;
    d->n = 0;
}

int kube_parse_manifest(const char *text, size_t len, const char *what, struct kube_docs *out,
                        pr_error **err)
{
    if (len > KUBE_MANIFEST_MAX_BYTES)
        return pr_err(err, EFBIG, "%s: %zu bytes, over the %u-byte limit of a manifest", what, len,
                      KUBE_MANIFEST_MAX_BYTES);
    if (memchr(text, '\0', len))
        return pr_err(err, 0, "%s: holds a NUL byte: not a YAML or JSON text", what);
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser))
        return pr_err(err, ENOMEM, "%s: cannot set up the YAML parser", what);
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    struct builder b = {.what = what, .err = err};
    struct kube_docs docs = {0};
    int r = 0;
    for (bool done = false; !done && r == 0;) {
        yaml_event_t e;
        if (!yaml_parser_parse(&parser, &e)) {
            r = pr_err(err, 0, "%s:%zu:%zu: %s%s%s", what, parser.problem_mark.line + 1,
                       parser.problem_mark.column + 1,
                       parser.problem ? parser.problem : "malformed", parser.context ? " " : "",
                       parser.context ? parser.context : "");
            break;
        }
        done = e.type == YAML_STREAM_END_EVENT;
        r = on_event(&b, &e, &docs);
        yaml_event_delete(&e);
    }
    builder_reset(&b);
    free(b.stack);
    yaml_parser_delete(&parser);
    if (r < 0) {
        kube_docs_clear(&docs);
        return r;
    }
    *out = docs;
    return 0;
}

/* ---- emitting: a JSON tree as kubectl's YAML ---- */

/* Whether a plain scalar with this text would be read back as something other than this
 * string (null, a bool, a number, a timestamp): such a string is written double-quoted, as
 * kubectl writes "123", "true" and "2024-01-02T03:04:05Z". */
static bool plain_changes_type(const char *s)
{
    long long i;
    double d;
    if (in_list(s, null_words) || in_list(s, yes_words) || in_list(s, no_words))
        return true;
    bool numeric = (*s >= '0' && *s <= '9') || *s == '-' || *s == '+' || *s == '.';
    if (numeric && (parse_int(s, &i) || parse_float(s, &d)))
        return true;
    /* YAML 1.1 timestamps begin with a date. */
    return strlen(s) >= 8 && strspn(s, "0123456789") == 4 && s[4] == '-';
}

struct emit_buf {
    char *data;
    size_t len, cap;
};

static int emit_write(void *data, unsigned char *buffer, size_t size)
{
    struct emit_buf *b = data;
    if (b->len + size + 1 > b->cap) {
        b->cap = (b->len + size + 1) * 2;
        b->data = xrealloc(b->data, b->cap);
    }
    memcpy(b->data + b->len, buffer, size);
    b->len += size;
    b->data[b->len] = '\0';
    return 1;
}

static bool emit_scalar(yaml_emitter_t *em, const char *text, bool is_string)
{
    yaml_event_t ev;
    yaml_scalar_style_t style = YAML_ANY_SCALAR_STYLE;
    if (is_string && plain_changes_type(text))
        style = YAML_DOUBLE_QUOTED_SCALAR_STYLE;
    else if (is_string && strchr(text, '\n'))
        style = YAML_LITERAL_SCALAR_STYLE; /* libyaml falls back when a literal cannot be */
    if (!yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)text, (int)strlen(text),
                                      !is_string || style == YAML_ANY_SCALAR_STYLE ||
                                          style == YAML_LITERAL_SCALAR_STYLE,
                                      is_string, style))
        return false;
    return yaml_emitter_emit(em, &ev);
}

static int key_cmp(const void *a, const void *b)
{
    return strcmp(**(const char *const *const *)a, **(const char *const *const *)b);
}

#define EMIT_MAX_DEPTH 64

static bool emit_value(yaml_emitter_t *em, yajl_val v, int depth)
{
    yaml_event_t ev;
    if (depth > EMIT_MAX_DEPTH)
        return false;
    if (!v || YAJL_IS_NULL(v))
        return emit_scalar(em, "null", false);
    if (YAJL_IS_TRUE(v) || YAJL_IS_FALSE(v))
        return emit_scalar(em, YAJL_IS_TRUE(v) ? "true" : "false", false);
    if (YAJL_IS_NUMBER(v))
        return emit_scalar(em, v->u.number.r, false);
    if (YAJL_IS_STRING(v))
        return emit_scalar(em, v->u.string, true);
    bool empty = YAJL_IS_OBJECT(v) ? v->u.object.len == 0 : v->u.array.len == 0;
    /* kubectl writes an empty map or list in flow style: {} and []. */
    if (YAJL_IS_ARRAY(v)) {
        if (!yaml_sequence_start_event_initialize(
                &ev, NULL, NULL, 1, empty ? YAML_FLOW_SEQUENCE_STYLE : YAML_BLOCK_SEQUENCE_STYLE) ||
            !yaml_emitter_emit(em, &ev))
            return false;
        for (size_t i = 0; i < v->u.array.len; i++)
            if (!emit_value(em, v->u.array.values[i], depth + 1))
                return false;
        return yaml_sequence_end_event_initialize(&ev) && yaml_emitter_emit(em, &ev);
    }
    if (!yaml_mapping_start_event_initialize(
            &ev, NULL, NULL, 1, empty ? YAML_FLOW_MAPPING_STYLE : YAML_BLOCK_MAPPING_STYLE) ||
        !yaml_emitter_emit(em, &ev))
        return false;
    /* Sorted keys, as kubectl's JSON-to-YAML conversion writes them. */
    size_t n = v->u.object.len;
    const char ***order = xcalloc(n + 1, sizeof(*order));
    for (size_t i = 0; i < n; i++)
        order[i] = &v->u.object.keys[i];
    qsort(order, n, sizeof(*order), key_cmp);
    bool ok = true;
    for (size_t i = 0; ok && i < n; i++) {
        size_t at = (size_t)(order[i] - v->u.object.keys);
        ok = emit_scalar(em, v->u.object.keys[at], true) &&
             emit_value(em, v->u.object.values[at], depth + 1);
    }
    free(order);
    return ok && yaml_mapping_end_event_initialize(&ev) && yaml_emitter_emit(em, &ev);
}

int kube_yaml_emit(yajl_val v, char **out, size_t *len, pr_error **err)
{
    yaml_emitter_t em;
    yaml_event_t ev;
    struct emit_buf b = {0};
    if (!yaml_emitter_initialize(&em))
        return pr_err_code(err, ENOMEM, "YAML emitter");
    yaml_emitter_set_output(&em, emit_write, &b);
    yaml_emitter_set_unicode(&em, 1);
    yaml_emitter_set_width(&em, -1);
    yaml_emitter_set_indent(&em, 2);
    bool ok = yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING) &&
              yaml_emitter_emit(&em, &ev) &&
              yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1) &&
              yaml_emitter_emit(&em, &ev) && emit_value(&em, v, 0) &&
              yaml_document_end_event_initialize(&ev, 1) && yaml_emitter_emit(&em, &ev) &&
              yaml_stream_end_event_initialize(&ev) && yaml_emitter_emit(&em, &ev);
    const char *problem = em.problem;
    yaml_emitter_delete(&em);
    if (!ok) {
        free(b.data);
        return pr_err(err, 0, "emit YAML: %s", problem ? problem : "too deep or not valid");
    }
    *out = b.data ? b.data : xstrdup("");
    *len = b.len;
    return 0;
}
