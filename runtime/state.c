/* SPDX-License-Identifier: Apache-2.0 */
#include "state.h"
#include "fs.h"
#include "json.h"
#include "util.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>

int rt_validate_id(const char *id, pr_error **err)
{
    if (!id || !*id)
        return pr_err(err, 0, "container id is empty");
    if (strlen(id) > 1024)
        return pr_err(err, 0, "container id is longer than 1024 characters");
    if (streq(id, ".") || streq(id, ".."))
        return pr_err(err, 0, "invalid container id \"%s\"", id);
    for (const char *p = id; *p; p++) {
        unsigned char ch = (unsigned char)*p;
        if (!(ch >= 'a' && ch <= 'z') && !(ch >= 'A' && ch <= 'Z') && !(ch >= '0' && ch <= '9') &&
            ch != '_' && ch != '-' && ch != '+' && ch != '.')
            return pr_err(err, 0,
                          "invalid container id \"%s\": only letters, digits and _ + - . may "
                          "be used",
                          id);
    }
    return 0;
}

int rt_state_dir_create(const char *root, const char *id, char **dir, pr_error **err)
{
    int r = mkdir_p(root, 0700, err);
    if (r < 0)
        return r;
    _cleanup_free_ char *d = xasprintf("%s/%s", root, id);
    if (mkdir(d, 0700) < 0) {
        if (errno == EEXIST)
            return pr_err_code(err, EEXIST, "container \"%s\" already exists", id);
        return pr_err(err, errno, "mkdir `%s`", d);
    }
    *dir = steal_pointer(&d);
    return 0;
}

void rt_state_free(struct rt_state *s)
{
    if (!s)
        return;
    free(s->id);
    free(s->dir);
    free(s->bundle);
    free(s->rootfs);
    free(s->created);
    free(s->owner);
    if (s->tree)
        yajl_tree_free(s->tree);
    free(s);
}

int rt_state_load(const char *root, const char *id, struct rt_state **out, pr_error **err)
{
    int r = rt_validate_id(id, err);
    if (r < 0)
        return r;
    _cleanup_free_ char *dir = xasprintf("%s/%s", root, id);
    _cleanup_free_ char *path = xasprintf("%s/state.json", dir);
    if (access(dir, F_OK) < 0)
        return pr_err_code(err, ENOENT, "container \"%s\" does not exist", id);
    if (access(path, F_OK) < 0)
        return pr_err_code(err, ENOENT,
                           "container \"%s\" does not exist (still being created, or "
                           "its creation failed)",
                           id);
    struct rt_state *s = xcalloc(1, sizeof(*s));
    _cleanup_state_ struct rt_state *guard = s;
    if ((r = json_parse_file(path, &s->tree, err)) < 0)
        return r;
    const char *bundle = NULL, *rootfs = NULL, *created = NULL, *owner = NULL;
    int64_t pid = 0;
    uint64_t st = 0;
    if ((r = json_get_int64(s->tree, "pid", path, &pid, err)) < 0 ||
        (r = json_get_uint64(s->tree, "startTime", path, &st, err)) < 0 ||
        (r = json_get_str(s->tree, "bundle", path, &bundle, err)) < 0 ||
        (r = json_get_str(s->tree, "rootfs", path, &rootfs, err)) < 0 ||
        (r = json_get_str(s->tree, "created", path, &created, err)) < 0 ||
        (r = json_get_str(s->tree, "owner", path, &owner, err)) < 0 ||
        (r = json_get_bool(s->tree, "systemdCgroup", path, &s->systemd_cgroup, err)) < 0)
        return r;
    s->id = xstrdup(id);
    s->dir = steal_pointer(&dir);
    s->pid = (pid_t)pid;
    s->start_time = st;
    s->bundle = xstrdup(bundle ? bundle : "");
    s->rootfs = xstrdup(rootfs ? rootfs : "");
    s->created = xstrdup(created ? created : "");
    s->owner = xstrdup(owner ? owner : "");
    s->cgroup_saved = json_get(s->tree, "cgroup");
    s->annotations = json_get(s->tree, "annotations");
    *out = steal_pointer(&guard);
    return 0;
}

