/* SPDX-License-Identifier: Apache-2.0 */
/* The CRI's streaming server (DESIGN.md §4): Exec, Attach and PortForward answer a URL on it,
 * `http://ADDR:PORT/{exec,attach,portforward}/TOKEN`, and the client (kubelet, crictl, kubectl
 * through the API server) follows it with a WebSocket upgrade (`v4`/`v5.channel.k8s.io`) or a
 * SPDY/3.1 one (`v4.channel.k8s.io` for exec and attach, `portforward.k8s.io`). The
 * library knows nothing of pods: a backend the caller gives resolves a request to what to run.
 * It runs its own threads (one accepting, one per connection) and never touches the caller's
 * event loop; it prints nothing. */
#ifndef PODRUN_STREAM_STREAM_H
#define PODRUN_STREAM_STREAM_H

#include "error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Tokens live this long (the kubelet's streaming cache: 1 minute) and at most this many are
 * waiting at once; one more is refused (RESOURCE_EXHAUSTED to the CRI caller). */
#define STREAM_TOKEN_TTL_USEC (60ULL * 1000000ULL)
#define STREAM_TOKENS_MAX     1024
/* Connections served at once; one more is closed as soon as it is accepted. */
#define STREAM_CONNS_MAX 64
/* A request's head (request line and headers). */
#define STREAM_HEAD_MAX (16u << 10)
/* One WebSocket frame's payload, either way. The kubelet's own reads are 32 KiB buffers. */
#define STREAM_FRAME_MAX (1u << 20)
/* Ports in one port-forward request. */
#define STREAM_PORTS_MAX 16
/* A connection with no traffic either way for this long is closed (the kubelet's default
 * stream idle timeout is 4 hours; crictl's is none). A client that does not read blocks only its
 * own connection, which is closed after the same time. */
#define STREAM_IDLE_USEC_DEFAULT (4ULL * 3600ULL * 1000000ULL)
/* How long a client has to send its request head and finish the handshake. */
#define STREAM_HANDSHAKE_USEC (10ULL * 1000000ULL)

enum stream_kind { STREAM_EXEC, STREAM_ATTACH, STREAM_PORT_FORWARD };

/* What a token stands for: a copy of the CRI request's fields. */
struct stream_request {
    enum stream_kind kind;
    char *target;   /* exec, attach: the container; port-forward: the sandbox */
    char **command; /* exec only */
    bool tty, in, out, err;
    uint16_t *ports; /* port-forward: the ports the request allows (none: any) */
    size_t n_ports;
};

/* A process (or attachment) the backend started. Fds the backend did not open are -1; with tty,
 * pty is the terminal's master and in/out/err are -1, or (a terminal the backend relays, as
 * attach's through the shim) pty is -1, in/out carry the terminal and resize is set. The library
 * closes the fds. */
struct stream_proc {
    int in, out, err, pty;
    /* Waits for the end and returns its exit code (0..255, 128+signal), or a negative errno
     * with err filled. */
    int (*wait)(struct stream_proc *p, pr_error **err);
    /* The client went away first: end it, without waiting long. */
    void (*cancel)(struct stream_proc *p);
    /* Optional: the client's terminal size, used instead of TIOCSWINSZ on pty. Called on the
     * connection's thread; it must not block. */
    void (*resize)(struct stream_proc *p, unsigned rows, unsigned cols);
    /* Frees what the backend keeps; called once, after wait or cancel. */
    void (*release)(struct stream_proc *p);
    void *data;
};

struct stream_backend {
    /* Start req's command (exec) or attach to the container (attach); fill out. Called on the
     * connection's thread, which may block. */
    int (*exec)(void *data, const struct stream_request *req, struct stream_proc *out,
                pr_error **err);
    int (*attach)(void *data, const struct stream_request *req, struct stream_proc *out,
                  pr_error **err);
    /* A socket connected to localhost:port inside the sandbox's network namespace. */
    int (*port_forward)(void *data, const char *sandbox, uint16_t port, int *fd, pr_error **err);
    void *data;
};

struct stream_options {
    /* ADDR or ADDR:PORT (IPv6 in brackets) to listen on; NULL: 127.0.0.1 and a port the
     * kernel chooses. */
    const char *address;
    uint64_t idle_usec; /* 0: STREAM_IDLE_USEC_DEFAULT */
    struct stream_backend backend;
};

typedef struct stream_server stream_server;

/* Listens and starts the accepting thread. */
int stream_server_new(const struct stream_options *o, stream_server **out, pr_error **err);
/* Stops accepting, ends every connection (cancelling what they run) and frees the server. */
void stream_server_free(stream_server *s);
/* Takes a copy of req and returns the URL to give the client (to be freed), or NULL with
 * *err when the cache is full (errno EAGAIN). */
char *stream_server_url(stream_server *s, const struct stream_request *req, pr_error **err);
/* "ADDR:PORT" the server listens on. */
const char *stream_server_address(const stream_server *s);

void stream_request_clear(struct stream_request *r);

#endif
