/* SPDX-License-Identifier: Apache-2.0 */
/* A manifest's document as a typed object: apiVersion and kind decide the schema; metadata is
 * common to all; Kubernetes' names rules and ConfigMap/Secret data rules are checked here. */
#include "schema.h"
#include "json.h"
#include "util.h"

#include <errno.h>

#define NAME_MAX_SUBDOMAIN 253
#define NAME_MAX_LABEL     63
#define DATA_MAX_BYTES     (1u << 20) /* a ConfigMap or Secret, as the API server caps them */

static bool dns_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool valid_label(const char *s, size_t n)
{
    if (n == 0 || n > NAME_MAX_LABEL || !dns_char(s[0]) || !dns_char(s[n - 1]))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!dns_char(s[i]) && s[i] != '-')
            return false;
    return true;
}

bool kube_valid_label_name(const char *s)
{
    return valid_label(s, strlen(s));
}

bool kube_valid_subdomain(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > NAME_MAX_SUBDOMAIN)
        return false;
    for (const char *p = s;;) {
        const char *dot = strchr(p, '.');
        size_t len = dot ? (size_t)(dot - p) : strlen(p);
        if (!valid_label(p, len))
            return false;
        if (!dot)
            return true;
        p = dot + 1;
    }
}

/* ---- metadata ---- */

static const struct kube_field meta_fields[] = {
    KUBE_FIELD(struct kube_meta, "name", KF_STRING, name),
    KUBE_FIELD(struct kube_meta, "generateName", KF_STRING, generate_name),
    KUBE_FIELD(struct kube_meta, "namespace", KF_STRING, namespace_),
    KUBE_FIELD(struct kube_meta, "uid", KF_STRING, uid),
    KUBE_FIELD(struct kube_meta, "labels", KF_MAP, labels),
    KUBE_FIELD(struct kube_meta, "annotations", KF_MAP, annotations),
    KUBE_FIELD(struct kube_meta, "ownerReferences", KF_RAW, owner_references),
    /* Written by an API server; a manifest saved from one carries them. */
    KUBE_IGNORED("creationTimestamp"),
    KUBE_IGNORED("resourceVersion"),
    KUBE_IGNORED("generation"),
    KUBE_IGNORED("selfLink"),
    KUBE_IGNORED("managedFields"),
    KUBE_IGNORED("deletionTimestamp"),
    KUBE_IGNORED("deletionGracePeriodSeconds"),
    KUBE_IGNORED("finalizers"),
    KUBE_FIELDS_END,
};

static int validate_meta(void *obj, const char *path, pr_error **err)
{
    struct kube_meta *m = obj;
    /* metadata.namespace depends on the kind: kube_object_decode defaults or drops it. */
    for (size_t i = 0; i < m->labels.n; i++) {
        _cleanup_free_ char *sel = xasprintf("%s=%s", m->labels.keys[i], m->labels.values[i]);
        struct kube_selector s;
        /* A label is valid exactly when it parses as a one-requirement selector. */
        if (strchr(m->labels.keys[i], ',') || strchr(m->labels.keys[i], '=') ||
            strchr(m->labels.values[i], ',') || strchr(m->labels.values[i], '=') ||
            kube_selector_parse(sel, &s, NULL) < 0)
            return pr_err(err, 0, "%s.labels: \"%s\": \"%s\" is not a valid label", path,
                          m->labels.keys[i], m->labels.values[i]);
        kube_selector_clear(&s);
    }
    return 0;
}

const struct kube_schema kube_meta_schema = {"ObjectMeta", sizeof(struct kube_meta), meta_fields,
                                             validate_meta};

/* ---- ConfigMap and Secret data ---- */

static bool base64_valid(const char *s)
{
    size_t n = strlen(s), pad = 0;
    if (n % 4)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '=' && i >= n - 2) {
            pad++;
            continue;
        }
        if (pad || !((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                     c == '+' || c == '/'))
            return false;
    }
    return true;
}

