/* SPDX-License-Identifier: Apache-2.0 */
/* The pod's shared PID namespace (shareProcessNamespace) without a pause container.
 *
 * A PID namespace lives only while its init does: when pid 1 exits the kernel kills every
 * other process in it and refuses new ones, so it cannot be pinned by a bind mount alone as the
 * network, IPC and UTS namespaces are. Kubernetes keeps its pause container as that init. Here
 * the shim, the pod's one long-lived supervisor and already the subreaper of its containers,
 * holds it: it clones a minimal init into a new PID namespace (this same binary, re-executed
 * as `podrun-shim --hold-pid-namespace`, which does nothing but reap what is reparented to it
 * and leave on SIGTERM), and bind-mounts /proc/INIT/ns/pid on the path spec.json names, which
 * every container's config.json joins. The holder is not a container: no image, no cgroup of
 * its own; 2.2 MiB resident of which 0.35 MiB its own (the rest are pages it shares with the
 * shims: measured from smaps_rollup).
 *   - A new shim after a crash adopts a live holder (pidns.pid names it; it must still be the
 *     init of the pinned namespace) through a pidfd, as it adopts running containers.
 *   - A holder that dies takes the pod's processes with it (the kernel's rule); the shim makes a
 *     new one at once and pins it on the same path, so the containers, restarted by their
 *     policy, join the new namespace.
 *   - On removal, after every container is deleted, the holder is killed and the pin removed.
 *     If the shim is gone, the pod manager's teardown does the same from pidns.pid. */
#include "fs.h"
#include "log.h"
#include "shim.h"
#include "util.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#define HOLD_ARG "--hold-pid-namespace"

int pidns_hold_main(void)
{
    if (getpid() != 1) {
        fprintf(stderr, "podrun-shim " HOLD_ARG ": only as the init of a PID namespace\n");
        return 2;
    }
    sigset_t all;
    sigfillset(&all);
    sigprocmask(SIG_BLOCK, &all, NULL);
    for (;;) {
        siginfo_t si;
        int sig = sigwaitinfo(&all, &si);
        if (sig == SIGTERM || sig == SIGINT)
            return 0;
        if (sig == SIGCHLD)
            while (waitpid(-1, NULL, WNOHANG) > 0)
                ;
    }
}

static char *pid_file(struct shim *s)
{
    return xasprintf("%s/pidns.pid", s->pod_dir);
}

static void on_holder_exit(struct shim *s, void *data, const siginfo_t *si);

static int holder_exited(sd_event_source *src, int fd, uint32_t revents, void *data)
{
    on_holder_exit(data, NULL, NULL);
    return 0;
}

/* Same namespace object: what a pid file names is checked against the pin. */
static bool same_ns(const char *a, const char *b)
{
    struct stat sa, sb;
    return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
           sa.st_ino == sb.st_ino;
}

static int pin(struct shim *s, pid_t pid, pr_error **err)
{
    const char *path = s->spec->pid_namespace;
    _cleanup_free_ char *src = xasprintf("/proc/%d/ns/pid", (int)pid);
    /* A pin of an earlier holder goes first (its namespace is dead). */
    if (umount2(path, MNT_DETACH | UMOUNT_NOFOLLOW) < 0 && errno != EINVAL && errno != ENOENT)
        return pr_err(err, errno, "unpin `%s`", path);
    int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0444);
    if (fd < 0)
        return pr_err(err, errno, "create `%s`", path);
    close(fd);
    if (mount(src, path, NULL, MS_BIND, NULL) < 0)
        return pr_err(err, errno, "pin the pod's PID namespace on `%s`", path);
    return 0;
}

