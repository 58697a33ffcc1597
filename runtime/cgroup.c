/* SPDX-License-Identifier: Apache-2.0 */
/* The container's cgroup: which hierarchies the host has (v2, v1, or both), where the
 * container's directory is in each, making and removing those directories, moving processes,
 * the freezer, and the state.json form. Writing linux.resources is in cgroup-apply.c, the v2
 * device filter in cgroup-bpf.c, systemd scopes in cgroup-systemd.c, stats in cgroup-stats.c. */
#include "cgroup-internal.h"
#include "cgroup-read.h"
#include "fs.h"
#include "json.h"
#include "log.h"
#include "util.h"

#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

#define CGROUP_MOUNT "/sys/fs/cgroup"

static char *test_unified_root;

void cg_test_set_unified_root(const char *dir)
{
    free(test_unified_root);
    test_unified_root = dir ? xstrdup(dir) : NULL;
}

/* ---- small file helpers --------------------------------------------------------------------- */

int cg_write(const char *dir, const char *file, const char *value, pr_error **err)
{
    _cleanup_free_ char *p = xasprintf("%s/%s", dir, file);
    return write_file(p, value, strlen(value), err);
}

int cg_writef(const char *dir, const char *file, pr_error **err, const char *fmt, ...)
{
    _cleanup_free_ char *v = NULL;
    va_list ap;
    va_start(ap, fmt);
    if (vasprintf(&v, fmt, ap) < 0)
        abort();
    va_end(ap);
    return cg_write(dir, file, v, err);
}

int cg_try_write(const char *dir, const char *file, const char *value)
{
    _cleanup_free_ char *p = xasprintf("%s/%s", dir, file);
    _cleanup_close_ int fd = open(p, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    size_t len = strlen(value);
    ssize_t w = write(fd, value, len);
    if (w < 0)
        return -errno;
    return (size_t)w == len ? 0 : -EIO;
}

int cg_read(const char *dir, const char *file, char **out)
{
    _cleanup_free_ char *p = xasprintf("%s/%s", dir, file);
    _cleanup_error_ pr_error *e = NULL;
    size_t len;
    int r = read_file(p, out, &len, &e);
    return r < 0 ? r : 0;
}

int cg_read_u64(const char *dir, const char *file, uint64_t *out)
{
    _cleanup_free_ char *s = NULL;
    int r = cg_read(dir, file, &s);
    return r < 0 ? r : cgroup_parse_u64(s, out);
}

bool cg_file_exists(const char *dir, const char *file)
{
    _cleanup_free_ char *p = xasprintf("%s/%s", dir, file);
    return access(p, F_OK) == 0;
}

int cg_read_keyed(const char *dir, const char *file, const char *key, uint64_t *out)
{
    _cleanup_free_ char *p = xasprintf("%s/%s", dir, file);
    return cgroup_read_keyed_u64(p, key, out);
}

/* ---- host discovery ------------------------------------------------------------------------- */

int rt_cgroup_host_mode(enum rt_cgroup_mode *mode, pr_error **err)
{
    static int cached = -1;
    struct statfs fs;
    if (test_unified_root) {
        *mode = RT_CGROUP_UNIFIED;
        return 0;
    }
    if (cached >= 0) {
        *mode = cached;
        return 0;
    }
    if (statfs(CGROUP_MOUNT, &fs) < 0)
        return pr_err(err, errno, "statfs `%s` (is cgroupfs mounted?)", CGROUP_MOUNT);
    if (fs.f_type == CGROUP2_SUPER_MAGIC)
        cached = RT_CGROUP_UNIFIED;
    else if (statfs(CGROUP_MOUNT "/unified", &fs) == 0 && fs.f_type == CGROUP2_SUPER_MAGIC)
        cached = RT_CGROUP_HYBRID;
    else
        cached = RT_CGROUP_LEGACY;
    *mode = cached;
    return 0;
}

static void host_add_mount(struct cg_host *h, bool v2, const char *root, const char *mnt,
                           const char *superopts)
{
    if (v2) {
        /* Several cgroup2 mounts are one hierarchy; prefer the standard place. */
        if (h->v2 && !streq(mnt, CGROUP_MOUNT))
            return;
        if (!h->v2)
            h->v2 = xcalloc(1, sizeof(*h->v2));
        free(h->v2->mnt);
        free(h->v2->root);
        h->v2->mnt = xstrdup(mnt);
        h->v2->root = xstrdup(root);
        return;
    }
    char *ctrls = cgroup_v1_controllers(superopts);
    if (!ctrls)
        return;
    for (size_t i = 0; i < h->n_v1; i++)
        if (streq(h->v1[i].controllers, ctrls)) {
            free(ctrls); /* the same hierarchy mounted twice: keep the first */
            return;
        }
    h->v1 = xrealloc(h->v1, (h->n_v1 + 1) * sizeof(*h->v1));
    h->v1[h->n_v1++] = (struct cg_mount){xstrdup(mnt), xstrdup(root), ctrls};
}

int cg_host_discover(const char *mountinfo, struct cg_host *h, pr_error **err)
{
    _cleanup_free_ char *buf = NULL;
    memset(h, 0, sizeof(*h));
    if (test_unified_root && !mountinfo) {
        h->mode = RT_CGROUP_UNIFIED;
        h->v2 = xcalloc(1, sizeof(*h->v2));
        h->v2->mnt = xstrdup(test_unified_root);
        h->v2->root = xstrdup("/");
        return 0;
    }
    if (!mountinfo) {
        size_t len;
        int r = read_file("/proc/self/mountinfo", &buf, &len, err);
        if (r < 0)
            return r;
        mountinfo = buf;
    }
    for (const char *line = mountinfo; line && *line;) {
        const char *nl = strchr(line, '\n');
        _cleanup_free_ char *l = nl ? xasprintf("%.*s", (int)(nl - line), line) : xstrdup(line);
        line = nl ? nl + 1 : NULL;
        char *sep = strstr(l, " - ");
        if (!sep)
            continue;
        *sep = '\0';
        char root[PATH_MAX], mnt[PATH_MAX], fstype[64], source[PATH_MAX], opts[1024];
        if (sscanf(l, "%*d %*d %*s %4095s %4095s", root, mnt) != 2 ||
            sscanf(sep + 3, "%63s %4095s %1023s", fstype, source, opts) != 3)
            continue;
        if (streq(fstype, "cgroup2"))
            host_add_mount(h, true, root, mnt, opts);
        else if (streq(fstype, "cgroup"))
            host_add_mount(h, false, root, mnt, opts);
    }
    if (h->n_v1 == 0 && !h->v2)
        return pr_err(err, ENOENT, "no cgroup filesystem is mounted");
    if (h->n_v1 == 0 || (h->v2 && streq(h->v2->mnt, CGROUP_MOUNT)))
        h->mode = RT_CGROUP_UNIFIED;
    else
        h->mode = h->v2 ? RT_CGROUP_HYBRID : RT_CGROUP_LEGACY;
    /* On a v2 host, stray v1 named hierarchies are not ours to fill. */
    if (h->mode == RT_CGROUP_UNIFIED) {
        for (size_t i = 0; i < h->n_v1; i++) {
            free(h->v1[i].mnt);
            free(h->v1[i].root);
            free(h->v1[i].controllers);
        }
        free(h->v1);
        h->v1 = NULL;
        h->n_v1 = 0;
    }
    return 0;
}

void cg_host_clear(struct cg_host *h)
{
    for (size_t i = 0; i < h->n_v1; i++) {
        free(h->v1[i].mnt);
        free(h->v1[i].root);
        free(h->v1[i].controllers);
    }
    free(h->v1);
    if (h->v2) {
        free(h->v2->mnt);
        free(h->v2->root);
        free(h->v2);
    }
    memset(h, 0, sizeof(*h));
}

/* The cgroup of pid (0: ourselves) in the hierarchy m (v1 when controllers is set), from
 * /proc/PID/cgroup, made relative to what is visible at m's mount point. */
static int proc_cgroup_path(pid_t pid, const struct cg_mount *m, bool v2, char **out,
                            pr_error **err)
{
    _cleanup_free_ char *path =
        pid > 0 ? xasprintf("/proc/%d/cgroup", (int)pid) : xstrdup("/proc/self/cgroup");
    _cleanup_free_ char *buf = NULL;
    size_t len;
    int r = read_file(path, &buf, &len, err);
    if (r < 0)
        return r;
    _cleanup_free_ char *first =
        v2 ? NULL : xasprintf("%.*s", (int)strcspn(m->controllers, ","), m->controllers);
    for (char *line = buf; line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        if (c2) {
            *c2 = '\0';
            bool match =
                v2 ? (c1[1] == '\0' && has_prefix(line, "0:")) : cgroup_in_list(c1 + 1, first);
            if (match) {
                const char *p = c2 + 1;
                /* A mount of a subtree (cgroupns, bind) shows p below its root. */
                if (!streq(m->root, "/") && has_prefix(p, m->root))
                    p += strlen(m->root);
                *out = xstrdup(*p ? p : "/");
                return 0;
            }
        }
        line = nl ? nl + 1 : NULL;
    }
    return pr_err(err, ENOENT, "%s has no entry for the %s hierarchy", path,
                  v2 ? "cgroup2" : m->controllers);
}

static char *join_path(const char *a, const char *b)
{
    size_t al = strlen(a);
    while (al > 0 && a[al - 1] == '/')
        al--;
    while (*b == '/')
        b++;
    return *b ? xasprintf("%.*s/%s", (int)al, a, b) : xasprintf("%.*s", (int)al, a);
}

/* "/a/b" -> "/a", "/a" -> "/", "/" -> "/". */
static char *parent_path(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash || slash == path)
        return xstrdup("/");
    return xasprintf("%.*s", (int)(slash - path), path);
}

