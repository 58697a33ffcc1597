/* SPDX-License-Identifier: Apache-2.0 */
/* apps/v1 StatefulSet and DaemonSet, v1 PersistentVolumeClaim: their specs' schemas, the API
 * server's defaults and validation, and the StatefulSet controller's decision as a pure
 * function of the set and the pods it has. */
#include "schema.h"
#include "json.h"
#include "util.h"

#include <errno.h>
#include <stdlib.h>

/* ---- PersistentVolumeClaim ---- */

static const struct kube_field claim_fields[] = {
    KUBE_FIELD(struct kube_claim, "accessModes", KF_STRV, access_modes),
    KUBE_FIELD(struct kube_claim, "storageClassName", KF_STRING, storage_class),
    KUBE_FIELD(struct kube_claim, "volumeMode", KF_STRING, volume_mode),
    KUBE_FIELD(struct kube_claim, "volumeName", KF_STRING, volume_name),
    KUBE_FIELD(struct kube_claim, "resources", KF_RAW, resources),
    {"selector", KF_UNSUPPORTED, 0, NULL, 0},
    {"dataSource", KF_UNSUPPORTED, 0, NULL, 0},
    {"dataSourceRef", KF_UNSUPPORTED, 0, NULL, 0},
    {"volumeAttributesClassName", KF_UNSUPPORTED, 0, NULL, 0},
    KUBE_FIELDS_END,
};

static int claim_storage(struct kube_claim *c, const char *path, pr_error **err)
{
    yajl_val res = c->resources;
    if (res && !YAJL_IS_OBJECT(res))
        return pr_err(err, 0, "%s.resources: must be an object", path);
    for (size_t i = 0; res && i < res->u.object.len; i++) {
        const char *k = res->u.object.keys[i];
        yajl_val v = res->u.object.values[i];
        if (!streq(k, "requests") && !streq(k, "limits"))
            return pr_err(err, 0, "%s.resources.%s: unknown field in VolumeResourceRequirements",
                          path, k);
        for (size_t j = 0; YAJL_IS_OBJECT(v) && j < v->u.object.len; j++)
            if (!streq(v->u.object.keys[j], "storage"))
                return pr_err(err, 0,
                              "%s.resources.%s[%s]: Unsupported value: a claim requests "
                              "\"storage\" only",
                              path, k, v->u.object.keys[j]);
    }
    yajl_val st = json_get(json_get(res, "requests"), "storage");
    if (!st)
        return pr_err(err, 0, "%s.resources[storage]: Required value", path);
    if (!YAJL_IS_STRING(st) && !YAJL_IS_INTEGER(st))
        return pr_err(err, 0, "%s.resources.requests[storage]: must be a quantity", path);
    char num[32];
    if (YAJL_IS_INTEGER(st))
        snprintf(num, sizeof(num), "%lld", YAJL_GET_INTEGER(st));
    c->storage = YAJL_IS_STRING(st) ? st->u.string : NULL;
    struct kube_quantity q;
    int r = kube_quantity_parse(c->storage ? c->storage : num, &q, err);
    if (r == 0 && kube_quantity_scaled(&q, 0, &c->storage_bytes) < 0)
        r = pr_err(err, ERANGE, "too large");
    if (r < 0)
        return pr_err_prefix(err, "%s.resources.requests[storage]", path);
    if (c->storage_bytes <= 0)
        return pr_err(err, 0,
                      "%s.resources.requests[storage]: Invalid value: \"%s\": must be greater "
                      "than zero",
                      path, c->storage ? c->storage : num);
    return 0;
}

