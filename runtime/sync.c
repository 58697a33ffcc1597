/* SPDX-License-Identifier: Apache-2.0 */
#include "sync.h"
#include "util.h"

#include <sys/socket.h>
#include <sys/un.h>

int sync_pair(int fds[2], pr_error **err)
{
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) < 0)
        return pr_err(err, errno, "socketpair");
    return 0;
}

struct wire {
    int type;
    int value;
};

static int send_with_fd(int sock, const void *buf, size_t len, int fd)
{
    struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } ctrl;
    if (fd >= 0) {
        memset(&ctrl, 0, sizeof(ctrl));
        mh.msg_control = ctrl.buf;
        mh.msg_controllen = sizeof(ctrl.buf);
        struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &fd, sizeof(int));
    }
    ssize_t r;
    do
        r = sendmsg(sock, &mh, MSG_NOSIGNAL);
    while (r < 0 && errno == EINTR);
    return r < 0 ? -errno : 0;
}

int send_fd(int sock, int fd, const void *data, size_t len)
{
    return send_with_fd(sock, data, len, fd);
}

int sync_send(int sock, int type, int value, int fd)
{
    struct wire w = {type, value};
    return send_with_fd(sock, &w, sizeof(w), fd);
}

int sync_send_error(int sock, const pr_error *e)
{
    char buf[sizeof(struct wire) + 3072];
    struct wire w = {SYNC_ERROR, e ? e->errnum : 0};
    memcpy(buf, &w, sizeof(w));
    const char *msg = e && e->msg ? e->msg : "unknown error";
    size_t n = strnlen(msg, 3071);
    memcpy(buf + sizeof(w), msg, n);
    buf[sizeof(w) + n] = '\0';
    return send_with_fd(sock, buf, sizeof(w) + n + 1, -1);
}

int sync_recv(int sock, struct sync_msg *m, const char *awaiting, pr_error **err)
{
    char buf[sizeof(struct wire) + sizeof(m->text)];
    struct iovec iov = {.iov_base = buf, .iov_len = sizeof(buf)};
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } ctrl;
    struct msghdr mh = {.msg_iov = &iov,
                        .msg_iovlen = 1,
                        .msg_control = ctrl.buf,
                        .msg_controllen = sizeof(ctrl.buf)};
    ssize_t r;
    do
        r = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
    while (r < 0 && errno == EINTR);
    if (r < 0)
        return pr_err(err, errno, "waiting for %s", awaiting);
    if (r == 0)
        return pr_err(err, EPIPE, "waiting for %s: the container process exited", awaiting);
    if ((size_t)r < sizeof(struct wire))
        return pr_err(err, EPROTO, "waiting for %s: short message", awaiting);
    struct wire w;
    memcpy(&w, buf, sizeof(w));
    m->type = w.type;
    m->value = w.value;
    m->fd = -1;
    m->text[0] = '\0';
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
            memcpy(&m->fd, CMSG_DATA(c), sizeof(int));
    if ((size_t)r > sizeof(w)) {
        size_t n = (size_t)r - sizeof(w);
        if (n >= sizeof(m->text))
            n = sizeof(m->text) - 1;
        memcpy(m->text, buf + sizeof(w), n);
        m->text[n] = '\0';
    }
    if (m->type == SYNC_ERROR) {
        if (err && !*err) {
            *err = xcalloc(1, sizeof(**err));
            (*err)->errnum = m->value;
            (*err)->msg = xstrdup(m->text);
        }
        return m->value ? -m->value : -EINVAL;
    }
    return 0;
}

int sync_expect(int sock, int type, struct sync_msg *m, const char *awaiting, pr_error **err)
{
    int r = sync_recv(sock, m, awaiting, err);
    if (r < 0)
        return r;
    if (m->type != type) {
        if (m->fd >= 0)
            close(m->fd);
        return pr_err(err, EPROTO, "waiting for %s: unexpected message %d", awaiting, m->type);
    }
    return 0;
}
