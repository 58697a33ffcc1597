/* SPDX-License-Identifier: Apache-2.0 */
/* `events --stats`: runc's "data" object (types/events.go) filled from v1 or v2 files. A
 * missing file leaves its fields out (or zero, where runc always prints them). */
#include "cgroup-internal.h"
#include "json.h"
#include "util.h"

#include <dirent.h>
#include <inttypes.h>
#include <unistd.h>

static uint64_t read_or_zero(const char *dir, const char *file)
{
    uint64_t v = 0;
    if (cg_read_u64(dir, file, &v) < 0)
        return 0;
    return v;
}

static uint64_t keyed_or_zero(const char *dir, const char *file, const char *key)
{
    uint64_t v = 0;
    if (cg_read_keyed(dir, file, key, &v) < 0)
        return 0;
    return v;
}

/* omitempty: runc leaves zero values out. */
static void key_u64_nz(yajl_gen g, const char *k, uint64_t v)
{
    if (v)
        jg_key_uint(g, k, v);
}

/* ---- cpu ------------------------------------------------------------------------------------ */

static void u64_list(yajl_gen g, const char *key, const char *text)
{
    if (!text || !*text)
        return;
    jg_key(g, key);
    jg_array_open(g);
    for (const char *p = text; *p;) {
        char *end;
        unsigned long long v = strtoull(p, &end, 10);
        if (end == p)
            break;
        yajl_gen_integer(g, (long long)v);
        p = end + strspn(end, " \n");
    }
    jg_array_close(g);
}

static void cpu_stats(struct rt_cgroup *cg, yajl_gen g)
{
    const char *dir, *acct;
    enum cg_version v = cg_controller_dir(cg, "cpu", &dir);
    enum cg_version va = cg_controller_dir(cg, "cpuacct", &acct);
    jg_key(g, "cpu");
    jg_map_open(g);
    jg_key(g, "usage");
    jg_map_open(g);
    if (va == CG_V1) {
        _cleanup_free_ char *percpu = NULL;
        /* cpuacct.stat counts USER_HZ ticks. */
        uint64_t ns_per_tick = 1000000000ULL / (uint64_t)sysconf(_SC_CLK_TCK);
        key_u64_nz(g, "total", read_or_zero(acct, "cpuacct.usage"));
        _cleanup_free_ char *pk = NULL, *pu = NULL;
        if (cg_read(acct, "cpuacct.usage_percpu", &percpu) == 0)
            u64_list(g, "percpu", percpu);
        if (cg_read(acct, "cpuacct.usage_percpu_sys", &pk) == 0)
            u64_list(g, "percpu_kernel", pk);
        if (cg_read(acct, "cpuacct.usage_percpu_user", &pu) == 0)
            u64_list(g, "percpu_user", pu);
        jg_key_uint(g, "kernel", keyed_or_zero(acct, "cpuacct.stat", "system") * ns_per_tick);
        jg_key_uint(g, "user", keyed_or_zero(acct, "cpuacct.stat", "user") * ns_per_tick);
    } else if (cg->v2_dir) {
        /* cpu.stat's usage lines exist even without the cpu controller. */
        key_u64_nz(g, "total", keyed_or_zero(cg->v2_dir, "cpu.stat", "usage_usec") * 1000);
        jg_key_uint(g, "kernel", keyed_or_zero(cg->v2_dir, "cpu.stat", "system_usec") * 1000);
        jg_key_uint(g, "user", keyed_or_zero(cg->v2_dir, "cpu.stat", "user_usec") * 1000);
    } else {
        jg_key_uint(g, "kernel", 0);
        jg_key_uint(g, "user", 0);
    }
    jg_map_close(g);
    jg_key(g, "throttling");
    jg_map_open(g);
    if (v != CG_NONE) {
        key_u64_nz(g, "periods", keyed_or_zero(dir, "cpu.stat", "nr_periods"));
        key_u64_nz(g, "throttledPeriods", keyed_or_zero(dir, "cpu.stat", "nr_throttled"));
        key_u64_nz(g, "throttledTime",
                   v == CG_V1 ? keyed_or_zero(dir, "cpu.stat", "throttled_time")
                              : keyed_or_zero(dir, "cpu.stat", "throttled_usec") * 1000);
    }
    jg_map_close(g);
    jg_map_close(g);
}

/* ---- memory --------------------------------------------------------------------------------- */

