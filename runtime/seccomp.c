/* SPDX-License-Identifier: Apache-2.0 */
/* linux.seccomp compiled into a libseccomp filter. The whole profile is checked and the filter
 * built in the runtime, before any process exists, so a bad profile fails `create` with a
 * message naming the field; the container's init only has to load it. */
#include "seccomp.h"
#include "json.h"
#include "log.h"
#include "util.h"

#include <seccomp-libseccomp.h>

#include <inttypes.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/un.h>

#define LIBSECCOMP_AT_LEAST(maj, min)                                                              \
    (SCMP_VER_MAJOR > (maj) || (SCMP_VER_MAJOR == (maj) && SCMP_VER_MINOR >= (min)))

/* The errno field of SCMP_ACT_ERRNO/SCMP_ACT_TRACE is 16 bits wide. */
#define ACTION_DATA_MAX 0xffffu

/* seccomp(2) takes at most six syscall arguments. */
#define SYSCALL_ARGS_MAX 6

struct rt_seccomp {
    scmp_filter_ctx ctx;
    bool uses_notify;
    char *listener_path;
    char *listener_metadata;
};

static const struct seccomp_action {
    const char *name;
    uint32_t action;
    bool takes_errno; /* errnoRet is meaningful (and defaults to EPERM) */
} actions[] = {
    /* SCMP_ACT_KILL is libseccomp's (and runc's) name for killing the thread. */
    {"SCMP_ACT_KILL", SCMP_ACT_KILL_THREAD, false},
    {"SCMP_ACT_KILL_PROCESS", SCMP_ACT_KILL_PROCESS, false},
    {"SCMP_ACT_KILL_THREAD", SCMP_ACT_KILL_THREAD, false},
    {"SCMP_ACT_TRAP", SCMP_ACT_TRAP, false},
    {"SCMP_ACT_ERRNO", SCMP_ACT_ERRNO(0), true},
    {"SCMP_ACT_TRACE", SCMP_ACT_TRACE(0), true},
    {"SCMP_ACT_ALLOW", SCMP_ACT_ALLOW, false},
    {"SCMP_ACT_LOG", SCMP_ACT_LOG, false},
    {"SCMP_ACT_NOTIFY", SCMP_ACT_NOTIFY, false},
};

static const struct {
    const char *name;
    enum scmp_compare op;
} operators[] = {
    {"SCMP_CMP_NE", SCMP_CMP_NE},
    {"SCMP_CMP_LT", SCMP_CMP_LT},
    {"SCMP_CMP_LE", SCMP_CMP_LE},
    {"SCMP_CMP_EQ", SCMP_CMP_EQ},
    {"SCMP_CMP_GE", SCMP_CMP_GE},
    {"SCMP_CMP_GT", SCMP_CMP_GT},
    {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ},
};

/* The runtime-spec's architecture names; those this libseccomp was built without are absent,
 * so a profile naming one fails with "unknown architecture". */
static const struct {
    const char *name;
    uint32_t token;
} architectures[] = {
    {"SCMP_ARCH_X86", SCMP_ARCH_X86},
    {"SCMP_ARCH_X86_64", SCMP_ARCH_X86_64},
    {"SCMP_ARCH_X32", SCMP_ARCH_X32},
    {"SCMP_ARCH_ARM", SCMP_ARCH_ARM},
    {"SCMP_ARCH_AARCH64", SCMP_ARCH_AARCH64},
    {"SCMP_ARCH_MIPS", SCMP_ARCH_MIPS},
    {"SCMP_ARCH_MIPS64", SCMP_ARCH_MIPS64},
    {"SCMP_ARCH_MIPS64N32", SCMP_ARCH_MIPS64N32},
    {"SCMP_ARCH_MIPSEL", SCMP_ARCH_MIPSEL},
    {"SCMP_ARCH_MIPSEL64", SCMP_ARCH_MIPSEL64},
    {"SCMP_ARCH_MIPSEL64N32", SCMP_ARCH_MIPSEL64N32},
    {"SCMP_ARCH_PPC", SCMP_ARCH_PPC},
    {"SCMP_ARCH_PPC64", SCMP_ARCH_PPC64},
    {"SCMP_ARCH_PPC64LE", SCMP_ARCH_PPC64LE},
    {"SCMP_ARCH_S390", SCMP_ARCH_S390},
    {"SCMP_ARCH_S390X", SCMP_ARCH_S390X},
    {"SCMP_ARCH_PARISC", SCMP_ARCH_PARISC},
    {"SCMP_ARCH_PARISC64", SCMP_ARCH_PARISC64},
    {"SCMP_ARCH_RISCV64", SCMP_ARCH_RISCV64},
#ifdef SCMP_ARCH_LOONGARCH64
    {"SCMP_ARCH_LOONGARCH64", SCMP_ARCH_LOONGARCH64},
#endif
};

