/* SPDX-License-Identifier: Apache-2.0 */
/* Test helper: fault injection. Runs a command whose Nth call (counted over the command and every
 * process it starts) of the chosen system calls fails with an errno, or is where the caller is
 * killed, to check that a multi-step operation cut at that step leaves nothing behind or is
 * repaired by the next command.
 *
 * usage: fault-syscall [-a] [-f] [-k] [-r FILE] SYSCALL[,SYSCALL...] N ACTION COMMAND [ARG...]
 *   N       1-based index of the call to fault; 0 faults none (counts only)
 *   ACTION  an errno name (EIO, ENOSPC, ENOMEM, EMFILE, ...): that call fails with it;
 *           kill: SIGKILL the process making that call, before the call runs;
 *           kill-main: SIGKILL COMMAND itself (its children go on), the caller's call runs
 *   -f      from N on: every later call fails too (errno actions only)
 *   -r FILE write "calls=M faulted=0|1" to FILE at the end: M calls seen, to bound a sweep
 *   -a      armed by signal, for a server whose calls of one request are swept: no call is
 *           counted (nor faulted) until this process gets SIGUSR1, and each SIGUSR1 starts
 *           the count again from 0; SIGUSR2 writes the report (-r) of the calls since then
 *   -k      keep answering: when COMMAND exits and processes it left (a daemon, a pod's shim)
 *           still hold the filter, a detached child of ours lets their calls run, unfaulted,
 *           until the last of them exits (see the limit below)
 * Exits with COMMAND's status, 128+signal if a signal ended it.
 *
 * Why seccomp user notification and not ptrace: a filter is inherited by every child and
 * survives exec, so one listener sees the calls of the whole tree in the order the kernel
 * queues them, with no per-child attach, no stops on other syscalls and no effect on signals or
 * wait(). Only the chosen calls reach this supervisor; every other call runs at full speed, and
 * the product is not changed at all. Calls that are not faulted go on with
 * SECCOMP_USER_NOTIF_FLAG_CONTINUE (Linux 5.5). The filter goes on in a child, which hands the
 * listener to this process with sendmsg (so sendmsg cannot be chosen) and then execs COMMAND;
 * the supervisor itself is not filtered. Limit: once COMMAND has exited the supervisor exits
 * too, and the kernel then fails a chosen call in a process COMMAND left running (a created
 * container's init) with ENOSYS, unless -k is given. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <seccomp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef SECCOMP_USER_NOTIF_FLAG_CONTINUE
#define SECCOMP_USER_NOTIF_FLAG_CONTINUE (1UL << 0)
#endif

enum action { ACT_ERRNO, ACT_KILL, ACT_KILL_MAIN };

struct fault {
    unsigned long nth;
    bool from_nth;
    enum action action;
    int err;
    unsigned long calls;
    bool faulted;
    bool disarmed; /* -a before the first SIGUSR1: calls go on uncounted */
};

static const struct {
    const char *name;
    int value;
} errnos[] = {
    {"EIO", EIO},       {"ENOSPC", ENOSPC}, {"ENOMEM", ENOMEM}, {"EMFILE", EMFILE},
    {"ENFILE", ENFILE}, {"EPERM", EPERM},   {"EACCES", EACCES}, {"ENOENT", ENOENT},
    {"EAGAIN", EAGAIN}, {"EINTR", EINTR},   {"EBUSY", EBUSY},   {"EEXIST", EEXIST},
    {"ENOSYS", ENOSYS}, {"EDQUOT", EDQUOT}, {"EROFS", EROFS},   {"EINVAL", EINVAL},
};

static int parse_action(const char *s, struct fault *f)
{
    if (strcmp(s, "kill") == 0) {
        f->action = ACT_KILL;
        return 0;
    }
    if (strcmp(s, "kill-main") == 0) {
        f->action = ACT_KILL_MAIN;
        return 0;
    }
    for (size_t i = 0; i < sizeof(errnos) / sizeof(errnos[0]); i++)
        if (strcmp(s, errnos[i].name) == 0) {
            f->action = ACT_ERRNO;
            f->err = errnos[i].value;
            return 0;
        }
    return -EINVAL;
}

/* Adds a notify rule for each name of the comma-separated list. */
static int add_rules(scmp_filter_ctx ctx, char *list)
{
    char *save = NULL;
    for (char *name = strtok_r(list, ",", &save); name; name = strtok_r(NULL, ",", &save)) {
        int nr = seccomp_syscall_resolve_name(name);
        if (nr == __NR_SCMP_ERROR) {
            fprintf(stderr, "fault-syscall: unknown system call %s\n", name);
            return -EINVAL;
        }
        if (strcmp(name, "sendmsg") == 0) {
            fprintf(stderr, "fault-syscall: sendmsg hands over the listener; choose another\n");
            return -EINVAL;
        }
        int r = seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, nr, 0);
        if (r < 0) {
            fprintf(stderr, "fault-syscall: %s: %s\n", name, strerror(-r));
            return r;
        }
    }
    return 0;
}

