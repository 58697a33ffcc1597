/* SPDX-License-Identifier: Apache-2.0 */
/* linux.resources.unified from the kubelet: on cgroup v2 it asks for raw v2 files (since 1.32,
 * memory.oom.group=1 for every container unless singleProcessOOMKill). They go to the runtime
 * as they are, which writes them or names the file it could not write; here only their shape
 * and size are checked, so that nothing but a cgroup file name reaches a path. */

#include "methods.h"
#include "util.h"

#include <string.h>

static bool unified_key_ok(const char *k)
{
    size_t n = strlen(k);
    if (n == 0 || n > CRI_UNIFIED_KEY_MAX || k[0] == '.' || !strchr(k, '.'))
        return false;
    return strspn(k, "abcdefghijklmnopqrstuvwxyz0123456789_.") == n;
}

static bool unified_value_ok(const char *v)
{
    size_t n = strlen(v);
    if (n > CRI_UNIFIED_VALUE_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
            return false;
    return true;
}

int cri_check_unified(void *const *entries, size_t n, const char *call, struct cri_reply *out)
{
    if (n > CRI_UNIFIED_MAX) {
        cri_reply_error(out, GRPC_INVALID_ARGUMENT,
                        "%s: %zu unified resources, more than the %d podrun takes", call, n,
                        CRI_UNIFIED_MAX);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        const struct cri_map_entry *e = entries[i];
        const char *k = e->key ? e->key : "", *v = e->value ? e->value : "";
        if (!unified_key_ok(k)) {
            cri_reply_error(out, GRPC_INVALID_ARGUMENT,
                            "%s: unified resource \"%.64s\" is not a cgroup v2 file name", call, k);
            return -1;
        }
        if (!unified_value_ok(v)) {
            cri_reply_error(out, GRPC_INVALID_ARGUMENT,
                            "%s: unified resource %s: the value is longer than %d bytes or "
                            "holds control characters",
                            call, k, CRI_UNIFIED_VALUE_MAX);
            return -1;
        }
    }
    return 0;
}