/* attr < 0: known to the runtime-spec, but this libseccomp cannot set it. */
static const struct {
    const char *name;
    int attr;
} filter_flags[] = {
    {"SECCOMP_FILTER_FLAG_TSYNC", SCMP_FLTATR_CTL_TSYNC},
    {"SECCOMP_FILTER_FLAG_LOG", SCMP_FLTATR_CTL_LOG},
    {"SECCOMP_FILTER_FLAG_SPEC_ALLOW", SCMP_FLTATR_CTL_SSB},
#if LIBSECCOMP_AT_LEAST(2, 6)
    {"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", SCMP_FLTATR_CTL_WAITKILL},
#else
    {"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", -1},
#endif
};

static const struct seccomp_action *find_action(const char *name)
{
    for (size_t i = 0; i < ARRAY_SIZE(actions); i++)
        if (streq(actions[i].name, name))
            return &actions[i];
    return NULL;
}

/* Reads obj[action_key] and obj[errno_key] into a libseccomp action value. */
static int parse_action(yajl_val obj, const char *ctx, const char *action_key,
                        const char *errno_key, uint32_t *out, pr_error **err)
{
    const char *name = NULL;
    int r = json_get_str(obj, action_key, ctx, &name, err);
    if (r < 0)
        return r;
    if (!name)
        return pr_err(err, 0, "%s.%s: required", ctx, action_key);
    const struct seccomp_action *a = find_action(name);
    if (!a)
        return pr_err(err, 0, "%s.%s: unknown action \"%s\"", ctx, action_key, name);

    yajl_val errno_val = json_get(obj, errno_key);
    bool has_errno = errno_val && !YAJL_IS_NULL(errno_val);
    uint64_t errno_ret = EPERM;
    r = json_get_uint64(obj, errno_key, ctx, &errno_ret, err);
    if (r < 0)
        return r;
    if (has_errno && !a->takes_errno)
        return pr_err(err, 0, "%s.%s: not allowed with %s (only SCMP_ACT_ERRNO and SCMP_ACT_TRACE)",
                      ctx, errno_key, name);
    if (errno_ret > ACTION_DATA_MAX)
        return pr_err(err, 0, "%s.%s: %" PRIu64 " out of range (0-%u)", ctx, errno_key, errno_ret,
                      ACTION_DATA_MAX);
    *out = a->takes_errno ? a->action | (uint32_t)errno_ret : a->action;
    return 0;
}