static void memory_entry(yajl_gen g, const char *key, uint64_t limit, uint64_t usage, uint64_t max,
                         uint64_t failcnt)
{
    jg_key(g, key);
    jg_map_open(g);
    jg_key_uint(g, "limit", limit);
    key_u64_nz(g, "usage", usage);
    key_u64_nz(g, "max", max);
    jg_key_uint(g, "failcnt", failcnt);
    jg_map_close(g);
}

/* Every "name number" line of memory.stat. */
static void memory_raw(yajl_gen g, const char *dir, uint64_t *cache, const char *cache_key)
{
    _cleanup_free_ char *s = NULL;
    if (cg_read(dir, "memory.stat", &s) < 0)
        return;
    jg_key(g, "raw");
    jg_map_open(g);
    for (char *line = s; line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        char *sp = strchr(line, ' ');
        if (sp) {
            *sp = '\0';
            unsigned long long v = strtoull(sp + 1, NULL, 10);
            jg_key_uint(g, line, v);
            if (streq(line, cache_key))
                *cache = v;
        }
        line = nl ? nl + 1 : NULL;
    }
    jg_map_close(g);
}

static void memory_stats(struct rt_cgroup *cg, yajl_gen g)
{
    const char *dir;
    enum cg_version v = cg_controller_dir(cg, "memory", &dir);
    uint64_t cache = 0;
    jg_key(g, "memory");
    jg_map_open(g);
    if (v == CG_V1) {
        memory_entry(g, "usage", read_or_zero(dir, "memory.limit_in_bytes"),
                     read_or_zero(dir, "memory.usage_in_bytes"),
                     read_or_zero(dir, "memory.max_usage_in_bytes"),
                     read_or_zero(dir, "memory.failcnt"));
        memory_entry(g, "swap", read_or_zero(dir, "memory.memsw.limit_in_bytes"),
                     read_or_zero(dir, "memory.memsw.usage_in_bytes"),
                     read_or_zero(dir, "memory.memsw.max_usage_in_bytes"),
                     read_or_zero(dir, "memory.memsw.failcnt"));
        memory_entry(g, "kernel", read_or_zero(dir, "memory.kmem.limit_in_bytes"),
                     read_or_zero(dir, "memory.kmem.usage_in_bytes"),
                     read_or_zero(dir, "memory.kmem.max_usage_in_bytes"),
                     read_or_zero(dir, "memory.kmem.failcnt"));
        memory_entry(g, "kernelTCP", read_or_zero(dir, "memory.kmem.tcp.limit_in_bytes"),
                     read_or_zero(dir, "memory.kmem.tcp.usage_in_bytes"),
                     read_or_zero(dir, "memory.kmem.tcp.max_usage_in_bytes"),
                     read_or_zero(dir, "memory.kmem.tcp.failcnt"));
        memory_raw(g, dir, &cache, "total_cache");
    } else if (v == CG_V2) {
        uint64_t usage = read_or_zero(dir, "memory.current");
        uint64_t limit = read_or_zero(dir, "memory.max");
        uint64_t swap = read_or_zero(dir, "memory.swap.current");
        uint64_t swap_max = read_or_zero(dir, "memory.swap.max");
        memory_entry(g, "usage", limit, usage, read_or_zero(dir, "memory.peak"),
                     keyed_or_zero(dir, "memory.events", "max"));
        /* runc reports v2 swap as memory+swap, the way v1's memsw reads. */
        memory_entry(g, "swap",
                     limit == UINT64_MAX || swap_max == UINT64_MAX ? UINT64_MAX : limit + swap_max,
                     usage + swap, 0, keyed_or_zero(dir, "memory.swap.events", "max"));
        memory_entry(g, "kernel", 0, 0, 0, 0);
        memory_entry(g, "kernelTCP", 0, 0, 0, 0);
        memory_raw(g, dir, &cache, "file");
    }
    key_u64_nz(g, "cache", cache);
    jg_map_close(g);
}

/* ---- pids, blkio, hugetlb ------------------------------------------------------------------- */

static void pids_stats(struct rt_cgroup *cg, yajl_gen g)
{
    const char *dir;
    jg_key(g, "pids");
    jg_map_open(g);
    if (cg_controller_dir(cg, "pids", &dir) != CG_NONE) {
        uint64_t max = read_or_zero(dir, "pids.max");
        key_u64_nz(g, "current", read_or_zero(dir, "pids.current"));
        key_u64_nz(g, "limit", max == UINT64_MAX ? 0 : max);
    }
    jg_map_close(g);
}

