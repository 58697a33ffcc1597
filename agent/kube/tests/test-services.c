/* SPDX-License-Identifier: Apache-2.0 */
/* Services: decoding with the API server's defaults and refusals (kube/service.c), and the
 * endpoints as a pure function of the service and the pods (kube/endpoints.c). */
#include "json.h"
#include "kube/kube.h"
#include "tests/lib/unit.h"
#include "util.h"

static yajl_val tree(const char *json)
{
    yajl_val v = NULL;
    pr_error *err = NULL;
    if (json_parse(json, "t", &v, &err) < 0) {
        fprintf(stderr, "# %s\n", err->msg);
        pr_error_free(err);
    }
    return v;
}

/* Decodes a Service; NULL with *msg set when refused. */
static struct kube_object *service(const char *spec, char **msg)
{
    _cleanup_free_ char *json = xasprintf(
        "{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"s\"},\"spec\":%s}",
        spec);
    struct kube_object *o = NULL;
    pr_error *err = NULL;
    if (kube_object_decode(tree(json), "s.yaml", &o, &err) < 0) {
        *msg = xstrdup(err->msg);
        pr_error_free(err);
        return NULL;
    }
    return o;
}

static void test_service_defaults(void)
{
    char *msg = NULL;
    struct kube_object *o =
        service("{\"selector\":{\"app\":\"web\"},\"ports\":[{\"port\":8081}]}", &msg);
    CHECK(o);
    if (!o)
        return;
    const struct kube_service_spec *s = &o->u.service;
    CHECK_STR(s->type, "ClusterIP");
    CHECK_STR(s->session_affinity, "None");
    CHECK_STR(s->ports[0].protocol, "TCP");
    CHECK(!s->ports[0].target_port.is_string && s->ports[0].target_port.i == 8081);
    CHECK(s->cluster_ip == NULL);
    CHECK(s->affinity_timeout == 0);
    kube_object_free(o);
}

/* LoadBalancer: a NodePort service with a pool address (the pod manager's to give). */
static void test_load_balancer(void)
{
    char *msg = NULL;
    struct kube_object *o = service("{\"type\":\"LoadBalancer\",\"loadBalancerIP\":\"192.0.2.7\","
                                    "\"ports\":[{\"port\":80}]}",
                                    &msg);
    CHECK(o);
    if (!o) {
        fprintf(stderr, "# %s\n", msg);
        free(msg);
        return;
    }
    CHECK_STR(o->u.service.type, "LoadBalancer");
    CHECK_STR(o->u.service.load_balancer_ip, "192.0.2.7");
    CHECK_STR(o->u.service.external_traffic_policy, "Cluster");
    kube_object_free(o);
    o = service("{\"type\":\"LoadBalancer\",\"externalTrafficPolicy\":\"Local\","
                "\"healthCheckNodePort\":30100,\"ports\":[{\"port\":80}]}",
                &msg);
    CHECK(o);
    if (o) {
        CHECK_STR(o->u.service.external_traffic_policy, "Local");
        CHECK(o->u.service.health_check_node_port == 30100);
    }
    kube_object_free(o);
}

static void refused(const char *spec, const char *want)
{
    char *msg = NULL;
    struct kube_object *o = service(spec, &msg);
    CHECK(!o);
    kube_object_free(o);
    if (!msg || !strstr(msg, want))
        fprintf(stderr, "# want \"%s\" in \"%s\"\n", want, msg ? msg : "(none)");
    CHECK(msg && strstr(msg, want));
    free(msg);
}

