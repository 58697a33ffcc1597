/* SPDX-License-Identifier: Apache-2.0 */
/* /proc/self/mountinfo, for finding the host's cgroup hierarchies and the mounts to detach
 * when there is no pivot_root. */

#include "mounts-internal.h"
#include "fs.h"
#include "util.h"

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static char *unescape(const char *s, size_t len)
{
    char *out = xmalloc(len + 1);
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '\\' && i + 3 < len && s[i + 1] >= '0' && s[i + 1] <= '3' && s[i + 2] >= '0' &&
            s[i + 2] <= '7' && s[i + 3] >= '0' && s[i + 3] <= '7') {
            out[n++] = (char)((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
            i += 3;
        } else {
            out[n++] = s[i];
        }
    }
    out[n] = '\0';
    return out;
}

/* Splits a line into its space-separated fields (at most max). */
static size_t split_fields(const char *line, size_t len, const char **start, size_t *flen,
                           size_t max)
{
    size_t n = 0, i = 0;
    while (i < len && n < max) {
        while (i < len && line[i] == ' ')
            i++;
        if (i >= len)
            break;
        start[n] = line + i;
        while (i < len && line[i] != ' ')
            i++;
        flen[n] = line + i - start[n];
        n++;
    }
    return n;
}

static int parse_line(const char *line, size_t len, struct rt_mountinfo *e)
{
    const char *f[64];
    size_t fl[64];
    size_t n = split_fields(line, len, f, fl, ARRAY_SIZE(f));
    /* id parent maj:min root mountpoint options [optional...] - fstype source superopts */
    size_t sep = 6;
    while (sep < n && !(fl[sep] == 1 && f[sep][0] == '-'))
        sep++;
    if (n < 6 || sep + 2 >= n)
        return -EINVAL;
    e->id = strtoull(f[0], NULL, 10);
    e->shared = false;
    for (size_t i = 6; i < sep; i++)
        e->shared |= fl[i] > 7 && strncmp(f[i], "shared:", 7) == 0;
    e->root = unescape(f[3], fl[3]);
    e->mountpoint = unescape(f[4], fl[4]);
    e->fstype = unescape(f[sep + 1], fl[sep + 1]);
    e->source = unescape(f[sep + 2], fl[sep + 2]);
    e->superopts = sep + 3 < n ? unescape(f[sep + 3], fl[sep + 3]) : xstrdup("");
    return 0;
}

int rt_mountinfo_parse(const char *text, struct rt_mountinfo **out, size_t *n, pr_error **err)
{
    size_t cap = 16, count = 0;
    struct rt_mountinfo *v = xcalloc(cap, sizeof(*v));
    for (const char *line = text; *line;) {
        const char *end = strchrnul(line, '\n');
        if (end > line) {
            if (count == cap) {
                cap *= 2;
                v = xrealloc(v, cap * sizeof(*v));
            }
            if (parse_line(line, end - line, &v[count]) < 0) {
                rt_mountinfo_free(v, count);
                return pr_err(err, 0, "malformed mountinfo line: %.*s", (int)(end - line), line);
            }
            count++;
        }
        line = *end ? end + 1 : end;
    }
    *out = v;
    *n = count;
    return 0;
}

int rt_mountinfo_read(struct rt_mountinfo **out, size_t *n, pr_error **err)
{
    _cleanup_free_ char *text = NULL;
    int r = read_file("/proc/self/mountinfo", &text, NULL, err);
    if (r < 0)
        return r;
    return rt_mountinfo_parse(text, out, n, err);
}

void rt_mountinfo_free(struct rt_mountinfo *v, size_t n)
{
    for (size_t i = 0; v && i < n; i++) {
        free(v[i].root);
        free(v[i].mountpoint);
        free(v[i].fstype);
        free(v[i].source);
        free(v[i].superopts);
    }
    free(v);
}

static bool optlist_has(const char *have, const char *word, size_t wlen)
{
    for (const char *p = have; *p;) {
        const char *end = strchrnul(p, ',');
        if ((size_t)(end - p) == wlen && strncmp(p, word, wlen) == 0)
            return true;
        p = *end ? end + 1 : end;
    }
    return false;
}

bool rt_optlist_contains_all(const char *have, const char *want)
{
    if (!*want)
        return false;
    for (const char *p = want; *p;) {
        const char *end = strchrnul(p, ',');
        if (end > p && !optlist_has(have, p, end - p))
            return false;
        p = *end ? end + 1 : end;
    }
    return true;
}
