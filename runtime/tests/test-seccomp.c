/* SPDX-License-Identifier: Apache-2.0 */
/* linux.seccomp: profile errors name the field, and the filters built behave as the
 * runtime-spec (and runc) say. Behaviour is checked by loading the filter in a forked child and
 * calling the filtered syscalls there. */
#include "json.h"
#include "seccomp.h"
#include "tests/lib/unit.h"
#include "util.h"

#include <seccomp-libseccomp.h>

#include <signal.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>

/* Parses profile_json and runs rt_seccomp_prepare; returns its result, *msg the error text. */
static int prepare(const char *profile_json, struct rt_seccomp **out, char **msg)
{
    yajl_val v = NULL;
    pr_error *err = NULL;
    *out = NULL;
    if (msg)
        *msg = NULL;
    if (json_parse(profile_json, "test profile", &v, &err) < 0) {
        fprintf(stderr, "# bad test JSON: %s\n", err->msg);
        pr_error_free(err);
        return -999;
    }
    int r = rt_seccomp_prepare(v, out, &err);
    if (r < 0 && msg)
        *msg = xstrdup(err ? err->msg : "(no message)");
    else if (r < 0)
        fprintf(stderr, "# prepare failed: %s\n", err ? err->msg : "?");
    pr_error_free(err);
    yajl_tree_free(v);
    return r;
}

static void check_error(const char *profile_json, const char *expected)
{
    struct rt_seccomp *s = NULL;
    char *msg = NULL;
    int r = prepare(profile_json, &s, &msg);
    CHECK(r < 0);
    CHECK(s == NULL);
    CHECK_STR(msg, expected);
    free(msg);
    rt_seccomp_free(s);
}

/* Loads s in a forked child (no_new_privs set, so it works without CAP_SYS_ADMIN too), then
 * runs probe there; returns the child's wait status. probe's return value is the exit code. */
static int run_filtered(struct rt_seccomp *s, int (*probe)(void))
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        pr_error *err = NULL;
        int fd;
        prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
        if (rt_seccomp_load(s, &fd, &err) < 0) {
            fprintf(stderr, "# load: %s\n", err->msg);
            _exit(100);
        }
        /* The raw exit_group: sanitizers hook _exit with work (leak checks) that a filter
         * refusing most syscalls would break. */
        syscall(SYS_exit_group, probe());
    }
    int status = 0;
    waitpid(pid, &status, 0);
    return status;
}

