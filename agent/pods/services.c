/* SPDX-License-Identifier: Apache-2.0 */
/* Services on this node: their addresses (a clusterIP from the service range, nodePorts from
 * the node-port range), their endpoints (kube/endpoints.c, from the pods' labels, IPs and
 * readiness) and the kernel's data path, in podrun's own table `ip podrun_services`, laid out
 * as kube-proxy's nftables mode lays out its own (DESIGN.md, "Node data path"):
 *   chain prerouting, output (nat, dstnat)  jump services
 *   chain services     ip daddr . meta l4proto . th dport vmap @service-ips
 *                      fib daddr type local, not 127/8: meta l4proto . th dport vmap @nodeports
 *   chain ext-HASH     per service port with a nodePort: externalTrafficPolicy Cluster: jump
 *                      mark-for-masquerade (meta mark |= 0x4000), Local: only fib saddr
 *                      type local (the node's own traffic); then jump svc-HASH
 *   chain svc-HASH     one per service port: rule i of n: numgen random mod (n-i) == 0
 *                      jump ep-HASH (the last one unconditional): ready endpoints only
 *   chain ep-HASH      one per endpoint: dnat to IP:PORT
 *   set aff-HASH       ClientIP affinity: per endpoint, its clients (timeout); svc-HASH first
 *                      sends a client in it to its endpoint, ep-HASH refreshes it
 *   chain postrouting  (nat, srcnat) mark 0x4000: masquerade (Cluster's external traffic);
 *                      ct status dnat, pod subnet to pod subnet: masquerade
 *                      (hairpin, and pods on one bridge, whose replies would bypass the node)
 *   chain filter-forward, filter-output (filter, -10): ip daddr . meta l4proto . th dport
 *                      vmap @no-endpoint-services; filter-input: fib daddr type local:
 *                      meta l4proto . th dport vmap @no-endpoint-nodeports; both maps jump to
 *                      chain reject-chain: a service without ready endpoints refuses connections
 *                      at once, as kube-proxy's does, instead of sending them on unchanged
 * The data path is a function of the stored services and the pods as they are: sync computes
 * what it should be and changes only what differs from what it last wrote (run-root's
 * services-nft.json), as one batch; the batch that leaves no service removes the table. */
#include "fs.h"
#include "manager.h"
#include "nft/nftables.h"
#include "util.h"

#include <arpa/inet.h>
#include <netinet/in.h>
/* After netinet/in.h, which it defers to. */
#include <linux/netfilter.h>
#include <sys/stat.h>
#include <time.h>

#define TABLE          "podrun_services"
#define LOCK           "podrun-services-nft"
#define STATE_MAX      (64u << 20)
#define DSTNAT_PRIO    (-100)
#define SRCNAT_PRIO    100
#define MAP_IPS        "service-ips"
#define MAP_NODEPORTS  "service-nodeports"
#define MAP_NOEP_IPS   "no-endpoint-services"
#define MAP_NOEP_PORTS "no-endpoint-nodeports"
#define FILTER_PRIO    (-10)
#define MASQ_MARK      0x4000u /* kube-proxy's */
#define DEFAULT_RANGE  "10.96.0.0/12"
#define DEFAULT_NPORTS "30000-32767"

/* ---- settings ---- */

static int service_range(pods_manager *m, uint32_t *base, unsigned *plen, pr_error **err)
{
    const char *cidr = m->service_cidr ? m->service_cidr : DEFAULT_RANGE;
    const char *slash = strchr(cidr, '/');
    _cleanup_free_ char *addr = slash ? xstrndup(cidr, (size_t)(slash - cidr)) : NULL;
    struct in_addr a;
    char *end = NULL;
    unsigned long p = slash ? strtoul(slash + 1, &end, 10) : 0;
    if (!addr || inet_pton(AF_INET, addr, &a) != 1 || !end || *end || p < 8 || p > 30)
        return pr_err(
            err, 0, "the service range `%s` is not an IPv4 network with a prefix of 8 to 30", cidr);
    *plen = (unsigned)p;
    *base = ntohl(a.s_addr) & (uint32_t)(~0ull << (32 - p));
    return 0;
}

static int node_port_range(pods_manager *m, int *lo, int *hi, pr_error **err)
{
    const char *s = m->node_port_range ? m->node_port_range : DEFAULT_NPORTS;
    if (sscanf(s, "%d-%d", lo, hi) != 2 || *lo < 1 || *hi > 65535 || *lo > *hi)
        return pr_err(err, 0, "the node port range `%s` is not FIRST-LAST within 1-65535", s);
    return 0;
}

static char *ip_text(uint32_t host)
{
    struct in_addr a = {htonl(host)};
    char buf[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &a, buf, sizeof(buf));
    return xstrdup(buf);
}

/* ---- apply: addresses ---- */

/* What every stored service holds: loaded once per process (the exclusive lock keeps others
 * out) and kept up to date by this process's applies, so that a manifest of many services
 * does not read them all again for each. */
struct pods_services_taken {
    char **ips, **ip_owners; /* clusterIPs and "ns/name" of their services */
    int *ports;              /* nodePorts, with protocols and owners */
    char **protos, **owners;
    size_t n_ports;
    uint32_t next; /* where the next allocation starts looking (offset into the range) */
};

void pods_services_taken_free(struct pods_services_taken *t)
{
    if (!t)
        return;
    strv_free(t->ips);
    strv_free(t->ip_owners);
    strv_free(t->protos);
    strv_free(t->owners);
    free(t->ports);
    free(t);
}

static void taken_add(struct pods_services_taken *t, const char *owner, yajl_val spec)
{
    const char *ip = YAJL_GET_STRING(json_get(spec, "clusterIP"));
    if (ip && !streq(ip, "None")) {
        strv_extend(&t->ips, ip);
        strv_extend(&t->ip_owners, owner);
    }
    yajl_val ports = json_get(spec, "ports");
    for (size_t j = 0; j < json_array_len(ports); j++) {
        yajl_val np = json_get(json_array_at(ports, j), "nodePort");
        const char *proto = YAJL_GET_STRING(json_get(json_array_at(ports, j), "protocol"));
        if (!YAJL_IS_INTEGER(np))
            continue;
        t->ports = xrealloc(t->ports, (t->n_ports + 1) * sizeof(*t->ports));
        t->ports[t->n_ports++] = (int)YAJL_GET_INTEGER(np);
        strv_extend(&t->protos, proto ? proto : "TCP");
        strv_extend(&t->owners, owner);
    }
    /* A health-check port comes from the same range and holds its number as a nodePort does. */
    yajl_val hc = json_get(spec, "healthCheckNodePort");
    if (YAJL_IS_INTEGER(hc)) {
        t->ports = xrealloc(t->ports, (t->n_ports + 1) * sizeof(*t->ports));
        t->ports[t->n_ports++] = (int)YAJL_GET_INTEGER(hc);
        strv_extend(&t->protos, "TCP");
        strv_extend(&t->owners, owner);
    }
}

/* status.loadBalancer.ingress[0].ip of a stored service; NULL: none (yet). */
static const char *lb_status_ip(yajl_val object)
{
    yajl_val ing = json_get(json_get(json_get(object, "status"), "loadBalancer"), "ingress");
    return json_array_len(ing) ? YAJL_GET_STRING(json_get(json_array_at(ing, 0), "ip")) : NULL;
}

/* A LoadBalancer's pool address (status.loadBalancer.ingress[0].ip) is taken as a clusterIP
 * is: by one service. */
static void taken_add_lb(struct pods_services_taken *t, const char *owner, yajl_val object)
{
    const char *ip = lb_status_ip(object);
    if (ip) {
        strv_extend(&t->ips, ip);
        strv_extend(&t->ip_owners, owner);
    }
}

