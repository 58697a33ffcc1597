/* SPDX-License-Identifier: Apache-2.0 */
/* linux.seccomp: parsed and compiled in the runtime before any process is made, so a bad rule
 * fails `create` with nothing to undo; loaded by the container's init just before execve. */
#ifndef RT_SECCOMP_H
#define RT_SECCOMP_H

#include "error.h"
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

struct rt_seccomp;

/* seccomp: the linux.seccomp object, or NULL (then *out = NULL: no filter). */
int rt_seccomp_prepare(yajl_val seccomp, struct rt_seccomp **out, pr_error **err);
/* In the child. Loads the filter (no-op for NULL). When the profile uses SCMP_ACT_NOTIFY,
 * *notify_fd receives the listener fd (else -1). */
int rt_seccomp_load(struct rt_seccomp *s, int *notify_fd, pr_error **err);
/* The listenerPath / listenerMetadata of the profile (NULL when none). */
const char *rt_seccomp_listener_path(const struct rt_seccomp *s);
const char *rt_seccomp_listener_metadata(const struct rt_seccomp *s);
/* Sends the notify fd and the container state JSON to listenerPath (runtime-spec's
 * seccomp state object) from the runtime side. */
int rt_seccomp_send_listener(const struct rt_seccomp *s, int notify_fd, const char *state_json,
                             pr_error **err);
void rt_seccomp_free(struct rt_seccomp *s);
/* Emits the value of features.linux.seccomp (an object) per runtime-spec features.md. */
void rt_seccomp_features(yajl_gen g);

#endif
