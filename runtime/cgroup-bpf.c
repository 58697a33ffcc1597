/* SPDX-License-Identifier: Apache-2.0 */
/* cgroup v2 has no devices.allow: device access is decided by a BPF_PROG_TYPE_CGROUP_DEVICE
 * program attached to the cgroup. We write the program's instructions here from the rule list.
 *
 * Semantics match the v1 exception list (and runc): default deny, rules in order, the last
 * rule that matches wins. The kernel asks about several access bits at once (open O_RDWR asks
 * for read|write), and each bit can have a different last matching rule, so the program
 * decides every requested bit separately and allows only if all are allowed. For one bit the
 * rules are tried newest first; the first match gives the verdict. */
#include "cgroup-internal.h"
#include "util.h"

#include <fcntl.h>
#include <linux/bpf.h>
#include <sys/syscall.h>

/* ---- a tiny assembler with forward labels --------------------------------------------------- */

struct asm_buf {
    struct bpf_insn *v;
    size_t n, cap;
    ssize_t *labels; /* label -> instruction index (-1 until placed) */
    size_t n_labels;
    struct {
        size_t at;
        size_t label;
    } * fix;
    size_t n_fix;
};

static void emit(struct asm_buf *a, struct bpf_insn insn)
{
    if (a->n == a->cap) {
        a->cap = a->cap ? a->cap * 2 : 64;
        a->v = xrealloc(a->v, a->cap * sizeof(*a->v));
    }
    a->v[a->n++] = insn;
}

static size_t new_label(struct asm_buf *a)
{
    a->labels = xrealloc(a->labels, (a->n_labels + 1) * sizeof(*a->labels));
    a->labels[a->n_labels] = -1;
    return a->n_labels++;
}

static void place(struct asm_buf *a, size_t label)
{
    a->labels[label] = (ssize_t)a->n;
}

static void emit_jump(struct asm_buf *a, struct bpf_insn insn, size_t label)
{
    a->fix = xrealloc(a->fix, (a->n_fix + 1) * sizeof(*a->fix));
    a->fix[a->n_fix].at = a->n;
    a->fix[a->n_fix++].label = label;
    emit(a, insn);
}

#define INSN(c, d, s, o, i)                                                                        \
    ((struct bpf_insn){.code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i)})
#define LDX_W(dst, src, off)    INSN(BPF_LDX | BPF_MEM | BPF_W, dst, src, off, 0)
#define ALU32_IMM(op, dst, imm) INSN(BPF_ALU | (op) | BPF_K, dst, 0, 0, imm)
#define MOV32_REG(dst, src)     INSN(BPF_ALU | BPF_MOV | BPF_X, dst, src, 0, 0)
#define MOV64_IMM(dst, imm)     INSN(BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, imm)
#define JMP_IMM(op, dst, imm)   INSN(BPF_JMP | (op) | BPF_K, dst, 0, 0, imm)
#define JA()                    INSN(BPF_JMP | BPF_JA, 0, 0, 0, 0)
#define EXIT()                  INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

enum { R0, R1, R2, R3, R4, R5 };

static bool matches_everything(const struct cg_device_rule *r)
{
    return r->type == 'a' && r->major < 0 && r->minor < 0;
}

/* Decides one access bit. Falls through to the next code when the bit is allowed. */
static void emit_bit(struct asm_buf *a, const struct cg_device_rule *rules, size_t n, unsigned bit)
{
    size_t done = new_label(a);
    emit(a, MOV32_REG(R1, R2));
    emit(a, ALU32_IMM(BPF_AND, R1, (int)bit));
    emit_jump(a, JMP_IMM(BPF_JEQ, R1, 0), done); /* bit not requested */
    bool ended = false;
    for (size_t i = n; i-- > 0 && !ended;) {
        const struct cg_device_rule *r = &rules[i];
        if (!(r->access & bit))
            continue;
        size_t next = new_label(a);
        if (r->type != 'a')
            emit_jump(
                a, JMP_IMM(BPF_JNE, R3, r->type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR),
                next);
        if (r->major >= 0)
            emit_jump(a, JMP_IMM(BPF_JNE, R4, (int)r->major), next);
        if (r->minor >= 0)
            emit_jump(a, JMP_IMM(BPF_JNE, R5, (int)r->minor), next);
        if (r->allow) {
            emit_jump(a, JA(), done);
        } else {
            emit(a, MOV64_IMM(R0, 0));
            emit(a, EXIT());
        }
        place(a, next);
        /* Nothing older can matter after a rule that matches everything, and the verifier
         * refuses unreachable instructions. */
        ended = matches_everything(r);
    }
    if (!ended) { /* no rule matched: default deny */
        emit(a, MOV64_IMM(R0, 0));
        emit(a, EXIT());
    }
    place(a, done);
}

