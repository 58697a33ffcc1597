/* SPDX-License-Identifier: Apache-2.0 */
/* LoadBalancer services' addresses: a pool the node config names (loadBalancerPool), and the
 * node answering for them on its network as MetalLB's layer-2 mode does. Rather than a
 * user-space ARP responder, each address is added as a /32 to the interface whose subnet holds
 * it (as kube-vip's ARP mode and kube-proxy's IPVS mode bind theirs), so the kernel answers ARP
 * for it; the services' table DNATs its service ports before routing. podrun removes only the
 * addresses it added (run-root lb-addrs.json): one that was there before is left alone. */
#include "fs.h"
#include "manager.h"
#include "util.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netinet/in.h>
#include <time.h>

#define RECORD_MAX (1u << 20)

static bool parse_ip(const char *s, uint32_t *out)
{
    struct in_addr a;
    if (inet_pton(AF_INET, s, &a) != 1)
        return false;
    *out = ntohl(a.s_addr);
    return true;
}

int pods_lb_range_parse(const char *s, uint32_t *lo, uint32_t *hi, pr_error **err)
{
    char buf[64];
    if (strlen(s) >= sizeof(buf))
        return pr_err(err, 0, "\"%.64s...\": too long for an address range", s);
    snprintf(buf, sizeof(buf), "%s", s);
    char *slash = strchr(buf, '/'), *dash = strchr(buf, '-');
    if (slash) {
        *slash = '\0';
        char *end = NULL;
        unsigned long p = strtoul(slash + 1, &end, 10);
        if (!parse_ip(buf, lo) || !*(slash + 1) || *end || p > 32)
            return pr_err(err, 0, "\"%s\": not an IPv4 CIDR (A.B.C.D/N)", s);
        uint32_t mask = p ? (uint32_t)(~0ull << (32 - p)) : 0;
        *lo &= mask;
        *hi = *lo | ~mask;
        return 0;
    }
    if (dash) {
        *dash = '\0';
        if (!parse_ip(buf, lo) || !parse_ip(dash + 1, hi) || *lo > *hi)
            return pr_err(err, 0, "\"%s\": not an IPv4 range (FIRST-LAST, FIRST <= LAST)", s);
        return 0;
    }
    if (!parse_ip(buf, lo))
        return pr_err(err, 0, "\"%s\": not an IPv4 CIDR, range or address", s);
    *hi = *lo;
    return 0;
}

bool pods_lb_in_pool(char *const *pool, const char *ip)
{
    uint32_t a, lo, hi;
    if (!parse_ip(ip, &a))
        return false;
    for (size_t i = 0; pool && pool[i]; i++)
        if (pods_lb_range_parse(pool[i], &lo, &hi, NULL) == 0 && a >= lo && a <= hi)
            return true;
    return false;
}

char *pods_lb_pick(char *const *pool, bool (*taken)(const char *ip, void *data), void *data)
{
    uint32_t lo, hi;
    for (size_t i = 0; pool && pool[i]; i++) {
        if (pods_lb_range_parse(pool[i], &lo, &hi, NULL) < 0)
            continue;
        for (uint64_t a = lo; a <= hi; a++) {
            /* A CIDR's network and broadcast addresses are not given out (MetalLB's default
             * avoids them too, as some clients refuse them). */
            if (strchr(pool[i], '/') && hi > lo + 1 && (a == lo || a == hi))
                continue;
            struct in_addr in = {htonl((uint32_t)a)};
            char text[INET_ADDRSTRLEN];
            inet_ntop(AF_INET, &in, text, sizeof(text));
            if (!taken(text, data))
                return xstrdup(text);
        }
    }
    return NULL;
}

/* ---- announcing: the addresses on the node's interfaces ---- */

/* The interface (not loopback) with an IPv4 subnet shorter than /32 that holds ip. */
static bool iface_for(const char *ip, char name[IF_NAMESIZE])
{
    uint32_t a;
    struct ifaddrs *ifs = NULL;
    bool found = false;
    if (!parse_ip(ip, &a) || getifaddrs(&ifs) < 0)
        return false;
    for (struct ifaddrs *i = ifs; i && !found; i = i->ifa_next) {
        if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET || !i->ifa_netmask ||
            (i->ifa_flags & IFF_LOOPBACK))
            continue;
        uint32_t mine = ntohl(((struct sockaddr_in *)i->ifa_addr)->sin_addr.s_addr);
        uint32_t mask = ntohl(((struct sockaddr_in *)i->ifa_netmask)->sin_addr.s_addr);
        if (mask != 0xffffffffu && (mine & mask) == (a & mask)) {
            snprintf(name, IF_NAMESIZE, "%s", i->ifa_name);
            found = true;
        }
    }
    freeifaddrs(ifs);
    return found;
}

