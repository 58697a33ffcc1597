/* SPDX-License-Identifier: Apache-2.0 */
/* Writes linux.resources into the container's cgroup files. Each controller goes where the
 * host keeps it: a v1 hierarchy when one has it, else the cgroup2 directory (hybrid hosts mix
 * both), and v1-style values are converted for v2 the way runc and crun do. */
#include "cgroup-internal.h"
#include "log.h"
#include "util.h"

#include <inttypes.h>

/* "-1" on v1, "max" on v2, else the number. */
static const char *limit_str(enum cg_version v, int64_t val, char buf[32])
{
    if (val < 0)
        return v == CG_V2 ? "max" : "-1";
    snprintf(buf, 32, "%" PRId64, val);
    return buf;
}

static int need(enum cg_version v, const char *ctrl, const char *field, pr_error **err)
{
    if (v == CG_NONE)
        return pr_err(err, 0,
                      "linux.resources.%s: the %s controller is not available for this "
                      "container's cgroup on this host (on cgroup v2 the parent cgroup must "
                      "enable it in cgroup.subtree_control, which a parent holding processes "
                      "cannot)",
                      field, ctrl);
    return 0;
}

/* ---- memory --------------------------------------------------------------------------------- */

static int check_usage_below(const char *dir, enum cg_version v, int64_t limit, pr_error **err)
{
    uint64_t usage;
    if (limit < 0 ||
        cg_read_u64(dir, v == CG_V2 ? "memory.current" : "memory.usage_in_bytes", &usage) < 0)
        return 0;
    if ((uint64_t)limit < usage)
        return pr_err(err, 0,
                      "linux.resources.memory.limit: %" PRId64 " is below the current "
                      "usage %" PRIu64 " (checkBeforeUpdate)",
                      limit, usage);
    return 0;
}

static int memory_v1_limits(const char *dir, const struct cg_memory *m, pr_error **err)
{
    char b1[32], b2[32];
    bool memsw = cg_file_exists(dir, "memory.memsw.limit_in_bytes");
    if (m->has_swap && !memsw)
        pr_warning("linux.resources.memory.swap ignored: swap accounting is off in this kernel");
    if ((!m->has_swap || !memsw) && !m->has_limit)
        return 0;
    if (!m->has_swap || !memsw) {
        const char *lim = limit_str(CG_V1, m->limit, b1);
        if (!memsw || cg_try_write(dir, "memory.limit_in_bytes", lim) == 0)
            return cg_write(dir, "memory.limit_in_bytes", lim, err);
        /* A raise past the current memory+swap limit (`update --memory` alone): lift that
         * to the new limit first, as the kernel wants limit <= memsw. */
        uint64_t cur_memsw;
        if (cg_read_u64(dir, "memory.memsw.limit_in_bytes", &cur_memsw) == 0 &&
            (m->limit < 0 || cur_memsw < (uint64_t)m->limit)) {
            int r = cg_write(dir, "memory.memsw.limit_in_bytes", lim, err);
            if (r < 0)
                return r;
        }
        return cg_write(dir, "memory.limit_in_bytes", lim, err);
    }
    const char *lim = m->has_limit ? limit_str(CG_V1, m->limit, b1) : NULL;
    const char *sw = limit_str(CG_V1, m->swap, b2);
    /* The kernel keeps limit <= memsw at every step: raising both needs memsw first,
     * lowering both needs the limit first. Try one order, then the other. */
    if (lim && cg_try_write(dir, "memory.limit_in_bytes", lim) == 0)
        return cg_write(dir, "memory.memsw.limit_in_bytes", sw, err);
    int r = cg_write(dir, "memory.memsw.limit_in_bytes", sw, err);
    if (r < 0 || !lim)
        return r;
    return cg_write(dir, "memory.limit_in_bytes", lim, err);
}