static int validate_claim(void *obj, const char *path, pr_error **err)
{
    struct kube_claim *c = obj;
    static const char *const modes[] = {"ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce",
                                        "ReadWriteOncePod"};
    if (!c->access_modes || !c->access_modes[0])
        return pr_err(err, 0, "%s.accessModes: Required value: at least 1 access mode is required",
                      path);
    size_t n = 0;
    bool once_pod = false;
    for (; c->access_modes[n]; n++) {
        size_t k = 0;
        while (k < ARRAY_SIZE(modes) && !streq(modes[k], c->access_modes[n]))
            k++;
        if (k == ARRAY_SIZE(modes))
            return pr_err(err, 0,
                          "%s.accessModes: Unsupported value: \"%s\": supported values: "
                          "\"ReadOnlyMany\", \"ReadWriteMany\", \"ReadWriteOnce\", "
                          "\"ReadWriteOncePod\"",
                          path, c->access_modes[n]);
        once_pod |= k == 3;
    }
    if (once_pod && n > 1)
        return pr_err(err, 0,
                      "%s.accessModes: Forbidden: may not use ReadWriteOncePod with other access "
                      "modes",
                      path);
    if (!c->storage_class)
        c->storage_class = KUBE_LOCAL_PATH_CLASS;
    if (!streq(c->storage_class, KUBE_LOCAL_PATH_CLASS))
        return pr_err(err, EOPNOTSUPP,
                      "%s.storageClassName: Unsupported value: \"%s\": podrun provisions the "
                      "\"" KUBE_LOCAL_PATH_CLASS "\" class only",
                      path, c->storage_class);
    if (!c->volume_mode)
        c->volume_mode = "Filesystem";
    if (!streq(c->volume_mode, "Filesystem"))
        return pr_err(err, EOPNOTSUPP,
                      "%s.volumeMode: Unsupported value: \"%s\": podrun provisions "
                      "\"Filesystem\" volumes only",
                      path, c->volume_mode);
    if (c->volume_name)
        return pr_err(err, EOPNOTSUPP,
                      "%s.volumeName: not supported by podrun (it binds each claim to a volume "
                      "it provisions)",
                      path);
    return claim_storage(c, path, err);
}

const struct kube_schema kube_claim_spec_schema = {
    "PersistentVolumeClaimSpec", sizeof(struct kube_claim), claim_fields, validate_claim};

int kube_claim_check(yajl_val spec, const char *path, struct kube_claim *out, pr_error **err)
{
    *out = (struct kube_claim){0};
    int r = kube_decode(&kube_claim_spec_schema, spec, out, path, err);
    if (r == 0 && (!spec || YAJL_IS_NULL(spec)))
        r = validate_claim(out, path, err);
    return r;
}

/* ---- StatefulSet and DaemonSet ---- */

static const struct kube_field sts_rolling_fields[] = {
    KUBE_FIELD(struct kube_set, "partition", KF_INT32, update_strategy.rolling_update.partition),
    KUBE_FIELD(struct kube_set, "maxUnavailable", KF_INT_OR_STRING,
               update_strategy.rolling_update.max_unavailable),
    KUBE_FIELDS_END,
};
static const struct kube_schema sts_rolling_schema = {"RollingUpdateStatefulSetStrategy", 0,
                                                      sts_rolling_fields, NULL};
static const struct kube_field sts_strategy_fields[] = {
    KUBE_FIELD(struct kube_set, "type", KF_STRING, update_strategy.type),
    {"rollingUpdate", KF_OBJECT, 0, &sts_rolling_schema,
     1 + offsetof(struct kube_set, update_strategy.has_rolling_update)},
    KUBE_FIELDS_END,
};
static const struct kube_schema sts_strategy_schema = {"StatefulSetUpdateStrategy", 0,
                                                       sts_strategy_fields, NULL};

static const struct kube_field retention_fields[] = {
    KUBE_FIELD(struct kube_set, "whenDeleted", KF_STRING, retention.when_deleted),
    KUBE_FIELD(struct kube_set, "whenScaled", KF_STRING, retention.when_scaled),
    KUBE_FIELDS_END,
};
static const struct kube_schema retention_schema = {
    "StatefulSetPersistentVolumeClaimRetentionPolicy", 0, retention_fields, NULL};

static const struct kube_field ordinals_fields[] = {
    KUBE_FIELD(struct kube_set, "start", KF_INT32, ordinals_start),
    KUBE_FIELDS_END,
};
static const struct kube_schema ordinals_schema = {"StatefulSetOrdinals", 0, ordinals_fields, NULL};