/* Where a relative cgroupsPath goes in hierarchy m: below the runtime's own cgroup on v1, and
 * below its parent on cgroup2 (runc does the same). The runtime's own v2 cgroup always has a
 * process in it, the runtime itself, and usually more (a login shell's session-N.scope, a
 * service's .service): the no-internal-process rule forbids enabling domain controllers
 * (memory, io) in it, and enabling threaded ones (pids, cpu) there turns it into a thread root
 * whose new children are "domain invalid", so no process could be moved into the container's
 * cgroup at all. Its parent (a .slice) holds no processes and may pass controllers on. */
static int relative_base(const struct cg_mount *m, bool v2, char **base, pr_error **err)
{
    _cleanup_free_ char *own = NULL;
    int r = proc_cgroup_path(0, m, v2, &own, err);
    if (r < 0)
        return r;
    *base = v2 ? parent_path(own) : steal_pointer(&own);
    return 0;
}

/* The container's directory in hierarchy m for the cleaned cgroupsPath. */
static int resolve_dir(const struct cg_mount *m, bool v2, const char *path, char **dir,
                       char **shown, pr_error **err)
{
    if (path[0] == '/') {
        *dir = join_path(m->mnt, path);
        if (shown)
            *shown = xstrdup(path);
        return 0;
    }
    _cleanup_free_ char *base = NULL;
    int r = relative_base(m, v2, &base, err);
    if (r < 0)
        return r;
    _cleanup_free_ char *rel = join_path(base, path);
    *dir = join_path(m->mnt, rel);
    if (shown)
        *shown = *rel == '/' ? xstrdup(rel) : xasprintf("/%s", rel);
    return 0;
}

/* ---- the object ----------------------------------------------------------------------------- */

static struct rt_cgroup *cg_new(enum rt_cgroup_mode mode)
{
    struct rt_cgroup *cg = xcalloc(1, sizeof(*cg));
    cg->mode = mode;
    return cg;
}

void rt_cgroup_free(struct rt_cgroup *cg)
{
    if (!cg)
        return;
    free(cg->path);
    free(cg->unit);
    free(cg->v2_dir);
    for (size_t i = 0; i < cg->n_v1; i++) {
        free(cg->v1[i].controllers);
        free(cg->v1[i].dir);
    }
    free(cg->v1);
    free(cg->v2_controllers);
    free(cg);
}

static void rt_cgroup_freep(struct rt_cgroup **cg)
{
    rt_cgroup_free(*cg);
}

const char *rt_cgroup_path(const struct rt_cgroup *cg)
{
    return cg->path;
}

static void cg_add_v1(struct rt_cgroup *cg, const char *controllers, char *dir)
{
    cg->v1 = xrealloc(cg->v1, (cg->n_v1 + 1) * sizeof(*cg->v1));
    cg->v1[cg->n_v1++] = (struct cg_dir){xstrdup(controllers), dir};
}

enum cg_version cg_controller_dir(struct rt_cgroup *cg, const char *ctrl, const char **dir)
{
    for (size_t i = 0; i < cg->n_v1; i++)
        if (cgroup_in_list(cg->v1[i].controllers, ctrl)) {
            *dir = cg->v1[i].dir;
            return CG_V1;
        }
    if (!cg->v2_dir)
        return CG_NONE;
    if (!cg->v2_controllers_read) {
        if (cg_read(cg->v2_dir, "cgroup.controllers", &cg->v2_controllers) < 0)
            cg->v2_controllers = NULL;
        cg->v2_controllers_read = true;
    }
    if (cg->v2_controllers && cgroup_in_list(cg->v2_controllers, ctrl)) {
        *dir = cg->v2_dir;
        return CG_V2;
    }
    return CG_NONE;
}

/* Every directory of the container, v2 first. */
#define FOREACH_DIR(cg, d)                                                                         \
    for (size_t _i = 0; _i <= (cg)->n_v1; _i++)                                                    \
        for (const char *d = _i == 0 ? (cg)->v2_dir : (cg)->v1[_i - 1].dir; d; d = NULL)

/* ---- validation ----------------------------------------------------------------------------- */

static int hugepage_size_exists(const char *page_size)
{
    uint64_t kb;
    if (cg_hugepage_size_kb(page_size, &kb) < 0)
        return false;
    _cleanup_free_ char *p = xasprintf("/sys/kernel/mm/hugepages/hugepages-%" PRIu64 "kB", kb);
    return access(p, F_OK) == 0;
}

