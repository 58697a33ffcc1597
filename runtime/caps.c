/* SPDX-License-Identifier: Apache-2.0 */
/* process.capabilities: names checked in the runtime (so a typo fails `create`), sets applied
 * in the container's init in two steps around the uid change. */
#include "caps.h"
#include "capabilities.h"
#include "fs.h"
#include "json.h"
#include "log.h"
#include "util.h"

#include <stdint.h>
#include <sys/capability.h>
#include <sys/prctl.h>

enum cap_set_kind {
    SET_BOUNDING,
    SET_EFFECTIVE,
    SET_INHERITABLE,
    SET_PERMITTED,
    SET_AMBIENT,
    N_SETS
};

static const char *const set_keys[N_SETS] = {
    [SET_BOUNDING] = "bounding",   [SET_EFFECTIVE] = "effective", [SET_INHERITABLE] = "inheritable",
    [SET_PERMITTED] = "permitted", [SET_AMBIENT] = "ambient",
};


#define N_KNOWN_CAPS CAP_NAMES_COUNT

struct rt_caps {
    uint64_t sets[N_SETS]; /* bit n: capability n */
    int last_cap;          /* the running kernel's highest capability */
};

static bool has_cap(const struct rt_caps *c, enum cap_set_kind set, int cap)
{
    return c->sets[set] & (UINT64_C(1) << cap);
}

static const char *cap_name(int cap, char buf[32])
{
    if (cap >= 0 && cap < N_KNOWN_CAPS)
        return cap_names[cap];
    snprintf(buf, 32, "capability %d", cap);
    return buf;
}

/* /proc/sys/kernel/cap_last_cap, else probed: PR_CAPBSET_READ fails with EINVAL past it. */
static int kernel_last_cap(void)
{
    _cleanup_free_ char *text = NULL;
    size_t len;
    if (read_file("/proc/sys/kernel/cap_last_cap", &text, &len, NULL) == 0) {
        int v = atoi(text);
        if (v > 0 && v < 64)
            return v;
    }
    int cap = 0;
    while (cap < 63 && prctl(PR_CAPBSET_READ, cap + 1, 0, 0, 0) >= 0)
        cap++;
    return cap;
}


static int parse_set(yajl_val caps, enum cap_set_kind set, struct rt_caps *c, pr_error **err)
{
    yajl_val arr = NULL;
    int r = json_get_array(caps, set_keys[set], "process.capabilities", &arr, err);
    if (r < 0)
        return r;
    for (size_t i = 0; i < json_array_len(arr); i++) {
        yajl_val v = json_array_at(arr, i);
        if (!YAJL_IS_STRING(v))
            return pr_err(err, 0, "process.capabilities.%s[%zu]: expected string, got %s",
                          set_keys[set], i, json_type_name(v));
        int cap = cap_number(v->u.string);
        if (cap < 0)
            return pr_err(err, 0, "process.capabilities.%s[%zu]: unknown capability \"%s\"",
                          set_keys[set], i, v->u.string);
        if (cap > c->last_cap) {
            pr_warning("process.capabilities.%s: %s is not supported by the running kernel, "
                       "skipped",
                       set_keys[set], v->u.string);
            continue;
        }
        c->sets[set] |= UINT64_C(1) << cap;
    }
    return 0;
}

/* What the kernel would refuse later in the init is reported now, from the runtime. */
static int check_sets(struct rt_caps *c, pr_error **err)
{
    char buf[32];
    for (int cap = 0; cap <= c->last_cap && cap < N_KNOWN_CAPS; cap++) {
        if (has_cap(c, SET_EFFECTIVE, cap) && !has_cap(c, SET_PERMITTED, cap))
            return pr_err(err, 0,
                          "process.capabilities.effective: %s is not in the permitted set (the "
                          "effective set must be a subset of it)",
                          cap_name(cap, buf));
        if (has_cap(c, SET_AMBIENT, cap) &&
            !(has_cap(c, SET_PERMITTED, cap) && has_cap(c, SET_INHERITABLE, cap))) {
            /* The kernel only raises an ambient capability that is permitted and
             * inheritable. `spec`'s default config (runc's too) lists ambient capabilities
             * and no inheritable set, and runc skips them silently: a warning on every
             * default container would be noise, so this is only a debug message. */
            pr_debug("process.capabilities.ambient: %s is not in both the permitted and the "
                     "inheritable sets, skipped",
                     cap_name(cap, buf));
            c->sets[SET_AMBIENT] &= ~(UINT64_C(1) << cap);
        }
    }
    return 0;
}

