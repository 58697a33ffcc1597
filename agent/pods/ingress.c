/* SPDX-License-Identifier: Apache-2.0 */
/* The Ingress controller: Debian's nginx (as ingress-nginx is built on nginx), configured from
 * the Ingresses of podrun's class and supervised by podrun (DESIGN.md, section 4). Everything
 * of it lives in run-root/ingress/: nginx.conf, the certificates of the Ingresses' TLS Secrets,
 * nginx.pid, the logs and nginx's temp dirs; the directory goes when the last Ingress goes.
 *   class      an Ingress is podrun's when its ingressClassName (or the legacy annotation
 *              kubernetes.io/ingress.class) names an IngressClass whose controller is
 *              podrun.io/ingress, or is "podrun" with no such object, or, with no class, when
 *              an IngressClass of podrun's is marked the default; others are ignored
 *   routing    one server per host (a wildcard one label deep), the host-less rules in the
 *              default server; Exact paths as `location = P`, Prefix (and
 *              ImplementationSpecific) as `location = P` plus `location ^~ P/`, which is
 *              Kubernetes' element-wise prefix match; nginx's longest match and its exact
 *              locations first give Kubernetes' precedence; what matches nothing goes to the
 *              defaultBackend, else 404
 *   backends   the service's clusterIP and port: the services' data path already balances
 *              across the ready endpoints and follows readiness, so nginx is reloaded only when
 *              Ingresses, their services or Secrets change, not whenever a pod turns ready
 *              (nginx has no upstream API without Lua; a reload per readiness flap would pile
 *              up old workers holding long connections); a missing service or port: 503
 *   reloads    the new configuration is written beside the running one and tested
 *              (`nginx -t`); only a good one replaces it, then SIGHUP: nginx starts new workers
 *              and lets the old ones finish their connections
 *   supervision  every sync (each apply or delete of pods, services, Ingresses, Secrets and
 *              each pass of the controller loop) starts nginx when it is not running (the pid
 *              file's process, checked to be this directory's nginx master) */
#include "fs.h"
#include "manager.h"
#include "util.h"

#include <dirent.h>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>

#define CONTROLLER    "podrun.io/ingress"
#define OWN_CLASS     "podrun"
#define DEFAULT_ANNOT "ingressclass.kubernetes.io/is-default-class"
#define LEGACY_ANNOT  "kubernetes.io/ingress.class"
#define CONF_MAX      (16u << 20)

static char *ingress_dir(pods_manager *m)
{
    return xasprintf("%s/ingress", m->run_root);
}

/* ---- which Ingresses are podrun's ---- */

static bool class_ours(pods_manager *m, const char *cls)
{
    _cleanup_json_ yajl_val rec = NULL;
    _cleanup_error_ pr_error *ignored = NULL;
    if (pods_object_load(m, "ingressclasses", NULL, cls, &rec, &ignored) < 0)
        return streq(cls, OWN_CLASS);
    const char *c =
        YAJL_GET_STRING(json_get(json_get(json_get(rec, "object"), "spec"), "controller"));
    return c && streq(c, CONTROLLER);
}

static bool default_class_ours(pods_manager *m)
{
    struct pods_list l = {0};
    _cleanup_error_ pr_error *ignored = NULL;
    bool yes = false;
    if (pods_list(m, "ingressclasses", NULL, NULL, &l, &ignored) == 0)
        for (size_t i = 0; i < l.n && !yes; i++) {
            yajl_val o = l.v[i].object;
            const char *c = YAJL_GET_STRING(json_get(json_get(o, "spec"), "controller"));
            const char *d = YAJL_GET_STRING(
                json_get(json_get(json_get(o, "metadata"), "annotations"), DEFAULT_ANNOT));
            yes = c && streq(c, CONTROLLER) && d && streq(d, "true");
        }
    pods_list_clear(&l);
    return yes;
}

static bool ingress_ours(pods_manager *m, yajl_val obj)
{
    const char *cls = YAJL_GET_STRING(json_get(json_get(obj, "spec"), "ingressClassName"));
    if (!cls)
        cls = YAJL_GET_STRING(
            json_get(json_get(json_get(obj, "metadata"), "annotations"), LEGACY_ANNOT));
    return cls ? class_ours(m, cls) : default_class_ours(m);
}

/* ---- apply ---- */

