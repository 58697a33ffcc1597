/* SPDX-License-Identifier: Apache-2.0 */
#include "netns.h"
#include "util.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/socket.h>

int netns_socket(int netns_fd, int home_fd, int domain, int type, int protocol, pr_error **err)
{
    _cleanup_close_ int own_home = -1;
    if (home_fd < 0) {
        own_home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
        if (own_home < 0)
            return pr_err(err, errno, "opening /proc/thread-self/ns/net");
        home_fd = own_home;
    }
    if (setns(netns_fd, CLONE_NEWNET) < 0)
        return pr_err(err, errno, "entering the network namespace");
    int fd = socket(domain, type, protocol);
    int e = errno;
    if (setns(home_fd, CLONE_NEWNET) < 0)
        abort();
    if (fd < 0)
        return pr_err(err, e, "socket in the network namespace");
    return fd;
}