static int memory_v1(const char *dir, const struct cg_memory *m, pr_error **err)
{
    char b[32];
    int r;
    if ((r = memory_v1_limits(dir, m, err)) < 0)
        return r;
    if (m->has_reservation && (r = cg_write(dir, "memory.soft_limit_in_bytes",
                                            limit_str(CG_V1, m->reservation, b), err)) < 0)
        return r;
    if (m->has_kernel_tcp && (r = cg_write(dir, "memory.kmem.tcp.limit_in_bytes",
                                           limit_str(CG_V1, m->kernel_tcp, b), err)) < 0)
        return r;
    if (m->has_swappiness &&
        (r = cg_writef(dir, "memory.swappiness", err, "%" PRIu64, m->swappiness)) < 0)
        return r;
    if (m->has_disable_oom_killer &&
        (r = cg_write(dir, "memory.oom_control", m->disable_oom_killer ? "1" : "0", err)) < 0)
        return r;
    if (m->has_use_hierarchy &&
        cg_try_write(dir, "memory.use_hierarchy", m->use_hierarchy ? "1" : "0") < 0)
        pr_warning("linux.resources.memory.useHierarchy ignored: this kernel always uses the "
                   "hierarchy");
    return 0;
}

static int memory_v2(const char *dir, const struct cg_memory *m, pr_error **err)
{
    char b[32];
    int64_t swap = 0;
    bool set_swap = false;
    int r;
    if (m->has_swap || (m->has_limit && m->limit == -1))
        if ((r = cg_swap_to_v2(m->has_swap ? m->swap : 0, m->has_limit, m->limit, &swap, &set_swap,
                               err)) < 0)
            return r;
    if (set_swap && !cg_file_exists(dir, "memory.swap.max")) {
        if (m->has_swap && m->swap > 0)
            pr_warning("linux.resources.memory.swap ignored: no memory.swap.max (swap "
                       "accounting is off)");
        set_swap = false;
    }
    if (m->has_limit && (r = cg_write(dir, "memory.max", limit_str(CG_V2, m->limit, b), err)) < 0)
        return r;
    if (set_swap && (r = cg_write(dir, "memory.swap.max", limit_str(CG_V2, swap, b), err)) < 0)
        return r;
    if (m->has_reservation &&
        (r = cg_write(dir, "memory.low", limit_str(CG_V2, m->reservation, b), err)) < 0)
        return r;
    if (m->has_swappiness)
        pr_warning("linux.resources.memory.swappiness ignored: cgroup v2 has no per-cgroup "
                   "swappiness");
    if (m->has_disable_oom_killer && m->disable_oom_killer)
        pr_warning("linux.resources.memory.disableOOMKiller ignored: cgroup v2 cannot disable "
                   "the OOM killer");
    if (m->has_kernel_tcp)
        pr_warning("linux.resources.memory.kernelTCP ignored on cgroup v2");
    return 0;
}

static int apply_memory(struct rt_cgroup *cg, const struct cg_memory *m, bool update,
                        pr_error **err)
{
    const char *dir;
    enum cg_version v = cg_controller_dir(cg, "memory", &dir);
    int r;
    if (m->has_kernel)
        pr_warning("linux.resources.memory.kernel ignored: kernel memory limits are deprecated "
                   "and not supported by current kernels");
    bool any = m->has_limit || m->has_reservation || m->has_swap || m->has_kernel_tcp ||
               m->has_swappiness || m->has_disable_oom_killer || m->has_use_hierarchy;
    if (!any)
        return 0;
    if ((r = need(v, "memory", "memory", err)) < 0)
        return r;
    if (update && m->check_before_update && m->has_limit &&
        (r = check_usage_below(dir, v, m->limit, err)) < 0)
        return r;
    return v == CG_V1 ? memory_v1(dir, m, err) : memory_v2(dir, m, err);
}

/* ---- cpu ------------------------------------------------------------------------------------ */

