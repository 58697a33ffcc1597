/* SPDX-License-Identifier: Apache-2.0 */
/* The one OCI runtime config builder. The defaults are those a kubelet gets from containerd or
 * CRI-O for a pod's container (capabilities, mounts, masked paths), not runc's `spec` (which is
 * made for an interactive shell); the image fills in what the pod leaves unset. */
#include "pods.h"
#include "capabilities.h"
#include "manager.h"
#include "fs.h"
#include "json.h"
#include "util.h"

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/stat.h>

/* What a container gets when it asks for nothing: containerd's default set. */
static const char *const default_caps[] = {
    "CAP_CHOWN",   "CAP_DAC_OVERRIDE", "CAP_FSETID",           "CAP_FOWNER",
    "CAP_MKNOD",   "CAP_NET_RAW",      "CAP_SETGID",           "CAP_SETUID",
    "CAP_SETFCAP", "CAP_SETPCAP",      "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT",
    "CAP_KILL",    "CAP_AUDIT_WRITE",
};

static const char *const masked_paths[] = {
    "/proc/asound",
    "/proc/acpi",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/sys/firmware",
    "/sys/devices/virtual/powercap",
};

static const char *const readonly_paths[] = {
    "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
};

static const char *const ns_names[PODS_NS_COUNT] = {
    [PODS_NS_PID] = "pid", [PODS_NS_NET] = "network", [PODS_NS_IPC] = "ipc",
    [PODS_NS_UTS] = "uts", [PODS_NS_MOUNT] = "mount", [PODS_NS_CGROUP] = "cgroup",
};

#define OPTS(...) ((char *const[]){__VA_ARGS__, NULL})

static const struct pods_mount default_mounts[] = {
    {"/proc", "proc", "proc", OPTS("nosuid", "noexec", "nodev")},
    {"/dev", "tmpfs", "tmpfs", OPTS("nosuid", "strictatime", "mode=755", "size=65536k")},
    {"/dev/pts", "devpts", "devpts",
     OPTS("nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5")},
    {"/dev/shm", "tmpfs", "shm", OPTS("nosuid", "noexec", "nodev", "mode=1777", "size=65536k")},
    {"/dev/mqueue", "mqueue", "mqueue", OPTS("nosuid", "noexec", "nodev")},
    {"/sys", "sysfs", "sysfs", OPTS("nosuid", "noexec", "nodev", "ro")},
    {"/sys/fs/cgroup", "cgroup", "cgroup", OPTS("nosuid", "noexec", "nodev", "relatime", "ro")},
};

/* ---- the process ---- */

char **pods_container_argv(const image_process *img, char *const *command, char *const *args)
{
    char **argv = NULL;
    char *const *head = command && *command ? command : img ? img->entrypoint : NULL;
    /* A command of its own drops the image's Cmd, even when the pod gives no args. */
    char *const *tail = args && *args ? args : command && *command ? NULL : img ? img->cmd : NULL;
    for (char *const *a = head; a && *a; a++)
        strv_consume(&argv, xstrdup(*a));
    for (char *const *a = tail; a && *a; a++)
        strv_consume(&argv, xstrdup(*a));
    return argv;
}

static size_t env_key_len(const char *kv)
{
    const char *eq = strchr(kv, '=');
    return eq ? (size_t)(eq - kv) : strlen(kv);
}

/* Sets kv in *env, replacing an entry with the same key where it stands. */
static void env_set(char ***env, const char *kv)
{
    size_t kl = env_key_len(kv);
    for (char **e = *env; e && *e; e++)
        if (env_key_len(*e) == kl && strncmp(*e, kv, kl) == 0) {
            free(*e);
            *e = xstrdup(kv);
            return;
        }
    strv_consume(env, xstrdup(kv));
}

static int build_env(const struct pods_container_config *c, char ***out, pr_error **err)
{
    _cleanup_strv_ char **env = NULL;
    for (char *const *e = c->image ? c->image->env : NULL; e && *e; e++)
        env_set(&env, *e);
    /* As containerd does: the pod's hostname, unless the pod sets HOSTNAME itself. */
    if (c->hostname) {
        _cleanup_free_ char *h = xasprintf("HOSTNAME=%s", c->hostname);
        env_set(&env, h);
    }
    for (char *const *e = c->env; e && *e; e++) {
        if (!strchr(*e, '=') || **e == '=')
            return pr_err(err, 0, "env: `%s` is not KEY=VALUE", *e);
        env_set(&env, *e);
    }
    *out = steal_pointer(&env);
    return 0;
}

