/* SPDX-License-Identifier: Apache-2.0 */
/* podrun-ipam: host-local address management. Each range set hands out one address per
 * attachment (containerID, ifname); allocations are files named by the address under
 * DATADIR/NETWORK, holding "containerID\r\nifname" as host-local writes them, guarded by a
 * flock on DATADIR/NETWORK/lock. */
#ifndef PODRUN_CNI_IPAM_H
#define PODRUN_CNI_IPAM_H

#include "cni.h"
#include "paths.h"

#define IPAM_DEFAULT_DATA_DIR PODRUN_IPAM_DATA_DIR

typedef struct ipam_range {
    cni_prefix subnet;
    cni_ip start, end;
    cni_ip gw; /* family 0: none */
} ipam_range;

typedef struct ipam_rangeset {
    ipam_range *ranges;
    size_t n;
} ipam_rangeset;

typedef struct ipam_conf {
    char *dir; /* DATADIR/NETWORK */
    ipam_rangeset *sets;
    size_t n_sets;
    cni_route *routes;
    size_t n_routes;
    cni_dns dns;
    cni_ip *requested;
    size_t n_requested;
} ipam_conf;

/* Reads conf->ipam (ranges or the legacy subnet/rangeStart/rangeEnd/gateway, routes, dataDir,
 * resolvConf) and the requested IPs from args.cni.ips, runtimeConfig.ips and CNI_ARGS IP=. */
int ipam_conf_parse(const cni_conf *conf, const char *cni_args, ipam_conf *out, pr_error **err);
void ipam_conf_free(ipam_conf *c);

/* One address per range set; the same attachment asking again from the same network
 * namespace gets the same addresses, from another one CNI_ERR_DUPLICATE_ATTACHMENT. netns is
 * CNI_NETNS (NULL: not checked). */
int ipam_add(const ipam_conf *c, const char *id, const char *ifname, const char *netns,
             cni_result *res, pr_error **err);
/* What identifies a network namespace across paths to it: device and inode of the nsfs file
 * (its path when it cannot be read). */
void ipam_netns_identity(const char *netns, char out[static 128]);
/* Releases the attachment's addresses; releasing nothing is success. */
int ipam_del(const ipam_conf *c, const char *id, const char *ifname, pr_error **err);
/* Verifies the attachment still holds an address in every range set. */
int ipam_check(const ipam_conf *c, const char *id, const char *ifname, pr_error **err);
/* Releases every allocation whose attachment is not in (ids, ifnames). */
int ipam_gc(const ipam_conf *c, char **ids, char **ifnames, pr_error **err);
/* Ready to serve ADD: the store is writable and every range set has a free address. */
int ipam_status(const ipam_conf *c, pr_error **err);

#endif
