/* SPDX-License-Identifier: Apache-2.0 */
#include "cni.h"
#include "log.h"
#include "util.h"

#include <ctype.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdarg.h>
#include <sys/mman.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

const char *const cni_supported_versions[] = {"0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0", NULL};

static int cni_code;

int cni_err(pr_error **err, int code, int errnum, const char *fmt, ...)
{
    va_list ap;
    cni_error_set_code(code);
    va_start(ap, fmt);
    int r = pr_verr(err, errnum, fmt, ap);
    va_end(ap);
    return r;
}

int cni_error_code(void)
{
    return cni_code ? cni_code : CNI_ERR_INTERNAL;
}

void cni_error_replace_code(int code)
{
    cni_code = code;
}

void cni_error_set_code(int code)
{
    if (!cni_code)
        cni_code = code;
}

void cni_print_error(const char *version, int code, const char *msg, const char *details)
{
    _cleanup_gen_ yajl_gen g = json_gen_new(false);
    jg_map_open(g);
    jg_key_str(g, "cniVersion",
               version && cni_version_supported(version) ? version : CNI_LATEST_VERSION);
    jg_key_int(g, "code", code);
    jg_key_str(g, "msg", msg);
    jg_key_str(g, "details", details && *details ? details : NULL);
    jg_map_close(g);
    size_t len;
    const char *buf = jg_buf(g, &len);
    fwrite(buf, 1, len, stdout);
    fputc('\n', stdout);
    fflush(stdout);
}

static const struct {
    const char *name;
    cni_cmd cmd;
} commands[] = {
    {"ADD", CNI_CMD_ADD},       {"DEL", CNI_CMD_DEL}, {"CHECK", CNI_CMD_CHECK},
    {"STATUS", CNI_CMD_STATUS}, {"GC", CNI_CMD_GC},   {"VERSION", CNI_CMD_VERSION},
};

bool cni_valid_container_id(const char *id)
{
    if (!id || !*id || !(isalnum((unsigned char)*id)) || strlen(id) > CNI_CONTAINER_ID_MAX)
        return false;
    for (const char *p = id; *p; p++)
        if (!isalnum((unsigned char)*p) && !strchr("_.-", *p))
            return false;
    return true;
}

/* The kernel's dev_valid_name, plus '%' (which it takes for a "%d" name template and refuses
 * otherwise) and control characters. Its isspace() knows 0xa0 (no-break space) too. */
bool cni_valid_ifname(const char *name)
{
    if (!name || !*name || strlen(name) > 15 || streq(name, ".") || streq(name, ".."))
        return false;
    for (const char *p = name; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '/' || c == ':' || c == '%' || isspace(c) || iscntrl(c) || c == 0xa0)
            return false;
    }
    return true;
}

int cni_abstract_lock(const char *name, const char *what, pr_error **err)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    size_t n = strlen(name);
    if (n + 1 > sizeof(sa.sun_path))
        return pr_err(err, ENAMETOOLONG, "lock name `%s`", name);
    memcpy(sa.sun_path + 1, name, n);
    socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return pr_err(err, errno, "creating the socket for %s", what);
    for (int tries = 0; bind(fd, (struct sockaddr *)&sa, len) < 0; tries++) {
        if (errno != EADDRINUSE || tries > 60000) {
            int e = errno;
            close(fd);
            return cni_err(err, CNI_ERR_TRY_AGAIN_LATER, e, "taking %s", what);
        }
        usleep(500);
    }
    return fd;
}