static const char *cap_canonical(const char *name, char buf[64])
{
    if (strncasecmp(name, "CAP_", 4) == 0)
        name += 4;
    if (strlen(name) + 5 > 64)
        return NULL;
    strcpy(buf, "CAP_");
    for (size_t i = 0; name[i]; i++)
        buf[4 + i] = (char)(name[i] >= 'a' && name[i] <= 'z' ? name[i] - 32 : name[i]);
    buf[4 + strlen(name)] = '\0';
    int n = cap_number(buf);
    return n < 0 ? NULL : cap_names[n];
}

static bool has_all(char *const *list)
{
    for (char *const *n = list; n && *n; n++)
        if (strcasecmp(*n, "ALL") == 0)
            return true;
    return false;
}

/* The capability set, as containerd and CRI-O make it: the defaults (or all of them when
 * privileged); none when cap_drop has ALL; then cap_add; then the rest of cap_drop. So
 * "drop: [ALL], add: [NET_BIND_SERVICE]", the restricted Pod Security profile's form, keeps the
 * one added. Kept as flags over cap_names so the order is the kernel's and nothing repeats. */
static int build_caps(const struct pods_container_config *c, bool set[CAP_NAMES_COUNT],
                      pr_error **err)
{
    char buf[64];
    bool drop_all = has_all(c->cap_drop);
    for (size_t i = 0; i < CAP_NAMES_COUNT; i++) {
        /* Privileged is every capability we hold, as containerd's "all current capabilities":
         * one the runtime does not have in its bounding set it could not give. */
        set[i] = c->privileged && !drop_all && prctl(PR_CAPBSET_READ, (unsigned long)i) == 1;
        for (size_t j = 0; !c->privileged && !drop_all && j < ARRAY_SIZE(default_caps); j++)
            set[i] = set[i] || streq(cap_names[i], default_caps[j]);
    }
    for (int pass = 0; pass < 2; pass++) {
        char *const *list = pass == 0 ? c->cap_add : c->cap_drop;
        for (char *const *n = list; n && *n; n++) {
            bool all = strcasecmp(*n, "ALL") == 0;
            if (all && pass == 1)
                continue; /* done above */
            const char *name = all ? NULL : cap_canonical(*n, buf);
            if (!all && !name)
                return pr_err(err, 0, "capabilities.%s: unknown capability `%s`",
                              pass == 0 ? "add" : "drop", *n);
            for (size_t i = 0; i < CAP_NAMES_COUNT; i++)
                if (all || cap_names[i] == name)
                    set[i] = pass == 0;
        }
    }
    return 0;
}

static void gen_caps(yajl_gen g, const bool set[CAP_NAMES_COUNT])
{
    static const char *const kinds[] = {"bounding", "effective", "permitted"};
    jg_key(g, "capabilities");
    jg_map_open(g);
    for (size_t k = 0; k < ARRAY_SIZE(kinds); k++) {
        jg_key(g, kinds[k]);
        jg_array_open(g);
        for (size_t i = 0; i < CAP_NAMES_COUNT; i++)
            if (set[i])
                jg_str(g, cap_names[i]);
        jg_array_close(g);
    }
    jg_map_close(g);
}

static void gen_user(yajl_gen g, const struct pods_container_config *c)
{
    const image_process *img = c->image;
    bool own = c->has_user || !img;
    const gid_t *gids = own ? c->additional_gids : img->additional_gids;
    size_t n = own ? c->n_additional_gids : img->n_additional_gids;
    jg_key(g, "user");
    jg_map_open(g);
    jg_key_uint(g, "uid", own ? c->uid : img->uid);
    jg_key_uint(g, "gid", own ? c->gid : img->gid);
    if (n) {
        jg_key(g, "additionalGids");
        jg_array_open(g);
        for (size_t i = 0; i < n; i++)
            yajl_gen_integer(g, gids[i]);
        jg_array_close(g);
    }
    jg_map_close(g);
}

