/* SPDX-License-Identifier: Apache-2.0 */
/* describe ingress: kubectl's layout (its describer for networking.k8s.io/v1 Ingress), each
 * backend with its service's ready endpoints. */
#include "commands.h"
#include "json.h"
#include "pods/pods.h"
#include "util.h"

#include <stdio.h>

static const char *str(yajl_val v, const char *key)
{
    return YAJL_GET_STRING(json_get(v, key));
}

static void print_pairs(const char *label, yajl_val m)
{
    if (!YAJL_IS_OBJECT(m) || !m->u.object.len) {
        printf("%-18s<none>\n", label);
        return;
    }
    for (size_t i = 0; i < m->u.object.len; i++)
        printf("%-18s%s=%s\n", i ? "" : label, m->u.object.keys[i],
               YAJL_GET_STRING(m->u.object.values[i]) ?: "");
}

/* "svc:port (IP:PORT,...)", the endpoints of the port the backend names. */
static char *backend_text(struct pods_manager *m, const char *ns, yajl_val backend)
{
    yajl_val svc = json_get(backend, "service"), port = json_get(svc, "port");
    const char *name = str(svc, "name") ?: "", *pname = str(port, "name");
    yajl_val number = json_get(port, "number");
    _cleanup_free_ char *portt =
        pname ? xstrdup(pname)
              : xasprintf("%lld",
                          YAJL_IS_INTEGER(number) ? (long long)YAJL_GET_INTEGER(number) : 0LL);
    struct pods_endpoints eps = {0};
    struct pods_list svcs = {0};
    _cleanup_error_ pr_error *e = NULL;
    if (pods_list(m, "services", ns, name, &svcs, &e) < 0 || !svcs.n) {
        pods_list_clear(&svcs);
        return xasprintf("%s:%s (<error: services \"%s\" not found>)", name, portt, name);
    }
    /* The port's name, which its endpoints carry. */
    const char *want = pname;
    yajl_val ports = json_get(json_get(svcs.v[0].object, "spec"), "ports");
    for (size_t i = 0; !want && i < json_array_len(ports); i++) {
        yajl_val p = json_get(json_array_at(ports, i), "port");
        if (YAJL_IS_INTEGER(p) && YAJL_IS_INTEGER(number) &&
            YAJL_GET_INTEGER(p) == YAJL_GET_INTEGER(number))
            want = str(json_array_at(ports, i), "name") ?: "";
    }
    _cleanup_free_ char *list = xstrdup("");
    if (pods_service_endpoints(m, ns, name, &eps, &e) == 0)
        for (size_t i = 0; i < eps.n; i++) {
            const struct pods_endpoint *ep = &eps.v[i];
            const char *pn = ep->port_name ? ep->port_name : "";
            if (!ep->ready || !want || !streq(pn, want))
                continue;
            char *n = xasprintf("%s%s%s:%d", list, *list ? "," : "", ep->ip, ep->port);
            free(list);
            list = n;
        }
    pods_endpoints_of_clear(&eps);
    pods_list_clear(&svcs);
    return xasprintf("%s:%s (%s)", name, portt, *list ? list : "<none>");
}

static void describe_one(struct pods_manager *m, const struct pods_entry *e)
{
    yajl_val o = e->object, md = json_get(o, "metadata"), spec = json_get(o, "spec");
    printf("%-18s%s\n", "Name:", e->name);
    print_pairs("Labels:", json_get(md, "labels"));
    printf("%-18s%s\n", "Namespace:", e->ns);
    yajl_val lb = json_get(json_get(json_get(o, "status"), "loadBalancer"), "ingress");
    _cleanup_free_ char *addrs = xstrdup("");
    for (size_t i = 0; i < json_array_len(lb); i++) {
        char *n =
            xasprintf("%s%s%s", addrs, *addrs ? "," : "", str(json_array_at(lb, i), "ip") ?: "");
        free(addrs);
        addrs = n;
    }
    printf("%-18s%s\n", "Address:", addrs);
    printf("%-18s%s\n", "Ingress Class:", str(spec, "ingressClassName") ?: "<none>");
    yajl_val def = json_get(spec, "defaultBackend");
    _cleanup_free_ char *deft = def ? backend_text(m, e->ns, def) : xstrdup("<default>");
    printf("%-18s%s\n", "Default backend:", deft);
    yajl_val tls = json_get(spec, "tls");
    if (json_array_len(tls)) {
        printf("TLS:\n");
        for (size_t i = 0; i < json_array_len(tls); i++) {
            yajl_val t = json_array_at(tls, i), hosts = json_get(t, "hosts");
            _cleanup_free_ char *hl = xstrdup("");
            for (size_t h = 0; h < json_array_len(hosts); h++) {
                char *n = xasprintf("%s%s%s", hl, *hl ? "," : "",
                                    YAJL_GET_STRING(json_array_at(hosts, h)) ?: "");
                free(hl);
                hl = n;
            }
            printf("  %s terminates %s\n", str(t, "secretName") ?: "SNI", hl);
        }
    }
    printf("Rules:\n  Host        Path  Backends\n  ----        ----  --------\n");
    yajl_val rules = json_get(spec, "rules");
    for (size_t i = 0; i < json_array_len(rules); i++) {
        yajl_val rule = json_array_at(rules, i), paths = json_get(json_get(rule, "http"), "paths");
        printf("  %s\n", str(rule, "host") ?: "*");
        for (size_t p = 0; p < json_array_len(paths); p++) {
            yajl_val path = json_array_at(paths, p);
            _cleanup_free_ char *bt = backend_text(m, e->ns, json_get(path, "backend"));
            printf("              %s   %s\n", str(path, "path") ?: "", bt);
        }
    }
    if (!json_array_len(rules))
        printf("  %-11s %-5s %s\n", "*", "*", deft);
    print_pairs("Annotations:", json_get(md, "annotations"));
    printf("%-18s%s\n", "Events:", "<none>");
}

int describe_ingresses(struct pods_manager *m, const char *ns, const char *name, pr_error **err)
{
    struct pods_list l = {0};
    int r = pods_list(m, "ingresses", ns, name, &l, err);
    if (r == 0 && !l.n)
        fprintf(stderr, "No resources found in %s namespace.\n", ns);
    for (size_t i = 0; r == 0 && i < l.n; i++) {
        if (i)
            printf("\n\n");
        describe_one(m, &l.v[i]);
    }
    pods_list_clear(&l);
    pods_manager_close(m);
    return r;
}
