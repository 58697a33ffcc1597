/* SPDX-License-Identifier: Apache-2.0 */
/* podrun describe pod: kubectl's describe layout over the pod as the API server would return
 * it (podview), so that its spec defaults and status are the ones `get -o yaml` shows. */
#include "commands.h"
#include "eventview.h"
#include "podview.h"
#include "util.h"

#include <getopt.h>
#include <time.h>

#define USAGE "usage: podrun describe pod|service [NAME...] [-n NAMESPACE] | describe node [NAME]"

static const char *str(yajl_val v, const char *key)
{
    return YAJL_GET_STRING(json_get(v, key));
}

/* "key=value" lines, the first after the label, the others under it. */
static void print_map(const char *label, int width, yajl_val m)
{
    printf("%-*s", width, label);
    if (!YAJL_IS_OBJECT(m) || !m->u.object.len) {
        printf("<none>\n");
        return;
    }
    for (size_t i = 0; i < m->u.object.len; i++) {
        yajl_val v = m->u.object.values[i];
        printf("%*s%s=%s\n", i ? width : 0, "", m->u.object.keys[i],
               YAJL_IS_STRING(v) ? v->u.string : "");
    }
}

void describe_map(const char *label, int width, yajl_val m)
{
    print_map(label, width, m);
}

static void print_words(const char *label, yajl_val list)
{
    if (!json_array_len(list))
        return;
    printf("    %s:\n", label);
    for (size_t i = 0; i < json_array_len(list); i++)
        printf("      %s\n", YAJL_GET_STRING(json_array_at(list, i)) ?: "");
}

/* A termination message as kubectl shows one: its lines under "Message:", indented. */
static void print_message(const char *msg)
{
    printf("      %-14s", "Message:");
    for (const char *line = msg; line;) {
        const char *nl = strchr(line, '\n');
        int n = nl ? (int)(nl - line) : (int)strlen(line);
        printf("%s%.*s\n", line == msg ? "" : "                    ", n, line);
        line = nl ? nl + 1 : NULL;
    }
}

static void print_state(const char *label, yajl_val state)
{
    char t[64];
    yajl_val run = json_get(state, "running"), wait = json_get(state, "waiting"),
             term = json_get(state, "terminated");
    if (run) {
        human_time(str(run, "startedAt"), t);
        printf("    %-16sRunning\n      %-14s%s\n", label, "Started:", t);
    } else if (wait) {
        printf("    %-16sWaiting\n", label);
        if (str(wait, "reason"))
            printf("      %-14s%s\n", "Reason:", str(wait, "reason"));
    } else if (term) {
        yajl_val code = json_get(term, "exitCode");
        printf("    %-16sTerminated\n", label);
        if (str(term, "reason"))
            printf("      %-14s%s\n", "Reason:", str(term, "reason"));
        if (str(term, "message"))
            print_message(str(term, "message"));
        printf("      %-14s%lld\n",
               "Exit Code:", YAJL_IS_INTEGER(code) ? (long long)YAJL_GET_INTEGER(code) : 0LL);
        human_time(str(term, "startedAt"), t);
        printf("      %-14s%s\n", "Started:", t);
        human_time(str(term, "finishedAt"), t);
        printf("      %-14s%s\n", "Finished:", t);
    } else if (streq(label, "State:")) {
        printf("    %-16sWaiting\n", label);
    }
}

static char *port_text(yajl_val p)
{
    yajl_val v = json_get(p, "port");
    if (YAJL_IS_INTEGER(v))
        return xasprintf("%lld", (long long)YAJL_GET_INTEGER(v));
    return xstrdup(YAJL_GET_STRING(v) ?: "");
}

/* kubectl's probe line: "exec [cat /tmp/x] delay=0s timeout=1s period=10s #success=1
 * #failure=3". */
static void print_probe(const char *label, yajl_val p)
{
    if (!p)
        return;
    printf("    %-16s", label);
    yajl_val exec = json_get(p, "exec"), http = json_get(p, "httpGet"),
             tcp = json_get(p, "tcpSocket");
    if (exec) {
        yajl_val cmd = json_get(exec, "command");
        printf("exec [");
        for (size_t i = 0; i < json_array_len(cmd); i++)
            printf("%s%s", i ? " " : "", YAJL_GET_STRING(json_array_at(cmd, i)) ?: "");
        printf("]");
    } else if (http) {
        _cleanup_free_ char *port = port_text(http);
        const char *scheme = str(http, "scheme");
        printf("http-get %s://%s:%s%s", scheme && streq(scheme, "HTTPS") ? "https" : "http",
               str(http, "host") ?: "", port, str(http, "path") ?: "/");
    } else if (tcp) {
        _cleanup_free_ char *port = port_text(tcp);
        printf("tcp-socket %s:%s", str(tcp, "host") ?: "", port);
    }
    static const char *const f[] = {"initialDelaySeconds", "timeoutSeconds", "periodSeconds",
                                    "successThreshold", "failureThreshold"};
    static const char *const n[] = {"delay=%llds", "timeout=%llds", "period=%llds", "#success=%lld",
                                    "#failure=%lld"};
    for (size_t i = 0; i < ARRAY_SIZE(f); i++) {
        yajl_val v = json_get(p, f[i]);
        printf(" ");
        printf(n[i], YAJL_IS_INTEGER(v) ? (long long)YAJL_GET_INTEGER(v) : 0LL);
    }
    printf("\n");
}

static void print_resources(const char *label, yajl_val m)
{
    if (!YAJL_IS_OBJECT(m) || !m->u.object.len)
        return;
    printf("    %s:\n", label);
    for (size_t i = 0; i < m->u.object.len; i++) {
        yajl_val v = m->u.object.values[i];
        _cleanup_free_ char *k = xasprintf("%s:", m->u.object.keys[i]);
        printf("      %-9s%s\n", k,
               YAJL_IS_STRING(v)   ? v->u.string
               : YAJL_IS_NUMBER(v) ? v->u.number.r
                                   : "");
    }
}