/* RTM_NEWADDR or RTM_DELADDR of ip/32 on ifname; 0 or a negative errno. */
static int addr_change(int type, const char *ip, const char *ifname)
{
    unsigned idx = if_nametoindex(ifname);
    uint32_t a;
    if (!idx || !parse_ip(ip, &a))
        return -ENODEV;
    struct mnl_socket *nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
    if (!nl)
        return -errno;
    int r = 0;
    if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
        r = -errno;
        mnl_socket_close(nl);
        return r;
    }
    char buf[MNL_SOCKET_BUFFER_SIZE];
    struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
    nlh->nlmsg_type = (uint16_t)type;
    nlh->nlmsg_flags =
        NLM_F_REQUEST | NLM_F_ACK | (type == RTM_NEWADDR ? NLM_F_CREATE | NLM_F_EXCL : 0);
    nlh->nlmsg_seq = (uint32_t)time(NULL);
    struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
    ifa->ifa_family = AF_INET;
    ifa->ifa_prefixlen = 32;
    ifa->ifa_scope = RT_SCOPE_UNIVERSE;
    ifa->ifa_index = idx;
    uint32_t be = htonl(a);
    mnl_attr_put_u32(nlh, IFA_LOCAL, be);
    mnl_attr_put_u32(nlh, IFA_ADDRESS, be);
    uint32_t seq = nlh->nlmsg_seq, portid = mnl_socket_get_portid(nl);
    if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
        r = -errno;
    } else {
        ssize_t n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
        r = n < 0 ? -errno : mnl_cb_run(buf, (size_t)n, seq, portid, NULL, NULL) < 0 ? -errno : 0;
    }
    mnl_socket_close(nl);
    return r;
}

struct lb_addr {
    char *ip, *ifname;
};

static char *record_path(pods_manager *m)
{
    return xasprintf("%s/lb-addrs.json", m->run_root);
}

static void record_load(pods_manager *m, struct lb_addr **v, size_t *n)
{
    _cleanup_free_ char *path = record_path(m);
    _cleanup_json_ yajl_val j = NULL;
    _cleanup_error_ pr_error *ignored = NULL;
    if (json_parse_file_max(path, RECORD_MAX, READ_REGULAR, &j, &ignored) < 0)
        return;
    for (size_t i = 0; i < json_array_len(j); i++) {
        const char *ip = YAJL_GET_STRING(json_get(json_array_at(j, i), "ip"));
        const char *ifn = YAJL_GET_STRING(json_get(json_array_at(j, i), "interface"));
        if (!ip || !ifn)
            continue;
        *v = xrealloc(*v, (*n + 1) * sizeof(**v));
        (*v)[(*n)++] = (struct lb_addr){xstrdup(ip), xstrdup(ifn)};
    }
}

static int record_save(pods_manager *m, const struct lb_addr *v, size_t n, pr_error **err)
{
    _cleanup_free_ char *path = record_path(m);
    if (!n) {
        if (unlink(path) < 0 && errno != ENOENT)
            return pr_err(err, errno, "remove `%s`", path);
        return 0;
    }
    _cleanup_gen_ yajl_gen g = json_gen_new(false);
    jg_array_open(g);
    for (size_t i = 0; i < n; i++) {
        jg_map_open(g);
        jg_key_str(g, "ip", v[i].ip);
        jg_key_str(g, "interface", v[i].ifname);
        jg_map_close(g);
    }
    jg_array_close(g);
    size_t len;
    const char *buf = jg_buf(g, &len);
    return write_file_atomic_volatile(path, buf, len, 0600, err);
}

static bool wanted(char *const *want, const char *ip)
{
    for (size_t i = 0; want && want[i]; i++)
        if (streq(want[i], ip))
            return true;
    return false;
}

int pods_lb_announce(pods_manager *m, char *const *want, pr_error **err)
{
    struct lb_addr *have = NULL;
    size_t n = 0, kept = 0;
    int r = 0;
    record_load(m, &have, &n);
    for (size_t i = 0; i < n; i++) {
        if (wanted(want, have[i].ip)) {
            have[kept++] = have[i];
            continue;
        }
        int d = addr_change(RTM_DELADDR, have[i].ip, have[i].ifname);
        if (d < 0 && d != -EADDRNOTAVAIL && d != -ENODEV && r == 0)
            r = pr_err(err, -d, "remove the load balancer address %s from %s", have[i].ip,
                       have[i].ifname);
        free(have[i].ip);
        free(have[i].ifname);
    }
    n = kept;
    for (size_t i = 0; want && want[i]; i++) {
        bool known = false;
        for (size_t k = 0; k < n && !known; k++)
            known = streq(have[k].ip, want[i]);
        char ifname[IF_NAMESIZE];
        /* No interface's subnet holds it: nothing to answer ARP on (routed traffic to it is
         * still DNATed). */
        if (known || !iface_for(want[i], ifname))
            continue;
        int a = addr_change(RTM_NEWADDR, want[i], ifname);
        if (a == -EEXIST)
            continue; /* someone else's: theirs to keep */
        if (a < 0) {
            if (r == 0)
                r = pr_err(err, -a, "add the load balancer address %s to %s", want[i], ifname);
            continue;
        }
        have = xrealloc(have, (n + 1) * sizeof(*have));
        have[n++] = (struct lb_addr){xstrdup(want[i]), xstrdup(ifname)};
    }
    int s = record_save(m, have, n, r < 0 ? NULL : err);
    for (size_t i = 0; i < n; i++) {
        free(have[i].ip);
        free(have[i].ifname);
    }
    free(have);
    return r < 0 ? r : s;
}
