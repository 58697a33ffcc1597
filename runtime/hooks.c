/* SPDX-License-Identifier: Apache-2.0 */
#include "hooks.h"
#include "fs.h"
#include "json.h"
#include "log.h"
#include "util.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

extern char **environ;

static void exec_hook(const char *path, char **args, char **env, int stdin_fd)
{
    dup2(stdin_fd, STDIN_FILENO);
    if (stdin_fd != STDIN_FILENO)
        close(stdin_fd);
    char *default_args[] = {(char *)path, NULL};
    /* A hook without "env" gets the runtime's environment, as under runc and crun. */
    execve(path, args && args[0] ? args : default_args, env ? env : environ);
    dprintf(STDERR_FILENO, "exec hook `%s`: %s\n", path, strerror(errno));
    _exit(127);
}

/* Waits for pid with a timeout in seconds (0: none); returns the wait status or -ETIMEDOUT. */
static int wait_with_timeout(pid_t pid, int64_t timeout_s)
{
    int status;
    _cleanup_close_ int pidfd = sys_pidfd_open(pid, 0);
    if (pidfd >= 0 && timeout_s > 0) {
        struct pollfd pfd = {.fd = pidfd, .events = POLLIN};
        int ms = timeout_s > INT32_MAX / 1000 ? INT32_MAX : (int)(timeout_s * 1000);
        int r;
        do
            r = poll(&pfd, 1, ms);
        while (r < 0 && errno == EINTR);
        if (r == 0) {
            kill(pid, SIGKILL);
            while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
            return -ETIMEDOUT;
        }
    }
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -errno;
    return status;
}

static int run_one(yajl_val h, const char *ctx, const char *state_json, pr_error **err)
{
    const char *path = NULL;
    _cleanup_strv_ char **args = NULL, **env = NULL;
    int64_t timeout = 0;
    int r;
    if ((r = json_get_str(h, "path", ctx, &path, err)) < 0 ||
        (r = json_get_strv(h, "args", ctx, &args, err)) < 0 ||
        (r = json_get_strv(h, "env", ctx, &env, err)) < 0 ||
        (r = json_get_int64(h, "timeout", ctx, &timeout, err)) < 0)
        return r;
    if (!path)
        return pr_err(err, 0, "%s.path: missing", ctx);

    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        return pr_err(err, errno, "pipe for %s", ctx);
    pid_t pid = fork();
    if (pid < 0) {
        close(p[0]);
        close(p[1]);
        return pr_err(err, errno, "fork for %s", ctx);
    }
    if (pid == 0) {
        close(p[1]);
        exec_hook(path, args, env, p[0]);
    }
    close(p[0]);
    /* A hook that does not read its stdin must not make us block or die of SIGPIPE. */
    size_t len = strlen(state_json);
    const char *s = state_json;
    while (len > 0) {
        ssize_t w = write(p[1], s, len);
        if (w <= 0)
            break;
        s += w;
        len -= (size_t)w;
    }
    close(p[1]);
    int status = wait_with_timeout(pid, timeout);
    if (status == -ETIMEDOUT)
        return pr_err(err, 0, "%s `%s` timed out after %llds", ctx, path, (long long)timeout);
    if (status < 0)
        return pr_err(err, -status, "%s `%s`: wait", ctx, path);
    if (WIFSIGNALED(status))
        return pr_err(err, 0, "%s `%s` killed by signal %d", ctx, path, WTERMSIG(status));
    if (WEXITSTATUS(status) != 0)
        return pr_err(err, 0, "%s `%s` failed with exit status %d", ctx, path, WEXITSTATUS(status));
    return 0;
}

static int run_hooks(yajl_val hooks, const char *kind, const char *state_json, bool keep_going,
                     pr_error **err)
{
    yajl_val arr = json_get(hooks, kind);
    if (!YAJL_IS_ARRAY(arr))
        return 0;
    /* SIGPIPE from a hook that closed its stdin early is not our failure. */
    struct sigaction ign = {.sa_handler = SIG_IGN}, old;
    sigaction(SIGPIPE, &ign, &old);
    int r = 0;
    for (size_t i = 0; i < arr->u.array.len && (r == 0 || keep_going); i++) {
        _cleanup_free_ char *ctx = xasprintf("hooks.%s[%zu]", kind, i);
        _cleanup_error_ pr_error *e = NULL;
        int one = run_one(arr->u.array.values[i], ctx, state_json, &e);
        if (one < 0 && keep_going)
            pr_warning("%s", e->msg);
        else if (one < 0 && err && !*err)
            *err = steal_pointer(&e);
        if (one < 0 && r == 0)
            r = one;
    }
    sigaction(SIGPIPE, &old, NULL);
    return r;
}

int rt_hooks_run(yajl_val hooks, const char *kind, const char *state_json, pr_error **err)
{
    return run_hooks(hooks, kind, state_json, false, err);
}

void rt_hooks_run_warn(yajl_val hooks, const char *kind, const char *state_json)
{
    run_hooks(hooks, kind, state_json, true, NULL);
}