static const char *env_or_null(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

int cni_env_load(cni_env *env, pr_error **err)
{
    memset(env, 0, sizeof(*env));
    env->command = env_or_null("CNI_COMMAND");
    env->container_id = env_or_null("CNI_CONTAINERID");
    env->netns = env_or_null("CNI_NETNS");
    env->ifname = env_or_null("CNI_IFNAME");
    env->args = env_or_null("CNI_ARGS");
    env->path = env_or_null("CNI_PATH");
    if (!env->command)
        return 0; /* CNI_CMD_NONE: the caller prints its usage */
    for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
        if (streq(env->command, commands[i].name))
            env->cmd = commands[i].cmd;
    if (env->cmd == CNI_CMD_NONE)
        return cni_err(err, CNI_ERR_INVALID_ENV, 0, "unknown CNI_COMMAND `%s`", env->command);

    bool per_attachment =
        env->cmd == CNI_CMD_ADD || env->cmd == CNI_CMD_DEL || env->cmd == CNI_CMD_CHECK;
    if (!per_attachment)
        return 0;
    if (!env->container_id)
        return cni_err(err, CNI_ERR_INVALID_ENV, 0,
                       "required env variable CNI_CONTAINERID missing");
    if (!cni_valid_container_id(env->container_id))
        return cni_err(err, CNI_ERR_INVALID_ENV, 0,
                       "invalid CNI_CONTAINERID `%.64s%s` (%zu bytes): 1 to %d letters, digits, "
                       "`_`, `.` and `-`, starting with a letter or digit",
                       env->container_id, strlen(env->container_id) > 64 ? "..." : "",
                       strlen(env->container_id), CNI_CONTAINER_ID_MAX);
    if (!env->ifname)
        return cni_err(err, CNI_ERR_INVALID_ENV, 0, "required env variable CNI_IFNAME missing");
    if (!cni_valid_ifname(env->ifname)) {
        char shown[64];
        size_t i = 0;
        for (const char *p = env->ifname; *p && i < 32; p++)
            shown[i++] = iscntrl((unsigned char)*p) ? '?' : *p;
        shown[i] = '\0';
        return cni_err(err, CNI_ERR_INVALID_ENV, 0,
                       "invalid CNI_IFNAME `%s%s`: 1 to 15 bytes, not `.` or `..`, without `/`, "
                       "`:`, `%%`, spaces or control characters",
                       shown, strlen(env->ifname) > 32 ? "..." : "");
    }
    /* DEL may come after the namespace is gone (spec: CNI_NETNS optional for DEL). */
    if (!env->netns && env->cmd != CNI_CMD_DEL)
        return cni_err(err, CNI_ERR_INVALID_ENV, 0, "required env variable CNI_NETNS missing");
    return 0;
}

char *cni_args_get(const char *args, const char *key)
{
    if (!args)
        return NULL;
    size_t klen = strlen(key);
    for (const char *p = args; *p;) {
        const char *end = strchr(p, ';');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len > klen && strncmp(p, key, klen) == 0 && p[klen] == '=')
            return strndup(p + klen + 1, len - klen - 1);
        p += len + (end ? 1 : 0);
    }
    return NULL;
}

static bool parse_semver(const char *s, int v[3])
{
    if (!s)
        return false;
    char tail;
    int n = sscanf(s, "%d.%d.%d%c", &v[0], &v[1], &v[2], &tail);
    return n == 3;
}

int cni_version_cmp(const char *a, const char *b)
{
    int va[3], vb[3];
    bool oka = parse_semver(a, va), okb = parse_semver(b, vb);
    if (!oka || !okb)
        return oka - okb;
    for (int i = 0; i < 3; i++)
        if (va[i] != vb[i])
            return va[i] < vb[i] ? -1 : 1;
    return 0;
}

bool cni_version_supported(const char *v)
{
    for (size_t i = 0; v && cni_supported_versions[i]; i++)
        if (streq(v, cni_supported_versions[i]))
            return true;
    return false;
}

char *cni_version_json(void)
{
    _cleanup_gen_ yajl_gen g = json_gen_new(false);
    jg_map_open(g);
    jg_key_str(g, "cniVersion", CNI_LATEST_VERSION);
    jg_key(g, "supportedVersions");
    jg_array_open(g);
    for (size_t i = 0; cni_supported_versions[i]; i++)
        jg_str(g, cni_supported_versions[i]);
    jg_array_close(g);
    jg_map_close(g);
    size_t len;
    const char *buf = jg_buf(g, &len); /* sets len: call it before reading len */
    return strndup(buf, len);
}

