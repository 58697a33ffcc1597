/* SPDX-License-Identifier: Apache-2.0 */
/* core/v1 Pod: the schema of its spec, Kubernetes' defaults and the API server's validation of
 * what podrun runs. Fields that only steer a scheduler across many nodes are kept raw for the
 * pod manager to judge on this one; fields of features podrun does not have are refused by
 * name rather than dropped. */
#include "schema.h"
#include "util.h"

#include <errno.h>

/* ---- validation helpers ---- */

static bool one_of(const char *s, const char *const *list)
{
    for (; *list; list++)
        if (streq(s, *list))
            return true;
    return false;
}

static int check_enum(const char *path, const char *field, const char *v,
                      const char *const *allowed, pr_error **err)
{
    if (!v || one_of(v, allowed))
        return 0;
    _cleanup_free_ char *list = xstrdup("");
    for (const char *const *a = allowed; *a; a++) {
        char *n = xasprintf("%s%s%s", list, *list ? ", " : "", *a);
        free(list);
        list = n;
    }
    return pr_err(err, 0, "%s.%s: unsupported value \"%s\": supported values: %s", path, field, v,
                  list);
}

static int check_port(const char *path, const char *field, int64_t port, bool zero_ok,
                      pr_error **err)
{
    if ((port == 0 && zero_ok) || (port >= 1 && port <= 65535))
        return 0;
    return pr_err(err, 0, "%s.%s: %lld: must be between 1 and 65535, inclusive", path, field,
                  (long long)port);
}

static int check_quantities(const struct kube_map *m, const char *path, pr_error **err)
{
    for (size_t i = 0; i < m->n; i++) {
        struct kube_quantity q;
        int r = kube_quantity_parse(m->values[i], &q, err);
        if (r < 0)
            return pr_err_prefix(err, "%s.%s", path, m->keys[i]);
        if (q.mantissa < 0)
            return pr_err(err, 0, "%s.%s: must be greater than or equal to 0", path, m->keys[i]);
    }
    return 0;
}

/* ---- small objects ---- */

static const struct kube_field key_ref_fields[] = {
    KUBE_FIELD(struct kube_key_ref, "name", KF_STRING, name),
    KUBE_FIELD(struct kube_key_ref, "key", KF_STRING, key),
    KUBE_FIELD(struct kube_key_ref, "optional", KF_BOOL, optional),
    KUBE_FIELDS_END,
};
static int validate_key_ref(void *obj, const char *path, pr_error **err)
{
    struct kube_key_ref *k = obj;
    if (!k->name || !*k->name || !k->key || !*k->key)
        return pr_err(err, 0, "%s: name and key are required", path);
    return 0;
}
static const struct kube_schema key_ref_schema = {"KeySelector", sizeof(struct kube_key_ref),
                                                  key_ref_fields, validate_key_ref};

/* configMapRef / secretRef of envFrom: a name, no key. */
static const struct kube_field name_ref_fields[] = {
    KUBE_FIELD(struct kube_key_ref, "name", KF_STRING, name),
    KUBE_FIELD(struct kube_key_ref, "optional", KF_BOOL, optional),
    KUBE_FIELDS_END,
};
static int validate_name_ref(void *obj, const char *path, pr_error **err)
{
    struct kube_key_ref *k = obj;
    return k->name && *k->name ? 0 : pr_err(err, 0, "%s.name: required", path);
}
static const struct kube_schema name_ref_schema = {
    "LocalObjectReference", sizeof(struct kube_key_ref), name_ref_fields, validate_name_ref};

static const struct kube_field field_ref_fields[] = {
    KUBE_FIELD(struct kube_field_ref, "apiVersion", KF_STRING, api_version),
    KUBE_FIELD(struct kube_field_ref, "fieldPath", KF_STRING, field_path),
    KUBE_FIELDS_END,
};
static int validate_field_ref(void *obj, const char *path, pr_error **err)
{
    static const char *const supported[] = {"metadata.name",
                                            "metadata.namespace",
                                            "metadata.uid",
                                            "spec.nodeName",
                                            "spec.serviceAccountName",
                                            "status.hostIP",
                                            "status.hostIPs",
                                            "status.podIP",
                                            "status.podIPs",
                                            NULL};
    struct kube_field_ref *f = obj;
    if (!f->field_path)
        return pr_err(err, 0, "%s.fieldPath: required", path);
    if (one_of(f->field_path, supported) || has_prefix(f->field_path, "metadata.labels['") ||
        has_prefix(f->field_path, "metadata.annotations['"))
        return 0;
    return check_enum(path, "fieldPath", f->field_path, supported, err);
}
static const struct kube_schema field_ref_schema = {
    "ObjectFieldSelector", sizeof(struct kube_field_ref), field_ref_fields, validate_field_ref};

static const struct kube_field resource_ref_fields[] = {
    KUBE_FIELD(struct kube_resource_field_ref, "containerName", KF_STRING, container_name),
    KUBE_FIELD(struct kube_resource_field_ref, "resource", KF_STRING, resource),
    KUBE_FIELD(struct kube_resource_field_ref, "divisor", KF_STRING, divisor),
    KUBE_FIELDS_END,
};
static int validate_resource_ref(void *obj, const char *path, pr_error **err)
{
    static const char *const resources[] = {"limits.cpu", "limits.memory", "requests.cpu",
                                            "requests.memory", NULL};
    struct kube_resource_field_ref *r = obj;
    struct kube_quantity q;
    if (!r->resource)
        return pr_err(err, 0, "%s.resource: required", path);
    if (r->divisor && kube_quantity_parse(r->divisor, &q, err) < 0)
        return pr_err_prefix(err, "%s.divisor", path);
    if (r->divisor && q.mantissa <= 0)
        return pr_err(err, 0, "%s.divisor: must be greater than 0", path);
    return check_enum(path, "resource", r->resource, resources, err);
}
static const struct kube_schema resource_ref_schema = {"ResourceFieldSelector",
                                                       sizeof(struct kube_resource_field_ref),
                                                       resource_ref_fields, validate_resource_ref};

static const struct kube_field env_source_fields[] = {
    KUBE_OBJECT(struct kube_env_source, "configMapKeyRef", config_map_key_ref, key_ref_schema,
                has_config_map_key_ref),
    KUBE_OBJECT(struct kube_env_source, "secretKeyRef", secret_key_ref, key_ref_schema,
                has_secret_key_ref),
    KUBE_OBJECT(struct kube_env_source, "fieldRef", field_ref, field_ref_schema, has_field_ref),
    KUBE_OBJECT(struct kube_env_source, "resourceFieldRef", resource_field_ref, resource_ref_schema,
                has_resource_field_ref),
    KUBE_FIELDS_END,
};
static int validate_env_source(void *obj, const char *path, pr_error **err)
{
    struct kube_env_source *s = obj;
    int n = s->has_config_map_key_ref + s->has_secret_key_ref + s->has_field_ref +
            s->has_resource_field_ref;
    return n == 1 ? 0 : pr_err(err, 0, "%s: must specify exactly one source", path);
}
static const struct kube_schema env_source_schema = {"EnvVarSource", sizeof(struct kube_env_source),
                                                     env_source_fields, validate_env_source};

