/* SPDX-License-Identifier: Apache-2.0 */
/* A pod's compute resources as Kubernetes reckons them: a container's request defaults to its
 * limit (the API server's defaulting), the pod's request is the larger of its containers' sum
 * and its largest init container (they run one at a time, before the others), and its QoS
 * class follows the rules of GetPodQOS (pkg/apis/core/helper/qos). */
#include "kube.h"
#include "util.h"

#include <errno.h>

static int quantity(const char *text, int scale, const char *what, int64_t *out, pr_error **err)
{
    struct kube_quantity q;
    int r = kube_quantity_parse(text, &q, err);
    if (r < 0)
        return pr_err_prefix(err, "%s", what);
    if (kube_quantity_scaled(&q, scale, out) < 0 || *out < 0)
        return pr_err_code(err, ERANGE, "%s: quantity \"%s\" is out of range", what, text);
    return 0;
}

int kube_container_compute(const struct kube_container *c, struct kube_compute *out, pr_error **err)
{
    static const char *const names[] = {"cpu", "memory"};
    const struct kube_resources *res = &c->resources;
    *out = (struct kube_compute){0};
    for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
        const char *lim = kube_map_get(&res->limits, names[i]);
        const char *req = kube_map_get(&res->requests, names[i]);
        int scale = i == 0 ? 3 : 0;
        int64_t *lv = i == 0 ? &out->cpu_limit : &out->memory_limit;
        int64_t *rv = i == 0 ? &out->cpu_request : &out->memory_request;
        bool *has = i == 0 ? &out->has_cpu_limit : &out->has_memory_limit;
        _cleanup_free_ char *lw =
            xasprintf("container \"%s\": resources.limits.%s", c->name, names[i]);
        _cleanup_free_ char *rw =
            xasprintf("container \"%s\": resources.requests.%s", c->name, names[i]);
        int r;
        if (lim && (r = quantity(lim, scale, lw, lv, err)) < 0)
            return r;
        if (req && (r = quantity(req, scale, rw, rv, err)) < 0)
            return r;
        *has = lim != NULL;
        if (!req && lim)
            *rv = *lv;
        if (lim && *rv > *lv)
            return pr_err(err, 0,
                          "container \"%s\": resources.requests.%s: Invalid value: "
                          "\"%s\": must be less than or equal to %s limit of %s",
                          c->name, names[i], req, names[i], lim);
    }
    return 0;
}

static int64_t max64(int64_t a, int64_t b)
{
    return a > b ? a : b;
}

int kube_pod_compute(const struct kube_pod_spec *s, struct kube_compute *out, pr_error **err)
{
    struct kube_compute sum = {.has_cpu_limit = true, .has_memory_limit = true};
    struct kube_compute init = {.has_cpu_limit = true, .has_memory_limit = true};
    for (int k = 0; k < 2; k++) {
        const struct kube_container *list = k ? s->init_containers : s->containers;
        size_t n = k ? s->n_init_containers : s->n_containers;
        struct kube_compute *acc = k ? &init : &sum;
        for (size_t i = 0; i < n; i++) {
            struct kube_compute c;
            int r = kube_container_compute(&list[i], &c, err);
            if (r < 0)
                return r;
            acc->cpu_request =
                k ? max64(acc->cpu_request, c.cpu_request) : acc->cpu_request + c.cpu_request;
            acc->memory_request = k ? max64(acc->memory_request, c.memory_request)
                                    : acc->memory_request + c.memory_request;
            acc->cpu_limit = k ? max64(acc->cpu_limit, c.cpu_limit) : acc->cpu_limit + c.cpu_limit;
            acc->memory_limit =
                k ? max64(acc->memory_limit, c.memory_limit) : acc->memory_limit + c.memory_limit;
            acc->has_cpu_limit = acc->has_cpu_limit && c.has_cpu_limit;
            acc->has_memory_limit = acc->has_memory_limit && c.has_memory_limit;
        }
    }
    /* A limit holds for the pod only when every container, init containers too, has one. */
    *out = (struct kube_compute){
        .cpu_request = max64(sum.cpu_request, init.cpu_request),
        .memory_request = max64(sum.memory_request, init.memory_request),
        .cpu_limit = max64(sum.cpu_limit, init.cpu_limit),
        .memory_limit = max64(sum.memory_limit, init.memory_limit),
        .has_cpu_limit = sum.has_cpu_limit && init.has_cpu_limit,
        .has_memory_limit = sum.has_memory_limit && init.has_memory_limit,
    };
    return 0;
}

const char *kube_qos_name(enum kube_qos q)
{
    return q == KUBE_QOS_GUARANTEED  ? "Guaranteed"
           : q == KUBE_QOS_BURSTABLE ? "Burstable"
                                     : "BestEffort";
}

/* GetPodQOS: requests and limits of cpu and memory summed over every container (zero ones
 * left out, requests defaulted from limits); BestEffort with none; Guaranteed when every
 * container limits both and the summed requests equal the summed limits. Quantities were
 * checked by the decoder; one that does not parse counts as zero here. */
enum kube_qos kube_pod_qos(const struct kube_pod_spec *s)
{
    int64_t req[2] = {0, 0}, lim[2] = {0, 0};
    bool has_req[2] = {false, false}, has_lim[2] = {false, false}, guaranteed = true;
    for (size_t i = 0; i < s->n_init_containers + s->n_containers; i++) {
        const struct kube_container *c = i < s->n_init_containers
                                             ? &s->init_containers[i]
                                             : &s->containers[i - s->n_init_containers];
        struct kube_compute v;
        _cleanup_error_ pr_error *e = NULL;
        if (kube_container_compute(c, &v, &e) < 0)
            v = (struct kube_compute){0};
        int64_t rv[2] = {v.cpu_request, v.memory_request}, lv[2] = {v.cpu_limit, v.memory_limit};
        bool found[2] = {false, false};
        for (int k = 0; k < 2; k++) {
            if (rv[k] > 0) {
                req[k] += rv[k];
                has_req[k] = true;
            }
            if (lv[k] > 0) {
                lim[k] += lv[k];
                has_lim[k] = found[k] = true;
            }
        }
        if (!found[0] || !found[1])
            guaranteed = false;
    }
    if (!has_req[0] && !has_req[1] && !has_lim[0] && !has_lim[1])
        return KUBE_QOS_BESTEFFORT;
    for (int k = 0; guaranteed && k < 2; k++)
        if (has_req[k] && (!has_lim[k] || lim[k] != req[k]))
            guaranteed = false;
    if (guaranteed && has_req[0] == has_lim[0] && has_req[1] == has_lim[1])
        return KUBE_QOS_GUARANTEED;
    return KUBE_QOS_BURSTABLE;
}