/* Forgets what owner held (before it holds something else). */
static void taken_drop(struct pods_services_taken *t, const char *owner)
{
    size_t n = 0, len = t->ips ? strv_length(t->ips) : 0;
    for (size_t i = 0; i < len; i++) {
        if (streq(t->ip_owners[i], owner)) {
            free(t->ips[i]);
            free(t->ip_owners[i]);
            continue;
        }
        t->ips[n] = t->ips[i];
        t->ip_owners[n++] = t->ip_owners[i];
    }
    if (t->ips) {
        t->ips[n] = NULL;
        t->ip_owners[n] = NULL;
    }
    n = 0;
    for (size_t i = 0; i < t->n_ports; i++) {
        if (streq(t->owners[i], owner)) {
            free(t->protos[i]);
            free(t->owners[i]);
            continue;
        }
        t->ports[n] = t->ports[i];
        t->protos[n] = t->protos[i];
        t->owners[n++] = t->owners[i];
    }
    if (t->n_ports) {
        t->protos[n] = NULL;
        t->owners[n] = NULL;
    }
    t->n_ports = n;
}

static int taken_get(pods_manager *m, struct pods_services_taken **out, pr_error **err)
{
    if (m->services_taken) {
        *out = m->services_taken;
        return 0;
    }
    struct pods_list l = {0};
    int r = pods_list(m, "services", NULL, NULL, &l, err);
    struct pods_services_taken *t = xcalloc(1, sizeof(*t));
    for (size_t i = 0; r == 0 && i < l.n; i++) {
        _cleanup_free_ char *owner = xasprintf("%s/%s", l.v[i].ns, l.v[i].name);
        taken_add(t, owner, json_get(l.v[i].object, "spec"));
        taken_add_lb(t, owner, l.v[i].object);
    }
    pods_list_clear(&l);
    if (r < 0) {
        pods_services_taken_free(t);
        return r;
    }
    *out = m->services_taken = t;
    return 0;
}

static bool ip_taken(const struct pods_services_taken *t, const char *self, const char *ip)
{
    for (size_t i = 0; t->ips && t->ips[i]; i++)
        if (streq(t->ips[i], ip) && !streq(t->ip_owners[i], self))
            return true;
    return false;
}

static const char *port_owner(const struct pods_services_taken *t, const char *self, int port,
                              const char *proto)
{
    for (size_t i = 0; i < t->n_ports; i++)
        if (t->ports[i] == port && streq(t->protos[i], proto) && !streq(t->owners[i], self))
            return t->owners[i];
    return NULL;
}

static int pick_cluster_ip(pods_manager *m, const struct kube_service_spec *s, yajl_val old,
                           struct pods_services_taken *t, const char *self, char **out,
                           pr_error **err)
{
    const char *had = YAJL_GET_STRING(json_get(json_get(old, "spec"), "clusterIP"));
    if (s->cluster_ip && had && !streq(s->cluster_ip, had))
        return pr_err(err, 0, "spec.clusterIPs[0]: Invalid value: \"%s\": may not change once set",
                      s->cluster_ip);
    const char *want = s->cluster_ip ? s->cluster_ip : had;
    if (want && streq(want, "None")) {
        *out = xstrdup("None");
        return 0;
    }
    uint32_t base = 0;
    unsigned plen = 0;
    int r = service_range(m, &base, &plen, err);
    if (r < 0)
        return r;
    uint32_t size = 1u << (32 - plen);
    _cleanup_free_ char *range = ip_text(base);
    if (want) {
        struct in_addr a;
        inet_pton(AF_INET, want, &a);
        uint32_t h = ntohl(a.s_addr);
        if (h - base >= size || h == base || h == base + size - 1)
            return pr_err(err, 0,
                          "spec.clusterIPs: Invalid value: [\"%s\"]: failed to allocate IP %s: "
                          "the provided IP (%s) is not in the valid range. The range of valid "
                          "IPs is %s/%u",
                          want, want, want, range, plen);
        if (!had && ip_taken(t, self, want))
            return pr_err_code(err, EADDRINUSE,
                               "spec.clusterIPs: Invalid value: [\"%s\"]: failed to allocate IP "
                               "%s: provided IP is already allocated",
                               want, want);
        *out = xstrdup(want);
        return 0;
    }
    for (uint32_t k = 0; k + 2 < size; k++) {
        uint32_t i = 1 + (t->next + k) % (size - 2); /* neither the network nor broadcast */
        _cleanup_free_ char *ip = ip_text(base + i);
        if (!ip_taken(t, self, ip)) {
            t->next = i % (size - 2);
            *out = steal_pointer(&ip);
            return 0;
        }
    }
    return pr_err_code(err, ENOSPC,
                       "failed to allocate a serviceIP: range is full (%s/%u has no free address)",
                       range, plen);
}

static int old_node_port(yajl_val old, const struct kube_service_port *p)
{
    yajl_val ports = json_get(json_get(old, "spec"), "ports");
    for (size_t j = 0; j < json_array_len(ports); j++) {
        yajl_val o = json_array_at(ports, j);
        yajl_val port = json_get(o, "port"), np = json_get(o, "nodePort");
        const char *proto = YAJL_GET_STRING(json_get(o, "protocol"));
        if (YAJL_IS_INTEGER(port) && YAJL_GET_INTEGER(port) == p->port && YAJL_IS_INTEGER(np) &&
            streq(proto ? proto : "TCP", p->protocol))
            return (int)YAJL_GET_INTEGER(np);
    }
    return 0;
}

static int pick_node_ports(pods_manager *m, const struct kube_service_spec *s, yajl_val old,
                           const struct pods_services_taken *t, const char *self, int *out,
                           pr_error **err)
{
    if (!streq(s->type, "NodePort") && !streq(s->type, "LoadBalancer"))
        return 0;
    int lo, hi;
    int r = node_port_range(m, &lo, &hi, err);
    if (r < 0)
        return r;
    for (size_t i = 0; i < s->n_ports; i++) {
        const struct kube_service_port *p = &s->ports[i];
        int want = p->node_port;
        if (want) {
            if (want < lo || want > hi)
                return pr_err(err, 0,
                              "spec.ports[%zu].nodePort: Invalid value: %d: provided port is not "
                              "in the valid range. The range of valid ports is %d-%d",
                              i, want, lo, hi);
            const char *owner = port_owner(t, self, want, p->protocol);
            if (owner)
                return pr_err_code(err, EADDRINUSE,
                                   "spec.ports[%zu].nodePort: Invalid value: %d: provided port is "
                                   "already allocated (by service \"%s\")",
                                   i, want, owner);
            out[i] = want;
            continue;
        }
        int had = old_node_port(old, p);
        yajl_val hc = json_get(json_get(old, "spec"), "healthCheckNodePort");
        for (int port = had ? had : lo; !out[i] && port <= hi; port++) {
            /* Nor the service's own health-check port, asked for or held. */
            bool mine = port == s->health_check_node_port ||
                        (YAJL_IS_INTEGER(hc) && port == YAJL_GET_INTEGER(hc));
            for (size_t j = 0; j < s->n_ports; j++)
                mine |= j != i && (out[j] == port || s->ports[j].node_port == port) &&
                        streq(s->ports[j].protocol, p->protocol);
            if (!mine && !port_owner(t, self, port, p->protocol))
                out[i] = port;
        }
        if (!out[i])
            return pr_err_code(err, ENOSPC,
                               "spec.ports[%zu].nodePort: failed to allocate a nodePort: range "
                               "is full (%d-%d)",
                               i, lo, hi);
    }
    return 0;
}

