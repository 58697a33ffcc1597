/* SPDX-License-Identifier: Apache-2.0 */
/* Exec, Attach and PortForward: the calls answer a URL on the streaming server (agent/stream),
 * and this file is the backend that server calls when the client follows it. A container is
 * named by its runtime id (pods_container_id, "<pod uid>-<name>"), a sandbox by its pod's uid.
 * Exec runs `podrun-runtime exec` in the foreground (pods_exec_argv), which exits with the
 * command's status; with a terminal, the runtime hands the pty's master over --console-socket. */
#include "agent/pods/pods.h"
#include "agent/stream/stream.h"
#include "fs.h"
#include "methods.h"
#include "netns.h"
#include "util.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>

/* How long the runtime has to hand over a terminal. */
#define CONSOLE_WAIT_MS 10000
/* After SIGTERM (which the runtime forwards), how long before SIGKILL. */
#define CANCEL_GRACE_MS 2000

struct exec_proc {
    pid_t pid;
    char *sockdir;
};

static int exit_code(int st)
{
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static int exec_wait(struct stream_proc *p, pr_error **err)
{
    struct exec_proc *x = p->data;
    int st;
    while (waitpid(x->pid, &st, 0) < 0)
        if (errno != EINTR)
            return pr_err(err, errno, "wait for the exec's runtime");
    x->pid = -1;
    return exit_code(st);
}

static void exec_cancel(struct stream_proc *p)
{
    struct exec_proc *x = p->data;
    if (x->pid <= 0)
        return;
    kill(x->pid, SIGTERM);
    int st;
    for (int i = 0; i < CANCEL_GRACE_MS / 50; i++) {
        if (waitpid(x->pid, &st, WNOHANG) == x->pid) {
            x->pid = -1;
            return;
        }
        nanosleep(&(struct timespec){0, 50 * 1000000L}, NULL);
    }
    kill(x->pid, SIGKILL);
    while (waitpid(x->pid, &st, 0) < 0 && errno == EINTR)
        ;
    x->pid = -1;
}

static void exec_release(struct stream_proc *p)
{
    struct exec_proc *x = p->data;
    if (x->sockdir) {
        _cleanup_free_ char *sock = xasprintf("%s/console.sock", x->sockdir);
        unlink(sock);
        rmdir(x->sockdir);
        free(x->sockdir);
    }
    free(x);
    p->data = NULL;
}

/* The pty master the runtime sends on the console socket. */
static int receive_console(int lfd, pid_t pid, int *out, pr_error **err)
{
    for (int waited = 0; waited < CONSOLE_WAIT_MS; waited += 100) {
        struct pollfd p = {lfd, POLLIN, 0};
        if (poll(&p, 1, 100) > 0)
            break;
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid)
            return pr_err(err, 0, "the runtime's exec exited (status %d) before it sent a terminal",
                          exit_code(st));
    }
    _cleanup_close_ int cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (cfd < 0)
        return pr_err(err, errno, "the runtime sent no terminal in %d s", CONSOLE_WAIT_MS / 1000);
    struct pollfd p = {cfd, POLLIN, 0};
    poll(&p, 1, CONSOLE_WAIT_MS);
    char byte[256];
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } u;
    struct iovec iov = {byte, sizeof(byte)};
    struct msghdr msg = {
        .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof(u.buf)};
    if (recvmsg(cfd, &msg, MSG_CMSG_CLOEXEC) < 0)
        return pr_err(err, errno, "receive the exec's terminal");
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    if (!c || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
        c->cmsg_len != CMSG_LEN(sizeof(int)))
        return pr_err(err, 0, "the runtime sent no terminal on the console socket");
    memcpy(out, CMSG_DATA(c), sizeof(int));
    return 0;
}

