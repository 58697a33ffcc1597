/* SPDX-License-Identifier: Apache-2.0 */
/* The attach protocol's framing and sockets (attach.h). */
#include "attach.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

void attach_header(uint8_t hdr[ATTACH_HEADER_SIZE], enum attach_channel ch, uint32_t len)
{
    hdr[0] = (uint8_t)ch;
    hdr[1] = (uint8_t)(len >> 24);
    hdr[2] = (uint8_t)(len >> 16);
    hdr[3] = (uint8_t)(len >> 8);
    hdr[4] = (uint8_t)len;
}

int attach_parse(const uint8_t *buf, size_t n, struct attach_frame *f)
{
    if (n < 1)
        return 0;
    if (buf[0] >= ATTACH_CHANNELS)
        return -EBADMSG;
    if (n < ATTACH_HEADER_SIZE)
        return 0;
    uint32_t len = (uint32_t)buf[1] << 24 | (uint32_t)buf[2] << 16 | (uint32_t)buf[3] << 8 | buf[4];
    if (len > ATTACH_FRAME_MAX)
        return -EBADMSG;
    if (n - ATTACH_HEADER_SIZE < len)
        return 0;
    f->channel = buf[0];
    f->data = buf + ATTACH_HEADER_SIZE;
    f->len = len;
    return (int)(ATTACH_HEADER_SIZE + len);
}

void attach_resize_encode(uint8_t out[4], unsigned rows, unsigned cols)
{
    rows = rows > 0xffff ? 0xffff : rows;
    cols = cols > 0xffff ? 0xffff : cols;
    out[0] = (uint8_t)(rows >> 8);
    out[1] = (uint8_t)rows;
    out[2] = (uint8_t)(cols >> 8);
    out[3] = (uint8_t)cols;
}

int attach_resize_decode(const struct attach_frame *f, unsigned *rows, unsigned *cols)
{
    if (f->channel != ATTACH_RESIZE || f->len != 4)
        return -EBADMSG;
    *rows = (unsigned)f->data[0] << 8 | f->data[1];
    *cols = (unsigned)f->data[2] << 8 | f->data[3];
    return 0;
}

void attach_exit_encode(uint8_t out[4], int32_t code)
{
    uint32_t u = (uint32_t)code;
    out[0] = (uint8_t)(u >> 24);
    out[1] = (uint8_t)(u >> 16);
    out[2] = (uint8_t)(u >> 8);
    out[3] = (uint8_t)u;
}

int attach_exit_decode(const struct attach_frame *f, int32_t *code)
{
    if (f->channel != ATTACH_EXIT || f->len != 4)
        return -EBADMSG;
    *code = (int32_t)((uint32_t)f->data[0] << 24 | (uint32_t)f->data[1] << 16 |
                      (uint32_t)f->data[2] << 8 | f->data[3]);
    return 0;
}

/* dir opened as a path, and the socket's name through it: short whatever dir's length. */
static int socket_addr(const char *dir, const char *name, int *dfd, struct sockaddr_un *sa,
                       pr_error **err)
{
    if (!*name || strchr(name, '/') || streq(name, ".") || streq(name, ".."))
        return pr_err(err, 0, "attach: \"%s\" is not a container name", name);
    *dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (*dfd < 0)
        return pr_err(err, errno, "open `%s`", dir);
    *sa = (struct sockaddr_un){.sun_family = AF_UNIX};
    int n = snprintf(sa->sun_path, sizeof(sa->sun_path), "/proc/self/fd/%d/%s.sock", *dfd, name);
    if (n < 0 || (size_t)n >= sizeof(sa->sun_path)) {
        close(*dfd);
        return pr_err(err, ENAMETOOLONG, "attach socket of \"%s\": name too long", name);
    }
    return 0;
}

int attach_listen(const char *dir, const char *name, pr_error **err)
{
    struct sockaddr_un sa;
    int dfd;
    int r = socket_addr(dir, name, &dfd, &sa, err);
    if (r < 0)
        return r;
    _cleanup_close_ int closer = dfd;
    _cleanup_free_ char *sock = xasprintf("%s.sock", name);
    unlinkat(dfd, sock, 0); /* a dead shim's: the caller holds the pod's lock */
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return pr_err(err, errno, "socket");
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || fchmodat(dfd, sock, 0600, 0) < 0 ||
        listen(fd, 16) < 0) {
        int e = errno;
        close(fd);
        return pr_err(err, e, "listen on `%s/%s`", dir, sock);
    }
    return fd;
}

int attach_connect(const char *dir, const char *name, pr_error **err)
{
    struct sockaddr_un sa;
    int dfd;
    int r = socket_addr(dir, name, &dfd, &sa, err);
    if (r < 0)
        return r;
    _cleanup_close_ int closer = dfd;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return pr_err(err, errno, "socket");
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        int e = errno;
        close(fd);
        return pr_err(err, e, "connect to `%s/%s.sock`", dir, name);
    }
    return fd;
}