static void print_env(yajl_val c)
{
    yajl_val env = json_get(c, "env"), from = json_get(c, "envFrom");
    if (json_array_len(from)) {
        printf("    Environment Variables from:\n");
        for (size_t i = 0; i < json_array_len(from); i++) {
            yajl_val f = json_array_at(from, i);
            yajl_val cm = json_get(f, "configMapRef"), sec = json_get(f, "secretRef");
            yajl_val ref = cm ? cm : sec, opt = json_get(ref, "optional");
            printf("      %s  %s  Optional: %s\n", str(ref, "name") ?: "",
                   cm ? "ConfigMap" : "Secret", opt && YAJL_IS_TRUE(opt) ? "true" : "false");
        }
    }
    if (!json_array_len(env)) {
        printf("    %-16s<none>\n", "Environment:");
        return;
    }
    printf("    Environment:\n");
    for (size_t i = 0; i < json_array_len(env); i++) {
        yajl_val e = json_array_at(env, i), vf = json_get(e, "valueFrom");
        printf("      %s:  ", str(e, "name") ?: "");
        yajl_val cm = json_get(vf, "configMapKeyRef"), sec = json_get(vf, "secretKeyRef"),
                 field = json_get(vf, "fieldRef"), res = json_get(vf, "resourceFieldRef");
        if (cm || sec) {
            yajl_val ref = cm ? cm : sec, opt = json_get(ref, "optional");
            printf("<set to the key '%s' %s '%s'>  Optional: %s\n", str(ref, "key") ?: "",
                   cm ? "of config map" : "in secret", str(ref, "name") ?: "",
                   opt && YAJL_IS_TRUE(opt) ? "true" : "false");
        } else if (field) {
            printf("(%s:%s)\n", str(field, "apiVersion") ?: "v1", str(field, "fieldPath") ?: "");
        } else if (res) {
            printf("%s\n", str(res, "resource") ?: "");
        } else {
            printf("%s\n", str(e, "value") ?: "");
        }
    }
}

static void print_mounts(yajl_val c)
{
    yajl_val mounts = json_get(c, "volumeMounts");
    if (!json_array_len(mounts)) {
        printf("    %-16s<none>\n", "Mounts:");
        return;
    }
    printf("    Mounts:\n");
    for (size_t i = 0; i < json_array_len(mounts); i++) {
        yajl_val m = json_array_at(mounts, i), ro = json_get(m, "readOnly");
        const char *sub = str(m, "subPath");
        printf("      %s from %s (%s", str(m, "mountPath") ?: "", str(m, "name") ?: "",
               ro && YAJL_IS_TRUE(ro) ? "ro" : "rw");
        if (sub && *sub)
            printf(",path=\"%s\"", sub);
        printf(")\n");
    }
}

static yajl_val status_of(yajl_val list, const char *name)
{
    for (size_t i = 0; name && i < json_array_len(list); i++)
        if (streq(str(json_array_at(list, i), "name") ?: "", name))
            return json_array_at(list, i);
    return NULL;
}

static void print_containers(const char *title, yajl_val list, yajl_val statuses)
{
    if (!json_array_len(list))
        return;
    printf("%s:\n", title);
    for (size_t i = 0; i < json_array_len(list); i++) {
        yajl_val c = json_array_at(list, i);
        yajl_val s = status_of(statuses, str(c, "name"));
        yajl_val ports = json_get(c, "ports"), ready = json_get(s, "ready"),
                 rc = json_get(s, "restartCount");
        printf("  %s:\n", str(c, "name") ?: "");
        if (str(s, "containerID"))
            printf("    %-16s%s\n", "Container ID:", str(s, "containerID"));
        printf("    %-16s%s\n", "Image:", str(c, "image") ?: "");
        printf("    %-16s%s\n", "Image ID:", str(s, "imageID") ?: "");
        if (!json_array_len(ports)) {
            printf("    %-16s<none>\n    %-16s<none>\n", "Port:", "Host Port:");
        } else {
            yajl_val p = json_array_at(ports, 0), hp = json_get(p, "hostPort");
            const char *proto = str(p, "protocol") ?: "TCP";
            yajl_val cp = json_get(p, "containerPort");
            printf("    %-16s%lld/%s\n",
                   "Port:", YAJL_IS_INTEGER(cp) ? (long long)YAJL_GET_INTEGER(cp) : 0LL, proto);
            printf("    %-16s%lld/%s\n",
                   "Host Port:", YAJL_IS_INTEGER(hp) ? (long long)YAJL_GET_INTEGER(hp) : 0LL,
                   proto);
        }
        print_words("Command", json_get(c, "command"));
        print_words("Args", json_get(c, "args"));
        print_state("State:", json_get(s, "state"));
        print_state("Last State:", json_get(s, "lastState"));
        printf("    %-16s%s\n", "Ready:", ready && YAJL_IS_TRUE(ready) ? "True" : "False");
        printf("    %-16s%lld\n",
               "Restart Count:", YAJL_IS_INTEGER(rc) ? (long long)YAJL_GET_INTEGER(rc) : 0LL);
        print_resources("Limits", json_get(json_get(c, "resources"), "limits"));
        print_resources("Requests", json_get(json_get(c, "resources"), "requests"));
        print_probe("Liveness:", json_get(c, "livenessProbe"));
        print_probe("Readiness:", json_get(c, "readinessProbe"));
        print_probe("Startup:", json_get(c, "startupProbe"));
        print_env(c);
        print_mounts(c);
    }
}

