/* SPDX-License-Identifier: Apache-2.0 */
/* Pods' events as kubectl shows them: v1 Event objects (-o json|yaml), `get events`' table
 * and the Events section of `describe pod`. */
#ifndef PODRUN_AGENT_EVENTVIEW_H
#define PODRUN_AGENT_EVENTVIEW_H

#include "json.h"
#include "pods/pods.h"

#include <stdbool.h>

/* kubectl's HumanDuration of now - since: 45s, 2m30s, 5m, 3h20m, 10h, 4d5h, 30d, 2y40d. */
void human_duration(long long since, char buf[32]);
/* kubectl's time of an RFC 3339 UTC stamp: "Mon, 02 Jan 2006 15:04:05 -0700", local time. */
void human_time(const char *rfc3339, char buf[64]);
/* The event's name as the recorder makes it: POD.<first time in nanoseconds, hex>. */
char *eventview_name(const struct pods_event *e);
/* One v1 Event object. */
void eventview_gen(yajl_gen g, const struct pods_event *e);
/* KIND/NAME of what the event is about (pod/web, deployment/web). */
char *eventview_object(const struct pods_event *e);
/* `get events`' table (LAST SEEN TYPE REASON OBJECT MESSAGE, and more with wide). */
void eventview_table(const struct pods_events *l, bool all, bool wide);
/* `describe pod`'s Events section: the events of the pod uid, by last time. */
void eventview_describe(const struct pods_events *l, const char *uid);
/* The same for a describer whose "Events:  <none>" is padded to none_width (a workload's). */
void eventview_describe_width(const struct pods_events *l, const char *uid, int none_width);

#endif
