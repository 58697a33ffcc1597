/* SPDX-License-Identifier: Apache-2.0 */
#include "regconf.h"
#include "fs.h"
#include "util.h"

#include <ctype.h>

void reg_conf_clear(reg_conf *c)
{
    strv_freep(&c->search);
    for (size_t i = 0; i < c->nregs; i++) {
        reg_entry *r = &c->regs[i];
        free(r->prefix);
        free(r->main.location);
        for (size_t j = 0; j < r->nmirrors; j++)
            free(r->mirrors[j].location);
        free(r->mirrors);
    }
    free(c->regs);
    strv_freep(&c->alias_names);
    strv_freep(&c->alias_targets);
    memset(c, 0, sizeof(*c));
}

static char *skip_ws(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    return s;
}

/* A TOML basic or literal string at *p; advances past it. */
static int parse_string(char **p, char **out)
{
    char q = **p;
    if (q != '"' && q != '\'')
        return -1;
    char *s = *p + 1, *o = xmalloc(strlen(s) + 1);
    size_t n = 0;
    for (; *s && *s != q; s++) {
        if (q == '"' && *s == '\\' && s[1])
            s++;
        o[n++] = *s;
    }
    if (*s != q) {
        free(o);
        return -1;
    }
    o[n] = '\0';
    *p = s + 1;
    *out = o;
    return 0;
}

/* Removes a trailing # comment outside strings. */
static void strip_comment(char *line)
{
    char q = 0;
    for (char *c = line; *c; c++) {
        if (q) {
            if (*c == '\\' && q == '"' && c[1])
                c++;
            else if (*c == q)
                q = 0;
        } else if (*c == '"' || *c == '\'') {
            q = *c;
        } else if (*c == '#') {
            *c = '\0';
            return;
        }
    }
}

static bool brackets_balanced(const char *s)
{
    int depth = 0;
    char q = 0;
    for (; *s; s++) {
        if (q) {
            if (*s == q)
                q = 0;
        } else if (*s == '"' || *s == '\'') {
            q = *s;
        } else if (*s == '[') {
            depth++;
        } else if (*s == ']') {
            depth--;
        }
    }
    return depth <= 0;
}

enum section { SEC_TOP, SEC_REGISTRY, SEC_MIRROR, SEC_ALIASES, SEC_OTHER };

static int set_value(reg_conf *c, enum section sec, const char *key, char *val, const char *what,
                     int lineno, pr_error **err)
{
    val = skip_ws(val);
    char *str = NULL;
    bool is_bool = false, b = false;
    if (*val == '"' || *val == '\'') {
        if (parse_string(&val, &str) < 0)
            return pr_err(err, 0, "%s:%d: unterminated string", what, lineno);
    } else if (has_prefix(val, "true") || has_prefix(val, "false")) {
        is_bool = true;
        b = val[0] == 't';
    } else if (*val == '[') {
        if (sec != SEC_TOP || !streq(key, "unqualified-search-registries"))
            return 0;
        strv_freep(&c->search);
        c->search = xcalloc(1, sizeof(char *));
        val++;
        for (;;) {
            val = skip_ws(val);
            if (*val == ',') {
                val++;
                continue;
            }
            if (*val == ']' || !*val)
                break;
            char *item;
            if (parse_string(&val, &item) < 0)
                return pr_err(err, 0, "%s:%d: bad array", what, lineno);
            strv_consume(&c->search, item);
        }
        return 0;
    }
    _cleanup_free_ char *owned = str;
    reg_entry *r = c->nregs ? &c->regs[c->nregs - 1] : NULL;
    reg_endpoint *m = r && r->nmirrors ? &r->mirrors[r->nmirrors - 1] : NULL;
    if (sec == SEC_REGISTRY && r) {
        if (streq(key, "prefix") && str)
            free(r->prefix), r->prefix = steal_pointer(&owned);
        else if (streq(key, "location") && str)
            free(r->main.location), r->main.location = steal_pointer(&owned);
        else if (streq(key, "insecure") && is_bool)
            r->main.insecure = b;
        else if (streq(key, "blocked") && is_bool)
            r->blocked = b;
    } else if (sec == SEC_MIRROR && m) {
        if (streq(key, "location") && str)
            free(m->location), m->location = steal_pointer(&owned);
        else if (streq(key, "insecure") && is_bool)
            m->insecure = b;
    } else if (sec == SEC_ALIASES && str) {
        strv_consume(&c->alias_names, xstrdup(key));
        strv_consume(&c->alias_targets, steal_pointer(&owned));
    }
    return 0;
}