/* Keys are file names in a volume: [-._a-zA-Z0-9]+, not "." or "..", at most 253. */
static int check_data_keys(const struct kube_map *m, const char *path, bool base64, size_t *total,
                           pr_error **err)
{
    for (size_t i = 0; i < m->n; i++) {
        const char *k = m->keys[i];
        size_t n = strlen(k);
        bool ok = n > 0 && n <= NAME_MAX_SUBDOMAIN && !streq(k, ".") && !streq(k, "..");
        for (size_t j = 0; ok && j < n; j++)
            ok = dns_char(k[j]) || (k[j] >= 'A' && k[j] <= 'Z') || strchr("-._", k[j]);
        if (!ok)
            return pr_err(err, 0,
                          "%s: key \"%s\": must consist of alphanumerics, '-', '_' or "
                          "'.'",
                          path, k);
        if (base64 && !base64_valid(m->values[i]))
            return pr_err(err, 0, "%s.%s: illegal base64 data", path, k);
        *total += strlen(m->values[i]);
    }
    return 0;
}

/* ---- objects ---- */

struct kube_top {
    const char *api_version, *kind;
    bool has_meta;
    struct kube_meta meta;
    struct kube_object *o;
};

static int decode_kind(struct kube_object *o, yajl_val tree, const char *where, pr_error **err)
{
    const struct kube_field pod_fields[] = {
        {"spec", KF_OBJECT, offsetof(struct kube_object, u.pod), &kube_pod_spec_schema, 0},
        KUBE_IGNORED("status"),
        KUBE_FIELDS_END,
    };
    const struct kube_field cm_fields[] = {
        KUBE_FIELD(struct kube_object, "data", KF_MAP, u.config_map.data),
        KUBE_FIELD(struct kube_object, "binaryData", KF_MAP, u.config_map.binary_data),
        KUBE_FIELD(struct kube_object, "immutable", KF_BOOL, u.config_map.immutable),
        KUBE_FIELDS_END,
    };
    const struct kube_field secret_fields[] = {
        KUBE_FIELD(struct kube_object, "data", KF_MAP, u.secret.data),
        KUBE_FIELD(struct kube_object, "stringData", KF_MAP, u.secret.string_data),
        KUBE_FIELD(struct kube_object, "type", KF_STRING, u.secret.type),
        KUBE_FIELD(struct kube_object, "immutable", KF_BOOL, u.secret.immutable),
        KUBE_FIELDS_END,
    };
    const struct kube_field deploy_fields[] = {
        {"spec", KF_OBJECT, offsetof(struct kube_object, u.workload), &kube_deployment_spec_schema,
         0},
        KUBE_IGNORED("status"),
        KUBE_FIELDS_END,
    };
    const struct kube_field rs_fields[] = {
        {"spec", KF_OBJECT, offsetof(struct kube_object, u.workload), &kube_replicaset_spec_schema,
         0},
        KUBE_IGNORED("status"),
        KUBE_FIELDS_END,
    };
    const struct kube_field job_fields[] = {
        {"spec", KF_OBJECT, offsetof(struct kube_object, u.job), &kube_job_spec_schema, 0},
        KUBE_IGNORED("status"),
        KUBE_FIELDS_END,
    };
    const struct kube_field cronjob_fields[] = {
        {"spec", KF_OBJECT, offsetof(struct kube_object, u.cronjob), &kube_cronjob_spec_schema, 0},
        KUBE_IGNORED("status"),
        KUBE_FIELDS_END,
    };
    const struct kube_field hpa_fields[] = {
        {"spec", KF_OBJECT, offsetof(struct kube_object, u.hpa),
         streq(o->api_version, "autoscaling/v1") ? &kube_hpa_v1_spec_schema
                                                 : &kube_hpa_v2_spec_schema,
         0},
        KUBE_IGNORED("status"),
        KUBE_FIELDS_END,
    };
    const struct kube_field svc_fields[] = {
        {"spec", KF_OBJECT, offsetof(struct kube_object, u.service), &kube_service_spec_schema, 0},
        KUBE_IGNORED("status"),
        KUBE_FIELDS_END,
    };
    const struct kube_field ing_fields[] = {
        {"spec", KF_OBJECT, offsetof(struct kube_object, u.ingress), &kube_ingress_spec_schema, 0},
        KUBE_IGNORED("status"),
        KUBE_FIELDS_END,
    };
    const struct kube_field ingclass_fields[] = {
        {"spec", KF_OBJECT, offsetof(struct kube_object, u.ingress_class),
         &kube_ingress_class_spec_schema, 0},
        KUBE_FIELDS_END,
    };
    const struct kube_field eps_fields[] = {
        KUBE_FIELD(struct kube_object, "addressType", KF_STRING, u.endpoint_slice.address_type),
        KUBE_FIELD(struct kube_object, "endpoints", KF_RAW, u.endpoint_slice.endpoints),
        KUBE_FIELD(struct kube_object, "ports", KF_RAW, u.endpoint_slice.ports),
        KUBE_FIELDS_END,
    };
    const struct kube_field sts_fields[] = {
        {"spec", KF_OBJECT, offsetof(struct kube_object, u.set), &kube_statefulset_spec_schema, 0},
        KUBE_IGNORED("status"),
        KUBE_FIELDS_END,
    };
    const struct kube_field ds_fields[] = {
        {"spec", KF_OBJECT, offsetof(struct kube_object, u.set), &kube_daemonset_spec_schema, 0},
        KUBE_IGNORED("status"),
        KUBE_FIELDS_END,
    };
    const struct kube_field pvc_fields[] = {
        {"spec", KF_OBJECT, offsetof(struct kube_object, u.claim), &kube_claim_spec_schema, 0},
        KUBE_IGNORED("status"),
        KUBE_FIELDS_END,
    };
    const struct kube_field pv_fields[] = {
        KUBE_IGNORED("spec"), /* podrun makes its volumes; apply refuses one */
        KUBE_IGNORED("status"),
        KUBE_FIELDS_END,
    };
    const struct kube_field ns_fields[] = {
        KUBE_IGNORED("spec"),
        KUBE_IGNORED("status"),
        KUBE_FIELDS_END,
    };
    /* clang-format off */
    static const struct {
        const char *kind;
        enum kube_kind k;
        const char *api_version;
    } kinds[] = {
        {"Pod", KUBE_POD, "v1"},
        {"ConfigMap", KUBE_CONFIGMAP, "v1"},
        {"Secret", KUBE_SECRET, "v1"},
        {"Namespace", KUBE_NAMESPACE, "v1"},
        {"Service", KUBE_SERVICE, "v1"},
        {"Deployment", KUBE_DEPLOYMENT, "apps/v1"},
        {"ReplicaSet", KUBE_REPLICASET, "apps/v1"},
        {"Ingress", KUBE_INGRESS, "networking.k8s.io/v1"},
        {"IngressClass", KUBE_INGRESSCLASS, "networking.k8s.io/v1"},
        {"EndpointSlice", KUBE_ENDPOINTSLICE, "discovery.k8s.io/v1"},
        {"StatefulSet", KUBE_STATEFULSET, "apps/v1"},
        {"DaemonSet", KUBE_DAEMONSET, "apps/v1"},
        {"PersistentVolumeClaim", KUBE_PVC, "v1"},
        {"PersistentVolume", KUBE_PV, "v1"},
        {"Job", KUBE_JOB, "batch/v1"},
        {"CronJob", KUBE_CRONJOB, "batch/v1"},
        {"HorizontalPodAutoscaler", KUBE_HPA, "autoscaling/v2"},
        {"HorizontalPodAutoscaler", KUBE_HPA, "autoscaling/v1"},
    };
    /* clang-format on */
    size_t i = 0;
    while (i < ARRAY_SIZE(kinds) && !streq(kinds[i].kind, o->kind_name))
        i++;
    if (i == ARRAY_SIZE(kinds))
        return pr_err_code(err, EOPNOTSUPP, "%s: kind \"%s\" is not supported by podrun", where,
                           o->kind_name);
    /* A kind served in several versions (autoscaling/v2 and v1). */
    for (size_t j = i; j < ARRAY_SIZE(kinds); j++)
        if (streq(kinds[j].kind, o->kind_name) && streq(kinds[j].api_version, o->api_version)) {
            i = j;
            break;
        }
    if (!streq(o->api_version, kinds[i].api_version))
        return pr_err(err, 0, "%s: no kind \"%s\" in version \"%s\" (it is in \"%s\")", where,
                      o->kind_name, o->api_version, kinds[i].api_version);
    o->kind = kinds[i].k;
    const struct kube_field *body = o->kind == KUBE_POD           ? pod_fields
                                    : o->kind == KUBE_CONFIGMAP   ? cm_fields
                                    : o->kind == KUBE_SECRET      ? secret_fields
                                    : o->kind == KUBE_SERVICE     ? svc_fields
                                    : o->kind == KUBE_DEPLOYMENT  ? deploy_fields
                                    : o->kind == KUBE_REPLICASET  ? rs_fields
                                    : o->kind == KUBE_STATEFULSET ? sts_fields
                                    : o->kind == KUBE_DAEMONSET   ? ds_fields
                                    : o->kind == KUBE_PVC         ? pvc_fields
                                    : o->kind == KUBE_PV          ? pv_fields
                                    : o->kind == KUBE_JOB         ? job_fields
                                    : o->kind == KUBE_CRONJOB     ? cronjob_fields
                                    : o->kind == KUBE_HPA         ? hpa_fields
                                                                  : ns_fields;
    if (o->kind == KUBE_INGRESS || o->kind == KUBE_INGRESSCLASS)
        body = o->kind == KUBE_INGRESS ? ing_fields : ingclass_fields;
    if (o->kind == KUBE_ENDPOINTSLICE)
        body = eps_fields;
    /* The whole object: apiVersion, kind and metadata, then the kind's own fields. */
    struct kube_field all[16];
    size_t n = 0;
    all[n++] = (struct kube_field){"apiVersion", KF_IGNORED, 0, NULL, 0};
    all[n++] = (struct kube_field){"kind", KF_IGNORED, 0, NULL, 0};
    all[n++] = (struct kube_field){"metadata", KF_OBJECT, offsetof(struct kube_object, meta),
                                   &kube_meta_schema, 0};
    for (const struct kube_field *f = body; f->name; f++)
        all[n++] = *f;
    all[n] = (struct kube_field)KUBE_FIELDS_END;
    const struct kube_schema s = {o->kind_name, sizeof(*o), all, NULL};
    int r = kube_decode(&s, tree, o, "", err);
    if (r < 0)
        return pr_err_prefix(err, "%s: %s \"%s\"", where, o->kind_name,
                             o->meta.name ? o->meta.name : "");
    /* A null spec is no spec: the decoder skips nulls, so the PodSpec checks would never run. */
    yajl_val spec = json_get(tree, "spec");
    if (o->kind == KUBE_ENDPOINTSLICE)
        return kube_endpointslice_check(o, err) < 0
                   ? pr_err_prefix(err, "%s: EndpointSlice \"%s\"", where,
                                   o->meta.name ? o->meta.name : "")
                   : 0;
    if (o->kind != KUBE_CONFIGMAP && o->kind != KUBE_SECRET && o->kind != KUBE_NAMESPACE &&
        (!spec || YAJL_IS_NULL(spec)))
        return pr_err(err, 0, "%s: %s \"%s\": spec: Required value", where, o->kind_name,
                      o->meta.name ? o->meta.name : "");
    if (o->kind == KUBE_SERVICE && (!spec || YAJL_IS_NULL(spec)) &&
        (r = kube_decode(&kube_service_spec_schema, NULL, &o->u.service, "spec", err)) < 0)
        return pr_err_prefix(err, "%s: Service \"%s\"", where, o->meta.name ? o->meta.name : "");
    if ((o->kind == KUBE_DEPLOYMENT || o->kind == KUBE_REPLICASET) &&
        (r = kube_workload_check(o, err)) < 0)
        return pr_err_prefix(err, "%s: %s \"%s\"", where, o->kind_name,
                             o->meta.name ? o->meta.name : "");
    if ((o->kind == KUBE_STATEFULSET || o->kind == KUBE_DAEMONSET) &&
        (r = kube_set_check(o, err)) < 0)
        return pr_err_prefix(err, "%s: %s \"%s\"", where, o->kind_name,
                             o->meta.name ? o->meta.name : "");
    if (o->kind == KUBE_JOB && (r = kube_job_check(o, err)) < 0)
        return pr_err_prefix(err, "%s: Job \"%s\"", where, o->meta.name ? o->meta.name : "");
    if (o->kind == KUBE_CRONJOB && (r = kube_cronjob_check(o, err)) < 0)
        return pr_err_prefix(err, "%s: CronJob \"%s\"", where, o->meta.name ? o->meta.name : "");
    if (o->kind == KUBE_HPA && (r = kube_hpa_check(o, err)) < 0)
        return pr_err_prefix(err, "%s: HorizontalPodAutoscaler \"%s\"", where,
                             o->meta.name ? o->meta.name : "");
    return 0;
}