static int parse_arg(yajl_val arg, const char *ctx, struct scmp_arg_cmp *out, pr_error **err)
{
    if (!YAJL_IS_OBJECT(arg))
        return pr_err(err, 0, "%s: expected object, got %s", ctx, json_type_name(arg));

    uint64_t index = UINT64_MAX, value = 0, value_two = 0;
    const char *op = NULL;
    int r;
    if ((r = json_get_uint64(arg, "index", ctx, &index, err)) < 0 ||
        (r = json_get_uint64(arg, "value", ctx, &value, err)) < 0 ||
        (r = json_get_uint64(arg, "valueTwo", ctx, &value_two, err)) < 0 ||
        (r = json_get_str(arg, "op", ctx, &op, err)) < 0)
        return r;
    if (index == UINT64_MAX)
        return pr_err(err, 0, "%s.index: required", ctx);
    if (index >= SYSCALL_ARGS_MAX)
        return pr_err(err, 0, "%s.index: %" PRIu64 " out of range (0-%d)", ctx, index,
                      SYSCALL_ARGS_MAX - 1);
    if (!json_get(arg, "value"))
        return pr_err(err, 0, "%s.value: required", ctx);
    if (!op)
        return pr_err(err, 0, "%s.op: required", ctx);

    for (size_t i = 0; i < ARRAY_SIZE(operators); i++) {
        if (streq(operators[i].name, op)) {
            /* For MASKED_EQ libseccomp takes (mask, value): the spec's value is the mask. */
            *out = (struct scmp_arg_cmp){.arg = (unsigned)index,
                                         .op = operators[i].op,
                                         .datum_a = value,
                                         .datum_b = value_two};
            return 0;
        }
    }
    return pr_err(err, 0, "%s.op: unknown operator \"%s\"", ctx, op);
}

/* runc's rule, which profiles in the wild are written against: when several conditions test
 * the same argument, each becomes a rule of its own (they are alternatives: OR); otherwise all
 * conditions form one rule (AND). */
static bool args_share_an_index(const struct scmp_arg_cmp *conds, size_t n)
{
    unsigned seen[SYSCALL_ARGS_MAX] = {0};
    for (size_t i = 0; i < n; i++)
        if (seen[conds[i].arg]++)
            return true;
    return false;
}

/* Returns 1 when rules were added, 0 when the syscall is unknown and skipped. */
static int add_rules_for(scmp_filter_ctx ctx, const char *where, const char *name, uint32_t action,
                         const struct scmp_arg_cmp *conds, size_t n, pr_error **err)
{
    int nr = seccomp_syscall_resolve_name(name);
    if (nr == __NR_SCMP_ERROR) {
        /* Profiles list syscalls of newer kernels or other arches; runc skips them too. */
        pr_debug("%s: syscall \"%s\" unknown to libseccomp, ignored", where, name);
        return 0;
    }

    int r;
    if (n > 0 && args_share_an_index(conds, n)) {
        for (size_t i = 0; i < n; i++)
            if ((r = seccomp_rule_add_array(ctx, action, nr, 1, &conds[i])) < 0)
                break;
    } else {
        r = seccomp_rule_add_array(ctx, action, nr, (unsigned)n, conds);
    }
    if (r == -EEXIST)
        return pr_err(err, 0,
                      "%s: the rule for \"%s\" has the same conditions as an earlier one but "
                      "another action",
                      where, name);
    if (r < 0)
        return pr_err(err, -r, "%s: adding the rule for \"%s\"", where, name);
    return 1;
}

static bool strv_contains(char **v, const char *s)
{
    for (; *v; v++)
        if (streq(*v, s))
            return true;
    return false;
}

static int add_syscall_entry(struct rt_seccomp *s, yajl_val entry, size_t idx,
                             uint32_t default_action, pr_error **err)
{
    _cleanup_free_ char *where = xasprintf("linux.seccomp.syscalls[%zu]", idx);
    if (!YAJL_IS_OBJECT(entry))
        return pr_err(err, 0, "%s: expected object, got %s", where, json_type_name(entry));

    _cleanup_strv_ char **names = NULL;
    int r = json_get_strv(entry, "names", where, &names, err);
    if (r < 0)
        return r;
    if (!names)
        return pr_err(err, 0, "%s.names: required", where);

    uint32_t action;
    if ((r = parse_action(entry, where, "action", "errnoRet", &action, err)) < 0)
        return r;

    yajl_val args = NULL;
    if ((r = json_get_array(entry, "args", where, &args, err)) < 0)
        return r;
    size_t n = json_array_len(args);
    _cleanup_free_ struct scmp_arg_cmp *conds = xcalloc(n ? n : 1, sizeof(*conds));
    for (size_t i = 0; i < n; i++) {
        _cleanup_free_ char *actx = xasprintf("%s.args[%zu]", where, i);
        if ((r = parse_arg(json_array_at(args, i), actx, &conds[i], err)) < 0)
            return r;
    }

    /* The init may still write(2) (logs, sync) after the filter is in place and before
     * anyone listens on the notify fd: it would hang. runc refuses it too. */
    if (action == SCMP_ACT_NOTIFY && strv_contains(names, "write"))
        return pr_err(err, 0, "%s: SCMP_ACT_NOTIFY cannot be used for \"write\"", where);
    /* libseccomp refuses a rule that repeats the default action; it would change nothing. */
    if (action == default_action) {
        pr_debug("%s: same action as defaultAction, skipped", where);
        return 0;
    }

    for (char **name = names; *name; name++) {
        if ((r = add_rules_for(s->ctx, where, *name, action, conds, n, err)) < 0)
            return r;
        /* Only a rule actually in the filter makes libseccomp create a listener fd. */
        if (r > 0 && action == SCMP_ACT_NOTIFY)
            s->uses_notify = true;
    }
    return 0;
}

