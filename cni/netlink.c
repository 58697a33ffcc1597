/* SPDX-License-Identifier: Apache-2.0 */
#include "netlink.h"
#include "netns.h"
#include "util.h"

#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/if_bridge.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <stdio.h>
#include <time.h>

struct nl {
    struct mnl_socket *sock;
    unsigned portid;
    unsigned seq;
    char buf[32768];
};

/* Wraps fd, an rtnetlink socket made by the caller, or opens one here when fd < 0. */
static int open_socket(int fd, nl **out, pr_error **err)
{
    nl *h = xcalloc(1, sizeof(*h));
    h->sock = fd >= 0 ? mnl_socket_fdopen(fd) : mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
    if (!h->sock) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        free(h);
        return pr_err(err, e, "opening rtnetlink socket");
    }
    if (mnl_socket_bind(h->sock, 0, MNL_SOCKET_AUTOPID) < 0) {
        int e = errno;
        mnl_socket_close(h->sock);
        free(h);
        return pr_err(err, e, "binding rtnetlink socket");
    }
    /* Extended ACKs name the attribute the kernel disliked; best effort. */
    int one = 1;
    mnl_socket_setsockopt(h->sock, NETLINK_EXT_ACK, &one, sizeof(one));
    h->portid = mnl_socket_get_portid(h->sock);
    h->seq = (unsigned)time(NULL);
    *out = h;
    return 0;
}

int nl_open(nl **out, pr_error **err)
{
    return open_socket(-1, out, err);
}

int nl_open_in(int netns_fd, nl **out, pr_error **err)
{
    int fd = netns_socket(netns_fd, -1, AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE, err);
    if (fd < 0)
        return pr_err_prefix(err, "the container's rtnetlink socket");
    return open_socket(fd, out, err);
}

void nl_close(nl *h)
{
    mnl_socket_close(h->sock);
    free(h);
}

static struct nlmsghdr *msg_new(nl *h, uint16_t type, uint16_t flags)
{
    struct nlmsghdr *nlh = mnl_nlmsg_put_header(h->buf);
    nlh->nlmsg_type = type;
    nlh->nlmsg_flags = NLM_F_REQUEST | flags;
    nlh->nlmsg_seq = ++h->seq;
    return nlh;
}

/* Sends one request and reads until its ACK or the end of its dump. Returns -errno from the
 * kernel (the caller decides which errors are benign), filling err only for unexpected ones. */