static int cpu_v1(const char *dir, const struct cg_cpu *c, pr_error **err)
{
    int r;
    if (c->has_shares && c->shares &&
        (r = cg_writef(dir, "cpu.shares", err, "%" PRIu64, c->shares)) < 0)
        return r;
    /* A new period can make the old quota invalid and the reverse: try both orders. */
    if (c->has_period && c->period && c->has_quota && c->quota) {
        char p[32], q[32];
        snprintf(p, sizeof(p), "%" PRIu64, c->period);
        snprintf(q, sizeof(q), "%" PRId64, c->quota);
        if (cg_try_write(dir, "cpu.cfs_period_us", p) == 0)
            r = cg_write(dir, "cpu.cfs_quota_us", q, err);
        else if ((r = cg_write(dir, "cpu.cfs_quota_us", q, err)) == 0)
            r = cg_write(dir, "cpu.cfs_period_us", p, err);
        if (r < 0)
            return r;
    } else if (c->has_period && c->period) {
        if ((r = cg_writef(dir, "cpu.cfs_period_us", err, "%" PRIu64, c->period)) < 0)
            return r;
    } else if (c->has_quota && c->quota) {
        if ((r = cg_writef(dir, "cpu.cfs_quota_us", err, "%" PRId64, c->quota)) < 0)
            return r;
    }
    if (c->has_burst && (r = cg_writef(dir, "cpu.cfs_burst_us", err, "%" PRIu64, c->burst)) < 0)
        return r;
    /* The runtime must fit in the period: set the period first. */
    if (c->has_rt_period && c->rt_period &&
        (r = cg_writef(dir, "cpu.rt_period_us", err, "%" PRIu64, c->rt_period)) < 0)
        return r;
    if (c->has_rt_runtime && c->rt_runtime &&
        (r = cg_writef(dir, "cpu.rt_runtime_us", err, "%" PRId64, c->rt_runtime)) < 0)
        return r;
    if (c->has_idle && (r = cg_writef(dir, "cpu.idle", err, "%" PRId64, c->idle)) < 0)
        return r;
    return 0;
}

static int cpu_v2(const char *dir, const struct cg_cpu *c, pr_error **err)
{
    int r;
    if (c->has_shares && c->shares &&
        (r = cg_writef(dir, "cpu.weight", err, "%" PRIu64, cg_shares_to_weight(c->shares))) < 0)
        return r;
    if ((c->has_quota && c->quota) || (c->has_period && c->period)) {
        char q[32] = "max";
        if (c->has_quota && c->quota > 0)
            snprintf(q, sizeof(q), "%" PRId64, c->quota);
        r = c->has_period && c->period ? cg_writef(dir, "cpu.max", err, "%s %" PRIu64, q, c->period)
                                       : cg_write(dir, "cpu.max", q, err);
        if (r < 0)
            return r;
    }
    if (c->has_burst && (r = cg_writef(dir, "cpu.max.burst", err, "%" PRIu64, c->burst)) < 0)
        return r;
    if (c->has_idle && (r = cg_writef(dir, "cpu.idle", err, "%" PRId64, c->idle)) < 0)
        return r;
    return 0;
}

static int apply_cpuset(struct rt_cgroup *cg, const struct cg_cpu *c, pr_error **err)
{
    const char *dir;
    enum cg_version v = cg_controller_dir(cg, "cpuset", &dir);
    int r;
    if (!c->cpus && !c->mems)
        return 0;
    if ((r = need(v, "cpuset", c->cpus ? "cpu.cpus" : "cpu.mems", err)) < 0)
        return r;
    if (c->mems && (r = cg_write(dir, "cpuset.mems", c->mems, err)) < 0)
        return r;
    if (c->cpus && (r = cg_write(dir, "cpuset.cpus", c->cpus, err)) < 0)
        return r;
    return 0;
}

static int apply_cpu(struct rt_cgroup *cg, const struct cg_cpu *c, pr_error **err)
{
    const char *dir;
    enum cg_version v = cg_controller_dir(cg, "cpu", &dir);
    int r;
    bool any = (c->has_shares && c->shares) || (c->has_quota && c->quota) ||
               (c->has_period && c->period) || c->has_burst ||
               (c->has_rt_runtime && c->rt_runtime) || (c->has_rt_period && c->rt_period) ||
               c->has_idle;
    if (any) {
        if ((r = need(v, "cpu", "cpu", err)) < 0)
            return r;
        if ((r = (v == CG_V1 ? cpu_v1(dir, c, err) : cpu_v2(dir, c, err))) < 0)
            return r;
    }
    return apply_cpuset(cg, c, err);
}

/* ---- pids, hugetlb, rdma -------------------------------------------------------------------- */

static int apply_pids(struct rt_cgroup *cg, int64_t limit, pr_error **err)
{
    const char *dir;
    enum cg_version v = cg_controller_dir(cg, "pids", &dir);
    int r;
    if (limit == 0) /* runc: 0 is unset */
        return 0;
    if ((r = need(v, "pids", "pids", err)) < 0)
        return r;
    if (limit < 0)
        return cg_write(dir, "pids.max", "max", err);
    return cg_writef(dir, "pids.max", err, "%" PRId64, limit);
}

