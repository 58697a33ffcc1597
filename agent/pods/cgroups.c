/* SPDX-License-Identifier: Apache-2.0 */
/* Pods' cgroups as the kubelet lays them out with the cgroupfs driver: ROOT/kubepods for
 * Guaranteed pods, ROOT/kubepods/burstable and ROOT/kubepods/besteffort for the others, a
 * pod<uid> cgroup per pod with the pod's limits, and the containers' cgroups (made by the
 * runtime from each config's cgroupsPath) inside it. The same path is made in every mounted
 * hierarchy, the cgroup2 one and each v1 one, because the runtime places a container in all of
 * them: a pod directory podrun did not make would be left behind. Values go where the
 * controller is: cpu.shares/cpu.cfs_quota_us/memory.limit_in_bytes in v1, cpu.weight/cpu.max/
 * memory.max in cgroup2. The QoS parents podrun made are listed in run-root/cgroups.made and
 * removed when they are empty; anything else is left alone. */
#include "cgroup-names.h"
#include "fs.h"
#include "manager.h"
#include "util.h"

#include <dirent.h>
#include <limits.h>
#include <sys/stat.h>

#define CPU_PERIOD_US 100000
#define MIN_SHARES    2
#define MAX_SHARES    262144
#define MIN_QUOTA_US  1000
#define MADE_MAX      (1u << 20)

struct hierarchy {
    char *mnt;
    char *controllers; /* v1: "cpu,cpuacct"; cgroup2: NULL */
};

struct hierarchies {
    struct hierarchy *v;
    size_t n;
};

static void hierarchies_clear(struct hierarchies *h)
{
    for (size_t i = 0; i < h->n; i++) {
        free(h->v[i].mnt);
        free(h->v[i].controllers);
    }
    free(h->v);
    *h = (struct hierarchies){0};
}

/* Every cgroup hierarchy as the runtime sees them (runtime/cgroup.c, cg_host_discover): the
 * cgroup2 mount, preferring /sys/fs/cgroup, and each v1 hierarchy once; on a pure cgroup2 host
 * stray v1 named hierarchies are left out. */
static int hierarchies_find(struct hierarchies *h, pr_error **err)
{
    _cleanup_free_ char *text = NULL;
    size_t len;
    int r = read_file("/proc/self/mountinfo", &text, &len, err);
    if (r < 0)
        return r;
    char *v2 = NULL;
    for (char *line = text; line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        char *sep = strstr(line, " - ");
        char mnt[PATH_MAX], fstype[64], source[PATH_MAX], opts[1024];
        if (sep && sscanf(line, "%*d %*d %*s %*s %4095s", mnt) == 1 &&
            sscanf(sep + 3, "%63s %4095s %1023s", fstype, source, opts) == 3) {
            if (streq(fstype, "cgroup2") && (!v2 || streq(mnt, "/sys/fs/cgroup"))) {
                free(v2);
                v2 = xstrdup(mnt);
            } else if (streq(fstype, "cgroup")) {
                char *ctrls = cgroup_v1_controllers(opts);
                bool dup = !ctrls;
                for (size_t i = 0; !dup && i < h->n; i++)
                    dup = h->v[i].controllers && streq(h->v[i].controllers, ctrls);
                if (dup) {
                    free(ctrls);
                } else {
                    h->v = xrealloc(h->v, (h->n + 1) * sizeof(*h->v));
                    h->v[h->n++] = (struct hierarchy){xstrdup(mnt), ctrls};
                }
            }
        }
        line = nl ? nl + 1 : NULL;
    }
    if (v2 && streq(v2, "/sys/fs/cgroup")) {
        hierarchies_clear(h); /* pure cgroup2 */
    }
    if (v2) {
        h->v = xrealloc(h->v, (h->n + 1) * sizeof(*h->v));
        memmove(h->v + 1, h->v, h->n * sizeof(*h->v));
        h->v[0] = (struct hierarchy){v2, NULL};
        h->n++;
    }
    if (!h->n)
        return pr_err(err, ENOENT, "no cgroup filesystem is mounted");
    return 0;
}

/* The directory of controller ctrl for cgroup path: its v1 hierarchy, else cgroup2 when the
 * root offers it there. NULL when the host has no such controller. */
