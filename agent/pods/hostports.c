/* SPDX-License-Identifier: Apache-2.0 */
/* hostPort: the node's port forwarded to the pod's IP and containerPort, in podrun's own
 * nftables table (DESIGN.md, "Node data path"), `inet podrun_hostports`:
 *   chain prerouting  (nat, dstnat)  jump hostports       traffic from outside and from pods
 *   chain output      (nat, dstnat)  jump hostports       traffic the node itself makes
 *   chain hostports   per port: [fib daddr type local, not 127.0.0.0/8 | ip daddr HOSTIP]
 *                     meta l4proto P th dport HOSTPORT dnat to POD:PORT
 *   chain postrouting (nat, srcnat)  per port: ct status dnat, from the pod's own subnet to
 *                     the pod: masquerade (hairpin, and pods on the same bridge, whose replies
 *                     would otherwise bypass the node and its un-DNAT)
 * Every rule a pod adds carries the comment "podrun-hostport:UID"; a pod's rules go in one
 * batch and leave in one, and the batch that removes the last pod's rules removes the table.
 * Like kube-proxy's nftables mode, a hostPort is not reachable on 127.0.0.1: that would need
 * route_localnet, which opens the node's loopback to its neighbours.
 *
 * Claims (run_dir/hostports.json) are what conflicts are judged on: every pod's ports with a
 * hostPort, hostNetwork pods' ports too (their ports are the node's), so that a second pod that
 * asks for the same port, protocol and address is refused before anything of it is made. */
#include "fs.h"
#include "manager.h"
#include "nft/nftables.h"
#include "util.h"

#include <dirent.h>
#include <netinet/in.h>
/* After netinet/in.h, which it defers to. */
#include <linux/netfilter.h>
#include <sys/stat.h>

#define TABLE       "podrun_hostports"
#define TAG_PREFIX  "podrun-hostport:"
#define BASE_TAG    "podrun-hostport"
#define LOCK        "podrun-hostports-nft"
#define CLAIMS_MAX  (1u << 20)
#define DSTNAT_PRIO (-100)
#define SRCNAT_PRIO 100

struct claim {
    int container_port, host_port;
    const char *protocol, *host_ip; /* host_ip "" for every address */
    const char *where;              /* spec.containers[0].ports[1] */
};

static bool any_ip(const char *ip)
{
    return !ip || !*ip || streq(ip, "0.0.0.0") || streq(ip, "::");
}

/* Two claims collide as the scheduler's NodePorts filter judges them: same protocol and port,
 * and the same address or either on every address. */
static bool collide(const char *proto_a, int port_a, const char *ip_a, const char *proto_b,
                    int port_b, const char *ip_b)
{
    return port_a == port_b && streq(proto_a, proto_b) &&
           (any_ip(ip_a) || any_ip(ip_b) || streq(ip_a, ip_b));
}

/* The pod's claims, in spec order: every port with a hostPort (hostNetwork made hostPort the
 * containerPort). *where strings are allocated into *names. */
static size_t pod_claims(const struct kube_pod_spec *s, struct claim **out, char ***names)
{
    size_t n = 0;
    *out = NULL;
    for (size_t i = 0; i < s->n_init_containers + s->n_containers; i++) {
        bool init = i < s->n_init_containers;
        const struct kube_container *c =
            init ? &s->init_containers[i] : &s->containers[i - s->n_init_containers];
        for (size_t j = 0; j < c->n_ports; j++) {
            const struct kube_container_port *p = &c->ports[j];
            if (!p->host_port)
                continue;
            char *w = xasprintf("spec.%s[%zu].ports[%zu]", init ? "initContainers" : "containers",
                                init ? i : i - s->n_init_containers, j);
            strv_consume(names, w);
            *out = xrealloc(*out, (n + 1) * sizeof(**out));
            (*out)[n++] = (struct claim){
                .container_port = p->container_port,
                .host_port = p->host_port,
                .protocol = p->protocol ? p->protocol : "TCP",
                .host_ip = p->host_ip ? p->host_ip : "",
                .where = w,
            };
        }
    }
    return n;
}

static uint8_t l4proto(const char *protocol)
{
    return streq(protocol, "UDP")    ? IPPROTO_UDP
           : streq(protocol, "SCTP") ? IPPROTO_SCTP
                                     : IPPROTO_TCP;
}

/* A claim counts while its pod is applied (its record names this uid): what an apply killed
 * half-way left behind holds no port. */
