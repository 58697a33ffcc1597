/* SPDX-License-Identifier: Apache-2.0 */
/* The names cgroup files and mounts hold: one list of v1 controllers for the runtime, the pod
 * manager and the shim, so that no part knows a controller another does not. */
#ifndef PODRUN_CGROUP_NAMES_H
#define PODRUN_CGROUP_NAMES_H

#include "error.h"

#include <stdbool.h>

/* Whether word is an item of list, whose items are separated by commas, blanks or newlines
 * (a v1 mount's options, cgroup.controllers, /proc/PID/cgroup's second field). */
bool cgroup_in_list(const char *list, const char *word);

/* The controllers (and name=) part of a v1 cgroup mount's super options, comma-separated in
 * their order there; NULL when it names none (a v1 mount of nothing podrun knows). */
char *cgroup_v1_controllers(const char *superopts);

/* The cgroup directory of a systemd slice, relative to the hierarchy's root, as systemd lays
 * it out: each '-' opens a parent slice (a-b-c.slice is /a.slice/a-b.slice/a-b-c.slice),
 * -.slice is the root (""). A name that is not a slice systemd would accept is an error: longer
 * than CGROUP_UNIT_NAME_MAX, or with a character other than [A-Za-z0-9:_.\-]. */
#define CGROUP_UNIT_NAME_MAX 255 /* systemd's UNIT_NAME_MAX, less its NUL */
int cgroup_slice_path(const char *slice, char **out, pr_error **err);
/* Whether name ends in ".slice" (what tells a systemd slice from a cgroupfs path). */
bool cgroup_is_slice_name(const char *name);

#endif
