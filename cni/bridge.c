/* SPDX-License-Identifier: Apache-2.0 */
#include "bridge.h"
#include "fs.h"
#include "log.h"
#include "netlink.h"
#include "nft.h"
#include "util.h"

#include <fcntl.h>
#include <inttypes.h>
#include <linux/if.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>

#define DEFAULT_BRIDGE "cni0"

typedef struct bridge_node {
    cni_ip ip;
    cni_prefix subnet;
} bridge_node;

typedef struct bridge_conf {
    const char *bridge, *ipam_type;
    unsigned mtu;
    bool is_gw, is_default_gw, force_address, ipmasq, hairpin, promisc;
    int vlan;
    cni_prefix cluster; /* plen -1: none */
    bridge_node *nodes;
    size_t n_nodes;
    bool has_nodes;
} bridge_conf;

static void bridge_conf_free(bridge_conf *c)
{
    free(c->nodes);
}
#define _cleanup_bconf_ __attribute__((cleanup(bridge_conf_free)))

void bridge_host_veth_name(const char *net, const char *id, const char *ifname, char out[16])
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    const char *parts[] = {net, id, ifname};
    for (size_t i = 0; i < ARRAY_SIZE(parts); i++) {
        for (const char *p = parts[i]; *p; p++) {
            h ^= (unsigned char)*p;
            h *= 1099511628211ULL;
        }
        h ^= 0xff; /* separator: ("ab","c") and ("a","bc") differ */
        h *= 1099511628211ULL;
    }
    snprintf(out, 16, "prv%012llx", (unsigned long long)(h >> 16));
}

static int parse_nodes_array(yajl_val arr, const char *ctx, bridge_conf *c, pr_error **err)
{
    if (!YAJL_IS_ARRAY(arr))
        return cni_err(err, CNI_ERR_INVALID_CONFIG, 0, "%s: nodes must be an array", ctx);
    for (size_t i = 0; i < json_array_len(arr); i++) {
        yajl_val e = json_array_at(arr, i);
        const char *ip = NULL, *subnet = NULL;
        bridge_node n;
        if (json_get_str(e, "nodeIP", ctx, &ip, err) < 0 ||
            json_get_str(e, "podCIDR", ctx, &subnet, err) < 0)
            return cni_err(err, CNI_ERR_INVALID_CONFIG, 0, "invalid nodes[%zu]", i);
        if (!cni_ip_parse(ip, &n.ip))
            return cni_err(err, CNI_ERR_INVALID_CONFIG, 0, "%s: nodes[%zu].nodeIP `%s` invalid",
                           ctx, i, ip ? ip : "");
        if (!cni_prefix_parse(subnet, false, &n.subnet) || n.subnet.ip.family != n.ip.family)
            return cni_err(err, CNI_ERR_INVALID_CONFIG, 0, "%s: nodes[%zu].podCIDR `%s` invalid",
                           ctx, i, subnet ? subnet : "");
        n.subnet = cni_prefix_masked(&n.subnet);
        c->nodes = xrealloc(c->nodes, (c->n_nodes + 1) * sizeof(bridge_node));
        c->nodes[c->n_nodes++] = n;
    }
    c->has_nodes = true;
    return 0;
}

static int parse_nodes(const cni_conf *conf, bridge_conf *c, pr_error **err)
{
    const char *file = NULL;
    yajl_val arr = json_get(conf->root, "nodes");
    if (json_get_str(conf->root, "nodesFile", "bridge", &file, err) < 0)
        return cni_err(err, CNI_ERR_INVALID_CONFIG, 0, "invalid nodesFile");
    if (arr && parse_nodes_array(arr, "nodes", c, err) < 0)
        return -EINVAL;
    if (!file)
        return 0;
    _cleanup_json_ yajl_val v = NULL;
    if (json_parse_file_max(file, CNI_NODES_FILE_MAX, READ_REGULAR, &v, err) < 0) {
        cni_err(err, CNI_ERR_INVALID_CONFIG, 0, "cannot read nodesFile");
        return pr_err_prefix(err, "nodesFile");
    }
    yajl_val inner = json_get(v, "nodes");
    return parse_nodes_array(inner ? inner : v, file, c, err);
}

