/* SPDX-License-Identifier: Apache-2.0 */
/* seccompProfile RuntimeDefault: podrun's own default profile, an allowlist in the manner of
 * containerd's and Docker's (everything not listed fails with EPERM). It is data, below: the
 * syscalls every container may make, the groups a capability unlocks, and the few rules with
 * argument conditions. Names this libseccomp or this architecture lacks are skipped by the
 * runtime, so one list serves every architecture.
 *
 * The rule of thumb behind the list: what a container running as a process tree needs (files,
 * sockets, memory, signals, time, threads, IPC inside its IPC namespace) is allowed; what acts
 * on the kernel or the machine (modules, reboot, clock, swap, keyrings, accounting, ptrace of
 * others, new namespaces, mounts, BPF, perf) is allowed only with the capability the kernel
 * would check anyway, so the profile never gives more than the capability set already does,
 * and takes away the attack surface of calls that need no capability but few programs use
 * (keyctl, add_key, userfaultfd, unshare of a user namespace, io_uring). */
#include "manager.h"
#include "capabilities.h"
#include "fs.h"
#include "util.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>

static const char *const allowed[] = {"_llseek",
                                      "_newselect",
                                      "accept",
                                      "accept4",
                                      "access",
                                      "adjtimex",
                                      "alarm",
                                      "arch_prctl",
                                      "bind",
                                      "brk",
                                      "cachestat",
                                      "capget",
                                      "capset",
                                      "chdir",
                                      "chmod",
                                      "chown",
                                      "chown32",
                                      "clock_getres",
                                      "clock_getres_time64",
                                      "clock_gettime",
                                      "clock_gettime64",
                                      "clock_nanosleep",
                                      "clock_nanosleep_time64",
                                      "close",
                                      "close_range",
                                      "connect",
                                      "copy_file_range",
                                      "creat",
                                      "dup",
                                      "dup2",
                                      "dup3",
                                      "epoll_create",
                                      "epoll_create1",
                                      "epoll_ctl",
                                      "epoll_ctl_old",
                                      "epoll_pwait",
                                      "epoll_pwait2",
                                      "epoll_wait",
                                      "epoll_wait_old",
                                      "eventfd",
                                      "eventfd2",
                                      "execve",
                                      "execveat",
                                      "exit",
                                      "exit_group",
                                      "faccessat",
                                      "faccessat2",
                                      "fadvise64",
                                      "fadvise64_64",
                                      "fallocate",
                                      "fanotify_mark",
                                      "fchdir",
                                      "fchmod",
                                      "fchmodat",
                                      "fchmodat2",
                                      "fchown",
                                      "fchown32",
                                      "fchownat",
                                      "fcntl",
                                      "fcntl64",
                                      "fdatasync",
                                      "fgetxattr",
                                      "flistxattr",
                                      "flock",
                                      "fork",
                                      "fremovexattr",
                                      "fsetxattr",
                                      "fstat",
                                      "fstat64",
                                      "fstatat64",
                                      "fstatfs",
                                      "fstatfs64",
                                      "fsync",
                                      "ftruncate",
                                      "ftruncate64",
                                      "futex",
                                      "futex_requeue",
                                      "futex_time64",
                                      "futex_wait",
                                      "futex_waitv",
                                      "futex_wake",
                                      "futimesat",
                                      "get_robust_list",
                                      "get_thread_area",
                                      "getcpu",
                                      "getcwd",
                                      "getdents",
                                      "getdents64",
                                      "getegid",
                                      "getegid32",
                                      "geteuid",
                                      "geteuid32",
                                      "getgid",
                                      "getgid32",
                                      "getgroups",
                                      "getgroups32",
                                      "getitimer",
                                      "getpeername",
                                      "getpgid",
                                      "getpgrp",
                                      "getpid",
                                      "getppid",
                                      "getpriority",
                                      "getrandom",
                                      "getresgid",
                                      "getresgid32",
                                      "getresuid",
                                      "getresuid32",
                                      "getrlimit",
                                      "getrusage",
                                      "getsid",
                                      "getsockname",
                                      "getsockopt",
                                      "gettid",
                                      "gettimeofday",
                                      "getuid",
                                      "getuid32",
                                      "getxattr",
                                      "inotify_add_watch",
                                      "inotify_init",
                                      "inotify_init1",
                                      "inotify_rm_watch",
                                      "io_cancel",
                                      "io_destroy",
                                      "io_getevents",
                                      "io_pgetevents",
                                      "io_pgetevents_time64",
                                      "io_setup",
                                      "io_submit",
                                      "ioctl",
                                      "ioprio_get",
                                      "ioprio_set",
                                      "ipc",
                                      "kill",
                                      "landlock_add_rule",
                                      "landlock_create_ruleset",
                                      "landlock_restrict_self",
                                      "lchown",
                                      "lchown32",
                                      "lgetxattr",
                                      "link",
                                      "linkat",
                                      "listen",
                                      "listxattr",
                                      "llistxattr",
                                      "lremovexattr",
                                      "lseek",
                                      "lsetxattr",
                                      "lstat",
                                      "lstat64",
                                      "madvise",
                                      "map_shadow_stack",
                                      "membarrier",
                                      "memfd_create",
                                      "memfd_secret",
                                      "mincore",
                                      "mkdir",
                                      "mkdirat",
                                      "mknod",
                                      "mknodat",
                                      "mlock",
                                      "mlock2",
                                      "mlockall",
                                      "mmap",
                                      "mmap2",
                                      "modify_ldt",
                                      "mprotect",
                                      "mq_getsetattr",
                                      "mq_notify",
                                      "mq_open",
                                      "mq_timedreceive",
                                      "mq_timedreceive_time64",
                                      "mq_timedsend",
                                      "mq_timedsend_time64",
                                      "mq_unlink",
                                      "mremap",
                                      "msgctl",
                                      "msgget",
                                      "msgrcv",
                                      "msgsnd",
                                      "msync",
                                      "munlock",
                                      "munlockall",
                                      "munmap",
                                      "name_to_handle_at",
                                      "nanosleep",
                                      "newfstatat",
                                      "open",
                                      "openat",
                                      "openat2",
                                      "pause",
                                      "pidfd_open",
                                      "pidfd_send_signal",
                                      "pipe",
                                      "pipe2",
                                      "pkey_alloc",
                                      "pkey_free",
                                      "pkey_mprotect",
                                      "poll",
                                      "ppoll",
                                      "ppoll_time64",
                                      "prctl",
                                      "pread64",
                                      "preadv",
                                      "preadv2",
                                      "prlimit64",
                                      "process_mrelease",
                                      "pselect6",
                                      "pselect6_time64",
                                      "pwrite64",
                                      "pwritev",
                                      "pwritev2",
                                      "read",
                                      "readahead",
                                      "readlink",
                                      "readlinkat",
                                      "readv",
                                      "recv",
                                      "recvfrom",
                                      "recvmmsg",
                                      "recvmmsg_time64",
                                      "recvmsg",
                                      "remap_file_pages",
                                      "removexattr",
                                      "rename",
                                      "renameat",
                                      "renameat2",
                                      "restart_syscall",
                                      "rmdir",
                                      "rseq",
                                      "rt_sigaction",
                                      "rt_sigpending",
                                      "rt_sigprocmask",
                                      "rt_sigqueueinfo",
                                      "rt_sigreturn",
                                      "rt_sigsuspend",
                                      "rt_sigtimedwait",
                                      "rt_sigtimedwait_time64",
                                      "rt_tgsigqueueinfo",
                                      "sched_get_priority_max",
                                      "sched_get_priority_min",
                                      "sched_getaffinity",
                                      "sched_getattr",
                                      "sched_getparam",
                                      "sched_getscheduler",
                                      "sched_rr_get_interval",
                                      "sched_rr_get_interval_time64",
                                      "sched_setaffinity",
                                      "sched_setattr",
                                      "sched_setparam",
                                      "sched_setscheduler",
                                      "sched_yield",
                                      "seccomp",
                                      "select",
                                      "semctl",
                                      "semget",
                                      "semop",
                                      "semtimedop",
                                      "semtimedop_time64",
                                      "send",
                                      "sendfile",
                                      "sendfile64",
                                      "sendmmsg",
                                      "sendmsg",
                                      "sendto",
                                      "set_robust_list",
                                      "set_thread_area",
                                      "set_tid_address",
                                      "setfsgid",
                                      "setfsgid32",
                                      "setfsuid",
                                      "setfsuid32",
                                      "setgid",
                                      "setgid32",
                                      "setgroups",
                                      "setgroups32",
                                      "setitimer",
                                      "setpgid",
                                      "setpriority",
                                      "setregid",
                                      "setregid32",
                                      "setresgid",
                                      "setresgid32",
                                      "setresuid",
                                      "setresuid32",
                                      "setreuid",
                                      "setreuid32",
                                      "setrlimit",
                                      "setsid",
                                      "setsockopt",
                                      "setuid",
                                      "setuid32",
                                      "setxattr",
                                      "shmat",
                                      "shmctl",
                                      "shmdt",
                                      "shmget",
                                      "shutdown",
                                      "sigaltstack",
                                      "signalfd",
                                      "signalfd4",
                                      "sigprocmask",
                                      "sigreturn",
                                      "socket",
                                      "socketcall",
                                      "socketpair",
                                      "splice",
                                      "stat",
                                      "stat64",
                                      "statfs",
                                      "statfs64",
                                      "statx",
                                      "symlink",
                                      "symlinkat",
                                      "sync",
                                      "sync_file_range",
                                      "syncfs",
                                      "sysinfo",
                                      "tee",
                                      "tgkill",
                                      "time",
                                      "timer_create",
                                      "timer_delete",
                                      "timer_getoverrun",
                                      "timer_gettime",
                                      "timer_gettime64",
                                      "timer_settime",
                                      "timer_settime64",
                                      "timerfd_create",
                                      "timerfd_gettime",
                                      "timerfd_gettime64",
                                      "timerfd_settime",
                                      "timerfd_settime64",
                                      "times",
                                      "tkill",
                                      "truncate",
                                      "truncate64",
                                      "ugetrlimit",
                                      "umask",
                                      "uname",
                                      "unlink",
                                      "unlinkat",
                                      "utime",
                                      "utimensat",
                                      "utimensat_time64",
                                      "utimes",
                                      "vfork",
                                      "vmsplice",
                                      "wait4",
                                      "waitid",
                                      "waitpid",
                                      "write",
                                      "writev",
                                      NULL};

