/* SPDX-License-Identifier: Apache-2.0 */
/* cgroups: v1 -> v2 conversions, cgroupsPath and systemd path parsing, linux.resources
 * validation, mountinfo discovery, the device rule order and the v2 device filter (run
 * through a small BPF interpreter here, and for real on a cgroup2 mount when root), and the
 * v2 writers against a fake cgroup tree in a temp dir. */
#include "cgroup-internal.h"
#include "fs.h"
#include "json.h"
#include "tests/lib/unit.h"
#include "util.h"

#include <fcntl.h>
#include <inttypes.h>
#include <linux/bpf.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

static yajl_val parse_json(const char *text)
{
    yajl_val v = NULL;
    pr_error *err = NULL;
    if (json_parse(text, "test", &v, &err) < 0) {
        fprintf(stderr, "# bad test JSON: %s\n", err->msg);
        pr_error_free(err);
        abort();
    }
    return v;
}

/* ---- conversions ---------------------------------------------------------------------------- */

static void test_shares_to_weight(void)
{
    CHECK(cg_shares_to_weight(0) == 0);
    CHECK(cg_shares_to_weight(2) == 1);
    CHECK(cg_shares_to_weight(262144) == 10000);
    CHECK(cg_shares_to_weight(1024) == 39); /* runc gives 39 too */
    CHECK(cg_shares_to_weight(512) == 20);
    CHECK(cg_shares_to_weight(1) == 1);
}

static void test_blkio_weight_to_io_weight(void)
{
    CHECK(cg_blkio_weight_to_io_weight(0) == 0);
    CHECK(cg_blkio_weight_to_io_weight(10) == 1);
    CHECK(cg_blkio_weight_to_io_weight(1000) == 10000);
    CHECK(cg_blkio_weight_to_io_weight(500) == 4950);
}

static void test_swap_to_v2(void)
{
    int64_t out = 12345;
    bool set = true;
    pr_error *err = NULL;
    CHECK(cg_swap_to_v2(0, false, 0, &out, &set, &err) == 0 && !set);
    CHECK(cg_swap_to_v2(0, true, -1, &out, &set, &err) == 0 && set && out == -1);
    CHECK(cg_swap_to_v2(-1, true, 1000, &out, &set, &err) == 0 && set && out == -1);
    CHECK(cg_swap_to_v2(64 << 20, true, 32 << 20, &out, &set, &err) == 0 && set && out == 32 << 20);
    CHECK(cg_swap_to_v2(32 << 20, true, 32 << 20, &out, &set, &err) == 0 && set && out == 0);
    CHECK(cg_swap_to_v2(16 << 20, true, 32 << 20, &out, &set, &err) < 0);
    CHECK(err && strstr(err->msg, "memory.swap"));
    pr_error_freep(&err);
    CHECK(cg_swap_to_v2(16 << 20, false, 0, &out, &set, &err) < 0);
    CHECK(err && strstr(err->msg, "without memory.limit"));
    pr_error_freep(&err);
}

static void test_hugepage_sizes(void)
{
    uint64_t kb = 0;
    CHECK(cg_hugepage_size_kb("2MB", &kb) == 0 && kb == 2048);
    CHECK(cg_hugepage_size_kb("1GB", &kb) == 0 && kb == 1048576);
    CHECK(cg_hugepage_size_kb("64KB", &kb) == 0 && kb == 64);
    CHECK(cg_hugepage_size_kb("2M", &kb) < 0);
    CHECK(cg_hugepage_size_kb("MB", &kb) < 0);
    CHECK(cg_hugepage_size_kb("", &kb) < 0);
    CHECK(cg_hugepage_size_kb("0MB", &kb) < 0);
}

/* ---- paths ---------------------------------------------------------------------------------- */

static void check_clean(const char *in, const char *want)
{
    char *out = NULL;
    pr_error *err = NULL;
    int r = cg_clean_path(in, &out, &err);
    if (want) {
        CHECK(r == 0);
        CHECK_STR(out, want);
    } else {
        CHECK(r < 0);
        CHECK(err && strstr(err->msg, "linux.cgroupsPath"));
    }
    free(out);
    pr_error_free(err);
}

static void test_clean_path(void)
{
    check_clean("/podrun/x", "/podrun/x");
    check_clean("//a//b/", "/a/b");
    check_clean("a/./b", "a/b");
    check_clean("/", "/");
    check_clean("a/../b", NULL);
    check_clean("/..", NULL);
}

static void check_systemd_path(const char *in, const char *slice, const char *unit)
{
    char *s = NULL, *u = NULL;
    pr_error *err = NULL;
    int r = cg_systemd_parse_path(in, &s, &u, &err);
    if (slice) {
        CHECK(r == 0);
        CHECK_STR(s, slice);
        CHECK_STR(u, unit);
    } else {
        CHECK(r < 0);
        CHECK(err && strstr(err->msg, "linux.cgroupsPath"));
    }
    free(s);
    free(u);
    pr_error_free(err);
}

static void test_systemd_path(void)
{
    check_systemd_path("system.slice:podrun:abc", "system.slice", "podrun-abc.scope");
    check_systemd_path(":podrun:abc", "system.slice", "podrun-abc.scope");
    check_systemd_path("machine.slice::abc", "machine.slice", "abc.scope");
    check_systemd_path("kubepods.slice:x:pod1.slice", "kubepods.slice", "pod1.slice");
    check_systemd_path("/podrun/abc", NULL, NULL);
    check_systemd_path("a:b", NULL, NULL);
    check_systemd_path("a:b:c:d", NULL, NULL);
    check_systemd_path("system.slice:podrun:", NULL, NULL);
    check_systemd_path("system:podrun:x", NULL, NULL);
    check_systemd_path("system.slice:podrun:a/b", NULL, NULL);
}

static void check_slice(const char *in, const char *want)
{
    char *out = NULL;
    pr_error *err = NULL;
    int r = cg_systemd_expand_slice(in, &out, &err);
    if (want) {
        CHECK(r == 0);
        CHECK_STR(out, want);
    } else {
        CHECK(r < 0);
    }
    free(out);
    pr_error_free(err);
}

