/* SPDX-License-Identifier: Apache-2.0 */
/* process.capabilities: the five sets by name, applied with libcap. */
#ifndef RT_CAPS_H
#define RT_CAPS_H

#include "error.h"
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

struct rt_caps;

/* caps: process.capabilities object or NULL (NULL: drop every capability, as runc does when the
 * object is absent). Unknown capability names are an error naming the set and the name;
 * capabilities the running kernel lacks are skipped with a warning. */
int rt_caps_parse(yajl_val caps, struct rt_caps **out, pr_error **err);
/* Step 1, still as root: drop what is not in the bounding set. */
int rt_caps_apply_bounding(const struct rt_caps *c, pr_error **err);
/* Step 2, after setgroups/setgid/setuid (done with PR_SET_KEEPCAPS): effective, permitted,
 * inheritable, then ambient. */
int rt_caps_apply(const struct rt_caps *c, pr_error **err);
void rt_caps_free(struct rt_caps *c);
/* Emits the array of known capability names ("CAP_CHOWN", ...) for features.linux.capabilities. */
void rt_caps_features(yajl_gen g);

#endif