static int talk(nl *h, struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
    /* NLM_F_EXCL shares its bit with NLM_F_MATCH: a dump is a GET with both dump bits. */
    bool dump = (nlh->nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP && (nlh->nlmsg_type & 3) == 2;
    if (!dump)
        nlh->nlmsg_flags |= NLM_F_ACK;
    if (mnl_socket_sendto(h->sock, nlh, nlh->nlmsg_len) < 0)
        return -errno;
    unsigned seq = nlh->nlmsg_seq;
    for (;;) {
        ssize_t n = mnl_socket_recvfrom(h->sock, h->buf, sizeof(h->buf));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        int r = mnl_cb_run(h->buf, (size_t)n, seq, h->portid, cb, data);
        if (r == MNL_CB_ERROR)
            return errno ? -errno : -EIO;
        if (r == MNL_CB_STOP)
            return 0;
    }
}

void nl_mac_fmt(const uint8_t m[6], char out[18])
{
    snprintf(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

/* Links. */

static int linkinfo_cb(const struct nlattr *a, void *data)
{
    nl_link *l = data;
    if (mnl_attr_get_type(a) == IFLA_INFO_KIND && mnl_attr_validate(a, MNL_TYPE_STRING) == 0)
        snprintf(l->kind, sizeof(l->kind), "%s", mnl_attr_get_str(a));
    return MNL_CB_OK;
}

static int link_attr_cb(const struct nlattr *a, void *data)
{
    nl_link *l = data;
    switch (mnl_attr_get_type(a)) {
    case IFLA_IFNAME:
        snprintf(l->name, sizeof(l->name), "%s", mnl_attr_get_str(a));
        break;
    case IFLA_MASTER:
        l->master = (int)mnl_attr_get_u32(a);
        break;
    case IFLA_LINK:
        l->link = (int)mnl_attr_get_u32(a);
        break;
    case IFLA_MTU:
        l->mtu = mnl_attr_get_u32(a);
        break;
    case IFLA_ADDRESS:
        if (mnl_attr_get_payload_len(a) == 6) {
            memcpy(l->mac, mnl_attr_get_payload(a), 6);
            nl_mac_fmt(l->mac, l->mac_str);
        }
        break;
    case IFLA_LINKINFO:
        mnl_attr_parse_nested(a, linkinfo_cb, l);
        break;
    }
    return MNL_CB_OK;
}

static void link_parse(const struct nlmsghdr *nlh, nl_link *l)
{
    const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
    memset(l, 0, sizeof(*l));
    l->index = ifi->ifi_index;
    l->flags = ifi->ifi_flags;
    mnl_attr_parse(nlh, sizeof(*ifi), link_attr_cb, l);
}

static int link_one_cb(const struct nlmsghdr *nlh, void *data)
{
    if (nlh->nlmsg_type == RTM_NEWLINK)
        link_parse(nlh, data);
    return MNL_CB_OK;
}

static int link_get(nl *h, const char *name, int index, nl_link *out, pr_error **err)
{
    struct nlmsghdr *nlh = msg_new(h, RTM_GETLINK, 0);
    struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
    ifi->ifi_family = AF_UNSPEC;
    ifi->ifi_index = index;
    if (name)
        mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
    nlh->nlmsg_flags &= (uint16_t)~NLM_F_ACK;
    memset(out, 0, sizeof(*out));
    int r = talk(h, nlh, link_one_cb, out);
    if (r == -ENODEV || (r == 0 && !out->index))
        return -ENODEV;
    if (r < 0)
        return pr_err(err, -r, "looking up link %s", name ? name : "by index");
    return 0;
}

int nl_link_get(nl *h, const char *name, nl_link *out, pr_error **err)
{
    return link_get(h, name, 0, out, err);
}

int nl_link_get_index(nl *h, int index, nl_link *out, pr_error **err)
{
    return link_get(h, NULL, index, out, err);
}

struct link_list {
    nl_link *v;
    size_t n;
};

static int link_list_cb(const struct nlmsghdr *nlh, void *data)
{
    struct link_list *l = data;
    if (nlh->nlmsg_type != RTM_NEWLINK)
        return MNL_CB_OK;
    l->v = xrealloc(l->v, (l->n + 1) * sizeof(nl_link));
    link_parse(nlh, &l->v[l->n++]);
    return MNL_CB_OK;
}

int nl_link_list(nl *h, nl_link **out, size_t *n, pr_error **err)
{
    struct nlmsghdr *nlh = msg_new(h, RTM_GETLINK, NLM_F_DUMP);
    struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
    ifi->ifi_family = AF_UNSPEC;
    struct link_list l = {0};
    int r = talk(h, nlh, link_list_cb, &l);
    if (r < 0) {
        free(l.v);
        return pr_err(err, -r, "listing links");
    }
    *out = l.v;
    *n = l.n;
    return 0;
}

static struct nlmsghdr *newlink_msg(nl *h, uint16_t flags, struct ifinfomsg **ifip)
{
    struct nlmsghdr *nlh = msg_new(h, RTM_NEWLINK, flags);
    struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
    ifi->ifi_family = AF_UNSPEC;
    if (ifip)
        *ifip = ifi;
    return nlh;
}

int nl_bridge_create(nl *h, const char *name, unsigned mtu, bool vlan_filtering, pr_error **err)
{
    struct nlmsghdr *nlh = newlink_msg(h, NLM_F_CREATE | NLM_F_EXCL, NULL);
    mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
    if (mtu)
        mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
    struct nlattr *info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
    mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "bridge");
    if (vlan_filtering) {
        struct nlattr *data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
        mnl_attr_put_u8(nlh, IFLA_BR_VLAN_FILTERING, 1);
        mnl_attr_nest_end(nlh, data);
    }
    mnl_attr_nest_end(nlh, info);
    int r = talk(h, nlh, NULL, NULL);
    if (r == -EEXIST || (r == -EOPNOTSUPP && vlan_filtering))
        return r; /* the caller knows what these mean */
    if (r < 0)
        return pr_err(err, -r, "creating bridge %s", name);
    return 0;
}

int nl_veth_create(nl *h, const char *name, const char *peer, int peer_netns_fd, unsigned mtu,
                   int master, pr_error **err)
{
    struct nlmsghdr *nlh = newlink_msg(h, NLM_F_CREATE | NLM_F_EXCL, NULL);
    mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
    if (mtu)
        mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
    if (master)
        mnl_attr_put_u32(nlh, IFLA_MASTER, (uint32_t)master);
    struct nlattr *info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
    mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
    struct nlattr *data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
    struct nlattr *peer_attr = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
    /* The peer's attributes follow its own ifinfomsg header. */
    struct ifinfomsg *pi = mnl_nlmsg_get_payload_tail(nlh);
    nlh->nlmsg_len += MNL_ALIGN(sizeof(*pi));
    memset(pi, 0, sizeof(*pi));
    pi->ifi_family = AF_UNSPEC;
    mnl_attr_put_strz(nlh, IFLA_IFNAME, peer);
    if (mtu)
        mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
    if (peer_netns_fd >= 0)
        mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, (uint32_t)peer_netns_fd);
    mnl_attr_nest_end(nlh, peer_attr);
    mnl_attr_nest_end(nlh, data);
    mnl_attr_nest_end(nlh, info);
    int r = talk(h, nlh, NULL, NULL);
    if (r == -EEXIST)
        return -EEXIST;
    if (r < 0)
        return pr_err(err, -r, "creating veth pair %s/%s", name, peer);
    return 0;
}

int nl_link_set_flags(nl *h, int index, unsigned flags, unsigned change, pr_error **err)
{
    struct ifinfomsg *ifi;
    struct nlmsghdr *nlh = newlink_msg(h, 0, &ifi);
    ifi->ifi_index = index;
    ifi->ifi_flags = flags;
    ifi->ifi_change = change;
    int r = talk(h, nlh, NULL, NULL);
    if (r < 0)
        return pr_err(err, -r, "setting flags of link %d", index);
    return 0;
}

int nl_link_set_up(nl *h, int index, pr_error **err)
{
    return nl_link_set_flags(h, index, IFF_UP, IFF_UP, err);
}

int nl_link_del(nl *h, int index, pr_error **err)
{
    struct nlmsghdr *nlh = msg_new(h, RTM_DELLINK, 0);
    struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
    ifi->ifi_family = AF_UNSPEC;
    ifi->ifi_index = index;
    int r = talk(h, nlh, NULL, NULL);
    if (r < 0 && r != -ENODEV)
        return pr_err(err, -r, "deleting link %d", index);
    return 0;
}

int nl_brport_set_hairpin(nl *h, int index, bool on, pr_error **err)
{
    struct nlmsghdr *nlh = msg_new(h, RTM_SETLINK, 0);
    struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
    ifi->ifi_family = AF_BRIDGE;
    ifi->ifi_index = index;
    struct nlattr *pi = mnl_attr_nest_start(nlh, IFLA_PROTINFO);
    mnl_attr_put_u8(nlh, IFLA_BRPORT_MODE, on ? 1 : 0);
    mnl_attr_nest_end(nlh, pi);
    int r = talk(h, nlh, NULL, NULL);
    if (r < 0)
        return pr_err(err, -r, "setting hairpin mode on link %d", index);
    return 0;
}

static int bridge_vlan(nl *h, uint16_t type, int index, uint16_t vid, uint16_t flags, bool self)
{
    struct nlmsghdr *nlh = msg_new(h, type, 0);
    struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
    ifi->ifi_family = AF_BRIDGE;
    ifi->ifi_index = index;
    struct nlattr *spec = mnl_attr_nest_start(nlh, IFLA_AF_SPEC);
    if (self)
        mnl_attr_put_u16(nlh, IFLA_BRIDGE_FLAGS, BRIDGE_FLAGS_SELF);
    struct bridge_vlan_info vi = {.flags = flags, .vid = vid};
    mnl_attr_put(nlh, IFLA_BRIDGE_VLAN_INFO, sizeof(vi), &vi);
    mnl_attr_nest_end(nlh, spec);
    return talk(h, nlh, NULL, NULL);
}

int nl_bridge_vlan_add(nl *h, int index, uint16_t vid, bool self, pr_error **err)
{
    int r = bridge_vlan(h, RTM_SETLINK, index, vid,
                        BRIDGE_VLAN_INFO_PVID | BRIDGE_VLAN_INFO_UNTAGGED, self);
    if (r < 0)
        return pr_err(err, -r, "adding vlan %u to link %d", vid, index);
    /* The port belongs to its vlan only, not to the default vlan 1 as well. */
    if (vid != 1 && !self)
        bridge_vlan(h, RTM_DELLINK, index, 1, 0, false);
    return 0;
}

/* Addresses. */

struct addr_list {
    int index, family;
    nl_addr *v;
    size_t n;
};

static int addr_attr_cb(const struct nlattr *a, void *data)
{
    const struct nlattr **tb = data;
    int type = mnl_attr_get_type(a);
    if (type <= IFA_MAX)
        tb[type] = a;
    return MNL_CB_OK;
}

static int addr_list_cb(const struct nlmsghdr *nlh, void *data)
{
    struct addr_list *l = data;
    if (nlh->nlmsg_type != RTM_NEWADDR)
        return MNL_CB_OK;
    const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
    if ((l->index && (int)ifa->ifa_index != l->index) ||
        (l->family && ifa->ifa_family != l->family))
        return MNL_CB_OK;
    const struct nlattr *tb[IFA_MAX + 1] = {0};
    mnl_attr_parse(nlh, sizeof(*ifa), addr_attr_cb, tb);
    const struct nlattr *a = tb[IFA_LOCAL] ? tb[IFA_LOCAL] : tb[IFA_ADDRESS];
    if (!a)
        return MNL_CB_OK;
    nl_addr e = {.index = (int)ifa->ifa_index};
    e.addr.ip.family = ifa->ifa_family;
    e.addr.plen = ifa->ifa_prefixlen;
    size_t len = ifa->ifa_family == AF_INET6 ? 16 : 4;
    if (mnl_attr_get_payload_len(a) != len)
        return MNL_CB_OK;
    memcpy(e.addr.ip.b, mnl_attr_get_payload(a), len);
    l->v = xrealloc(l->v, (l->n + 1) * sizeof(nl_addr));
    l->v[l->n++] = e;
    return MNL_CB_OK;
}

int nl_addr_list(nl *h, int index, int family, nl_addr **out, size_t *n, pr_error **err)
{
    struct nlmsghdr *nlh = msg_new(h, RTM_GETADDR, NLM_F_DUMP);
    struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
    ifa->ifa_family = (uint8_t)family;
    struct addr_list l = {.index = index, .family = family};
    int r = talk(h, nlh, addr_list_cb, &l);
    if (r < 0) {
        free(l.v);
        return pr_err(err, -r, "listing addresses");
    }
    *out = l.v;
    *n = l.n;
    return 0;
}

static struct nlmsghdr *addr_msg(nl *h, uint16_t type, uint16_t flags, int index,
                                 const cni_prefix *p)
{
    struct nlmsghdr *nlh = msg_new(h, type, flags);
    struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
    ifa->ifa_family = (uint8_t)p->ip.family;
    ifa->ifa_prefixlen = (uint8_t)p->plen;
    ifa->ifa_index = (uint32_t)index;
    ifa->ifa_scope = RT_SCOPE_UNIVERSE;
    size_t len = (size_t)cni_ip_len(&p->ip);
    mnl_attr_put(nlh, IFA_LOCAL, len, p->ip.b);
    mnl_attr_put(nlh, IFA_ADDRESS, len, p->ip.b);
    return nlh;
}

int nl_addr_add(nl *h, int index, const cni_prefix *p, pr_error **err)
{
    struct nlmsghdr *nlh = addr_msg(h, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, index, p);
    if (p->ip.family == AF_INET && p->plen < 31) {
        /* As `ip addr add ... brd +` and the reference plugins do. */
        cni_ip brd = cni_prefix_last(p);
        mnl_attr_put(nlh, IFA_BROADCAST, 4, brd.b);
    }
    if (p->ip.family == AF_INET6)
        mnl_attr_put_u32(nlh, IFA_FLAGS, IFA_F_NODAD); /* usable at once, no DAD wait */
    int r = talk(h, nlh, NULL, NULL);
    char a[CNI_PREFIX_STRLEN];
    if (r < 0 && r != -EEXIST)
        return pr_err(err, -r, "adding address %s to link %d", cni_prefix_fmt(p, a), index);
    return 0;
}

int nl_addr_del(nl *h, int index, const cni_prefix *p, pr_error **err)
{
    struct nlmsghdr *nlh = addr_msg(h, RTM_DELADDR, 0, index, p);
    int r = talk(h, nlh, NULL, NULL);
    char a[CNI_PREFIX_STRLEN];
    if (r < 0 && r != -EADDRNOTAVAIL && r != -ENOENT && r != -ENODEV)
        return pr_err(err, -r, "deleting address %s from link %d", cni_prefix_fmt(p, a), index);
    return 0;
}

/* Routes. */

struct route_list {
    int family;
    nl_route *v;
    size_t n;
};

static int route_attr_cb(const struct nlattr *a, void *data)
{
    const struct nlattr **tb = data;
    int type = mnl_attr_get_type(a);
    if (type <= RTA_MAX)
        tb[type] = a;
    return MNL_CB_OK;
}

static int route_list_cb(const struct nlmsghdr *nlh, void *data)
{
    struct route_list *l = data;
    if (nlh->nlmsg_type != RTM_NEWROUTE)
        return MNL_CB_OK;
    const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
    const struct nlattr *tb[RTA_MAX + 1] = {0};
    mnl_attr_parse(nlh, sizeof(*rtm), route_attr_cb, tb);
    uint32_t table = tb[RTA_TABLE] ? mnl_attr_get_u32(tb[RTA_TABLE]) : rtm->rtm_table;
    if (table != RT_TABLE_MAIN || rtm->rtm_type != RTN_UNICAST || rtm->rtm_family != l->family)
        return MNL_CB_OK;
    size_t len = rtm->rtm_family == AF_INET6 ? 16 : 4;
    nl_route rt = {.protocol = rtm->rtm_protocol, .scope = rtm->rtm_scope, .table = table};
    rt.dst.ip.family = rtm->rtm_family;
    rt.dst.plen = rtm->rtm_dst_len;
    if (tb[RTA_DST] && mnl_attr_get_payload_len(tb[RTA_DST]) == len)
        memcpy(rt.dst.ip.b, mnl_attr_get_payload(tb[RTA_DST]), len);
    if (tb[RTA_GATEWAY] && mnl_attr_get_payload_len(tb[RTA_GATEWAY]) == len) {
        rt.gw.family = rtm->rtm_family;
        memcpy(rt.gw.b, mnl_attr_get_payload(tb[RTA_GATEWAY]), len);
    }
    if (tb[RTA_OIF])
        rt.oif = (int)mnl_attr_get_u32(tb[RTA_OIF]);
    l->v = xrealloc(l->v, (l->n + 1) * sizeof(nl_route));
    l->v[l->n++] = rt;
    return MNL_CB_OK;
}

int nl_route_list(nl *h, int family, nl_route **out, size_t *n, pr_error **err)
{
    struct nlmsghdr *nlh = msg_new(h, RTM_GETROUTE, NLM_F_DUMP);
    struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
    rtm->rtm_family = (uint8_t)family;
    struct route_list l = {.family = family};
    int r = talk(h, nlh, route_list_cb, &l);
    if (r < 0) {
        free(l.v);
        return pr_err(err, -r, "listing routes");
    }
    *out = l.v;
    *n = l.n;
    return 0;
}

static struct nlmsghdr *route_msg(nl *h, uint16_t type, uint16_t flags, const nl_route *rt)
{
    struct nlmsghdr *nlh = msg_new(h, type, flags);
    struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
    rtm->rtm_family = (uint8_t)rt->dst.ip.family;
    rtm->rtm_dst_len = (uint8_t)rt->dst.plen;
    rtm->rtm_table = RT_TABLE_MAIN;
    rtm->rtm_protocol = rt->protocol ? rt->protocol : type == RTM_NEWROUTE ? RTPROT_BOOT : 0;
    rtm->rtm_scope = rt->gw.family ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK;
    rtm->rtm_type = RTN_UNICAST;
    size_t len = (size_t)cni_ip_len(&rt->dst.ip);
    if (rt->dst.plen)
        mnl_attr_put(nlh, RTA_DST, len, rt->dst.ip.b);
    if (rt->gw.family)
        mnl_attr_put(nlh, RTA_GATEWAY, len, rt->gw.b);
    if (rt->oif)
        mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)rt->oif);
    return nlh;
}