static int gen_process(yajl_gen g, const struct pods_container_config *c, pr_error **err)
{
    _cleanup_strv_ char **argv = pods_container_argv(c->image, c->command, c->args);
    _cleanup_strv_ char **env = NULL;
    bool caps[CAP_NAMES_COUNT];
    const char *cwd = c->cwd ? c->cwd : c->image && c->image->cwd ? c->image->cwd : "/";
    int r;
    if (!argv)
        return pr_err(err, 0,
                      "process: nothing to run (no command or args, and the image has neither "
                      "Entrypoint nor Cmd)");
    if (cwd[0] != '/')
        return pr_err(err, 0, "workingDir: `%s` is not an absolute path", cwd);
    if ((r = build_env(c, &env, err)) < 0 || (r = build_caps(c, caps, err)) < 0)
        return r;
    jg_key(g, "process");
    jg_map_open(g);
    jg_key_bool(g, "terminal", c->terminal);
    gen_user(g, c);
    jg_key_strv(g, "args", argv);
    jg_key_strv(g, "env", env);
    jg_key_str(g, "cwd", cwd);
    gen_caps(g, caps);
    jg_key_bool(g, "noNewPrivileges", c->no_new_privileges);
    if (c->has_oom_score_adj)
        jg_key_int(g, "oomScoreAdj", c->oom_score_adj);
    jg_map_close(g);
    return 0;
}

/* ---- mounts ---- */

static void gen_mount(yajl_gen g, const struct pods_mount *m, bool rw_sysfs)
{
    jg_map_open(g);
    jg_key_str(g, "destination", m->destination);
    jg_key_str(g, "type", m->type);
    jg_key_str(g, "source", m->source);
    jg_key(g, "options");
    jg_array_open(g);
    for (char *const *o = m->options; o && *o; o++)
        if (!(rw_sysfs && streq(m->type, "sysfs") && streq(*o, "ro")))
            jg_str(g, *o);
    if (rw_sysfs && streq(m->type, "sysfs"))
        jg_str(g, "rw");
    jg_array_close(g);
    jg_map_close(g);
}

static bool mount_given(const struct pods_container_config *c, const char *dest)
{
    for (size_t i = 0; i < c->n_mounts; i++)
        if (streq(c->mounts[i].destination, dest))
            return true;
    return false;
}

static int gen_mounts(yajl_gen g, const struct pods_container_config *c, pr_error **err)
{
    for (size_t i = 0; i < c->n_mounts; i++) {
        const struct pods_mount *m = &c->mounts[i];
        if (!m->destination || m->destination[0] != '/')
            return pr_err(err, 0, "mounts[%zu]: destination `%s` is not an absolute path", i,
                          m->destination ? m->destination : "");
        if (!m->type || !*m->type || !m->source)
            return pr_err(err, 0, "mounts[%zu] (%s): type and source are required", i,
                          m->destination);
    }
    jg_key(g, "mounts");
    jg_array_open(g);
    for (size_t i = 0; i < ARRAY_SIZE(default_mounts); i++)
        if (!mount_given(c, default_mounts[i].destination))
            gen_mount(g, &default_mounts[i], c->privileged);
    for (size_t i = 0; i < c->n_mounts; i++)
        gen_mount(g, &c->mounts[i], false);
    jg_array_close(g);
    return 0;
}

/* ---- linux ---- */

static void gen_paths(yajl_gen g, const char *key, const char *const *v, size_t n)
{
    jg_key(g, key);
    jg_array_open(g);
    for (size_t i = 0; i < n; i++)
        jg_str(g, v[i]);
    jg_array_close(g);
}

static int gen_namespaces(yajl_gen g, const struct pods_container_config *c, pr_error **err)
{
    jg_key(g, "namespaces");
    jg_array_open(g);
    for (size_t k = 0; k < PODS_NS_COUNT; k++) {
        const struct pods_namespace *ns = &c->namespaces[k];
        if (ns->mode == PODS_NS_HOST)
            continue;
        if (ns->mode == PODS_NS_JOIN && (!ns->path || ns->path[0] != '/'))
            return pr_err(err, 0, "namespaces: joining the %s namespace needs an absolute path",
                          ns_names[k]);
        jg_map_open(g);
        jg_key_str(g, "type", ns_names[k]);
        if (ns->mode == PODS_NS_JOIN)
            jg_key_str(g, "path", ns->path);
        jg_map_close(g);
    }
    jg_array_close(g);
    return 0;
}

