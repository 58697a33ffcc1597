/* SPDX-License-Identifier: Apache-2.0 */
/* rtnetlink over libmnl: just what the bridge plugin needs (links, bridge ports, addresses,
 * routes). One nl handle per network namespace; a handle opened inside a namespace keeps
 * talking to it after the process returns to its own. */
#ifndef PODRUN_CNI_NETLINK_H
#define PODRUN_CNI_NETLINK_H

#include "error.h"
#include "ipaddr.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct nl nl;

int nl_open(nl **out, pr_error **err);
/* Opens a handle inside the network namespace at netns_fd. */
int nl_open_in(int netns_fd, nl **out, pr_error **err);
void nl_close(nl *h);
static inline void nl_closep(nl **h)
{
    if (*h)
        nl_close(*h);
}
#define _cleanup_nl_ __attribute__((cleanup(nl_closep)))

typedef struct nl_link {
    int index;
    char name[16];
    char kind[16];
    int master; /* 0: none */
    int link;   /* IFLA_LINK: a veth's peer index (in the peer's namespace) */
    unsigned mtu;
    unsigned flags; /* IFF_* */
    uint8_t mac[6];
    char mac_str[18];
} nl_link;

/* -ENODEV when there is no such link. */
int nl_link_get(nl *h, const char *name, nl_link *out, pr_error **err);
int nl_link_get_index(nl *h, int index, nl_link *out, pr_error **err);
/* Every link; caller frees *out. */
int nl_link_list(nl *h, nl_link **out, size_t *n, pr_error **err);

int nl_bridge_create(nl *h, const char *name, unsigned mtu, bool vlan_filtering, pr_error **err);
/* Creates a veth pair: `name` here (enslaved to master when non-zero), `peer` inside the
 * namespace peer_netns_fd. -EEXIST when either name is taken. */
int nl_veth_create(nl *h, const char *name, const char *peer, int peer_netns_fd, unsigned mtu,
                   int master, pr_error **err);
int nl_link_set_up(nl *h, int index, pr_error **err);
int nl_link_set_flags(nl *h, int index, unsigned flags, unsigned change, pr_error **err);
int nl_link_del(nl *h, int index, pr_error **err);
int nl_brport_set_hairpin(nl *h, int index, bool on, pr_error **err);
/* Untagged PVID `vid` on a bridge port (self: on the bridge device itself). */
int nl_bridge_vlan_add(nl *h, int index, uint16_t vid, bool self, pr_error **err);

typedef struct nl_addr {
    int index;
    cni_prefix addr;
} nl_addr;
int nl_addr_list(nl *h, int index, int family, nl_addr **out, size_t *n, pr_error **err);
/* EEXIST is success. */
int nl_addr_add(nl *h, int index, const cni_prefix *addr, pr_error **err);
/* ENOENT/EADDRNOTAVAIL are success. */
int nl_addr_del(nl *h, int index, const cni_prefix *addr, pr_error **err);

typedef struct nl_route {
    cni_prefix dst;
    cni_ip gw; /* family 0: none */
    int oif;
    uint8_t protocol;
    uint8_t scope;
    uint32_t table;
} nl_route;
/* Routes of the main table for family. */
int nl_route_list(nl *h, int family, nl_route **out, size_t *n, pr_error **err);
/* replace: NLM_F_REPLACE; otherwise EEXIST is success. */
int nl_route_add(nl *h, const nl_route *rt, bool replace, pr_error **err);
/* ESRCH/ENOENT are success. */
int nl_route_del(nl *h, const nl_route *rt, pr_error **err);

void nl_mac_fmt(const uint8_t mac[6], char out[18]);

#endif