static char *controller_dir(const struct hierarchies *h, const char *ctrl, const char *path,
                            bool *v2)
{
    for (size_t i = 0; i < h->n; i++)
        if (h->v[i].controllers && cgroup_in_list(h->v[i].controllers, ctrl)) {
            *v2 = false;
            return xasprintf("%s%s", h->v[i].mnt, path);
        }
    if (h->n && !h->v[0].controllers) {
        _cleanup_free_ char *list = NULL, *p = xasprintf("%s/cgroup.controllers", h->v[0].mnt);
        size_t len;
        if (read_file(p, &list, &len, NULL) == 0) {
            for (char *save = NULL, *t = strtok_r(list, " \n", &save); t;
                 t = strtok_r(NULL, " \n", &save))
                if (streq(t, ctrl)) {
                    *v2 = true;
                    return xasprintf("%s%s", h->v[0].mnt, path);
                }
        }
    }
    return NULL;
}

static const char *qos_dir(enum kube_qos q)
{
    return q == KUBE_QOS_BURSTABLE ? "/burstable" : q == KUBE_QOS_BESTEFFORT ? "/besteffort" : "";
}

char *pods_cgroup_pod_path(pods_manager *m, enum kube_qos q, const char *uid)
{
    const struct pods_node_config *c;
    _cleanup_error_ pr_error *e = NULL;
    const char *root =
        pods_node_config_get(m, &c, &e) == 0 ? c->cgroup_root : PODS_DEFAULT_CGROUP_ROOT;
    return xasprintf("%s/kubepods%s/pod%s", root, qos_dir(q), uid);
}

/* The kubelet's conversions (pkg/kubelet/cm/helpers_linux.go). */
static uint64_t milli_to_shares(int64_t milli)
{
    int64_t s = milli * 1024 / 1000;
    return s < MIN_SHARES ? MIN_SHARES : s > MAX_SHARES ? MAX_SHARES : (uint64_t)s;
}

static int64_t milli_to_quota(int64_t milli)
{
    int64_t q = milli * CPU_PERIOD_US / 1000;
    return q < MIN_QUOTA_US ? MIN_QUOTA_US : q;
}

static uint64_t shares_to_weight(uint64_t shares)
{
    return 1 + ((shares - 2) * 9999) / 262142;
}

/* ---- the list of directories podrun made ---- */

static char *made_path(pods_manager *m)
{
    return xasprintf("%s/cgroups.made", m->run_root);
}

