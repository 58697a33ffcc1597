/* SPDX-License-Identifier: Apache-2.0 */
#include "init.h"
#include "cloned-binary.h"
#include "fs.h"
#include "hooks.h"
#include "json.h"
#include "log.h"
#include "mounts.h"
#include "netdev.h"
#include "seccomp.h"
#include "state.h"
#include "sync.h"
#include "terminal.h"
#include "util.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif
#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

extern char **environ;

char *rt_hook_state_json(const char *id, pid_t pid, const char *status, const char *bundle,
                         yajl_val annotations)
{
    _cleanup_gen_ yajl_gen g = json_gen_new(false);
    jg_map_open(g);
    jg_key_str(g, "ociVersion", RT_OCI_VERSION);
    jg_key_str(g, "id", id);
    jg_key_str(g, "status", status);
    jg_key_int(g, "pid", pid);
    jg_key_str(g, "bundle", bundle);
    if (annotations) {
        jg_key(g, "annotations");
        jg_value(g, annotations);
    }
    jg_map_close(g);
    size_t len;
    const char *buf = jg_buf(g, &len);
    return strndup(buf, len);
}

/* Before the sync socket is usable for errors there is nothing better than stderr. */
static void __attribute__((noreturn)) fail(int sync, pr_error *e)
{
    if (sync < 0 || sync_send_error(sync, e) < 0)
        dprintf(STDERR_FILENO, "podrun-runtime: %s\n", e ? e->msg : "container setup failed");
    _exit(1);
}

static pid_t clone_parent(void)
{
    /* The container process must be the runtime's child (so `run` can wait for it), not ours. */
    return (pid_t)syscall(SYS_clone, CLONE_PARENT | SIGCHLD, 0, NULL, NULL, 0);
}

static int join_namespace_path(enum rt_ns_kind k, const char *path, pr_error **err)
{
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return pr_err(err, errno, "open %s namespace `%s`", rt_namespaces[k].oci_name, path);
    if (setns(fd, rt_namespaces[k].clone_flag) < 0)
        return pr_err(err, errno, "join %s namespace `%s`", rt_namespaces[k].oci_name, path);
    return 0;
}

static int write_time_offsets(yajl_val offsets, pr_error **err)
{
    _cleanup_free_ char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return pr_err(err, errno, "open_memstream");
    for (size_t i = 0; i < offsets->u.object.len; i++) {
        const char *clock = offsets->u.object.keys[i];
        yajl_val o = offsets->u.object.values[i];
        int64_t secs = 0, nsecs = 0;
        if (!streq(clock, "monotonic") && !streq(clock, "boottime")) {
            fclose(f);
            return pr_err(err, 0, "linux.timeOffsets: unknown clock \"%s\"", clock);
        }
        if (json_get_int64(o, "secs", "linux.timeOffsets", &secs, err) < 0 ||
            json_get_int64(o, "nanosecs", "linux.timeOffsets", &nsecs, err) < 0) {
            fclose(f);
            return -EINVAL;
        }
        fprintf(f, "%s %lld %lld\n", clock, (long long)secs, (long long)nsecs);
    }
    fclose(f);
    /* The kernel takes one offset per write. */
    for (char *line = buf, *nl; line && *line; line = nl ? nl + 1 : NULL) {
        nl = strchr(line, '\n');
        size_t n = nl ? (size_t)(nl - line + 1) : strlen(line);
        int r = write_file("/proc/self/timens_offsets", line, n, err);
        if (r < 0)
            return r;
    }
    return 0;
}

static int write_oom_score_adj(int value, pr_error **err)
{
    char buf[16];
    int n = snprintf(buf, sizeof(buf), "%d", value);
    int r = write_file("/proc/self/oom_score_adj", buf, (size_t)n, NULL);
    if (r < 0)
        return pr_err(err, -r,
                      "set process.oomScoreAdj to %d (lowering it needs "
                      "CAP_SYS_RESOURCE)",
                      value);
    return 0;
}