static void test_expand_slice(void)
{
    check_slice("system.slice", "/system.slice");
    check_slice("a-b-c.slice", "/a.slice/a-b.slice/a-b-c.slice");
    check_slice("-.slice", "");
    check_slice("a--b.slice", NULL);
    check_slice("-a.slice", NULL);
    check_slice("a-.slice", NULL);
    check_slice("a.scope", NULL);
}

/* ---- resources parsing and validation ------------------------------------------------------ */

/* Parses linux.resources from text; returns the error message (or NULL when it parsed). */
static char *resources_error(const char *text)
{
    yajl_val v = parse_json(text);
    struct cg_resources r;
    pr_error *err = NULL;
    char *msg = NULL;
    if (cg_resources_parse(v, &r, &err) < 0)
        msg = xstrdup(err ? err->msg : "(no message)");
    else
        cg_resources_clear(&r);
    pr_error_free(err);
    yajl_tree_free(v);
    return msg;
}

static void check_resources_error(const char *text, const char *needle)
{
    char *msg = resources_error(text);
    CHECK(msg != NULL);
    if (msg && !strstr(msg, needle)) {
        fprintf(stderr, "# message `%s` lacks `%s`\n", msg, needle);
        CHECK(!"message names the field");
    }
    free(msg);
}

static void test_resources_errors(void)
{
    check_resources_error("{\"memory\":{\"limit\":\"1G\"}}", "linux.resources.memory.limit");
    check_resources_error("{\"memory\":{\"limit\":1000000,\"swap\":500000}}",
                          "linux.resources.memory.swap");
    check_resources_error("{\"memory\":{\"limit\":-5}}", "linux.resources.memory.limit");
    check_resources_error("{\"memory\":{\"swappiness\":101}}", "memory.swappiness");
    check_resources_error("{\"cpu\":{\"shares\":-5}}", "linux.resources.cpu.shares");
    check_resources_error("{\"cpu\":{\"quota\":-7}}", "linux.resources.cpu.quota");
    check_resources_error("{\"cpu\":{\"period\":5}}", "linux.resources.cpu.period");
    check_resources_error("{\"cpu\":{\"cpus\":\"zero\"}}", "linux.resources.cpu.cpus");
    check_resources_error("{\"pids\":{}}", "linux.resources.pids.limit");
    check_resources_error("{\"pids\":{\"limit\":true}}", "linux.resources.pids.limit");
    check_resources_error("{\"blockIO\":{\"weight\":5}}", "linux.resources.blockIO.weight");
    check_resources_error("{\"blockIO\":{\"throttleReadBpsDevice\":[{\"major\":8,\"rate\":1}]}}",
                          "throttleReadBpsDevice[0]");
    check_resources_error("{\"hugepageLimits\":[{\"pageSize\":\"2M\",\"limit\":1}]}",
                          "hugepageLimits[0].pageSize");
    check_resources_error("{\"devices\":[{\"allow\":true,\"type\":\"x\"}]}",
                          "linux.resources.devices[0].type");
    check_resources_error("{\"devices\":[{\"type\":\"c\"}]}", "linux.resources.devices[0].allow");
    check_resources_error("{\"devices\":[{\"allow\":true,\"access\":\"rwx\"}]}",
                          "devices[0].access");
    check_resources_error("{\"unified\":{\"../memory.max\":\"1\"}}", "linux.resources.unified");
    check_resources_error("{\"unified\":{\"memory.max\":1}}", "linux.resources.unified.memory.max");
    check_resources_error("{\"network\":{\"classID\":4294967296}}", "network.classID");
    check_resources_error("{\"memory\":[]}", "linux.resources.memory");
}

static void test_resources_parse(void)
{
    yajl_val v = parse_json(
        "{\"memory\":{\"limit\":33554432,\"swap\":67108864,\"disableOOMKiller\":true},"
        "\"cpu\":{\"shares\":512,\"quota\":50000,\"cpus\":\"0-1\"},\"pids\":{\"limit\":-1},"
        "\"blockIO\":{\"weight\":500,\"throttleWriteIOPSDevice\":[{\"major\":8,\"minor\":0,"
        "\"rate\":100}]},\"devices\":[{\"allow\":false,\"access\":\"rwm\"},{\"allow\":true,"
        "\"type\":\"c\",\"major\":1,\"minor\":3,\"access\":\"rw\"}],"
        "\"unified\":{\"memory.high\":\"100M\"},\"rdma\":{\"mlx\":{\"hcaHandles\":3}}}");
    struct cg_resources r;
    pr_error *err = NULL;
    CHECK(cg_resources_parse(v, &r, &err) == 0);
    CHECK(r.has_memory && r.memory.has_limit && r.memory.limit == 33554432);
    CHECK(r.memory.has_swap && r.memory.swap == 67108864 && r.memory.disable_oom_killer);
    CHECK(!r.memory.has_reservation);
    CHECK(r.cpu.has_shares && r.cpu.shares == 512 && r.cpu.quota == 50000 && !r.cpu.has_period);
    CHECK_STR(r.cpu.cpus, "0-1");
    CHECK(r.has_pids && r.pids_limit == -1);
    CHECK(r.blkio.weight == 500 && r.blkio.n_throttle[CG_THROTTLE_WRITE_IOPS] == 1);
    CHECK(r.blkio.throttle[CG_THROTTLE_WRITE_IOPS][0].rate == 100);
    CHECK(r.n_devices == 2 && !r.devices[0].allow && r.devices[0].type == 'a');
    CHECK(r.devices[1].major == 1 && r.devices[1].minor == 3 &&
          r.devices[1].access == (CG_DEV_READ | CG_DEV_WRITE));
    CHECK(r.n_unified == 1);
    CHECK_STR(r.unified[0].key, "memory.high");
    CHECK(r.n_rdma == 1 && r.rdma[0].has_hca_handles && !r.rdma[0].has_hca_objects);
    cg_resources_clear(&r);
    pr_error_free(err);
    yajl_tree_free(v);
}