/* A LoadBalancer with externalTrafficPolicy Local gets spec.healthCheckNodePort from the
 * node-port range, as the API server gives it (the one asked for, the one it has, else the
 * first free one); taken by number whatever the protocol, so no nodePort can share it. */
static int pick_health_port(pods_manager *m, const struct kube_service_spec *s, yajl_val old,
                            const struct pods_services_taken *t, const char *self,
                            const int *node_ports, int *out, pr_error **err)
{
    *out = 0;
    if (!streq(s->type, "LoadBalancer") || !streq(s->external_traffic_policy, "Local"))
        return 0;
    int lo, hi;
    int r = node_port_range(m, &lo, &hi, err);
    if (r < 0)
        return r;
    int want = s->health_check_node_port;
    yajl_val had = json_get(json_get(old, "spec"), "healthCheckNodePort");
    if (want && (want < lo || want > hi))
        return pr_err(err, 0,
                      "spec.healthCheckNodePort: Invalid value: %d: provided port is not in the "
                      "valid range. The range of valid ports is %d-%d",
                      want, lo, hi);
    for (int port = want                   ? want
                    : YAJL_IS_INTEGER(had) ? (int)YAJL_GET_INTEGER(had)
                                           : lo;
         port <= hi; port++) {
        const char *owner = port_owner(t, self, port, "TCP");
        if (!owner)
            owner = port_owner(t, self, port, "UDP");
        for (size_t i = 0; !owner && i < s->n_ports; i++)
            if (node_ports[i] == port)
                owner = self;
        if (want && owner)
            return pr_err_code(err, EADDRINUSE,
                               "spec.healthCheckNodePort: Invalid value: %d: provided port is "
                               "already allocated (by service \"%s\")",
                               port, owner);
        if (!owner) {
            *out = port;
            return 0;
        }
    }
    return pr_err_code(err, ENOSPC,
                       "spec.healthCheckNodePort: failed to allocate a nodePort: range is full "
                       "(%d-%d)",
                       lo, hi);
}

struct lb_taken {
    const struct pods_services_taken *t;
    const char *self;
};

static bool lb_ip_taken(const char *ip, void *data)
{
    const struct lb_taken *lt = data;
    return ip_taken(lt->t, lt->self, ip);
}

/* A LoadBalancer's address from the node's pool, as MetalLB gives them: the one it holds, the
 * one asked for (spec.loadBalancerIP) if it is in the pool and free, else the first free one;
 * none (*out NULL: EXTERNAL-IP <pending>, as on a cluster without a load balancer) when there
 * is no pool or it is full. */
static int pick_lb_ip(pods_manager *m, const struct kube_service_spec *s, yajl_val old,
                      const struct pods_services_taken *t, const char *self, char **out,
                      pr_error **err)
{
    *out = NULL;
    if (!streq(s->type, "LoadBalancer"))
        return 0;
    const struct pods_node_config *c = NULL;
    int r = pods_node_config_get(m, &c, err);
    if (r < 0)
        return r;
    const char *had = lb_status_ip(old);
    if (s->load_balancer_ip) {
        if (!pods_lb_in_pool(c->lb_pool, s->load_balancer_ip))
            return pr_err(err, 0,
                          "spec.loadBalancerIP: Invalid value: \"%s\": not in the node's "
                          "loadBalancerPool (%s)",
                          s->load_balancer_ip, c->lb_pool ? "see node.yaml" : "none is set");
        if (ip_taken(t, self, s->load_balancer_ip))
            return pr_err_code(err, EADDRINUSE,
                               "spec.loadBalancerIP: Invalid value: \"%s\": already allocated",
                               s->load_balancer_ip);
        *out = xstrdup(s->load_balancer_ip);
        return 0;
    }
    if (had && pods_lb_in_pool(c->lb_pool, had) && !ip_taken(t, self, had)) {
        *out = xstrdup(had);
        return 0;
    }
    struct lb_taken lt = {t, self};
    *out = pods_lb_pick(c->lb_pool, lb_ip_taken, &lt);
    return 0;
}

/* The object as the API server stores it: spec defaulted and completed, status added. */
static void gen_spec(yajl_gen g, const struct kube_service_spec *s, yajl_val spec, const char *ip,
                     const int *node_ports, int health_port)
{
    bool lb = streq(s->type, "LoadBalancer");
    jg_map_open(g);
    if (lb)
        jg_key_bool(g, "allocateLoadBalancerNodePorts", true);
    if (ip) { /* none for ExternalName */
        jg_key_str(g, "clusterIP", ip);
        jg_key(g, "clusterIPs");
        jg_array_open(g);
        jg_str(g, ip);
        jg_array_close(g);
    }
    jg_key_str(g, "externalName", s->external_name);
    if (streq(s->type, "NodePort") || lb)
        jg_key_str(g, "externalTrafficPolicy", s->external_traffic_policy);
    if (health_port)
        jg_key_int(g, "healthCheckNodePort", health_port);
    jg_key_str(g, "internalTrafficPolicy", s->internal_traffic_policy);
    if (ip) {
        jg_key(g, "ipFamilies");
        jg_array_open(g);
        jg_str(g, "IPv4");
        jg_array_close(g);
        jg_key_str(g, "ipFamilyPolicy", "SingleStack");
    }
    if (s->load_balancer_ip)
        jg_key_str(g, "loadBalancerIP", s->load_balancer_ip);
    jg_key(g, "ports");
    jg_array_open(g);
    for (size_t i = 0; i < s->n_ports; i++) {
        const struct kube_service_port *p = &s->ports[i];
        jg_map_open(g);
        jg_key_str(g, "appProtocol", p->app_protocol);
        if (p->name && *p->name)
            jg_key_str(g, "name", p->name);
        if (node_ports[i])
            jg_key_int(g, "nodePort", node_ports[i]);
        jg_key_int(g, "port", p->port);
        jg_key_str(g, "protocol", p->protocol);
        if (p->target_port.is_string)
            jg_key_str(g, "targetPort", p->target_port.s);
        else
            jg_key_int(g, "targetPort", p->target_port.i);
        jg_map_close(g);
    }
    jg_array_close(g);
    if (s->publish_not_ready_addresses)
        jg_key_bool(g, "publishNotReadyAddresses", true);
    yajl_val sel = json_get(spec, "selector");
    if (sel && YAJL_IS_OBJECT(sel)) {
        jg_key(g, "selector");
        jg_value(g, sel);
    }
    jg_key_str(g, "sessionAffinity", s->session_affinity);
    if (s->affinity_timeout) {
        jg_key(g, "sessionAffinityConfig");
        jg_map_open(g);
        jg_key(g, "clientIP");
        jg_map_open(g);
        jg_key_int(g, "timeoutSeconds", s->affinity_timeout);
        jg_map_close(g);
        jg_map_close(g);
    }
    jg_key_str(g, "type", s->type);
    jg_map_close(g);
}

static int service_object(const struct kube_object *o, const char *ip, const int *node_ports,
                          int health_port, const char *lb_ip, yajl_val *out, pr_error **err)
{
    _cleanup_gen_ yajl_gen g = json_gen_new(false);
    yajl_val t = o->tree;
    jg_map_open(g);
    for (size_t i = 0; i < t->u.object.len; i++) {
        const char *k = t->u.object.keys[i];
        if (streq(k, "spec") || streq(k, "status"))
            continue;
        jg_key(g, k);
        jg_value(g, t->u.object.values[i]);
    }
    jg_key(g, "spec");
    gen_spec(g, &o->u.service, json_get(t, "spec"), ip, node_ports, health_port);
    jg_key(g, "status");
    jg_map_open(g);
    jg_key(g, "loadBalancer");
    jg_map_open(g);
    if (lb_ip) {
        jg_key(g, "ingress");
        jg_array_open(g);
        jg_map_open(g);
        jg_key_str(g, "ip", lb_ip);
        jg_key_str(g, "ipMode", "VIP");
        jg_map_close(g);
        jg_array_close(g);
    }
    jg_map_close(g);
    jg_map_close(g);
    jg_map_close(g);
    size_t len;
    const char *buf = jg_buf(g, &len);
    _cleanup_free_ char *text = xstrndup(buf, len);
    return json_parse(text, "the service", out, err);
}