void pods_gen_hugepages(yajl_gen g, const struct pods_resources *res)
{
    if (!res->n_hugepage_limits)
        return;
    jg_key(g, "hugepageLimits");
    jg_array_open(g);
    for (size_t i = 0; i < res->n_hugepage_limits; i++) {
        jg_map_open(g);
        jg_key_str(g, "pageSize", res->hugepage_limits[i].page_size);
        jg_key_uint(g, "limit", res->hugepage_limits[i].limit);
        jg_map_close(g);
    }
    jg_array_close(g);
}

void pods_gen_unified(yajl_gen g, char *const *unified)
{
    if (!unified || !unified[0])
        return;
    jg_key(g, "unified");
    jg_map_open(g);
    for (size_t i = 0; unified[i] && unified[i + 1]; i += 2)
        jg_key_str(g, unified[i], unified[i + 1]);
    jg_map_close(g);
}

static void gen_resources(yajl_gen g, const struct pods_container_config *c)
{
    const struct pods_resources *res = &c->resources;
    jg_key(g, "resources");
    jg_map_open(g);
    jg_key(g, "devices");
    jg_array_open(g);
    jg_map_open(g);
    jg_key_bool(g, "allow", c->privileged);
    jg_key_str(g, "access", "rwm");
    jg_map_close(g);
    jg_array_close(g);
    if (res->memory_limit > 0) {
        jg_key(g, "memory");
        jg_map_open(g);
        jg_key_int(g, "limit", res->memory_limit);
        jg_map_close(g);
    }
    bool cpus = res->cpuset_cpus && *res->cpuset_cpus, mems = res->cpuset_mems && *res->cpuset_mems;
    if (res->cpu_shares || res->cpu_quota > 0 || cpus || mems) {
        jg_key(g, "cpu");
        jg_map_open(g);
        if (res->cpu_shares)
            jg_key_uint(g, "shares", res->cpu_shares);
        if (res->cpu_quota > 0) {
            jg_key_int(g, "quota", res->cpu_quota);
            jg_key_uint(g, "period", res->cpu_period ? res->cpu_period : 100000);
        }
        if (cpus)
            jg_key_str(g, "cpus", res->cpuset_cpus);
        if (mems)
            jg_key_str(g, "mems", res->cpuset_mems);
        jg_map_close(g);
    }
    if (res->pids_limit > 0) {
        jg_key(g, "pids");
        jg_map_open(g);
        jg_key_int(g, "limit", res->pids_limit);
        jg_map_close(g);
    }
    pods_gen_hugepages(g, res);
    pods_gen_unified(g, res->unified);
    jg_map_close(g);
}

/* As containerd: a privileged container runs unconfined whatever the profile says. */
static int gen_seccomp(yajl_gen g, const struct pods_container_config *c, pr_error **err)
{
    bool caps[CAP_NAMES_COUNT];
    int r;
    if (c->privileged || c->seccomp == PODS_SECCOMP_UNCONFINED)
        return 0;
    if (c->seccomp == PODS_SECCOMP_PROFILE) {
        if (!YAJL_IS_OBJECT(c->seccomp_profile))
            return pr_err(err, 0, "seccomp: the profile is not an object");
        jg_key(g, "seccomp");
        jg_value(g, c->seccomp_profile);
        return 0;
    }
    if ((r = build_caps(c, caps, err)) < 0)
        return r;
    pods_seccomp_default(g, caps);
    return 0;
}

static int gen_linux(yajl_gen g, const struct pods_container_config *c, pr_error **err)
{
    jg_key(g, "linux");
    jg_map_open(g);
    int r = gen_namespaces(g, c, err);
    if (r < 0 || (r = gen_seccomp(g, c, err)) < 0)
        return r;
    gen_resources(g, c);
    if (c->sysctls) {
        jg_key(g, "sysctl");
        jg_map_open(g);
        for (char *const *kv = c->sysctls; *kv; kv++) {
            const char *eq = strchr(*kv, '=');
            if (!eq || eq == *kv)
                return pr_err(err, 0, "sysctl: `%s` is not key=value", *kv);
            _cleanup_free_ char *key = xstrndup(*kv, (size_t)(eq - *kv));
            jg_key_str(g, key, eq + 1);
        }
        jg_map_close(g);
    }
    jg_key_str(g, "cgroupsPath", c->cgroups_path);
    if (c->rootfs_propagation)
        jg_key_str(g, "rootfsPropagation", c->rootfs_propagation);
    if (!c->privileged) {
        gen_paths(g, "maskedPaths", masked_paths, ARRAY_SIZE(masked_paths));
        gen_paths(g, "readonlyPaths", readonly_paths, ARRAY_SIZE(readonly_paths));
    }
    jg_map_close(g);
    return 0;
}

