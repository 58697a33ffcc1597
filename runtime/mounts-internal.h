/* SPDX-License-Identifier: Apache-2.0 */
/* Shared between the rootfs files (mounts.c, mounts-options.c, mounts-cgroup.c, devices.c):
 * mount option parsing, in-root path resolution and the small mount helpers they all use.
 * Not part of the runtime's public interface: mounts.h is. */
#ifndef RT_MOUNTS_INTERNAL_H
#define RT_MOUNTS_INTERNAL_H

#include "error.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/mount.h>
#include <yajl/yajl_tree.h>

#ifndef MS_NOSYMFOLLOW
#define MS_NOSYMFOLLOW 256
#endif

/* mount_setattr(2) attributes (linux/mount.h), for the recursive "rro", "rnosuid"... options. */
#define RT_MOUNT_ATTR_RDONLY      0x00000001ULL
#define RT_MOUNT_ATTR_NOSUID      0x00000002ULL
#define RT_MOUNT_ATTR_NODEV       0x00000004ULL
#define RT_MOUNT_ATTR_NOEXEC      0x00000008ULL
#define RT_MOUNT_ATTR__ATIME      0x00000070ULL
#define RT_MOUNT_ATTR_RELATIME    0x00000000ULL
#define RT_MOUNT_ATTR_NOATIME     0x00000010ULL
#define RT_MOUNT_ATTR_STRICTATIME 0x00000020ULL
#define RT_MOUNT_ATTR_NODIRATIME  0x00000080ULL
#define RT_MOUNT_ATTR_NOSYMFOLLOW 0x00200000ULL

#define RT_MAX_PROPAGATION 8

/* One mount's options split the way mount(2) wants them. */
struct rt_mount_opts {
    unsigned long flags;   /* MS_* for the mount (MS_BIND, MS_REC...) */
    unsigned long cleared; /* MS_* flags an option turned off explicitly ("suid", "rw"...) */
    unsigned long propagation[RT_MAX_PROPAGATION]; /* each needs its own mount(2) call */
    size_t n_propagation;
    uint64_t attr_set, attr_clr; /* recursive attributes, applied with mount_setattr */
    char *data;                  /* options the filesystem interprets, comma-joined; or NULL */
    char *ignored;               /* a bind's filesystem data (key=value), dropped; or NULL */
};

/* Parses options (NULL-terminated, may be NULL). ctx names the field in errors
 * ("mounts[3].options"). is_bind: the mount is a bind mount by type, so options the kernel
 * would silently ignore as data are errors instead. The "bind"/"rbind" options themselves make
 * a mount a bind mount; rt_mount_opts_is_bind() tells afterwards. */
int rt_mount_opts_parse(char *const *options, bool is_bind, const char *ctx,
                        struct rt_mount_opts *out, pr_error **err);
void rt_mount_opts_free(struct rt_mount_opts *o);
static inline bool rt_mount_opts_is_bind(const struct rt_mount_opts *o)
{
    return (o->flags & MS_BIND) != 0;
}
/* True when options contain "bind" or "rbind" (needed before parsing, to pick strictness). */
bool rt_options_have_bind(char *const *options);

/* "rslave" -> MS_REC|MS_SLAVE ...; returns false for an unknown name. */
bool rt_propagation_parse(const char *name, unsigned long *out);

/* Iterates the option names understood, for features: returns NULL after the last. */
const char *rt_mount_option_name(size_t i);

/* Mount-point fd for a destination in the root, creating it (a directory, or an empty file
 * when as_file) when missing. Returns an O_PATH fd. */
int rt_open_dest(int rootfd, const char *dest, bool as_file, char **resolved, pr_error **err);

/* mount(MS_BIND|MS_REMOUNT|flags) on target keeping the nosuid/nodev/noexec and atime mode
 * the mount has unless cleared names them, and when the kernel refuses (EPERM: flags locked by
 * a less privileged mount namespace), again with all of the mount's locked flags kept. */
int rt_remount_bind(const char *target, unsigned long flags, unsigned long cleared, pr_error **err);

/* Applies each propagation flag and the recursive attributes of opts to target. */
int rt_apply_propagation(const char *target, const struct rt_mount_opts *o, const char *what,
                         pr_error **err);

/* One line of /proc/self/mountinfo, paths unescaped. */
struct rt_mountinfo {
    uint64_t id;      /* the mount's id (statx's stx_mnt_id) */
    bool shared;      /* in a peer group (optional field shared:N) */
    char *root;       /* of the mount inside its filesystem */
    char *mountpoint; /* in this mount namespace */
    char *fstype;
    char *source;
    char *superopts;
};
/* Parses mountinfo text into a freshly allocated array (*n entries). */
int rt_mountinfo_parse(const char *text, struct rt_mountinfo **out, size_t *n, pr_error **err);
int rt_mountinfo_read(struct rt_mountinfo **out, size_t *n, pr_error **err);
void rt_mountinfo_free(struct rt_mountinfo *v, size_t n);
/* True when every comma-separated word of want is one of the comma-separated words of have. */
bool rt_optlist_contains_all(const char *have, const char *want);

/* The context rt_rootfs_prepare hands its helpers. */
struct rt_rootfs_ctx {
    int rootfd; /* O_PATH on the rootfs bind mount */
    const char *rootfs;
    bool in_userns;
    bool new_netns;
    bool new_cgroupns;
};

/* The cgroup/cgroup2 mount at destination. */
int rt_mount_cgroup(struct rt_rootfs_ctx *ctx, const char *dest, const struct rt_mount_opts *o,
                    pr_error **err);

/* linux.devices, the default devices, the /dev symlinks and /dev/ptmx. */
int rt_setup_devices(struct rt_rootfs_ctx *ctx, yajl_val config, pr_error **err);
int rt_validate_devices(yajl_val config, pr_error **err);

#endif
