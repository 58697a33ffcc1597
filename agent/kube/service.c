/* SPDX-License-Identifier: Apache-2.0 */
/* core/v1 Service: the schema of its spec, the API server's defaults and the validation that
 * needs no other object (ranges and what is taken are the pod manager's, which knows the
 * node's settings and the other services). Messages follow the API server's wording. Features
 * podrun does not run yet are refused by name. */
#include "schema.h"
#include "json.h"
#include "util.h"

#include <arpa/inet.h>
#include <errno.h>

static const struct kube_field port_fields[] = {
    KUBE_FIELD(struct kube_service_port, "name", KF_STRING, name),
    KUBE_FIELD(struct kube_service_port, "protocol", KF_STRING, protocol),
    KUBE_FIELD(struct kube_service_port, "port", KF_INT32, port),
    KUBE_FIELD(struct kube_service_port, "targetPort", KF_INT_OR_STRING, target_port),
    KUBE_FIELD(struct kube_service_port, "nodePort", KF_INT32, node_port),
    KUBE_FIELD(struct kube_service_port, "appProtocol", KF_STRING, app_protocol),
    KUBE_FIELDS_END,
};

/* An IANA service name, as a container port's name: at most 15 of a-z, 0-9 and '-', with a
 * letter, no '-' at either end nor two in a row. */
static bool valid_port_name(const char *s)
{
    size_t n = strlen(s);
    bool letter = false;
    if (n == 0 || n > 15 || s[0] == '-' || s[n - 1] == '-' || strstr(s, "--"))
        return false;
    for (size_t i = 0; i < n; i++) {
        if (s[i] >= 'a' && s[i] <= 'z')
            letter = true;
        else if (!(s[i] >= '0' && s[i] <= '9') && s[i] != '-')
            return false;
    }
    return letter;
}

static int validate_port(void *obj, const char *path, pr_error **err)
{
    struct kube_service_port *p = obj;
    if (!p->protocol)
        p->protocol = "TCP";
    if (streq(p->protocol, "SCTP"))
        return pr_err_code(err, EOPNOTSUPP,
                           "%s.protocol: \"SCTP\": podrun's service proxy serves TCP and UDP only",
                           path);
    if (!streq(p->protocol, "TCP") && !streq(p->protocol, "UDP"))
        return pr_err(err, 0,
                      "%s.protocol: Unsupported value: \"%s\": supported values: \"SCTP\", "
                      "\"TCP\", \"UDP\"",
                      path, p->protocol);
    if (p->port < 1 || p->port > 65535)
        return pr_err(err, 0, "%s.port: Invalid value: %d: must be between 1 and 65535, inclusive",
                      path, p->port);
    if (p->name && *p->name && !valid_port_name(p->name))
        return pr_err(err, 0,
                      "%s.name: Invalid value: \"%s\": must be an IANA service name (at most 15 "
                      "of a-z, 0-9 and '-', with at least one letter)",
                      path, p->name);
    if (!p->target_port.set || (!p->target_port.is_string && p->target_port.i == 0))
        p->target_port = (struct kube_int_or_string){.set = true, .i = p->port};
    if (p->target_port.is_string && !valid_port_name(p->target_port.s))
        return pr_err(err, 0, "%s.targetPort: Invalid value: \"%s\": must be an IANA service name",
                      path, p->target_port.s);
    if (!p->target_port.is_string && (p->target_port.i < 1 || p->target_port.i > 65535))
        return pr_err(err, 0,
                      "%s.targetPort: Invalid value: %lld: must be between 1 and 65535, inclusive",
                      path, (long long)p->target_port.i);
    if (p->node_port < 0 || p->node_port > 65535)
        return pr_err(err, 0,
                      "%s.nodePort: Invalid value: %d: must be between 1 and 65535, inclusive",
                      path, p->node_port);
    return 0;
}

static const struct kube_schema port_schema = {"ServicePort", sizeof(struct kube_service_port),
                                               port_fields, validate_port};