static int apply_hugetlb(struct rt_cgroup *cg, const struct cg_resources *res, pr_error **err)
{
    const char *dir;
    enum cg_version v = cg_controller_dir(cg, "hugetlb", &dir);
    int r;
    if (res->n_hugepages == 0)
        return 0;
    if ((r = need(v, "hugetlb", "hugepageLimits", err)) < 0)
        return r;
    for (size_t i = 0; i < res->n_hugepages; i++) {
        const struct cg_hugepage *h = &res->hugepages[i];
        const char *suffix = v == CG_V2 ? "max" : "limit_in_bytes";
        _cleanup_free_ char *file = xasprintf("hugetlb.%s.%s", h->page_size, suffix);
        _cleanup_free_ char *rsvd = xasprintf("hugetlb.%s.rsvd.%s", h->page_size, suffix);
        char val[32];
        snprintf(val, sizeof(val), "%" PRIu64, h->limit);
        if ((r = cg_write(dir, file, val, err)) < 0)
            return r;
        /* Reservations count too where the kernel tracks them (as runc does). */
        (void)cg_try_write(dir, rsvd, val);
    }
    return 0;
}

static int apply_rdma(struct rt_cgroup *cg, const struct cg_resources *res, pr_error **err)
{
    const char *dir;
    enum cg_version v = cg_controller_dir(cg, "rdma", &dir);
    int r;
    if (res->n_rdma == 0)
        return 0;
    if ((r = need(v, "rdma", "rdma", err)) < 0)
        return r;
    for (size_t i = 0; i < res->n_rdma; i++) {
        const struct cg_rdma *d = &res->rdma[i];
        char h[48] = "", o[48] = "";
        if (!d->has_hca_handles && !d->has_hca_objects)
            continue;
        if (d->has_hca_handles)
            snprintf(h, sizeof(h), " hca_handle=%" PRIu64, d->hca_handles);
        if (d->has_hca_objects)
            snprintf(o, sizeof(o), " hca_object=%" PRIu64, d->hca_objects);
        if ((r = cg_writef(dir, "rdma.max", err, "%s%s%s", d->device, h, o)) < 0)
            return r;
    }
    return 0;
}

/* ---- block I/O ------------------------------------------------------------------------------ */

static int blkio_v1(const char *dir, const struct cg_blkio *b, pr_error **err)
{
    static const char *const throttle_files[CG_THROTTLE_KINDS] = {
        "blkio.throttle.read_bps_device", "blkio.throttle.write_bps_device",
        "blkio.throttle.read_iops_device", "blkio.throttle.write_iops_device"};
    /* Without CFQ the weight lives in the BFQ file, same 10..1000 scale. */
    const char *wfile = cg_file_exists(dir, "blkio.weight") ? "blkio.weight" : "blkio.bfq.weight";
    int r;
    if (b->has_weight && b->weight && (r = cg_writef(dir, wfile, err, "%" PRIu64, b->weight)) < 0)
        return r;
    if (b->has_leaf_weight && b->leaf_weight &&
        (r = cg_writef(dir, "blkio.leaf_weight", err, "%" PRIu64, b->leaf_weight)) < 0)
        return r;
    for (size_t i = 0; i < b->n_weight_devices; i++) {
        const struct cg_weight_device *d = &b->weight_devices[i];
        _cleanup_free_ char *dfile = xasprintf("%s_device", wfile);
        if (d->has_weight && (r = cg_writef(dir, dfile, err, "%" PRId64 ":%" PRId64 " %" PRIu64,
                                            d->major, d->minor, d->weight)) < 0)
            return r;
        if (d->has_leaf_weight &&
            (r = cg_writef(dir, "blkio.leaf_weight_device", err, "%" PRId64 ":%" PRId64 " %" PRIu64,
                           d->major, d->minor, d->leaf_weight)) < 0)
            return r;
    }
    for (int k = 0; k < CG_THROTTLE_KINDS; k++)
        for (size_t i = 0; i < b->n_throttle[k]; i++) {
            const struct cg_throttle_device *d = &b->throttle[k][i];
            if ((r = cg_writef(dir, throttle_files[k], err, "%" PRId64 ":%" PRId64 " %" PRIu64,
                               d->major, d->minor, d->rate)) < 0)
                return r;
        }
    return 0;
}

