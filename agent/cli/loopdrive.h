/* SPDX-License-Identifier: Apache-2.0 */
/* The controller loop's driver, which podrun-loop and podrun's own loop (PODRUN_LOOP_IN_PROCESS)
 * share. It uses common/ alone, as podrun-loop links nothing else. */
#ifndef PODRUN_AGENT_LOOPDRIVE_H
#define PODRUN_AGENT_LOOPDRIVE_H

#include "error.h"

#include <stdbool.h>
#include <stdint.h>

/* One pass: *watch an inotify descriptor whose events wake the next one (or -1; the driver
 * closes it), *workloads false when nothing is left to control, *wake_at the time (epoch
 * seconds) a timer is due, 0 for none. */
typedef int (*loop_pass_fn)(void *data, int *watch, bool *workloads, int64_t *wake_at,
                            pr_error **err);

/* Takes RUN_ROOT/controllers.lock (and returns 0 at once when another loop holds it), then
 * runs passes, each when what the last one watches changes, when its timer is due, or after a
 * failed one with back-off, until no workload is left or SIGTERM or SIGINT comes. */
int loop_drive(const char *run_root, loop_pass_fn pass, void *data, pr_error **err);

#endif
