/* SPDX-License-Identifier: Apache-2.0 */
/* The Ingress controller's nginx as a process (ingress.c decides its configuration): run with
 * everything under one directory (`-p DIR/`, `-e DIR/error.log`, the pid file and temp paths
 * that the configuration names there), found again through its pid file and its title, and
 * stopped gracefully. The child between fork and exec only moves descriptors and calls
 * setsid, which a process forked from the CRI server's threads may do. */
#include "fs.h"
#include "manager.h"
#include "util.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#define OUT_MAX       (64u << 10)
#define START_WAIT_MS 5000
#define STOP_WAIT_MS  10000

static char *nginx_path(void)
{
    const char *env = getenv("PODRUN_NGINX");
    if (env && *env)
        return xstrdup(env);
    const char *path = getenv("PATH");
    _cleanup_free_ char *dirs = xasprintf("%s:/usr/sbin:/sbin", path ? path : "/usr/bin:/bin");
    char *save = NULL;
    for (char *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
        _cleanup_free_ char *p = xasprintf("%s/nginx", d);
        if (access(p, X_OK) == 0)
            return steal_pointer(&p);
    }
    return NULL;
}

/* Runs nginx -p DIR/ -c CONF -e DIR/error.log [-t]; its output goes to DIR/nginx.out, which
 * *out gets. Without -t nginx daemonizes: its first process exits once the master runs. */
int pods_nginx_run(const char *dir, const char *conf, bool test, char **out, pr_error **err)
{
    _cleanup_free_ char *bin = nginx_path();
    if (!bin)
        return pr_err_code(err, ENOENT,
                           "the Ingress controller needs nginx (Debian's nginx-light or nginx "
                           "package), found in neither $PATH nor /usr/sbin");
    _cleanup_free_ char *prefix = xasprintf("%s/", dir), *errlog = xasprintf("%s/error.log", dir);
    _cleanup_free_ char *outfile = xasprintf("%s/nginx.out", dir);
    const char *argv[] = {"nginx", "-p", prefix, "-c", conf, "-e", errlog, test ? "-t" : NULL,
                          NULL};
    int fd = open(outfile, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return pr_err(err, errno, "open `%s`", outfile);
    int nul = open("/dev/null", O_RDONLY | O_CLOEXEC);
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(fd);
        if (nul >= 0)
            close(nul);
        return pr_err(err, e, "fork for nginx");
    }
    if (pid == 0) {
        if (nul >= 0)
            dup2(nul, 0);
        dup2(fd, 1);
        dup2(fd, 2);
        sys_close_range(3, ~0u, 0);
        setsid();
        child_signals_default();
        execv(bin, (char *const *)argv);
        _exit(127);
    }
    close(fd);
    if (nul >= 0)
        close(nul);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    size_t len = 0;
    char *text = NULL;
    if (read_file_max(outfile, OUT_MAX, 0, &text, &len, NULL) < 0)
        text = xstrdup("");
    unlink(outfile);
    while (*text && text[strlen(text) - 1] == '\n')
        text[strlen(text) - 1] = '\0';
    *out = text;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return -EINVAL;
    return 0;
}

/* The running master of this directory's nginx (its pid file's process, whose title names the
 * directory), or 0. */
pid_t pods_nginx_master(const char *dir)
{
    _cleanup_free_ char *pidfile = xasprintf("%s/nginx.pid", dir), *text = NULL, *cmd = NULL;
    size_t len = 0;
    if (read_file_max(pidfile, 64, READ_REGULAR, &text, &len, NULL) < 0)
        return 0;
    long pid = strtol(text, NULL, 10);
    if (pid <= 1)
        return 0;
    _cleanup_free_ char *proc = xasprintf("/proc/%ld/cmdline", pid);
    if (read_file_max(proc, 4096, 0, &cmd, &len, NULL) < 0)
        return 0;
    for (size_t i = 0; i + 1 < len; i++)
        if (cmd[i] == '\0')
            cmd[i] = ' ';
    _cleanup_free_ char *mine = xasprintf("-p %s/ ", dir);
    return strncmp(cmd, "nginx: master process", 21) == 0 && strstr(cmd, mine) ? (pid_t)pid : 0;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

int pods_nginx_start(const char *dir, const char *conf, pr_error **err)
{
    _cleanup_free_ char *out = NULL;
    if (pods_nginx_run(dir, conf, false, &out, err) < 0)
        return pr_err(err, 0, "starting the Ingress controller (nginx): %s",
                      out && *out ? out : "it failed");
    for (long waited = 0; waited < START_WAIT_MS; waited += 20) {
        if (pods_nginx_master(dir))
            return 0;
        sleep_ms(20);
    }
    return pr_err_code(err, ETIMEDOUT,
                       "the Ingress controller (nginx) did not write its pid file in %d s: see "
                       "`%s/error.log`",
                       START_WAIT_MS / 1000, dir);
}

/* Stops nginx (gracefully: the workers finish their requests, then a fast stop) and removes
 * the directory. */
int pods_nginx_stop(const char *dir, pr_error **err)
{
    pid_t pid = pods_nginx_master(dir);
    if (pid > 0) {
        kill(pid, SIGQUIT);
        long waited = 0;
        for (; waited < STOP_WAIT_MS && kill(pid, 0) == 0; waited += 20) {
            if (waited == STOP_WAIT_MS / 2)
                kill(pid, SIGTERM);
            sleep_ms(20);
        }
        if (kill(pid, 0) == 0)
            return pr_err_code(err, ETIMEDOUT,
                               "the Ingress controller (nginx, pid %d) did not stop in %d s", pid,
                               STOP_WAIT_MS / 1000);
    }
    if (rm_rf(dir) < 0 && errno != ENOENT)
        return pr_err(err, errno, "remove `%s`", dir);
    return 0;
}