static int bridge_conf_parse(const cni_conf *conf, bridge_conf *c, pr_error **err)
{
    const char *ctx = "bridge";
    int64_t mtu = 0, vlan = 0;
    const char *cluster = NULL;
    memset(c, 0, sizeof(*c));
    c->bridge = DEFAULT_BRIDGE;
    c->cluster.plen = -1;
    yajl_val r = conf->root;
    if (json_get_str(r, "bridge", ctx, &c->bridge, err) < 0 ||
        json_get_int64(r, "mtu", ctx, &mtu, err) < 0 ||
        json_get_int64(r, "vlan", ctx, &vlan, err) < 0 ||
        json_get_bool(r, "isGateway", ctx, &c->is_gw, err) < 0 ||
        json_get_bool(r, "isDefaultGateway", ctx, &c->is_default_gw, err) < 0 ||
        json_get_bool(r, "forceAddress", ctx, &c->force_address, err) < 0 ||
        json_get_bool(r, "ipMasq", ctx, &c->ipmasq, err) < 0 ||
        json_get_bool(r, "hairpinMode", ctx, &c->hairpin, err) < 0 ||
        json_get_bool(r, "promiscMode", ctx, &c->promisc, err) < 0 ||
        json_get_str(r, "clusterCIDR", ctx, &cluster, err) < 0 ||
        json_get_str(conf->ipam, "type", "ipam", &c->ipam_type, err) < 0)
        return cni_err(err, CNI_ERR_INVALID_CONFIG, 0, "invalid bridge configuration");
    if (!cni_valid_ifname(c->bridge))
        return cni_err(err, CNI_ERR_INVALID_CONFIG, 0, "invalid bridge name `%s`", c->bridge);
    if (mtu < 0 || mtu > 65535)
        return cni_err(err, CNI_ERR_INVALID_CONFIG, 0, "invalid mtu %" PRId64, mtu);
    if (vlan < 0 || vlan > 4094)
        return cni_err(err, CNI_ERR_INVALID_CONFIG, 0,
                       "invalid VLAN ID %" PRId64 " (must be between 0 and 4094)", vlan);
    if (cluster && !cni_prefix_parse(cluster, false, &c->cluster))
        return cni_err(err, CNI_ERR_INVALID_CONFIG, 0, "invalid clusterCIDR `%s`", cluster);
    if (conf->ipam && !c->ipam_type)
        return cni_err(err, CNI_ERR_INVALID_CONFIG, 0, "ipam has no type");
    c->mtu = (unsigned)mtu;
    c->vlan = (int)vlan;
    if (c->is_default_gw)
        c->is_gw = true;
    return parse_nodes(conf, c, err);
}

/* IPAM delegation. */

static int ipam_exec(const cni_env *env, const bridge_conf *bc, const char *command,
                     const char *raw, size_t len, char **out, pr_error **err)
{
    _cleanup_free_ char *path = NULL;
    int r = cni_find_plugin(bc->ipam_type, env->path, &path, err);
    if (r < 0)
        return r;
    _cleanup_free_ char *output = NULL;
    r = cni_exec_plugin(path, command, raw, len, &output, err);
    if (r < 0)
        return r;
    if (out)
        *out = steal_pointer(&output);
    return 0;
}

/* Whether the IPAM plugin speaks spec 1.1.0 (and so STATUS and GC). */
static bool ipam_speaks_1_1(const cni_env *env, const bridge_conf *bc)
{
    _cleanup_error_ pr_error *ignored = NULL;
    _cleanup_free_ char *out = NULL;
    const char *in = "{\"cniVersion\":\"" CNI_LATEST_VERSION "\"}";
    if (ipam_exec(env, bc, "VERSION", in, strlen(in), &out, &ignored) < 0)
        return false;
    _cleanup_json_ yajl_val v = NULL;
    _cleanup_strv_ char **versions = NULL;
    if (json_parse(out, "VERSION", &v, &ignored) < 0 ||
        json_get_strv(v, "supportedVersions", "VERSION", &versions, &ignored) < 0 || !versions)
        return false;
    for (char **p = versions; *p; p++)
        if (cni_version_cmp(*p, "1.1.0") >= 0)
            return true;
    return false;
}

/* Namespaces. */

static int open_netns(const char *path, int *out, pr_error **err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return cni_err(err, CNI_ERR_UNKNOWN_CONTAINER, errno, "failed to open netns %s", path);
    struct statfs sfs;
    if (fstatfs(fd, &sfs) < 0 || (sfs.f_type != NSFS_MAGIC && sfs.f_type != PROC_SUPER_MAGIC)) {
        close(fd);
        return cni_err(err, CNI_ERR_UNKNOWN_CONTAINER, 0, "%s is not a network namespace", path);
    }
    *out = fd;
    return 0;
}

/* Bridge. */

static int ensure_bridge(nl *host, const bridge_conf *bc, nl_link *br, bool *created,
                         pr_error **err)
{
    *created = false;
    int r = nl_link_get(host, bc->bridge, br, err);
    if (r == -ENODEV) {
        r = nl_bridge_create(host, bc->bridge, bc->mtu, bc->vlan != 0, err);
        if (r == -EOPNOTSUPP && bc->vlan)
            return cni_err(err, CNI_ERR_INVALID_CONFIG, 0,
                           "vlan needs bridge VLAN filtering, which this kernel lacks "
                           "(CONFIG_BRIDGE_VLAN_FILTERING)");
        if (r == 0)
            *created = true;
        else if (r != -EEXIST) /* -EEXIST: a concurrent ADD made it first */
            return r;
        r = nl_link_get(host, bc->bridge, br, err);
    }
    if (r < 0)
        return r == -ENODEV ? pr_err(err, ENODEV, "bridge %s vanished", bc->bridge) : r;
    if (!streq(br->kind, "bridge"))
        return cni_err(err, CNI_ERR_INVALID_CONFIG, 0, "%s already exists but is not a bridge",
                       bc->bridge);
    if (bc->promisc && !(br->flags & IFF_PROMISC)) {
        r = nl_link_set_flags(host, br->index, IFF_PROMISC, IFF_PROMISC, err);
        if (r < 0)
            return r;
    }
    if (!(br->flags & IFF_UP))
        return nl_link_set_up(host, br->index, err);
    return 0;
}