static void print_volumes(yajl_val vols)
{
    if (!json_array_len(vols)) {
        printf("%-18s<none>\n", "Volumes:");
        return;
    }
    printf("Volumes:\n");
    for (size_t i = 0; i < json_array_len(vols); i++) {
        yajl_val v = json_array_at(vols, i);
        yajl_val ed = json_get(v, "emptyDir"), cm = json_get(v, "configMap"),
                 sec = json_get(v, "secret"), hp = json_get(v, "hostPath"),
                 pvc = json_get(v, "persistentVolumeClaim");
        printf("  %s:\n", str(v, "name") ?: "");
        if (ed) {
            printf("    %-12s%s\n",
                   "Type:", "EmptyDir (a temporary directory that shares a pod's lifetime)");
            printf("    %-12s%s\n", "Medium:", str(ed, "medium") ?: "");
            printf("    %-12s%s\n", "SizeLimit:", str(ed, "sizeLimit") ?: "<unset>");
        } else if (cm || sec) {
            yajl_val opt = json_get(cm ? cm : sec, "optional");
            printf("    %-12s%s\n", "Type:",
                   cm ? "ConfigMap (a volume populated by a ConfigMap)"
                      : "Secret (a volume populated by a Secret)");
            printf("    %-12s%s\n", cm ? "Name:" : "SecretName:",
                   str(cm ? cm : sec, cm ? "name" : "secretName") ?: "");
            printf("    %-12s%s\n", "Optional:", opt && YAJL_IS_TRUE(opt) ? "true" : "false");
        } else if (hp) {
            printf("    %-15s%s\n", "Type:", "HostPath (bare host directory volume)");
            printf("    %-15s%s\n", "Path:", str(hp, "path") ?: "");
            printf("    %-15s%s\n", "HostPathType:", str(hp, "type") ?: "");
        } else if (pvc) {
            printf("    %-12s%s\n", "Type:",
                   "PersistentVolumeClaim (a reference to a PersistentVolumeClaim in the same "
                   "namespace)");
            printf("    %-12s%s\n", "ClaimName:", str(pvc, "claimName") ?: "");
        }
    }
}

/* Equal quantities ("1" and "1000m"), compared in thousandths. */
static bool same_quantity(yajl_val a, yajl_val b)
{
    const char *ta = YAJL_IS_STRING(a) ? a->u.string : YAJL_IS_NUMBER(a) ? a->u.number.r : NULL;
    const char *tb = YAJL_IS_STRING(b) ? b->u.string : YAJL_IS_NUMBER(b) ? b->u.number.r : NULL;
    struct kube_quantity qa, qb;
    int64_t va, vb;
    _cleanup_error_ pr_error *e = NULL;
    if (!ta || !tb || kube_quantity_parse(ta, &qa, &e) < 0 || kube_quantity_parse(tb, &qb, &e) < 0)
        return false;
    if (kube_quantity_scaled(&qa, 3, &va) < 0 || kube_quantity_scaled(&qb, 3, &vb) < 0)
        return ta && tb && streq(ta, tb);
    return va == vb;
}

/* The QoS class the kubelet gives: Guaranteed when every container's cpu and memory requests
 * equal their limits, BestEffort when none asks for anything, else Burstable. */
static const char *qos_class(yajl_val spec)
{
    bool any = false, guaranteed = true;
    yajl_val lists[] = {json_get(spec, "initContainers"), json_get(spec, "containers")};
    for (size_t k = 0; k < ARRAY_SIZE(lists); k++)
        for (size_t i = 0; i < json_array_len(lists[k]); i++) {
            yajl_val res = json_get(json_array_at(lists[k], i), "resources");
            yajl_val lim = json_get(res, "limits"), req = json_get(res, "requests");
            static const char *const rs[] = {"cpu", "memory"};
            for (size_t j = 0; j < ARRAY_SIZE(rs); j++) {
                yajl_val l = json_get(lim, rs[j]), q = json_get(req, rs[j]);
                any = any || l || q;
                if (!l || (q && !same_quantity(l, q)))
                    guaranteed = false;
            }
        }
    return !any ? "BestEffort" : guaranteed ? "Guaranteed" : "Burstable";
}

static void describe_pod(yajl_val o, const struct pods_events *events)
{
    yajl_val md = json_get(o, "metadata"), spec = json_get(o, "spec"), st = json_get(o, "status");
    char t[64];
    const char *host = str(st, "hostIP");
    _cleanup_free_ char *node =
        xasprintf("%s%s%s", str(spec, "nodeName") ?: "<none>", host ? "/" : "", host ?: "");
    yajl_val prio = json_get(spec, "priority");
    printf("%-18s%s\n", "Name:", str(md, "name") ?: "");
    printf("%-18s%s\n", "Namespace:", str(md, "namespace") ?: "");
    printf("%-18s%lld\n",
           "Priority:", YAJL_IS_INTEGER(prio) ? (long long)YAJL_GET_INTEGER(prio) : 0LL);
    printf("%-18s%s\n", "Node:", node);
    human_time(str(st, "startTime"), t);
    printf("%-18s%s\n", "Start Time:", t);
    print_map("Labels:", 18, json_get(md, "labels"));
    print_map("Annotations:", 18, json_get(md, "annotations"));
    printf("%-18s%s\n", "Status:", str(st, "phase") ?: "Unknown");
    if (str(st, "reason"))
        printf("%-18s%s\n", "Reason:", str(st, "reason"));
    if (str(st, "message"))
        printf("%-18s%s\n", "Message:", str(st, "message"));
    printf("%-18s%s\n", "IP:", str(st, "podIP") ?: "");
    yajl_val ips = json_get(st, "podIPs");
    if (json_array_len(ips)) {
        printf("IPs:\n");
        for (size_t i = 0; i < json_array_len(ips); i++)
            printf("  IP:  %s\n", str(json_array_at(ips, i), "ip") ?: "");
    } else {
        printf("%-18s<none>\n", "IPs:");
    }
    print_containers("Init Containers", json_get(spec, "initContainers"),
                     json_get(st, "initContainerStatuses"));
    print_containers("Containers", json_get(spec, "containers"), json_get(st, "containerStatuses"));
    yajl_val conds = json_get(st, "conditions");
    printf("Conditions:\n  %-18s%s\n", "Type", "Status");
    for (size_t i = 0; i < json_array_len(conds); i++) {
        yajl_val c = json_array_at(conds, i);
        printf("  %-18s%s \n", str(c, "type") ?: "", str(c, "status") ?: "");
    }
    print_volumes(json_get(spec, "volumes"));
    printf("%-29s%s\n", "QoS Class:", str(st, "qosClass") ?: qos_class(spec));
    print_map("Node-Selectors:", 29, json_get(spec, "nodeSelector"));
    printf("%-29s%s\n", "Tolerations:", "<none>");
    eventview_describe(events, str(md, "uid") ?: "");
}

