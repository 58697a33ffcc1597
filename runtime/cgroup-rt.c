/* SPDX-License-Identifier: Apache-2.0 */
/* Real-time bandwidth along the path (v1 cpu, kernels with CONFIG_RT_GROUP_SCHED): a cgroup's
 * cpu.rt_runtime_us must fit in its parent's, and the kernel gives every new cgroup none. The
 * parents the runtime makes (/podrun) would then refuse linux.resources.cpu.realtimeRuntime
 * with EINVAL, and SCHED_FIFO/SCHED_RR with EPERM. Before the container's own value is
 * written, each ancestor below the hierarchy's root gets the budget its children hold plus
 * what the container asks for, as crun does along the path. */
#include "cgroup-internal.h"
#include "fs.h"
#include "log.h"
#include "util.h"

#include <dirent.h>
#include <limits.h>

/* The kernel's fixed-point bandwidth ratio (BW_SHIFT). */
#define RT_BW_SHIFT 20

static int read_i64(const char *dir, const char *file, int64_t *out)
{
    _cleanup_free_ char *s = NULL;
    int r = cg_read(dir, file, &s);
    if (r < 0)
        return r;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s)
        return -EINVAL;
    *out = v;
    return 0;
}

static uint64_t ratio(int64_t runtime, int64_t period)
{
    if (runtime <= 0 || period <= 0)
        return 0;
    return ((uint64_t)runtime << RT_BW_SHIFT) / (uint64_t)period;
}

/* Sum of the real-time ratios of dir's child cgroups, but skip. */
static uint64_t children_ratio(const char *dir, const char *skip)
{
    _cleanup_dir_ DIR *d = opendir(dir);
    uint64_t sum = 0;
    for (struct dirent *de; d && (de = readdir(d));) {
        if (de->d_type != DT_DIR || de->d_name[0] == '.' || streq(de->d_name, skip))
            continue;
        _cleanup_free_ char *child = xasprintf("%s/%s", dir, de->d_name);
        int64_t rt = 0, period = 0;
        if (read_i64(child, "cpu.rt_runtime_us", &rt) == 0 &&
            read_i64(child, "cpu.rt_period_us", &period) == 0)
            sum += ratio(rt, period);
    }
    return sum;
}

/* Top-down: each of dirs (deepest first) to at least need. */
static int raise_path(char **dirs, const int64_t *need, size_t n, pr_error **err)
{
    for (size_t i = n; i-- > 0;) {
        int64_t have = 0;
        if (read_i64(dirs[i], "cpu.rt_runtime_us", &have) < 0 || have < 0 || have >= need[i])
            continue;
        pr_debug("cgroup: `%s`: real-time budget %lld -> %lld us", dirs[i], (long long)have,
                 (long long)need[i]);
        int r = cg_writef(dirs[i], "cpu.rt_runtime_us", err, "%lld", (long long)need[i]);
        if (r < 0)
            return pr_err_prefix(err, "linux.resources.cpu.realtimeRuntime: give the parent "
                                      "cgroup the real-time budget its children need");
    }
    return 0;
}

/* What parent can give dir: its budget less its other children's, in dir's period. */
static int64_t spare(const char *parent, const char *dir)
{
    int64_t prt = 0, pp = 0, dp = 0;
    if (read_i64(parent, "cpu.rt_runtime_us", &prt) < 0 ||
        read_i64(parent, "cpu.rt_period_us", &pp) < 0 ||
        read_i64(dir, "cpu.rt_period_us", &dp) < 0 || dp <= 0)
        return 0;
    uint64_t have = ratio(prt, pp), others = children_ratio(parent, strrchr(dir, '/') + 1);
    return have > others ? (int64_t)(((have - others) * (uint64_t)dp) >> RT_BW_SHIFT) : 0;
}

/* The container's own values, written now to see whether they fit. */
static int try_leaf(const char *leaf, int64_t runtime, int64_t period)
{
    char buf[32];
    snprintf(buf, sizeof(buf), "%lld", (long long)period);
    int r = cg_try_write(leaf, "cpu.rt_period_us", buf);
    if (r < 0)
        return r;
    snprintf(buf, sizeof(buf), "%lld", (long long)runtime);
    return cg_try_write(leaf, "cpu.rt_runtime_us", buf);
}

/* Raises the ancestors of leaf, below mnt, so that leaf may hold runtime per period. */
static int budget_along(const char *mnt, const char *leaf, int64_t runtime, int64_t period,
                        pr_error **err)
{
    if (!cg_file_exists(leaf, "cpu.rt_runtime_us"))
        return 0; /* no CONFIG_RT_GROUP_SCHED: the container's own write says so */
    if (period <= 0 && read_i64(leaf, "cpu.rt_period_us", &period) < 0)
        return 0;
    /* Bottom-up: what each ancestor needs; then written top-down. */
    size_t ml = strlen(mnt), n = 0;
    char *dirs[64];
    int64_t need[64];
    uint64_t below = ratio(runtime, period);
    _cleanup_free_ char *cur = xstrdup(leaf);
    for (char *slash; (slash = strrchr(cur, '/')) && (size_t)(slash - cur) > ml;) {
        const char *child = slash + 1;
        _cleanup_free_ char *parent = xasprintf("%.*s", (int)(slash - cur), cur);
        if (n == ARRAY_SIZE(dirs))
            break;
        int64_t pp = 0;
        if (read_i64(parent, "cpu.rt_period_us", &pp) < 0 || pp <= 0)
            break;
        uint64_t sum = below + children_ratio(parent, child);
        /* Rounded up: a budget short by a microsecond would still be refused. */
        need[n] = (int64_t)((sum * (uint64_t)pp + (1u << RT_BW_SHIFT) - 1) >> RT_BW_SHIFT);
        dirs[n++] = xstrdup(parent);
        below = ratio(need[n - 1], pp);
        *slash = '\0';
    }
    int r = raise_path(dirs, need, n, err);
    /* Removed siblings may hold their budget a while longer (the kernel frees a cgroup
     * after rmdir returns): if the container's own value still does not fit, the path gets
     * all its parents can spare. */
    if (r == 0 && try_leaf(leaf, runtime, period) == -EINVAL) {
        for (size_t i = n; i-- > 0;)
            need[i] = spare(i + 1 < n ? dirs[i + 1] : mnt, dirs[i]);
        r = raise_path(dirs, need, n, err);
    }
    for (size_t i = 0; i < n; i++)
        free(dirs[i]);
    return r;
}

int cg_rt_budget_parents(struct rt_cgroup *cg, const struct cg_host *h,
                         const struct cg_resources *res, pr_error **err)
{
    if (!res->has_cpu || !res->cpu.has_rt_runtime || res->cpu.rt_runtime <= 0)
        return 0;
    int64_t period =
        res->cpu.has_rt_period && res->cpu.rt_period <= INT64_MAX ? (int64_t)res->cpu.rt_period : 0;
    for (size_t i = 0; i < cg->n_v1 && i < h->n_v1; i++) {
        if (!cgroup_in_list(cg->v1[i].controllers, "cpu"))
            continue;
        return budget_along(h->v1[i].mnt, cg->v1[i].dir, res->cpu.rt_runtime, period, err);
    }
    return 0;
}
