/* SPDX-License-Identifier: Apache-2.0 */
/* Label selectors: kubectl's `-l` string and the API's matchLabels/matchExpressions, with the
 * API server's rules for keys (an optional DNS-subdomain prefix and a name of at most 63
 * characters) and values (at most 63, alphanumeric at both ends). */
#include "kube.h"
#include "json.h"
#include "util.h"

#include <ctype.h>

#define SELECTOR_MAX_LEN          4096
#define SELECTOR_MAX_REQUIREMENTS 256
#define LABEL_NAME_MAX            63
#define LABEL_PREFIX_MAX          253

static bool alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* [A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?, at most 63; empty only when allowed. */
static bool valid_name(const char *s, size_t n, bool empty_ok)
{
    if (n == 0)
        return empty_ok;
    if (n > LABEL_NAME_MAX || !alnum(s[0]) || !alnum(s[n - 1]))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!alnum(s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.')
            return false;
    return true;
}

/* A DNS subdomain: lowercase labels of [a-z0-9-] joined by dots, at most 253. */
static bool valid_prefix(const char *s, size_t n)
{
    if (n == 0 || n > LABEL_PREFIX_MAX)
        return false;
    for (size_t i = 0, start = 0; i <= n; i++) {
        if (i < n && s[i] != '.') {
            if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
                return false;
            continue;
        }
        if (i == start || s[start] == '-' || s[i - 1] == '-')
            return false;
        start = i + 1;
    }
    return true;
}

static bool valid_key(const char *k)
{
    const char *slash = strchr(k, '/');
    if (!slash)
        return valid_name(k, strlen(k), false);
    return valid_prefix(k, (size_t)(slash - k)) && valid_name(slash + 1, strlen(slash + 1), false);
}

static int add_requirement(struct kube_selector *s, char *key, enum kube_sel_op op, char **values,
                           pr_error **err)
{
    if (s->n == SELECTOR_MAX_REQUIREMENTS) {
        free(key);
        strv_free(values);
        return pr_err(err, 0, "selector: more than %d requirements", SELECTOR_MAX_REQUIREMENTS);
    }
    s->req = xrealloc(s->req, (s->n + 1) * sizeof(*s->req));
    s->req[s->n++] = (struct kube_requirement){key, op, values};
    return 0;
}

void kube_selector_clear(struct kube_selector *s)
{
    for (size_t i = 0; i < s->n; i++) {
        free(s->req[i].key);
        strv_free(s->req[i].values);
    }
    free(s->req);
    s->req = NULL;
    s->n = 0;
}

/* ---- the string form ---- */

struct lexer {
    const char *p;
    const char *whole;
};

static void skip_space(struct lexer *l)
{
    while (*l->p == ' ' || *l->p == '\t')
        l->p++;
}

/* A key or value token: anything up to a delimiter. */
static char *token(struct lexer *l)
{
    skip_space(l);
    const char *start = l->p;
    while (*l->p && !strchr(" \t,=!()", *l->p))
        l->p++;
    return xstrndup(start, (size_t)(l->p - start));
}

static bool word_at(struct lexer *l, const char *w)
{
    size_t n = strlen(w);
    if (strncmp(l->p, w, n) != 0 || (l->p[n] && !strchr(" \t(", l->p[n])))
        return false;
    l->p += n;
    return true;
}

static int bad(struct lexer *l, pr_error **err, const char *what)
{
    return pr_err(err, 0, "selector `%s`: %s at character %zu", l->whole, what,
                  (size_t)(l->p - l->whole) + 1);
}

static int parse_set(struct lexer *l, char ***values, pr_error **err)
{
    skip_space(l);
    if (*l->p != '(')
        return bad(l, err, "expected `(`");
    l->p++;
    for (;;) {
        _cleanup_free_ char *v = token(l);
        if (!valid_name(v, strlen(v), true))
            return bad(l, err, "invalid value");
        strv_consume(values, steal_pointer(&v));
        skip_space(l);
        if (*l->p == ',') {
            l->p++;
            continue;
        }
        if (*l->p == ')') {
            l->p++;
            return 0;
        }
        return bad(l, err, "expected `,` or `)`");
    }
}

static int parse_requirement(struct lexer *l, struct kube_selector *s, pr_error **err)
{
    skip_space(l);
    bool negated = *l->p == '!';
    if (negated)
        l->p++;
    _cleanup_free_ char *key = token(l);
    if (!valid_key(key))
        return bad(l, err, *key ? "invalid label key" : "expected a label key");
    skip_space(l);
    if (negated || *l->p == ',' || !*l->p)
        return add_requirement(s, steal_pointer(&key),
                               negated ? KUBE_SEL_NOTEXISTS : KUBE_SEL_EXISTS, NULL, err);
    enum kube_sel_op op;
    _cleanup_strv_ char **values = NULL;
    if (*l->p == '=' || *l->p == '!') {
        op = *l->p == '!' ? KUBE_SEL_NE : KUBE_SEL_EQ;
        if (*l->p == '!' && l->p[1] != '=')
            return bad(l, err, "expected `!=`");
        l->p += *l->p == '!' || l->p[1] == '=' ? 2 : 1;
        _cleanup_free_ char *v = token(l);
        if (!valid_name(v, strlen(v), true))
            return bad(l, err, "invalid label value");
        strv_consume(&values, steal_pointer(&v));
    } else if (word_at(l, "in")) {
        op = KUBE_SEL_IN;
        int r = parse_set(l, &values, err);
        if (r < 0)
            return r;
    } else if (word_at(l, "notin")) {
        op = KUBE_SEL_NOTIN;
        int r = parse_set(l, &values, err);
        if (r < 0)
            return r;
    } else {
        return bad(l, err, "expected `=`, `==`, `!=`, `in`, `notin` or `,`");
    }
    return add_requirement(s, steal_pointer(&key), op, steal_pointer(&values), err);
}

int kube_selector_parse(const char *str, struct kube_selector *out, pr_error **err)
{
    if (strnlen(str, SELECTOR_MAX_LEN + 1) > SELECTOR_MAX_LEN)
        return pr_err(err, 0, "selector: longer than %d characters", SELECTOR_MAX_LEN);
    struct lexer l = {str, str};
    struct kube_selector s = {0};
    skip_space(&l);
    while (*l.p) {
        int r = parse_requirement(&l, &s, err);
        if (r == 0) {
            skip_space(&l);
            if (*l.p == ',' && l.p[1])
                l.p++;
            else if (*l.p == ',')
                r = bad(&l, err, "nothing after `,`");
            else if (*l.p)
                r = bad(&l, err, "expected `,`");
        }
        if (r < 0) {
            kube_selector_clear(&s);
            return r;
        }
    }
    *out = s;
    return 0;
}

/* ---- the API form ---- */

static int from_match_labels(yajl_val ml, const char *ctx, struct kube_selector *s, pr_error **err)
{
    if (!ml || YAJL_IS_NULL(ml))
        return 0;
    if (!YAJL_IS_OBJECT(ml))
        return pr_err(err, 0, "%s.matchLabels: must be an object", ctx);
    for (size_t i = 0; i < ml->u.object.len; i++) {
        const char *k = ml->u.object.keys[i];
        yajl_val v = ml->u.object.values[i];
        if (!valid_key(k))
            return pr_err(err, 0, "%s.matchLabels: invalid label key `%s`", ctx, k);
        if (!YAJL_IS_STRING(v) || !valid_name(v->u.string, strlen(v->u.string), true))
            return pr_err(err, 0, "%s.matchLabels.%s: must be a valid label value", ctx, k);
        char **values = NULL;
        strv_consume(&values, xstrdup(v->u.string));
        int r = add_requirement(s, xstrdup(k), KUBE_SEL_EQ, values, err);
        if (r < 0)
            return r;
    }
    return 0;
}

static int from_expression(yajl_val e, const char *ctx, struct kube_selector *s, pr_error **err)
{
    static const struct {
        const char *name;
        enum kube_sel_op op;
        bool values;
    } ops[] = {{"In", KUBE_SEL_IN, true},
               {"NotIn", KUBE_SEL_NOTIN, true},
               {"Exists", KUBE_SEL_EXISTS, false},
               {"DoesNotExist", KUBE_SEL_NOTEXISTS, false}};
    const char *key = NULL, *op = NULL;
    _cleanup_strv_ char **values = NULL;
    int r;
    if ((r = json_get_str(e, "key", ctx, &key, err)) < 0 ||
        (r = json_get_str(e, "operator", ctx, &op, err)) < 0 ||
        (r = json_get_strv(e, "values", ctx, &values, err)) < 0)
        return r;
    if (!key || !valid_key(key))
        return pr_err(err, 0, "%s.key: missing or not a valid label key", ctx);
    for (size_t i = 0; op && i < ARRAY_SIZE(ops); i++) {
        if (!streq(op, ops[i].name))
            continue;
        bool has = values && values[0];
        if (has != ops[i].values)
            return pr_err(err, 0, "%s.values: %s for operator %s", ctx,
                          has ? "must be empty" : "must be non-empty", op);
        for (char **v = values; v && *v; v++)
            if (!valid_name(*v, strlen(*v), true))
                return pr_err(err, 0, "%s.values: `%s` is not a valid label value", ctx, *v);
        return add_requirement(s, xstrdup(key), ops[i].op, steal_pointer(&values), err);
    }
    return pr_err(err, 0, "%s.operator: `%s` (In, NotIn, Exists or DoesNotExist)", ctx,
                  op ? op : "");
}

int kube_selector_from_object(yajl_val sel, const char *ctx, struct kube_selector *out,
                              pr_error **err)
{
    struct kube_selector s = {0};
    if (sel && !YAJL_IS_NULL(sel) && !YAJL_IS_OBJECT(sel))
        return pr_err(err, 0, "%s: must be an object", ctx);
    yajl_val exprs = json_get(sel, "matchExpressions");
    int r = from_match_labels(json_get(sel, "matchLabels"), ctx, &s, err);
    if (r == 0 && exprs && !YAJL_IS_NULL(exprs) && !YAJL_IS_ARRAY(exprs))
        r = pr_err(err, 0, "%s.matchExpressions: must be a list", ctx);
    for (size_t i = 0; r == 0 && i < json_array_len(exprs); i++) {
        _cleanup_free_ char *c = xasprintf("%s.matchExpressions[%zu]", ctx, i);
        r = from_expression(json_array_at(exprs, i), c, &s, err);
    }
    for (size_t i = 0; r == 0 && sel && YAJL_IS_OBJECT(sel) && i < sel->u.object.len; i++) {
        const char *k = sel->u.object.keys[i];
        if (!streq(k, "matchLabels") && !streq(k, "matchExpressions"))
            r = pr_err(err, 0, "%s: unknown field `%s`", ctx, k);
    }
    if (r < 0) {
        kube_selector_clear(&s);
        return r;
    }
    *out = s;
    return 0;
}

/* ---- matching ---- */

static const char *label_of(yajl_val labels, const char *key)
{
    yajl_val v = json_get(labels, key);
    return v && YAJL_IS_STRING(v) ? v->u.string : NULL;
}

static bool in_values(char *const *values, const char *v)
{
    for (; values && *values; values++)
        if (streq(*values, v))
            return true;
    return false;
}

bool kube_selector_matches(const struct kube_selector *s, yajl_val labels)
{
    for (size_t i = 0; i < s->n; i++) {
        const struct kube_requirement *r = &s->req[i];
        const char *v = label_of(labels, r->key);
        bool ok;
        switch (r->op) {
        case KUBE_SEL_EQ:
        case KUBE_SEL_IN:
            ok = v && in_values(r->values, v);
            break;
        case KUBE_SEL_NE:
        case KUBE_SEL_NOTIN:
            ok = !v || !in_values(r->values, v);
            break;
        case KUBE_SEL_EXISTS:
            ok = v != NULL;
            break;
        default:
            ok = v == NULL;
            break;
        }
        if (!ok)
            return false;
    }
    return true;
}