static void test_service_refusals(void)
{
    refused("{\"ports\":[{\"port\":0}]}", "spec.ports[0].port: Invalid value: 0");
    refused("{\"ports\":[{\"name\":\"a\",\"port\":1},{\"name\":\"a\",\"port\":2}]}",
            "spec.ports[1].name: Duplicate value: \"a\"");
    refused("{\"ports\":[{\"name\":\"a\",\"port\":1},{\"name\":\"b\",\"port\":1}]}",
            "spec.ports[1]: Duplicate value: 1/TCP");
    refused("{\"ports\":[{\"port\":1,\"nodePort\":30001}]}", "nodePort: Forbidden");
    refused("{\"type\":\"NodePort\",\"ports\":[{\"name\":\"a\",\"port\":1,\"nodePort\":30001},"
            "{\"name\":\"b\",\"port\":2,\"nodePort\":30001}]}",
            "spec.ports[1].nodePort: Duplicate value: 30001");
    refused("{\"ports\":[{\"port\":1,\"targetPort\":\"no_such\"}]}", "IANA service name");
    refused("{\"clusterIP\":\"300.1.1.1\",\"ports\":[{\"port\":1}]}", "must be a valid IP");
    refused("{\"type\":\"NodePort\",\"clusterIP\":\"None\",\"ports\":[{\"port\":1}]}",
            "may not be set to 'None' for NodePort services");
    refused("{\"loadBalancerIP\":\"10.0.0.1\",\"ports\":[{\"port\":1}]}",
            "spec.loadBalancerIP: Forbidden: may only be used when `type` is 'LoadBalancer'");
    refused("{\"type\":\"LoadBalancer\",\"loadBalancerIP\":\"10.0.0\",\"ports\":[{\"port\":1}]}",
            "spec.loadBalancerIP: Invalid value: \"10.0.0\"");
    refused("{\"type\":\"NodePort\",\"externalTrafficPolicy\":\"Nearby\",\"ports\":[{"
            "\"port\":1}]}",
            "spec.externalTrafficPolicy: Unsupported value: \"Nearby\": supported values: "
            "\"Cluster\", \"Local\"");
    refused("{\"externalTrafficPolicy\":\"Local\",\"ports\":[{\"port\":1}]}",
            "may only be set for externally-accessible services");
    refused("{\"type\":\"NodePort\",\"externalTrafficPolicy\":\"Local\","
            "\"healthCheckNodePort\":30100,\"ports\":[{\"port\":1}]}",
            "spec.healthCheckNodePort: Invalid value: 30100: may only be set when `type` is "
            "'LoadBalancer' and `externalTrafficPolicy` is 'Local'");
    refused("{\"ports\":[]}", "spec.ports: Required value");
    refused("{\"sessionAffinity\":\"ClientIP\",\"sessionAffinityConfig\":{\"clientIP\":{"
            "\"timeoutSeconds\":86401}},\"ports\":[{\"port\":1}]}",
            "timeoutSeconds: Invalid value");
    refused("{\"sessionAffinityConfig\":{\"clientIP\":{\"timeoutSeconds\":5}},\"ports\":[{"
            "\"port\":1}]}",
            "must not be set when sessionAffinity is None");
    /* A DNS-1035 label: a service named "1s" or "a.b" is refused. */
    pr_error *err = NULL;
    struct kube_object *o = NULL;
    CHECK(kube_object_decode(tree("{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{"
                                  "\"name\":\"1s\"},\"spec\":{\"ports\":[{\"port\":1}]}}"),
                             "s.yaml", &o, &err) < 0);
    CHECK(err && strstr(err->msg, "a DNS-1035 label"));
    pr_error_free(err);
    err = NULL;
    CHECK(kube_object_decode(tree("{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{"
                                  "\"name\":\"a.b\"},\"spec\":{\"ports\":[{\"port\":1}]}}"),
                             "s.yaml", &o, &err) < 0);
    pr_error_free(err);
}

/* Pods: a (ready, web, port by name "http" = 8080), b (not ready, web), c (web, no IP yet),
 * d (another namespace), e (other labels), f (web, terminating), g (ready, web, no port
 * named http). */
