/* SPDX-License-Identifier: Apache-2.0 */
/* Internals shared by the cgroup files: the parsed form of linux.resources, the container's
 * cgroup object, the host's hierarchies, and the per-version writers. Not for other modules;
 * runtime/tests/test-cgroup*.c include it to reach the conversions and the fake-tree hooks. */
#ifndef RT_CGROUP_INTERNAL_H
#define RT_CGROUP_INTERNAL_H

#include "cgroup-names.h"
#include "cgroup.h"

#include <stddef.h>

/* ---- linux.resources, parsed and checked once ------------------------------------------- */

/* An optional value: has_x says whether the config set x. */
#define CG_OPT(type, name)                                                                         \
    bool has_##name;                                                                               \
    type name

struct cg_memory {
    CG_OPT(int64_t, limit);
    CG_OPT(int64_t, reservation);
    CG_OPT(int64_t, swap);
    CG_OPT(int64_t, kernel);
    CG_OPT(int64_t, kernel_tcp);
    CG_OPT(uint64_t, swappiness);
    CG_OPT(bool, disable_oom_killer);
    CG_OPT(bool, use_hierarchy);
    bool check_before_update;
};

struct cg_cpu {
    CG_OPT(uint64_t, shares);
    CG_OPT(int64_t, quota);
    CG_OPT(uint64_t, burst);
    CG_OPT(uint64_t, period);
    CG_OPT(int64_t, rt_runtime);
    CG_OPT(uint64_t, rt_period);
    CG_OPT(int64_t, idle);
    char *cpus;
    char *mems;
};

struct cg_weight_device {
    int64_t major, minor;
    CG_OPT(uint64_t, weight);
    CG_OPT(uint64_t, leaf_weight);
};

struct cg_throttle_device {
    int64_t major, minor;
    uint64_t rate;
};

enum cg_throttle_kind {
    CG_THROTTLE_READ_BPS,
    CG_THROTTLE_WRITE_BPS,
    CG_THROTTLE_READ_IOPS,
    CG_THROTTLE_WRITE_IOPS,
    CG_THROTTLE_KINDS
};

struct cg_blkio {
    CG_OPT(uint64_t, weight);
    CG_OPT(uint64_t, leaf_weight);
    struct cg_weight_device *weight_devices;
    size_t n_weight_devices;
    struct cg_throttle_device *throttle[CG_THROTTLE_KINDS];
    size_t n_throttle[CG_THROTTLE_KINDS];
};

struct cg_hugepage {
    char *page_size; /* as in the config: "2MB", "1GB" */
    uint64_t limit;
};

/* Access bits as the BPF device context encodes them. */
enum { CG_DEV_MKNOD = 1, CG_DEV_READ = 2, CG_DEV_WRITE = 4, CG_DEV_ALL = 7 };

struct cg_device_rule {
    bool allow;
    char type;            /* 'a', 'b' or 'c' */
    int64_t major, minor; /* -1: any */
    unsigned access;      /* CG_DEV_* bits */
};

struct cg_net_prio {
    char *name;
    uint64_t priority;
};

struct cg_rdma {
    char *device;
    CG_OPT(uint64_t, hca_handles);
    CG_OPT(uint64_t, hca_objects);
};

struct cg_kv {
    char *key;
    char *value;
};

struct cg_resources {
    bool has_memory, has_cpu, has_pids, has_blkio, has_network;
    struct cg_memory memory;
    struct cg_cpu cpu;
    int64_t pids_limit;
    struct cg_blkio blkio;
    struct cg_hugepage *hugepages;
    size_t n_hugepages;
    bool has_devices; /* the config had resources.devices (even empty) */
    struct cg_device_rule *devices;
    size_t n_devices;
    CG_OPT(uint64_t, net_class_id);
    struct cg_net_prio *net_prios;
    size_t n_net_prios;
    struct cg_rdma *rdma;
    size_t n_rdma;
    struct cg_kv *unified;
    size_t n_unified;
};

/* Parses linux.resources (may be NULL: all unset). Type and range errors name the field. */
int cg_resources_parse(yajl_val resources, struct cg_resources *r, pr_error **err);
void cg_resources_clear(struct cg_resources *r);

/* ---- conversions from v1-style values to cgroup v2 (the way runc and crun convert) ------- */

uint64_t cg_shares_to_weight(uint64_t shares);
uint64_t cg_blkio_weight_to_io_weight(uint64_t weight);
/* memory.swap.max from spec swap (memory+swap) and limit: *out -1 means "max", and *set false
 * means leave the file alone. */
int cg_swap_to_v2(int64_t swap, bool has_limit, int64_t limit, int64_t *out, bool *set,
                  pr_error **err);
/* "2MB" -> 2048 (kB), as the kernel names /sys/kernel/mm/hugepages/hugepages-<N>kB. */
int cg_hugepage_size_kb(const char *page_size, uint64_t *kb);

/* The device rules the runtime always allows (runc's list), led by a deny-everything. */
extern const struct cg_device_rule cg_default_device_rules[];
extern const size_t cg_n_default_device_rules;
/* The rules to enforce: the config's, with the defaults placed after its last rule that
 * matches everything (or first when there is none). Allocated; its length goes to *n_out. */
