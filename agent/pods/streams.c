/* SPDX-License-Identifier: Apache-2.0 */
/* What the CRI's streaming server asks of the pod manager: a container by its runtime id, and
 * a pod's network namespace. */
#include "manager.h"
#include "pods.h"
#include "util.h"

#include <sys/stat.h>

static bool has_container(yajl_val object, const char *name)
{
    yajl_val spec = json_get(object, "spec");
    yajl_val kinds[] = {json_get(spec, "containers"), json_get(spec, "initContainers")};
    for (size_t k = 0; k < ARRAY_SIZE(kinds); k++)
        for (size_t i = 0; i < json_array_len(kinds[k]); i++) {
            const char *c = YAJL_GET_STRING(json_get(json_array_at(kinds[k], i), "name"));
            if (c && streq(c, name))
                return true;
        }
    return false;
}

int pods_container_by_id(pods_manager *m, const char *id, char **uid, char **name, pr_error **err)
{
    struct pods_list l = {0};
    int r = pods_list(m, "pods", NULL, NULL, &l, err);
    if (r < 0) {
        pods_list_clear(&l);
        return r;
    }
    r = pr_err_code(err, ENOENT, "container \"%s\" not found", id);
    for (size_t i = 0; i < l.n; i++) {
        size_t n = strlen(l.v[i].uid);
        if (strncmp(id, l.v[i].uid, n) != 0 || id[n] != '-' ||
            !has_container(l.v[i].object, id + n + 1))
            continue;
        pr_error_free(*err);
        *err = NULL;
        *uid = xstrdup(l.v[i].uid);
        *name = xstrdup(id + n + 1);
        r = 0;
        break;
    }
    pods_list_clear(&l);
    return r;
}

int pods_stream_runtime_id(pods_manager *m, const char *id, char **runtime_id, pr_error **err)
{
    _cleanup_free_ char *sandbox = NULL, *uid = NULL, *name = NULL;
    if (pods_cri_container_sandbox(m, id, &sandbox, NULL) == 0) {
        *runtime_id = xstrdup(id);
        return 0;
    }
    int r = pods_container_by_id(m, id, &uid, &name, err);
    if (r == 0)
        *runtime_id = pods_container_id(uid, name);
    return r;
}

/* A CRI sandbox's network namespace: its pinned one, or NULL for the node's. */
static int cri_sandbox_netns(pods_manager *m, const char *id, char **path, pr_error **err)
{
    _cleanup_json_ yajl_val rec = NULL;
    int r = pods_sandbox_record(m, id, &rec, err);
    if (r < 0)
        return r;
    if (YAJL_IS_TRUE(json_get(rec, "hostNetwork"))) {
        *path = NULL;
        return 0;
    }
    struct pods_pod_paths p;
    pods_sandbox_paths_init(m, id, &p);
    *path = xasprintf("%s/net", p.ns_dir);
    pods_pod_paths_clear(&p);
    return 0;
}

int pods_sandbox_netns(pods_manager *m, const char *uid, char **path, pr_error **err)
{
    if (pods_cri_id_valid(uid))
        return cri_sandbox_netns(m, uid, path, err);
    struct pods_list l = {0};
    int r = pods_list(m, "pods", NULL, NULL, &l, err);
    if (r < 0) {
        pods_list_clear(&l);
        return r;
    }
    bool found = false, host = false;
    for (size_t i = 0; i < l.n && !found; i++) {
        found = streq(l.v[i].uid, uid);
        host = found && YAJL_IS_TRUE(json_get(json_get(l.v[i].object, "spec"), "hostNetwork"));
    }
    pods_list_clear(&l);
    if (!found)
        return pr_err_code(err, ENOENT, "pod sandbox \"%s\" not found", uid);
    struct pods_pod_paths p;
    pods_pod_paths_init(m, uid, &p);
    char *net = xasprintf("%s/net", p.ns_dir);
    pods_pod_paths_clear(&p);
    if (host) {
        /* A hostNetwork pod pins no network namespace: it is the node's. */
        free(net);
        *path = NULL;
        return 0;
    }
    struct stat st;
    if (stat(net, &st) < 0) {
        int e = errno;
        free(net);
        return pr_err_code(err, e == ENOENT ? ENOENT : e,
                           "pod sandbox \"%s\" has no network namespace (is it running?)", uid);
    }
    *path = net;
    return 0;
}
