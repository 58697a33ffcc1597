/* SPDX-License-Identifier: Apache-2.0 */
/* The controller loop (`podrun serve --controllers-only`): one per node, guarded by
 * RUN_ROOT/controllers.lock. Each pass opens the pod manager, watches what the reconcile reads
 * (pods_watch_open), reconciles, and sleeps in poll() until something changes: no timer runs
 * while nothing happens (a timer only for a time no file tells: a Job's back-off, a CronJob's
 * schedule, an HPA's sample). It exits when no workload (Deployment, ReplicaSet, Job, CronJob,
 * HPA) remains. apply, create, scale and autoscale start it detached when none runs. */
#include "commands.h"
#include "fs.h"
#include "log.h"
#include "loopdrive.h"
#include "paths.h"
#include "pods/pods.h"
#include "util.h"

#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>

static char *run_root(struct podrun_global *g)
{
    const char *e = getenv("PODRUN_RUN_ROOT");
    return xstrdup(g->run_root ? g->run_root : e && *e ? e : PODRUN_RUN_DIR);
}

/* The services' endpoints follow the pods a pass made, deleted or saw turn (un)ready. A data
 * path that cannot be written is told, not a reason to stop controlling the workloads. */
static void sync_services_after(struct pods_manager *m)
{
    _cleanup_error_ pr_error *e = NULL;
    if (pods_services_sync(m, &e) < 0)
        pr_warning("services: %s", e && e->msg ? e->msg : "the data path was not written");
}

/* One pass; *workloads false when there is nothing left to control. Then the lock file is
 * unlinked before the manager's lock is let go: an apply that stores a workload after this
 * pass finds no loop and starts one, instead of trusting this one, which is leaving. */
static int pass(struct podrun_global *g, const char *lock, int *watch, bool *workloads,
                int64_t *wake_at, pr_error **err)
{
    struct pods_manager *m = NULL;
    int r = open_manager(g, true, &m, err);
    if (r < 0)
        return r;
    /* The watches before the reconcile: a change made meanwhile still wakes the next poll.
     * (podrun-loop made them itself, before it ran this pass: watch NULL.) */
    if (!watch || (r = pods_controllers_watch_open(m, watch, err)) == 0)
        r = pods_reconcile(m, workloads, wake_at, err);
    if (r == 0)
        sync_services_after(m);
    if (r == 0 && !*workloads)
        unlink(lock);
    pods_manager_close(m);
    return r;
}

struct loop_pass_data {
    struct podrun_global *g;
    char *lock;
};

static int loop_pass(void *data, int *watch, bool *workloads, int64_t *wake_at, pr_error **err)
{
    const struct loop_pass_data *d = data;
    return pass(d->g, d->lock, watch, workloads, wake_at, err);
}

int controllers_pass(struct podrun_global *g, pr_error **err)
{
    _cleanup_free_ char *rr = run_root(g);
    _cleanup_free_ char *lock = xasprintf("%s/controllers.lock", rr);
    bool workloads = true;
    int64_t wake_at = 0;
    int r = pass(g, lock, NULL, &workloads, &wake_at, err);
    if (r < 0)
        return r;
    printf("%d %lld\n", workloads ? 1 : 0, (long long)wake_at);
    fflush(stdout);
    return 0;
}

int controllers_run(struct podrun_global *g, pr_error **err)
{
    /* The loop that stays is podrun-loop, a small program that only watches and runs each
     * pass as `podrun serve --controllers-pass`: a process that lives as long as the workloads
     * should not keep this binary's libraries (TLS, archives, CRI) mapped. */
    _cleanup_free_ char *loop =
        getenv("PODRUN_LOOP_IN_PROCESS") ? NULL : cli_sibling("podrun-loop");
    if (loop) {
        _cleanup_strv_ char **argv = NULL;
        strv_extend(&argv, "podrun-loop");
        cli_globals_argv(g, &argv);
        strv_extend(&argv, "serve");
        strv_extend(&argv, "--controllers-only");
        execv(loop, argv);
        return pr_err(err, errno, "exec `%s`", loop);
    }
    _cleanup_free_ char *rr = run_root(g);
    struct loop_pass_data d = {g, xasprintf("%s/controllers.lock", rr)};
    int r = loop_drive(rr, loop_pass, &d, err);
    free(d.lock);
    return r;
}

/* Global options as given to this process, for the loop to see the same node. */
int controllers_ensure(struct podrun_global *g, pr_error **err)
{
    _cleanup_free_ char *rr = run_root(g);
    _cleanup_free_ char *lock = xasprintf("%s/controllers.lock", rr);
    _cleanup_close_ int lfd = open(lock, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (lfd >= 0 && flock(lfd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK)
        return 0; /* one runs */
    /* podrun beside this binary: the CRI server (podrun-cri) starts it too, after a reboot's
     * recovery brought workloads back. */
    _cleanup_free_ char *exe = cli_sibling("podrun");
    if (!exe)
        return pr_err(err, ENOENT, "find podrun beside this program");
    _cleanup_strv_ char **argv = NULL;
    strv_extend(&argv, "podrun");
    cli_globals_argv(g, &argv);
    strv_extend(&argv, "serve");
    strv_extend(&argv, "--controllers-only");
    _cleanup_free_ char *log = xasprintf("%s/controllers.log", rr);
    pid_t pid = fork();
    if (pid < 0)
        return pr_err(err, errno, "fork");
    if (pid == 0) {
        /* Detached: its own session, no terminal, its parent gone at once. */
        setsid();
        if (fork() != 0)
            _exit(0);
        int null = open("/dev/null", O_RDWR | O_CLOEXEC);
        int out = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (null < 0 || out < 0)
            _exit(127);
        dup2(null, 0);
        dup2(out, 1);
        dup2(out, 2);
        for (int fd = 3; fd < 1024; fd++)
            close(fd);
        child_signals_default();
        execv(exe, argv);
        _exit(127);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    return 0;
}

int controllers_kick(struct podrun_global *g, struct pods_manager *m, pr_error **err)
{
    _cleanup_error_ pr_error *e = NULL;
    bool workloads = false;
    int r = pods_reconcile(m, &workloads, NULL, &e);
    sync_services_after(m);
    pods_manager_close(m);
    /* The object is stored: what its pass could not do (a pod that cannot start) is a
     * warning, as a Deployment's failing pods are no error of kubectl apply. */
    if (r < 0)
        fprintf(stderr, "podrun: warning: %s\n", e && e->msg ? e->msg : strerror(-r));
    return workloads ? controllers_ensure(g, err) : 0;
}