static int add_architectures(scmp_filter_ctx ctx, yajl_val seccomp, pr_error **err)
{
    _cleanup_strv_ char **names = NULL;
    int r = json_get_strv(seccomp, "architectures", "linux.seccomp", &names, err);
    if (r < 0 || !names)
        return r;
    for (size_t i = 0; names[i]; i++) {
        size_t a = 0;
        while (a < ARRAY_SIZE(architectures) && !streq(architectures[a].name, names[i]))
            a++;
        if (a == ARRAY_SIZE(architectures))
            return pr_err(err, 0, "linux.seccomp.architectures[%zu]: unknown architecture \"%s\"",
                          i, names[i]);
        r = seccomp_arch_add(ctx, architectures[a].token);
        if (r < 0 && r != -EEXIST) /* the native arch is always in */
            return pr_err(err, -r, "linux.seccomp.architectures[%zu]: adding %s", i, names[i]);
    }
    return 0;
}

static int set_filter_flags(scmp_filter_ctx ctx, yajl_val seccomp, pr_error **err)
{
    _cleanup_strv_ char **names = NULL;
    int r = json_get_strv(seccomp, "flags", "linux.seccomp", &names, err);
    if (r < 0 || !names)
        return r;
    for (size_t i = 0; names[i]; i++) {
        size_t f = 0;
        while (f < ARRAY_SIZE(filter_flags) && !streq(filter_flags[f].name, names[i]))
            f++;
        if (f == ARRAY_SIZE(filter_flags))
            return pr_err(err, 0, "linux.seccomp.flags[%zu]: unknown flag \"%s\"", i, names[i]);
        if (filter_flags[f].attr < 0)
            return pr_err(err, 0,
                          "linux.seccomp.flags[%zu]: %s is not supported by libseccomp %d.%d.%d", i,
                          names[i], SCMP_VER_MAJOR, SCMP_VER_MINOR, SCMP_VER_MICRO);
        r = seccomp_attr_set(ctx, (enum scmp_filter_attr)filter_flags[f].attr, 1);
        if (r < 0)
            return pr_err(err, -r, "linux.seccomp.flags[%zu]: %s not supported by this kernel", i,
                          names[i]);
    }
    return 0;
}

static int get_optional_str(yajl_val obj, const char *key, char **out, pr_error **err)
{
    const char *v = NULL;
    int r = json_get_str(obj, key, "linux.seccomp", &v, err);
    if (r < 0)
        return r;
    *out = v && *v ? xstrdup(v) : NULL;
    return 0;
}

static void rt_seccomp_freep(struct rt_seccomp **s)
{
    rt_seccomp_free(*s);
}