#define S(name, type, member) KUBE_FIELD(struct kube_service_spec, name, type, member)
static const struct kube_field spec_fields[] = {
    S("type", KF_STRING, type),
    S("selector", KF_MAP, selector),
    KUBE_LIST(struct kube_service_spec, "ports", ports, port_schema, n_ports),
    S("clusterIP", KF_STRING, cluster_ip),
    S("clusterIPs", KF_STRV, cluster_ips),
    S("sessionAffinity", KF_STRING, session_affinity),
    S("externalTrafficPolicy", KF_STRING, external_traffic_policy),
    S("internalTrafficPolicy", KF_STRING, internal_traffic_policy),
    S("ipFamilies", KF_STRV, ip_families),
    S("ipFamilyPolicy", KF_STRING, ip_family_policy),
    S("publishNotReadyAddresses", KF_BOOL, publish_not_ready_addresses),
    {"externalIPs", KF_UNSUPPORTED, 0, NULL, 0},
    S("externalName", KF_STRING, external_name),
    S("loadBalancerIP", KF_STRING, load_balancer_ip),
    {"loadBalancerSourceRanges", KF_UNSUPPORTED, 0, NULL, 0},
    {"loadBalancerClass", KF_UNSUPPORTED, 0, NULL, 0},
    S("allocateLoadBalancerNodePorts", KF_RAW, allocate_lb_node_ports),
    S("healthCheckNodePort", KF_INT32, health_check_node_port),
    S("sessionAffinityConfig", KF_RAW, session_affinity_config),
    {"trafficDistribution", KF_UNSUPPORTED, 0, NULL, 0},
    KUBE_FIELDS_END,
};
#undef S

static bool valid_ipv4(const char *s)
{
    struct in_addr a;
    return inet_pton(AF_INET, s, &a) == 1;
}

static int validate_ports(struct kube_service_spec *s, const char *path, pr_error **err)
{
    bool cluster_ip = streq(s->type, "ClusterIP");
    if (s->n_ports == 0 && !(s->cluster_ip && streq(s->cluster_ip, "None")))
        return pr_err(err, 0, "%s.ports: Required value", path);
    for (size_t i = 0; i < s->n_ports; i++) {
        const struct kube_service_port *p = &s->ports[i];
        if (s->n_ports > 1 && (!p->name || !*p->name))
            return pr_err(err, 0, "%s.ports[%zu].name: Required value", path, i);
        if (cluster_ip && p->node_port)
            return pr_err(err, 0,
                          "%s.ports[%zu].nodePort: Forbidden: may not be used when `type` is "
                          "'ClusterIP'",
                          path, i);
        for (size_t j = 0; j < i; j++) {
            const struct kube_service_port *q = &s->ports[j];
            if (p->name && q->name && *p->name && streq(p->name, q->name))
                return pr_err(err, 0, "%s.ports[%zu].name: Duplicate value: \"%s\"", path, i,
                              p->name);
            if (p->port == q->port && streq(p->protocol, q->protocol))
                return pr_err(err, 0, "%s.ports[%zu]: Duplicate value: %d/%s", path, i, p->port,
                              p->protocol);
            if (p->node_port && p->node_port == q->node_port && streq(p->protocol, q->protocol))
                return pr_err(err, 0, "%s.ports[%zu].nodePort: Duplicate value: %d", path, i,
                              p->node_port);
        }
    }
    return 0;
}

/* sessionAffinityConfig: {clientIP: {timeoutSeconds: 1..86400}} with ClientIP only, as the
 * API server checks it; ClientIP's timeout defaults to 10800 (three hours). */
static int check_affinity(struct kube_service_spec *s, const char *path, pr_error **err)
{
    yajl_val c = s->session_affinity_config;
    bool client = streq(s->session_affinity, "ClientIP");
    s->affinity_timeout = client ? 10800 : 0;
    if (!c)
        return 0;
    if (!client)
        return pr_err(err, 0,
                      "%s.sessionAffinityConfig: Invalid value: must not be set when "
                      "sessionAffinity is %s",
                      path, s->session_affinity);
    yajl_val ip = json_get(c, "clientIP");
    if (!YAJL_IS_OBJECT(c) || c->u.object.len > 1 || (c->u.object.len && !ip) ||
        (ip && !YAJL_IS_OBJECT(ip)) || (ip && ip->u.object.len > 1) ||
        (ip && ip->u.object.len && !json_get(ip, "timeoutSeconds")))
        return pr_err(err, 0, "%s.sessionAffinityConfig: only clientIP.timeoutSeconds is known",
                      path);
    yajl_val t = json_get(ip, "timeoutSeconds");
    if (!t)
        return 0;
    if (!YAJL_IS_INTEGER(t) || YAJL_GET_INTEGER(t) < 1 || YAJL_GET_INTEGER(t) > 86400)
        return pr_err(err, 0,
                      "%s.sessionAffinityConfig.clientIP.timeoutSeconds: Invalid value: must be "
                      "greater than 0 and less than 86400",
                      path);
    s->affinity_timeout = (int32_t)YAJL_GET_INTEGER(t);
    return 0;
}

