/* SPDX-License-Identifier: Apache-2.0 */
/* A pod's /etc/hosts, /etc/resolv.conf and /etc/hostname, written once per pod and bound into
 * each container, as the kubelet (hosts, the DNS settings) and containerd (resolv.conf and
 * hostname from those settings) make them: the image's own files are covered, never changed.
 *
 * DNS follows the kubelet's dns.go: ClusterFirst uses the cluster's DNS servers when the node
 * has them (--cluster-dns, which the services' DNS fills later) and falls back to the node's
 * resolv.conf when it has none, as a kubelet without clusterDNS does; Default uses the node's
 * resolv.conf; None starts empty; dnsConfig is added last, and the result is cut to the
 * resolver's limits (3 nameservers, 32 search domains, 2048 characters). */
#include "fs.h"
#include "manager.h"
#include "util.h"

#include <arpa/inet.h>
#include <sys/stat.h>

#define MAX_NAMESERVERS  3
#define MAX_SEARCHES     32
#define MAX_SEARCH_CHARS 2048
#define MAX_SEARCH_LEN   253
#define MAX_DNS_OPTIONS  64 /* dnsConfig.options; the kubelet has no limit, glibc reads few */
#define HOSTNAME_MAX     63
#define FQDN_MAX         64 /* the kernel's nodename holds 64 characters */
#define HOST_ALIASES_MAX 1000
#define NODE_HOSTS       "/etc/hosts"
#define NODE_HOSTS_MAX   (1u << 20)

static const char *const etc_files[] = {"hosts", "hostname", "resolv.conf"};

/* ---- names ---- */

static char *cut_label(const char *s)
{
    char *h = xstrndup(s, HOSTNAME_MAX);
    for (size_t n = strlen(h); n > 0 && (h[n - 1] == '-' || h[n - 1] == '.'); n--)
        h[n - 1] = '\0';
    return h;
}

/* The pod's short hostname: spec.hostname, else its name cut to a label as the kubelet cuts
 * it. */
static char *short_hostname(const struct kube_object *o)
{
    return o->u.pod.hostname ? xstrdup(o->u.pod.hostname) : cut_label(o->meta.name);
}

/* "SUBDOMAIN.NS.svc.DOMAIN", or NULL without a subdomain. */
static char *host_domain(pods_manager *m, const struct kube_object *o, const char *ns)
{
    if (!o->u.pod.subdomain)
        return NULL;
    return xasprintf("%s.%s.svc.%s", o->u.pod.subdomain, ns, pods_cluster_domain(m));
}

static char *node_hostname(void)
{
    char h[HOST_NAME_MAX + 1] = "";
    gethostname(h, sizeof(h) - 1);
    return xstrdup(h);
}

int pods_pod_hostname(pods_manager *m, const struct kube_object *o, const char *ns, char **out,
                      pr_error **err)
{
    const struct kube_pod_spec *s = &o->u.pod;
    if (s->host_network) {
        *out = node_hostname();
        return 0;
    }
    _cleanup_free_ char *h = short_hostname(o);
    _cleanup_free_ char *domain = host_domain(m, o, ns);
    if (domain && s->set_hostname_as_fqdn) {
        char *fqdn = xasprintf("%s.%s", h, domain);
        if (strlen(fqdn) > FQDN_MAX) {
            int r = pr_err(err, 0,
                           "spec.setHostnameAsFQDN: failed to construct FQDN from pod hostname "
                           "and cluster domain, FQDN %s is too long (%d characters is the max, "
                           "%zu characters requested)",
                           fqdn, FQDN_MAX, strlen(fqdn));
            free(fqdn);
            return r;
        }
        *out = fqdn;
        return 0;
    }
    *out = steal_pointer(&h);
    return 0;
}

/* ---- checking what the API server checks ---- */

static bool valid_ip(const char *s)
{
    unsigned char b[16];
    return s && (inet_pton(AF_INET, s, b) == 1 || inet_pton(AF_INET6, s, b) == 1);
}

static int only_keys(yajl_val v, const char *path, const char *const *keys, pr_error **err)
{
    if (!YAJL_IS_OBJECT(v))
        return pr_err(err, 0, "%s: must be an object", path);
    for (size_t i = 0; i < v->u.object.len; i++) {
        bool known = false;
        for (const char *const *k = keys; *k; k++)
            known = known || streq(*k, v->u.object.keys[i]);
        if (!known)
            return pr_err(err, 0, "%s: unknown field \"%s\"", path, v->u.object.keys[i]);
    }
    return 0;
}