static int send_fd(int sock, int fd)
{
    char data = 'L';
    struct iovec iov = {.iov_base = &data, .iov_len = 1};
    union {
        struct cmsghdr h;
        char buf[CMSG_SPACE(sizeof(int))];
    } u;
    memset(&u, 0, sizeof(u));
    struct msghdr msg = {
        .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof(u.buf)};
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof(int));
    return sendmsg(sock, &msg, 0) == 1 ? 0 : -errno;
}

static int recv_fd(int sock)
{
    char data;
    struct iovec iov = {.iov_base = &data, .iov_len = 1};
    union {
        struct cmsghdr h;
        char buf[CMSG_SPACE(sizeof(int))];
    } u;
    struct msghdr msg = {
        .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof(u.buf)};
    ssize_t n;
    do
        n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
    while (n < 0 && errno == EINTR);
    if (n != 1)
        return -1;
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    if (!c || c->cmsg_type != SCM_RIGHTS || c->cmsg_len != CMSG_LEN(sizeof(int)))
        return -1;
    int fd;
    memcpy(&fd, CMSG_DATA(c), sizeof(int));
    return fd;
}

/* In the child: the filter, the listener to the parent, then COMMAND. */
static void run_child(int sock, char *list, char **argv)
{
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
    int r = ctx ? 0 : -ENOMEM;
    /* Root may load a filter without no_new_privs, which the command must not inherit. */
    if (r == 0)
        r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
    if (r == 0)
        r = add_rules(ctx, list);
    if (r == 0)
        r = seccomp_load(ctx);
    if (r < 0) {
        fprintf(stderr, "fault-syscall: loading the filter: %s\n", strerror(-r));
        _exit(2);
    }
    int fd = seccomp_notify_fd(ctx);
    if (fd < 0 || send_fd(sock, fd) < 0)
        _exit(2);
    /* The listener and the socket are close-on-exec: COMMAND holds neither. */
    execvp(argv[0], argv);
    _exit(127);
}

/* Answers one queued notification; false when there was none to read. */
static bool answer(int listener, pid_t main_pid, struct fault *f)
{
    struct seccomp_notif *req = NULL;
    struct seccomp_notif_resp *resp = NULL;
    if (seccomp_notify_alloc(&req, &resp) < 0)
        return false;
    bool got = seccomp_notify_receive(listener, req) == 0;
    if (got && f->disarmed) {
        resp->id = req->id;
        resp->val = 0;
        resp->error = 0;
        resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
        (void)seccomp_notify_respond(listener, resp);
    } else if (got) {
        f->calls++;
        bool hit = f->nth && (f->calls == f->nth || (f->from_nth && f->calls > f->nth));
        resp->id = req->id;
        resp->val = 0;
        resp->error = 0;
        resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
        if (hit) {
            f->faulted = true;
            if (f->action == ACT_ERRNO) {
                resp->error = -f->err;
                resp->flags = 0;
            } else if (f->action == ACT_KILL) {
                kill((pid_t)req->pid, SIGKILL);
                /* Dead callers' notifications are dropped by the kernel; no answer needed. */
                resp = (seccomp_notify_free(NULL, resp), NULL);
            } else {
                kill(main_pid, SIGKILL);
            }
        }
        /* ENOENT: the caller died meanwhile (a signal, or the kill above). */
        if (resp)
            (void)seccomp_notify_respond(listener, resp);
    }
    seccomp_notify_free(req, resp);
    return got;
}

static void write_report(const char *report, const struct fault *f)
{
    if (!report)
        return;
    /* Whole or not at all: a test waits for the file to appear. */
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof(tmp), "%s.new", report) >= (int)sizeof(tmp))
        return;
    FILE *out = fopen(tmp, "we");
    if (!out)
        return;
    fprintf(out, "calls=%lu faulted=%d\n", f->calls, f->faulted);
    if (fclose(out) == 0)
        rename(tmp, report);
}

/* -a: SIGUSR1 arms (the count from 0), SIGUSR2 reports. */
static void on_signal(int sfd, const char *report, struct fault *f)
{
    struct signalfd_siginfo si;
    while (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
        if (si.ssi_signo == SIGUSR1) {
            f->disarmed = false;
            f->calls = 0;
            f->faulted = false;
        } else if (si.ssi_signo == SIGUSR2) {
            write_report(report, f);
        }
    }
}

