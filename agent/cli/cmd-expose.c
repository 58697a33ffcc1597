/* SPDX-License-Identifier: Apache-2.0 */
/* podrun expose pod|deployment NAME: a Service selecting the pod by its labels, or the
 * deployment's pods by its selector's matchLabels, the object kubectl expose makes (name and
 * labels from the object, one port, targetPort defaulting to the port), applied as `podrun
 * apply` would apply it. */
#include "commands.h"
#include "json.h"
#include "pods/pods.h"
#include "util.h"

#include <getopt.h>

#define USAGE                                                                                      \
    "usage: podrun expose pod|deployment NAME [--port=PORT] [--target-port=PORT|NAME] "            \
    "[--type=ClusterIP|NodePort] [--protocol=TCP|UDP] [--name=NAME] [-n NS]"

struct expose_flags {
    const char *port, *target_port, *type, *protocol, *name, *ns;
};

static int parse_port(const char *s, const char *flag, long *out, pr_error **err)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (!*s || *end || errno || v < 1 || v > 65535)
        return pr_err(err, 0, "--%s=%s: a port is a number from 1 to 65535", flag, s);
    *out = v;
    return 0;
}

/* The pod's only container port when --port is not given, as kubectl introspects it. */
static int pod_port(yajl_val pod, long *out, pr_error **err)
{
    yajl_val cs = json_get(json_get(pod, "spec"), "containers");
    size_t n = 0;
    for (size_t i = 0; i < json_array_len(cs); i++) {
        yajl_val ports = json_get(json_array_at(cs, i), "ports");
        for (size_t j = 0; j < json_array_len(ports); j++) {
            yajl_val cp = json_get(json_array_at(ports, j), "containerPort");
            if (YAJL_IS_INTEGER(cp)) {
                *out = (long)YAJL_GET_INTEGER(cp);
                n++;
            }
        }
    }
    if (n != 1)
        return pr_err(err, 0,
                      "couldn't find port via --port flag or introspection (the pod has %zu "
                      "container ports; give --port)",
                      n);
    return 0;
}

static void gen_service(yajl_gen g, const struct expose_flags *f, const char *ns, yajl_val labels,
                        yajl_val selector, long port)
{
    jg_map_open(g);
    jg_key_str(g, "apiVersion", "v1");
    jg_key_str(g, "kind", "Service");
    jg_key(g, "metadata");
    jg_map_open(g);
    jg_key_str(g, "name", f->name);
    jg_key_str(g, "namespace", ns);
    if (labels && YAJL_IS_OBJECT(labels)) {
        jg_key(g, "labels");
        jg_value(g, labels);
    }
    jg_map_close(g);
    jg_key(g, "spec");
    jg_map_open(g);
    jg_key(g, "ports");
    jg_array_open(g);
    jg_map_open(g);
    jg_key_int(g, "port", port);
    jg_key_str(g, "protocol", f->protocol ? f->protocol : "TCP");
    long tp;
    if (!f->target_port)
        jg_key_int(g, "targetPort", port);
    else if (parse_port(f->target_port, "target-port", &tp, NULL) == 0)
        jg_key_int(g, "targetPort", tp);
    else
        jg_key_str(g, "targetPort", f->target_port);
    jg_map_close(g);
    jg_array_close(g);
    jg_key(g, "selector");
    jg_value(g, selector);
    jg_key_str(g, "type", f->type);
    jg_map_close(g);
    jg_map_close(g);
}

/* A deployment's selector as a map, as kubectl's expose takes it: matchLabels alone. */
static int deployment_selector(yajl_val obj, const char *name, yajl_val *out, pr_error **err)
{
    yajl_val sel = json_get(json_get(obj, "spec"), "selector");
    yajl_val exprs = json_get(sel, "matchExpressions");
    if (json_array_len(exprs))
        return pr_err(err, 0,
                      "couldn't convert expressions in the selector of deployment \"%s\" to a "
                      "map: a Service selects by labels only",
                      name);
    *out = json_get(sel, "matchLabels");
    return 0;
}

