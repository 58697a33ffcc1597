/* SPDX-License-Identifier: Apache-2.0 */
#include "cgroup-names.h"
#include "util.h"

#include <stdio.h>
#include <string.h>

static const char *const v1_known[] = {
    "cpu",      "cpuacct", "cpuset",     "memory",  "devices", "freezer", "net_cls",
    "net_prio", "blkio",   "perf_event", "hugetlb", "pids",    "rdma",    "misc",
};

bool cgroup_in_list(const char *list, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = list; p && *p;) {
        size_t len = strcspn(p, ", \n");
        if (len == n && strncmp(p, word, n) == 0)
            return true;
        p += len;
        p += strspn(p, ", \n");
    }
    return false;
}

char *cgroup_v1_controllers(const char *superopts)
{
    _cleanup_free_ char *out = xstrdup("");
    for (const char *p = superopts; *p;) {
        size_t len = strcspn(p, ",");
        bool keep = has_prefix(p, "name=") && len > 5;
        for (size_t i = 0; !keep && i < ARRAY_SIZE(v1_known); i++)
            keep = strlen(v1_known[i]) == len && strncmp(p, v1_known[i], len) == 0;
        if (keep) {
            char *n = xasprintf("%s%s%.*s", out, *out ? "," : "", (int)len, p);
            free(out);
            out = n;
        }
        p += len;
        p += *p == ',';
    }
    return *out ? steal_pointer(&out) : NULL;
}

bool cgroup_is_slice_name(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    return n > 6 && strcmp(name + n - 6, ".slice") == 0;
}

int cgroup_slice_path(const char *slice, char **out, pr_error **err)
{
    size_t n = strlen(slice);
    if (n > CGROUP_UNIT_NAME_MAX)
        return pr_err(err, 0, "slice name of %zu characters: at most %d are allowed", n,
                      CGROUP_UNIT_NAME_MAX);
    if (!cgroup_is_slice_name(slice) || strspn(slice, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                                      "abcdefghijklmnopqrstuvwxyz"
                                                      "0123456789:_.\\-") != n)
        return pr_err(err, 0, "`%s` is not a slice name", slice);
    if (streq(slice, "-.slice")) {
        *out = xstrdup("");
        return 0;
    }
    size_t base = n - 6;
    if (slice[0] == '-' || slice[base - 1] == '-' || strstr(slice, "--"))
        return pr_err(err, 0, "`%s` is not a valid slice name (misplaced '-')", slice);
    size_t cap = 1;
    for (size_t i = 0; i < base; i++)
        cap += (slice[i] == '-') ? (i + 8) : 0;
    char *o = xmalloc(cap + n + 8), *w = o;
    for (size_t i = 0; i < base; i++)
        if (slice[i] == '-')
            w += sprintf(w, "/%.*s.slice", (int)i, slice);
    sprintf(w, "/%s", slice);
    *out = o;
    return 0;
}