/* What the runtime does: parse the config once, then create from it. */
static int create_from(const char *id, yajl_val linux_obj, pid_t pid, struct rt_cgroup **out,
                       pr_error **err)
{
    struct rt_cgroup_config *c = NULL;
    int r = rt_cgroup_config_parse(id, linux_obj, false, &c, err);
    if (r == 0)
        r = rt_cgroup_create(c, pid, out, err);
    rt_cgroup_config_free(c);
    return r;
}

static char *validate_error(const char *linux_json, bool systemd)
{
    yajl_val v = parse_json(linux_json);
    pr_error *err = NULL;
    char *msg = NULL;
    struct rt_cgroup_config *c = NULL;
    if (rt_cgroup_config_parse("ctr", v, systemd, &c, &err) < 0)
        msg = xstrdup(err ? err->msg : "(no message)");
    rt_cgroup_config_free(c);
    pr_error_free(err);
    yajl_tree_free(v);
    return msg;
}

static void test_validate_systemd(void)
{
    char *msg = validate_error("{\"cgroupsPath\":\"/podrun/x\"}", true);
    CHECK(msg && strstr(msg, "slice:prefix:name"));
    free(msg);
    msg = validate_error("{\"cgroupsPath\":\"system.slice:podrun:x\"}", true);
    if (cg_systemd_running()) {
        CHECK(msg == NULL);
    } else {
        CHECK(msg && strstr(msg, "systemd is not running"));
    }
    free(msg);
    msg = validate_error("{\"cgroupsPath\":\"/podrun/x\"}", false);
    CHECK(msg == NULL);
    free(msg);
    msg = validate_error("{\"cgroupsPath\":7}", false);
    CHECK(msg && strstr(msg, "linux.cgroupsPath"));
    free(msg);
    msg = validate_error("{\"cgroupsPath\":\"/a/../../etc\"}", false);
    CHECK(msg && strstr(msg, ".."));
    free(msg);
}

/* ---- host discovery ------------------------------------------------------------------------- */

static const char hybrid_mountinfo[] =
    "23 1 0:21 / /sys rw,nosuid - sysfs sysfs rw\n"
    "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
    "33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct\n"
    "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
    "36 31 0:33 / /sys/fs/cgroup/net_cls,net_prio rw shared:9 - cgroup cgroup rw,net_cls,net_prio\n"
    "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup "
    "rw,xattr,release_agent=/x,name=systemd\n"
    "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n"
    "42 1 0:32 / /mnt/memory-again rw - cgroup cgroup rw,memory\n";

static void test_discover_hybrid(void)
{
    struct cg_host h;
    pr_error *err = NULL;
    CHECK(cg_host_discover(hybrid_mountinfo, &h, &err) == 0);
    CHECK(h.mode == RT_CGROUP_HYBRID);
    CHECK(h.n_v1 == 5);
    if (h.n_v1 == 5) {
        CHECK_STR(h.v1[0].controllers, "cpu");
        CHECK_STR(h.v1[2].mnt, "/sys/fs/cgroup/memory");
        CHECK_STR(h.v1[3].controllers, "net_cls,net_prio");
        CHECK_STR(h.v1[4].controllers, "name=systemd");
    }
    CHECK(h.v2 && streq(h.v2->mnt, "/sys/fs/cgroup/unified"));
    cg_host_clear(&h);
    pr_error_free(err);
}

static void test_discover_unified_and_legacy(void)
{
    struct cg_host h;
    pr_error *err = NULL;
    CHECK(cg_host_discover("30 23 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate\n", &h,
                           &err) == 0);
    CHECK(h.mode == RT_CGROUP_UNIFIED && h.n_v1 == 0 && h.v2);
    CHECK(h.v2 && streq(h.v2->mnt, "/sys/fs/cgroup"));
    cg_host_clear(&h);
    CHECK(cg_host_discover("32 31 0:29 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu\n", &h,
                           &err) == 0);
    CHECK(h.mode == RT_CGROUP_LEGACY && h.n_v1 == 1 && !h.v2);
    cg_host_clear(&h);
    CHECK(cg_host_discover("23 1 0:21 / /sys rw - sysfs sysfs rw\n", &h, &err) < 0);
    pr_error_free(err);
}

static void test_controller_list(void)
{
    CHECK(cgroup_in_list("cpu,cpuacct", "cpuacct"));
    CHECK(cgroup_in_list("cpu,cpuacct", "cpu"));
    CHECK(!cgroup_in_list("cpuacct", "cpu"));
    CHECK(cgroup_in_list("cpuset cpu io memory\n", "memory"));
    CHECK(!cgroup_in_list("", "memory"));
}

/* ---- device rules --------------------------------------------------------------------------- */

static void test_device_rule_order(void)
{
    size_t n;
    struct cg_device_rule user[] = {{false, 'a', -1, -1, CG_DEV_ALL},
                                    {false, 'c', 1, 3, CG_DEV_ALL}};
    struct cg_device_rule *r = cg_device_rules_with_defaults(user, 2, &n);
    /* The config's deny-all, then the default allows, then its own deny of /dev/null. */
    CHECK(n == 1 + cg_n_default_device_rules - 1 + 1);
    CHECK(!r[0].allow && r[0].type == 'a');
    CHECK(r[1].allow);
    CHECK(!r[n - 1].allow && r[n - 1].major == 1 && r[n - 1].minor == 3);
    free(r);

    struct cg_device_rule privileged[] = {{true, 'a', -1, -1, CG_DEV_ALL}};
    r = cg_device_rules_with_defaults(privileged, 1, &n);
    CHECK(n == 1 && r[0].allow);
    free(r);

    r = cg_device_rules_with_defaults(NULL, 0, &n);
    CHECK(n == cg_n_default_device_rules && !r[0].allow && r[0].type == 'a');
    free(r);
}

