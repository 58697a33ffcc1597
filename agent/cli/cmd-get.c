/* SPDX-License-Identifier: Apache-2.0 */
/* podrun get: kubectl's tables (and -o name|json) over the pod manager's objects. */
#include "commands.h"
#include "eventview.h"
#include "json.h"
#include "podview.h"
#include "pods/pods.h"
#include "table.h"
#include "util.h"

#include <ctype.h>
#include <getopt.h>
#include <signal.h>
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

/* PORT(S): "8081/TCP", "80:32002/TCP", comma-separated. */
static char *service_ports(yajl_val spec)
{
    char *s = xstrdup("");
    yajl_val ports = json_get(spec, "ports");
    for (size_t i = 0; i < json_array_len(ports); i++) {
        yajl_val p = json_array_at(ports, i);
        yajl_val port = json_get(p, "port"), np = json_get(p, "nodePort");
        const char *proto = YAJL_GET_STRING(json_get(p, "protocol"));
        _cleanup_free_ char *nps =
            YAJL_IS_INTEGER(np) ? xasprintf(":%lld", (long long)YAJL_GET_INTEGER(np)) : xstrdup("");
        char *n = xasprintf("%s%s%lld%s/%s", s, *s ? "," : "",
                            YAJL_IS_INTEGER(port) ? (long long)YAJL_GET_INTEGER(port) : 0LL, nps,
                            proto ? proto : "TCP");
        free(s);
        s = n;
    }
    if (!*s) {
        free(s);
        s = xstrdup("<none>");
    }
    return s;
}

/* SELECTOR: "app=web,tier=front" as the object's map gives it; <none> for none. */
static char *map_text(yajl_val m)
{
    char *s = xstrdup("");
    for (size_t i = 0; YAJL_IS_OBJECT(m) && i < m->u.object.len; i++) {
        const char *v = YAJL_GET_STRING(m->u.object.values[i]);
        char *n = xasprintf("%s%s%s=%s", s, *s ? "," : "", m->u.object.keys[i], v ? v : "");
        free(s);
        s = n;
    }
    if (!*s) {
        free(s);
        s = xstrdup("<none>");
    }
    return s;
}

/* EXTERNAL-IP: a LoadBalancer's address, <pending> until it has one (kubectl's). */
static const char *service_external_ip(yajl_val svc)
{
    const char *type = YAJL_GET_STRING(json_get(json_get(svc, "spec"), "type"));
    yajl_val ing = json_get(json_get(json_get(svc, "status"), "loadBalancer"), "ingress");
    const char *ip =
        json_array_len(ing) ? YAJL_GET_STRING(json_get(json_array_at(ing, 0), "ip")) : NULL;
    if (!type || !streq(type, "LoadBalancer"))
        return "<none>";
    return ip ? ip : "<pending>";
}

/* An Ingress's CLASS, HOSTS, ADDRESS and PORTS, as kubectl prints them. */
static void ingress_cells(table *t, yajl_val ing)
{
    yajl_val spec = json_get(ing, "spec"), rules = json_get(spec, "rules");
    const char *cls = YAJL_GET_STRING(json_get(spec, "ingressClassName"));
    table_cell(t, cls ? cls : "<none>");
    _cleanup_free_ char *hosts = xstrdup("");
    for (size_t i = 0; i < json_array_len(rules); i++) {
        const char *h = YAJL_GET_STRING(json_get(json_array_at(rules, i), "host"));
        char *n = xasprintf("%s%s%s", hosts, *hosts ? "," : "", h && *h ? h : "*");
        free(hosts);
        hosts = n;
    }
    table_cell(t, *hosts ? hosts : "*");
    yajl_val lb = json_get(json_get(json_get(ing, "status"), "loadBalancer"), "ingress");
    _cleanup_free_ char *addrs = xstrdup("");
    for (size_t i = 0; i < json_array_len(lb); i++) {
        const char *ip = YAJL_GET_STRING(json_get(json_array_at(lb, i), "ip"));
        char *n = xasprintf("%s%s%s", addrs, *addrs ? "," : "", ip ? ip : "");
        free(addrs);
        addrs = n;
    }
    table_cell(t, addrs);
    table_cell(t, json_array_len(json_get(spec, "tls")) ? "80, 443" : "80");
}

/* CONTAINERS and IMAGES of a pod template. */
static void containers_cells(table *t, yajl_val tpl)
{
    yajl_val cs = json_get(json_get(tpl, "spec"), "containers");
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
}

static long long int_or(yajl_val v, long long def)
{
    return v && YAJL_IS_INTEGER(v) ? YAJL_GET_INTEGER(v) : def;
}

/* kubectl's job columns (pkg/printers/internalversion: printJob). */
static void job_header(table *t, bool wide)
{
    const char *h[] = {"STATUS", "COMPLETIONS", "DURATION", "AGE"};
    for (size_t i = 0; i < ARRAY_SIZE(h); i++)
        table_cell(t, h[i]);
    const char *w[] = {"CONTAINERS", "IMAGES", "SELECTOR"};
    for (size_t i = 0; wide && i < ARRAY_SIZE(w); i++)
        table_cell(t, w[i]);
}