bool kube_kind_namespaced(enum kube_kind k)
{
    return k != KUBE_NAMESPACE && k != KUBE_INGRESSCLASS && k != KUBE_PV;
}

/* As the API server does (k8s.io/apiserver, registry/rest: a request for a namespaced kind
 * carries a namespace, "default" unless said; EnsureObjectNamespaceMatchesRequestNamespace):
 * a namespaced object without metadata.namespace gets "default", and a cluster-scoped one has
 * none: a namespace written on it is cleared, not checked and not refused. */
static int scope_namespace(struct kube_object *o, const char *where, pr_error **err)
{
    struct kube_meta *m = &o->meta;
    if (!kube_kind_namespaced(o->kind)) {
        m->namespace_ = NULL;
        return 0;
    }
    if (!m->namespace_)
        m->namespace_ = "default";
    if (!kube_valid_label_name(m->namespace_))
        return pr_err(err, 0,
                      "%s: %s \"%s\": metadata.namespace: \"%s\": must be a lowercase RFC 1123 "
                      "label",
                      where, o->kind_name, m->name ? m->name : "", m->namespace_);
    return 0;
}

static int check_names(struct kube_object *o, const char *where, pr_error **err)
{
    struct kube_meta *m = &o->meta;
    if (o->kind == KUBE_NAMESPACE) {
        if (!m->name || !kube_valid_label_name(m->name))
            return pr_err(err, 0,
                          "%s: Namespace \"%s\": metadata.name: must be a lowercase "
                          "RFC 1123 label",
                          where, m->name ? m->name : "");
        return 0;
    }
    if (!m->name && m->generate_name)
        return 0; /* the pod manager makes the name */
    /* A service's name is a DNS label that starts with a letter: it becomes a DNS name and
     * environment variables' names. */
    if (o->kind == KUBE_SERVICE &&
        (!m->name || !kube_valid_label_name(m->name) || m->name[0] < 'a' || m->name[0] > 'z'))
        return pr_err(err, 0,
                      "%s: Service \"%s\": metadata.name: Invalid value: \"%s\": a DNS-1035 "
                      "label must consist of lower case alphanumeric characters or '-', start "
                      "with an alphabetic character, and end with an alphanumeric character",
                      where, m->name ? m->name : "", m->name ? m->name : "");
    if (!m->name || !kube_valid_subdomain(m->name))
        return pr_err(err, 0,
                      "%s: %s \"%s\": metadata.name: a lowercase RFC 1123 subdomain is "
                      "required (at most 253 of a-z, 0-9, '-' and '.')",
                      where, o->kind_name, m->name ? m->name : "");
    return 0;
}