int reg_conf_parse(const char *text, const char *what, reg_conf *out, pr_error **err)
{
    reg_conf c = {0};
    _cleanup_free_ char *copy = xstrdup(text);
    enum section sec = SEC_TOP;
    int lineno = 0, r = 0;
    char *save = NULL;
    for (char *line = strtok_r(copy, "\n", &save); line && r == 0;
         line = strtok_r(NULL, "\n", &save)) {
        lineno++;
        strip_comment(line);
        _cleanup_free_ char *joined = xstrdup(line);
        /* Arrays may span lines. */
        while (!brackets_balanced(joined)) {
            char *next = strtok_r(NULL, "\n", &save);
            if (!next)
                break;
            lineno++;
            strip_comment(next);
            char *j = xasprintf("%s %s", joined, next);
            free(joined);
            joined = j;
        }
        char *s = skip_ws(joined);
        if (!*s)
            continue;
        if (has_prefix(s, "[[registry.mirror]]")) {
            if (!c.nregs) {
                r = pr_err(err, 0, "%s:%d: [[registry.mirror]] outside a [[registry]]", what,
                           lineno);
                break;
            }
            reg_entry *e = &c.regs[c.nregs - 1];
            e->mirrors = xrealloc(e->mirrors, (e->nmirrors + 1) * sizeof(reg_endpoint));
            memset(&e->mirrors[e->nmirrors++], 0, sizeof(reg_endpoint));
            sec = SEC_MIRROR;
        } else if (has_prefix(s, "[[registry]]")) {
            c.regs = xrealloc(c.regs, (c.nregs + 1) * sizeof(reg_entry));
            memset(&c.regs[c.nregs++], 0, sizeof(reg_entry));
            sec = SEC_REGISTRY;
        } else if (has_prefix(s, "[aliases]")) {
            sec = SEC_ALIASES;
        } else if (*s == '[') {
            sec = SEC_OTHER;
        } else {
            char *eq = strchr(s, '=');
            if (!eq) {
                r = pr_err(err, 0, "%s:%d: expected key = value", what, lineno);
                break;
            }
            *eq = '\0';
            char *key = s, *end = eq;
            while (end > key && isspace((unsigned char)end[-1]))
                *--end = '\0';
            _cleanup_free_ char *k = NULL;
            if (*key == '"' || *key == '\'') {
                char *p = key;
                if (parse_string(&p, &k) < 0) {
                    r = pr_err(err, 0, "%s:%d: bad key", what, lineno);
                    break;
                }
            } else {
                k = xstrdup(key);
            }
            r = set_value(&c, sec, k, eq + 1, what, lineno, err);
        }
    }
    for (size_t i = 0; r == 0 && i < c.nregs; i++) {
        reg_entry *e = &c.regs[i];
        if (!e->prefix && !e->main.location)
            r = pr_err(err, 0, "%s: a [[registry]] needs a prefix or a location", what);
        else if (!e->prefix)
            e->prefix = xstrdup(e->main.location);
        else if (!e->main.location)
            e->main.location = xstrdup(e->prefix);
        for (size_t j = 0; r == 0 && j < e->nmirrors; j++)
            if (!e->mirrors[j].location)
                r = pr_err(err, 0, "%s: a mirror of `%s` without a location", what, e->prefix);
    }
    if (r < 0) {
        reg_conf_clear(&c);
        return r;
    }
    *out = c;
    return 0;
}

int reg_conf_load(const char *path, reg_conf *out, pr_error **err)
{
    bool explicit = path != NULL;
    if (!path) {
        path = getenv("CONTAINERS_REGISTRIES_CONF");
        explicit = path && *path;
    }
    if (!path || !*path)
        path = "/etc/containers/registries.conf";
    _cleanup_free_ char *text = NULL;
    if (read_file(path, &text, NULL, NULL) < 0) {
        if (errno == ENOENT && !explicit) {
            memset(out, 0, sizeof(*out));
            return 0;
        }
        return pr_err(err, errno, "read registries configuration `%s`", path);
    }
    return reg_conf_parse(text, path, out, err);
}

/* prefix matches name at a component boundary ("quay.io/a" matches "quay.io/a/b", not
 * "quay.io/ab"); "*.example.com" matches any subdomain's names. */
static size_t prefix_match(const char *prefix, const char *name)
{
    if (has_prefix(prefix, "*.")) {
        const char *slash = strchr(name, '/');
        size_t hostlen = slash ? (size_t)(slash - name) : strlen(name);
        size_t sl = strlen(prefix + 1);
        if (hostlen > sl && strncmp(name + hostlen - sl, prefix + 1, sl) == 0)
            return sl;
        return 0;
    }
    size_t pl = strlen(prefix);
    if (strncmp(prefix, name, pl) != 0)
        return 0;
    return (name[pl] == '\0' || name[pl] == '/' || name[pl] == ':' || name[pl] == '@') ? pl : 0;
}

const reg_entry *reg_conf_match(const reg_conf *c, const char *name)
{
    const reg_entry *best = NULL;
    size_t best_len = 0;
    for (size_t i = 0; i < c->nregs; i++) {
        size_t l = prefix_match(c->regs[i].prefix, name);
        if (l > best_len) {
            best = &c->regs[i];
            best_len = l;
        }
    }
    return best;
}

const char *reg_conf_alias(const reg_conf *c, const char *short_name)
{
    for (size_t i = 0; c->alias_names && c->alias_names[i]; i++)
        if (streq(c->alias_names[i], short_name))
            return c->alias_targets[i];
    return NULL;
}

bool host_is_local(const char *location)
{
    _cleanup_free_ char *host = xstrdup(location);
    char *slash = strchr(host, '/');
    if (slash)
        *slash = '\0';
    if (host[0] == '[') { /* [::1]:5000 */
        char *close = strchr(host, ']');
        if (close)
            *close = '\0';
        return streq(host + 1, "::1");
    }
    char *colon = strrchr(host, ':');
    if (colon)
        *colon = '\0';
    return streq(host, "localhost") || streq(host, "127.0.0.1") || streq(host, "::1");
}
