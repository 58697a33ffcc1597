/* SPDX-License-Identifier: Apache-2.0 */
/* podrun-cri: the CRI v1 server (agent/cri) on a unix socket, for a kubelet or crictl; `podrun
 * serve` execs it with its own arguments. It links the image store with libimages-spawn.a, so
 * that pulls and layer unpacking run in podrun-fetch, a child, and this long-lived process
 * maps neither libcurl (with TLS, Kerberos, LDAP ...) nor libarchive. This file owns the
 * process: signals, systemd's socket activation and readiness, and printing. */
#include "agent/cri/cri.h"
#include "commands.h"
#include "log.h"
#include "paths.h"
#include "util.h"

#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <systemd/sd-daemon.h>

static int open_pods(void *data, bool exclusive, struct pods_manager **m, pr_error **err)
{
    return open_manager(data, exclusive, m, err);
}

static int serve(struct podrun_global *g, const struct serve_args *a, pr_error **err)
{
    struct cri_options o = {
        .listen_fd = -1,
        .images_root = g->images_root,
        .open_pods = open_pods,
        .open_pods_data = g,
        .stream_address = a->stream_address,
        .stream_idle_usec = a->stream_idle_usec,
        .systemd_cgroup = a->systemd_cgroup < 0 ? (sd_booted() > 0) : a->systemd_cgroup == 1,
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
    } else if (a->listen) {
        o.listen = a->listen;
    } else {
        const char *run = g->run_root ? g->run_root : getenv("PODRUN_RUN_ROOT");
        def = xasprintf("%s/%s", run && *run ? run : PODRUN_RUN_DIR, CRI_SOCKET_NAME);
        o.listen = def;
    }

    /* SIGPIPE is ignored once, before any thread starts, for the server's life: a peer that
     * closes a pipe or socket while it is written (an exec'd command its stdin, a stream's
     * reader) makes the write fail with EPIPE instead of killing the server. Socket sends say
     * MSG_NOSIGNAL besides; children get the default back (child_signals_default). */
    struct sigaction ign = {.sa_handler = SIG_IGN};
    if (sigaction(SIGPIPE, &ign, NULL) < 0)
        return pr_err(err, errno, "ignore SIGPIPE");
    /* The server takes these through its loop (a signalfd): a first one drains, a second
     * stops. */
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

int main(int argc, char **argv)
{
    struct podrun_global g = {0};
    if (cli_globals_parse(argc, argv, &g) != 0 || optind >= argc || !streq(argv[optind], "serve")) {
        fprintf(stderr, "usage: podrun-cri [GLOBAL OPTIONS] serve [OPTIONS]\n"
                        "(`podrun serve` runs it; see podrun-serve(8))\n");
        return 2;
    }
    pr_log_init(NULL, false, g.debug);
    /* Two malloc arenas, not one per worker thread (8): the workers wait on locks, children
     * and disks, not on malloc, and each arena keeps the high-water mark of its calls (measured
     * after 20 pods: 200 KiB less, and less growth from round to round). */
    mallopt(M_ARENA_MAX, 2);
    int at = optind;
    optind = 0; /* serve's options, parsed afresh */
    struct serve_args a = {0};
    _cleanup_error_ pr_error *err = NULL;
    int r = serve_args_parse(argc - at, argv + at, &a, &err);
    if (r == 0 && (a.help || a.controllers_only || a.controllers_pass))
        r = pr_err(&err, 0, "podrun-cri serves CRI only; run `podrun serve` for the rest");
    if (r == 0)
        r = serve(&g, &a, &err);
    if (r < 0)
        fprintf(stderr, "podrun serve: %s\n", err && err->msg ? err->msg : strerror(-r));
    return r < 0 ? 1 : 0;
}
