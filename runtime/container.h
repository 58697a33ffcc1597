/* SPDX-License-Identifier: Apache-2.0 */
/* The runtime side of the container lifecycle: what each runc command does. */
#ifndef RT_CONTAINER_H
#define RT_CONTAINER_H

#include "cgroup.h"
#include "error.h"
#include "state.h"

#include <stdbool.h>
#include <sys/types.h>

struct rt_global {
    const char *root;
    bool systemd_cgroup;
    bool debug;
    char **argv; /* the runtime's own, to re-execute from a sealed copy (cloned-binary.h) */
};

struct rt_create_opts {
    const char *id;
    const char *bundle;
    const char *pid_file;
    const char *console_socket;
    int preserve_fds;
    bool no_pivot;
    bool no_new_keyring;
    bool foreground; /* `run` without --detach: a terminal may be proxied by us */
};

/* Creates the container and leaves its process waiting for `start`. *pid receives the
 * container process's pid, *pty_master the terminal when foreground and no console socket. */
int rt_container_create(const struct rt_global *g, const struct rt_create_opts *o, pid_t *pid,
                        int *pty_master, pr_error **err);
int rt_container_start(const struct rt_global *g, const char *id, pr_error **err);
int rt_container_delete(const struct rt_global *g, const char *id, bool force, pr_error **err);
int rt_container_kill(const struct rt_global *g, const char *id, int sig, bool all, pr_error **err);
int rt_container_pause(const struct rt_global *g, const char *id, bool pause, pr_error **err);

struct rt_exec_opts {
    const char *id;
    const char *process_file; /* --process: a process JSON; else built from the flags */
    const char *console_socket;
    const char *pid_file;
    const char *cwd;
    const char *user;
    char **args;
    char **env;     /* --env additions */
    char **caps;    /* --cap additions */
    char **cgroups; /* --cgroup [CONTROLLER:]PATH: sub-cgroups to run in */
    gid_t *additional_gids;
    size_t n_additional_gids;
    bool tty;
    bool detach;
    bool no_new_privs;
    int preserve_fds;
};
int rt_container_exec(const struct rt_global *g, const struct rt_exec_opts *o, pid_t *pid,
                      int *pty_master, pr_error **err);

/* Loads a container's state and cgroup. */
int rt_container_load(const struct rt_global *g, const char *id, struct rt_state **st,
                      struct rt_cgroup **cg, pr_error **err);

/* Waits for our child pid, forwarding the signals a foreground runtime receives, and relaying
 * a terminal when pty_master >= 0. Returns the shell-style exit code (128+N for a signal). */
int rt_wait_foreground(pid_t pid, int pty_master);

/* "KILL", "SIGKILL", "9", "SIGRTMIN+3" */
int rt_parse_signal(const char *s, int *sig, pr_error **err);

static inline void rt_cgroup_freep(struct rt_cgroup **c)
{
    rt_cgroup_free(*c);
}
#define _cleanup_cgroup_ __attribute__((cleanup(rt_cgroup_freep)))

#endif