/* A TLS entry's Secret: there, of type kubernetes.io/tls, a certificate and its key. */
static int check_tls_secret(pods_manager *m, const char *ns, const char *name, pr_error **err)
{
    _cleanup_json_ yajl_val rec = NULL;
    int r = pods_object_load(m, "secrets", ns, name, &rec, err);
    if (r == -ENOENT)
        return pr_err_code(err, ENOENT,
                           "secrets \"%s\" not found (apply the TLS Secret before the Ingress)",
                           name);
    if (r < 0)
        return r;
    const char *type = YAJL_GET_STRING(json_get(json_get(rec, "object"), "type"));
    if (!type || !streq(type, "kubernetes.io/tls"))
        return pr_err(err, 0, "secret \"%s\" is of type %s, not kubernetes.io/tls", name,
                      type ? type : "Opaque");
    _cleanup_free_ char *crt = NULL, *key = NULL;
    if ((r = pods_object_key(m, "secrets", ns, name, "tls.crt", &crt, err)) < 0 ||
        (r = pods_object_key(m, "secrets", ns, name, "tls.key", &key, err)) < 0)
        return pr_err_prefix(err, "secret \"%s\"", name);
    if ((r = pods_tls_pair_check(crt, strlen(crt), key, strlen(key), err)) < 0)
        return pr_err_prefix(err, "secret \"%s\"", name);
    return 0;
}

/* The object as stored: the manifest's, status.loadBalancer the node's address when podrun's
 * controller serves it (empty otherwise, as an ignored Ingress's stays). */
static int ingress_object(yajl_val t, bool ours, yajl_val *out, pr_error **err)
{
    _cleanup_gen_ yajl_gen g = json_gen_new(false);
    jg_map_open(g);
    for (size_t i = 0; i < t->u.object.len; i++) {
        if (streq(t->u.object.keys[i], "status"))
            continue;
        jg_key(g, t->u.object.keys[i]);
        jg_value(g, t->u.object.values[i]);
    }
    jg_key(g, "status");
    jg_map_open(g);
    jg_key(g, "loadBalancer");
    jg_map_open(g);
    _cleanup_free_ char *ip = ours ? pods_node_ip() : NULL;
    if (ip) {
        jg_key(g, "ingress");
        jg_array_open(g);
        jg_map_open(g);
        jg_key_str(g, "ip", ip);
        jg_map_close(g);
        jg_array_close(g);
    }
    jg_map_close(g);
    jg_map_close(g);
    jg_map_close(g);
    size_t len;
    const char *buf = jg_buf(g, &len);
    _cleanup_free_ char *text = xstrndup(buf, len);
    return json_parse(text, "the ingress", out, err);
}

int pods_ingress_apply(pods_manager *m, const struct kube_object *o, enum pods_apply_result *res,
                       pr_error **err)
{
    const char *ns = o->meta.namespace_, *name = o->meta.name;
    const struct kube_ingress_spec *s = &o->u.ingress;
    bool ours = ingress_ours(m, o->tree);
    int r = 0;
    for (size_t i = 0; ours && r == 0 && i < s->n_tls; i++)
        if ((r = check_tls_secret(m, ns, s->tls[i].secret_name, err)) < 0)
            pr_err_prefix(err, "spec.tls[%zu].secretName", i);
    if (r < 0)
        return pr_err_prefix(err, "The Ingress \"%s\" is invalid", name);
    _cleanup_json_ yajl_val rec = NULL, obj = NULL;
    r = pods_object_load(m, "ingresses", ns, name, &rec, err);
    if (r < 0 && r != -ENOENT)
        return r;
    bool exists = r == 0;
    if ((r = ingress_object(o->tree, ours, &obj, err)) < 0)
        return r;
    if (exists && pods_json_equal(json_get(rec, "object"), obj)) {
        *res = PODS_UNCHANGED;
        return 0;
    }
    *res = exists ? PODS_CONFIGURED : PODS_CREATED;
    _cleanup_free_ char *uid = NULL;
    const char *had = YAJL_GET_STRING(json_get(rec, "uid"));
    if (!had && (r = pods_new_uid(&uid, err)) < 0)
        return r;
    yajl_val created = json_get(rec, "created");
    return pods_object_save(
        m, "ingresses", ns, name, obj, had ? had : uid,
        YAJL_IS_INTEGER(created) ? YAJL_GET_INTEGER(created) : (long long)time(NULL), err);
}

/* ---- the configuration ---- */

/* One location of one server. */
struct route {
    const char *host; /* NULL: the default server */
    char *location;   /* "= /a", "^~ /a/", "/" */
    char *target;     /* "http://IP:PORT"; NULL: 503 */
};