/* Puts gw/plen on the bridge; another address of that subnet is an error unless
 * forceAddress, which replaces it. */
static int ensure_gateway_addr(nl *host, const bridge_conf *bc, int brindex, const cni_prefix *want,
                               pr_error **err)
{
    _cleanup_free_ nl_addr *addrs = NULL;
    size_t n = 0;
    char a[CNI_PREFIX_STRLEN], b[CNI_PREFIX_STRLEN];
    int r = nl_addr_list(host, brindex, want->ip.family, &addrs, &n, err);
    if (r < 0)
        return r;
    for (size_t i = 0; i < n; i++) {
        if (cni_ip_eq(&addrs[i].addr.ip, &want->ip) && addrs[i].addr.plen == want->plen)
            return 0;
    }
    for (size_t i = 0; i < n; i++) {
        if (!cni_prefix_overlaps(&addrs[i].addr, want))
            continue;
        if (!bc->force_address)
            return cni_err(err, CNI_ERR_INVALID_CONFIG, 0,
                           "%s already has an IP address different from %s (%s)", bc->bridge,
                           cni_prefix_fmt(want, a), cni_prefix_fmt(&addrs[i].addr, b));
        r = nl_addr_del(host, brindex, &addrs[i].addr, err);
        if (r < 0)
            return r;
    }
    return nl_addr_add(host, brindex, want, err);
}

static int enable_forwarding(int family, pr_error **err)
{
    const char *path = family == AF_INET6 ? "/proc/sys/net/ipv6/conf/all/forwarding"
                                          : "/proc/sys/net/ipv4/ip_forward";
    _cleanup_free_ char *cur = NULL;
    size_t len;
    _cleanup_error_ pr_error *ignored = NULL;
    if (read_file(path, &cur, &len, &ignored) == 0 && cur[0] == '1')
        return 0;
    return write_file(path, "1", 1, err);
}

/* Results and chaining. */

static char *emit_result(const cni_conf *conf, cni_result *ours, pr_error **err, int *r)
{
    /* Chaining: what earlier plugins reported stays, ours follows it. */
    cni_result all = {0};
    *r = conf->prev_result ? cni_result_parse(conf->prev_result, "prevResult", &all, err) : 0;
    if (*r < 0) {
        cni_result_free(&all);
        return NULL;
    }
    int base = (int)all.n_ifaces;
    for (size_t i = 0; i < ours->n_ifaces; i++)
        cni_result_add_iface(&all, ours->ifaces[i].name, ours->ifaces[i].mac,
                             ours->ifaces[i].sandbox);
    for (size_t i = 0; i < ours->n_ips; i++) {
        cni_ipconf ip = ours->ips[i];
        if (ip.iface >= 0)
            ip.iface += base;
        cni_result_add_ip(&all, &ip);
    }
    for (size_t i = 0; i < ours->n_routes; i++)
        cni_result_add_route(&all, &ours->routes[i]);
    if (!cni_dns_empty(&ours->dns)) {
        cni_dns_free(&all.dns);
        cni_dns_copy(&all.dns, &ours->dns);
    }
    char *json = cni_result_json(&all, conf->version);
    cni_result_free(&all);
    return json;
}

/* ADD. */

/* ADD and DEL of one attachment run one at a time: a second ADD then finds the first one's
 * veth and address in place (and reuses or refuses them) instead of racing it, and its undo
 * never releases what the first one took. Keyed by the host veth name, a hash of (network,
 * container id, ifname). */
static int attachment_lock(const char *hname, pr_error **err)
{
    _cleanup_free_ char *name = xasprintf("podrun-cni-attach-%s", hname);
    return cni_abstract_lock(name, "the attachment lock", err);
}

typedef struct attach {
    const cni_env *env;
    const cni_conf *conf;
    const bridge_conf *bc;
    const char *raw;
    size_t len;
    int netns;
    nl *host, *ctr;
    nl_link br, hveth, cveth;
    char hname[16];
    cni_result ipam; /* the IPAM plugin's answer */
    /* What this ADD made, for undoing it on failure. */
    bool made_bridge, made_veth, made_ipam, made_masq;
    bool reuse; /* a repeated ADD of an attachment already in place */
} attach;

static void attach_undo(attach *a)
{
    _cleanup_error_ pr_error *ignored = NULL;
    if (a->made_masq) {
        _cleanup_free_ char *tag =
            nft_masq_tag(a->conf->name, a->env->container_id, a->env->ifname);
        nft_masq_del(tag, &ignored);
    }
    if (a->made_veth && a->cveth.index)
        nl_link_del(a->ctr, a->cveth.index, &ignored);
    if (a->made_veth && a->hveth.index)
        nl_link_del(a->host, a->hveth.index, &ignored);
    if (a->made_ipam && !a->reuse) /* a repeated ADD keeps the address it already had */
        ipam_exec(a->env, a->bc, "DEL", a->raw, a->len, NULL, &ignored);
    if (a->made_bridge)
        nl_link_del(a->host, a->br.index, &ignored);
}