static int string_list(yajl_val v, const char *path, size_t max, pr_error **err)
{
    if (!v || YAJL_IS_NULL(v))
        return 0;
    if (!YAJL_IS_ARRAY(v))
        return pr_err(err, 0, "%s: must be a list of strings", path);
    if (v->u.array.len > max)
        return pr_err(err, 0, "%s: must not have more than %zu entries", path, max);
    for (size_t i = 0; i < v->u.array.len; i++)
        if (!YAJL_IS_STRING(v->u.array.values[i]))
            return pr_err(err, 0, "%s[%zu]: must be a string", path, i);
    return 0;
}

static int check_dns_config(const struct kube_pod_spec *s, pr_error **err)
{
    static const char *const keys[] = {"nameservers", "searches", "options", NULL};
    static const char *const opt_keys[] = {"name", "value", NULL};
    yajl_val c = s->dns_config && !YAJL_IS_NULL(s->dns_config) ? s->dns_config : NULL;
    yajl_val ns = json_get(c, "nameservers"), search = json_get(c, "searches");
    yajl_val opts = json_get(c, "options");
    int r;
    if (streq(s->dns_policy, "None") && !c)
        return pr_err(err, 0,
                      "spec.dnsConfig: Required value: must provide `dnsConfig` when "
                      "`dnsPolicy` is None");
    if (!c)
        return 0;
    if ((r = only_keys(c, "spec.dnsConfig", keys, err)) < 0 ||
        (r = string_list(ns, "spec.dnsConfig.nameservers", 1000, err)) < 0 ||
        (r = string_list(search, "spec.dnsConfig.searches", 1000, err)) < 0)
        return r;
    if (streq(s->dns_policy, "None") && json_array_len(ns) == 0)
        return pr_err(err, 0,
                      "spec.dnsConfig.nameservers: Required value: must provide at least "
                      "one DNS nameserver when `dnsPolicy` is None");
    if (json_array_len(ns) > MAX_NAMESERVERS)
        return pr_err(err, 0,
                      "spec.dnsConfig.nameservers: Invalid value: must not have more "
                      "than %d nameservers",
                      MAX_NAMESERVERS);
    for (size_t i = 0; i < json_array_len(ns); i++) {
        const char *a = YAJL_GET_STRING(json_array_at(ns, i));
        if (!valid_ip(a))
            return pr_err(err, 0,
                          "spec.dnsConfig.nameservers[%zu]: Invalid value: \"%s\": must be a "
                          "valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)",
                          i, a);
    }
    if (json_array_len(search) > MAX_SEARCHES)
        return pr_err(err, 0,
                      "spec.dnsConfig.searches: Invalid value: must not have more than "
                      "%d search paths",
                      MAX_SEARCHES);
    size_t chars = 0;
    for (size_t i = 0; i < json_array_len(search); i++) {
        const char *d = YAJL_GET_STRING(json_array_at(search, i));
        chars += strlen(d) + (i ? 1 : 0);
        _cleanup_free_ char *t = xstrdup(d);
        size_t n = strlen(t);
        if (n && t[n - 1] == '.') /* a trailing dot is fine */
            t[n - 1] = '\0';
        if (!kube_valid_subdomain(t))
            return pr_err(err, 0,
                          "spec.dnsConfig.searches[%zu]: Invalid value: \"%s\": a lowercase "
                          "RFC 1123 subdomain must consist of lower case alphanumeric "
                          "characters, '-' or '.'",
                          i, d);
    }
    if (chars > MAX_SEARCH_CHARS)
        return pr_err(err, 0,
                      "spec.dnsConfig.searches: Invalid value: must not have more than "
                      "%d characters (including spaces) in the search list",
                      MAX_SEARCH_CHARS);
    if (opts && !YAJL_IS_NULL(opts) && !YAJL_IS_ARRAY(opts))
        return pr_err(err, 0, "spec.dnsConfig.options: must be a list");
    if (json_array_len(opts) > MAX_DNS_OPTIONS)
        return pr_err(err, 0, "spec.dnsConfig.options: more than %d options, podrun's limit",
                      MAX_DNS_OPTIONS);
    for (size_t i = 0; i < json_array_len(opts); i++) {
        _cleanup_free_ char *p = xasprintf("spec.dnsConfig.options[%zu]", i);
        yajl_val o = json_array_at(opts, i), name = json_get(o, "name"), v = json_get(o, "value");
        if ((r = only_keys(o, p, opt_keys, err)) < 0)
            return r;
        const char *nm = YAJL_IS_STRING(name) ? name->u.string : "";
        const char *vs = YAJL_IS_STRING(v) ? v->u.string : "";
        if (!*nm)
            return pr_err(err, 0, "%s.name: Required value: must not be empty", p);
        if (v && !YAJL_IS_NULL(v) && !YAJL_IS_STRING(v))
            return pr_err(err, 0, "%s.value: must be a string", p);
        if (strpbrk(nm, " \t\n:") || strpbrk(vs, " \t\n"))
            return pr_err(err, 0,
                          "%s: a resolv.conf option has no spaces (and no `:` in its "
                          "name)",
                          p);
    }
    return 0;
}

