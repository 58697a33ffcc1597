/* SPDX-License-Identifier: Apache-2.0 */
/* config.json: loaded and checked as a whole before anything is created, so that bad input
 * fails `create` with a message naming the field and nothing to undo. */
#ifndef RT_CONFIG_H
#define RT_CONFIG_H

#include "error.h"
#include "mempolicy.h"
#include "process.h"
#include "seccomp.h"

#include <stdbool.h>
#include <stdint.h>
#include <yajl/yajl_tree.h>

enum rt_ns_kind { NS_USER, NS_MNT, NS_PID, NS_NET, NS_IPC, NS_UTS, NS_CGROUP, NS_TIME, NS_COUNT };

struct rt_ns_desc {
    const char *oci_name;  /* "network" */
    const char *proc_name; /* "net" as in /proc/PID/ns/ */
    int clone_flag;
};
extern const struct rt_ns_desc rt_namespaces[NS_COUNT];

struct rt_idmap {
    uint32_t container_id, host_id, size;
};

struct rt_cgroup_config;

struct rt_config {
    yajl_val tree;
    /* The bytes tree was parsed from: the container's saved config.json is exactly these, so
     * what is saved is what was checked (the bundle's file may change after the read). */
    char *text;
    size_t text_len;
    char *bundle; /* absolute */
    char *rootfs; /* absolute */
    bool root_readonly;
    const char *hostname, *domainname;
    struct rt_process *process;
    bool ns_new[NS_COUNT];   /* create this namespace */
    char *ns_path[NS_COUNT]; /* join this one */
    struct rt_idmap *uid_maps, *gid_maps;
    size_t n_uid_maps, n_gid_maps;
    yajl_val linux_obj, hooks, annotations, sysctl, time_offsets;
    yajl_val net_devices; /* linux.netDevices, checked */
    struct rt_mempolicy mempolicy;
    bool has_personality;
    unsigned long personality;
    struct rt_seccomp *seccomp;
    struct rt_cgroup_config *cgroup; /* linux.cgroupsPath and linux.resources, parsed once */
};

/* config.json and exec's --process file are read whole up to this (DESIGN.md, "Limits"): runc
 * sets none, but real configs are a few kilobytes and this is a thousand times that. */
#define RT_CONFIG_MAX ((size_t)4 << 20)

/* Reads BUNDLE/config.json once and checks everything the runtime will act on. */
int rt_config_load(const char *bundle, bool systemd_cgroup, const char *id, struct rt_config **out,
                   pr_error **err);
void rt_config_free(struct rt_config *c);
static inline void rt_config_freep(struct rt_config **c)
{
    rt_config_free(*c);
}
#define _cleanup_config_ __attribute__((cleanup(rt_config_freep)))

/* Whether the container's namespace of this kind differs from the runtime's. */
static inline bool rt_config_has_ns(const struct rt_config *c, enum rt_ns_kind k)
{
    return c->ns_new[k] || c->ns_path[k];
}

/* Writes "a b c\n" lines as /proc/PID/{uid,gid}_map want them. */
char *rt_idmap_format(const struct rt_idmap *m, size_t n);

#endif
