/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"
#include "cgroup.h"
#include "json.h"
#include "log.h"
#include "mounts.h"
#include "netdev.h"
#include "util.h"

#include <limits.h>
#include <sched.h>
#include <sys/personality.h>
#include <sys/stat.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

/* Order matters: the user namespace is joined first, so that the others can be joined with
 * its privileges. */
const struct rt_ns_desc rt_namespaces[NS_COUNT] = {
    [NS_USER] = {"user", "user", CLONE_NEWUSER},
    [NS_MNT] = {"mount", "mnt", CLONE_NEWNS},
    [NS_PID] = {"pid", "pid", CLONE_NEWPID},
    [NS_NET] = {"network", "net", CLONE_NEWNET},
    [NS_IPC] = {"ipc", "ipc", CLONE_NEWIPC},
    [NS_UTS] = {"uts", "uts", CLONE_NEWUTS},
    [NS_CGROUP] = {"cgroup", "cgroup", CLONE_NEWCGROUP},
    [NS_TIME] = {"time", "time", CLONE_NEWTIME},
};

void rt_config_free(struct rt_config *c)
{
    if (!c)
        return;
    if (c->tree)
        yajl_tree_free(c->tree);
    free(c->text);
    rt_cgroup_config_free(c->cgroup);
    free(c->bundle);
    free(c->rootfs);
    rt_process_free(c->process);
    for (int i = 0; i < NS_COUNT; i++)
        free(c->ns_path[i]);
    free(c->uid_maps);
    free(c->gid_maps);
    rt_seccomp_free(c->seccomp);
    free(c);
}

static int parse_namespaces(struct rt_config *c, yajl_val arr, pr_error **err)
{
    for (size_t i = 0; i < json_array_len(arr); i++) {
        yajl_val ns = json_array_at(arr, i);
        _cleanup_free_ char *ctx = xasprintf("linux.namespaces[%zu]", i);
        const char *type = NULL, *path = NULL;
        int r;
        if ((r = json_get_str(ns, "type", ctx, &type, err)) < 0 ||
            (r = json_get_str(ns, "path", ctx, &path, err)) < 0)
            return r;
        if (!type)
            return pr_err(err, 0, "%s.type: missing", ctx);
        int k;
        for (k = 0; k < NS_COUNT; k++)
            if (streq(rt_namespaces[k].oci_name, type))
                break;
        if (k == NS_COUNT)
            return pr_err(err, 0, "%s.type: unknown namespace type \"%s\"", ctx, type);
        if (c->ns_new[k] || c->ns_path[k])
            return pr_err(err, 0, "%s: namespace \"%s\" listed twice", ctx, type);
        if (path && *path) {
            struct stat st;
            if (path[0] != '/')
                return pr_err(err, 0, "%s.path: \"%s\" is not absolute", ctx, path);
            if (stat(path, &st) < 0)
                return pr_err(err, errno, "%s.path: `%s`", ctx, path);
            c->ns_path[k] = xstrdup(path);
        } else {
            c->ns_new[k] = true;
        }
    }
    return 0;
}

static int parse_idmaps(yajl_val arr, const char *ctx, struct rt_idmap **out, size_t *n,
                        pr_error **err)
{
    size_t len = json_array_len(arr);
    if (len > 340)
        return pr_err(err, 0, "%s: at most 340 mappings are allowed", ctx);
    struct rt_idmap *m = xcalloc(len + 1, sizeof(*m));
    for (size_t i = 0; i < len; i++) {
        yajl_val e = json_array_at(arr, i);
        _cleanup_free_ char *c = xasprintf("%s[%zu]", ctx, i);
        int64_t cid = -1, hid = -1, size = -1;
        int r;
        if ((r = json_get_int64(e, "containerID", c, &cid, err)) < 0 ||
            (r = json_get_int64(e, "hostID", c, &hid, err)) < 0 ||
            (r = json_get_int64(e, "size", c, &size, err)) < 0) {
            free(m);
            return r;
        }
        if (cid < 0 || hid < 0 || size <= 0 || cid > UINT32_MAX || hid > UINT32_MAX ||
            size > UINT32_MAX) {
            free(m);
            return pr_err(err, 0, "%s: containerID, hostID and size must be given and valid", c);
        }
        m[i] = (struct rt_idmap){(uint32_t)cid, (uint32_t)hid, (uint32_t)size};
    }
    *out = m;
    *n = len;
    return 0;
}