static int check_host_aliases(const struct kube_pod_spec *s, pr_error **err)
{
    static const char *const keys[] = {"ip", "hostnames", NULL};
    yajl_val a = s->host_aliases;
    if (!a || YAJL_IS_NULL(a))
        return 0;
    if (!YAJL_IS_ARRAY(a))
        return pr_err(err, 0, "spec.hostAliases: must be a list");
    if (a->u.array.len > HOST_ALIASES_MAX)
        return pr_err(err, 0, "spec.hostAliases: more than %d entries, podrun's limit",
                      HOST_ALIASES_MAX);
    for (size_t i = 0; i < a->u.array.len; i++) {
        _cleanup_free_ char *p = xasprintf("spec.hostAliases[%zu]", i);
        _cleanup_free_ char *hp = xasprintf("%s.hostnames", p);
        yajl_val e = a->u.array.values[i], names = json_get(e, "hostnames");
        const char *ip = YAJL_GET_STRING(json_get(e, "ip"));
        int r;
        if ((r = only_keys(e, p, keys, err)) < 0 ||
            (r = string_list(names, hp, HOST_ALIASES_MAX, err)) < 0)
            return r;
        if (!ip)
            return pr_err(err, 0, "%s.ip: Required value", p);
        if (!valid_ip(ip))
            return pr_err(err, 0,
                          "%s.ip: Invalid value: \"%s\": must be a valid IP address, (e.g. "
                          "10.9.8.7 or 2001:db8::ffff)",
                          p, ip);
        for (size_t j = 0; j < json_array_len(names); j++) {
            const char *n = YAJL_GET_STRING(json_array_at(names, j));
            if (!kube_valid_subdomain(n))
                return pr_err(err, 0,
                              "%s[%zu]: Invalid value: \"%s\": a lowercase RFC 1123 subdomain "
                              "must consist of lower case alphanumeric characters, '-' or '.'",
                              hp, j, n);
        }
    }
    return 0;
}

/* ---- resolv.conf ---- */

struct dns {
    char **servers, **searches, **options;
    bool own_cluster_dns; /* the first server is podrun's cluster DNS */
};

static void dns_clear(struct dns *d)
{
    strv_free(d->servers);
    strv_free(d->searches);
    strv_free(d->options);
    *d = (struct dns){0};
}

static bool strv_has(char *const *v, const char *s)
{
    for (; v && *v; v++)
        if (streq(*v, s))
            return true;
    return false;
}

static void add_unique(char ***v, const char *s)
{
    if (!strv_has(*v, s))
        strv_extend(v, s);
}

/* An option "name[:value]" replaces one of the same name where it stands. */
static void set_option(char ***v, const char *opt)
{
    size_t kl = strcspn(opt, ":");
    for (char **o = *v; o && *o; o++)
        if (strcspn(*o, ":") == kl && strncmp(*o, opt, kl) == 0) {
            free(*o);
            *o = xstrdup(opt);
            return;
        }
    strv_extend(v, opt);
}

/* The kubelet's parseResolvConf: nameserver lines add, the last search line wins ("." and
 * trailing dots dropped), options merge by name. */
