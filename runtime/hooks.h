/* SPDX-License-Identifier: Apache-2.0 */
/* OCI hooks: each runs with the container state on stdin, its own args and env, and an
 * optional timeout after which it is killed and counts as failed. */
#ifndef RT_HOOKS_H
#define RT_HOOKS_H

#include "error.h"
#include <yajl/yajl_tree.h>

/* Runs hooks.<kind> in order; stops at the first failure. hooks may be NULL. */
int rt_hooks_run(yajl_val hooks, const char *kind, const char *state_json, pr_error **err);
/* For poststart and poststop, whose failures the spec makes warnings: runs every hook and
 * logs a warning for each one that fails. */
void rt_hooks_run_warn(yajl_val hooks, const char *kind, const char *state_json);

#endif
