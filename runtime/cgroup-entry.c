/* SPDX-License-Identifier: Apache-2.0 */
/* Putting a process that is about to be made into the container's cgroup, without writing its
 * pid anywhere.
 *
 * Writing another process's pid to cgroup.procs (or to a v1 `tasks`) takes the kernel's global
 * cgroup_threadgroup_rwsem for writing, and the first writer after a quiet spell waits a whole
 * RCU grace period for it: 4 to 20 ms on an idle machine, more than everything else a container
 * start does. Two ways in skip that lock. clone3(CLONE_INTO_CGROUP) places the child in its
 * cgroup2 directory as it is born (fork takes the lock only for reading), and a thread that
 * writes "0" to a v1 hierarchy's `tasks` moves only itself, which the kernel does without the
 * global lock. So the runtime opens the directories first, clones the child into cgroup2, and
 * the child joins every v1 hierarchy itself before it does anything else; it is single-threaded
 * (a fresh fork), so moving its one thread moves the process. Where clone3 or CLONE_INTO_CGROUP
 * is missing, or the cgroup2 directory refuses processes, the parent writes the pid as before. */
#include "cgroup-internal.h"
#include "fs.h"
#include "log.h"
#include "util.h"

#include <fcntl.h>

void rt_cgroup_entry_close(struct rt_cgroup_entry *e)
{
    if (e->v2_fd >= 0)
        close(e->v2_fd);
    e->v2_fd = -1;
    free(e->v2_path);
    e->v2_path = NULL;
    for (size_t i = 0; i < e->n_v1; i++) {
        if (e->v1_fds[i] >= 0)
            close(e->v1_fds[i]);
        free(e->v1_paths[i]);
    }
    free(e->v1_fds);
    free(e->v1_paths);
    e->v1_fds = NULL;
    e->v1_paths = NULL;
    e->n_v1 = 0;
}

int rt_cgroup_entry_open(struct rt_cgroup *cg, struct rt_cgroup_entry *e, pr_error **err)
{
    *e = (struct rt_cgroup_entry){.v2_fd = -1};
    if (cg->v2_dir) {
        e->v2_path = xstrdup(cg->v2_dir);
        e->v2_fd = open(cg->v2_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (e->v2_fd < 0)
            return pr_err(err, errno, "open cgroup `%s`", cg->v2_dir);
    }
    e->v1_fds = xcalloc(cg->n_v1 + 1, sizeof(*e->v1_fds));
    e->v1_paths = xcalloc(cg->n_v1 + 1, sizeof(*e->v1_paths));
    for (size_t i = 0; i < cg->n_v1; i++) {
        e->v1_paths[i] = xasprintf("%s/tasks", cg->v1[i].dir);
        e->v1_fds[i] = open(e->v1_paths[i], O_WRONLY | O_CLOEXEC);
        e->n_v1 = i + 1;
        if (e->v1_fds[i] < 0) {
            int r = pr_err(err, errno, "open `%s`", e->v1_paths[i]);
            rt_cgroup_entry_close(e);
            return r;
        }
    }
    return 0;
}

pid_t rt_cgroup_entry_fork(struct rt_cgroup_entry *e)
{
    e->v2_placed = false;
    if (e->v2_fd >= 0) {
        pid_t pid = sys_clone3_into_cgroup(e->v2_fd);
        if (pid >= 0) {
            e->v2_placed = true;
            return pid;
        }
        /* Whatever clone3 objected to (an old kernel, a directory that refuses processes),
         * rt_cgroup_entry_finish's write of the pid either works or says precisely why not. */
        pr_debug("cgroup: clone3 into `%s`: %s; writing the pid instead", e->v2_path,
                 strerror(errno));
    }
    return fork();
}

int rt_cgroup_entry_join(struct rt_cgroup_entry *e, pr_error **err)
{
    int r = 0;
    for (size_t i = 0; i < e->n_v1 && r == 0; i++) {
        ssize_t w = write(e->v1_fds[i], "0", 1);
        if (w != 1)
            r = pr_err(err, w < 0 ? errno : EIO,
                       "moving the container process into its cgroup: "
                       "write 0 to `%s`",
                       e->v1_paths[i]);
    }
    rt_cgroup_entry_close(e);
    return r;
}

int rt_cgroup_entry_finish(struct rt_cgroup *cg, struct rt_cgroup_entry *e, pid_t pid,
                           bool join_busy, pr_error **err)
{
    int r = 0;
    if (cg->v2_dir && !e->v2_placed)
        r = cg_enter_dir(cg, cg->v2_dir, pid, join_busy, err);
    rt_cgroup_entry_close(e);
    return r;
}