static int spawn(struct shim *s, pr_error **err)
{
    _cleanup_close_ int exe = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
    if (exe < 0)
        return pr_err(err, errno, "open /proc/self/exe");
    /* fork's semantics, with the child as pid 1 of a new namespace; it only execs. */
    pid_t pid = (pid_t)syscall(SYS_clone, CLONE_NEWPID | SIGCHLD, NULL, NULL, NULL, NULL);
    if (pid < 0)
        return pr_err(err, errno, "clone the pod's PID namespace init");
    if (pid == 0) {
        child_signals_default();
        char *argv[] = {"podrun-shim", HOLD_ARG, NULL}, *envp[] = {NULL};
        fexecve(exe, argv, envp);
        _exit(127);
    }
    s->pidns_pid = pid;
    shim_watch_child(s, pid, on_holder_exit, NULL);
    int r = pin(s, pid, err);
    _cleanup_free_ char *pf = pid_file(s);
    _cleanup_free_ char *text = xasprintf("%d\n", (int)pid);
    if (r == 0)
        r = write_file_atomic_volatile(pf, text, strlen(text), 0600, err);
    if (r < 0) {
        /* Reaped here, not by the SIGCHLD handler, which would make another at once. */
        shim_unwatch_child(s, pid);
        kill(pid, SIGKILL);
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
            ;
        s->pidns_pid = 0;
        return r;
    }
    pr_debug("pid namespace init %d pinned on %s", (int)pid, s->spec->pid_namespace);
    return 0;
}

/* A holder a previous shim left running, if pidns.pid names the init of the pinned namespace. */
static bool adopt(struct shim *s)
{
    _cleanup_free_ char *pf = pid_file(s), *text = NULL;
    size_t len;
    _cleanup_error_ pr_error *e = NULL;
    if (read_file_max(pf, 64, READ_REGULAR, &text, &len, &e) < 0)
        return false;
    long pid = strtol(text, NULL, 10);
    if (pid <= 1)
        return false;
    _cleanup_free_ char *ns = xasprintf("/proc/%ld/ns/pid", pid);
    int fd = sys_pidfd_open((pid_t)pid, 0);
    if (fd < 0)
        return false;
    if (!same_ns(ns, s->spec->pid_namespace) ||
        sd_event_add_io(s->event, &s->pidns_src, fd, EPOLLIN, holder_exited, s) < 0) {
        close(fd);
        return false;
    }
    sd_event_source_set_io_fd_own(s->pidns_src, true);
    s->pidns_pid = (pid_t)pid;
    s->pidns_adopted = true;
    return true;
}

int pidns_start(struct shim *s, pr_error **err)
{
    if (!s->spec->pid_namespace)
        return 0;
    if (adopt(s))
        return 0;
    return spawn(s, err);
}

static void on_holder_exit(struct shim *s, void *data, const siginfo_t *si)
{
    s->pidns_src = sd_event_source_disable_unref(s->pidns_src);
    s->pidns_pid = 0;
    s->pidns_adopted = false;
    if (s->removing)
        return;
    /* Every process of the pod went with it; containers restart by their policy into a new
     * namespace on the same path. */
    shim_event(s, NULL, "pid-namespace-lost",
               "the pod's PID namespace init exited; making a new one");
    _cleanup_error_ pr_error *e = NULL;
    if (spawn(s, &e) < 0)
        pr_warning("%s", e->msg);
}

void pidns_stop(struct shim *s)
{
    if (!s->spec->pid_namespace)
        return;
    if (s->pidns_pid > 0) {
        pid_t pid = s->pidns_pid;
        if (s->pidns_adopted) {
            if (sys_pidfd_send_signal(sd_event_source_get_io_fd(s->pidns_src), SIGKILL) < 0 &&
                errno != ESRCH)
                pr_warning("kill the pod's PID namespace init %d: %s", (int)pid,
                           pr_strerror(errno));
            s->pidns_src = sd_event_source_disable_unref(s->pidns_src);
        } else {
            shim_unwatch_child(s, pid);
            kill(pid, SIGKILL);
            while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
                ;
        }
        s->pidns_pid = 0;
    }
    if (umount2(s->spec->pid_namespace, MNT_DETACH | UMOUNT_NOFOLLOW) < 0 && errno != EINVAL &&
        errno != ENOENT)
        pr_warning("unpin `%s`: %s", s->spec->pid_namespace, pr_strerror(errno));
    else if (unlink(s->spec->pid_namespace) < 0 && errno != ENOENT)
        pr_warning("remove `%s`: %s", s->spec->pid_namespace, pr_strerror(errno));
}
