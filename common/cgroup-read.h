/* SPDX-License-Identifier: Apache-2.0 */
/* Reading the kernel's cgroup files, shared by the runtime (stats, events, OOM counts) and the
 * shim (a container's OOM kills). Parsed by hand: strtoull, strtok and strstr each pull another
 * part of libc into the shim's resident pages for a few lines of text. */
#ifndef PODRUN_CGROUP_READ_H
#define PODRUN_CGROUP_READ_H

#include <stdint.h>
#include <sys/types.h>

/* A cgroup number: decimal digits after optional blanks, or "max" (UINT64_MAX). -EINVAL for
 * anything else, -ERANGE past 64 bits. */
int cgroup_parse_u64(const char *s, uint64_t *out);

/* The value of "KEY N" in a flat-keyed file (memory.events, memory.stat, memory.oom_control).
 * -errno when the file cannot be read, -ENOENT when the key is not there. */
int cgroup_read_keyed_u64(const char *path, const char *key, uint64_t *out);

/* The file that counts the OOM kills of pid's memory cgroup: memory.events on a cgroup2 host,
 * memory.oom_control in the v1 memory hierarchy. NULL when pid has none or is gone. */
char *cgroup_oom_file_of(pid_t pid);

#endif
