/* SPDX-License-Identifier: Apache-2.0 */
/* Test helper: the other end of --console-socket. Listens on PATH, receives one pty master,
 * optionally writes INPUT to it, and copies what the container prints to stdout until EOF.
 * It gives up after RECVTTY_TIMEOUT seconds (default 120) with status 124, and keeps no
 * inherited descriptor but stdin, stdout and stderr: a create that fails leaves it waiting for a
 * pty that never comes, and it must neither wait forever nor keep bats' output (fd 3) open, which
 * would hang the whole suite with no summary. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

static void timed_out(int sig)
{
    static const char msg[] = "recvtty: timed out waiting for the container's terminal\n";
    (void)sig;
    if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0) {
        /* nothing left to tell */
    }
    _exit(124);
}

/* Closes every descriptor above stderr (close_range, or one by one on older kernels). */
static void close_inherited_fds(void)
{
    if (syscall(SYS_close_range, 3U, ~0U, 0U) == 0)
        return;
    long max = sysconf(_SC_OPEN_MAX);
    for (long fd = 3; fd < (max > 0 && max < 65536 ? max : 65536); fd++)
        close((int)fd);
}

static int recv_fd(int sock)
{
    char data[256];
    struct iovec iov = {.iov_base = data, .iov_len = sizeof(data)};
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } ctrl;
    struct msghdr mh = {.msg_iov = &iov,
                        .msg_iovlen = 1,
                        .msg_control = ctrl.buf,
                        .msg_controllen = sizeof(ctrl.buf)};
    if (recvmsg(sock, &mh, 0) < 0)
        return -1;
    struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
    if (!c || c->cmsg_type != SCM_RIGHTS)
        return -1;
    int fd;
    memcpy(&fd, CMSG_DATA(c), sizeof(int));
    return fd;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: recvtty SOCKET [INPUT]\n");
        return 2;
    }
    close_inherited_fds();
    const char *t = getenv("RECVTTY_TIMEOUT");
    long timeout = t && *t ? strtol(t, NULL, 10) : 120;
    struct sigaction sa = {.sa_handler = timed_out};
    sigaction(SIGALRM, &sa, NULL);
    alarm(timeout > 0 && timeout < 86400 ? (unsigned)timeout : 120);
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", argv[1]);
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    unlink(argv[1]);
    if (s < 0 || bind(s, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(s, 1) < 0) {
        perror("recvtty: listen");
        return 1;
    }
    int c = accept(s, NULL, NULL);
    int master = c >= 0 ? recv_fd(c) : -1;
    if (master < 0) {
        perror("recvtty: receive pty");
        return 1;
    }
    if (argc > 2 && write(master, argv[2], strlen(argv[2])) < 0)
        perror("recvtty: write");
    char buf[4096];
    for (;;) {
        ssize_t n = read(master, buf, sizeof(buf));
        if (n <= 0)
            break; /* EIO once the container closed its end */
        fwrite(buf, 1, (size_t)n, stdout);
        fflush(stdout);
    }
    return 0;
}