char *rt_idmap_format(const struct rt_idmap *m, size_t n)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        abort();
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%u %u %u\n", m[i].container_id, m[i].host_id, m[i].size);
    fclose(f);
    return buf;
}

/* Which namespace a sysctl belongs to decides whether a container may set it: only those its
 * own namespaces scope, never the host's. */
static int check_sysctl(const struct rt_config *c, const char *key, pr_error **err)
{
    static const char *ipc_keys[] = {"kernel.msgmax", "kernel.msgmnb",         "kernel.msgmni",
                                     "kernel.sem",    "kernel.shmall",         "kernel.shmmax",
                                     "kernel.shmmni", "kernel.shm_rmid_forced"};
    for (size_t i = 0; i < ARRAY_SIZE(ipc_keys); i++)
        if (streq(key, ipc_keys[i])) {
            if (!rt_config_has_ns(c, NS_IPC))
                return pr_err(err, 0, "linux.sysctl: \"%s\" needs an ipc namespace", key);
            return 0;
        }
    if (has_prefix(key, "fs.mqueue.")) {
        if (!rt_config_has_ns(c, NS_IPC))
            return pr_err(err, 0, "linux.sysctl: \"%s\" needs an ipc namespace", key);
        return 0;
    }
    if (has_prefix(key, "net.")) {
        if (!rt_config_has_ns(c, NS_NET))
            return pr_err(err, 0, "linux.sysctl: \"%s\" needs a network namespace", key);
        return 0;
    }
    /* The config's own fields set these, in the order the runtime chooses (as runc). */
    if (streq(key, "kernel.hostname") || streq(key, "kernel.domainname"))
        return pr_err(err, 0, "linux.sysctl: \"%s\" is not allowed: use the config's \"%s\" field",
                      key, key + strlen("kernel."));
    return pr_err(err, 0,
                  "linux.sysctl: \"%s\" is not namespaced; setting it would change "
                  "the host",
                  key);
}