static bool has_condition(yajl_val status, const char *type)
{
    yajl_val cs = json_get(status, "conditions");
    for (size_t i = 0; i < json_array_len(cs); i++) {
        const char *ty = YAJL_GET_STRING(json_get(json_array_at(cs, i), "type"));
        const char *st = YAJL_GET_STRING(json_get(json_array_at(cs, i), "status"));
        if (ty && st && streq(ty, type) && streq(st, "True"))
            return true;
    }
    return false;
}

static long long time_at(yajl_val status, const char *key)
{
    const char *s = YAJL_GET_STRING(json_get(status, key));
    struct tm tm = {0};
    return s && strptime(s, "%Y-%m-%dT%H:%M:%S", &tm) ? (long long)timegm(&tm) : 0;
}

static void job_cells(table *t, const struct pods_entry *e, const char *age, bool wide)
{
    (void)wide;
    yajl_val spec = json_get(e->object, "spec"), st = e->status;
    yajl_val c = json_get(spec, "completions"), par = json_get(spec, "parallelism");
    table_cell(t, has_condition(st, "Complete")    ? "Complete"
                  : has_condition(st, "Failed")    ? "Failed"
                  : has_condition(st, "Suspended") ? "Suspended"
                                                   : "Running");
    long long succeeded = status_int(e, "succeeded");
    if (c && YAJL_IS_INTEGER(c))
        table_cellf(t, "%lld/%lld", succeeded, (long long)YAJL_GET_INTEGER(c));
    else if (par && YAJL_IS_INTEGER(par) && YAJL_GET_INTEGER(par) > 1)
        table_cellf(t, "%lld/1 of %lld", succeeded, (long long)YAJL_GET_INTEGER(par));
    else
        table_cellf(t, "%lld/1", succeeded);
    long long start = time_at(st, "startTime"), end = time_at(st, "completionTime");
    char d[32] = "";
    if (start && end)
        human_duration(time(NULL) - (end - start), d);
    else if (start)
        human_duration(start, d);
    table_cell(t, d);
    table_cell(t, age);
}

/* kubectl's cronjob columns (printCronJob); the wide ones are the jobTemplate's. */
static void cronjob_cells(table *t, const struct pods_entry *e, const char *age, bool wide)
{
    yajl_val spec = json_get(e->object, "spec"), suspend = json_get(spec, "suspend");
    const char *sched = YAJL_GET_STRING(json_get(spec, "schedule"));
    const char *tz = YAJL_GET_STRING(json_get(spec, "timeZone"));
    table_cell(t, sched ? sched : "");
    table_cell(t, tz ? tz : "<none>");
    table_cell(t, suspend && YAJL_IS_TRUE(suspend) ? "True" : "False");
    table_cellf(t, "%zu", json_array_len(json_get(e->status, "active")));
    long long last = time_at(e->status, "lastScheduleTime");
    char d[32] = "<none>";
    if (last)
        human_duration(last, d);
    table_cell(t, d);
    table_cell(t, age);
    if (!wide)
        return;
    containers_cells(t, json_get(json_get(json_get(spec, "jobTemplate"), "spec"), "template"));
    table_cell(t, "<none>");
}

/* kubectl's hpa columns (printHorizontalPodAutoscaler): TARGETS "cpu: 45%/50%" per metric,
 * <unknown> before the first sample. */
static void hpa_cells(table *t, const struct pods_entry *e, const char *age)
{
    yajl_val spec = json_get(e->object, "spec"), ref = json_get(spec, "scaleTargetRef");
    const char *kind = YAJL_GET_STRING(json_get(ref, "kind"));
    const char *name = YAJL_GET_STRING(json_get(ref, "name"));
    table_cellf(t, "%s/%s", kind ? kind : "", name ? name : "");
    yajl_val metrics = json_get(spec, "metrics"),
             v1 = json_get(spec, "targetCPUUtilizationPercentage");
    yajl_val cur = json_get(e->status, "currentMetrics");
    _cleanup_free_ char *targets = xstrdup("");
    size_t n = json_array_len(metrics);
    for (size_t i = 0; i < (n ? n : 1); i++) {
        /* A ContainerResource metric reads as a Resource one, matched by its container too. */
        yajl_val m = n ? json_array_at(metrics, i) : NULL, res = n ? json_get(m, "resource") : NULL;
        const char *box = NULL;
        if (n && !res && (res = json_get(m, "containerResource")))
            box = YAJL_GET_STRING(json_get(res, "container"));
        const char *rn = n ? YAJL_GET_STRING(json_get(res, "name")) : "cpu";
        long long want =
            n ? int_or(json_get(json_get(res, "target"), "averageUtilization"), 0) : int_or(v1, 80);
        char now[24] = "<unknown>";
        for (size_t j = 0; rn && j < json_array_len(cur); j++) {
            yajl_val c = json_get(json_array_at(cur, j), box ? "containerResource" : "resource");
            const char *cn = YAJL_GET_STRING(json_get(c, "name"));
            const char *cc = YAJL_GET_STRING(json_get(c, "container"));
            yajl_val u = json_get(json_get(c, "current"), "averageUtilization");
            if (box && (!cc || !streq(cc, box)))
                continue;
            if (cn && streq(cn, rn) && u && YAJL_IS_INTEGER(u))
                snprintf(now, sizeof(now), "%lld%%", (long long)YAJL_GET_INTEGER(u));
        }
        char *more =
            xasprintf("%s%s%s: %s/%lld%%", targets, i ? ", " : "", rn ? rn : "?", now, want);
        free(targets);
        targets = more;
    }
    table_cell(t, targets);
    table_cellf(t, "%lld", int_or(json_get(spec, "minReplicas"), 1));
    table_cellf(t, "%lld", int_or(json_get(spec, "maxReplicas"), 0));
    table_cellf(t, "%lld", (long long)status_int(e, "currentReplicas"));
    table_cell(t, age);
}

