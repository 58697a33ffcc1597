/* SPDX-License-Identifier: Apache-2.0 */
/* Network devices of the container: the loopback brought up in a new network namespace, and
 * linux.netDevices moved from the host into the container's namespace. */
#include <config.h> /* _GNU_SOURCE, from configure */

#include "netdev.h"
#include "json.h"
#include "util.h"

#include <fcntl.h>
#include <sched.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#define MAX_NET_DEVICES 64

int rt_net_loopback_up(pr_error **err)
{
    /* One ioctl: a new network namespace holds only lo, down. */
    _cleanup_close_ int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0)
        return pr_err(err, errno, "socket to bring up lo");
    struct ifreq ifr = {.ifr_name = "lo", .ifr_flags = IFF_UP | IFF_LOOPBACK | IFF_RUNNING};
    if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
        return pr_err(err, errno, "bring up lo in the new network namespace");
    return 0;
}

static const char *device_name(yajl_val devices, size_t i)
{
    const char *name = YAJL_GET_STRING(json_get(devices->u.object.values[i], "name"));
    return name && *name ? name : devices->u.object.keys[i];
}

int rt_net_devices_up(yajl_val devices, pr_error **err)
{
    if (!devices || !YAJL_IS_OBJECT(devices) || devices->u.object.len == 0)
        return 0;
    _cleanup_close_ int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0)
        return pr_err(err, errno, "linux.netDevices: socket");
    for (size_t i = 0; i < devices->u.object.len; i++) {
        const char *name = device_name(devices, i);
        if (strchr(name, '%'))
            continue; /* a template: the kernel chose the name */
        struct ifreq ifr = {0};
        snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
        if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
            return pr_err(err, errno, "linux.netDevices: \"%s\" in the container", name);
        ifr.ifr_flags |= IFF_UP;
        if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
            return pr_err(err, errno, "linux.netDevices: bring up \"%s\"", name);
    }
    return 0;
}

static bool valid_ifname(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n >= IFNAMSIZ || streq(name, ".") || streq(name, ".."))
        return false;
    for (const char *p = name; *p; p++)
        if (*p == '/' || *p == ':' || (unsigned char)*p <= ' ' || *p == 0x7f)
            return false;
    return true;
}

int rt_net_devices_validate(yajl_val devices, bool has_netns, pr_error **err)
{
    if (!devices)
        return 0;
    if (!YAJL_IS_OBJECT(devices))
        return pr_err(err, 0, "linux.netDevices: expected an object");
    if (devices->u.object.len == 0)
        return 0;
    if (!has_netns)
        return pr_err(err, 0, "linux.netDevices: moving devices needs a network namespace");
    if (devices->u.object.len > MAX_NET_DEVICES)
        return pr_err(err, 0, "linux.netDevices: at most %d devices", MAX_NET_DEVICES);
    for (size_t i = 0; i < devices->u.object.len; i++) {
        const char *host = devices->u.object.keys[i];
        yajl_val d = devices->u.object.values[i];
        const char *name = NULL;
        if (!valid_ifname(host))
            return pr_err(err, 0, "linux.netDevices: \"%s\" is not a valid interface name", host);
        if (!YAJL_IS_OBJECT(d))
            return pr_err(err, 0, "linux.netDevices.%s: expected an object", host);
        int r = json_get_str(d, "name", "linux.netDevices", &name, err);
        if (r < 0)
            return r;
        if (name && *name && !valid_ifname(name))
            return pr_err(err, 0, "linux.netDevices.%s.name: \"%s\" is not a valid interface name",
                          host, name);
        if (if_nametoindex(host) == 0)
            return pr_err(err, errno, "linux.netDevices: host interface \"%s\"", host);
    }
    return 0;
}

struct nl_req {
    struct nlmsghdr h;
    struct ifinfomsg i;
    char attrs[64];
};

static void nl_attr(struct nl_req *q, unsigned short type, const void *data, size_t len)
{
    struct rtattr *a = (struct rtattr *)((char *)q + NLMSG_ALIGN(q->h.nlmsg_len));
    a->rta_type = type;
    a->rta_len = (unsigned short)RTA_LENGTH(len);
    memcpy(RTA_DATA(a), data, len);
    q->h.nlmsg_len = NLMSG_ALIGN(q->h.nlmsg_len) + RTA_ALIGN(a->rta_len);
}

/* RTM_NEWLINK on the device with IFLA_NET_NS_FD (and IFLA_IFNAME for its name there): the
 * kernel moves and renames it in one step. */