static bool valid_network_name(const char *n)
{
    if (!n || !isalnum((unsigned char)*n))
        return false;
    for (const char *p = n; *p; p++)
        if (!isalnum((unsigned char)*p) && !strchr("_.-", *p))
            return false;
    return true;
}

int cni_conf_parse(const char *text, cni_cmd cmd, cni_conf *conf, pr_error **err)
{
    memset(conf, 0, sizeof(*conf));
    if (!text || !*text)
        return cni_err(err, CNI_ERR_DECODE, 0, "no network configuration on stdin");
    int r = json_parse(text, "network configuration", &conf->root, err);
    if (r < 0)
        return cni_err(err, CNI_ERR_DECODE, 0, "cannot decode network configuration");
    if (!YAJL_IS_OBJECT(conf->root))
        return cni_err(err, CNI_ERR_DECODE, 0, "network configuration is not a JSON object");
    const char *ctx = "network configuration";
    if (json_get_str(conf->root, "cniVersion", ctx, &conf->version, err) < 0 ||
        json_get_str(conf->root, "name", ctx, &conf->name, err) < 0 ||
        json_get_str(conf->root, "type", ctx, &conf->type, err) < 0 ||
        json_get_object(conf->root, "ipam", ctx, &conf->ipam, err) < 0 ||
        json_get_object(conf->root, "prevResult", ctx, &conf->prev_result, err) < 0 ||
        json_get_object(conf->root, "runtimeConfig", ctx, &conf->runtime_config, err) < 0 ||
        json_get_object(conf->root, "args", ctx, &conf->args, err) < 0 ||
        json_get_object(conf->root, "dns", ctx, &conf->dns, err) < 0)
        return cni_err(err, CNI_ERR_INVALID_CONFIG, 0, "invalid network configuration");

    /* 0.1.0/0.2.0 configs omit cniVersion; we never spoke those. */
    if (!conf->version)
        return cni_err(err, CNI_ERR_INCOMPATIBLE_VERSION, 0,
                       "network configuration has no cniVersion (0.1.0/0.2.0 are not supported)");
    if (!cni_version_supported(conf->version))
        return cni_err(err, CNI_ERR_INCOMPATIBLE_VERSION, 0,
                       "incompatible CNI versions: config is `%s`, plugin supports 0.3.0, 0.3.1, "
                       "0.4.0, 1.0.0, 1.1.0",
                       conf->version);
    if (cmd == CNI_CMD_VERSION)
        return 0;
    if (cmd == CNI_CMD_CHECK && cni_version_cmp(conf->version, "0.4.0") < 0)
        return cni_err(err, CNI_ERR_INCOMPATIBLE_VERSION, 0,
                       "config version %s does not allow CHECK (needs 0.4.0 or later)",
                       conf->version);
    if ((cmd == CNI_CMD_STATUS || cmd == CNI_CMD_GC) && cni_version_cmp(conf->version, "1.1.0") < 0)
        return cni_err(err, CNI_ERR_INCOMPATIBLE_VERSION, 0,
                       "config version %s does not allow %s (needs 1.1.0 or later)", conf->version,
                       cmd == CNI_CMD_GC ? "GC" : "STATUS");
    if (!conf->name)
        return cni_err(err, CNI_ERR_INVALID_CONFIG, 0, "network configuration has no name");
    if (!valid_network_name(conf->name))
        return cni_err(err, CNI_ERR_INVALID_CONFIG, 0, "invalid network name `%s`", conf->name);
    return 0;
}

void cni_conf_free(cni_conf *conf)
{
    if (conf->root)
        yajl_tree_free(conf->root);
    memset(conf, 0, sizeof(*conf));
}

/* Results. */

void cni_dns_free(cni_dns *dns)
{
    strv_freep(&dns->nameservers);
    strv_freep(&dns->search);
    strv_freep(&dns->options);
    free(dns->domain);
    memset(dns, 0, sizeof(*dns));
}

