/* SPDX-License-Identifier: Apache-2.0 */
/* podrun-loop: the controller loop that stays (`podrun serve --controllers-only` execs it).
 * It holds RUN_ROOT/controllers.lock, watches what a pass reads (the stored objects of
 * PODRUN_LOOP_OBJECTS, each pod's shim directory, the servers' directories) with inotify, and runs
 * each pass as a child, `podrun ... serve --controllers-pass`, which prints whether workloads are
 * left and when a pod turns available. It links common/ alone: the process that lives as long as
 * the workloads maps none of podrun's libraries (TLS, archives, CRI), only libc. */
#include "fs.h"
#include "log.h"
#include "loopdrive.h"
#include "paths.h"
#include "util.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>

#define OBJECT_EVENTS (IN_CREATE | IN_DELETE | IN_MOVED_TO | IN_MOVED_FROM | IN_CLOSE_WRITE)
#define SHIM_EVENTS   (IN_MOVED_TO | IN_CLOSE_WRITE | IN_DELETE_SELF)
#define PASS_OUT_MAX  256

struct loop {
    char *run_root, *lib_root, *podrun;
    char **pass_argv;
};

/* --FLAG VALUE or --FLAG=VALUE among podrun's global options, else $ENV, else def; made
 * absolute as the pod manager makes it. */
static char *root_of(int argc, char **argv, const char *flag, const char *env, const char *def)
{
    const char *v = NULL;
    size_t n = strlen(flag);
    for (int i = 1; i < argc; i++) {
        if (streq(argv[i], "serve"))
            break;
        if (streq(argv[i], flag) && i + 1 < argc)
            v = argv[++i];
        else if (!strncmp(argv[i], flag, n) && argv[i][n] == '=')
            v = argv[i] + n + 1;
    }
    const char *e = getenv(env);
    if (!v)
        v = e && *e ? e : def;
    if (v[0] == '/')
        return xstrdup(v);
    char cwd[PATH_MAX];
    return getcwd(cwd, sizeof(cwd)) ? xasprintf("%s/%s", cwd, v) : xstrdup(v);
}

static int watch_open(const struct loop *l, int *out, pr_error **err)
{
    int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (fd < 0)
        return pr_err(err, errno, "inotify_init1");
    static const char *const resources[] = {PODRUN_LOOP_OBJECTS};
    static const char *const servers[] = {PODRUN_LOOP_SERVER_DIRS};
    _cleanup_free_ char *objects = xasprintf("%s/objects", l->lib_root);
    int r = mkdir_p(objects, 0700, err);
    if (r == 0)
        r = fs_watch_dir(fd, objects, IN_CREATE | IN_MOVED_TO, false, err);
    for (size_t i = 0; r == 0 && i < ARRAY_SIZE(resources); i++) {
        _cleanup_free_ char *dir = xasprintf("%s/%s", objects, resources[i]);
        r = fs_watch_dir(fd, dir, OBJECT_EVENTS, true, err);
    }
    for (size_t i = 0; r == 0 && i < ARRAY_SIZE(servers); i++) {
        _cleanup_free_ char *dir = xasprintf("%s/%s", l->run_root, servers[i]);
        r = fs_watch_dir(fd, dir, IN_CLOSE_WRITE, false, err);
    }
    /* Each pod's shim directory: RUN_ROOT/pods/<uid>/shim. */
    _cleanup_free_ char *pods = xasprintf("%s/pods", l->run_root);
    _cleanup_dir_ DIR *d = r == 0 ? opendir(pods) : NULL;
    for (struct dirent *e; r == 0 && d && (e = readdir(d));) {
        if (e->d_name[0] == '.' || e->d_type != DT_DIR)
            continue;
        _cleanup_free_ char *shim = xasprintf("%s/%s/shim", pods, e->d_name);
        r = fs_watch_dir(fd, shim, SHIM_EVENTS, false, err);
    }
    if (r < 0) {
        close(fd);
        return r;
    }
    *out = fd;
    return 0;
}

/* One pass in a child; *workloads and *wake_at from what it prints. */
static int run_pass(const struct loop *l, bool *workloads, int64_t *wake_at, pr_error **err)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        return pr_err(err, errno, "pipe");
    pid_t parent = getpid(), pid = fork();
    if (pid < 0) {
        close(p[0]), close(p[1]);
        return pr_err(err, errno, "fork");
    }
    if (pid == 0) {
        /* The pass is part of the loop: a loop killed (kill -9) takes its pass with it, as
         * when the pass ran in its process. */
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
            _exit(127);
        child_signals_default();
        if (dup2(p[1], STDOUT_FILENO) < 0)
            _exit(127);
        execv(l->podrun, l->pass_argv);
        _exit(127);
    }
    close(p[1]);
    char buf[PASS_OUT_MAX];
    size_t len = 0;
    for (;;) {
        ssize_t n = read(p[0], buf + len, sizeof(buf) - 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        len += (size_t)n;
        if (len == sizeof(buf) - 1)
            break;
    }
    buf[len] = '\0';
    close(p[0]);
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    int w = 0;
    long long at = 0;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || sscanf(buf, "%d %lld", &w, &at) != 2)
        return pr_err(err, 0, "the pass (%s serve --controllers-pass) failed (%s %d)", l->podrun,
                      WIFEXITED(status) ? "exit" : "signal",
                      WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
    *workloads = w != 0;
    *wake_at = at;
    return 0;
}

/* The watches before the pass: a change made meanwhile still wakes the poll. */
static int loop_pass(void *data, int *watch, bool *workloads, int64_t *wake_at, pr_error **err)
{
    const struct loop *l = data;
    int r = watch_open(l, watch, err);
    return r < 0 ? r : run_pass(l, workloads, wake_at, err);
}

int main(int argc, char **argv)
{
    pr_log_init(NULL, false, false);
    struct loop l = {
        .run_root = root_of(argc, argv, "--run-root", "PODRUN_RUN_ROOT", PODRUN_RUN_DIR),
        .lib_root = root_of(argc, argv, "--lib-root", "PODRUN_LIB_ROOT", PODRUN_LIB_DIR),
    };
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    char *slash = n > 0 ? (exe[n] = '\0', strrchr(exe, '/')) : NULL;
    if (!slash) {
        fprintf(stderr, "podrun-loop: cannot tell where it runs from\n");
        return 1;
    }
    *slash = '\0';
    l.podrun = xasprintf("%s/podrun", exe);
    /* The pass: podrun with the same global options, serve --controllers-pass. */
    l.pass_argv = xcalloc((size_t)argc + 2, sizeof(char *));
    size_t k = 0;
    l.pass_argv[k++] = "podrun";
    for (int i = 1; i < argc; i++)
        l.pass_argv[k++] = streq(argv[i], "--controllers-only") ? "--controllers-pass" : argv[i];
    _cleanup_error_ pr_error *err = NULL;
    int r = loop_drive(l.run_root, loop_pass, &l, &err);
    if (r < 0)
        fprintf(stderr, "podrun-loop: %s\n", err && err->msg ? err->msg : strerror(-r));
    free(l.run_root);
    free(l.lib_root);
    free(l.podrun);
    free(l.pass_argv);
    return r < 0 ? 1 : 0;
}