static int move_one(int nl, const char *host, const char *name, int netns_fd, pr_error **err)
{
    unsigned idx = if_nametoindex(host);
    if (idx == 0)
        return pr_err(err, errno, "linux.netDevices: host interface \"%s\"", host);
    struct nl_req q = {
        .h = {.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg)),
              .nlmsg_type = RTM_NEWLINK,
              .nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK,
              .nlmsg_seq = idx},
        .i = {.ifi_family = AF_UNSPEC, .ifi_index = (int)idx},
    };
    uint32_t fd = (uint32_t)netns_fd;
    nl_attr(&q, IFLA_NET_NS_FD, &fd, sizeof(fd));
    nl_attr(&q, IFLA_IFNAME, name, strlen(name) + 1);
    if (send(nl, &q, q.h.nlmsg_len, 0) < 0)
        return pr_err(err, errno, "linux.netDevices: move \"%s\": netlink send", host);
    char buf[1024];
    ssize_t n = recv(nl, buf, sizeof(buf), 0);
    if (n < 0)
        return pr_err(err, errno, "linux.netDevices: move \"%s\": netlink receive", host);
    struct nlmsghdr *h = (struct nlmsghdr *)buf;
    if (!NLMSG_OK(h, (size_t)n) || h->nlmsg_type != NLMSG_ERROR)
        return pr_err(err, EPROTO, "linux.netDevices: move \"%s\": unexpected netlink reply", host);
    int e = -((struct nlmsgerr *)NLMSG_DATA(h))->error;
    if (e)
        return pr_err(err, e, "linux.netDevices: move \"%s\" into the container as \"%s\"", host,
                      name);
    return 0;
}

/* A permanent address of global scope: what the runtime-spec says moves with the device. */
struct kept_addr {
    unsigned char family, prefixlen;
    unsigned char local[16], address[16];
    bool has_local, has_address;
};

#define MAX_KEPT_ADDRS 64

static size_t addr_len(unsigned char family)
{
    return family == AF_INET ? 4 : 16;
}

/* The device's permanent, global addresses (RTM_GETADDR dump in the runtime's namespace). */
static int dump_addrs(int nl, unsigned idx, struct kept_addr *out, size_t *n, pr_error **err)
{
    struct {
        struct nlmsghdr h;
        struct ifaddrmsg a;
    } q = {.h = {.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifaddrmsg)),
                 .nlmsg_type = RTM_GETADDR,
                 .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
                 .nlmsg_seq = 1},
           .a = {.ifa_family = AF_UNSPEC}};
    *n = 0;
    if (send(nl, &q, q.h.nlmsg_len, 0) < 0)
        return pr_err(err, errno, "linux.netDevices: list addresses");
    char buf[16384];
    for (;;) {
        ssize_t len = recv(nl, buf, sizeof(buf), 0);
        if (len < 0)
            return pr_err(err, errno, "linux.netDevices: list addresses");
        for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)len);
             h = NLMSG_NEXT(h, len)) {
            if (h->nlmsg_type == NLMSG_DONE)
                return 0;
            if (h->nlmsg_type == NLMSG_ERROR)
                return pr_err(err, -((struct nlmsgerr *)NLMSG_DATA(h))->error,
                              "linux.netDevices: list addresses");
            if (h->nlmsg_type != RTM_NEWADDR)
                continue;
            struct ifaddrmsg *a = NLMSG_DATA(h);
            if (a->ifa_index != idx || a->ifa_scope != RT_SCOPE_UNIVERSE ||
                (a->ifa_family != AF_INET && a->ifa_family != AF_INET6))
                continue;
            struct kept_addr k = {.family = a->ifa_family, .prefixlen = a->ifa_prefixlen};
            unsigned flags = a->ifa_flags;
            size_t alen = addr_len(a->ifa_family);
            int rl = (int)IFA_PAYLOAD(h);
            for (struct rtattr *r = IFA_RTA(a); RTA_OK(r, rl); r = RTA_NEXT(r, rl)) {
                if (r->rta_type == IFA_FLAGS && RTA_PAYLOAD(r) >= sizeof(uint32_t))
                    memcpy(&flags, RTA_DATA(r), sizeof(uint32_t));
                else if (r->rta_type == IFA_LOCAL && RTA_PAYLOAD(r) == alen)
                    k.has_local = (memcpy(k.local, RTA_DATA(r), alen), true);
                else if (r->rta_type == IFA_ADDRESS && RTA_PAYLOAD(r) == alen)
                    k.has_address = (memcpy(k.address, RTA_DATA(r), alen), true);
            }
            if ((flags & IFA_F_PERMANENT) && *n < MAX_KEPT_ADDRS)
                out[(*n)++] = k;
        }
    }
}

static int nl_ack(int nl, const char *what, const char *dev, pr_error **err)
{
    char buf[1024];
    ssize_t n = recv(nl, buf, sizeof(buf), 0);
    if (n < 0)
        return pr_err(err, errno, "linux.netDevices: %s \"%s\"", what, dev);
    struct nlmsghdr *h = (struct nlmsghdr *)buf;
    if (!NLMSG_OK(h, (size_t)n) || h->nlmsg_type != NLMSG_ERROR)
        return pr_err(err, EPROTO, "linux.netDevices: %s \"%s\": unexpected netlink reply", what,
                      dev);
    int e = -((struct nlmsgerr *)NLMSG_DATA(h))->error;
    return e ? pr_err(err, e, "linux.netDevices: %s \"%s\"", what, dev) : 0;
}

