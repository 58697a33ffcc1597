/* SPDX-License-Identifier: Apache-2.0 */
/* process.terminal: the container's init (or exec'd process) allocates a pty inside the
 * container's devpts, makes it its controlling terminal, and hands the master to the caller
 * through --console-socket (SCM_RIGHTS), as runc does. */
#ifndef RT_TERMINAL_H
#define RT_TERMINAL_H

#include "error.h"
#include <stdbool.h>

/* In the child: opens a new pty, sends the master over sync, and makes the slave its stdio and
 * controlling terminal. bind_console: also bind the slave over /dev/console. */
int rt_terminal_setup(int sync_sock, unsigned rows, unsigned cols, bool bind_console,
                      pr_error **err);
/* In the runtime: passes master to the socket at path. */
int rt_terminal_send_to_socket(const char *path, int master, pr_error **err);
/* In the runtime, when no console socket was given to a foreground `run`/`exec`: copies
 * between our stdio and master until the process exits. */
int rt_terminal_proxy(int master, pr_error **err);

#endif