struct get_opts {
    const char *resource;
    bool all, wide, json, yaml, name;
};

/* ACCESS MODES as kubectl abbreviates them: "RWO,ROX". */
static char *access_modes_text(yajl_val modes)
{
    char *s = xstrdup("");
    for (size_t i = 0; i < json_array_len(modes); i++) {
        const char *m = YAJL_GET_STRING(json_array_at(modes, i));
        const char *a = !m                             ? ""
                        : streq(m, "ReadWriteOnce")    ? "RWO"
                        : streq(m, "ReadOnlyMany")     ? "ROX"
                        : streq(m, "ReadWriteMany")    ? "RWX"
                        : streq(m, "ReadWriteOncePod") ? "RWOP"
                                                       : m;
        char *n = xasprintf("%s%s%s", s, *s ? "," : "", a);
        free(s);
        s = n;
    }
    return s;
}

/* StatefulSets, DaemonSets, claims and volumes: kubectl's columns (after NAME). */
static bool storage_header(table *t, const struct get_opts *o)
{
    const char *r = o->resource;
    static const char *const
        sts[] = {"READY", "AGE", NULL},
        *const ds[] = {"DESIRED",   "CURRENT",       "READY", "UP-TO-DATE",
                       "AVAILABLE", "NODE SELECTOR", "AGE",   NULL},
        *const pvc[] = {"STATUS",       "VOLUME",
                        "CAPACITY",     "ACCESS MODES",
                        "STORAGECLASS", "VOLUMEATTRIBUTESCLASS",
                        "AGE",          NULL},
        *const pv[] = {"CAPACITY",     "ACCESS MODES",          "RECLAIM POLICY", "STATUS", "CLAIM",
                       "STORAGECLASS", "VOLUMEATTRIBUTESCLASS", "REASON",         "AGE",    NULL};
    static const char *const revs[] = {"CONTROLLER", "REVISION", "AGE", NULL};
    const char *const *h = streq(r, "controllerrevisions")      ? revs
                           : streq(r, "statefulsets")           ? sts
                           : streq(r, "daemonsets")             ? ds
                           : streq(r, "persistentvolumeclaims") ? pvc
                           : streq(r, "persistentvolumes")      ? pv
                                                                : NULL;
    if (!h)
        return false;
    for (size_t i = 0; h[i]; i++)
        table_cell(t, h[i]);
    if (streq(r, "controllerrevisions")) {
        /* no wide columns */
    } else if (o->wide && (streq(r, "statefulsets") || streq(r, "daemonsets"))) {
        table_cell(t, "CONTAINERS");
        table_cell(t, "IMAGES");
        if (streq(r, "daemonsets"))
            table_cell(t, "SELECTOR");
    } else if (o->wide) {
        table_cell(t, "VOLUMEMODE");
    }
    return true;
}

