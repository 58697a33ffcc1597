/* SPDX-License-Identifier: Apache-2.0 */
/* What this slice of the pod manager does not run yet, refused by field before anything is
 * made: better an error naming the field than a pod that silently lacks it. */
#include "manager.h"
#include "util.h"

static int unsupported(pr_error **err, const char *field)
{
    return pr_err_code(err, EOPNOTSUPP, "%s: not supported by podrun's pod manager yet", field);
}

static int check_probe(const struct kube_probe *p, const char *path, pr_error **err)
{
    if (p->has_termination_grace_period_seconds) {
        _cleanup_free_ char *f = xasprintf("%s.terminationGracePeriodSeconds", path);
        return unsupported(err, f);
    }
    return 0;
}

static int check_limits(const struct kube_map *m, const char *path, pr_error **err)
{
    for (size_t i = 0; i < m->n; i++)
        if (!streq(m->keys[i], "cpu") && !streq(m->keys[i], "memory")) {
            _cleanup_free_ char *f = xasprintf("%s.%s", path, m->keys[i]);
            return unsupported(err, f);
        }
    return 0;
}

static int check_container(const struct kube_container *c, const char *path, pr_error **err)
{
    _cleanup_free_ char *f = NULL;
    int r;
#define REFUSE(cond, fmt, ...)                                                                     \
    do {                                                                                           \
        if (cond) {                                                                                \
            f = xasprintf("%s." fmt, path, ##__VA_ARGS__);                                         \
            return unsupported(err, f);                                                            \
        }                                                                                          \
    } while (0)
    REFUSE(c->lifecycle, "lifecycle");
    REFUSE(c->stdin_ || c->stdin_once, "stdin");
    REFUSE(c->tty, "tty");
    for (size_t i = 0; i < c->n_env; i++) {
        const struct kube_env_source *s = &c->env[i].value_from;
        REFUSE(c->env[i].has_value_from && s->has_resource_field_ref,
               "env[%zu].valueFrom.resourceFieldRef", i);
        REFUSE(c->env[i].has_value_from && s->has_field_ref &&
                   !pods_field_path_supported(s->field_ref.field_path),
               "env[%zu].valueFrom.fieldRef.fieldPath \"%s\"", i, s->field_ref.field_path);
    }
    for (size_t i = 0; i < c->n_volume_mounts; i++) {
        REFUSE(c->volume_mounts[i].mount_propagation, "volumeMounts[%zu].mountPropagation", i);
    }
    if (c->has_security_context) {
        const struct kube_security_context *s = &c->security_context;
        REFUSE(s->has_seccomp_profile, "securityContext.seccompProfile");
        REFUSE(s->proc_mount, "securityContext.procMount");
    }
    REFUSE(c->restart_policy, "restartPolicy");
    f = xasprintf("%s.resources.limits", path);
    if ((r = check_limits(&c->resources.limits, f, err)) < 0)
        return r;
    free(f);
    f = xasprintf("%s.resources.requests", path);
    if ((r = check_limits(&c->resources.requests, f, err)) < 0)
        return r;
    free(f);
    f = NULL;
    const struct kube_probe *probes[] = {c->has_liveness_probe ? &c->liveness_probe : NULL,
                                         c->has_readiness_probe ? &c->readiness_probe : NULL,
                                         c->has_startup_probe ? &c->startup_probe : NULL};
    static const char *const probe_names[] = {"livenessProbe", "readinessProbe", "startupProbe"};
    for (size_t i = 0; i < ARRAY_SIZE(probes); i++) {
        _cleanup_free_ char *p = xasprintf("%s.%s", path, probe_names[i]);
        if (probes[i] && (r = check_probe(probes[i], p, err)) < 0)
            return r;
    }
    return 0;
#undef REFUSE
}

static int check_volumes(const struct kube_pod_spec *s, pr_error **err)
{
    for (size_t i = 0; i < s->n_volumes; i++) {
        const struct kube_volume *v = &s->volumes[i];
        _cleanup_free_ char *f = NULL;
        if (!v->has_empty_dir && !v->has_config_map && !v->has_secret && !v->has_host_path) {
            const char *kind =
                v->has_pvc ? "persistentVolumeClaim" : "(a volume source podrun does not know)";
            f = xasprintf("spec.volumes[%zu].%s", i, kind);
            return unsupported(err, f);
        }
        if (!v->has_empty_dir)
            continue;
        if (v->empty_dir.medium && *v->empty_dir.medium) {
            f = xasprintf("spec.volumes[%zu].emptyDir.medium", i);
            return unsupported(err, f);
        }
        if (v->empty_dir.size_limit) {
            f = xasprintf("spec.volumes[%zu].emptyDir.sizeLimit", i);
            return unsupported(err, f);
        }
    }
    return 0;
}

static int check_pod(const struct kube_pod_spec *s, pr_error **err)
{
    if (s->has_active_deadline_seconds)
        return unsupported(err, "spec.activeDeadlineSeconds");
    if (s->has_security_context) {
        const struct kube_pod_security_context *c = &s->security_context;
        if (c->has_fs_group)
            return unsupported(err, "spec.securityContext.fsGroup");
        if (c->supplemental_groups)
            return unsupported(err, "spec.securityContext.supplementalGroups");
        if (c->sysctls)
            return unsupported(err, "spec.securityContext.sysctls");
        if (c->has_seccomp_profile)
            return unsupported(err, "spec.securityContext.seccompProfile");
    }
    int r = check_volumes(s, err);
    for (size_t i = 0; r == 0 && i < s->n_init_containers; i++) {
        _cleanup_free_ char *p = xasprintf("spec.initContainers[%zu]", i);
        r = check_container(&s->init_containers[i], p, err);
    }
    for (size_t i = 0; r == 0 && i < s->n_containers; i++) {
        _cleanup_free_ char *p = xasprintf("spec.containers[%zu]", i);
        r = check_container(&s->containers[i], p, err);
    }
    return r;
}

int pods_check_object(const struct kube_object *o, pr_error **err)
{
    const char *name = o->meta.name ? o->meta.name : "";
    const char *ns = o->meta.namespace_;
    if (!o->meta.name)
        return pr_err(err, 0, "%s: metadata.name is required (apply does not generate names)",
                      o->kind_name);
    /* The decoder defaults metadata.namespace; the manifest's own is in the tree. */
    if (o->kind == KUBE_NAMESPACE && json_get(json_get(o->tree, "metadata"), "namespace"))
        return pr_err(err, 0, "Namespace \"%s\": metadata.namespace: a namespace has none", name);
    if (ns && !kube_valid_label_name(ns))
        return pr_err(err, 0, "%s \"%s\": metadata.namespace: \"%s\" is not an RFC 1123 label",
                      o->kind_name, name, ns);
    if (o->kind != KUBE_POD)
        return 0;
    int r = check_pod(&o->u.pod, err);
    return r < 0 ? pr_err_prefix(err, "Pod \"%s\"", name) : 0;
}
