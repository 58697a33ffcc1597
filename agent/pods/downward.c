/* SPDX-License-Identifier: Apache-2.0 */
/* The downward API's values as the kubelet writes them: a container's resources (divided and
 * rounded up, node capacity standing in for a limit that is not set) and the files of a
 * downwardAPI volume or projection (labels and annotations as sorted key="value" lines). */
#include "manager.h"
#include "util.h"

#include <unistd.h>

static bool has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && streq(s + n - k, suffix);
}

static const struct kube_container *find_container(const struct kube_pod_spec *s, const char *name)
{
    for (size_t i = 0; i < s->n_containers; i++)
        if (streq(s->containers[i].name, name))
            return &s->containers[i];
    for (size_t i = 0; i < s->n_init_containers; i++)
        if (streq(s->init_containers[i].name, name))
            return &s->init_containers[i];
    return NULL;
}

/* What the node has, for a limit the container does not set (the kubelet uses the node's
 * allocatable, which is its capacity on a node without reserves). */
static int64_t node_capacity(bool cpu)
{
    if (cpu) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        return (n > 0 ? n : 1) * 1000;
    }
    long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
    return pages > 0 && size > 0 ? (int64_t)pages * size : 0;
}

static int scaled(const char *q, int scale, int64_t *out, pr_error **err)
{
    struct kube_quantity k;
    int r = kube_quantity_parse(q, &k, err);
    if (r == 0 && kube_quantity_scaled(&k, scale, out) < 0)
        r = pr_err_code(err, ERANGE, "quantity \"%s\" is out of range", q);
    return r;
}

int pods_resource_value(const struct kube_pod_spec *s, const char *default_container,
                        const struct kube_resource_field_ref *ref, char **out, pr_error **err)
{
    const char *name =
        ref->container_name && *ref->container_name ? ref->container_name : default_container;
    const struct kube_container *c = name ? find_container(s, name) : NULL;
    if (!c)
        return pr_err(err, 0, "resourceFieldRef: no container \"%s\"", name ? name : "");
    const char *res = ref->resource ? ref->resource : "";
    bool limits = has_prefix(res, "limits."), cpu = has_suffix(res, ".cpu");
    if (!(limits || has_prefix(res, "requests.")) || !(cpu || has_suffix(res, ".memory")))
        return pr_err(err, 0, "resourceFieldRef.resource \"%s\": not supported", res);
    const char *key = cpu ? "cpu" : "memory";
    const char *limit = kube_map_get(&c->resources.limits, key);
    const char *request = kube_map_get(&c->resources.requests, key);
    /* The API server defaults a request to its limit. */
    const char *q = limits ? limit : request ? request : limit;
    int scale = cpu ? 3 : 0;
    int64_t v = 0, d = 1;
    int r;
    if (q && (r = scaled(q, scale, &v, err)) < 0)
        return r;
    if (!q && limits)
        v = node_capacity(cpu);
    if ((r = scaled(ref->divisor ? ref->divisor : "1", scale, &d, err)) < 0)
        return r;
    if (d <= 0)
        return pr_err(err, 0, "resourceFieldRef.divisor \"%s\": must be positive", ref->divisor);
    *out = xasprintf("%lld", (long long)((v + d - 1) / d));
    return 0;
}

/* Go's %q for the ASCII that labels and annotations hold: quotes, backslashes and control
 * characters escaped. */
static void append_quoted(char **buf, const char *v)
{
    size_t n = strlen(*buf);
    *buf = xrealloc(*buf, n + 4 * strlen(v) + 3);
    char *p = *buf + n;
    *p++ = '"';
    for (; *v; v++) {
        unsigned char ch = (unsigned char)*v;
        if (ch == '"' || ch == '\\') {
            *p++ = '\\';
            *p++ = (char)ch;
        } else if (ch == '\n') {
            *p++ = '\\';
            *p++ = 'n';
        } else if (ch == '\t') {
            *p++ = '\\';
            *p++ = 't';
        } else if (ch < 0x20 || ch == 0x7f) {
            p += sprintf(p, "\\x%02x", ch);
        } else {
            *p++ = (char)ch;
        }
    }
    *p++ = '"';
    *p = '\0';
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static char *map_text(const struct kube_map *m)
{
    _cleanup_free_ const char **keys = xcalloc(m->n + 1, sizeof(*keys));
    for (size_t i = 0; i < m->n; i++)
        keys[i] = m->keys[i];
    qsort(keys, m->n, sizeof(*keys), cmp_str);
    char *buf = xstrdup("");
    for (size_t i = 0; i < m->n; i++) {
        char *line = xasprintf("%s%s%s=", buf, i ? "\n" : "", keys[i]);
        free(buf);
        buf = line;
        append_quoted(&buf, kube_map_get(m, keys[i]));
    }
    return buf;
}

int pods_downward_value(const struct kube_object *o, const char *uid,
                        const struct kube_downward_file *f, char **out, pr_error **err)
{
    if (f->has_resource_field_ref)
        return pods_resource_value(&o->u.pod, NULL, &f->resource_field_ref, out, err);
    const char *path = f->field_ref.field_path ? f->field_ref.field_path : "";
    if (streq(path, "metadata.name"))
        *out = xstrdup(o->meta.name);
    else if (streq(path, "metadata.namespace"))
        *out = xstrdup(o->meta.namespace_ ? o->meta.namespace_ : "default");
    else if (streq(path, "metadata.uid"))
        *out = xstrdup(uid ? uid : "");
    else if (streq(path, "metadata.labels"))
        *out = map_text(&o->meta.labels);
    else if (streq(path, "metadata.annotations"))
        *out = map_text(&o->meta.annotations);
    else
        return pr_err(err, 0, "fieldRef.fieldPath \"%s\": not supported in a volume", path);
    return 0;
}
