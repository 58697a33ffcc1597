/* SPDX-License-Identifier: Apache-2.0 */
/* The controller loop's driver (loopdrive.h): the node's lock, signals through a signalfd, and
 * the poll between passes; no timer runs while nothing happens. */
#include "loopdrive.h"
#include "fs.h"
#include "log.h"
#include "util.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <time.h>

#define RETRY_MAX_MS 10000
#define SETTLE_MS    20 /* lets a burst of changes (a pod's files) arrive as one wake-up */

static void drain(int fd)
{
    char buf[4096] __attribute__((aligned(__alignof__(long))));
    while (read(fd, buf, sizeof(buf)) > 0)
        ;
}

/* The poll's timeout: the back-off of a failed pass, or the timer's due time, whichever comes
 * first; -1 for neither. */
static int next_timeout(int retry_ms, int64_t wake_at)
{
    int timeout = retry_ms ? retry_ms : -1;
    if (wake_at) {
        int64_t ms = (wake_at - (int64_t)time(NULL)) * 1000 + 100;
        ms = MAX(ms, 100);
        timeout = timeout < 0 ? (int)MIN(ms, INT32_MAX) : (int)MIN(ms, timeout);
    }
    return timeout;
}

int loop_drive(const char *run_root, loop_pass_fn pass, void *data, pr_error **err)
{
    int r = mkdir_p(run_root, 0700, err);
    if (r < 0)
        return r;
    _cleanup_free_ char *lock = xasprintf("%s/controllers.lock", run_root);
    _cleanup_close_ int lfd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (lfd < 0)
        return pr_err(err, errno, "open `%s`", lock);
    if (flock(lfd, LOCK_EX | LOCK_NB) < 0) {
        if (errno == EWOULDBLOCK) {
            pr_info("a controller loop already runs on this node");
            return 0;
        }
        return pr_err(err, errno, "lock `%s`", lock);
    }
    /* The lock file says who holds it, for a user (and a test's teardown) to find. */
    char pid[32];
    int n = snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
    if (ftruncate(lfd, 0) < 0 || pwrite(lfd, pid, (size_t)n, 0) != n)
        return pr_err(err, errno, "write `%s`", lock);
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
        return pr_err(err, errno, "block SIGTERM and SIGINT");
    _cleanup_close_ int sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
    if (sfd < 0)
        return pr_err(err, errno, "signalfd");
    pr_info("controller loop running (pid %d)", (int)getpid());
    int retry_ms = 0;
    for (;;) {
        _cleanup_error_ pr_error *e = NULL;
        _cleanup_close_ int watch = -1;
        bool workloads = true;
        int64_t wake_at = 0;
        r = pass(data, &watch, &workloads, &wake_at, &e);
        if (r < 0) {
            /* A pod that cannot start now (its image, the node's room) is retried later. */
            pr_warning("reconcile: %s", e && e->msg ? e->msg : strerror(-r));
            retry_ms = retry_ms ? MIN(retry_ms * 2, RETRY_MAX_MS) : 500;
        } else {
            retry_ms = 0;
        }
        if (r == 0 && !workloads) {
            pr_info("no workload left: the controller loop exits");
            return 0;
        }
        struct pollfd p[2] = {{sfd, POLLIN, 0}, {watch, POLLIN, 0}};
        if (poll(p, watch >= 0 ? 2 : 1, next_timeout(retry_ms, wake_at)) < 0 && errno != EINTR)
            return pr_err(err, errno, "poll");
        if (p[0].revents) {
            pr_info("controller loop stopped by a signal");
            return 0;
        }
        if (watch >= 0) {
            usleep(SETTLE_MS * 1000);
            drain(watch);
        }
    }
}