int pods_service_apply(pods_manager *m, const struct kube_object *o, enum pods_apply_result *res,
                       pr_error **err)
{
    const char *ns = o->meta.namespace_, *name = o->meta.name;
    _cleanup_json_ yajl_val rec = NULL, obj = NULL;
    int r = pods_object_load(m, "services", ns, name, &rec, err);
    if (r < 0 && r != -ENOENT)
        return r;
    bool exists = r == 0;
    yajl_val old = json_get(rec, "object");
    struct pods_services_taken *t = NULL;
    _cleanup_free_ char *ip = NULL, *lb_ip = NULL, *self = xasprintf("%s/%s", ns, name);
    int *node_ports = xcalloc(o->u.service.n_ports + 1, sizeof(int)), health_port = 0;
    r = taken_get(m, &t, err);
    if (r == 0 && !streq(o->u.service.type, "ExternalName"))
        r = pick_cluster_ip(m, &o->u.service, old, t, self, &ip, err);
    if (r == 0)
        r = pick_node_ports(m, &o->u.service, old, t, self, node_ports, err);
    if (r == 0)
        r = pick_health_port(m, &o->u.service, old, t, self, node_ports, &health_port, err);
    if (r == 0)
        r = pick_lb_ip(m, &o->u.service, old, t, self, &lb_ip, err);
    if (r == 0)
        r = service_object(o, ip, node_ports, health_port, lb_ip, &obj, err);
    free(node_ports);
    if (r < 0)
        return pr_err_prefix(err, "The Service \"%s\" is invalid", name);
    if (exists && pods_json_equal(old, obj)) {
        *res = PODS_UNCHANGED;
        return 0;
    }
    *res = exists ? PODS_CONFIGURED : PODS_CREATED;
    _cleanup_free_ char *uid = NULL;
    const char *had = YAJL_GET_STRING(json_get(rec, "uid"));
    if (!had && (r = pods_new_uid(&uid, err)) < 0)
        return r;
    yajl_val created = json_get(rec, "created");
    r = pods_object_save(
        m, "services", ns, name, obj, had ? had : uid,
        YAJL_IS_INTEGER(created) ? YAJL_GET_INTEGER(created) : (long long)time(NULL), err);
    if (r == 0) {
        taken_drop(t, self);
        taken_add(t, self, json_get(obj, "spec"));
        taken_add_lb(t, self, obj);
    }
    return r;
}

void pods_services_defer(pods_manager *m, bool defer)
{
    m->defer_services_sync = defer;
}

void pods_services_forget(pods_manager *m)
{
    pods_services_taken_free(m->services_taken);
    m->services_taken = NULL;
}

/* ---- endpoints ---- */

/* The pods as the endpoints controller sees them; borrowed from l. */
static struct kube_endpoint_pod *endpoint_pods(const struct pods_list *l)
{
    struct kube_endpoint_pod *v = xcalloc(l->n + 1, sizeof(*v));
    for (size_t i = 0; i < l->n; i++) {
        const struct pods_entry *e = &l->v[i];
        bool running = e->phase && streq(e->phase, "Running");
        v[i] = (struct kube_endpoint_pod){
            .ns = e->ns,
            .name = e->name,
            .uid = e->uid,
            .ip = e->ip,
            .ready = running && e->total && e->ready == e->total,
            .terminating = e->phase && (streq(e->phase, "Succeeded") || streq(e->phase, "Failed") ||
                                        streq(e->phase, "Terminating")),
            .labels = json_get(json_get(e->object, "metadata"), "labels"),
            .spec = json_get(e->object, "spec"),
        };
    }
    return v;
}

/* A stored service as a typed object (its record's object is detached from the entry). */
static int decode_stored(struct pods_entry *e, struct kube_object **out, pr_error **err)
{
    yajl_val tree = steal_pointer(&e->object);
    _cleanup_free_ char *where = xasprintf("stored service %s/%s", e->ns, e->name);
    int r = kube_object_decode(tree, where, out, err);
    if (r == 0 && (*out)->kind != KUBE_SERVICE) {
        kube_object_free(*out);
        return pr_err(err, 0, "%s: not a Service", where);
    }
    return r;
}

/* A pod's name under a headless service: its hostname when its subdomain is the service (as
 * StatefulSets' pods have), else none. */
static char *pod_hostname(const struct pods_entry *e, const char *svc)
{
    yajl_val spec = json_get(e->object, "spec");
    const char *hn = YAJL_GET_STRING(json_get(spec, "hostname"));
    const char *sd = YAJL_GET_STRING(json_get(spec, "subdomain"));
    return hn && sd && streq(sd, svc) ? xstrdup(hn) : NULL;
}

/* One endpoint of the service last added to out; sp NULL: an address without a port (a
 * headless service without ports). */
static void add_endpoint(struct pods_endpoints *out, const struct kube_endpoint *ke,
                         const struct pods_list *pods, const char *sname,
                         const struct kube_service_port *sp)
{
    const struct pods_entry *pe = ke->pod < pods->n ? &pods->v[ke->pod] : NULL;
    out->v = xrealloc(out->v, (out->n + 1) * sizeof(*out->v));
    out->v[out->n++] = (struct pods_endpoint){
        .service = out->n_services - 1,
        .ip = xstrdup(ke->ip),
        .pod = pe ? xstrdup(pe->name) : NULL,
        .hostname = pe             ? pod_hostname(pe, sname)
                    : ke->hostname ? xstrdup(ke->hostname)
                                   : NULL,
        .port = sp ? ke->port : 0,
        .protocol = sp && streq(sp->protocol, "UDP") ? "UDP" : "TCP",
        .port_name = sp && sp->name ? xstrdup(sp->name) : NULL,
        .ready = ke->ready,
    };
}

void pods_endpoints_clear(struct pods_endpoints *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->v[i].ip);
        free(l->v[i].pod);
        free(l->v[i].port_name);
        free(l->v[i].hostname);
    }
    free(l->v);
    *l = (struct pods_endpoints){0};
}

int pods_service_endpoints(pods_manager *m, const char *ns, const char *name,
                           struct pods_endpoints *out, pr_error **err)
{
    struct pods_list svcs = {0}, pods = {0}, slices = {0};
    int r = pods_list(m, "services", ns, name, &svcs, err);
    if (r == 0 && svcs.n)
        r = pods_list(m, "pods", ns, NULL, &pods, err);
    if (r == 0 && svcs.n)
        r = pods_list(m, "endpointslices", ns, NULL, &slices, err);
    _cleanup_free_ struct kube_endpoint_pod *eps = endpoint_pods(&pods);
    for (size_t i = 0; r == 0 && i < svcs.n; i++) {
        struct kube_object *o = NULL;
        _cleanup_free_ char *sns = xstrdup(svcs.v[i].ns), *sname = xstrdup(svcs.v[i].name);
        long long created = svcs.v[i].created;
        if ((r = decode_stored(&svcs.v[i], &o, err)) < 0)
            break;
        struct kube_service_endpoints se;
        pods_endpoints_compute(&o->u.service, sns, sname, eps, pods.n, &slices, &se);
        out->services = xrealloc(out->services, (out->n_services + 1) * sizeof(*out->services));
        out->services[out->n_services++] =
            (struct pods_endpoints_of){.ns = xstrdup(sns),
                                       .name = xstrdup(sname),
                                       .created = created,
                                       .manual = o->u.service.selector.n == 0};
        for (size_t p = 0; p < se.n; p++)
            for (size_t k = 0; k < se.v[p].n; k++)
                add_endpoint(out, &se.v[p].v[k], &pods, sname, &o->u.service.ports[p]);
        for (size_t k = 0; k < se.addresses.n; k++)
            add_endpoint(out, &se.addresses.v[k], &pods, sname, NULL);
        kube_service_endpoints_clear(&se);
        kube_object_free(o);
    }
    pods_list_clear(&svcs);
    pods_list_clear(&pods);
    pods_list_clear(&slices);
    return r;
}

