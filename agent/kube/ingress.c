/* SPDX-License-Identifier: Apache-2.0 */
/* networking.k8s.io/v1 Ingress and IngressClass: their schemas and the API server's
 * validation (what needs no other object: the services and Secrets they name are the pod
 * manager's to look up). Messages follow the API server's wording. Paths and hosts end up in
 * the proxy's configuration, so what the API server allows and nginx would read as syntax
 * (whitespace, quotes, braces, semicolons) is refused here too, as ingress-nginx refuses it. */
#include "schema.h"
#include "util.h"

#include <arpa/inet.h>
#include <errno.h>

#define PATH_MAX_LEN 1024

static const struct kube_field port_fields[] = {
    KUBE_FIELD(struct kube_ingress_port, "number", KF_INT32, number),
    KUBE_FIELD(struct kube_ingress_port, "name", KF_STRING, name),
    KUBE_FIELDS_END,
};
static const struct kube_schema port_schema = {"ServiceBackendPort",
                                               sizeof(struct kube_ingress_port), port_fields, NULL};

/* The service of a backend: {name, port: {number | name}}. */
#define service_ref kube_ingress_service_ref
static const struct kube_field service_fields[] = {
    KUBE_FIELD(struct service_ref, "name", KF_STRING, name),
    KUBE_OBJECT(struct service_ref, "port", port, port_schema, has_port),
    KUBE_FIELDS_END,
};
static const struct kube_schema service_schema = {"IngressServiceBackend",
                                                  sizeof(struct service_ref), service_fields, NULL};

static int validate_backend(void *obj, const char *path, pr_error **err)
{
    struct kube_ingress_backend *b = obj;
    if (!b->has_service)
        return pr_err(err, 0, "%s: Invalid value: one backend (service) must be specified", path);
    if (!b->service.name || !kube_valid_label_name(b->service.name))
        return pr_err(err, 0,
                      "%s.service.name: Invalid value: \"%s\": a DNS-1035 label is required", path,
                      b->service.name ? b->service.name : "");
    const struct kube_ingress_port *p = &b->service.port;
    if (!b->service.has_port || (!p->number && !p->name))
        return pr_err(err, 0, "%s.service.port: Invalid value: port name or number is required",
                      path);
    if (p->number && p->name)
        return pr_err(err, 0,
                      "%s.service.port: Invalid value: cannot set both port name & port number",
                      path);
    if (!p->name && (p->number < 1 || p->number > 65535))
        return pr_err(err, 0,
                      "%s.service.port.number: Invalid value: %d: must be between 1 and 65535, "
                      "inclusive",
                      path, p->number);
    if (p->name && (strlen(p->name) > 15 || !kube_valid_label_name(p->name)))
        return pr_err(err, 0,
                      "%s.service.port.name: Invalid value: \"%s\": must be an IANA service name",
                      path, p->name);
    return 0;
}

static const struct kube_field backend_outer_fields[] = {
    KUBE_OBJECT(struct kube_ingress_backend, "service", service, service_schema, has_service),
    {"resource", KF_UNSUPPORTED, 0, NULL, 0},
    KUBE_FIELDS_END,
};
static const struct kube_schema backend_schema = {
    "IngressBackend", sizeof(struct kube_ingress_backend), backend_outer_fields, validate_backend};

/* A path podrun can write into nginx's configuration as it is: printable, without
 * whitespace, quotes, braces, semicolons, `#` or `\`. */
static bool safe_path(const char *s)
{
    for (const char *c = s; *c; c++)
        if (*c <= ' ' || *c >= 0x7f || strchr("\"'{};#\\$", *c))
            return false;
    return strlen(s) <= PATH_MAX_LEN;
}

static int validate_path(void *obj, const char *path, pr_error **err)
{
    struct kube_ingress_path *p = obj;
    if (!p->path_type)
        return pr_err(err, 0, "%s.pathType: Required value: pathType must be specified", path);
    bool impl = streq(p->path_type, "ImplementationSpecific");
    if (!impl && !streq(p->path_type, "Exact") && !streq(p->path_type, "Prefix"))
        return pr_err(err, 0,
                      "%s.pathType: Unsupported value: \"%s\": supported values: \"Exact\", "
                      "\"ImplementationSpecific\", \"Prefix\"",
                      path, p->path_type);
    if (p->path && !*p->path)
        p->path = NULL;
    if (!p->path && !impl)
        return pr_err(err, 0, "%s.path: Invalid value: \"\": must be an absolute path", path);
    if (p->path && p->path[0] != '/')
        return pr_err(err, 0, "%s.path: Invalid value: \"%s\": must be an absolute path", path,
                      p->path);
    if (p->path && (!safe_path(p->path) || strstr(p->path, "//")))
        return pr_err(err, 0,
                      "%s.path: Invalid value: \"%.64s\": podrun's ingress takes paths of at most "
                      "%d printable characters without whitespace, quotes, braces, `;`, `#`, "
                      "`$`, `\\` or `//`",
                      path, p->path, PATH_MAX_LEN);
    if (!p->has_backend)
        return pr_err(err, 0, "%s.backend: Required value", path);
    return 0;
}

static const struct kube_field path_fields[] = {
    KUBE_FIELD(struct kube_ingress_path, "path", KF_STRING, path),
    KUBE_FIELD(struct kube_ingress_path, "pathType", KF_STRING, path_type),
    KUBE_OBJECT(struct kube_ingress_path, "backend", backend, backend_schema, has_backend),
    KUBE_FIELDS_END,
};
static const struct kube_schema path_schema = {"HTTPIngressPath", sizeof(struct kube_ingress_path),
                                               path_fields, validate_path};

