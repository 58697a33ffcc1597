/* SPDX-License-Identifier: Apache-2.0 */
/* podrun get: kubectl's tables (and -o name|json) over the pod manager's objects. */
#include "commands.h"
#include "json.h"
#include "podview.h"
#include "pods/pods.h"
#include "util.h"

#include <getopt.h>
#include <signal.h>
#include <time.h>

/* kubectl's HumanDuration: 45s, 2m30s, 5m, 3h20m, 10h, 4d5h, 30d, 2y40d. */
static void age(long long created, char buf[32])
{
    long long s = (long long)time(NULL) - created;
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

static size_t data_count(yajl_val obj)
{
    size_t n = 0;
    const char *fields[] = {"data", "binaryData", "stringData"};
    for (size_t i = 0; i < ARRAY_SIZE(fields); i++) {
        yajl_val d = json_get(obj, fields[i]);
        n += YAJL_IS_OBJECT(d) ? d->u.object.len : 0;
    }
    return n;
}

/* One object as JSON or kubectl's YAML text, or a List of them (single false). */
static int objects_text(const char *resource, const struct pods_entry *v, size_t n, bool single,
                        bool yaml, char **out, pr_error **err)
{
    _cleanup_gen_ yajl_gen g = json_gen_new(!yaml);
    if (single) {
        podview_gen(g, resource, &v[0]);
    } else {
        jg_map_open(g);
        jg_key_str(g, "apiVersion", "v1");
        jg_key(g, "items");
        jg_array_open(g);
        for (size_t i = 0; i < n; i++)
            podview_gen(g, resource, &v[i]);
        jg_array_close(g);
        jg_key_str(g, "kind", "List");
        jg_key(g, "metadata");
        jg_map_open(g);
        jg_key_str(g, "resourceVersion", "");
        jg_map_close(g);
        jg_map_close(g);
    }
    size_t len;
    const char *buf = jg_buf(g, &len);
    if (!yaml) {
        *out = xasprintf("%.*s%s", (int)len, buf, len && buf[len - 1] != '\n' ? "\n" : "");
        return 0;
    }
    _cleanup_free_ char *text = xstrndup(buf, len);
    _cleanup_json_ yajl_val tree = NULL;
    int r = json_parse(text, "the objects", &tree, err);
    if (r == 0 && (r = kube_yaml_emit(tree, out, &len, err)) == 0)
        return 0;
    return r;
}

struct get_opts {
    const char *resource;
    bool all, wide, json, yaml, name;
};

static void print_header(const struct get_opts *o)
{
    const char *resource = o->resource;
    if (o->all && !streq(resource, "namespaces"))
        printf("%-16s ", "NAMESPACE");
    if (streq(resource, "pods"))
        printf("%-24s %-7s %-18s %-9s %-6s%s\n", "NAME", "READY", "STATUS", "RESTARTS", "AGE",
               o->wide ? " IP               NODE             NOMINATED NODE   READINESS GATES"
                       : "");
    else if (streq(resource, "configmaps"))
        printf("%-24s %-6s %s\n", "NAME", "DATA", "AGE");
    else if (streq(resource, "secrets"))
        printf("%-24s %-24s %-6s %s\n", "NAME", "TYPE", "DATA", "AGE");
    else
        printf("%-24s %-8s %s\n", "NAME", "STATUS", "AGE");
}

/* One row of kubectl's table; age NULL leaves the AGE column out (what a watch compares). */
static char *table_row(const struct get_opts *o, const struct pods_entry *e, const char *status,
                       const char *age)
{
    const char *resource = o->resource;
    _cleanup_free_ char *ns =
        o->all && !streq(resource, "namespaces") ? xasprintf("%-16s ", e->ns) : xstrdup("");
    const char *a = age ? age : "";
    if (streq(resource, "pods")) {
        char ready[32], node[256] = "";
        snprintf(ready, sizeof(ready), "%u/%u", e->ready, e->total);
        _cleanup_free_ char *wide = NULL;
        if (o->wide) {
            gethostname(node, sizeof(node) - 1);
            wide = xasprintf(" %-16s %-16s %-16s %s", e->ip ? e->ip : "<none>", node, "<none>",
                             "<none>");
        }
        return xasprintf("%s%-24s %-7s %-18s %-9u %-6s%s\n", ns, e->name, ready,
                         status ? status : e->phase, e->restarts, a, wide ? wide : "");
    }
    if (streq(resource, "configmaps"))
        return xasprintf("%s%-24s %-6zu %s\n", ns, e->name, data_count(e->object), a);
    if (streq(resource, "secrets")) {
        const char *type = YAJL_GET_STRING(json_get(e->object, "type"));
        return xasprintf("%s%-24s %-24s %-6zu %s\n", ns, e->name, type ? type : "Opaque",
                         data_count(e->object), a);
    }
    return xasprintf("%s%-24s %-8s %s\n", ns, e->name, status ? status : "Active", a);
}

/* What a watch prints for e (status: a table's STATUS, NULL for the entry's own), and what
 * it compares to tell whether e changed (*key: the text without the AGE). */
static int entry_text(const struct get_opts *o, const struct pods_entry *e, const char *status,
                      char **text, char **key, pr_error **err)
{
    *key = NULL;
    if (o->json || o->yaml) {
        int r = objects_text(o->resource, e, 1, true, o->yaml, text, err);
        if (r == 0 && o->yaml) {
            char *doc = xasprintf("---\n%s", *text);
            free(*text);
            *text = doc;
        }
        return r;
    }
    if (o->name) {
        _cleanup_free_ char *kind = xstrndup(o->resource, strlen(o->resource) - 1);
        *text = xasprintf("%s/%s\n", kind, e->name);
        return 0;
    }
    char a[32];
    age(e->created, a);
    *text = table_row(o, e, status, a);
    *key = table_row(o, e, status, NULL);
    return 0;
}

#define USAGE                                                                                      \
    "usage: podrun get RESOURCE [NAME...] [-n NS|-A] [-l SELECTOR] [-o wide|json|yaml|name]"

static bool selected(const struct pods_entry *e, void *sel)
{
    return kube_selector_matches(sel, json_get(json_get(e->object, "metadata"), "labels"));
}

struct query {
    const char *resource, *ns; /* ns NULL: all */
    char **names;
    const struct kube_selector *sel;
};

/* The objects q asks for, in order. A name not found makes the result -ENOENT, with *err
 * telling the first one; the others are told on stderr at once (unless quiet). */
static int fetch(struct podrun_global *g, const struct query *q, bool quiet, struct pods_list *l,
                 pr_error **err)
{
    struct pods_manager *m = NULL;
    /* A watch's listings after the first do not wait out an apply or a delete: each change
     * it makes (a delete's Terminating first) shows as it happens. */
    int r = quiet ? open_manager_unlocked(g, &m, err) : open_manager(g, false, &m, err);
    if (r < 0)
        return r;
    pr_error *missing = NULL;
    for (size_t i = 0; r == 0 && i < (q->names ? strv_length(q->names) : 1); i++) {
        struct pods_list one = {0};
        pr_error *e = NULL;
        r = pods_list(m, q->resource, q->ns, q->names ? q->names[i] : NULL, &one, &e);
        cli_list_move(l, &one); /* what was listed, even before an error */
        if (r == -ENOENT && q->names) {
            if (missing && !quiet)
                fprintf(stderr, "podrun get: %s\n", e && e->msg ? e->msg : "not found");
            if (!missing)
                missing = e;
            else
                pr_error_free(e);
            r = 0;
            continue;
        }
        if (r < 0) {
            *err = e;
            break;
        }
    }
    pods_manager_close(m);
    if (r == 0 && q->sel)
        pods_list_keep(l, selected, (void *)q->sel);
    if (r == 0 && missing) {
        *err = missing;
        return -ENOENT;
    }
    pr_error_free(missing);
    return r;
}

/* ---- -w ---- */

struct seen {
    char *uid, *key;
    struct pods_list last; /* the entry as it was last, to print when it goes */
};

/* Moves e (its data; e is left empty) into a list of its own. */
static struct pods_list take_entry(struct pods_entry *e)
{
    struct pods_list l = {xmalloc(sizeof(*e)), 1};
    l.v[0] = *e;
    memset(e, 0, sizeof(*e));
    return l;
}

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static void print_header_once(const struct get_opts *o, bool *done)
{
    if (!*done && !o->json && !o->yaml && !o->name)
        print_header(o);
    *done = true;
}

/* Prints what changed between the entries seen before and l (which it takes), and remembers l. */
static int print_changes(const struct get_opts *o, struct seen **seen, size_t *n_seen,
                         struct pods_list *l, bool *header, pr_error **err)
{
    int r = 0;
    bool *kept = xcalloc(*n_seen + 1, sizeof(bool));
    for (size_t i = 0; r == 0 && i < l->n; i++) {
        struct pods_entry *e = &l->v[i];
        _cleanup_free_ char *text = NULL, *key = NULL;
        if ((r = entry_text(o, e, NULL, &text, &key, err)) < 0)
            break;
        const char *k = key ? key : text;
        size_t j = 0;
        while (j < *n_seen && !streq((*seen)[j].uid, e->uid))
            j++;
        if (j < *n_seen) {
            kept[j] = true;
            if (streq((*seen)[j].key, k))
                continue;
            free((*seen)[j].key);
            (*seen)[j].key = xstrdup(k);
            pods_list_clear(&(*seen)[j].last);
            (*seen)[j].last = take_entry(e);
        } else {
            *seen = xrealloc(*seen, (*n_seen + 1) * sizeof(**seen));
            kept = xrealloc(kept, (*n_seen + 2) * sizeof(bool));
            kept[*n_seen] = true;
            (*seen)[(*n_seen)++] = (struct seen){xstrdup(e->uid), xstrdup(k), take_entry(e)};
        }
        print_header_once(o, header);
        fputs(text, stdout);
    }
    /* What went: printed once more as it was last, a pod as Terminating, as kubectl does. */
    size_t n = 0;
    for (size_t j = 0; j < *n_seen; j++) {
        struct seen *s = &(*seen)[j];
        if (kept[j] || r < 0) {
            (*seen)[n++] = *s;
            continue;
        }
        _cleanup_free_ char *text = NULL, *key = NULL;
        if (entry_text(o, &s->last.v[0], streq(o->resource, "pods") ? "Terminating" : NULL, &text,
                       &key, err) == 0) {
            print_header_once(o, header);
            fputs(text, stdout);
        }
        pods_list_clear(&s->last);
        free(s->uid);
        free(s->key);
    }
    *n_seen = n;
    free(kept);
    pods_list_clear(l);
    fflush(stdout);
    return r;
}

/* kubectl get -w: the listing (unless watch_only), then a line (an object) for each change,
 * until interrupted. */
static int watch(struct podrun_global *g, const struct get_opts *o, const struct query *q,
                 bool watch_only, pr_error **err)
{
    struct pods_watch *w = NULL;
    struct pods_manager *m = NULL;
    int r = open_manager(g, false, &m, err);
    if (r < 0)
        return r;
    /* Armed before the first listing, so no change falls between the two. */
    r = pods_watch_open(m, q->resource, &w, err);
    pods_manager_close(m);
    if (r < 0)
        return r;
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    struct seen *seen = NULL;
    size_t n_seen = 0;
    bool header = false;
    for (bool first = true; r == 0 && !stop; first = false) {
        struct pods_list l = {0};
        if (!first && (r = pods_watch_wait(w, err)) < 0)
            break;
        r = fetch(g, q, !first, &l, err);
        if (r == -ENOENT) {
            /* A named object not there (yet): kubectl waits for it too. */
            pr_error_free(*err);
            *err = NULL;
            r = 0;
        }
        if (r == 0 && first && watch_only) {
            /* Known, not printed: only what changes from now on is. */
            for (size_t i = 0; i < l.n; i++) {
                _cleanup_free_ char *text = NULL, *key = NULL;
                if (entry_text(o, &l.v[i], NULL, &text, &key, err) < 0)
                    continue;
                seen = xrealloc(seen, (n_seen + 1) * sizeof(*seen));
                seen[n_seen++] = (struct seen){xstrdup(l.v[i].uid), xstrdup(key ? key : text),
                                               take_entry(&l.v[i])};
            }
            pods_list_clear(&l);
            continue;
        }
        if (r == 0)
            r = print_changes(o, &seen, &n_seen, &l, &header, err);
        else
            pods_list_clear(&l);
    }
    for (size_t j = 0; j < n_seen; j++) {
        pods_list_clear(&seen[j].last);
        free(seen[j].uid);
        free(seen[j].key);
    }
    free(seen);
    pods_watch_free(w);
    return r == -EINTR ? 0 : r;
}

int cmd_get(struct podrun_global *g, int argc, char **argv, pr_error **err)
{
    static const struct option opts[] = {
        {"namespace", required_argument, NULL, 'n'},
        {"all-namespaces", no_argument, NULL, 'A'},
        {"output", required_argument, NULL, 'o'},
        {"selector", required_argument, NULL, 'l'},
        {"watch", no_argument, NULL, 'w'},
        {"watch-only", no_argument, NULL, 'W'},
        {NULL, 0, NULL, 0},
    };
    const char *ns = NULL, *out = NULL, *selector = NULL;
    bool all = false, watching = false, watch_only = false;
    int c;
    while ((c = cli_getopt(argc, argv, "n:Ao:l:w", opts)) != -1) {
        if (c == 'n')
            ns = optarg;
        else if (c == 'A')
            all = true;
        else if (c == 'o')
            out = optarg;
        else if (c == 'l')
            selector = optarg;
        else if (c == 'w')
            watching = true;
        else if (c == 'W')
            watching = watch_only = true;
        else
            return pr_err(err, 0, USAGE);
    }
    const char *resource = NULL;
    _cleanup_strv_ char **names = NULL;
    int r = cli_resource_args(argc - optind, argv + optind, "get", &resource, &names, err);
    if (r < 0)
        return r;
    if (out && !streq(out, "wide") && !streq(out, "json") && !streq(out, "yaml") &&
        !streq(out, "name"))
        return pr_err(err, 0,
                      "unable to match a printer suitable for the output format \"%s\", "
                      "allowed formats are: json,name,wide,yaml",
                      out);
    if (selector && names)
        return pr_err(err, 0, "name cannot be provided when a selector is specified");
    _cleanup_(kube_selector_clear) struct kube_selector sel = {0};
    if (selector) {
        r = kube_selector_parse(selector, &sel, err);
        if (r < 0)
            return pr_err_prefix(err, "-l \"%s\"", selector);
    }
    if (all && names)
        return pr_err(err, 0, "a resource cannot be retrieved by name across all namespaces");
    if (!ns)
        ns = "default";
    struct get_opts o = {
        .resource = resource,
        .all = all,
        .wide = out && streq(out, "wide"),
        .json = out && streq(out, "json"),
        .yaml = out && streq(out, "yaml"),
        .name = out && streq(out, "name"),
    };
    struct query q = {resource, all ? NULL : ns, names, selector ? &sel : NULL};
    if (watching)
        return watch(g, &o, &q, watch_only, err);
    struct pods_list l = {0};
    r = fetch(g, &q, false, &l, err);
    if (r < 0 && r != -ENOENT) {
        pods_list_clear(&l);
        return r;
    }
    int found = r;
    r = 0;
    _cleanup_error_ pr_error *not_found = NULL;
    if (found < 0) {
        not_found = *err;
        *err = NULL;
    }
    if (o.json || o.yaml) {
        _cleanup_free_ char *text = NULL;
        bool single = names && strv_length(names) == 1;
        if (!single || l.n)
            r = objects_text(resource, l.v, l.n, single, o.yaml, &text, err);
        if (text)
            fputs(text, stdout);
    } else if (o.name) {
        _cleanup_free_ char *kind = xstrndup(resource, strlen(resource) - 1);
        for (size_t i = 0; i < l.n; i++)
            printf("%s/%s\n", kind, l.v[i].name);
    } else if (!l.n && !names) {
        if (all || streq(resource, "namespaces"))
            fprintf(stderr, "No resources found\n");
        else
            fprintf(stderr, "No resources found in %s namespace.\n", ns);
    } else if (l.n) {
        print_header(&o);
        for (size_t i = 0; i < l.n; i++) {
            char a[32];
            age(l.v[i].created, a);
            _cleanup_free_ char *row = table_row(&o, &l.v[i], NULL, a);
            fputs(row, stdout);
        }
    }
    pods_list_clear(&l);
    if (r == 0 && found < 0)
        *err = steal_pointer(&not_found);
    /* A name not found: told after what was (its error is in *err), exit status 1. */
    return r < 0 ? r : found;
}
