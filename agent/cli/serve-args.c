/* SPDX-License-Identifier: Apache-2.0 */
/* podrun serve's options: podrun reads them to run the controller loop or to exec podrun-cri,
 * and podrun-cri reads the same ones to serve. */
#include "agent/cri/cri.h"
#include "commands.h"
#include "paths.h"
#include "util.h"

#include <getopt.h>

void serve_usage(FILE *f)
{
    fprintf(f, "usage: podrun [GLOBAL OPTIONS] serve [--listen unix://PATH] [--controllers-only]\n"
               "         [--streaming-address ADDR[:PORT]] [--streaming-idle-timeout SECONDS]\n"
               "         [--cgroup-driver systemd|cgroupfs]\n"
               "  serves CRI v1 on RUN_ROOT/" CRI_SOCKET_NAME " (default " PODRUN_RUN_DIR
               "/" CRI_SOCKET_NAME "), or on the socket systemd passes. See podrun-serve(8).\n"
               "  --controllers-only: runs the workload controllers' loop instead (one per\n"
               "  node; it exits when no Deployment or ReplicaSet is left).\n"
               "  --streaming-address: where Exec and PortForward's URLs point (default\n"
               "  127.0.0.1 and a free port); --streaming-idle-timeout: close a stream\n"
               "  idle that long (default 4 hours).\n"
               "  --cgroup-driver: the kubelet's (RuntimeConfig tells it): systemd puts\n"
               "  containers in transient scopes under the kubelet's slices; default systemd\n"
               "  when systemd is PID 1 (/run/systemd/system), else cgroupfs.\n");
}

int serve_args_parse(int argc, char **argv, struct serve_args *a, pr_error **err)
{
    static const struct option opts[] = {
        {"listen", required_argument, NULL, 'l'},
        {"controllers-only", no_argument, NULL, 'C'},
        {"streaming-address", required_argument, NULL, 'S'},
        {"streaming-idle-timeout", required_argument, NULL, 'I'},
        {"controllers-pass", no_argument, NULL, 'P'},
        {"cgroup-driver", required_argument, NULL, 'D'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    a->systemd_cgroup = -1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'l':
            a->listen = optarg;
            break;
        case 'C':
            a->controllers_only = true;
            break;
        case 'S':
            a->stream_address = optarg;
            break;
        case 'I': {
            char *end;
            errno = 0;
            unsigned long long sec = strtoull(optarg, &end, 10);
            if (!*optarg || *end || errno || sec == 0 || sec > 7 * 24 * 3600)
                return pr_err(err, 0, "--streaming-idle-timeout `%s`: expected seconds, 1 to %d",
                              optarg, 7 * 24 * 3600);
            a->stream_idle_usec = sec * 1000000ULL;
            break;
        }
        case 'D':
            if (streq(optarg, "systemd"))
                a->systemd_cgroup = 1;
            else if (streq(optarg, "cgroupfs"))
                a->systemd_cgroup = 0;
            else
                return pr_err(err, 0, "--cgroup-driver `%s`: expected systemd or cgroupfs", optarg);
            break;
        case 'P': /* podrun-loop's pass: not for people */
            if (optind < argc)
                return pr_err(err, 0, "unexpected argument `%s`", argv[optind]);
            a->controllers_pass = true;
            return 0;
        case 'h':
            a->help = true;
            return 0;
        default:
            serve_usage(stderr);
            return pr_err(err, 0, "bad arguments");
        }
    }
    if (optind < argc)
        return pr_err(err, 0, "unexpected argument `%s`", argv[optind]);
    if (a->controllers_only && a->listen)
        return pr_err(err, 0, "--listen and --controllers-only exclude each other");
    return 0;
}