/* After the runtime's go, before any namespace: the cgroup namespace's root is the cgroup we
 * are in when it is made. */
static int await_go_and_join_cgroup(const struct rt_init_args *a, pr_error **err)
{
    struct sync_msg m;
    if (sync_expect(a->sync, SYNC_GO, &m, "the runtime", err) < 0)
        return -EPIPE;
    return a->cgroup_entry ? rt_cgroup_entry_join(a->cgroup_entry, err) : 0;
}

/* Stage 1 for `create`: namespaces by path, then the new ones. */
static void stage1_create(const struct rt_init_args *a, pr_error **err)
{
    const struct rt_config *c = a->config;
    struct sync_msg m;
    if (await_go_and_join_cgroup(a, err) < 0)
        return;
    for (int k = 0; k < NS_COUNT; k++)
        if (c->ns_path[k] && join_namespace_path(k, c->ns_path[k], err) < 0)
            return;
    if (c->ns_new[NS_USER]) {
        if (unshare(CLONE_NEWUSER) < 0) {
            pr_err(err, errno, "create user namespace");
            return;
        }
        /* The runtime writes our maps from outside, where it has the privilege to. */
        if (sync_send(a->sync, SYNC_USERMAP, 0, -1) < 0 ||
            sync_expect(a->sync, SYNC_GO, &m, "the user namespace mappings", err) < 0)
            return;
        if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0) {
            pr_err(err, errno, "become root in the new user namespace (is uid/gid 0 mapped?)");
            return;
        }
    }
    int flags = 0;
    for (int k = NS_MNT; k < NS_COUNT; k++)
        if (c->ns_new[k])
            flags |= rt_namespaces[k].clone_flag;
    if (flags && unshare(flags) < 0) {
        pr_err(err, errno, "create namespaces");
        return;
    }
    if (c->ns_new[NS_NET] && rt_net_loopback_up(err) < 0)
        return;
    if (c->time_offsets && write_time_offsets(c->time_offsets, err) < 0)
        return;
    if (a->process->has_oom_score_adj && write_oom_score_adj(a->process->oom_score_adj, err) < 0)
        return;
}

/* Stage 1 for `exec`: join every namespace of the running container. */
static void stage1_exec(const struct rt_init_args *a, pr_error **err)
{
    if (await_go_and_join_cgroup(a, err) < 0)
        return;
    /* Before the mount namespace: the container's /proc is of its PID namespace, which this
     * process is not in (setns of a PID namespace moves only its children), so /proc/self
     * there does not exist. The value is inherited by the process exec'd. */
    if (a->process->has_oom_score_adj && write_oom_score_adj(a->process->oom_score_adj, err) < 0)
        return;
    for (int k = 0; k < NS_COUNT; k++) {
        if (a->ns_fds[k] < 0)
            continue;
        if (setns(a->ns_fds[k], rt_namespaces[k].clone_flag) < 0) {
            pr_err(err, errno, "join the container's %s namespace", rt_namespaces[k].oci_name);
            return;
        }
    }
}

static int set_sysctls(yajl_val sysctl, pr_error **err)
{
    for (size_t i = 0; sysctl && i < sysctl->u.object.len; i++) {
        _cleanup_free_ char *path = xasprintf("/proc/sys/%s", sysctl->u.object.keys[i]);
        for (char *p = path + strlen("/proc/sys/"); *p; p++)
            if (*p == '.')
                *p = '/';
        const char *v = sysctl->u.object.values[i]->u.string;
        int r = write_file(path, v, strlen(v), err);
        if (r < 0)
            return pr_err_prefix(err, "linux.sysctl.%s", sysctl->u.object.keys[i]);
    }
    return 0;
}