/* ExternalName: a CNAME to externalName (a lowercase DNS subdomain, as the API server wants
 * it); no clusterIP, no selector's endpoints, ports only informational. */
static int validate_external_name(struct kube_service_spec *s, const char *path, pr_error **err)
{
    if (!s->external_name || !*s->external_name)
        return pr_err(err, 0, "%s.externalName: Required value", path);
    if (!kube_valid_subdomain(s->external_name))
        return pr_err(err, 0,
                      "%s.externalName: Invalid value: \"%s\": a lowercase RFC 1123 subdomain "
                      "must consist of lower case alphanumeric characters, '-' or '.', and must "
                      "start and end with an alphanumeric character",
                      path, s->external_name);
    if (s->cluster_ip && *s->cluster_ip)
        return pr_err(err, 0,
                      "%s.clusterIP: Invalid value: \"%s\": may not be set for ExternalName "
                      "services",
                      path, s->cluster_ip);
    if (!s->session_affinity)
        s->session_affinity = "None";
    s->cluster_ip = NULL;
    for (size_t i = 0; i < s->n_ports; i++)
        if (s->ports[i].node_port)
            return pr_err(err, 0,
                          "%s.ports[%zu].nodePort: Forbidden: may not be used when `type` is "
                          "'ExternalName'",
                          path, i);
    return 0;
}

