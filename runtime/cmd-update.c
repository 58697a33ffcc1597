/* SPDX-License-Identifier: Apache-2.0 */
/* update: new resource limits for a running container, from flags or a resources JSON. */
#include "commands.h"
#include "fs.h"
#include "json.h"
#include "util.h"

enum {
    U_RESOURCES = 1,
    U_MEMORY,
    U_SWAP,
    U_RESERVATION,
    U_KMEM,
    U_KMEM_TCP,
    U_SHARES,
    U_PERIOD,
    U_QUOTA,
    U_RT_PERIOD,
    U_RT_RUNTIME,
    U_CPUS,
    U_MEMS,
    U_PIDS,
    U_BLKIO,
    U_L3,
    U_MEMBW,
    U_COUNT,
};

static const struct opt_def update_opts[] = {
    {"resources", 'r', OPT_ARG, U_RESOURCES},
    {"memory", 0, OPT_ARG, U_MEMORY},
    {"memory-swap", 0, OPT_ARG, U_SWAP},
    {"memory-reservation", 0, OPT_ARG, U_RESERVATION},
    {"kernel-memory", 0, OPT_ARG, U_KMEM},
    {"kernel-memory-tcp", 0, OPT_ARG, U_KMEM_TCP},
    {"cpu-shares", 0, OPT_ARG, U_SHARES},
    {"cpu-share", 0, OPT_ARG, U_SHARES},
    {"cpu-period", 0, OPT_ARG, U_PERIOD},
    {"cpu-quota", 0, OPT_ARG, U_QUOTA},
    {"cpu-rt-period", 0, OPT_ARG, U_RT_PERIOD},
    {"cpu-rt-runtime", 0, OPT_ARG, U_RT_RUNTIME},
    {"cpuset-cpus", 0, OPT_ARG, U_CPUS},
    {"cpuset-mems", 0, OPT_ARG, U_MEMS},
    {"pids-limit", 0, OPT_ARG, U_PIDS},
    {"blkio-weight", 0, OPT_ARG, U_BLKIO},
    {"l3-cache-schema", 0, OPT_ARG, U_L3},
    {"mem-bw-schema", 0, OPT_ARG, U_MEMBW},
    {NULL, 0, 0, 0},
};

struct update_parse {
    const char *v[U_COUNT];
};

static int on_update(int key, const char *v, void *data)
{
    ((struct update_parse *)data)->v[key] = v;
    return 0;
}

/* "512m", "1g", "-1" (unlimited) as docker and runc take them. */
static int parse_bytes(const char *flag, const char *s, long long *out, pr_error **err)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s)
        return pr_err(err, 0, "%s: \"%s\" is not a size", flag, s);
    long long mult = 1;
    switch (*end) {
    case 'k':
    case 'K':
        mult = 1LL << 10;
        end++;
        break;
    case 'm':
    case 'M':
        mult = 1LL << 20;
        end++;
        break;
    case 'g':
    case 'G':
        mult = 1LL << 30;
        end++;
        break;
    case 't':
    case 'T':
        mult = 1LL << 40;
        end++;
        break;
    }
    if (*end == 'b' || *end == 'B')
        end++;
    if (*end)
        return pr_err(err, 0, "%s: \"%s\" is not a size", flag, s);
    *out = (long long)(v * (double)mult);
    return 0;
}

static int gen_int(yajl_gen g, const char *key, const char *flag, const char *v, bool bytes,
                   pr_error **err)
{
    if (!v)
        return 0;
    long long n;
    int r = bytes ? parse_bytes(flag, v, &n, err) : parse_int_arg(flag, v, -1, INT64_MAX, &n, err);
    if (r < 0)
        return r;
    jg_key_int(g, key, n);
    return 0;
}

