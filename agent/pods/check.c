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

static int check_container(const struct kube_container *c, const char *path, bool init,
                           pr_error **err)
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
    if (c->lifecycle) {
        f = xasprintf("%s.lifecycle", path);
        if ((r = pods_lifecycle_check(c, c->lifecycle, f, err)) < 0)
            return r;
        free(f);
        f = NULL;
    }
    /* The shim keeps an app container's stdin and terminal (podrun-shim(8), ATTACH); an init
     * container's are refused: nothing attaches to one. */
    REFUSE(init && (c->stdin_ || c->stdin_once), "stdin");
    REFUSE(init && c->tty, "tty");
    for (size_t i = 0; i < c->n_env; i++) {
        const struct kube_env_source *s = &c->env[i].value_from;
        REFUSE(c->env[i].has_value_from && s->has_field_ref &&
                   !pods_field_path_supported(s->field_ref.field_path),
               "env[%zu].valueFrom.fieldRef.fieldPath \"%s\"", i, s->field_ref.field_path);
    }
    if (c->has_security_context) {
        const struct kube_security_context *s = &c->security_context;
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
        if (!v->has_empty_dir && !v->has_config_map && !v->has_secret && !v->has_host_path &&
            !v->has_downward_api && !v->has_projected && !v->has_pvc) {
            const char *kind =
                v->has_pvc ? "persistentVolumeClaim" : "(a volume source podrun does not know)";
            f = xasprintf("spec.volumes[%zu].%s", i, kind);
            return unsupported(err, f);
        }
    }
    return 0;
}

/* Kubernetes' safe sysctls: namespaced, and harmless to the node and other pods. The kubelet
 * refuses the rest (SysctlForbidden) unless an administrator allows them; podrun has no such
 * setting, so it refuses them by name. */
static int check_sysctls(yajl_val list, pr_error **err)
{
    static const char *const safe[] = {"kernel.shm_rmid_forced",
                                       "net.ipv4.ip_local_port_range",
                                       "net.ipv4.tcp_syncookies",
                                       "net.ipv4.ping_group_range",
                                       "net.ipv4.ip_unprivileged_port_start",
                                       "net.ipv4.ip_local_reserved_ports",
                                       "net.ipv4.tcp_keepalive_time",
                                       "net.ipv4.tcp_fin_timeout",
                                       "net.ipv4.tcp_keepalive_intvl",
                                       "net.ipv4.tcp_keepalive_probes",
                                       "net.ipv4.tcp_rmem",
                                       "net.ipv4.tcp_wmem",
                                       NULL};
    if (!list || YAJL_IS_NULL(list))
        return 0;
    if (!YAJL_IS_ARRAY(list))
        return pr_err(err, 0, "spec.securityContext.sysctls: expected a list");
    for (size_t i = 0; i < json_array_len(list); i++) {
        yajl_val e = json_array_at(list, i);
        const char *name = YAJL_GET_STRING(json_get(e, "name"));
        const char *value = YAJL_GET_STRING(json_get(e, "value"));
        if (!YAJL_IS_OBJECT(e) || !name || !value || e->u.object.len != 2)
            return pr_err(err, 0,
                          "spec.securityContext.sysctls[%zu]: name and value (strings) are "
                          "required, and nothing else",
                          i);
        bool ok = false;
        for (const char *const *s = safe; *s && !ok; s++)
            ok = streq(*s, name);
        if (!ok)
            return pr_err_code(err, EOPNOTSUPP,
                               "spec.securityContext.sysctls[%zu]: \"%s\": not a safe sysctl "
                               "(podrun allows only Kubernetes' safe set)",
                               i, name);
        for (size_t j = 0; j < i; j++)
            if (streq(YAJL_GET_STRING(json_get(json_array_at(list, j), "name")) ?: "", name))
                return pr_err(err, 0, "spec.securityContext.sysctls[%zu]: duplicate \"%s\"", i,
                              name);
    }
    return 0;
}

static int check_pod(const struct kube_pod_spec *s, pr_error **err)
{
    if (s->has_security_context) {
        const struct kube_pod_security_context *c = &s->security_context;
        if (c->has_fs_group && (c->fs_group < 0 || c->fs_group > UINT32_MAX - 1))
            return pr_err(err, 0, "spec.securityContext.fsGroup: %lld: not a group id",
                          (long long)c->fs_group);
        if (c->supplemental_groups && !YAJL_IS_NULL(c->supplemental_groups)) {
            if (!YAJL_IS_ARRAY(c->supplemental_groups))
                return pr_err(err, 0, "spec.securityContext.supplementalGroups: expected a list");
            for (size_t i = 0; i < json_array_len(c->supplemental_groups); i++) {
                yajl_val g = json_array_at(c->supplemental_groups, i);
                if (!YAJL_IS_INTEGER(g) || YAJL_GET_INTEGER(g) < 0 ||
                    YAJL_GET_INTEGER(g) > (long long)UINT32_MAX - 1)
                    return pr_err(
                        err, 0, "spec.securityContext.supplementalGroups[%zu]: not a group id", i);
            }
        }
        /* Strict would leave out the groups the image gives the user: podrun merges them. */
        if (c->supplemental_groups_policy && !streq(c->supplemental_groups_policy, "Merge"))
            return unsupported(err, "spec.securityContext.supplementalGroupsPolicy");
        int r = check_sysctls(c->sysctls, err);
        if (r < 0)
            return r;
    }
    int r = check_volumes(s, err);
    for (size_t i = 0; r == 0 && i < s->n_init_containers; i++) {
        _cleanup_free_ char *p = xasprintf("spec.initContainers[%zu]", i);
        /* The API server's rule: hooks belong to containers that keep running. */
        if (s->init_containers[i].lifecycle && !YAJL_IS_NULL(s->init_containers[i].lifecycle))
            return pr_err(err, 0,
                          "%s.lifecycle: Forbidden: may not be set for init containers without "
                          "restartPolicy=Always",
                          p);
        r = check_container(&s->init_containers[i], p, true, err);
    }
    for (size_t i = 0; r == 0 && i < s->n_containers; i++) {
        _cleanup_free_ char *p = xasprintf("spec.containers[%zu]", i);
        r = check_container(&s->containers[i], p, false, err);
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
    if (ns && !kube_valid_label_name(ns))
        return pr_err(err, 0, "%s \"%s\": metadata.namespace: \"%s\" is not an RFC 1123 label",
                      o->kind_name, name, ns);
    if (o->kind == KUBE_DEPLOYMENT || o->kind == KUBE_REPLICASET) {
        int r = check_pod(&o->u.workload.template_.spec, err);
        return r < 0 ? pr_err_prefix(err, "%s \"%s\": spec.template", o->kind_name, name) : 0;
    }
    if (o->kind == KUBE_CRONJOB) {
        int r = check_pod(&o->u.cronjob.job_template.spec.template_.spec, err);
        return r < 0 ? pr_err_prefix(err, "CronJob \"%s\": spec.jobTemplate.spec.template", name)
                     : 0;
    }
    if (o->kind == KUBE_JOB) {
        int r = check_pod(&o->u.job.template_.spec, err);
        return r < 0 ? pr_err_prefix(err, "Job \"%s\": spec.template", name) : 0;
    }
    if (o->kind != KUBE_POD)
        return 0;
    int r = check_pod(&o->u.pod, err);
    return r < 0 ? pr_err_prefix(err, "Pod \"%s\"", name) : 0;
}
