/* SPDX-License-Identifier: Apache-2.0 */
/* Attach's relay (agent/cri/attach.c) against a fake shim on a socketpair: output to the
 * server's fds, input and its end as STDIN frames, a terminal's size as RESIZE, the exit as
 * what wait returns, an ERROR frame as an error, and a detach that ends the relay at once. */
#include "agent/cri/methods.h"
#include "agent/stream/stream.h"
#include "attach.h"
#include "tests/lib/unit.h"
#include "util.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>

static void shim_send(int fd, enum attach_channel ch, const void *data, size_t len)
{
    uint8_t hdr[ATTACH_HEADER_SIZE];
    attach_header(hdr, ch, (uint32_t)len);
    CHECK(write(fd, hdr, sizeof(hdr)) == (ssize_t)sizeof(hdr));
    if (len)
        CHECK(write(fd, data, len) == (ssize_t)len);
}

static void shim_hello(int fd, uint8_t flags)
{
    shim_send(fd, ATTACH_HELLO, &flags, 1);
}

/* The next frame the relay sends (blocking): its channel, data into buf; -1 at EOF. */
static int shim_recv(int fd, uint8_t *buf, size_t *len)
{
    uint8_t hdr[ATTACH_HEADER_SIZE];
    if (recv(fd, hdr, sizeof(hdr), MSG_WAITALL) != (ssize_t)sizeof(hdr))
        return -1;
    *len = (size_t)hdr[1] << 24 | (size_t)hdr[2] << 16 | (size_t)hdr[3] << 8 | hdr[4];
    if (*len && recv(fd, buf, *len, MSG_WAITALL) != (ssize_t)*len)
        return -1;
    return hdr[0];
}