static bool is_applied(pods_manager *m, yajl_val pod, const char *uid)
{
    const char *ns = YAJL_GET_STRING(json_get(pod, "namespace"));
    const char *name = YAJL_GET_STRING(json_get(pod, "name"));
    _cleanup_json_ yajl_val rec = NULL;
    _cleanup_error_ pr_error *ignored = NULL;
    if (!ns || !name || !kube_valid_label_name(ns) || !kube_valid_subdomain(name) ||
        pods_object_load(m, "pods", ns, name, &rec, &ignored) < 0)
        return false;
    const char *u = YAJL_GET_STRING(json_get(rec, "uid"));
    return u && streq(u, uid);
}

static int claims_collide(const struct claim *c, yajl_val v, const char *whose, pr_error **err)
{
    for (size_t i = 0; i < json_array_len(v); i++) {
        yajl_val o = json_array_at(v, i);
        const char *proto = YAJL_GET_STRING(json_get(o, "protocol"));
        const char *ip = YAJL_GET_STRING(json_get(o, "hostIP"));
        yajl_val hp = json_get(o, "hostPort");
        if (proto && YAJL_IS_INTEGER(hp) &&
            collide(c->protocol, c->host_port, c->host_ip, proto, (int)YAJL_GET_INTEGER(hp), ip))
            return pr_err_code(err, EADDRINUSE,
                               "%s: hostPort %d/%s%s%s is already used by %s (the node has no "
                               "free port for it)",
                               c->where, c->host_port, c->protocol,
                               any_ip(c->host_ip) ? "" : " on ",
                               any_ip(c->host_ip) ? "" : c->host_ip, whose);
    }
    return 0;
}

/* A conflict with a CRI sandbox's claims (run-root/sandboxes/DIR/hostports.json). */
static int other_sandboxes(pods_manager *m, const struct claim *c, const char *self, pr_error **err)
{
    _cleanup_free_ char *dir = xasprintf("%s/sandboxes", m->run_root);
    _cleanup_dir_ DIR *d = opendir(dir);
    if (!d)
        return errno == ENOENT ? 0 : pr_err(err, errno, "open `%s`", dir);
    struct dirent *e;
    int r = 0;
    while (r == 0 && (e = readdir(d))) {
        if (e->d_name[0] == '.' || (self && strncmp(self, e->d_name, strlen(e->d_name)) == 0))
            continue;
        _cleanup_free_ char *path = xasprintf("%s/%s/hostports.json", dir, e->d_name);
        _cleanup_json_ yajl_val v = NULL;
        _cleanup_error_ pr_error *ignored = NULL;
        if (json_parse_file_max(path, CLAIMS_MAX, READ_REGULAR, &v, &ignored) < 0)
            continue;
        _cleanup_free_ char *whose = xasprintf("sandbox %s", e->d_name);
        r = claims_collide(c, v, whose, err);
    }
    return r;
}

/* A conflict with another pod's claims (their run_dir/hostports.json), named. */
static int other_pods_only(pods_manager *m, const struct claim *c, pr_error **err)
{
    _cleanup_free_ char *dir = xasprintf("%s/pods", m->run_root);
    _cleanup_dir_ DIR *d = opendir(dir);
    if (!d)
        return errno == ENOENT ? 0 : pr_err(err, errno, "open `%s`", dir);
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        _cleanup_free_ char *path = xasprintf("%s/%s/hostports.json", dir, e->d_name);
        _cleanup_free_ char *rec = xasprintf("%s/%s/pod.json", dir, e->d_name);
        _cleanup_json_ yajl_val v = NULL, pod = NULL;
        _cleanup_error_ pr_error *ignored = NULL;
        if (json_parse_file_max(path, CLAIMS_MAX, READ_REGULAR, &v, &ignored) < 0)
            continue; /* none: that pod claims nothing */
        json_parse_file_max(rec, CLAIMS_MAX, READ_REGULAR, &pod, &ignored);
        if (!is_applied(m, pod, e->d_name))
            continue;
        for (size_t i = 0; i < json_array_len(v); i++) {
            yajl_val o = json_array_at(v, i);
            const char *proto = YAJL_GET_STRING(json_get(o, "protocol"));
            const char *ip = YAJL_GET_STRING(json_get(o, "hostIP"));
            yajl_val hp = json_get(o, "hostPort");
            if (!proto || !YAJL_IS_INTEGER(hp))
                continue;
            if (!collide(c->protocol, c->host_port, c->host_ip, proto, (int)YAJL_GET_INTEGER(hp),
                         ip))
                continue;
            const char *ons = YAJL_GET_STRING(json_get(pod, "namespace"));
            const char *oname = YAJL_GET_STRING(json_get(pod, "name"));
            return pr_err_code(
                err, EADDRINUSE,
                "%s: hostPort %d/%s%s%s is already used by pod \"%s/%s\" (the "
                "node has no free port for it)",
                c->where, c->host_port, c->protocol, any_ip(c->host_ip) ? "" : " on ",
                any_ip(c->host_ip) ? "" : c->host_ip, ons ? ons : "?", oname ? oname : e->d_name);
        }
    }
    return 0;
}