static int check_data(struct kube_object *o, const char *where, pr_error **err)
{
    size_t total = 0;
    int r = 0;
    if (o->kind == KUBE_CONFIGMAP) {
        r = check_data_keys(&o->u.config_map.data, "data", false, &total, err);
        if (r == 0)
            r = check_data_keys(&o->u.config_map.binary_data, "binaryData", true, &total, err);
        for (size_t i = 0; r == 0 && i < o->u.config_map.data.n; i++)
            if (kube_map_get(&o->u.config_map.binary_data, o->u.config_map.data.keys[i]))
                r = pr_err(err, 0, "data: key \"%s\" is also in binaryData",
                           o->u.config_map.data.keys[i]);
    } else if (o->kind == KUBE_SECRET) {
        if (!o->u.secret.type)
            o->u.secret.type = "Opaque";
        r = check_data_keys(&o->u.secret.data, "data", true, &total, err);
        if (r == 0)
            r = check_data_keys(&o->u.secret.string_data, "stringData", false, &total, err);
    }
    if (r == 0 && total > DATA_MAX_BYTES)
        r = pr_err(err, EFBIG, "data: %zu bytes, over the limit of %u", total, DATA_MAX_BYTES);
    return r < 0 ? pr_err_prefix(err, "%s: %s \"%s\"", where, o->kind_name, o->meta.name) : 0;
}