static int exit_code(int status)
{
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void test_null_profile_is_no_filter(void)
{
    struct rt_seccomp *s = (struct rt_seccomp *)&s;
    pr_error *err = NULL;
    CHECK(rt_seccomp_prepare(NULL, &s, &err) == 0);
    CHECK(s == NULL);
    int fd = 123;
    CHECK(rt_seccomp_load(NULL, &fd, &err) == 0);
    CHECK(fd == -1);
    CHECK(rt_seccomp_listener_path(NULL) == NULL);
    pr_error_free(err);
}

static void test_unknown_action(void)
{
    check_error("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":["
                "{\"names\":[\"getpid\"],\"action\":\"SCMP_ACT_ERRNO\"},"
                "{\"names\":[\"getppid\"],\"action\":\"SCMP_ACT_FOO\"}]}",
                "linux.seccomp.syscalls[1].action: unknown action \"SCMP_ACT_FOO\"");
    check_error("{\"defaultAction\":\"SCMP_ACT_NOPE\"}",
                "linux.seccomp.defaultAction: unknown action \"SCMP_ACT_NOPE\"");
}

static void test_missing_fields(void)
{
    check_error("{\"syscalls\":[]}", "linux.seccomp.defaultAction: required");
    check_error(
        "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"action\":\"SCMP_ACT_LOG\"}]}",
        "linux.seccomp.syscalls[0].names: required");
    check_error("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"getpid\"]}]}",
                "linux.seccomp.syscalls[0].action: required");
    check_error("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"getpid\"],"
                "\"action\":\"SCMP_ACT_ERRNO\",\"args\":[{\"value\":1,\"op\":\"SCMP_CMP_EQ\"}]}]}",
                "linux.seccomp.syscalls[0].args[0].index: required");
    check_error("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"getpid\"],"
                "\"action\":\"SCMP_ACT_ERRNO\",\"args\":[{\"index\":0,\"op\":\"SCMP_CMP_EQ\"}]}]}",
                "linux.seccomp.syscalls[0].args[0].value: required");
    check_error("[1]", "linux.seccomp: expected object, got array");
}

static void test_unknown_operator(void)
{
    check_error("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"kill\"],"
                "\"action\":\"SCMP_ACT_ERRNO\",\"args\":["
                "{\"index\":0,\"value\":1,\"op\":\"SCMP_CMP_EQ\"},"
                "{\"index\":1,\"value\":1,\"op\":\"SCMP_CMP_BETWEEN\"}]}]}",
                "linux.seccomp.syscalls[0].args[1].op: unknown operator \"SCMP_CMP_BETWEEN\"");
}

static void test_arg_index_out_of_range(void)
{
    check_error("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"kill\"],"
                "\"action\":\"SCMP_ACT_ERRNO\",\"args\":[{\"index\":6,\"value\":1,"
                "\"op\":\"SCMP_CMP_EQ\"}]}]}",
                "linux.seccomp.syscalls[0].args[0].index: 6 out of range (0-5)");
}

static void test_unknown_arch(void)
{
    check_error("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"architectures\":[\"SCMP_ARCH_X86_64\","
                "\"SCMP_ARCH_VAX\"]}",
                "linux.seccomp.architectures[1]: unknown architecture \"SCMP_ARCH_VAX\"");
}

static void test_known_archs_accepted(void)
{
    struct rt_seccomp *s = NULL;
    /* The native arch is already in the filter: naming it again must not fail. */
    CHECK(prepare("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"architectures\":[\"SCMP_ARCH_X86_64\","
                  "\"SCMP_ARCH_X86\",\"SCMP_ARCH_X32\",\"SCMP_ARCH_AARCH64\"],\"syscalls\":["
                  "{\"names\":[\"getppid\"],\"action\":\"SCMP_ACT_ERRNO\"}]}",
                  &s, NULL) == 0);
    CHECK(s != NULL);
    rt_seccomp_free(s);
}

static void test_flags(void)
{
    check_error("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"flags\":[\"SECCOMP_FILTER_FLAG_FOO\"]}",
                "linux.seccomp.flags[0]: unknown flag \"SECCOMP_FILTER_FLAG_FOO\"");
#if SCMP_VER_MAJOR == 2 && SCMP_VER_MINOR < 6
    struct rt_seccomp *s = NULL;
    char *msg = NULL;
    CHECK(prepare("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"flags\":[\"SECCOMP_FILTER_FLAG_TSYNC\","
                  "\"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV\"]}",
                  &s, &msg) < 0);
    CHECK(msg && strstr(msg, "linux.seccomp.flags[1]: SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV is "
                             "not supported by libseccomp"));
    free(msg);
#endif
    struct rt_seccomp *ok = NULL;
    CHECK(prepare("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"flags\":[\"SECCOMP_FILTER_FLAG_TSYNC\","
                  "\"SECCOMP_FILTER_FLAG_LOG\",\"SECCOMP_FILTER_FLAG_SPEC_ALLOW\"]}",
                  &ok, NULL) == 0);
    rt_seccomp_free(ok);
}

static void test_errno_ret_only_for_errno_actions(void)
{
    check_error("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"getpid\"],"
                "\"action\":\"SCMP_ACT_KILL\",\"errnoRet\":5}]}",
                "linux.seccomp.syscalls[0].errnoRet: not allowed with SCMP_ACT_KILL (only "
                "SCMP_ACT_ERRNO and SCMP_ACT_TRACE)");
    check_error("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"defaultErrnoRet\":1}",
                "linux.seccomp.defaultErrnoRet: not allowed with SCMP_ACT_ALLOW (only "
                "SCMP_ACT_ERRNO and SCMP_ACT_TRACE)");
    check_error("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"getpid\"],"
                "\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":70000}]}",
                "linux.seccomp.syscalls[0].errnoRet: 70000 out of range (0-65535)");
}

static void test_notify_rules(void)
{
    check_error("{\"defaultAction\":\"SCMP_ACT_NOTIFY\",\"listenerPath\":\"/x\"}",
                "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default");
    check_error("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"getppid\"],"
                "\"action\":\"SCMP_ACT_NOTIFY\"}]}",
                "linux.seccomp.listenerPath: required when SCMP_ACT_NOTIFY is used");
    check_error("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"listenerPath\":\"/x\",\"syscalls\":["
                "{\"names\":[\"getppid\",\"write\"],\"action\":\"SCMP_ACT_NOTIFY\"}]}",
                "linux.seccomp.syscalls[0]: SCMP_ACT_NOTIFY cannot be used for \"write\"");
}

