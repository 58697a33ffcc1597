/* CVE-2019-5736: a container process must never be able to reach the runtime's binary on the
 * host through /proc/PID/exe and write to it. Commands that put a process into a container
 * first re-execute the runtime from a sealed, read-only memfd copy of itself. */
#ifndef RT_CLONED_BINARY_H
#define RT_CLONED_BINARY_H

#include "error.h"

/* Returns 0 when already running from a sealed copy; otherwise execs one and does not return
 * unless that fails. */
int rt_ensure_cloned_binary(char **argv, pr_error **err);
/* Whether /proc/self/exe is a sealed memfd. */
int rt_is_cloned_binary(void);

#endif