/* All of fd up to its EOF. */
static char *read_to_end(int fd)
{
    char buf[256];
    size_t n = 0;
    for (;;) {
        struct pollfd p = {fd, POLLIN, 0};
        CHECK(poll(&p, 1, 5000) == 1);
        ssize_t r = read(fd, buf + n, sizeof(buf) - 1 - n);
        if (r < 0 && errno == EAGAIN)
            continue;
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    return xstrndup(buf, n);
}

static void close_proc(struct stream_proc *p)
{
    for (int *fd = &p->in; fd <= &p->pty; fd++)
        if (*fd >= 0)
            close(*fd);
    p->release(p);
}

static void test_output_input_and_exit(void)
{
    int sv[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
    shim_hello(sv[1], ATTACH_F_STDIN);
    struct stream_request req = {.kind = STREAM_ATTACH, .in = true, .out = true, .err = true};
    struct stream_proc p;
    _cleanup_error_ pr_error *e = NULL;
    CHECK(cri_attach_relay(sv[0], "c", &req, &p, &e) == 0);
    CHECK(p.in >= 0 && p.out >= 0 && p.err >= 0 && p.pty < 0 && !p.resize);

    CHECK(write(p.in, "abc", 3) == 3);
    close(p.in);
    p.in = -1;
    uint8_t buf[64];
    size_t len;
    CHECK(shim_recv(sv[1], buf, &len) == ATTACH_STDIN && len == 3 && !memcmp(buf, "abc", 3));
    CHECK(shim_recv(sv[1], buf, &len) == ATTACH_STDIN && len == 0); /* the client's EOF */

    shim_send(sv[1], ATTACH_STDOUT, "out", 3);
    shim_send(sv[1], ATTACH_STDERR, "err", 3);
    uint8_t code[4];
    attach_exit_encode(code, 3);
    shim_send(sv[1], ATTACH_EXIT, code, 4);
    _cleanup_free_ char *out = read_to_end(p.out);
    _cleanup_free_ char *err = read_to_end(p.err);
    CHECK(streq(out, "out"));
    CHECK(streq(err, "err"));
    CHECK(p.wait(&p, &e) == 3);
    close_proc(&p);
    close(sv[1]);
}

static void test_terminal_resize_and_error(void)
{
    int sv[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
    shim_hello(sv[1], ATTACH_F_STDIN | ATTACH_F_TTY);
    struct stream_request req = {.kind = STREAM_ATTACH, .tty = true, .in = true, .out = true};
    struct stream_proc p;
    _cleanup_error_ pr_error *e = NULL;
    CHECK(cri_attach_relay(sv[0], "t", &req, &p, &e) == 0);
    CHECK(p.in >= 0 && p.out >= 0 && p.err < 0 && p.pty < 0 && p.resize);
    p.resize(&p, 17, 91);
    uint8_t buf[64];
    size_t len;
    CHECK(shim_recv(sv[1], buf, &len) == ATTACH_RESIZE && len == 4);
    struct attach_frame f = {ATTACH_RESIZE, buf, 4};
    unsigned rows = 0, cols = 0;
    CHECK(attach_resize_decode(&f, &rows, &cols) == 0 && rows == 17 && cols == 91);

    const char *why = "container t is not running";
    shim_send(sv[1], ATTACH_ERROR, why, strlen(why));
    _cleanup_free_ char *out = read_to_end(p.out);
    CHECK(streq(out, ""));
    CHECK(p.wait(&p, &e) < 0);
    CHECK(e && strstr(e->msg, "container t is not running"));
    close_proc(&p);
    close(sv[1]);
}

/* A container without stdin: the client's input is dropped (as containerd), its end too, and
 * a resize to a container without a terminal is not sent. Detaching ends the session. */
static void test_no_stdin_and_detach(void)
{
    int sv[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
    shim_hello(sv[1], 0);
    struct stream_request req = {.kind = STREAM_ATTACH, .tty = true, .in = true, .out = true};
    struct stream_proc p;
    _cleanup_error_ pr_error *e = NULL;
    CHECK(cri_attach_relay(sv[0], "n", &req, &p, &e) == 0);
    CHECK(write(p.in, "dropped", 7) == 7);
    close(p.in);
    p.in = -1;
    p.resize(&p, 10, 10);
    shim_send(sv[1], ATTACH_STDOUT, "x", 1);
    char c;
    struct pollfd pf = {p.out, POLLIN, 0};
    CHECK(poll(&pf, 1, 5000) == 1 && read(p.out, &c, 1) == 1 && c == 'x');
    p.cancel(&p);
    uint8_t buf[64];
    size_t len;
    CHECK(shim_recv(sv[1], buf, &len) == -1); /* nothing sent, then the end */
    close_proc(&p);
    close(sv[1]);
}

/* The shim's -1: it could not learn the exit code (a container it adopted). */
static void test_unknown_exit_code(void)
{
    int sv[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
    shim_hello(sv[1], 0);
    uint8_t code[4];
    attach_exit_encode(code, -1);
    shim_send(sv[1], ATTACH_EXIT, code, 4);
    struct stream_request req = {.kind = STREAM_ATTACH, .out = true};
    struct stream_proc p;
    _cleanup_error_ pr_error *e = NULL;
    CHECK(cri_attach_relay(sv[0], "u", &req, &p, &e) == 0);
    _cleanup_free_ char *out = read_to_end(p.out);
    CHECK(p.wait(&p, &e) < 0);
    CHECK(e && strstr(e->msg, "unknown exit code"));
    close_proc(&p);
    close(sv[1]);
}

static void test_no_hello(void)
{
    int sv[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
    shim_send(sv[1], ATTACH_STDOUT, "x", 1);
    struct stream_request req = {.kind = STREAM_ATTACH, .out = true};
    struct stream_proc p;
    _cleanup_error_ pr_error *e = NULL;
    CHECK(cri_attach_relay(sv[0], "h", &req, &p, &e) < 0);
    CHECK(e && strstr(e->msg, "did not say hello"));
    CHECK(p.in < 0 && p.out < 0 && p.err < 0 && !p.data);
    close(sv[1]);
}

/* Input and sizes together while the shim reads nothing, so the relay's buffer to the shim
 * fills: a size read beside a buffer's worth of input must not be written past it (ASan sees
 * that), and every byte and size reaches the shim once it reads again. */
static void test_full_buffer_input_and_sizes(void)
{
    int sv[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
    int small = 4096;
    setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
    setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
    shim_hello(sv[1], ATTACH_F_STDIN | ATTACH_F_TTY);
    struct stream_request req = {.kind = STREAM_ATTACH, .tty = true, .in = true, .out = true};
    struct stream_proc p;
    _cleanup_error_ pr_error *e = NULL;
    CHECK(cri_attach_relay(sv[0], "f", &req, &p, &e) == 0);
    CHECK(fcntl(p.in, F_SETFL, O_NONBLOCK) == 0);
    static char chunk[ATTACH_FRAME_MAX / 4 + 1];
    memset(chunk, 'i', sizeof(chunk));
    size_t sent = 0;
    unsigned sizes = 0;
    /* Until the pipe is full too: the relay is stuck on the shim. */
    for (int stuck = 0; stuck < 3;) {
        p.resize(&p, 10 + sizes % 50, 80);
        sizes++;
        ssize_t n = write(p.in, chunk, sizeof(chunk));
        if (n > 0)
            sent += (size_t)n;
        else
            stuck++;
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    close(p.in);
    p.in = -1;
    size_t got = 0;
    unsigned resized = 0;
    bool eof = false;
    static uint8_t buf[ATTACH_FRAME_MAX];
    /* Until the relay has sent everything (a size may follow the end of input: both were
     * waiting when the buffer had room for only one). */
    for (struct pollfd pf = {sv[1], POLLIN, 0}; poll(&pf, 1, 1000) == 1;) {
        size_t len;
        int ch = shim_recv(sv[1], buf, &len);
        CHECK(ch == ATTACH_STDIN || ch == ATTACH_RESIZE);
        if (ch == ATTACH_RESIZE)
            resized++;
        else if (len == 0)
            eof = true;
        else
            got += len;
        if (ch < 0 || (eof && resized == sizes))
            break;
    }
    CHECK(eof);
    CHECK(got == sent);
    CHECK(resized == sizes);
    p.cancel(&p);
    close_proc(&p);
    close(sv[1]);
}

int main(void)
{
    RUN(test_output_input_and_exit);
    RUN(test_terminal_resize_and_error);
    RUN(test_no_stdin_and_detach);
    RUN(test_unknown_exit_code);
    RUN(test_no_hello);
    RUN(test_full_buffer_input_and_sizes);
    UNIT_DONE();
}