static int validate_spec(void *obj, const char *path, pr_error **err)
{
    struct kube_service_spec *s = obj;
    if (!s->type)
        s->type = "ClusterIP";
    if (streq(s->type, "ExternalName"))
        return validate_external_name(s, path, err);
    if (s->external_name)
        return pr_err(err, 0,
                      "%s.externalName: Invalid value: \"%s\": may only be set for "
                      "ExternalName services",
                      path, s->external_name);
    bool lb = streq(s->type, "LoadBalancer");
    if (!streq(s->type, "ClusterIP") && !streq(s->type, "NodePort") && !lb)
        return pr_err(err, 0,
                      "%s.type: Unsupported value: \"%s\": supported values: \"ClusterIP\", "
                      "\"ExternalName\", \"LoadBalancer\", \"NodePort\"",
                      path, s->type);
    if (!s->session_affinity)
        s->session_affinity = "None";
    int r = check_affinity(s, path, err);
    if (r < 0)
        return r;
    if (!streq(s->session_affinity, "None") && !streq(s->session_affinity, "ClientIP"))
        return pr_err(err, 0,
                      "%s.sessionAffinity: Unsupported value: \"%s\": supported values: "
                      "\"ClientIP\", \"None\"",
                      path, s->session_affinity);
    if (!s->internal_traffic_policy)
        s->internal_traffic_policy = "Cluster";
    if (!streq(s->internal_traffic_policy, "Cluster") &&
        !streq(s->internal_traffic_policy, "Local"))
        return pr_err(err, 0,
                      "%s.internalTrafficPolicy: Unsupported value: \"%s\": supported values: "
                      "\"Cluster\", \"Local\"",
                      path, s->internal_traffic_policy);
    if (s->load_balancer_ip && !lb)
        return pr_err(err, 0,
                      "%s.loadBalancerIP: Forbidden: may only be used when `type` is "
                      "'LoadBalancer'",
                      path);
    if (s->allocate_lb_node_ports && !lb)
        return pr_err(err, 0,
                      "%s.allocateLoadBalancerNodePorts: Forbidden: may only be used when `type` "
                      "is 'LoadBalancer'",
                      path);
    if (s->allocate_lb_node_ports && !YAJL_IS_TRUE(s->allocate_lb_node_ports))
        return pr_err_code(err, EOPNOTSUPP,
                           "%s.allocateLoadBalancerNodePorts: podrun's load balancer reaches the "
                           "service through its nodePorts: only true is supported",
                           path);
    if (s->load_balancer_ip && !valid_ipv4(s->load_balancer_ip))
        return pr_err(err, 0,
                      "%s.loadBalancerIP: Invalid value: \"%s\": must be a valid IPv4 address",
                      path, s->load_balancer_ip);
    if (streq(s->type, "NodePort") || lb) {
        if (!s->external_traffic_policy)
            s->external_traffic_policy = "Cluster";
        if (!streq(s->external_traffic_policy, "Cluster") &&
            !streq(s->external_traffic_policy, "Local"))
            return pr_err(err, 0,
                          "%s.externalTrafficPolicy: Unsupported value: \"%s\": supported "
                          "values: \"Cluster\", \"Local\"",
                          path, s->external_traffic_policy);
    } else if (s->external_traffic_policy) {
        return pr_err(err, 0,
                      "%s.externalTrafficPolicy: Invalid value: \"%s\": may only be set for "
                      "externally-accessible services",
                      path, s->external_traffic_policy);
    }
    /* The API server allocates a health-check port for a LoadBalancer with Local only. */
    bool health = lb && streq(s->external_traffic_policy, "Local");
    if (s->health_check_node_port && !health)
        return pr_err(err, 0,
                      "%s.healthCheckNodePort: Invalid value: %d: may only be set when `type` is "
                      "'LoadBalancer' and `externalTrafficPolicy` is 'Local'",
                      path, s->health_check_node_port);
    if (s->health_check_node_port < 0 || s->health_check_node_port > 65535)
        return pr_err(err, 0,
                      "%s.healthCheckNodePort: Invalid value: %d: must be between 1 and 65535, "
                      "inclusive",
                      path, s->health_check_node_port);
    for (size_t i = 0; s->ip_families && s->ip_families[i]; i++)
        if (!streq(s->ip_families[i], "IPv4"))
            return pr_err_code(err, EOPNOTSUPP,
                               "%s.ipFamilies[%zu]: \"%s\": podrun's services are IPv4 only so far",
                               path, i, s->ip_families[i]);
    if (s->ip_family_policy && !streq(s->ip_family_policy, "SingleStack"))
        return pr_err_code(err, EOPNOTSUPP,
                           "%s.ipFamilyPolicy: \"%s\": podrun's services are SingleStack only",
                           path, s->ip_family_policy);
    if (s->cluster_ip && !*s->cluster_ip)
        s->cluster_ip = NULL; /* "" asks for one, as unset does */
    if (!s->cluster_ip && s->cluster_ips && s->cluster_ips[0])
        s->cluster_ip = s->cluster_ips[0];
    if (s->cluster_ip && s->cluster_ips && s->cluster_ips[0] &&
        !streq(s->cluster_ip, s->cluster_ips[0]))
        return pr_err(err, 0,
                      "%s.clusterIPs[0]: Invalid value: \"%s\": must match `clusterIP` (\"%s\")",
                      path, s->cluster_ips[0], s->cluster_ip);
    if (s->cluster_ips && s->cluster_ips[0] && s->cluster_ips[1])
        return pr_err_code(err, EOPNOTSUPP,
                           "%s.clusterIPs: podrun's services are SingleStack: one address only",
                           path);
    if (s->cluster_ip && !streq(s->cluster_ip, "None") && !valid_ipv4(s->cluster_ip))
        return pr_err(err, 0,
                      "%s.clusterIPs[0]: Invalid value: \"%s\": must be a valid IP address, "
                      "(e.g. 10.9.8.7 or 2001:db8::ffff)",
                      path, s->cluster_ip);
    if (s->cluster_ip && streq(s->cluster_ip, "None") && !streq(s->type, "ClusterIP"))
        return pr_err(err, 0,
                      "%s.clusterIPs[0]: Invalid value: \"None\": may not be set to 'None' for "
                      "%s services",
                      path, s->type);
    return validate_ports(s, path, err);
}

const struct kube_schema kube_service_spec_schema = {
    "ServiceSpec", sizeof(struct kube_service_spec), spec_fields, validate_spec};