/* Runs our device program for one request: only the instructions the builder emits. */
static int run_bpf(const struct bpf_insn *p, size_t n, int type, int access, int major, int minor)
{
    uint64_t reg[11] = {0};
    uint32_t ctx[3] = {(uint32_t)(access << 16 | type), (uint32_t)major, (uint32_t)minor};
    for (size_t pc = 0; pc < n; pc++) {
        const struct bpf_insn *i = &p[pc];
        int64_t imm = i->imm;
        switch (i->code) {
        case BPF_LDX | BPF_MEM | BPF_W:
            reg[i->dst_reg] = ctx[i->off / 4];
            break;
        case BPF_ALU | BPF_MOV | BPF_X:
            reg[i->dst_reg] = (uint32_t)reg[i->src_reg];
            break;
        case BPF_ALU | BPF_AND | BPF_K:
            reg[i->dst_reg] = (uint32_t)(reg[i->dst_reg] & (uint32_t)imm);
            break;
        case BPF_ALU | BPF_RSH | BPF_K:
            reg[i->dst_reg] = (uint32_t)reg[i->dst_reg] >> imm;
            break;
        case BPF_ALU64 | BPF_MOV | BPF_K:
            reg[i->dst_reg] = (uint64_t)imm;
            break;
        case BPF_JMP | BPF_JEQ | BPF_K:
            if (reg[i->dst_reg] == (uint64_t)imm)
                pc += i->off;
            break;
        case BPF_JMP | BPF_JNE | BPF_K:
            if (reg[i->dst_reg] != (uint64_t)imm)
                pc += i->off;
            break;
        case BPF_JMP | BPF_JA:
            pc += i->off;
            break;
        case BPF_JMP | BPF_EXIT:
            return (int)reg[0];
        default:
            fprintf(stderr, "# unexpected BPF opcode 0x%x\n", i->code);
            return -1;
        }
    }
    fprintf(stderr, "# BPF program fell off its end\n");
    return -1;
}

#define C  BPF_DEVCG_DEV_CHAR
#define B  BPF_DEVCG_DEV_BLOCK
#define RD BPF_DEVCG_ACC_READ
#define WR BPF_DEVCG_ACC_WRITE
#define MK BPF_DEVCG_ACC_MKNOD

static void test_bpf_program_semantics(void)
{
    struct cg_device_rule user[] = {{false, 'a', -1, -1, CG_DEV_ALL},
                                    {false, 'c', 1, 3, CG_DEV_ALL},
                                    {true, 'b', 8, -1, CG_DEV_READ},
                                    {true, 'c', 4, 1, CG_DEV_ALL},
                                    {false, 'c', 4, 1, CG_DEV_WRITE}};
    size_t n, ni;
    struct cg_device_rule *rules = cg_device_rules_with_defaults(user, ARRAY_SIZE(user), &n);
    struct bpf_insn *p;
    cg_bpf_build_device_program(rules, n, &p, &ni);
    CHECK(run_bpf(p, ni, C, RD | WR, 1, 3) == 0); /* /dev/null denied by the config */
    CHECK(run_bpf(p, ni, C, RD | WR, 1, 5) == 1); /* /dev/zero from the defaults */
    CHECK(run_bpf(p, ni, C, MK, 1, 3) == 1 - 1);  /* the deny covers mknod too */
    CHECK(run_bpf(p, ni, C, MK, 42, 7) == 1);     /* c *:* m */
    CHECK(run_bpf(p, ni, C, RD, 42, 7) == 0);     /* default deny */
    CHECK(run_bpf(p, ni, B, RD, 8, 1) == 1);      /* b 8:* r */
    CHECK(run_bpf(p, ni, B, RD | WR, 8, 1) == 0); /* ... but not w */
    CHECK(run_bpf(p, ni, C, RD, 136, 9) == 1);    /* pts */
    CHECK(run_bpf(p, ni, C, RD, 4, 1) == 1);      /* per bit: read still allowed */
    CHECK(run_bpf(p, ni, C, RD | WR, 4, 1) == 0); /* write was taken away later */
    free(p);
    free(rules);

    struct cg_device_rule all[] = {{true, 'a', -1, -1, CG_DEV_ALL}};
    rules = cg_device_rules_with_defaults(all, 1, &n);
    cg_bpf_build_device_program(rules, n, &p, &ni);
    CHECK(run_bpf(p, ni, B, RD | WR | MK, 253, 0) == 1);
    free(p);
    free(rules);
}

/* ---- fake v2 tree --------------------------------------------------------------------------- */

static char fake_root[] = "/tmp/podrun-cgtest-XXXXXX";

static void touch(const char *dir, const char *file, const char *content)
{
    _cleanup_free_ char *p = xasprintf("%s/%s", dir, file);
    FILE *f = fopen(p, "we");
    if (f) {
        fputs(content, f);
        fclose(f);
    }
}

static char *slurp(const char *dir, const char *file)
{
    char *s = NULL;
    if (cg_read(dir, file, &s) < 0)
        return xstrdup("(missing)");
    s[strcspn(s, "\n")] = '\0';
    return s;
}

static void check_file(const char *dir, const char *file, const char *want)
{
    char *got = slurp(dir, file);
    if (!streq(got, want))
        fprintf(stderr, "# %s: `%s`, wanted `%s`\n", file, got, want);
    CHECK(streq(got, want));
    free(got);
}

static const char *const v2_files[] = {
    "cgroup.procs",  "cgroup.events", "cgroup.freeze",  "memory.max", "memory.swap.max",
    "memory.low",    "memory.events", "memory.current", "cpu.weight", "cpu.max",
    "cpu.max.burst", "cpu.idle",      "cpu.stat",       "pids.max",   "pids.current",
    "cpuset.cpus",   "cpuset.mems",   "io.weight",      "io.max",     "memory.high",
    "memory.stat"};

