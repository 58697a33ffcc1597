/* SPDX-License-Identifier: Apache-2.0 */
/* pods_exec (agent/pods/exec.c): its helper starts with the signal state a new program expects,
 * whatever the caller's (podrun serve ignores SIGPIPE and blocks SIGTERM), and a run never
 * touches the caller's SIGPIPE disposition, which its other threads share. */
#include "pods/manager.h"
#include "tests/lib/unit.h"
#include "util.h"

#include <signal.h>

static volatile sig_atomic_t sigpipes;

static void count_sigpipe(int sig)
{
    (void)sig;
    sigpipes++;
}

/* The hex mask of a "Name:\t0000..." line of /proc/PID/status text. */
static unsigned long long status_mask(const char *text, const char *name)
{
    const char *p = strstr(text, name);
    return p ? strtoull(p + strlen(name), NULL, 16) : ~0ULL;
}

static void test_child_gets_default_signals(void)
{
    struct sigaction ign = {.sa_handler = SIG_IGN}, old;
    sigaction(SIGPIPE, &ign, &old);
    sigset_t term, was;
    sigemptyset(&term);
    sigaddset(&term, SIGTERM);
    sigprocmask(SIG_BLOCK, &term, &was);
    char *argv[] = {(char *)"cat", (char *)"/proc/self/status", NULL};
    _cleanup_free_ char *out = NULL, *errout = NULL;
    int status = -1;
    pr_error *err = NULL;
    int r = pods_exec(argv, NULL, NULL, 0, 10, &out, &errout, &status, &err);
    sigprocmask(SIG_SETMASK, &was, NULL);
    sigaction(SIGPIPE, &old, NULL);
    CHECK(r == 0);
    CHECK(status == 0);
    if (r < 0) {
        pr_error_free(err);
        return;
    }
    CHECK((status_mask(out, "\nSigIgn:") & (1ULL << (SIGPIPE - 1))) == 0);
    CHECK(status_mask(out, "\nSigBlk:") == 0);
}

static void test_run_keeps_our_sigpipe_handler(void)
{
    struct sigaction count = {.sa_handler = count_sigpipe}, old, now;
    sigaction(SIGPIPE, &count, &old);
    sigpipes = 0;
    /* The helper signals us while the run waits for it: our handler, not an ignore put in its
     * place for the run, gets it. */
    char *argv[] = {(char *)"sh", (char *)"-c", (char *)"kill -PIPE $PPID", NULL};
    int status = -1;
    pr_error *err = NULL;
    int r = pods_exec(argv, NULL, NULL, 0, 10, NULL, NULL, &status, &err);
    sigaction(SIGPIPE, NULL, &now);
    sigaction(SIGPIPE, &old, NULL);
    CHECK(r == 0);
    CHECK(status == 0);
    CHECK(sigpipes == 1);
    CHECK(now.sa_handler == count_sigpipe);
    pr_error_free(err);
}

static void test_input_unread_or_read_as_a_file(void)
{
    /* SIGPIPE at its default: a helper that leaves its input unread must not kill us. */
    struct sigaction dfl = {.sa_handler = SIG_DFL}, old;
    sigaction(SIGPIPE, &dfl, &old);
    size_t len = 1u << 20;
    _cleanup_free_ char *in = xmalloc(len);
    memset(in, 'x', len);
    char *unread[] = {(char *)"true", NULL};
    int status = -1;
    pr_error *err = NULL;
    CHECK(pods_exec(unread, NULL, in, len, 10, NULL, NULL, &status, &err) == 0);
    CHECK(status == 0);
    pr_error_free(err);
    err = NULL;
    /* Read whole, also by a helper that opens /dev/stdin (the runtime's `update -r -`). */
    char *reopen[] = {(char *)"sh", (char *)"-c", (char *)"cat /dev/stdin", NULL};
    _cleanup_free_ char *out = NULL;
    CHECK(pods_exec(reopen, NULL, "hello\n", 6, 10, &out, NULL, &status, &err) == 0);
    CHECK(status == 0);
    CHECK_STR(out, "hello\n");
    pr_error_free(err);
    sigaction(SIGPIPE, &old, NULL);
}

int main(void)
{
    RUN(test_child_gets_default_signals);
    RUN(test_run_keeps_our_sigpipe_handler);
    RUN(test_input_unread_or_read_as_a_file);
    UNIT_DONE();
}