void pods_endpoints_of_clear(struct pods_endpoints *l)
{
    for (size_t i = 0; i < l->n_services; i++) {
        free(l->services[i].ns);
        free(l->services[i].name);
    }
    free(l->services);
    l->services = NULL;
    l->n_services = 0;
    pods_endpoints_clear(l);
}

/* ---- the data path ---- */

/* One service port as the data path serves it. */
struct svc_port {
    char *key;   /* "ns/name/port/PROTO": names its chains */
    char *vip;   /* the clusterIP */
    char *proto; /* TCP, UDP */
    int port, node_port;
    int affinity; /* ClientIP's timeout in seconds; 0: none */
    /* externalTrafficPolicy Cluster: traffic from outside is masqueraded (marked in ext-HASH for
     * the nodePort; in svc-HASH itself for a LoadBalancer's address); Local keeps the client's
     * address, and masquerades only what the node itself sends, as kube-proxy does. */
    bool masq_nodeport;
    enum { VIP_CLUSTER_IP, VIP_LB_CLUSTER, VIP_LB_LOCAL } addr_kind;
    char **eps; /* ready endpoints, "IP:PORT", sorted */
};
struct svc_ports {
    struct svc_port *v;
    size_t n;
};

static void svc_ports_clear(struct svc_ports *s)
{
    for (size_t i = 0; i < s->n; i++) {
        free(s->v[i].key);
        free(s->v[i].vip);
        free(s->v[i].proto);
        strv_free(s->v[i].eps);
    }
    free(s->v);
    *s = (struct svc_ports){0};
}