static int make_veth(attach *a, pr_error **err)
{
    const bridge_conf *bc = a->bc;
    /* An existing host end is another namespace's attachment (ruled out before, under the
     * attachment lock) or appeared since: never deleted here, it is not ours. */
    int r = nl_veth_create(a->host, a->hname, a->env->ifname, a->netns, bc->mtu, a->br.index, err);
    if (r == -EEXIST)
        return cni_err(err, CNI_ERR_INTERFACE_EXISTS, 0, "cannot create veth %s/%s: name taken",
                       a->hname, a->env->ifname);
    if (r < 0)
        return r;
    a->made_veth = true;
    if ((r = nl_link_get(a->host, a->hname, &a->hveth, err)) < 0 ||
        (r = nl_link_get(a->ctr, a->env->ifname, &a->cveth, err)) < 0)
        return r == -ENODEV ? pr_err(err, ENODEV, "veth %s vanished", a->hname) : r;
    if (bc->hairpin && (r = nl_brport_set_hairpin(a->host, a->hveth.index, true, err)) < 0)
        return r;
    if (bc->vlan &&
        (r = nl_bridge_vlan_add(a->host, a->hveth.index, (uint16_t)bc->vlan, false, err)) < 0)
        return r;
    return nl_link_set_up(a->host, a->hveth.index, err);
}

/* The gateway of the result address of family f, if any. */
static const cni_ip *gateway_for(const cni_result *res, int family)
{
    for (size_t i = 0; i < res->n_ips; i++)
        if (res->ips[i].addr.ip.family == family && res->ips[i].gw.family)
            return &res->ips[i].gw;
    return NULL;
}

static int configure_container(attach *a, cni_result *res, pr_error **err)
{
    int r;
    for (size_t i = 0; i < res->n_ips; i++)
        if ((r = nl_addr_add(a->ctr, a->cveth.index, &res->ips[i].addr, err)) < 0)
            return r;
    if ((r = nl_link_set_up(a->ctr, a->cveth.index, err)) < 0)
        return r;
    for (size_t i = 0; i < res->n_routes; i++) {
        const cni_route *rt = &res->routes[i];
        nl_route nr = {.dst = rt->dst, .gw = rt->gw, .oif = a->cveth.index};
        if (!nr.gw.family) {
            const cni_ip *gw = gateway_for(res, rt->dst.ip.family);
            if (gw)
                nr.gw = *gw;
        }
        if ((r = nl_route_add(a->ctr, &nr, false, err)) < 0)
            return r;
    }
    return 0;
}

/* isDefaultGateway: a default route per family via its gateway, unless IPAM gave one. */
static void add_default_routes(cni_result *res)
{
    int families[] = {AF_INET, AF_INET6};
    for (size_t f = 0; f < ARRAY_SIZE(families); f++) {
        const cni_ip *gw = gateway_for(res, families[f]);
        if (!gw)
            continue;
        bool have = false;
        for (size_t i = 0; i < res->n_routes; i++)
            if (res->routes[i].dst.ip.family == families[f] && res->routes[i].dst.plen == 0)
                have = true;
        if (have)
            continue;
        cni_route rt = {.dst = {.ip = {.family = families[f]}, .plen = 0}, .gw = *gw};
        cni_result_add_route(res, &rt);
    }
}

static int configure_host(attach *a, cni_result *res, pr_error **err)
{
    const bridge_conf *bc = a->bc;
    int r;
    if (bc->is_gw) {
        for (size_t i = 0; i < res->n_ips; i++) {
            if (!res->ips[i].gw.family)
                continue;
            cni_prefix gw = {.ip = res->ips[i].gw, .plen = res->ips[i].addr.plen};
            if ((r = ensure_gateway_addr(a->host, bc, a->br.index, &gw, err)) < 0 ||
                (r = enable_forwarding(gw.ip.family, err)) < 0)
                return r;
        }
        if (bc->vlan &&
            (r = nl_bridge_vlan_add(a->host, a->br.index, (uint16_t)bc->vlan, true, err)) < 0)
            return r;
    }
    if (bc->ipmasq) {
        _cleanup_free_ char *tag =
            nft_masq_tag(a->conf->name, a->env->container_id, a->env->ifname);
        if (a->reuse && (r = nft_masq_del(tag, err)) < 0)
            return r;
        for (size_t i = 0; i < res->n_ips; i++) {
            cni_prefix excl =
                bc->cluster.plen >= 0 && bc->cluster.ip.family == res->ips[i].addr.ip.family
                    ? bc->cluster
                    : cni_prefix_masked(&res->ips[i].addr);
            a->made_masq = true;
            if ((r = nft_masq_add(tag, &res->ips[i].addr.ip, &excl, err)) < 0)
                return r;
        }
    }
    return 0;
}