static char **strv_copy(char *const *v)
{
    if (!v)
        return NULL;
    size_t n = strv_length(v);
    char **r = xcalloc(n + 1, sizeof(char *));
    for (size_t i = 0; i < n; i++)
        r[i] = xstrdup(v[i]);
    return r;
}

void cni_dns_copy(cni_dns *dst, const cni_dns *src)
{
    dst->nameservers = strv_copy(src->nameservers);
    dst->search = strv_copy(src->search);
    dst->options = strv_copy(src->options);
    dst->domain = src->domain ? xstrdup(src->domain) : NULL;
}

bool cni_dns_empty(const cni_dns *d)
{
    return !(d->nameservers && *d->nameservers) && !d->domain && !(d->search && *d->search) &&
           !(d->options && *d->options);
}

int cni_dns_parse(yajl_val v, const char *ctx, cni_dns *dns, pr_error **err)
{
    const char *domain = NULL;
    if (!v)
        return 0;
    if (!YAJL_IS_OBJECT(v))
        return cni_err(err, CNI_ERR_INVALID_CONFIG, 0, "%s.dns is not an object", ctx);
    if (json_get_strv(v, "nameservers", ctx, &dns->nameservers, err) < 0 ||
        json_get_strv(v, "search", ctx, &dns->search, err) < 0 ||
        json_get_strv(v, "options", ctx, &dns->options, err) < 0 ||
        json_get_str(v, "domain", ctx, &domain, err) < 0)
        return cni_err(err, CNI_ERR_INVALID_CONFIG, 0, "invalid dns");
    if (domain)
        dns->domain = xstrdup(domain);
    return 0;
}

void cni_result_free(cni_result *r)
{
    for (size_t i = 0; i < r->n_ifaces; i++) {
        free(r->ifaces[i].name);
        free(r->ifaces[i].mac);
        free(r->ifaces[i].sandbox);
    }
    free(r->ifaces);
    free(r->ips);
    free(r->routes);
    cni_dns_free(&r->dns);
    memset(r, 0, sizeof(*r));
}

int cni_result_add_iface(cni_result *r, const char *name, const char *mac, const char *sandbox)
{
    r->ifaces = xrealloc(r->ifaces, (r->n_ifaces + 1) * sizeof(*r->ifaces));
    cni_iface *i = &r->ifaces[r->n_ifaces];
    i->name = name ? xstrdup(name) : NULL;
    i->mac = mac && *mac ? xstrdup(mac) : NULL;
    i->sandbox = sandbox && *sandbox ? xstrdup(sandbox) : NULL;
    return (int)r->n_ifaces++;
}

void cni_result_add_ip(cni_result *r, const cni_ipconf *ip)
{
    r->ips = xrealloc(r->ips, (r->n_ips + 1) * sizeof(*r->ips));
    r->ips[r->n_ips++] = *ip;
}

void cni_result_add_route(cni_result *r, const cni_route *rt)
{
    r->routes = xrealloc(r->routes, (r->n_routes + 1) * sizeof(*r->routes));
    r->routes[r->n_routes++] = *rt;
}

static int parse_ips(yajl_val arr, const char *ctx, cni_result *r, pr_error **err)
{
    for (size_t i = 0; i < json_array_len(arr); i++) {
        yajl_val e = json_array_at(arr, i);
        const char *addr = NULL, *gw = NULL;
        int64_t iface = -1;
        if (json_get_str(e, "address", ctx, &addr, err) < 0 ||
            json_get_str(e, "gateway", ctx, &gw, err) < 0 ||
            json_get_int64(e, "interface", ctx, &iface, err) < 0)
            return cni_err(err, CNI_ERR_DECODE, 0, "%s: invalid ips[%zu]", ctx, i);
        cni_ipconf ip = {.iface = (int)iface};
        if (!cni_prefix_parse(addr, false, &ip.addr))
            return cni_err(err, CNI_ERR_DECODE, 0, "%s: invalid ips[%zu].address `%s`", ctx, i,
                           addr ? addr : "");
        if (gw && !cni_ip_parse(gw, &ip.gw))
            return cni_err(err, CNI_ERR_DECODE, 0, "%s: invalid ips[%zu].gateway `%s`", ctx, i, gw);
        if (iface < -1 || (iface >= 0 && (size_t)iface >= r->n_ifaces))
            return cni_err(err, CNI_ERR_DECODE, 0, "%s: ips[%zu].interface out of range", ctx, i);
        cni_result_add_ip(r, &ip);
    }
    return 0;
}

