/* SPDX-License-Identifier: Apache-2.0 */
/* Kubernetes objects (agent/kube/): manifests to trees with limits, quantities, selectors. */
#include "kube/kube.h"
#include "json.h"
#include "tests/lib/unit.h"
#include "util.h"

#include <math.h>

static struct kube_docs parse_ok(const char *text)
{
    struct kube_docs d = {0};
    pr_error *err = NULL;
    if (kube_parse_manifest(text, strlen(text), "m.yaml", &d, &err) < 0) {
        fprintf(stderr, "# unexpected error: %s\n", err->msg);
        pr_error_free(err);
    }
    return d;
}

/* The error for a refused manifest ("" when it was accepted). */
static char *parse_err(const char *text, size_t len)
{
    struct kube_docs d = {0};
    pr_error *err = NULL;
    if (kube_parse_manifest(text, len, "m.yaml", &d, &err) == 0) {
        kube_docs_clear(&d);
        return xstrdup("");
    }
    char *m = xstrdup(err->msg);
    pr_error_free(err);
    return m;
}

static void test_scalars_resolve_as_kubernetes_does(void)
{
    struct kube_docs d = parse_ok("s: hello\n"
                                  "q: \"123\"\n"
                                  "i: 42\n"
                                  "neg: -7\n"
                                  "oct: 0755\n"
                                  "hex: 0x1F\n"
                                  "f: 1.5e3\n"
                                  "yes1: yes\n"
                                  "off: off\n"
                                  "n1: ~\n"
                                  "n2:\n"
                                  "ver: 1.2.3\n"
                                  "tagged: !!str 10\n"
                                  "big: 99999999999999999999\n"
                                  "inf: .inf\n");
    CHECK(d.n == 1);
    yajl_val v = d.n ? d.v[0] : NULL;
    CHECK_STR(YAJL_GET_STRING(json_get(v, "s")), "hello");
    CHECK_STR(YAJL_GET_STRING(json_get(v, "q")), "123");
    CHECK(YAJL_IS_INTEGER(json_get(v, "i")) && YAJL_GET_INTEGER(json_get(v, "i")) == 42);
    CHECK(YAJL_GET_INTEGER(json_get(v, "neg")) == -7);
    CHECK(YAJL_GET_INTEGER(json_get(v, "oct")) == 0755);
    CHECK(YAJL_GET_INTEGER(json_get(v, "hex")) == 31);
    CHECK(YAJL_IS_DOUBLE(json_get(v, "f")) && YAJL_GET_DOUBLE(json_get(v, "f")) == 1500.0);
    CHECK(YAJL_IS_TRUE(json_get(v, "yes1")) && YAJL_IS_FALSE(json_get(v, "off")));
    CHECK(YAJL_IS_NULL(json_get(v, "n1")) && YAJL_IS_NULL(json_get(v, "n2")));
    CHECK_STR(YAJL_GET_STRING(json_get(v, "ver")), "1.2.3");
    CHECK_STR(YAJL_GET_STRING(json_get(v, "tagged")), "10");
    CHECK(YAJL_IS_DOUBLE(json_get(v, "big")) && !YAJL_IS_INTEGER(json_get(v, "big")));
    CHECK(YAJL_IS_DOUBLE(json_get(v, "inf")) && isinf(YAJL_GET_DOUBLE(json_get(v, "inf"))));
    /* The tree is written out as JSON: YAML's number forms get JSON's text. */
    CHECK_STR(json_get(v, "oct")->u.number.r, "493");
    CHECK_STR(json_get(v, "hex")->u.number.r, "31");
    CHECK_STR(json_get(v, "f")->u.number.r, "1.5e3");
    CHECK_STR(json_get(v, "i")->u.number.r, "42");
    kube_docs_clear(&d);
}