static struct rt_cgroup *fake_container(const char *leaf)
{
    struct rt_cgroup *cg = NULL;
    pr_error *err = NULL;
    mkdir(leaf, 0755);
    for (size_t i = 0; i < ARRAY_SIZE(v2_files); i++)
        touch(leaf, v2_files[i], "");
    touch(leaf, "cgroup.controllers", "cpuset cpu io memory pids\n");
    _cleanup_free_ char *saved =
        xasprintf("{\"mode\":\"unified\",\"path\":\"/podrun/c1\",\"v2\":\"%s\",\"v1\":{}}", leaf);
    yajl_val v = parse_json(saved);
    CHECK(rt_cgroup_load(v, &cg, &err) == 0);
    yajl_tree_free(v);
    pr_error_free(err);
    return cg;
}

static void test_fake_v2_update(void)
{
    CHECK(mkdtemp(fake_root) != NULL);
    touch(fake_root, "cgroup.controllers", "cpuset cpu io memory pids\n");
    cg_test_set_unified_root(fake_root);
    _cleanup_free_ char *leaf = xasprintf("%s/c1", fake_root);
    struct rt_cgroup *cg = fake_container(leaf);
    pr_error *err = NULL;
    yajl_val res =
        parse_json("{\"memory\":{\"limit\":33554432,\"swap\":67108864,\"reservation\":1048576},"
                   "\"cpu\":{\"shares\":1024,\"quota\":50000,\"period\":100000,\"cpus\":\"0\","
                   "\"mems\":\"0\"},\"pids\":{\"limit\":42},\"blockIO\":{\"weight\":500,"
                   "\"throttleReadBpsDevice\":[{\"major\":8,\"minor\":0,\"rate\":1048576}]},"
                   "\"unified\":{\"memory.high\":\"30000000\"}}");
    int r = rt_cgroup_update(cg, res, &err);
    if (r < 0)
        fprintf(stderr, "# update: %s\n", err->msg);
    CHECK(r == 0);
    check_file(leaf, "memory.max", "33554432");
    check_file(leaf, "memory.swap.max", "33554432"); /* swap minus limit */
    check_file(leaf, "memory.low", "1048576");
    check_file(leaf, "cpu.weight", "39");
    check_file(leaf, "cpu.max", "50000 100000");
    check_file(leaf, "cpuset.cpus", "0");
    check_file(leaf, "pids.max", "42");
    check_file(leaf, "io.weight", "4950");
    check_file(leaf, "io.max", "8:0 rbps=1048576");
    check_file(leaf, "memory.high", "30000000");
    yajl_tree_free(res);
    pr_error_freep(&err);

    /* Unlimited values are "max" on v2; a quota alone keeps the kernel's period. (Plain files
     * are not truncated by a write the way cgroupfs files are replaced: empty them first.) */
    for (size_t i = 0; i < ARRAY_SIZE(v2_files); i++)
        touch(leaf, v2_files[i], "");
    res = parse_json("{\"memory\":{\"limit\":-1},\"cpu\":{\"quota\":-1},\"pids\":{\"limit\":-1}}");
    CHECK(rt_cgroup_update(cg, res, &err) == 0);
    check_file(leaf, "memory.max", "max");
    check_file(leaf, "memory.swap.max", "max");
    check_file(leaf, "cpu.max", "max");
    check_file(leaf, "pids.max", "max");
    yajl_tree_free(res);

    /* A controller the cgroup does not have is an error naming it. */
    res = parse_json("{\"hugepageLimits\":[{\"pageSize\":\"2MB\",\"limit\":0}]}");
    r = rt_cgroup_update(cg, res, &err);
    CHECK(r < 0 && err && strstr(err->msg, "hugepage"));
    pr_error_freep(&err);
    yajl_tree_free(res);

    /* Real-time limits cannot be expressed on a pure v2 host. */
    res = parse_json("{\"cpu\":{\"realtimeRuntime\":1000,\"realtimePeriod\":10000}}");
    r = rt_cgroup_update(cg, res, &err);
    CHECK(r < 0 && err && strstr(err->msg, "realtime"));
    pr_error_freep(&err);
    yajl_tree_free(res);

    /* checkBeforeUpdate refuses a limit below the usage. */
    touch(leaf, "memory.current", "50000000\n");
    res = parse_json("{\"memory\":{\"limit\":40000000,\"checkBeforeUpdate\":true}}");
    r = rt_cgroup_update(cg, res, &err);
    CHECK(r < 0 && err && strstr(err->msg, "current usage"));
    pr_error_freep(&err);
    yajl_tree_free(res);

    rt_cgroup_free(cg);
    cg_test_set_unified_root(NULL);
}

