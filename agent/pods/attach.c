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