static char **made_load(pods_manager *m)
{
    _cleanup_free_ char *path = made_path(m), *text = NULL;
    size_t len;
    char **v = NULL;
    if (read_file_max(path, MADE_MAX, READ_REGULAR, &text, &len, NULL) < 0)
        return NULL;
    for (char *save = NULL, *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
        if (l[0] == '/')
            strv_extend(&v, l);
    return v;
}

static int made_save(pods_manager *m, char *const *v, pr_error **err)
{
    _cleanup_free_ char *path = made_path(m), *text = xstrdup("");
    for (; v && *v; v++) {
        char *n = xasprintf("%s%s\n", text, *v);
        free(text);
        text = n;
    }
    if (!*text)
        return unlink(path) < 0 && errno != ENOENT ? pr_err(err, errno, "remove `%s`", path) : 0;
    return write_file_atomic_volatile(path, text, strlen(text), 0600, err);
}

static bool strv_has(char *const *v, const char *s)
{
    for (; v && *v; v++)
        if (streq(*v, s))
            return true;
    return false;
}

/* ---- writing values ---- */

static int write_value(const char *dir, const char *file, const char *value, pr_error **err)
{
    _cleanup_free_ char *p = xasprintf("%s/%s", dir, file);
    int r = write_file(p, value, strlen(value), err);
    return r < 0 ? pr_err_prefix(err, "cgroup `%s`", dir) : 0;
}

/* The cpu.shares (or cpu.weight) of cgroup path. */
static int set_shares(const struct hierarchies *h, const char *path, uint64_t shares,
                      pr_error **err)
{
    bool v2;
    _cleanup_free_ char *dir = controller_dir(h, "cpu", path, &v2);
    if (!dir)
        return 0; /* a kernel without the cpu controller has nothing to share */
    char buf[32];
    snprintf(buf, sizeof(buf), "%llu",
             (unsigned long long)(v2 ? shares_to_weight(shares) : shares));
    return write_value(dir, v2 ? "cpu.weight" : "cpu.shares", buf, err);
}

static int set_limits(const struct hierarchies *h, const char *path, int64_t quota, int64_t memory,
                      pr_error **err)
{
    bool v2;
    char buf[64];
    int r;
    _cleanup_free_ char *cpu = controller_dir(h, "cpu", path, &v2);
    if (cpu && quota > 0) {
        if (v2) {
            snprintf(buf, sizeof(buf), "%lld %d", (long long)quota, CPU_PERIOD_US);
            r = write_value(cpu, "cpu.max", buf, err);
        } else {
            snprintf(buf, sizeof(buf), "%d", CPU_PERIOD_US);
            r = write_value(cpu, "cpu.cfs_period_us", buf, err);
            snprintf(buf, sizeof(buf), "%lld", (long long)quota);
            if (r == 0)
                r = write_value(cpu, "cpu.cfs_quota_us", buf, err);
        }
        if (r < 0)
            return r;
    }
    _cleanup_free_ char *mem = controller_dir(h, "memory", path, &v2);
    if (mem && memory > 0) {
        snprintf(buf, sizeof(buf), "%lld", (long long)memory);
        if ((r = write_value(mem, v2 ? "memory.max" : "memory.limit_in_bytes", buf, err)) < 0)
            return r;
    }
    return 0;
}

/* pids.max is the same file in v1's pids hierarchy and in v2. */
static int set_pids(const struct hierarchies *h, const char *path, int64_t max, pr_error **err)
{
    bool v2;
    char buf[32];
    _cleanup_free_ char *dir = controller_dir(h, "pids", path, &v2);
    if (!dir || max <= 0)
        return 0;
    snprintf(buf, sizeof(buf), "%lld", (long long)max);
    return write_value(dir, "pids.max", buf, err);
}

/* ---- making directories ---- */

/* A new v1 cpuset has no CPUs and no memory nodes: nothing could run in it. */
static void cpuset_copy_parent(const char *dir)
{
    static const char *const files[] = {"cpuset.cpus", "cpuset.mems"};
    _cleanup_free_ char *parent = xstrndup(dir, (size_t)(strrchr(dir, '/') - dir));
    for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
        _cleanup_free_ char *mine = NULL, *theirs = NULL;
        _cleanup_free_ char *mp = xasprintf("%s/%s", dir, files[i]);
        _cleanup_free_ char *tp = xasprintf("%s/%s", parent, files[i]);
        size_t len;
        if (read_file(mp, &mine, &len, NULL) < 0 || strspn(mine, " \n") != len ||
            read_file(tp, &theirs, &len, NULL) < 0)
            continue;
        write_file(mp, theirs, len, NULL);
    }
}

/* Lets dir's children use the controllers podrun sets (cgroup2). The root may always; a
 * podrun-owned cgroup holds no processes, so it may too. */
static void v2_enable(const char *dir)
{
    static const char *const want[] = {"+cpu", "+memory", "+pids", "+io", "+cpuset", "+hugetlb"};
    _cleanup_free_ char *avail = NULL, *p = xasprintf("%s/cgroup.controllers", dir);
    _cleanup_free_ char *sub = xasprintf("%s/cgroup.subtree_control", dir);
    size_t len;
    if (read_file(p, &avail, &len, NULL) < 0)
        return;
    for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
        _cleanup_free_ char *name = xasprintf(" %s ", want[i] + 1);
        _cleanup_free_ char *padded = xasprintf(" %.*s ", (int)strcspn(avail, "\n"), avail);
        if (strstr(padded, name))
            write_file(sub, want[i], strlen(want[i]), NULL);
    }
}

/* mkdir -p of path in hierarchy hy; the directories made on the way (but the last, the pod's)
 * are added to *made. A parent that another podrun removes while this one walks is made
 * again. */
static int make_chain(const struct hierarchy *hy, const char *path, char ***made, pr_error **err)
{
    _cleanup_free_ char *full = xasprintf("%s%s", hy->mnt, path);
    size_t base = strlen(hy->mnt);
    bool cpuset = hy->controllers && cgroup_in_list(hy->controllers, "cpuset");
    for (int attempt = 0; attempt < 5; attempt++) {
        bool again = false;
        for (char *p = full + base + 1; !again;) {
            p += strcspn(p, "/");
            char saved = *p;
            *p = '\0';
            _cleanup_free_ char *parent = xstrndup(full, (size_t)(strrchr(full, '/') - full));
            if (!hy->controllers)
                v2_enable(parent);
            if (mkdir(full, 0755) == 0) {
                if (saved && !strv_has(*made, full))
                    strv_extend(made, full);
                if (cpuset)
                    cpuset_copy_parent(full);
            } else if (errno == ENOENT) {
                again = true;
            } else if (errno != EEXIST || !saved) {
                int e = errno;
                *p = saved;
                return pr_err(err, e, "create cgroup `%s`", full);
            }
            *p = saved;
            if (!saved)
                break;
            p++;
        }
        if (!again)
            return 0;
    }
    return pr_err(err, ENOENT, "create cgroup `%s`: its parents keep vanishing", full);
}