static bool storage_row(table *t, const struct get_opts *o, const struct pods_entry *e,
                        const char *a)
{
    const char *r = o->resource;
    yajl_val spec = json_get(e->object, "spec");
    if (streq(r, "controllerrevisions")) {
        yajl_val ref =
            json_array_at(json_get(json_get(e->object, "metadata"), "ownerReferences"), 0);
        const char *kind = YAJL_GET_STRING(json_get(ref, "kind"));
        const char *owner = YAJL_GET_STRING(json_get(ref, "name"));
        _cleanup_free_ char *lk = xstrdup(kind ? kind : "");
        for (char *c = lk; *c; c++)
            *c = (char)tolower((unsigned char)*c);
        table_cellf(t, "%s.apps/%s", lk, owner ? owner : "");
        yajl_val rv = json_get(e->object, "revision");
        table_cellf(t, "%lld", rv && YAJL_IS_INTEGER(rv) ? (long long)YAJL_GET_INTEGER(rv) : 0LL);
        table_cell(t, a);
        return true;
    }
    if (streq(r, "statefulsets")) {
        yajl_val rv = json_get(spec, "replicas");
        table_cellf(t, "%lld/%lld", (long long)status_int(e, "readyReplicas"),
                    rv && YAJL_IS_INTEGER(rv) ? (long long)YAJL_GET_INTEGER(rv) : 1LL);
        table_cell(t, a);
    } else if (streq(r, "daemonsets")) {
        const char *keys[] = {"desiredNumberScheduled", "currentNumberScheduled", "numberReady",
                              "updatedNumberScheduled", "numberAvailable"};
        for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
            table_cellf(t, "%lld", (long long)status_int(e, keys[i]));
        _cleanup_free_ char *sel =
            map_text(json_get(json_get(json_get(spec, "template"), "spec"), "nodeSelector"));
        table_cell(t, sel);
        table_cell(t, a);
    } else if (streq(r, "persistentvolumeclaims")) {
        const char *phase = YAJL_GET_STRING(json_get(e->status, "phase"));
        bool bound = phase && streq(phase, "Bound");
        _cleanup_free_ char *vol = bound ? xasprintf("pvc-%s", e->uid) : xstrdup("");
        _cleanup_free_ char *modes =
            bound ? access_modes_text(json_get(e->status, "accessModes")) : xstrdup("");
        const char *cap = YAJL_GET_STRING(json_get(json_get(e->status, "capacity"), "storage"));
        const char *cls = YAJL_GET_STRING(json_get(spec, "storageClassName"));
        bool going = json_get(json_get(e->object, "metadata"), "deletionTimestamp") != NULL;
        table_cell(t, going ? "Terminating" : phase ? phase : "Pending");
        table_cell(t, vol);
        table_cell(t, cap ? cap : "");
        table_cell(t, modes);
        table_cell(t, cls ? cls : "local-path");
        table_cell(t, "<unset>");
        table_cell(t, a);
    } else if (streq(r, "persistentvolumes")) {
        yajl_val ref = json_get(spec, "claimRef");
        _cleanup_free_ char *modes = access_modes_text(json_get(spec, "accessModes"));
        _cleanup_free_ char *claim =
            xasprintf("%s/%s", YAJL_GET_STRING(json_get(ref, "namespace")) ?: "",
                      YAJL_GET_STRING(json_get(ref, "name")) ?: "");
        const char *cap = YAJL_GET_STRING(json_get(json_get(spec, "capacity"), "storage"));
        const char *phase = YAJL_GET_STRING(json_get(e->status, "phase"));
        table_cell(t, cap ? cap : "");
        table_cell(t, modes);
        table_cell(t, YAJL_GET_STRING(json_get(spec, "persistentVolumeReclaimPolicy")) ?: "");
        table_cell(t, phase ? phase : "Bound");
        table_cell(t, claim);
        table_cell(t, YAJL_GET_STRING(json_get(spec, "storageClassName")) ?: "");
        table_cell(t, "<unset>");
        table_cell(t, "");
        table_cell(t, a);
    } else {
        return false;
    }
    if (o->wide && (streq(r, "statefulsets") || streq(r, "daemonsets"))) {
        /* template_cells adds SELECTOR too: a StatefulSet's wide table has none. */
        yajl_val cs = json_get(json_get(json_get(spec, "template"), "spec"), "containers");
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
        if (streq(r, "daemonsets")) {
            _cleanup_free_ char *sel = podview_selector_text(json_get(spec, "selector"));
            table_cell(t, sel);
        }
    } else if (o->wide) {
        const char *vm = YAJL_GET_STRING(json_get(spec, "volumeMode"));
        table_cell(t, vm ? vm : "Filesystem");
    }
    return true;
}

