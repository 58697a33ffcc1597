/* SPDX-License-Identifier: Apache-2.0 */
#include "eventview.h"
#include "podview.h"
#include "util.h"

#include <stdlib.h>
#include <time.h>

/* kubectl's time: "Mon, 02 Jan 2006 15:04:05 -0700", local time. */
void human_time(const char *rfc3339, char buf[64])
{
    struct tm tm = {0};
    if (!rfc3339 || !strptime(rfc3339, "%Y-%m-%dT%H:%M:%SZ", &tm)) {
        snprintf(buf, 64, "%s", rfc3339 ? rfc3339 : "<unknown>");
        return;
    }
    time_t t = timegm(&tm);
    localtime_r(&t, &tm);
    strftime(buf, 64, "%a, %d %b %Y %H:%M:%S %z", &tm);
}

void human_duration(long long since, char buf[32])
{
    long long s = (long long)time(NULL) - since;
    long long m = s / 60, h = s / 3600, d = h / 24;
    if (s < 0)
        snprintf(buf, 32, "0s");
    else if (s < 120)
        snprintf(buf, 32, "%llds", s);
    else if (m < 10)
        snprintf(buf, 32, s % 60 ? "%lldm%llds" : "%lldm", m, s % 60);
    else if (m < 180)
        snprintf(buf, 32, "%lldm", m);
    else if (h < 8)
        snprintf(buf, 32, m % 60 ? "%lldh%lldm" : "%lldh", h, m % 60);
    else if (h < 48)
        snprintf(buf, 32, "%lldh", h);
    else if (h < 24 * 8)
        snprintf(buf, 32, h % 24 ? "%lldd%lldh" : "%lldd", d, h % 24);
    else if (h < 24 * 365 * 2)
        snprintf(buf, 32, "%lldd", d);
    else
        snprintf(buf, 32, "%lldy%lldd", d / 365, d % 365);
}

static long long secs(uint64_t usec)
{
    return (long long)(usec / 1000000u);
}

char *eventview_name(const struct pods_event *e)
{
    return xasprintf("%s.%llx", e->name, (unsigned long long)e->e.first_usec * 1000u);
}

char *eventview_object(const struct pods_event *e)
{
    if (!e->kind)
        return xasprintf("pod/%s", e->name);
    _cleanup_free_ char *k = xstrdup(e->kind);
    for (char *c = k; *c; c++)
        *c = (char)(*c >= 'A' && *c <= 'Z' ? *c - 'A' + 'a' : *c);
    return xasprintf("%s/%s", k, e->name);
}

static char *node_name(void)
{
    char node[256] = "";
    gethostname(node, sizeof(node) - 1);
    return xstrdup(node);
}

static const char *api_version(const char *kind)
{
    if (!kind)
        return "v1";
    if (streq(kind, "Job") || streq(kind, "CronJob"))
        return "batch/v1";
    if (streq(kind, "HorizontalPodAutoscaler"))
        return "autoscaling/v2";
    return "apps/v1";
}

static bool from_kubelet(const struct pods_event *e)
{
    return streq(e->e.component, "kubelet");
}

void eventview_gen(yajl_gen g, const struct pods_event *e)
{
    _cleanup_free_ char *name = eventview_name(e), *node = node_name();
    char first[32], last[32];
    podview_rfc3339(secs(e->e.first_usec), first);
    podview_rfc3339(secs(e->e.last_usec), last);
    jg_map_open(g);
    jg_key_str(g, "apiVersion", "v1");
    jg_key_uint(g, "count", e->e.count);
    jg_key(g, "eventTime");
    yajl_gen_null(g);
    jg_key_str(g, "firstTimestamp", first);
    jg_key(g, "involvedObject");
    jg_map_open(g);
    jg_key_str(g, "apiVersion", api_version(e->kind));
    jg_key_str(g, "fieldPath", e->e.field_path);
    jg_key_str(g, "kind", e->kind ? e->kind : "Pod");
    jg_key_str(g, "name", e->name);
    jg_key_str(g, "namespace", e->ns);
    jg_key_str(g, "uid", e->uid);
    jg_map_close(g);
    jg_key_str(g, "kind", "Event");
    jg_key_str(g, "lastTimestamp", last);
    jg_key_str(g, "message", e->e.message);
    jg_key(g, "metadata");
    jg_map_open(g);
    jg_key_str(g, "creationTimestamp", first);
    jg_key_str(g, "name", name);
    jg_key_str(g, "namespace", e->ns);
    jg_map_close(g);
    jg_key_str(g, "reason", e->e.reason);
    jg_key_str(g, "reportingComponent", e->e.component);
    jg_key_str(g, "reportingInstance", from_kubelet(e) ? node : "");
    jg_key(g, "source");
    jg_map_open(g);
    jg_key_str(g, "component", e->e.component);
    if (from_kubelet(e))
        jg_key_str(g, "host", node);
    jg_map_close(g);
    jg_key_str(g, "type", e->e.type);
    jg_map_close(g);
}

/* Rows of cells printed as Go's tabwriter prints them: each column as wide as its widest cell
 * plus padding, the last one as it is. */
struct table {
    char **cells;
    size_t cols, rows;
};