int nl_route_add(nl *h, const nl_route *rt, bool replace, pr_error **err)
{
    uint16_t flags = NLM_F_CREATE | (replace ? NLM_F_REPLACE : NLM_F_EXCL);
    int r = talk(h, route_msg(h, RTM_NEWROUTE, flags, rt), NULL, NULL);
    char a[CNI_PREFIX_STRLEN], g[CNI_IP_STRLEN];
    if (r < 0 && r != -EEXIST)
        return pr_err(err, -r, "adding route to %s via %s", cni_prefix_fmt(&rt->dst, a),
                      rt->gw.family ? cni_ip_fmt(&rt->gw, g) : "link");
    return 0;
}

int nl_route_del(nl *h, const nl_route *rt, pr_error **err)
{
    struct nlmsghdr *nlh = route_msg(h, RTM_DELROUTE, 0, rt);
    struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
    rtm->rtm_scope = RT_SCOPE_NOWHERE; /* match any scope */
    int r = talk(h, nlh, NULL, NULL);
    char a[CNI_PREFIX_STRLEN];
    if (r < 0 && r != -ESRCH && r != -ENOENT && r != -ENODEV)
        return pr_err(err, -r, "deleting route to %s", cni_prefix_fmt(&rt->dst, a));
    return 0;
}