static void test_endpoints_follow_labels_readiness_and_named_ports(void)
{
    _cleanup_json_ yajl_val web = tree("{\"app\":\"web\"}"), other = tree("{\"app\":\"db\"}");
    _cleanup_json_ yajl_val named = tree("{\"containers\":[{\"name\":\"c\",\"ports\":[{\"name\":"
                                         "\"http\",\"containerPort\":8080}]}]}");
    _cleanup_json_ yajl_val plain = tree("{\"containers\":[{\"name\":\"c\"}]}");
    struct kube_endpoint_pod pods[] = {
        {"default", "a", "ua", "10.88.0.10", true, false, web, named},
        {"default", "b", "ub", "10.88.0.9", false, false, web, named},
        {"default", "c", "uc", NULL, true, false, web, named},
        {"other", "d", "ud", "10.88.0.4", true, false, web, named},
        {"default", "e", "ue", "10.88.0.5", true, false, other, named},
        {"default", "f", "uf", "10.88.0.6", true, true, web, named},
        {"default", "g", "ug", "10.88.0.7", true, false, web, plain},
    };
    char *msg = NULL;
    struct kube_object *o =
        service("{\"selector\":{\"app\":\"web\"},\"ports\":[{\"name\":\"n\",\"port\":80,"
                "\"targetPort\":\"http\"},{\"name\":\"p\",\"port\":81,\"targetPort\":9000}]}",
                &msg);
    CHECK(o);
    if (!o)
        return;
    struct kube_service_endpoints e;
    kube_service_endpoints(&o->u.service, "default", pods, ARRAY_SIZE(pods), &e);
    CHECK(e.n == 2);
    /* By name: a and b (g has no such port), sorted by address. */
    CHECK(e.v[0].n == 2);
    if (e.v[0].n == 2) {
        CHECK_STR(e.v[0].v[0].ip, "10.88.0.9");
        CHECK(!e.v[0].v[0].ready && e.v[0].v[0].port == 8080 && e.v[0].v[0].pod == 1);
        CHECK_STR(e.v[0].v[1].ip, "10.88.0.10");
        CHECK(e.v[0].v[1].ready && e.v[0].v[1].port == 8080 && e.v[0].v[1].pod == 0);
    }
    /* By number: a, b and g. */
    CHECK(e.v[1].n == 3);
    if (e.v[1].n == 3) {
        CHECK_STR(e.v[1].v[0].ip, "10.88.0.7");
        CHECK(e.v[1].v[0].port == 9000 && e.v[1].v[0].ready);
    }
    kube_service_endpoints_clear(&e);
    kube_object_free(o);

    /* No selector: endpoints are not computed. */
    o = service("{\"ports\":[{\"port\":80}]}", &msg);
    CHECK(o);
    if (!o)
        return;
    kube_service_endpoints(&o->u.service, "default", pods, ARRAY_SIZE(pods), &e);
    CHECK(e.n == 1 && e.v[0].n == 0);
    kube_service_endpoints_clear(&e);
    kube_object_free(o);

    /* Headless without ports: the addresses of a, b and g (not terminating f, not c without an
     * IP), port 0, sorted. */
    o = service("{\"clusterIP\":\"None\",\"selector\":{\"app\":\"web\"}}", &msg);
    CHECK(o);
    if (!o)
        return;
    kube_service_endpoints(&o->u.service, "default", pods, ARRAY_SIZE(pods), &e);
    CHECK(e.n == 0 && e.addresses.n == 3);
    if (e.addresses.n == 3) {
        CHECK_STR(e.addresses.v[0].ip, "10.88.0.7");
        CHECK_STR(e.addresses.v[2].ip, "10.88.0.10");
        CHECK(e.addresses.v[0].port == 0 && e.addresses.v[2].ready && !e.addresses.v[1].ready);
    }
    kube_service_endpoints_clear(&e);
    kube_object_free(o);

    /* internalTrafficPolicy: Cluster or Local, as the API server accepts them. */
    o = service("{\"internalTrafficPolicy\":\"Local\",\"ports\":[{\"port\":80}]}", &msg);
    CHECK(o && streq(o->u.service.internal_traffic_policy, "Local"));
    kube_object_free(o);
    free(msg);
    msg = NULL;
    o = service("{\"internalTrafficPolicy\":\"Far\",\"ports\":[{\"port\":80}]}", &msg);
    CHECK(!o && msg && strstr(msg, "internalTrafficPolicy: Unsupported value: \"Far\""));
    kube_object_free(o);
    free(msg);
}

static void test_publish_not_ready_addresses(void)
{
    _cleanup_json_ yajl_val web = tree("{\"app\":\"web\"}");
    struct kube_endpoint_pod pods[] = {
        {"default", "b", "ub", "10.88.0.9", false, false, web, NULL},
    };
    char *msg = NULL;
    struct kube_object *o = service("{\"selector\":{\"app\":\"web\"},\"publishNotReadyAddresses\":"
                                    "true,\"ports\":[{\"port\":80}]}",
                                    &msg);
    CHECK(o);
    if (!o)
        return;
    struct kube_service_endpoints e;
    kube_service_endpoints(&o->u.service, "default", pods, 1, &e);
    CHECK(e.v[0].n == 1 && e.v[0].v[0].ready);
    kube_service_endpoints_clear(&e);
    kube_object_free(o);
}

