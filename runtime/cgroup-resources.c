/* SPDX-License-Identifier: Apache-2.0 */
/* linux.resources parsed into struct cg_resources, v1 -> v2 value conversions, and the
 * cgroupsPath / systemd path parsers. Everything here is pure: no file is touched, so the unit
 * tests cover it completely. */
#include "cgroup-internal.h"
#include "json.h"
#include "util.h"

#include <inttypes.h>

#define R_CTX "linux.resources"

/* ---- optional getters: set has_x only when the key is present and not null ---------------- */

static bool present(yajl_val obj, const char *key)
{
    yajl_val v = json_get(obj, key);
    return v && !YAJL_IS_NULL(v);
}

static int opt_i64(yajl_val obj, const char *key, const char *ctx, bool *has, int64_t *out,
                   pr_error **err)
{
    if (!present(obj, key))
        return 0;
    int r = json_get_int64(obj, key, ctx, out, err);
    if (r == 0)
        *has = true;
    return r;
}

static int opt_u64(yajl_val obj, const char *key, const char *ctx, bool *has, uint64_t *out,
                   pr_error **err)
{
    if (!present(obj, key))
        return 0;
    int r = json_get_uint64(obj, key, ctx, out, err);
    if (r == 0)
        *has = true;
    return r;
}

static int opt_bool(yajl_val obj, const char *key, const char *ctx, bool *has, bool *out,
                    pr_error **err)
{
    if (!present(obj, key))
        return 0;
    int r = json_get_bool(obj, key, ctx, out, err);
    if (r == 0)
        *has = true;
    return r;
}

static int check_max(const char *ctx, const char *key, uint64_t v, uint64_t max, pr_error **err)
{
    if (v > max)
        return pr_err(err, 0, "%s.%s: %" PRIu64 " is out of range (at most %" PRIu64 ")", ctx, key,
                      v, max);
    return 0;
}

/* ---- memory --------------------------------------------------------------------------------- */

/* Limits are byte counts or -1 for unlimited; other negatives are mistakes. */
static int check_limit(const char *key, bool has, int64_t v, pr_error **err)
{
    if (has && v < -1)
        return pr_err(err, 0,
                      R_CTX ".memory.%s: %" PRId64 " is invalid (a byte count, or -1 for "
                            "unlimited)",
                      key, v);
    return 0;
}

static int parse_memory(yajl_val obj, struct cg_memory *m, pr_error **err)
{
    const char *ctx = R_CTX ".memory";
    int r;
    if ((r = opt_i64(obj, "limit", ctx, &m->has_limit, &m->limit, err)) < 0 ||
        (r = opt_i64(obj, "reservation", ctx, &m->has_reservation, &m->reservation, err)) < 0 ||
        (r = opt_i64(obj, "swap", ctx, &m->has_swap, &m->swap, err)) < 0 ||
        (r = opt_i64(obj, "kernel", ctx, &m->has_kernel, &m->kernel, err)) < 0 ||
        (r = opt_i64(obj, "kernelTCP", ctx, &m->has_kernel_tcp, &m->kernel_tcp, err)) < 0 ||
        (r = opt_u64(obj, "swappiness", ctx, &m->has_swappiness, &m->swappiness, err)) < 0 ||
        (r = opt_bool(obj, "disableOOMKiller", ctx, &m->has_disable_oom_killer,
                      &m->disable_oom_killer, err)) < 0 ||
        (r = opt_bool(obj, "useHierarchy", ctx, &m->has_use_hierarchy, &m->use_hierarchy, err)) <
            0 ||
        (r = json_get_bool(obj, "checkBeforeUpdate", ctx, &m->check_before_update, err)) < 0)
        return r;
    if ((r = check_limit("limit", m->has_limit, m->limit, err)) < 0 ||
        (r = check_limit("reservation", m->has_reservation, m->reservation, err)) < 0 ||
        (r = check_limit("swap", m->has_swap, m->swap, err)) < 0 ||
        (r = check_limit("kernelTCP", m->has_kernel_tcp, m->kernel_tcp, err)) < 0)
        return r;
    if (m->has_swappiness && (r = check_max(ctx, "swappiness", m->swappiness, 100, err)) < 0)
        return r;
    /* swap is memory+swap, so it can never be below the memory limit. */
    if (m->has_swap && m->swap > 0 && m->has_limit && m->limit > 0 && m->swap < m->limit)
        return pr_err(err, 0,
                      "%s.swap: %" PRId64 " is below memory.limit %" PRId64
                      " (swap is the memory+swap limit, so it must be >= limit)",
                      ctx, m->swap, m->limit);
    return 0;
}

