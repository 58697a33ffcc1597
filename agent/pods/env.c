/* SPDX-License-Identifier: Apache-2.0 */
/* A container's environment as the kubelet makes it: envFrom's ConfigMaps and Secrets, then
 * env in order, each value with $(VAR) references to the variables before it expanded, keys of
 * ConfigMaps and Secrets, and the downward API's fields of the pod. */
#include "manager.h"
#include "util.h"

#include <limits.h>

/* The last value of name in env ("K=V"), or NULL. */
static const char *env_lookup(char *const *env, const char *name, size_t len)
{
    const char *found = NULL;
    for (char *const *e = env; e && *e; e++)
        if (strncmp(*e, name, len) == 0 && (*e)[len] == '=')
            found = *e + len + 1;
    return found;
}

char *pods_expand(const char *s, char *const *env)
{
    size_t cap = strlen(s) + 1, n = 0;
    char *out = xmalloc(cap);
#define PUT(p, l)                                                                                  \
    do {                                                                                           \
        size_t _l = (l);                                                                           \
        if (n + _l + 1 > cap)                                                                      \
            out = xrealloc(out, cap = (n + _l + 1) * 2);                                           \
        memcpy(out + n, (p), _l);                                                                  \
        n += _l;                                                                                   \
    } while (0)
    while (*s) {
        const char *close = s[0] == '$' && s[1] == '(' ? strchr(s + 2, ')') : NULL;
        if (s[0] == '$' && s[1] == '$') {
            PUT("$", 1);
            s += 2;
        } else if (close) {
            const char *v = env_lookup(env, s + 2, (size_t)(close - s - 2));
            if (v)
                PUT(v, strlen(v));
            else
                PUT(s, (size_t)(close - s + 1));
            s = close + 1;
        } else {
            PUT(s, 1);
            s++;
        }
    }
#undef PUT
    out[n] = '\0';
    return out;
}

static const char *ns_of(const struct kube_object *o)
{
    return o->meta.namespace_ ? o->meta.namespace_ : "default";
}

/* "metadata.labels['app']" -> the value of key app in m ("" when absent, as the kubelet has it). */
static bool map_field(const char *path, const char *prefix, const struct kube_map *m,
                      const char **out)
{
    size_t pl = strlen(prefix), l = strlen(path);
    if (strncmp(path, prefix, pl) != 0 || l < pl + 4 || path[pl] != '[' || path[pl + 1] != '\'' ||
        path[l - 2] != '\'' || path[l - 1] != ']')
        return false;
    if (!m) {
        *out = "";
        return true;
    }
    _cleanup_free_ char *key = xstrndup(path + pl + 2, l - pl - 4);
    const char *v = kube_map_get(m, key);
    *out = v ? v : "";
    return true;
}

/* The value of a downward API field; false for a field podrun does not give. node is a buffer
 * for spec.nodeName. */
static bool field_value(const struct pods_env_ctx *ctx, const char *path,
                        char node[HOST_NAME_MAX + 1], const char **out)
{
    const struct kube_object *o = ctx ? ctx->pod : NULL;
    if (streq(path, "metadata.name"))
        *out = o ? o->meta.name : "";
    else if (streq(path, "metadata.namespace"))
        *out = o ? ns_of(o) : "";
    else if (streq(path, "metadata.uid"))
        *out = ctx && ctx->uid ? ctx->uid : "";
    else if (streq(path, "status.podIP") || streq(path, "status.podIPs"))
        *out = ctx && ctx->ip ? ctx->ip : "";
    else if (streq(path, "spec.nodeName")) {
        if (gethostname(node, HOST_NAME_MAX) < 0)
            node[0] = '\0';
        node[HOST_NAME_MAX] = '\0';
        *out = node;
    } else
        return map_field(path, "metadata.labels", o ? &o->meta.labels : NULL, out) ||
               map_field(path, "metadata.annotations", o ? &o->meta.annotations : NULL, out);
    return true;
}