/* Pods' and CRI sandboxes' claims both. */
static int other_pods(pods_manager *m, const struct claim *c, pr_error **err)
{
    int r = other_sandboxes(m, c, NULL, err);
    return r < 0 ? r : other_pods_only(m, c, err);
}

int pods_hostports_check(pods_manager *m, const struct kube_object *o, pr_error **err)
{
    struct claim *c = NULL;
    _cleanup_strv_ char **names = NULL;
    size_t n = pod_claims(&o->u.pod, &c, &names);
    int r = 0;
    for (size_t i = 0; r == 0 && i < n; i++) {
        nft_addr a;
        if (!any_ip(c[i].host_ip) && nft_addr_parse(c[i].host_ip, &a) < 0)
            r = pr_err(err, 0, "%s.hostIP: Invalid value: \"%s\": must be a valid IP address",
                       c[i].where, c[i].host_ip);
        /* The API server refuses one pod asking twice (validation's AccumulateUniqueHostPorts). */
        for (size_t j = 0; r == 0 && j < i; j++)
            if (collide(c[i].protocol, c[i].host_port, c[i].host_ip, c[j].protocol, c[j].host_port,
                        c[j].host_ip))
                r = pr_err(err, 0, "%s.hostPort: Duplicate value: \"%d/%s\" (also in %s)",
                           c[i].where, c[i].host_port, c[i].protocol, c[j].where);
        if (r == 0)
            r = other_pods(m, &c[i], err);
    }
    free(c);
    return r;
}

static int save_claims(const struct pods_pod_paths *p, const struct claim *c, size_t n,
                       pr_error **err)
{
    _cleanup_gen_ yajl_gen g = json_gen_new(false);
    jg_array_open(g);
    for (size_t i = 0; i < n; i++) {
        jg_map_open(g);
        jg_key_int(g, "containerPort", c[i].container_port);
        jg_key_int(g, "hostPort", c[i].host_port);
        jg_key_str(g, "protocol", c[i].protocol);
        jg_key_str(g, "hostIP", c[i].host_ip);
        jg_map_close(g);
    }
    jg_array_close(g);
    size_t len;
    const char *buf = jg_buf(g, &len);
    _cleanup_free_ char *path = xasprintf("%s/hostports.json", p->run_dir);
    return write_file_atomic_volatile(path, buf, len, 0600, err);
}

/* The pod's subnet from its CNI result ("10.88.0.5/16"); the address alone when there is none. */
static unsigned pod_prefix(const struct pods_pod_paths *p, const nft_addr *ip)
{
    unsigned full = ip->family == AF_INET6 ? 128 : 32;
    _cleanup_free_ char *path = xasprintf("%s/cni-result.json", p->run_dir);
    _cleanup_json_ yajl_val res = NULL;
    _cleanup_error_ pr_error *ignored = NULL;
    if (json_parse_file(path, &res, &ignored) < 0)
        return full;
    yajl_val ips = json_get(res, "ips");
    for (size_t i = 0; i < json_array_len(ips); i++) {
        const char *a = YAJL_GET_STRING(json_get(json_array_at(ips, i), "address"));
        const char *slash = a ? strchr(a, '/') : NULL;
        _cleanup_free_ char *addr = slash ? xstrndup(a, (size_t)(slash - a)) : NULL;
        nft_addr x;
        if (addr && nft_addr_parse(addr, &x) == 0 && x.family == ip->family &&
            memcmp(x.b, ip->b, 16) == 0) {
            unsigned long plen = strtoul(slash + 1, NULL, 10);
            return plen <= full ? (unsigned)plen : full;
        }
    }
    return full;
}

