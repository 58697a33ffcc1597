/* SPDX-License-Identifier: Apache-2.0 */
/* podrun's global options (before the command), parsed and written back: the same for podrun
 * and for the programs it execs with them (podrun-cri, podrun-loop's passes), so that a new
 * option reaches them all. */
#include "commands.h"
#include "util.h"

#include <getopt.h>
#include <limits.h>

int cli_globals_parse(int argc, char **argv, struct podrun_global *g)
{
    static const struct option opts[] = {
        {"images-root", required_argument, NULL, 'R'},
        {"root", required_argument, NULL, 'R'},
        {"debug", no_argument, NULL, 'D'},
        {"run-root", required_argument, NULL, 1},
        {"lib-root", required_argument, NULL, 2},
        {"log-root", required_argument, NULL, 3},
        {"cni-conf-dir", required_argument, NULL, 4},
        {"cni-bin-dir", required_argument, NULL, 5},
        {"ipam-data-dir", required_argument, NULL, 6},
        {"runtime", required_argument, NULL, 7},
        {"shim", required_argument, NULL, 8},
        {"cluster-dns", required_argument, NULL, 9},
        {"cluster-domain", required_argument, NULL, 10},
        {"resolv-conf", required_argument, NULL, 11},
        {"node-config", required_argument, NULL, 12},
        {"node-name", required_argument, NULL, 13},
        {"cgroup-root", required_argument, NULL, 14},
        {"service-cluster-ip-range", required_argument, NULL, 15},
        {"service-node-port-range", required_argument, NULL, 16},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'v'},
        {NULL, 0, NULL, 0},
    };
    const char **roots[] = {NULL,
                            &g->run_root,
                            &g->lib_root,
                            &g->log_root,
                            &g->cni_conf_dir,
                            &g->cni_bin_dir,
                            &g->ipam_data_dir,
                            &g->runtime,
                            &g->shim,
                            &g->cluster_dns,
                            &g->cluster_domain,
                            &g->resolv_conf,
                            &g->node_config,
                            &g->node_name,
                            &g->cgroup_root,
                            &g->service_cidr,
                            &g->node_port_range};
    int c;
    /* "+": stop at the command; its options are its own. */
    while ((c = getopt_long(argc, argv, "+hv", opts, NULL)) != -1) {
        switch (c) {
        case 'R':
            g->images_root = optarg;
            break;
        case 'D':
            g->debug = true;
            break;
        case 1 ... 16:
            *roots[c] = optarg;
            break;
        case 'h':
        case 'v':
            return c;
        default:
            return '?';
        }
    }
    return 0;
}

void cli_globals_argv(const struct podrun_global *g, char ***argv)
{
    const struct {
        const char *flag, *value;
    } v[] = {
        {"--images-root", g->images_root},
        {"--run-root", g->run_root},
        {"--lib-root", g->lib_root},
        {"--log-root", g->log_root},
        {"--cni-conf-dir", g->cni_conf_dir},
        {"--cni-bin-dir", g->cni_bin_dir},
        {"--ipam-data-dir", g->ipam_data_dir},
        {"--runtime", g->runtime},
        {"--shim", g->shim},
        {"--cluster-dns", g->cluster_dns},
        {"--cluster-domain", g->cluster_domain},
        {"--resolv-conf", g->resolv_conf},
        {"--node-config", g->node_config},
        {"--node-name", g->node_name},
        {"--cgroup-root", g->cgroup_root},
        {"--service-cluster-ip-range", g->service_cidr},
        {"--service-node-port-range", g->node_port_range},
    };
    for (size_t i = 0; i < ARRAY_SIZE(v); i++)
        if (v[i].value) {
            strv_extend(argv, v[i].flag);
            strv_extend(argv, v[i].value);
        }
    if (g->debug)
        strv_extend(argv, "--debug");
}

char *cli_exe_dir(void)
{
    char buf[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
    if (n <= 0)
        return NULL;
    buf[n] = '\0';
    char *slash = strrchr(buf, '/');
    if (!slash)
        return NULL;
    *slash = '\0';
    return xstrdup(buf);
}

char *cli_sibling(const char *name)
{
    _cleanup_free_ char *dir = cli_exe_dir();
    if (!dir)
        return NULL;
    char *p = xasprintf("%s/%s", dir, name);
    if (access(p, X_OK) == 0)
        return p;
    free(p);
    return NULL;
}