static int blkio_v2(const char *dir, const struct cg_blkio *b, pr_error **err)
{
    static const char *const keys[CG_THROTTLE_KINDS] = {"rbps", "wbps", "riops", "wiops"};
    /* io.bfq.weight takes blkio's own scale; io.weight needs converting. */
    bool bfq = cg_file_exists(dir, "io.bfq.weight");
    const char *wfile = bfq ? "io.bfq.weight" : "io.weight";
    int r;
    if (b->has_weight && b->weight &&
        (r = cg_writef(dir, wfile, err, "%" PRIu64,
                       bfq ? b->weight : cg_blkio_weight_to_io_weight(b->weight))) < 0)
        return r;
    if (b->has_leaf_weight || (b->n_weight_devices && b->weight_devices[0].has_leaf_weight))
        pr_warning("linux.resources.blockIO.leafWeight ignored: cgroup v2 has no leaf weights");
    for (size_t i = 0; i < b->n_weight_devices; i++) {
        const struct cg_weight_device *d = &b->weight_devices[i];
        if (d->has_weight &&
            (r = cg_writef(dir, wfile, err, "%" PRId64 ":%" PRId64 " %" PRIu64, d->major, d->minor,
                           bfq ? d->weight : cg_blkio_weight_to_io_weight(d->weight))) < 0)
            return r;
    }
    for (int k = 0; k < CG_THROTTLE_KINDS; k++)
        for (size_t i = 0; i < b->n_throttle[k]; i++) {
            const struct cg_throttle_device *d = &b->throttle[k][i];
            /* v1 reads rate 0 as "no limit"; v2 spells that "max". */
            r = d->rate ? cg_writef(dir, "io.max", err, "%" PRId64 ":%" PRId64 " %s=%" PRIu64,
                                    d->major, d->minor, keys[k], d->rate)
                        : cg_writef(dir, "io.max", err, "%" PRId64 ":%" PRId64 " %s=max", d->major,
                                    d->minor, keys[k]);
            if (r < 0)
                return r;
        }
    return 0;
}

static int apply_blkio(struct rt_cgroup *cg, const struct cg_blkio *b, pr_error **err)
{
    const char *dir;
    bool any = (b->has_weight && b->weight) || (b->has_leaf_weight && b->leaf_weight) ||
               b->n_weight_devices;
    for (int k = 0; k < CG_THROTTLE_KINDS; k++)
        any = any || b->n_throttle[k];
    if (!any)
        return 0;
    enum cg_version v = cg_controller_dir(cg, "blkio", &dir);
    if (v == CG_NONE)
        v = cg_controller_dir(cg, "io", &dir);
    int r = need(v, "io/blkio", "blockIO", err);
    if (r < 0)
        return r;
    return v == CG_V1 ? blkio_v1(dir, b, err) : blkio_v2(dir, b, err);
}

/* ---- devices -------------------------------------------------------------------------------- */

static void v1_rule_text(const struct cg_device_rule *d, char type, char buf[64])
{
    char maj[24] = "*", min[24] = "*", acc[4], *a = acc;
    if (d->major >= 0)
        snprintf(maj, sizeof(maj), "%" PRId64, d->major);
    if (d->minor >= 0)
        snprintf(min, sizeof(min), "%" PRId64, d->minor);
    if (d->access & CG_DEV_READ)
        *a++ = 'r';
    if (d->access & CG_DEV_WRITE)
        *a++ = 'w';
    if (d->access & CG_DEV_MKNOD)
        *a++ = 'm';
    *a = '\0';
    snprintf(buf, 64, "%c %s:%s %s", type, maj, min, acc);
}

static int devices_v1_rule(const char *dir, const struct cg_device_rule *d, pr_error **err)
{
    const char *file = d->allow ? "devices.allow" : "devices.deny";
    char buf[64];
    /* The kernel reads "a" as everything and drops the rest of the line, so a narrower 'a'
     * rule becomes one rule per device type. */
    if (d->type == 'a' && d->major < 0 && d->minor < 0 && d->access == CG_DEV_ALL)
        return cg_write(dir, file, "a", err);
    if (d->type != 'a') {
        v1_rule_text(d, d->type, buf);
        return cg_write(dir, file, buf, err);
    }
    int r;
    v1_rule_text(d, 'b', buf);
    if ((r = cg_write(dir, file, buf, err)) < 0)
        return r;
    v1_rule_text(d, 'c', buf);
    return cg_write(dir, file, buf, err);
}