static void blkio_entry(yajl_gen g, unsigned long long major, unsigned long long minor,
                        const char *op, unsigned long long value)
{
    jg_map_open(g);
    key_u64_nz(g, "major", major);
    key_u64_nz(g, "minor", minor);
    jg_key_str(g, "op", op);
    key_u64_nz(g, "value", value);
    jg_map_close(g);
}

/* omitempty for lists: the key appears with the first entry. */
static void open_list_once(yajl_gen g, const char *key, bool *opened)
{
    if (*opened)
        return;
    jg_key(g, key);
    jg_array_open(g);
    *opened = true;
}

/* v1: "8:0 Read 4096" lines (and a "Total N" line). */
static void blkio_v1_list(yajl_gen g, const char *key, const char *dir, const char *file)
{
    _cleanup_free_ char *s = NULL;
    bool opened = false;
    if (cg_read(dir, file, &s) < 0)
        return;
    for (char *line = s; line && *line;) {
        char *nl = strchr(line, '\n');
        unsigned long long ma, mi, v;
        char op[32];
        if (sscanf(line, "%llu:%llu %31s %llu", &ma, &mi, op, &v) == 4) {
            open_list_once(g, key, &opened);
            blkio_entry(g, ma, mi, op, v);
        }
        line = nl ? nl + 1 : NULL;
    }
    if (opened)
        jg_array_close(g);
}

/* v2: "8:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=.. dios=.." per device. */
static void blkio_v2_list(yajl_gen g, const char *key, const char *dir, const char *rkey,
                          const char *wkey)
{
    _cleanup_free_ char *s = NULL;
    bool opened = false;
    if (cg_read(dir, "io.stat", &s) < 0)
        return;
    for (char *line = s; line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        unsigned long long ma, mi;
        if (sscanf(line, "%llu:%llu", &ma, &mi) == 2) {
            const char *ops[2][2] = {{rkey, "Read"}, {wkey, "Write"}};
            for (int i = 0; i < 2; i++) {
                _cleanup_free_ char *pat = xasprintf(" %s=", ops[i][0]);
                char *p = strstr(line, pat);
                if (!p)
                    continue;
                open_list_once(g, key, &opened);
                blkio_entry(g, ma, mi, ops[i][1], strtoull(p + strlen(pat), NULL, 10));
            }
        }
        line = nl ? nl + 1 : NULL;
    }
    if (opened)
        jg_array_close(g);
}

static void blkio_stats(struct rt_cgroup *cg, yajl_gen g)
{
    const char *dir;
    jg_key(g, "blkio");
    jg_map_open(g);
    enum cg_version v = cg_controller_dir(cg, "blkio", &dir);
    if (v == CG_NONE)
        v = cg_controller_dir(cg, "io", &dir);
    if (v == CG_V1) {
        const char *bytes = cg_file_exists(dir, "blkio.io_service_bytes_recursive")
                                ? "blkio.io_service_bytes_recursive"
                                : "blkio.throttle.io_service_bytes_recursive";
        const char *ios = cg_file_exists(dir, "blkio.io_serviced_recursive")
                              ? "blkio.io_serviced_recursive"
                              : "blkio.throttle.io_serviced_recursive";
        blkio_v1_list(g, "ioServiceBytesRecursive", dir, bytes);
        blkio_v1_list(g, "ioServicedRecursive", dir, ios);
    } else if (v == CG_V2) {
        blkio_v2_list(g, "ioServiceBytesRecursive", dir, "rbytes", "wbytes");
        blkio_v2_list(g, "ioServicedRecursive", dir, "rios", "wios");
    }
    jg_map_close(g);
}