static uint64_t fnv64(const char *a, const char *b)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (const char *s = a; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
    h = (h ^ '|') * 0x100000001b3ull;
    for (const char *s = b ? b : ""; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
    return h;
}

static char *svc_chain(const struct svc_port *p)
{
    return xasprintf("svc-%016llx", (unsigned long long)fnv64(p->key, NULL));
}

/* The nodePort's way in: marks for masquerade (Cluster), then the service port's chain. */
static char *ext_chain(const struct svc_port *p)
{
    return xasprintf("ext-%016llx", (unsigned long long)fnv64(p->key, NULL));
}

static char *ep_chain(const struct svc_port *p, const char *ep)
{
    return xasprintf("ep-%016llx", (unsigned long long)fnv64(p->key, ep));
}

/* The endpoint's clients, for ClientIP affinity. */
static char *aff_set(const struct svc_port *p, const char *ep)
{
    return xasprintf("aff-%016llx", (unsigned long long)fnv64(p->key, ep));
}

/* What the data path should be: every service port with a clusterIP, its ready endpoints, the
 * LoadBalancer addresses to announce in lbs; every service noted in names for the cluster DNS. */
/* Whether an endpoint is this node's, as kube-proxy judges it by its nodeName: every pod's
 * is (podrun runs them here); an EndpointSlice's endpoint only when it names this node. */
static bool on_node(pods_manager *m, const struct kube_endpoint *e)
{
    if (e->pod != SIZE_MAX)
        return true;
    const struct pods_node_config *c = NULL;
    _cleanup_error_ pr_error *ignored = NULL;
    return e->node_name && pods_node_config_get(m, &c, &ignored) == 0 && c->name &&
           streq(e->node_name, c->name);
}

static int desired(pods_manager *m, struct svc_ports *out, char ***lbs,
                   struct pods_dns_services *names, pr_error **err)
{
    struct pods_list svcs = {0}, pods = {0}, slices = {0};
    int r = pods_list(m, "services", NULL, NULL, &svcs, err);
    if (r == 0 && svcs.n)
        r = pods_list(m, "pods", NULL, NULL, &pods, err);
    if (r == 0 && svcs.n)
        r = pods_list(m, "endpointslices", NULL, NULL, &slices, err);
    _cleanup_free_ struct kube_endpoint_pod *eps = endpoint_pods(&pods);
    for (size_t i = 0; r == 0 && i < svcs.n; i++) {
        _cleanup_free_ char *ns = xstrdup(svcs.v[i].ns), *name = xstrdup(svcs.v[i].name);
        struct kube_object *o = NULL;
        if ((r = decode_stored(&svcs.v[i], &o, err)) < 0)
            break;
        const struct kube_service_spec *s = &o->u.service;
        pods_dns_note(names, ns, name, s);
        if (!s->cluster_ip || streq(s->cluster_ip, "None")) {
            kube_object_free(o);
            continue;
        }
        struct kube_service_endpoints se;
        pods_endpoints_compute(s, ns, name, eps, pods.n, &slices, &se);
        const char *lb = streq(s->type, "LoadBalancer") ? lb_status_ip(o->tree) : NULL;
        if (lb)
            strv_extend(lbs, lb);
        bool external = streq(s->type, "NodePort") || lb;
        bool local = external && streq(s->external_traffic_policy, "Local");
        bool itp_local = streq(s->internal_traffic_policy, "Local");
        for (size_t p = 0; p < s->n_ports; p++) {
            /* The affinity and the policy are part of the key: changing them replaces the
             * port's chains. */
            _cleanup_free_ char *base =
                s->affinity_timeout
                    ? xasprintf("%s/%s/%d/%s/affinity=%d", ns, name, s->ports[p].port,
                                s->ports[p].protocol, s->affinity_timeout)
                    : xasprintf("%s/%s/%d/%s", ns, name, s->ports[p].port, s->ports[p].protocol);
            struct svc_port sp = {
                .key = local ? xasprintf("%s/etp=Local", base) : xstrdup(base),
                .affinity = s->affinity_timeout,
                .masq_nodeport = external && !local,
                .vip = xstrdup(s->cluster_ip),
                .proto = xstrdup(s->ports[p].protocol),
                .port = s->ports[p].port,
                .node_port = streq(s->type, "NodePort") || lb ? s->ports[p].node_port : 0,
            };
            for (size_t k = 0; k < se.v[p].n; k++)
                if (se.v[p].v[k].ready && (!itp_local || on_node(m, &se.v[p].v[k])))
                    strv_consume(&sp.eps, xasprintf("%s:%d", se.v[p].v[k].ip, se.v[p].v[k].port));
            out->v = xrealloc(out->v, (out->n + 2) * sizeof(*out->v));
            out->v[out->n++] = sp;
            if (lb) {
                /* The pool address: the same endpoints behind a key of its own (its chains are
                 * the clusterIP's twins), so the diff treats it as one more service port. */
                struct svc_port lp = {
                    .key = xasprintf("%s/lb=%s", sp.key, lb),
                    .affinity = sp.affinity,
                    .addr_kind = local ? VIP_LB_LOCAL : VIP_LB_CLUSTER,
                    .vip = xstrdup(lb),
                    .proto = xstrdup(sp.proto),
                    .port = sp.port,
                };
                for (size_t k = 0; sp.eps && sp.eps[k]; k++)
                    strv_extend(&lp.eps, sp.eps[k]);
                out->v[out->n++] = lp;
            }
        }
        kube_service_endpoints_clear(&se);
        kube_object_free(o);
    }
    pods_list_clear(&svcs);
    pods_list_clear(&pods);
    pods_list_clear(&slices);
    return r;
}

static char *state_path(pods_manager *m)
{
    return xasprintf("%s/services-nft.json", m->run_root);
}

/* What the last sync wrote; false when there is no record of it. */
static bool load_state(pods_manager *m, struct svc_ports *out)
{
    _cleanup_free_ char *path = state_path(m);
    _cleanup_json_ yajl_val v = NULL;
    _cleanup_error_ pr_error *ignored = NULL;
    if (json_parse_file_max(path, STATE_MAX, READ_REGULAR, &v, &ignored) < 0 || !YAJL_IS_ARRAY(v))
        return false;
    for (size_t i = 0; i < json_array_len(v); i++) {
        yajl_val o = json_array_at(v, i);
        const char *key = YAJL_GET_STRING(json_get(o, "key"));
        const char *vip = YAJL_GET_STRING(json_get(o, "vip"));
        const char *proto = YAJL_GET_STRING(json_get(o, "protocol"));
        yajl_val port = json_get(o, "port"), np = json_get(o, "nodePort");
        yajl_val eps = json_get(o, "endpoints");
        if (!key || !vip || !proto || !YAJL_IS_INTEGER(port) || !YAJL_IS_INTEGER(np))
            continue;
        /* A record from before the policies' chains: its table is rebuilt whole. */
        if (!json_get(o, "masqueradeNodePort"))
            return false;
        yajl_val aff = json_get(o, "affinity");
        struct svc_port sp = {.key = xstrdup(key),
                              .masq_nodeport = YAJL_IS_TRUE(json_get(o, "masqueradeNodePort")),
                              .addr_kind = YAJL_IS_INTEGER(json_get(o, "address"))
                                               ? (int)YAJL_GET_INTEGER(json_get(o, "address"))
                                               : VIP_CLUSTER_IP,
                              .affinity = YAJL_IS_INTEGER(aff) ? (int)YAJL_GET_INTEGER(aff) : 0,
                              .vip = xstrdup(vip),
                              .proto = xstrdup(proto),
                              .port = (int)YAJL_GET_INTEGER(port),
                              .node_port = (int)YAJL_GET_INTEGER(np)};
        for (size_t k = 0; k < json_array_len(eps); k++) {
            const char *e = YAJL_GET_STRING(json_array_at(eps, k));
            if (e)
                strv_extend(&sp.eps, e);
        }
        out->v = xrealloc(out->v, (out->n + 1) * sizeof(*out->v));
        out->v[out->n++] = sp;
    }
    return true;
}

static int save_state(pods_manager *m, const struct svc_ports *s, pr_error **err)
{
    _cleanup_free_ char *path = state_path(m);
    if (!s->n) {
        if (unlink(path) < 0 && errno != ENOENT)
            return pr_err(err, errno, "remove `%s`", path);
        return 0;
    }
    _cleanup_gen_ yajl_gen g = json_gen_new(false);
    jg_array_open(g);
    for (size_t i = 0; i < s->n; i++) {
        jg_map_open(g);
        jg_key_str(g, "key", s->v[i].key);
        jg_key_str(g, "vip", s->v[i].vip);
        jg_key_str(g, "protocol", s->v[i].proto);
        jg_key_int(g, "port", s->v[i].port);
        jg_key_int(g, "nodePort", s->v[i].node_port);
        jg_key_int(g, "affinity", s->v[i].affinity);
        jg_key_bool(g, "masqueradeNodePort", s->v[i].masq_nodeport);
        jg_key_int(g, "address", s->v[i].addr_kind);
        jg_key(g, "endpoints");
        jg_array_open(g);
        for (size_t k = 0; s->v[i].eps && s->v[i].eps[k]; k++)
            jg_str(g, s->v[i].eps[k]);
        jg_array_close(g);
        jg_map_close(g);
    }
    jg_array_close(g);
    size_t len;
    const char *buf = jg_buf(g, &len);
    return write_file_atomic_volatile(path, buf, len, 0600, err);
}

static const struct svc_port *find(const struct svc_ports *s, const char *key)
{
    for (size_t i = 0; i < s->n; i++)
        if (streq(s->v[i].key, key))
            return &s->v[i];
    return NULL;
}

static bool has_ep(char *const *eps, const char *ep)
{
    for (size_t i = 0; eps && eps[i]; i++)
        if (streq(eps[i], ep))
            return true;
    return false;
}

static bool same_eps(char *const *a, char *const *b)
{
    size_t na = a ? strv_length((char **)a) : 0, nb = b ? strv_length((char **)b) : 0;
    if (na != nb)
        return false;
    for (size_t i = 0; i < na; i++)
        if (!streq(a[i], b[i]))
            return false;
    return true;
}

static uint8_t l4(const char *proto)
{
    return streq(proto, "UDP") ? IPPROTO_UDP : IPPROTO_TCP;
}

static void ips_key(const struct svc_port *p, nft_key *k)
{
    nft_addr a;
    nft_addr_parse(p->vip, &a);
    nft_key_init(k);
    nft_key_addr(k, &a);
    nft_key_l4proto(k, l4(p->proto));
    nft_key_port(k, (uint16_t)p->port);
}

static void nodeport_key(const struct svc_port *p, nft_key *k)
{
    nft_key_init(k);
    nft_key_l4proto(k, l4(p->proto));
    nft_key_port(k, (uint16_t)p->node_port);
}

static const enum nft_field ips_fields[] = {NFT_FIELD_DADDR4, NFT_FIELD_L4PROTO, NFT_FIELD_DPORT};
static const enum nft_field np_fields[] = {NFT_FIELD_L4PROTO, NFT_FIELD_DPORT};

static void base_table(pods_manager *m, nft_batch *b)
{
    static const nft_addr loopback4 = {AF_INET, {127}};
    nft_batch_add_table(b, NFPROTO_IPV4, TABLE);
    nft_batch_add_vmap(b, NFPROTO_IPV4, TABLE, MAP_IPS, ips_fields, ARRAY_SIZE(ips_fields));
    nft_batch_add_vmap(b, NFPROTO_IPV4, TABLE, MAP_NODEPORTS, np_fields, ARRAY_SIZE(np_fields));
    nft_batch_add_chain(b, NFPROTO_IPV4, TABLE, "services", NULL, 0, 0);
    nft_batch_add_chain(b, NFPROTO_IPV4, TABLE, "prerouting", "nat", NF_INET_PRE_ROUTING,
                        DSTNAT_PRIO);
    nft_batch_add_chain(b, NFPROTO_IPV4, TABLE, "output", "nat", NF_INET_LOCAL_OUT, DSTNAT_PRIO);
    nft_batch_add_chain(b, NFPROTO_IPV4, TABLE, "postrouting", "nat", NF_INET_POST_ROUTING,
                        SRCNAT_PRIO);
    nft_rule *r = nft_rule_new(NFPROTO_IPV4, TABLE, "services", "podrun-services");
    nft_action_vmap(r, MAP_IPS, ips_fields, ARRAY_SIZE(ips_fields));
    nft_batch_add_rule(b, r);
    r = nft_rule_new(NFPROTO_IPV4, TABLE, "services", "podrun-nodeports");
    nft_match_fib_daddr_local(r);
    nft_match_addr(r, true, &loopback4, 8, false);
    nft_action_vmap(r, MAP_NODEPORTS, np_fields, ARRAY_SIZE(np_fields));
    nft_batch_add_rule(b, r);
    const char *hooks[] = {"prerouting", "output"};
    for (size_t i = 0; i < ARRAY_SIZE(hooks); i++) {
        r = nft_rule_new(NFPROTO_IPV4, TABLE, hooks[i], "podrun-services");
        nft_action_jump(r, "services");
        nft_batch_add_rule(b, r);
    }
    nft_batch_add_vmap(b, NFPROTO_IPV4, TABLE, MAP_NOEP_IPS, ips_fields, ARRAY_SIZE(ips_fields));
    nft_batch_add_vmap(b, NFPROTO_IPV4, TABLE, MAP_NOEP_PORTS, np_fields, ARRAY_SIZE(np_fields));
    nft_batch_add_chain(b, NFPROTO_IPV4, TABLE, "reject-chain", NULL, 0, 0);
    r = nft_rule_new(NFPROTO_IPV4, TABLE, "reject-chain", "podrun-services");
    nft_action_counter(r);
    nft_action_reject(r);
    nft_batch_add_rule(b, r);
    const struct {
        const char *chain;
        unsigned hook;
    } filters[] = {{"filter-forward", NF_INET_FORWARD},
                   {"filter-output", NF_INET_LOCAL_OUT},
                   {"filter-input", NF_INET_LOCAL_IN}};
    for (size_t i = 0; i < ARRAY_SIZE(filters); i++) {
        nft_batch_add_chain(b, NFPROTO_IPV4, TABLE, filters[i].chain, "filter", filters[i].hook,
                            FILTER_PRIO);
        r = nft_rule_new(NFPROTO_IPV4, TABLE, filters[i].chain, "podrun-services");
        if (filters[i].hook == NF_INET_LOCAL_IN) {
            nft_match_fib_daddr_local(r);
            nft_action_vmap(r, MAP_NOEP_PORTS, np_fields, ARRAY_SIZE(np_fields));
            nft_batch_add_rule(b, r);
            /* A LoadBalancer's address is the node's own (loadbalancer.c): its service ports
             * without endpoints are refused on input. */
            r = nft_rule_new(NFPROTO_IPV4, TABLE, filters[i].chain, "podrun-services");
            nft_action_vmap(r, MAP_NOEP_IPS, ips_fields, ARRAY_SIZE(ips_fields));
        } else {
            nft_action_vmap(r, MAP_NOEP_IPS, ips_fields, ARRAY_SIZE(ips_fields));
        }
        nft_batch_add_rule(b, r);
    }
    /* externalTrafficPolicy Cluster, as kube-proxy's mark-for-masquerade: traffic from outside
     * leaves for its endpoint with the node's address. */
    nft_batch_add_chain(b, NFPROTO_IPV4, TABLE, "mark-for-masquerade", NULL, 0, 0);
    r = nft_rule_new(NFPROTO_IPV4, TABLE, "mark-for-masquerade", "podrun-services");
    nft_action_mark_set_bits(r, MASQ_MARK);
    nft_batch_add_rule(b, r);
    r = nft_rule_new(NFPROTO_IPV4, TABLE, "postrouting", "podrun-services-masquerade");
    nft_match_mark(r, MASQ_MARK);
    nft_action_counter(r);
    nft_action_masquerade(r);
    nft_batch_add_rule(b, r);
    /* Hairpin and pod-to-pod through a service: the pod subnet to itself, after a DNAT. */
    _cleanup_free_ char *cidr = pods_node_pod_cidr(m);
    char *slash = cidr ? strchr(cidr, '/') : NULL;
    nft_addr net;
    if (slash) {
        *slash = '\0';
        unsigned long plen = strtoul(slash + 1, NULL, 10);
        if (nft_addr_parse(cidr, &net) == 0 && net.family == AF_INET && plen <= 32) {
            r = nft_rule_new(NFPROTO_IPV4, TABLE, "postrouting", "podrun-services-hairpin");
            nft_match_ct_dnat(r);
            nft_match_addr(r, false, &net, (unsigned)plen, true);
            nft_match_addr(r, true, &net, (unsigned)plen, true);
            nft_action_counter(r);
            nft_action_masquerade(r);
            nft_batch_add_rule(b, r);
        }
    }
}

/* External traffic's masquerade: all of it (Cluster), or only what the node sends (Local,
 * kube-proxy's "masquerade local traffic": a LoadBalancer address is the node's own, and the
 * source the node picks for it). */
static void masq_rule(nft_batch *b, const char *chain, const char *tag, bool all)
{
    nft_rule *r = nft_rule_new(NFPROTO_IPV4, TABLE, chain, tag);
    if (!all)
        nft_match_fib_saddr_local(r);
    nft_action_jump(r, "mark-for-masquerade");
    nft_batch_add_rule(b, r);
}

static void svc_rules(nft_batch *b, const struct svc_port *p, const char *chain)
{
    size_t n = p->eps ? strv_length(p->eps) : 0;
    _cleanup_free_ char *tag = xasprintf("podrun-service:%s", p->key);
    if (p->addr_kind != VIP_CLUSTER_IP)
        masq_rule(b, chain, tag, p->addr_kind == VIP_LB_CLUSTER);
    /* A client seen lately goes back to its endpoint (kube-proxy's affinity sets). */
    for (size_t i = 0; p->affinity && i < n; i++) {
        _cleanup_free_ char *ep = ep_chain(p, p->eps[i]), *set = aff_set(p, p->eps[i]);
        nft_rule *r = nft_rule_new(NFPROTO_IPV4, TABLE, chain, tag);
        nft_match_saddr_in_set(r, set);
        nft_action_jump(r, ep);
        nft_batch_add_rule(b, r);
    }
    for (size_t i = 0; i < n; i++) {
        _cleanup_free_ char *ep = ep_chain(p, p->eps[i]);
        nft_rule *r = nft_rule_new(NFPROTO_IPV4, TABLE, chain, tag);
        if (i + 1 < n)
            nft_match_numgen_zero(r, (uint32_t)(n - i));
        nft_action_jump(r, ep);
        nft_batch_add_rule(b, r);
    }
}

static void ext_rules(nft_batch *b, const struct svc_port *p)
{
    _cleanup_free_ char *chain = ext_chain(p), *svc = svc_chain(p);
    _cleanup_free_ char *tag = xasprintf("podrun-service:%s", p->key);
    nft_batch_add_chain(b, NFPROTO_IPV4, TABLE, chain, NULL, 0, 0);
    masq_rule(b, chain, tag, p->masq_nodeport);
    nft_rule *r = nft_rule_new(NFPROTO_IPV4, TABLE, chain, tag);
    nft_action_jump(r, svc);
    nft_batch_add_rule(b, r);
}

static void ep_rules(nft_batch *b, const struct svc_port *p, const char *ep)
{
    _cleanup_free_ char *chain = ep_chain(p, ep), *ip = xstrdup(ep);
    char *colon = strrchr(ip, ':');
    *colon = '\0';
    nft_addr a;
    nft_addr_parse(ip, &a);
    nft_batch_add_chain(b, NFPROTO_IPV4, TABLE, chain, NULL, 0, 0);
    _cleanup_free_ char *tag = xasprintf("podrun-endpoint:%s", p->key);
    _cleanup_free_ char *set = p->affinity ? aff_set(p, ep) : NULL;
    if (set)
        nft_batch_add_addr_set(b, NFPROTO_IPV4, TABLE, set, (uint64_t)p->affinity * 1000);
    nft_rule *r = nft_rule_new(NFPROTO_IPV4, TABLE, chain, tag);
    if (set)
        nft_action_update_saddr(r, set);
    nft_action_counter(r);
    nft_action_dnat(r, &a, (uint16_t)atoi(colon + 1));
    nft_batch_add_rule(b, r);
}

/* The changes from have to want, in an order the kernel accepts within one transaction:
 * references (map elements, jumps) go before what they name, and come after it. */
static void diff(nft_batch *b, const struct svc_ports *have, const struct svc_ports *want)
{
    for (size_t i = 0; i < have->n; i++) {
        const struct svc_port *h = &have->v[i], *w = find(want, h->key);
        nft_key k;
        _cleanup_free_ char *chain = svc_chain(h);
        if (!w || !streq(w->vip, h->vip) || w->port != h->port) {
            ips_key(h, &k);
            nft_batch_del_vmap_elem(b, NFPROTO_IPV4, TABLE, MAP_IPS, &k);
        }
        if (h->node_port && (!w || w->node_port != h->node_port)) {
            nodeport_key(h, &k);
            nft_batch_del_vmap_elem(b, NFPROTO_IPV4, TABLE, MAP_NODEPORTS, &k);
        }
        if (!h->eps) {
            bool gone = !w || w->eps;
            if (gone || !streq(w->vip, h->vip) || w->port != h->port) {
                ips_key(h, &k);
                nft_batch_del_vmap_elem(b, NFPROTO_IPV4, TABLE, MAP_NOEP_IPS, &k);
            }
            if (h->node_port && (gone || w->node_port != h->node_port)) {
                nodeport_key(h, &k);
                nft_batch_del_vmap_elem(b, NFPROTO_IPV4, TABLE, MAP_NOEP_PORTS, &k);
            }
        }
        if (h->node_port && (!w || !w->node_port)) {
            _cleanup_free_ char *ext = ext_chain(h);
            nft_batch_flush_chain(b, NFPROTO_IPV4, TABLE, ext);
            nft_batch_del_chain(b, NFPROTO_IPV4, TABLE, ext);
        }
        if (w && same_eps(w->eps, h->eps))
            continue;
        nft_batch_flush_chain(b, NFPROTO_IPV4, TABLE, chain);
        for (size_t e = 0; h->eps && h->eps[e]; e++) {
            if (w && has_ep(w->eps, h->eps[e]))
                continue;
            _cleanup_free_ char *ep = ep_chain(h, h->eps[e]);
            nft_batch_flush_chain(b, NFPROTO_IPV4, TABLE, ep);
            nft_batch_del_chain(b, NFPROTO_IPV4, TABLE, ep);
            if (h->affinity) {
                _cleanup_free_ char *set = aff_set(h, h->eps[e]);
                nft_batch_del_vmap(b, NFPROTO_IPV4, TABLE, set);
            }
        }
        if (!w)
            nft_batch_del_chain(b, NFPROTO_IPV4, TABLE, chain);
    }
    for (size_t i = 0; i < want->n; i++) {
        const struct svc_port *w = &want->v[i], *h = find(have, w->key);
        nft_key k;
        _cleanup_free_ char *chain = svc_chain(w);
        if (!h)
            nft_batch_add_chain(b, NFPROTO_IPV4, TABLE, chain, NULL, 0, 0);
        if (!h || !same_eps(w->eps, h->eps)) {
            for (size_t e = 0; w->eps && w->eps[e]; e++)
                if (!h || !has_ep(h->eps, w->eps[e]))
                    ep_rules(b, w, w->eps[e]);
            svc_rules(b, w, chain);
        }
        if (!h || !streq(w->vip, h->vip) || w->port != h->port) {
            ips_key(w, &k);
            nft_batch_add_vmap_elem(b, NFPROTO_IPV4, TABLE, MAP_IPS, &k, chain);
        }
        if (w->node_port && (!h || !h->node_port))
            ext_rules(b, w);
        if (w->node_port && (!h || w->node_port != h->node_port)) {
            _cleanup_free_ char *ext = ext_chain(w);
            nodeport_key(w, &k);
            nft_batch_add_vmap_elem(b, NFPROTO_IPV4, TABLE, MAP_NODEPORTS, &k, ext);
        }
        if (!w->eps) {
            bool fresh = !h || h->eps;
            if (fresh || !streq(w->vip, h->vip) || w->port != h->port) {
                ips_key(w, &k);
                nft_batch_add_vmap_elem(b, NFPROTO_IPV4, TABLE, MAP_NOEP_IPS, &k, "reject-chain");
            }
            if (w->node_port && (fresh || w->node_port != h->node_port)) {
                nodeport_key(w, &k);
                nft_batch_add_vmap_elem(b, NFPROTO_IPV4, TABLE, MAP_NOEP_PORTS, &k, "reject-chain");
            }
        }
    }
}

static bool table_exists(void)
{
    struct nft_rules l = {0};
    _cleanup_error_ pr_error *ignored = NULL;
    bool any = nft_list_rules(NFPROTO_IPV4, TABLE, &l, &ignored) == 0 && l.n > 0;
    nft_rules_clear(&l);
    return any;
}

static int sync_to(pods_manager *m, const struct svc_ports *want, pr_error **err);

int pods_services_sync(pods_manager *m, pr_error **err)
{
    struct svc_ports want = {0};
    struct pods_dns_services names = {0};
    _cleanup_free_ char *state = state_path(m);
    _cleanup_strv_ char **lbs = NULL;
    struct stat st;
    int r = desired(m, &want, &lbs, &names, err);
    /* No service, and none served: nothing of ours to look at. */
    if (r == 0 && (want.n || lstat(state, &st) == 0))
        r = sync_to(m, &want, err);
    if (r == 0)
        r = pods_lb_announce(m, lbs, err);
    /* The Ingress controller routes to services' clusterIPs, and every pass supervises it
     * (restarts it when it died). Its errors are the Ingress applies' to report: a pod or a
     * service is not refused because nginx cannot start. */
    if (r == 0) {
        _cleanup_error_ pr_error *ingress = NULL;
        pods_ingress_sync(m, &ingress);
    }
    svc_ports_clear(&want);
    if (r == 0)
        r = pods_dns_sync(m, &names, err);
    pods_dns_services_clear(&names);
    return r;
}

static int sync_to(pods_manager *m, const struct svc_ports *want_, pr_error **err)
{
    const struct svc_ports want = *want_;
    struct svc_ports have = {0};
    _cleanup_close_ int lock = nft_lock(LOCK, err);
    if (lock < 0)
        return lock;
    int r;
    bool exists = table_exists();
    /* A table with no record of what is in it (a run root wiped) is rebuilt whole. */
    bool known = exists && load_state(m, &have);
    _cleanup_nft_batch_ nft_batch *b = nft_batch_new();
    if (!want.n) {
        if (exists)
            nft_batch_del_table(b, NFPROTO_IPV4, TABLE);
    } else if (exists == known) {
        if (!exists)
            base_table(m, b);
        diff(b, &have, &want);
    }
    _cleanup_error_ pr_error *first = NULL;
    r = nft_batch_count(b) ? nft_batch_send(b, "updating the services' data path", &first) : 0;
    if (want.n && (r < 0 || exists != known)) {
        /* What we wrote last is not what is there (someone changed our table): start over,
         * in one transaction. */
        _cleanup_nft_batch_ nft_batch *full = nft_batch_new();
        if (exists) {
            nft_batch_add_table(full, NFPROTO_IPV4, TABLE);
            nft_batch_del_table(full, NFPROTO_IPV4, TABLE);
        }
        base_table(m, full);
        struct svc_ports none = {0};
        diff(full, &none, &want);
        r = nft_batch_send(full, "writing the services' data path", err);
    } else if (r < 0) {
        *err = steal_pointer(&first);
    }
    if (r == 0)
        r = save_state(m, &want, err);
    svc_ports_clear(&have);
    return r;
}
