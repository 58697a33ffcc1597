/* SPDX-License-Identifier: Apache-2.0 */
/* A Service's endpoints as the EndpointSlice controller computes them, from the service and
 * what is known of the pods, with no I/O: any caller (apply, delete, a controller loop) gets
 * the same answer from the same state. */
#include "kube.h"
#include "json.h"
#include "util.h"

#include <arpa/inet.h>

/* The labels of a selector map as a tree-free check: every key=value in sel is in labels. */
static bool selector_matches(const struct kube_map *sel, yajl_val labels)
{
    for (size_t i = 0; i < sel->n; i++) {
        const char *v = YAJL_GET_STRING(json_get(labels, sel->keys[i]));
        if (!v || !streq(v, sel->values[i]))
            return false;
    }
    return true;
}

/* targetPort by name: the first container port of that name and protocol (protocol defaults
 * to TCP in the pod too); 0 when the pod has none. */
static int32_t named_port(yajl_val spec, const char *name, const char *protocol)
{
    yajl_val cs = json_get(spec, "containers");
    for (size_t i = 0; i < json_array_len(cs); i++) {
        yajl_val ports = json_get(json_array_at(cs, i), "ports");
        for (size_t j = 0; j < json_array_len(ports); j++) {
            yajl_val p = json_array_at(ports, j);
            const char *n = YAJL_GET_STRING(json_get(p, "name"));
            const char *proto = YAJL_GET_STRING(json_get(p, "protocol"));
            yajl_val cp = json_get(p, "containerPort");
            if (n && streq(n, name) && streq(proto ? proto : "TCP", protocol) &&
                YAJL_IS_INTEGER(cp) && YAJL_GET_INTEGER(cp) >= 1 && YAJL_GET_INTEGER(cp) <= 65535)
                return (int32_t)YAJL_GET_INTEGER(cp);
        }
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

/* The addresses of a service without ports: the pods its selector picks, port 0. */
static void portless(const struct kube_service_spec *spec, const char *ns,
                     const struct kube_endpoint_pod *pods, size_t n, struct kube_port_endpoints *pe)
{
    for (size_t j = 0; j < n; j++) {
        const struct kube_endpoint_pod *p = &pods[j];
        if (!p->ip || !*p->ip || p->terminating || !streq(p->ns, ns) ||
            !selector_matches(&spec->selector, p->labels))
            continue;
        pe->v = xrealloc(pe->v, (pe->n + 1) * sizeof(*pe->v));
        pe->v[pe->n++] = (struct kube_endpoint){
            .pod = j,
            .ip = p->ip,
            .ready = p->ready || spec->publish_not_ready_addresses,
        };
    }
    if (pe->n > 1)
        qsort(pe->v, pe->n, sizeof(*pe->v), cmp_endpoint);
}

void kube_service_endpoints(const struct kube_service_spec *spec, const char *ns,
                            const struct kube_endpoint_pod *pods, size_t n,
                            struct kube_service_endpoints *out)
{
    out->n = spec->n_ports;
    out->v = xcalloc(spec->n_ports ? spec->n_ports : 1, sizeof(*out->v));
    out->addresses = (struct kube_port_endpoints){0};
    /* No selector: the service's endpoints are managed by hand, not computed. */
    if (spec->selector.n == 0)
        return;
    if (spec->n_ports == 0)
        portless(spec, ns, pods, n, &out->addresses);
    for (size_t i = 0; i < spec->n_ports; i++) {
        const struct kube_service_port *sp = &spec->ports[i];
        struct kube_port_endpoints *pe = &out->v[i];
        for (size_t j = 0; j < n; j++) {
            const struct kube_endpoint_pod *p = &pods[j];
            if (!p->ip || !*p->ip || p->terminating || !streq(p->ns, ns) ||
                !selector_matches(&spec->selector, p->labels))
                continue;
            int32_t port = sp->target_port.is_string
                               ? named_port(p->spec, sp->target_port.s, sp->protocol)
                               : (int32_t)sp->target_port.i;
            if (port == 0)
                continue;
            pe->v = xrealloc(pe->v, (pe->n + 1) * sizeof(*pe->v));
            pe->v[pe->n++] = (struct kube_endpoint){
                .pod = j,
                .ip = p->ip,
                .port = port,
                .ready = p->ready || spec->publish_not_ready_addresses,
            };
        }
        if (pe->n > 1)
            qsort(pe->v, pe->n, sizeof(*pe->v), cmp_endpoint);
    }
}

void kube_service_endpoints_clear(struct kube_service_endpoints *e)
{
    for (size_t i = 0; i < e->n; i++)
        free(e->v[i].v);
    free(e->v);
    free(e->addresses.v);
    *e = (struct kube_service_endpoints){0};
}