static int apply_devices(struct rt_cgroup *cg, const struct cg_resources *res, pr_error **err)
{
    size_t n;
    _cleanup_free_ struct cg_device_rule *rules =
        cg_device_rules_with_defaults(res->devices, res->n_devices, &n);
    const char *dir = NULL;
    for (size_t i = 0; i < cg->n_v1; i++)
        if (cgroup_in_list(cg->v1[i].controllers, "devices"))
            dir = cg->v1[i].dir;
    if (dir) {
        /* In order: the kernel's exception list then gives the last matching rule's say. */
        for (size_t i = 0; i < n; i++) {
            int r = devices_v1_rule(dir, &rules[i], err);
            if (r < 0)
                return pr_err_prefix(err, "linux.resources.devices");
        }
        return 0;
    }
    if (!cg->v2_dir) {
        pr_warning("no devices cgroup on this host: device rules are not enforced");
        return 0;
    }
    return cg_bpf_apply_devices(cg->v2_dir, rules, n, err);
}

/* ---- network -------------------------------------------------------------------------------- */

static int apply_network(struct rt_cgroup *cg, const struct cg_resources *res, pr_error **err)
{
    const char *dir = NULL;
    int r;
    if (!res->has_network || (!res->has_net_class_id && res->n_net_prios == 0))
        return 0;
    if (res->has_net_class_id) {
        if (cg_controller_dir(cg, "net_cls", &dir) == CG_V1) {
            if ((r = cg_writef(dir, "net_cls.classid", err, "%" PRIu64, res->net_class_id)) < 0)
                return r;
        } else {
            pr_warning("linux.resources.network.classID ignored: no net_cls cgroup (v1) here");
        }
    }
    if (res->n_net_prios) {
        if (cg_controller_dir(cg, "net_prio", &dir) != CG_V1) {
            pr_warning("linux.resources.network.priorities ignored: no net_prio cgroup (v1) "
                       "here");
            return 0;
        }
        for (size_t i = 0; i < res->n_net_prios; i++)
            if ((r = cg_writef(dir, "net_prio.ifpriomap", err, "%s %" PRIu64,
                               res->net_prios[i].name, res->net_prios[i].priority)) < 0)
                return r;
    }
    return 0;
}

/* ---- unified -------------------------------------------------------------------------------- */

static int apply_unified(struct rt_cgroup *cg, const struct cg_resources *res, pr_error **err)
{
    if (res->n_unified == 0)
        return 0;
    if (!cg->v2_dir)
        return pr_err(err, 0,
                      "linux.resources.unified: needs cgroup v2, and this container has "
                      "no cgroup2 directory");
    for (size_t i = 0; i < res->n_unified; i++) {
        int r = cg_write(cg->v2_dir, res->unified[i].key, res->unified[i].value, err);
        if (r < 0)
            return pr_err_prefix(err, "linux.resources.unified.%s", res->unified[i].key);
    }
    return 0;
}

int cg_apply_resources(struct rt_cgroup *cg, const struct cg_resources *res, bool update,
                       pr_error **err)
{
    int r;
    if ((res->has_memory && (r = apply_memory(cg, &res->memory, update, err)) < 0) ||
        (res->has_cpu && (r = apply_cpu(cg, &res->cpu, err)) < 0) ||
        (res->has_pids && (r = apply_pids(cg, res->pids_limit, err)) < 0) ||
        (res->has_blkio && (r = apply_blkio(cg, &res->blkio, err)) < 0) ||
        (r = apply_hugetlb(cg, res, err)) < 0 || (r = apply_rdma(cg, res, err)) < 0 ||
        (r = apply_network(cg, res, err)) < 0)
        return r;
    /* A new container always gets the default-deny device policy; `update` only replaces it
     * when asked to. */
    if ((!update || res->has_devices) && (r = apply_devices(cg, res, err)) < 0)
        return r;
    /* Last, so that raw v2 values win over converted ones (runc's order). */
    return apply_unified(cg, res, err);
}
