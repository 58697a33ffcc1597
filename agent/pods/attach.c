/* SPDX-License-Identifier: Apache-2.0 */
/* Where a pod's containers are attached: their shim's attach directory (podrun-shim(8), ATTACH;
 * the protocol is common/attach.h). */
#include "manager.h"
#include "pods.h"
#include "util.h"

char *pods_attach_dir(pods_manager *m, const char *uid)
{
    struct pods_pod_paths p;
    pods_pod_paths_init(m, uid, &p);
    char *dir = xasprintf("%s/attach", p.shim_dir);
    pods_pod_paths_clear(&p);
    return dir;
}

int pods_stream_attach_socket(pods_manager *m, const char *id, char **dir, char **name,
                              pr_error **err)
{
    _cleanup_free_ char *sandbox = NULL, *uid = NULL;
    if (pods_cri_container_sandbox(m, id, &sandbox, NULL) == 0) {
        /* A CRI container: in its sandbox's shim, named by its id (the shim's spec entry). */
        struct pods_pod_paths p;
        pods_sandbox_paths_init(m, sandbox, &p);
        *dir = xasprintf("%s/attach", p.shim_dir);
        pods_pod_paths_clear(&p);
        *name = xstrdup(id);
        return 0;
    }
    int r = pods_container_by_id(m, id, &uid, name, err);
    if (r == 0)
        *dir = pods_attach_dir(m, uid);
    return r;
}