struct conf {
    struct route *v;
    size_t n;
    char **hosts; /* in order of appearance */
    char **tls_hosts, **tls_files;
    char *default_target; /* the defaultBackend's; NULL: none */
    bool has_default;
    char *cert_sums; /* the certificates' digests: a changed Secret changes the text */
};

static void conf_clear(struct conf *c)
{
    for (size_t i = 0; i < c->n; i++) {
        free(c->v[i].location);
        free(c->v[i].target);
    }
    free(c->v);
    strv_free(c->hosts);
    strv_free(c->tls_hosts);
    strv_free(c->tls_files);
    free(c->default_target);
    free(c->cert_sums);
}

static bool strv_has(char **v, const char *s)
{
    for (size_t i = 0; v && v[i]; i++)
        if (streq(v[i], s))
            return true;
    return false;
}

/* The backend's address: the service's clusterIP and the port it names (by number or name). */
static char *backend_target(pods_manager *m, const char *ns, yajl_val backend)
{
    yajl_val svc = json_get(backend, "service"), port = json_get(svc, "port");
    const char *name = YAJL_GET_STRING(json_get(svc, "name"));
    yajl_val number = json_get(port, "number");
    const char *pname = YAJL_GET_STRING(json_get(port, "name"));
    _cleanup_json_ yajl_val rec = NULL;
    _cleanup_error_ pr_error *ignored = NULL;
    if (!name || pods_object_load(m, "services", ns, name, &rec, &ignored) < 0)
        return NULL;
    yajl_val spec = json_get(json_get(rec, "object"), "spec");
    const char *ip = YAJL_GET_STRING(json_get(spec, "clusterIP"));
    if (!ip || streq(ip, "None"))
        return NULL;
    yajl_val ports = json_get(spec, "ports");
    for (size_t i = 0; i < json_array_len(ports); i++) {
        yajl_val p = json_array_at(ports, i);
        const char *n = YAJL_GET_STRING(json_get(p, "name"));
        const char *proto = YAJL_GET_STRING(json_get(p, "protocol"));
        yajl_val pn = json_get(p, "port");
        if (proto && !streq(proto, "TCP"))
            continue;
        bool match = pname ? n && streq(n, pname)
                           : YAJL_IS_INTEGER(number) && YAJL_IS_INTEGER(pn) &&
                                 YAJL_GET_INTEGER(pn) == YAJL_GET_INTEGER(number);
        if (match && YAJL_IS_INTEGER(pn))
            return xasprintf("http://%s:%lld", ip, (long long)YAJL_GET_INTEGER(pn));
    }
    return NULL;
}

static bool route_has(const struct conf *c, const char *host, const char *location)
{
    for (size_t i = 0; i < c->n; i++)
        if (((!host && !c->v[i].host) || (host && c->v[i].host && streq(host, c->v[i].host))) &&
            streq(c->v[i].location, location))
            return true;
    return false;
}

static void route_add(struct conf *c, const char *host, char *location, const char *target)
{
    if (route_has(c, host, location)) {
        free(location); /* the first Ingress (by namespace and name) or path wins */
        return;
    }
    c->v = xrealloc(c->v, (c->n + 1) * sizeof(*c->v));
    c->v[c->n++] = (struct route){host, location, target ? xstrdup(target) : NULL};
}

/* The paths of one rule, Exact ones first (they win over a Prefix of the same path). */
static void rule_routes(pods_manager *m, struct conf *c, const char *ns, const char *host,
                        yajl_val paths)
{
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < json_array_len(paths); i++) {
            yajl_val p = json_array_at(paths, i);
            const char *type = YAJL_GET_STRING(json_get(p, "pathType"));
            const char *path = YAJL_GET_STRING(json_get(p, "path"));
            bool exact = type && streq(type, "Exact");
            if (!type || exact != (pass == 0))
                continue;
            _cleanup_free_ char *target = backend_target(m, ns, json_get(p, "backend"));
            if (exact) {
                route_add(c, host, xasprintf("= %s", path), target);
                continue;
            }
            /* Prefix: element-wise, so "/a" (or "/a/") is "/a" itself and what is under
             * "/a/", never "/ab". */
            _cleanup_free_ char *base = xstrdup(path && *path ? path : "/");
            size_t len = strlen(base);
            while (len > 1 && base[len - 1] == '/')
                base[--len] = '\0';
            if (streq(base, "/")) {
                route_add(c, host, xstrdup("/"), target);
                continue;
            }
            route_add(c, host, xasprintf("= %s", base), target);
            route_add(c, host, xasprintf("^~ %s/", base), target);
        }
}