static const struct kube_field env_fields[] = {
    KUBE_FIELD(struct kube_env_var, "name", KF_STRING, name),
    KUBE_FIELD(struct kube_env_var, "value", KF_STRING, value),
    KUBE_OBJECT(struct kube_env_var, "valueFrom", value_from, env_source_schema, has_value_from),
    KUBE_FIELDS_END,
};
static int validate_env(void *obj, const char *path, pr_error **err)
{
    struct kube_env_var *e = obj;
    if (!e->name || !*e->name || strchr(e->name, '='))
        return pr_err(err, 0, "%s.name: required, and must not contain `=`", path);
    if (e->value && *e->value && e->has_value_from)
        return pr_err(err, 0, "%s.valueFrom: may not be specified when `value` is not empty", path);
    return 0;
}
static const struct kube_schema env_schema = {"EnvVar", sizeof(struct kube_env_var), env_fields,
                                              validate_env};

static const struct kube_field env_from_fields[] = {
    KUBE_FIELD(struct kube_env_from, "prefix", KF_STRING, prefix),
    KUBE_OBJECT(struct kube_env_from, "configMapRef", config_map_ref, name_ref_schema,
                has_config_map_ref),
    KUBE_OBJECT(struct kube_env_from, "secretRef", secret_ref, name_ref_schema, has_secret_ref),
    KUBE_FIELDS_END,
};
static int validate_env_from(void *obj, const char *path, pr_error **err)
{
    struct kube_env_from *e = obj;
    if (e->has_config_map_ref + e->has_secret_ref != 1)
        return pr_err(err, 0, "%s: must specify exactly one of configMapRef and secretRef", path);
    return 0;
}
static const struct kube_schema env_from_schema = {"EnvFromSource", sizeof(struct kube_env_from),
                                                   env_from_fields, validate_env_from};

static const struct kube_field port_fields[] = {
    KUBE_FIELD(struct kube_container_port, "name", KF_STRING, name),
    KUBE_FIELD(struct kube_container_port, "containerPort", KF_INT32, container_port),
    KUBE_FIELD(struct kube_container_port, "hostPort", KF_INT32, host_port),
    KUBE_FIELD(struct kube_container_port, "hostIP", KF_STRING, host_ip),
    KUBE_FIELD(struct kube_container_port, "protocol", KF_STRING, protocol),
    KUBE_FIELDS_END,
};
static int validate_port(void *obj, const char *path, pr_error **err)
{
    static const char *const protocols[] = {"TCP", "UDP", "SCTP", NULL};
    struct kube_container_port *p = obj;
    int r;
    if (!p->protocol)
        p->protocol = "TCP";
    if ((r = check_port(path, "containerPort", p->container_port, false, err)) < 0 ||
        (r = check_port(path, "hostPort", p->host_port, true, err)) < 0 ||
        (r = check_enum(path, "protocol", p->protocol, protocols, err)) < 0)
        return r;
    if (p->name && (strlen(p->name) > 15 || !kube_valid_label_name(p->name)))
        return pr_err(err, 0,
                      "%s.name: \"%s\": must be at most 15 lowercase letters, digits "
                      "or '-'",
                      path, p->name);
    return 0;
}
static const struct kube_schema port_schema = {"ContainerPort", sizeof(struct kube_container_port),
                                               port_fields, validate_port};

static const struct kube_field resources_fields[] = {
    KUBE_FIELD(struct kube_resources, "limits", KF_MAP, limits),
    KUBE_FIELD(struct kube_resources, "requests", KF_MAP, requests),
    KUBE_IGNORED("claims"),
    KUBE_FIELDS_END,
};
static int validate_resources(void *obj, const char *path, pr_error **err)
{
    struct kube_resources *res = obj;
    _cleanup_free_ char *lp = xasprintf("%s.limits", path), *rp = xasprintf("%s.requests", path);
    int r = check_quantities(&res->limits, lp, err);
    return r < 0 ? r : check_quantities(&res->requests, rp, err);
}
static const struct kube_schema resources_schema = {
    "ResourceRequirements", sizeof(struct kube_resources), resources_fields, validate_resources};

static const struct kube_field mount_fields[] = {
    KUBE_FIELD(struct kube_volume_mount, "name", KF_STRING, name),
    KUBE_FIELD(struct kube_volume_mount, "mountPath", KF_STRING, mount_path),
    KUBE_FIELD(struct kube_volume_mount, "readOnly", KF_BOOL, read_only),
    KUBE_FIELD(struct kube_volume_mount, "subPath", KF_STRING, sub_path),
    KUBE_FIELD(struct kube_volume_mount, "mountPropagation", KF_STRING, mount_propagation),
    {"subPathExpr", KF_UNSUPPORTED, 0, NULL, 0},
    {"recursiveReadOnly", KF_UNSUPPORTED, 0, NULL, 0},
    KUBE_FIELDS_END,
};
static int validate_mount(void *obj, const char *path, pr_error **err)
{
    static const char *const props[] = {"None", "HostToContainer", "Bidirectional", NULL};
    struct kube_volume_mount *m = obj;
    if (!m->name || !*m->name)
        return pr_err(err, 0, "%s.name: required", path);
    if (!m->mount_path || m->mount_path[0] != '/')
        return pr_err(err, 0, "%s.mountPath: required, and must be an absolute path", path);
    if (m->sub_path &&
        (m->sub_path[0] == '/' || streq(m->sub_path, "..") || has_prefix(m->sub_path, "../") ||
         strstr(m->sub_path, "/../") ||
         (strlen(m->sub_path) >= 3 && streq(m->sub_path + strlen(m->sub_path) - 3, "/.."))))
        return pr_err(err, 0, "%s.subPath: \"%s\": must be a relative path without `..`", path,
                      m->sub_path);
    return check_enum(path, "mountPropagation", m->mount_propagation, props, err);
}
static const struct kube_schema mount_schema = {"VolumeMount", sizeof(struct kube_volume_mount),
                                                mount_fields, validate_mount};

/* ---- probes ---- */

static const struct kube_field exec_fields[] = {
    {"command", KF_STRV, 0, NULL, 0},
    KUBE_FIELDS_END,
};
static const struct kube_schema exec_schema = {"ExecAction", sizeof(const char **), exec_fields,
                                               NULL};

static const struct kube_field header_fields[] = {
    KUBE_FIELD(struct kube_http_header, "name", KF_STRING, name),
    KUBE_FIELD(struct kube_http_header, "value", KF_STRING, value),
    KUBE_FIELDS_END,
};
static const struct kube_schema header_schema = {"HTTPHeader", sizeof(struct kube_http_header),
                                                 header_fields, NULL};

