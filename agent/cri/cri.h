/* SPDX-License-Identifier: Apache-2.0 */
/* The CRI v1 server: gRPC over HTTP/2 on a unix socket (DESIGN.md §4), serving a kubelet or
 * crictl from the image store and the pod manager. The caller (podrun serve) owns the process:
 * it blocks SIGTERM and SIGINT before cri_server_run, which drains on either, and it tells
 * systemd of readiness; the library prints nothing. */
#ifndef PODRUN_CRI_CRI_H
#define PODRUN_CRI_CRI_H

#include "error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pods_manager;
struct stream_server;

/* Messages over this size are refused either way with RESOURCE_EXHAUSTED (what gRPC servers
 * and the kubelet's client allow by default is 4 MiB; the kubelet raises its own to 16 MiB). */
#define CRI_MSG_MAX_DEFAULT (16u << 20)
#define CRI_SOCKET_NAME     "podrun.sock"

struct cri_options {
    /* Where to listen: a path (no scheme, or unix://). Ignored when listen_fd >= 0. */
    const char *listen;
    /* A listening unix stream socket handed over by systemd (LISTEN_FDS), or -1. */
    int listen_fd;
    size_t max_recv, max_send;               /* 0: CRI_MSG_MAX_DEFAULT */
    const char *images_root;                 /* NULL: the store's default */
    const char *registries_conf, *auth_file; /* NULL: the images library's defaults */
    /* Opens the pod manager on the caller's roots (the CLI's open_manager). */
    int (*open_pods)(void *data, bool exclusive, struct pods_manager **m, pr_error **err);
    void *open_pods_data;
    /* The streaming server's address (ADDR[:PORT]; NULL: 127.0.0.1 and a port the kernel
     * picks) and idle timeout (0: the default, 4 hours). */
    const char *stream_address;
    uint64_t stream_idle_usec;
    /* The cgroup driver RuntimeConfig names and sandboxes follow: systemd (slices and transient
     * scopes through the runtime's --systemd-cgroup) or cgroupfs. */
    bool systemd_cgroup;
    /* Set by cri_server_new: the streaming server Exec and PortForward hand URLs out on. */
    struct stream_server *stream;
};

typedef struct cri_server cri_server;

/* Listens (unix sockets: mode 0660, owner root, refusing a path that is not a socket or on which
 * a server answers) and prepares the event loop. Nothing is served before cri_server_run. */
int cri_server_new(const struct cri_options *o, cri_server **out, pr_error **err);
/* "ADDR:PORT" of the streaming server (Exec, Attach and PortForward's URLs). */
const char *cri_server_stream_address(const cri_server *s);
/* The path of the socket this server made, or NULL for a socket it was handed. */
const char *cri_server_path(const cri_server *s);
/* Serves until SIGTERM or SIGINT (blocked by the caller), then stops accepting, lets the calls in
 * flight finish and their answers go out, and returns 0. */
int cri_server_run(cri_server *s, pr_error **err);
/* Closes every connection and removes the socket the server made (only if it is still its). */
void cri_server_free(cri_server *s);
static inline void cri_server_freep(cri_server **s)
{
    if (*s)
        cri_server_free(*s);
}
#define _cleanup_cri_server_ __attribute__((cleanup(cri_server_freep)))

#endif