/* ---- cpu ------------------------------------------------------------------------------------ */

/* cpus/mems lists: digits, ',' and '-' ("0-3,7"); the kernel checks the numbers. */
static int check_cpu_list(const char *key, const char *v, pr_error **err)
{
    if (v && v[strspn(v, "0123456789,-")] != '\0')
        return pr_err(err, 0, R_CTX ".cpu.%s: `%s` is not a CPU/node list (like \"0-2,4\")", key,
                      v);
    return 0;
}

static int parse_cpu(yajl_val obj, struct cg_cpu *c, pr_error **err)
{
    const char *ctx = R_CTX ".cpu";
    const char *cpus = NULL, *mems = NULL;
    int r;
    if ((r = opt_u64(obj, "shares", ctx, &c->has_shares, &c->shares, err)) < 0 ||
        (r = opt_i64(obj, "quota", ctx, &c->has_quota, &c->quota, err)) < 0 ||
        (r = opt_u64(obj, "burst", ctx, &c->has_burst, &c->burst, err)) < 0 ||
        (r = opt_u64(obj, "period", ctx, &c->has_period, &c->period, err)) < 0 ||
        (r = opt_i64(obj, "realtimeRuntime", ctx, &c->has_rt_runtime, &c->rt_runtime, err)) < 0 ||
        (r = opt_u64(obj, "realtimePeriod", ctx, &c->has_rt_period, &c->rt_period, err)) < 0 ||
        (r = opt_i64(obj, "idle", ctx, &c->has_idle, &c->idle, err)) < 0 ||
        (r = json_get_str(obj, "cpus", ctx, &cpus, err)) < 0 ||
        (r = json_get_str(obj, "mems", ctx, &mems, err)) < 0)
        return r;
    if ((r = check_cpu_list("cpus", cpus, err)) < 0 || (r = check_cpu_list("mems", mems, err)) < 0)
        return r;
    if (c->has_shares && (r = check_max(ctx, "shares", c->shares, 262144, err)) < 0)
        return r;
    if (c->has_quota && c->quota < -1)
        return pr_err(err, 0, "%s.quota: %" PRId64 " is invalid (microseconds, or -1 for no limit)",
                      ctx, c->quota);
    if (c->has_quota && c->quota > 0 && c->quota < 1000)
        return pr_err(err, 0, "%s.quota: %" PRId64 " is below the kernel's minimum of 1000", ctx,
                      c->quota);
    if (c->has_period && c->period != 0 && (c->period < 1000 || c->period > 1000000))
        return pr_err(err, 0, "%s.period: %" PRIu64 " is out of range (1000 to 1000000)", ctx,
                      c->period);
    if (c->has_idle && c->idle != 0 && c->idle != 1)
        return pr_err(err, 0, "%s.idle: %" PRId64 " is invalid (0 or 1)", ctx, c->idle);
    c->cpus = cpus && *cpus ? xstrdup(cpus) : NULL;
    c->mems = mems && *mems ? xstrdup(mems) : NULL;
    return 0;
}

/* ---- blockIO -------------------------------------------------------------------------------- */

