/* SPDX-License-Identifier: Apache-2.0 */
/* Running a helper (a CNI plugin, the shim, the runtime) as a child with a time limit, its
 * input given and its output collected, so no helper can hang or flood the manager. The input
 * is a memfd, never a pipe: a helper that exits without reading it cannot make a write of ours
 * fail, nor raise SIGPIPE in a process whose other threads need its disposition as it is. */
#include "fs.h"
#include "manager.h"
#include "util.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>

struct sink {
    int fd;
    char *buf;
    size_t len;
};

static void child_exec(char *const *argv, char *const *env, int in, int out, int errfd)
{
    if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(errfd, 2) < 0)
        _exit(127);
    sys_close_range(3, ~0u, 0);
    for (char *const *e = env; e && *e; e++)
        putenv(*e);
    child_signals_default();
    execvp(argv[0], argv);
    dprintf(2, "exec %s: %s\n", argv[0], strerror(errno));
    _exit(127);
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static void sink_read(struct sink *s)
{
    char tmp[4096];
    ssize_t n = read(s->fd, tmp, sizeof(tmp));
    if (n <= 0) {
        if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
            close(s->fd);
            s->fd = -1;
        }
        return;
    }
    size_t keep =
        s->len + (size_t)n > PODS_EXEC_OUTPUT_MAX ? PODS_EXEC_OUTPUT_MAX - s->len : (size_t)n;
    s->buf = xrealloc(s->buf, s->len + keep + 1);
    memcpy(s->buf + s->len, tmp, keep);
    s->len += keep;
    s->buf[s->len] = '\0';
}

/* Drains both outputs until the child closes them or time runs out. */
static bool pump(struct sink s[2], long long deadline)
{
    while (s[0].fd >= 0 || s[1].fd >= 0) {
        struct pollfd p[2] = {{s[0].fd, POLLIN, 0}, {s[1].fd, POLLIN, 0}};
        long long left = deadline - now_ms();
        if (left <= 0)
            break;
        if (poll(p, 2, (int)(left > 1000 ? 1000 : left)) < 0 && errno != EINTR)
            break;
        for (int i = 0; i < 2; i++)
            if (s[i].fd >= 0 && p[i].revents)
                sink_read(&s[i]);
    }
    return s[0].fd < 0 && s[1].fd < 0;
}

/* The input as a file to read from its start (empty for none). */
static int input_fd(const char *data, size_t len, pr_error **err)
{
    int fd = memfd_create("pods-exec-stdin", MFD_CLOEXEC);
    if (fd < 0)
        return pr_err(err, errno, "memfd_create for a helper's input");
    for (size_t off = 0; off < len;) {
        ssize_t n = write(fd, data + off, len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            int e = n < 0 ? errno : EIO;
            close(fd);
            return pr_err(err, e, "write a helper's input");
        }
        off += (size_t)n;
    }
    if (lseek(fd, 0, SEEK_SET) < 0) {
        int e = errno;
        close(fd);
        return pr_err(err, e, "rewind a helper's input");
    }
    return fd;
}

int pods_exec(char *const *argv, char *const *env, const char *in_data, size_t in_len,
              int timeout_s, char **out, char **errout, int *status, pr_error **err)
{
    int in = input_fd(in_data, in_len, err);
    if (in < 0)
        return in;
    int pout[2], perr[2];
    if (pipe2(pout, O_CLOEXEC) < 0) {
        close(in);
        return pr_err(err, errno, "pipe");
    }
    if (pipe2(perr, O_CLOEXEC) < 0) {
        close(in), close(pout[0]), close(pout[1]);
        return pr_err(err, errno, "pipe");
    }
    pid_t pid = fork();
    if (pid == 0)
        child_exec(argv, env, in, pout[1], perr[1]);
    close(in), close(pout[1]), close(perr[1]);
    if (pid < 0) {
        close(pout[0]), close(perr[0]);
        return pr_err(err, errno, "fork for %s", argv[0]);
    }
    struct sink s[2] = {{pout[0], NULL, 0}, {perr[0], NULL, 0}};
    bool done = pump(s, now_ms() + timeout_s * 1000LL);
    if (!done)
        kill(pid, SIGKILL);
    for (int i = 0; i < 2; i++)
        if (s[i].fd >= 0)
            close(s[i].fd);
    int ws;
    while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
        ;
    *status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
    if (out)
        *out = s[0].buf ? s[0].buf : xstrdup("");
    else
        free(s[0].buf);
    if (errout)
        *errout = s[1].buf ? s[1].buf : xstrdup("");
    else
        free(s[1].buf);
    if (!done)
        return pr_err(err, ETIMEDOUT, "%s did not finish within %d s", argv[0], timeout_s);
    return 0;
}