int cni_routes_parse(yajl_val arr, const char *ctx, cni_route **out, size_t *n, pr_error **err)
{
    if (arr && !YAJL_IS_ARRAY(arr))
        return cni_err(err, CNI_ERR_INVALID_CONFIG, 0, "%s.routes is not an array", ctx);
    for (size_t i = 0; i < json_array_len(arr); i++) {
        yajl_val e = json_array_at(arr, i);
        const char *dst = NULL, *gw = NULL;
        if (json_get_str(e, "dst", ctx, &dst, err) < 0 || json_get_str(e, "gw", ctx, &gw, err) < 0)
            return cni_err(err, CNI_ERR_INVALID_CONFIG, 0, "%s: invalid routes[%zu]", ctx, i);
        cni_route rt = {0};
        if (!cni_prefix_parse(dst, false, &rt.dst))
            return cni_err(err, CNI_ERR_INVALID_CONFIG, 0, "%s: invalid routes[%zu].dst `%s`", ctx,
                           i, dst ? dst : "");
        rt.dst = cni_prefix_masked(&rt.dst);
        if (gw && !cni_ip_parse(gw, &rt.gw))
            return cni_err(err, CNI_ERR_INVALID_CONFIG, 0, "%s: invalid routes[%zu].gw `%s`", ctx,
                           i, gw);
        *out = xrealloc(*out, (*n + 1) * sizeof(**out));
        (*out)[(*n)++] = rt;
    }
    return 0;
}

int cni_result_parse(yajl_val v, const char *ctx, cni_result *r, pr_error **err)
{
    yajl_val ifaces = NULL, ips = NULL, routes = NULL, dns = NULL;
    if (!YAJL_IS_OBJECT(v))
        return cni_err(err, CNI_ERR_DECODE, 0, "%s is not a JSON object", ctx);
    if (json_get_array(v, "interfaces", ctx, &ifaces, err) < 0 ||
        json_get_array(v, "ips", ctx, &ips, err) < 0 ||
        json_get_array(v, "routes", ctx, &routes, err) < 0 ||
        json_get_object(v, "dns", ctx, &dns, err) < 0)
        return cni_err(err, CNI_ERR_DECODE, 0, "invalid result");
    for (size_t i = 0; i < json_array_len(ifaces); i++) {
        yajl_val e = json_array_at(ifaces, i);
        const char *name = NULL, *mac = NULL, *sandbox = NULL;
        if (json_get_str(e, "name", ctx, &name, err) < 0 ||
            json_get_str(e, "mac", ctx, &mac, err) < 0 ||
            json_get_str(e, "sandbox", ctx, &sandbox, err) < 0)
            return cni_err(err, CNI_ERR_DECODE, 0, "%s: invalid interfaces[%zu]", ctx, i);
        cni_result_add_iface(r, name, mac, sandbox);
    }
    if (parse_ips(ips, ctx, r, err) < 0 ||
        cni_routes_parse(routes, ctx, &r->routes, &r->n_routes, err) < 0)
        return cni_err(err, CNI_ERR_DECODE, 0, "invalid result");
    if (cni_dns_parse(dns, ctx, &r->dns, err) < 0)
        return cni_err(err, CNI_ERR_DECODE, 0, "invalid result");
    return 0;
}