static const struct kube_field sts_fields[] = {
    KUBE_FIELD_HAS(struct kube_set, "replicas", KF_INT32, w.replicas, w.has_replicas),
    KUBE_FIELD(struct kube_set, "selector", KF_RAW, w.selector),
    /* Decoded in kube_set_check, with the claim templates' volumes. */
    KUBE_IGNORED("template"),
    KUBE_FIELD(struct kube_set, "serviceName", KF_STRING, service_name),
    KUBE_FIELD(struct kube_set, "volumeClaimTemplates", KF_RAW, volume_claim_templates),
    KUBE_FIELD(struct kube_set, "podManagementPolicy", KF_STRING, pod_management_policy),
    {"updateStrategy", KF_OBJECT, 0, &sts_strategy_schema, 0},
    KUBE_FIELD_HAS(struct kube_set, "revisionHistoryLimit", KF_INT32, w.revision_history_limit,
                   w.has_revision_history_limit),
    KUBE_FIELD(struct kube_set, "minReadySeconds", KF_INT32, w.min_ready_seconds),
    {"persistentVolumeClaimRetentionPolicy", KF_OBJECT, 0, &retention_schema,
     1 + offsetof(struct kube_set, has_retention)},
    {"ordinals", KF_OBJECT, 0, &ordinals_schema, 1 + offsetof(struct kube_set, has_ordinals)},
    KUBE_FIELDS_END,
};
const struct kube_schema kube_statefulset_spec_schema = {"StatefulSetSpec", sizeof(struct kube_set),
                                                         sts_fields, NULL};

static const struct kube_field ds_rolling_fields[] = {
    KUBE_FIELD(struct kube_set, "maxUnavailable", KF_INT_OR_STRING,
               update_strategy.rolling_update.max_unavailable),
    KUBE_FIELD(struct kube_set, "maxSurge", KF_INT_OR_STRING,
               update_strategy.rolling_update.max_surge),
    KUBE_FIELDS_END,
};
static const struct kube_schema ds_rolling_schema = {"RollingUpdateDaemonSet", 0, ds_rolling_fields,
                                                     NULL};
static const struct kube_field ds_strategy_fields[] = {
    KUBE_FIELD(struct kube_set, "type", KF_STRING, update_strategy.type),
    {"rollingUpdate", KF_OBJECT, 0, &ds_rolling_schema,
     1 + offsetof(struct kube_set, update_strategy.has_rolling_update)},
    KUBE_FIELDS_END,
};
static const struct kube_schema ds_strategy_schema = {"DaemonSetUpdateStrategy", 0,
                                                      ds_strategy_fields, NULL};

static const struct kube_field ds_fields[] = {
    KUBE_FIELD(struct kube_set, "selector", KF_RAW, w.selector),
    KUBE_OBJECT(struct kube_set, "template", w.template_, kube_pod_template_schema, w.has_template),
    {"updateStrategy", KF_OBJECT, 0, &ds_strategy_schema, 0},
    KUBE_FIELD_HAS(struct kube_set, "revisionHistoryLimit", KF_INT32, w.revision_history_limit,
                   w.has_revision_history_limit),
    KUBE_FIELD(struct kube_set, "minReadySeconds", KF_INT32, w.min_ready_seconds),
    KUBE_FIELDS_END,
};
const struct kube_schema kube_daemonset_spec_schema = {"DaemonSetSpec", sizeof(struct kube_set),
                                                       ds_fields, NULL};