/* kubectl describe service's layout: a 26-column label, a port line per port, the ready
 * endpoints of each (comma-separated, "<none>"). */
static void describe_service(yajl_val o, const struct pods_endpoints *eps, size_t svc)
{
    const int w = 26;
    yajl_val md = json_get(o, "metadata"), spec = json_get(o, "spec");
    printf("%-*s%s\n", w, "Name:", str(md, "name") ?: "");
    printf("%-*s%s\n", w, "Namespace:", str(md, "namespace") ?: "");
    print_map("Labels:", w, json_get(md, "labels"));
    print_map("Annotations:", w, json_get(md, "annotations"));
    yajl_val sel = json_get(spec, "selector");
    printf("%-*s", w, "Selector:");
    if (!YAJL_IS_OBJECT(sel) || !sel->u.object.len)
        printf("<none>");
    for (size_t i = 0; YAJL_IS_OBJECT(sel) && i < sel->u.object.len; i++)
        printf("%s%s=%s", i ? "," : "", sel->u.object.keys[i],
               YAJL_GET_STRING(sel->u.object.values[i]) ?: "");
    printf("\n");
    printf("%-*s%s\n", w, "Type:", str(spec, "type") ?: "ClusterIP");
    printf("%-*s%s\n", w, "IP Family Policy:", str(spec, "ipFamilyPolicy") ?: "SingleStack");
    printf("%-*s%s\n", w, "IP Families:", "IPv4");
    printf("%-*s%s\n", w, "IP:", str(spec, "clusterIP") ?: "<none>");
    printf("%-*s%s\n", w, "IPs:", str(spec, "clusterIP") ?: "<none>");
    if (str(spec, "loadBalancerIP"))
        printf("%-*s%s\n", w, "Desired LoadBalancer IP:", str(spec, "loadBalancerIP"));
    yajl_val lbi = json_get(json_get(json_get(o, "status"), "loadBalancer"), "ingress");
    for (size_t i = 0; i < json_array_len(lbi); i++)
        printf("%-*s%s (%s)\n", w,
               i ? "" : "LoadBalancer Ingress:", str(json_array_at(lbi, i), "ip") ?: "",
               str(json_array_at(lbi, i), "ipMode") ?: "VIP");
    yajl_val ports = json_get(spec, "ports");
    for (size_t i = 0; i < json_array_len(ports); i++) {
        yajl_val p = json_array_at(ports, i);
        const char *name = str(p, "name"), *proto = str(p, "protocol") ?: "TCP";
        yajl_val port = json_get(p, "port"), tp = json_get(p, "targetPort"),
                 np = json_get(p, "nodePort");
        long long pn = YAJL_IS_INTEGER(port) ? (long long)YAJL_GET_INTEGER(port) : 0;
        printf("%-*s%s  %lld/%s\n", w, "Port:", name ?: "<unset>", pn, proto);
        if (YAJL_IS_INTEGER(tp))
            printf("%-*s%lld/%s\n", w, "TargetPort:", (long long)YAJL_GET_INTEGER(tp), proto);
        else
            printf("%-*s%s/%s\n", w, "TargetPort:", YAJL_GET_STRING(tp) ?: "", proto);
        if (YAJL_IS_INTEGER(np))
            printf("%-*s%s  %lld/%s\n", w, "NodePort:", name ?: "<unset>",
                   (long long)YAJL_GET_INTEGER(np), proto);
        printf("%-*s", w, "Endpoints:");
        size_t n = 0;
        for (size_t k = 0; k < eps->n; k++) {
            const struct pods_endpoint *e = &eps->v[k];
            bool same =
                (!name && !e->port_name) || (name && e->port_name && streq(name, e->port_name));
            if (e->service != svc || !same || !e->ready)
                continue;
            printf("%s%s:%d", n++ ? "," : "", e->ip, e->port);
        }
        printf("%s\n", n ? "" : "<none>");
    }
    printf("%-*s%s\n", w, "Session Affinity:", str(spec, "sessionAffinity") ?: "None");
    if (str(spec, "externalTrafficPolicy"))
        printf("%-*s%s\n", w, "External Traffic Policy:", str(spec, "externalTrafficPolicy"));
    yajl_val hc = json_get(spec, "healthCheckNodePort");
    if (YAJL_IS_INTEGER(hc))
        printf("%-*s%lld\n", w, "HealthCheck NodePort:", YAJL_GET_INTEGER(hc));
    printf("%-*s%s\n", w,
           "Internal Traffic Policy:", str(spec, "internalTrafficPolicy") ?: "Cluster");
    printf("%-*s%s\n", w, "Events:", "<none>");
}

static int describe_services(struct pods_manager *m, const char *ns, const char *name,
                             pr_error **err)
{
    struct pods_list l = {0};
    struct pods_endpoints eps = {0};
    int r = pods_list(m, "services", ns, name, &l, err);
    if (r == 0)
        r = pods_service_endpoints(m, ns, name, &eps, err);
    pods_manager_close(m);
    if (r == 0 && !l.n)
        fprintf(stderr, "No resources found in %s namespace.\n", ns);
    for (size_t i = 0; r == 0 && i < l.n; i++) {
        _cleanup_json_ yajl_val o = NULL;
        if ((r = podview_tree("services", &l.v[i], &o, err)) < 0)
            break;
        size_t svc = 0;
        while (svc < eps.n_services && !streq(eps.services[svc].name, l.v[i].name))
            svc++;
        if (i)
            printf("\n\n");
        describe_service(o, &eps, svc);
    }
    pods_endpoints_of_clear(&eps);
    pods_list_clear(&l);
    return r;
}

