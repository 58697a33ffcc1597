/* SPDX-License-Identifier: Apache-2.0 */
/* Inside libkube: the table-driven decoder from manifest trees into typed objects. A schema
 * lists a type's fields with where each goes; the decoder is strict as `kubectl apply` is by
 * default (an unknown field is an error naming its path) and treats null as unset, as the API
 * server does. Strings are borrowed from the tree, which the typed object keeps. */
#ifndef PODRUN_AGENT_KUBE_SCHEMA_H
#define PODRUN_AGENT_KUBE_SCHEMA_H

#include "kube.h"

#include <stddef.h>

enum kube_field_type {
    KF_STRING,        /* const char * */
    KF_INT64,         /* int64_t, with a `has` bool at has_offset when has_offset != 0 */
    KF_INT32,         /* int32_t, likewise */
    KF_BOOL,          /* bool, likewise */
    KF_STRV,          /* const char ** (NULL-terminated, allocated) */
    KF_MAP,           /* struct kube_map: an object of strings */
    KF_INT_OR_STRING, /* struct kube_int_or_string */
    KF_OBJECT,        /* a struct of the sub-schema's type, embedded; `has` at has_offset */
    KF_LIST,          /* an allocated array of the sub-schema's type, count at count_offset */
    KF_RAW,           /* yajl_val, borrowed: decided on later (a controller, the pod manager) */
    KF_IGNORED,       /* accepted and dropped: it does not change what runs on one node */
    KF_UNSUPPORTED,   /* a real field of a feature podrun lacks: refused by name */
};

struct kube_schema;

struct kube_field {
    const char *name;
    enum kube_field_type type;
    size_t offset;
    const struct kube_schema *sub; /* KF_OBJECT, KF_LIST */
    size_t aux_offset; /* KF_LIST: the size_t count; others: 1 + the `has` bool's, or 0 */
};

struct kube_schema {
    const char *name; /* for messages: "Container" */
    size_t size;
    const struct kube_field *fields; /* ends with a NULL name */
    /* Checks the decoded value; path is the field's ("spec.containers[0]"). May be NULL. */
    int (*validate)(void *obj, const char *path, pr_error **err);
};

#define KUBE_FIELD(type, name, ftype, member)                                                      \
    {                                                                                              \
        name, ftype, offsetof(type, member), NULL, 0                                               \
    }
#define KUBE_FIELD_HAS(type, name, ftype, member, has)                                             \
    {                                                                                              \
        name, ftype, offsetof(type, member), NULL, 1 + offsetof(type, has)                         \
    }
#define KUBE_OBJECT(type, name, member, schema, has)                                               \
    {                                                                                              \
        name, KF_OBJECT, offsetof(type, member), &(schema), 1 + offsetof(type, has)                \
    }
#define KUBE_LIST(type, name, member, schema, count)                                               \
    {                                                                                              \
        name, KF_LIST, offsetof(type, member), &(schema), offsetof(type, count)                    \
    }
#define KUBE_IGNORED(name)                                                                         \
    {                                                                                              \
        name, KF_IGNORED, 0, NULL, 0                                                               \
    }
#define KUBE_FIELDS_END                                                                            \
    {                                                                                              \
        NULL, 0, 0, NULL, 0                                                                        \
    }

extern const struct kube_schema kube_pod_spec_schema;
extern const struct kube_schema kube_service_spec_schema;
extern const struct kube_schema kube_meta_schema;
/* networking.k8s.io/v1 (ingress.c). */
extern const struct kube_schema kube_ingress_spec_schema;
extern const struct kube_schema kube_ingress_class_spec_schema;
/* A Deployment's and a ReplicaSet's spec (workload.c). */
extern const struct kube_schema kube_deployment_spec_schema;
extern const struct kube_schema kube_replicaset_spec_schema;
/* The API server's checks and defaults of a decoded Deployment or ReplicaSet. */
int kube_workload_check(struct kube_object *o, pr_error **err);
/* The selector and template checks alone, for a workload embedded in another kind's spec. */
int kube_workload_check_pods(struct kube_object *o, struct kube_workload *w, pr_error **err);
extern const struct kube_schema kube_pod_template_schema;
/* StatefulSet, DaemonSet and PersistentVolumeClaim specs, and their checks (statefulset.c). */
extern const struct kube_schema kube_statefulset_spec_schema;
extern const struct kube_schema kube_daemonset_spec_schema;
extern const struct kube_schema kube_claim_spec_schema;
int kube_set_check(struct kube_object *o, pr_error **err);
/* A Job's spec, and the API server's defaults and checks of it (job.c). */
extern const struct kube_schema kube_job_spec_schema;
int kube_job_check(struct kube_object *o, pr_error **err);
/* The same of a JobSpec alone (a CronJob's jobTemplate.spec). */
int kube_job_spec_check(struct kube_job *j, pr_error **err);
/* A CronJob's spec, and the API server's defaults and checks of it (cronjob.c). */
extern const struct kube_schema kube_cronjob_spec_schema;
int kube_cronjob_check(struct kube_object *o, pr_error **err);
/* A HorizontalPodAutoscaler's spec (autoscaling/v2 and v1) and its checks (hpa.c). */
extern const struct kube_schema kube_hpa_v2_spec_schema;
extern const struct kube_schema kube_hpa_v1_spec_schema;
int kube_hpa_check(struct kube_object *o, pr_error **err);

/* Decodes v (an object, or null for all-unset) into obj (zeroed by the caller). */
int kube_decode(const struct kube_schema *s, yajl_val v, void *obj, const char *path,
                pr_error **err);
/* Frees what kube_decode allocated in obj (arrays and lists), not obj itself. */
void kube_decode_free(const struct kube_schema *s, void *obj);

#endif