/* The QoS classes' cpu shares as the kubelet keeps them: besteffort the minimum, burstable
 * the sum of its pods' CPU requests (but gone's, a pod being removed), kubepods the node's
 * allocatable CPU. */
static int update_qos(pods_manager *m, const struct hierarchies *h, const char *root,
                      const char *gone, pr_error **err)
{
    struct pods_node_pod *pods = NULL;
    size_t n = 0;
    struct pods_node_resources cap, alloc;
    int r;
    if ((r = pods_node_resources(m, &cap, &alloc, err)) < 0 ||
        (r = pods_node_pods(m, &pods, &n, err)) < 0)
        return r;
    int64_t burstable = 0;
    for (size_t i = 0; i < n; i++)
        if (streq(pods[i].qos, "Burstable") && !(gone && streq(pods[i].uid, gone)))
            burstable += pods[i].compute.cpu_request;
    pods_node_pods_free(pods, n);
    _cleanup_free_ char *kp = xasprintf("%s/kubepods", root);
    _cleanup_free_ char *bu = xasprintf("%s/kubepods/burstable", root);
    _cleanup_free_ char *be = xasprintf("%s/kubepods/besteffort", root);
    bool v2;
    _cleanup_free_ char *bu_dir = controller_dir(h, "cpu", bu, &v2);
    _cleanup_free_ char *be_dir = controller_dir(h, "cpu", be, &v2);
    /* As the kubelet enforces node allocatable on kubepods: pods together cannot take the
     * process ids the node keeps for itself (systemReserved/kubeReserved pid). */
    const struct pods_node_config *cfg;
    if ((r = set_shares(h, kp, milli_to_shares(alloc.cpu), err)) < 0 ||
        (r = pods_node_config_get(m, &cfg, err)) < 0 ||
        (r = set_pids(h, kp, pods_node_pids_allocatable(cfg), err)) < 0)
        return r;
    if (bu_dir && access(bu_dir, F_OK) == 0 &&
        (r = set_shares(h, bu, milli_to_shares(burstable), err)) < 0)
        return r;
    if (be_dir && access(be_dir, F_OK) == 0 && (r = set_shares(h, be, MIN_SHARES, err)) < 0)
        return r;
    return 0;
}

static int remove_dir(const struct hierarchies *h, const char *path, pr_error **err);

int pods_cgroup_create(pods_manager *m, const char *uid, enum kube_qos q,
                       const struct kube_compute *c, pr_error **err)
{
    const struct pods_node_config *cfg;
    struct hierarchies h = {0};
    int r;
    if ((r = pods_node_config_get(m, &cfg, err)) < 0 || (r = hierarchies_find(&h, err)) < 0)
        return r;
    _cleanup_free_ char *path = pods_cgroup_pod_path(m, q, uid);
    _cleanup_strv_ char **made = made_load(m);
    for (size_t i = 0; r == 0 && i < h.n; i++)
        r = make_chain(&h.v[i], path, &made, err);
    int r2 = made_save(m, made, r == 0 ? err : NULL);
    if (r == 0)
        r = r2;
    /* The pod's own: shares from its CPU request (the minimum for BestEffort), a quota and a
     * memory limit only when every container has one. */
    if (r == 0)
        r = set_shares(
            &h, path, q == KUBE_QOS_BESTEFFORT ? MIN_SHARES : milli_to_shares(c->cpu_request), err);
    if (r == 0)
        r = set_limits(&h, path, c->has_cpu_limit ? milli_to_quota(c->cpu_limit) : 0,
                       c->has_memory_limit ? c->memory_limit : 0, err);
    if (r == 0)
        r = set_pids(&h, path, cfg->pod_pids_limit, err);
    if (r == 0)
        r = update_qos(m, &h, cfg->cgroup_root, NULL, err);
    if (r < 0) {
        _cleanup_error_ pr_error *e = NULL;
        remove_dir(&h, path, &e);
    }
    hierarchies_clear(&h);
    return r;
}