/* ---- deployments ---- */

void print_template(yajl_val tpl)
{
    yajl_val md = json_get(tpl, "metadata"), spec = json_get(tpl, "spec");
    printf("Pod Template:\n");
    print_map("  Labels:  ", 11, json_get(md, "labels"));
    yajl_val cs = json_get(spec, "containers");
    printf("  Containers:\n");
    for (size_t i = 0; i < json_array_len(cs); i++) {
        yajl_val c = json_array_at(cs, i), ports = json_get(c, "ports");
        printf("   %s:\n", str(c, "name") ?: "");
        printf("    %-16s%s\n", "Image:", str(c, "image") ?: "");
        if (!json_array_len(ports)) {
            printf("    %-16s<none>\n    %-16s<none>\n", "Port:", "Host Port:");
        } else {
            yajl_val p = json_array_at(ports, 0), cp = json_get(p, "containerPort"),
                     hp = json_get(p, "hostPort");
            const char *proto = str(p, "protocol") ?: "TCP";
            printf("    %-16s%lld/%s\n",
                   "Port:", (long long)(cp && YAJL_IS_INTEGER(cp) ? YAJL_GET_INTEGER(cp) : 0),
                   proto);
            printf("    %-16s%lld/%s\n",
                   "Host Port:", (long long)(hp && YAJL_IS_INTEGER(hp) ? YAJL_GET_INTEGER(hp) : 0),
                   proto);
        }
        print_words("Command", json_get(c, "command"));
        print_words("Args", json_get(c, "args"));
        print_probe("Liveness:", json_get(c, "livenessProbe"));
        print_probe("Readiness:", json_get(c, "readinessProbe"));
        print_env(c);
        print_mounts(c);
    }
    print_volumes(json_get(spec, "volumes"));
}

static long long int_of(yajl_val v, const char *key, long long def)
{
    yajl_val x = json_get(v, key);
    return x && YAJL_IS_INTEGER(x) ? YAJL_GET_INTEGER(x) : def;
}

static const char *int_or_string(yajl_val v, char buf[32])
{
    if (v && YAJL_IS_INTEGER(v)) {
        snprintf(buf, 32, "%lld", (long long)YAJL_GET_INTEGER(v));
        return buf;
    }
    return YAJL_GET_STRING(v) ?: "25%";
}

/* The ReplicaSets of the Deployment: the new one (its template's hash) and the old ones, as
 * "NAME (READY/DESIRED replicas created)". */
static void print_replicasets(const struct pods_list *rss, const char *uid, const char *hash)
{
    _cleanup_free_ char *old = xstrdup(""), *nw = NULL;
    for (size_t i = 0; i < rss->n; i++) {
        yajl_val o = rss->v[i].object, md = json_get(o, "metadata");
        yajl_val refs = json_get(md, "ownerReferences");
        const char *owner = str(json_array_at(refs, 0), "uid");
        if (!owner || !streq(owner, uid))
            continue;
        const char *h = str(json_get(md, "labels"), "pod-template-hash");
        _cleanup_free_ char *text =
            xasprintf("%s (%lld/%lld replicas created)", rss->v[i].name,
                      (long long)int_of(rss->v[i].status, "replicas", 0),
                      (long long)int_of(json_get(o, "spec"), "replicas", 1));
        if (h && streq(h, hash)) {
            free(nw);
            nw = xstrdup(text);
        } else if (int_of(json_get(o, "spec"), "replicas", 1) > 0 ||
                   int_of(rss->v[i].status, "replicas", 0) > 0) {
            char *more = xasprintf("%s%s%s", old, *old ? ", " : "", text);
            free(old);
            old = more;
        }
    }
    printf("%-17s%s\n", "OldReplicaSets:", *old ? old : "<none>");
    printf("%-17s%s\n", "NewReplicaSet:", nw ? nw : "<none>");
}

static void describe_deployment(const struct pods_entry *e, const struct pods_list *rss,
                                const struct pods_events *events)
{
    yajl_val o = e->object, md = json_get(o, "metadata"), spec = json_get(o, "spec");
    yajl_val st = e->status, strat = json_get(spec, "strategy");
    char ts[32], t[64], a[32], b[32];
    podview_rfc3339(e->created, ts);
    human_time(ts, t);
    const char *type = str(strat, "type") ?: "RollingUpdate";
    long long want = int_of(spec, "replicas", 1);
    printf("%-24s%s\n", "Name:", e->name);
    printf("%-24s%s\n", "Namespace:", e->ns);
    printf("%-24s%s\n", "CreationTimestamp:", t);
    print_map("Labels:", 24, json_get(md, "labels"));
    print_map("Annotations:", 24, json_get(md, "annotations"));
    _cleanup_free_ char *sel = podview_selector_text(json_get(spec, "selector"));
    printf("%-24s%s\n", "Selector:", sel);
    printf("%-24s%lld desired | %lld updated | %lld total | %lld available | %lld unavailable\n",
           "Replicas:", want, (long long)int_of(st, "updatedReplicas", 0),
           (long long)int_of(st, "replicas", 0), (long long)int_of(st, "availableReplicas", 0),
           (long long)int_of(st, "unavailableReplicas", 0));
    printf("%-24s%s\n", "StrategyType:", type);
    printf("%-24s%lld\n", "MinReadySeconds:", (long long)int_of(spec, "minReadySeconds", 0));
    if (streq(type, "RollingUpdate")) {
        yajl_val ru = json_get(strat, "rollingUpdate");
        printf("%-24s%s max unavailable, %s max surge\n",
               "RollingUpdateStrategy:", int_or_string(json_get(ru, "maxUnavailable"), a),
               int_or_string(json_get(ru, "maxSurge"), b));
    }
    print_template(json_get(spec, "template"));
    yajl_val conds = json_get(st, "conditions");
    printf("Conditions:\n  %-15s%-8s%s\n  %-15s%-8s%s\n", "Type", "Status", "Reason", "----",
           "------", "------");
    for (size_t i = 0; i < json_array_len(conds); i++) {
        yajl_val c = json_array_at(conds, i);
        printf("  %-15s%-8s%s\n", str(c, "type") ?: "", str(c, "status") ?: "",
               str(c, "reason") ?: "");
    }
    char hash[KUBE_HASH_MAX] = "";
    kube_template_hash(json_get(spec, "template"), 0, hash, NULL);
    print_replicasets(rss, e->uid, hash);
    bool any = false;
    for (size_t i = 0; i < events->n; i++)
        any |= streq(events->v[i].uid, e->uid);
    if (any)
        eventview_describe(events, e->uid);
    else
        printf("%-17s%s\n", "Events:", "<none>");
}

