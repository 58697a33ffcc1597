/* SPDX-License-Identifier: Apache-2.0 */
/* CVE-2019-5736: a container process must never be able to reach the runtime's binary on the
 * host through /proc/PID/exe and write to it. Whatever execs the container's program runs from
 * a sealed, read-only memfd: either the whole runtime re-executed from a copy of itself, or,
 * where nothing in the container can see the runtime at work (a new container in a new pid
 * namespace, with no hooks running in it), the small init stub (init-stub.c). */
#ifndef RT_CLONED_BINARY_H
#define RT_CLONED_BINARY_H

#include "error.h"

#include <stdbool.h>

/* Returns 0 when already running from a sealed copy; otherwise execs one and does not return
 * unless that fails. */
int rt_ensure_cloned_binary(char **argv, pr_error **err);
/* Whether /proc/self/exe is a sealed memfd. */
int rt_is_cloned_binary(void);

/* Whether this build embeds the init stub (it has a system call entry for the architecture). */
bool rt_init_stub_available(void);
/* A sealed, executable, close-on-exec memfd holding the init stub. */
int rt_init_stub_open(pr_error **err);

#endif