int rt_seccomp_prepare(yajl_val seccomp, struct rt_seccomp **out, pr_error **err)
{
    *out = NULL;
    if (!seccomp || YAJL_IS_NULL(seccomp))
        return 0;
    if (!YAJL_IS_OBJECT(seccomp))
        return pr_err(err, 0, "linux.seccomp: expected object, got %s", json_type_name(seccomp));

    uint32_t default_action;
    int r = parse_action(seccomp, "linux.seccomp", "defaultAction", "defaultErrnoRet",
                         &default_action, err);
    if (r < 0)
        return r;
    /* Every syscall the init makes after loading would wait for a listener it has not yet
     * handed the fd to. */
    if (default_action == SCMP_ACT_NOTIFY)
        return pr_err(err, 0, "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default");

    _cleanup_(rt_seccomp_freep) struct rt_seccomp *s = xcalloc(1, sizeof(*s));
    if ((r = get_optional_str(seccomp, "listenerPath", &s->listener_path, err)) < 0 ||
        (r = get_optional_str(seccomp, "listenerMetadata", &s->listener_metadata, err)) < 0)
        return r;

    s->ctx = seccomp_init(default_action);
    if (!s->ctx)
        return pr_err(err, 0, "linux.seccomp.defaultAction: not supported by this kernel");
    /* The runtime sets no_new_privs itself, only when process.noNewPrivileges asks. Raw
     * return codes make load errors say EACCES rather than libseccomp's ECANCELED. */
    if ((r = seccomp_attr_set(s->ctx, SCMP_FLTATR_CTL_NNP, 0)) < 0 ||
        (r = seccomp_attr_set(s->ctx, SCMP_FLTATR_API_SYSRAWRC, 1)) < 0)
        return pr_err(err, -r, "linux.seccomp: setting filter attributes");

    if ((r = add_architectures(s->ctx, seccomp, err)) < 0 ||
        (r = set_filter_flags(s->ctx, seccomp, err)) < 0)
        return r;

    yajl_val syscalls = NULL;
    if ((r = json_get_array(seccomp, "syscalls", "linux.seccomp", &syscalls, err)) < 0)
        return r;
    for (size_t i = 0; i < json_array_len(syscalls); i++)
        if ((r = add_syscall_entry(s, json_array_at(syscalls, i), i, default_action, err)) < 0)
            return r;

    if (s->uses_notify && !s->listener_path)
        return pr_err(err, 0, "linux.seccomp.listenerPath: required when SCMP_ACT_NOTIFY is used");

    *out = steal_pointer(&s);
    return 0;
}

int rt_seccomp_load(struct rt_seccomp *s, int *notify_fd, pr_error **err)
{
    *notify_fd = -1;
    if (!s)
        return 0;
    int r = seccomp_load(s->ctx);
    if (r == -EACCES)
        return pr_err(err, -r,
                      "loading the seccomp filter (needs CAP_SYS_ADMIN or noNewPrivileges)");
    if (r < 0)
        return pr_err(err, -r, "loading the seccomp filter");
    if (s->uses_notify) {
        int fd = seccomp_notify_fd(s->ctx);
        if (fd < 0)
            return pr_err(err, fd == -1 ? ENOENT : -fd, "getting the seccomp notify fd");
        *notify_fd = fd;
    }
    return 0;
}

const char *rt_seccomp_listener_path(const struct rt_seccomp *s)
{
    return s ? s->listener_path : NULL;
}

const char *rt_seccomp_listener_metadata(const struct rt_seccomp *s)
{
    return s ? s->listener_metadata : NULL;
}

/* The runtime-spec's "container process state": the state wrapped with the fd names. */
static int build_process_state(const struct rt_seccomp *s, const char *state_json, yajl_gen g,
                               pr_error **err)
{
    _cleanup_json_ yajl_val state = NULL;
    int r = json_parse(state_json, "container state", &state, err);
    if (r < 0)
        return r;
    const char *version = "1.1.0";
    int64_t pid = 0;
    if ((r = json_get_str(state, "ociVersion", "state", &version, err)) < 0 ||
        (r = json_get_int64(state, "pid", "state", &pid, err)) < 0)
        return r;

    jg_map_open(g);
    jg_key_str(g, "ociVersion", version);
    jg_key(g, "fds");
    jg_array_open(g);
    jg_str(g, "seccompFd");
    jg_array_close(g);
    jg_key_int(g, "pid", pid);
    jg_key_str(g, "metadata", s->listener_metadata);
    jg_key(g, "state");
    jg_value(g, state);
    jg_map_close(g);
    return 0;
}

