/* SPDX-License-Identifier: Apache-2.0 */
/* Container state under --root: one directory per container holding state.json (written
 * atomically, so `list` never sees a torn one), config.json (the bundle's, as created), and the
 * exec fifo while the container waits for `start`. */
#ifndef RT_STATE_H
#define RT_STATE_H

#include "cgroup.h"
#include "error.h"
#include "paths.h"

#include <stdbool.h>
#include <sys/types.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#define RT_OCI_VERSION  "1.1.0"
#define RT_DEFAULT_ROOT PODRUN_RUNTIME_ROOT

struct rt_state {
    char *id;
    char *dir;
    pid_t pid;
    unsigned long long start_time; /* of pid, to tell it from a reused pid */
    char *bundle;
    char *rootfs;
    char *created;
    char *owner;
    bool systemd_cgroup;
    yajl_val tree; /* owns the two below */
    yajl_val cgroup_saved;
    yajl_val annotations;
};

int rt_validate_id(const char *id, pr_error **err);
/* Creates ROOT/ID; an existing one is an error "container ID already exists". */
int rt_state_dir_create(const char *root, const char *id, char **dir, pr_error **err);
int rt_state_load(const char *root, const char *id, struct rt_state **out, pr_error **err);
int rt_state_save(const struct rt_state *s, const struct rt_cgroup *cg, pr_error **err);
void rt_state_free(struct rt_state *s);
static inline void rt_state_freep(struct rt_state **s)
{
    rt_state_free(*s);
}
#define _cleanup_state_ __attribute__((cleanup(rt_state_freep)))

/* Exclusive lock on the container's directory for the life of the returned fd. */
int rt_state_lock(const struct rt_state *s, pr_error **err);

/* "created", "running", "paused" or "stopped", derived from the live system. */
const char *rt_state_status(const struct rt_state *s, struct rt_cgroup *cg);
/* The OCI state object (runtime-spec's state), as `state` prints it. */
void rt_state_gen_oci(const struct rt_state *s, const char *status, yajl_gen g);

/* Start time (clock ticks since boot) of pid from /proc/PID/stat; 0 if gone. *zombie set
 * when it has exited but is not reaped. */
unsigned long long rt_pid_start_time(pid_t pid, bool *zombie);
bool rt_pid_alive(pid_t pid, unsigned long long start_time);
/* A pidfd for the container's process that is known to be that process (not a reuse). */
int rt_state_pidfd(const struct rt_state *s, pr_error **err);

char *rt_now_rfc3339(void);

#endif
