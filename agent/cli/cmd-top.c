/* SPDX-License-Identifier: Apache-2.0 */
/* podrun top pod|node: kubectl's columns from the cgroups' counters. kubectl gets a rate from
 * metrics-server, which scrapes every 15 s; podrun has no daemon, so it reads every counter
 * twice, TOP_WINDOW_MS apart, and shows the CPU used in between (memory is the second
 * sample's working set: usage minus inactive file pages, as metrics-server reports it). */
#include "commands.h"
#include "json.h"
#include "pods/pods.h"
#include "util.h"

#include <getopt.h>
#include <time.h>

#define TOP_WINDOW_MS 1000

#define USAGE                                                                                      \
    "usage: podrun top pod [NAME] [-n NS|-A] [-l SELECTOR] [--containers] [--no-headers] | "       \
    "top node [NAME] [--no-headers]"

struct sample {
    char *ns, *pod, *container, *uid;
    struct pods_usage a, b;
    bool ok;
};

struct samples {
    struct sample *v;
    size_t n;
};

static void samples_clear(struct samples *s)
{
    for (size_t i = 0; i < s->n; i++) {
        free(s->v[i].ns);
        free(s->v[i].pod);
        free(s->v[i].container);
        free(s->v[i].uid);
    }
    free(s->v);
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void sleep_window(void)
{
    struct timespec ts = {TOP_WINDOW_MS / 1000, (TOP_WINDOW_MS % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

static long long millicores(const struct pods_usage *a, const struct pods_usage *b, uint64_t window)
{
    uint64_t used = b->cpu_ns > a->cpu_ns ? b->cpu_ns - a->cpu_ns : 0;
    return window ? (long long)(used * 1000 / window) : 0;
}

static bool selected(const struct pods_entry *e, void *sel)
{
    return kube_selector_matches(sel, json_get(json_get(e->object, "metadata"), "labels"));
}

static int sample_all(struct podrun_global *g, struct samples *s, bool second, pr_error **err)
{
    struct pods_manager *m = NULL;
    int r = open_manager_unlocked(g, &m, err);
    if (r < 0)
        return r;
    for (size_t i = 0; i < s->n; i++) {
        struct sample *x = &s->v[i];
        _cleanup_error_ pr_error *e = NULL;
        if (second && !x->ok)
            continue;
        x->ok = pods_pod_usage(m, x->uid, x->container, second ? &x->b : &x->a, &e) == 0;
    }
    pods_manager_close(m);
    return 0;
}

static int top_pods(struct podrun_global *g, const char *ns, bool all, const char *name,
                    const char *selector, bool containers, bool headers, pr_error **err)
{
    _cleanup_(kube_selector_clear) struct kube_selector sel = {0};
    int r;
    if (selector && (r = kube_selector_parse(selector, &sel, err)) < 0)
        return pr_err_prefix(err, "-l \"%s\"", selector);
    struct pods_manager *m = NULL;
    if ((r = open_manager_unlocked(g, &m, err)) < 0)
        return r;
    struct pods_list l = {0};
    r = pods_list(m, "pods", all ? NULL : ns, name, &l, err);
    pods_manager_close(m);
    if (r < 0) {
        pods_list_clear(&l);
        return r;
    }
    if (selector)
        pods_list_keep(&l, selected, &sel);
    struct samples s = {0};
    for (size_t i = 0; i < l.n; i++) {
        yajl_val cs = json_get(json_get(l.v[i].object, "spec"), "containers");
        size_t n = containers ? json_array_len(cs) : 1;
        for (size_t j = 0; j < n; j++) {
            const char *c =
                containers ? YAJL_GET_STRING(json_get(json_array_at(cs, j), "name")) : NULL;
            if (containers && !c)
                continue;
            s.v = xrealloc(s.v, (s.n + 1) * sizeof(*s.v));
            s.v[s.n++] = (struct sample){.ns = xstrdup(l.v[i].ns),
                                         .pod = xstrdup(l.v[i].name),
                                         .container = c ? xstrdup(c) : NULL,
                                         .uid = xstrdup(l.v[i].uid)};
        }
    }
    pods_list_clear(&l);
    uint64_t t0 = now_ns();
    if ((r = sample_all(g, &s, false, err)) == 0) {
        sleep_window();
        r = sample_all(g, &s, true, err);
    }
    uint64_t window = now_ns() - t0;
    size_t shown = 0;
    for (size_t i = 0; r == 0 && i < s.n; i++)
        shown += s.v[i].ok;
    if (r == 0 && name && !shown)
        r = pr_err_code(err, ENOENT, "Metrics not available for pod %s/%s", ns, name);
    else if (r == 0 && !shown)
        fprintf(stderr, all ? "No resources found\n" : "No resources found in %s namespace.\n", ns);
    if (r == 0 && shown) {
        if (headers) {
            if (all)
                printf("%-16s ", "NAMESPACE");
            if (containers)
                printf("%-24s ", "POD");
            printf("%-24s %-11s %s\n", "NAME", "CPU(cores)", "MEMORY(bytes)");
        }
        for (size_t i = 0; i < s.n; i++) {
            const struct sample *x = &s.v[i];
            if (!x->ok)
                continue;
            char cpu[32], mem[32];
            snprintf(cpu, sizeof(cpu), "%lldm", millicores(&x->a, &x->b, window));
            snprintf(mem, sizeof(mem), "%lluMi",
                     (unsigned long long)(x->b.memory_bytes / (1024 * 1024)));
            if (all)
                printf("%-16s ", x->ns);
            if (containers)
                printf("%-24s ", x->pod);
            printf("%-24s %-11s %s\n", containers ? x->container : x->pod, cpu, mem);
        }
    }
    samples_clear(&s);
    return r;
}

static int top_node(struct podrun_global *g, const char *name, bool headers, pr_error **err)
{
    struct pods_manager *m = NULL;
    int r = open_manager_unlocked(g, &m, err);
    if (r < 0)
        return r;
    _cleanup_json_ yajl_val node = NULL;
    struct pods_node_resources cap, alloc;
    if ((r = pods_node_object(m, &node, err)) < 0 ||
        (r = pods_node_resources(m, &cap, &alloc, err)) < 0) {
        pods_manager_close(m);
        return r;
    }
    pods_manager_close(m);
    const char *node_name = YAJL_GET_STRING(json_get(json_get(node, "metadata"), "name")) ?: "";
    if (name && !streq(name, node_name))
        return pr_err_code(err, ENOENT, "nodes \"%s\" not found", name);
    struct pods_usage a, b;
    uint64_t t0 = now_ns();
    if ((r = pods_node_usage(&a, err)) < 0)
        return r;
    sleep_window();
    if ((r = pods_node_usage(&b, err)) < 0)
        return r;
    long long cpu = millicores(&a, &b, now_ns() - t0);
    long long mem = (long long)b.memory_bytes;
    char c[32], cp[16], mm[32], mp[16];
    snprintf(c, sizeof(c), "%lldm", cpu);
    snprintf(cp, sizeof(cp), "%lld%%", alloc.cpu ? cpu * 100 / alloc.cpu : 0);
    snprintf(mm, sizeof(mm), "%lldMi", mem / (1024 * 1024));
    snprintf(mp, sizeof(mp), "%lld%%", alloc.memory ? mem * 100 / alloc.memory : 0);
    int w = (int)strlen(node_name) > 4 ? (int)strlen(node_name) : 4;
    if (headers)
        printf("%-*s   %-10s   %-4s   %-13s   %s\n", w, "NAME", "CPU(cores)", "CPU%",
               "MEMORY(bytes)", "MEMORY%");
    printf("%-*s   %-10s   %-4s   %-13s   %s\n", w, node_name, c, cp, mm, mp);
    return 0;
}

int cmd_top(struct podrun_global *g, int argc, char **argv, pr_error **err)
{
    static const struct option opts[] = {
        {"namespace", required_argument, NULL, 'n'},
        {"all-namespaces", no_argument, NULL, 'A'},
        {"selector", required_argument, NULL, 'l'},
        {"containers", no_argument, NULL, 'c'},
        {"no-headers", no_argument, NULL, 'H'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *ns = "default", *selector = NULL;
    bool all = false, containers = false, headers = true;
    int c;
    while ((c = getopt_long(argc, argv, "n:Al:h", opts, NULL)) != -1) {
        switch (c) {
        case 'n':
            ns = optarg;
            break;
        case 'A':
            all = true;
            break;
        case 'l':
            selector = optarg;
            break;
        case 'c':
            containers = true;
            break;
        case 'H':
            headers = false;
            break;
        case 'h':
            printf("%s\n", USAGE);
            return 0;
        default:
            return pr_err(err, 0, USAGE);
        }
    }
    if (argc - optind < 1 || argc - optind > 2)
        return pr_err(err, 0, USAGE);
    const char *what = argv[optind], *name = argv[optind + 1];
    const char *res = pods_resource_name(what);
    if (res && streq(res, "pods")) {
        if (all && name)
            return pr_err(err, 0, "a resource cannot be retrieved by name across all namespaces");
        if (selector && name)
            return pr_err(err, 0, "name cannot be provided when a selector is specified");
        return top_pods(g, ns, all, name, selector, containers, headers, err);
    }
    if (res && streq(res, "nodes")) {
        if (containers || selector || all)
            return pr_err(err, 0, "top node: --containers, -l and -A are options of top pod");
        return top_node(g, name, headers, err);
    }
    return pr_err(err, 0, "top: unknown resource \"%s\" (pod or node)", what);
}