/* Checks what this host's cgroup layout can express. */
static int check_against_host(const struct cg_resources *r, const struct cg_host *h, pr_error **err)
{
    if (r->has_cpu && (r->cpu.has_rt_runtime || r->cpu.has_rt_period) &&
        h->mode == RT_CGROUP_UNIFIED &&
        ((r->cpu.has_rt_runtime && r->cpu.rt_runtime != 0) ||
         (r->cpu.has_rt_period && r->cpu.rt_period != 0)))
        return pr_err(err, 0,
                      "linux.resources.cpu.realtimeRuntime/realtimePeriod: cgroup v2 has "
                      "no real-time CPU limits (this host is cgroup v2 only)");
    for (size_t i = 0; i < r->n_hugepages; i++)
        if (!hugepage_size_exists(r->hugepages[i].page_size))
            return pr_err(err, 0,
                          "linux.resources.hugepageLimits[%zu].pageSize: this host has "
                          "no %s huge pages",
                          i, r->hugepages[i].page_size);
    if (r->n_unified == 0)
        return 0;
    if (!h->v2)
        return pr_err(err, 0,
                      "linux.resources.unified: needs cgroup v2, and this host has only "
                      "cgroup v1 hierarchies");
    if (h->mode != RT_CGROUP_HYBRID)
        return 0;
    /* Hybrid: only controllers bound to the unified hierarchy have files there. */
    _cleanup_free_ char *ctrls = NULL;
    if (cg_read(h->v2->mnt, "cgroup.controllers", &ctrls) < 0)
        ctrls = xstrdup("");
    ctrls[strcspn(ctrls, "\n")] = '\0';
    for (size_t i = 0; i < r->n_unified; i++) {
        const char *k = r->unified[i].key;
        _cleanup_free_ char *ctrl = xasprintf("%.*s", (int)strcspn(k, "."), k);
        if (!streq(ctrl, "cgroup") && !cgroup_in_list(ctrls, ctrl))
            return pr_err(err, 0,
                          "linux.resources.unified.%s: the %s controller is not in the "
                          "unified hierarchy on this hybrid host (it has: %s)",
                          k, ctrl, *ctrls ? ctrls : "none");
    }
    return 0;
}

static int systemd_required(const char *path, pr_error **err)
{
    if (!cg_systemd_running())
        return pr_err(err, 0,
                      "--systemd-cgroup: systemd is not running on this host (PID 1 is "
                      "not systemd), so no scope can be made for cgroupsPath `%s`; run without "
                      "--systemd-cgroup",
                      path ? path : "(default)");
    return 0;
}

/* What create needs from the config, computed once when the config is loaded: the resources,
 * and where the cgroup goes with the default filled in and the path cleaned (cgroupfs) or
 * split into slice and unit (systemd). */
struct rt_cgroup_config {
    bool systemd;
    char *path;         /* cgroupfs: the cleaned cgroupsPath, or /podrun/<id> */
    char *slice, *unit; /* systemd: from cgroupsPath, or system.slice:podrun:<id> */
    struct cg_resources res;
};

void rt_cgroup_config_free(struct rt_cgroup_config *c)
{
    if (!c)
        return;
    free(c->path);
    free(c->slice);
    free(c->unit);
    cg_resources_clear(&c->res);
    free(c);
}

static void rt_cgroup_config_freep(struct rt_cgroup_config **c)
{
    rt_cgroup_config_free(*c);
}

static int parse_config(const char *id, yajl_val linux_obj, bool systemd,
                        struct rt_cgroup_config *c, pr_error **err)
{
    yajl_val resources = NULL;
    const char *path = NULL;
    int r;
    if (linux_obj && !YAJL_IS_NULL(linux_obj) && !YAJL_IS_OBJECT(linux_obj))
        return pr_err(err, 0, "linux: expected object, got %s", json_type_name(linux_obj));
    if ((r = json_get_str(linux_obj, "cgroupsPath", "linux", &path, err)) < 0 ||
        (r = json_get_object(linux_obj, "resources", "linux", &resources, err)) < 0 ||
        (r = cg_resources_parse(resources, &c->res, err)) < 0)
        return r;
    if (path && !*path)
        path = NULL;
    c->systemd = systemd;
    if (!systemd)
        return path ? cg_clean_path(path, &c->path, err)
                    : (c->path = xasprintf("/podrun/%s", id), 0);
    _cleanup_free_ char *def = path ? NULL : xasprintf("system.slice:podrun:%s", id);
    if (path && (r = cg_systemd_parse_path(path, &c->slice, &c->unit, err)) < 0)
        return r;
    /* A malformed path is reported before a missing systemd, the default path after. */
    if ((r = systemd_required(path, err)) < 0)
        return r;
    return path ? 0 : cg_systemd_parse_path(def, &c->slice, &c->unit, err);
}

int rt_cgroup_config_parse(const char *id, yajl_val linux_obj, bool systemd,
                           struct rt_cgroup_config **out, pr_error **err)
{
    _cleanup_(rt_cgroup_config_freep) struct rt_cgroup_config *c = xcalloc(1, sizeof(*c));
    struct cg_host h;
    int r = parse_config(id, linux_obj, systemd, c, err);
    if (r < 0)
        return r;
    if ((r = cg_host_discover(NULL, &h, err)) < 0)
        return r;
    r = check_against_host(&c->res, &h, err);
    cg_host_clear(&h);
    if (r < 0)
        return r;
    *out = steal_pointer(&c);
    return 0;
}

/* ---- making directories --------------------------------------------------------------------- */

struct created {
    char **dirs;
    size_t n;
};

static void created_push(struct created *c, const char *dir)
{
    c->dirs = xrealloc(c->dirs, (c->n + 1) * sizeof(*c->dirs));
    c->dirs[c->n++] = xstrdup(dir);
}

static void created_undo(struct created *c)
{
    for (size_t i = c->n; i-- > 0;) {
        if (rmdir(c->dirs[i]) < 0 && errno != ENOENT)
            pr_debug("cgroup: cannot remove `%s` while undoing: %s", c->dirs[i], strerror(errno));
        free(c->dirs[i]);
    }
    free(c->dirs);
    c->dirs = NULL;
    c->n = 0;
}

static void created_forget(struct created *c)
{
    for (size_t i = 0; i < c->n; i++)
        free(c->dirs[i]);
    free(c->dirs);
    c->dirs = NULL;
    c->n = 0;
}

/* A new v1 cpuset starts with no CPUs and no memory nodes: nothing could run in it. */
static int cpuset_copy_parent(const char *dir, const char *parent, pr_error **err)
{
    static const char *const files[] = {"cpuset.cpus", "cpuset.mems"};
    for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
        _cleanup_free_ char *mine = NULL, *theirs = NULL;
        if (cg_read(dir, files[i], &mine) < 0 || strspn(mine, " \n") != strlen(mine))
            continue;
        if (cg_read(parent, files[i], &theirs) < 0)
            continue;
        int r = cg_write(dir, files[i], theirs, err);
        if (r < 0)
            return r;
    }
    return 0;
}