static void test_documents_json_and_dry_run_output(void)
{
    /* What `kubectl create deployment ... --dry-run=client -o yaml` writes, then a JSON one. */
    struct kube_docs d =
        parse_ok("---\n# a comment-only document is skipped\n---\n"
                 "apiVersion: v1\nkind: Pod\nmetadata:\n"
                 "  creationTimestamp: null\n  labels:\n    run: web\n"
                 "  name: web\nspec:\n  containers:\n  - image: busybox\n"
                 "    name: web\n    resources: {}\nstatus: {}\n"
                 "---\n"
                 "{\"kind\":\"ConfigMap\",\"data\":{\"a\":\"1\",\n\t\"b\":[1,2]}}\n"
                 "...\n");
    CHECK(d.n == 2);
    if (d.n == 2) {
        CHECK_STR(YAJL_GET_STRING(json_get(d.v[0], "kind")), "Pod");
        yajl_val md = json_get(d.v[0], "metadata");
        CHECK(YAJL_IS_NULL(json_get(md, "creationTimestamp")));
        yajl_val ctrs = json_get(json_get(d.v[0], "spec"), "containers");
        CHECK(json_array_len(ctrs) == 1);
        CHECK(YAJL_IS_OBJECT(json_get(json_array_at(ctrs, 0), "resources")));
        CHECK_STR(YAJL_GET_STRING(json_get(d.v[1], "kind")), "ConfigMap");
        CHECK(json_array_len(json_get(json_get(d.v[1], "data"), "b")) == 2);
    }
    kube_docs_clear(&d);
    struct kube_docs empty = parse_ok("");
    CHECK(empty.n == 0);
}

static void test_anchors_and_merge_keys(void)
{
    struct kube_docs d = parse_ok("base: &b {cpu: 100m, memory: 64Mi}\n"
                                  "one:\n  <<: *b\n  memory: 128Mi\n"
                                  "two:\n  memory: 1Gi\n  <<: [*b]\n"
                                  "list: [*b, *b]\n");
    CHECK(d.n == 1);
    yajl_val v = d.n ? d.v[0] : NULL;
    CHECK_STR(YAJL_GET_STRING(json_get(json_get(v, "one"), "memory")), "128Mi");
    CHECK_STR(YAJL_GET_STRING(json_get(json_get(v, "one"), "cpu")), "100m");
    CHECK_STR(YAJL_GET_STRING(json_get(json_get(v, "two"), "memory")), "1Gi");
    CHECK(json_array_len(json_get(v, "list")) == 2);
    kube_docs_clear(&d);
    _cleanup_free_ char *unknown = parse_err("a: *nope\n", 9);
    CHECK(strstr(unknown, "unknown") && strstr(unknown, "m.yaml:1:"));
    /* An alias to the mapping that encloses it would never end. */
    _cleanup_free_ char *cycle = parse_err("a: &x\n  b: *x\n", 14);
    CHECK(strstr(cycle, "enclosing"));
}

static void test_refusals_name_the_place(void)
{
    _cleanup_free_ char *dup = parse_err("a: 1\nb: 2\na: 3\n", 15);
    CHECK(strstr(dup, "m.yaml:3:1") && strstr(dup, "duplicate key a"));
    _cleanup_free_ char *bad = parse_err("a: [1, 2\n", 9);
    CHECK(strstr(bad, "m.yaml:") && *bad);
    _cleanup_free_ char *tag = parse_err("a: !!python/object x\n", 21);
    CHECK(strstr(tag, "tag"));
    _cleanup_free_ char *set = parse_err("a: !!set {x}\n", 13);
    CHECK(strstr(set, "unknown tag"));
    _cleanup_free_ char *complex = parse_err("? [a, b]\n: c\n", 13);
    CHECK(strstr(complex, "plain value"));
    _cleanup_free_ char *nul = parse_err("a: b\0c", 6);
    CHECK(strstr(nul, "NUL"));
}