/* What a capability unlocks: the calls the kernel checks that capability for. */
static const struct {
    const char *cap;
    const char *const *names;
} by_capability[] = {
    {"CAP_SYS_ADMIN", (const char *const[]){"bpf",
                                            "clone",
                                            "fanotify_init",
                                            "fsconfig",
                                            "fsmount",
                                            "fsopen",
                                            "fspick",
                                            "lookup_dcookie",
                                            "mount",
                                            "mount_setattr",
                                            "move_mount",
                                            "open_tree",
                                            "perf_event_open",
                                            "quotactl",
                                            "quotactl_fd",
                                            "setdomainname",
                                            "sethostname",
                                            "setns",
                                            "syslog",
                                            "umount",
                                            "umount2",
                                            "unshare",
                                            NULL}},
    {"CAP_SYS_BOOT", (const char *const[]){"reboot", NULL}},
    {"CAP_SYS_CHROOT", (const char *const[]){"chroot", NULL}},
    {"CAP_SYS_MODULE", (const char *const[]){"delete_module", "init_module", "finit_module", NULL}},
    {"CAP_SYS_PACCT", (const char *const[]){"acct", NULL}},
    {"CAP_SYS_PTRACE",
     (const char *const[]){"kcmp", "pidfd_getfd", "process_madvise", "process_vm_readv",
                           "process_vm_writev", "ptrace", NULL}},
    {"CAP_SYS_RAWIO", (const char *const[]){"iopl", "ioperm", NULL}},
    {"CAP_SYS_TIME",
     (const char *const[]){"settimeofday", "stime", "clock_settime", "clock_settime64",
                           "clock_adjtime", "clock_adjtime64", NULL}},
    {"CAP_SYS_TTY_CONFIG", (const char *const[]){"vhangup", NULL}},
    {"CAP_SYS_NICE", (const char *const[]){"get_mempolicy", "mbind", "set_mempolicy",
                                           "set_mempolicy_home_node", NULL}},
    {"CAP_SYSLOG", (const char *const[]){"syslog", NULL}},
    {"CAP_BPF", (const char *const[]){"bpf", NULL}},
    {"CAP_PERFMON", (const char *const[]){"perf_event_open", NULL}},
};