/* The table's header row, added to t. */
static void add_header(table *t, const struct get_opts *o)
{
    const char *resource = o->resource;
    table_row(t);
    if (o->all && !streq(resource, "namespaces") && !streq(resource, "persistentvolumes"))
        table_cell(t, "NAMESPACE");
    table_cell(t, "NAME");
    if (storage_header(t, o)) {
        /* statefulsets, daemonsets, persistentvolumeclaims, persistentvolumes */
    } else if (streq(resource, "pods")) {
        const char *h[] = {"READY", "STATUS", "RESTARTS", "AGE"};
        for (size_t i = 0; i < ARRAY_SIZE(h); i++)
            table_cell(t, h[i]);
        const char *w[] = {"IP", "NODE", "NOMINATED NODE", "READINESS GATES"};
        for (size_t i = 0; o->wide && i < ARRAY_SIZE(w); i++)
            table_cell(t, w[i]);
    } else if (streq(resource, "deployments") || streq(resource, "replicasets")) {
        const char *dh[] = {"READY", "UP-TO-DATE", "AVAILABLE", "AGE"};
        const char *rh[] = {"DESIRED", "CURRENT", "READY", "AGE"};
        for (size_t i = 0; i < 4; i++)
            table_cell(t, streq(resource, "deployments") ? dh[i] : rh[i]);
        const char *w[] = {"CONTAINERS", "IMAGES", "SELECTOR"};
        for (size_t i = 0; o->wide && i < ARRAY_SIZE(w); i++)
            table_cell(t, w[i]);
    } else if (streq(resource, "jobs")) {
        job_header(t, o->wide);
    } else if (streq(resource, "horizontalpodautoscalers")) {
        const char *h[] = {"REFERENCE", "TARGETS", "MINPODS", "MAXPODS", "REPLICAS", "AGE"};
        for (size_t i = 0; i < ARRAY_SIZE(h); i++)
            table_cell(t, h[i]);
    } else if (streq(resource, "cronjobs")) {
        const char *h[] = {"SCHEDULE", "TIMEZONE", "SUSPEND", "ACTIVE", "LAST SCHEDULE", "AGE"};
        for (size_t i = 0; i < ARRAY_SIZE(h); i++)
            table_cell(t, h[i]);
        const char *w[] = {"CONTAINERS", "IMAGES", "SELECTOR"};
        for (size_t i = 0; o->wide && i < ARRAY_SIZE(w); i++)
            table_cell(t, w[i]);
    } else if (streq(resource, "services")) {
        const char *h[] = {"TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"};
        for (size_t i = 0; i < ARRAY_SIZE(h); i++)
            table_cell(t, h[i]);
        if (o->wide)
            table_cell(t, "SELECTOR");
    } else if (streq(resource, "ingresses")) {
        const char *h[] = {"CLASS", "HOSTS", "ADDRESS", "PORTS", "AGE"};
        for (size_t i = 0; i < ARRAY_SIZE(h); i++)
            table_cell(t, h[i]);
    } else if (streq(resource, "ingressclasses")) {
        table_cell(t, "CONTROLLER");
        table_cell(t, "PARAMETERS");
        table_cell(t, "AGE");
    } else if (streq(resource, "configmaps")) {
        table_cell(t, "DATA");
        table_cell(t, "AGE");
    } else if (streq(resource, "secrets")) {
        table_cell(t, "TYPE");
        table_cell(t, "DATA");
        table_cell(t, "AGE");
    } else {
        table_cell(t, "STATUS");
        table_cell(t, "AGE");
    }
}

/* One row of kubectl's table, added to t; age NULL leaves the AGE column empty (what a watch
 * compares). */
static void add_row(table *t, const struct get_opts *o, const struct pods_entry *e,
                    const char *status, const char *age)
{
    const char *resource = o->resource;
    const char *a = age ? age : "";
    table_row(t);
    if (o->all && !streq(resource, "namespaces") && !streq(resource, "persistentvolumes"))
        table_cell(t, e->ns);
    table_cell(t, e->name);
    if (storage_row(t, o, e, a)) {
        /* statefulsets, daemonsets, persistentvolumeclaims, persistentvolumes */
    } else if (streq(resource, "pods")) {
        table_cellf(t, "%u/%u", e->ready, e->total);
        table_cell(t, status ? status : e->phase);
        table_cellf(t, "%u", e->restarts);
        table_cell(t, a);
        if (o->wide) {
            char node[256] = "";
            gethostname(node, sizeof(node) - 1);
            table_cell(t, e->ip ? e->ip : "<none>");
            table_cell(t, e->node ? e->node : node);
            table_cell(t, "<none>");
            table_cell(t, "<none>");
        }
    } else if (streq(resource, "deployments") || streq(resource, "replicasets")) {
        yajl_val rv = json_get(json_get(e->object, "spec"), "replicas");
        long long want = rv && YAJL_IS_INTEGER(rv) ? YAJL_GET_INTEGER(rv) : 1;
        if (streq(resource, "deployments")) {
            table_cellf(t, "%lld/%lld", (long long)status_int(e, "readyReplicas"), want);
            table_cellf(t, "%lld", (long long)status_int(e, "updatedReplicas"));
            table_cellf(t, "%lld", (long long)status_int(e, "availableReplicas"));
        } else {
            table_cellf(t, "%lld", want);
            table_cellf(t, "%lld", (long long)status_int(e, "replicas"));
            table_cellf(t, "%lld", (long long)status_int(e, "readyReplicas"));
        }
        table_cell(t, a);
        if (o->wide)
            template_cells(t, e->object);
    } else if (streq(resource, "horizontalpodautoscalers")) {
        hpa_cells(t, e, a);
    } else if (streq(resource, "cronjobs")) {
        cronjob_cells(t, e, a, o->wide);
    } else if (streq(resource, "jobs")) {
        job_cells(t, e, a, o->wide);
        if (o->wide) {
            containers_cells(t, json_get(json_get(e->object, "spec"), "template"));
            table_cellf(t, "batch.kubernetes.io/controller-uid=%s", e->uid);
        }
    } else if (streq(resource, "services")) {
        yajl_val spec = json_get(e->object, "spec");
        const char *type = YAJL_GET_STRING(json_get(spec, "type"));
        const char *ip = YAJL_GET_STRING(json_get(spec, "clusterIP"));
        _cleanup_free_ char *ports = service_ports(spec);
        table_cell(t, type ? type : "ClusterIP");
        const char *ext = YAJL_GET_STRING(json_get(spec, "externalName"));
        table_cell(t, ip ? ip : "<none>");
        table_cell(t, ext ? ext : service_external_ip(e->object));
        table_cell(t, ports);
        table_cell(t, a);
        if (o->wide) {
            _cleanup_free_ char *sel = map_text(json_get(spec, "selector"));
            table_cell(t, sel);
        }
    } else if (streq(resource, "ingresses")) {
        ingress_cells(t, e->object);
        table_cell(t, a);
    } else if (streq(resource, "ingressclasses")) {
        const char *c = YAJL_GET_STRING(json_get(json_get(e->object, "spec"), "controller"));
        table_cell(t, c ? c : "");
        table_cell(t, "<none>");
        table_cell(t, a);
    } else if (streq(resource, "configmaps")) {
        table_cellf(t, "%zu", data_count(e->object));
        table_cell(t, a);
    } else if (streq(resource, "secrets")) {
        const char *type = YAJL_GET_STRING(json_get(e->object, "type"));
        table_cell(t, type ? type : "Opaque");
        table_cellf(t, "%zu", data_count(e->object));
        table_cell(t, a);
    } else {
        table_cell(t, status ? status : "Active");
        table_cell(t, a);
    }
}