static void test_limits(void)
{
    /* Depth: 101 nested lists. */
    char deep[400];
    memset(deep, '[', 101);
    memset(deep + 101, ']', 101);
    _cleanup_free_ char *d = parse_err(deep, 202);
    CHECK(strstr(d, "nested more than 100"));
    memset(deep, '[', 100);
    memset(deep + 100, ']', 100);
    _cleanup_free_ char *ok = parse_err(deep, 200);
    CHECK_STR(ok, "");
    /* A billion laughs: nine levels of ten aliases each. */
    _cleanup_free_ char *laughs = xstrdup("a: &a [x,x,x,x,x,x,x,x,x,x]\n");
    for (char c = 'b'; c <= 'j'; c++) {
        char *n = xasprintf("%s%c: &%c [*%c,*%c,*%c,*%c,*%c,*%c,*%c,*%c,*%c,*%c]\n", laughs, c, c,
                            c - 1, c - 1, c - 1, c - 1, c - 1, c - 1, c - 1, c - 1, c - 1, c - 1);
        free(laughs);
        laughs = n;
    }
    _cleanup_free_ char *l = parse_err(laughs, strlen(laughs));
    CHECK(strstr(l, "more than 1000000 values"));
    _cleanup_free_ char *huge = parse_err("a: b\n", KUBE_MANIFEST_MAX_BYTES + 1);
    CHECK(strstr(huge, "limit"));
}

static int64_t scaled(const char *s, int scale)
{
    struct kube_quantity q;
    int64_t v = INT64_MIN;
    if (kube_quantity_parse(s, &q, NULL) < 0 || kube_quantity_scaled(&q, scale, &v) < 0)
        return INT64_MIN;
    return v;
}

static void test_quantities(void)
{
    CHECK(scaled("100m", 3) == 100);
    CHECK(scaled("100m", 0) == 1); /* rounded up */
    CHECK(scaled("1.5", 3) == 1500);
    CHECK(scaled("0.0001", 3) == 1);
    CHECK(scaled("2", 3) == 2000);
    CHECK(scaled("64Mi", 0) == 64 << 20);
    CHECK(scaled("1.5Gi", 0) == 1610612736);
    CHECK(scaled("1G", 0) == 1000000000);
    CHECK(scaled("128974848", 0) == 128974848);
    CHECK(scaled("129e6", 0) == 129000000);
    CHECK(scaled("12E-1", 0) == 2);
    CHECK(scaled("-1", 0) == -1);
    CHECK(scaled("8Ei", 0) == INT64_MIN); /* 2^63 does not fit */
    CHECK(scaled("7Ei", 0) == 7LL << 60);
    CHECK(scaled("1e100", 0) == INT64_MIN);
    const char *bad[] = {"",    "m",  "1.2.3", "1 Gi", "1gi", "1KiB",
                         "--1", "1e", "1e999", "0x10", ".",   NULL};
    for (const char **b = bad; *b; b++) {
        struct kube_quantity q;
        pr_error *err = NULL;
        if (kube_quantity_parse(*b, &q, &err) == 0)
            fprintf(stderr, "# accepted `%s`\n", *b), unit_failed_checks++;
        else
            CHECK(strstr(err->msg, "quantity"));
        pr_error_free(err);
    }
}

static yajl_val labels_of(const char *json)
{
    yajl_val v = NULL;
    json_parse(json, "labels", &v, NULL);
    return v;
}

static bool sel_matches(const char *sel, yajl_val labels)
{
    struct kube_selector s;
    if (kube_selector_parse(sel, &s, NULL) < 0)
        return false;
    bool m = kube_selector_matches(&s, labels);
    kube_selector_clear(&s);
    return m;
}