/* Whether controllers may be enabled in parent's cgroup.subtree_control without changing what
 * its own processes live in. The root (the only cgroup without cgroup.type) always may. A
 * non-root cgroup with processes may not: domain controllers are refused there (EBUSY), and
 * threaded ones would be accepted but make it a thread root, so that its new children are
 * "domain invalid" and refuse every process (EOPNOTSUPP). A threaded subtree is someone
 * else's arrangement. Children then simply inherit no controllers, and a resource that needs
 * one fails with a clear message (cgroup-apply.c). */
static bool v2_may_enable_controllers(const char *parent)
{
    _cleanup_free_ char *type = NULL, *procs = NULL;
    if (cg_read(parent, "cgroup.type", &type) < 0)
        return true;
    if (!streq(type, "domain\n") && !streq(type, "domain")) {
        pr_debug("cgroup: `%s` is %.*s: not enabling controllers there", parent,
                 (int)strcspn(type, "\n"), type);
        return false;
    }
    if (cg_read(parent, "cgroup.procs", &procs) == 0 && procs[strspn(procs, " \n")]) {
        pr_debug("cgroup: `%s` has processes: not enabling controllers there", parent);
        return false;
    }
    return true;
}

/* Makes every controller of parent available to its children (v2). */
static void v2_enable_controllers(const char *parent)
{
    _cleanup_free_ char *avail = NULL, *enabled = NULL, *want = xstrdup("");
    if (cg_read(parent, "cgroup.controllers", &avail) < 0)
        return;
    if (cg_read(parent, "cgroup.subtree_control", &enabled) < 0)
        enabled = xstrdup("");
    for (char *tok = strtok(avail, " \n"); tok; tok = strtok(NULL, " \n")) {
        if (cgroup_in_list(enabled, tok))
            continue;
        char *n = xasprintf("%s%s+%s", want, *want ? " " : "", tok);
        free(want);
        want = n;
    }
    if (!*want || !v2_may_enable_controllers(parent) ||
        cg_try_write(parent, "cgroup.subtree_control", want) == 0)
        return;
    /* One refused controller (cpu with a real-time task, say) must not block the others. */
    for (char *tok = strtok(want, " "); tok; tok = strtok(NULL, " ")) {
        int r = cg_try_write(parent, "cgroup.subtree_control", tok);
        if (r < 0)
            pr_debug("cgroup: cannot enable %s in `%s/cgroup.subtree_control`: %s", tok + 1, parent,
                     strerror(-r));
    }
}

/* mkdir -p from the mount point down to dir, remembering what was made. */
static int make_dir_chain(const char *mnt, const char *dir, bool v2, bool cpuset,
                          struct created *made, pr_error **err)
{
    size_t ml = strlen(mnt);
    if (!has_prefix(dir, mnt))
        return pr_err(err, EINVAL, "`%s` is not below `%s`", dir, mnt);
    _cleanup_free_ char *cur = xstrdup(dir);
    for (char *p = cur + ml; *p;) {
        while (*p == '/')
            p++;
        if (!*p)
            break;
        p += strcspn(p, "/");
        char saved = *p;
        *p = '\0';
        char *slash = strrchr(cur, '/');
        _cleanup_free_ char *parent = xasprintf("%.*s", (int)(slash - cur), cur);
        if (v2)
            v2_enable_controllers(parent);
        if (mkdir(cur, 0755) == 0)
            created_push(made, cur);
        else if (errno != EEXIST)
            return pr_err(err, errno, "create cgroup `%s`", cur);
        /* Also for directories someone else made and left empty. */
        if (cpuset) {
            int r = cpuset_copy_parent(cur, parent, err);
            if (r < 0)
                return r;
        }
        *p = saved;
    }
    return 0;
}

/* The directories of the chain mnt..dir that do not exist yet, parents first. */
static void plan_dir_chain(const char *mnt, const char *dir, char ***out)
{
    _cleanup_free_ char *cur = xstrdup(dir);
    for (char *p = cur + strlen(mnt); *p;) {
        while (*p == '/')
            p++;
        if (!*p)
            break;
        p += strcspn(p, "/");
        char saved = *p;
        *p = '\0';
        if (access(cur, F_OK) < 0 && errno == ENOENT)
            strv_extend(out, cur);
        *p = saved;
    }
}

static char **plan_dirs(const struct rt_cgroup *cg, const struct cg_host *h)
{
    char **out = xcalloc(1, sizeof(char *));
    if (cg->v2_dir && has_prefix(cg->v2_dir, h->v2->mnt))
        plan_dir_chain(h->v2->mnt, cg->v2_dir, &out);
    for (size_t i = 0; i < cg->n_v1; i++)
        if (has_prefix(cg->v1[i].dir, h->v1[i].mnt))
            plan_dir_chain(h->v1[i].mnt, cg->v1[i].dir, &out);
    return out;
}

static int make_dirs(struct rt_cgroup *cg, const struct cg_host *h, struct created *made,
                     pr_error **err)
{
    int r;
    if (cg->v2_dir && (r = make_dir_chain(h->v2->mnt, cg->v2_dir, true, false, made, err)) < 0)
        return r;
    for (size_t i = 0; i < cg->n_v1; i++) {
        bool cpuset = cgroup_in_list(cg->v1[i].controllers, "cpuset");
        if ((r = make_dir_chain(h->v1[i].mnt, cg->v1[i].dir, false, cpuset, made, err)) < 0)
            return r;
    }
    return 0;
}

/* Fills the directory list of cg for the cleaned cgroupsPath (relative or absolute) in every
 * hierarchy of h. */
static int place_dirs(struct rt_cgroup *cg, const struct cg_host *h, const char *path,
                      pr_error **err)
{
    int r;
    /* A relative path may differ between cgroup2 and v1 (relative_base): on a hybrid host the
     * v1 hierarchies, which hold most controllers, name it. */
    char **v2_shown = h->n_v1 == 0 ? &cg->path : NULL;
    if (h->v2 && (r = resolve_dir(h->v2, true, path, &cg->v2_dir, v2_shown, err)) < 0)
        return r;
    for (size_t i = 0; i < h->n_v1; i++) {
        char *dir = NULL;
        if ((r = resolve_dir(&h->v1[i], false, path, &dir, cg->path ? NULL : &cg->path, err)) < 0)
            return r;
        cg_add_v1(cg, h->v1[i].controllers, dir);
    }
    return 0;
}

/* ---- moving processes ----------------------------------------------------------------------- */

/* Start time of pid in clock ticks since boot (/proc/PID/stat field 22). */
static int proc_start_time(pid_t pid, uint64_t *out)
{
    _cleanup_free_ char *p = xasprintf("/proc/%d/stat", (int)pid), *text = NULL;
    _cleanup_error_ pr_error *e = NULL;
    int r = read_file(p, &text, NULL, &e);
    if (r < 0)
        return r;
    /* The command name (field 2) may hold spaces and parentheses: count from the last ')'. */
    char *f = strrchr(text, ')');
    if (!f)
        return -EINVAL;
    for (int field = 2; field < 22 && f; field++)
        f = strchr(f + 1, ' ');
    if (!f)
        return -EINVAL;
    return cgroup_parse_u64(f + 1, out);
}