/* --- behaviour --- */

static int probe_getppid_errno(void)
{
    errno = 0;
    long r = syscall(SYS_getppid);
    return r == -1 ? errno : 0;
}

static void test_unknown_syscall_ignored(void)
{
    struct rt_seccomp *s = NULL;
    /* The unknown name is skipped; the rest of the entry still applies. */
    CHECK(prepare("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":"
                  "[\"no_such_syscall_podrun\",\"getppid\"],\"action\":\"SCMP_ACT_ERRNO\","
                  "\"errnoRet\":55}]}",
                  &s, NULL) == 0);
    CHECK(s != NULL);
    if (s)
        CHECK(exit_code(run_filtered(s, probe_getppid_errno)) == 55);
    rt_seccomp_free(s);
}

static void test_errno_default_eperm(void)
{
    struct rt_seccomp *s = NULL;
    CHECK(prepare("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"getppid\"],"
                  "\"action\":\"SCMP_ACT_ERRNO\"}]}",
                  &s, NULL) == 0);
    if (s)
        CHECK(exit_code(run_filtered(s, probe_getppid_errno)) == EPERM);
    rt_seccomp_free(s);
}

static int probe_personality(void)
{
    /* bit 0: personality(0x1234) refused, bit 1: personality(0x5678) refused,
     * bit 2: personality(0xffffffff) (a query) refused. */
    int bits = 0;
    if (syscall(SYS_personality, 0x1234UL) == -1 && errno == 77)
        bits |= 1;
    if (syscall(SYS_personality, 0x5678UL) == -1 && errno == 77)
        bits |= 2;
    if (syscall(SYS_personality, 0xffffffffUL) == -1)
        bits |= 4;
    return bits;
}

static void test_args_same_index_are_alternatives(void)
{
    struct rt_seccomp *s = NULL;
    CHECK(prepare("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":"
                  "[\"personality\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":77,\"args\":["
                  "{\"index\":0,\"value\":4660,\"op\":\"SCMP_CMP_EQ\"},"
                  "{\"index\":0,\"value\":22136,\"op\":\"SCMP_CMP_EQ\"}]}]}",
                  &s, NULL) == 0);
    /* OR: both values refused, anything else allowed. (AND could never match.) */
    if (s)
        CHECK(exit_code(run_filtered(s, probe_personality)) == 3);
    rt_seccomp_free(s);
}

static int probe_getpriority(void)
{
    /* bit 0: (PRIO_PROCESS, 0) refused; bit 1: (PRIO_PGRP, 0) refused;
     * bit 2: (PRIO_PROCESS, getpid()) refused. */
    int bits = 0;
    if (syscall(SYS_getpriority, PRIO_PROCESS, 0) == -1 && errno == 78)
        bits |= 1;
    if (syscall(SYS_getpriority, PRIO_PGRP, 0) == -1 && errno == 78)
        bits |= 2;
    if (syscall(SYS_getpriority, PRIO_PROCESS, getpid()) == -1 && errno == 78)
        bits |= 4;
    return bits;
}

static void test_args_different_indexes_all_must_match(void)
{
    struct rt_seccomp *s = NULL;
    char *json = xasprintf("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":"
                           "[\"getpriority\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":78,"
                           "\"args\":[{\"index\":0,\"value\":%d,\"op\":\"SCMP_CMP_EQ\"},"
                           "{\"index\":1,\"value\":0,\"op\":\"SCMP_CMP_EQ\"}]}]}",
                           PRIO_PROCESS);
    CHECK(prepare(json, &s, NULL) == 0);
    /* AND: only the call matching both conditions is refused. */
    if (s)
        CHECK(exit_code(run_filtered(s, probe_getpriority)) == 1);
    free(json);
    rt_seccomp_free(s);
}

static int probe_masked(void)
{
    /* bit 0: personality(0x0108) refused (0x0108 & 0x00ff == 0x08);
     * bit 1: personality(0x0109) refused. */
    int bits = 0;
    if (syscall(SYS_personality, 0x0108UL) == -1 && errno == 79)
        bits |= 1;
    if (syscall(SYS_personality, 0x0109UL) == -1 && errno == 79)
        bits |= 2;
    return bits;
}