#define HTTP_GET(member) offsetof(struct kube_probe, http_get.member)
static const struct kube_field http_get_fields[] = {
    {"path", KF_STRING, HTTP_GET(path) - HTTP_GET(path), NULL, 0},
    {"port", KF_INT_OR_STRING, HTTP_GET(port) - HTTP_GET(path), NULL, 0},
    {"host", KF_STRING, HTTP_GET(host) - HTTP_GET(path), NULL, 0},
    {"scheme", KF_STRING, HTTP_GET(scheme) - HTTP_GET(path), NULL, 0},
    {"httpHeaders", KF_LIST, HTTP_GET(headers) - HTTP_GET(path), &header_schema,
     HTTP_GET(n_headers) - HTTP_GET(path)},
    KUBE_FIELDS_END,
};
static const struct kube_schema http_get_schema = {
    "HTTPGetAction", sizeof(((struct kube_probe *)0)->http_get), http_get_fields, NULL};

#define TCP(member) offsetof(struct kube_probe, tcp_socket.member)
static const struct kube_field tcp_fields[] = {
    {"port", KF_INT_OR_STRING, TCP(port) - TCP(port), NULL, 0},
    {"host", KF_STRING, TCP(host) - TCP(port), NULL, 0},
    KUBE_FIELDS_END,
};
static const struct kube_schema tcp_schema = {
    "TCPSocketAction", sizeof(((struct kube_probe *)0)->tcp_socket), tcp_fields, NULL};

#define GRPC(member) offsetof(struct kube_probe, grpc.member)
static const struct kube_field grpc_fields[] = {
    {"port", KF_INT32, GRPC(port) - GRPC(port), NULL, 0},
    {"service", KF_STRING, GRPC(service) - GRPC(port), NULL, 0},
    KUBE_FIELDS_END,
};
static const struct kube_schema grpc_schema = {"GRPCAction", sizeof(((struct kube_probe *)0)->grpc),
                                               grpc_fields, NULL};

#define P(name, type, member)       KUBE_FIELD(struct kube_probe, name, type, member)
#define PH(name, type, member, has) KUBE_FIELD_HAS(struct kube_probe, name, type, member, has)
static const struct kube_field probe_fields[] = {
    KUBE_OBJECT(struct kube_probe, "exec", exec, exec_schema, has_exec),
    KUBE_OBJECT(struct kube_probe, "httpGet", http_get, http_get_schema, has_http_get),
    KUBE_OBJECT(struct kube_probe, "tcpSocket", tcp_socket, tcp_schema, has_tcp_socket),
    KUBE_OBJECT(struct kube_probe, "grpc", grpc, grpc_schema, has_grpc),
    P("initialDelaySeconds", KF_INT32, initial_delay_seconds),
    PH("timeoutSeconds", KF_INT32, timeout_seconds, has_timeout_seconds),
    PH("periodSeconds", KF_INT32, period_seconds, has_period_seconds),
    PH("successThreshold", KF_INT32, success_threshold, has_success_threshold),
    PH("failureThreshold", KF_INT32, failure_threshold, has_failure_threshold),
    PH("terminationGracePeriodSeconds", KF_INT64, termination_grace_period_seconds,
       has_termination_grace_period_seconds),
    KUBE_FIELDS_END,
};

/* Kubernetes' defaults: timeout 1 s, period 10 s, thresholds 1 and 3. */
static int validate_probe(void *obj, const char *path, pr_error **err)
{
    struct kube_probe *p = obj;
    static const char *const schemes[] = {"HTTP", "HTTPS", NULL};
    if (p->has_exec + p->has_http_get + p->has_tcp_socket + p->has_grpc != 1)
        return pr_err(err, 0,
                      "%s: must specify exactly one handler (exec, httpGet, tcpSocket "
                      "or grpc)",
                      path);
    if (!p->has_timeout_seconds)
        p->timeout_seconds = 1;
    if (!p->has_period_seconds)
        p->period_seconds = 10;
    if (!p->has_success_threshold)
        p->success_threshold = 1;
    if (!p->has_failure_threshold)
        p->failure_threshold = 3;
    if (p->initial_delay_seconds < 0 || p->timeout_seconds < 1 || p->period_seconds < 1 ||
        p->success_threshold < 1 || p->failure_threshold < 1)
        return pr_err(err, 0,
                      "%s: delays must be >= 0, and timeoutSeconds, periodSeconds and "
                      "the thresholds >= 1",
                      path);
    const struct kube_int_or_string *port = p->has_http_get     ? &p->http_get.port
                                            : p->has_tcp_socket ? &p->tcp_socket.port
                                                                : NULL;
    if (port && !port->set)
        return pr_err(err, 0, "%s: port is required", path);
    if (port && !port->is_string && (port->i < 1 || port->i > 65535))
        return check_port(path, "port", port->i, false, err);
    if (p->has_exec && (!p->exec.command || !p->exec.command[0]))
        return pr_err(err, 0, "%s.exec.command: required", path);
    if (p->has_grpc)
        return pr_err(err, 0, "%s.grpc: gRPC probes are not supported by podrun yet", path);
    if (p->has_http_get && !p->http_get.path)
        p->http_get.path = "/";
    if (p->has_http_get && !p->http_get.scheme)
        p->http_get.scheme = "HTTP";
    return check_enum(path, "httpGet.scheme", p->has_http_get ? p->http_get.scheme : NULL, schemes,
                      err);
}
static const struct kube_schema probe_schema = {"Probe", sizeof(struct kube_probe), probe_fields,
                                                validate_probe};

/* ---- security ---- */

#define CAPS(member) offsetof(struct kube_security_context, capabilities.member)
static const struct kube_field caps_fields[] = {
    {"add", KF_STRV, CAPS(add) - CAPS(add), NULL, 0},
    {"drop", KF_STRV, CAPS(drop) - CAPS(add), NULL, 0},
    KUBE_FIELDS_END,
};
static const struct kube_schema caps_schema = {
    "Capabilities", sizeof(((struct kube_security_context *)0)->capabilities), caps_fields, NULL};

static const struct kube_field seccomp_fields[] = {
    KUBE_FIELD(struct kube_seccomp_profile, "type", KF_STRING, type),
    KUBE_FIELD(struct kube_seccomp_profile, "localhostProfile", KF_STRING, localhost_profile),
    KUBE_FIELDS_END,
};
static int validate_seccomp(void *obj, const char *path, pr_error **err)
{
    static const char *const types[] = {"RuntimeDefault", "Unconfined", "Localhost", NULL};
    struct kube_seccomp_profile *s = obj;
    if (!s->type)
        return pr_err(err, 0, "%s.type: required", path);
    if (streq(s->type, "Localhost") != (s->localhost_profile != NULL))
        return pr_err(err, 0, "%s.localhostProfile: required for type Localhost, and only there",
                      path);
    return check_enum(path, "type", s->type, types, err);
}
static const struct kube_schema seccomp_schema = {
    "SeccompProfile", sizeof(struct kube_seccomp_profile), seccomp_fields, validate_seccomp};