static int collect_pids(const char *dir, int depth, pid_t **pids, size_t *n, size_t *cap,
                        pr_error **err);

/* The cgroup2 directory of the container's oldest process (its init, unless that has exited),
 * when that lies strictly below the container's directory. */
static int v2_dir_of_oldest(struct rt_cgroup *cg, char **out)
{
    _cleanup_free_ pid_t *pids = NULL;
    _cleanup_error_ pr_error *e = NULL;
    size_t n = 0, cap = 0;
    int r = collect_pids(cg->v2_dir, 0, &pids, &n, &cap, &e);
    if (r < 0)
        return r;
    pid_t oldest = 0;
    uint64_t oldest_start = UINT64_MAX;
    for (size_t i = 0; i < n; i++) {
        uint64_t start;
        if (proc_start_time(pids[i], &start) == 0 && start < oldest_start) {
            oldest = pids[i];
            oldest_start = start;
        }
    }
    if (oldest == 0)
        return -ESRCH;
    struct cg_host h;
    if ((r = cg_host_discover(NULL, &h, &e)) < 0)
        return r;
    _cleanup_free_ char *path = NULL, *below = xasprintf("%s/", cg->v2_dir);
    r = h.v2 ? proc_cgroup_path(oldest, h.v2, true, &path, &e) : -ENOENT;
    if (r == 0) {
        *out = join_path(h.v2->mnt, path);
        if (!has_prefix(*out, below)) {
            free(*out);
            *out = NULL;
            r = -ESRCH;
        }
    }
    cg_host_clear(&h);
    return r;
}

/* Moves pid into the container's directory d (one of its hierarchies). With join_busy (exec), a
 * cgroup2 directory that refuses processes with EBUSY is not the end: a container whose init moved
 * itself into a child cgroup and then enabled controllers for its children (systemd in a container
 * with a cgroup namespace does exactly that) leaves the container's own cgroup under the
 * no-internal-process rule, so exec'd processes join the cgroup of the container's oldest
 * process instead, as runc joins the init's. Still inside the container's subtree, so every
 * limit of the container applies. A new container (create) must not do that: a busy directory
 * there means it is not the container's own. */
int cg_enter_dir(struct rt_cgroup *cg, const char *d, pid_t pid, bool join_busy, pr_error **err)
{
    char buf[32];
    snprintf(buf, sizeof(buf), "%d", (int)pid);
    int r = cg_try_write(d, "cgroup.procs", buf);
    if (r == -EBUSY && join_busy && d == cg->v2_dir) {
        _cleanup_free_ char *alt = NULL;
        if (v2_dir_of_oldest(cg, &alt) == 0) {
            pr_debug("cgroup: `%s` refuses processes (its subtree_control is set): "
                     "joining `%s`, the cgroup of the container's oldest process",
                     d, alt);
            r = cg_try_write(alt, "cgroup.procs", buf);
        }
    }
    if (r < 0)
        return pr_err(err, -r, "moving process %d into its cgroup: write `%s` to `%s/%s`", (int)pid,
                      buf, d, "cgroup.procs");
    return 0;
}

static int enter_dirs(struct rt_cgroup *cg, pid_t pid, pr_error **err)
{
    FOREACH_DIR(cg, d)
    {
        int r = cg_enter_dir(cg, d, pid, false, err);
        if (r < 0)
            return r;
    }
    return 0;
}

/* Puts pid back where it was in every hierarchy, so the new directories can be removed. */
static void restore_pid(struct rt_cgroup *cg, const struct cg_host *h, pid_t pid,
                        char *const *orig_v2, char **orig_v1)
{
    char buf[32];
    snprintf(buf, sizeof(buf), "%d", (int)pid);
    if (h->v2 && *orig_v2) {
        _cleanup_free_ char *d = join_path(h->v2->mnt, *orig_v2);
        (void)cg_try_write(d, "cgroup.procs", buf);
    }
    for (size_t i = 0; i < cg->n_v1 && i < h->n_v1; i++)
        if (orig_v1[i]) {
            _cleanup_free_ char *d = join_path(h->v1[i].mnt, orig_v1[i]);
            (void)cg_try_write(d, "cgroup.procs", buf);
        }
}

static int enter_or_restore(struct rt_cgroup *cg, const struct cg_host *h, pid_t pid,
                            pr_error **err)
{
    _cleanup_free_ char *orig_v2 = NULL;
    char **orig_v1 = xcalloc(h->n_v1 + 1, sizeof(char *));
    _cleanup_error_ pr_error *ignored = NULL;
    if (h->v2)
        (void)proc_cgroup_path(pid, h->v2, true, &orig_v2, &ignored);
    for (size_t i = 0; i < h->n_v1; i++) {
        pr_error_freep(&ignored);
        (void)proc_cgroup_path(pid, &h->v1[i], false, &orig_v1[i], &ignored);
    }
    int r = enter_dirs(cg, pid, err);
    if (r < 0)
        restore_pid(cg, h, pid, &orig_v2, orig_v1);
    for (size_t i = 0; i < h->n_v1; i++)
        free(orig_v1[i]);
    free(orig_v1);
    return r;
}

/* ---- create --------------------------------------------------------------------------------- */

static const char *procs_dir(struct rt_cgroup *cg);

/* Two containers sharing one cgroup, or one placed above another, would see each other's
 * limits, freezes and kill --all. */
static int check_unused(struct rt_cgroup *cg, pr_error **err)
{
    const char *dir = procs_dir(cg);
    _cleanup_free_ pid_t *pids = NULL;
    _cleanup_error_ pr_error *e = NULL;
    size_t n = 0, cap = 0;
    if (cg->unit || !dir) /* systemd has already put our process there */
        return 0;
    if (collect_pids(dir, 0, &pids, &n, &cap, &e) == 0 && n > 0)
        return pr_err(err, EBUSY,
                      "cgroup `%s` already has processes in it or below it (process %d; "
                      "another container's cgroupsPath?)",
                      dir, (int)pids[0]);
    return 0;
}

static int create_systemd(struct rt_cgroup *cg, const struct cg_host *h,
                          const struct rt_cgroup_config *c, pid_t pid, pr_error **err)
{
    _cleanup_free_ char *slice_path = NULL;
    int r;
    if ((r = cg_systemd_expand_slice(c->slice, &slice_path, err)) < 0)
        return r;
    if (pid <= 0)
        return pr_err(err, EINVAL, "--systemd-cgroup: a scope needs a process to start with");
    if ((r = cg_systemd_start_unit(c->unit, c->slice, pid, err)) < 0)
        return r;
    cg->unit = xstrdup(c->unit);
    _cleanup_free_ char *path = xasprintf("%s/%s", slice_path, cg->unit);
    return place_dirs(cg, h, path, err);
}

int rt_cgroup_create(const struct rt_cgroup_config *c, pid_t pid, struct rt_cgroup **out,
                     pr_error **err)
{
    return rt_cgroup_create_noted(c, pid, NULL, NULL, out, err);
}