int kube_object_decode(yajl_val tree, const char *where, struct kube_object **out, pr_error **err)
{
    struct kube_object *o = xcalloc(1, sizeof(*o));
    o->tree = tree;
    int r;
    if (!YAJL_IS_OBJECT(tree)) {
        r = pr_err(err, 0, "%s: not an object (a manifest holds Kubernetes objects)", where);
        goto fail;
    }
    yajl_val av = json_get(tree, "apiVersion"), kv = json_get(tree, "kind");
    if (!av || !YAJL_IS_STRING(av) || !kv || !YAJL_IS_STRING(kv) || !*kv->u.string) {
        r = pr_err(err, 0, "%s: apiVersion and kind are required strings", where);
        goto fail;
    }
    o->api_version = av->u.string;
    o->kind_name = kv->u.string;
    if ((r = decode_kind(o, tree, where, err)) < 0 || (r = scope_namespace(o, where, err)) < 0 ||
        (r = check_names(o, where, err)) < 0 || (r = check_data(o, where, err)) < 0)
        goto fail;
    *out = o;
    return 0;
fail:
    kube_object_free(o);
    return r;
}

void kube_object_free(struct kube_object *o)
{
    if (!o)
        return;
    free(o->meta.labels.keys);
    free(o->meta.labels.values);
    free(o->meta.annotations.keys);
    free(o->meta.annotations.values);
    switch (o->kind) {
    case KUBE_POD:
        kube_decode_free(&kube_pod_spec_schema, &o->u.pod);
        break;
    case KUBE_DEPLOYMENT:
        kube_decode_free(&kube_deployment_spec_schema, &o->u.workload);
        break;
    case KUBE_REPLICASET:
        kube_decode_free(&kube_replicaset_spec_schema, &o->u.workload);
        break;
    case KUBE_STATEFULSET:
        kube_decode_free(&kube_statefulset_spec_schema, &o->u.set);
        kube_decode_free(&kube_pod_template_schema, &o->u.set.w.template_);
        yajl_tree_free(o->u.set.template_tree);
        break;
    case KUBE_DAEMONSET:
        kube_decode_free(&kube_daemonset_spec_schema, &o->u.set);
        break;
    case KUBE_PVC:
        kube_decode_free(&kube_claim_spec_schema, &o->u.claim);
        break;
    case KUBE_JOB:
        kube_decode_free(&kube_job_spec_schema, &o->u.job);
        break;
    case KUBE_CRONJOB:
        kube_decode_free(&kube_cronjob_spec_schema, &o->u.cronjob);
        break;
    case KUBE_CONFIGMAP:
        free(o->u.config_map.data.keys);
        free(o->u.config_map.data.values);
        free(o->u.config_map.binary_data.keys);
        free(o->u.config_map.binary_data.values);
        break;
    case KUBE_SERVICE:
        kube_decode_free(&kube_service_spec_schema, &o->u.service);
        break;
    case KUBE_INGRESS:
        kube_decode_free(&kube_ingress_spec_schema, &o->u.ingress);
        break;
    case KUBE_SECRET:
        free(o->u.secret.data.keys);
        free(o->u.secret.data.values);
        free(o->u.secret.string_data.keys);
        free(o->u.secret.string_data.values);
        break;
    default:
        break;
    }
    yajl_tree_free(o->tree);
    free(o);
}