/* One row alone, as text: a watch prints each change as it comes. */
static char *row_text(const struct get_opts *o, const struct pods_entry *e, const char *status,
                      const char *age)
{
    _cleanup_table_ table *t = table_new();
    add_row(t, o, e, status, age);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        abort(); /* out of memory, as xmalloc treats it */
    table_print(t, f);
    fclose(f);
    return buf;
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
    *text = row_text(o, e, status, a);
    *key = row_text(o, e, status, NULL);
    return 0;
}

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

/* kubectl's way with a long list of addresses: the first three, then how many more. */
static void append_addr(char **s, size_t *n, const char *addr)
{
    (*n)++;
    if (*n > 3)
        return;
    char *x = xasprintf("%s%s%s", *s, **s ? "," : "", addr);
    free(*s);
    *s = x;
}

static char *addr_list(char *s, size_t n)
{
    if (!*s) {
        free(s);
        return xstrdup("<none>");
    }
    if (n <= 3)
        return s;
    char *x = xasprintf("%s + %zu more...", s, n - 3);
    free(s);
    return x;
}

/* A stored EndpointSlice's row: its own name, ports and addresses. */
static void stored_slice_row(table *t, const struct pods_entry *e, bool all)
{
    char *addrs = xstrdup(""), *ports = xstrdup("");
    size_t n = 0, nports = 0;
    yajl_val eps = json_get(e->object, "endpoints"), ps = json_get(e->object, "ports");
    for (size_t i = 0; i < json_array_len(ps); i++) {
        yajl_val port = json_get(json_array_at(ps, i), "port");
        _cleanup_free_ char *p =
            YAJL_IS_INTEGER(port) ? xasprintf("%lld", YAJL_GET_INTEGER(port)) : xstrdup("<unset>");
        append_addr(&ports, &nports, p);
    }
    for (size_t i = 0; i < json_array_len(eps); i++) {
        yajl_val as = json_get(json_array_at(eps, i), "addresses");
        for (size_t k = 0; k < json_array_len(as); k++)
            if (YAJL_GET_STRING(json_array_at(as, k)))
                append_addr(&addrs, &n, YAJL_GET_STRING(json_array_at(as, k)));
    }
    addrs = addr_list(addrs, n);
    ports = addr_list(ports, nports);
    const char *type = YAJL_GET_STRING(json_get(e->object, "addressType"));
    char a[32];
    age(e->created, a);
    table_row(t);
    if (all)
        table_cell(t, e->ns);
    table_cell(t, e->name);
    table_cell(t, type ? type : "IPv4");
    table_cell(t, ports);
    table_cell(t, addrs);
    table_cell(t, a);
    free(addrs);
    free(ports);
}

static bool named(const struct pods_entry *e, void *name)
{
    return !name || streq(e->name, name);
}

/* get endpoints|endpointslices: computed now from the services and the pods; a selectorless
 * service's EndpointSlices are the ones stored for it, each under its own name. */
