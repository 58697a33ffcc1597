/* SPDX-License-Identifier: Apache-2.0 */
/* config.process (and `exec --process`): parsed once in the runtime, applied in the child in
 * the order that keeps privileges until they are no longer needed. */
#ifndef RT_PROCESS_H
#define RT_PROCESS_H

#include "caps.h"
#include "error.h"
#include "seccomp.h"

#include <stdbool.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <yajl/yajl_tree.h>

struct rt_rlimit {
    int resource;
    rlim_t soft, hard;
};

struct rt_process {
    char **args;
    char **env;
    char *cwd;
    bool terminal;
    unsigned console_height, console_width;
    uid_t uid;
    gid_t gid;
    gid_t *additional_gids;
    size_t n_additional_gids;
    int umask; /* -1: leave as is */
    struct rt_rlimit *rlimits;
    size_t n_rlimits;
    bool no_new_privs;
    bool has_oom_score_adj;
    int oom_score_adj;
    struct rt_caps *caps;
    bool has_io_priority;
    int io_priority; /* IOPRIO_PRIO_VALUE(class, data) */
    bool has_scheduler;
    struct {
        unsigned policy, flags;
        int nice, priority;
        unsigned long long runtime, deadline, period;
    } sched;
};

/* require_args: `create` needs process.args; `exec --process` too. ctx names the JSON place
 * ("process") for error messages. */
int rt_process_parse(yajl_val process, const char *ctx, struct rt_process **out, pr_error **err);
void rt_process_free(struct rt_process *p);
static inline void rt_process_freep(struct rt_process **p)
{
    rt_process_free(*p);
}
#define _cleanup_process_ __attribute__((cleanup(rt_process_freep)))

/* In the container's root, before exec: when env has no HOME, sets it from the user's entry
 * in /etc/passwd, or to "/" (as runc and crun do). */
void rt_process_ensure_home(struct rt_process *p);

/* Value of PATH in the process env, or the default search path. */
const char *rt_process_path_env(const struct rt_process *p);
/* Finds args[0] the way execvp would, in the current root; returns a malloc'd path. */
int rt_process_lookup_executable(const struct rt_process *p, char **out, pr_error **err);

/* The child's last steps before execve: rlimits, io priority and scheduler, capabilities
 * bounding set, identity (groups, gid, uid, umask), capabilities, no_new_privs, seccomp.
 * With no_new_privs off the seccomp filter is loaded before capabilities are dropped, since
 * loading it then needs CAP_SYS_ADMIN. *notify_fd receives a seccomp listener fd, if any. */
int rt_process_finalize(const struct rt_process *p, struct rt_seccomp *sc, int *notify_fd,
                        pr_error **err);

/* Parses "uid[:gid]" as `exec --user` takes it. */
int rt_process_parse_user(const char *spec, uid_t *uid, gid_t *gid, pr_error **err);

#endif