static int parse_linux(struct rt_config *c, yajl_val lin, pr_error **err)
{
    int r;
    yajl_val arr = NULL, seccomp = NULL, pers = NULL;
    if ((r = json_get_array(lin, "namespaces", "linux", &arr, err)) < 0)
        return r;
    if ((r = parse_namespaces(c, arr, err)) < 0)
        return r;
    arr = NULL;
    if ((r = json_get_array(lin, "uidMappings", "linux", &arr, err)) < 0 ||
        (r = parse_idmaps(arr, "linux.uidMappings", &c->uid_maps, &c->n_uid_maps, err)) < 0)
        return r;
    arr = NULL;
    if ((r = json_get_array(lin, "gidMappings", "linux", &arr, err)) < 0 ||
        (r = parse_idmaps(arr, "linux.gidMappings", &c->gid_maps, &c->n_gid_maps, err)) < 0)
        return r;
    if (c->ns_new[NS_USER] && (c->n_uid_maps == 0 || c->n_gid_maps == 0))
        return pr_err(err, 0, "linux.uidMappings/gidMappings: a new user namespace needs both");
    if (!c->ns_new[NS_USER] && (c->n_uid_maps || c->n_gid_maps))
        return pr_err(err, 0, "linux.uidMappings: mappings are given but no new user namespace is");
    if ((r = json_get_object(lin, "sysctl", "linux", &c->sysctl, err)) < 0 ||
        (r = json_get_object(lin, "timeOffsets", "linux", &c->time_offsets, err)) < 0 ||
        (r = json_get_object(lin, "seccomp", "linux", &seccomp, err)) < 0 ||
        (r = json_get_object(lin, "personality", "linux", &pers, err)) < 0)
        return r;
    for (size_t i = 0; c->sysctl && i < c->sysctl->u.object.len; i++) {
        if (!YAJL_IS_STRING(c->sysctl->u.object.values[i]))
            return pr_err(err, 0, "linux.sysctl.%s: expected string", c->sysctl->u.object.keys[i]);
        if ((r = check_sysctl(c, c->sysctl->u.object.keys[i], err)) < 0)
            return r;
    }
    if ((r = rt_mempolicy_parse(json_get(lin, "memoryPolicy"), &c->mempolicy, err)) < 0)
        return r;
    c->net_devices = json_get(lin, "netDevices");
    if ((r = rt_net_devices_validate(c->net_devices, rt_config_has_ns(c, NS_NET), err)) < 0)
        return r;
    if (c->time_offsets && !c->ns_new[NS_TIME])
        return pr_err(err, 0, "linux.timeOffsets: needs a new time namespace");
    if (pers) {
        const char *domain = NULL;
        if ((r = json_get_str(pers, "domain", "linux.personality", &domain, err)) < 0)
            return r;
        if (!domain || streq(domain, "LINUX"))
            c->personality = PER_LINUX;
        else if (streq(domain, "LINUX32"))
            c->personality = PER_LINUX32;
        else
            return pr_err(err, 0, "linux.personality.domain: unknown domain \"%s\"", domain);
        c->has_personality = true;
    }
    const char *label = NULL;
    if ((r = json_get_str(lin, "mountLabel", "linux", &label, err)) < 0)
        return r;
    if (label && *label)
        return pr_err(err, 0, "linux.mountLabel: SELinux labels are not supported by podrun");
    yajl_val rdt = json_get(lin, "intelRdt");
    if (rdt && !YAJL_IS_NULL(rdt))
        return pr_err(err, 0, "linux.intelRdt: Intel RDT is not supported by podrun");
    if ((r = rt_seccomp_prepare(seccomp, &c->seccomp, err)) < 0)
        return r;
    return 0;
}

static int check_hooks(yajl_val hooks, pr_error **err)
{
    static const char *kinds[] = {"prestart",       "createRuntime", "createContainer",
                                  "startContainer", "poststart",     "poststop"};
    if (!hooks)
        return 0;
    for (size_t i = 0; i < hooks->u.object.len; i++) {
        const char *kind = hooks->u.object.keys[i];
        size_t k;
        for (k = 0; k < ARRAY_SIZE(kinds); k++)
            if (streq(kind, kinds[k]))
                break;
        if (k == ARRAY_SIZE(kinds))
            continue; /* unknown properties are ignored, as the spec asks */
        yajl_val arr = hooks->u.object.values[i];
        if (!YAJL_IS_ARRAY(arr))
            return pr_err(err, 0, "hooks.%s: expected array", kind);
        for (size_t j = 0; j < arr->u.array.len; j++) {
            yajl_val h = arr->u.array.values[j];
            _cleanup_free_ char *ctx = xasprintf("hooks.%s[%zu]", kind, j);
            const char *path = NULL;
            _cleanup_strv_ char **args = NULL, **env = NULL;
            int64_t timeout = 1;
            int r;
            if ((r = json_get_str(h, "path", ctx, &path, err)) < 0 ||
                (r = json_get_strv(h, "args", ctx, &args, err)) < 0 ||
                (r = json_get_strv(h, "env", ctx, &env, err)) < 0 ||
                (r = json_get_int64(h, "timeout", ctx, &timeout, err)) < 0)
                return r;
            if (!path || path[0] != '/')
                return pr_err(err, 0, "%s.path: must be an absolute path", ctx);
            if (timeout <= 0)
                return pr_err(err, 0, "%s.timeout: must be greater than zero", ctx);
        }
    }
    return 0;
}

/* Whether path names the namespace of this kind the runtime itself is in. */
static bool is_runtime_ns(enum rt_ns_kind k, const char *path)
{
    char mine_path[64];
    snprintf(mine_path, sizeof(mine_path), "/proc/self/ns/%s", rt_namespaces[k].proc_name);
    struct stat mine, theirs;
    return stat(mine_path, &mine) == 0 && stat(path, &theirs) == 0 &&
           mine.st_dev == theirs.st_dev && mine.st_ino == theirs.st_ino;
}

