/* SPDX-License-Identifier: Apache-2.0 */
/* This machine as a Kubernetes Node: its settings (name, labels, the reserve kept from pods,
 * the cgroup root) from the node config file and the global flags, its capacity from the
 * kernel, and the v1 Node object `get nodes` and `describe node` show. */
#include "fs.h"
#include "manager.h"
#include "util.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <sys/statvfs.h>
#include <sys/utsname.h>
#include <time.h>

#define NODE_CONFIG_MAX  (1u << 20)
#define NODE_RECORD_MAX  (64u << 10)
#define NODE_LABELS_MAX  256
#define DEFAULT_MAX_PODS 110
/* The kubelet's defaults for containerLogMaxSize and containerLogMaxFiles. */
#define DEFAULT_LOG_MAX_SIZE  (10 << 20)
#define DEFAULT_LOG_MAX_FILES 5

/* Labels the node sets itself (the kubelet's), which the config may not override. */
static const char *const own_labels[] = {"kubernetes.io/hostname",  "kubernetes.io/os",
                                         "kubernetes.io/arch",      "beta.kubernetes.io/os",
                                         "beta.kubernetes.io/arch", NULL};

void pods_node_config_free(struct pods_node_config *c)
{
    if (!c)
        return;
    free(c->name);
    strv_free(c->labels);
    free(c->cgroup_root);
    free(c->pod_cidr);
    strv_free(c->lb_pool);
    free(c->cluster_domain);
    free(c);
}

static int reserve(yajl_val v, const char *field, struct pods_node_reserve *out, pr_error **err)
{
    if (!v)
        return 0;
    if (!YAJL_IS_OBJECT(v))
        return pr_err(err, 0, "%s: expected a map of quantities", field);
    for (size_t i = 0; i < v->u.object.len; i++) {
        const char *k = v->u.object.keys[i];
        yajl_val q = v->u.object.values[i];
        const char *text = YAJL_IS_STRING(q)   ? q->u.string
                           : YAJL_IS_NUMBER(q) ? q->u.number.r
                                               : NULL;
        int64_t *dst = streq(k, "cpu")                 ? &out->cpu
                       : streq(k, "memory")            ? &out->memory
                       : streq(k, "ephemeral-storage") ? &out->storage
                       : streq(k, "pid")               ? &out->pids
                                                       : NULL;
        if (!dst)
            return pr_err(err, 0,
                          "%s.%s: unknown resource (podrun reserves cpu, memory, "
                          "ephemeral-storage and pid)",
                          field, k);
        struct kube_quantity kq;
        int64_t val;
        if (!text || kube_quantity_parse(text, &kq, err) < 0 ||
            kube_quantity_scaled(&kq, dst == &out->cpu ? 3 : 0, &val) < 0 || val < 0) {
            if (err && *err)
                return pr_err_prefix(err, "%s.%s", field, k);
            return pr_err(err, 0, "%s.%s: not a quantity of 0 or more", field, k);
        }
        *dst += val;
    }
    return 0;
}

static int config_labels(yajl_val v, struct pods_node_config *c, pr_error **err)
{
    if (!v)
        return 0;
    if (!YAJL_IS_OBJECT(v))
        return pr_err(err, 0, "labels: expected a map of strings");
    if (v->u.object.len > NODE_LABELS_MAX)
        return pr_err(err, 0, "labels: more than %d", NODE_LABELS_MAX);
    for (size_t i = 0; i < v->u.object.len; i++) {
        const char *k = v->u.object.keys[i];
        yajl_val val = v->u.object.values[i];
        const char *s = YAJL_IS_STRING(val) ? val->u.string : NULL;
        if (!s)
            return pr_err(err, 0, "labels.%s: expected a string", k);
        for (size_t j = 0; own_labels[j]; j++)
            if (streq(k, own_labels[j]))
                return pr_err(err, 0, "labels.%s: set by podrun itself, not by the config", k);
        _cleanup_free_ char *sel = xasprintf("%s=%s", k, s);
        struct kube_selector ks = {0};
        if (strchr(k, ',') || strchr(k, '=') || strchr(s, ',') || strchr(s, '=') ||
            kube_selector_parse(sel, &ks, NULL) < 0 || ks.n != 1) {
            kube_selector_clear(&ks);
            return pr_err(err, 0, "labels: \"%s\": \"%s\" is not a valid label", k, s);
        }
        kube_selector_clear(&ks);
        strv_consume(&c->labels, xasprintf("%s=%s", k, s));
    }
    return 0;
}