/* ---- removing ---- */

static int rmdir_wait(const char *dir, pr_error **err)
{
    /* A killed container's processes leave the cgroup a moment after the runtime is done. */
    for (int i = 0; i < 200; i++) {
        if (rmdir(dir) == 0 || errno == ENOENT)
            return 0;
        if (errno != EBUSY)
            break;
        usleep(i < 20 ? 1000 : 10000);
    }
    return pr_err(err, errno, "remove cgroup `%s`", dir);
}

static int remove_dir(const struct hierarchies *h, const char *path, pr_error **err)
{
    int r = 0;
    for (size_t i = 0; i < h->n; i++) {
        _cleanup_free_ char *dir = xasprintf("%s%s", h->v[i].mnt, path);
        int r2 = rmdir_wait(dir, r == 0 ? err : NULL);
        if (r == 0)
            r = r2;
    }
    return r;
}

/* The empty cgroups under dir, deepest first (dir stays). */
static void remove_children(const char *dir)
{
    _cleanup_dir_ DIR *d = opendir(dir);
    for (struct dirent *e; d && (e = readdir(d));) {
        if (e->d_name[0] == '.' || e->d_type != DT_DIR)
            continue;
        _cleanup_free_ char *sub = xasprintf("%s/%s", dir, e->d_name);
        remove_children(sub);
        rmdir(sub);
    }
}

void pods_cgroup_remove_orphans(pods_manager *m, const char *uid)
{
    struct hierarchies h = {0};
    _cleanup_error_ pr_error *e = NULL;
    if (hierarchies_find(&h, &e) < 0)
        return;
    static const enum kube_qos classes[] = {KUBE_QOS_GUARANTEED, KUBE_QOS_BURSTABLE,
                                            KUBE_QOS_BESTEFFORT};
    for (size_t i = 0; i < ARRAY_SIZE(classes); i++) {
        _cleanup_free_ char *path = pods_cgroup_pod_path(m, classes[i], uid);
        for (size_t j = 0; j < h.n; j++) {
            _cleanup_free_ char *dir = xasprintf("%s%s", h.v[j].mnt, path);
            remove_children(dir);
        }
    }
    hierarchies_clear(&h);
}

int pods_cgroup_remove(pods_manager *m, const char *uid, pr_error **err)
{
    struct hierarchies h = {0};
    int r = hierarchies_find(&h, err);
    if (r < 0)
        return r;
    static const enum kube_qos classes[] = {KUBE_QOS_GUARANTEED, KUBE_QOS_BURSTABLE,
                                            KUBE_QOS_BESTEFFORT};
    for (size_t i = 0; r == 0 && i < ARRAY_SIZE(classes); i++) {
        _cleanup_free_ char *path = pods_cgroup_pod_path(m, classes[i], uid);
        r = remove_dir(&h, path, err);
    }
    /* Parents podrun made, deepest first, each only when nothing is in it any more. */
    _cleanup_strv_ char **made = made_load(m), **keep = NULL;
    size_t n = strv_length(made);
    for (size_t i = n; i-- > 0;)
        if (rmdir(made[i]) < 0 && errno != ENOENT)
            strv_extend(&keep, made[i]);
    /* keep is deepest first; the file lists parents first. */
    _cleanup_strv_ char **ordered = NULL;
    for (size_t i = strv_length(keep); i-- > 0;)
        strv_extend(&ordered, keep[i]);
    int r2 = made_save(m, ordered, r == 0 ? err : NULL);
    if (r == 0 && made)
        r = r2;
    if (r == 0) {
        const struct pods_node_config *cfg;
        _cleanup_error_ pr_error *e = NULL;
        /* Best kept up to date, but a pod that is gone is gone: no error for the shares. */
        if (pods_node_config_get(m, &cfg, &e) == 0)
            update_qos(m, &h, cfg->cgroup_root, uid, &e);
    }
    hierarchies_clear(&h);
    return r;
}

/* ---- usage ---- */

static int read_u64(const char *dir, const char *file, uint64_t *out)
{
    _cleanup_free_ char *p = xasprintf("%s/%s", dir, file), *text = NULL;
    size_t len;
    if (read_file(p, &text, &len, NULL) < 0)
        return -errno;
    char *end;
    *out = strtoull(text, &end, 10);
    return end == text ? -EINVAL : 0;
}