static int console_listen(struct exec_proc *x, int *lfd, char **path, pr_error **err)
{
    char tmpl[] = "/tmp/podrun-exec-XXXXXX";
    if (!mkdtemp(tmpl))
        return pr_err(err, errno, "make a directory for the console socket");
    x->sockdir = xstrdup(tmpl);
    *path = xasprintf("%s/console.sock", tmpl);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", *path);
    *lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (*lfd < 0 || bind(*lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(*lfd, 1) < 0)
        return pr_err(err, errno, "listen on `%s`", *path);
    return 0;
}

static int open_null(int flags)
{
    return open("/dev/null", flags | O_CLOEXEC);
}

static int backend_exec(void *data, const struct stream_request *req, struct stream_proc *out,
                        pr_error **err)
{
    const struct cri_options *o = data;
    struct pods_manager *m = NULL;
    _cleanup_free_ char *id = NULL;
    _cleanup_strv_ char **argv = NULL;
    int r = o->open_pods(o->open_pods_data, false, &m, err);
    if (r < 0)
        return r;
    r = pods_stream_runtime_id(m, req->target, &id, err);
    if (r == 0)
        argv = pods_exec_argv_id(m, id, req->tty, req->command);
    pods_manager_close(m);
    if (r < 0)
        return r;

    struct exec_proc *x = xcalloc(1, sizeof(*x));
    x->pid = -1;
    *out = (struct stream_proc){.in = -1,
                                .out = -1,
                                .err = -1,
                                .pty = -1,
                                .wait = exec_wait,
                                .cancel = exec_cancel,
                                .release = exec_release,
                                .data = x};
    _cleanup_close_ int lfd = -1;
    _cleanup_free_ char *console = NULL;
    if (req->tty) {
        if ((r = console_listen(x, &lfd, &console, err)) < 0)
            goto fail;
        /* After --tty: runtime --root R exec --tty --console-socket P ID CMD... */
        size_t n = strv_length(argv), at = 0;
        while (at < n && !streq(argv[at], "--tty"))
            at++;
        argv = xrealloc(argv, (n + 3) * sizeof(*argv));
        memmove(argv + at + 3, argv + at + 1, (n - at) * sizeof(*argv));
        argv[at + 1] = xstrdup("--console-socket");
        argv[at + 2] = xstrdup(console);
    }
    /* child ends [0..2] and ours [3..5] */
    int fds[6] = {-1, -1, -1, -1, -1, -1};
    bool want[3] = {req->in && !req->tty, req->out && !req->tty, req->err && !req->tty};
    for (int i = 0; i < 3 && r == 0; i++) {
        int p[2];
        if (!want[i]) {
            fds[i] = open_null(i == 0 ? O_RDONLY : O_WRONLY);
            if (fds[i] < 0)
                r = pr_err(err, errno, "open /dev/null");
            continue;
        }
        if (pipe2(p, O_CLOEXEC) < 0) {
            r = pr_err(err, errno, "pipe");
            continue;
        }
        fds[i] = i == 0 ? p[0] : p[1];
        fds[3 + i] = i == 0 ? p[1] : p[0];
    }
    if (r == 0) {
        x->pid = fork();
        if (x->pid < 0) {
            r = pr_err(err, errno, "fork");
        } else if (x->pid == 0) {
            /* Only exec-safe calls from here: the server has threads. */
            for (int i = 0; i < 3; i++)
                if (dup2(fds[i], i) < 0)
                    _exit(127);
            child_signals_default();
            execvp(argv[0], argv);
            _exit(127);
        }
    }
    for (int i = 0; i < 3; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    out->in = fds[3];
    out->out = fds[4];
    out->err = fds[5];
    if (r < 0)
        goto fail;
    if (req->tty && (r = receive_console(lfd, x->pid, &out->pty, err)) < 0)
        goto fail;
    return 0;
fail:
    for (int *fd = &out->in; fd <= &out->pty; fd++)
        if (*fd >= 0) {
            close(*fd);
            *fd = -1;
        }
    exec_cancel(out);
    exec_release(out);
    return r;
}

static int backend_port_forward(void *data, const char *sandbox, uint16_t port, int *fd,
                                pr_error **err)
{
    const struct cri_options *o = data;
    struct pods_manager *m = NULL;
    _cleanup_free_ char *path = NULL;
    int r = o->open_pods(o->open_pods_data, false, &m, err);
    if (r < 0)
        return r;
    r = pods_sandbox_netns(m, sandbox, &path, err);
    pods_manager_close(m);
    if (r < 0)
        return r;
    _cleanup_close_ int s = -1;
    if (path) {
        _cleanup_close_ int ns = open(path, O_RDONLY | O_CLOEXEC);
        if (ns < 0)
            return pr_err(err, errno, "open the pod's network namespace `%s`", path);
        /* The socket is made inside the pod's namespace by this (connection) thread, which
         * comes straight back; connect then routes in the socket's namespace. */
        s = netns_socket(ns, -1, AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0, err);
        if (s < 0)
            return s;
    } else if ((s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
        return pr_err(err, errno, "socket");
    }
    struct sockaddr_in sa = {
        .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0)
        return pr_err(err, errno, "connect to localhost:%u in the pod", port);
    *fd = steal_fd(&s);
    return 0;
}

void cri_stream_backend(const struct cri_options *o, struct stream_backend *b)
{
    *b = (struct stream_backend){.exec = backend_exec,
                                 .attach = cri_backend_attach,
                                 .port_forward = backend_port_forward,
                                 .data = (void *)o};
}

/* ---- the calls ---- */

static void answer_url(const struct cri_options *o, const struct stream_request *req,
                       struct cri_reply *out, char **url)
{
    _cleanup_error_ pr_error *e = NULL;
    *url = stream_server_url(o->stream, req, &e);
    if (!*url)
        cri_reply_failed(out, -EAGAIN, e, "streaming");
}

/* Whether the target exists now (NOT_FOUND otherwise), as containerd checks; with must_run,
 * Exec and Attach to a CRI container that is not running are refused at the call, as
 * containerd refuses them (with its words); a CLI pod's container (no CRI record) is said so on
 * the stream by its shim. */
static bool target_ok(const struct cri_options *o, const char *target, bool container,
                      bool must_run, struct cri_reply *out)
{
    struct pods_manager *m = NULL;
    _cleanup_error_ pr_error *e = NULL;
    int r = o->open_pods(o->open_pods_data, false, &m, &e);
    if (r < 0) {
        cri_reply_failed(out, r, e, "open the pod manager");
        return false;
    }
    _cleanup_free_ char *a = NULL;
    _cleanup_json_ yajl_val rec = NULL, st = NULL;
    r = container ? pods_stream_runtime_id(m, target, &a, &e)
                  : pods_sandbox_netns(m, target, &a, &e);
    if (r == 0 && must_run) {
        r = pods_cri_container_get(m, target, &rec, &st, &e);
        if (r == -ENOENT) {
            r = 0;
            must_run = false;
        }
    }
    pods_manager_close(m);
    if (r < 0) {
        cri_reply_failed(out, r, e, container ? "find the container" : "find the sandbox");
        return false;
    }
    if (!must_run)
        return true;
    const char *s = YAJL_GET_STRING(json_get(st, "state"));
    if (s && streq(s, "running"))
        return true;
    cri_reply_error(out, GRPC_UNKNOWN, "container is in %s state",
                    !s                       ? "CONTAINER_UNKNOWN"
                    : streq(s, "terminated") ? "CONTAINER_EXITED"
                                             : "CONTAINER_CREATED");
    return false;
}

void cri_exec(const struct cri_options *o, const ProtobufCMessage *msg, struct cri_reply *out)
{
    const Runtime__V1__ExecRequest *in = (const Runtime__V1__ExecRequest *)msg;
    if (!in->container_id || !*in->container_id) {
        cri_reply_error(out, GRPC_INVALID_ARGUMENT, "container_id is empty");
        return;
    }
    if (!in->n_cmd) {
        cri_reply_error(out, GRPC_INVALID_ARGUMENT, "cmd is empty");
        return;
    }
    if (!in->stdin && !in->stdout && !in->stderr) {
        cri_reply_error(out, GRPC_INVALID_ARGUMENT, "one of stdin, stdout, or stderr must be set");
        return;
    }
    if (!in->stdout && !in->stderr) {
        /* The end of the command is seen as the end of its output. */
        cri_reply_error(out, GRPC_INVALID_ARGUMENT,
                        "an exec without stdout or stderr is not supported by podrun");
        return;
    }
    if (in->tty && in->stderr) {
        cri_reply_error(out, GRPC_INVALID_ARGUMENT, "tty and stderr cannot both be true");
        return;
    }
    if (!target_ok(o, in->container_id, true, true, out))
        return;
    _cleanup_strv_ char **cmd = NULL;
    for (size_t i = 0; i < in->n_cmd; i++)
        strv_extend(&cmd, in->cmd[i]);
    struct stream_request req = {.kind = STREAM_EXEC,
                                 .target = in->container_id,
                                 .command = cmd,
                                 .tty = in->tty,
                                 .in = in->stdin,
                                 .out = in->stdout,
                                 .err = in->stderr};
    _cleanup_free_ char *url = NULL;
    answer_url(o, &req, out, &url);
    if (!url)
        return;
    Runtime__V1__ExecResponse resp = RUNTIME__V1__EXEC_RESPONSE__INIT;
    resp.url = url;
    cri_reply_ok(out, &resp.base);
}

/* As the kubelet's streaming server validates it (containerd answers through that code). The
 * container's own stdin and terminal decide the rest at attach time, as containerd does: stdin
 * to a container without one is dropped, and the output is the container's whatever tty says. */
void cri_attach(const struct cri_options *o, const ProtobufCMessage *msg, struct cri_reply *out)
{
    const Runtime__V1__AttachRequest *in = (const Runtime__V1__AttachRequest *)msg;
    if (!in->container_id || !*in->container_id) {
        cri_reply_error(out, GRPC_INVALID_ARGUMENT, "missing required container_id");
        return;
    }
    if (in->tty && in->stderr) {
        cri_reply_error(out, GRPC_INVALID_ARGUMENT, "tty and stderr cannot both be true");
        return;
    }
    if (!in->stdin && !in->stdout && !in->stderr) {
        cri_reply_error(out, GRPC_INVALID_ARGUMENT, "one of stdin, stdout, and stderr must be set");
        return;
    }
    if (!in->stdout && !in->stderr) {
        /* The server sees the end of the session as the end of its output. */
        cri_reply_error(out, GRPC_INVALID_ARGUMENT,
                        "an attach without stdout or stderr is not supported by podrun");
        return;
    }
    if (!target_ok(o, in->container_id, true, true, out))
        return;
    struct stream_request req = {.kind = STREAM_ATTACH,
                                 .target = in->container_id,
                                 .tty = in->tty,
                                 .in = in->stdin,
                                 .out = in->stdout,
                                 .err = in->stderr};
    _cleanup_free_ char *url = NULL;
    answer_url(o, &req, out, &url);
    if (!url)
        return;
    Runtime__V1__AttachResponse resp = RUNTIME__V1__ATTACH_RESPONSE__INIT;
    resp.url = url;
    cri_reply_ok(out, &resp.base);
}

void cri_port_forward(const struct cri_options *o, const ProtobufCMessage *msg,
                      struct cri_reply *out)
{
    const Runtime__V1__PortForwardRequest *in = (const Runtime__V1__PortForwardRequest *)msg;
    if (!in->pod_sandbox_id || !*in->pod_sandbox_id) {
        cri_reply_error(out, GRPC_INVALID_ARGUMENT, "pod_sandbox_id is empty");
        return;
    }
    if (in->n_port > STREAM_PORTS_MAX) {
        cri_reply_error(out, GRPC_INVALID_ARGUMENT, "more than %d ports", STREAM_PORTS_MAX);
        return;
    }
    uint16_t ports[STREAM_PORTS_MAX];
    for (size_t i = 0; i < in->n_port; i++) {
        if (in->port[i] <= 0 || in->port[i] > 65535) {
            cri_reply_error(out, GRPC_INVALID_ARGUMENT, "port %d is out of range",
                            (int)in->port[i]);
            return;
        }
        ports[i] = in->port[i];
    }
    if (!target_ok(o, in->pod_sandbox_id, false, false, out))
        return;
    struct stream_request req = {.kind = STREAM_PORT_FORWARD,
                                 .target = in->pod_sandbox_id,
                                 .ports = ports,
                                 .n_ports = in->n_port};
    _cleanup_free_ char *url = NULL;
    answer_url(o, &req, out, &url);
    if (!url)
        return;
    Runtime__V1__PortForwardResponse resp = RUNTIME__V1__PORT_FORWARD_RESPONSE__INIT;
    resp.url = url;
    cri_reply_ok(out, &resp.base);
}
