/* SPDX-License-Identifier: Apache-2.0 */
/* podrun: the CLI. This file parses the global options and dispatches to a command; the
 * commands live in cmd-*.c and the work in the part libraries (images/, ...). */
#include "commands.h"
#include "log.h"
#include "util.h"

#include <getopt.h>

static const struct {
    const char *name;
    podrun_cmd_fn fn;
    const char *help;
} commands[] = {
    {"images", cmd_images, "list stored images"},
    {"image", cmd_image, "image subcommands: inspect, prune, ls, rm, load, pull, save, tag"},
    {"load", cmd_load, "import an OCI layout, oci-archive or docker-archive"},
    {"pull", cmd_pull, "download an image from a registry"},
    {"rmi", cmd_rmi, "remove images"},
    {"save", cmd_save, "write images as an oci-archive"},
    {"tag", cmd_tag, "give an image another name"},
    {"apply", cmd_apply, "run pods and store objects from manifests (-f FILE|DIR|-)"},
    {"delete", cmd_delete, "delete pods and objects (-f FILE, or KIND NAME)"},
    {"get", cmd_get, "list pods, deployments, replicasets, configmaps, secrets, namespaces, nodes"},
    {"create", cmd_create, "create a deployment (deployment NAME --image=IMG [-- CMD...])"},
    {"scale", cmd_scale, "set a deployment's replicas (deployment NAME --replicas=N)"},
    {"rollout", cmd_rollout, "follow a deployment's rollout (status deployment NAME)"},
    {"logs", cmd_logs, "print a pod's container's output"},
    {"describe", cmd_describe, "show a pod or the node in detail, as kubectl describe does"},
    {"exec", cmd_exec, "run a command in a pod's container (POD [-c CONTAINER] -- COMMAND)"},
    {"serve", cmd_serve,
     "serve CRI v1 (--listen unix://PATH), or the controller loop (--controllers-only)"},
    {"top", cmd_top, "show pods' or the node's CPU and memory use (pod|node)"},
};

static void usage(FILE *f)
{
    fprintf(f,
            "usage: podrun [--images-root DIR] [--run-root DIR] [--lib-root DIR] [--log-root DIR]\n"
            "              [--cni-conf-dir DIR] [--cni-bin-dir DIRS] [--ipam-data-dir DIR]\n"
            "              [--runtime PATH] [--shim PATH] [--cluster-dns IP[,IP]]\n"
            "              [--cluster-domain DOMAIN] [--resolv-conf FILE] [--node-config FILE]\n"
            "              [--node-name NAME] [--cgroup-root PATH] [--debug] COMMAND [ARGS]\n\n"
            "commands:\n");
    for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
        fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].help);
    fprintf(f, "\nSee podrun(1).\n");
}

int main(int argc, char **argv)
{
    struct podrun_global g = {0};
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
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'v'},
        {NULL, 0, NULL, 0},
    };
    const char **roots[] = {NULL,
                            &g.run_root,
                            &g.lib_root,
                            &g.log_root,
                            &g.cni_conf_dir,
                            &g.cni_bin_dir,
                            &g.ipam_data_dir,
                            &g.runtime,
                            &g.shim,
                            &g.cluster_dns,
                            &g.cluster_domain,
                            &g.resolv_conf,
                            &g.node_config,
                            &g.node_name,
                            &g.cgroup_root};
    int c;
    /* "+": stop at the command; its options are its own. */
    while ((c = getopt_long(argc, argv, "+hv", opts, NULL)) != -1) {
        switch (c) {
        case 'R':
            g.images_root = optarg;
            break;
        case 'D':
            g.debug = true;
            break;
        case 1 ... 14:
            *roots[c] = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        case 'v':
            printf("podrun version %s\n", PACKAGE_VERSION);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind >= argc) {
        usage(stderr);
        return 2;
    }
    pr_log_init(NULL, false, g.debug);
    const char *name = argv[optind];
    for (size_t i = 0; i < ARRAY_SIZE(commands); i++) {
        if (!streq(commands[i].name, name))
            continue;
        pr_error *err = NULL;
        /* Each command sees argv[0] = its name, and getopt starts afresh for it. */
        int at = optind;
        optind = 0;
        int r = commands[i].fn(&g, argc - at, argv + at, &err);
        if (r < 0) {
            fprintf(stderr, "podrun %s: %s\n", name, err && err->msg ? err->msg : strerror(-r));
            pr_error_free(err);
            return 1;
        }
        return 0;
    }
    fprintf(stderr, "podrun: unknown command `%s`\n", name);
    usage(stderr);
    return 2;
}