/* ---- annotations ---- */

static char *join(char *const *v, const char *sep)
{
    size_t len = 1;
    for (char *const *x = v; x && *x; x++)
        len += strlen(*x) + strlen(sep);
    char *s = xmalloc(len);
    s[0] = '\0';
    for (char *const *x = v; x && *x; x++) {
        if (x != v)
            strcat(s, sep);
        strcat(s, *x);
    }
    return s;
}

/* What a runtime config has no field for travels as annotations: the image's (OCI image
 * spec keys), then the pod's, a later key replacing an earlier one. */
static int gen_annotations(yajl_gen g, const struct pods_container_config *c, pr_error **err)
{
    const image_process *img = c->image;
    _cleanup_strv_ char **kv = NULL;
    for (char *const *l = img ? img->labels : NULL; l && *l; l++)
        env_set(&kv, *l);
    if (img && img->stop_signal) {
        _cleanup_free_ char *s =
            xasprintf("org.opencontainers.image.stopSignal=%s", img->stop_signal);
        env_set(&kv, s);
    }
    if (img && img->exposed_ports) {
        _cleanup_free_ char *p = join(img->exposed_ports, ",");
        _cleanup_free_ char *s = xasprintf("org.opencontainers.image.exposedPorts=%s", p);
        env_set(&kv, s);
    }
    if (img && img->volumes) {
        _cleanup_free_ char *v = join(img->volumes, ",");
        _cleanup_free_ char *s = xasprintf("org.opencontainers.image.volumes=%s", v);
        env_set(&kv, s);
    }
    for (char *const *a = c->annotations; a && *a; a++) {
        if (!strchr(*a, '=') || **a == '=')
            return pr_err(err, 0, "annotations: `%s` is not key=value", *a);
        env_set(&kv, *a);
    }
    jg_key(g, "annotations");
    jg_map_open(g);
    for (char **a = kv; a && *a; a++) {
        char *eq = strchr(*a, '=');
        *eq = '\0';
        jg_key_str(g, *a, eq + 1);
    }
    jg_map_close(g);
    return 0;
}

/* ---- the whole config ---- */

int pods_bundle_config(const struct pods_container_config *c, char **out, pr_error **err)
{
    if (!c->rootfs || c->rootfs[0] != '/')
        return pr_err(err, 0, "root: `%s` is not an absolute path", c->rootfs ? c->rootfs : "");
    if (c->hostname && c->namespaces[PODS_NS_UTS].mode == PODS_NS_HOST)
        return pr_err(err, 0,
                      "hostname: `%s` needs the container's own UTS namespace, not the "
                      "host's",
                      c->hostname);
    _cleanup_gen_ yajl_gen g = json_gen_new(true);
    int r;
    jg_map_open(g);
    jg_key_str(g, "ociVersion", "1.1.0");
    if ((r = gen_process(g, c, err)) < 0)
        return r;
    jg_key(g, "root");
    jg_map_open(g);
    jg_key_str(g, "path", c->rootfs);
    jg_key_bool(g, "readonly", c->readonly_rootfs);
    jg_map_close(g);
    jg_key_str(g, "hostname", c->hostname);
    if ((r = gen_mounts(g, c, err)) < 0 || (r = gen_linux(g, c, err)) < 0 ||
        (r = gen_annotations(g, c, err)) < 0)
        return r;
    jg_map_close(g);
    size_t len;
    const char *buf = jg_buf(g, &len);
    *out = strndup(buf, len);
    return 0;
}

int pods_bundle_write(const char *dir, const struct pods_container_config *c, pr_error **err)
{
    struct stat st;
    if (lstat(dir, &st) < 0)
        return pr_err(err, errno, "bundle `%s`", dir);
    if (!S_ISDIR(st.st_mode))
        return pr_err(err, 0, "bundle `%s`: not a directory (a symlink or a file is refused)", dir);
    _cleanup_free_ char *json = NULL;
    int r = pods_bundle_config(c, &json, err);
    if (r < 0)
        return pr_err_prefix(err, "bundle `%s`", dir);
    _cleanup_free_ char *path = xasprintf("%s/config.json", dir);
    return write_file_atomic(path, json, strlen(json), 0600, err);
}