static int enter_cwd(const char *cwd, pr_error **err)
{
    if (chdir(cwd) < 0)
        return pr_err(err, errno, "chdir to process.cwd `%s`", cwd);
    /* CVE-2024-21626: a cwd reached through a leaked fd lies outside the root; getcwd then
     * fails or reports "(unreachable)". */
    char buf[4096];
    if (!getcwd(buf, sizeof(buf)) || buf[0] != '/')
        return pr_err(err, EPERM, "process.cwd `%s` is outside the container's root", cwd);
    return 0;
}

static bool fd_kept(int fd, const int *keep, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (keep[i] == fd)
            return true;
    return false;
}

/* Nothing the runtime's caller left open may reach the container, nor stay held by a
 * container that waits for `start` (a caller reading our stdout pipe would wait with it):
 * every fd from 3 on is closed but the preserved ones and those the init still needs. */
static void close_inherited_fds(int preserve_fds, const int *keep, size_t n_keep)
{
    int first = 3 + preserve_fds;
    /* The log file goes too: a later open could reuse its number. */
    pr_log_close();
    int prev = first;
    int sorted[4];
    size_t n = 0;
    for (size_t i = 0; i < n_keep && n < ARRAY_SIZE(sorted); i++)
        if (keep[i] >= first)
            sorted[n++] = keep[i];
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && sorted[j - 1] > sorted[j]; j--) {
            int t = sorted[j];
            sorted[j] = sorted[j - 1];
            sorted[j - 1] = t;
        }
    bool ok = true;
    for (size_t i = 0; i < n && ok; i++) {
        if (sorted[i] > prev)
            ok = sys_close_range((unsigned)prev, (unsigned)sorted[i] - 1, 0) == 0;
        prev = sorted[i] + 1;
    }
    if (ok)
        ok = sys_close_range((unsigned)prev, ~0U, 0) == 0;
    if (!ok) {
        /* Kernels before 5.9: walk the open fds instead. */
        _cleanup_dir_ DIR *d = opendir("/proc/self/fd");
        struct dirent *de;
        while (d && (de = readdir(d))) {
            int fd = atoi(de->d_name);
            if (fd >= first && fd != dirfd(d) && !fd_kept(fd, sorted, n))
                close(fd);
        }
    }
    for (int fd = 3; fd < first; fd++) {
        int fl = fcntl(fd, F_GETFD);
        if (fl >= 0)
            fcntl(fd, F_SETFD, fl & ~FD_CLOEXEC);
    }
}