static int check_blkio_weight(const char *ctx, const char *key, uint64_t w, pr_error **err)
{
    /* 0 means "unset" in runc's reading of the spec. */
    if (w != 0 && (w < 10 || w > 1000))
        return pr_err(err, 0, "%s.%s: %" PRIu64 " is out of range (10 to 1000)", ctx, key, w);
    return 0;
}

static int parse_major_minor(yajl_val e, const char *ctx, int64_t *major, int64_t *minor,
                             pr_error **err)
{
    int r;
    if (!present(e, "major") || !present(e, "minor"))
        return pr_err(err, 0, "%s: major and minor are required", ctx);
    if ((r = json_get_int64(e, "major", ctx, major, err)) < 0 ||
        (r = json_get_int64(e, "minor", ctx, minor, err)) < 0)
        return r;
    if (*major < 0 || *minor < 0)
        return pr_err(err, 0, "%s: major/minor must not be negative", ctx);
    return 0;
}

static int parse_throttle(yajl_val blkio, const char *key, struct cg_throttle_device **out,
                          size_t *n, pr_error **err)
{
    yajl_val arr = NULL;
    int r = json_get_array(blkio, key, R_CTX ".blockIO", &arr, err);
    if (r < 0 || !arr)
        return r;
    *out = xcalloc(json_array_len(arr) + 1, sizeof(**out));
    for (size_t i = 0; i < json_array_len(arr); i++) {
        _cleanup_free_ char *ctx = xasprintf(R_CTX ".blockIO.%s[%zu]", key, i);
        yajl_val e = json_array_at(arr, i);
        struct cg_throttle_device *d = &(*out)[*n];
        if (!YAJL_IS_OBJECT(e))
            return pr_err(err, 0, "%s: expected object, got %s", ctx, json_type_name(e));
        if ((r = parse_major_minor(e, ctx, &d->major, &d->minor, err)) < 0 ||
            (r = json_get_uint64(e, "rate", ctx, &d->rate, err)) < 0)
            return r;
        (*n)++;
    }
    return 0;
}

static int parse_blkio(yajl_val obj, struct cg_blkio *b, pr_error **err)
{
    static const char *const throttle_keys[CG_THROTTLE_KINDS] = {
        "throttleReadBpsDevice", "throttleWriteBpsDevice", "throttleReadIOPSDevice",
        "throttleWriteIOPSDevice"};
    const char *ctx = R_CTX ".blockIO";
    yajl_val arr = NULL;
    int r;
    if ((r = opt_u64(obj, "weight", ctx, &b->has_weight, &b->weight, err)) < 0 ||
        (r = opt_u64(obj, "leafWeight", ctx, &b->has_leaf_weight, &b->leaf_weight, err)) < 0)
        return r;
    if ((b->has_weight && (r = check_blkio_weight(ctx, "weight", b->weight, err)) < 0) ||
        (b->has_leaf_weight &&
         (r = check_blkio_weight(ctx, "leafWeight", b->leaf_weight, err)) < 0))
        return r;
    if ((r = json_get_array(obj, "weightDevice", ctx, &arr, err)) < 0)
        return r;
    if (arr) {
        b->weight_devices = xcalloc(json_array_len(arr) + 1, sizeof(*b->weight_devices));
        for (size_t i = 0; i < json_array_len(arr); i++) {
            _cleanup_free_ char *ectx = xasprintf("%s.weightDevice[%zu]", ctx, i);
            yajl_val e = json_array_at(arr, i);
            struct cg_weight_device *d = &b->weight_devices[b->n_weight_devices];
            if (!YAJL_IS_OBJECT(e))
                return pr_err(err, 0, "%s: expected object, got %s", ectx, json_type_name(e));
            if ((r = parse_major_minor(e, ectx, &d->major, &d->minor, err)) < 0 ||
                (r = opt_u64(e, "weight", ectx, &d->has_weight, &d->weight, err)) < 0 ||
                (r = opt_u64(e, "leafWeight", ectx, &d->has_leaf_weight, &d->leaf_weight, err)) < 0)
                return r;
            if ((d->has_weight && (r = check_blkio_weight(ectx, "weight", d->weight, err)) < 0) ||
                (d->has_leaf_weight &&
                 (r = check_blkio_weight(ectx, "leafWeight", d->leaf_weight, err)) < 0))
                return r;
            b->n_weight_devices++;
        }
    }
    for (int k = 0; k < CG_THROTTLE_KINDS; k++)
        if ((r = parse_throttle(obj, throttle_keys[k], &b->throttle[k], &b->n_throttle[k], err)) <
            0)
            return r;
    return 0;
}

