/* SPDX-License-Identifier: Apache-2.0 */
/* The container's root filesystem: mounts, devices, pivot_root, masked and read-only paths.
 * All of it runs in the container's init, inside its new mount namespace. */
#ifndef RT_MOUNTS_H
#define RT_MOUNTS_H

#include "error.h"
#include <stdbool.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

/* In the runtime before anything is made: mount types, options and propagation flags are all
 * known, destinations absolute, rootfsPropagation valid. config: the whole config.json tree. */
int rt_mounts_validate(yajl_val config, pr_error **err);

/* In the new mount namespace, before pivot: sets the propagation of / (rootfsPropagation,
 * default rslave... private), bind-mounts rootfs onto itself, performs config.mounts in order
 * with every destination resolved inside rootfs (never following a symlink out of it), creates
 * linux.devices and the default devices (bind-mounted from the host when in a user namespace),
 * /dev symlinks (fd, stdin, stdout, stderr, ptmx, core when /proc/kcore exists).
 * rootfs is an absolute path. in_userns: the init runs in a new user namespace. */
int rt_rootfs_prepare(yajl_val config, const char *rootfs, bool in_userns, pr_error **err);

/* pivot_root into rootfs (or, with no_pivot, MS_MOVE + chroot) and detach the old root. */
int rt_rootfs_pivot(const char *rootfs, bool no_pivot, pr_error **err);

/* After pivot: linux.maskedPaths, linux.readonlyPaths, root.readonly, and the final
 * rootfsPropagation of /. */
int rt_rootfs_finalize(yajl_val config, pr_error **err);

/* Emits features "mountOptions" (array of option names understood). */
void rt_mounts_features(yajl_gen g);

#endif
