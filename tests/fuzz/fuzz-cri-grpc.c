/* SPDX-License-Identifier: Apache-2.0 */
/* The CRI server's input: what a peer sends on podrun.sock. The first byte picks the layer:
 *   even: the gRPC framing and the protobuf decode without a socket. The second byte picks a
 *         method (each served one and one not implemented yet), the third how the rest is cut
 *         into DATA chunks for grpc_reader_feed; a whole message is decoded as the method's
 *         request and, for the methods that touch nothing (Version, RuntimeConfig), run. The
 *         rest also goes through grpc_parse_timeout and grpc_percent_encode.
 *   odd:  the rest as a client's bytes after the HTTP/2 preface, on a connection to one server
 *         (made once, on a socket in the scratch directory, image store there too, the pod
 *         manager refused), whose loop runs until the connection is closed and no call is in
 *         flight. Descriptors must not leak across inputs.
 * The server's loop takes SIGTERM/SIGINT through a signalfd: they are blocked only while it
 * runs. */
#include "agent/cri/grpc.h"
#include "agent/cri/methods.h"
#include "agent/cri/server.h"
#include "fuzz-common.h"
#include "util.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>

#define INPUT_MAX (256 * 1024)

static const char *const paths[] = {
    "/runtime.v1.RuntimeService/Version",       "/runtime.v1.RuntimeService/Status",
    "/runtime.v1.RuntimeService/RuntimeConfig", "/runtime.v1.ImageService/ListImages",
    "/runtime.v1.ImageService/ImageStatus",     "/runtime.v1.ImageService/PullImage",
    "/runtime.v1.ImageService/RemoveImage",     "/runtime.v1.ImageService/ImageFsInfo",
    "/runtime.v1.RuntimeService/RunPodSandbox",
};

static int no_pods(void *data, bool exclusive, struct pods_manager **m, pr_error **err)
{
    return pr_err(err, EPERM, "no pod manager in the fuzz target");
}

static struct cri_options options(void)
{
    static char *images;
    if (!images)
        images = xasprintf("%s/images", fuzz_scratch());
    struct cri_options o = {.listen_fd = -1,
                            .max_recv = CRI_MSG_MAX_DEFAULT,
                            .max_send = CRI_MSG_MAX_DEFAULT,
                            .images_root = images,
                            /* no registry is reachable: every pull fails at once */
                            .registries_conf = "/dev/null",
                            .open_pods = no_pods};
    return o;
}

static void framing(const uint8_t *data, size_t size)
{
    if (size < 2)
        return;
    const struct cri_method *m = cri_method_find(paths[data[0] % ARRAY_SIZE(paths)]);
    size_t chunk = data[1] ? data[1] : 1;
    data += 2;
    size = size - 2;
    struct grpc_reader rd = {.max = 1u << 20};
    const char *why = NULL;
    int code = 0;
    for (size_t off = 0; !code && off < size; off += chunk)
        code = grpc_reader_feed(&rd, data + off, MIN(chunk, size - off), &why);
    if (!code && grpc_reader_finish(&rd, &why) == 0) {
        if (m->fn && m->on_loop) {
            struct cri_options o = options();
            struct cri_reply reply;
            cri_method_call(m, &o, rd.msg, rd.msg_len, o.max_send, &reply);
            cri_reply_clear(&reply);
        } else if (m->request) {
            ProtobufCMessage *msg = protobuf_c_message_unpack(m->request, NULL, rd.msg_len, rd.msg);
            if (msg)
                protobuf_c_message_free_unpacked(msg, NULL);
        }
    }
    grpc_reader_clear(&rd);
    uint64_t us;
    grpc_parse_timeout((const char *)data, MIN(size, 10), &us);
    _cleanup_free_ char *text = fuzz_str(data, size);
    free(grpc_percent_encode(text));
}

static cri_server *server;
static char *sock_path;

static void session(const uint8_t *data, size_t size)
{
    sigset_t mask, saved;
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigprocmask(SIG_BLOCK, &mask, &saved);
    if (!server) {
        sock_path = xasprintf("%s/cri.sock", fuzz_scratch());
        struct cri_options o = options();
        o.listen = sock_path;
        pr_error *err = NULL;
        if (cri_server_new(&o, &server, &err) < 0 || cri_server_start(server, &err) < 0)
            fuzz_fail("cri_server_new: %s", err->msg);
        /* sd-event makes a clock's timerfd with its first timer (a grpc-timeout) and keeps it. */
        sd_event_source *t = NULL;
        sd_event_add_time_relative(server->ev, &t, CLOCK_MONOTONIC, 1000000, 0, NULL, NULL);
        sd_event_source_disable_unref(t);
        /* Each handler once, so that what a library sets up on first use (curl's global
         * state) is there before descriptors are counted. */
        for (size_t i = 0; i < ARRAY_SIZE(paths); i++) {
            struct cri_reply reply;
            cri_method_call(cri_method_find(paths[i]), &o, (const uint8_t *)"", 0, o.max_send,
                            &reply);
            cri_reply_clear(&reply);
        }
    }
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock_path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
        fuzz_fail("connect `%s`: %m", sock_path);
    int big = INPUT_MAX * 2;
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
    static const char preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
    if (send(fd, preface, sizeof(preface) - 1, MSG_NOSIGNAL) < 0)
        fuzz_fail("send: %m");
    fcntl(fd, F_SETFL, O_NONBLOCK);
    size_t off = 0;
    bool accepted = false;
    char buf[65536];
    for (int round = 0; round < 20000; round++) {
        while (off < size) {
            ssize_t n = send(fd, data + off, size - off, MSG_NOSIGNAL);
            if (n <= 0)
                break;
            off += (size_t)n;
        }
        if (off == size)
            shutdown(fd, SHUT_WR);
        sd_event_run(server->ev, server->inflight ? 1000 : 0);
        accepted |= server->nconns > 0;
        ssize_t n;
        while ((n = recv(fd, buf, sizeof(buf), 0)) > 0)
            ;
        if (n == 0 && off == size)
            off = size + 1; /* the server closed: now wait for its calls */
        if (accepted && server->nconns == 0 && !server->inflight)
            break;
        if (n < 0 && errno != EAGAIN)
            break;
    }
    close(fd);
    /* The server lets go of a connection it has not seen close yet on its next turn. */
    for (int round = 0; round < 1000 && (server->nconns || server->inflight); round++)
        sd_event_run(server->ev, 10000);
    if (server->nconns || server->inflight)
        fuzz_fail("the server still has %u connections and %u calls after 10 s", server->nconns,
                  server->inflight);
    sigprocmask(SIG_SETMASK, &saved, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > INPUT_MAX)
        return -1;
    if (data[0] & 1) {
        if (!server)
            session(NULL, 0); /* makes the server, then counts */
        /* Counted around each input: libFuzzer opens pipes to its symbolizer between inputs. */
        int fds_before = fuzz_count_fds();
        session(data + 1, size - 1);
        if (fuzz_count_fds() != fds_before) {
            for (int fd = 0; fd < 64; fd++) {
                char l[64], t[256] = "";
                snprintf(l, sizeof(l), "/proc/self/fd/%d", fd);
                if (readlink(l, t, sizeof(t) - 1) > 0)
                    fprintf(stderr, "fd %d: %s\n", fd, t);
            }
            fuzz_fail("descriptors leaked: %d before, %d after", fds_before, fuzz_count_fds());
        }
    } else {
        framing(data + 1, size - 1);
    }
    return 0;
}
