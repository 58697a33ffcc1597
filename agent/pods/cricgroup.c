/* SPDX-License-Identifier: Apache-2.0 */
/* Where a CRI sandbox's and its containers' cgroups are, under either cgroup driver the
 * kubelet may run (RuntimeConfig tells it podrun serve's):
 *   cgroupfs: cgroup_parent is a path (/kubepods/besteffort/pod<uid>); a container's cgroup
 *             is PARENT/<id>, made by the runtime from that absolute cgroupsPath.
 *   systemd:  cgroup_parent is a slice the kubelet made (kubepods-besteffort-pod<uid>.slice);
 *             a container's cgroup is the transient scope cri-podrun-<id>.scope in it, which
 *             the runtime asks systemd for (--systemd-cgroup, cgroupsPath SLICE:cri-podrun:<id>,
 *             the form runc and containerd use) and stops when it deletes the container.
 * The record keeps the driver the sandbox was made with, so a server restarted with the other
 * driver still finds the cgroups of what it left. */
#include "cgroup-names.h"
#include "manager.h"
#include "util.h"

int pods_cri_check_cgroup_parent(const char *parent, bool systemd, pr_error **err)
{
    if (!parent || !*parent)
        return 0;
    bool slice = cgroup_is_slice_name(parent);
    if (systemd && !slice)
        return pr_err_code(err, EINVAL,
                           "config.linux.cgroup_parent \"%s\" is a cgroupfs path, but podrun serve "
                           "runs the systemd cgroup driver (RuntimeConfig says SYSTEMD): a slice "
                           "such as kubepods-besteffort-pod<uid>.slice is required; run the "
                           "kubelet with --cgroup-driver=systemd, or podrun serve with "
                           "--cgroup-driver=cgroupfs",
                           parent);
    if (!systemd && slice)
        return pr_err_code(err, EINVAL,
                           "config.linux.cgroup_parent \"%s\" is a systemd slice, but podrun serve "
                           "runs the cgroupfs cgroup driver (RuntimeConfig says CGROUPFS): an "
                           "absolute cgroupfs path is required; run podrun serve with "
                           "--cgroup-driver=systemd, or the kubelet with --cgroup-driver=cgroupfs",
                           parent);
    if (systemd) {
        _cleanup_free_ char *path = NULL;
        _cleanup_error_ pr_error *e = NULL;
        if (cgroup_slice_path(parent, &path, &e) < 0)
            return pr_err_code(err, EINVAL, "config.linux.cgroup_parent: %s", e->msg);
        return 0;
    }
    if (parent[0] != '/' || strstr(parent, "/.."))
        return pr_err_code(err, EINVAL,
                           "config.linux.cgroup_parent \"%s\": an absolute cgroupfs path "
                           "without \"..\" is required",
                           parent);
    return 0;
}

static bool record_systemd(yajl_val rec)
{
    const char *d = YAJL_GET_STRING(json_get(rec, "cgroupDriver"));
    return d && streq(d, "systemd");
}

char *pods_cri_cgroups_path(yajl_val sandbox, const char *id)
{
    const char *parent = YAJL_GET_STRING(json_get(sandbox, "cgroupParent"));
    if (!parent)
        parent = "";
    if (record_systemd(sandbox))
        return xasprintf("%s:" PODS_CRI_SCOPE_PREFIX ":%s", parent, id);
    return xasprintf("%s/%s", parent, id);
}

int pods_cri_cgroup_dir(yajl_val sandbox, const char *id, char **out, pr_error **err)
{
    const char *parent = YAJL_GET_STRING(json_get(sandbox, "cgroupParent"));
    const char *sid = YAJL_GET_STRING(json_get(sandbox, "id"));
    _cleanup_free_ char *dir = NULL;
    if (record_systemd(sandbox)) {
        /* Without a slice, a container's scope is in the runtime's default one. */
        if ((!parent || !*parent) && !id)
            return pr_err_code(err, ENOENT, "sandbox %s has no slice of its own", sid ? sid : "");
        if (cgroup_slice_path(parent && *parent ? parent : "system.slice", &dir, err) < 0)
            return -EINVAL;
    } else {
        if (!parent || parent[0] != '/')
            return pr_err_code(err, ENOENT, "sandbox %s has no cgroup", sid ? sid : "");
        dir = xstrdup(parent);
    }
    if (!id) {
        *out = steal_pointer(&dir);
        return 0;
    }
    *out = record_systemd(sandbox) ? xasprintf("%s/" PODS_CRI_SCOPE_PREFIX "-%s.scope", dir, id)
                                   : xasprintf("%s/%s", dir, id);
    return 0;
}