/* One sendmsg carries the fd with the first bytes; the rest of a long state follows. */
static int send_with_fd(int sock, const char *buf, size_t len, int fd)
{
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } control;
    memset(&control, 0, sizeof(control));
    struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};
    struct msghdr msg = {.msg_iov = &iov,
                         .msg_iovlen = 1,
                         .msg_control = control.buf,
                         .msg_controllen = sizeof(control.buf)};
    struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));

    ssize_t n;
    do
        n = sendmsg(sock, &msg, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return -errno;
    for (size_t off = (size_t)n; off < len; off += (size_t)n) {
        n = send(sock, buf + off, len - off, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            n = 0;
        else if (n < 0)
            return -errno;
    }
    return 0;
}

int rt_seccomp_send_listener(const struct rt_seccomp *s, int notify_fd, const char *state_json,
                             pr_error **err)
{
    if (!s || !s->listener_path || notify_fd < 0)
        return 0;

    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    if (strlen(s->listener_path) >= sizeof(addr.sun_path))
        return pr_err(err, ENAMETOOLONG, "seccomp listener socket `%s`", s->listener_path);
    strcpy(addr.sun_path, s->listener_path);

    _cleanup_gen_ yajl_gen g = json_gen_new(false);
    int r = build_process_state(s, state_json, g, err);
    if (r < 0)
        return r;
    size_t len;
    const char *buf = jg_buf(g, &len);

    _cleanup_close_ int sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (sock < 0)
        return pr_err(err, errno, "creating a socket for the seccomp listener");
    if (connect(sock, (struct sockaddr *)&addr, sizeof(addr)) < 0)
        return pr_err(err, errno, "connecting to the seccomp listener `%s`", s->listener_path);
    r = send_with_fd(sock, buf, len, notify_fd);
    if (r < 0)
        return pr_err(err, -r, "sending the seccomp fd to `%s`", s->listener_path);
    return 0;
}

void rt_seccomp_free(struct rt_seccomp *s)
{
    if (!s)
        return;
    if (s->ctx)
        seccomp_release(s->ctx);
    free(s->listener_path);
    free(s->listener_metadata);
    free(s);
}

/* A flag is supported when libseccomp and the kernel accept it on a scratch filter: the same
 * test rt_seccomp_prepare applies. */
static bool flag_supported(int attr)
{
    if (attr < 0)
        return false;
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
    if (!ctx)
        return false;
    bool ok = seccomp_attr_set(ctx, (enum scmp_filter_attr)attr, 1) == 0;
    seccomp_release(ctx);
    return ok;
}

void rt_seccomp_features(yajl_gen g)
{
    jg_map_open(g);
    jg_key_bool(g, "enabled", true);

    jg_key(g, "actions");
    jg_array_open(g);
    for (size_t i = 0; i < ARRAY_SIZE(actions); i++)
        jg_str(g, actions[i].name);
    jg_array_close(g);

    jg_key(g, "operators");
    jg_array_open(g);
    for (size_t i = 0; i < ARRAY_SIZE(operators); i++)
        jg_str(g, operators[i].name);
    jg_array_close(g);

    jg_key(g, "archs");
    jg_array_open(g);
    for (size_t i = 0; i < ARRAY_SIZE(architectures); i++)
        jg_str(g, architectures[i].name);
    jg_array_close(g);

    jg_key(g, "knownFlags");
    jg_array_open(g);
    for (size_t i = 0; i < ARRAY_SIZE(filter_flags); i++)
        jg_str(g, filter_flags[i].name);
    jg_array_close(g);

    jg_key(g, "supportedFlags");
    jg_array_open(g);
    for (size_t i = 0; i < ARRAY_SIZE(filter_flags); i++)
        if (flag_supported(filter_flags[i].attr))
            jg_str(g, filter_flags[i].name);
    jg_array_close(g);

    jg_map_close(g);
}