static int attach_ipam(attach *a, pr_error **err)
{
    if (!a->bc->ipam_type)
        return 0; /* layer 2 only */
    _cleanup_free_ char *out = NULL;
    int r = ipam_exec(a->env, a->bc, "ADD", a->raw, a->len, &out, err);
    if (r < 0)
        return r;
    a->made_ipam = true;
    _cleanup_json_ yajl_val v = NULL;
    if (json_parse(out, "IPAM result", &v, err) < 0)
        return cni_err(err, CNI_ERR_DECODE, 0, "cannot decode the IPAM plugin's result");
    r = cni_result_parse(v, "IPAM result", &a->ipam, err);
    if (r < 0)
        return r;
    if (a->ipam.n_ips == 0)
        return cni_err(err, CNI_ERR_INVALID_CONFIG, 0, "IPAM plugin returned missing IP config");
    return 0;
}

/* A second ADD of an attachment that is already in place: the container interface exists and
 * is the peer of our host veth on our bridge. */
static bool already_attached(attach *a, pr_error **err)
{
    nl_link h;
    if (nl_link_get(a->host, a->hname, &h, err) < 0 || h.master != a->br.index)
        return false;
    if (a->cveth.link != h.index)
        return false;
    a->hveth = h;
    return true;
}

static int do_add(attach *a, cni_result *res, pr_error **err)
{
    const bridge_conf *bc = a->bc;
    int r = ensure_bridge(a->host, bc, &a->br, &a->made_bridge, err);
    if (r < 0)
        return r;
    r = nl_link_get(a->ctr, a->env->ifname, &a->cveth, err);
    if (r == 0) {
        a->reuse = already_attached(a, err);
        if (!a->reuse)
            return cni_err(err, CNI_ERR_INTERFACE_EXISTS, 0,
                           "container veth name provided (%s) already exists", a->env->ifname);
    } else if (r != -ENODEV) {
        return r;
    }
    nl_link other;
    _cleanup_error_ pr_error *absent = NULL;
    if (!a->reuse && nl_link_get(a->host, a->hname, &other, &absent) == 0)
        /* The host end of this (container id, ifname) exists, so its peer lives in another
         * namespace: moving the attachment would cut that one off. */
        return cni_err(err, CNI_ERR_DUPLICATE_ATTACHMENT, 0,
                       "%s/%s is already attached in another network namespace (host veth %s), "
                       "duplicate allocation is not allowed",
                       a->env->container_id, a->env->ifname, a->hname);
    if ((r = attach_ipam(a, err)) < 0)
        return r;
    if (!a->reuse && (r = make_veth(a, err)) < 0)
        return r;

    for (size_t i = 0; i < a->ipam.n_ips; i++) {
        cni_ipconf ip = a->ipam.ips[i];
        ip.iface = 2; /* bridge, host veth, container veth */
        cni_result_add_ip(res, &ip);
    }
    for (size_t i = 0; i < a->ipam.n_routes; i++)
        cni_result_add_route(res, &a->ipam.routes[i]);
    if (bc->is_default_gw)
        add_default_routes(res);
    if ((r = configure_container(a, res, err)) < 0 || (r = configure_host(a, res, err)) < 0)
        return r;
    if (bc->has_nodes && (r = bridge_sync_node_routes(a->conf, err)) < 0)
        return r;

    /* The bridge's MAC settles once it has a port; read it last. */
    nl_link_get(a->host, bc->bridge, &a->br, err);
    cni_result_add_iface(res, bc->bridge, a->br.mac_str, NULL);
    cni_result_add_iface(res, a->hname, a->hveth.mac_str, NULL);
    cni_result_add_iface(res, a->env->ifname, a->cveth.mac_str, a->env->netns);
    return 0;
}

int bridge_cmd_add(const cni_env *env, const cni_conf *conf, const char *raw, size_t len,
                   char **out, pr_error **err)
{
    _cleanup_bconf_ bridge_conf bc;
    int r = bridge_conf_parse(conf, &bc, err);
    if (r < 0)
        return r;
    attach a = {.env = env, .conf = conf, .bc = &bc, .raw = raw, .len = len, .netns = -1};
    bridge_host_veth_name(conf->name, env->container_id, env->ifname, a.hname);
    _cleanup_close_ int lock = attachment_lock(a.hname, err);
    if (lock < 0)
        return lock;
    cni_result res = {0};
    if ((r = open_netns(env->netns, &a.netns, err)) == 0 && (r = nl_open(&a.host, err)) == 0 &&
        (r = nl_open_in(a.netns, &a.ctr, err)) == 0)
        r = do_add(&a, &res, err);
    if (r < 0 && a.host)
        attach_undo(&a);
    if (r == 0) {
        if (!cni_dns_empty(&a.ipam.dns))
            cni_dns_copy(&res.dns, &a.ipam.dns);
        if (conf->dns) {
            cni_dns_free(&res.dns);
            r = cni_dns_parse(conf->dns, "network configuration", &res.dns, err);
        }
        if (r == 0)
            *out = emit_result(conf, &res, err, &r);
        if (r < 0)
            attach_undo(&a);
    }
    cni_result_free(&res);
    cni_result_free(&a.ipam);
    if (a.ctr)
        nl_close(a.ctr);
    if (a.host)
        nl_close(a.host);
    if (a.netns >= 0)
        close(a.netns);
    return r;
}