int rt_cgroup_create_noted(const struct rt_cgroup_config *c, pid_t pid, rt_cgroup_note_fn note,
                           void *data, struct rt_cgroup **out, pr_error **err)
{
    _cleanup_(rt_cgroup_freep) struct rt_cgroup *cg = NULL;
    struct cg_host h;
    struct created made = {0};
    int r;
    if ((r = cg_host_discover(NULL, &h, err)) < 0)
        return r;
    /* The host was checked when the config was parsed; a cgroup mount can change since. */
    if ((r = check_against_host(&c->res, &h, err)) < 0)
        goto out;
    cg = cg_new(h.mode);
    r = c->systemd ? create_systemd(cg, &h, c, pid, err) : place_dirs(cg, &h, c->path, err);
    if (r < 0)
        goto fail;
    if (note) {
        _cleanup_strv_ char **to_make = plan_dirs(cg, &h);
        if ((r = note(cg, to_make, data, err)) < 0)
            goto fail;
    }
    if ((r = make_dirs(cg, &h, &made, err)) < 0 || (r = check_unused(cg, err)) < 0 ||
        (r = cg_rt_budget_parents(cg, &h, &c->res, err)) < 0 ||
        (r = cg_apply_resources(cg, &c->res, false, err)) < 0 ||
        (pid > 0 && (r = enter_or_restore(cg, &h, pid, err)) < 0))
        goto fail;
    created_forget(&made);
    *out = steal_pointer(&cg);
    goto out;
fail:
    created_undo(&made);
    if (cg->unit) {
        _cleanup_error_ pr_error *e = NULL;
        (void)cg_systemd_stop_unit(cg->unit, &e);
    }
out:
    cg_host_clear(&h);
    return r;
}

int rt_cgroup_update(struct rt_cgroup *cg, yajl_val resources, pr_error **err)
{
    struct cg_resources res;
    struct cg_host h;
    int r = cg_resources_parse(resources, &res, err);
    if (r < 0)
        return r;
    if ((r = cg_host_discover(NULL, &h, err)) == 0) {
        r = check_against_host(&res, &h, err);
        if (r == 0)
            r = cg_rt_budget_parents(cg, &h, &res, err);
        cg_host_clear(&h);
    }
    if (r == 0)
        r = cg_apply_resources(cg, &res, true, err);
    cg_resources_clear(&res);
    return r;
}

/* ---- state.json ----------------------------------------------------------------------------- */

static const char *mode_name(enum rt_cgroup_mode m)
{
    return m == RT_CGROUP_UNIFIED ? "unified" : m == RT_CGROUP_HYBRID ? "hybrid" : "legacy";
}

void rt_cgroup_serialize(const struct rt_cgroup *cg, yajl_gen g)
{
    jg_map_open(g);
    jg_key_str(g, "mode", mode_name(cg->mode));
    jg_key_str(g, "path", cg->path);
    jg_key_str(g, "unit", cg->unit);
    jg_key_str(g, "v2", cg->v2_dir);
    jg_key(g, "v1");
    jg_map_open(g);
    for (size_t i = 0; i < cg->n_v1; i++)
        jg_key_str(g, cg->v1[i].controllers, cg->v1[i].dir);
    jg_map_close(g);
    jg_map_close(g);
}

int rt_cgroup_load(yajl_val saved, struct rt_cgroup **out, pr_error **err)
{
    const char *ctx = "state.cgroup", *mode = NULL, *path = NULL, *unit = NULL, *v2 = NULL;
    yajl_val v1 = NULL;
    int r;
    if (!YAJL_IS_OBJECT(saved))
        return pr_err(err, 0, "%s: expected object, got %s", ctx, json_type_name(saved));
    if ((r = json_get_str(saved, "mode", ctx, &mode, err)) < 0 ||
        (r = json_get_str(saved, "path", ctx, &path, err)) < 0 ||
        (r = json_get_str(saved, "unit", ctx, &unit, err)) < 0 ||
        (r = json_get_str(saved, "v2", ctx, &v2, err)) < 0 ||
        (r = json_get_object(saved, "v1", ctx, &v1, err)) < 0)
        return r;
    if (!mode || !path)
        return pr_err(err, 0, "%s: mode and path are required", ctx);
    struct rt_cgroup *cg = cg_new(streq(mode, "unified")  ? RT_CGROUP_UNIFIED
                                  : streq(mode, "hybrid") ? RT_CGROUP_HYBRID
                                                          : RT_CGROUP_LEGACY);
    cg->path = xstrdup(path);
    cg->unit = unit ? xstrdup(unit) : NULL;
    cg->v2_dir = v2 ? xstrdup(v2) : NULL;
    for (size_t i = 0; v1 && i < v1->u.object.len; i++) {
        yajl_val d = v1->u.object.values[i];
        if (!YAJL_IS_STRING(d)) {
            rt_cgroup_free(cg);
            return pr_err(err, 0, "%s.v1.%s: expected string, got %s", ctx, v1->u.object.keys[i],
                          json_type_name(d));
        }
        cg_add_v1(cg, v1->u.object.keys[i], xstrdup(d->u.string));
    }
    *out = cg;
    return 0;
}

/* ---- freezer -------------------------------------------------------------------------------- */

static void sleep_us(long us)
{
    struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
    nanosleep(&ts, NULL);
}

static const char *v1_dir_of(struct rt_cgroup *cg, const char *ctrl)
{
    for (size_t i = 0; i < cg->n_v1; i++)
        if (cgroup_in_list(cg->v1[i].controllers, ctrl))
            return cg->v1[i].dir;
    return NULL;
}

static int v1_freezer_state(const char *dir, char state[16])
{
    _cleanup_free_ char *s = NULL;
    int r = cg_read(dir, "freezer.state", &s);
    if (r < 0)
        return r;
    snprintf(state, 16, "%.*s", (int)strcspn(s, "\n"), s);
    return 0;
}

static int v1_freeze(const char *dir, bool freeze, pr_error **err)
{
    const char *want = freeze ? "FROZEN" : "THAWED";
    char state[16];
    int r;
    /* FREEZING can stall on a task in uninterruptible sleep; asking again helps it along, and
     * giving up thaws rather than leaving a half-frozen container. */
    for (int i = 0; i < 1000; i++) {
        if (i % 50 == 0 && (r = cg_write(dir, "freezer.state", want, err)) < 0)
            return r;
        if ((r = v1_freezer_state(dir, state)) < 0)
            return pr_err(err, -r, "read `%s/freezer.state`", dir);
        if (streq(state, want))
            return 0;
        sleep_us(i < 10 ? 100 : 2000);
    }
    if (freeze)
        (void)cg_try_write(dir, "freezer.state", "THAWED");
    return pr_err(err, EBUSY, "`%s` did not become %s (still %s)", dir, want, state);
}

static int v2_events_frozen(const char *dir, bool *frozen)
{
    uint64_t v = 0;
    int r = cg_read_keyed(dir, "cgroup.events", "frozen", &v);
    if (r < 0)
        return r;
    *frozen = v != 0;
    return 0;
}