/* Each TLS entry's certificate and key as one file (nginx reads both from it). */
static int tls_files(pods_manager *m, struct conf *c, const char *dir, const char *ns, yajl_val tls,
                     pr_error **err)
{
    for (size_t i = 0; i < json_array_len(tls); i++) {
        yajl_val t = json_array_at(tls, i);
        const char *secret = YAJL_GET_STRING(json_get(t, "secretName"));
        _cleanup_free_ char *crt = NULL, *key = NULL;
        _cleanup_error_ pr_error *ignored = NULL;
        /* A Secret deleted or changed since the Ingress was applied: its hosts are served
         * over HTTP only until it is back. */
        if (!secret || pods_object_key(m, "secrets", ns, secret, "tls.crt", &crt, &ignored) < 0 ||
            pods_object_key(m, "secrets", ns, secret, "tls.key", &key, &ignored) < 0 ||
            pods_tls_pair_check(crt, strlen(crt), key, strlen(key), &ignored) < 0)
            continue;
        _cleanup_free_ char *file = xasprintf("%s/certs/%s_%s.pem", dir, ns, secret);
        _cleanup_free_ char *pem = xasprintf("%s\n%s\n", crt, key);
        int r = write_file_atomic_volatile(file, pem, strlen(pem), 0600, err);
        if (r < 0)
            return r;
        uint64_t sum = 0xcbf29ce484222325ull; /* FNV-1a */
        for (const char *p = pem; *p; p++)
            sum = (sum ^ (unsigned char)*p) * 0x100000001b3ull;
        char *sums = xasprintf("%s# %s/%s %016llx\n", c->cert_sums ? c->cert_sums : "", ns, secret,
                               (unsigned long long)sum);
        free(c->cert_sums);
        c->cert_sums = sums;
        yajl_val hosts = json_get(t, "hosts");
        for (size_t h = 0; h < json_array_len(hosts); h++) {
            const char *host = YAJL_GET_STRING(json_array_at(hosts, h));
            if (host && !strv_has(c->tls_hosts, host)) {
                strv_extend(&c->tls_hosts, host);
                strv_extend(&c->tls_files, file);
            }
        }
        if (!json_array_len(hosts) && !strv_has(c->tls_hosts, "")) {
            strv_extend(&c->tls_hosts, ""); /* no hosts: the default server's certificate */
            strv_extend(&c->tls_files, file);
        }
    }
    return 0;
}

/* The certificate files of Secrets no longer used go. Each file is replaced by rename, never
 * removed first: nginx may be reading them for a reload another pass asked for. */
static void certs_prune(const char *dir, char **keep)
{
    _cleanup_free_ char *certs = xasprintf("%s/certs", dir);
    _cleanup_dir_ DIR *d = opendir(certs);
    for (struct dirent *e; d && (e = readdir(d));) {
        if (e->d_name[0] == '.')
            continue;
        _cleanup_free_ char *path = xasprintf("%s/%s", certs, e->d_name);
        if (!strv_has(keep, path))
            unlinkat(dirfd(d), e->d_name, 0);
    }
}

static int entry_cmp(const void *a, const void *b)
{
    const struct pods_entry *x = a, *y = b;
    int r = strcmp(x->ns, y->ns);
    return r ? r : strcmp(x->name, y->name);
}