/* ---- hugepages ------------------------------------------------------------------------------ */

int cg_hugepage_size_kb(const char *s, uint64_t *kb)
{
    static const struct {
        const char *suffix;
        uint64_t kb;
    } units[] = {{"KB", 1}, {"MB", 1024}, {"GB", 1024 * 1024}, {"TB", 1024ULL * 1024 * 1024}};
    char *end;
    if (!s || !*s || *s < '0' || *s > '9')
        return -EINVAL;
    errno = 0;
    unsigned long long n = strtoull(s, &end, 10);
    if (errno || n == 0)
        return -EINVAL;
    for (size_t i = 0; i < ARRAY_SIZE(units); i++)
        if (streq(end, units[i].suffix)) {
            *kb = n * units[i].kb;
            return 0;
        }
    return -EINVAL;
}

static int parse_hugepages(yajl_val arr, struct cg_resources *res, pr_error **err)
{
    res->hugepages = xcalloc(json_array_len(arr) + 1, sizeof(*res->hugepages));
    for (size_t i = 0; i < json_array_len(arr); i++) {
        _cleanup_free_ char *ctx = xasprintf(R_CTX ".hugepageLimits[%zu]", i);
        yajl_val e = json_array_at(arr, i);
        const char *size = NULL;
        uint64_t limit = 0, kb;
        int r;
        if (!YAJL_IS_OBJECT(e))
            return pr_err(err, 0, "%s: expected object, got %s", ctx, json_type_name(e));
        if ((r = json_get_str(e, "pageSize", ctx, &size, err)) < 0 ||
            (r = json_get_uint64(e, "limit", ctx, &limit, err)) < 0)
            return r;
        if (!size || cg_hugepage_size_kb(size, &kb) < 0)
            return pr_err(err, 0, "%s.pageSize: `%s` is not a page size like \"2MB\" or \"1GB\"",
                          ctx, size ? size : "");
        res->hugepages[res->n_hugepages].page_size = xstrdup(size);
        res->hugepages[res->n_hugepages++].limit = limit;
    }
    return 0;
}

/* ---- devices -------------------------------------------------------------------------------- */

const struct cg_device_rule cg_default_device_rules[] = {
    {false, 'a', -1, -1, CG_DEV_ALL},  {true, 'c', -1, -1, CG_DEV_MKNOD},
    {true, 'b', -1, -1, CG_DEV_MKNOD}, {true, 'c', 1, 3, CG_DEV_ALL}, /* null */
    {true, 'c', 1, 5, CG_DEV_ALL},                                    /* zero */
    {true, 'c', 1, 7, CG_DEV_ALL},                                    /* full */
    {true, 'c', 1, 8, CG_DEV_ALL},                                    /* random */
    {true, 'c', 1, 9, CG_DEV_ALL},                                    /* urandom */
    {true, 'c', 5, 0, CG_DEV_ALL},                                    /* tty */
    {true, 'c', 5, 1, CG_DEV_ALL},                                    /* console */
    {true, 'c', 5, 2, CG_DEV_ALL},                                    /* ptmx */
    {true, 'c', 136, -1, CG_DEV_ALL},                                 /* pts */
    {true, 'c', 10, 200, CG_DEV_ALL},                                 /* net/tun */
};
const size_t cg_n_default_device_rules = ARRAY_SIZE(cg_default_device_rules);

