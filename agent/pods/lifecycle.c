/* SPDX-License-Identifier: Apache-2.0 */
/* A container's lifecycle (postStart, preStop) from the manifest's tree, checked as strictly
 * as the decoder checks typed fields, and written into the shim's spec with named ports
 * resolved: the shim runs the hooks (podrun-shim(8), "lifecycle"). */
#include "manager.h"
#include "util.h"

static const char *const hook_names[] = {"postStart", "preStop"};

static int refuse_unknown(yajl_val obj, const char *path, const char *const *known, pr_error **err)
{
    for (size_t i = 0; i < obj->u.object.len; i++) {
        const char *k = obj->u.object.keys[i];
        bool ok = false;
        for (const char *const *n = known; *n && !ok; n++)
            ok = streq(*n, k);
        if (!ok)
            return pr_err(err, 0, "%s: unknown field \"%s\"", path, k);
    }
    return 0;
}

/* A named port of the container, or a number. */
static int hook_port(const struct kube_container *c, yajl_val port, const char *path,
                     pr_error **err)
{
    if (YAJL_IS_INTEGER(port)) {
        long long p = YAJL_GET_INTEGER(port);
        if (p < 1 || p > 65535)
            return pr_err(err, 0, "%s.port: %lld: must be between 1 and 65535", path, p);
        return (int)p;
    }
    const char *name = YAJL_IS_STRING(port) ? port->u.string : NULL;
    if (name) {
        for (size_t i = 0; i < c->n_ports; i++)
            if (c->ports[i].name && streq(c->ports[i].name, name))
                return c->ports[i].container_port;
        return pr_err(err, 0, "%s.port: no port named \"%s\"", path, name);
    }
    return pr_err(err, 0, "%s.port: required, a number or a port's name", path);
}

static int check_http(const struct kube_container *c, yajl_val h, const char *path, pr_error **err)
{
    static const char *const known[] = {"path", "port", "host", "scheme", "httpHeaders", NULL};
    int r;
    if (!YAJL_IS_OBJECT(h))
        return pr_err(err, 0, "%s: expected an object", path);
    if ((r = refuse_unknown(h, path, known, err)) < 0 ||
        (r = hook_port(c, json_get(h, "port"), path, err)) < 0)
        return r;
    const char *scheme = YAJL_GET_STRING(json_get(h, "scheme"));
    if (scheme && streq(scheme, "HTTPS"))
        return pr_err_code(err, EOPNOTSUPP, "%s.scheme: HTTPS: not supported by podrun", path);
    if (scheme && !streq(scheme, "HTTP"))
        return pr_err(err, 0, "%s.scheme: unsupported value \"%s\": supported values: HTTP, HTTPS",
                      path, scheme);
    yajl_val p = json_get(h, "path"), host = json_get(h, "host");
    if ((p && !YAJL_IS_STRING(p)) || (host && !YAJL_IS_STRING(host)))
        return pr_err(err, 0, "%s: path and host must be strings", path);
    yajl_val hdrs = json_get(h, "httpHeaders");
    for (size_t i = 0; i < json_array_len(hdrs); i++) {
        yajl_val e = json_array_at(hdrs, i);
        if (!YAJL_IS_STRING(json_get(e, "name")) || !YAJL_IS_STRING(json_get(e, "value")))
            return pr_err(err, 0, "%s.httpHeaders[%zu]: name and value are required", path, i);
    }
    return 0;
}