bool pods_field_path_supported(const char *path)
{
    char node[HOST_NAME_MAX + 1];
    const char *v;
    return field_value(NULL, path, node, &v);
}

static int ref_missing(pr_error **err, const char *what, const char *name, const char *ns)
{
    return pr_err_code(err, ENOENT, "%s \"%s\" not found in namespace \"%s\"", what, name, ns);
}

static int env_from(pods_manager *m, const char *ns, const struct kube_env_from *f, char ***env,
                    pr_error **err)
{
    const char *res = f->has_config_map_ref ? "configmaps" : "secrets";
    const struct kube_key_ref *ref = f->has_config_map_ref ? &f->config_map_ref : &f->secret_ref;
    _cleanup_strv_ char **pairs = NULL;
    int r = pods_object_pairs(m, res, ns, ref->name, &pairs, err);
    if (r == -ENOENT)
        return ref->optional ? 0
                             : ref_missing(err, f->has_config_map_ref ? "configmap" : "secret",
                                           ref->name, ns);
    if (r < 0)
        return r;
    for (char **p = pairs; p && *p; p++)
        strv_consume(env, xasprintf("%s%s", f->prefix ? f->prefix : "", *p));
    return 0;
}

static int key_ref(pods_manager *m, const char *ns, const struct kube_env_var *v, char **value,
                   pr_error **err)
{
    const struct kube_env_source *s = &v->value_from;
    bool cm = s->has_config_map_key_ref;
    const struct kube_key_ref *ref = cm ? &s->config_map_key_ref : &s->secret_key_ref;
    int r = pods_object_key(m, cm ? "configmaps" : "secrets", ns, ref->name, ref->key, value, err);
    if (r == -ENOENT && ref->optional)
        return 0; /* *value stays NULL: the variable is not set */
    if (r == -ENOENT)
        return pr_err_code(err, ENOENT,
                           "env %s: key \"%s\" of %s \"%s\" not found in namespace \"%s\"", v->name,
                           ref->key, cm ? "configmap" : "secret", ref->name, ns);
    return r;
}

static int env_var(pods_manager *m, const struct pods_env_ctx *ctx, const char *container,
                   const struct kube_env_var *v, char ***env, pr_error **err)
{
    const struct kube_env_source *s = &v->value_from;
    _cleanup_free_ char *value = NULL;
    char node[HOST_NAME_MAX + 1];
    const char *field;
    if (!v->has_value_from) {
        value = pods_expand(v->value ? v->value : "", *env);
    } else if (s->has_field_ref) {
        if (!field_value(ctx, s->field_ref.field_path, node, &field))
            return pr_err_code(err, EOPNOTSUPP,
                               "env %s: valueFrom.fieldRef.fieldPath \"%s\": not "
                               "supported by podrun's pod manager yet",
                               v->name, s->field_ref.field_path);
        value = xstrdup(field);
    } else if (s->has_config_map_key_ref || s->has_secret_key_ref) {
        int r = key_ref(m, ns_of(ctx->pod), v, &value, err);
        if (r < 0 || !value)
            return r;
    } else {
        int r =
            pods_resource_value(&ctx->pod->u.pod, container, &s->resource_field_ref, &value, err);
        if (r < 0)
            return pr_err_prefix(err, "env %s: valueFrom", v->name);
    }
    strv_consume(env, xasprintf("%s=%s", v->name, value));
    return 0;
}

int pods_container_env(pods_manager *m, const struct pods_env_ctx *ctx,
                       const struct kube_container *c, char ***env, pr_error **err)
{
    int r = 0;
    for (size_t i = 0; r == 0 && i < c->n_env_from; i++)
        r = env_from(m, ns_of(ctx->pod), &c->env_from[i], env, err);
    for (size_t i = 0; r == 0 && i < c->n_env; i++)
        r = env_var(m, ctx, c->name, &c->env[i], env, err);
    return r < 0 ? pr_err_prefix(err, "container \"%s\"", c->name) : 0;
}
