/* SPDX-License-Identifier: Apache-2.0 */
/* Network devices: lo in a new network namespace, linux.netDevices moved into the container. */
#ifndef RT_NETDEV_H
#define RT_NETDEV_H

#include "error.h"

#include <stdbool.h>
#include <sys/types.h>
#include <yajl/yajl_tree.h>

/* In the init, in its new network namespace: lo up, as runc and crun leave it. */
int rt_net_loopback_up(pr_error **err);

/* At config load: linux.netDevices is an object of host interface names, each an object with
 * an optional "name" in the container; the interfaces exist; the container has a network
 * namespace of its own. */
int rt_net_devices_validate(yajl_val devices, bool has_netns, pr_error **err);

/* In the runtime: moves each host interface into pid's network namespace, renamed. */
int rt_net_devices_move(yajl_val devices, pid_t pid, pr_error **err);

/* In the init, in the container's network namespace once they are moved: each device up. */
int rt_net_devices_up(yajl_val devices, pr_error **err);

#endif