static int check_claim_templates(struct kube_object *o, pr_error **err)
{
    yajl_val t = o->u.set.volume_claim_templates;
    if (!t)
        return 0;
    if (!YAJL_IS_ARRAY(t))
        return pr_err(err, 0, "spec.volumeClaimTemplates: must be a list");
    yajl_val vols =
        json_get(json_get(json_get(json_get(o->tree, "spec"), "template"), "spec"), "volumes");
    for (size_t i = 0; i < t->u.array.len; i++) {
        yajl_val e = t->u.array.values[i], meta = json_get(e, "metadata");
        _cleanup_free_ char *path = xasprintf("spec.volumeClaimTemplates[%zu]", i);
        const char *name = YAJL_GET_STRING(json_get(meta, "name"));
        if (!YAJL_IS_OBJECT(e))
            return pr_err(err, 0, "%s: must be an object", path);
        for (size_t k = 0; k < e->u.object.len; k++)
            if (!streq(e->u.object.keys[k], "metadata") && !streq(e->u.object.keys[k], "spec") &&
                !streq(e->u.object.keys[k], "apiVersion") && !streq(e->u.object.keys[k], "kind") &&
                !streq(e->u.object.keys[k], "status"))
                return pr_err(err, 0, "%s.%s: unknown field in PersistentVolumeClaim", path,
                              e->u.object.keys[k]);
        if (!name || !kube_valid_label_name(name))
            return pr_err(err, 0,
                          "%s.metadata.name: Invalid value: \"%s\": a lowercase RFC 1123 label "
                          "is required",
                          path, name ? name : "");
        for (size_t k = 0; k < i; k++)
            if (streq(name,
                      YAJL_GET_STRING(json_get(json_get(t->u.array.values[k], "metadata"), "name"))
                          ?: ""))
                return pr_err(err, 0, "%s.metadata.name: Duplicate value: \"%s\"", path, name);
        /* Each pod's claim is TEMPLATE-SET-ORDINAL: it must be a valid name too. */
        if (strlen(name) + strlen(o->meta.name ? o->meta.name : "") + 12 > 253)
            return pr_err(err, 0,
                          "%s.metadata.name: Invalid value: \"%s\": the claims' names "
                          "TEMPLATE-SET-ORDINAL would be longer than 253 characters",
                          path, name);
        for (size_t k = 0; k < json_array_len(vols); k++)
            if (streq(YAJL_GET_STRING(json_get(json_array_at(vols, k), "name")) ?: "", name))
                return pr_err(err, 0,
                              "spec.template.spec.volumes[%zu].name: Invalid value: \"%s\": "
                              "the name of a volumeClaimTemplate",
                              k, name);
        _cleanup_free_ char *sp = xasprintf("%s.spec", path);
        struct kube_claim c;
        int r = kube_claim_check(json_get(e, "spec"), sp, &c, err);
        kube_decode_free(&kube_claim_spec_schema, &c);
        if (r < 0)
            return r;
    }
    return 0;
}

/* The template with a persistentVolumeClaim volume for each claim template, as the controller
 * gives its pods, decoded: the pod spec's own checks (a volumeMount names a volume) then hold. */
static int decode_template(struct kube_object *o, pr_error **err)
{
    struct kube_set *s = &o->u.set;
    yajl_val tpl = json_get(json_get(o->tree, "spec"), "template");
    yajl_val claims = s->volume_claim_templates;
    if (!tpl || YAJL_IS_NULL(tpl))
        return pr_err(err, 0, "spec.template.spec: Required value");
    if (!YAJL_IS_OBJECT(tpl))
        return pr_err(err, 0, "spec.template: must be an object, not %s", json_type_name(tpl));
    _cleanup_gen_ yajl_gen g = json_gen_new(false);
    jg_map_open(g);
    for (size_t i = 0; i < tpl->u.object.len; i++) {
        const char *k = tpl->u.object.keys[i];
        yajl_val v = tpl->u.object.values[i];
        jg_key(g, k);
        if (!streq(k, "spec") || !YAJL_IS_OBJECT(v) || json_array_len(claims) == 0) {
            jg_value(g, v);
            continue;
        }
        jg_map_open(g);
        yajl_val vols = NULL;
        for (size_t j = 0; j < v->u.object.len; j++) {
            if (streq(v->u.object.keys[j], "volumes")) {
                vols = v->u.object.values[j];
                continue;
            }
            jg_key(g, v->u.object.keys[j]);
            jg_value(g, v->u.object.values[j]);
        }
        jg_key(g, "volumes");
        jg_array_open(g);
        for (size_t j = 0; j < json_array_len(vols); j++)
            jg_value(g, json_array_at(vols, j));
        for (size_t j = 0; j < json_array_len(claims); j++) {
            const char *n =
                YAJL_GET_STRING(json_get(json_get(json_array_at(claims, j), "metadata"), "name"));
            _cleanup_free_ char *claim = xasprintf("%s-%s-0", n, o->meta.name ? o->meta.name : "");
            jg_map_open(g);
            jg_key_str(g, "name", n);
            jg_key(g, "persistentVolumeClaim");
            jg_map_open(g);
            jg_key_str(g, "claimName", claim);
            jg_map_close(g);
            jg_map_close(g);
        }
        jg_array_close(g);
        jg_map_close(g);
    }
    jg_map_close(g);
    size_t len;
    const char *buf = jg_buf(g, &len);
    _cleanup_free_ char *text = xstrndup(buf, len);
    int r = json_parse(text, "the template", &s->template_tree, err);
    if (r < 0)
        return r;
    s->w.has_template = true;
    return kube_decode(&kube_pod_template_schema, s->template_tree, &s->w.template_,
                       "spec.template", err);
}