static void parse_resolv_conf(char *text, struct dns *d)
{
    for (char *save = NULL, *line = strtok_r(text, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        if (line[0] == '#' || line[0] == ';')
            continue;
        char *fsave = NULL, *key = strtok_r(line, " \t\r", &fsave);
        if (!key)
            continue;
        bool search = streq(key, "search");
        if (search) {
            strv_free(d->searches);
            d->searches = NULL;
        }
        for (char *f = strtok_r(NULL, " \t\r", &fsave); f; f = strtok_r(NULL, " \t\r", &fsave)) {
            if (streq(key, "nameserver")) {
                strv_extend(&d->servers, f);
                break;
            }
            if (search && !streq(f, ".")) {
                size_t n = strlen(f);
                if (n && f[n - 1] == '.')
                    f[n - 1] = '\0';
                strv_extend(&d->searches, f);
            } else if (streq(key, "options")) {
                set_option(&d->options, f);
            }
        }
    }
}

static int node_dns(pods_manager *m, struct dns *d, pr_error **err)
{
    if (!*m->resolv_conf) {
        /* --resolv-conf "": the kubelet's "use the nameserver on this machine". */
        strv_extend(&d->servers, "127.0.0.1");
        strv_extend(&d->searches, ".");
        return 0;
    }
    _cleanup_free_ char *text = NULL;
    size_t len;
    int r = read_file_max(m->resolv_conf, PODS_RESOLV_CONF_MAX, READ_REGULAR, &text, &len, err);
    if (r < 0)
        return pr_err_prefix(err, "the node's resolv.conf");
    if (memchr(text, '\0', len))
        return pr_err(err, 0, "the node's resolv.conf `%s` holds a NUL byte", m->resolv_conf);
    parse_resolv_conf(text, d);
    return 0;
}

/* Kubernetes' omitDuplicates over the cluster's search list followed by the node's. */
static void cluster_searches(pods_manager *m, const char *ns, struct dns *d)
{
    const char *domain = pods_cluster_domain(m);
    if (!*domain)
        return;
    char **node = d->searches;
    d->searches = NULL;
    strv_consume(&d->searches, xasprintf("%s.svc.%s", ns, domain));
    strv_consume(&d->searches, xasprintf("svc.%s", domain));
    add_unique(&d->searches, domain);
    for (char **s = node; s && *s; s++)
        add_unique(&d->searches, *s);
    strv_free(node);
}

/* formDNSSearchFitsLimits: at most 32 domains, none longer than 253, 2048 characters. */
static void fit_limits(struct dns *d)
{
    for (size_t i = strv_length(d->servers); i > MAX_NAMESERVERS; i--) {
        free(d->servers[i - 1]);
        d->servers[i - 1] = NULL;
    }
    char **kept = NULL;
    size_t n = 0, chars = 0;
    for (char **s = d->searches; s && *s && n < MAX_SEARCHES; s++) {
        if (strlen(*s) > MAX_SEARCH_LEN)
            continue;
        strv_extend(&kept, *s);
        n++;
    }
    for (size_t i = 0; i < n; i++)
        chars += strlen(kept[i]) + (i ? 1 : 0);
    while (n > 0 && chars > MAX_SEARCH_CHARS) {
        chars -= strlen(kept[n - 1]) + (n > 1 ? 1 : 0);
        free(kept[--n]);
        kept[n] = NULL;
    }
    strv_free(d->searches);
    d->searches = kept;
}

static int pod_dns(pods_manager *m, const struct kube_object *o, const char *ns, struct dns *d,
                   pr_error **err)
{
    const struct kube_pod_spec *s = &o->u.pod;
    const char *policy = s->dns_policy ? s->dns_policy : "ClusterFirst";
    bool cluster = streq(policy, "ClusterFirstWithHostNet") ||
                   (streq(policy, "ClusterFirst") && !s->host_network);
    int r;
    /* --cluster-dns names a server of the user's; else podrun's own, which runs while a pod
     * uses it or a Service exists (a node without dnsmasq has none). */
    _cleanup_free_ char *own =
        cluster && !*m->cluster_dns && pods_dns_runnable() ? pods_dns_address(m) : NULL;
    d->own_cluster_dns = own != NULL;
    if (cluster && (*m->cluster_dns || own)) {
        _cleanup_free_ char *list = xstrdup(own ? own : m->cluster_dns);
        for (char *save = NULL, *a = strtok_r(list, ",", &save); a; a = strtok_r(NULL, ",", &save))
            strv_extend(&d->servers, a);
        struct dns node = {0};
        r = node_dns(m, &node, err);
        d->searches = steal_pointer(&node.searches);
        dns_clear(&node);
        if (r < 0)
            return r;
        cluster_searches(m, ns, d);
        strv_extend(&d->options, "ndots:5");
    } else if (!streq(policy, "None")) {
        /* ClusterFirst on a node without cluster DNS falls back to Default, as the kubelet
         * does (with its MissingClusterDNS warning). */
        if ((r = node_dns(m, d, err)) < 0)
            return r;
    }
    yajl_val c = s->dns_config;
    yajl_val servers = json_get(c, "nameservers"), searches = json_get(c, "searches");
    yajl_val opts = json_get(c, "options");
    for (size_t i = 0; i < json_array_len(servers); i++)
        add_unique(&d->servers, YAJL_GET_STRING(json_array_at(servers, i)));
    for (size_t i = 0; i < json_array_len(searches); i++)
        add_unique(&d->searches, YAJL_GET_STRING(json_array_at(searches, i)));
    for (size_t i = 0; i < json_array_len(opts); i++) {
        yajl_val op = json_array_at(opts, i);
        const char *name = YAJL_GET_STRING(json_get(op, "name"));
        const char *value = YAJL_GET_STRING(json_get(op, "value"));
        _cleanup_free_ char *o1 = value && *value ? xasprintf("%s:%s", name, value) : xstrdup(name);
        set_option(&d->options, o1);
    }
    fit_limits(d);
    return 0;
}

static void append_line(char **buf, const char *key, char *const *v, const char *sep)
{
    if (!v || !*v)
        return;
    char *b = *buf;
    for (char *const *x = v; *x; x++) {
        char *n = xasprintf("%s%s%s", b, x == v ? key : sep, *x);
        free(b);
        b = n;
    }
    *buf = xasprintf("%s\n", b);
    free(b);
}

static int write_resolv_conf(pods_manager *m, const struct kube_object *o, const char *ns,
                             const char *dir, bool *own, pr_error **err)
{
    struct dns d = {0};
    int r = pod_dns(m, o, ns, &d, err);
    _cleanup_free_ char *text = xstrdup("");
    if (r == 0) {
        /* containerd's layout: search, nameserver lines, options. */
        append_line(&text, "search ", d.searches, " ");
        append_line(&text, "nameserver ", d.servers, "\nnameserver ");
        append_line(&text, "options ", d.options, " ");
    }
    *own = d.own_cluster_dns;
    dns_clear(&d);
    if (r < 0)
        return r;
    _cleanup_free_ char *path = xasprintf("%s/resolv.conf", dir);
    return write_file_atomic_volatile(path, text, strlen(text), 0644, err);
}

int pods_etc_check(pods_manager *m, const struct kube_object *o, const char *ns, pr_error **err)
{
    _cleanup_free_ char *h = NULL;
    struct dns d = {0};
    int r;
    /* The node's resolver is read here too, so that a missing one fails before anything is
     * made (the kubelet fails the sandbox for it). */
    if ((r = check_dns_config(&o->u.pod, err)) < 0 ||
        (r = check_host_aliases(&o->u.pod, err)) < 0 ||
        (r = pods_pod_hostname(m, o, ns, &h, err)) < 0)
        return r;
    r = pod_dns(m, o, ns, &d, err);
    dns_clear(&d);
    return r;
}

/* ---- hosts ---- */

static char *alias_lines(yajl_val aliases)
{
    if (json_array_len(aliases) == 0)
        return xstrdup("");
    char *s = xstrdup("\n# Entries added by HostAliases.\n");
    for (size_t i = 0; i < json_array_len(aliases); i++) {
        yajl_val a = json_array_at(aliases, i), names = json_get(a, "hostnames");
        char *line = xstrdup(YAJL_GET_STRING(json_get(a, "ip")));
        for (size_t j = 0; j < json_array_len(names); j++) {
            char *n = xasprintf("%s\t%s", line, YAJL_GET_STRING(json_array_at(names, j)));
            free(line);
            line = n;
        }
        char *n = xasprintf("%s%s\n", s, line);
        free(s);
        free(line);
        s = n;
    }
    return s;
}

static int write_hosts(pods_manager *m, const struct kube_object *o, const char *ns, const char *ip,
                       const char *dir, pr_error **err)
{
    const struct kube_pod_spec *s = &o->u.pod;
    _cleanup_free_ char *aliases = alias_lines(s->host_aliases);
    _cleanup_free_ char *text = NULL;
    if (s->host_network) {
        /* The node's own file, then the pod's aliases (the kubelet's nodeHostsFileContent). */
        _cleanup_free_ char *node = NULL;
        size_t len;
        int r = read_file_max(NODE_HOSTS, NODE_HOSTS_MAX, READ_REGULAR, &node, &len, err);
        if (r < 0)
            return pr_err_prefix(err, "the node's hosts file");
        text = xasprintf("# Kubernetes-managed hosts file (host network).\n%.*s%s", (int)len, node,
                         aliases);
    } else {
        _cleanup_free_ char *h = short_hostname(o);
        _cleanup_free_ char *domain = host_domain(m, o, ns);
        _cleanup_free_ char *entry =
            domain ? xasprintf("%s\t%s.%s\t%s\n", ip, h, domain, h) : xasprintf("%s\t%s\n", ip, h);
        text = xasprintf("# Kubernetes-managed hosts file.\n"
                         "127.0.0.1\tlocalhost\n"
                         "::1\tlocalhost ip6-localhost ip6-loopback\n"
                         "fe00::0\tip6-localnet\n"
                         "fe00::0\tip6-mcastprefix\n"
                         "fe00::1\tip6-allnodes\n"
                         "fe00::2\tip6-allrouters\n"
                         "%s%s",
                         entry, aliases);
    }
    _cleanup_free_ char *path = xasprintf("%s/hosts", dir);
    return write_file_atomic_volatile(path, text, strlen(text), 0644, err);
}

int pods_etc_make(pods_manager *m, const struct kube_object *o, const struct pods_pod_paths *p,
                  const char *ns, const char *hostname, const char *ip, pr_error **err)
{
    _cleanup_free_ char *dir = xasprintf("%s/etc", p->run_dir);
    _cleanup_free_ char *hpath = xasprintf("%s/hostname", dir);
    _cleanup_free_ char *htext = xasprintf("%s\n", hostname);
    int r;
    bool own = false;
    if (mkdir(dir, 0755) < 0 && errno != EEXIST)
        return pr_err(err, errno, "create `%s`", dir);
    if ((r = write_hosts(m, o, ns, ip, dir, err)) < 0 ||
        (r = write_resolv_conf(m, o, ns, dir, &own, err)) < 0 ||
        (r = write_file_atomic_volatile(hpath, htext, strlen(htext), 0644, err)) < 0)
        return r;
    return own ? pods_dns_use(m, p->run_dir, err) : 0;
}

static bool mounts_itself(const struct kube_container *c, const char *dest)
{
    for (size_t i = 0; i < c->n_volume_mounts; i++)
        if (streq(c->volume_mounts[i].mount_path, dest))
            return true;
    return false;
}

size_t pods_etc_mounts(const struct pods_pod_paths *p, const struct kube_container *c,
                       struct pods_mount *out)
{
    static char *const rw[] = {"rbind", "rprivate", "rw", NULL};
    static char *const ro[] = {"rbind", "rprivate", "ro", NULL};
    static const char *const dests[] = {"/etc/hosts", "/etc/hostname", "/etc/resolv.conf"};
    bool ro_root = c->has_security_context && c->security_context.read_only_root_filesystem;
    size_t n = 0;
    for (size_t i = 0; i < ARRAY_SIZE(etc_files); i++) {
        if (mounts_itself(c, dests[i]))
            continue; /* the kubelet leaves a path the container mounts itself alone */
        /* The kubelet's hosts file is writable; containerd's hostname and resolv.conf are
         * read-only when the root file system is. */
        out[n++] = (struct pods_mount){
            .destination = dests[i],
            .type = "bind",
            .source = xasprintf("%s/etc/%s", p->run_dir, etc_files[i]),
            .options = i > 0 && ro_root ? ro : rw,
        };
    }
    return n;
}
