/* SPDX-License-Identifier: Apache-2.0 */
/* podrun get: kubectl's tables (and -o name|json) over the pod manager's objects. */
#include "commands.h"
#include "eventview.h"
#include "json.h"
#include "podview.h"
#include "pods/pods.h"
#include "table.h"
#include "util.h"

#include <getopt.h>
#include <time.h>

static void age(long long created, char buf[32])
{
    human_duration(created, buf);
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

/* The objects as the API server returns them, as JSON or kubectl's YAML: one by name, else
 * a List. */
static int print_objects(const char *resource, const struct pods_list *l, bool single, bool yaml,
                         pr_error **err)
{
    _cleanup_gen_ yajl_gen g = json_gen_new(!yaml);
    if (single) {
        podview_gen(g, resource, &l->v[0]);
    } else {
        jg_map_open(g);
        jg_key_str(g, "apiVersion", "v1");
        jg_key(g, "items");
        jg_array_open(g);
        for (size_t i = 0; i < l->n; i++)
            podview_gen(g, resource, &l->v[i]);
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
        fwrite(buf, 1, len, stdout);
        if (len && buf[len - 1] != '\n')
            putchar('\n');
        return 0;
    }
    _cleanup_free_ char *text = xstrndup(buf, len), *out = NULL;
    _cleanup_json_ yajl_val tree = NULL;
    int r = json_parse(text, "the objects", &tree, err);
    if (r == 0 && (r = kube_yaml_emit(tree, &out, &len, err)) == 0)
        fwrite(out, 1, len, stdout);
    return r;
}

static int64_t status_int(const struct pods_entry *e, const char *key)
{
    yajl_val v = json_get(e->status, key);
    return v && YAJL_IS_INTEGER(v) ? YAJL_GET_INTEGER(v) : 0;
}

/* CONTAINERS and IMAGES of a workload's template, comma-separated. */
static void template_cells(table *t, yajl_val obj)
{
    yajl_val cs =
        json_get(json_get(json_get(json_get(obj, "spec"), "template"), "spec"), "containers");
    const char *keys[] = {"name", "image"};
    for (size_t k = 0; k < 2; k++) {
        _cleanup_free_ char *cell = xstrdup("");
        for (size_t i = 0; i < json_array_len(cs); i++) {
            const char *v = YAJL_GET_STRING(json_get(json_array_at(cs, i), keys[k]));
            char *more = xasprintf("%s%s%s", cell, i ? "," : "", v ? v : "");
            free(cell);
            cell = more;
        }
        table_cell(t, cell);
    }
    _cleanup_free_ char *sel = podview_selector_text(json_get(json_get(obj, "spec"), "selector"));
    table_cell(t, sel);
}

static void print_workloads(const char *resource, const struct pods_list *l, bool all, bool wide)
{
    bool deploy = streq(resource, "deployments");
    _cleanup_table_ table *t = table_new();
    table_row(t);
    if (all)
        table_cell(t, "NAMESPACE");
    const char *dh[] = {"NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"};
    const char *rh[] = {"NAME", "DESIRED", "CURRENT", "READY", "AGE"};
    for (size_t i = 0; i < 5; i++)
        table_cell(t, deploy ? dh[i] : rh[i]);
    const char *w[] = {"CONTAINERS", "IMAGES", "SELECTOR"};
    for (size_t i = 0; wide && i < ARRAY_SIZE(w); i++)
        table_cell(t, w[i]);
    for (size_t i = 0; i < l->n; i++) {
        const struct pods_entry *e = &l->v[i];
        yajl_val rv = json_get(json_get(e->object, "spec"), "replicas");
        long long want = rv && YAJL_IS_INTEGER(rv) ? YAJL_GET_INTEGER(rv) : 1;
        char a[32];
        age(e->created, a);
        table_row(t);
        if (all)
            table_cell(t, e->ns);
        table_cell(t, e->name);
        if (deploy) {
            table_cellf(t, "%lld/%lld", (long long)status_int(e, "readyReplicas"), want);
            table_cellf(t, "%lld", (long long)status_int(e, "updatedReplicas"));
            table_cellf(t, "%lld", (long long)status_int(e, "availableReplicas"));
        } else {
            table_cellf(t, "%lld", want);
            table_cellf(t, "%lld", (long long)status_int(e, "replicas"));
            table_cellf(t, "%lld", (long long)status_int(e, "readyReplicas"));
        }
        table_cell(t, a);
        if (wide)
            template_cells(t, e->object);
    }
    table_print(t, stdout);
}

static void print_table(const char *resource, const struct pods_list *l, bool all, bool wide)
{
    if (streq(resource, "deployments") || streq(resource, "replicasets")) {
        print_workloads(resource, l, all, wide);
        return;
    }
    bool pods = streq(resource, "pods"), cms = streq(resource, "configmaps"),
         secrets = streq(resource, "secrets"), namespaced = !streq(resource, "namespaces");
    char node[256] = "";
    gethostname(node, sizeof(node) - 1);
    _cleanup_table_ table *t = table_new();
    table_row(t);
    if (all && namespaced)
        table_cell(t, "NAMESPACE");
    table_cell(t, "NAME");
    if (pods) {
        const char *h[] = {"READY", "STATUS", "RESTARTS", "AGE"};
        for (size_t i = 0; i < ARRAY_SIZE(h); i++)
            table_cell(t, h[i]);
        const char *w[] = {"IP", "NODE", "NOMINATED NODE", "READINESS GATES"};
        for (size_t i = 0; wide && i < ARRAY_SIZE(w); i++)
            table_cell(t, w[i]);
    } else if (cms) {
        table_cell(t, "DATA");
        table_cell(t, "AGE");
    } else if (secrets) {
        table_cell(t, "TYPE");
        table_cell(t, "DATA");
        table_cell(t, "AGE");
    } else {
        table_cell(t, "STATUS");
        table_cell(t, "AGE");
    }
    for (size_t i = 0; i < l->n; i++) {
        const struct pods_entry *e = &l->v[i];
        char a[32];
        age(e->created, a);
        table_row(t);
        if (all && namespaced)
            table_cell(t, e->ns);
        table_cell(t, e->name);
        if (pods) {
            table_cellf(t, "%u/%u", e->ready, e->total);
            table_cell(t, e->phase);
            table_cellf(t, "%u", e->restarts);
            table_cell(t, a);
            if (wide) {
                table_cell(t, e->ip ? e->ip : "<none>");
                table_cell(t, e->node ? e->node : node);
                table_cell(t, "<none>");
                table_cell(t, "<none>");
            }
        } else if (cms) {
            table_cellf(t, "%zu", data_count(e->object));
            table_cell(t, a);
        } else if (secrets) {
            const char *type = YAJL_GET_STRING(json_get(e->object, "type"));
            table_cell(t, type ? type : "Opaque");
            table_cellf(t, "%zu", data_count(e->object));
            table_cell(t, a);
        } else {
            table_cell(t, "Active");
            table_cell(t, a);
        }
    }
    table_print(t, stdout);
}

#define USAGE "usage: podrun get RESOURCE [NAME] [-n NS|-A] [-l SELECTOR] [-o wide|json|yaml|name]"

struct event_filter {
    const char *name;
    const struct kube_selector *sel;
};

static bool event_selected(const struct pods_event *e, void *data)
{
    const struct event_filter *f = data;
    _cleanup_free_ char *name = eventview_name(e);
    /* Events carry no labels: a selector keeps them only when it matches none. */
    return (!f->name || streq(name, f->name)) && (!f->sel || kube_selector_matches(f->sel, NULL));
}

/* get events: the pods' events (eventview.c), by NAME (POD.<hex>) or all. */
static int get_events(struct pods_manager *m, const char *ns, const char *name, const char *out,
                      const struct kube_selector *sel, pr_error **err)
{
    struct pods_events l = {0};
    int r = pods_events_list(m, ns, NULL, &l, err);
    pods_manager_close(m);
    struct event_filter f = {name, sel};
    if (r == 0)
        pods_events_keep(&l, event_selected, &f);
    if (r == 0 && name && !l.n)
        r = pr_err_code(err, ENOENT, "events \"%s\" not found", name);
    if (r < 0) {
        pods_events_clear(&l);
        return r;
    }
    bool yaml = out && streq(out, "yaml");
    if (out && (yaml || streq(out, "json"))) {
        _cleanup_gen_ yajl_gen g = json_gen_new(!yaml);
        if (name) {
            eventview_gen(g, &l.v[0]);
        } else {
            jg_map_open(g);
            jg_key_str(g, "apiVersion", "v1");
            jg_key(g, "items");
            jg_array_open(g);
            for (size_t i = 0; i < l.n; i++)
                eventview_gen(g, &l.v[i]);
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
            fwrite(buf, 1, len, stdout);
            if (len && buf[len - 1] != '\n')
                putchar('\n');
        } else {
            _cleanup_free_ char *text = xstrndup(buf, len), *y = NULL;
            _cleanup_json_ yajl_val tree = NULL;
            if ((r = json_parse(text, "the events", &tree, err)) == 0 &&
                (r = kube_yaml_emit(tree, &y, &len, err)) == 0)
                fwrite(y, 1, len, stdout);
        }
    } else if (out && streq(out, "name")) {
        for (size_t i = 0; i < l.n; i++) {
            _cleanup_free_ char *en = eventview_name(&l.v[i]);
            printf("event/%s\n", en);
        }
    } else if (!l.n) {
        if (ns)
            fprintf(stderr, "No resources found in %s namespace.\n", ns);
        else
            fprintf(stderr, "No resources found\n");
    } else {
        eventview_table(&l, ns == NULL, out && streq(out, "wide"));
    }
    pods_events_clear(&l);
    return r;
}

static bool selected(const struct pods_entry *e, void *sel)
{
    return kube_selector_matches(sel, json_get(json_get(e->object, "metadata"), "labels"));
}

int cmd_get(struct podrun_global *g, int argc, char **argv, pr_error **err)
{
    static const struct option opts[] = {
        {"namespace", required_argument, NULL, 'n'},
        {"all-namespaces", no_argument, NULL, 'A'},
        {"output", required_argument, NULL, 'o'},
        {"selector", required_argument, NULL, 'l'},
        {NULL, 0, NULL, 0},
    };
    const char *ns = NULL, *out = NULL, *selector = NULL;
    bool all = false;
    int c;
    while ((c = getopt_long(argc, argv, "n:Ao:l:", opts, NULL)) != -1) {
        if (c == 'n')
            ns = optarg;
        else if (c == 'A')
            all = true;
        else if (c == 'o')
            out = optarg;
        else if (c == 'l')
            selector = optarg;
        else
            return pr_err(err, 0, USAGE);
    }
    if (argc - optind < 1 || argc - optind > 2)
        return pr_err(err, 0, USAGE);
    const char *resource = pods_resource_name(argv[optind]);
    bool events = streq(argv[optind], "events") || streq(argv[optind], "event") ||
                  streq(argv[optind], "ev") || streq(argv[optind], "Event");
    if (!resource && !events)
        return pr_err(err, 0, "the server doesn't have a resource type \"%s\"", argv[optind]);
    const char *name = argv[optind + 1];
    if (out && !streq(out, "wide") && !streq(out, "json") && !streq(out, "yaml") &&
        !streq(out, "name"))
        return pr_err(err, 0,
                      "unable to match a printer suitable for the output format \"%s\", "
                      "allowed formats are: json,name,wide,yaml",
                      out);
    if (selector && name)
        return pr_err(err, 0, "name cannot be provided when a selector is specified");
    _cleanup_(kube_selector_clear) struct kube_selector sel = {0};
    if (selector) {
        int r = kube_selector_parse(selector, &sel, err);
        if (r < 0)
            return pr_err_prefix(err, "-l \"%s\"", selector);
    }
    if (streq(resource, "nodes"))
        return get_nodes(g, name, selector, out, err);
    if (all && name)
        return pr_err(err, 0, "a resource cannot be retrieved by name across all namespaces");
    if (!ns)
        ns = "default";
    struct pods_manager *m = NULL;
    int r = open_manager(g, false, &m, err);
    if (r < 0)
        return r;
    if (events)
        return get_events(m, all ? NULL : ns, name, out, selector ? &sel : NULL, err);
    struct pods_list l = {0};
    r = pods_list(m, resource, all ? NULL : ns, name, &l, err);
    /* A workload's status is its pods', counted now. */
    bool apps = streq(resource, "deployments") || streq(resource, "replicasets");
    for (size_t i = 0; r == 0 && apps && i < l.n; i++)
        r = pods_workload_status(m, resource, &l.v[i], &l.v[i].status, err);
    pods_manager_close(m);
    if (r < 0) {
        pods_list_clear(&l);
        return r;
    }
    if (selector)
        pods_list_keep(&l, selected, &sel);
    if (out && (streq(out, "json") || streq(out, "yaml"))) {
        r = print_objects(resource, &l, name != NULL, streq(out, "yaml"), err);
    } else if (out && streq(out, "name")) {
        _cleanup_free_ char *kind = xstrndup(resource, strlen(resource) - 1);
        for (size_t i = 0; i < l.n; i++)
            printf("%s%s/%s\n", kind, apps ? ".apps" : "", l.v[i].name);
    } else if (!l.n) {
        if (all || streq(resource, "namespaces"))
            fprintf(stderr, "No resources found\n");
        else
            fprintf(stderr, "No resources found in %s namespace.\n", ns);
    } else {
        print_table(resource, &l, all, out && streq(out, "wide"));
    }
    pods_list_clear(&l);
    return r;
}