/* A percentage "N%": N, else -1. */
static int64_t percent_of(const char *s)
{
    char *end = NULL;
    errno = 0;
    long long p = strtoll(s, &end, 10);
    if (end == s || errno || !end || !streq(end, "%") || p < 0 || !(*s >= '0' && *s <= '9'))
        return -1;
    return p;
}

/* rollingUpdate.maxUnavailable: greater than 0, a percentage not over 100%, as the API server
 * validates it (MaxUnavailableStatefulSet). */
static int check_sts_max_unavailable(const struct kube_int_or_string *u, pr_error **err)
{
    if (!u->set)
        return 0;
    int64_t v = u->is_string ? percent_of(u->s) : u->i;
    if (u->is_string && v < 0)
        return pr_err(err, 0,
                      "spec.updateStrategy.rollingUpdate.maxUnavailable: Invalid value: \"%s\": "
                      "a valid percent string must be a numeric string followed by an ending "
                      "'%%' (e.g. '1%%',  or '93%%')",
                      u->s);
    if (v < 1)
        return u->is_string
                   ? pr_err(err, 0,
                            "spec.updateStrategy.rollingUpdate.maxUnavailable: Invalid value: "
                            "\"%s\": must be greater than 0",
                            u->s)
                   : pr_err(err, 0,
                            "spec.updateStrategy.rollingUpdate.maxUnavailable: Invalid value: "
                            "%lld: must be greater than 0",
                            (long long)u->i);
    if (u->is_string && v > 100)
        return pr_err(err, 0,
                      "spec.updateStrategy.rollingUpdate.maxUnavailable: Invalid value: \"%s\": "
                      "must not be greater than 100%%",
                      u->s);
    return 0;
}

int32_t kube_statefulset_max_unavailable(yajl_val spec, int32_t replicas)
{
    yajl_val v =
        json_get(json_get(json_get(spec, "updateStrategy"), "rollingUpdate"), "maxUnavailable");
    int64_t n = 0;
    if (YAJL_IS_INTEGER(v))
        n = YAJL_GET_INTEGER(v);
    else if (YAJL_IS_STRING(v) && percent_of(YAJL_GET_STRING(v)) >= 0)
        n = percent_of(YAJL_GET_STRING(v)) * MAX(replicas, 0) / 100; /* rounded down */
    else
        return 0;
    return (int32_t)MIN(MAX(n, 1), (int64_t)INT32_MAX);
}