struct cg_device_rule *cg_device_rules_with_defaults(const struct cg_device_rule *user, size_t n,
                                                     size_t *n_out);

/* ---- paths ---------------------------------------------------------------------------------- */

/* Parses "slice:prefix:name" into the slice (default system.slice) and the unit name
 * (prefix-name.scope, or name when it is itself a .slice). */
int cg_systemd_parse_path(const char *cgroups_path, char **slice, char **unit, pr_error **err);
/* "a-b.slice" -> "/a.slice/a-b.slice"; "-.slice" -> "" (the root). */
int cg_systemd_expand_slice(const char *slice, char **out, pr_error **err);
/* Normalises a cgroupsPath: collapses "//" and trailing '/', refuses ".." components. */
int cg_clean_path(const char *path, char **out, pr_error **err);

/* ---- the host's hierarchies ---------------------------------------------------------------- */

struct cg_mount {
    char *mnt;         /* where it is mounted */
    char *root;        /* the hierarchy path at that mount point (mountinfo field 4) */
    char *controllers; /* v1: "cpu,cpuacct" / "name=systemd"; v2: NULL */
};

struct cg_host {
    enum rt_cgroup_mode mode;
    struct cg_mount *v1;
    size_t n_v1;
    struct cg_mount *v2; /* NULL when no cgroup2 is mounted */
};

/* Parses mountinfo text (for tests) or reads /proc/self/mountinfo (text NULL). */
int cg_host_discover(const char *mountinfo, struct cg_host *host, pr_error **err);
void cg_host_clear(struct cg_host *host);

/* Tests point the code at a fake tree: the tree is treated as a pure cgroup2 mount and no
 * mountinfo is read. NULL restores the real host. */
void cg_test_set_unified_root(const char *dir);

/* v1 cpu: gives each ancestor of the container's cpu cgroup, below the root, the real-time
 * budget (cpu.rt_runtime_us) that res's realtimeRuntime needs to fit (cgroup-rt.c). */
int cg_rt_budget_parents(struct rt_cgroup *cg, const struct cg_host *h,
                         const struct cg_resources *res, pr_error **err);

/* ---- the container's cgroup ---------------------------------------------------------------- */

struct cg_dir {
    char *controllers; /* v1 hierarchy's controllers, as in struct cg_mount */
    char *dir;         /* the container's directory in it */
};

struct rt_cgroup {
    enum rt_cgroup_mode mode;
    char *path;   /* shown to people: the path inside the hierarchy */
    char *unit;   /* systemd unit, or NULL */
    char *v2_dir; /* the container's directory in the cgroup2 hierarchy, or NULL */
    struct cg_dir *v1;
    size_t n_v1;
    char *v2_controllers; /* cache of v2_dir/cgroup.controllers */
    bool v2_controllers_read;
};

/* Moves pid into d, one of the container's directories (cgroup.c: join_busy explained there). */
int cg_enter_dir(struct rt_cgroup *cg, const char *d, pid_t pid, bool join_busy, pr_error **err);

/* Where a controller's files live for this container. */
enum cg_version { CG_NONE = 0, CG_V1, CG_V2 };
enum cg_version cg_controller_dir(struct rt_cgroup *cg, const char *ctrl, const char **dir);

/* Small file helpers. cg_write fills err; cg_try_write returns -errno silently (for optional
 * files). cg_read_u64 reads a single number ("max" reads as UINT64_MAX). */
int cg_write(const char *dir, const char *file, const char *value, pr_error **err);
int cg_writef(const char *dir, const char *file, pr_error **err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
int cg_try_write(const char *dir, const char *file, const char *value);
int cg_read(const char *dir, const char *file, char **out);
int cg_read_u64(const char *dir, const char *file, uint64_t *out);
bool cg_file_exists(const char *dir, const char *file);
/* Finds "key value" in a flat-keyed file (memory.stat, cgroup.events, cpu.stat ...). */
int cg_read_keyed(const char *dir, const char *file, const char *key, uint64_t *out);

/* Writes resources into the container's directories. update: for `update`, where some
 * checks differ (checkBeforeUpdate, device program replacement). */
int cg_apply_resources(struct rt_cgroup *cg, const struct cg_resources *r, bool update,
                       pr_error **err);

/* cgroup v2 device filter (cgroup-bpf.c). */
struct bpf_insn;
/* Builds the program for rules (in order, last match wins, default deny). *insns is
 * allocated; its length goes to *n. */
void cg_bpf_build_device_program(const struct cg_device_rule *rules, size_t n,
                                 struct bpf_insn **insns, size_t *n_insns);
/* Loads the program for rules and attaches it to dir, replacing programs attached before. */
int cg_bpf_apply_devices(const char *dir, const struct cg_device_rule *rules, size_t n,
                         pr_error **err);

/* systemd (cgroup-systemd.c). */
bool cg_systemd_running(void);
int cg_systemd_start_unit(const char *unit, const char *slice, pid_t pid, pr_error **err);
int cg_systemd_stop_unit(const char *unit, pr_error **err);

/* Stats (cgroup-stats.c). */
int cg_write_stats(struct rt_cgroup *cg, yajl_gen g, pr_error **err);

#endif
