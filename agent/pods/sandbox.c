/* SPDX-License-Identifier: Apache-2.0 */
/* A pod's sandbox without a pause container: a short-lived child makes new network, IPC and
 * UTS namespaces, names the host and brings up loopback; the namespaces outlive it as bind
 * mounts of /proc/CHILD/ns/X on files under the pod's ns directory, which containers join by
 * path. A pod that uses the node's network (hostNetwork, which brings the node's UTS namespace
 * as with containerd) or IPC (hostIPC) gets only the namespaces it does not share. The shared
 * PID namespace of shareProcessNamespace is not made here: it needs a live init, which the
 * shim holds (DESIGN.md §2); its pin, ns/pid, is unpinned here with the others. */
#include "fs.h"
#include "manager.h"
#include "util.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <signal.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/wait.h>

static const struct {
    const char *name;
    int flag;
} ns_files[] = {{"net", CLONE_NEWNET}, {"ipc", CLONE_NEWIPC}, {"uts", CLONE_NEWUTS}, {"pid", 0}};

static int loopback_up(void)
{
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    struct ifreq ifr = {0};
    strcpy(ifr.ifr_name, "lo");
    int r = ioctl(fd, SIOCGIFFLAGS, &ifr);
    if (r == 0) {
        ifr.ifr_flags |= IFF_UP;
        r = ioctl(fd, SIOCSIFFLAGS, &ifr);
    }
    r = r < 0 ? -errno : 0;
    close(fd);
    return r;
}

/* Every descriptor but a and b: a child that never execs must not hold what other threads of
 * a server opened meanwhile (a CNI plugin's stdin, another sandbox's go pipe), or their ends
 * wait for it, and it for them. */
static void close_all_but(int a, int b)
{
    int lo = a < b ? a : b, hi = a < b ? b : a;
    if (lo > 0)
        close_range(0, (unsigned)lo - 1, 0);
    if (hi > lo + 1)
        close_range((unsigned)lo + 1, (unsigned)hi - 1, 0);
    close_range((unsigned)hi + 1, ~0U, 0);
}

/* The child: reports 0 or an errno on ready, then holds the namespaces until go closes. */
static void sandbox_child(int ready, int go, int flags, const char *hostname)
{
    close_all_but(ready, go);
    int e = 0;
    if (unshare(flags) < 0)
        e = errno;
    else if ((flags & CLONE_NEWUTS) && sethostname(hostname, strlen(hostname)) < 0)
        e = errno;
    else if ((flags & CLONE_NEWNET) && loopback_up() < 0)
        e = errno;
    unsigned char b = (unsigned char)e;
    if (write(ready, &b, 1) != 1)
        _exit(1);
    char c;
    while (read(go, &c, 1) < 0 && errno == EINTR)
        ;
    _exit(0);
}

static int pin(const char *nsdir, pid_t pid, const char *name, pr_error **err)
{
    _cleanup_free_ char *path = xasprintf("%s/%s", nsdir, name);
    _cleanup_free_ char *src = xasprintf("/proc/%d/ns/%s", (int)pid, name);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0444);
    if (fd < 0)
        return pr_err(err, errno, "create `%s`", path);
    close(fd);
    if (mount(src, path, NULL, MS_BIND, NULL) < 0)
        return pr_err(err, errno, "pin the %s namespace on `%s`", name, path);
    return 0;
}

int pods_sandbox_create(const char *nsdir, int flags, const char *hostname, pr_error **err)
{
    int ready[2], go[2], r = mkdir_p(nsdir, 0700, err);
    if (r < 0 || !flags)
        return r;
    if (pipe2(ready, O_CLOEXEC) < 0)
        return pr_err(err, errno, "pipe");
    if (pipe2(go, O_CLOEXEC) < 0) {
        close(ready[0]), close(ready[1]);
        return pr_err(err, errno, "pipe");
    }
    pid_t pid = fork();
    if (pid == 0) {
        close(ready[0]), close(go[1]);
        sandbox_child(ready[1], go[0], flags, hostname);
    }
    close(ready[1]), close(go[0]);
    if (pid < 0) {
        close(ready[0]), close(go[1]);
        return pr_err(err, errno, "fork the sandbox");
    }
    unsigned char b = 0;
    ssize_t n = read(ready[0], &b, 1);
    close(ready[0]);
    if (n != 1 || b)
        r = pr_err(err, n == 1 ? b : EIO, "make the pod's namespaces (hostname `%s`)",
                   hostname ? hostname : "");
    for (size_t i = 0; r == 0 && i < ARRAY_SIZE(ns_files); i++)
        if (flags & ns_files[i].flag)
            r = pin(nsdir, pid, ns_files[i].name, err);
    close(go[1]);
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
        ;
    if (r < 0)
        pods_sandbox_destroy(nsdir, NULL);
    return r;
}

int pods_sandbox_destroy(const char *nsdir, pr_error **err)
{
    int r = 0;
    for (size_t i = 0; i < ARRAY_SIZE(ns_files); i++) {
        _cleanup_free_ char *path = xasprintf("%s/%s", nsdir, ns_files[i].name);
        if (umount2(path, MNT_DETACH | UMOUNT_NOFOLLOW) < 0 && errno != EINVAL && errno != ENOENT)
            r = pr_err(err, errno, "unpin `%s`", path);
        else if (unlink(path) < 0 && errno != ENOENT)
            r = pr_err(err, errno, "remove `%s`", path);
    }
    if (r == 0 && rmdir(nsdir) < 0 && errno != ENOENT)
        r = pr_err(err, errno, "remove `%s`", nsdir);
    return r;
}

/* A shim that died leaves the init of the pod's shared PID namespace running (a new shim would
 * adopt it); the teardown kills it, once pidns.pid is proven to name the init of the pinned
 * namespace (a recycled pid is left alone). */
int pods_pidns_kill(const struct pods_pod_paths *p, pr_error **err)
{
    _cleanup_free_ char *pf = xasprintf("%s/pidns.pid", p->shim_dir);
    _cleanup_free_ char *pinned = xasprintf("%s/pid", p->ns_dir);
    _cleanup_free_ char *text = NULL;
    size_t len;
    _cleanup_error_ pr_error *e = NULL;
    if (read_file_max(pf, 64, READ_REGULAR, &text, &len, &e) < 0)
        return 0;
    long pid = strtol(text, NULL, 10);
    if (pid <= 1)
        return 0;
    _cleanup_close_ int fd = sys_pidfd_open((pid_t)pid, 0);
    if (fd < 0)
        return 0;
    _cleanup_free_ char *ns = xasprintf("/proc/%ld/ns/pid", pid);
    struct stat a, b;
    if (stat(ns, &a) < 0 || stat(pinned, &b) < 0 || a.st_dev != b.st_dev || a.st_ino != b.st_ino)
        return 0;
    if (sys_pidfd_send_signal(fd, SIGKILL) < 0 && errno != ESRCH)
        return pr_err(err, errno, "kill the pod's PID namespace init %ld", pid);
    return 0;
}