static void test_fake_v2_state_files(void)
{
    _cleanup_free_ char *leaf = xasprintf("%s/c2", fake_root);
    struct rt_cgroup *cg = fake_container(leaf);
    pr_error *err = NULL;
    bool frozen = true;
    uint64_t ooms = 99;
    touch(leaf, "cgroup.events", "populated 1\nfrozen 0\n");
    CHECK(rt_cgroup_is_frozen(cg, &frozen, &err) == 0 && !frozen);
    touch(leaf, "cgroup.events", "populated 1\nfrozen 1\n");
    CHECK(rt_cgroup_is_frozen(cg, &frozen, &err) == 0 && frozen);
    touch(leaf, "memory.events", "low 0\nhigh 0\nmax 4\noom 2\noom_kill 2\n");
    CHECK(rt_cgroup_oom_kills(cg, &ooms, &err) == 0 && ooms == 2);
    touch(leaf, "cgroup.procs", "10\n11\n");
    _cleanup_free_ char *sub = xasprintf("%s/inner", leaf);
    mkdir(sub, 0755);
    touch(sub, "cgroup.procs", "12\n");
    pid_t *pids = NULL;
    size_t n = 0;
    CHECK(rt_cgroup_pids(cg, &pids, &n, &err) == 0 && n == 3);
    CHECK(n == 3 && pids[0] == 10 && pids[2] == 12);
    free(pids);

    /* Stats read the v2 files into runc's shape. */
    touch(leaf, "memory.current", "123456\n");
    touch(leaf, "memory.max", "max\n");
    touch(leaf, "memory.stat", "anon 1000\nfile 2000\n");
    touch(leaf, "cpu.stat", "usage_usec 5\nuser_usec 3\nsystem_usec 2\nnr_periods 7\n");
    touch(leaf, "pids.current", "3\n");
    touch(leaf, "pids.max", "max\n");
    yajl_gen g = json_gen_new(false);
    CHECK(rt_cgroup_stats(cg, g, &err) == 0);
    size_t len;
    const char *out = jg_buf(g, &len);
    yajl_val v = parse_json(out);
    const char *p_usage[] = {"memory", "usage", "usage", NULL};
    const char *p_cache[] = {"memory", "cache", NULL};
    const char *p_cpu[] = {"cpu", "usage", "total", NULL};
    const char *p_user[] = {"cpu", "usage", "user", NULL};
    const char *p_pids[] = {"pids", "current", NULL};
    yajl_val x;
    CHECK((x = yajl_tree_get(v, p_usage, yajl_t_number)) && YAJL_GET_INTEGER(x) == 123456);
    CHECK((x = yajl_tree_get(v, p_cache, yajl_t_number)) && YAJL_GET_INTEGER(x) == 2000);
    CHECK((x = yajl_tree_get(v, p_cpu, yajl_t_number)) && YAJL_GET_INTEGER(x) == 5000);
    CHECK((x = yajl_tree_get(v, p_user, yajl_t_number)) && YAJL_GET_INTEGER(x) == 3000);
    CHECK((x = yajl_tree_get(v, p_pids, yajl_t_number)) && YAJL_GET_INTEGER(x) == 3);
    yajl_tree_free(v);
    yajl_gen_free(g);

    /* state.json round trip. */
    g = json_gen_new(false);
    rt_cgroup_serialize(cg, g);
    out = jg_buf(g, &len);
    v = parse_json(out);
    struct rt_cgroup *back = NULL;
    CHECK(rt_cgroup_load(v, &back, &err) == 0);
    CHECK(back && streq(rt_cgroup_path(back), "/podrun/c1") && back->v2_dir &&
          streq(back->v2_dir, leaf) && back->mode == RT_CGROUP_UNIFIED);
    rt_cgroup_free(back);
    yajl_tree_free(v);
    yajl_gen_free(g);
    pr_error_free(err);
    rt_cgroup_free(cg);
    rm_rf(fake_root);
}

/* ---- real cgroup2 ---------------------------------------------------------------------------- */

/* A cgroup2 mount to run the v2 code on for real: the host's own (pure v2) or a hybrid host's
 * unified hierarchy, which has no resource controllers but has everything else the v2 code
 * uses (cgroup.freeze, cgroup.kill, the device filter). */
static const char *real_cgroup2(void)
{
    static const char *const candidates[] = {"/sys/fs/cgroup", "/sys/fs/cgroup/unified"};
    struct statfs fs;
    if (geteuid() != 0)
        return NULL;
    for (size_t i = 0; i < ARRAY_SIZE(candidates); i++)
        if (statfs(candidates[i], &fs) == 0 && fs.f_type == CGROUP2_SUPER_MAGIC)
            return candidates[i];
    return NULL;
}

static void test_real_v2_lifecycle(void)
{
    const char *root = real_cgroup2();
    if (!root) {
        SKIP("needs root and a cgroup2 mount");
    }
    cg_test_set_unified_root(root);
    int go[2], res[2];
    CHECK(pipe(go) == 0 && pipe(res) == 0);
    pid_t child = fork();
    if (child == 0) {
        char c;
        close(go[1]);
        close(res[0]);
        if (read(go[0], &c, 1) != 1)
            _exit(9);
        /* Inside the cgroup: /dev/null is denied by the device filter, /dev/zero allowed. */
        int fn = open("/dev/null", O_RDONLY);
        int en = errno;
        int fz = open("/dev/zero", O_RDONLY);
        char out[2] = {fn < 0 && en == EPERM ? 'D' : 'A', fz >= 0 ? 'A' : 'D'};
        if (write(res[1], out, 2) != 2)
            _exit(8);
        for (;;)
            pause();
    }
    close(go[0]);
    close(res[1]);
    _cleanup_free_ char *cfg = xasprintf(
        "{\"cgroupsPath\":\"/podrun-unit-test/%d\",\"resources\":{\"devices\":[{\"allow\":false,"
        "\"access\":\"rwm\"},{\"allow\":false,\"type\":\"c\",\"major\":1,\"minor\":3,"
        "\"access\":\"rwm\"}]}}",
        (int)getpid());
    yajl_val linux_obj = parse_json(cfg);
    struct rt_cgroup *cg = NULL;
    pr_error *err = NULL;
    int r = create_from("unit", linux_obj, child, &cg, &err);
    if (r < 0)
        fprintf(stderr, "# create: %s\n", err->msg);
    CHECK(r == 0);
    if (r == 0) {
        char buf[2] = {0};
        CHECK(write(go[1], "x", 1) == 1);
        CHECK(read(res[0], buf, 2) == 2);
        CHECK(buf[0] == 'D');
        CHECK(buf[1] == 'A');

        pid_t *pids = NULL;
        size_t n = 0;
        CHECK(rt_cgroup_pids(cg, &pids, &n, &err) == 0 && n == 1 && pids[0] == child);
        free(pids);

        bool frozen = false;
        CHECK(rt_cgroup_freeze(cg, true, &err) == 0);
        CHECK(rt_cgroup_is_frozen(cg, &frozen, &err) == 0 && frozen);
        CHECK(rt_cgroup_freeze(cg, false, &err) == 0);
        CHECK(rt_cgroup_is_frozen(cg, &frozen, &err) == 0 && !frozen);

        CHECK(rt_cgroup_kill_all(cg, SIGKILL, &err) == 0);
        int status = 0;
        CHECK(waitpid(child, &status, 0) == child);
        CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
        CHECK(rt_cgroup_destroy(cg, &err) == 0);
        _cleanup_free_ char *dir = xasprintf("%s/podrun-unit-test/%d", root, (int)getpid());
        CHECK(access(dir, F_OK) < 0 && errno == ENOENT);
        rt_cgroup_free(cg);
    } else {
        kill(child, SIGKILL);
        waitpid(child, NULL, 0);
    }
    _cleanup_free_ char *parent = xasprintf("%s/podrun-unit-test", root);
    rmdir(parent);
    yajl_tree_free(linux_obj);
    pr_error_free(err);
    close(go[1]);
    close(res[0]);
    cg_test_set_unified_root(NULL);
}

