/* SPDX-License-Identifier: Apache-2.0 */
/* The Deployment controller's decisions, as pure functions: the pod-template hash that names a
 * ReplicaSet, the surge and unavailability a rolling update may use, and one step of a rollout
 * (which ReplicaSet to scale, to how many). They follow Kubernetes' deployment controller
 * (pkg/controller/deployment: rolling.go, recreate.go, util), one action per step as it takes
 * one per sync, so that a rollout is a sequence of steps each gated on what the pods report. */
#include "kube.h"
#include "util.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>

/* Kubernetes' rand.SafeEncodeString alphabet: no vowels (no words), no 0/1/3 (look like o/l/e). */
static const char safe_alphabet[] = "bcdfghjklmnpqrstvwxz2456789";

int kube_template_hash(yajl_val template_, int32_t collision_count, char out[KUBE_HASH_MAX],
                       pr_error **err)
{
    /* The template's canonical form: keys sorted, so the same template always hashes alike. */
    _cleanup_free_ char *text = NULL;
    size_t len = 0;
    int r = kube_yaml_emit(template_, &text, &len, err);
    if (r < 0)
        return r;
    uint32_t h = 2166136261u; /* FNV-1a, 32 bits, as Kubernetes' ComputeHash */
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)text[i]) * 16777619u;
    if (collision_count > 0) {
        char c[16];
        int n = snprintf(c, sizeof(c), "%" PRId32, collision_count);
        for (int i = 0; i < n; i++)
            h = (h ^ (unsigned char)c[i]) * 16777619u;
    }
    /* Kubernetes encodes the hash's decimal digits, one letter each. */
    char dec[16];
    int n = snprintf(dec, sizeof(dec), "%" PRIu32, h);
    for (int i = 0; i < n; i++)
        out[i] = safe_alphabet[(unsigned char)dec[i] % (sizeof(safe_alphabet) - 1)];
    out[n] = '\0';
    return 0;
}

void kube_name_suffix(const unsigned char random[KUBE_SUFFIX_LEN], char out[KUBE_SUFFIX_LEN + 1])
{
    for (size_t i = 0; i < KUBE_SUFFIX_LEN; i++)
        out[i] = safe_alphabet[random[i] % (sizeof(safe_alphabet) - 1)];
    out[KUBE_SUFFIX_LEN] = '\0';
}

/* An IntOrString of a count or a percentage of total, rounded up or down. */
static int scaled(const struct kube_int_or_string *v, int32_t def_percent, int32_t total,
                  bool round_up, const char *what, int32_t *out, pr_error **err)
{
    int64_t x;
    if (!v || !v->set) {
        x = (int64_t)total * def_percent;
        x = round_up ? (x + 99) / 100 : x / 100;
    } else if (!v->is_string) {
        x = v->i;
    } else {
        char *end = NULL;
        errno = 0;
        long p = strtol(v->s, &end, 10);
        if (end == v->s || errno || !end || !streq(end, "%") || p < 0 || p > 100000)
            return pr_err(err, 0, "%s: \"%s\": must be an integer or a percentage (\"25%%\")", what,
                          v->s);
        x = (int64_t)total * p;
        x = round_up ? (x + 99) / 100 : x / 100;
    }
    if (x < 0)
        return pr_err(err, 0, "%s: %" PRId64 ": must be greater than or equal to 0", what, x);
    *out = x > INT32_MAX ? INT32_MAX : (int32_t)x;
    return 0;
}

int kube_rollout_limits(const struct kube_rollout *d, int32_t *max_surge, int32_t *max_unavailable,
                        pr_error **err)
{
    int r = scaled(&d->max_surge, 25, d->replicas, true, "spec.strategy.rollingUpdate.maxSurge",
                   max_surge, err);
    if (r == 0)
        r = scaled(&d->max_unavailable, 25, d->replicas, false,
                   "spec.strategy.rollingUpdate.maxUnavailable", max_unavailable, err);
    if (r < 0)
        return r;
    if (*max_unavailable > d->replicas)
        *max_unavailable = d->replicas;
    /* Both rounding to 0 would stall the rollout: Kubernetes then allows one unavailable. */
    if (*max_surge == 0 && *max_unavailable == 0)
        *max_unavailable = 1;
    return 0;
}

static int32_t sum_replicas(const struct kube_rs_state *rs, size_t n)
{
    int64_t s = 0;
    for (size_t i = 0; i < n; i++)
        s += rs[i].replicas;
    return s > INT32_MAX ? INT32_MAX : (int32_t)s;
}