/* Removes the attachment's veth pair: through the container's end when its namespace is
 * still there, and the host end by its name in any case. Errors are only logged: what is gone
 * is gone. */
static void del_veth(const cni_env *env, const cni_conf *conf)
{
    _cleanup_error_ pr_error *soft = NULL;
    _cleanup_nl_ nl *host = NULL;
    int netns = -1;
    if (env->netns && open_netns(env->netns, &netns, &soft) == 0) {
        _cleanup_nl_ nl *ctr = NULL;
        nl_link l;
        if (nl_open_in(netns, &ctr, &soft) == 0 && nl_link_get(ctr, env->ifname, &l, &soft) == 0 &&
            streq(l.kind, "veth"))
            nl_link_del(ctr, l.index, &soft);
        close(netns);
    }
    char hname[16];
    nl_link h;
    bridge_host_veth_name(conf->name, env->container_id, env->ifname, hname);
    if (nl_open(&host, &soft) == 0 && nl_link_get(host, hname, &h, &soft) == 0)
        nl_link_del(host, h.index, &soft);
    if (soft)
        pr_debug("DEL: %s", soft->msg);
}

/* DEL: idempotent; only a failing IPAM DEL or nftables error is reported, since the runtime
 * must retry those or an address or rule leaks. Deleting a veth waits for RCU grace periods in
 * the kernel, and so does releasing an nftables socket after a rule deletion: a child removes
 * the veth meanwhile, so the two waits overlap. */
int bridge_cmd_del(const cni_env *env, const cni_conf *conf, const char *raw, size_t len,
                   char **out, pr_error **err)
{
    (void)out;
    _cleanup_bconf_ bridge_conf bc;
    int r = bridge_conf_parse(conf, &bc, err);
    if (r < 0)
        return r;
    char hname[16];
    bridge_host_veth_name(conf->name, env->container_id, env->ifname, hname);
    _cleanup_close_ int lock = attachment_lock(hname, err);
    if (lock < 0)
        return lock;
    fflush(NULL);
    pid_t child = fork();
    if (child == 0) {
        del_veth(env, conf);
        _exit(0);
    }
    if (child < 0)
        del_veth(env, conf);
    if (bc.ipam_type)
        r = ipam_exec(env, &bc, "DEL", raw, len, NULL, err);
    if (r == 0 && bc.ipmasq) {
        _cleanup_free_ char *tag = nft_masq_tag(conf->name, env->container_id, env->ifname);
        r = nft_masq_del(tag, err);
    }
    int status;
    while (child > 0 && waitpid(child, &status, 0) < 0 && errno == EINTR)
        ;
    return r;
}

/* CHECK: the attachment still matches prevResult. */
static int check_fail(pr_error **err, const char *fmt, const char *what)
{
    return cni_err(err, CNI_ERR_CHECK_FAILED, 0, fmt, what);
}

static bool has_route(const nl_route *v, size_t n, const cni_route *want)
{
    for (size_t i = 0; i < n; i++)
        if (cni_ip_eq(&v[i].dst.ip, &want->dst.ip) && v[i].dst.plen == want->dst.plen &&
            (!want->gw.family || cni_ip_eq(&v[i].gw, &want->gw)))
            return true;
    return false;
}

static int check_container(nl *ctr, const cni_env *env, const cni_result *prev, pr_error **err)
{
    nl_link l;
    char a[CNI_PREFIX_STRLEN];
    int r = nl_link_get(ctr, env->ifname, &l, err);
    if (r == -ENODEV)
        return check_fail(err, "container interface %s not found", env->ifname);
    if (r < 0)
        return r;
    int idx = -1;
    for (size_t i = 0; i < prev->n_ifaces; i++)
        if (streq(prev->ifaces[i].name, env->ifname) && prev->ifaces[i].sandbox)
            idx = (int)i;
    if (idx < 0)
        return check_fail(err, "prevResult has no sandbox interface %s", env->ifname);
    if (prev->ifaces[idx].mac && strcasecmp(prev->ifaces[idx].mac, l.mac_str) != 0)
        return check_fail(err, "interface %s has a different MAC than prevResult", env->ifname);
    _cleanup_free_ nl_addr *addrs = NULL;
    size_t n = 0;
    if ((r = nl_addr_list(ctr, l.index, 0, &addrs, &n, err)) < 0)
        return r;
    for (size_t i = 0; i < prev->n_ips; i++) {
        if (prev->ips[i].iface != idx)
            continue;
        bool found = false;
        for (size_t k = 0; k < n; k++)
            if (cni_ip_eq(&addrs[k].addr.ip, &prev->ips[i].addr.ip) &&
                addrs[k].addr.plen == prev->ips[i].addr.plen)
                found = true;
        if (!found)
            return check_fail(err, "address %s missing in the container",
                              cni_prefix_fmt(&prev->ips[i].addr, a));
    }
    int families[] = {AF_INET, AF_INET6};
    for (size_t f = 0; f < ARRAY_SIZE(families); f++) {
        _cleanup_free_ nl_route *routes = NULL;
        size_t nr = 0;
        if ((r = nl_route_list(ctr, families[f], &routes, &nr, err)) < 0)
            return r;
        for (size_t i = 0; i < prev->n_routes; i++)
            if (prev->routes[i].dst.ip.family == families[f] &&
                !has_route(routes, nr, &prev->routes[i]))
                return check_fail(err, "route to %s missing in the container",
                                  cni_prefix_fmt(&prev->routes[i].dst, a));
    }
    return 0;
}