/* personality(2) with the personas programs use (PER_LINUX, PER_LINUX32, UNAME26 and their
 * combination, and the query 0xffffffff): not the ones that turn off address randomization. */
static const unsigned long personas[] = {0x0, 0x8, 0x20000, 0x20008, 0xffffffff};

/* clone(2) without CAP_SYS_ADMIN: threads and processes, not new namespaces (CLONE_NEWNS,
 * NEWCGROUP, NEWUTS, NEWIPC, NEWUSER, NEWPID, NEWNET). */
#define CLONE_NAMESPACE_FLAGS 0x7E020000UL
#define ENOSYS_NUMBER         38 /* clone3: glibc falls back to clone on ENOSYS, not on EPERM */

static bool has_cap(const bool caps[CAP_NAMES_COUNT], const char *name)
{
    int n = cap_number(name);
    return n >= 0 && caps[n];
}

static void gen_rule(yajl_gen g, const char *const *names, const char *action)
{
    jg_map_open(g);
    jg_key_strv(g, "names", (char *const *)names);
    jg_key_str(g, "action", action);
    jg_map_close(g);
}

/* name allowed when its first argument compares to value by op (with valueTwo for a mask). */
static void gen_arg_rule(yajl_gen g, const char *name, unsigned long value, unsigned long two,
                         const char *op)
{
    jg_map_open(g);
    jg_key_strv(g, "names", (char *const[]){(char *)name, NULL});
    jg_key_str(g, "action", "SCMP_ACT_ALLOW");
    jg_key(g, "args");
    jg_array_open(g);
    jg_map_open(g);
    jg_key_uint(g, "index", 0);
    jg_key_uint(g, "value", value);
    if (streq(op, "SCMP_CMP_MASKED_EQ"))
        jg_key_uint(g, "valueTwo", two);
    jg_key_str(g, "op", op);
    jg_map_close(g);
    jg_array_close(g);
    jg_map_close(g);
}

