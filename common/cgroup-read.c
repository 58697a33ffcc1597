/* SPDX-License-Identifier: Apache-2.0 */
#include "cgroup-names.h"
#include "cgroup-read.h"
#include "fs.h"
#include "util.h"

#include <errno.h>
#include <stdbool.h>

int cgroup_parse_u64(const char *s, uint64_t *out)
{
    while (*s == ' ' || *s == '\t')
        s++;
    if (has_prefix(s, "max")) {
        *out = UINT64_MAX;
        return 0;
    }
    if (*s < '0' || *s > '9')
        return -EINVAL;
    uint64_t v = 0;
    for (; *s >= '0' && *s <= '9'; s++) {
        uint64_t d = (uint64_t)(*s - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -ERANGE;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

/* Ends the line at *p in place and moves *p past it; NULL at the end of the text. */
static char *next_line(char **p)
{
    char *line = *p;
    if (!*line)
        return NULL;
    char *nl = strchr(line, '\n');
    if (nl) {
        *nl = '\0';
        *p = nl + 1;
    } else {
        *p = line + strlen(line);
    }
    return line;
}

int cgroup_read_keyed_u64(const char *path, const char *key, uint64_t *out)
{
    _cleanup_free_ char *text = NULL;
    size_t len, kl = strlen(key);
    if (read_file(path, &text, &len, NULL) < 0)
        return -errno;
    char *cur = text;
    for (char *line; (line = next_line(&cur));)
        if (strncmp(line, key, kl) == 0 && line[kl] == ' ')
            return cgroup_parse_u64(line + kl + 1, out);
    return -ENOENT;
}

char *cgroup_oom_file_of(pid_t pid)
{
    _cleanup_free_ char *path = xasprintf("/proc/%d/cgroup", pid), *text = NULL;
    size_t len;
    if (read_file(path, &text, &len, NULL) < 0)
        return NULL;
    bool unified = access("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0;
    char *cur = text;
    for (char *line; (line = next_line(&cur));) {
        char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        if (!c2)
            continue;
        *c2 = '\0';
        const char *ctrls = c1 + 1, *cg = c2 + 1;
        if (unified && *ctrls == '\0')
            return xasprintf("/sys/fs/cgroup%s/memory.events", cg);
        if (!unified && cgroup_in_list(ctrls, "memory"))
            return xasprintf("/sys/fs/cgroup/memory%s/memory.oom_control", cg);
    }
    return NULL;
}
