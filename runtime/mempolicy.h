/* SPDX-License-Identifier: Apache-2.0 */
/* linux.memoryPolicy (runtime-spec 1.3): the container's NUMA memory policy, set_mempolicy(2). */
#ifndef RT_MEMPOLICY_H
#define RT_MEMPOLICY_H

#include "error.h"

#include <stdbool.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#define RT_MEMPOLICY_MAX_NODES 1024

struct rt_mempolicy {
    bool set;
    int mode; /* MPOL_* | MPOL_F_* flags */
    unsigned long nodes[RT_MEMPOLICY_MAX_NODES / (8 * sizeof(unsigned long))];
    unsigned long maxnode; /* highest node + 2, as set_mempolicy counts bits; 0: no nodes */
};

/* At config load: mode, nodes ("0-3,7") and flags checked; out->set when given. */
int rt_mempolicy_parse(yajl_val policy, struct rt_mempolicy *out, pr_error **err);

/* In the container's process before it executes the program. */
int rt_mempolicy_apply(const struct rt_mempolicy *p, pr_error **err);

/* features: {"modes": [...], "flags": [...]} */
void rt_mempolicy_features(yajl_gen g);

#endif