static void gen_architectures(yajl_gen g)
{
    jg_key(g, "architectures");
    jg_array_open(g);
#if defined(__x86_64__) || defined(__i386__)
    jg_str(g, "SCMP_ARCH_X86_64");
    jg_str(g, "SCMP_ARCH_X86");
    jg_str(g, "SCMP_ARCH_X32");
#elif defined(__aarch64__) || defined(__arm__)
    jg_str(g, "SCMP_ARCH_AARCH64");
    jg_str(g, "SCMP_ARCH_ARM");
#endif
    jg_array_close(g);
}

void pods_seccomp_default(yajl_gen g, const bool caps[CAP_NAMES_COUNT])
{
    bool sys_admin = has_cap(caps, "CAP_SYS_ADMIN");
    jg_key(g, "seccomp");
    jg_map_open(g);
    jg_key_str(g, "defaultAction", "SCMP_ACT_ERRNO");
    jg_key_uint(g, "defaultErrnoRet", 1); /* EPERM */
    gen_architectures(g);
    jg_key(g, "syscalls");
    jg_array_open(g);
    gen_rule(g, allowed, "SCMP_ACT_ALLOW");
    for (size_t i = 0; i < ARRAY_SIZE(personas); i++)
        gen_arg_rule(g, "personality", personas[i], 0, "SCMP_CMP_EQ");
    for (size_t i = 0; i < ARRAY_SIZE(by_capability); i++) {
        const char *const *names = by_capability[i].names;
        if (!has_cap(caps, by_capability[i].cap))
            continue;
        /* Several capabilities unlock one call (bpf, syslog, perf_event_open): a name goes in
         * once, or the runtime sees two rules for it. */
        _cleanup_strv_ char **fresh = NULL;
        for (const char *const *n = names; *n; n++) {
            bool seen = false;
            for (size_t j = 0; j < i && !seen; j++)
                if (has_cap(caps, by_capability[j].cap))
                    for (const char *const *m = by_capability[j].names; *m && !seen; m++)
                        seen = streq(*m, *n);
            if (!seen)
                strv_extend(&fresh, *n);
        }
        if (fresh)
            gen_rule(g, (const char *const *)fresh, "SCMP_ACT_ALLOW");
    }
    if (!sys_admin) {
        gen_arg_rule(g, "clone", CLONE_NAMESPACE_FLAGS, 0, "SCMP_CMP_MASKED_EQ");
        jg_map_open(g);
        jg_key_strv(g, "names", (char *const[]){"clone3", NULL});
        jg_key_str(g, "action", "SCMP_ACT_ERRNO");
        jg_key_uint(g, "errnoRet", ENOSYS_NUMBER);
        jg_map_close(g);
    } else {
        gen_rule(g, (const char *const[]){"clone3", NULL}, "SCMP_ACT_ALLOW");
    }
    jg_array_close(g);
    jg_map_close(g);
}