static void recreate_step(const struct kube_rollout *d, const struct kube_rs_state *rs, size_t n,
                          size_t new_idx, int32_t *want)
{
    bool old_scaled = false, old_pods = false;
    for (size_t i = 0; i < n; i++) {
        if (i == new_idx)
            continue;
        if (rs[i].replicas > 0) {
            want[i] = 0;
            old_scaled = true;
        }
        old_pods |= rs[i].pods > 0;
    }
    /* The new pods start only once no old pod runs: that is what Recreate promises. */
    if (!old_scaled && !old_pods)
        want[new_idx] = d->replicas;
}

/* Old ReplicaSets, oldest first: a rollout drains the oldest first. */
static size_t *old_by_age(const struct kube_rs_state *rs, size_t n, size_t new_idx, size_t *count)
{
    size_t *o = xcalloc(n ? n : 1, sizeof(*o)), k = 0;
    for (size_t i = 0; i < n; i++)
        if (i != new_idx)
            o[k++] = i;
    for (size_t i = 1; i < k; i++) /* insertion sort: a handful of ReplicaSets */
        for (size_t j = i; j > 0 && rs[o[j]].created < rs[o[j - 1]].created; j--) {
            size_t t = o[j];
            o[j] = o[j - 1];
            o[j - 1] = t;
        }
    *count = k;
    return o;
}

static void scale_down_old(const struct kube_rollout *d, const struct kube_rs_state *rs, size_t n,
                           size_t new_idx, int32_t max_unavailable, int32_t *want)
{
    int32_t all = sum_replicas(rs, n);
    int32_t min_available = d->replicas - max_unavailable;
    int32_t new_unavailable = rs[new_idx].replicas - rs[new_idx].available;
    int32_t budget = all - min_available - MAX(new_unavailable, 0);
    if (budget <= 0)
        return;
    size_t k;
    _cleanup_free_ size_t *old = old_by_age(rs, n, new_idx, &k);
    /* First the old pods that are not available anyway: removing them costs nothing. */
    int32_t done = 0;
    for (size_t j = 0; j < k && done < budget; j++) {
        const struct kube_rs_state *s = &rs[old[j]];
        int32_t unhealthy = s->replicas - s->available;
        if (s->replicas <= 0 || unhealthy <= 0)
            continue;
        int32_t down = MIN(budget - done, unhealthy);
        want[old[j]] = s->replicas - down;
        done += down;
    }
    if (done > 0)
        return;
    /* Then available ones, as far as the available pods stay at or above the minimum. */
    int64_t available = 0;
    for (size_t i = 0; i < n; i++)
        available += rs[i].available;
    if (available <= min_available)
        return;
    int64_t total = available - min_available, down_so_far = 0;
    for (size_t j = 0; j < k && down_so_far < total; j++) {
        const struct kube_rs_state *s = &rs[old[j]];
        if (s->replicas <= 0)
            continue;
        int32_t down = (int32_t)MIN((int64_t)s->replicas, total - down_so_far);
        want[old[j]] = s->replicas - down;
        down_so_far += down;
    }
}

int kube_rollout_step(const struct kube_rollout *d, const struct kube_rs_state *rs, size_t n,
                      size_t new_idx, int32_t *want, pr_error **err)
{
    if (new_idx >= n)
        return pr_err(err, 0, "rollout: no new ReplicaSet among %zu", n);
    for (size_t i = 0; i < n; i++)
        want[i] = rs[i].replicas;
    if (d->paused)
        return 0;
    if (d->recreate) {
        recreate_step(d, rs, n, new_idx, want);
        return 0;
    }
    int32_t max_surge, max_unavailable;
    int r = kube_rollout_limits(d, &max_surge, &max_unavailable, err);
    if (r < 0)
        return r;
    const struct kube_rs_state *nw = &rs[new_idx];
    /* The new ReplicaSet first: up to the surge, or down to the replicas wanted. */
    if (nw->replicas > d->replicas) {
        want[new_idx] = d->replicas;
        return 0;
    }
    if (nw->replicas < d->replicas) {
        int64_t max_total = (int64_t)d->replicas + max_surge, current = sum_replicas(rs, n);
        if (current < max_total) {
            int64_t up = MIN(max_total - current, (int64_t)d->replicas - nw->replicas);
            want[new_idx] = nw->replicas + (int32_t)up;
            return 0;
        }
    }
    scale_down_old(d, rs, n, new_idx, max_unavailable, want);
    return 0;
}

bool kube_rollout_complete(const struct kube_rollout *d, const struct kube_rs_state *rs, size_t n,
                           size_t new_idx)
{
    if (new_idx >= n || rs[new_idx].replicas != d->replicas || rs[new_idx].available < d->replicas)
        return false;
    for (size_t i = 0; i < n; i++)
        if (i != new_idx && (rs[i].replicas > 0 || rs[i].pods > 0))
            return false;
    return true;
}