static int v2_freeze(const char *dir, bool freeze, pr_error **err)
{
    int r = cg_write(dir, "cgroup.freeze", freeze ? "1" : "0", err);
    if (r < 0)
        return r;
    for (int i = 0; i < 1000; i++) {
        bool frozen;
        if ((r = v2_events_frozen(dir, &frozen)) < 0)
            return pr_err(err, -r, "read `%s/cgroup.events`", dir);
        if (frozen == freeze)
            return 0;
        sleep_us(i < 10 ? 100 : 2000);
    }
    if (freeze)
        (void)cg_try_write(dir, "cgroup.freeze", "0");
    return pr_err(err, EBUSY, "`%s` did not become %s", dir, freeze ? "frozen" : "thawed");
}

int rt_cgroup_freeze(struct rt_cgroup *cg, bool freeze, pr_error **err)
{
    const char *dir = v1_dir_of(cg, "freezer");
    if (dir)
        return v1_freeze(dir, freeze, err);
    if (cg->v2_dir && cg_file_exists(cg->v2_dir, "cgroup.freeze"))
        return v2_freeze(cg->v2_dir, freeze, err);
    return pr_err(err, ENOTSUP,
                  "no freezer: neither a v1 freezer hierarchy nor cgroup.freeze in "
                  "`%s`",
                  cg->v2_dir ? cg->v2_dir : cg->path);
}

int rt_cgroup_is_frozen(struct rt_cgroup *cg, bool *frozen, pr_error **err)
{
    const char *dir = v1_dir_of(cg, "freezer");
    int r;
    *frozen = false;
    if (dir) {
        char state[16];
        if ((r = v1_freezer_state(dir, state)) < 0)
            return pr_err(err, -r, "read `%s/freezer.state`", dir);
        *frozen = streq(state, "FROZEN");
        return 0;
    }
    if (!cg->v2_dir)
        return 0;
    if ((r = v2_events_frozen(cg->v2_dir, frozen)) < 0 && r != -ENOENT)
        return pr_err(err, -r, "read `%s/cgroup.events`", cg->v2_dir);
    return 0;
}

/* ---- processes ------------------------------------------------------------------------------ */

/* The directory whose tree holds every process: cgroup2 when present, else a v1 one. */
static const char *procs_dir(struct rt_cgroup *cg)
{
    static const char *const pref[] = {"pids", "freezer", "memory", "cpu"};
    if (cg->v2_dir)
        return cg->v2_dir;
    for (size_t i = 0; i < ARRAY_SIZE(pref); i++) {
        const char *d = v1_dir_of(cg, pref[i]);
        if (d)
            return d;
    }
    return cg->n_v1 ? cg->v1[0].dir : NULL;
}

static int collect_pids(const char *dir, int depth, pid_t **pids, size_t *n, size_t *cap,
                        pr_error **err)
{
    _cleanup_free_ char *procs = NULL;
    int r = cg_read(dir, "cgroup.procs", &procs);
    if (r < 0)
        return r == -ENOENT && depth > 0 ? 0 : pr_err(err, -r, "read `%s/cgroup.procs`", dir);
    for (char *p = procs; *p;) {
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p)
            break;
        if (*n == *cap) {
            *cap = *cap ? *cap * 2 : 16;
            *pids = xrealloc(*pids, *cap * sizeof(**pids));
        }
        (*pids)[(*n)++] = (pid_t)v;
        p = end + strspn(end, "\n ");
    }
    if (depth > 64)
        return 0;
    _cleanup_dir_ DIR *d = opendir(dir);
    if (!d)
        return 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_type != DT_DIR || e->d_name[0] == '.')
            continue;
        _cleanup_free_ char *sub = xasprintf("%s/%s", dir, e->d_name);
        if ((r = collect_pids(sub, depth + 1, pids, n, cap, err)) < 0)
            return r;
    }
    return 0;
}

int rt_cgroup_pids(struct rt_cgroup *cg, pid_t **pids, size_t *n, pr_error **err)
{
    const char *dir = procs_dir(cg);
    size_t cap = 0;
    *pids = NULL;
    *n = 0;
    if (!dir)
        return 0;
    int r = collect_pids(dir, 0, pids, n, &cap, err);
    if (r < 0) {
        free(*pids);
        *pids = NULL;
        *n = 0;
    }
    return r;
}

int rt_cgroup_kill_all(struct rt_cgroup *cg, int sig, pr_error **err)
{
    if (sig == SIGKILL && cg->v2_dir && cg_try_write(cg->v2_dir, "cgroup.kill", "1") == 0)
        return 0;
    /* Frozen, nothing can fork a child we would miss; the signal lands on thaw. A container
     * that was paused already stays paused. */
    _cleanup_error_ pr_error *ferr = NULL;
    bool was_frozen = false;
    rt_cgroup_is_frozen(cg, &was_frozen, NULL);
    bool frozen = !was_frozen && rt_cgroup_freeze(cg, true, &ferr) == 0;
    _cleanup_free_ pid_t *pids = NULL;
    size_t n;
    int r = rt_cgroup_pids(cg, &pids, &n, err);
    for (size_t i = 0; r == 0 && i < n; i++)
        if (kill(pids[i], sig) < 0 && errno != ESRCH)
            r = pr_err(err, errno, "kill process %d", (int)pids[i]);
    if (frozen) {
        _cleanup_error_ pr_error *terr = NULL;
        int t = rt_cgroup_freeze(cg, false, &terr);
        if (t < 0 && r == 0)
            r = (pr_err(err, 0, "%s", terr->msg), t);
    }
    return r;
}

int rt_cgroup_oom_kills(struct rt_cgroup *cg, uint64_t *count, pr_error **err)
{
    const char *dir;
    enum cg_version v = cg_controller_dir(cg, "memory", &dir);
    *count = 0;
    if (v == CG_NONE)
        return 0;
    const char *file = v == CG_V2 ? "memory.events" : "memory.oom_control";
    int r = cg_read_keyed(dir, file, "oom_kill", count);
    if (r < 0 && r != -ENOENT)
        return pr_err(err, -r, "read `%s/%s`", dir, file);
    return 0;
}

int rt_cgroup_stats(struct rt_cgroup *cg, yajl_gen g, pr_error **err)
{
    const char *dir = procs_dir(cg);
    if (dir && access(dir, F_OK) < 0)
        return pr_err(err, errno, "container cgroup `%s`", dir);
    return cg_write_stats(cg, g, err);
}

/* ---- destroy -------------------------------------------------------------------------------- */

/* Removes dir and the cgroups the container made below it, deepest first. */
static int rmdir_tree(const char *dir)
{
    _cleanup_dir_ DIR *d = opendir(dir);
    if (!d)
        return errno == ENOENT ? 0 : -errno;
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_type != DT_DIR || streq(e->d_name, ".") || streq(e->d_name, ".."))
            continue;
        _cleanup_free_ char *sub = xasprintf("%s/%s", dir, e->d_name);
        int r = rmdir_tree(sub);
        if (r < 0)
            return r;
    }
    return rmdir(dir) < 0 && errno != ENOENT ? -errno : 0;
}