static void test_selectors(void)
{
    _cleanup_json_ yajl_val l =
        labels_of("{\"app\":\"web\",\"tier\":\"front\",\"example.com/team\":\"core\"}");
    CHECK(sel_matches("", l));
    CHECK(sel_matches("app=web", l) && sel_matches("app==web", l));
    CHECK(!sel_matches("app=db", l) && sel_matches("app!=db", l));
    CHECK(sel_matches("app = web , tier in (front, back)", l));
    CHECK(!sel_matches("tier notin (front)", l) && sel_matches("env notin (prod)", l));
    CHECK(sel_matches("app,!env", l) && !sel_matches("!app", l));
    CHECK(sel_matches("example.com/team=core", l));
    CHECK(sel_matches("app=web,tier=front", l) && !sel_matches("app=web,tier=back", l));
    const char *bad[] = {"app=",   "=web",    "app=web,", "app in front",    "app in (a b)",
                         "-app=x", "a/b/c=x", "app=we b", "Example.com/x=y", NULL};
    for (const char **b = bad; *b; b++) {
        struct kube_selector s;
        pr_error *err = NULL;
        if (streq(*b, "app=")) {
            /* an empty value is a valid label value */
            CHECK(kube_selector_parse(*b, &s, NULL) == 0);
            kube_selector_clear(&s);
            continue;
        }
        if (kube_selector_parse(*b, &s, &err) == 0) {
            fprintf(stderr, "# accepted `%s`\n", *b);
            unit_failed_checks++;
            kube_selector_clear(&s);
        } else {
            CHECK(strstr(err->msg, "selector"));
        }
        pr_error_free(err);
    }
    _cleanup_json_ yajl_val obj =
        labels_of("{\"matchLabels\":{\"app\":\"web\"},\"matchExpressions\":[{\"key\":\"tier\","
                  "\"operator\":\"In\",\"values\":[\"front\"]},{\"key\":\"env\",\"operator\":"
                  "\"DoesNotExist\"}]}");
    struct kube_selector s;
    CHECK(kube_selector_from_object(obj, "spec.selector", &s, NULL) == 0 && s.n == 3);
    CHECK(kube_selector_matches(&s, l));
    kube_selector_clear(&s);
    _cleanup_json_ yajl_val badop = labels_of(
        "{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"Exists\",\"values\":[\"x\"]}]}");
    pr_error *err = NULL;
    CHECK(kube_selector_from_object(badop, "spec.selector", &s, &err) < 0 &&
          strstr(err->msg, "spec.selector.matchExpressions[0].values: must be empty"));
    pr_error_free(err);
}

/* Decodes the first document of text, or returns NULL with the error in *msg. */
static struct kube_object *object_of(const char *text, char **msg)
{
    struct kube_docs d = {0};
    pr_error *err = NULL;
    struct kube_object *o = NULL;
    *msg = NULL;
    if (kube_parse_manifest(text, strlen(text), "pod.yaml", &d, &err) < 0 || d.n < 1 ||
        kube_object_decode(d.v[0], "pod.yaml", &o, &err) < 0) {
        *msg = xstrdup(err ? err->msg : "no document");
        pr_error_free(err);
        o = NULL;
    } else {
        d.v[0] = NULL; /* taken by the object */
    }
    for (size_t i = 1; i < d.n; i++)
        yajl_tree_free(d.v[i]);
    free(d.v);
    return o;
}

static const char dry_run_pod[] =
    "apiVersion: v1\nkind: Pod\nmetadata:\n"
    "  creationTimestamp: null\n  labels:\n    run: web\n"
    "  name: web\nspec:\n  containers:\n  - image: busybox\n"
    "    name: web\n    resources: {}\n"
    "  dnsPolicy: ClusterFirst\n  restartPolicy: Always\nstatus: {}\n";

