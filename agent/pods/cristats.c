/* SPDX-License-Identifier: Apache-2.0 */
/* CRI sandboxes' and containers' usage, read from their cgroups: a sandbox's is its pod
 * cgroup's (the kubelet's cgroup_parent, or podrun's own), a container's the cgroup the runtime
 * made for it inside. */
#include "manager.h"
#include "util.h"

int pods_cri_sandbox_usage(pods_manager *m, const char *id, struct pods_usage *out, pr_error **err)
{
    _cleanup_json_ yajl_val rec = NULL;
    _cleanup_free_ char *cg = NULL;
    int r = pods_sandbox_record(m, id, &rec, err);
    if (r < 0 || (r = pods_cri_cgroup_dir(rec, NULL, &cg, err)) < 0)
        return r;
    return pods_cgroup_usage(cg, out, err);
}

int pods_cri_container_usage(pods_manager *m, const char *id, struct pods_usage *out,
                             pr_error **err)
{
    _cleanup_json_ yajl_val rec = NULL, st = NULL, sb = NULL;
    int r = pods_cri_container_get(m, id, &rec, &st, err);
    if (r < 0 ||
        (r = pods_sandbox_record(m, YAJL_GET_STRING(json_get(rec, "sandbox")), &sb, err)) < 0)
        return r;
    _cleanup_free_ char *path = NULL;
    if ((r = pods_cri_cgroup_dir(sb, id, &path, err)) < 0)
        return r;
    return pods_cgroup_usage(path, out, err);
}
