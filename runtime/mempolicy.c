/* SPDX-License-Identifier: Apache-2.0 */
#include "mempolicy.h"
#include "json.h"
#include "util.h"

#include <limits.h>
#include <sys/syscall.h>

/* The kernel's uapi values (linux/mempolicy.h), which older headers may lack. */
static const struct {
    const char *name;
    int value;
    bool needs_nodes, no_nodes;
} modes[] = {
    {"MPOL_DEFAULT", 0, false, true},
    {"MPOL_PREFERRED", 1, false, false},
    {"MPOL_BIND", 2, true, false},
    {"MPOL_INTERLEAVE", 3, true, false},
    {"MPOL_LOCAL", 4, false, true},
    {"MPOL_PREFERRED_MANY", 5, true, false},
    {"MPOL_WEIGHTED_INTERLEAVE", 6, true, false},
};

static const struct {
    const char *name;
    int value;
} flags[] = {
    {"MPOL_F_NUMA_BALANCING", 1 << 13},
    {"MPOL_F_RELATIVE_NODES", 1 << 14},
    {"MPOL_F_STATIC_NODES", 1 << 15},
};

#define BITS_PER_WORD (8 * sizeof(unsigned long))

static int parse_nodes(const char *s, struct rt_mempolicy *p, pr_error **err)
{
    const char *c = s;
    while (*c) {
        char *end;
        errno = 0;
        unsigned long lo = strtoul(c, &end, 10), hi = lo;
        if (errno || end == c || *c == '-' || *c == '+')
            goto bad;
        c = end;
        if (*c == '-') {
            const char *h = ++c;
            hi = strtoul(h, &end, 10);
            if (errno || end == h || *h == '-' || *h == '+' || hi < lo)
                goto bad;
            c = end;
        }
        if (hi >= RT_MEMPOLICY_MAX_NODES)
            return pr_err(err, 0, "linux.memoryPolicy.nodes: node %lu is past the limit of %d", hi,
                          RT_MEMPOLICY_MAX_NODES - 1);
        for (unsigned long n = lo; n <= hi; n++)
            p->nodes[n / BITS_PER_WORD] |= 1UL << (n % BITS_PER_WORD);
        if (hi + 2 > p->maxnode)
            p->maxnode = hi + 2;
        if (*c == ',' && c[1])
            c++;
        else if (*c)
            goto bad;
    }
    return 0;
bad:
    return pr_err(err, 0, "linux.memoryPolicy.nodes: \"%s\" is not a list of nodes such as 0-3,7",
                  s);
}

int rt_mempolicy_parse(yajl_val policy, struct rt_mempolicy *out, pr_error **err)
{
    *out = (struct rt_mempolicy){0};
    if (!policy || YAJL_IS_NULL(policy))
        return 0;
    if (!YAJL_IS_OBJECT(policy))
        return pr_err(err, 0, "linux.memoryPolicy: expected an object");
    const char *mode = NULL, *nodes = NULL;
    _cleanup_strv_ char **fl = NULL;
    int r;
    if ((r = json_get_str(policy, "mode", "linux.memoryPolicy", &mode, err)) < 0 ||
        (r = json_get_str(policy, "nodes", "linux.memoryPolicy", &nodes, err)) < 0 ||
        (r = json_get_strv(policy, "flags", "linux.memoryPolicy", &fl, err)) < 0)
        return r;
    if (!mode)
        return pr_err(err, 0, "linux.memoryPolicy.mode: required");
    size_t m;
    for (m = 0; m < ARRAY_SIZE(modes); m++)
        if (streq(modes[m].name, mode))
            break;
    if (m == ARRAY_SIZE(modes))
        return pr_err(err, 0, "linux.memoryPolicy.mode: unknown mode \"%s\"", mode);
    out->mode = modes[m].value;
    for (size_t i = 0; fl && fl[i]; i++) {
        size_t f;
        for (f = 0; f < ARRAY_SIZE(flags); f++)
            if (streq(flags[f].name, fl[i]))
                break;
        if (f == ARRAY_SIZE(flags))
            return pr_err(err, 0, "linux.memoryPolicy.flags: unknown flag \"%s\"", fl[i]);
        out->mode |= flags[f].value;
    }
    if (nodes && *nodes && (r = parse_nodes(nodes, out, err)) < 0)
        return r;
    if (modes[m].no_nodes && out->maxnode)
        return pr_err(err, 0, "linux.memoryPolicy: %s takes no nodes", mode);
    if (modes[m].needs_nodes && !out->maxnode)
        return pr_err(err, 0, "linux.memoryPolicy: %s needs nodes", mode);
    out->set = true;
    return 0;
}

int rt_mempolicy_apply(const struct rt_mempolicy *p, pr_error **err)
{
    if (!p->set)
        return 0;
    if (syscall(SYS_set_mempolicy, p->mode, p->maxnode ? p->nodes : NULL, p->maxnode) < 0)
        return pr_err(err, errno, "linux.memoryPolicy: set_mempolicy");
    return 0;
}

void rt_mempolicy_features(yajl_gen g)
{
    jg_map_open(g);
    jg_key(g, "modes");
    jg_array_open(g);
    for (size_t i = 0; i < ARRAY_SIZE(modes); i++)
        jg_str(g, modes[i].name);
    jg_array_close(g);
    jg_key(g, "flags");
    jg_array_open(g);
    for (size_t i = 0; i < ARRAY_SIZE(flags); i++)
        jg_str(g, flags[i].name);
    jg_array_close(g);
    jg_map_close(g);
}