int bridge_cmd_check(const cni_env *env, const cni_conf *conf, const char *raw, size_t len,
                     char **out, pr_error **err)
{
    (void)out;
    _cleanup_bconf_ bridge_conf bc;
    int r = bridge_conf_parse(conf, &bc, err);
    if (r < 0)
        return r;
    if (!conf->prev_result)
        return cni_err(err, CNI_ERR_INVALID_CONFIG, 0, "required prevResult missing");
    cni_result prev = {0};
    r = cni_result_parse(conf->prev_result, "prevResult", &prev, err);
    if (r == 0 && bc.ipam_type)
        r = ipam_exec(env, &bc, "CHECK", raw, len, NULL, err);

    _cleanup_nl_ nl *host = NULL;
    _cleanup_nl_ nl *ctr = NULL;
    _cleanup_close_ int netns = -1;
    nl_link br, h;
    char hname[16];
    bridge_host_veth_name(conf->name, env->container_id, env->ifname, hname);
    if (r == 0 && (r = nl_open(&host, err)) == 0) {
        if (nl_link_get(host, bc.bridge, &br, err) < 0 || !streq(br.kind, "bridge"))
            r = check_fail(err, "bridge %s not found", bc.bridge);
        else if (nl_link_get(host, hname, &h, err) < 0 || h.master != br.index)
            r = check_fail(err, "host veth %s is not on the bridge", hname);
    }
    if (r == 0 && (r = open_netns(env->netns, &netns, err)) == 0 &&
        (r = nl_open_in(netns, &ctr, err)) == 0)
        r = check_container(ctr, env, &prev, err);
    cni_result_free(&prev);
    return r;
}

int bridge_cmd_status(const cni_env *env, const cni_conf *conf, const char *raw, size_t len,
                      char **out, pr_error **err)
{
    (void)out;
    _cleanup_bconf_ bridge_conf bc;
    _cleanup_error_ pr_error *inner = NULL;
    int r = bridge_conf_parse(conf, &bc, err);
    if (r < 0)
        return r;
    if (!bc.ipam_type)
        return 0;
    _cleanup_free_ char *path = NULL;
    if (cni_find_plugin(bc.ipam_type, env->path, &path, &inner) < 0) {
        cni_error_replace_code(CNI_ERR_NOT_AVAILABLE);
        return pr_err(err, 0, "IPAM plugin unavailable: %s", inner->msg);
    }
    if (!ipam_speaks_1_1(env, &bc))
        return 0; /* an older IPAM plugin cannot tell; present is all we know */
    r = ipam_exec(env, &bc, "STATUS", raw, len, NULL, &inner);
    if (r < 0) {
        int code = cni_error_code();
        cni_error_replace_code(code == CNI_ERR_LIMITED_CONNECTIVITY ? code : CNI_ERR_NOT_AVAILABLE);
        return pr_err(err, 0, "%s", inner->msg);
    }
    return 0;
}

typedef struct gc_set {
    const char *net;
    char **ids, **ifnames;
} gc_set;

static bool gc_keep_tag(const char *tag, void *data)
{
    gc_set *s = data;
    for (size_t i = 0; s->ids[i]; i++) {
        _cleanup_free_ char *t = nft_masq_tag(s->net, s->ids[i], s->ifnames[i]);
        if (streq(t, tag))
            return true;
    }
    return false;
}

int bridge_cmd_gc(const cni_env *env, const cni_conf *conf, const char *raw, size_t len, char **out,
                  pr_error **err)
{
    (void)out;
    _cleanup_bconf_ bridge_conf bc;
    _cleanup_strv_ char **ids = NULL, **ifnames = NULL;
    int r = bridge_conf_parse(conf, &bc, err);
    if (r < 0 || (r = cni_valid_attachments(conf, &ids, &ifnames, err)) < 0)
        return r;
    if (bc.ipam_type && ipam_speaks_1_1(env, &bc) &&
        (r = ipam_exec(env, &bc, "GC", raw, len, NULL, err)) < 0)
        return r;

    /* Host veths on our bridge named like ours but belonging to no valid attachment. */
    _cleanup_nl_ nl *host = NULL;
    if ((r = nl_open(&host, err)) < 0)
        return r;
    nl_link br;
    if (nl_link_get(host, bc.bridge, &br, err) == 0) {
        _cleanup_free_ nl_link *links = NULL;
        size_t n = 0;
        if ((r = nl_link_list(host, &links, &n, err)) < 0)
            return r;
        for (size_t i = 0; i < n; i++) {
            if (links[i].master != br.index || !has_prefix(links[i].name, "prv"))
                continue;
            bool valid = false;
            for (size_t k = 0; ids[k] && !valid; k++) {
                char name[16];
                bridge_host_veth_name(conf->name, ids[k], ifnames[k], name);
                valid = streq(name, links[i].name);
            }
            if (!valid && (r = nl_link_del(host, links[i].index, err)) < 0)
                return r;
        }
    }
    gc_set set = {.net = conf->name, .ids = ids, .ifnames = ifnames};
    return nft_masq_gc(conf->name, gc_keep_tag, &set, err);
}