static int supervise(int listener, pid_t child, int sfd, const char *report, struct fault *f)
{
    int pidfd = (int)syscall(SYS_pidfd_open, child, 0);
    if (pidfd < 0) {
        perror("fault-syscall: pidfd_open");
        return -1;
    }
    bool listener_open = true;
    for (;;) {
        struct pollfd p[3] = {{.fd = pidfd, .events = POLLIN},
                              {.fd = listener_open ? listener : -1, .events = POLLIN},
                              {.fd = sfd, .events = POLLIN}};
        if (poll(p, 3, -1) < 0) {
            if (errno == EINTR)
                continue;
            perror("fault-syscall: poll");
            return -1;
        }
        /* A signal first: the calls a test makes after its kill -USR1 are counted. */
        if (p[2].revents & POLLIN)
            on_signal(sfd, report, f);
        if (p[1].revents & POLLIN)
            answer(listener, child, f);
        else if (p[1].revents & (POLLHUP | POLLERR))
            listener_open = false; /* no process holds the filter any more */
        if (p[0].revents & POLLIN)
            break;
    }
    /* COMMAND is gone; answer what its leftovers queued already, so none waits forever. */
    for (;;) {
        struct pollfd p = {.fd = listener, .events = POLLIN};
        if (poll(&p, 1, 0) <= 0 || !(p.revents & POLLIN) || !answer(listener, child, f))
            break;
    }
    int status;
    while (waitpid(child, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    close(pidfd);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* -k: COMMAND exited and left processes under the filter; a detached child answers their calls
 * (all of them go on, no fault) until the kernel says none holds the filter (POLLHUP). */
static void keep_answering(int listener)
{
    struct pollfd p = {.fd = listener, .events = POLLIN};
    if (poll(&p, 1, 0) >= 0 && (p.revents & (POLLHUP | POLLERR)))
        return;
    pid_t pid = fork();
    if (pid != 0)
        return;
    setsid();
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    for (int fd = 0; fd < 3 && null >= 0; fd++)
        dup2(null, fd);
    /* Nothing of the caller's (a test runner waits for its pipes to close). */
    for (int fd = 3; fd < 1024; fd++)
        if (fd != listener)
            close(fd);
    struct fault none = {0};
    for (;;) {
        p.revents = 0;
        if (poll(&p, 1, -1) < 0) {
            if (errno == EINTR)
                continue;
            _exit(1);
        }
        if (p.revents & POLLIN)
            answer(listener, 0, &none);
        else if (p.revents & (POLLHUP | POLLERR))
            _exit(0);
    }
}

static void usage(void)
{
    fprintf(stderr,
            "usage: fault-syscall [-a] [-f] [-k] [-r FILE] SYSCALL[,SYSCALL...] N ACTION COMMAND "
            "[ARG...]\n");
}

int main(int argc, char **argv)
{
    struct fault f = {0};
    const char *report = NULL;
    bool keep = false;
    int opt;
    while ((opt = getopt(argc, argv, "+afkr:")) != -1) {
        if (opt == 'a')
            f.disarmed = true;
        else if (opt == 'f')
            f.from_nth = true;
        else if (opt == 'k')
            keep = true;
        else if (opt == 'r')
            report = optarg;
        else {
            usage();
            return 2;
        }
    }
    if (argc - optind < 4) {
        usage();
        return 2;
    }
    char *list = argv[optind];
    char *end;
    errno = 0;
    f.nth = strtoul(argv[optind + 1], &end, 10);
    if (errno || *end || end == argv[optind + 1]) {
        fprintf(stderr, "fault-syscall: bad N %s\n", argv[optind + 1]);
        return 2;
    }
    if (parse_action(argv[optind + 2], &f) < 0 || (f.from_nth && f.action != ACT_ERRNO)) {
        fprintf(stderr, "fault-syscall: bad ACTION %s\n", argv[optind + 2]);
        return 2;
    }
    /* -a's signals, read from a signalfd; COMMAND gets them unblocked. */
    sigset_t usr, old;
    sigemptyset(&usr);
    sigaddset(&usr, SIGUSR1);
    sigaddset(&usr, SIGUSR2);
    int sfd = -1;
    if (f.disarmed) {
        sigprocmask(SIG_BLOCK, &usr, &old);
        sfd = signalfd(-1, &usr, SFD_NONBLOCK | SFD_CLOEXEC);
        if (sfd < 0) {
            perror("fault-syscall: signalfd");
            return 2;
        }
    }
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
        perror("fault-syscall: socketpair");
        return 2;
    }
    pid_t child = fork();
    if (child < 0) {
        perror("fault-syscall: fork");
        return 2;
    }
    if (child == 0) {
        close(sv[0]);
        if (f.disarmed)
            sigprocmask(SIG_SETMASK, &old, NULL);
        run_child(sv[1], list, argv + optind + 3);
    }
    close(sv[1]);
    int listener = recv_fd(sv[0]);
    close(sv[0]);
    if (listener < 0) {
        int status;
        waitpid(child, &status, 0);
        return 2;
    }
    int rc = supervise(listener, child, sfd, report, &f);
    write_report(report, &f);
    if (keep)
        keep_answering(listener);
    return rc < 0 ? 2 : rc;
}