static int check_handler(const struct kube_container *c, yajl_val h, const char *path,
                         pr_error **err)
{
    static const char *const known[] = {"exec", "httpGet", "sleep", "tcpSocket", NULL};
    int r;
    if (!YAJL_IS_OBJECT(h))
        return pr_err(err, 0, "%s: expected an object", path);
    if ((r = refuse_unknown(h, path, known, err)) < 0)
        return r;
    if (json_get(h, "tcpSocket"))
        return pr_err_code(err, EOPNOTSUPP,
                           "%s.tcpSocket: not supported (Kubernetes does not run it either)", path);
    yajl_val exec = json_get(h, "exec"), http = json_get(h, "httpGet"),
             sleep = json_get(h, "sleep");
    if (!!exec + !!http + !!sleep != 1)
        return pr_err(err, 0, "%s: must specify exactly one handler (exec, httpGet or sleep)",
                      path);
    _cleanup_free_ char *sub = NULL;
    if (exec) {
        sub = xasprintf("%s.exec", path);
        yajl_val cmd = json_get(exec, "command");
        if (!YAJL_IS_OBJECT(exec) ||
            (r = refuse_unknown(exec, sub, (const char *const[]){"command", NULL}, err)) < 0)
            return YAJL_IS_OBJECT(exec) ? r : pr_err(err, 0, "%s: expected an object", sub);
        if (!YAJL_IS_ARRAY(cmd) || json_array_len(cmd) == 0)
            return pr_err(err, 0, "%s.command: required", sub);
        for (size_t i = 0; i < json_array_len(cmd); i++)
            if (!YAJL_IS_STRING(json_array_at(cmd, i)))
                return pr_err(err, 0, "%s.command[%zu]: must be a string", sub, i);
        return 0;
    }
    if (http) {
        sub = xasprintf("%s.httpGet", path);
        return check_http(c, http, sub, err);
    }
    sub = xasprintf("%s.sleep", path);
    yajl_val secs = json_get(sleep, "seconds");
    if (!YAJL_IS_OBJECT(sleep) ||
        (r = refuse_unknown(sleep, sub, (const char *const[]){"seconds", NULL}, err)) < 0)
        return YAJL_IS_OBJECT(sleep) ? r : pr_err(err, 0, "%s: expected an object", sub);
    if (!YAJL_IS_INTEGER(secs) || YAJL_GET_INTEGER(secs) < 0)
        return pr_err(err, 0, "%s.seconds: required, a number >= 0", sub);
    return 0;
}

int pods_lifecycle_check(const struct kube_container *c, yajl_val lc, const char *path,
                         pr_error **err)
{
    static const char *const known[] = {"postStart", "preStop", "stopSignal", NULL};
    int r;
    if (YAJL_IS_NULL(lc))
        return 0;
    if (!YAJL_IS_OBJECT(lc))
        return pr_err(err, 0, "%s: expected an object", path);
    if ((r = refuse_unknown(lc, path, known, err)) < 0)
        return r;
    if (json_get(lc, "stopSignal"))
        return pr_err_code(err, EOPNOTSUPP,
                           "%s.stopSignal: not supported by podrun's pod manager yet", path);
    for (size_t i = 0; i < ARRAY_SIZE(hook_names); i++) {
        yajl_val h = json_get(lc, hook_names[i]);
        _cleanup_free_ char *sub = xasprintf("%s.%s", path, hook_names[i]);
        if (h && !YAJL_IS_NULL(h) && (r = check_handler(c, h, sub, err)) < 0)
            return r;
    }
    return 0;
}

void pods_lifecycle_gen(yajl_gen g, const struct kube_container *c)
{
    yajl_val lc = c->lifecycle;
    if (!YAJL_IS_OBJECT(lc))
        return;
    jg_key(g, "lifecycle");
    jg_map_open(g);
    for (size_t i = 0; i < ARRAY_SIZE(hook_names); i++) {
        yajl_val h = json_get(lc, hook_names[i]);
        if (!YAJL_IS_OBJECT(h))
            continue;
        jg_key(g, hook_names[i]);
        jg_map_open(g);
        yajl_val http = json_get(h, "httpGet");
        if (json_get(h, "exec")) {
            jg_key(g, "exec");
            jg_value(g, json_get(h, "exec"));
        } else if (json_get(h, "sleep")) {
            jg_key(g, "sleep");
            jg_value(g, json_get(h, "sleep"));
        } else if (http) {
            /* Checked before: the port resolves. */
            int port = hook_port(c, json_get(http, "port"), "", NULL);
            jg_key(g, "httpGet");
            jg_map_open(g);
            for (size_t k = 0; k < http->u.object.len; k++) {
                if (streq(http->u.object.keys[k], "port"))
                    continue;
                jg_key(g, http->u.object.keys[k]);
                jg_value(g, http->u.object.values[k]);
            }
            jg_key_int(g, "port", port);
            jg_map_close(g);
        }
        jg_map_close(g);
    }
    jg_map_close(g);
}