/* Flat networking: host-gw routes to the other nodes' pod subnets. */

static bool is_local(const nl_addr *addrs, size_t n, const cni_ip *ip)
{
    for (size_t i = 0; i < n; i++)
        if (cni_ip_eq(&addrs[i].addr.ip, ip))
            return true;
    return false;
}

int bridge_sync_node_routes(const cni_conf *conf, pr_error **err)
{
    _cleanup_bconf_ bridge_conf bc;
    int r = bridge_conf_parse(conf, &bc, err);
    if (r < 0)
        return r;
    /* No list is not an empty list: syncing to it would remove every node route. */
    if (!bc.has_nodes)
        return cni_err(err, CNI_ERR_INVALID_CONFIG, 0,
                       "the configuration has neither nodes nor nodesFile: no node routes to sync");
    _cleanup_nl_ nl *host = NULL;
    _cleanup_free_ nl_addr *addrs = NULL;
    size_t n_addrs = 0;
    if ((r = nl_open(&host, err)) < 0 || (r = nl_addr_list(host, 0, 0, &addrs, &n_addrs, err)) < 0)
        return r;
    bool *wanted = xcalloc(bc.n_nodes + 1, sizeof(bool));
    for (size_t i = 0; i < bc.n_nodes && r == 0; i++) {
        if (is_local(addrs, n_addrs, &bc.nodes[i].ip))
            continue; /* this node: its subnet is on the bridge */
        wanted[i] = true;
        nl_route rt = {
            .dst = bc.nodes[i].subnet, .gw = bc.nodes[i].ip, .protocol = BRIDGE_RTPROT_NODES};
        r = nl_route_add(host, &rt, true, err);
    }
    int families[] = {AF_INET, AF_INET6};
    for (size_t f = 0; f < ARRAY_SIZE(families) && r == 0; f++) {
        _cleanup_free_ nl_route *routes = NULL;
        size_t n = 0;
        if ((r = nl_route_list(host, families[f], &routes, &n, err)) < 0)
            break;
        for (size_t i = 0; i < n && r == 0; i++) {
            if (routes[i].protocol != BRIDGE_RTPROT_NODES)
                continue;
            bool keep = false;
            for (size_t k = 0; k < bc.n_nodes && !keep; k++)
                keep = wanted[k] && cni_ip_eq(&routes[i].dst.ip, &bc.nodes[k].subnet.ip) &&
                       routes[i].dst.plen == bc.nodes[k].subnet.plen &&
                       cni_ip_eq(&routes[i].gw, &bc.nodes[k].ip);
            if (!keep) {
                nl_route del = routes[i];
                del.protocol = BRIDGE_RTPROT_NODES;
                r = nl_route_del(host, &del, err);
            }
        }
    }
    free(wanted);
    return r;
}

char *bridge_entry_of_list(const char *raw, pr_error **err)
{
    _cleanup_json_ yajl_val v = NULL;
    if (json_parse(raw, "network configuration", &v, err) < 0) {
        cni_err(err, CNI_ERR_DECODE, 0, "cannot decode network configuration");
        return NULL;
    }
    yajl_val plugins = json_get(v, "plugins");
    if (!plugins)
        return xstrdup(raw);
    yajl_val entry = NULL;
    for (size_t i = 0; YAJL_IS_ARRAY(plugins) && i < json_array_len(plugins) && !entry; i++) {
        yajl_val p = json_array_at(plugins, i);
        const char *type = YAJL_GET_STRING(json_get(p, "type"));
        if (YAJL_IS_OBJECT(p) && type && streq(type, "podrun-bridge"))
            entry = p;
    }
    yajl_val version = json_get(v, "cniVersion"), name = json_get(v, "name");
    if (!entry || !YAJL_IS_STRING(version) || !YAJL_IS_STRING(name)) {
        cni_err(err, CNI_ERR_INVALID_CONFIG, 0, "the configuration list has %s",
                !entry ? "no podrun-bridge in plugins" : "no cniVersion or name");
        return NULL;
    }
    /* The entry as a runtime gives it on stdin: the list's cniVersion and name with its keys. */
    _cleanup_gen_ yajl_gen g = json_gen_new(false);
    jg_map_open(g);
    jg_key_str(g, "cniVersion", YAJL_GET_STRING(version));
    jg_key_str(g, "name", YAJL_GET_STRING(name));
    for (size_t i = 0; i < entry->u.object.len; i++) {
        const char *k = entry->u.object.keys[i];
        if (streq(k, "cniVersion") || streq(k, "name"))
            continue;
        jg_key(g, k);
        jg_value(g, entry->u.object.values[i]);
    }
    jg_map_close(g);
    size_t len;
    const char *buf = jg_buf(g, &len);
    return xstrndup(buf, len);
}