static void hugetlb_stats(struct rt_cgroup *cg, yajl_gen g)
{
    const char *dir;
    enum cg_version v = cg_controller_dir(cg, "hugetlb", &dir);
    jg_key(g, "hugetlb");
    jg_map_open(g);
    _cleanup_dir_ DIR *d = v != CG_NONE ? opendir("/sys/kernel/mm/hugepages") : NULL;
    for (struct dirent *e; d && (e = readdir(d));) {
        unsigned long long kb;
        if (sscanf(e->d_name, "hugepages-%llukB", &kb) != 1)
            continue;
        char size[32];
        if (kb >= 1024 * 1024 && kb % (1024 * 1024) == 0)
            snprintf(size, sizeof(size), "%lluGB", kb / (1024 * 1024));
        else if (kb >= 1024 && kb % 1024 == 0)
            snprintf(size, sizeof(size), "%lluMB", kb / 1024);
        else
            snprintf(size, sizeof(size), "%lluKB", kb);
        _cleanup_free_ char *usage =
            xasprintf("hugetlb.%s.%s", size, v == CG_V1 ? "usage_in_bytes" : "current");
        _cleanup_free_ char *max = xasprintf("hugetlb.%s.max_usage_in_bytes", size);
        _cleanup_free_ char *fail =
            xasprintf("hugetlb.%s.%s", size, v == CG_V1 ? "failcnt" : "events");
        jg_key(g, size);
        jg_map_open(g);
        key_u64_nz(g, "usage", read_or_zero(dir, usage));
        if (v == CG_V1) /* the peak; v2 keeps none */
            key_u64_nz(g, "max", read_or_zero(dir, max));
        jg_key_uint(g, "failcnt",
                    v == CG_V1 ? read_or_zero(dir, fail) : keyed_or_zero(dir, fail, "max"));
        jg_map_close(g);
    }
    jg_map_close(g);
}

/* "0-2,5" -> [0,1,2,5] */
static void cpu_list(yajl_gen g, const char *key, const char *text)
{
    if (!text || !*text || *text == '\n')
        return;
    jg_key(g, key);
    jg_array_open(g);
    for (const char *p = text; *p >= '0' && *p <= '9';) {
        char *end;
        unsigned long a = strtoul(p, &end, 10), b = a;
        if (*end == '-')
            b = strtoul(end + 1, &end, 10);
        for (unsigned long i = a; i <= b && i - a < 65536; i++)
            yajl_gen_integer(g, (long long)i);
        p = end + (*end == ',');
    }
    jg_array_close(g);
}

static void cpuset_stats(struct rt_cgroup *cg, yajl_gen g)
{
    static const char *const flags[][2] = {{"cpu_exclusive", "cpuset.cpu_exclusive"},
                                           {"mem_hardwall", "cpuset.mem_hardwall"},
                                           {"mem_exclusive", "cpuset.mem_exclusive"},
                                           {"memory_migrate", "cpuset.memory_migrate"},
                                           {"memory_spread_page", "cpuset.memory_spread_page"},
                                           {"memory_spread_slab", "cpuset.memory_spread_slab"},
                                           {"memory_pressure", "cpuset.memory_pressure"},
                                           {"sched_load_balance", "cpuset.sched_load_balance"}};
    const char *dir;
    enum cg_version v = cg_controller_dir(cg, "cpuset", &dir);
    _cleanup_free_ char *cpus = NULL, *mems = NULL, *relax = NULL;
    jg_key(g, "cpuset");
    jg_map_open(g);
    if (v != CG_NONE) {
        (void)cg_read(dir, v == CG_V1 ? "cpuset.cpus" : "cpuset.cpus.effective", &cpus);
        (void)cg_read(dir, v == CG_V1 ? "cpuset.mems" : "cpuset.mems.effective", &mems);
        cpu_list(g, "cpus", cpus);
        cpu_list(g, "mems", mems);
    }
    for (size_t i = 0; i < ARRAY_SIZE(flags); i++)
        jg_key_uint(g, flags[i][0], v == CG_V1 ? read_or_zero(dir, flags[i][1]) : 0);
    long long level = -1;
    if (v == CG_V1 && cg_read(dir, "cpuset.sched_relax_domain_level", &relax) == 0)
        level = strtoll(relax, NULL, 10);
    jg_key_int(g, "sched_relax_domain_level", v == CG_V1 ? level : 0);
    jg_map_close(g);
}

int cg_write_stats(struct rt_cgroup *cg, yajl_gen g, pr_error **err)
{
    (void)err;
    jg_map_open(g);
    cpu_stats(cg, g);
    cpuset_stats(cg, g);
    memory_stats(cg, g);
    pids_stats(cg, g);
    blkio_stats(cg, g);
    hugetlb_stats(cg, g);
    jg_key(g, "intel_rdt");
    jg_map_open(g);
    jg_map_close(g);
    jg_key(g, "network_interfaces");
    yajl_gen_null(g);
    jg_map_close(g);
    return 0;
}