static int check_statefulset(struct kube_object *o, pr_error **err)
{
    struct kube_set *s = &o->u.set;
    if (!s->pod_management_policy)
        s->pod_management_policy = "OrderedReady";
    if (!streq(s->pod_management_policy, "OrderedReady") &&
        !streq(s->pod_management_policy, "Parallel"))
        return pr_err(err, 0,
                      "spec.podManagementPolicy: Unsupported value: \"%s\": supported values: "
                      "\"OrderedReady\", \"Parallel\"",
                      s->pod_management_policy);
    if (!s->update_strategy.type)
        s->update_strategy.type = "RollingUpdate";
    bool rolling = streq(s->update_strategy.type, "RollingUpdate");
    if (!rolling && !streq(s->update_strategy.type, "OnDelete"))
        return pr_err(err, 0,
                      "spec.updateStrategy.type: Unsupported value: \"%s\": supported values: "
                      "\"OnDelete\", \"RollingUpdate\"",
                      s->update_strategy.type);
    if (!rolling && s->update_strategy.has_rolling_update)
        return pr_err(err, 0,
                      "spec.updateStrategy.rollingUpdate: Invalid value: only allowed for "
                      "updateStrategy 'RollingUpdate'");
    if (s->update_strategy.rolling_update.partition < 0)
        return pr_err(err, 0,
                      "spec.updateStrategy.rollingUpdate.partition: Invalid value: %d: must be "
                      "greater than or equal to 0",
                      s->update_strategy.rolling_update.partition);
    const char **keep[] = {&s->retention.when_deleted, &s->retention.when_scaled};
    const char *what[] = {"whenDeleted", "whenScaled"};
    for (size_t i = 0; i < 2; i++) {
        if (!*keep[i])
            *keep[i] = "Retain";
        if (!streq(*keep[i], "Retain") && !streq(*keep[i], "Delete"))
            return pr_err(err, 0,
                          "spec.persistentVolumeClaimRetentionPolicy.%s: Unsupported value: "
                          "\"%s\": supported values: \"Delete\", \"Retain\"",
                          what[i], *keep[i]);
    }
    if (s->ordinals_start < 0)
        return pr_err(err, 0,
                      "spec.ordinals.start: Invalid value: %d: must be greater than or equal to 0",
                      s->ordinals_start);
    if ((int64_t)s->ordinals_start + s->w.replicas > (int64_t)INT32_MAX + 1)
        return pr_err(err, 0,
                      "spec.ordinals.start: Invalid value: %d: the ordinals start + replicas "
                      "must stay within int32",
                      s->ordinals_start);
    int r = check_sts_max_unavailable(&s->update_strategy.rolling_update.max_unavailable, err);
    if (r < 0)
        return r;
    if (s->service_name && *s->service_name && !kube_valid_label_name(s->service_name))
        return pr_err(err, 0,
                      "spec.serviceName: Invalid value: \"%s\": a lowercase RFC 1123 label is "
                      "required",
                      s->service_name);
    /* The pods' names are SET-N and their hostnames must be DNS labels. */
    if (o->meta.name && strlen(o->meta.name) > 52)
        return pr_err(err, 0,
                      "metadata.name: Invalid value: \"%s\": must be no more than 52 characters "
                      "(the pods' hostnames SET-N are DNS labels)",
                      o->meta.name);
    return check_claim_templates(o, err);
}

/* An IntOrString of a DaemonSet's rollingUpdate: a count >= 0 or a percentage not over 100%;
 * *value its number (the percentage's, for "N%"). */
static int check_ds_int_or_percent(const struct kube_int_or_string *v, const char *what,
                                   int64_t *value, pr_error **err)
{
    *value = v->is_string ? percent_of(v->s) : v->i;
    if (v->is_string && *value < 0)
        return pr_err(err, 0,
                      "spec.updateStrategy.rollingUpdate.%s: Invalid value: \"%s\": a valid "
                      "percent string must be a numeric string followed by an ending '%%' (e.g. "
                      "'1%%',  or '93%%')",
                      what, v->s);
    if (*value < 0)
        return pr_err(err, 0,
                      "spec.updateStrategy.rollingUpdate.%s: Invalid value: %lld: must be "
                      "greater than or equal to 0",
                      what, (long long)*value);
    if (v->is_string && *value > 100)
        return pr_err(err, 0,
                      "spec.updateStrategy.rollingUpdate.%s: Invalid value: \"%s\": must not be "
                      "greater than 100%%",
                      what, v->s);
    return 0;
}

/* The API server's defaults (maxUnavailable 1, maxSurge 0) and its check: exactly one of them
 * is non-zero. */
static int check_daemonset(struct kube_set *s, pr_error **err)
{
    if (!s->update_strategy.type)
        s->update_strategy.type = "RollingUpdate";
    bool rolling = streq(s->update_strategy.type, "RollingUpdate");
    if (!rolling && !streq(s->update_strategy.type, "OnDelete"))
        return pr_err(err, 0,
                      "spec.updateStrategy.type: Unsupported value: \"%s\": supported values: "
                      "\"OnDelete\", \"RollingUpdate\"",
                      s->update_strategy.type);
    struct kube_int_or_string *u = &s->update_strategy.rolling_update.max_unavailable,
                              *g = &s->update_strategy.rolling_update.max_surge;
    if (!u->set)
        *u = (struct kube_int_or_string){.set = true, .i = 1};
    if (!g->set)
        *g = (struct kube_int_or_string){.set = true, .i = 0};
    int64_t unavail, surge;
    int r = check_ds_int_or_percent(u, "maxUnavailable", &unavail, err);
    if (r == 0)
        r = check_ds_int_or_percent(g, "maxSurge", &surge, err);
    if (r < 0)
        return r;
    if (surge && unavail)
        return pr_err(err, 0,
                      "spec.updateStrategy.rollingUpdate.maxSurge: Invalid value: may not be set "
                      "when maxUnavailable is non-zero");
    if (!surge && !unavail)
        return pr_err(err, 0,
                      "spec.updateStrategy.rollingUpdate.maxUnavailable: Required value: cannot "
                      "be 0 when maxSurge is 0");
    return 0;
}