static void test_external_name(void)
{
    char *msg = NULL;
    struct kube_object *o =
        service("{\"type\":\"ExternalName\",\"externalName\":\"db.example.org\"}", &msg);
    CHECK(o);
    if (o) {
        CHECK_STR(o->u.service.external_name, "db.example.org");
        CHECK(o->u.service.cluster_ip == NULL);
        CHECK(o->u.service.n_ports == 0);
    }
    kube_object_free(o);
    refused("{\"type\":\"ExternalName\"}", "spec.externalName: Required value");
    refused("{\"type\":\"ExternalName\",\"externalName\":\"Db_x\"}",
            "spec.externalName: Invalid value: \"Db_x\"");
    refused("{\"type\":\"ExternalName\",\"externalName\":\"a.b\",\"clusterIP\":\"10.96.0.9\"}",
            "may not be set for ExternalName services");
    refused("{\"externalName\":\"a.b\",\"ports\":[{\"port\":80}]}",
            "may only be set for ExternalName services");
}

/* Decodes an EndpointSlice; NULL with *msg set when refused. */
static struct kube_object *slice(const char *body, char **msg)
{
    _cleanup_free_ char *json = xasprintf("{\"apiVersion\":\"discovery.k8s.io/v1\",\"kind\":"
                                          "\"EndpointSlice\",\"metadata\":{\"name\":\"e\"},%s}",
                                          body);
    struct kube_object *o = NULL;
    pr_error *err = NULL;
    if (kube_object_decode(tree(json), "e.yaml", &o, &err) < 0) {
        *msg = xstrdup(err->msg);
        pr_error_free(err);
        return NULL;
    }
    return o;
}

static void test_endpointslice_endpoints(void)
{
    char *msg = NULL;
    struct kube_object *svc = service("{\"ports\":[{\"name\":\"web\",\"port\":8081},"
                                      "{\"name\":\"dns\",\"port\":53,\"protocol\":\"UDP\"}]}",
                                      &msg);
    struct kube_object *a =
        slice("\"addressType\":\"IPv4\",\"ports\":[{\"name\":\"web\",\"port\":8080}],"
              "\"endpoints\":[{\"addresses\":[\"10.0.0.9\"]},{\"addresses\":[\"10.0.0.2\"],"
              "\"conditions\":{\"ready\":false},\"hostname\":\"b\"}]",
              &msg);
    CHECK(svc && a);
    if (!svc || !a) {
        kube_object_free(svc);
        kube_object_free(a);
        return;
    }
    yajl_val slices[] = {a->tree};
    struct kube_service_endpoints e;
    kube_endpointslice_endpoints(&svc->u.service, slices, 1, &e);
    CHECK(e.n == 2);
    /* web: both addresses, sorted, the slice's port; the unready one not ready. */
    CHECK(e.v[0].n == 2);
    if (e.v[0].n == 2) {
        CHECK_STR(e.v[0].v[0].ip, "10.0.0.2");
        CHECK(!e.v[0].v[0].ready && e.v[0].v[0].port == 8080 && e.v[0].v[0].pod == SIZE_MAX);
        CHECK_STR(e.v[0].v[0].hostname, "b");
        CHECK_STR(e.v[0].v[1].ip, "10.0.0.9");
        CHECK(e.v[0].v[1].ready);
    }
    /* dns (UDP): no port of that name and protocol in the slice. */
    CHECK(e.v[1].n == 0);
    kube_service_endpoints_clear(&e);
    kube_object_free(svc);
    kube_object_free(a);
    struct kube_object *bad = slice("\"addressType\":\"IPv4\",\"endpoints\":[{}]", &msg);
    CHECK(!bad);
    CHECK(msg && strstr(msg, "endpoints[0].addresses: Required value"));
    free(msg);
}

int main(void)
{
    RUN(test_service_defaults);
    RUN(test_service_refusals);
    RUN(test_load_balancer);
    RUN(test_endpoints_follow_labels_readiness_and_named_ports);
    RUN(test_publish_not_ready_addresses);
    RUN(test_external_name);
    RUN(test_endpointslice_endpoints);
    UNIT_DONE();
}