/* A create that fails half-way leaves no directory behind. */
static void test_real_create_failure_cleans_up(void)
{
    const char *root = real_cgroup2();
    if (!root) {
        SKIP("needs root and a cgroup2 mount");
    }
    cg_test_set_unified_root(root);
    _cleanup_free_ char *cfg =
        xasprintf("{\"cgroupsPath\":\"/podrun-unit-fail-%d/a/b\",\"resources\":{\"unified\":"
                  "{\"cgroup.no-such-file\":\"1\"}}}",
                  (int)getpid());
    yajl_val linux_obj = parse_json(cfg);
    struct rt_cgroup *cg = NULL;
    pr_error *err = NULL;
    CHECK(create_from("unit", linux_obj, 0, &cg, &err) < 0);
    CHECK(err && strstr(err->msg, "cgroup.no-such-file"));
    _cleanup_free_ char *top = xasprintf("%s/podrun-unit-fail-%d", root, (int)getpid());
    CHECK(access(top, F_OK) < 0 && errno == ENOENT);
    yajl_tree_free(linux_obj);
    pr_error_free(err);
    cg_test_set_unified_root(NULL);
}

/* A child that waits to be killed. */
static pid_t spawn_sleeper(void)
{
    pid_t pid = fork();
    if (pid == 0) {
        for (;;)
            pause();
    }
    return pid;
}

static void reap(pid_t pid)
{
    if (pid > 0) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
    }
}

/* pid's cgroup2 path ("0::" line of /proc/PID/cgroup), or "(none)". */
static char *v2_cgroup_of(pid_t pid)
{
    _cleanup_free_ char *p = xasprintf("/proc/%d/cgroup", (int)pid), *text = NULL;
    pr_error *e = NULL;
    if (read_file(p, &text, NULL, &e) < 0) {
        pr_error_free(e);
        return xstrdup("(none)");
    }
    for (char *line = text; line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        if (has_prefix(line, "0::"))
            return xstrdup(line + 3);
        line = nl ? nl + 1 : NULL;
    }
    return xstrdup("(none)");
}

static bool move_pid(const char *dir, pid_t pid)
{
    char buf[32];
    snprintf(buf, sizeof(buf), "%d", (int)pid);
    return cg_try_write(dir, "cgroup.procs", buf) == 0;
}

/* In a forked child placed in the populated cgroup <base>/leaf (as a login shell sits in its
 * session scope): a relative cgroupsPath goes below leaf's parent, an absolute one through leaf
 * works, and leaf gets no controllers enabled (which would make it a thread root whose new
 * children refuse processes). Returns a bit per failed check. */
static int populated_parent_child(const char *rel_base, const char *base)
{
    int fails = 0;
    _cleanup_free_ char *leaf = xasprintf("%s/leaf", base);
    if (!move_pid(leaf, getpid()))
        return 1;
    pid_t s1 = spawn_sleeper(), s2 = spawn_sleeper();
    pr_error *err = NULL;
    struct rt_cgroup *rel = NULL, *abs = NULL;
    _cleanup_free_ char *rel_cfg = xasprintf("{\"cgroupsPath\":\"podrun-unit-rel\"}");
    _cleanup_free_ char *abs_cfg = xasprintf("{\"cgroupsPath\":\"%s/leaf/abs\"}", rel_base);
    yajl_val rel_obj = parse_json(rel_cfg), abs_obj = parse_json(abs_cfg);
    if (create_from("unit", rel_obj, s1, &rel, &err) < 0) {
        fprintf(stderr, "# relative create: %s\n", err->msg);
        fails |= 2;
    } else {
        _cleanup_free_ char *want = xasprintf("%s/podrun-unit-rel", base);
        _cleanup_free_ char *want_cg = xasprintf("%s/podrun-unit-rel", rel_base);
        _cleanup_free_ char *got_cg = v2_cgroup_of(s1);
        if (!streq(rel->v2_dir, want) || !streq(got_cg, want_cg)) {
            fprintf(stderr, "# relative: dir %s (wanted %s), process in %s\n", rel->v2_dir, want,
                    got_cg);
            fails |= 4;
        }
    }
    pr_error_freep(&err);
    if (create_from("unit", abs_obj, s2, &abs, &err) < 0) {
        fprintf(stderr, "# absolute create through a populated cgroup: %s\n", err->msg);
        fails |= 8;
    }
    pr_error_freep(&err);
    _cleanup_free_ char *type = slurp(leaf, "cgroup.type"),
                        *sub = slurp(leaf, "cgroup.subtree_control");
    if (!streq(type, "domain") || *sub) {
        fprintf(stderr, "# the populated cgroup became `%s` with subtree_control `%s`\n", type,
                sub);
        fails |= 16;
    }
    reap(s1);
    reap(s2);
    if ((rel && rt_cgroup_destroy(rel, &err) < 0) || (abs && rt_cgroup_destroy(abs, &err) < 0))
        fails |= 32;
    pr_error_freep(&err);
    rt_cgroup_free(rel);
    rt_cgroup_free(abs);
    yajl_tree_free(rel_obj);
    yajl_tree_free(abs_obj);
    return fails;
}

