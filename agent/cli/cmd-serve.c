/* SPDX-License-Identifier: Apache-2.0 */
/* podrun serve: the CRI v1 server (agent/cri) on a unix socket, for a kubelet or crictl. This
 * file owns the process: signals, systemd's socket activation and readiness, and printing. */
#include "agent/cri/cri.h"
#include "commands.h"
#include "log.h"
#include "paths.h"
#include "util.h"

#include <getopt.h>
#include <signal.h>
#include <systemd/sd-daemon.h>

static int open_pods(void *data, bool exclusive, struct pods_manager **m, pr_error **err)
{
    return open_manager(data, exclusive, m, err);
}

static void serve_usage(FILE *f)
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

int cmd_serve(struct podrun_global *g, int argc, char **argv, pr_error **err)
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
    const char *listen = NULL, *stream_address = NULL;
    uint64_t stream_idle = 0;
    bool controllers_only = false;
    int systemd_cgroup = -1;
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'l':
            listen = optarg;
            break;
        case 'C':
            controllers_only = true;
            break;
        case 'S':
            stream_address = optarg;
            break;
        case 'I': {
            char *end;
            errno = 0;
            unsigned long long sec = strtoull(optarg, &end, 10);
            if (!*optarg || *end || errno || sec == 0 || sec > 7 * 24 * 3600)
                return pr_err(err, 0, "--streaming-idle-timeout `%s`: expected seconds, 1 to %d",
                              optarg, 7 * 24 * 3600);
            stream_idle = sec * 1000000ULL;
            break;
        }
        case 'D':
            if (streq(optarg, "systemd"))
                systemd_cgroup = 1;
            else if (streq(optarg, "cgroupfs"))
                systemd_cgroup = 0;
            else
                return pr_err(err, 0, "--cgroup-driver `%s`: expected systemd or cgroupfs", optarg);
            break;
        case 'P': /* podrun-loop's pass: not for people */
            return optind < argc ? pr_err(err, 0, "unexpected argument `%s`", argv[optind])
                                 : controllers_pass(g, err);
        case 'h':
            serve_usage(stdout);
            return 0;
        default:
            serve_usage(stderr);
            return pr_err(err, 0, "bad arguments");
        }
    }
    if (optind < argc)
        return pr_err(err, 0, "unexpected argument `%s`", argv[optind]);
    if (controllers_only) {
        if (listen)
            return pr_err(err, 0, "--listen and --controllers-only exclude each other");
        return controllers_run(g, err);
    }

    struct cri_options o = {
        .listen_fd = -1,
        .images_root = g->images_root,
        .open_pods = open_pods,
        .open_pods_data = g,
        .stream_address = stream_address,
        .stream_idle_usec = stream_idle,
        .systemd_cgroup = systemd_cgroup < 0 ? (sd_booted() > 0) : systemd_cgroup == 1,
    };
    if (o.systemd_cgroup && !(sd_booted() > 0))
        return pr_err(err, 0,
                      "--cgroup-driver systemd: systemd is not running on this node (no "
                      "/run/systemd/system), so no scope can be made; use --cgroup-driver "
                      "cgroupfs");
    /* systemd's socket activation: one listening socket, used instead of making one. */
    int n = sd_listen_fds(true);
    if (n < 0)
        return pr_err(err, -n, "LISTEN_FDS");
    if (n > 1)
        return pr_err(err, 0, "systemd passed %d sockets; podrun serve takes one", n);
    _cleanup_free_ char *def = NULL;
    if (n == 1) {
        o.listen_fd = SD_LISTEN_FDS_START;
    } else if (listen) {
        o.listen = listen;
    } else {
        const char *run = g->run_root ? g->run_root : getenv("PODRUN_RUN_ROOT");
        def = xasprintf("%s/%s", run && *run ? run : PODRUN_RUN_DIR, CRI_SOCKET_NAME);
        o.listen = def;
    }

    /* The server takes these through its loop (a signalfd): a first one drains, a second
     * stops. SIGPIPE is not used (sends say MSG_NOSIGNAL). */
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
        return pr_err(err, errno, "block SIGTERM and SIGINT");

    _cleanup_cri_server_ cri_server *s = NULL;
    int r = cri_server_new(&o, &s, err);
    if (r < 0)
        return r;
    const char *path = cri_server_path(s);
    pr_info("serving CRI v1 on %s, streams on %s, cgroup driver %s",
            path ? path : "the socket systemd passed", cri_server_stream_address(s),
            o.systemd_cgroup ? "systemd" : "cgroupfs");
    sd_notify(false, "READY=1\nSTATUS=serving CRI v1");
    r = cri_server_run(s, err);
    sd_notify(false, "STOPPING=1");
    return r;
}
