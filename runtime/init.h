/* SPDX-License-Identifier: Apache-2.0 */
/* The processes the runtime forks to make a container (or to exec into one). Stage 1 joins and
 * creates namespaces; stage 2, forked with CLONE_PARENT so it is the runtime's own child, is
 * the container process: it builds the root filesystem, waits for `start`, drops privileges
 * and execs the user's program. Each step is acknowledged over the sync socket. */
#ifndef RT_INIT_H
#define RT_INIT_H

#include "cgroup.h"
#include "config.h"

struct rt_init_args {
    const char *id;
    const struct rt_config *config; /* the container's config */
    struct rt_process *process;     /* what to run; HOME may be added */
    int sync;                       /* child's end of the sync socket */
    int fifo_fd;                    /* create: O_PATH fd of exec.fifo; exec: -1 */
    int state_dirfd; /* create without a mount namespace: the state dir, where the exec fifo is
                      * found once /proc is out of reach; else -1 */
    int preserve_fds;
    bool no_pivot;
    bool no_new_keyring;
    bool is_exec;
    bool exec_chroot;     /* exec: the container has no mount namespace; chroot to its rootfs */
    bool init_stub;       /* create: end with the init stub, not the whole runtime (container.c) */
    int ns_fds[NS_COUNT]; /* exec: the container's namespaces to join, or -1 */
    struct rt_cgroup_entry *cgroup_entry; /* joined by stage 1 first thing; NULL: none */
};

/* Runs in the child after fork(); never returns. */
void rt_init_stage1(const struct rt_init_args *a) __attribute__((noreturn));

/* The OCI state object as hooks receive it on stdin. */
char *rt_hook_state_json(const char *id, pid_t pid, const char *status, const char *bundle,
                         yajl_val annotations);

#endif