static int profile_from_fd(int fd, const char *where, yajl_val *out, pr_error **err)
{
    _cleanup_free_ char *text = NULL;
    size_t len;
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
        return pr_err(err, 0, "%s: not a regular file", where);
    int r = read_fd_max(fd, where, PODS_SECCOMP_PROFILE_MAX, &text, &len, err);
    if (r < 0)
        return r;
    _cleanup_json_ yajl_val v = NULL;
    if ((r = json_parse(text, where, &v, err)) < 0)
        return r;
    if (!YAJL_IS_OBJECT(v) || !YAJL_IS_STRING(json_get(v, "defaultAction")))
        return pr_err(err, 0, "%s: not a seccomp profile (an object with a defaultAction)", where);
    *out = steal_pointer(&v);
    return 0;
}

/* Localhost profiles: Kubernetes resolves localhostProfile against the kubelet's seccomp
 * directory; ours is lib-root/seccomp. RESOLVE_BENEATH makes the kernel refuse any step out of
 * it, by "..", an absolute symlink or a relative one. */
int pods_seccomp_localhost(pods_manager *m, const char *profile, yajl_val *out, pr_error **err)
{
    _cleanup_free_ char *dir = xasprintf("%s/seccomp", m->lib_root);
    const unsigned long long how = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
    if (!*profile || *profile == '/' || streq(profile, "..") || has_prefix(profile, "../") ||
        strstr(profile, "/../") ||
        (strlen(profile) >= 3 && streq(profile + strlen(profile) - 3, "/..")))
        return pr_err(err, 0, "localhostProfile \"%s\": must be a relative path without \"..\"",
                      profile);
    _cleanup_close_ int dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return pr_err(err, errno, "localhostProfile \"%s\": the seccomp directory `%s`", profile,
                      dir);
    _cleanup_close_ int fd =
        sys_openat2(dfd, profile, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC, 0, how);
    if (fd < 0 && (errno == EXDEV || errno == ELOOP))
        return pr_err(err, errno, "localhostProfile \"%s\": leaves `%s` (through a symlink)",
                      profile, dir);
    if (fd < 0)
        return pr_err(err, errno, "localhostProfile \"%s\" in `%s`", profile, dir);
    _cleanup_free_ char *where = xasprintf("localhostProfile `%s/%s`", dir, profile);
    return profile_from_fd(fd, where, out, err);
}

int pods_seccomp_file(const char *path, yajl_val *out, pr_error **err)
{
    if (!path || path[0] != '/')
        return pr_err(err, 0, "seccomp profile \"%s\": must be an absolute path", path ? path : "");
    /* O_NONBLOCK: a FIFO planted there must not hang the call before fstat refuses it. */
    _cleanup_close_ int fd = open(path, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return pr_err(err, errno, "seccomp profile `%s`", path);
    _cleanup_free_ char *where = xasprintf("seccomp profile `%s`", path);
    return profile_from_fd(fd, where, out, err);
}