static int read_keyed(const char *dir, const char *file, const char *key, uint64_t *out)
{
    _cleanup_free_ char *p = xasprintf("%s/%s", dir, file), *text = NULL;
    size_t len, kl = strlen(key);
    if (read_file(p, &text, &len, NULL) < 0)
        return -errno;
    for (char *l = text; l && *l;) {
        if (strncmp(l, key, kl) == 0 && l[kl] == ' ') {
            *out = strtoull(l + kl + 1, NULL, 10);
            return 0;
        }
        l = strchr(l, '\n');
        l = l ? l + 1 : NULL;
    }
    return -ENOENT;
}

static int usage_of(const struct hierarchies *h, const char *path, struct pods_usage *out)
{
    bool v2;
    uint64_t v = 0, inactive = 0;
    *out = (struct pods_usage){0};
    _cleanup_free_ char *cpu = controller_dir(h, "cpuacct", path, &v2);
    if (!cpu)
        cpu = controller_dir(h, "cpu", path, &v2);
    if (!cpu)
        return -ENOENT;
    if (v2 ? read_keyed(cpu, "cpu.stat", "usage_usec", &v) < 0
           : read_u64(cpu, "cpuacct.usage", &v) < 0)
        return -ENOENT;
    out->cpu_ns = v2 ? v * 1000 : v;
    _cleanup_free_ char *mem = controller_dir(h, "memory", path, &v2);
    if (!mem || read_u64(mem, v2 ? "memory.current" : "memory.usage_in_bytes", &v) < 0)
        return -ENOENT;
    read_keyed(mem, "memory.stat", v2 ? "inactive_file" : "total_inactive_file", &inactive);
    out->memory_bytes = v > inactive ? v - inactive : 0;
    return 0;
}

int pods_cgroup_usage(const char *path, struct pods_usage *out, pr_error **err)
{
    struct hierarchies h = {0};
    int r = hierarchies_find(&h, err);
    if (r < 0)
        return r;
    r = usage_of(&h, path, out);
    hierarchies_clear(&h);
    if (r < 0)
        return pr_err_code(err, ENOENT, "cgroup `%s`: no statistics", path);
    return 0;
}

int pods_pod_usage(pods_manager *m, const char *uid, const char *container, struct pods_usage *out,
                   pr_error **err)
{
    struct hierarchies h = {0};
    int r = hierarchies_find(&h, err);
    if (r < 0)
        return r;
    static const enum kube_qos classes[] = {KUBE_QOS_GUARANTEED, KUBE_QOS_BURSTABLE,
                                            KUBE_QOS_BESTEFFORT};
    r = -ENOENT;
    for (size_t i = 0; r == -ENOENT && i < ARRAY_SIZE(classes); i++) {
        _cleanup_free_ char *pod = pods_cgroup_pod_path(m, classes[i], uid);
        _cleanup_free_ char *id = container ? pods_container_id(uid, container) : NULL;
        _cleanup_free_ char *path = id ? xasprintf("%s/%s", pod, id) : xstrdup(pod);
        r = usage_of(&h, path, out);
    }
    hierarchies_clear(&h);
    if (r < 0)
        return pr_err_code(err, ENOENT, "pod %s%s%s: no cgroup with statistics", uid,
                           container ? ", container " : "", container ? container : "");
    return 0;
}

int pods_node_usage(struct pods_usage *out, pr_error **err)
{
    _cleanup_free_ char *text = NULL;
    size_t len;
    int r = read_file("/proc/stat", &text, &len, err);
    if (r < 0)
        return r;
    unsigned long long f[10] = {0};
    if (sscanf(text, "cpu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu", &f[0], &f[1], &f[2],
               &f[3], &f[4], &f[5], &f[6], &f[7], &f[8], &f[9]) < 4)
        return pr_err(err, 0, "`/proc/stat`: no cpu line");
    /* user nice system (idle iowait) irq softirq steal; guest time is already in user. */
    unsigned long long busy = f[0] + f[1] + f[2] + f[5] + f[6] + f[7];
    long hz = sysconf(_SC_CLK_TCK);
    out->cpu_ns = busy * (1000000000ull / (unsigned long long)(hz > 0 ? hz : 100));
    int64_t total = pods_meminfo_kib("MemTotal"), free_ = pods_meminfo_kib("MemFree"),
            inactive = pods_meminfo_kib("Inactive(file)");
    int64_t ws = total - free_ - inactive;
    out->memory_bytes = (uint64_t)(ws > 0 ? ws : 0) * 1024;
    return 0;
}
