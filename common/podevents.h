/* SPDX-License-Identifier: Apache-2.0 */
/* A pod's events as Kubernetes' event recorder keeps them (core/v1 Event: type, reason,
 * message, source component, the container's fieldPath, count, first and last time), in a
 * bounded file of the pod's directories. The pod manager writes one (Scheduled, Pulling,
 * Pulled, Failed) and the pod's shim another (Created, Started, Killing, BackOff, Unhealthy,
 * OOMKilling): each file has one writer, which rewrites it atomically (DESIGN.md §2). A repeated
 * event is aggregated as the recorder aggregates it: same type, reason, message, component and
 * fieldPath make the count grow and move the last time. */
#ifndef PODRUN_PODEVENTS_H
#define PODRUN_PODEVENTS_H

#include "error.h"

#include <stddef.h>
#include <stdint.h>

/* Distinct (aggregated) events one file keeps; recording past it drops the one seen least
 * recently, as the API server's TTL would have dropped the oldest. */
#define PODEVENTS_MAX 64
/* A message is cut here (the API server refuses a longer events.k8s.io note). */
#define PODEVENTS_MESSAGE_MAX 1024
/* reason, type, component and fieldPath are cut here. */
#define PODEVENTS_FIELD_MAX 128
/* The file is read whole up to this (regular file only): PODEVENTS_MAX events of the largest
 * size are ~90 KiB. */
#define PODEVENTS_FILE_MAX ((size_t)256 << 10)
#define PODEVENTS_FILE     "events.json"

struct podevent {
    char *type;   /* Normal | Warning */
    char *reason; /* Scheduled, Pulling, ... */
    char *message;
    char *component;  /* source.component: kubelet, default-scheduler */
    char *field_path; /* involvedObject.fieldPath: spec.containers{NAME}, or NULL */
    unsigned count;
    uint64_t first_usec, last_usec; /* CLOCK_REALTIME */
};

struct podevents {
    struct podevent *v;
    size_t n;
};

/* Reads path; a missing file is no events. Entries that are not events are skipped. */
int podevents_load(const char *path, struct podevents *out, pr_error **err);
/* Adds one occurrence at now_usec (aggregated with an equal event). field_path may be NULL. */
void podevents_record(struct podevents *e, const char *type, const char *reason,
                      const char *component, const char *field_path, uint64_t now_usec,
                      const char *message);
/* Writes every event to path atomically (not fsync'd: events are a record, not state). */
int podevents_save(const char *path, const struct podevents *e, pr_error **err);
void podevents_clear(struct podevents *e);
void podevent_clear(struct podevent *ev);
/* Moves src's events into dst (src is left empty). */
void podevents_take(struct podevents *dst, struct podevents *src);

#endif