static bool rule_matches_everything(const struct cg_device_rule *r)
{
    return r->type == 'a' && r->major < 0 && r->minor < 0 && r->access == CG_DEV_ALL;
}

struct cg_device_rule *cg_device_rules_with_defaults(const struct cg_device_rule *user, size_t n,
                                                     size_t *n_out)
{
    struct cg_device_rule *out = xmalloc((n + cg_n_default_device_rules) * sizeof(*out));
    size_t k = 0, o = 0;
    bool reset = false, reset_allow = false;
    /* Rules up to the config's last everything-rule are wiped by it: the defaults go right
     * after that one, so it cannot wipe them, while the config's later rules can still deny a
     * default device. An allow-everything needs no defaults (and their deny-all would undo
     * it); a deny-everything only needs their allows. */
    for (size_t i = 0; i < n; i++)
        if (rule_matches_everything(&user[i])) {
            k = i + 1;
            reset = true;
            reset_allow = user[i].allow;
        }
    if (k)
        memcpy(out, user, k * sizeof(*out));
    o = k;
    if (!reset) {
        memcpy(out + o, cg_default_device_rules, cg_n_default_device_rules * sizeof(*out));
        o += cg_n_default_device_rules;
    } else if (!reset_allow) {
        memcpy(out + o, cg_default_device_rules + 1,
               (cg_n_default_device_rules - 1) * sizeof(*out));
        o += cg_n_default_device_rules - 1;
    }
    if (n > k)
        memcpy(out + o, user + k, (n - k) * sizeof(*out));
    *n_out = o + n - k;
    return out;
}

static int parse_device_rule(yajl_val e, const char *ctx, struct cg_device_rule *d, pr_error **err)
{
    const char *type = "a", *access = "rwm";
    int r;
    if (!YAJL_IS_OBJECT(e))
        return pr_err(err, 0, "%s: expected object, got %s", ctx, json_type_name(e));
    if (!present(e, "allow"))
        return pr_err(err, 0, "%s.allow: required", ctx);
    d->major = d->minor = -1;
    if ((r = json_get_bool(e, "allow", ctx, &d->allow, err)) < 0 ||
        (r = json_get_str(e, "type", ctx, &type, err)) < 0 ||
        (r = json_get_str(e, "access", ctx, &access, err)) < 0 ||
        (r = json_get_int64(e, "major", ctx, &d->major, err)) < 0 ||
        (r = json_get_int64(e, "minor", ctx, &d->minor, err)) < 0)
        return r;
    if (!streq(type, "a") && !streq(type, "b") && !streq(type, "c"))
        return pr_err(err, 0, "%s.type: `%s` is not one of a, b, c", ctx, type);
    d->type = type[0];
    if (d->major < -1 || d->minor < -1 || d->major > INT32_MAX || d->minor > INT32_MAX)
        return pr_err(err, 0, "%s: major/minor must be a device number or -1 (any)", ctx);
    d->access = 0;
    for (const char *p = access; *p; p++) {
        unsigned bit = *p == 'r'   ? CG_DEV_READ
                       : *p == 'w' ? CG_DEV_WRITE
                       : *p == 'm' ? CG_DEV_MKNOD
                                   : 0;
        if (!bit || (d->access & bit))
            return pr_err(err, 0, "%s.access: `%s` is not a combination of r, w, m", ctx, access);
        d->access |= bit;
    }
    if (!*access)
        d->access = CG_DEV_ALL; /* runc reads an empty access as "rwm" */
    return 0;
}

static int parse_devices(yajl_val arr, struct cg_resources *res, pr_error **err)
{
    res->has_devices = true;
    res->devices = xcalloc(json_array_len(arr) + 1, sizeof(*res->devices));
    for (size_t i = 0; i < json_array_len(arr); i++) {
        _cleanup_free_ char *ctx = xasprintf(R_CTX ".devices[%zu]", i);
        int r = parse_device_rule(json_array_at(arr, i), ctx, &res->devices[i], err);
        if (r < 0)
            return r;
        res->n_devices++;
    }
    return 0;
}