static void table_add(struct table *t, char **row)
{
    t->cells = xrealloc(t->cells, (t->rows + 1) * t->cols * sizeof(char *));
    for (size_t i = 0; i < t->cols; i++)
        t->cells[t->rows * t->cols + i] = xstrdup(row[i] ? row[i] : "");
    t->rows++;
}

static void table_print(struct table *t, const char *indent, int padding)
{
    size_t *w = xcalloc(t->cols, sizeof(size_t));
    for (size_t r = 0; r < t->rows; r++)
        for (size_t c = 0; c < t->cols; c++) {
            size_t l = strlen(t->cells[r * t->cols + c]);
            w[c] = l > w[c] ? l : w[c];
        }
    for (size_t r = 0; r < t->rows; r++) {
        fputs(indent, stdout);
        for (size_t c = 0; c < t->cols; c++) {
            const char *s = t->cells[r * t->cols + c];
            if (c + 1 < t->cols)
                printf("%-*s", (int)(w[c] + (size_t)padding), s);
            else
                printf("%s\n", s);
        }
    }
    for (size_t i = 0; i < t->rows * t->cols; i++)
        free(t->cells[i]);
    free(t->cells);
    free(w);
}

/* The message on one line, as kubectl trims it. */
static char *one_line(const char *m)
{
    char *s = xstrdup(m);
    size_t n = strlen(s);
    while (n && (s[n - 1] == '\n' || s[n - 1] == ' ' || s[n - 1] == '\t'))
        s[--n] = '\0';
    return s;
}

void eventview_table(const struct pods_events *l, bool all, bool wide)
{
    static const char *const head[] = {"NAMESPACE",  "LAST SEEN", "TYPE",   "REASON",
                                       "OBJECT",     "SUBOBJECT", "SOURCE", "MESSAGE",
                                       "FIRST SEEN", "COUNT",     "NAME"};
    /* Which of head[] are shown. */
    bool shown[ARRAY_SIZE(head)] = {all,  true, true, true, true, wide,
                                    wide, true, wide, wide, wide};
    struct table t = {0};
    for (size_t i = 0; i < ARRAY_SIZE(head); i++)
        t.cols += shown[i];
    char *row[ARRAY_SIZE(head)];
    size_t n = 0;
    for (size_t i = 0; i < ARRAY_SIZE(head); i++)
        if (shown[i])
            row[n++] = (char *)head[i];
    table_add(&t, row);
    _cleanup_free_ char *node = node_name();
    for (size_t i = 0; i < l->n; i++) {
        const struct pods_event *e = &l->v[i];
        char last[32], first[32], count[24];
        human_duration(secs(e->e.last_usec), last);
        human_duration(secs(e->e.first_usec), first);
        snprintf(count, sizeof(count), "%u", e->e.count);
        _cleanup_free_ char *object = eventview_object(e);
        _cleanup_free_ char *source =
            from_kubelet(e) ? xasprintf("%s, %s", e->e.component, node) : xstrdup(e->e.component);
        _cleanup_free_ char *msg = one_line(e->e.message), *name = eventview_name(e);
        char *cells[] = {e->ns,  last, e->e.type, e->e.reason, object, e->e.field_path,
                         source, msg,  first,     count,       name};
        n = 0;
        for (size_t j = 0; j < ARRAY_SIZE(head); j++)
            if (shown[j])
                row[n++] = cells[j];
        table_add(&t, row);
    }
    table_print(&t, "", 3);
}

static int by_last(const void *a, const void *b)
{
    const struct pods_event *x = *(const struct pods_event *const *)a;
    const struct pods_event *y = *(const struct pods_event *const *)b;
    if (x->e.last_usec != y->e.last_usec)
        return x->e.last_usec < y->e.last_usec ? -1 : 1;
    return x->e.first_usec < y->e.first_usec ? -1 : x->e.first_usec > y->e.first_usec;
}

void eventview_describe(const struct pods_events *l, const char *uid)
{
    eventview_describe_width(l, uid, 29);
}

void eventview_describe_width(const struct pods_events *l, const char *uid, int none_width)
{
    const struct pods_event **mine = xcalloc(l->n + 1, sizeof(*mine));
    size_t n = 0;
    for (size_t i = 0; i < l->n; i++)
        if (streq(l->v[i].uid, uid))
            mine[n++] = &l->v[i];
    if (!n) {
        printf("%-*s%s\n", none_width, "Events:", "<none>");
        free(mine);
        return;
    }
    qsort(mine, n, sizeof(*mine), by_last);
    printf("Events:\n");
    struct table t = {.cols = 5};
    char *head[] = {"Type", "Reason", "Age", "From", "Message"};
    char *dash[] = {"----", "------", "----", "----", "-------"};
    table_add(&t, head);
    table_add(&t, dash);
    for (size_t i = 0; i < n; i++) {
        const struct pods_event *e = mine[i];
        char last[32], first[32];
        human_duration(secs(e->e.last_usec), last);
        human_duration(secs(e->e.first_usec), first);
        _cleanup_free_ char *age = e->e.count > 1
                                       ? xasprintf("%s (x%u over %s)", last, e->e.count, first)
                                       : xstrdup(first);
        _cleanup_free_ char *msg = one_line(e->e.message);
        char *row[] = {e->e.type, e->e.reason, age, e->e.component, msg};
        table_add(&t, row);
    }
    table_print(&t, "  ", 2);
    free(mine);
}
