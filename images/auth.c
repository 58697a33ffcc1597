/* SPDX-License-Identifier: Apache-2.0 */
#include "auth.h"
#include "fs.h"
#include "json.h"
#include "util.h"

/* "https://host/v1/" -> "host" */
static char *auth_key_host(const char *key)
{
    const char *s = strstr(key, "://");
    s = s ? s + 3 : key;
    size_t n = strcspn(s, "/");
    return strndup(s, n);
}

static char *lookup_file(const char *path, const char *host)
{
    _cleanup_free_ char *text = NULL;
    if (read_file(path, &text, NULL, NULL) < 0)
        return NULL;
    _cleanup_json_ yajl_val root = NULL;
    if (json_parse(text, path, &root, NULL) < 0)
        return NULL;
    yajl_val auths = json_get(root, "auths");
    if (!YAJL_IS_OBJECT(auths))
        return NULL;
    for (size_t i = 0; i < auths->u.object.len; i++) {
        _cleanup_free_ char *h = auth_key_host(auths->u.object.keys[i]);
        /* docker.io's credentials are filed under its index server's name. */
        bool match = streq(h, host) || (streq(host, "registry-1.docker.io") &&
                                        (streq(h, "index.docker.io") || streq(h, "docker.io")));
        yajl_val a = json_get(auths->u.object.values[i], "auth");
        if (match && YAJL_IS_STRING(a) && *a->u.string)
            return xstrdup(a->u.string);
    }
    return NULL;
}

char *auth_lookup(const char *path, const char *host)
{
    if (path)
        return lookup_file(path, host);
    const char *env = getenv("REGISTRY_AUTH_FILE");
    if (env && *env)
        return lookup_file(env, host);
    const char *xdg = getenv("XDG_RUNTIME_DIR");
    const char *home = getenv("HOME");
    char *candidates[3] = {
        xdg && *xdg ? xasprintf("%s/containers/auth.json", xdg) : NULL,
        home && *home ? xasprintf("%s/.config/containers/auth.json", home) : NULL,
        home && *home ? xasprintf("%s/.docker/config.json", home) : NULL,
    };
    char *found = NULL;
    for (size_t i = 0; i < ARRAY_SIZE(candidates); i++) {
        if (!found && candidates[i])
            found = lookup_file(candidates[i], host);
        free(candidates[i]);
    }
    return found;
}