static int get_endpoints(struct pods_manager *m, bool slices, const char *ns, const char *name,
                         const char *out, bool all, pr_error **err)
{
    if (out && !streq(out, "wide"))
        return pr_err_code(err, EOPNOTSUPP, "-o %s: podrun prints %s as a table only so far", out,
                           slices ? "endpointslices" : "endpoints");
    struct pods_endpoints l = {0};
    struct pods_list stored = {0};
    int r = slices ? pods_list(m, "endpointslices", ns, NULL, &stored, err) : 0;
    if (r == 0)
        pods_list_keep(&stored, named, (void *)name);
    /* A name that is a stored slice's names it alone. */
    if (r == 0 && !(name && stored.n))
        r = pods_service_endpoints(m, ns, name, &l, err);
    pods_manager_close(m);
    if (r < 0) {
        pods_endpoints_of_clear(&l);
        pods_list_clear(&stored);
        return r;
    }
    size_t rows = stored.n;
    for (size_t i = 0; i < l.n_services; i++)
        rows += !(slices && l.services[i].manual);
    if (!rows) {
        pods_list_clear(&stored);
        if (ns)
            fprintf(stderr, "No resources found in %s namespace.\n", ns);
        else
            fprintf(stderr, "No resources found\n");
        pods_endpoints_of_clear(&l);
        return 0;
    }
    _cleanup_table_ table *t = table_new();
    table_row(t);
    if (all)
        table_cell(t, "NAMESPACE");
    table_cell(t, "NAME");
    if (slices) {
        table_cell(t, "ADDRESSTYPE");
        table_cell(t, "PORTS");
    }
    table_cell(t, "ENDPOINTS");
    table_cell(t, "AGE");
    for (size_t i = 0; i < stored.n; i++)
        stored_slice_row(t, &stored.v[i], all);
    pods_list_clear(&stored);
    for (size_t i = 0; i < l.n_services; i++) {
        if (slices && l.services[i].manual)
            continue; /* its slices are the stored ones */
        char *addrs = xstrdup(""), *ports = xstrdup("");
        size_t n = 0, nports = 0;
        for (size_t k = 0; k < l.n; k++) {
            const struct pods_endpoint *e = &l.v[k];
            if (e->service != i)
                continue;
            if (slices) {
                _cleanup_free_ char *p = xasprintf("%d", e->port);
                bool seen = false, ip_seen = false;
                for (size_t j = 0; j < k; j++) {
                    seen |= l.v[j].service == i && l.v[j].port == e->port;
                    ip_seen |= l.v[j].service == i && streq(l.v[j].ip, e->ip);
                }
                if (!seen && e->port)
                    append_addr(&ports, &nports, p);
                if (!ip_seen)
                    append_addr(&addrs, &n, e->ip);
            } else if (e->ready) {
                /* A service without ports: its addresses alone, as kubectl prints them. */
                _cleanup_free_ char *a =
                    e->port ? xasprintf("%s:%d", e->ip, e->port) : xstrdup(e->ip);
                append_addr(&addrs, &n, a);
            }
        }
        addrs = addr_list(addrs, n);
        ports = addr_list(ports, nports);
        char a[32];
        age(l.services[i].created, a);
        table_row(t);
        if (all)
            table_cell(t, l.services[i].ns);
        if (slices)
            table_cellf(t, "%s-podrun", l.services[i].name);
        else
            table_cell(t, l.services[i].name);
        if (slices) {
            table_cell(t, "IPv4");
            table_cell(t, ports);
        }
        table_cell(t, addrs);
        table_cell(t, a);
        free(addrs);
        free(ports);
    }
    table_print(t, stdout);
    pods_endpoints_of_clear(&l);
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
    /* Reading takes no lock, as reading from the API server never waits for a writer: every
     * record is replaced by rename, so a listing during an apply or a delete shows each
     * change as it happens (a pod being made as ContainerCreating, a delete's Terminating). */
    int r = open_manager_unlocked(g, &m, err);
    if (r < 0)
        return r;
    pr_error *missing = NULL;
    for (size_t i = 0; r == 0 && i < (q->names ? strv_length(q->names) : 1); i++) {
        struct pods_list one = {0};
        pr_error *e = NULL;
        r = pods_list(m, q->resource, q->ns, q->names ? q->names[i] : NULL, &one, &e);
        /* A workload's status is its pods', counted now (a claim's, its volume's). */
        for (size_t k = 0; r == 0 && !streq(q->resource, "pods") && k < one.n; k++)
            r = pods_object_status(m, q->resource, &one.v[k], &one.v[k].status, &e);
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
    if (!*done && !o->json && !o->yaml && !o->name) {
        _cleanup_table_ table *t = table_new();
        add_header(t, o);
        table_print(t, stdout);
    }
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
    int r = open_manager_unlocked(g, &m, err);
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

/* kubectl get all: the "all" category's kinds in kubectl's order, each a table of its own
 * whose names carry their kind (pod/web, deployment.apps/web), a blank line between. */
static int get_all(struct podrun_global *g, const struct get_opts *base, const char *ns,
                   const struct kube_selector *sel, pr_error **err)
{
    static const char *const kinds[] = {"pods",
                                        "services",
                                        "daemonsets",
                                        "deployments",
                                        "replicasets",
                                        "statefulsets",
                                        "horizontalpodautoscalers",
                                        "cronjobs",
                                        "jobs"};
    if (base->json || base->yaml)
        return pr_err_code(err, EOPNOTSUPP, "get all: -o json|yaml is not supported yet");
    bool any = false;
    for (size_t k = 0; k < ARRAY_SIZE(kinds); k++) {
        struct get_opts o = *base;
        o.resource = kinds[k];
        struct query q = {kinds[k], o.all ? NULL : ns, NULL, sel};
        struct pods_list l = {0};
        int r = fetch(g, &q, false, &l, err);
        if (r < 0) {
            pods_list_clear(&l);
            return r;
        }
        const char *group = pods_resource_group(kinds[k]);
        _cleanup_free_ char *kind = pods_resource_singular(kinds[k]);
        for (size_t i = 0; i < l.n; i++) {
            char *n =
                xasprintf("%s%s%s/%s", kind, group ? "." : "", group ? group : "", l.v[i].name);
            free(l.v[i].name);
            l.v[i].name = n;
        }
        if (o.name) {
            for (size_t i = 0; i < l.n; i++)
                printf("%s\n", l.v[i].name);
        } else if (l.n) {
            _cleanup_table_ table *t = table_new();
            add_header(t, &o);
            for (size_t i = 0; i < l.n; i++) {
                char a[32];
                age(l.v[i].created, a);
                add_row(t, &o, &l.v[i], NULL, a);
            }
            if (any)
                putchar('\n');
            table_print(t, stdout);
        }
        any |= l.n > 0;
        pods_list_clear(&l);
    }
    if (!any) {
        if (base->all)
            fprintf(stderr, "No resources found\n");
        else
            fprintf(stderr, "No resources found in %s namespace.\n", ns);
    }
    return 0;
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
    int r = 0;
    if (optind < argc && streq(argv[optind], "all")) {
        if (optind + 1 < argc)
            return pr_err(err, 0, "get all takes no names");
        if (watching)
            return pr_err(err, 0, "get all: -w is not supported");
        if (out && !streq(out, "wide") && !streq(out, "json") && !streq(out, "yaml") &&
            !streq(out, "name"))
            return pr_err(err, 0,
                          "unable to match a printer suitable for the output format \"%s\", "
                          "allowed formats are: json,name,wide,yaml",
                          out);
        _cleanup_(kube_selector_clear) struct kube_selector all_sel = {0};
        if (selector && (r = kube_selector_parse(selector, &all_sel, err)) < 0)
            return pr_err_prefix(err, "-l \"%s\"", selector);
        struct get_opts o = {
            .all = all,
            .wide = out && streq(out, "wide"),
            .json = out && streq(out, "json"),
            .yaml = out && streq(out, "yaml"),
            .name = out && streq(out, "name"),
        };
        return get_all(g, &o, ns ? ns : "default", selector ? &all_sel : NULL, err);
    }
    r = cli_resource_args(argc - optind, argv + optind, "get", &resource, &names, err);
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
    const char *name = names ? names[0] : NULL;
    if (names && strv_length(names) > 1 && (streq(resource, "nodes") || streq(resource, "events")))
        return pr_err(err, 0, "get %s takes one name at most", resource);
    if (watching && (streq(resource, "nodes") || streq(resource, "events")))
        return pr_err(err, 0, "get %s: -w is not supported for %s yet", resource, resource);
    if (streq(resource, "nodes"))
        return get_nodes(g, name, selector, out, err);
    if (all && names)
        return pr_err(err, 0, "a resource cannot be retrieved by name across all namespaces");
    if (!ns)
        ns = "default";
    if (streq(resource, "events")) {
        struct pods_manager *m = NULL;
        if ((r = open_manager_unlocked(g, &m, err)) < 0)
            return r;
        return get_events(m, all ? NULL : ns, name, out, selector ? &sel : NULL, err);
    }
    if (streq(resource, "endpoints") || streq(resource, "endpointslices")) {
        if (selector)
            return pr_err_code(err, EOPNOTSUPP, "-l: not supported for %s yet", resource);
        if (watching)
            return pr_err(err, 0, "get %s: -w is not supported for %s yet", resource, resource);
        struct pods_manager *m = NULL;
        if ((r = open_manager_unlocked(g, &m, err)) < 0)
            return r;
        return get_endpoints(m, streq(resource, "endpointslices"), all ? NULL : ns, name, out, all,
                             err);
    }
    struct get_opts o = {
        .resource = resource,
        .all = all,
        .wide = out && streq(out, "wide"),
        .json = out && streq(out, "json"),
        .yaml = out && streq(out, "yaml"),
        .name = out && streq(out, "name"),
    };
    struct query q = {resource, all || streq(resource, "persistentvolumes") ? NULL : ns, names,
                      selector ? &sel : NULL};
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
        const char *group = pods_resource_group(resource);
        _cleanup_free_ char *kind = pods_resource_singular(resource);
        for (size_t i = 0; i < l.n; i++)
            printf("%s%s%s/%s\n", kind, group ? "." : "", group ? group : "", l.v[i].name);
    } else if (!l.n && !names) {
        if (all || streq(resource, "namespaces") || streq(resource, "persistentvolumes"))
            fprintf(stderr, "No resources found\n");
        else
            fprintf(stderr, "No resources found in %s namespace.\n", ns);
    } else if (l.n) {
        _cleanup_table_ table *t = table_new();
        add_header(t, &o);
        for (size_t i = 0; i < l.n; i++) {
            char a[32];
            age(l.v[i].created, a);
            add_row(t, &o, &l.v[i], NULL, a);
        }
        table_print(t, stdout);
    }
    pods_list_clear(&l);
    if (r == 0 && found < 0)
        *err = steal_pointer(&not_found);
    /* A name not found: told after what was (its error is in *err), exit status 1. */
    return r < 0 ? r : found;
}
