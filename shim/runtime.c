/* SPDX-License-Identifier: Apache-2.0 */
/* Driving the runtime through its command line (DESIGN.md §1), so runc or crun work as well as
 * ours. Lifecycle calls are short and run synchronously, bounded by runtimeTimeoutSeconds: a
 * hung runtime is killed and the call fails instead of freezing the pod's supervisor. exec
 * (probes, the control socket's exec) runs asynchronously. */
#include "shim.h"
#include "fs.h"
#include "json.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#define OUTPUT_MAX 65536

static char **runtime_argv(struct shim *s, char *const *args)
{
    size_t n = strv_length(args);
    char **argv = xcalloc(n + 5, sizeof(char *));
    size_t i = 0;
    argv[i++] = s->spec->runtime;
    if (s->spec->runtime_root) {
        argv[i++] = (char *)"--root";
        argv[i++] = s->spec->runtime_root;
    }
    /* A global option for runc and crun as for ours; every command gets it, as containerd's
     * shim does, although only create reads it. */
    if (s->spec->runtime_systemd_cgroup)
        argv[i++] = (char *)"--systemd-cgroup";
    for (size_t j = 0; j < n; j++)
        argv[i++] = args[j];
    return argv;
}

/* In the child between fork and exec: only async-signal-safe calls. */
static void exec_child(char **argv, int in_fd, int out_fd, int err_fd)
{
    child_signals_default();
    /* Its own process group: a runtime that hangs is killed with whatever it forked. */
    setpgid(0, 0);
    if (in_fd < 0)
        in_fd = open("/dev/null", O_RDONLY);
    if (dup2(in_fd, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(err_fd, 2) < 0)
        _exit(127);
    sys_close_range(3, ~0U, 0);
    execvp(argv[0], argv);
    _exit(127);
}

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void append_output(char **buf, size_t *n, int fd)
{
    char tmp[4096];
    ssize_t r;
    while ((r = read(fd, tmp, sizeof(tmp))) > 0) {
        size_t take = (size_t)r;
        if (*n + take > OUTPUT_MAX)
            take = OUTPUT_MAX - *n;
        *buf = xrealloc(*buf, *n + take + 1);
        memcpy(*buf + *n, tmp, take);
        *n += take;
        (*buf)[*n] = '\0';
    }
}

static void chomp(char *s)
{
    size_t n = s ? strlen(s) : 0;
    while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == ' '))
        s[--n] = '\0';
}

int runtime_call(struct shim *s, char *const *args, int out_fd, int err_fd, char **output,
                 pr_error **err)
{
    return runtime_call_in(s, args, -1, out_fd, err_fd, output, err);
}

int runtime_call_in(struct shim *s, char *const *args, int in_fd, int out_fd, int err_fd,
                    char **output, pr_error **err)
{
    _cleanup_free_ char **argv = runtime_argv(s, args);
    _cleanup_close_ int rd = -1, wr = -1;
    if (out_fd < 0) {
        int p[2];
        if (pipe2(p, O_CLOEXEC) < 0)
            return pr_err(err, errno, "pipe");
        fcntl(p[0], F_SETFL, O_NONBLOCK);
        rd = p[0];
        wr = p[1];
        out_fd = err_fd = wr;
    }
    pid_t pid = fork();
    if (pid < 0)
        return pr_err(err, errno, "fork for %s %s", argv[0], args[0]);
    if (pid == 0)
        exec_child(argv, in_fd, out_fd, err_fd);
    if (wr >= 0)
        close(steal_fd(&wr));
    _cleanup_close_ int pidfd = sys_pidfd_open(pid, 0);
    _cleanup_free_ char *out = NULL;
    size_t n_out = 0;
    uint64_t deadline = mono_ms() + s->spec->runtime_timeout_usec / 1000;
    bool exited = false;
    while (!exited) {
        uint64_t now = mono_ms();
        if (now >= deadline)
            break;
        struct pollfd pf[2] = {{.fd = pidfd, .events = POLLIN}, {.fd = rd, .events = POLLIN}};
        int pr = poll(pf, rd >= 0 ? 2 : 1, (int)(deadline - now));
        if (pr < 0 && errno != EINTR)
            break;
        if (rd >= 0 && (pf[1].revents & (POLLIN | POLLHUP)))
            append_output(&out, &n_out, rd);
        if (pidfd < 0 || (pf[0].revents & POLLIN))
            exited = true;
    }
    if (!exited) {
        kill(-pid, SIGKILL);
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        return pr_err(err, ETIMEDOUT, "%s %s: no answer within %llu ms, killed", argv[0], args[0],
                      (unsigned long long)(s->spec->runtime_timeout_usec / 1000));
    }
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (rd >= 0)
        append_output(&out, &n_out, rd);
    chomp(out);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        return pr_err(err, 0, "%s %s %s: exit %d%s%s", argv[0], args[0],
                      args[1] ? args[strv_length(args) - 1] : "", code, out && *out ? ": " : "",
                      out ? out : "");
    }
    if (output)
        *output = steal_pointer(&out);
    return 0;
}

int runtime_spawn_exec(struct shim *s, const char *id, char *const *cmd, int *out_fd,
                       pr_error **err)
{
    size_t n = strv_length(cmd);
    _cleanup_free_ char **args = xcalloc(n + 4, sizeof(char *));
    args[0] = (char *)"exec";
    args[1] = (char *)id;
    for (size_t i = 0; i < n; i++)
        args[2 + i] = cmd[i];
    _cleanup_free_ char **argv = runtime_argv(s, args);
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        return pr_err(err, errno, "pipe");
    fcntl(p[0], F_SETFL, O_NONBLOCK);
    pid_t pid = fork();
    if (pid < 0) {
        close(p[0]);
        close(p[1]);
        return pr_err(err, errno, "fork for exec in %s", id);
    }
    if (pid == 0)
        exec_child(argv, -1, p[1], p[1]);
    close(p[1]);
    *out_fd = p[0];
    return pid;
}

int runtime_state(struct shim *s, const char *id, char **status, pid_t *pid, char **bundle,
                  pr_error **err)
{
    char *args[] = {(char *)"state", (char *)id, NULL};
    _cleanup_free_ char *out = NULL;
    int r = runtime_call(s, args, -1, -1, &out, err);
    if (r < 0)
        return r;
    _cleanup_json_ yajl_val v = NULL;
    const char *st = NULL, *b = NULL;
    int64_t p = 0;
    if ((r = json_parse(out ? out : "", "runtime state", &v, err)) < 0 ||
        (r = json_get_str(v, "status", "state", &st, err)) < 0 ||
        (r = json_get_int64(v, "pid", "state", &p, err)) < 0 ||
        (r = json_get_str(v, "bundle", "state", &b, err)) < 0)
        return r;
    *status = xstrdup(st ? st : "unknown");
    *pid = p > 0 && p <= INT32_MAX ? (pid_t)p : 0;
    if (bundle)
        *bundle = b ? xstrdup(b) : NULL;
    return 0;
}