static void test_real_v2_populated_parent(void)
{
    const char *root = real_cgroup2();
    if (!root)
        SKIP("needs root and a cgroup2 mount");
    cg_test_set_unified_root(root);
    _cleanup_free_ char *rel_base = xasprintf("/podrun-unit-pop-%d", (int)getpid());
    _cleanup_free_ char *base = xasprintf("%s%s", root, rel_base);
    _cleanup_free_ char *leaf = xasprintf("%s/leaf", base);
    CHECK(mkdir(base, 0755) == 0 && mkdir(leaf, 0755) == 0);
    pid_t child = fork();
    if (child == 0)
        _exit(populated_parent_child(rel_base, base));
    int status = -1;
    CHECK(waitpid(child, &status, 0) == child);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fprintf(stderr, "# child status %#x\n", status);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    _cleanup_free_ char *rel_dir = xasprintf("%s/podrun-unit-rel", base);
    CHECK(access(rel_dir, F_OK) < 0);
    _cleanup_free_ char *abs_dir = xasprintf("%s/abs", leaf);
    CHECK(access(abs_dir, F_OK) < 0);
    rmdir(rel_dir); /* leftovers of a failed check, so that base can go */
    rmdir(abs_dir);
    rmdir(leaf);
    CHECK(rmdir(base) == 0);
    cg_test_set_unified_root(NULL);
}

/* exec into a container whose init moved itself into a child cgroup and enabled a domain
 * controller for its children (systemd in a container does): the container's own cgroup now
 * refuses processes (EBUSY), and the exec'd process joins the init's cgroup instead. */
static void exec_into_busy(struct rt_cgroup *cg, pid_t init, const char *rel_top)
{
    static const char *const domain_ctrls[] = {"memory", "io", "hugetlb", "rdma", "misc"};
    const char *ctrl = NULL;
    _cleanup_free_ char *avail = slurp(cg->v2_dir, "cgroup.controllers");
    for (size_t i = 0; i < ARRAY_SIZE(domain_ctrls) && !ctrl; i++)
        if (cgroup_in_list(avail, domain_ctrls[i]))
            ctrl = domain_ctrls[i];
    if (!ctrl) {
        unit_skip_reason = "needs a domain controller (memory, io, hugetlb) on cgroup2";
        return;
    }
    _cleanup_free_ char *inner = xasprintf("%s/init", cg->v2_dir), *plus = xasprintf("+%s", ctrl);
    CHECK(mkdir(inner, 0755) == 0 && move_pid(inner, init));
    CHECK(cg_try_write(cg->v2_dir, "cgroup.subtree_control", plus) == 0);
    /* The situation is real: the container's cgroup itself refuses a process. */
    pid_t probe = spawn_sleeper();
    char buf[32];
    snprintf(buf, sizeof(buf), "%d", (int)probe);
    CHECK(cg_try_write(cg->v2_dir, "cgroup.procs", buf) == -EBUSY);
    reap(probe);
    /* As `exec` makes its process: clone3 into the busy directory fails, so the pid is
     * written, into the init's cgroup. */
    pr_error *err = NULL;
    struct rt_cgroup_entry entry;
    CHECK(rt_cgroup_entry_open(cg, &entry, &err) == 0);
    pid_t exec_pid = rt_cgroup_entry_fork(&entry);
    if (exec_pid == 0) {
        for (;;)
            pause();
    }
    CHECK(exec_pid > 0 && !entry.v2_placed);
    int r = rt_cgroup_entry_finish(cg, &entry, exec_pid, true, &err);
    if (r < 0)
        fprintf(stderr, "# enter: %s\n", err->msg);
    CHECK(r == 0);
    pr_error_free(err);
    _cleanup_free_ char *got = v2_cgroup_of(exec_pid), *want = xasprintf("%s/ctr/init", rel_top);
    CHECK_STR(got, want);
    reap(exec_pid);
}

static void test_real_v2_exec_joins_busy_cgroup(void)
{
    const char *root = real_cgroup2();
    if (!root)
        SKIP("needs root and a cgroup2 mount");
    cg_test_set_unified_root(root);
    _cleanup_free_ char *rel_top = xasprintf("/podrun-unit-busy-%d", (int)getpid());
    _cleanup_free_ char *cfg = xasprintf("{\"cgroupsPath\":\"%s/ctr\"}", rel_top);
    _cleanup_free_ char *top = xasprintf("%s%s", root, rel_top);
    yajl_val linux_obj = parse_json(cfg);
    struct rt_cgroup *cg = NULL;
    pr_error *err = NULL;
    pid_t init = spawn_sleeper();
    int r = create_from("unit", linux_obj, init, &cg, &err);
    if (r < 0)
        fprintf(stderr, "# create: %s\n", err->msg);
    CHECK(r == 0);
    if (r == 0)
        exec_into_busy(cg, init, rel_top);
    reap(init);
    pr_error_freep(&err);
    if (cg) {
        CHECK(rt_cgroup_destroy(cg, &err) == 0);
        rt_cgroup_free(cg);
    }
    pr_error_free(err);
    CHECK(rmdir(top) == 0);
    yajl_tree_free(linux_obj);
    cg_test_set_unified_root(NULL);
}

int main(void)
{
    RUN(test_shares_to_weight);
    RUN(test_blkio_weight_to_io_weight);
    RUN(test_swap_to_v2);
    RUN(test_hugepage_sizes);
    RUN(test_clean_path);
    RUN(test_systemd_path);
    RUN(test_expand_slice);
    RUN(test_resources_errors);
    RUN(test_resources_parse);
    RUN(test_validate_systemd);
    RUN(test_discover_hybrid);
    RUN(test_discover_unified_and_legacy);
    RUN(test_controller_list);
    RUN(test_device_rule_order);
    RUN(test_bpf_program_semantics);
    RUN(test_fake_v2_update);
    RUN(test_fake_v2_state_files);
    RUN(test_real_v2_lifecycle);
    RUN(test_real_create_failure_cleans_up);
    RUN(test_real_v2_populated_parent);
    RUN(test_real_v2_exec_joins_busy_cgroup);
    UNIT_DONE();
}