/* What the Ingresses of podrun's class ask for; *any false when there is none. */
static int conf_build(pods_manager *m, const char *dir, struct conf *c, bool *any, pr_error **err)
{
    struct pods_list l = {0};
    int r = pods_list(m, "ingresses", NULL, NULL, &l, err);
    if (r < 0)
        return r;
    if (l.n)
        qsort(l.v, l.n, sizeof(*l.v), entry_cmp);
    *any = false;
    for (size_t i = 0; r == 0 && i < l.n; i++) {
        yajl_val o = l.v[i].object, spec = json_get(o, "spec");
        if (!ingress_ours(m, o))
            continue;
        if (!*any) {
            _cleanup_free_ char *certs = xasprintf("%s/certs", dir);
            if ((r = mkdir_p(certs, 0700, err)) < 0)
                break;
        }
        *any = true;
        const char *ns = l.v[i].ns;
        yajl_val def = json_get(spec, "defaultBackend");
        if (def && !c->has_default) {
            c->has_default = true;
            c->default_target = backend_target(m, ns, def);
        }
        yajl_val rules = json_get(spec, "rules");
        for (size_t k = 0; k < json_array_len(rules); k++) {
            yajl_val rule = json_array_at(rules, k);
            const char *host = YAJL_GET_STRING(json_get(rule, "host"));
            if (host && !*host)
                host = NULL;
            if (host && !strv_has(c->hosts, host))
                strv_extend(&c->hosts, host);
            /* route->host points into c->hosts, which outlives the routes' use. */
            const char *h = NULL;
            for (size_t j = 0; host && c->hosts[j]; j++)
                if (streq(c->hosts[j], host))
                    h = c->hosts[j];
            rule_routes(m, c, ns, h, json_get(json_get(rule, "http"), "paths"));
        }
        r = tls_files(m, c, dir, ns, json_get(spec, "tls"), err);
        for (size_t t = 0; r == 0 && c->tls_hosts && c->tls_hosts[t]; t++)
            if (*c->tls_hosts[t] && !strv_has(c->hosts, c->tls_hosts[t]))
                strv_extend(&c->hosts, c->tls_hosts[t]);
    }
    pods_list_clear(&l);
    if (r == 0 && *any)
        certs_prune(dir, c->tls_files);
    return r;
}

static const char *tls_file(const struct conf *c, const char *host)
{
    for (size_t i = 0; c->tls_hosts && c->tls_hosts[i]; i++)
        if (streq(c->tls_hosts[i], host))
            return c->tls_files[i];
    return NULL;
}

/* nginx's server_name for a host: a wildcard is one label deep in Kubernetes, deeper in
 * nginx's own "*.", hence a regex. */
static void server_name(FILE *f, const char *host)
{
    if (strncmp(host, "*.", 2) != 0) {
        fprintf(f, "        server_name %s;\n", host);
        return;
    }
    fputs("        server_name \"~^[^.]+", f);
    for (const char *p = host + 1; *p; p++)
        fprintf(f, *p == '.' ? "\\." : "%c", *p);
    fputs("$\";\n", f);
}

static void location(FILE *f, const char *where, const char *target)
{
    fprintf(f, "        location %s {\n", where);
    if (target)
        fprintf(f, "            proxy_pass %s;\n", target);
    else
        fputs("            return 503;\n", f);
    fputs("        }\n", f);
}

static void server(FILE *f, const struct conf *c, const char *host, int http, int https)
{
    const char *cert = tls_file(c, host ? host : "");
    if (!host && !cert && c->tls_files)
        cert = c->tls_files[0]; /* the default server needs one to answer on the TLS port */
    fputs("    server {\n", f);
    fprintf(f, "        listen %d%s;\n", http, host ? "" : " default_server");
    if (cert)
        fprintf(f,
                "        listen %d ssl%s;\n        ssl_certificate %s;\n"
                "        ssl_certificate_key %s;\n",
                https, host ? "" : " default_server", cert, cert);
    if (host)
        server_name(f, host);
    else
        fputs("        server_name _;\n", f);
    bool root = false;
    for (size_t i = 0; i < c->n; i++) {
        const struct route *r = &c->v[i];
        if ((!host) != (!r->host) || (host && !streq(host, r->host)))
            continue;
        root |= streq(r->location, "/");
        location(f, r->location, r->target);
    }
    if (!root) {
        if (c->has_default)
            location(f, "/", c->default_target);
        else
            fputs("        location / {\n            return 404;\n        }\n", f);
    }
    fputs("    }\n", f);
}

static char *conf_text(const struct conf *c, const char *dir, int http, int https)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        abort(); /* out of memory, as xmalloc treats it */
    fprintf(f,
            "# Written by podrun from the Ingresses of its class; replaced whole on each change.\n"
            "worker_processes 1;\n"
            "pid %s/nginx.pid;\n"
            "error_log %s/error.log notice;\n"
            "events {\n    worker_connections 1024;\n}\n"
            "http {\n"
            "    access_log %s/access.log;\n"
            "    client_body_temp_path %s/tmp/body;\n"
            "    proxy_temp_path %s/tmp/proxy;\n"
            "    fastcgi_temp_path %s/tmp/fastcgi;\n"
            "    uwsgi_temp_path %s/tmp/uwsgi;\n"
            "    scgi_temp_path %s/tmp/scgi;\n"
            "    server_names_hash_bucket_size 128;\n"
            "    map $http_upgrade $connection_upgrade {\n"
            "        default upgrade;\n        '' close;\n    }\n"
            "    proxy_http_version 1.1;\n"
            "    proxy_set_header Host $host;\n"
            "    proxy_set_header Upgrade $http_upgrade;\n"
            "    proxy_set_header Connection $connection_upgrade;\n"
            "    proxy_set_header X-Real-IP $remote_addr;\n"
            "    proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;\n"
            "    proxy_set_header X-Forwarded-Proto $scheme;\n"
            "    proxy_set_header X-Forwarded-Host $host;\n",
            dir, dir, dir, dir, dir, dir, dir, dir);
    if (c->cert_sums)
        fputs(c->cert_sums, f);
    server(f, c, NULL, http, https);
    for (size_t i = 0; c->hosts && c->hosts[i]; i++)
        server(f, c, c->hosts[i], http, https);
    fputs("}\n", f);
    fclose(f);
    return buf;
}