static void test_masked_eq_uses_value_as_mask(void)
{
    struct rt_seccomp *s = NULL;
    CHECK(prepare("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":"
                  "[\"personality\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":79,\"args\":["
                  "{\"index\":0,\"value\":255,\"valueTwo\":8,\"op\":\"SCMP_CMP_MASKED_EQ\"}]}]}",
                  &s, NULL) == 0);
    if (s)
        CHECK(exit_code(run_filtered(s, probe_masked)) == 1);
    rt_seccomp_free(s);
}

static int probe_kill(void)
{
    syscall(SYS_getppid);
    return 0;
}

static void test_kill_process_action(void)
{
    struct rt_seccomp *s = NULL;
    CHECK(prepare("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"getppid\"],"
                  "\"action\":\"SCMP_ACT_KILL_PROCESS\"}]}",
                  &s, NULL) == 0);
    if (s) {
        int st = run_filtered(s, probe_kill);
        CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS);
    }
    rt_seccomp_free(s);
}

static int probe_getpid_errno(void)
{
    errno = 0;
    long r = syscall(SYS_getpid);
    return r == -1 ? errno : 0;
}

static void test_default_errno_ret(void)
{
    struct rt_seccomp *s = NULL;
    /* Everything but exiting fails with 66. The getppid rule repeats the default action,
     * which libseccomp would refuse: it must be skipped rather than be an error. */
    CHECK(prepare("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":66,\"syscalls\":["
                  "{\"names\":[\"exit_group\",\"exit\"],\"action\":\"SCMP_ACT_ALLOW\"},"
                  "{\"names\":[\"getppid\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":66}]}",
                  &s, NULL) == 0);
    if (s)
        CHECK(exit_code(run_filtered(s, probe_getpid_errno)) == 66);
    rt_seccomp_free(s);
}

/* NOTIFY end to end: the child loads the filter, sends the fd with the state to our socket
 * the way the runtime does, then calls getppid; we answer with 4242. */
