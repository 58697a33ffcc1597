/* SPDX-License-Identifier: Apache-2.0 */
/* Making a socket inside another network namespace. A socket stays in the namespace it was
 * made in, so the thread enters the target, makes it and comes straight back: nothing else
 * runs while the thread is away. */
#ifndef PODRUN_NETNS_H
#define PODRUN_NETNS_H

#include "error.h"

/* Returns a new socket(domain, type, protocol) made inside the network namespace netns_fd, or a
 * negative errno. home_fd is the namespace to come back to (the caller's, opened once by a
 * long-lived process); -1 opens /proc/thread-self/ns/net for this call. Failing to come back
 * aborts: carrying on in the wrong namespace would configure or probe the wrong node. */
int netns_socket(int netns_fd, int home_fd, int domain, int type, int protocol, pr_error **err);

#endif
