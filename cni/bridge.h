/* SPDX-License-Identifier: Apache-2.0 */
/* podrun-bridge: pods on a Linux bridge through veth pairs, addresses from the IPAM plugin
 * the configuration names, optional masquerade, and host-gw routes to other nodes' pod
 * subnets for a flat pod network. */
#ifndef PODRUN_CNI_BRIDGE_H
#define PODRUN_CNI_BRIDGE_H

#include "cni.h"

/* RTM protocol marking the routes to other nodes, so a sync can remove stale ones. */
#define BRIDGE_RTPROT_NODES 211

int bridge_cmd_add(const cni_env *env, const cni_conf *conf, const char *raw, size_t len,
                   char **out, pr_error **err);
int bridge_cmd_del(const cni_env *env, const cni_conf *conf, const char *raw, size_t len,
                   char **out, pr_error **err);
int bridge_cmd_check(const cni_env *env, const cni_conf *conf, const char *raw, size_t len,
                     char **out, pr_error **err);
int bridge_cmd_status(const cni_env *env, const cni_conf *conf, const char *raw, size_t len,
                      char **out, pr_error **err);
int bridge_cmd_gc(const cni_env *env, const cni_conf *conf, const char *raw, size_t len, char **out,
                  pr_error **err);

/* Installs routes to every other node's pod subnet via its node IP (from the configuration's
 * "nodes" or "nodesFile") and removes routes to nodes no longer listed. */
int bridge_sync_node_routes(const cni_conf *conf, pr_error **err);

/* For sync-routes, which takes the file an operator has: a network configuration (returned as
 * it is) or a configuration list (a .conflist), whose podrun-bridge entry is returned with the
 * list's cniVersion and name. NULL and a CNI error when there is none. */
char *bridge_entry_of_list(const char *raw, pr_error **err);

/* The host-side veth name of an attachment: "prv" + 12 hex digits of a hash of network,
 * container id and ifname, so DEL and GC find it without the container's namespace. */
void bridge_host_veth_name(const char *net, const char *id, const char *ifname, char out[16]);

#endif