static int describe_deployments(struct podrun_global *g, const char *ns, const char *name,
                                pr_error **err)
{
    struct pods_manager *m = NULL;
    int r = open_manager_unlocked(g, &m, err);
    if (r < 0)
        return r;
    struct pods_list l = {0}, rss = {0};
    struct pods_events events = {0};
    r = pods_list(m, "deployments", ns, name, &l, err);
    if (r == 0)
        r = pods_list(m, "replicasets", ns, NULL, &rss, err);
    if (r == 0)
        r = pods_workload_events_list(m, ns, "deployments", &events, err);
    for (size_t i = 0; r == 0 && i < l.n; i++)
        r = pods_workload_status(m, "deployments", &l.v[i], &l.v[i].status, err);
    for (size_t i = 0; r == 0 && i < rss.n; i++)
        r = pods_workload_status(m, "replicasets", &rss.v[i], &rss.v[i].status, err);
    pods_manager_close(m);
    if (r == 0 && !l.n)
        fprintf(stderr, "No resources found in %s namespace.\n", ns);
    for (size_t i = 0; r == 0 && i < l.n; i++) {
        if (i)
            printf("\n\n");
        describe_deployment(&l.v[i], &rss, &events);
    }
    pods_events_clear(&events);
    pods_list_clear(&l);
    pods_list_clear(&rss);
    return r;
}

/* ---- statefulsets, daemonsets, persistentvolumeclaims, persistentvolumes ---- */

static const char *modes_short(yajl_val modes, char *buf, size_t len)
{
    buf[0] = '\0';
    for (size_t i = 0; i < json_array_len(modes); i++) {
        const char *m = YAJL_GET_STRING(json_array_at(modes, i)) ?: "";
        const char *a = streq(m, "ReadWriteOnce")      ? "RWO"
                        : streq(m, "ReadOnlyMany")     ? "ROX"
                        : streq(m, "ReadWriteMany")    ? "RWX"
                        : streq(m, "ReadWriteOncePod") ? "RWOP"
                                                       : m;
        snprintf(buf + strlen(buf), len - strlen(buf), "%s%s", i ? "," : "", a);
    }
    return buf;
}

/* "N Running / N Waiting / N Succeeded / N Failed" of the pods the set controls. */
static void print_pods_status(const struct pods_list *pods, const char *uid, int width)
{
    long long run = 0, wait = 0, ok = 0, failed = 0;
    for (size_t i = 0; i < pods->n; i++) {
        yajl_val refs = json_get(json_get(pods->v[i].object, "metadata"), "ownerReferences");
        const char *owner = str(json_array_at(refs, 0), "uid");
        if (!owner || !streq(owner, uid))
            continue;
        const char *ph = pods->v[i].phase ? pods->v[i].phase : "Pending";
        run += streq(ph, "Running");
        ok += streq(ph, "Succeeded");
        failed += streq(ph, "Failed");
        wait += !streq(ph, "Running") && !streq(ph, "Succeeded") && !streq(ph, "Failed");
    }
    printf("%-*s%lld Running / %lld Waiting / %lld Succeeded / %lld Failed\n", width,
           "Pods Status:", run, wait, ok, failed);
}