#define LB_POOL_MAX 64

static int config_lb_pool(yajl_val v, struct pods_node_config *c, pr_error **err)
{
    if (!v)
        return 0;
    if (!YAJL_IS_ARRAY(v))
        return pr_err(err, 0, "loadBalancerPool: expected a list of CIDRs or FIRST-LAST ranges");
    if (json_array_len(v) > LB_POOL_MAX)
        return pr_err(err, 0, "loadBalancerPool: more than %d entries", LB_POOL_MAX);
    for (size_t i = 0; i < json_array_len(v); i++) {
        const char *s = YAJL_GET_STRING(json_array_at(v, i));
        uint32_t lo, hi;
        if (!s)
            return pr_err(err, 0, "loadBalancerPool[%zu]: expected a string", i);
        if (pods_lb_range_parse(s, &lo, &hi, err) < 0)
            return pr_err_prefix(err, "loadBalancerPool[%zu]", i);
        strv_extend(&c->lb_pool, s);
    }
    return 0;
}

static const char *config_str(yajl_val doc, const char *key, pr_error **err, int *r)
{
    yajl_val v = json_get(doc, key);
    if (!v || *r < 0)
        return NULL;
    if (!YAJL_IS_STRING(v)) {
        *r = pr_err(err, 0, "%s: expected a string", key);
        return NULL;
    }
    return v->u.string;
}

/* The kubelet's podPidsLimit (-1 or 0: none) and the rotation of containers' logs
 * (containerLogMaxSize a quantity of at least 1Ki, containerLogMaxFiles at least 2, as the
 * kubelet's validation asks). */
static int config_logs_pids(yajl_val doc, struct pods_node_config *c, pr_error **err)
{
    yajl_val v = json_get(doc, "podPidsLimit");
    if (v) {
        if (!YAJL_IS_INTEGER(v) || YAJL_GET_INTEGER(v) < -1 || YAJL_GET_INTEGER(v) > (1 << 22))
            return pr_err(err, 0, "podPidsLimit: expected -1 or a whole number up to 4194304");
        c->pod_pids_limit = YAJL_GET_INTEGER(v) > 0 ? YAJL_GET_INTEGER(v) : -1;
    }
    if ((v = json_get(doc, "containerLogMaxFiles"))) {
        if (!YAJL_IS_INTEGER(v) || YAJL_GET_INTEGER(v) < 2 || YAJL_GET_INTEGER(v) > 1000)
            return pr_err(err, 0, "containerLogMaxFiles: expected a whole number from 2 to 1000");
        c->log_max_files = YAJL_GET_INTEGER(v);
    }
    if ((v = json_get(doc, "containerLogMaxSize"))) {
        const char *text = YAJL_IS_STRING(v)   ? v->u.string
                           : YAJL_IS_NUMBER(v) ? v->u.number.r
                                               : NULL;
        struct kube_quantity q;
        int64_t bytes;
        if (!text || kube_quantity_parse(text, &q, NULL) < 0 ||
            kube_quantity_scaled(&q, 0, &bytes) < 0 || bytes < 1024 || bytes > (1LL << 40))
            return pr_err(err, 0, "containerLogMaxSize: expected a quantity from 1Ki to 1Ti");
        c->log_max_size = bytes;
    }
    return 0;
}