int rt_cgroup_destroy(struct rt_cgroup *cg, pr_error **err)
{
    int r = 0;
    if (cg->unit) {
        _cleanup_error_ pr_error *e = NULL;
        if (cg_systemd_running() && cg_systemd_stop_unit(cg->unit, &e) < 0)
            pr_warning("stopping systemd unit %s: %s", cg->unit, e->msg);
    }
    FOREACH_DIR(cg, d)
    {
        /* Killed processes leave the cgroup a moment after the signal: wait up to ~2 s. */
        for (int i = 0; i < 400; i++) {
            r = rmdir_tree(d);
            if (r != -EBUSY)
                break;
            sleep_us(i < 20 ? 1000 : 5000);
        }
        if (r < 0)
            return pr_err(err, -r, "remove cgroup `%s`", d);
    }
    return 0;
}

/* ---- undoing a create that died ------------------------------------------------------------ */

/* SIGKILLs the processes below the container's directories that ours() claims; returns how
 * many it found. */
static size_t kill_ours(struct rt_cgroup *cg, bool (*ours)(pid_t, void *), void *data)
{
    size_t found = 0;
    FOREACH_DIR(cg, d)
    {
        _cleanup_free_ pid_t *pids = NULL;
        _cleanup_error_ pr_error *e = NULL;
        size_t n = 0, cap = 0;
        if (collect_pids(d, 1, &pids, &n, &cap, &e) < 0)
            continue;
        for (size_t i = 0; i < n; i++)
            if (ours(pids[i], data)) {
                kill(pids[i], SIGKILL);
                found++;
            }
    }
    return found;
}

static bool is_leaf(struct rt_cgroup *cg, const char *dir)
{
    FOREACH_DIR(cg, d)
    {
        if (streq(d, dir))
            return true;
    }
    return false;
}

int rt_cgroup_undo_note(yajl_val saved, yajl_val made, bool (*ours)(pid_t pid, void *data),
                        void *data, pr_error **err)
{
    _cleanup_(rt_cgroup_freep) struct rt_cgroup *cg = NULL;
    int r = rt_cgroup_load(saved, &cg, err);
    if (r < 0)
        return r;
    if (made && !YAJL_IS_ARRAY(made))
        return pr_err(err, 0, "cgroup note: \"made\" is not an array");
    /* A process being killed leaves its cgroup a moment later; stage 1 may be forking the
     * init: look again until nothing of ours is left (at most ~2 s). */
    for (int i = 0; i < 200 && kill_ours(cg, ours, data) > 0; i++)
        sleep_us(10000);
    if (cg->unit && cg_systemd_running()) {
        _cleanup_error_ pr_error *e = NULL;
        if (cg_systemd_stop_unit(cg->unit, &e) < 0)
            pr_debug("stopping systemd unit %s: %s", cg->unit, e->msg);
    }
    for (size_t i = json_array_len(made); i-- > 0;) {
        yajl_val v = json_array_at(made, i);
        if (!YAJL_IS_STRING(v))
            return pr_err(err, 0, "cgroup note: \"made\"[%zu] is not a string", i);
        const char *d = v->u.string;
        /* Only a directory of a cgroup hierarchy, and only one the note names as the
         * container's or one of its parents. */
        if (!is_leaf(cg, d)) {
            bool parent = false;
            FOREACH_DIR(cg, leaf)
            {
                size_t len = strlen(d);
                if (strncmp(leaf, d, len) == 0 && leaf[len] == '/')
                    parent = true;
            }
            if (!parent)
                return pr_err(err, EINVAL, "cgroup note: `%s` is not the container's cgroup", d);
            /* A parent another container may share: removed only if empty, at once. */
            if (rmdir(d) < 0 && errno != ENOENT && errno != EBUSY && errno != ENOTEMPTY)
                pr_debug("cgroup: cannot remove `%s`: %s", d, strerror(errno));
            continue;
        }
        for (int k = 0; k < 200; k++) {
            r = rmdir_tree(d);
            if (r != -EBUSY)
                break;
            sleep_us(10000);
        }
        if (r < 0)
            return pr_err(err, -r, "remove cgroup `%s`", d);
    }
    return 0;
}

/* ---- exec --cgroup --------------------------------------------------------------------------- */

/* dir/sub for an existing sub-cgroup sub (relative, no ".."), or an error naming spec. */
static int sub_dir(const char *dir, const char *sub, const char *spec, char **out, pr_error **err)
{
    _cleanup_free_ char *joined = xasprintf("%s/%s", dir, sub);
    for (const char *p = sub; *p;) {
        size_t len = strcspn(p, "/");
        if (len == 2 && p[0] == '.' && p[1] == '.')
            return pr_err(err, 0, "--cgroup \"%s\": the path must not contain \"..\"", spec);
        p += len;
        p += strspn(p, "/");
    }
    struct stat st;
    if (lstat(joined, &st) < 0 || !S_ISDIR(st.st_mode))
        return pr_err(err, errno ? errno : ENOTDIR,
                      "--cgroup \"%s\": sub-cgroup `%s` of the container", spec, joined);
    free(*out);
    *out = steal_pointer(&joined);
    return 0;
}

static int use_sub(struct rt_cgroup *cg, const char *spec, pr_error **err)
{
    const char *colon = strchr(spec, ':');
    const char *sub = colon ? colon + 1 : spec;
    _cleanup_free_ char *ctrls = colon ? xasprintf("%.*s", (int)(colon - spec), spec) : NULL;
    sub += strspn(sub, "/");
    if (!*sub || strlen(sub) > 4096)
        return pr_err(err, 0, "--cgroup \"%s\": expected [CONTROLLER[,CONTROLLER]:]PATH", spec);
    int r;
    if (!ctrls || !*ctrls) {
        if (cg->v2_dir && (r = sub_dir(cg->v2_dir, sub, spec, &cg->v2_dir, err)) < 0)
            return r;
        for (size_t i = 0; i < cg->n_v1; i++)
            if ((r = sub_dir(cg->v1[i].dir, sub, spec, &cg->v1[i].dir, err)) < 0)
                return r;
        return 0;
    }
    /* Per controller: v1 hierarchies only. */
    for (char *save = NULL, *c = strtok_r(ctrls, ",", &save); c; c = strtok_r(NULL, ",", &save)) {
        size_t i;
        for (i = 0; i < cg->n_v1; i++)
            if (cgroup_in_list(cg->v1[i].controllers, c))
                break;
        if (i == cg->n_v1)
            return pr_err(err, 0,
                          "--cgroup \"%s\": the container has no cgroup v1 hierarchy with the "
                          "%s controller (on cgroup v2 give the PATH alone)",
                          spec, c);
        if ((r = sub_dir(cg->v1[i].dir, sub, spec, &cg->v1[i].dir, err)) < 0)
            return r;
    }
    return 0;
}

int rt_cgroup_use_sub(struct rt_cgroup *cg, char *const *specs, pr_error **err)
{
    for (size_t i = 0; specs && specs[i]; i++) {
        int r = use_sub(cg, specs[i], err);
        if (r < 0)
            return r;
    }
    free(cg->v2_controllers);
    cg->v2_controllers = NULL;
    cg->v2_controllers_read = false;
    return 0;
}
