/* SPDX-License-Identifier: Apache-2.0 */
/* CRI sandboxes' and containers' usage, read from their cgroups: a sandbox's is its pod
 * cgroup's (the kubelet's cgroup_parent, or podrun's own), a container's the cgroup the runtime
 * made for it inside. */
#include "manager.h"
#include "util.h"

static int sandbox_cgroup(pods_manager *m, const char *id, char **path, pr_error **err)
{
    _cleanup_json_ yajl_val rec = NULL;
    int r = pods_sandbox_record(m, id, &rec, err);
    if (r < 0)
        return r;
    const char *cg = YAJL_GET_STRING(json_get(rec, "cgroupParent"));
    if (!cg || cg[0] != '/')
        return pr_err_code(err, ENOENT, "sandbox %s has no cgroup", id);
    *path = xstrdup(cg);
    return 0;
}

int pods_cri_sandbox_usage(pods_manager *m, const char *id, struct pods_usage *out, pr_error **err)
{
    _cleanup_free_ char *cg = NULL;
    int r = sandbox_cgroup(m, id, &cg, err);
    return r < 0 ? r : pods_cgroup_usage(cg, out, err);
}

int pods_cri_container_usage(pods_manager *m, const char *id, struct pods_usage *out,
                             pr_error **err)
{
    _cleanup_json_ yajl_val rec = NULL, st = NULL;
    int r = pods_cri_container_get(m, id, &rec, &st, err);
    if (r < 0)
        return r;
    _cleanup_free_ char *cg = NULL;
    if ((r = sandbox_cgroup(m, YAJL_GET_STRING(json_get(rec, "sandbox")), &cg, err)) < 0)
        return r;
    _cleanup_free_ char *path = xasprintf("%s/%s", cg, id);
    return pods_cgroup_usage(path, out, err);
}