bool kube_daemonset_surges(yajl_val spec)
{
    yajl_val st = json_get(spec, "updateStrategy");
    const char *type = YAJL_GET_STRING(json_get(st, "type"));
    yajl_val v = json_get(json_get(st, "rollingUpdate"), "maxSurge");
    if (type && !streq(type, "RollingUpdate"))
        return false;
    /* One node: any surge rounds up to one pod. */
    if (YAJL_IS_INTEGER(v))
        return YAJL_GET_INTEGER(v) > 0;
    return YAJL_IS_STRING(v) && percent_of(YAJL_GET_STRING(v)) > 0;
}

enum kube_ds_step kube_daemonset_surge_step(const struct kube_ds_node *n)
{
    if (!n->has_new)
        return KUBE_DS_CREATE_NEW; /* a surge pod, or the old one's replacement */
    if (n->has_old && n->new_available)
        return KUBE_DS_DELETE_OLD;
    return KUBE_DS_WAIT;
}

int kube_set_check(struct kube_object *o, pr_error **err)
{
    struct kube_set *s = &o->u.set;
    bool sts = o->kind == KUBE_STATEFULSET;
    if (!s->w.has_replicas)
        s->w.replicas = 1;
    if (!s->w.has_revision_history_limit)
        s->w.revision_history_limit = 10;
    if (s->w.replicas < 0)
        return pr_err(err, 0,
                      "spec.replicas: Invalid value: %d: must be greater than or equal to 0",
                      s->w.replicas);
    if (s->w.min_ready_seconds < 0)
        return pr_err(err, 0,
                      "spec.minReadySeconds: Invalid value: %d: must be greater than or equal "
                      "to 0",
                      s->w.min_ready_seconds);
    if (s->w.revision_history_limit < 0)
        return pr_err(err, 0,
                      "spec.revisionHistoryLimit: Invalid value: %d: must be greater than or "
                      "equal to 0",
                      s->w.revision_history_limit);
    int r = 0;
    /* The claim templates are checked first: the template's volumes are made from them. */
    if (sts && ((r = check_statefulset(o, err)) < 0 || (r = decode_template(o, err)) < 0))
        return r;
    if ((r = kube_workload_check_pods(o, &s->w, err)) < 0)
        return r;
    return sts ? 0 : check_daemonset(s, err);
}

/* ---- the StatefulSet controller's decision ---- */

/* The most pods one pass creates (Parallel), as Kubernetes' burstReplicas. */
#define STS_BURST 500

int32_t kube_statefulset_ordinal(const char *set, const char *pod)
{
    size_t n = strlen(set);
    if (strncmp(set, pod, n) || pod[n] != '-')
        return -1;
    const char *d = pod + n + 1;
    if (!*d || (d[0] == '0' && d[1]) || strlen(d) > 10)
        return -1;
    long long v = 0;
    for (; *d; d++) {
        if (*d < '0' || *d > '9')
            return -1;
        v = v * 10 + (*d - '0');
    }
    return v > INT32_MAX ? -1 : (int32_t)v;
}

static int by_ordinal(const void *a, const void *b)
{
    int32_t x = ((const struct kube_sts_pod *)a)->ordinal,
            y = ((const struct kube_sts_pod *)b)->ordinal;
    return (x > y) - (x < y);
}

static void add(int32_t **v, size_t *n, int32_t ord)
{
    *v = xrealloc(*v, (*n + 1) * sizeof(**v));
    (*v)[(*n)++] = ord;
}

/* The rolling update: with every replica Running and Ready (OrderedReady) or as far as the
 * unavailable pods allow (maxUnavailable), the highest ordinals at or above the partition that
 * are not updated are deleted (they come back from the current template), up to maxUnavailable
 * less the replicas already unavailable (KEP-961). */