/* hostname and domainname go to the container's uts namespace, new or joined, never to the
 * runtime's own (that would rename the host). */
static int check_uts_names(const struct rt_config *c, pr_error **err)
{
    const char *field = c->hostname && *c->hostname       ? "hostname"
                        : c->domainname && *c->domainname ? "domainname"
                                                          : NULL;
    if (!field || c->ns_new[NS_UTS])
        return 0;
    if (!c->ns_path[NS_UTS])
        return pr_err(err, 0, "%s: setting it needs a uts namespace", field);
    if (is_runtime_ns(NS_UTS, c->ns_path[NS_UTS]))
        return pr_err(err, 0,
                      "%s: the uts namespace `%s` is the runtime's own; setting it would "
                      "change the host's",
                      field, c->ns_path[NS_UTS]);
    return 0;
}

/* A mount namespace joined by path gets the rootfs set up and pivot_root'ed inside it: in the
 * runtime's own (the host's) that would move every process's root there. */
static int check_joined_mount_ns(const struct rt_config *c, pr_error **err)
{
    if (c->ns_path[NS_MNT] && is_runtime_ns(NS_MNT, c->ns_path[NS_MNT]))
        return pr_err(err, 0,
                      "linux.namespaces: the mount namespace `%s` is the runtime's own; the "
                      "container's root cannot be set up there",
                      c->ns_path[NS_MNT]);
    return 0;
}

/* Without a mount namespace every mount would land in the runtime's (the host's) tree, and
 * masking would mask the host's paths: refused, as runc refuses the masks. The process still
 * gets chroot'ed into the rootfs. */
static int check_needs_mount_ns(const struct rt_config *c, pr_error **err)
{
    if (rt_config_has_ns(c, NS_MNT))
        return 0;
    static const char *const lists[] = {"maskedPaths", "readonlyPaths"};
    if (json_array_len(json_get(c->tree, "mounts")) > 0)
        return pr_err(err, 0, "mounts: performing them needs a mount namespace");
    for (size_t i = 0; i < ARRAY_SIZE(lists); i++)
        if (json_array_len(json_get(c->linux_obj, lists[i])) > 0)
            return pr_err(err, 0, "linux.%s: masking paths needs a mount namespace", lists[i]);
    const char *prop = YAJL_GET_STRING(json_get(c->linux_obj, "rootfsPropagation"));
    if (prop && *prop)
        return pr_err(err, 0, "linux.rootfsPropagation: needs a mount namespace");
    if (c->root_readonly)
        return pr_err(err, 0, "root.readonly: needs a mount namespace");
    return 0;
}

/* path with "//", "/./", "/../" and a trailing '/' resolved lexically, as filepath.Clean. */
static char *clean_path(const char *path)
{
    char *out = xcalloc(1, strlen(path) + 2);
    size_t n = 0;
    for (const char *p = path; *p;) {
        while (*p == '/')
            p++;
        size_t len = strcspn(p, "/");
        if (len == 0)
            break;
        if (len == 1 && p[0] == '.') {
        } else if (len == 2 && p[0] == '.' && p[1] == '.') {
            while (n > 0 && out[n - 1] != '/')
                n--;
            if (n > 0)
                n--;
        } else {
            out[n++] = '/';
            memcpy(out + n, p, len);
            n += len;
        }
        p += len;
    }
    if (n == 0)
        out[n++] = '/';
    out[n] = '\0';
    return out;
}

