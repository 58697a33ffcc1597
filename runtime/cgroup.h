/* SPDX-License-Identifier: Apache-2.0 */
/* Cgroups for one container: cgroup v2 (unified), v1 and hybrid hosts, and systemd-managed
 * scopes (--systemd-cgroup). The rest of the runtime sees only this interface. */
#ifndef RT_CGROUP_H
#define RT_CGROUP_H

#include "error.h"
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

struct rt_cgroup;

enum rt_cgroup_mode { RT_CGROUP_UNIFIED, RT_CGROUP_LEGACY, RT_CGROUP_HYBRID };
int rt_cgroup_host_mode(enum rt_cgroup_mode *mode, pr_error **err);

/* linux.cgroupsPath and linux.resources, parsed and checked once, before anything is made
 * (wrong types, values the host's cgroup version cannot express, a systemd path without
 * systemd). linux_obj is the config's "linux" object (may be NULL); the result borrows no
 * memory from it. */
struct rt_cgroup_config;
int rt_cgroup_config_parse(const char *id, yajl_val linux_obj, bool systemd,
                           struct rt_cgroup_config **out, pr_error **err);
void rt_cgroup_config_free(struct rt_cgroup_config *c);

/* Creates the container's cgroup from the parsed cgroupsPath (default: /podrun/<id>, or
 * system.slice:podrun:<id> with systemd), applies the resources, and moves pid into it.
 * On failure nothing is left behind. */
int rt_cgroup_create(const struct rt_cgroup_config *c, pid_t pid, struct rt_cgroup **out,
                     pr_error **err);
/* The same, calling note() once the directories are known and before any is made, with the
 * cgroup to be and the directories that do not exist yet (parents first). The runtime writes
 * them into the container's state directory, so that a create killed half-way can be undone
 * by the next command (rt_cgroup_undo_note): a failure of note() fails the create. */
typedef int (*rt_cgroup_note_fn)(const struct rt_cgroup *cg, char *const *to_make, void *data,
                                 pr_error **err);
int rt_cgroup_create_noted(const struct rt_cgroup_config *c, pid_t pid, rt_cgroup_note_fn note,
                           void *data, struct rt_cgroup **out, pr_error **err);
/* Undoes a create that died half-way, from what note() was given (saved: as serialized; made:
 * the array of directories): SIGKILLs the processes in the cgroup for which ours() says yes
 * (and only those: a directory that existed before may hold others'), stops a systemd unit,
 * and removes the directories that create made, deepest first. */
int rt_cgroup_undo_note(yajl_val saved, yajl_val made, bool (*ours)(pid_t pid, void *data),
                        void *data, pr_error **err);
/* Writes what rt_cgroup_load needs as one JSON value (into the container's state.json). */
void rt_cgroup_serialize(const struct rt_cgroup *cg, yajl_gen g);
int rt_cgroup_load(yajl_val saved, struct rt_cgroup **out, pr_error **err);

/* A way into the container's cgroup for a process not made yet, without the cost of writing
 * its pid (see cgroup-entry.c). Open it, make the process with rt_cgroup_entry_fork (as
 * fork(2)), call rt_cgroup_entry_join first thing in the child and rt_cgroup_entry_finish in the
 * parent; close it on every path. join_busy (for exec'd processes): on v2, where the container's
 * init may have handed that cgroup's controllers to children (leaving it unable to hold
 * processes), the process joins the cgroup of the container's init, which lies inside it. */
struct rt_cgroup_entry {
    int v2_fd; /* the cgroup2 directory, for clone3(CLONE_INTO_CGROUP); -1 if none */
    char *v2_path;
    bool v2_placed; /* the child was born there */
    int *v1_fds;    /* each v1 hierarchy's `tasks`, open for writing */
    char **v1_paths;
    size_t n_v1;
};
int rt_cgroup_entry_open(struct rt_cgroup *cg, struct rt_cgroup_entry *e, pr_error **err);
pid_t rt_cgroup_entry_fork(struct rt_cgroup_entry *e);
int rt_cgroup_entry_join(struct rt_cgroup_entry *e, pr_error **err);
int rt_cgroup_entry_finish(struct rt_cgroup *cg, struct rt_cgroup_entry *e, pid_t pid,
                           bool join_busy, pr_error **err);
void rt_cgroup_entry_close(struct rt_cgroup_entry *e);

/* exec --cgroup: [CONTROLLER[,CONTROLLER]:]PATH, each an existing sub-cgroup of the container's
 * (in every hierarchy without a controller, in those v1 hierarchies with). cg then names the
 * sub-cgroups, for rt_cgroup_entry_open. */
int rt_cgroup_use_sub(struct rt_cgroup *cg, char *const *specs, pr_error **err);

int rt_cgroup_update(struct rt_cgroup *cg, yajl_val resources, pr_error **err);
int rt_cgroup_freeze(struct rt_cgroup *cg, bool freeze, pr_error **err);
int rt_cgroup_is_frozen(struct rt_cgroup *cg, bool *frozen, pr_error **err);
/* All pids in the cgroup and below it. */
int rt_cgroup_pids(struct rt_cgroup *cg, pid_t **pids, size_t *n, pr_error **err);
/* Signals every process (cgroup.kill for SIGKILL on v2; otherwise freeze, signal, thaw so that
 * nothing forks away). */
int rt_cgroup_kill_all(struct rt_cgroup *cg, int sig, pr_error **err);
/* Emits runc's `events --stats` "data" object (cpu, memory, pids, blkio, hugetlb ...). */
int rt_cgroup_stats(struct rt_cgroup *cg, yajl_gen g, pr_error **err);
/* Number of OOM kills in this cgroup so far (memory.events oom_kill on v2,
 * memory.oom_control oom_kill on v1); callers watch it rise to report OOMKilled. */
int rt_cgroup_oom_kills(struct rt_cgroup *cg, uint64_t *count, pr_error **err);
/* The path shown to people and put in the container's cgroup namespace root. */
const char *rt_cgroup_path(const struct rt_cgroup *cg);
/* Removes the cgroup (waiting briefly for dying processes); ENOENT is success. */
int rt_cgroup_destroy(struct rt_cgroup *cg, pr_error **err);
void rt_cgroup_free(struct rt_cgroup *cg);

#endif