#define SC(name, type, member) KUBE_FIELD(struct kube_security_context, name, type, member)
#define SCH(name, type, member, has)                                                               \
    KUBE_FIELD_HAS(struct kube_security_context, name, type, member, has)
static const struct kube_field security_fields[] = {
    SCH("runAsUser", KF_INT64, run_as_user, has_run_as_user),
    SCH("runAsGroup", KF_INT64, run_as_group, has_run_as_group),
    SCH("runAsNonRoot", KF_BOOL, run_as_non_root, has_run_as_non_root),
    SC("privileged", KF_BOOL, privileged),
    SC("readOnlyRootFilesystem", KF_BOOL, read_only_root_filesystem),
    SCH("allowPrivilegeEscalation", KF_BOOL, allow_privilege_escalation,
        has_allow_privilege_escalation),
    KUBE_OBJECT(struct kube_security_context, "capabilities", capabilities, caps_schema,
                has_capabilities),
    KUBE_OBJECT(struct kube_security_context, "seccompProfile", seccomp_profile, seccomp_schema,
                has_seccomp_profile),
    SC("procMount", KF_STRING, proc_mount),
    /* Linux security modules podrun does not drive; a cluster without them ignores these. */
    KUBE_IGNORED("seLinuxOptions"),
    KUBE_IGNORED("appArmorProfile"),
    KUBE_IGNORED("windowsOptions"),
    KUBE_FIELDS_END,
};
static int validate_security(void *obj, const char *path, pr_error **err)
{
    static const char *const proc_mounts[] = {"Default", NULL};
    struct kube_security_context *s = obj;
    if (s->run_as_user < 0 || s->run_as_group < 0)
        return pr_err(err, 0, "%s: runAsUser and runAsGroup must be >= 0", path);
    if (s->privileged && s->has_allow_privilege_escalation && !s->allow_privilege_escalation)
        return pr_err(err, 0,
                      "%s: cannot set allowPrivilegeEscalation to false and privileged "
                      "to true",
                      path);
    return check_enum(path, "procMount", s->proc_mount, proc_mounts, err);
}
static const struct kube_schema security_schema = {
    "SecurityContext", sizeof(struct kube_security_context), security_fields, validate_security};

/* ---- containers ---- */

#define C(name, type, member) KUBE_FIELD(struct kube_container, name, type, member)
static const struct kube_field container_fields[] = {
    C("name", KF_STRING, name),
    C("image", KF_STRING, image),
    C("command", KF_STRV, command),
    C("args", KF_STRV, args),
    C("workingDir", KF_STRING, working_dir),
    KUBE_LIST(struct kube_container, "ports", ports, port_schema, n_ports),
    KUBE_LIST(struct kube_container, "env", env, env_schema, n_env),
    KUBE_LIST(struct kube_container, "envFrom", env_from, env_from_schema, n_env_from),
    {"resources", KF_OBJECT, offsetof(struct kube_container, resources), &resources_schema, 0},
    KUBE_LIST(struct kube_container, "volumeMounts", volume_mounts, mount_schema, n_volume_mounts),
    KUBE_OBJECT(struct kube_container, "livenessProbe", liveness_probe, probe_schema,
                has_liveness_probe),
    KUBE_OBJECT(struct kube_container, "readinessProbe", readiness_probe, probe_schema,
                has_readiness_probe),
    KUBE_OBJECT(struct kube_container, "startupProbe", startup_probe, probe_schema,
                has_startup_probe),
    C("imagePullPolicy", KF_STRING, image_pull_policy),
    KUBE_OBJECT(struct kube_container, "securityContext", security_context, security_schema,
                has_security_context),
    C("stdin", KF_BOOL, stdin_),
    C("stdinOnce", KF_BOOL, stdin_once),
    C("tty", KF_BOOL, tty),
    C("terminationMessagePath", KF_STRING, termination_message_path),
    C("terminationMessagePolicy", KF_STRING, termination_message_policy),
    C("restartPolicy", KF_STRING, restart_policy),
    C("lifecycle", KF_RAW, lifecycle),
    KUBE_IGNORED("resizePolicy"),
    {"volumeDevices", KF_UNSUPPORTED, 0, NULL, 0},
    KUBE_FIELDS_END,
};

static bool latest_or_untagged(const char *image)
{
    const char *at = strchr(image, '@');
    if (at)
        return false;
    const char *slash = strrchr(image, '/');
    const char *colon = strrchr(slash ? slash : image, ':');
    return !colon || streq(colon, ":latest");
}

static int validate_container(void *obj, const char *path, pr_error **err)
{
    static const char *const pull[] = {"Always", "IfNotPresent", "Never", NULL};
    struct kube_container *c = obj;
    int r;
    if (!c->name || !kube_valid_label_name(c->name))
        return pr_err(err, 0,
                      "%s.name: \"%s\": required, a lowercase RFC 1123 label (at most "
                      "63 of a-z, 0-9 and '-')",
                      path, c->name ? c->name : "");
    if (!c->image || !*c->image)
        return pr_err(err, 0, "%s.image: required", path);
    if (c->working_dir && c->working_dir[0] != '/')
        return pr_err(err, 0, "%s.workingDir: must be an absolute path", path);
    if (!c->image_pull_policy)
        c->image_pull_policy = latest_or_untagged(c->image) ? "Always" : "IfNotPresent";
    if ((r = check_enum(path, "imagePullPolicy", c->image_pull_policy, pull, err)) < 0)
        return r;
    static const char *const policies[] = {"File", "FallbackToLogsOnError", NULL};
    if (!c->termination_message_path)
        c->termination_message_path = "/dev/termination-log";
    if (c->termination_message_path[0] != '/')
        return pr_err(err, 0, "%s.terminationMessagePath: must be an absolute path", path);
    if (!c->termination_message_policy)
        c->termination_message_policy = "File";
    if ((r = check_enum(path, "terminationMessagePolicy", c->termination_message_policy, policies,
                        err)) < 0)
        return r;
    for (size_t i = 0; i < c->n_ports; i++)
        for (size_t j = 0; j < i; j++)
            if (c->ports[i].name && c->ports[j].name && streq(c->ports[i].name, c->ports[j].name))
                return pr_err(err, 0, "%s.ports[%zu].name: duplicate value \"%s\"", path, i,
                              c->ports[i].name);
    for (size_t i = 0; i < c->n_volume_mounts; i++)
        for (size_t j = 0; j < i; j++)
            if (streq(c->volume_mounts[i].mount_path, c->volume_mounts[j].mount_path))
                return pr_err(err, 0, "%s.volumeMounts[%zu].mountPath: must be unique", path, i);
    bool privileged = c->has_security_context && c->security_context.privileged;
    for (size_t i = 0; i < c->n_volume_mounts; i++)
        if (c->volume_mounts[i].mount_propagation &&
            streq(c->volume_mounts[i].mount_propagation, "Bidirectional") && !privileged)
            return pr_err(err, 0,
                          "%s.volumeMounts[%zu].mountPropagation: Forbidden: Bidirectional mount "
                          "propagation is available only to privileged containers",
                          path, i);
    return 0;
}
static const struct kube_schema container_schema = {"Container", sizeof(struct kube_container),
                                                    container_fields, validate_container};