static void describe_set(const char *resource, const struct pods_entry *e,
                         const struct pods_list *pods, const struct pods_events *events)
{
    yajl_val o = e->object, md = json_get(o, "metadata"), spec = json_get(o, "spec");
    yajl_val st = e->status, strat = json_get(spec, "updateStrategy");
    bool sts = streq(resource, "statefulsets");
    int w = sts ? 20 : 16;
    char ts[32], t[64];
    podview_rfc3339(e->created, ts);
    human_time(ts, t);
    printf("%-*s%s\n", w, "Name:", e->name);
    printf("%-*s%s\n", w, "Namespace:", e->ns);
    if (sts)
        printf("%-*s%s\n", w, "CreationTimestamp:", t);
    _cleanup_free_ char *sel = podview_selector_text(json_get(spec, "selector"));
    printf("%-*s%s\n", w, "Selector:", sel);
    if (!sts) {
        yajl_val ns = json_get(json_get(json_get(spec, "template"), "spec"), "nodeSelector");
        printf("%-*s", w, "Node-Selector:");
        if (!YAJL_IS_OBJECT(ns) || !ns->u.object.len)
            printf("<none>\n");
        for (size_t i = 0; YAJL_IS_OBJECT(ns) && i < ns->u.object.len; i++)
            printf("%s%s=%s", i ? "," : "", ns->u.object.keys[i],
                   YAJL_GET_STRING(ns->u.object.values[i]) ?: "");
        if (YAJL_IS_OBJECT(ns) && ns->u.object.len)
            printf("\n");
    }
    print_map("Labels:", w, json_get(md, "labels"));
    print_map("Annotations:", w, json_get(md, "annotations"));
    if (sts) {
        printf("%-*s%lld desired | %lld total\n", w,
               "Replicas:", (long long)int_of(spec, "replicas", 1),
               (long long)int_of(st, "replicas", 0));
        const char *type = str(strat, "type") ?: "RollingUpdate";
        printf("%-*s%s\n", w, "Update Strategy:", type);
        if (streq(type, "RollingUpdate"))
            printf("  %-*s%lld\n", w - 2, "Partition:",
                   (long long)int_of(json_get(strat, "rollingUpdate"), "partition", 0));
    } else {
        printf("Desired Number of Nodes Scheduled: %lld\n",
               (long long)int_of(st, "desiredNumberScheduled", 0));
        printf("Current Number of Nodes Scheduled: %lld\n",
               (long long)int_of(st, "currentNumberScheduled", 0));
        printf("Number of Nodes Scheduled with Up-to-date Pods: %lld\n",
               (long long)int_of(st, "updatedNumberScheduled", 0));
        printf("Number of Nodes Scheduled with Available Pods: %lld\n",
               (long long)int_of(st, "numberAvailable", 0));
        printf("Number of Nodes Misscheduled: %lld\n",
               (long long)int_of(st, "numberMisscheduled", 0));
    }
    print_pods_status(pods, e->uid, w);
    print_template(json_get(spec, "template"));
    yajl_val claims = json_get(spec, "volumeClaimTemplates");
    if (sts) {
        printf("Volume Claims:%s\n", json_array_len(claims) ? "" : "  <none>");
        for (size_t i = 0; i < json_array_len(claims); i++) {
            yajl_val c = json_array_at(claims, i), cm = json_get(c, "metadata"),
                     cs = json_get(c, "spec");
            char modes[64];
            printf("  %-15s%s\n", "Name:", str(cm, "name") ?: "");
            printf("  %-15s%s\n",
                   "StorageClass:", str(cs, "storageClassName") ?: KUBE_LOCAL_PATH_CLASS);
            print_map("  Labels:", 17, json_get(cm, "labels"));
            print_map("  Annotations:", 17, json_get(cm, "annotations"));
            printf("  %-15s%s\n", "Capacity:",
                   str(json_get(json_get(cs, "resources"), "requests"), "storage") ?: "");
            printf("  %-15s%s\n",
                   "Access Modes:", modes_short(json_get(cs, "accessModes"), modes, sizeof(modes)));
        }
    }
    eventview_describe_width(events, e->uid, w);
}

static void print_strings(const char *label, int width, yajl_val list)
{
    printf("%-*s[", width, label);
    for (size_t i = 0; i < json_array_len(list); i++)
        printf("%s%s", i ? " " : "", YAJL_GET_STRING(json_array_at(list, i)) ?: "");
    printf("]\n");
}

static void describe_claim(const char *resource, const struct pods_entry *e,
                           const struct pods_list *pods)
{
    yajl_val o = e->object, md = json_get(o, "metadata"), spec = json_get(o, "spec");
    char modes[64];
    if (streq(resource, "persistentvolumes")) {
        yajl_val ref = json_get(spec, "claimRef"), hp = json_get(spec, "hostPath");
        printf("%-17s%s\n", "Name:", e->name);
        print_map("Labels:", 17, json_get(md, "labels"));
        print_map("Annotations:", 17, json_get(md, "annotations"));
        print_strings("Finalizers:", 17, json_get(md, "finalizers"));
        printf("%-17s%s\n", "StorageClass:", str(spec, "storageClassName") ?: "");
        printf("%-17s%s\n", "Status:", str(e->status, "phase") ?: "Bound");
        printf("%-17s%s/%s\n", "Claim:", str(ref, "namespace") ?: "", str(ref, "name") ?: "");
        printf("%-17s%s\n", "Reclaim Policy:", str(spec, "persistentVolumeReclaimPolicy") ?: "");
        printf("%-17s%s\n",
               "Access Modes:", modes_short(json_get(spec, "accessModes"), modes, sizeof(modes)));
        printf("%-17s%s\n", "VolumeMode:", str(spec, "volumeMode") ?: "Filesystem");
        printf("%-17s%s\n", "Capacity:", str(json_get(spec, "capacity"), "storage") ?: "");
        printf("%-17s%s\n", "Node Affinity:", "<none>");
        printf("Message:\nSource:\n");
        printf("    %-15s%s\n", "Type:", "HostPath (bare host directory volume)");
        printf("    %-15s%s\n", "Path:", str(hp, "path") ?: "");
        printf("    %-15s%s\n", "HostPathType:", str(hp, "type") ?: "");
        printf("%-17s%s\n", "Events:", "<none>");
        return;
    }
    const char *phase = str(e->status, "phase") ?: "Pending";
    bool bound = streq(phase, "Bound");
    if (json_get(md, "deletionTimestamp"))
        phase = "Terminating";
    printf("%-15s%s\n", "Name:", e->name);
    printf("%-15s%s\n", "Namespace:", e->ns);
    printf("%-15s%s\n", "StorageClass:", str(spec, "storageClassName") ?: KUBE_LOCAL_PATH_CLASS);
    printf("%-15s%s\n", "Status:", phase);
    if (bound)
        printf("%-15spvc-%s\n", "Volume:", e->uid);
    else
        printf("%-15s\n", "Volume:");
    print_map("Labels:", 15, json_get(md, "labels"));
    print_map("Annotations:", 15, json_get(md, "annotations"));
    print_strings("Finalizers:", 15, json_get(md, "finalizers"));
    printf("%-15s%s\n",
           "Capacity:", bound ? str(json_get(e->status, "capacity"), "storage") ?: "" : "");
    printf("%-15s%s\n", "Access Modes:",
           bound ? modes_short(json_get(e->status, "accessModes"), modes, sizeof(modes)) : "");
    printf("%-15s%s\n", "VolumeMode:", str(spec, "volumeMode") ?: "Filesystem");
    /* Used By: the pods that mount it. */
    _cleanup_free_ char *users = xstrdup("");
    for (size_t i = 0; i < pods->n; i++) {
        yajl_val vols = json_get(json_get(pods->v[i].object, "spec"), "volumes");
        for (size_t k = 0; k < json_array_len(vols); k++) {
            const char *c =
                str(json_get(json_array_at(vols, k), "persistentVolumeClaim"), "claimName");
            if (c && streq(c, e->name) && pods->v[i].ns && streq(pods->v[i].ns, e->ns)) {
                char *more = xasprintf("%s%s%s", users,
                                       *users ? "\n"
                                                "               "
                                              : "",
                                       pods->v[i].name);
                free(users);
                users = more;
                break;
            }
        }
    }
    printf("%-15s%s\n", "Used By:", *users ? users : "<none>");
    printf("%-15s%s\n", "Events:", "<none>");
}