static void gen_strv(yajl_gen g, const char *key, char **v)
{
    if (!v || !*v)
        return;
    jg_key(g, key);
    jg_array_open(g);
    for (; *v; v++)
        jg_str(g, *v);
    jg_array_close(g);
}

char *cni_result_json(const cni_result *r, const char *version)
{
    bool old = cni_version_cmp(version, "1.0.0") < 0; /* ips carry "version" before 1.0.0 */
    char a[CNI_PREFIX_STRLEN];
    _cleanup_gen_ yajl_gen g = json_gen_new(false);
    jg_map_open(g);
    jg_key_str(g, "cniVersion", version);
    if (r->n_ifaces) {
        jg_key(g, "interfaces");
        jg_array_open(g);
        for (size_t i = 0; i < r->n_ifaces; i++) {
            jg_map_open(g);
            jg_key_str(g, "name", r->ifaces[i].name);
            jg_key_str(g, "mac", r->ifaces[i].mac);
            jg_key_str(g, "sandbox", r->ifaces[i].sandbox);
            jg_map_close(g);
        }
        jg_array_close(g);
    }
    if (r->n_ips || !old) {
        jg_key(g, "ips");
        jg_array_open(g);
        for (size_t i = 0; i < r->n_ips; i++) {
            const cni_ipconf *ip = &r->ips[i];
            jg_map_open(g);
            if (old)
                jg_key_str(g, "version", ip->addr.ip.family == AF_INET6 ? "6" : "4");
            jg_key_str(g, "address", cni_prefix_fmt(&ip->addr, a));
            if (ip->gw.family)
                jg_key_str(g, "gateway", cni_ip_fmt(&ip->gw, a));
            if (ip->iface >= 0)
                jg_key_int(g, "interface", ip->iface);
            jg_map_close(g);
        }
        jg_array_close(g);
    }
    if (r->n_routes) {
        jg_key(g, "routes");
        jg_array_open(g);
        for (size_t i = 0; i < r->n_routes; i++) {
            jg_map_open(g);
            jg_key_str(g, "dst", cni_prefix_fmt(&r->routes[i].dst, a));
            if (r->routes[i].gw.family)
                jg_key_str(g, "gw", cni_ip_fmt(&r->routes[i].gw, a));
            jg_map_close(g);
        }
        jg_array_close(g);
    }
    jg_key(g, "dns");
    jg_map_open(g);
    gen_strv(g, "nameservers", r->dns.nameservers);
    jg_key_str(g, "domain", r->dns.domain);
    gen_strv(g, "search", r->dns.search);
    gen_strv(g, "options", r->dns.options);
    jg_map_close(g);
    jg_map_close(g);
    size_t len;
    const char *buf = jg_buf(g, &len);
    return strndup(buf, len);
}

int cni_valid_attachments(const cni_conf *conf, char ***ids, char ***ifnames, pr_error **err)
{
    yajl_val arr = NULL;
    const char *ctx = "network configuration";
    if (json_get_array(conf->root, "cni.dev/valid-attachments", ctx, &arr, err) < 0)
        return cni_err(err, CNI_ERR_INVALID_CONFIG, 0, "invalid cni.dev/valid-attachments");
    /* Without the list every attachment would look stale: refuse rather than sweep all. */
    if (!arr)
        return cni_err(err, CNI_ERR_INVALID_CONFIG, 0,
                       "GC needs cni.dev/valid-attachments in the configuration");
    size_t n = json_array_len(arr);
    _cleanup_strv_ char **i = xcalloc(n + 1, sizeof(char *));
    _cleanup_strv_ char **f = xcalloc(n + 1, sizeof(char *));
    for (size_t k = 0; k < n; k++) {
        const char *id = NULL, *ifn = NULL;
        yajl_val e = json_array_at(arr, k);
        if (json_get_str(e, "containerID", ctx, &id, err) < 0 ||
            json_get_str(e, "ifname", ctx, &ifn, err) < 0 || !id || !ifn)
            return cni_err(err, CNI_ERR_INVALID_CONFIG, 0,
                           "cni.dev/valid-attachments[%zu] needs containerID and ifname", k);
        i[k] = xstrdup(id);
        f[k] = xstrdup(ifn);
    }
    *ids = steal_pointer(&i);
    *ifnames = steal_pointer(&f);
    return 0;
}