static void test_pod_decodes_with_kubernetes_defaults(void)
{
    char *msg;
    struct kube_object *o = object_of(dry_run_pod, &msg);
    CHECK(o != NULL);
    if (!o) {
        fprintf(stderr, "# %s\n", msg);
        free(msg);
        return;
    }
    CHECK(o->kind == KUBE_POD);
    CHECK_STR(o->meta.name, "web");
    CHECK_STR(o->meta.namespace_, "default");
    CHECK_STR(kube_map_get(&o->meta.labels, "run"), "web");
    CHECK(o->u.pod.n_containers == 1);
    CHECK_STR(o->u.pod.containers[0].image_pull_policy, "Always");
    CHECK_STR(o->u.pod.restart_policy, "Always");
    CHECK(o->u.pod.termination_grace_period_seconds == 30);
    kube_object_free(o);

    o = object_of("apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: team-a}\n"
                  "spec:\n  volumes: [{name: data}, {name: cfg, configMap: {name: c}}]\n"
                  "  containers:\n  - name: app\n    image: nginx:1.25\n"
                  "    command: [nginx]\n    args: ['-g', 'daemon off;']\n"
                  "    ports: [{containerPort: 80, name: http}]\n"
                  "    env: [{name: A, value: '1'}, {name: B, valueFrom: {configMapKeyRef: "
                  "{name: c, key: k}}}]\n"
                  "    resources: {limits: {cpu: 500m, memory: 64Mi}}\n"
                  "    volumeMounts: [{name: data, mountPath: /data}]\n"
                  "    readinessProbe: {httpGet: {port: http}}\n",
                  &msg);
    CHECK(o != NULL);
    if (!o) {
        fprintf(stderr, "# %s\n", msg);
        free(msg);
        return;
    }
    const struct kube_container *c = &o->u.pod.containers[0];
    CHECK_STR(o->meta.namespace_, "team-a");
    CHECK_STR(c->image_pull_policy, "IfNotPresent");
    CHECK_STR(c->args[1], "daemon off;");
    CHECK(c->n_ports == 1 && c->ports[0].container_port == 80);
    CHECK_STR(c->ports[0].protocol, "TCP");
    CHECK(c->n_env == 2 && c->env[1].has_value_from && c->env[1].value_from.has_config_map_key_ref);
    CHECK_STR(kube_map_get(&c->resources.limits, "memory"), "64Mi");
    CHECK(c->has_readiness_probe && c->readiness_probe.http_get.port.is_string);
    CHECK(c->readiness_probe.period_seconds == 10 && c->readiness_probe.failure_threshold == 3);
    CHECK_STR(c->readiness_probe.http_get.path, "/");
    CHECK(o->u.pod.n_volumes == 2 && o->u.pod.volumes[0].has_empty_dir);
    CHECK(o->u.pod.volumes[1].has_config_map);
    CHECK_STR(o->u.pod.volumes[1].config_map.name, "c");
    kube_object_free(o);
}