/* ---- network, rdma, unified ------------------------------------------------------------------ */

static int parse_network(yajl_val obj, struct cg_resources *res, pr_error **err)
{
    const char *ctx = R_CTX ".network";
    yajl_val arr = NULL;
    int r;
    res->has_network = true;
    if ((r = opt_u64(obj, "classID", ctx, &res->has_net_class_id, &res->net_class_id, err)) < 0 ||
        (res->has_net_class_id &&
         (r = check_max(ctx, "classID", res->net_class_id, UINT32_MAX, err)) < 0) ||
        (r = json_get_array(obj, "priorities", ctx, &arr, err)) < 0)
        return r;
    res->net_prios = xcalloc(json_array_len(arr) + 1, sizeof(*res->net_prios));
    for (size_t i = 0; i < json_array_len(arr); i++) {
        _cleanup_free_ char *ectx = xasprintf("%s.priorities[%zu]", ctx, i);
        yajl_val e = json_array_at(arr, i);
        const char *name = NULL;
        uint64_t prio = 0;
        if (!YAJL_IS_OBJECT(e))
            return pr_err(err, 0, "%s: expected object, got %s", ectx, json_type_name(e));
        if ((r = json_get_str(e, "name", ectx, &name, err)) < 0 ||
            (r = json_get_uint64(e, "priority", ectx, &prio, err)) < 0 ||
            (r = check_max(ectx, "priority", prio, UINT32_MAX, err)) < 0)
            return r;
        if (!name || !*name || strchr(name, ' ') || strchr(name, '\n'))
            return pr_err(err, 0, "%s.name: `%s` is not an interface name", ectx, name ? name : "");
        res->net_prios[res->n_net_prios].name = xstrdup(name);
        res->net_prios[res->n_net_prios++].priority = prio;
    }
    return 0;
}

static int parse_rdma(yajl_val obj, struct cg_resources *res, pr_error **err)
{
    size_t n = obj->u.object.len;
    res->rdma = xcalloc(n + 1, sizeof(*res->rdma));
    for (size_t i = 0; i < n; i++) {
        const char *dev = obj->u.object.keys[i];
        yajl_val e = obj->u.object.values[i];
        _cleanup_free_ char *ctx = xasprintf(R_CTX ".rdma.%s", dev);
        struct cg_rdma *d = &res->rdma[res->n_rdma];
        int r;
        if (!*dev || strpbrk(dev, " \n="))
            return pr_err(err, 0, "%s: `%s` is not an RDMA device name", R_CTX ".rdma", dev);
        if (!YAJL_IS_OBJECT(e))
            return pr_err(err, 0, "%s: expected object, got %s", ctx, json_type_name(e));
        if ((r = opt_u64(e, "hcaHandles", ctx, &d->has_hca_handles, &d->hca_handles, err)) < 0 ||
            (r = opt_u64(e, "hcaObjects", ctx, &d->has_hca_objects, &d->hca_objects, err)) < 0)
            return r;
        d->device = xstrdup(dev);
        res->n_rdma++;
    }
    return 0;
}

static int parse_unified(yajl_val obj, struct cg_resources *res, pr_error **err)
{
    size_t n = obj->u.object.len;
    res->unified = xcalloc(n + 1, sizeof(*res->unified));
    for (size_t i = 0; i < n; i++) {
        const char *key = obj->u.object.keys[i];
        yajl_val v = obj->u.object.values[i];
        /* The key names a file in the container's own directory and nothing else. */
        if (!*key || strchr(key, '/') || key[0] == '.' || !strchr(key, '.'))
            return pr_err(err, 0,
                          R_CTX ".unified: `%s` is not a cgroup v2 file name "
                                "(like \"memory.high\")",
                          key);
        if (!YAJL_IS_STRING(v))
            return pr_err(err, 0, R_CTX ".unified.%s: expected string, got %s", key,
                          json_type_name(v));
        res->unified[res->n_unified].key = xstrdup(key);
        res->unified[res->n_unified++].value = xstrdup(v->u.string);
    }
    return 0;
}