int rt_caps_parse(yajl_val caps, struct rt_caps **out, pr_error **err)
{
    *out = NULL;
    struct rt_caps *c = xcalloc(1, sizeof(*c));
    c->last_cap = kernel_last_cap();

    int r = 0;
    if (caps && !YAJL_IS_NULL(caps)) {
        if (!YAJL_IS_OBJECT(caps))
            r = pr_err(err, 0, "process.capabilities: expected object, got %s",
                       json_type_name(caps));
        for (int set = 0; r == 0 && set < N_SETS; set++)
            r = parse_set(caps, (enum cap_set_kind)set, c, err);
        if (r == 0)
            r = check_sets(c, err);
    }
    if (r < 0) {
        free(c);
        return r;
    }
    *out = c;
    return 0;
}

int rt_caps_apply_bounding(const struct rt_caps *c, pr_error **err)
{
    char buf[32];
    for (int cap = 0; cap <= c->last_cap; cap++) {
        if (has_cap(c, SET_BOUNDING, cap))
            continue;
        int in = prctl(PR_CAPBSET_READ, cap, 0, 0, 0);
        if (in < 0 && errno == EINVAL)
            break; /* past the kernel's last capability */
        if (in < 0)
            return pr_err(err, errno, "reading %s in the bounding set", cap_name(cap, buf));
        if (in == 0)
            continue;
        if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0)
            return pr_err(err, errno, "dropping %s from the bounding set", cap_name(cap, buf));
    }
    return 0;
}

static void cap_freep(cap_t *p)
{
    if (*p)
        cap_free(*p);
}

static int set_process_caps(const struct rt_caps *c, pr_error **err)
{
    static const struct {
        enum cap_set_kind set;
        cap_flag_t flag;
    } map[] = {
        {SET_EFFECTIVE, CAP_EFFECTIVE},
        {SET_PERMITTED, CAP_PERMITTED},
        {SET_INHERITABLE, CAP_INHERITABLE},
    };
    int r;
    _cleanup_(cap_freep) cap_t state = cap_init();
    if (!state)
        return pr_err(err, errno, "allocating a capability state");
    for (int cap = 0; cap <= c->last_cap && cap < N_KNOWN_CAPS; cap++) {
        cap_value_t v = cap;
        for (size_t m = 0; m < ARRAY_SIZE(map); m++)
            if (has_cap(c, map[m].set, cap) && cap_set_flag(state, map[m].flag, 1, &v, CAP_SET) < 0)
                return pr_err(err, errno, "building the capability state");
    }
    if (cap_set_proc(state) < 0) {
        int e = errno;
        char *text = cap_to_text(state, NULL); /* libcap memory: cap_free, not free */
        r = pr_err(err, e, "setting the process capabilities to \"%s\"", text ? text : "?");
        cap_free(text);
        return r;
    }
    return 0;
}

static int set_ambient_caps(const struct rt_caps *c, pr_error **err)
{
    char buf[32];
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0) {
        /* Kernels before 4.3 have no ambient set: fine as long as none is asked for. */
        if (errno == EINVAL && c->sets[SET_AMBIENT] == 0)
            return 0;
        return pr_err(err, errno, "clearing the ambient capabilities");
    }
    for (int cap = 0; cap <= c->last_cap && cap < N_KNOWN_CAPS; cap++) {
        if (!has_cap(c, SET_AMBIENT, cap))
            continue;
        if (!has_cap(c, SET_PERMITTED, cap) || !has_cap(c, SET_INHERITABLE, cap)) {
            pr_warning("ambient %s is not permitted and inheritable, skipped", cap_name(cap, buf));
            continue;
        }
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0)
            return pr_err(err, errno, "raising the ambient capability %s", cap_name(cap, buf));
    }
    return 0;
}

int rt_caps_apply(const struct rt_caps *c, pr_error **err)
{
    int r = set_process_caps(c, err);
    if (r < 0)
        return r;
    /* After capset: raising an ambient capability needs it inheritable already. */
    return set_ambient_caps(c, err);
}

void rt_caps_free(struct rt_caps *c)
{
    free(c);
}

void rt_caps_features(yajl_gen g)
{
    jg_array_open(g);
    for (int cap = 0; cap < N_KNOWN_CAPS; cap++)
        jg_str(g, cap_names[cap]);
    jg_array_close(g);
}
