/* SPDX-License-Identifier: Apache-2.0 */
/* EndpointSlices (discovery.k8s.io/v1) written by hand for a service without a selector: the
 * API server's checks, and the endpoints they give that service, with no I/O. */
#include "kube.h"
#include "json.h"
#include "util.h"

#include <arpa/inet.h>
#include <stdint.h>

#define MAX_ENDPOINTS 1000
#define MAX_ADDRESSES 100
#define MAX_PORTS     100

static bool only_keys(yajl_val v, const char *const *keys, const char **bad)
{
    for (size_t i = 0; i < v->u.object.len; i++) {
        bool known = false;
        for (size_t k = 0; keys[k] && !known; k++)
            known = streq(v->u.object.keys[i], keys[k]);
        if (!known) {
            *bad = v->u.object.keys[i];
            return false;
        }
    }
    return true;
}

static int check_endpoint(yajl_val e, size_t i, pr_error **err)
{
    static const char *const keys[] = {"addresses", "conditions",         "hostname",
                                       "targetRef", "nodeName",           "zone",
                                       "hints",     "deprecatedTopology", NULL};
    static const char *const cond_keys[] = {"ready", "serving", "terminating", NULL};
    const char *bad = NULL;
    if (!YAJL_IS_OBJECT(e))
        return pr_err(err, 0, "endpoints[%zu]: must be an object", i);
    if (!only_keys(e, keys, &bad))
        return pr_err(err, 0, "endpoints[%zu]: unknown field \"%s\"", i, bad);
    yajl_val addrs = json_get(e, "addresses");
    size_t n = json_array_len(addrs);
    if (!YAJL_IS_ARRAY(addrs) || n == 0)
        return pr_err(
            err, 0, "endpoints[%zu].addresses: Required value: must contain at least 1 address", i);
    if (n > MAX_ADDRESSES)
        return pr_err(err, 0, "endpoints[%zu].addresses: Too many: %zu: must have at most %d items",
                      i, n, MAX_ADDRESSES);
    for (size_t k = 0; k < n; k++) {
        const char *a = YAJL_GET_STRING(json_array_at(addrs, k));
        struct in_addr in;
        if (!a || inet_pton(AF_INET, a, &in) != 1)
            return pr_err(err, 0,
                          "endpoints[%zu].addresses[%zu]: Invalid value: must be a valid IPv4 "
                          "address",
                          i, k);
    }
    yajl_val c = json_get(e, "conditions");
    if (c && !YAJL_IS_OBJECT(c))
        return pr_err(err, 0, "endpoints[%zu].conditions: must be an object", i);
    if (c && !only_keys(c, cond_keys, &bad))
        return pr_err(err, 0, "endpoints[%zu].conditions: unknown field \"%s\"", i, bad);
    for (size_t k = 0; c && k < c->u.object.len; k++)
        if (!YAJL_IS_TRUE(c->u.object.values[k]) && !YAJL_IS_FALSE(c->u.object.values[k]))
            return pr_err(err, 0, "endpoints[%zu].conditions.%s: must be a boolean", i,
                          c->u.object.keys[k]);
    yajl_val h = json_get(e, "hostname");
    if (h && (!YAJL_IS_STRING(h) || !kube_valid_label_name(YAJL_GET_STRING(h))))
        return pr_err(err, 0, "endpoints[%zu].hostname: Invalid value: must be a DNS label", i);
    return 0;
}

static int check_port(yajl_val p, size_t i, pr_error **err)
{
    static const char *const keys[] = {"name", "protocol", "port", "appProtocol", NULL};
    const char *bad = NULL;
    if (!YAJL_IS_OBJECT(p))
        return pr_err(err, 0, "ports[%zu]: must be an object", i);
    if (!only_keys(p, keys, &bad))
        return pr_err(err, 0, "ports[%zu]: unknown field \"%s\"", i, bad);
    yajl_val name = json_get(p, "name"), proto = json_get(p, "protocol"),
             port = json_get(p, "port");
    const char *n = YAJL_GET_STRING(name), *pr = YAJL_GET_STRING(proto);
    if (name && (!n || (*n && !kube_valid_label_name(n))))
        return pr_err(err, 0, "ports[%zu].name: Invalid value: must be a DNS label", i);
    if (proto && (!pr || (!streq(pr, "TCP") && !streq(pr, "UDP"))))
        return pr_err(err, 0,
                      "ports[%zu].protocol: Unsupported value: supported values: \"TCP\", "
                      "\"UDP\"",
                      i);
    if (port &&
        (!YAJL_IS_INTEGER(port) || YAJL_GET_INTEGER(port) < 1 || YAJL_GET_INTEGER(port) > 65535))
        return pr_err(err, 0,
                      "ports[%zu].port: Invalid value: must be between 1 and 65535, inclusive", i);
    return 0;
}

static const char *port_name(yajl_val p)
{
    const char *n = YAJL_GET_STRING(json_get(p, "name"));
    return n ? n : "";
}

static const char *port_proto(yajl_val p)
{
    const char *n = YAJL_GET_STRING(json_get(p, "protocol"));
    return n ? n : "TCP";
}

