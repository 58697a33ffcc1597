/* SPDX-License-Identifier: Apache-2.0 */
/* --systemd-cgroup: the container's cgroup is a transient scope made by systemd over D-Bus
 * (StartTransientUnit with Delegate=yes and the container's pid), after which the directories
 * are ours to fill like any other.
 *
 * The D-Bus calls live in podrun-runtime-systemd (systemd-scope.c), a small program linked with
 * libsystemd: keeping libsystemd out of the runtime keeps it out of every container start, and
 * lets the runtime be a static binary. */
#include "cgroup-internal.h"
#include "log.h"
#include "util.h"

#include <fcntl.h>
#include <libgen.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#ifndef LIBEXECDIR
#define LIBEXECDIR "/usr/local/libexec"
#endif

bool cg_systemd_running(void)
{
    /* What sd_booted() checks: systemd creates this directory early at boot. */
    struct stat st;
    return lstat("/run/systemd/system", &st) == 0 && S_ISDIR(st.st_mode);
}

/* Next to the runtime's own binary (the build tree, or a package that keeps them together),
 * else in libexecdir. $PODRUN_RUNTIME_EXE is set by the runtime before it re-executes itself
 * from a sealed copy, whose /proc/self/exe no longer names the file; a runtime that did not
 * (the init stub makes the copy unnecessary) is its /proc/self/exe. */
static char *helper_path(void)
{
    const char *exe = getenv("PODRUN_RUNTIME_EXE");
    char self[4096];
    if (!exe || !*exe) {
        ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
        if (n > 0) {
            self[n] = '\0';
            exe = self;
        }
    }
    if (exe && *exe) {
        _cleanup_free_ char *copy = xstrdup(exe);
        char *cand = xasprintf("%s/podrun-runtime-systemd", dirname(copy));
        if (access(cand, X_OK) == 0)
            return cand;
        free(cand);
    }
    return xstrdup(LIBEXECDIR "/podrun-runtime-systemd");
}

static int run_helper(char *const args[], pr_error **err)
{
    _cleanup_free_ char *path = helper_path();
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        return pr_err(err, errno, "pipe");
    pid_t pid = fork();
    if (pid < 0) {
        close(p[0]);
        close(p[1]);
        return pr_err(err, errno, "fork");
    }
    if (pid == 0) {
        dup2(p[1], STDERR_FILENO);
        char *argv[6] = {path};
        for (int i = 0; args[i] && i < 4; i++)
            argv[i + 1] = args[i];
        execv(path, argv);
        dprintf(STDERR_FILENO, "--systemd-cgroup needs `%s`: %s\n", path, strerror(errno));
        _exit(127);
    }
    close(p[1]);
    char msg[1024];
    size_t n = 0;
    ssize_t r;
    while (n < sizeof(msg) - 1 && (r = read(p[0], msg + n, sizeof(msg) - 1 - n)) != 0) {
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            break;
        n += (size_t)r;
    }
    close(p[0]);
    msg[n] = '\0';
    while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
        msg[--n] = '\0';
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return pr_err(err, errno, "wait for %s", path);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return 0;
    if (n)
        return pr_err(err, 0, "%s", msg);
    return pr_err(err, 0, "%s failed", path);
}

/* systemd moves the pid when the job runs, a moment after the call returns. */
static bool pid_in_unit(pid_t pid, const char *unit)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
    _cleanup_fclose_ FILE *f = fopen(path, "re");
    char line[4096];
    while (f && fgets(line, sizeof(line), f))
        if (strstr(line, unit))
            return true;
    return false;
}

int cg_systemd_start_unit(const char *unit, const char *slice, pid_t pid, pr_error **err)
{
    char pidbuf[16];
    snprintf(pidbuf, sizeof(pidbuf), "%d", (int)pid);
    char *const args[] = {(char *)"start", (char *)unit, (char *)(slice ? slice : "-"), pidbuf,
                          NULL};
    int r = run_helper(args, err);
    if (r < 0)
        return r;
    for (int i = 0; i < 500 && pid > 0 && !pid_in_unit(pid, unit); i++) {
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return 0;
}

int cg_systemd_stop_unit(const char *unit, pr_error **err)
{
    char *const args[] = {(char *)"stop", (char *)unit, NULL};
    return run_helper(args, err);
}