/* ---- volumes ---- */

static const struct kube_field key_path_fields[] = {
    KUBE_FIELD(struct kube_key_to_path, "key", KF_STRING, key),
    KUBE_FIELD(struct kube_key_to_path, "path", KF_STRING, path),
    KUBE_FIELD_HAS(struct kube_key_to_path, "mode", KF_INT32, mode, has_mode),
    KUBE_FIELDS_END,
};
static int validate_key_path(void *obj, const char *path, pr_error **err)
{
    struct kube_key_to_path *k = obj;
    if (!k->key || !k->path || !*k->path || k->path[0] == '/' || strstr(k->path, ".."))
        return pr_err(err, 0, "%s: key and a relative path without `..` are required", path);
    if (k->has_mode && (k->mode < 0 || k->mode > 0777))
        return pr_err(err, 0, "%s.mode: must be a number between 0 and 0777", path);
    return 0;
}
static const struct kube_schema key_path_schema = {"KeyToPath", sizeof(struct kube_key_to_path),
                                                   key_path_fields, validate_key_path};

#define V_CM(member)   offsetof(struct kube_volume, config_map.member)
#define V_SEC(member)  offsetof(struct kube_volume, secret.member)
#define V_OFF(m, base) ((m) - (base))
static const struct kube_field config_map_vol_fields[] = {
    {"name", KF_STRING, V_OFF(V_CM(name), V_CM(name)), NULL, 0},
    {"items", KF_LIST, V_OFF(V_CM(items), V_CM(name)), &key_path_schema,
     V_OFF(V_CM(n_items), V_CM(name))},
    {"defaultMode", KF_INT32, V_OFF(V_CM(default_mode), V_CM(name)), NULL,
     1 + V_OFF(V_CM(has_default_mode), V_CM(name))},
    {"optional", KF_BOOL, V_OFF(V_CM(optional), V_CM(name)), NULL, 0},
    KUBE_FIELDS_END,
};
static const struct kube_field secret_vol_fields[] = {
    {"secretName", KF_STRING, V_OFF(V_SEC(name), V_SEC(name)), NULL, 0},
    {"items", KF_LIST, V_OFF(V_SEC(items), V_SEC(name)), &key_path_schema,
     V_OFF(V_SEC(n_items), V_SEC(name))},
    {"defaultMode", KF_INT32, V_OFF(V_SEC(default_mode), V_SEC(name)), NULL,
     1 + V_OFF(V_SEC(has_default_mode), V_SEC(name))},
    {"optional", KF_BOOL, V_OFF(V_SEC(optional), V_SEC(name)), NULL, 0},
    KUBE_FIELDS_END,
};
static int validate_projection(void *obj, const char *path, pr_error **err)
{
    /* config_map and secret are members of one type. */
    struct kube_object_volume *p = obj;
    if (!p->name || !*p->name)
        return pr_err(err, 0, "%s: the name of the object is required", path);
    if (p->has_default_mode && (p->default_mode < 0 || p->default_mode > 0777))
        return pr_err(err, 0, "%s.defaultMode: must be a number between 0 and 0777", path);
    return 0;
}
static const struct kube_schema config_map_vol_schema = {
    "ConfigMapVolumeSource", sizeof(((struct kube_volume *)0)->config_map), config_map_vol_fields,
    validate_projection};
static const struct kube_schema secret_vol_schema = {"SecretVolumeSource",
                                                     sizeof(((struct kube_volume *)0)->secret),
                                                     secret_vol_fields, validate_projection};

/* Sources of a projected volume: a ConfigMap's or Secret's keys (no defaultMode of their
 * own), the downward API's files; the token and trust bundle sources need an API server. */
static const struct kube_field object_projection_fields[] = {
    KUBE_FIELD(struct kube_object_volume, "name", KF_STRING, name),
    KUBE_LIST(struct kube_object_volume, "items", items, key_path_schema, n_items),
    KUBE_FIELD(struct kube_object_volume, "optional", KF_BOOL, optional),
    KUBE_FIELDS_END,
};
static const struct kube_schema config_map_projection_schema = {
    "ConfigMapProjection", sizeof(struct kube_object_volume), object_projection_fields,
    validate_projection};
static const struct kube_schema secret_projection_schema = {
    "SecretProjection", sizeof(struct kube_object_volume), object_projection_fields,
    validate_projection};

static const struct kube_field volume_field_ref_fields[] = {
    KUBE_FIELD(struct kube_field_ref, "apiVersion", KF_STRING, api_version),
    KUBE_FIELD(struct kube_field_ref, "fieldPath", KF_STRING, field_path),
    KUBE_FIELDS_END,
};
static int validate_volume_field_ref(void *obj, const char *path, pr_error **err)
{
    /* The API server's list for volumes: whole label and annotation maps, no single keys. */
    static const char *const supported[] = {"metadata.name", "metadata.namespace", "metadata.uid",
                                            "metadata.labels", "metadata.annotations", NULL};
    struct kube_field_ref *f = obj;
    if (!f->field_path)
        return pr_err(err, 0, "%s.fieldPath: required", path);
    return check_enum(path, "fieldPath", f->field_path, supported, err);
}
static const struct kube_schema volume_field_ref_schema = {
    "ObjectFieldSelector", sizeof(struct kube_field_ref), volume_field_ref_fields,
    validate_volume_field_ref};

static const struct kube_field downward_file_fields[] = {
    KUBE_FIELD(struct kube_downward_file, "path", KF_STRING, path),
    KUBE_OBJECT(struct kube_downward_file, "fieldRef", field_ref, volume_field_ref_schema,
                has_field_ref),
    KUBE_OBJECT(struct kube_downward_file, "resourceFieldRef", resource_field_ref,
                resource_ref_schema, has_resource_field_ref),
    KUBE_FIELD_HAS(struct kube_downward_file, "mode", KF_INT32, mode, has_mode),
    KUBE_FIELDS_END,
};
static int validate_downward_file(void *obj, const char *path, pr_error **err)
{
    struct kube_downward_file *f = obj;
    const char *p = f->path;
    if (!p || !*p || p[0] == '/' || streq(p, "..") || has_prefix(p, "../") || strstr(p, "/../") ||
        (strlen(p) >= 3 && streq(p + strlen(p) - 3, "/..")))
        return pr_err(err, 0, "%s.path: \"%s\": required, a relative path without `..`", path,
                      p ? p : "");
    if (f->has_field_ref + f->has_resource_field_ref != 1)
        return pr_err(err, 0, "%s: must specify exactly one of fieldRef and resourceFieldRef",
                      path);
    if (f->has_resource_field_ref && !f->resource_field_ref.container_name)
        return pr_err(err, 0, "%s.resourceFieldRef.containerName: required in a volume", path);
    if (f->has_mode && (f->mode < 0 || f->mode > 0777))
        return pr_err(err, 0, "%s.mode: must be a number between 0 and 0777", path);
    return 0;
}
static const struct kube_schema downward_file_schema = {
    "DownwardAPIVolumeFile", sizeof(struct kube_downward_file), downward_file_fields,
    validate_downward_file};