static void test_notify_listener(void)
{
    char dir[] = "/tmp/podrun-seccomp-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    _cleanup_free_ char *sock_path = xasprintf("%s/listener.sock", dir);
    _cleanup_free_ char *json =
        xasprintf("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"listenerPath\":\"%s\","
                  "\"listenerMetadata\":\"hello\",\"syscalls\":[{\"names\":[\"getppid\"],"
                  "\"action\":\"SCMP_ACT_NOTIFY\"}]}",
                  sock_path);
    struct rt_seccomp *s = NULL;
    CHECK(prepare(json, &s, NULL) == 0);
    if (!s)
        goto out;
    CHECK_STR(rt_seccomp_listener_path(s), sock_path);
    CHECK_STR(rt_seccomp_listener_metadata(s), "hello");

    int lsock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    strcpy(addr.sun_path, sock_path);
    CHECK(bind(lsock, (struct sockaddr *)&addr, sizeof(addr)) == 0);
    CHECK(listen(lsock, 1) == 0);

    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        pr_error *err = NULL;
        int fd = -1;
        prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
        if (rt_seccomp_load(s, &fd, &err) < 0 || fd < 0)
            _exit(100);
        char *state = xasprintf("{\"ociVersion\":\"1.1.0\",\"id\":\"c1\",\"status\":\"creating\","
                                "\"pid\":%d,\"bundle\":\"/b\"}",
                                getpid());
        if (rt_seccomp_send_listener(s, fd, state, &err) < 0) {
            fprintf(stderr, "# send: %s\n", err->msg);
            _exit(101);
        }
        close(fd);
        _exit(syscall(SYS_getppid) == 4242 ? 0 : 102);
    }

    int conn = accept4(lsock, NULL, NULL, SOCK_CLOEXEC);
    CHECK(conn >= 0);
    char buf[4096] = "";
    union {
        char b[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } control;
    struct iovec iov = {.iov_base = buf, .iov_len = sizeof(buf) - 1};
    struct msghdr msg = {.msg_iov = &iov,
                         .msg_iovlen = 1,
                         .msg_control = control.b,
                         .msg_controllen = sizeof(control.b)};
    ssize_t n = recvmsg(conn, &msg, MSG_CMSG_CLOEXEC);
    CHECK(n > 0);
    int nfd = -1;
    struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
    if (cmsg && cmsg->cmsg_type == SCM_RIGHTS)
        memcpy(&nfd, CMSG_DATA(cmsg), sizeof(int));
    CHECK(nfd >= 0);

    yajl_val st = NULL;
    pr_error *err = NULL;
    CHECK(json_parse(buf, "listener message", &st, &err) == 0);
    if (st) {
        yajl_val fds = json_get(st, "fds");
        CHECK(json_array_len(fds) == 1 && YAJL_IS_STRING(json_array_at(fds, 0)) &&
              streq(json_array_at(fds, 0)->u.string, "seccompFd"));
        CHECK(YAJL_IS_INTEGER(json_get(st, "pid")) && YAJL_GET_INTEGER(json_get(st, "pid")) == pid);
        CHECK(YAJL_IS_STRING(json_get(st, "metadata")) &&
              streq(json_get(st, "metadata")->u.string, "hello"));
        CHECK(YAJL_IS_STRING(json_get(st, "ociVersion")));
        yajl_val inner = json_get(st, "state");
        CHECK(YAJL_IS_STRING(json_get(inner, "id")) &&
              streq(json_get(inner, "id")->u.string, "c1"));
        yajl_tree_free(st);
    }
    pr_error_free(err);

    if (nfd >= 0) {
        struct seccomp_notif *req = NULL;
        struct seccomp_notif_resp *resp = NULL;
        CHECK(seccomp_notify_alloc(&req, &resp) == 0);
        if (req && seccomp_notify_receive(nfd, req) == 0) {
            CHECK(req->data.nr == seccomp_syscall_resolve_name("getppid"));
            resp->id = req->id;
            resp->val = 4242;
            resp->error = 0;
            resp->flags = 0;
            CHECK(seccomp_notify_respond(nfd, resp) == 0);
        } else {
            CHECK(!"seccomp_notify_receive failed");
        }
        seccomp_notify_free(req, resp);
        close(nfd);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    if (conn >= 0)
        close(conn);
    close(lsock);
    rt_seccomp_free(s);
out:
    unlink(sock_path);
    rmdir(dir);
}

static bool array_has(yajl_val arr, const char *s)
{
    for (size_t i = 0; i < json_array_len(arr); i++)
        if (YAJL_IS_STRING(json_array_at(arr, i)) && streq(json_array_at(arr, i)->u.string, s))
            return true;
    return false;
}

static void test_features(void)
{
    yajl_gen g = json_gen_new(false);
    rt_seccomp_features(g);
    size_t len;
    const char *buf = jg_buf(g, &len);
    char *text = strndup(buf, len);
    yajl_gen_free(g);
    yajl_val v = NULL;
    pr_error *err = NULL;
    CHECK(json_parse(text, "features", &v, &err) == 0);
    CHECK(YAJL_IS_TRUE(json_get(v, "enabled")));
    CHECK(json_array_len(json_get(v, "actions")) == 9);
    CHECK(array_has(json_get(v, "actions"), "SCMP_ACT_KILL_PROCESS"));
    CHECK(array_has(json_get(v, "actions"), "SCMP_ACT_NOTIFY"));
    CHECK(json_array_len(json_get(v, "operators")) == 7);
    CHECK(array_has(json_get(v, "operators"), "SCMP_CMP_MASKED_EQ"));
    CHECK(array_has(json_get(v, "archs"), "SCMP_ARCH_X86_64"));
    CHECK(array_has(json_get(v, "archs"), "SCMP_ARCH_AARCH64"));
    CHECK(array_has(json_get(v, "knownFlags"), "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"));
    /* Any kernel with seccomp filters has TSYNC (3.17). */
    CHECK(array_has(json_get(v, "supportedFlags"), "SECCOMP_FILTER_FLAG_TSYNC"));
#if SCMP_VER_MAJOR == 2 && SCMP_VER_MINOR < 6
    CHECK(!array_has(json_get(v, "supportedFlags"), "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"));
#endif
    if (v)
        yajl_tree_free(v);
    pr_error_free(err);
    free(text);
}

int main(void)
{
    RUN(test_null_profile_is_no_filter);
    RUN(test_unknown_action);
    RUN(test_missing_fields);
    RUN(test_unknown_operator);
    RUN(test_arg_index_out_of_range);
    RUN(test_unknown_arch);
    RUN(test_known_archs_accepted);
    RUN(test_flags);
    RUN(test_errno_ret_only_for_errno_actions);
    RUN(test_notify_rules);
    RUN(test_unknown_syscall_ignored);
    RUN(test_errno_default_eperm);
    RUN(test_args_same_index_are_alternatives);
    RUN(test_args_different_indexes_all_must_match);
    RUN(test_masked_eq_uses_value_as_mask);
    RUN(test_kill_process_action);
    RUN(test_default_errno_ret);
    RUN(test_notify_listener);
    RUN(test_features);
    UNIT_DONE();
}