int kube_endpointslice_check(const struct kube_object *o, pr_error **err)
{
    const char *t = o->u.endpoint_slice.address_type;
    if (!t)
        return pr_err(err, 0, "addressType: Required value");
    if (streq(t, "IPv6") || streq(t, "FQDN"))
        return pr_err_code(err, EOPNOTSUPP, "addressType: \"%s\": podrun serves IPv4 only so far",
                           t);
    if (!streq(t, "IPv4"))
        return pr_err(err, 0,
                      "addressType: Unsupported value: \"%s\": supported values: \"FQDN\", "
                      "\"IPv4\", \"IPv6\"",
                      t);
    yajl_val eps = o->u.endpoint_slice.endpoints, ports = o->u.endpoint_slice.ports;
    if (eps && !YAJL_IS_ARRAY(eps))
        return pr_err(err, 0, "endpoints: must be a list");
    if (ports && !YAJL_IS_ARRAY(ports))
        return pr_err(err, 0, "ports: must be a list");
    if (json_array_len(eps) > MAX_ENDPOINTS)
        return pr_err(err, 0, "endpoints: Too many: %zu: must have at most %d items",
                      json_array_len(eps), MAX_ENDPOINTS);
    if (json_array_len(ports) > MAX_PORTS)
        return pr_err(err, 0, "ports: Too many: %zu: must have at most %d items",
                      json_array_len(ports), MAX_PORTS);
    int r;
    for (size_t i = 0; i < json_array_len(eps); i++)
        if ((r = check_endpoint(json_array_at(eps, i), i, err)) < 0)
            return r;
    for (size_t i = 0; i < json_array_len(ports); i++) {
        if ((r = check_port(json_array_at(ports, i), i, err)) < 0)
            return r;
        for (size_t j = 0; j < i; j++)
            if (streq(port_name(json_array_at(ports, i)), port_name(json_array_at(ports, j))))
                return pr_err(err, 0, "ports[%zu].name: Duplicate value: \"%s\"", i,
                              port_name(json_array_at(ports, i)));
    }
    return 0;
}

static int cmp_endpoint(const void *a, const void *b)
{
    const struct kube_endpoint *x = a, *y = b;
    struct in_addr ia = {0}, ib = {0};
    inet_pton(AF_INET, x->ip, &ia);
    inet_pton(AF_INET, y->ip, &ib);
    uint32_t ha = ntohl(ia.s_addr), hb = ntohl(ib.s_addr);
    if (ha != hb)
        return ha < hb ? -1 : 1;
    return x->port < y->port ? -1 : x->port > y->port;
}

/* The addresses of one slice's endpoints at port (0: a service without ports). */
static void slice_addresses(const struct kube_service_spec *spec, yajl_val slice, int32_t port,
                            struct kube_port_endpoints *pe)
{
    yajl_val eps = json_get(slice, "endpoints");
    for (size_t k = 0; k < json_array_len(eps); k++) {
        yajl_val e = json_array_at(eps, k);
        yajl_val ready = json_get(json_get(e, "conditions"), "ready");
        yajl_val addrs = json_get(e, "addresses");
        /* A nil ready is unknown, which consumers take as ready. */
        bool ok = !ready || YAJL_IS_TRUE(ready);
        for (size_t a = 0; a < json_array_len(addrs); a++) {
            const char *ip = YAJL_GET_STRING(json_array_at(addrs, a));
            if (!ip)
                continue;
            pe->v = xrealloc(pe->v, (pe->n + 1) * sizeof(*pe->v));
            pe->v[pe->n++] = (struct kube_endpoint){
                .pod = SIZE_MAX,
                .ip = ip,
                .port = port,
                .ready = ok || spec->publish_not_ready_addresses,
                .hostname = YAJL_GET_STRING(json_get(e, "hostname")),
                .node_name = YAJL_GET_STRING(json_get(e, "nodeName")),
            };
        }
    }
}

static bool ipv4_slice(yajl_val slice)
{
    return streq(YAJL_GET_STRING(json_get(slice, "addressType")) ?: "", "IPv4");
}

void kube_endpointslice_endpoints(const struct kube_service_spec *spec, const yajl_val *slices,
                                  size_t n, struct kube_service_endpoints *out)
{
    out->n = spec->n_ports;
    out->v = xcalloc(spec->n_ports ? spec->n_ports : 1, sizeof(*out->v));
    out->addresses = (struct kube_port_endpoints){0};
    /* A headless service without ports takes every address of its slices. */
    for (size_t s = 0; spec->n_ports == 0 && s < n; s++)
        if (ipv4_slice(slices[s]))
            slice_addresses(spec, slices[s], 0, &out->addresses);
    if (out->addresses.n > 1)
        qsort(out->addresses.v, out->addresses.n, sizeof(*out->addresses.v), cmp_endpoint);
    for (size_t i = 0; i < spec->n_ports; i++) {
        const struct kube_service_port *sp = &spec->ports[i];
        struct kube_port_endpoints *pe = &out->v[i];
        for (size_t s = 0; s < n; s++) {
            if (!ipv4_slice(slices[s]))
                continue;
            yajl_val ports = json_get(slices[s], "ports");
            int32_t port = 0;
            for (size_t k = 0; k < json_array_len(ports); k++) {
                yajl_val p = json_array_at(ports, k);
                yajl_val num = json_get(p, "port");
                if (streq(port_name(p), sp->name ? sp->name : "") &&
                    streq(port_proto(p), sp->protocol) && YAJL_IS_INTEGER(num))
                    port = (int32_t)YAJL_GET_INTEGER(num);
            }
            if (port < 1 || port > 65535)
                continue;
            slice_addresses(spec, slices[s], port, pe);
        }
        if (pe->n > 1)
            qsort(pe->v, pe->n, sizeof(*pe->v), cmp_endpoint);
    }
}