/* ---- the whole object ----------------------------------------------------------------------- */

int cg_resources_parse(yajl_val res, struct cg_resources *r, pr_error **err)
{
    yajl_val o;
    int ret;
    memset(r, 0, sizeof(*r));
    if (!res || YAJL_IS_NULL(res))
        return 0;
    if (!YAJL_IS_OBJECT(res))
        return pr_err(err, 0, R_CTX ": expected object, got %s", json_type_name(res));

#define SUB(key, kind, action)                                                                     \
    do {                                                                                           \
        o = NULL;                                                                                  \
        if ((ret = json_get_##kind(res, key, R_CTX, &o, err)) < 0)                                 \
            goto fail;                                                                             \
        if (o && (ret = (action)) < 0)                                                             \
            goto fail;                                                                             \
    } while (0)

    SUB("memory", object, (r->has_memory = true, parse_memory(o, &r->memory, err)));
    SUB("cpu", object, (r->has_cpu = true, parse_cpu(o, &r->cpu, err)));
    SUB("blockIO", object, (r->has_blkio = true, parse_blkio(o, &r->blkio, err)));
    SUB("hugepageLimits", array, parse_hugepages(o, r, err));
    SUB("devices", array, parse_devices(o, r, err));
    SUB("network", object, parse_network(o, r, err));
    SUB("rdma", object, parse_rdma(o, r, err));
    SUB("unified", object, parse_unified(o, r, err));
#undef SUB
    o = NULL;
    if ((ret = json_get_object(res, "pids", R_CTX, &o, err)) < 0)
        goto fail;
    if (o) {
        if (!present(o, "limit")) {
            ret = pr_err(err, 0, R_CTX ".pids.limit: required");
            goto fail;
        }
        if ((ret = json_get_int64(o, "limit", R_CTX ".pids", &r->pids_limit, err)) < 0)
            goto fail;
        if (r->pids_limit < -1) {
            ret = pr_err(err, 0,
                         R_CTX ".pids.limit: %" PRId64 " is invalid (a count, or -1 "
                               "for unlimited)",
                         r->pids_limit);
            goto fail;
        }
        r->has_pids = true;
    }
    return 0;
fail:
    cg_resources_clear(r);
    return ret;
}

void cg_resources_clear(struct cg_resources *r)
{
    free(r->cpu.cpus);
    free(r->cpu.mems);
    free(r->blkio.weight_devices);
    for (int k = 0; k < CG_THROTTLE_KINDS; k++)
        free(r->blkio.throttle[k]);
    for (size_t i = 0; i < r->n_hugepages; i++)
        free(r->hugepages[i].page_size);
    free(r->hugepages);
    free(r->devices);
    for (size_t i = 0; i < r->n_net_prios; i++)
        free(r->net_prios[i].name);
    free(r->net_prios);
    for (size_t i = 0; i < r->n_rdma; i++)
        free(r->rdma[i].device);
    free(r->rdma);
    for (size_t i = 0; i < r->n_unified; i++) {
        free(r->unified[i].key);
        free(r->unified[i].value);
    }
    free(r->unified);
    memset(r, 0, sizeof(*r));
}

/* ---- conversions ---------------------------------------------------------------------------- */

/* cpu.shares spans 2..262144 around a default of 1024; cpu.weight spans 1..10000 around 100.
 * The linear map runc uses sends 2 to 1 and 262144 to 10000 (1024 lands on 39, not 100: the
 * same as runc, which is what people compare against). */
uint64_t cg_shares_to_weight(uint64_t shares)
{
    if (shares == 0)
        return 0;
    if (shares < 2)
        shares = 2;
    if (shares > 262144)
        shares = 262144;
    return 1 + ((shares - 2) * 9999) / 262142;
}

/* blkio.weight 10..1000 onto io.weight 1..10000. */
uint64_t cg_blkio_weight_to_io_weight(uint64_t weight)
{
    if (weight == 0)
        return 0;
    if (weight < 10)
        weight = 10;
    if (weight > 1000)
        weight = 1000;
    return 1 + (weight - 10) * 9999 / 990;
}

int cg_swap_to_v2(int64_t swap, bool has_limit, int64_t limit, int64_t *out, bool *set,
                  pr_error **err)
{
    *set = false;
    /* v1 habit: an unlimited memory with swap unset means unlimited swap too. */
    if (has_limit && limit == -1 && swap == 0) {
        *out = -1;
        *set = true;
        return 0;
    }
    if (swap == 0)
        return 0;
    if (swap == -1) {
        *out = -1;
        *set = true;
        return 0;
    }
    if (!has_limit || limit <= 0)
        return pr_err(err, 0,
                      R_CTX ".memory.swap: cannot be set without memory.limit on cgroup "
                            "v2 (memory.swap.max is swap minus limit)");
    if (swap < limit)
        return pr_err(err, 0, R_CTX ".memory.swap: %" PRId64 " is below memory.limit %" PRId64,
                      swap, limit);
    *out = swap - limit;
    *set = true;
    return 0;
}

/* ---- paths ---------------------------------------------------------------------------------- */

int cg_clean_path(const char *path, char **out, pr_error **err)
{
    size_t n = strlen(path);
    char *o = xmalloc(n + 2), *w = o;
    const char *p = path;
    if (*p == '/')
        *w++ = '/';
    while (*p) {
        while (*p == '/')
            p++;
        if (!*p)
            break;
        size_t len = strcspn(p, "/");
        if ((len == 2 && p[0] == '.' && p[1] == '.')) {
            free(o);
            return pr_err(err, 0, "linux.cgroupsPath: `%s` must not contain \"..\"", path);
        }
        if (!(len == 1 && p[0] == '.')) {
            if (w > o && w[-1] != '/')
                *w++ = '/';
            memcpy(w, p, len);
            w += len;
        }
        p += len;
    }
    *w = '\0';
    *out = o;
    return 0;
}

int cg_systemd_parse_path(const char *path, char **slice, char **unit, pr_error **err)
{
    const char *c1 = strchr(path, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    if (!c1 || !c2 || strchr(c2 + 1, ':'))
        return pr_err(err, 0,
                      "linux.cgroupsPath: `%s` is not \"slice:prefix:name\" as "
                      "--systemd-cgroup needs",
                      path);
    _cleanup_free_ char *s = xasprintf("%.*s", (int)(c1 - path), path);
    _cleanup_free_ char *prefix = xasprintf("%.*s", (int)(c2 - c1 - 1), c1 + 1);
    const char *name = c2 + 1;
    if (!*name || strchr(name, '/') || strchr(prefix, '/'))
        return pr_err(err, 0, "linux.cgroupsPath: `%s`: the name part is empty or holds '/'", path);
    if (*s) {
        _cleanup_free_ char *expanded = NULL;
        if (cg_systemd_expand_slice(s, &expanded, err) < 0)
            return pr_err_prefix(err, "linux.cgroupsPath: `%s`", path);
    }
    size_t nl = strlen(name);
    if (nl > 6 && streq(name + nl - 6, ".slice"))
        *unit = xstrdup(name);
    else if (*prefix)
        *unit = xasprintf("%s-%s.scope", prefix, name);
    else
        *unit = xasprintf("%s.scope", name);
    *slice = *s ? steal_pointer(&s) : xstrdup("system.slice");
    return 0;
}

int cg_systemd_expand_slice(const char *slice, char **out, pr_error **err)
{
    return cgroup_slice_path(slice, out, err);
}