static int prepare_rootfs(const struct rt_init_args *a, pr_error **err)
{
    const struct rt_config *c = a->config;
    int r;
    /* A mount namespace joined by path gets the same root as a new one (runc does this too):
     * otherwise the process would stay on that namespace's root, the host's tree. */
    if (rt_config_has_ns(c, NS_MNT)) {
        if ((r = rt_rootfs_prepare(c->tree, c->rootfs, c->ns_new[NS_USER], err)) < 0)
            return r;
        /* runc creates a missing cwd; images often name one that only exists at run time. */
        _cleanup_close_ int rootfd = open(c->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (rootfd < 0)
            return pr_err(err, errno, "open rootfs `%s`", c->rootfs);
        _cleanup_close_ int cwdfd = mkdir_in_root(rootfd, a->process->cwd, 0755, false, err);
        if (cwdfd < 0)
            return pr_err_prefix(err, "create process.cwd");
    }
    return 0;
}

static int finish_rootfs(const struct rt_init_args *a, pr_error **err)
{
    const struct rt_config *c = a->config;
    int r;
    if (rt_config_has_ns(c, NS_MNT)) {
        if ((r = rt_rootfs_pivot(c->rootfs, a->no_pivot, err)) < 0)
            return r;
    } else {
        if (chroot(c->rootfs) < 0 || chdir("/") < 0)
            return pr_err(err, errno, "chroot `%s`", c->rootfs);
    }
    /* A joined uts namespace takes the names too, as under runc (config.c checks that the
     * container has a uts namespace of its own). */
    if (rt_config_has_ns(c, NS_UTS)) {
        if (c->hostname && sethostname(c->hostname, strlen(c->hostname)) < 0)
            return pr_err(err, errno, "sethostname \"%s\"", c->hostname);
        if (c->domainname && setdomainname(c->domainname, strlen(c->domainname)) < 0)
            return pr_err(err, errno, "setdomainname \"%s\"", c->domainname);
    }
    if ((r = set_sysctls(c->sysctl, err)) < 0)
        return r;
    if (rt_config_has_ns(c, NS_MNT) && (r = rt_rootfs_finalize(c->tree, err)) < 0)
        return r;
    return 0;
}

/* Before READY, while an error can still fail `create`: the exec fifo must be reachable from
 * the container's root, through its /proc or (without a mount namespace) the state dir fd. */
static int check_exec_fifo(const struct rt_init_args *a, pr_error **err)
{
    char buf[FD_PATH_MAX];
    struct stat st;
    if (a->state_dirfd >= 0) {
        if (fstatat(a->state_dirfd, "exec.fifo", &st, AT_SYMLINK_NOFOLLOW) < 0)
            return pr_err(err, errno, "exec fifo in the state directory");
    } else if (stat(fd_path(a->fifo_fd, buf), &st) < 0) {
        return pr_err(err, errno,
                      "reach the exec fifo through `%s` (is /proc mounted in the container?)", buf);
    }
    if (!S_ISFIFO(st.st_mode))
        return pr_err(err, EINVAL, "the exec fifo is not a fifo");
    return 0;
}

static int wait_for_start(const struct rt_init_args *a, pr_error **err)
{
    char buf[FD_PATH_MAX];
    /* Blocks until `start` opens the other end. */
    _cleanup_close_ int fd =
        a->state_dirfd >= 0 ? openat(a->state_dirfd, "exec.fifo", O_WRONLY | O_NOFOLLOW | O_CLOEXEC)
                            : open(fd_path(a->fifo_fd, buf), O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return pr_err(err, errno, "open exec fifo");
    /* The state directory lies outside the root: it goes before anything is run. */
    if (a->state_dirfd >= 0)
        close(a->state_dirfd);
    if (write(fd, "0", 1) != 1)
        return pr_err(err, errno, "write exec fifo");
    close(a->fifo_fd);
    return 0;
}

static void __attribute__((noreturn))
exec_process(const struct rt_init_args *a, const char *exe, int sync)
{
    _cleanup_error_ pr_error *err = NULL;
    int notify_fd = -1;
    if (rt_process_finalize(a->process, a->config->seccomp, &notify_fd, &err) < 0)
        goto failed;
    if (notify_fd >= 0 && sync >= 0)
        sync_send(sync, SYNC_SECCOMP, 0, notify_fd);
    if (notify_fd >= 0)
        close(notify_fd);
    execve(exe, a->process->args, a->process->env);
    pr_err(&err, errno, "exec `%s`", exe);
failed:
    if (sync >= 0)
        fail(sync, err);
    dprintf(STDERR_FILENO, "podrun-runtime: %s\n", err->msg);
    _exit(127);
}

/* The end of a container whose init nobody else can see (container.c, init_stub_will_do):
 * privileges go now, at create, as runc drops them before waiting too; then the sealed init
 * stub waits for `start` and execs the program, and from its exec on /proc/self/exe names the
 * stub's memfd. READY goes first: the runtime then waits for the sync socket to close with the
 * exec, or for the error if it failed. */
static void __attribute__((noreturn)) exec_init_stub(const struct rt_init_args *a, const char *exe)
{
    _cleanup_error_ pr_error *err = NULL;
    size_t n = 0;
    while (a->process->args[n])
        n++;
    char **argv = xcalloc(n + 4, sizeof(char *));
    argv[0] = "podrun-init";
    argv[1] = xasprintf("%d", a->fifo_fd);
    argv[2] = (char *)exe;
    memcpy(argv + 3, a->process->args, n * sizeof(char *));
    /* Before seccomp, which need not allow memfd_create. */
    int stub = rt_init_stub_open(&err);
    if (stub < 0)
        fail(a->sync, err);
    int notify_fd = -1;
    if (rt_process_finalize(a->process, a->config->seccomp, &notify_fd, &err) < 0)
        fail(a->sync, err);
    if (notify_fd >= 0)
        close(notify_fd); /* not asked for: init_stub_will_do keeps listeners out */
    int fl = fcntl(a->fifo_fd, F_GETFD);
    if (fl < 0 || fcntl(a->fifo_fd, F_SETFD, fl & ~FD_CLOEXEC) < 0) {
        pr_err(&err, errno, "pass the exec fifo to the init stub");
        fail(a->sync, err);
    }
    if (sync_send(a->sync, SYNC_READY, 0, -1) < 0)
        _exit(1);
    /* execve, not execveat: a seccomp profile must allow execve for the program anyway. */
    char path[FD_PATH_MAX];
    execve(fd_path(stub, path), argv, a->process->env);
    pr_err(&err, errno, "exec the init stub through `%s` (is /proc mounted in the container?)",
           path);
    fail(a->sync, err);
}

static void __attribute__((noreturn)) stage2_create(const struct rt_init_args *a)
{
    _cleanup_error_ pr_error *err = NULL;
    const struct rt_config *c = a->config;
    struct sync_msg m;
    _cleanup_free_ char *exe = NULL;

    /* Nothing in the container may reach this process's /proc/PID/exe, the runtime's binary,
     * while it builds the container; with the init stub to come, nothing in the container can
     * see it, and being not dumpable keeps out anyone on the host without CAP_SYS_PTRACE. The
     * stub's exec makes the process dumpable again. */
    if (a->init_stub)
        prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    int keep[] = {a->sync, a->fifo_fd, a->state_dirfd};
    close_inherited_fds(a->preserve_fds, keep, ARRAY_SIZE(keep));
    if (setsid() < 0 && errno != EPERM) {
        pr_err(&err, errno, "setsid");
        fail(a->sync, err);
    }
    if (c->has_personality && personality(c->personality) < 0) {
        pr_err(&err, errno, "linux.personality");
        fail(a->sync, err);
    }
    if (!a->no_new_keyring)
        syscall(SYS_keyctl, 1 /* KEYCTL_JOIN_SESSION_KEYRING */, a->id);
    if (prepare_rootfs(a, &err) < 0)
        fail(a->sync, err);
    if (sync_send(a->sync, SYNC_HOOKS, 0, -1) < 0 ||
        sync_expect(a->sync, SYNC_GO, &m, "the createRuntime hooks", &err) < 0)
        fail(a->sync, err);
    pid_t host_pid = m.value;
    /* The runtime moved linux.netDevices in before it said go. */
    if (rt_net_devices_up(c->net_devices, &err) < 0)
        fail(a->sync, err);
    if (json_get(c->hooks, "createContainer")) {
        _cleanup_free_ char *st =
            rt_hook_state_json(a->id, host_pid, "created", c->bundle, c->annotations);
        if (rt_hooks_run(c->hooks, "createContainer", st, &err) < 0)
            fail(a->sync, err);
    }
    if (finish_rootfs(a, &err) < 0 || rt_mempolicy_apply(&c->mempolicy, &err) < 0)
        fail(a->sync, err);
    if (a->process->terminal &&
        rt_terminal_setup(a->sync, a->process->console_height, a->process->console_width,
                          rt_config_has_ns(c, NS_MNT), &err) < 0)
        fail(a->sync, err);
    if (enter_cwd(a->process->cwd, &err) < 0 ||
        rt_process_lookup_executable(a->process, &exe, &err) < 0 || check_exec_fifo(a, &err) < 0)
        fail(a->sync, err);
    rt_process_ensure_home(a->process);
    if (a->init_stub)
        exec_init_stub(a, exe);
    /* A seccomp listener must get its fd while the runtime is still here to pass it on, so
     * such a container drops its privileges before waiting for start (as runc does). */
    bool early = rt_seccomp_listener_path(c->seccomp) != NULL;
    if (early) {
        int notify_fd = -1;
        if (rt_process_finalize(a->process, c->seccomp, &notify_fd, &err) < 0)
            fail(a->sync, err);
        if (notify_fd >= 0) {
            sync_send(a->sync, SYNC_SECCOMP, 0, notify_fd);
            close(notify_fd);
        }
    }
    if (sync_send(a->sync, SYNC_READY, 0, -1) < 0)
        _exit(1);
    close(a->sync);

    if (wait_for_start(a, &err) < 0)
        goto failed;
    if (json_get(c->hooks, "startContainer")) {
        _cleanup_free_ char *st =
            rt_hook_state_json(a->id, host_pid, "running", c->bundle, c->annotations);
        if (rt_hooks_run(c->hooks, "startContainer", st, &err) < 0)
            goto failed;
    }
    if (early) {
        execve(exe, a->process->args, a->process->env);
        pr_err(&err, errno, "exec `%s`", exe);
        goto failed;
    }
    exec_process(a, exe, -1);
failed:
    dprintf(STDERR_FILENO, "podrun-runtime: %s\n", err->msg);
    _exit(127);
}

static void __attribute__((noreturn)) stage2_exec(const struct rt_init_args *a)
{
    _cleanup_error_ pr_error *err = NULL;
    _cleanup_free_ char *exe = NULL;
    int keep[] = {a->sync};
    close_inherited_fds(a->preserve_fds, keep, ARRAY_SIZE(keep));
    if (setsid() < 0 && errno != EPERM) {
        pr_err(&err, errno, "setsid");
        fail(a->sync, err);
    }
    if (a->exec_chroot && (chroot(a->config->rootfs) < 0 || chdir("/") < 0)) {
        pr_err(&err, errno, "chroot `%s`", a->config->rootfs);
        fail(a->sync, err);
    }
    if (a->process->terminal && rt_terminal_setup(a->sync, a->process->console_height,
                                                  a->process->console_width, false, &err) < 0)
        fail(a->sync, err);
    if (enter_cwd(a->process->cwd, &err) < 0 ||
        rt_process_lookup_executable(a->process, &exe, &err) < 0)
        fail(a->sync, err);
    rt_process_ensure_home(a->process);
    /* The sync socket is close-on-exec: the runtime reads EOF once execve succeeded. */
    exec_process(a, exe, a->sync);
}

void rt_init_stage1(const struct rt_init_args *a)
{
    _cleanup_error_ pr_error *err = NULL;
    prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    /* Default signal dispositions: the runtime's may not reach the container. */
    signal(SIGPIPE, SIG_DFL);
    if (a->is_exec)
        stage1_exec(a, &err);
    else
        stage1_create(a, &err);
    if (err)
        fail(a->sync, err);

    /* Both stages write to the same socket: stage 2 must not speak before our SYNC_PID is
     * sent, or the runtime could take READY first and record pid 0. It waits for our byte (or
     * the EOF of our exit). */
    int order[2];
    if (pipe2(order, O_CLOEXEC) < 0) {
        pr_err(&err, errno, "pipe");
        fail(a->sync, err);
    }
    pid_t pid = clone_parent();
    if (pid < 0) {
        pr_err(&err, errno, "clone the container process");
        fail(a->sync, err);
    }
    if (pid == 0) {
        char c;
        close(order[1]);
        while (read(order[0], &c, 1) < 0 && errno == EINTR)
            ;
        close(order[0]);
        if (a->is_exec)
            stage2_exec(a);
        stage2_create(a);
    }
    if (sync_send(a->sync, SYNC_PID, pid, -1) < 0)
        _exit(1);
    if (write(order[1], "", 1) < 0)
        _exit(1);
    _exit(0);
}