int rt_config_load(const char *bundle, bool systemd_cgroup, const char *id, struct rt_config **out,
                   pr_error **err)
{
    struct rt_config *c = xcalloc(1, sizeof(*c));
    _cleanup_config_ struct rt_config *guard = c;
    char abs[PATH_MAX];
    int r;

    if (!realpath(bundle, abs))
        return pr_err(err, errno, "bundle `%s`", bundle);
    c->bundle = xstrdup(abs);
    _cleanup_free_ char *path = xasprintf("%s/config.json", c->bundle);
    if (access(path, F_OK) < 0)
        return pr_err(err, errno, "bundle `%s`: no config.json", c->bundle);
    if ((r = read_file_max(path, RT_CONFIG_MAX, READ_REGULAR, &c->text, &c->text_len, err)) < 0)
        return r;
    if (strlen(c->text) != c->text_len)
        return pr_err(err, 0, "%s: malformed JSON: contains a NUL byte", path);
    if ((r = json_parse(c->text, path, &c->tree, err)) < 0)
        return r;
    if (!YAJL_IS_OBJECT(c->tree))
        return pr_err(err, 0, "%s: expected a JSON object", path);

    const char *version = NULL;
    if ((r = json_get_str(c->tree, "ociVersion", "config", &version, err)) < 0)
        return r;
    if (!version)
        return pr_err(err, 0, "%s: ociVersion missing", path);
    if (!has_prefix(version, "1."))
        return pr_err(err, 0, "%s: ociVersion \"%s\" is not supported (1.x is)", path, version);

    yajl_val root = NULL, process = NULL;
    if ((r = json_get_object(c->tree, "root", "config", &root, err)) < 0)
        return r;
    const char *rootpath = NULL;
    if (!root || (r = json_get_str(root, "path", "root", &rootpath, err)) < 0 || !rootpath) {
        if (r < 0)
            return r;
        return pr_err(err, 0, "%s: root.path missing", path);
    }
    if ((r = json_get_bool(root, "readonly", "root", &c->root_readonly, err)) < 0)
        return r;
    _cleanup_free_ char *rootjoined =
        rootpath[0] == '/' ? xstrdup(rootpath) : xasprintf("%s/%s", c->bundle, rootpath);
    if (!realpath(rootjoined, abs))
        return pr_err(err, errno, "root.path `%s`", rootjoined);
    /* A rootfs reached through a symlink (to / say) is refused up front, as runc does: what
     * it points to may change between now and the mounts. */
    _cleanup_free_ char *cleaned = clean_path(rootjoined);
    if (!streq(cleaned, abs))
        return pr_err(err, 0,
                      "root.path: invalid rootfs `%s`: it is, or goes through, a symlink "
                      "(to `%s`)",
                      rootjoined, abs);
    struct stat st;
    if (stat(abs, &st) < 0 || !S_ISDIR(st.st_mode))
        return pr_err(err, ENOTDIR, "root.path `%s`", abs);
    c->rootfs = xstrdup(abs);

    if ((r = json_get_object(c->tree, "process", "config", &process, err)) < 0)
        return r;
    if (!process)
        return pr_err(err, 0, "%s: process missing", path);
    if ((r = rt_process_parse(process, "process", &c->process, err)) < 0)
        return r;

    if ((r = json_get_str(c->tree, "hostname", "config", &c->hostname, err)) < 0 ||
        (r = json_get_str(c->tree, "domainname", "config", &c->domainname, err)) < 0 ||
        (r = json_get_object(c->tree, "hooks", "config", &c->hooks, err)) < 0 ||
        (r = json_get_object(c->tree, "annotations", "config", &c->annotations, err)) < 0 ||
        (r = json_get_object(c->tree, "linux", "config", &c->linux_obj, err)) < 0)
        return r;
    if ((r = check_hooks(c->hooks, err)) < 0)
        return r;
    if (c->linux_obj && (r = parse_linux(c, c->linux_obj, err)) < 0)
        return r;
    if ((r = check_uts_names(c, err)) < 0 || (r = check_needs_mount_ns(c, err)) < 0 ||
        (r = check_joined_mount_ns(c, err)) < 0)
        return r;
    if ((r = rt_mounts_validate(c->tree, err)) < 0)
        return r;
    if ((r = rt_cgroup_config_parse(id, c->linux_obj, systemd_cgroup, &c->cgroup, err)) < 0)
        return r;
    *out = steal_pointer(&guard);
    return 0;
}