int rt_state_save(const struct rt_state *s, const struct rt_cgroup *cg, pr_error **err)
{
    _cleanup_gen_ yajl_gen g = json_gen_new(false);
    jg_map_open(g);
    jg_key_str(g, "id", s->id);
    jg_key_int(g, "pid", s->pid);
    jg_key_uint(g, "startTime", s->start_time);
    jg_key_str(g, "bundle", s->bundle);
    jg_key_str(g, "rootfs", s->rootfs);
    jg_key_str(g, "created", s->created);
    jg_key_str(g, "owner", s->owner);
    jg_key_bool(g, "systemdCgroup", s->systemd_cgroup);
    if (cg) {
        jg_key(g, "cgroup");
        rt_cgroup_serialize(cg, g);
    }
    if (s->annotations) {
        jg_key(g, "annotations");
        jg_value(g, s->annotations);
    }
    jg_map_close(g);
    size_t len;
    const char *buf = jg_buf(g, &len);
    _cleanup_free_ char *path = xasprintf("%s/state.json", s->dir);
    /* A container's state dies with the machine: no fsync on the start path. */
    return write_file_atomic_volatile(path, buf, len, 0600, err);
}

int rt_state_lock(const struct rt_state *s, pr_error **err)
{
    int fd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return pr_err(err, errno, "open `%s`", s->dir);
    while (flock(fd, LOCK_EX) < 0) {
        if (errno == EINTR)
            continue;
        int e = errno;
        close(fd);
        return pr_err(err, e, "lock `%s`", s->dir);
    }
    return fd;
}

unsigned long long rt_pid_start_time(pid_t pid, bool *zombie)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    _cleanup_free_ char *buf = NULL;
    if (zombie)
        *zombie = false;
    if (pid <= 0 || read_file(path, &buf, NULL, NULL) < 0)
        return 0;
    /* comm may hold spaces and parentheses: fields start after the last ')'. */
    char *p = strrchr(buf, ')');
    if (!p || !p[1])
        return 0;
    p += 2;
    char state = *p;
    if (zombie)
        *zombie = state == 'Z' || state == 'X';
    /* p points at field 3 (state); starttime is field 22. */
    for (int field = 3; field < 22 && p; field++) {
        p = strchr(p, ' ');
        if (p)
            p++;
    }
    return p ? strtoull(p, NULL, 10) : 0;
}

bool rt_pid_alive(pid_t pid, unsigned long long start_time)
{
    bool zombie;
    unsigned long long st = rt_pid_start_time(pid, &zombie);
    return st != 0 && st == start_time && !zombie;
}

int rt_state_pidfd(const struct rt_state *s, pr_error **err)
{
    int fd = sys_pidfd_open(s->pid, 0);
    if (fd < 0) {
        if (errno == ESRCH)
            return pr_err(err, ESRCH, "container \"%s\" is not running", s->id);
        return pr_err(err, errno, "pidfd_open %d", (int)s->pid);
    }
    /* Checked after opening: from here on the pidfd pins this very process. */
    if (!rt_pid_alive(s->pid, s->start_time)) {
        close(fd);
        return pr_err(err, ESRCH, "container \"%s\" is not running", s->id);
    }
    return fd;
}

const char *rt_state_status(const struct rt_state *s, struct rt_cgroup *cg)
{
    if (!rt_pid_alive(s->pid, s->start_time))
        return "stopped";
    _cleanup_free_ char *fifo = xasprintf("%s/exec.fifo", s->dir);
    if (access(fifo, F_OK) == 0)
        return "created";
    bool frozen = false;
    if (cg && rt_cgroup_is_frozen(cg, &frozen, NULL) == 0 && frozen)
        return "paused";
    return "running";
}

void rt_state_gen_oci(const struct rt_state *s, const char *status, yajl_gen g)
{
    jg_map_open(g);
    jg_key_str(g, "ociVersion", RT_OCI_VERSION);
    jg_key_str(g, "id", s->id);
    jg_key_int(g, "pid", streq(status, "stopped") ? 0 : s->pid);
    jg_key_str(g, "status", status);
    jg_key_str(g, "bundle", s->bundle);
    jg_key_str(g, "rootfs", s->rootfs);
    jg_key_str(g, "created", s->created);
    jg_key_str(g, "owner", s->owner);
    if (s->annotations) {
        jg_key(g, "annotations");
        jg_value(g, s->annotations);
    }
    jg_map_close(g);
}

char *rt_now_rfc3339(void)
{
    struct timespec ts;
    struct tm tm;
    char buf[64];
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf + n, sizeof(buf) - n, ".%09ldZ", ts.tv_nsec);
    return xstrdup(buf);
}