static int describe_storage(struct podrun_global *g, const char *resource, const char *ns,
                            const char *name, pr_error **err)
{
    struct pods_manager *m = NULL;
    int r = open_manager(g, false, &m, err);
    if (r < 0)
        return r;
    bool cluster = streq(resource, "persistentvolumes");
    struct pods_list l = {0}, pods = {0};
    r = pods_list(m, resource, cluster ? NULL : ns, name, &l, err);
    if (r == 0)
        r = pods_list(m, "pods", cluster ? NULL : ns, NULL, &pods, err);
    for (size_t i = 0; r == 0 && i < l.n; i++)
        r = pods_object_status(m, resource, &l.v[i], &l.v[i].status, err);
    bool set = streq(resource, "statefulsets") || streq(resource, "daemonsets");
    struct pods_events events = {0};
    if (r == 0 && set)
        r = pods_workload_events_list(m, ns, resource, &events, err);
    pods_manager_close(m);
    if (r == 0 && !l.n) {
        if (cluster)
            fprintf(stderr, "No resources found\n");
        else
            fprintf(stderr, "No resources found in %s namespace.\n", ns);
    }
    for (size_t i = 0; r == 0 && i < l.n; i++) {
        if (i)
            printf("\n\n");
        if (set)
            describe_set(resource, &l.v[i], &pods, &events);
        else
            describe_claim(resource, &l.v[i], &pods);
    }
    pods_events_clear(&events);
    pods_list_clear(&l);
    pods_list_clear(&pods);
    return r;
}

int cmd_describe(struct podrun_global *g, int argc, char **argv, pr_error **err)
{
    static const struct option opts[] = {
        {"namespace", required_argument, NULL, 'n'},
        {NULL, 0, NULL, 0},
    };
    const char *ns = "default";
    int c;
    while ((c = cli_getopt(argc, argv, "n:", opts)) != -1) {
        if (c == 'n')
            ns = optarg;
        else
            return pr_err(err, 0, USAGE);
    }
    const char *resource = NULL;
    _cleanup_strv_ char **names = NULL;
    int r = cli_resource_args(argc - optind, argv + optind, "describe", &resource, &names, err);
    if (r < 0)
        return r;
    if (streq(resource, "nodes")) {
        if (names && strv_length(names) > 1)
            return pr_err(err, 0, "describe nodes: one name at most (there is one node)");
        return describe_node(g, names ? names[0] : NULL, err);
    }
    if (streq(resource, "replicasets"))
        return names && strv_length(names) > 1
                   ? pr_err(err, 0, "describe replicasets: one name at most for now")
                   : describe_replicasets(g, ns, names ? names[0] : NULL, err);
    if (streq(resource, "jobs") || streq(resource, "cronjobs") ||
        streq(resource, "horizontalpodautoscalers"))
        return describe_batch(g, resource, ns, names, err);
    bool storage = streq(resource, "statefulsets") || streq(resource, "daemonsets") ||
                   streq(resource, "persistentvolumeclaims") ||
                   streq(resource, "persistentvolumes");
    if (!streq(resource, "pods") && !streq(resource, "services") &&
        !streq(resource, "deployments") && !streq(resource, "ingresses") && !storage)
        return pr_err(
            err, 0,
            "describe %s: podrun describes pods, services, deployments, replicasets, ingresses, "
            "statefulsets, daemonsets, jobs, cronjobs, horizontalpodautoscalers, "
            "persistentvolumeclaims, persistentvolumes and nodes only",
            resource);
    if ((streq(resource, "services") || streq(resource, "deployments") ||
         streq(resource, "ingresses") || storage) &&
        names && strv_length(names) > 1)
        return pr_err(err, 0, "describe %s: one name at most for now", resource);
    const char *name = names ? names[0] : NULL;
    if (streq(resource, "deployments"))
        return describe_deployments(g, ns, name, err);
    if (storage)
        return describe_storage(g, resource, ns, name, err);
    struct pods_manager *m = NULL;
    if ((r = open_manager_unlocked(g, &m, err)) < 0)
        return r;
    if (streq(resource, "services"))
        return describe_services(m, ns, name, err);
    if (streq(resource, "ingresses"))
        return describe_ingresses(m, ns, name, err);
    struct pods_list l = {0};
    struct pods_events events = {0};
    size_t n = names ? strv_length(names) : 1;
    for (size_t i = 0; r == 0 && i < n; i++) {
        struct pods_list one = {0};
        r = pods_list(m, resource, ns, names ? names[i] : NULL, &one, err);
        cli_list_move(&l, &one);
    }
    /* Each pod's Events section picks its own (by uid) from the namespace's. */
    if (r == 0)
        r = pods_events_list(m, ns, n == 1 && names ? names[0] : NULL, &events, err);
    pods_manager_close(m);
    if (r == 0 && !l.n)
        fprintf(stderr, "No resources found in %s namespace.\n", ns);
    for (size_t i = 0; r == 0 && i < l.n; i++) {
        _cleanup_json_ yajl_val o = NULL;
        if ((r = podview_tree(resource, &l.v[i], &o, err)) < 0)
            break;
        if (i)
            printf("\n\n");
        describe_pod(o, &events);
    }
    pods_events_clear(&events);
    pods_list_clear(&l);
    return r;
}