/* The config file: YAML or JSON, one document with the keys below (all optional). */
static int config_parse(yajl_val doc, struct pods_node_config *c, pr_error **err)
{
    static const char *const keys[] = {
        "name",          "labels",  "systemReserved", "kubeReserved",        "maxPods",
        "cgroupRoot",    "podCIDR", "podPidsLimit",   "containerLogMaxSize", "containerLogMaxFiles",
        "clusterDomain", NULL};
    /* The services' and the Ingress controller's (loadbalancer.c, ingress.c). */
    static const char *const net_keys[] = {"loadBalancerPool", "ingressHTTPPort",
                                           "ingressHTTPSPort", NULL};
    if (!YAJL_IS_OBJECT(doc))
        return pr_err(err, 0, "expected a map of settings");
    for (size_t i = 0; i < doc->u.object.len; i++) {
        size_t k = 0, n = 0;
        while (keys[k] && !streq(keys[k], doc->u.object.keys[i]))
            k++;
        while (net_keys[n] && !streq(net_keys[n], doc->u.object.keys[i]))
            n++;
        if (!keys[k] && !net_keys[n])
            return pr_err(err, 0,
                          "unknown setting \"%s\" (known: name, labels, systemReserved, "
                          "kubeReserved, maxPods, cgroupRoot, podCIDR, podPidsLimit, "
                          "containerLogMaxSize, containerLogMaxFiles, clusterDomain, "
                          "loadBalancerPool, ingressHTTPPort, ingressHTTPSPort)",
                          doc->u.object.keys[i]);
    }
    int r = 0;
    const char *name = config_str(doc, "name", err, &r);
    const char *root = config_str(doc, "cgroupRoot", err, &r);
    const char *cidr = config_str(doc, "podCIDR", err, &r);
    const char *domain = config_str(doc, "clusterDomain", err, &r);
    if (r < 0)
        return r;
    if (domain && !kube_valid_subdomain(domain))
        return pr_err(err, 0, "clusterDomain: `%s` is not a lowercase RFC 1123 subdomain", domain);
    c->cluster_domain = domain ? xstrdup(domain) : NULL;
    c->name = name ? xstrdup(name) : NULL;
    c->cgroup_root = root ? xstrdup(root) : NULL;
    c->pod_cidr = cidr ? xstrdup(cidr) : NULL;
    yajl_val mp = json_get(doc, "maxPods");
    if (mp) {
        if (!YAJL_IS_INTEGER(mp) || YAJL_GET_INTEGER(mp) < 1 || YAJL_GET_INTEGER(mp) > 100000)
            return pr_err(err, 0, "maxPods: expected a whole number from 1 to 100000");
        c->max_pods = YAJL_GET_INTEGER(mp);
    }
    if ((r = config_logs_pids(doc, c, err)) < 0)
        return r;
    const char *ports[] = {"ingressHTTPPort", "ingressHTTPSPort"};
    int *port_dst[] = {&c->ingress_http_port, &c->ingress_https_port};
    for (size_t i = 0; i < ARRAY_SIZE(ports); i++) {
        yajl_val p = json_get(doc, ports[i]);
        if (!p)
            continue;
        if (!YAJL_IS_INTEGER(p) || YAJL_GET_INTEGER(p) < 1 || YAJL_GET_INTEGER(p) > 65535)
            return pr_err(err, 0, "%s: expected a port from 1 to 65535", ports[i]);
        *port_dst[i] = (int)YAJL_GET_INTEGER(p);
    }
    if ((r = config_lb_pool(json_get(doc, "loadBalancerPool"), c, err)) < 0 ||
        (r = config_labels(json_get(doc, "labels"), c, err)) < 0 ||
        (r = reserve(json_get(doc, "systemReserved"), "systemReserved", &c->reserved, err)) < 0 ||
        (r = reserve(json_get(doc, "kubeReserved"), "kubeReserved", &c->reserved, err)) < 0)
        return r;
    return 0;
}

static int config_read(const char *path, bool must_exist, struct pods_node_config *c,
                       pr_error **err)
{
    _cleanup_free_ char *text = NULL;
    size_t len;
    _cleanup_error_ pr_error *e = NULL;
    int r = read_file_max(path, NODE_CONFIG_MAX, READ_REGULAR, &text, &len, &e);
    if (r == -ENOENT && !must_exist)
        return 0;
    if (r < 0) {
        *err = steal_pointer(&e);
        return pr_err_prefix(err, "node config");
    }
    struct kube_docs docs = {0};
    if ((r = kube_parse_manifest(text, len, path, &docs, err)) < 0)
        return pr_err_prefix(err, "node config");
    if (docs.n > 1)
        r = pr_err(err, 0, "`%s`: one document expected, found %zu", path, docs.n);
    else if (docs.n == 1 && (r = config_parse(docs.v[0], c, err)) < 0)
        pr_err_prefix(err, "node config `%s`", path);
    kube_docs_clear(&docs);
    return r;
}