#define http_value kube_ingress_http
static int validate_http(void *obj, const char *path, pr_error **err)
{
    struct http_value *h = obj;
    if (!h->n_paths)
        return pr_err(err, 0, "%s.paths: Required value", path);
    return 0;
}
static const struct kube_field http_fields[] = {
    KUBE_LIST(struct http_value, "paths", paths, path_schema, n_paths),
    KUBE_FIELDS_END,
};
static const struct kube_schema http_schema = {"HTTPIngressRuleValue", sizeof(struct http_value),
                                               http_fields, validate_http};

bool kube_ingress_host_valid(const char *host)
{
    struct in_addr a;
    const char *name = strncmp(host, "*.", 2) == 0 ? host + 2 : host;
    return inet_pton(AF_INET, host, &a) != 1 && !strchr(name, '*') && kube_valid_subdomain(name);
}

static int check_host(const char *host, const char *path, pr_error **err)
{
    struct in_addr a;
    if (inet_pton(AF_INET, host, &a) == 1)
        return pr_err(err, 0, "%s: Invalid value: \"%s\": must be a DNS name, not an IP address",
                      path, host);
    if (!kube_ingress_host_valid(host))
        return pr_err(err, 0,
                      "%s: Invalid value: \"%s\": a lowercase RFC 1123 subdomain is required, "
                      "optionally prefixed by \"*.\" (a wildcard of one label)",
                      path, host);
    return 0;
}

static int validate_rule(void *obj, const char *path, pr_error **err)
{
    struct kube_ingress_rule *r = obj;
    _cleanup_free_ char *where = xasprintf("%s.host", path);
    if (r->host && !*r->host)
        r->host = NULL;
    int e = r->host ? check_host(r->host, where, err) : 0;
    if (e < 0)
        return e;
    if (!r->has_http)
        return pr_err_code(err, EOPNOTSUPP,
                           "%s.http: a rule without http routes nothing (podrun serves HTTP "
                           "rules only)",
                           path);
    return 0;
}

static const struct kube_field rule_fields[] = {
    KUBE_FIELD(struct kube_ingress_rule, "host", KF_STRING, host),
    KUBE_OBJECT(struct kube_ingress_rule, "http", http, http_schema, has_http),
    KUBE_FIELDS_END,
};
static const struct kube_schema rule_schema = {"IngressRule", sizeof(struct kube_ingress_rule),
                                               rule_fields, validate_rule};

static int validate_tls(void *obj, const char *path, pr_error **err)
{
    struct kube_ingress_tls *t = obj;
    for (size_t i = 0; t->hosts && t->hosts[i]; i++) {
        _cleanup_free_ char *where = xasprintf("%s.hosts[%zu]", path, i);
        int r = check_host(t->hosts[i], where, err);
        if (r < 0)
            return r;
    }
    if (!t->secret_name || !kube_valid_subdomain(t->secret_name))
        return pr_err(err, 0,
                      "%s.secretName: Invalid value: \"%s\": podrun terminates TLS with a "
                      "kubernetes.io/tls Secret: a Secret's name is required",
                      path, t->secret_name ? t->secret_name : "");
    return 0;
}

static const struct kube_field tls_fields[] = {
    KUBE_FIELD(struct kube_ingress_tls, "hosts", KF_STRV, hosts),
    KUBE_FIELD(struct kube_ingress_tls, "secretName", KF_STRING, secret_name),
    KUBE_FIELDS_END,
};
static const struct kube_schema tls_schema = {"IngressTLS", sizeof(struct kube_ingress_tls),
                                              tls_fields, validate_tls};

static int validate_spec(void *obj, const char *path, pr_error **err)
{
    struct kube_ingress_spec *s = obj;
    if (!s->has_default_backend && !s->n_rules)
        return pr_err(err, 0,
                      "%s: Invalid value: either `defaultBackend` or `rules` must be specified",
                      path);
    if (s->class_name && !kube_valid_subdomain(s->class_name))
        return pr_err(err, 0,
                      "%s.ingressClassName: Invalid value: \"%s\": a lowercase RFC 1123 "
                      "subdomain is required",
                      path, s->class_name);
    return 0;
}

static const struct kube_field spec_fields[] = {
    KUBE_FIELD(struct kube_ingress_spec, "ingressClassName", KF_STRING, class_name),
    KUBE_OBJECT(struct kube_ingress_spec, "defaultBackend", default_backend, backend_schema,
                has_default_backend),
    KUBE_LIST(struct kube_ingress_spec, "tls", tls, tls_schema, n_tls),
    KUBE_LIST(struct kube_ingress_spec, "rules", rules, rule_schema, n_rules),
    KUBE_FIELDS_END,
};
const struct kube_schema kube_ingress_spec_schema = {
    "IngressSpec", sizeof(struct kube_ingress_spec), spec_fields, validate_spec};

static int validate_class(void *obj, const char *path, pr_error **err)
{
    struct kube_ingress_class_spec *c = obj;
    if (!c->controller || !*c->controller)
        return pr_err(err, 0, "%s.controller: Required value", path);
    if (strlen(c->controller) > 250 || !strchr(c->controller, '/'))
        return pr_err(err, 0,
                      "%s.controller: Invalid value: \"%s\": must be a domain-prefixed path "
                      "(such as \"acme.io/foo\")",
                      path, c->controller);
    return 0;
}

static const struct kube_field class_fields[] = {
    KUBE_FIELD(struct kube_ingress_class_spec, "controller", KF_STRING, controller),
    {"parameters", KF_UNSUPPORTED, 0, NULL, 0},
    KUBE_FIELDS_END,
};
const struct kube_schema kube_ingress_class_spec_schema = {
    "IngressClassSpec", sizeof(struct kube_ingress_class_spec), class_fields, validate_class};