static void base_chains(nft_batch *b)
{
    nft_batch_add_table(b, NFPROTO_INET, TABLE);
    nft_batch_add_chain(b, NFPROTO_INET, TABLE, "hostports", NULL, 0, 0);
    nft_batch_add_chain(b, NFPROTO_INET, TABLE, "prerouting", "nat", NF_INET_PRE_ROUTING,
                        DSTNAT_PRIO);
    nft_batch_add_chain(b, NFPROTO_INET, TABLE, "output", "nat", NF_INET_LOCAL_OUT, DSTNAT_PRIO);
    nft_batch_add_chain(b, NFPROTO_INET, TABLE, "postrouting", "nat", NF_INET_POST_ROUTING,
                        SRCNAT_PRIO);
    const char *hooks[] = {"prerouting", "output"};
    for (size_t i = 0; i < ARRAY_SIZE(hooks); i++) {
        nft_rule *r = nft_rule_new(NFPROTO_INET, TABLE, hooks[i], BASE_TAG);
        nft_action_jump(r, "hostports");
        nft_batch_add_rule(b, r);
    }
}

static void port_rules(nft_batch *b, const char *tag, const struct claim *c, const nft_addr *pod,
                       unsigned plen)
{
    static const nft_addr loopback4 = {AF_INET, {127}};
    nft_rule *r = nft_rule_new(NFPROTO_INET, TABLE, "hostports", tag);
    nft_match_nfproto(r, pod);
    if (any_ip(c->host_ip)) {
        nft_match_fib_daddr_local(r);
        if (pod->family == AF_INET)
            nft_match_addr(r, true, &loopback4, 8, false);
    } else {
        nft_addr h;
        nft_addr_parse(c->host_ip, &h);
        nft_match_addr(r, true, &h, h.family == AF_INET6 ? 128 : 32, true);
    }
    nft_match_l4proto(r, l4proto(c->protocol));
    nft_match_dport(r, (uint16_t)c->host_port);
    nft_action_counter(r);
    nft_action_dnat(r, pod, (uint16_t)c->container_port);
    nft_batch_add_rule(b, r);

    r = nft_rule_new(NFPROTO_INET, TABLE, "postrouting", tag);
    nft_match_nfproto(r, pod);
    nft_match_ct_dnat(r);
    nft_match_addr(r, true, pod, pod->family == AF_INET6 ? 128 : 32, true);
    nft_match_addr(r, false, pod, plen, true);
    nft_match_l4proto(r, l4proto(c->protocol));
    nft_match_dport(r, (uint16_t)c->container_port);
    nft_action_counter(r);
    nft_action_masquerade(r);
    nft_batch_add_rule(b, r);
}

static int add_rules(const struct pods_pod_paths *p, const struct claim *c, size_t n,
                     const char *ip, pr_error **err)
{
    nft_addr pod;
    if (nft_addr_parse(ip, &pod) < 0)
        return pr_err(err, 0, "hostPort: the pod's address `%s` is not an IP address", ip);
    for (size_t i = 0; i < n; i++) {
        nft_addr h;
        if (!any_ip(c[i].host_ip) && nft_addr_parse(c[i].host_ip, &h) == 0 &&
            h.family != pod.family)
            return pr_err(err, 0, "%s.hostIP: %s is not of the pod's address family (%s)",
                          c[i].where, c[i].host_ip, ip);
    }
    unsigned plen = pod_prefix(p, &pod);
    _cleanup_free_ char *tag = xasprintf(TAG_PREFIX "%s", p->uid);
    _cleanup_close_ int lock = nft_lock(LOCK, err);
    if (lock < 0)
        return lock;
    /* The table and its base chains are usually there: declaring a base chain again makes the
     * commit wait for an RCU grace period, so send the pod's rules alone first and the whole
     * table only when it is missing. */
    int r = -ENOENT;
    for (int full = 0; full < 2 && r == -ENOENT; full++) {
        _cleanup_error_ pr_error *first = NULL;
        _cleanup_nft_batch_ nft_batch *b = nft_batch_new();
        if (full)
            base_chains(b);
        for (size_t i = 0; i < n; i++)
            port_rules(b, tag, &c[i], &pod, plen);
        r = nft_batch_send(b, "adding the pod's hostPort rules", full ? err : &first);
        if (r < 0 && r != -ENOENT && !full)
            r = pr_err_code(err, -r, "%s", first->msg);
    }
    return r;
}