static const struct kube_field downward_vol_fields[] = {
    KUBE_LIST(struct kube_downward_volume, "items", items, downward_file_schema, n_items),
    KUBE_FIELD_HAS(struct kube_downward_volume, "defaultMode", KF_INT32, default_mode,
                   has_default_mode),
    KUBE_FIELDS_END,
};
static const struct kube_field downward_projection_fields[] = {
    KUBE_LIST(struct kube_downward_volume, "items", items, downward_file_schema, n_items),
    KUBE_FIELDS_END,
};
static int validate_downward_volume(void *obj, const char *path, pr_error **err)
{
    struct kube_downward_volume *d = obj;
    if (d->has_default_mode && (d->default_mode < 0 || d->default_mode > 0777))
        return pr_err(err, 0, "%s.defaultMode: must be a number between 0 and 0777", path);
    return 0;
}
static const struct kube_schema downward_vol_schema = {
    "DownwardAPIVolumeSource", sizeof(struct kube_downward_volume), downward_vol_fields,
    validate_downward_volume};
static const struct kube_schema downward_projection_schema = {
    "DownwardAPIProjection", sizeof(struct kube_downward_volume), downward_projection_fields,
    NULL};

static const struct kube_field projection_fields[] = {
    KUBE_OBJECT(struct kube_projection, "configMap", config_map, config_map_projection_schema,
                has_config_map),
    KUBE_OBJECT(struct kube_projection, "secret", secret, secret_projection_schema, has_secret),
    KUBE_OBJECT(struct kube_projection, "downwardAPI", downward_api, downward_projection_schema,
                has_downward_api),
    /* A service account token and a cluster trust bundle come from an API server. */
    {"serviceAccountToken", KF_UNSUPPORTED, 0, NULL, 0},
    {"clusterTrustBundle", KF_UNSUPPORTED, 0, NULL, 0},
    {"podCertificate", KF_UNSUPPORTED, 0, NULL, 0},
    KUBE_FIELDS_END,
};
static int validate_projection_source(void *obj, const char *path, pr_error **err)
{
    struct kube_projection *p = obj;
    if (p->has_config_map + p->has_secret + p->has_downward_api != 1)
        return pr_err(err, 0, "%s: must specify exactly one source", path);
    return 0;
}
static const struct kube_schema projection_schema = {"VolumeProjection",
                                                     sizeof(struct kube_projection),
                                                     projection_fields, validate_projection_source};

#define V_PR(member) offsetof(struct kube_volume, projected.member)
static const struct kube_field projected_fields[] = {
    {"sources", KF_LIST, V_OFF(V_PR(sources), V_PR(sources)), &projection_schema,
     V_OFF(V_PR(n_sources), V_PR(sources))},
    {"defaultMode", KF_INT32, V_OFF(V_PR(default_mode), V_PR(sources)), NULL,
     1 + V_OFF(V_PR(has_default_mode), V_PR(sources))},
    KUBE_FIELDS_END,
};
static int validate_projected(void *obj, const char *path, pr_error **err)
{
    __typeof__(((struct kube_volume *)0)->projected) *p = obj;
    if (p->has_default_mode && (p->default_mode < 0 || p->default_mode > 0777))
        return pr_err(err, 0, "%s.defaultMode: must be a number between 0 and 0777", path);
    return 0;
}
static const struct kube_schema projected_schema = {"ProjectedVolumeSource",
                                                    sizeof(((struct kube_volume *)0)->projected),
                                                    projected_fields, validate_projected};

#define V_ED(member) offsetof(struct kube_volume, empty_dir.member)
static const struct kube_field empty_dir_fields[] = {
    {"medium", KF_STRING, V_OFF(V_ED(medium), V_ED(medium)), NULL, 0},
    {"sizeLimit", KF_STRING, V_OFF(V_ED(size_limit), V_ED(medium)), NULL, 0},
    KUBE_FIELDS_END,
};
static int validate_empty_dir(void *obj, const char *path, pr_error **err)
{
    static const char *const media[] = {"", "Memory", NULL};
    __typeof__(((struct kube_volume *)0)->empty_dir) *ed = obj;
    struct kube_quantity q;
    if (ed->size_limit && kube_quantity_parse(ed->size_limit, &q, err) < 0)
        return pr_err_prefix(err, "%s.sizeLimit", path);
    return check_enum(path, "medium", ed->medium, media, err);
}
static const struct kube_schema empty_dir_schema = {"EmptyDirVolumeSource",
                                                    sizeof(((struct kube_volume *)0)->empty_dir),
                                                    empty_dir_fields, validate_empty_dir};

#define V_HP(member) offsetof(struct kube_volume, host_path.member)
static const struct kube_field host_path_fields[] = {
    {"path", KF_STRING, 0, NULL, 0},
    {"type", KF_STRING, V_OFF(V_HP(type), V_HP(path)), NULL, 0},
    KUBE_FIELDS_END,
};
static int validate_host_path(void *obj, const char *path, pr_error **err)
{
    static const char *const types[] = {
        "",           "DirectoryOrCreate", "Directory", "FileOrCreate", "File", "Socket",
        "CharDevice", "BlockDevice",       NULL};
    __typeof__(((struct kube_volume *)0)->host_path) *hp = obj;
    if (!hp->path || hp->path[0] != '/')
        return pr_err(err, 0, "%s.path: required, and must be an absolute path", path);
    return check_enum(path, "type", hp->type, types, err);
}
static const struct kube_schema host_path_schema = {"HostPathVolumeSource",
                                                    sizeof(((struct kube_volume *)0)->host_path),
                                                    host_path_fields, validate_host_path};

#define V_PVC(member) offsetof(struct kube_volume, pvc.member)
static const struct kube_field pvc_fields[] = {
    {"claimName", KF_STRING, 0, NULL, 0},
    {"readOnly", KF_BOOL, V_OFF(V_PVC(read_only), V_PVC(claim_name)), NULL, 0},
    KUBE_FIELDS_END,
};
static int validate_pvc(void *obj, const char *path, pr_error **err)
{
    __typeof__(((struct kube_volume *)0)->pvc) *pvc = obj;
    return pvc->claim_name && *pvc->claim_name ? 0 : pr_err(err, 0, "%s.claimName: required", path);
}
static const struct kube_schema pvc_schema = {"PersistentVolumeClaimVolumeSource",
                                              sizeof(((struct kube_volume *)0)->pvc), pvc_fields,
                                              validate_pvc};

