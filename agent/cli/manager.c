/* SPDX-License-Identifier: Apache-2.0 */
/* The pod manager on this invocation's roots (the global options, their environment variables,
 * helpers found beside the binary), and its recovery after a reboot: podrun's commands and the
 * CRI server (podrun-cri) open it the same way. */
#include "commands.h"
#include "pods/pods.h"
#include "util.h"

#include <limits.h>
#include <stdio.h>

/* A helper next to this binary: in a build tree (build/agent/podrun beside build/shim/...), or
 * installed (bin/ beside sbin/ and lib/). Else its bare name, for PATH. */
static const char *helper(const char *given, const char *env, char *const *candidates,
                          const char *fallback, char **keep)
{
    if (given)
        return given;
    const char *e = getenv(env);
    if (e && *e)
        return e;
    _cleanup_free_ char *dir = cli_exe_dir();
    for (char *const *c = candidates; dir && *c; c++) {
        char *p = xasprintf("%s/%s", dir, *c);
        if (access(p, F_OK) == 0) {
            *keep = p;
            return p;
        }
        free(p);
    }
    return fallback;
}

static const char *root(const char *given, const char *env)
{
    const char *e = getenv(env);
    return given ? given : e && *e ? e : NULL;
}

/* lock: 1 exclusive, 0 shared, -1 none. */
static int open_manager_lock(struct podrun_global *g, int lock, struct pods_manager **m,
                             pr_error **err)
{
    _cleanup_free_ char *rt = NULL, *sh = NULL, *cni = NULL;
    char *const rt_c[] = {"../runtime/podrun-runtime", "../sbin/podrun-runtime", "podrun-runtime",
                          NULL};
    char *const sh_c[] = {"../shim/podrun-shim", "podrun-shim", NULL};
    char *const cni_c[] = {"../cni", "../lib/cni", NULL};
    struct pods_roots r = {
        .run_root = root(g->run_root, "PODRUN_RUN_ROOT"),
        .lib_root = root(g->lib_root, "PODRUN_LIB_ROOT"),
        .log_root = root(g->log_root, "PODRUN_LOG_ROOT"),
        .images_root = g->images_root,
        .cni_conf_dir = root(g->cni_conf_dir, "PODRUN_CNI_CONF_DIR"),
        .ipam_data_dir = root(g->ipam_data_dir, "PODRUN_IPAM_DATA_DIR"),
        .runtime = helper(g->runtime, "PODRUN_RUNTIME", rt_c, "podrun-runtime", &rt),
        .shim = helper(g->shim, "PODRUN_SHIM", sh_c, "podrun-shim", &sh),
        .cni_bin_dir = helper(g->cni_bin_dir, "PODRUN_CNI_BIN_DIR", cni_c, NULL, &cni),
        .cluster_dns = root(g->cluster_dns, "PODRUN_CLUSTER_DNS"),
        .cluster_domain = root(g->cluster_domain, "PODRUN_CLUSTER_DOMAIN"),
        .resolv_conf = g->resolv_conf ? g->resolv_conf : getenv("PODRUN_RESOLV_CONF"),
        .node_config = root(g->node_config, "PODRUN_NODE_CONFIG"),
        .node_name = g->node_name,
        .cgroup_root = root(g->cgroup_root, "PODRUN_CGROUP_ROOT"),
        .service_cidr = root(g->service_cidr, "PODRUN_SERVICE_CIDR"),
        .node_port_range = root(g->node_port_range, "PODRUN_SERVICE_NODE_PORT_RANGE"),
    };
    int rc =
        lock < 0 ? pods_manager_open_unlocked(&r, m, err) : pods_manager_open(&r, lock, m, err);
    if (rc < 0 || !pods_needs_recovery(*m))
        return rc;
    /* A fresh run root with nothing recorded: the next exclusive open marks it; a reader does
     * not wait for the exclusive lock for that. */
    if (lock <= 0 && !pods_recorded(*m))
        return 0;
    /* The node rebooted: the first command (a reader too) brings back what is recorded, then
     * does its own work (a shared or unlocked open is let go for the exclusive one recovery
     * needs). */
    struct pods_manager *x = *m;
    if (lock <= 0) {
        pods_manager_close(*m);
        *m = x = NULL;
        if ((rc = pods_manager_open(&r, true, &x, err)) < 0)
            return rc;
    }
    size_t n = 0;
    bool workloads = false;
    _cleanup_error_ pr_error *e = NULL;
    if (pods_needs_recovery(x)) {
        if (pods_recover(x, &n, &workloads, &e) < 0)
            fprintf(stderr, "podrun: warning: after a reboot: %s\n",
                    e && e->msg ? e->msg : "a pod could not be made again");
        if (n)
            fprintf(stderr, "podrun: %zu pod%s made again after a reboot\n", n, n == 1 ? "" : "s");
    }
    if (lock <= 0) {
        pods_manager_close(x);
        rc = lock < 0 ? pods_manager_open_unlocked(&r, m, err)
                      : pods_manager_open(&r, false, m, err);
        if (rc < 0)
            return rc;
    }
    if (workloads) {
        _cleanup_error_ pr_error *e2 = NULL;
        if (controllers_ensure(g, &e2) < 0)
            fprintf(stderr, "podrun: warning: the controller loop: %s\n",
                    e2 && e2->msg ? e2->msg : "not started");
    }
    return 0;
}

int open_manager(struct podrun_global *g, bool exclusive, struct pods_manager **m, pr_error **err)
{
    return open_manager_lock(g, exclusive ? 1 : 0, m, err);
}

int open_manager_unlocked(struct podrun_global *g, struct pods_manager **m, pr_error **err)
{
    return open_manager_lock(g, -1, m, err);
}