int cni_find_plugin(const char *type, const char *cni_path, char **out, pr_error **err)
{
    if (!type || !*type || strchr(type, '/') || streq(type, ".") || streq(type, ".."))
        return cni_err(err, CNI_ERR_INVALID_CONFIG, 0, "invalid plugin type `%s`",
                       type ? type : "");
    if (!cni_path)
        return cni_err(err, CNI_ERR_INVALID_ENV, 0, "CNI_PATH is not set: cannot find plugin `%s`",
                       type);
    _cleanup_free_ char *copy = xstrdup(cni_path);
    char *save = NULL;
    for (char *dir = strtok_r(copy, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
        _cleanup_free_ char *p = xasprintf("%s/%s", dir, type);
        struct stat st;
        if (stat(p, &st) == 0 && S_ISREG(st.st_mode) && access(p, X_OK) == 0) {
            *out = steal_pointer(&p);
            return 0;
        }
    }
    return cni_err(err, CNI_ERR_INVALID_CONFIG, 0, "failed to find plugin `%s` in path [%s]", type,
                   cni_path);
}

static char **env_with_command(const char *command)
{
    size_t n = strv_length(environ);
    char **envp = xcalloc(n + 2, sizeof(char *));
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (!has_prefix(environ[i], "CNI_COMMAND="))
            envp[k++] = environ[i];
    envp[k++] = xasprintf("CNI_COMMAND=%s", command);
    return envp;
}

/* The delegate's error object becomes ours: callers see the IPAM plugin's code and message. */
static int delegate_failed(const char *path, int status, const char *output, pr_error **err)
{
    _cleanup_json_ yajl_val v = NULL;
    _cleanup_error_ pr_error *ignored = NULL;
    const char *msg = NULL, *details = NULL;
    int64_t code = 0;
    if (output && *output && json_parse(output, path, &v, &ignored) == 0) {
        json_get_str(v, "msg", "error", &msg, &ignored);
        json_get_str(v, "details", "error", &details, &ignored);
        json_get_int64(v, "code", "error", &code, &ignored);
    }
    if (msg)
        return cni_err(err, code > 0 ? (int)code : CNI_ERR_INTERNAL, 0, "%s%s%s", msg,
                       details ? ": " : "", details ? details : "");
    if (WIFSIGNALED(status))
        return cni_err(err, CNI_ERR_INTERNAL, 0, "plugin %s killed by signal %d", path,
                       WTERMSIG(status));
    return cni_err(err, CNI_ERR_INTERNAL, 0, "plugin %s failed with exit status %d", path,
                   WEXITSTATUS(status));
}

int cni_exec_plugin(const char *path, const char *command, const char *input, size_t len,
                    char **out, pr_error **err)
{
    /* stdin from a memfd: a pipe could fill up while the child blocks writing its stdout. */
    _cleanup_close_ int in = memfd_create("cni-stdin", MFD_CLOEXEC);
    if (in < 0)
        return cni_err(err, CNI_ERR_IO, errno, "memfd_create");
    if (write(in, input, len) != (ssize_t)len || lseek(in, 0, SEEK_SET) < 0)
        return cni_err(err, CNI_ERR_IO, errno, "writing the delegate's stdin");
    int pipefd[2];
    if (pipe2(pipefd, O_CLOEXEC) < 0)
        return cni_err(err, CNI_ERR_IO, errno, "pipe");
    _cleanup_close_ int rd = pipefd[0];
    _cleanup_close_ int wr = pipefd[1];

    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in, 0);
    posix_spawn_file_actions_adddup2(&fa, wr, 1);
    char *argv[] = {(char *)path, NULL};
    _cleanup_free_ char **envp = command ? env_with_command(command) : NULL;
    pid_t pid;
    int r = posix_spawn(&pid, path, &fa, NULL, argv, envp ? envp : environ);
    posix_spawn_file_actions_destroy(&fa);
    if (envp)
        free(envp[strv_length(envp) - 1]);
    if (r != 0)
        return cni_err(err, CNI_ERR_INTERNAL, r, "executing plugin %s", path);
    close(steal_fd(&wr));

    _cleanup_free_ char *buf = NULL;
    _cleanup_error_ pr_error *read_err = NULL;
    r = read_fd_max(rd, path, CNI_DELEGATE_OUT_MAX, &buf, NULL, &read_err);
    if (r < 0)
        kill(pid, SIGKILL); /* it may be blocked writing the rest: never wait on that */
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (r < 0)
        return cni_err(err, CNI_ERR_IO, 0, "output of plugin: %s", read_err->msg);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return delegate_failed(path, status, buf, err);
    *out = steal_pointer(&buf);
    return 0;
}

