/* SPDX-License-Identifier: Apache-2.0 */
/* A running container's root directory as its own processes see it (/proc/PID/root: its mount
 * namespace, volumes included), for `podrun cp`. The PID comes from the shim's status and is
 * pinned with a pidfd, so a PID reused after the container exited is never taken for it. */
#include "fs.h"
#include "manager.h"
#include "util.h"

#include <fcntl.h>
#include <poll.h>

/* The container's pid and start time from status.json; -ESRCH when it is not running. */
static int running_pid(pods_manager *m, const char *uid, const char *name, pid_t *pid,
                       char **started, pr_error **err)
{
    struct pods_pod_paths p;
    pods_pod_paths_init(m, uid, &p);
    _cleanup_free_ char *path = xasprintf("%s/status.json", p.shim_dir);
    pods_pod_paths_clear(&p);
    _cleanup_json_ yajl_val st = NULL;
    int r = json_parse_file(path, &st, err);
    if (r < 0)
        return r;
    const char *lists[] = {"containerStatuses", "initContainerStatuses"};
    for (size_t k = 0; k < ARRAY_SIZE(lists); k++) {
        yajl_val cs = json_get(st, lists[k]);
        for (size_t i = 0; i < json_array_len(cs); i++) {
            yajl_val c = json_array_at(cs, i);
            const char *n = YAJL_GET_STRING(json_get(c, "name"));
            if (!n || !streq(n, name))
                continue;
            const char *state = YAJL_GET_STRING(json_get(c, "state"));
            yajl_val v = json_get(c, "pid");
            if (!state || !streq(state, "running") || !YAJL_IS_INTEGER(v) ||
                YAJL_GET_INTEGER(v) <= 1)
                return pr_err_code(err, ESRCH, "container %s is not running", name);
            *pid = (pid_t)YAJL_GET_INTEGER(v);
            const char *s = YAJL_GET_STRING(json_get(c, "startedAt"));
            *started = xstrdup(s ? s : "");
            return 0;
        }
    }
    return pr_err_code(err, ESRCH, "container %s is not running", name);
}

int pods_container_root(pods_manager *m, const char *ns, const char *pod, const char *container,
                        int *rootfd, pr_error **err)
{
    _cleanup_free_ char *uid = NULL, *name = NULL, *started = NULL, *again = NULL;
    pid_t pid = 0, pid2 = 0;
    int r = pods_find_container(m, ns, pod, container, &uid, &name, NULL, err);
    if (r < 0 || (r = running_pid(m, uid, name, &pid, &started, err)) < 0)
        return r;
    _cleanup_close_ int pidfd = sys_pidfd_open(pid, 0);
    if (pidfd < 0)
        return pr_err_code(err, ESRCH, "container %s is not running", name);
    /* Still the same process after the pidfd was taken: the pidfd is the container's. */
    if ((r = running_pid(m, uid, name, &pid2, &again, err)) < 0)
        return r;
    if (pid2 != pid || !streq(started, again))
        return pr_err_code(err, EAGAIN, "container %s restarted; try again", name);
    _cleanup_free_ char *proc = xasprintf("/proc/%d/root", (int)pid);
    int fd = open(proc, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return pr_err(err, errno, "open the root of container %s (`%s`)", name, proc);
    /* And alive when its root was opened: /proc/PID was that process. */
    struct pollfd pf = {pidfd, POLLIN, 0};
    if (poll(&pf, 1, 0) != 0) {
        close(fd);
        return pr_err_code(err, ESRCH, "container %s is not running", name);
    }
    *rootfd = fd;
    return 0;
}

int pods_container_cwd(pods_manager *m, const char *ns, const char *pod, const char *container,
                       char **cwd, pr_error **err)
{
    _cleanup_free_ char *uid = NULL, *name = NULL;
    int r = pods_find_container(m, ns, pod, container, &uid, &name, NULL, err);
    if (r < 0)
        return r;
    struct pods_pod_paths p;
    pods_pod_paths_init(m, uid, &p);
    _cleanup_free_ char *dir = pods_container_dir(&p, name);
    pods_pod_paths_clear(&p);
    _cleanup_free_ char *path = xasprintf("%s/config.json", dir);
    _cleanup_json_ yajl_val cfg = NULL;
    if ((r = json_parse_file(path, &cfg, err)) < 0)
        return r;
    const char *c = YAJL_GET_STRING(json_get(json_get(cfg, "process"), "cwd"));
    *cwd = xstrdup(c && c[0] == '/' ? c : "/");
    return 0;
}