static const struct kube_field volume_fields[] = {
    KUBE_FIELD(struct kube_volume, "name", KF_STRING, name),
    KUBE_OBJECT(struct kube_volume, "emptyDir", empty_dir, empty_dir_schema, has_empty_dir),
    KUBE_OBJECT(struct kube_volume, "configMap", config_map, config_map_vol_schema, has_config_map),
    KUBE_OBJECT(struct kube_volume, "secret", secret, secret_vol_schema, has_secret),
    KUBE_OBJECT(struct kube_volume, "hostPath", host_path, host_path_schema, has_host_path),
    KUBE_OBJECT(struct kube_volume, "persistentVolumeClaim", pvc, pvc_schema, has_pvc),
    KUBE_OBJECT(struct kube_volume, "downwardAPI", downward_api, downward_vol_schema,
                has_downward_api),
    KUBE_OBJECT(struct kube_volume, "projected", projected, projected_schema, has_projected),
    /* Volume types that need a cloud, a storage system or an API server podrun does not have. */
    {"nfs", KF_UNSUPPORTED, 0, NULL, 0},
    {"iscsi", KF_UNSUPPORTED, 0, NULL, 0},
    {"csi", KF_UNSUPPORTED, 0, NULL, 0},
    {"ephemeral", KF_UNSUPPORTED, 0, NULL, 0},
    {"image", KF_UNSUPPORTED, 0, NULL, 0},
    {"awsElasticBlockStore", KF_UNSUPPORTED, 0, NULL, 0},
    {"gcePersistentDisk", KF_UNSUPPORTED, 0, NULL, 0},
    {"azureDisk", KF_UNSUPPORTED, 0, NULL, 0},
    {"azureFile", KF_UNSUPPORTED, 0, NULL, 0},
    {"cephfs", KF_UNSUPPORTED, 0, NULL, 0},
    {"rbd", KF_UNSUPPORTED, 0, NULL, 0},
    {"glusterfs", KF_UNSUPPORTED, 0, NULL, 0},
    {"fc", KF_UNSUPPORTED, 0, NULL, 0},
    {"gitRepo", KF_UNSUPPORTED, 0, NULL, 0},
    KUBE_FIELDS_END,
};
static int validate_volume(void *obj, const char *path, pr_error **err)
{
    struct kube_volume *v = obj;
    if (!v->name || !kube_valid_label_name(v->name))
        return pr_err(err, 0, "%s.name: \"%s\": required, a lowercase RFC 1123 label", path,
                      v->name ? v->name : "");
    if (v->has_empty_dir + v->has_config_map + v->has_secret + v->has_host_path + v->has_pvc +
            v->has_downward_api + v->has_projected >
        1)
        return pr_err(err, 0, "%s: may not specify more than 1 volume type", path);
    if (!(v->has_config_map || v->has_secret || v->has_host_path || v->has_pvc ||
          v->has_downward_api || v->has_projected))
        v->has_empty_dir = true; /* the API server's default */
    return 0;
}
static const struct kube_schema volume_schema = {"Volume", sizeof(struct kube_volume),
                                                 volume_fields, validate_volume};

/* ---- the pod ---- */

#define PSC(name, type, member) KUBE_FIELD(struct kube_pod_security_context, name, type, member)
#define PSCH(name, type, member, has)                                                              \
    KUBE_FIELD_HAS(struct kube_pod_security_context, name, type, member, has)
static const struct kube_field pod_security_fields[] = {
    PSCH("runAsUser", KF_INT64, run_as_user, has_run_as_user),
    PSCH("runAsGroup", KF_INT64, run_as_group, has_run_as_group),
    PSCH("runAsNonRoot", KF_BOOL, run_as_non_root, has_run_as_non_root),
    PSCH("fsGroup", KF_INT64, fs_group, has_fs_group),
    PSC("supplementalGroups", KF_RAW, supplemental_groups),
    PSC("sysctls", KF_RAW, sysctls),
    KUBE_OBJECT(struct kube_pod_security_context, "seccompProfile", seccomp_profile, seccomp_schema,
                has_seccomp_profile),
    KUBE_IGNORED("fsGroupChangePolicy"),
    PSC("supplementalGroupsPolicy", KF_STRING, supplemental_groups_policy),
    KUBE_IGNORED("seLinuxOptions"),
    KUBE_IGNORED("seLinuxChangePolicy"),
    KUBE_IGNORED("appArmorProfile"),
    KUBE_IGNORED("windowsOptions"),
    KUBE_FIELDS_END,
};
static const struct kube_schema pod_security_schema = {
    "PodSecurityContext", sizeof(struct kube_pod_security_context), pod_security_fields, NULL};

#define S(name, type, member) KUBE_FIELD(struct kube_pod_spec, name, type, member)
static const struct kube_field pod_spec_fields[] = {
    KUBE_LIST(struct kube_pod_spec, "initContainers", init_containers, container_schema,
              n_init_containers),
    KUBE_LIST(struct kube_pod_spec, "containers", containers, container_schema, n_containers),
    KUBE_LIST(struct kube_pod_spec, "volumes", volumes, volume_schema, n_volumes),
    S("restartPolicy", KF_STRING, restart_policy),
    KUBE_FIELD_HAS(struct kube_pod_spec, "terminationGracePeriodSeconds", KF_INT64,
                   termination_grace_period_seconds, has_termination_grace_period_seconds),
    KUBE_FIELD_HAS(struct kube_pod_spec, "activeDeadlineSeconds", KF_INT64, active_deadline_seconds,
                   has_active_deadline_seconds),
    S("dnsPolicy", KF_STRING, dns_policy),
    S("nodeSelector", KF_MAP, node_selector),
    S("nodeName", KF_STRING, node_name),
    S("hostname", KF_STRING, hostname),
    S("subdomain", KF_STRING, subdomain),
    S("hostNetwork", KF_BOOL, host_network),
    S("hostPID", KF_BOOL, host_pid),
    S("hostIPC", KF_BOOL, host_ipc),
    S("shareProcessNamespace", KF_BOOL, share_process_namespace),
    S("setHostnameAsFQDN", KF_BOOL, set_hostname_as_fqdn),
    KUBE_OBJECT(struct kube_pod_spec, "securityContext", security_context, pod_security_schema,
                has_security_context),
    S("hostAliases", KF_RAW, host_aliases),
    S("dnsConfig", KF_RAW, dns_config),
    S("tolerations", KF_RAW, tolerations),
    S("affinity", KF_RAW, affinity),
    /* No API server: no service account tokens, pull secrets of its own, or scheduler. */
    KUBE_IGNORED("serviceAccountName"),
    KUBE_IGNORED("serviceAccount"),
    KUBE_IGNORED("automountServiceAccountToken"),
    KUBE_IGNORED("imagePullSecrets"),
    KUBE_IGNORED("schedulerName"),
    KUBE_IGNORED("priorityClassName"),
    KUBE_IGNORED("priority"),
    KUBE_IGNORED("preemptionPolicy"),
    KUBE_IGNORED("topologySpreadConstraints"),
    KUBE_IGNORED("enableServiceLinks"),
    KUBE_IGNORED("readinessGates"),
    KUBE_IGNORED("schedulingGates"),
    KUBE_IGNORED("os"),
    KUBE_IGNORED("overhead"),
    {"runtimeClassName", KF_UNSUPPORTED, 0, NULL, 0},
    {"ephemeralContainers", KF_UNSUPPORTED, 0, NULL, 0},
    {"hostUsers", KF_UNSUPPORTED, 0, NULL, 0},
    {"resourceClaims", KF_UNSUPPORTED, 0, NULL, 0},
    {"resources", KF_UNSUPPORTED, 0, NULL, 0},
    KUBE_FIELDS_END,
};