static char *lowercase(const char *s)
{
    char *out = xstrdup(s);
    for (char *p = out; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    return out;
}

int pods_node_config_get(pods_manager *m, const struct pods_node_config **out, pr_error **err)
{
    if (m->node) {
        *out = m->node;
        return 0;
    }
    struct pods_node_config *c = xcalloc(1, sizeof(*c));
    c->max_pods = DEFAULT_MAX_PODS;
    c->pod_pids_limit = -1;
    c->log_max_size = DEFAULT_LOG_MAX_SIZE;
    c->log_max_files = DEFAULT_LOG_MAX_FILES;
    c->ingress_http_port = 80;
    c->ingress_https_port = 443;
    _cleanup_free_ char *def = xasprintf("%s/node.yaml", m->lib_root);
    int r = config_read(m->node_config ? m->node_config : def, m->node_config != NULL, c, err);
    if (r < 0) {
        pods_node_config_free(c);
        return r;
    }
    /* The flags win over the file. */
    if (m->node_name) {
        free(c->name);
        c->name = xstrdup(m->node_name);
    }
    if (m->cgroup_root) {
        free(c->cgroup_root);
        c->cgroup_root = xstrdup(m->cgroup_root);
    }
    if (!c->name) {
        char host[256] = "";
        gethostname(host, sizeof(host) - 1);
        c->name = lowercase(host);
    }
    if (!c->cgroup_root)
        c->cgroup_root = xstrdup(PODS_DEFAULT_CGROUP_ROOT);
    if (!kube_valid_subdomain(c->name))
        r = pr_err(err, 0, "node name \"%s\": must be a lowercase RFC 1123 subdomain", c->name);
    else if (c->cgroup_root[0] != '/' || strstr(c->cgroup_root, "/..") ||
             strlen(c->cgroup_root) > 1024 || streq(c->cgroup_root, "/"))
        r = pr_err(err, 0, "cgroup root `%s`: must be an absolute path below / without `..`",
                   c->cgroup_root);
    if (r < 0) {
        pods_node_config_free(c);
        return r;
    }
    m->node = c;
    *out = c;
    return 0;
}

/* ---- capacity ---- */

static int64_t meminfo_kib(const char *key)
{
    _cleanup_free_ char *text = NULL;
    size_t len;
    if (read_file("/proc/meminfo", &text, &len, NULL) < 0)
        return 0;
    size_t kl = strlen(key);
    for (char *line = text; line && *line;) {
        if (strncmp(line, key, kl) == 0 && line[kl] == ':')
            return strtoll(line + kl + 1, NULL, 10);
        line = strchr(line, '\n');
        line = line ? line + 1 : NULL;
    }
    return 0;
}

int64_t pods_meminfo_kib(const char *key)
{
    return meminfo_kib(key);
}

static int huge_name_cmp(int64_t a, int64_t b)
{
    _cleanup_free_ char *ta = pods_bytes_text(a), *tb = pods_bytes_text(b);
    return strcmp(ta, tb);
}

static void hugepages(struct pods_node_resources *res)
{
    _cleanup_dir_ DIR *d = opendir("/sys/kernel/mm/hugepages");
    struct dirent *e;
    while (d && (e = readdir(d)) && res->n_huge < PODS_NODE_HUGE_MAX) {
        unsigned long long kb;
        if (sscanf(e->d_name, "hugepages-%llukB", &kb) != 1)
            continue;
        _cleanup_free_ char *p = xasprintf("/sys/kernel/mm/hugepages/%s/nr_hugepages", e->d_name);
        _cleanup_free_ char *text = NULL;
        size_t len;
        long long n = 0;
        if (read_file(p, &text, &len, NULL) == 0)
            n = strtoll(text, NULL, 10);
        res->huge_size[res->n_huge] = (int64_t)kb * 1024;
        res->huge[res->n_huge++] = (int64_t)(n > 0 ? n : 0) * (int64_t)kb * 1024;
    }
    /* In the order of their names (hugepages-1Gi before hugepages-2Mi), as the API server's
     * maps are printed. */
    for (size_t i = 1; i < res->n_huge; i++)
        for (size_t j = i; j > 0 && huge_name_cmp(res->huge_size[j - 1], res->huge_size[j]) > 0;
             j--) {
            int64_t t = res->huge_size[j];
            res->huge_size[j] = res->huge_size[j - 1];
            res->huge_size[j - 1] = t;
            t = res->huge[j];
            res->huge[j] = res->huge[j - 1];
            res->huge[j - 1] = t;
        }
}

static int64_t sub0(int64_t a, int64_t b)
{
    return a > b ? a - b : 0;
}

int64_t pods_node_pids_allocatable(const struct pods_node_config *c)
{
    _cleanup_free_ char *text = NULL;
    size_t len;
    long long max = 0;
    if (read_file_max("/proc/sys/kernel/pid_max", 64, 0, &text, &len, NULL) < 0 ||
        sscanf(text, "%lld", &max) != 1 || max <= 0)
        return -1;
    return sub0(max, c->reserved.pids);
}

int pods_node_resources(pods_manager *m, struct pods_node_resources *cap,
                        struct pods_node_resources *alloc, pr_error **err)
{
    const struct pods_node_config *c;
    int r = pods_node_config_get(m, &c, err);
    if (r < 0)
        return r;
    *cap = (struct pods_node_resources){0};
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    cap->cpu = (ncpu > 0 ? ncpu : 1) * 1000;
    cap->memory = meminfo_kib("MemTotal") * 1024;
    cap->pods = c->max_pods;
    struct statvfs vfs;
    /* Where pods' writable layers and emptyDirs live, as the kubelet measures its root dir. */
    if (statvfs(m->lib_root, &vfs) == 0 || statvfs("/", &vfs) == 0)
        cap->storage = (int64_t)vfs.f_blocks * (int64_t)vfs.f_frsize;
    hugepages(cap);
    *alloc = *cap;
    alloc->cpu = sub0(cap->cpu, c->reserved.cpu);
    int64_t huge = 0;
    for (size_t i = 0; i < cap->n_huge; i++)
        huge += cap->huge[i];
    /* Pre-allocated huge pages are memory no pod gets as ordinary memory (the kubelet's rule). */
    alloc->memory = sub0(cap->memory, c->reserved.memory + huge);
    alloc->storage = sub0(cap->storage, c->reserved.storage);
    return 0;
}

/* ---- quantities as the API server prints them ---- */

char *pods_cpu_text(int64_t milli)
{
    return milli % 1000 ? xasprintf("%lldm", (long long)milli)
                        : xasprintf("%lld", (long long)(milli / 1000));
}

/* Bytes in the canonical binary form: the largest of Ki..Ei that divides them, else bytes. */
char *pods_bytes_text(int64_t bytes)
{
    static const char *const suffix[] = {"Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};
    if (bytes == 0)
        return xstrdup("0");
    int k = -1;
    int64_t v = bytes;
    while (k + 1 < (int)ARRAY_SIZE(suffix) && v % 1024 == 0) {
        v /= 1024;
        k++;
    }
    return k < 0 ? xasprintf("%lld", (long long)v) : xasprintf("%lld%s", (long long)v, suffix[k]);
}

/* ---- the node's record: its uid and when podrun first saw it ---- */

static int node_record(pods_manager *m, const char *name, char **uid, long long *created,
                       pr_error **err)
{
    _cleanup_free_ char *path = xasprintf("%s/node.json", m->lib_root);
    for (int attempt = 0; attempt < 2; attempt++) {
        _cleanup_json_ yajl_val rec = NULL;
        _cleanup_error_ pr_error *e = NULL;
        int r = json_parse_file_max(path, NODE_RECORD_MAX, READ_REGULAR, &rec, &e);
        const char *n = YAJL_GET_STRING(json_get(rec, "name"));
        const char *u = YAJL_GET_STRING(json_get(rec, "uid"));
        yajl_val t = json_get(rec, "created");
        if (r == 0 && n && streq(n, name) && u && YAJL_IS_INTEGER(t)) {
            *uid = xstrdup(u);
            *created = YAJL_GET_INTEGER(t);
            return 0;
        }
        if (r < 0 && r != -ENOENT) {
            *err = steal_pointer(&e);
            return r;
        }
        /* First sight (or a new name): link() makes the first writer's record the one. */
        _cleanup_free_ char *text = NULL, *tmp = NULL;
        size_t len;
        if ((r = pods_new_uid(&text, err)) < 0)
            return r;
        _cleanup_gen_ yajl_gen g = json_gen_new(false);
        jg_map_open(g);
        jg_key_str(g, "name", name);
        jg_key_str(g, "uid", text);
        jg_key_int(g, "created", (long long)time(NULL));
        jg_map_close(g);
        const char *buf = jg_buf(g, &len);
        tmp = xasprintf("%s.%d", path, (int)getpid());
        if ((r = mkdir_p(m->lib_root, 0700, err)) < 0 ||
            (r = write_file_atomic_volatile(tmp, buf, len, 0600, err)) < 0)
            return r;
        if (rec)
            unlink(path); /* another name's record */
        if (link(tmp, path) < 0 && errno != EEXIST) {
            r = pr_err(err, errno, "create `%s`", path);
            unlink(tmp);
            return r;
        }
        unlink(tmp);
    }
    return pr_err(err, 0, "`%s`: the node's record keeps changing", path);
}

/* ---- the v1 Node ---- */

char *pods_node_ip(void)
{
    struct ifaddrs *ifs = NULL;
    char found[INET_ADDRSTRLEN] = "", bridge[INET_ADDRSTRLEN] = "";
    if (getifaddrs(&ifs) < 0)
        return NULL;
    for (struct ifaddrs *i = ifs; i && !*found; i = i->ifa_next) {
        if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET || (i->ifa_flags & IFF_LOOPBACK) ||
            !(i->ifa_flags & IFF_UP))
            continue;
        bool ours = streq(i->ifa_name, PODS_DEFAULT_BRIDGE);
        inet_ntop(AF_INET, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, ours ? bridge : found,
                  INET_ADDRSTRLEN);
    }
    freeifaddrs(ifs);
    return *found ? xstrdup(found) : *bridge ? xstrdup(bridge) : NULL;
}

static const char *go_arch(const char *machine)
{
    static const char *const map[][2] = {
        {"x86_64", "amd64"},    {"aarch64", "arm64"}, {"armv7l", "arm"},      {"i686", "386"},
        {"ppc64le", "ppc64le"}, {"s390x", "s390x"},   {"riscv64", "riscv64"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(map); i++)
        if (streq(machine, map[i][0]))
            return map[i][1];
    return machine;
}

static char *first_line(const char *path)
{
    _cleanup_free_ char *text = NULL;
    size_t len;
    if (read_file(path, &text, &len, NULL) < 0)
        return xstrdup("");
    text[strcspn(text, "\n")] = '\0';
    return steal_pointer(&text);
}

/* PRETTY_NAME of os-release, as the kubelet reports osImage. */
static char *os_image(void)
{
    _cleanup_free_ char *text = NULL;
    size_t len;
    if (read_file("/etc/os-release", &text, &len, NULL) < 0 &&
        read_file("/usr/lib/os-release", &text, &len, NULL) < 0)
        return xstrdup("Linux");
    for (char *line = text; line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        if (has_prefix(line, "PRETTY_NAME=")) {
            char *v = line + 12;
            size_t n = strlen(v);
            if (n >= 2 && (v[0] == '"' || v[0] == '\'') && v[n - 1] == v[0])
                return xstrndup(v + 1, n - 2);
            return xstrdup(v);
        }
        line = nl ? nl + 1 : NULL;
    }
    return xstrdup("Linux");
}

static void gen_resources(yajl_gen g, const char *key, const struct pods_node_resources *r)
{
    jg_key(g, key);
    jg_map_open(g);
    _cleanup_free_ char *cpu = pods_cpu_text(r->cpu), *mem = pods_bytes_text(r->memory),
                        *st = pods_bytes_text(r->storage);
    jg_key_str(g, "cpu", cpu);
    jg_key_str(g, "ephemeral-storage", st);
    for (size_t i = 0; i < r->n_huge; i++) {
        _cleanup_free_ char *size = pods_bytes_text(r->huge_size[i]);
        _cleanup_free_ char *k = xasprintf("hugepages-%s", size), *v = pods_bytes_text(r->huge[i]);
        jg_key_str(g, k, v);
    }
    jg_key_str(g, "memory", mem);
    _cleanup_free_ char *pods = xasprintf("%lld", (long long)r->pods);
    jg_key_str(g, "pods", pods);
    jg_map_close(g);
}

static void gen_condition(yajl_gen g, const char *type, bool status, const char *reason,
                          const char *message, const char *now, const char *since)
{
    jg_map_open(g);
    jg_key_str(g, "lastHeartbeatTime", now);
    jg_key_str(g, "lastTransitionTime", since);
    jg_key_str(g, "message", message);
    jg_key_str(g, "reason", reason);
    jg_key_str(g, "status", status ? "True" : "False");
    jg_key_str(g, "type", type);
    jg_map_close(g);
}

static bool executable(const char *prog)
{
    if (strchr(prog, '/'))
        return access(prog, X_OK) == 0;
    const char *path = getenv("PATH");
    _cleanup_free_ char *copy =
        xstrdup(path ? path : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
    for (char *save = NULL, *d = strtok_r(copy, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
        _cleanup_free_ char *p = xasprintf("%s/%s", d, prog);
        if (access(p, X_OK) == 0)
            return true;
    }
    return false;
}

static void rfc3339(long long t, char buf[32])
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void gen_node(pods_manager *m, yajl_gen g, const struct pods_node_config *c, const char *uid,
                     long long created, const struct pods_node_resources *cap,
                     const struct pods_node_resources *alloc)
{
    struct utsname u;
    uname(&u);
    char since[32], now[32];
    rfc3339(created, since);
    rfc3339((long long)time(NULL), now);
    jg_map_open(g);
    jg_key_str(g, "apiVersion", "v1");
    jg_key_str(g, "kind", "Node");
    jg_key(g, "metadata");
    jg_map_open(g);
    jg_key(g, "annotations");
    jg_map_open(g);
    jg_key_str(g, "podrun.io/cgroup-root", c->cgroup_root);
    jg_map_close(g);
    jg_key_str(g, "creationTimestamp", since);
    jg_key(g, "labels");
    jg_map_open(g);
    jg_key_str(g, "beta.kubernetes.io/arch", go_arch(u.machine));
    jg_key_str(g, "beta.kubernetes.io/os", "linux");
    jg_key_str(g, "kubernetes.io/arch", go_arch(u.machine));
    jg_key_str(g, "kubernetes.io/hostname", c->name);
    jg_key_str(g, "kubernetes.io/os", "linux");
    for (char **l = c->labels; l && *l; l++) {
        _cleanup_free_ char *k = xstrndup(*l, strcspn(*l, "="));
        jg_key_str(g, k, *l + strlen(k) + 1);
    }
    jg_map_close(g);
    jg_key_str(g, "name", c->name);
    jg_key_str(g, "resourceVersion", "1");
    jg_key_str(g, "uid", uid);
    jg_map_close(g);
    jg_key(g, "spec");
    jg_map_open(g);
    _cleanup_free_ char *cidr = pods_node_pod_cidr(m);
    if (cidr) {
        jg_key_str(g, "podCIDR", cidr);
        jg_key(g, "podCIDRs");
        jg_array_open(g);
        jg_str(g, cidr);
        jg_array_close(g);
    }
    jg_map_close(g);
    jg_key(g, "status");
    jg_map_open(g);
    jg_key(g, "addresses");
    jg_array_open(g);
    _cleanup_free_ char *ip = pods_node_ip();
    if (ip) {
        jg_map_open(g);
        jg_key_str(g, "address", ip);
        jg_key_str(g, "type", "InternalIP");
        jg_map_close(g);
    }
    jg_map_open(g);
    jg_key_str(g, "address", c->name);
    jg_key_str(g, "type", "Hostname");
    jg_map_close(g);
    jg_array_close(g);
    gen_resources(g, "allocatable", alloc);
    gen_resources(g, "capacity", cap);
    jg_key(g, "conditions");
    jg_array_open(g);
    gen_condition(g, "MemoryPressure", false, "KubeletHasSufficientMemory",
                  "kubelet has sufficient memory available", now, since);
    gen_condition(g, "DiskPressure", false, "KubeletHasNoDiskPressure",
                  "kubelet has no disk pressure", now, since);
    gen_condition(g, "PIDPressure", false, "KubeletHasSufficientPID",
                  "kubelet has sufficient PID available", now, since);
    /* Ready when podrun can run pods: its runtime and shim are there. */
    bool rt = executable(m->runtime), shim = executable(m->shim);
    _cleanup_free_ char *why =
        rt && shim ? xstrdup("kubelet is posting ready status")
                   : xasprintf("container runtime is down: `%s` is not an executable",
                               rt ? m->shim : m->runtime);
    gen_condition(g, "Ready", rt && shim, rt && shim ? "KubeletReady" : "KubeletNotReady", why, now,
                  since);
    jg_array_close(g);
    jg_key(g, "daemonEndpoints");
    jg_map_open(g);
    jg_key(g, "kubeletEndpoint");
    jg_map_open(g);
    jg_key_int(g, "Port", 0);
    jg_map_close(g);
    jg_map_close(g);
    jg_key(g, "nodeInfo");
    jg_map_open(g);
    _cleanup_free_ char *boot = first_line("/proc/sys/kernel/random/boot_id");
    _cleanup_free_ char *machine = first_line("/etc/machine-id");
    _cleanup_free_ char *uuid = first_line("/sys/class/dmi/id/product_uuid");
    _cleanup_free_ char *image = os_image();
    _cleanup_free_ char *rtv = xasprintf("podrun://%s", PACKAGE_VERSION);
    jg_key_str(g, "architecture", go_arch(u.machine));
    jg_key_str(g, "bootID", boot);
    jg_key_str(g, "containerRuntimeVersion", rtv);
    jg_key_str(g, "kernelVersion", u.release);
    jg_key_str(g, "kubeProxyVersion", "");
    jg_key_str(g, "kubeletVersion", PODS_KUBELET_VERSION);
    jg_key_str(g, "machineID", machine);
    jg_key_str(g, "operatingSystem", "linux");
    jg_key_str(g, "osImage", image);
    jg_key_str(g, "systemUUID", uuid);
    jg_map_close(g);
    jg_map_close(g);
    jg_map_close(g);
}

const char *pods_cluster_domain(pods_manager *m)
{
    const struct pods_node_config *c;
    _cleanup_error_ pr_error *e = NULL;
    if (!m->cluster_domain_given && pods_node_config_get(m, &c, &e) == 0 && c->cluster_domain)
        return c->cluster_domain;
    return m->cluster_domain;
}

char *pods_node_pod_cidr(pods_manager *m)
{
    const struct pods_node_config *c;
    _cleanup_error_ pr_error *e = NULL;
    if (pods_node_config_get(m, &c, &e) == 0 && c->pod_cidr)
        return xstrdup(c->pod_cidr);
    /* The network in use, whatever its file is called (the kubelet's CNI config). */
    return pods_cni_subnet(m);
}

int pods_node_object(pods_manager *m, yajl_val *out, pr_error **err)
{
    const struct pods_node_config *c;
    struct pods_node_resources cap, alloc;
    _cleanup_free_ char *uid = NULL;
    long long created = 0;
    int r;
    if ((r = pods_node_config_get(m, &c, err)) < 0 ||
        (r = pods_node_resources(m, &cap, &alloc, err)) < 0 ||
        (r = node_record(m, c->name, &uid, &created, err)) < 0)
        return r;
    _cleanup_gen_ yajl_gen g = json_gen_new(false);
    gen_node(m, g, c, uid, created, &cap, &alloc);
    size_t len;
    const char *buf = jg_buf(g, &len);
    _cleanup_free_ char *text = xstrndup(buf, len);
    return json_parse(text, "the node", out, err);
}
