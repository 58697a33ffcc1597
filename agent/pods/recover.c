/* SPDX-License-Identifier: Apache-2.0 */
/* After the node rebooted: everything under the run root is gone (the pods' sandboxes, shims,
 * runtime state), what is under the lib root stays (the applied objects). The first exclusive
 * open that finds no RUN_ROOT/booted mark brings every recorded pod back, as a kubelet
 * restarts its pods after a reboot: same name and uid, a new sandbox, containers started
 * afresh (their restart counts start again at 0: the runtime's record of the old containers
 * was under the run root). The workloads are then reconciled by the controller loop, which the
 * caller starts when some are recorded. */
#include "fs.h"
#include "manager.h"
#include "util.h"

#include <fcntl.h>

#define BOOT_MARK "booted"

static char *mark_path(pods_manager *m)
{
    return xasprintf("%s/" BOOT_MARK, m->run_root);
}

bool pods_needs_recovery(pods_manager *m)
{
    _cleanup_free_ char *p = mark_path(m);
    return access(p, F_OK) != 0;
}

static bool any(pods_manager *m, const char *resource)
{
    struct pods_list l = {0};
    _cleanup_error_ pr_error *e = NULL;
    bool some = pods_list(m, resource, NULL, NULL, &l, &e) == 0 && l.n > 0;
    pods_list_clear(&l);
    return some;
}

bool pods_recorded(pods_manager *m)
{
    return any(m, "pods") || any(m, "deployments") || any(m, "replicasets");
}

int pods_recover(pods_manager *m, size_t *recreated, bool *workloads, pr_error **err)
{
    *recreated = 0;
    *workloads = any(m, "deployments") || any(m, "replicasets");
    struct pods_list l = {0};
    int first = pods_list(m, "pods", NULL, NULL, &l, err);
    for (size_t i = 0; i < l.n; i++) {
        _cleanup_error_ pr_error *e = NULL;
        /* One pod that cannot come back (its image gone) does not hold the others back. */
        int r = pods_pod_recreate(m, l.v[i].ns, l.v[i].name, &e);
        if (r == 0) {
            (*recreated)++;
        } else if (first == 0) {
            first = r;
            *err = steal_pointer(&e);
        }
    }
    pods_list_clear(&l);
    /* Marked even when a pod failed: the next command must not make the same attempt again
     * (a pod a controller owns is replaced by it; a lone pod shows what failed). */
    _cleanup_free_ char *p = mark_path(m);
    _cleanup_error_ pr_error *e = NULL;
    int r = mkdir_p(m->run_root, 0700, &e);
    if (r == 0)
        r = write_file_atomic(p, "", 0, 0600, &e);
    if (r < 0 && first == 0) {
        first = r;
        *err = steal_pointer(&e);
    }
    return first;
}