static int expose(struct pods_manager *m, const char *resource, const char *name,
                  struct expose_flags *f, pr_error **err)
{
    const char *ns = f->ns ? f->ns : "default";
    bool pod = streq(resource, "pods");
    struct pods_list l = {0};
    int r = pods_list(m, resource, ns, name, &l, err);
    if (r < 0) {
        pods_list_clear(&l);
        return r;
    }
    yajl_val obj = l.v[0].object;
    yajl_val labels = json_get(json_get(obj, "metadata"), "labels");
    yajl_val selector = labels;
    long port = 0;
    if (!pod)
        r = deployment_selector(obj, name, &selector, err);
    if (r < 0)
        ;
    else if (!selector || !YAJL_IS_OBJECT(selector) || !selector->u.object.len)
        r = pr_err(err, 0,
                   "couldn't retrieve selectors via --selector flag or introspection: the %s "
                   "\"%s\" has no %s",
                   pod ? "pod" : "deployment", name, pod ? "labels" : "matchLabels");
    else if (f->port)
        r = parse_port(f->port, "port", &port, err);
    else
        r = pod_port(pod ? obj : json_get(json_get(obj, "spec"), "template"), &port, err);
    if (!f->name)
        f->name = name;
    _cleanup_gen_ yajl_gen g = json_gen_new(false);
    if (r == 0)
        gen_service(g, f, ns, labels, selector, port);
    pods_list_clear(&l);
    if (r < 0)
        return r;
    size_t len;
    const char *buf = jg_buf(g, &len);
    _cleanup_free_ char *text = xstrndup(buf, len);
    yajl_val tree = NULL;
    if ((r = json_parse(text, "the service", &tree, err)) < 0)
        return r;
    struct kube_object *o = NULL;
    if ((r = kube_object_decode(tree, "expose", &o, err)) < 0)
        return r;
    enum pods_apply_result res;
    r = pods_apply(m, o, &res, err);
    if (r == 0)
        printf("service/%s %s\n", o->meta.name, res == PODS_UNCHANGED ? "unchanged" : "exposed");
    kube_object_free(o);
    return r;
}

int cmd_expose(struct podrun_global *g, int argc, char **argv, pr_error **err)
{
    static const struct option opts[] = {
        {"port", required_argument, NULL, 'p'},
        {"target-port", required_argument, NULL, 't'},
        {"type", required_argument, NULL, 'y'},
        {"protocol", required_argument, NULL, 'P'},
        {"name", required_argument, NULL, 'N'},
        {"namespace", required_argument, NULL, 'n'},
        {NULL, 0, NULL, 0},
    };
    struct expose_flags f = {0};
    int c;
    while ((c = getopt_long(argc, argv, "n:", opts, NULL)) != -1) {
        switch (c) {
        case 'p':
            f.port = optarg;
            break;
        case 't':
            f.target_port = optarg;
            break;
        case 'y':
            f.type = optarg;
            break;
        case 'P':
            f.protocol = optarg;
            break;
        case 'N':
            f.name = optarg;
            break;
        case 'n':
            f.ns = optarg;
            break;
        default:
            return pr_err(err, 0, USAGE);
        }
    }
    if (argc - optind != 2)
        return pr_err(err, 0, USAGE);
    const char *resource = pods_resource_name(argv[optind]);
    if (!resource || (!streq(resource, "pods") && !streq(resource, "deployments")))
        return pr_err_code(err, EOPNOTSUPP,
                           "expose %s: podrun exposes pods and deployments only so far",
                           argv[optind]);
    struct pods_manager *m = NULL;
    int r = open_manager(g, true, &m, err);
    if (r < 0)
        return r;
    r = expose(m, resource, argv[optind + 1], &f, err);
    pods_manager_close(m);
    return r;
}