int pods_ingress_sync(pods_manager *m, pr_error **err)
{
    _cleanup_free_ char *dir = ingress_dir(m);
    struct stat st;
    struct pods_list l = {0};
    int r = pods_list(m, "ingresses", NULL, NULL, &l, err);
    size_t n = l.n;
    pods_list_clear(&l);
    if (r < 0)
        return r;
    if (!n && lstat(dir, &st) < 0)
        return 0; /* no Ingress, no proxy: nothing to look at */
    const struct pods_node_config *node = NULL;
    if ((r = pods_node_config_get(m, &node, err)) < 0)
        return r;
    if ((r = mkdir_p(dir, 0700, err)) < 0)
        return r;
    struct conf c = {0};
    bool any = false;
    r = conf_build(m, dir, &c, &any, err);
    if (r == 0 && !any) {
        conf_clear(&c);
        return pods_nginx_stop(dir, err);
    }
    _cleanup_free_ char *text =
        r == 0 ? conf_text(&c, dir, node->ingress_http_port, node->ingress_https_port) : NULL;
    conf_clear(&c);
    if (r < 0)
        return r;
    _cleanup_free_ char *conf = xasprintf("%s/nginx.conf", dir);
    _cleanup_free_ char *next = xasprintf("%s/nginx.conf.next", dir), *old = NULL;
    size_t old_len = 0;
    bool same = read_file_max(conf, CONF_MAX, READ_REGULAR, &old, &old_len, NULL) == 0 &&
                old_len == strlen(text) && memcmp(old, text, old_len) == 0;
    pid_t pid = pods_nginx_master(dir);
    if (same && pid)
        return 0;
    if (!same) {
        /* A configuration nginx refused is not tested again: the controller loop, woken by
         * nginx's writes in this directory, would otherwise test it on every pass. */
        _cleanup_free_ char *bad = xasprintf("%s/nginx.conf.refused", dir), *bad_text = NULL;
        size_t bad_len = 0;
        if (read_file_max(bad, CONF_MAX, READ_REGULAR, &bad_text, &bad_len, NULL) == 0 &&
            bad_len == strlen(text) && memcmp(bad_text, text, bad_len) == 0)
            return pr_err(err, 0,
                          "the Ingress controller's new configuration fails nginx's test (the "
                          "running one stays; nginx's words in `%s/nginx.out`)",
                          dir);
        _cleanup_free_ char *tmp = xasprintf("%s/tmp", dir), *out = NULL;
        if ((r = mkdir_p(tmp, 0700, err)) < 0 ||
            (r = write_file_atomic_volatile(next, text, strlen(text), 0600, err)) < 0)
            return r;
        if (pods_nginx_run(dir, next, true, &out, err) < 0) {
            unlink(next);
            if (err && *err)
                return -EINVAL;
            _cleanup_error_ pr_error *ignored = NULL;
            write_file_atomic_volatile(bad, text, strlen(text), 0600, &ignored);
            return pr_err(err, 0,
                          "the Ingress controller's new configuration fails nginx's test (the "
                          "running one stays): %s",
                          out);
        }
        unlink(bad);
        if (rename(next, conf) < 0)
            return pr_err(err, errno, "rename `%s` to `%s`", next, conf);
    }
    if (pid) {
        /* nginx re-reads its configuration, starts new workers and lets the old ones finish
         * their connections. */
        if (kill(pid, SIGHUP) < 0)
            return pr_err(err, errno, "reload the Ingress controller (nginx, pid %d)", pid);
        return 0;
    }
    return pods_nginx_start(dir, conf, err);
}
