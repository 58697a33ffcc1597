/* SPDX-License-Identifier: Apache-2.0 */
/* podrun get nodes and describe node: kubectl's columns and layout over the v1 Node the pod
 * manager makes of this machine. */
#include "commands.h"
#include "eventview.h"
#include "json.h"
#include "pods/pods.h"
#include "util.h"

#include <time.h>

static const char *str(yajl_val v, const char *key)
{
    return YAJL_GET_STRING(json_get(v, key));
}

/* ---- a table as kubectl's tabwriter prints it: columns padded to the widest cell + 3 ---- */

struct table {
    char **cells;
    size_t cols, n;
};

static void table_add(struct table *t, char *const *row)
{
    t->cells = xrealloc(t->cells, (t->n + t->cols) * sizeof(char *));
    for (size_t i = 0; i < t->cols; i++)
        t->cells[t->n + i] = xstrdup(row[i] ? row[i] : "");
    t->n += t->cols;
}

static void table_print(struct table *t, size_t pad, const char *indent)
{
    size_t *w = xcalloc(t->cols, sizeof(size_t));
    for (size_t i = 0; i < t->n; i++)
        if (strlen(t->cells[i]) > w[i % t->cols])
            w[i % t->cols] = strlen(t->cells[i]);
    for (size_t i = 0; i < t->n; i++) {
        if (i % t->cols == 0)
            fputs(indent, stdout);
        if (i % t->cols == t->cols - 1)
            printf("%s\n", t->cells[i]);
        else
            printf("%-*s", (int)(w[i % t->cols] + pad), t->cells[i]);
    }
    for (size_t i = 0; i < t->n; i++)
        free(t->cells[i]);
    free(t->cells);
    free(w);
}

/* ---- get nodes ---- */

static void age(const char *rfc3339, char buf[32])
{
    struct tm tm = {0};
    long long since = (long long)time(NULL);
    if (rfc3339 && strptime(rfc3339, "%Y-%m-%dT%H:%M:%SZ", &tm))
        since = (long long)timegm(&tm);
    human_duration(since, buf);
}

/* kubectl's ROLES: node-role.kubernetes.io/ROLE labels and kubernetes.io/role, sorted. */
static char *roles(yajl_val labels)
{
    _cleanup_strv_ char **v = NULL;
    for (size_t i = 0; YAJL_IS_OBJECT(labels) && i < labels->u.object.len; i++) {
        const char *k = labels->u.object.keys[i];
        const char *val = YAJL_GET_STRING(labels->u.object.values[i]);
        if (has_prefix(k, "node-role.kubernetes.io/") && k[24])
            strv_extend(&v, k + 24);
        else if (streq(k, "kubernetes.io/role") && val && *val)
            strv_extend(&v, val);
    }
    if (!v)
        return xstrdup("<none>");
    size_t n = strv_length(v);
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && strcmp(v[j - 1], v[j]) > 0; j--) {
            char *t = v[j];
            v[j] = v[j - 1];
            v[j - 1] = t;
        }
    char *out = xstrdup("");
    for (size_t i = 0; i < n; i++) {
        if (i && streq(v[i], v[i - 1]))
            continue;
        char *more = xasprintf("%s%s%s", out, *out ? "," : "", v[i]);
        free(out);
        out = more;
    }
    return out;
}

static const char *ready(yajl_val node)
{
    yajl_val conds = json_get(json_get(node, "status"), "conditions");
    for (size_t i = 0; i < json_array_len(conds); i++) {
        yajl_val c = json_array_at(conds, i);
        if (streq(str(c, "type") ?: "", "Ready"))
            return streq(str(c, "status") ?: "", "True") ? "Ready" : "NotReady";
    }
    return "Unknown";
}

static const char *address(yajl_val node, const char *type)
{
    yajl_val a = json_get(json_get(node, "status"), "addresses");
    for (size_t i = 0; i < json_array_len(a); i++)
        if (streq(str(json_array_at(a, i), "type") ?: "", type))
            return str(json_array_at(a, i), "address");
    return NULL;
}