/* nl lives in the container's namespace: the device's addresses go back on it there. */
static int restore_addrs(int nl, const char *name, const struct kept_addr *k, size_t n,
                         pr_error **err)
{
    unsigned idx = n ? if_nametoindex(name) : 0;
    if (n && idx == 0)
        return pr_err(err, errno, "linux.netDevices: \"%s\" in the container", name);
    for (size_t i = 0; i < n; i++) {
        struct {
            struct nlmsghdr h;
            struct ifaddrmsg a;
            char attrs[64];
        } q = {.h = {.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifaddrmsg)),
                     .nlmsg_type = RTM_NEWADDR,
                     .nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL,
                     .nlmsg_seq = (unsigned)i + 1},
               .a = {.ifa_family = k[i].family,
                     .ifa_prefixlen = k[i].prefixlen,
                     .ifa_flags = IFA_F_PERMANENT,
                     .ifa_scope = RT_SCOPE_UNIVERSE,
                     .ifa_index = idx}};
        size_t alen = addr_len(k[i].family);
        const unsigned char *addrs[] = {k[i].has_local ? k[i].local : NULL,
                                        k[i].has_address ? k[i].address : NULL};
        const unsigned short types[] = {IFA_LOCAL, IFA_ADDRESS};
        for (size_t t = 0; t < 2; t++) {
            if (!addrs[t])
                continue;
            struct rtattr *a = (struct rtattr *)((char *)&q + NLMSG_ALIGN(q.h.nlmsg_len));
            a->rta_type = types[t];
            a->rta_len = (unsigned short)RTA_LENGTH(alen);
            memcpy(RTA_DATA(a), addrs[t], alen);
            q.h.nlmsg_len = NLMSG_ALIGN(q.h.nlmsg_len) + RTA_ALIGN(a->rta_len);
        }
        if (send(nl, &q, q.h.nlmsg_len, 0) < 0)
            return pr_err(err, errno, "linux.netDevices: restore an address of \"%s\"", name);
        int r = nl_ack(nl, "restore an address of", name, err);
        if (r < 0)
            return r;
    }
    return 0;
}

/* A netlink socket of the namespace netns: made there, then the runtime goes back home. */
static int netlink_in(int netns, pr_error **err)
{
    _cleanup_close_ int home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    if (home < 0)
        return pr_err(err, errno, "linux.netDevices: open /proc/self/ns/net");
    if (setns(netns, CLONE_NEWNET) < 0)
        return pr_err(err, errno, "linux.netDevices: enter the container's network namespace");
    int nl = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    int e = errno;
    if (setns(home, CLONE_NEWNET) < 0)
        abort(); /* the runtime cannot go on in the container's namespace */
    if (nl < 0)
        return pr_err(err, e, "linux.netDevices: netlink socket in the container");
    return nl;
}

int rt_net_devices_move(yajl_val devices, pid_t pid, pr_error **err)
{
    if (!devices || !YAJL_IS_OBJECT(devices) || devices->u.object.len == 0)
        return 0;
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
    _cleanup_close_ int netns = open(path, O_RDONLY | O_CLOEXEC);
    if (netns < 0)
        return pr_err(err, errno, "linux.netDevices: open `%s`", path);
    _cleanup_close_ int nl = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (nl < 0)
        return pr_err(err, errno, "linux.netDevices: netlink socket");
    _cleanup_close_ int inner = -1;
    for (size_t i = 0; i < devices->u.object.len; i++) {
        const char *host = devices->u.object.keys[i], *name = device_name(devices, i);
        struct kept_addr kept[MAX_KEPT_ADDRS];
        size_t n = 0;
        unsigned idx = if_nametoindex(host);
        int r = idx ? dump_addrs(nl, idx, kept, &n, err) : 0;
        if (r == 0)
            r = move_one(nl, host, name, netns, err);
        if (r == 0 && n && strchr(name, '%'))
            n = 0; /* the kernel chose the name: nothing to find it by */
        if (r == 0 && n && inner < 0 && (inner = netlink_in(netns, err)) < 0)
            r = inner;
        if (r == 0 && n) {
            /* if_nametoindex must ask the container's namespace too. */
            _cleanup_close_ int home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
            if (home < 0 || setns(netns, CLONE_NEWNET) < 0)
                return pr_err(err, errno, "linux.netDevices: enter the container's namespace");
            r = restore_addrs(inner, name, kept, n, err);
            if (setns(home, CLONE_NEWNET) < 0)
                abort();
        }
        if (r < 0)
            return r;
    }
    return 0;
}