static int unique_names(const struct kube_pod_spec *s, const char *path, pr_error **err)
{
    size_t n = s->n_init_containers + s->n_containers;
    for (size_t i = 0; i < n; i++) {
        bool init_i = i < s->n_init_containers;
        const struct kube_container *a =
            init_i ? &s->init_containers[i] : &s->containers[i - s->n_init_containers];
        for (size_t j = 0; j < i; j++) {
            const struct kube_container *b = j < s->n_init_containers
                                                 ? &s->init_containers[j]
                                                 : &s->containers[j - s->n_init_containers];
            if (streq(a->name, b->name))
                return pr_err(err, 0, "%s.%s[%zu].name: duplicate value \"%s\"", path,
                              init_i ? "initContainers" : "containers",
                              init_i ? i : i - s->n_init_containers, a->name);
        }
    }
    return 0;
}

static int mounts_name_volumes(const struct kube_pod_spec *s, const char *path, pr_error **err)
{
    for (size_t i = 0; i < s->n_volumes; i++)
        for (size_t j = 0; j < i; j++)
            if (streq(s->volumes[i].name, s->volumes[j].name))
                return pr_err(err, 0, "%s.volumes[%zu].name: duplicate value \"%s\"", path, i,
                              s->volumes[i].name);
    for (int init = 0; init < 2; init++) {
        const struct kube_container *cs = init ? s->init_containers : s->containers;
        size_t n = init ? s->n_init_containers : s->n_containers;
        for (size_t c = 0; c < n; c++)
            for (size_t m = 0; m < cs[c].n_volume_mounts; m++) {
                const char *name = cs[c].volume_mounts[m].name;
                size_t v = 0;
                while (v < s->n_volumes && !streq(s->volumes[v].name, name))
                    v++;
                if (v == s->n_volumes)
                    return pr_err(err, 0,
                                  "%s.%s[%zu].volumeMounts[%zu].name: not found: no "
                                  "volume \"%s\"",
                                  path, init ? "initContainers" : "containers", c, m, name);
            }
    }
    return 0;
}

/* With hostNetwork a container's port is the node's: the API server defaults hostPort to
 * containerPort and refuses any other value. */
static int host_network_ports(struct kube_pod_spec *s, const char *path, pr_error **err)
{
    for (size_t i = 0; s->host_network && i < s->n_init_containers + s->n_containers; i++) {
        bool init = i < s->n_init_containers;
        struct kube_container *c =
            init ? &s->init_containers[i] : &s->containers[i - s->n_init_containers];
        for (size_t j = 0; j < c->n_ports; j++) {
            struct kube_container_port *p = &c->ports[j];
            if (!p->host_port)
                p->host_port = p->container_port;
            if (p->host_port != p->container_port)
                return pr_err(err, 0,
                              "%s.%s[%zu].ports[%zu].hostPort: Invalid value: %d: must match "
                              "`containerPort` when `hostNetwork` is true",
                              path, init ? "initContainers" : "containers",
                              init ? i : i - s->n_init_containers, j, (int)p->host_port);
        }
    }
    return 0;
}

static int validate_pod_spec(void *obj, const char *path, pr_error **err)
{
    static const char *const restart[] = {"Always", "OnFailure", "Never", NULL};
    static const char *const dns[] = {"ClusterFirst", "ClusterFirstWithHostNet", "Default", "None",
                                      NULL};
    struct kube_pod_spec *s = obj;
    int r;
    if (s->n_containers == 0)
        return pr_err(err, 0, "%s.containers: Required value", path);
    if (!s->restart_policy)
        s->restart_policy = "Always";
    if (!s->dns_policy)
        s->dns_policy = "ClusterFirst";
    if (!s->has_termination_grace_period_seconds)
        s->termination_grace_period_seconds = 30;
    if ((r = check_enum(path, "restartPolicy", s->restart_policy, restart, err)) < 0 ||
        (r = check_enum(path, "dnsPolicy", s->dns_policy, dns, err)) < 0 ||
        (r = unique_names(s, path, err)) < 0 || (r = mounts_name_volumes(s, path, err)) < 0)
        return r;
    if (s->termination_grace_period_seconds < 0)
        return pr_err(err, 0, "%s.terminationGracePeriodSeconds: must be >= 0", path);
    if (s->has_active_deadline_seconds && s->active_deadline_seconds < 1)
        return pr_err(err, 0, "%s.activeDeadlineSeconds: must be >= 1", path);
    if (s->hostname && !kube_valid_label_name(s->hostname))
        return pr_err(err, 0, "%s.hostname: \"%s\": must be a lowercase RFC 1123 label", path,
                      s->hostname);
    if (s->subdomain && !kube_valid_label_name(s->subdomain))
        return pr_err(err, 0, "%s.subdomain: \"%s\": must be a lowercase RFC 1123 label", path,
                      s->subdomain);
    if ((r = host_network_ports(s, path, err)) < 0)
        return r;
    if (s->share_process_namespace && s->host_pid)
        return pr_err(err, 0,
                      "%s.shareProcessNamespace: Invalid value: true: ShareProcessNamespace and "
                      "HostPID cannot both be enabled",
                      path);
    for (size_t i = 0; i < s->n_containers; i++)
        if (s->containers[i].restart_policy)
            return pr_err(err, 0,
                          "%s.containers[%zu].restartPolicy: may be set only for init "
                          "containers",
                          path, i);
    for (size_t i = 0; i < s->n_init_containers; i++) {
        const char *rp = s->init_containers[i].restart_policy;
        if (rp && !streq(rp, "Always"))
            return pr_err(err, 0,
                          "%s.initContainers[%zu].restartPolicy: only \"Always\" is "
                          "allowed",
                          path, i);
    }
    return 0;
}

const struct kube_schema kube_pod_spec_schema = {"PodSpec", sizeof(struct kube_pod_spec),
                                                 pod_spec_fields, validate_pod_spec};