static void plan_update(const struct kube_sts_spec *s, const struct kube_sts_pod *p, size_t n,
                        int32_t unavailable, struct kube_sts_plan *out)
{
    int64_t end = (int64_t)s->start + MAX(s->replicas, 0);
    int32_t room = MAX(s->max_unavailable, 1) - unavailable;
    for (size_t i = n; i-- > 0 && room > 0;)
        if (p[i].ordinal < end && p[i].ordinal >= s->start && p[i].ordinal >= s->partition &&
            !p[i].updated && !p[i].terminating) {
            add(&out->delete_, &out->n_delete, p[i].ordinal);
            room--;
        }
}

void kube_statefulset_plan(const struct kube_sts_spec *s, const struct kube_sts_pod *pods, size_t n,
                           struct kube_sts_plan *out)
{
    *out = (struct kube_sts_plan){0};
    _cleanup_free_ struct kube_sts_pod *p = xcalloc(n + 1, sizeof(*p));
    if (n)
        memcpy(p, pods, n * sizeof(*p));
    qsort(p, n, sizeof(*p), by_ordinal);
    int64_t first = MAX(s->start, 0), end = first + MAX(s->replicas, 0);
    /* Failed pods go first: they come back with the same name in a later pass. */
    bool busy = false; /* a pod is on its way out: OrderedReady waits for it */
    for (size_t i = 0; i < n; i++) {
        if (p[i].failed && !p[i].terminating) {
            add(&out->delete_, &out->n_delete, p[i].ordinal);
            p[i].terminating = true;
        }
        busy |= p[i].terminating;
    }
    /* Replicas: every ordinal from start below end. In order, OrderedReady stops at the first
     * that is missing, going or not Running and Ready. */
    bool blocked = !s->parallel && busy;
    bool all_ready = !busy;
    int32_t unavailable = 0; /* replicas missing, going or not Running and Ready */
    size_t k = 0;
    for (int64_t ord = first; ord < end; ord++) {
        while (k < n && p[k].ordinal < ord)
            k++;
        bool exists = k < n && p[k].ordinal == ord;
        if (!exists) {
            all_ready = false;
            unavailable++;
            if (!blocked)
                add(&out->create, &out->n_create, (int32_t)ord);
            if (!s->parallel)
                blocked = true;
            if (blocked || out->n_create >= STS_BURST)
                break;
            continue;
        }
        if (p[k].terminating || !p[k].running_ready) {
            all_ready = false;
            unavailable++;
            if (!s->parallel)
                blocked = true;
        }
        /* Nothing more to learn past here: a huge replicas costs no more than a burst. */
        if (!all_ready && (blocked || out->n_create >= STS_BURST))
            break;
    }
    /* Condemned: ordinals outside start .. end, highest first; OrderedReady one at a time and
     * only while every other pod is Running and Ready. */
    bool condemned = false;
    for (size_t i = n; i-- > 0;) {
        if ((p[i].ordinal < end && p[i].ordinal >= first) || p[i].terminating)
            continue;
        condemned = true;
        if (!s->parallel && (!all_ready || blocked))
            break;
        add(&out->delete_, &out->n_delete, p[i].ordinal);
        if (!s->parallel) {
            blocked = true;
            break;
        }
    }
    if (s->on_delete)
        return;
    /* Parallel with maxUnavailable: the update goes on beside creations and deletions, within
     * the pods already unavailable (the loop above stopped early only on a burst). */
    if (s->parallel && s->max_unavailable > 0) {
        if (out->n_create < STS_BURST)
            plan_update(s, p, n, unavailable, out);
        return;
    }
    /* Else once the set is whole and every pod Running and Ready: one pod, or maxUnavailable
     * pods at once, highest first. */
    if (condemned || !all_ready || out->n_create || out->n_delete)
        return;
    plan_update(s, p, n, 0, out);
}

void kube_statefulset_plan_clear(struct kube_sts_plan *p)
{
    free(p->create);
    free(p->delete_);
    *p = (struct kube_sts_plan){0};
}

bool kube_node_selector_matches(yajl_val selector, yajl_val labels)
{
    for (size_t i = 0; YAJL_IS_OBJECT(selector) && i < selector->u.object.len; i++) {
        const char *want = YAJL_GET_STRING(selector->u.object.values[i]);
        const char *have = YAJL_GET_STRING(json_get(labels, selector->u.object.keys[i]));
        if (!want || !have || !streq(want, have))
            return false;
    }
    return true;
}