static void test_objects_refused_with_their_path(void)
{
    static const struct {
        const char *yaml, *want;
    } cases[] = {
        {"apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n"
         "  - {name: a, image: x, imagee: y}\n",
         "spec.containers[0].imagee: unknown field in Container"},
        {"apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n"
         "  - {name: a, image: x, ports: [{containerPort: http}]}\n",
         "spec.containers[0].ports[0].containerPort: must be an integer, not string"},
        {"apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n"
         "  - {name: a, image: x, ports: [{containerPort: 70000}]}\n",
         "containerPort: 70000: must be between 1 and 65535"},
        {"apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  volumes: [{name: v, nfs: "
         "{server: s, path: /}}]\n  containers: [{name: a, image: x}]\n",
         "spec.volumes[0].nfs: not supported by podrun"},
        {"apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: a, "
         "image: x, volumeMounts: [{name: nope, mountPath: /x}]}]\n",
         "volumeMounts[0].name: not found"},
        {"apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: a, "
         "image: x}, {name: a, image: x2}]\n",
         "spec.containers[1].name: duplicate value \"a\""},
        {"apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  restartPolicy: Sometimes\n"
         "  containers: [{name: a, image: x}]\n",
         "restartPolicy: unsupported value \"Sometimes\""},
        {"apiVersion: v1\nkind: Pod\nmetadata: {name: Web_1}\nspec: {containers: [{name: a, "
         "image: x}]}\n",
         "metadata.name: a lowercase RFC 1123 subdomain"},
        {"apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: []}\n",
         "spec.containers: Required value"},
        {"apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n", "spec: Required value"},
        /* Found by fuzz-kube-manifest: a null spec skipped every PodSpec check. */
        {"apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec :\n", "spec: Required value"},
        {"apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: Bad}\nspec: {containers: "
         "[{name: a, image: x}]}\n",
         "metadata.namespace: \"Bad\""},
        {"apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: a, image: "
         "x, livenessProbe: {exec: {command: ['true']}, tcpSocket: {port: 1}}}]}\n",
         "exactly one handler"},
        {"apiVersion: v1\nkind: Widget\nmetadata: {name: w}\n",
         "kind \"Widget\" is not supported by podrun"},
        {"apiVersion: apps/v1\nkind: Pod\nmetadata: {name: w}\n",
         "no kind \"Pod\" in version \"apps/v1\""},
        {"kind: Pod\nmetadata: {name: w}\n", "apiVersion and kind are required"},
        {"- a\n- b\n", "not an object"},
        {"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {'a/b': x}\n", "key \"a/b\""},
        {"apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata: {a: 'not base64!'}\n",
         "data.a: illegal base64 data"},
        {"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, labels: {'a b': x}}\n",
         "is not a valid label"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        _cleanup_free_ char *msg = NULL;
        struct kube_object *o = object_of(cases[i].yaml, &msg);
        if (o) {
            fprintf(stderr, "# case %zu accepted\n", i);
            unit_failed_checks++;
            kube_object_free(o);
        } else if (!strstr(msg, cases[i].want)) {
            fprintf(stderr, "# case %zu: \"%s\" lacks \"%s\"\n", i, msg, cases[i].want);
            unit_failed_checks++;
        }
    }
}

static void test_configmap_secret_namespace(void)
{
    char *msg = NULL;
    struct kube_object *o = object_of("apiVersion: v1\nkind: Secret\nmetadata: {name: s}\n"
                                      "data: {pw: aHVudGVyMg==}\nstringData: {user: admin}\n",
                                      &msg);
    CHECK(o && o->kind == KUBE_SECRET);
    if (o) {
        CHECK_STR(o->u.secret.type, "Opaque");
        CHECK_STR(kube_map_get(&o->u.secret.data, "pw"), "aHVudGVyMg==");
        CHECK_STR(kube_map_get(&o->u.secret.string_data, "user"), "admin");
    }
    kube_object_free(o);
    free(msg);
    o = object_of("apiVersion: v1\nkind: Namespace\nmetadata: {name: team-a}\nspec: {}\n", &msg);
    CHECK(o && o->kind == KUBE_NAMESPACE);
    kube_object_free(o);
    free(msg);
    o = object_of("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n"
                  "data: {app.conf: 'x=1', empty: ''}\n",
                  &msg);
    CHECK(o && o->kind == KUBE_CONFIGMAP && o->u.config_map.data.n == 2);
    kube_object_free(o);
    free(msg);
}

/* metadata.namespace as the API server treats it: a namespaced kind without one gets
 * "default"; a cluster-scoped kind (Namespace) has none, and one written on it is cleared, not
 * checked (the server clears it before validating). */
static void test_namespace_by_scope(void)
{
    static const struct {
        const char *yaml, *want; /* want NULL: no namespace */
    } cases[] = {
        {"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n", "default"},
        {"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: team}\n", "team"},
        {"apiVersion: v1\nkind: Secret\nmetadata: {name: s, namespace: team}\n", "team"},
        {"apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: a, "
         "image: x}]}\n",
         "default"},
        {"apiVersion: v1\nkind: Namespace\nmetadata: {name: team}\n", NULL},
        {"apiVersion: v1\nkind: Namespace\nmetadata: {name: team, namespace: other}\n", NULL},
        {"apiVersion: v1\nkind: Namespace\nmetadata: {name: team, namespace: default}\n", NULL},
        {"apiVersion: v1\nkind: Namespace\nmetadata: {name: team, namespace: Not_A_Label}\n", NULL},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        char *msg = NULL;
        struct kube_object *o = object_of(cases[i].yaml, &msg);
        if (!o) {
            fprintf(stderr, "# case %zu refused: %s\n", i, msg);
            unit_failed_checks++;
        } else if (cases[i].want
                       ? !o->meta.namespace_ || strcmp(o->meta.namespace_, cases[i].want) != 0
                       : o->meta.namespace_ != NULL) {
            fprintf(stderr, "# case %zu: namespace \"%s\", want \"%s\"\n", i,
                    o->meta.namespace_ ? o->meta.namespace_ : "(none)",
                    cases[i].want ? cases[i].want : "(none)");
            unit_failed_checks++;
        }
        kube_object_free(o);
        free(msg);
    }
    CHECK(kube_kind_namespaced(KUBE_POD));
    CHECK(kube_kind_namespaced(KUBE_CONFIGMAP));
    CHECK(kube_kind_namespaced(KUBE_SECRET));
    CHECK(!kube_kind_namespaced(KUBE_NAMESPACE));
}

/* What kube_yaml_emit writes reads back as the same tree: strings that would resolve as
 * another type are quoted, keys sorted, empty containers in flow style. */
static void test_yaml_emit_round_trips(void)
{
    const char *json = "{\"z\":\"plain\",\"a\":[\"123\",\"yes\",\"\",\"null\",\"0755\","
                       "\"2024-01-02T03:04:05Z\",\"a: b\",\"- x\",\"two\\nlines\\n\","
                       "\"#c\",\"\\u00e9t\\u00e9\"],\"n\":12,\"f\":1.5,\"t\":true,"
                       "\"nil\":null,\"e\":{},\"l\":[],\"true\":\"k\"}";
    struct kube_docs in = parse_ok(json), back = {0};
    CHECK(in.n == 1);
    char *out = NULL;
    size_t len = 0;
    pr_error *err = NULL;
    CHECK(kube_yaml_emit(in.v[0], &out, &len, &err) == 0);
    CHECK(out && strncmp(out, "a:\n- \"123\"\n- \"yes\"\n- \"\"\n", 20) == 0);
    CHECK(out && strstr(out, "\ne: {}\n") && strstr(out, "\nl: []\n"));
    CHECK(out && strstr(out, "\n\"true\": k\n") && strstr(out, "\nz: plain\n"));
    back = parse_ok(out ? out : "");
    CHECK(back.n == 1);
    yajl_val a = back.n ? json_get(back.v[0], "a") : NULL;
    const char *want[] = {"123",
                          "yes",
                          "",
                          "null",
                          "0755",
                          "2024-01-02T03:04:05Z",
                          "a: b",
                          "- x",
                          "two\nlines\n",
                          "#c",
                          "\xc3\xa9t\xc3\xa9"};
    CHECK(json_array_len(a) == ARRAY_SIZE(want));
    for (size_t i = 0; i < ARRAY_SIZE(want) && i < json_array_len(a); i++)
        CHECK_STR(YAJL_GET_STRING(json_array_at(a, i)), want[i]);
    yajl_val b = back.n ? back.v[0] : NULL;
    CHECK(YAJL_GET_INTEGER(json_get(b, "n")) == 12 && YAJL_GET_DOUBLE(json_get(b, "f")) == 1.5);
    CHECK(YAJL_IS_TRUE(json_get(b, "t")) && YAJL_IS_NULL(json_get(b, "nil")));
    CHECK(YAJL_IS_OBJECT(json_get(b, "e")) && YAJL_IS_ARRAY(json_get(b, "l")));
    CHECK_STR(YAJL_GET_STRING(json_get(b, "true")), "k");
    free(out);
    kube_docs_clear(&in);
    kube_docs_clear(&back);
}

/* A pod with containers (and init containers after "|") given as resources maps. */
static struct kube_object *pod_with(const char *const *res, size_t n, size_t n_init)
{
    char *y = xstrdup("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n");
    for (size_t i = 0; i < n; i++) {
        if (i == n - n_init) {
            char *t = xasprintf("%s  initContainers:\n", y);
            free(y);
            y = t;
        }
        char *t = xasprintf("%s  - {name: c%zu, image: busybox, resources: %s}\n", y, i, res[i]);
        free(y);
        y = t;
    }
    char *msg = NULL;
    struct kube_object *o = object_of(y, &msg);
    if (!o)
        fprintf(stderr, "# %s\n", msg);
    free(msg);
    free(y);
    return o;
}

static enum kube_qos qos_of(const char *const *res, size_t n, size_t n_init)
{
    struct kube_object *o = pod_with(res, n, n_init);
    enum kube_qos q = o ? kube_pod_qos(&o->u.pod) : (enum kube_qos)-1;
    kube_object_free(o);
    return q;
}

static void test_qos_classes_as_get_pod_qos(void)
{
    const char *const none[] = {"{}", "{}"};
    CHECK(qos_of(none, 2, 0) == KUBE_QOS_BESTEFFORT);
    /* Zero quantities count as none. */
    const char *const zero[] = {"{requests: {cpu: '0', memory: '0'}}"};
    CHECK(qos_of(zero, 1, 0) == KUBE_QOS_BESTEFFORT);
    const char *const lim[] = {"{limits: {cpu: 500m, memory: 1Gi}}"};
    CHECK(qos_of(lim, 1, 0) == KUBE_QOS_GUARANTEED);
    const char *const eq[] = {"{limits: {cpu: '1', memory: 1Gi}, requests: {cpu: 1000m, memory: 1024Mi}}"};
    CHECK(qos_of(eq, 1, 0) == KUBE_QOS_GUARANTEED);
    const char *const less[] = {"{limits: {cpu: '1', memory: 1Gi}, requests: {cpu: 500m}}"};
    CHECK(qos_of(less, 1, 0) == KUBE_QOS_BURSTABLE);
    const char *const cpu_only[] = {"{limits: {cpu: '1'}}"};
    CHECK(qos_of(cpu_only, 1, 0) == KUBE_QOS_BURSTABLE);
    const char *const one_empty[] = {"{limits: {cpu: '1', memory: 1Gi}}", "{}"};
    CHECK(qos_of(one_empty, 2, 0) == KUBE_QOS_BURSTABLE);
    /* Init containers count too. */
    const char *const init[] = {"{limits: {cpu: '1', memory: 1Gi}}", "{requests: {cpu: 100m}}"};
    CHECK(qos_of(init, 2, 1) == KUBE_QOS_BURSTABLE);
    const char *const init_g[] = {"{limits: {cpu: '1', memory: 1Gi}}",
                                  "{limits: {cpu: 100m, memory: 64Mi}}"};
    CHECK(qos_of(init_g, 2, 1) == KUBE_QOS_GUARANTEED);
    CHECK_STR(kube_qos_name(KUBE_QOS_BURSTABLE), "Burstable");
}

static void test_pod_compute_takes_the_larger_of_sum_and_init(void)
{
    const char *const res[] = {"{requests: {cpu: 100m, memory: 64Mi}, limits: {memory: 128Mi}}",
                               "{requests: {cpu: 200m}, limits: {cpu: 300m, memory: 64Mi}}",
                               "{requests: {cpu: 500m, memory: 32Mi}}"};
    struct kube_object *o = pod_with(res, 3, 1);
    CHECK(o != NULL);
    if (!o)
        return;
    struct kube_compute c;
    pr_error *e = NULL;
    CHECK(kube_pod_compute(&o->u.pod, &c, &e) == 0);
    CHECK(c.cpu_request == 500);                 /* the init container's 500m over 300m */
    CHECK(c.memory_request == 128 << 20);        /* 64Mi + 64Mi (defaulted from the limit) */
    CHECK(c.memory_limit == 192 << 20);
    CHECK(!c.has_cpu_limit && !c.has_memory_limit); /* the init container has none */
    kube_object_free(o);
    const char *const bad[] = {"{requests: {cpu: '2'}, limits: {cpu: '1'}}"};
    o = pod_with(bad, 1, 0);
    CHECK(o != NULL);
    if (!o)
        return;
    CHECK(kube_pod_compute(&o->u.pod, &c, &e) < 0);
    CHECK(e && strstr(e->msg, "resources.requests.cpu") != NULL);
    pr_error_free(e);
    kube_object_free(o);
}

int main(void)
{
    RUN(test_qos_classes_as_get_pod_qos);
    RUN(test_pod_compute_takes_the_larger_of_sum_and_init);
    RUN(test_scalars_resolve_as_kubernetes_does);
    RUN(test_yaml_emit_round_trips);
    RUN(test_documents_json_and_dry_run_output);
    RUN(test_anchors_and_merge_keys);
    RUN(test_refusals_name_the_place);
    RUN(test_limits);
    RUN(test_quantities);
    RUN(test_selectors);
    RUN(test_pod_decodes_with_kubernetes_defaults);
    RUN(test_objects_refused_with_their_path);
    RUN(test_configmap_secret_namespace);
    RUN(test_namespace_by_scope);
    UNIT_DONE();
}