static int print_object(yajl_val node, bool list, bool yaml, pr_error **err)
{
    _cleanup_gen_ yajl_gen g = json_gen_new(!yaml);
    if (list) {
        jg_map_open(g);
        jg_key_str(g, "apiVersion", "v1");
        jg_key(g, "items");
        jg_array_open(g);
        if (node)
            jg_value(g, node);
        jg_array_close(g);
        jg_key_str(g, "kind", "List");
        jg_key(g, "metadata");
        jg_map_open(g);
        jg_key_str(g, "resourceVersion", "");
        jg_map_close(g);
        jg_map_close(g);
    } else {
        jg_value(g, node);
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
    int r = json_parse(text, "the node", &tree, err);
    if (r == 0 && (r = kube_yaml_emit(tree, &out, &len, err)) == 0)
        fwrite(out, 1, len, stdout);
    return r;
}

static int load_node(struct podrun_global *g, yajl_val *node, pr_error **err)
{
    struct pods_manager *m = NULL;
    int r = open_manager_unlocked(g, &m, err);
    if (r < 0)
        return r;
    r = pods_node_object(m, node, err);
    pods_manager_close(m);
    return r;
}

int get_nodes(struct podrun_global *g, const char *name, const char *selector, const char *out,
              pr_error **err)
{
    _cleanup_(kube_selector_clear) struct kube_selector sel = {0};
    int r;
    if (selector && (r = kube_selector_parse(selector, &sel, err)) < 0)
        return pr_err_prefix(err, "-l \"%s\"", selector);
    _cleanup_json_ yajl_val node = NULL;
    if ((r = load_node(g, &node, err)) < 0)
        return r;
    yajl_val md = json_get(node, "metadata");
    const char *node_name = str(md, "name") ?: "";
    if (name && !streq(name, node_name))
        return pr_err_code(err, ENOENT, "nodes \"%s\" not found", name);
    bool shown = !selector || kube_selector_matches(&sel, json_get(md, "labels"));
    if (out && (streq(out, "json") || streq(out, "yaml")))
        return print_object(shown ? node : NULL, !name, streq(out, "yaml"), err);
    if (!shown) {
        fprintf(stderr, "No resources found\n");
        return 0;
    }
    if (out && streq(out, "name")) {
        printf("node/%s\n", node_name);
        return 0;
    }
    bool wide = out && streq(out, "wide");
    char a[32];
    age(str(md, "creationTimestamp"), a);
    _cleanup_free_ char *rl = roles(json_get(md, "labels"));
    yajl_val info = json_get(json_get(node, "status"), "nodeInfo");
    struct table t = {.cols = wide ? 10 : 5};
    char *const head[] = {"NAME",           "STATUS",           "ROLES",       "AGE",
                          "VERSION",        "INTERNAL-IP",      "EXTERNAL-IP", "OS-IMAGE",
                          "KERNEL-VERSION", "CONTAINER-RUNTIME"};
    const char *ext = address(node, "ExternalIP"), *in = address(node, "InternalIP");
    char *const row[] = {(char *)node_name,
                         (char *)ready(node),
                         rl,
                         a,
                         (char *)(str(info, "kubeletVersion") ?: ""),
                         (char *)(in ? in : "<none>"),
                         (char *)(ext ? ext : "<none>"),
                         (char *)(str(info, "osImage") ?: ""),
                         (char *)(str(info, "kernelVersion") ?: ""),
                         (char *)(str(info, "containerRuntimeVersion") ?: "")};
    table_add(&t, head);
    table_add(&t, row);
    table_print(&t, 3, "");
    return 0;
}

/* ---- describe node ---- */

static void print_map(const char *label, yajl_val m, const char *sep)
{
    printf("%-20s", label);
    if (!YAJL_IS_OBJECT(m) || !m->u.object.len) {
        printf("<none>\n");
        return;
    }
    for (size_t i = 0; i < m->u.object.len; i++)
        printf("%*s%s%s%s\n", i ? 20 : 0, "", m->u.object.keys[i], sep,
               YAJL_GET_STRING(m->u.object.values[i]) ?: "");
}

static void print_resources(const char *label, yajl_val res)
{
    printf("%s:\n", label);
    size_t w = 0;
    for (size_t i = 0; YAJL_IS_OBJECT(res) && i < res->u.object.len; i++)
        if (strlen(res->u.object.keys[i]) + 1 > w)
            w = strlen(res->u.object.keys[i]) + 1;
    for (size_t i = 0; YAJL_IS_OBJECT(res) && i < res->u.object.len; i++) {
        _cleanup_free_ char *k = xasprintf("%s:", res->u.object.keys[i]);
        printf("  %-*s%s\n", (int)w + 2, k, YAJL_GET_STRING(res->u.object.values[i]) ?: "");
    }
}

/* "100m (5%)": kubectl's share of allocatable, truncated to a whole percent. */
static char *share(int64_t v, int64_t of, bool cpu)
{
    _cleanup_free_ char *q = cpu ? pods_cpu_text(v) : pods_bytes_text(v);
    return xasprintf("%s (%lld%%)", q, of > 0 ? (long long)(v * 100 / of) : 0LL);
}

static void print_pods(struct pods_node_pod *pods, size_t n, const struct pods_node_resources *a)
{
    size_t live = 0;
    for (size_t i = 0; i < n; i++)
        live += !pods[i].terminated && pods[i].recorded;
    printf("%-30s(%zu in total)\n", "Non-terminated Pods:", live);
    struct table t = {.cols = 7};
    char *const head[] = {"Namespace",       "Name",          "CPU Requests", "CPU Limits",
                          "Memory Requests", "Memory Limits", "Age"};
    char *const dash[] = {"---------",       "----",          "------------", "----------",
                          "---------------", "-------------", "---"};
    table_add(&t, head);
    table_add(&t, dash);
    int64_t sum[4] = {0, 0, 0, 0};
    for (size_t i = 0; i < n; i++) {
        if (pods[i].terminated || !pods[i].recorded)
            continue;
        const struct kube_compute *c = &pods[i].compute;
        int64_t v[4] = {c->cpu_request, c->has_cpu_limit ? c->cpu_limit : 0, c->memory_request,
                        c->has_memory_limit ? c->memory_limit : 0};
        _cleanup_free_ char *cr = share(v[0], a->cpu, true), *cl = share(v[1], a->cpu, true),
                            *mr = share(v[2], a->memory, false),
                            *ml = share(v[3], a->memory, false);
        for (int k = 0; k < 4; k++)
            sum[k] += v[k];
        char ag[32], ts[32];
        time_t tt = (time_t)pods[i].created;
        struct tm tm;
        gmtime_r(&tt, &tm);
        strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
        age(ts, ag);
        char *const row[] = {pods[i].ns, pods[i].name, cr, cl, mr, ml, ag};
        table_add(&t, row);
    }
    table_print(&t, 2, "  ");
    printf("Allocated resources:\n  (Total limits may be over 100 percent, i.e., "
           "overcommitted.)\n");
    struct table u = {.cols = 3};
    char *const uh[] = {"Resource", "Requests", "Limits"};
    char *const ud[] = {"--------", "--------", "------"};
    table_add(&u, uh);
    table_add(&u, ud);
    _cleanup_free_ char *cr = share(sum[0], a->cpu, true), *cl = share(sum[1], a->cpu, true),
                        *mr = share(sum[2], a->memory, false),
                        *ml = share(sum[3], a->memory, false);
    char *const cpu[] = {"cpu", cr, cl}, *const mem[] = {"memory", mr, ml},
                *const st[] = {"ephemeral-storage", "0 (0%)", "0 (0%)"};
    table_add(&u, cpu);
    table_add(&u, mem);
    table_add(&u, st);
    for (size_t i = 0; i < a->n_huge; i++) {
        _cleanup_free_ char *size = pods_bytes_text(a->huge_size[i]);
        _cleanup_free_ char *name = xasprintf("hugepages-%s", size);
        char *const h[] = {name, "0 (0%)", "0 (0%)"};
        table_add(&u, h);
    }
    /* The table is indented by two, as kubectl's. */
    size_t w[3] = {0, 0, 0};
    for (size_t i = 0; i < u.n; i++)
        if (strlen(u.cells[i]) > w[i % 3])
            w[i % 3] = strlen(u.cells[i]);
    for (size_t i = 0; i < u.n; i += 3)
        printf("  %-*s%-*s%s\n", (int)w[0] + 2, u.cells[i], (int)w[1] + 2, u.cells[i + 1],
               u.cells[i + 2]);
    for (size_t i = 0; i < u.n; i++)
        free(u.cells[i]);
    free(u.cells);
}

int describe_node(struct podrun_global *g, const char *name, pr_error **err)
{
    struct pods_manager *m = NULL;
    int r = open_manager_unlocked(g, &m, err);
    if (r < 0)
        return r;
    _cleanup_json_ yajl_val node = NULL;
    struct pods_node_resources cap, alloc;
    struct pods_node_pod *pods = NULL;
    size_t n = 0;
    if ((r = pods_node_object(m, &node, err)) < 0 ||
        (r = pods_node_resources(m, &cap, &alloc, err)) < 0 ||
        (r = pods_node_pods(m, &pods, &n, err)) < 0) {
        pods_manager_close(m);
        return r;
    }
    pods_manager_close(m);
    yajl_val md = json_get(node, "metadata"), spec = json_get(node, "spec"),
             st = json_get(node, "status");
    const char *node_name = str(md, "name") ?: "";
    if (name && !streq(name, node_name)) {
        pods_node_pods_free(pods, n);
        return pr_err_code(err, ENOENT, "nodes \"%s\" not found", name);
    }
    char t[64];
    _cleanup_free_ char *rl = roles(json_get(md, "labels"));
    printf("%-20s%s\n", "Name:", node_name);
    printf("%-20s%s\n", "Roles:", rl);
    print_map("Labels:", json_get(md, "labels"), "=");
    print_map("Annotations:", json_get(md, "annotations"), ": ");
    human_time(str(md, "creationTimestamp"), t);
    printf("%-20s%s\n", "CreationTimestamp:", t);
    printf("%-20s%s\n", "Taints:", "<none>");
    printf("%-20s%s\n", "Unschedulable:", "false");
    printf("Conditions:\n");
    struct table ct = {.cols = 6};
    char *const ch[] = {"Type",   "Status", "LastHeartbeatTime", "LastTransitionTime",
                        "Reason", "Message"};
    char *const cd[] = {"----",   "------", "-----------------", "------------------",
                        "------", "-------"};
    table_add(&ct, ch);
    table_add(&ct, cd);
    yajl_val conds = json_get(st, "conditions");
    for (size_t i = 0; i < json_array_len(conds); i++) {
        yajl_val c = json_array_at(conds, i);
        char hb[64], tr[64];
        human_time(str(c, "lastHeartbeatTime"), hb);
        human_time(str(c, "lastTransitionTime"), tr);
        char *const row[] = {
            (char *)(str(c, "type") ?: ""),   (char *)(str(c, "status") ?: ""), hb, tr,
            (char *)(str(c, "reason") ?: ""), (char *)(str(c, "message") ?: "")};
        table_add(&ct, row);
    }
    /* Indented by two, as kubectl's. */
    size_t w[6] = {0};
    for (size_t i = 0; i < ct.n; i++)
        if (strlen(ct.cells[i]) > w[i % 6])
            w[i % 6] = strlen(ct.cells[i]);
    for (size_t i = 0; i < ct.n; i += 6) {
        printf(" ");
        for (size_t c = 0; c < 5; c++)
            printf(" %-*s", (int)w[c] + 1, ct.cells[i + c]);
        printf(" %s\n", ct.cells[i + 5]);
    }
    for (size_t i = 0; i < ct.n; i++)
        free(ct.cells[i]);
    free(ct.cells);
    printf("Addresses:\n");
    yajl_val addrs = json_get(st, "addresses");
    for (size_t i = 0; i < json_array_len(addrs); i++) {
        yajl_val a = json_array_at(addrs, i);
        _cleanup_free_ char *k = xasprintf("%s:", str(a, "type") ?: "");
        printf("  %-12s %s\n", k, str(a, "address") ?: "");
    }
    print_resources("Capacity", json_get(st, "capacity"));
    print_resources("Allocatable", json_get(st, "allocatable"));
    yajl_val info = json_get(st, "nodeInfo");
    static const char *const si[][2] = {
        {"Machine ID:", "machineID"},
        {"System UUID:", "systemUUID"},
        {"Boot ID:", "bootID"},
        {"Kernel Version:", "kernelVersion"},
        {"OS Image:", "osImage"},
        {"Operating System:", "operatingSystem"},
        {"Architecture:", "architecture"},
        {"Container Runtime Version:", "containerRuntimeVersion"},
        {"Kubelet Version:", "kubeletVersion"},
        {"Kube-Proxy Version:", "kubeProxyVersion"},
    };
    printf("System Info:\n");
    for (size_t i = 0; i < ARRAY_SIZE(si); i++)
        printf("  %-28s%s\n", si[i][0], str(info, si[i][1]) ?: "");
    if (str(spec, "podCIDR")) {
        printf("%-30s%s\n", "PodCIDR:", str(spec, "podCIDR"));
        printf("%-30s%s\n", "PodCIDRs:", str(spec, "podCIDR"));
    }
    print_pods(pods, n, &alloc);
    pods_node_pods_free(pods, n);
    /* podrun keeps no event history for the node. */
    printf("%-20s%s\n", "Events:", "<none>");
    return 0;
}