int pods_hostports_add(pods_manager *m, const struct kube_object *o, const struct pods_pod_paths *p,
                       const char *ip, pr_error **err)
{
    struct claim *c = NULL;
    _cleanup_strv_ char **names = NULL;
    size_t n = pod_claims(&o->u.pod, &c, &names);
    int r = n ? save_claims(p, c, n, err) : 0;
    if (r == 0 && n && !o->u.pod.host_network)
        r = add_rules(p, c, n, ip, err);
    free(c);
    return r;
}

int pods_hostports_add_mappings(pods_manager *m, const struct pods_pod_paths *p,
                                const struct pods_port_mapping *v, size_t n, const char *ip,
                                pr_error **err)
{
    struct claim *c = xcalloc(n + 1, sizeof(*c));
    _cleanup_strv_ char **names = NULL;
    size_t k = 0;
    int r = 0;
    for (size_t i = 0; i < n; i++) {
        if (!v[i].host_port)
            continue;
        char *w = xasprintf("config.port_mappings[%zu]", i);
        strv_consume(&names, w);
        c[k++] = (struct claim){v[i].container_port, v[i].host_port,
                                v[i].protocol ? v[i].protocol : "TCP",
                                v[i].host_ip ? v[i].host_ip : "", w};
    }
    for (size_t i = 0; r == 0 && i < k; i++) {
        nft_addr a;
        if (c[i].host_port < 1 || c[i].host_port > 65535 || c[i].container_port < 1 ||
            c[i].container_port > 65535)
            r = pr_err_code(err, EINVAL, "%s: ports are 1 to 65535", c[i].where);
        else if (!any_ip(c[i].host_ip) && nft_addr_parse(c[i].host_ip, &a) < 0)
            r = pr_err_code(err, EINVAL, "%s.host_ip: \"%s\" is not an IP address", c[i].where,
                            c[i].host_ip);
        for (size_t j = 0; r == 0 && j < i; j++)
            if (collide(c[i].protocol, c[i].host_port, c[i].host_ip, c[j].protocol, c[j].host_port,
                        c[j].host_ip))
                r = pr_err_code(err, EINVAL, "%s: host port %d/%s is also in %s", c[i].where,
                                c[i].host_port, c[i].protocol, c[j].where);
        if (r == 0 && (r = other_sandboxes(m, &c[i], p->uid, err)) == 0)
            r = other_pods_only(m, &c[i], err);
    }
    if (r == 0 && k)
        r = save_claims(p, c, k, err);
    if (r == 0 && k && ip && *ip)
        r = add_rules(p, c, k, ip, err);
    free(c);
    return r;
}

int pods_hostports_del(pods_manager *m, const struct pods_pod_paths *p, pr_error **err)
{
    _cleanup_free_ char *path = xasprintf("%s/hostports.json", p->run_dir);
    struct stat st;
    if (lstat(path, &st) < 0 && errno == ENOENT)
        return 0; /* it claimed nothing */
    _cleanup_free_ char *tag = xasprintf(TAG_PREFIX "%s", p->uid);
    _cleanup_close_ int lock = nft_lock(LOCK, err);
    if (lock < 0)
        return lock;
    struct nft_rules l = {0};
    int r = nft_list_rules(NFPROTO_INET, TABLE, &l, err);
    _cleanup_nft_batch_ nft_batch *b = nft_batch_new();
    size_t pods_rules = 0, ours = 0;
    for (size_t i = 0; r == 0 && i < l.n; i++) {
        const char *cm = l.v[i].comment;
        if (!cm || !has_prefix(cm, TAG_PREFIX))
            continue;
        pods_rules++;
        if (!streq(cm, tag))
            continue;
        ours++;
        nft_batch_del_rule(b, NFPROTO_INET, TABLE, l.v[i].chain, l.v[i].handle);
    }
    /* The last pod's rules go: so does the table, in the same batch. */
    if (r == 0 && l.n && ours == pods_rules)
        nft_batch_del_table(b, NFPROTO_INET, TABLE);
    nft_rules_clear(&l);
    if (r == 0)
        r = nft_batch_send(b, "removing the pod's hostPort rules", err);
    if (r == 0 && unlink(path) < 0 && errno != ENOENT)
        r = pr_err(err, errno, "remove `%s`", path);
    return r;
}
