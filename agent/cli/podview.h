/* SPDX-License-Identifier: Apache-2.0 */
/* Stored objects the way the API server returns them (kubectl's -o json|yaml, describe): the
 * applied object with metadata.namespace/uid/creationTimestamp, a pod's spec with the API
 * server's defaults and its status in the core/v1 shape, from the shim's status. */
#ifndef PODRUN_AGENT_PODVIEW_H
#define PODRUN_AGENT_PODVIEW_H

#include "json.h"
#include "pods/pods.h"

void podview_gen(yajl_gen g, const char *resource, const struct pods_entry *e);
/* The same as a tree (to be freed with yajl_tree_free). */
int podview_tree(const char *resource, const struct pods_entry *e, yajl_val *out, pr_error **err);
void podview_rfc3339(long long t, char buf[32]);
/* kubectl's text of a label selector ({matchLabels, matchExpressions}): the requirements
 * sorted, "app=web,tier in (a,b)". Freshly allocated. */
char *podview_selector_text(yajl_val sel);

#endif