static int resources_from_flags(const struct update_parse *p, yajl_val *out, pr_error **err)
{
    _cleanup_gen_ yajl_gen g = json_gen_new(false);
    int r = 0;
    jg_map_open(g);
    if (p->v[U_MEMORY] || p->v[U_SWAP] || p->v[U_RESERVATION] || p->v[U_KMEM] || p->v[U_KMEM_TCP]) {
        jg_key(g, "memory");
        jg_map_open(g);
        if ((r = gen_int(g, "limit", "--memory", p->v[U_MEMORY], true, err)) < 0 ||
            (r = gen_int(g, "swap", "--memory-swap", p->v[U_SWAP], true, err)) < 0 ||
            (r = gen_int(g, "reservation", "--memory-reservation", p->v[U_RESERVATION], true,
                         err)) < 0 ||
            (r = gen_int(g, "kernel", "--kernel-memory", p->v[U_KMEM], true, err)) < 0 ||
            (r = gen_int(g, "kernelTCP", "--kernel-memory-tcp", p->v[U_KMEM_TCP], true, err)) < 0)
            return r;
        jg_map_close(g);
    }
    if (p->v[U_SHARES] || p->v[U_PERIOD] || p->v[U_QUOTA] || p->v[U_RT_PERIOD] ||
        p->v[U_RT_RUNTIME] || p->v[U_CPUS] || p->v[U_MEMS]) {
        jg_key(g, "cpu");
        jg_map_open(g);
        if ((r = gen_int(g, "shares", "--cpu-shares", p->v[U_SHARES], false, err)) < 0 ||
            (r = gen_int(g, "period", "--cpu-period", p->v[U_PERIOD], false, err)) < 0 ||
            (r = gen_int(g, "quota", "--cpu-quota", p->v[U_QUOTA], false, err)) < 0 ||
            (r = gen_int(g, "realtimePeriod", "--cpu-rt-period", p->v[U_RT_PERIOD], false, err)) <
                0 ||
            (r = gen_int(g, "realtimeRuntime", "--cpu-rt-runtime", p->v[U_RT_RUNTIME], false,
                         err)) < 0)
            return r;
        jg_key_str(g, "cpus", p->v[U_CPUS]);
        jg_key_str(g, "mems", p->v[U_MEMS]);
        jg_map_close(g);
    }
    if (p->v[U_PIDS]) {
        jg_key(g, "pids");
        jg_map_open(g);
        if ((r = gen_int(g, "limit", "--pids-limit", p->v[U_PIDS], false, err)) < 0)
            return r;
        jg_map_close(g);
    }
    if (p->v[U_BLKIO]) {
        jg_key(g, "blockIO");
        jg_map_open(g);
        if ((r = gen_int(g, "weight", "--blkio-weight", p->v[U_BLKIO], false, err)) < 0)
            return r;
        jg_map_close(g);
    }
    jg_map_close(g);
    size_t len;
    const char *buf = jg_buf(g, &len);
    _cleanup_free_ char *text = strndup(buf, len);
    return json_parse(text, "update flags", out, err);
}

int cmd_update(struct rt_global *g, int argc, char **argv, pr_error **err)
{
    struct update_parse p = {0};
    int first;
    int r = parse_opts(argc, argv, update_opts, on_update, &p, &first, err);
    if (r < 0)
        return r;
    if (first != argc - 1)
        return pr_err(err, 0, "update: expected exactly one container id");
    if (p.v[U_L3] || p.v[U_MEMBW])
        return pr_err(err, 0,
                      "update: Intel RDT (--l3-cache-schema, --mem-bw-schema) is not "
                      "supported by podrun");
    _cleanup_json_ yajl_val res = NULL;
    if (p.v[U_RESOURCES]) {
        _cleanup_free_ char *text = NULL;
        size_t len;
        const char *path = streq(p.v[U_RESOURCES], "-") ? "/dev/stdin" : p.v[U_RESOURCES];
        if ((r = read_file(path, &text, &len, err)) < 0 ||
            (r = json_parse(text, p.v[U_RESOURCES], &res, err)) < 0)
            return r;
        if (!YAJL_IS_OBJECT(res))
            return pr_err(err, 0, "%s: expected a linux.resources object", p.v[U_RESOURCES]);
    } else if ((r = resources_from_flags(&p, &res, err)) < 0) {
        return r;
    }
    _cleanup_state_ struct rt_state *s = NULL;
    _cleanup_cgroup_ struct rt_cgroup *cg = NULL;
    if ((r = rt_container_load(g, argv[first], &s, &cg, err)) < 0)
        return r;
    if (streq(rt_state_status(s, cg), "stopped"))
        return pr_err(err, 0, "container \"%s\" is not running", s->id);
    if (!cg)
        return pr_err(err, 0, "container \"%s\" has no cgroup", s->id);
    return rt_cgroup_update(cg, res, err);
}
