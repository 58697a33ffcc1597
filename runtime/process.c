/* SPDX-License-Identifier: Apache-2.0 */
#include "process.h"
#include "json.h"
#include "log.h"
#include "util.h"

#include <grp.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>

static const struct {
    const char *name;
    int resource;
} rlimit_names[] = {
    {"RLIMIT_AS", RLIMIT_AS},
    {"RLIMIT_CORE", RLIMIT_CORE},
    {"RLIMIT_CPU", RLIMIT_CPU},
    {"RLIMIT_DATA", RLIMIT_DATA},
    {"RLIMIT_FSIZE", RLIMIT_FSIZE},
    {"RLIMIT_LOCKS", RLIMIT_LOCKS},
    {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},
    {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
    {"RLIMIT_NICE", RLIMIT_NICE},
    {"RLIMIT_NOFILE", RLIMIT_NOFILE},
    {"RLIMIT_NPROC", RLIMIT_NPROC},
    {"RLIMIT_RSS", RLIMIT_RSS},
    {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},
    {"RLIMIT_RTTIME", RLIMIT_RTTIME},
    {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
    {"RLIMIT_STACK", RLIMIT_STACK},
};

static const struct {
    const char *name;
    unsigned value;
} sched_policies[] = {
    {"SCHED_OTHER", 0}, {"SCHED_FIFO", 1}, {"SCHED_RR", 2},       {"SCHED_BATCH", 3},
    {"SCHED_ISO", 4},   {"SCHED_IDLE", 5}, {"SCHED_DEADLINE", 6},
};

static const struct {
    const char *name;
    unsigned value;
} sched_flags[] = {
    {"SCHED_FLAG_RESET_ON_FORK", 0x01},  {"SCHED_FLAG_RECLAIM", 0x02},
    {"SCHED_FLAG_DL_OVERRUN", 0x04},     {"SCHED_FLAG_KEEP_POLICY", 0x08},
    {"SCHED_FLAG_KEEP_PARAMS", 0x10},    {"SCHED_FLAG_UTIL_CLAMP_MIN", 0x20},
    {"SCHED_FLAG_UTIL_CLAMP_MAX", 0x40},
};

static const char *rlimit_name(int resource)
{
    for (size_t k = 0; k < ARRAY_SIZE(rlimit_names); k++)
        if (rlimit_names[k].resource == resource)
            return rlimit_names[k].name;
    return "?";
}

void rt_process_free(struct rt_process *p)
{
    if (!p)
        return;
    strv_freep(&p->args);
    strv_freep(&p->env);
    free(p->cwd);
    free(p->additional_gids);
    free(p->rlimits);
    rt_caps_free(p->caps);
    free(p);
}

static int parse_user(yajl_val user, const char *ctx, struct rt_process *p, pr_error **err)
{
    int64_t uid = 0, gid = 0, umask_v = -1;
    int r;
    _cleanup_free_ char *c = xasprintf("%s.user", ctx);
    if ((r = json_get_int64(user, "uid", c, &uid, err)) < 0 ||
        (r = json_get_int64(user, "gid", c, &gid, err)) < 0 ||
        (r = json_get_int64(user, "umask", c, &umask_v, err)) < 0)
        return r;
    if (uid < 0 || uid > UINT32_MAX - 1 || gid < 0 || gid > UINT32_MAX - 1)
        return pr_err(err, 0, "%s: uid and gid must be between 0 and 4294967294", c);
    if (umask_v > 0777)
        return pr_err(err, 0, "%s.umask: %lld is not a file mode mask", c, (long long)umask_v);
    p->uid = (uid_t)uid;
    p->gid = (gid_t)gid;
    p->umask = (int)umask_v;
    yajl_val gids = NULL;
    if ((r = json_get_array(user, "additionalGids", c, &gids, err)) < 0)
        return r;
    size_t n = json_array_len(gids);
    p->additional_gids = xcalloc(n + 1, sizeof(gid_t));
    for (size_t i = 0; i < n; i++) {
        yajl_val g = json_array_at(gids, i);
        if (!YAJL_IS_INTEGER(g) || YAJL_GET_INTEGER(g) < 0)
            return pr_err(err, 0, "%s.additionalGids[%zu]: expected a non-negative integer", c, i);
        p->additional_gids[i] = (gid_t)YAJL_GET_INTEGER(g);
    }
    p->n_additional_gids = n;
    return 0;
}

static int parse_rlimits(yajl_val arr, const char *ctx, struct rt_process *p, pr_error **err)
{
    size_t n = json_array_len(arr);
    p->rlimits = xcalloc(n + 1, sizeof(*p->rlimits));
    for (size_t i = 0; i < n; i++) {
        yajl_val rl = json_array_at(arr, i);
        _cleanup_free_ char *c = xasprintf("%s.rlimits[%zu]", ctx, i);
        const char *type = NULL;
        uint64_t soft = 0, hard = 0;
        int r;
        if ((r = json_get_str(rl, "type", c, &type, err)) < 0 ||
            (r = json_get_uint64(rl, "soft", c, &soft, err)) < 0 ||
            (r = json_get_uint64(rl, "hard", c, &hard, err)) < 0)
            return r;
        if (!type)
            return pr_err(err, 0, "%s.type: missing", c);
        size_t k;
        for (k = 0; k < ARRAY_SIZE(rlimit_names); k++)
            if (streq(rlimit_names[k].name, type))
                break;
        if (k == ARRAY_SIZE(rlimit_names))
            return pr_err(err, 0, "%s.type: unknown rlimit \"%s\"", c, type);
        for (size_t j = 0; j < i; j++)
            if (p->rlimits[j].resource == rlimit_names[k].resource)
                return pr_err(err, 0, "%s.type: duplicate rlimit \"%s\"", c, type);
        if (soft > hard)
            return pr_err(err, 0, "%s: soft limit %llu is above hard limit %llu", c,
                          (unsigned long long)soft, (unsigned long long)hard);
        p->rlimits[i].resource = rlimit_names[k].resource;
        p->rlimits[i].soft = soft;
        p->rlimits[i].hard = hard;
    }
    p->n_rlimits = n;
    return 0;
}

static int parse_io_priority(yajl_val io, const char *ctx, struct rt_process *p, pr_error **err)
{
    const char *cls = NULL;
    int64_t prio = 0;
    int r;
    _cleanup_free_ char *c = xasprintf("%s.ioPriority", ctx);
    if ((r = json_get_str(io, "class", c, &cls, err)) < 0 ||
        (r = json_get_int64(io, "priority", c, &prio, err)) < 0)
        return r;
    int class_v;
    if (!cls)
        return pr_err(err, 0, "%s.class: missing", c);
    else if (streq(cls, "IOPRIO_CLASS_RT"))
        class_v = 1;
    else if (streq(cls, "IOPRIO_CLASS_BE"))
        class_v = 2;
    else if (streq(cls, "IOPRIO_CLASS_IDLE"))
        class_v = 3;
    else
        return pr_err(err, 0, "%s.class: unknown class \"%s\"", c, cls);
    if (prio < 0 || prio > 7)
        return pr_err(err, 0, "%s.priority: %lld is outside 0..7", c, (long long)prio);
    p->has_io_priority = true;
    p->io_priority = (class_v << 13) | (int)prio;
    return 0;
}

static int parse_scheduler(yajl_val s, const char *ctx, struct rt_process *p, pr_error **err)
{
    _cleanup_free_ char *c = xasprintf("%s.scheduler", ctx);
    const char *policy = NULL;
    int64_t nice = 0, priority = 0;
    uint64_t runtime = 0, deadline = 0, period = 0;
    int r;
    if ((r = json_get_str(s, "policy", c, &policy, err)) < 0 ||
        (r = json_get_int64(s, "nice", c, &nice, err)) < 0 ||
        (r = json_get_int64(s, "priority", c, &priority, err)) < 0 ||
        (r = json_get_uint64(s, "runtime", c, &runtime, err)) < 0 ||
        (r = json_get_uint64(s, "deadline", c, &deadline, err)) < 0 ||
        (r = json_get_uint64(s, "period", c, &period, err)) < 0)
        return r;
    if (!policy)
        return pr_err(err, 0, "%s.policy: missing", c);
    size_t k;
    for (k = 0; k < ARRAY_SIZE(sched_policies); k++)
        if (streq(sched_policies[k].name, policy))
            break;
    if (k == ARRAY_SIZE(sched_policies))
        return pr_err(err, 0, "%s.policy: unknown policy \"%s\"", c, policy);
    p->sched.policy = sched_policies[k].value;
    _cleanup_strv_ char **flags = NULL;
    if ((r = json_get_strv(s, "flags", c, &flags, err)) < 0)
        return r;
    for (char **f = flags; f && *f; f++) {
        size_t j;
        for (j = 0; j < ARRAY_SIZE(sched_flags); j++)
            if (streq(sched_flags[j].name, *f))
                break;
        if (j == ARRAY_SIZE(sched_flags))
            return pr_err(err, 0, "%s.flags: unknown flag \"%s\"", c, *f);
        p->sched.flags |= sched_flags[j].value;
    }
    p->sched.nice = (int)nice;
    p->sched.priority = (int)priority;
    p->sched.runtime = runtime;
    p->sched.deadline = deadline;
    p->sched.period = period;
    p->has_scheduler = true;
    return 0;
}

int rt_process_parse(yajl_val process, const char *ctx, struct rt_process **out, pr_error **err)
{
    if (!YAJL_IS_OBJECT(process))
        return pr_err(err, 0, "%s: missing or not an object", ctx);
    struct rt_process *p = xcalloc(1, sizeof(*p));
    _cleanup_process_ struct rt_process *guard = p;
    p->umask = -1;
    int r;
    const char *cwd = NULL;
    yajl_val user = NULL, rlimits = NULL, caps = NULL, console = NULL, io = NULL, sched = NULL;
    int64_t oom = 0;

    if ((r = json_get_strv(process, "args", ctx, &p->args, err)) < 0 ||
        (r = json_get_strv(process, "env", ctx, &p->env, err)) < 0 ||
        (r = json_get_str(process, "cwd", ctx, &cwd, err)) < 0 ||
        (r = json_get_bool(process, "terminal", ctx, &p->terminal, err)) < 0 ||
        (r = json_get_bool(process, "noNewPrivileges", ctx, &p->no_new_privs, err)) < 0 ||
        (r = json_get_object(process, "user", ctx, &user, err)) < 0 ||
        (r = json_get_array(process, "rlimits", ctx, &rlimits, err)) < 0 ||
        (r = json_get_object(process, "capabilities", ctx, &caps, err)) < 0 ||
        (r = json_get_object(process, "consoleSize", ctx, &console, err)) < 0 ||
        (r = json_get_object(process, "ioPriority", ctx, &io, err)) < 0 ||
        (r = json_get_object(process, "scheduler", ctx, &sched, err)) < 0)
        return r;
    if (!p->args || !p->args[0] || !*p->args[0])
        return pr_err(err, 0, "%s.args: must hold at least the program to run", ctx);
    if (!cwd)
        return pr_err(err, 0, "%s.cwd: missing (an absolute path is required)", ctx);
    if (cwd[0] != '/')
        return pr_err(err, 0, "%s.cwd: \"%s\" is not an absolute path", ctx, cwd);
    p->cwd = xstrdup(cwd);
    if (!p->env)
        p->env = xcalloc(1, sizeof(char *));
    for (size_t i = 0; p->env[i]; i++)
        if (!strchr(p->env[i], '='))
            return pr_err(err, 0, "%s.env[%zu]: \"%s\" is not of the form NAME=VALUE", ctx, i,
                          p->env[i]);
    if (user && (r = parse_user(user, ctx, p, err)) < 0)
        return r;
    if (rlimits && (r = parse_rlimits(rlimits, ctx, p, err)) < 0)
        return r;
    if (json_get(process, "oomScoreAdj") && !YAJL_IS_NULL(json_get(process, "oomScoreAdj"))) {
        if ((r = json_get_int64(process, "oomScoreAdj", ctx, &oom, err)) < 0)
            return r;
        if (oom < -1000 || oom > 1000)
            return pr_err(err, 0, "%s.oomScoreAdj: %lld is outside -1000..1000", ctx,
                          (long long)oom);
        p->has_oom_score_adj = true;
        p->oom_score_adj = (int)oom;
    }
    if (console) {
        int64_t h = 0, w = 0;
        if ((r = json_get_int64(console, "height", "process.consoleSize", &h, err)) < 0 ||
            (r = json_get_int64(console, "width", "process.consoleSize", &w, err)) < 0)
            return r;
        p->console_height = (unsigned)h;
        p->console_width = (unsigned)w;
    }
    if (io && (r = parse_io_priority(io, ctx, p, err)) < 0)
        return r;
    if (sched && (r = parse_scheduler(sched, ctx, p, err)) < 0)
        return r;
    const char *label = NULL;
    if ((r = json_get_str(process, "apparmorProfile", ctx, &label, err)) < 0)
        return r;
    if (label && *label && access("/sys/kernel/security/apparmor", F_OK) < 0)
        return pr_err(err, 0, "%s.apparmorProfile: AppArmor is not enabled on this host", ctx);
    label = NULL;
    if ((r = json_get_str(process, "selinuxLabel", ctx, &label, err)) < 0)
        return r;
    if (label && *label)
        return pr_err(err, 0, "%s.selinuxLabel: SELinux labels are not supported by podrun", ctx);
    if ((r = rt_caps_parse(caps, &p->caps, err)) < 0)
        return r;
    *out = steal_pointer(&guard);
    return 0;
}

/* The home directory of uid in the current root's /etc/passwd, or NULL. Lines and the file
 * are bounded: /etc/passwd is the image's, not ours. */
static char *passwd_home(uid_t uid)
{
    _cleanup_fclose_ FILE *f = fopen("/etc/passwd", "re");
    if (!f)
        return NULL;
    char line[4096];
    for (int n = 0; n < 65536 && fgets(line, sizeof(line), f); n++) {
        if (!strchr(line, '\n') && !feof(f)) {
            /* Longer than any real entry: skip all of it, not just its first part. */
            int ch;
            while ((ch = getc(f)) != EOF && ch != '\n')
                ;
            continue;
        }
        /* name:password:uid:gid:gecos:home:shell */
        char *field[7] = {line};
        size_t k = 1;
        for (char *c = line; *c && k < ARRAY_SIZE(field); c++)
            if (*c == ':') {
                *c = '\0';
                field[k++] = c + 1;
            }
        if (k < 6)
            continue;
        char *end;
        errno = 0;
        unsigned long v = strtoul(field[2], &end, 10);
        if (errno || end == field[2] || *end || v != (unsigned long)uid)
            continue;
        field[5][strcspn(field[5], ":\n")] = '\0';
        return *field[5] ? xstrdup(field[5]) : NULL;
    }
    return NULL;
}

void rt_process_ensure_home(struct rt_process *p)
{
    for (char **e = p->env; e && *e; e++)
        if (has_prefix(*e, "HOME="))
            return;
    _cleanup_free_ char *home = passwd_home(p->uid);
    _cleanup_free_ char *entry = xasprintf("HOME=%s", home ? home : "/");
    strv_extend(&p->env, entry);
}

const char *rt_process_path_env(const struct rt_process *p)
{
    for (char **e = p->env; e && *e; e++)
        if (has_prefix(*e, "PATH="))
            return *e + 5;
    return "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
}

/* Sets errno on false: a file that exists but cannot be run is EACCES, as execve and runc say,
 * so callers (podman maps it to exit code 126) can tell it from a missing one (127). */
static bool is_executable_file(const char *path)
{
    struct stat st;
    if (stat(path, &st) < 0)
        return false;
    if (S_ISREG(st.st_mode) && (st.st_mode & 0111))
        return true;
    errno = EACCES;
    return false;
}

int rt_process_lookup_executable(const struct rt_process *p, char **out, pr_error **err)
{
    const char *name = p->args[0];
    if (strchr(name, '/')) {
        if (!is_executable_file(name))
            return pr_err(err, errno ? errno : EACCES, "exec: `%s`", name);
        *out = xstrdup(name);
        return 0;
    }
    _cleanup_free_ char *path = xstrdup(rt_process_path_env(p));
    char *save = NULL;
    for (char *dir = strtok_r(path, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
        _cleanup_free_ char *cand = xasprintf("%s/%s", *dir ? dir : ".", name);
        if (is_executable_file(cand)) {
            *out = steal_pointer(&cand);
            return 0;
        }
    }
    return pr_err(err, 0, "exec: `%s`: executable file not found in $PATH", name);
}

struct pr_sched_attr {
    uint32_t size, sched_policy;
    uint64_t sched_flags;
    int32_t sched_nice;
    uint32_t sched_priority;
    uint64_t sched_runtime, sched_deadline, sched_period;
};

static int apply_scheduling(const struct rt_process *p, pr_error **err)
{
    if (p->has_io_priority &&
        syscall(SYS_ioprio_set, 1 /* IOPRIO_WHO_PROCESS */, 0, p->io_priority) < 0)
        return pr_err(err, errno, "set process.ioPriority");
    if (p->has_scheduler) {
        struct pr_sched_attr a = {
            .size = sizeof(a),
            .sched_policy = p->sched.policy,
            .sched_flags = p->sched.flags,
            .sched_nice = p->sched.nice,
            .sched_priority = (uint32_t)p->sched.priority,
            .sched_runtime = p->sched.runtime,
            .sched_deadline = p->sched.deadline,
            .sched_period = p->sched.period,
        };
        if (syscall(SYS_sched_setattr, 0, &a, 0) < 0)
            return pr_err(err, errno, "set process.scheduler");
    }
    return 0;
}

static int apply_identity(const struct rt_process *p, pr_error **err)
{
    if (setgroups(p->n_additional_gids, p->additional_gids) < 0 && errno != EPERM)
        return pr_err(err, errno, "setgroups");
    if (setresgid(p->gid, p->gid, p->gid) < 0)
        return pr_err(err, errno, "setgid %u", (unsigned)p->gid);
    if (setresuid(p->uid, p->uid, p->uid) < 0)
        return pr_err(err, errno, "setuid %u", (unsigned)p->uid);
    if (p->umask >= 0)
        umask((mode_t)p->umask);
    return 0;
}

int rt_process_finalize(const struct rt_process *p, struct rt_seccomp *sc, int *notify_fd,
                        pr_error **err)
{
    int r;
    *notify_fd = -1;
    for (size_t i = 0; i < p->n_rlimits; i++) {
        struct rlimit rl = {p->rlimits[i].soft, p->rlimits[i].hard};
        if (setrlimit(p->rlimits[i].resource, &rl) < 0)
            return pr_err(err, errno, "setrlimit %s (soft %llu, hard %llu)",
                          rlimit_name(p->rlimits[i].resource), (unsigned long long)rl.rlim_cur,
                          (unsigned long long)rl.rlim_max);
    }
    if ((r = apply_scheduling(p, err)) < 0)
        return r;
    if (!p->no_new_privs && sc && (r = rt_seccomp_load(sc, notify_fd, err)) < 0)
        return r;
    if ((r = rt_caps_apply_bounding(p->caps, err)) < 0)
        return r;
    if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
        return pr_err(err, errno, "prctl(PR_SET_KEEPCAPS)");
    if ((r = apply_identity(p, err)) < 0)
        return r;
    if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
        return pr_err(err, errno, "prctl(PR_SET_KEEPCAPS)");
    if ((r = rt_caps_apply(p->caps, err)) < 0)
        return r;
    if (p->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        return pr_err(err, errno, "prctl(PR_SET_NO_NEW_PRIVS)");
    if (p->no_new_privs && sc && (r = rt_seccomp_load(sc, notify_fd, err)) < 0)
        return r;
    return 0;
}

int rt_process_parse_user(const char *spec, uid_t *uid, gid_t *gid, pr_error **err)
{
    char *end;
    errno = 0;
    unsigned long u = strtoul(spec, &end, 10);
    if (errno || end == spec || (*end && *end != ':'))
        return pr_err(err, 0, "--user \"%s\": expected UID[:GID] (numeric)", spec);
    *uid = (uid_t)u;
    if (*end == ':') {
        const char *g = end + 1;
        unsigned long gv = strtoul(g, &end, 10);
        if (errno || end == g || *end)
            return pr_err(err, 0, "--user \"%s\": expected UID[:GID] (numeric)", spec);
        *gid = (gid_t)gv;
    }
    return 0;
}