void cg_bpf_build_device_program(const struct cg_device_rule *rules, size_t n,
                                 struct bpf_insn **insns, size_t *n_insns)
{
    struct asm_buf a = {0};
    /* struct bpf_cgroup_dev_ctx: access_type = (access << 16) | type, major, minor. */
    emit(&a, LDX_W(R2, R1, 0));
    emit(&a, MOV32_REG(R3, R2));
    emit(&a, ALU32_IMM(BPF_AND, R3, 0xffff));
    emit(&a, ALU32_IMM(BPF_RSH, R2, 16));
    emit(&a, LDX_W(R4, R1, 4));
    emit(&a, LDX_W(R5, R1, 8));
    emit_bit(&a, rules, n, BPF_DEVCG_ACC_MKNOD);
    emit_bit(&a, rules, n, BPF_DEVCG_ACC_READ);
    emit_bit(&a, rules, n, BPF_DEVCG_ACC_WRITE);
    emit(&a, MOV64_IMM(R0, 1));
    emit(&a, EXIT());
    for (size_t i = 0; i < a.n_fix; i++)
        a.v[a.fix[i].at].off = (int16_t)(a.labels[a.fix[i].label] - (ssize_t)a.fix[i].at - 1);
    free(a.labels);
    free(a.fix);
    *insns = a.v;
    *n_insns = a.n;
}

/* ---- loading and attaching ------------------------------------------------------------------ */

static int sys_bpf(int cmd, union bpf_attr *attr)
{
    return (int)syscall(__NR_bpf, cmd, attr, sizeof(*attr));
}

static int load_program(const struct bpf_insn *insns, size_t n, pr_error **err)
{
    union bpf_attr attr;
    memset(&attr, 0, sizeof(attr));
    attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
    attr.insns = (uintptr_t)insns;
    attr.insn_cnt = (uint32_t)n;
    attr.license = (uintptr_t) "Apache";
    int fd = sys_bpf(BPF_PROG_LOAD, &attr);
    if (fd >= 0)
        return fd;
    int e = errno;
    if (e != EINVAL && e != EACCES)
        return pr_err(err, e, "load the cgroup v2 device filter (bpf BPF_PROG_LOAD)");
    /* Ask again with the verifier's log, to say why. */
    const size_t log_size = 64 * 1024;
    _cleanup_free_ char *log = xcalloc(1, log_size);
    attr.log_level = 1;
    attr.log_buf = (uintptr_t)log;
    attr.log_size = (uint32_t)log_size;
    fd = sys_bpf(BPF_PROG_LOAD, &attr);
    if (fd >= 0)
        return fd;
    size_t len = strlen(log);
    while (len > 0 && log[len - 1] == '\n')
        log[--len] = '\0';
    const char *last = strrchr(log, '\n');
    return pr_err(err, e, "the kernel refused the cgroup v2 device filter: %s",
                  last ? last + 1 : log);
}

static int query_attached(int cgfd, uint32_t **ids, uint32_t *n)
{
    union bpf_attr attr;
    uint32_t cap = 64;
    *ids = xcalloc(cap, sizeof(**ids));
    memset(&attr, 0, sizeof(attr));
    attr.query.target_fd = cgfd;
    attr.query.attach_type = BPF_CGROUP_DEVICE;
    attr.query.prog_ids = (uintptr_t)*ids;
    attr.query.prog_cnt = cap;
    if (sys_bpf(BPF_PROG_QUERY, &attr) < 0) {
        *n = 0;
        return -errno;
    }
    *n = attr.query.prog_cnt < cap ? attr.query.prog_cnt : cap;
    return 0;
}

static void detach_by_id(int cgfd, uint32_t id)
{
    union bpf_attr attr;
    memset(&attr, 0, sizeof(attr));
    attr.prog_id = id;
    _cleanup_close_ int pfd = sys_bpf(BPF_PROG_GET_FD_BY_ID, &attr);
    if (pfd < 0)
        return;
    memset(&attr, 0, sizeof(attr));
    attr.target_fd = cgfd;
    attr.attach_bpf_fd = pfd;
    attr.attach_type = BPF_CGROUP_DEVICE;
    (void)sys_bpf(BPF_PROG_DETACH, &attr);
}

int cg_bpf_apply_devices(const char *dir, const struct cg_device_rule *rules, size_t n,
                         pr_error **err)
{
    _cleanup_free_ struct bpf_insn *insns = NULL;
    _cleanup_free_ uint32_t *old = NULL;
    uint32_t n_old = 0;
    size_t n_insns;
    cg_bpf_build_device_program(rules, n, &insns, &n_insns);
    _cleanup_close_ int prog = load_program(insns, n_insns, err);
    if (prog < 0)
        return prog;
    _cleanup_close_ int cgfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (cgfd < 0)
        return pr_err(err, errno, "open cgroup `%s`", dir);
    (void)query_attached(cgfd, &old, &n_old);

    union bpf_attr attr;
    memset(&attr, 0, sizeof(attr));
    attr.target_fd = cgfd;
    attr.attach_bpf_fd = prog;
    attr.attach_type = BPF_CGROUP_DEVICE;
    attr.attach_flags = BPF_F_ALLOW_MULTI;
    /* New first, then the old ones go: in between both apply, which is only stricter. */
    if (sys_bpf(BPF_PROG_ATTACH, &attr) < 0) {
        int e = errno;
        /* Someone attached without ALLOW_MULTI: a plain attach replaces that one. */
        attr.attach_flags = 0;
        if (sys_bpf(BPF_PROG_ATTACH, &attr) < 0)
            return pr_err(err, e, "attach the device filter to `%s` (bpf BPF_PROG_ATTACH)", dir);
        return 0;
    }
    for (uint32_t i = 0; i < n_old; i++)
        detach_by_id(cgfd, old[i]);
    return 0;
}
