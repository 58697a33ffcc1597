/* SPDX-License-Identifier: Apache-2.0 */
/* Maps of raw kernel settings the kubelet passes through, checked here only for shape and size
 * so that nothing but a cgroup file or sysctl name reaches a path; the runtime writes them or
 * names the one it could not write (and refuses a sysctl its namespaces do not scope).
 *   - linux.resources.unified: on cgroup v2 the kubelet asks for raw v2 files (since 1.32,
 *     memory.oom.group=1 for every container unless singleProcessOOMKill).
 *   - hugepage limits: one per page size the node has, 0 where the pod asked for none.
 *   - cpusets: the static CPU and memory managers' lists.
 *   - a sandbox's sysctls (the pod's securityContext.sysctls, already allowed by the kubelet's
 *     safe list and --allowed-unsafe-sysctls). */

#include "methods.h"
#include "agent/pods/pods.h"
#include "util.h"

#include <string.h>

static bool sysctl_key_ok(const char *k)
{
    size_t n = strlen(k);
    if (n == 0 || n > CRI_SYSCTL_KEY_MAX || k[0] == '.' || k[n - 1] == '.' || strstr(k, ".."))
        return false;
    return strspn(k, "abcdefghijklmnopqrstuvwxyz0123456789_.-") == n;
}

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

int cri_check_sysctls(void *const *entries, size_t n, struct cri_reply *out)
{
    if (n > CRI_SYSCTLS_MAX) {
        cri_reply_error(out, GRPC_INVALID_ARGUMENT,
                        "RunPodSandbox: %zu sysctls, more than the %d podrun takes", n,
                        CRI_SYSCTLS_MAX);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        const struct cri_map_entry *e = entries[i];
        const char *k = e->key ? e->key : "", *v = e->value ? e->value : "";
        if (!sysctl_key_ok(k)) {
            cri_reply_error(out, GRPC_INVALID_ARGUMENT,
                            "RunPodSandbox: sysctl \"%.64s\" is not a sysctl name in dotted form",
                            k);
            return -1;
        }
        if (!unified_value_ok(v)) {
            cri_reply_error(out, GRPC_INVALID_ARGUMENT,
                            "RunPodSandbox: sysctl %s: the value is longer than %d bytes or holds "
                            "control characters",
                            k, CRI_UNIFIED_VALUE_MAX);
            return -1;
        }
    }
    return 0;
}

static bool page_size_ok(const char *s)
{
    size_t digits = strspn(s, "0123456789");
    return digits > 0 && digits <= 6 && s[0] != '0' &&
           (streq(s + digits, "KB") || streq(s + digits, "MB") || streq(s + digits, "GB"));
}

int cri_check_hugepages(Runtime__V1__HugepageLimit *const *v, size_t n, const char *call,
                        struct cri_reply *out)
{
    if (n > CRI_HUGEPAGES_MAX) {
        cri_reply_error(out, GRPC_INVALID_ARGUMENT,
                        "%s: %zu hugepage limits, more than the %d podrun takes", call, n,
                        CRI_HUGEPAGES_MAX);
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        if (!v[i]->page_size || !page_size_ok(v[i]->page_size)) {
            cri_reply_error(out, GRPC_INVALID_ARGUMENT,
                            "%s: hugepage limit %zu: page size \"%.16s\" is not like \"2MB\" or "
                            "\"1GB\"",
                            call, i, v[i]->page_size ? v[i]->page_size : "");
            return -1;
        }
    return 0;
}

struct pods_hugepage_limit *cri_hugepages(Runtime__V1__HugepageLimit *const *v, size_t n)
{
    struct pods_hugepage_limit *h = xcalloc(n + 1, sizeof(*h));
    for (size_t i = 0; i < n; i++)
        h[i] = (struct pods_hugepage_limit){v[i]->page_size, v[i]->limit};
    return h;
}

static bool cpu_list_ok(const char *s)
{
    size_t n = strlen(s);
    return n <= CRI_CPUSET_MAX && strspn(s, "0123456789,-") == n;
}

int cri_check_cpuset(const char *cpus, const char *mems, const char *call, struct cri_reply *out)
{
    const char *bad = cpus && !cpu_list_ok(cpus)   ? "cpuset_cpus"
                      : mems && !cpu_list_ok(mems) ? "cpuset_mems"
                                                   : NULL;
    if (!bad)
        return 0;
    cri_reply_error(out, GRPC_INVALID_ARGUMENT,
                    "%s: %s \"%.32s\" is not a CPU/node list like \"0-2,4\" of at most %d bytes",
                    call, bad, streq(bad, "cpuset_cpus") ? cpus : mems, CRI_CPUSET_MAX);
    return -1;
}
