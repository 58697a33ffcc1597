/* SPDX-License-Identifier: Apache-2.0 */
/* A volume's mountPropagation (Kubernetes' HostToContainer and Bidirectional, the CRI's
 * PROPAGATION_HOST_TO_CONTAINER and PROPAGATION_BIDIRECTIONAL), as the kubelet and containerd
 * do it: the bind is rslave or rshared, the container's root gets the same propagation so
 * that the bind can receive (or send) mounts at all, and the source must already sit on a
 * mount that propagates: a shared or slave one for HostToContainer, a shared one for
 * Bidirectional. None is rprivate, as containerd makes it, so that a default bind receives
 * nothing even when the root is a slave. podrun does not remount the host's mounts shared to make
 * it so (that changes the host for everyone); it says which mount is not. */
#include "manager.h"
#include "fs.h"
#include "util.h"

#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#define MOUNTINFO_MAX (16u << 20)

/* The optional fields of the mount with this id in our mountinfo: shared:N, master:N. */
static int peer_state(uint64_t mnt_id, bool *shared, bool *slave, char **mount_point,
                      pr_error **err)
{
    _cleanup_free_ char *text = NULL;
    size_t len;
    int r = read_file_max("/proc/self/mountinfo", MOUNTINFO_MAX, 0, &text, &len, err);
    if (r < 0)
        return r;
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *end;
        unsigned long long id = strtoull(line, &end, 10);
        if (end == line || id != mnt_id)
            continue;
        /* id parent major:minor root mount-point options [optional...] - type source super */
        char *f[5] = {0}, *fs = NULL;
        f[0] = strtok_r(line, " ", &fs);
        for (int i = 1; i < 5 && f[i - 1]; i++)
            f[i] = strtok_r(NULL, " ", &fs);
        if (!f[4])
            break;
        *mount_point = xstrdup(f[4]);
        *shared = *slave = false;
        for (char *o = strtok_r(NULL, " ", &fs); o && !streq(o, "-");
             o = strtok_r(NULL, " ", &fs)) {
            *shared |= has_prefix(o, "shared:");
            *slave |= has_prefix(o, "master:");
        }
        return 0;
    }
    return pr_err(err, ENOENT, "mount %llu is not in /proc/self/mountinfo",
                  (unsigned long long)mnt_id);
}

int pods_propagation_check(const char *source, enum pods_propagation prop, pr_error **err)
{
    if (prop == PODS_PROP_PRIVATE)
        return 0;
    const char *name = prop == PODS_PROP_BIDIRECTIONAL ? "Bidirectional" : "HostToContainer";
    struct statx stx;
    if (statx(AT_FDCWD, source, 0, STATX_MNT_ID, &stx) < 0)
        return pr_err(err, errno, "mountPropagation %s: `%s`", name, source);
    if (!(stx.stx_mask & STATX_MNT_ID))
        return pr_err(err, EOPNOTSUPP,
                      "mountPropagation %s: the kernel does not name the mount of `%s`", name,
                      source);
    bool shared = false, slave = false;
    _cleanup_free_ char *mp = NULL;
    int r = peer_state(stx.stx_mnt_id, &shared, &slave, &mp, err);
    if (r < 0)
        return pr_err_prefix(err, "mountPropagation %s: `%s`", name, source);
    if (prop == PODS_PROP_BIDIRECTIONAL && !shared)
        return pr_err_code(
            err, EINVAL,
            "mountPropagation Bidirectional: `%s` is on the mount `%s`, which is not "
            "shared (mount --make-rshared it)",
            source, mp);
    if (!shared && !slave)
        return pr_err_code(err, EINVAL,
                           "mountPropagation HostToContainer: `%s` is on the mount `%s`, which is "
                           "neither shared nor slave (mount --make-rshared it)",
                           source, mp);
    return 0;
}

char *const *pods_bind_options(bool read_only, enum pods_propagation prop)
{
    static char *const opts[2][3][4] = {
        {{"rbind", "rw", "rprivate", NULL},
         {"rbind", "rw", "rslave", NULL},
         {"rbind", "rw", "rshared", NULL}},
        {{"rbind", "ro", "rprivate", NULL},
         {"rbind", "ro", "rslave", NULL},
         {"rbind", "ro", "rshared", NULL}},
    };
    return opts[read_only][prop];
}

const char *pods_rootfs_propagation(enum pods_propagation widest)
{
    return widest == PODS_PROP_BIDIRECTIONAL       ? "rshared"
           : widest == PODS_PROP_HOST_TO_CONTAINER ? "rslave"
                                                   : NULL;
}

enum pods_propagation pods_propagation_of(const char *name)
{
    return !name                            ? PODS_PROP_PRIVATE
           : streq(name, "HostToContainer") ? PODS_PROP_HOST_TO_CONTAINER
           : streq(name, "Bidirectional")   ? PODS_PROP_BIDIRECTIONAL
                                            : PODS_PROP_PRIVATE;
}
