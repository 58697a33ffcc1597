/* SPDX-License-Identifier: Apache-2.0 */
/* podrun: the CLI. This file dispatches to a command (the global options: globals.c); the
 * commands live in cmd-*.c and the work in the part libraries (images/, ...). */
#include "commands.h"
#include "log.h"
#include "util.h"

/* Every verb: its function, its line in `podrun --help` and its `--help` text (help.c). A verb
 * added here needs a help text and a section in man/podrun.1: tests/integration/cli-help.bats
 * checks every verb `podrun --help` lists for both. */
static const struct podrun_verb verbs[] = {
    {"apply", cmd_apply, "Apply a configuration to a resource by file name or stdin", help_apply},
    {"delete", cmd_delete, "Delete resources by file names, stdin, or resources and names",
     help_delete},
    {"get", cmd_get, "Display one or many resources", help_get},
    {"describe", cmd_describe, "Show details of a specific resource or group of resources",
     help_describe},
    {"run", cmd_run, "Run a particular image in a pod", help_run},
    {"create", cmd_create, "Create a deployment from an image", help_create},
    {"scale", cmd_scale, "Set a new size for a deployment or replica set", help_scale},
    {"autoscale", cmd_autoscale, "Auto-scale a deployment or replica set", help_autoscale},
    {"rollout", cmd_rollout, "Manage the rollout of a deployment", help_rollout},
    {"set", cmd_set, "Set a new image on a deployment's containers", help_set},
    {"logs", cmd_logs, "Print the logs for a container in a pod", help_logs},
    {"exec", cmd_exec, "Execute a command in a container", help_exec},
    {"attach", cmd_attach, "Attach to a running container", help_attach},
    {"cp", cmd_cp, "Copy files and directories to and from containers", help_cp},
    {"top", cmd_top, "Display resource (CPU/memory) usage of pods or the node", help_top},
    {"expose", cmd_expose, "Expose a pod as a new Kubernetes service", help_expose},
    {"serve", cmd_serve, "Serve CRI v1 for a kubelet or crictl, or the controller loop",
     help_serve},
    {"images", cmd_images, "List stored images", help_images},
    {"image", cmd_image, "Image subcommands: inspect, prune, ls, rm, load, pull, save, tag",
     help_image},
    {"load", cmd_load, "Import an OCI layout, oci-archive or docker-archive", help_load},
    {"pull", cmd_pull, "Download an image from a registry", help_pull},
    {"rmi", cmd_rmi, "Remove images", help_rmi},
    {"save", cmd_save, "Write images as an oci-archive", help_save},
    {"tag", cmd_tag, "Give an image another name", help_tag},
    {"completion", cmd_completion, "Output shell completion code for the specified shell (bash)",
     help_completion},
    /* Hidden: what the completion script asks (words before the cursor in, candidates out). */
    {"__complete", cmd_complete, NULL, NULL},
};

const struct podrun_verb *podrun_verbs(size_t *n)
{
    *n = ARRAY_SIZE(verbs);
    return verbs;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: podrun [--images-root DIR] [--run-root DIR] [--lib-root DIR] [--log-root DIR]\n"
            "              [--cni-conf-dir DIR] [--cni-bin-dir DIRS] [--ipam-data-dir DIR]\n"
            "              [--runtime PATH] [--shim PATH] [--cluster-dns IP[,IP]]\n"
            "              [--cluster-domain DOMAIN] [--resolv-conf FILE] [--node-config FILE]\n"
            "              [--node-name NAME] [--cgroup-root PATH]\n"
            "              [--service-cluster-ip-range CIDR] [--service-node-port-range A-B]\n"
            "              [--debug] COMMAND [ARGS]\n\n"
            "Commands:\n");
    for (size_t i = 0; i < ARRAY_SIZE(verbs); i++)
        if (verbs[i].summary)
            fprintf(f, "  %-12s %s\n", verbs[i].name, verbs[i].summary);
    fprintf(f, "\nUse \"podrun <command> --help\" for more information about a given command.\n"
               "See podrun(1).\n");
}

int main(int argc, char **argv)
{
    struct podrun_global g = {0};
    switch (cli_globals_parse(argc, argv, &g)) {
    case 'h':
        usage(stdout);
        return 0;
    case 'v':
        printf("podrun version %s\n", PACKAGE_VERSION);
        return 0;
    case '?':
        usage(stderr);
        return 2;
    }
    if (optind >= argc) {
        usage(stderr);
        return 2;
    }
    pr_log_init(NULL, false, g.debug);
    const char *name = argv[optind];
    for (size_t i = 0; i < ARRAY_SIZE(verbs); i++) {
        if (!streq(verbs[i].name, name))
            continue;
        /* --help anywhere before "--" (what follows it is a command's, not podrun's). */
        for (int k = optind + 1; k < argc && !streq(argv[k], "--"); k++)
            if (verbs[i].help && (streq(argv[k], "--help") || streq(argv[k], "-h"))) {
                fputs(verbs[i].help, stdout);
                return 0;
            }
        pr_error *err = NULL;
        /* Each command sees argv[0] = its name, and getopt starts afresh for it. */
        int at = optind;
        optind = 0;
        int r = verbs[i].fn(&g, argc - at, argv + at, &err);
        if (r < 0 && cli_bad_flag()) {
            /* kubectl's: "error: unknown flag: --x" and where to look. */
            fprintf(stderr, "error: %s\nSee 'podrun %s --help' for usage.\n", cli_bad_flag(), name);
        } else if (r < 0) {
            fprintf(stderr, "podrun %s: %s\n", name, err && err->msg ? err->msg : strerror(-r));
        }
        pr_error_free(err);
        return r < 0 ? 1 : 0;
    }
    fprintf(stderr,
            "error: unknown command \"%s\" for \"podrun\"\n"
            "Run 'podrun --help' for usage.\n",
            name);
    return 1;
}