int cni_read_stdin(char **out, size_t *len, pr_error **err)
{
    size_t used = 0;
    _cleanup_free_ char *buf = NULL;
    if (read_fd_max(STDIN_FILENO, "network configuration on stdin", CNI_STDIN_MAX, &buf, &used,
                    err) < 0)
        return cni_err(err, CNI_ERR_IO, 0, "reading the network configuration from stdin");
    if (strlen(buf) != used)
        return cni_err(err, CNI_ERR_DECODE, 0, "network configuration contains a NUL byte");
    *out = steal_pointer(&buf);
    *len = used;
    return 0;
}

static cni_handler handler_for(const cni_plugin *p, cni_cmd cmd)
{
    switch (cmd) {
    case CNI_CMD_ADD:
        return p->add;
    case CNI_CMD_DEL:
        return p->del;
    case CNI_CMD_CHECK:
        return p->check;
    case CNI_CMD_STATUS:
        return p->status;
    case CNI_CMD_GC:
        return p->gc;
    default:
        return NULL;
    }
}

static int run_command(const cni_plugin *p, const cni_env *env, cni_conf *conf, char **out,
                       pr_error **err)
{
    _cleanup_free_ char *raw = NULL;
    size_t len = 0;
    int r = cni_read_stdin(&raw, &len, err);
    if (r < 0)
        return r;
    if (env->cmd == CNI_CMD_VERSION) {
        /* The input only names the caller's version; any we can parse is fine. */
        *out = cni_version_json();
        return 0;
    }
    r = cni_conf_parse(raw, env->cmd, conf, err);
    if (r < 0)
        return r;
    cni_handler h = handler_for(p, env->cmd);
    if (!h)
        return cni_err(err, CNI_ERR_INVALID_ENV, 0, "%s does not implement %s", p->name,
                       env->command);
    return h(env, conf, raw, len, out, err);
}

int cni_plugin_main(const cni_plugin *p, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    cni_env env;
    _cleanup_error_ pr_error *err = NULL;
    _cleanup_free_ char *out = NULL;
    cni_conf conf = {0};

    pr_log_init(NULL, false, getenv("PODRUN_CNI_DEBUG") != NULL);
    int r = cni_env_load(&env, &err);
    if (r == 0 && env.cmd == CNI_CMD_NONE) {
        fprintf(stderr,
                "%s: a CNI plugin (spec 0.3.0, 0.3.1, 0.4.0, 1.0.0, 1.1.0); "
                "run it with CNI_COMMAND and a network configuration on stdin\n",
                p->name);
        return 1;
    }
    if (r == 0)
        r = run_command(p, &env, &conf, &out, &err);
    if (r < 0) {
        cni_print_error(conf.version, cni_error_code(), err ? err->msg : "unknown error", NULL);
        cni_conf_free(&conf);
        return 1;
    }
    if (out) {
        fputs(out, stdout);
        fputc('\n', stdout);
    }
    cni_conf_free(&conf);
    return fflush(stdout) == 0 ? 0 : 1;
}
