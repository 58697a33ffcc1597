/* SPDX-License-Identifier: Apache-2.0 */
/* The pod's network through CNI, as any runtime calls it: the first network configuration of
 * the conf dir (podrun writes a default one when there is none), each plugin of the list run
 * with CNI_COMMAND and the config on stdin, ADD in order with the previous result, DEL in
 * reverse. The list an ADD used is kept in the pod's run dir, so the DEL undoes exactly that
 * even when the conf dir changed meanwhile. */
#include "fs.h"
#include "manager.h"
#include "util.h"

#include <dirent.h>
#include <sys/stat.h>

#define CNI_TIMEOUT_S 60
#define CNI_CONF_MAX  (1u << 20)
#define CNI_IFNAME    "eth0"

static bool is_conf_name(const char *n)
{
    size_t l = strlen(n);
    if (n[0] == '.')
        return false;
    return (l > 9 && streq(n + l - 9, ".conflist")) || (l > 5 && streq(n + l - 5, ".conf")) ||
           (l > 5 && streq(n + l - 5, ".json"));
}

static int write_default(pods_manager *m, char **path, pr_error **err)
{
    int r = mkdir_p(m->cni_conf_dir, 0755, err);
    if (r < 0)
        return r;
    _cleanup_gen_ yajl_gen g = json_gen_new(true);
    jg_map_open(g);
    jg_key_str(g, "cniVersion", "1.0.0");
    jg_key_str(g, "name", "podrun");
    jg_key(g, "plugins");
    jg_array_open(g);
    jg_map_open(g);
    jg_key_str(g, "type", "podrun-bridge");
    jg_key_str(g, "bridge", PODS_DEFAULT_BRIDGE);
    jg_key_bool(g, "isGateway", true);
    jg_key_bool(g, "ipMasq", true);
    /* A pod that reaches its own hostPort through the node comes back out of the bridge
     * port it went in by (hostports.c). */
    jg_key_bool(g, "hairpinMode", true);
    jg_key(g, "ipam");
    jg_map_open(g);
    jg_key_str(g, "type", "podrun-ipam");
    jg_key_str(g, "subnet", PODS_DEFAULT_SUBNET);
    jg_key_str(g, "dataDir", m->ipam_data_dir);
    jg_key(g, "routes");
    jg_array_open(g);
    jg_map_open(g);
    jg_key_str(g, "dst", "0.0.0.0/0");
    jg_map_close(g);
    jg_array_close(g);
    jg_map_close(g);
    jg_map_close(g);
    jg_array_close(g);
    jg_map_close(g);
    size_t len;
    const char *buf = jg_buf(g, &len);
    *path = xasprintf("%s/%s", m->cni_conf_dir, PODS_DEFAULT_CONFLIST);
    return write_file_atomic(*path, buf, len, 0644, err);
}

/* The lexically first configuration file, as libcni picks it; NULL when there is none. */
static int first_conf(pods_manager *m, char **path, pr_error **err)
{
    struct dirent **names = NULL;
    int n = scandir(m->cni_conf_dir, &names, NULL, alphasort);
    if (n < 0 && errno != ENOENT)
        return pr_err(err, errno, "read the CNI conf dir `%s`", m->cni_conf_dir);
    *path = NULL;
    for (int i = 0; i < n; i++) {
        if (!*path && is_conf_name(names[i]->d_name))
            *path = xasprintf("%s/%s", m->cni_conf_dir, names[i]->d_name);
        free(names[i]);
    }
    free(names);
    return 0;
}

/* The first configuration, podrun's default written when there is none. */
static int find_conf(pods_manager *m, char **path, pr_error **err)
{
    int r = first_conf(m, path, err);
    return r < 0 || *path ? r : write_default(m, path, err);
}

/* The conf file as a list: a .conf's single plugin becomes a list of one. */
static int load_list(const char *path, yajl_val *conf, pr_error **err)
{
    _cleanup_free_ char *text = NULL;
    size_t len;
    int r = read_file(path, &text, &len, err);
    if (r < 0)
        return r;
    if (len > CNI_CONF_MAX)
        return pr_err_code(err, EFBIG, "`%s`: over %u bytes", path, CNI_CONF_MAX);
    if ((r = json_parse(text, path, conf, err)) < 0)
        return r;
    yajl_val name = json_get(*conf, "name"), plugins = json_get(*conf, "plugins");
    if (!name || !YAJL_IS_STRING(name))
        return pr_err(err, 0, "`%s`: no network name", path);
    if (plugins && (!YAJL_IS_ARRAY(plugins) || !plugins->u.array.len))
        return pr_err(err, 0, "`%s`: plugins is not a non-empty list", path);
    if (!plugins && !YAJL_IS_STRING(json_get(*conf, "type")))
        return pr_err(err, 0, "`%s`: neither plugins nor type", path);
    return 0;
}

static size_t n_plugins(yajl_val list)
{
    yajl_val p = json_get(list, "plugins");
    return p ? p->u.array.len : 1;
}

static yajl_val plugin_at(yajl_val list, size_t i)
{
    yajl_val p = json_get(list, "plugins");
    return p ? p->u.array.values[i] : list;
}

/* A plugin's stdin: its own keys, the list's name and version, and the previous result. */
static char *plugin_config(yajl_val list, yajl_val plugin, yajl_val prev, size_t *len)
{
    yajl_gen g = json_gen_new(false);
    jg_map_open(g);
    jg_key_str(g, "cniVersion", YAJL_GET_STRING(json_get(list, "cniVersion")));
    jg_key_str(g, "name", YAJL_GET_STRING(json_get(list, "name")));
    for (size_t i = 0; i < plugin->u.object.len; i++) {
        const char *k = plugin->u.object.keys[i];
        if (streq(k, "cniVersion") || streq(k, "name") || streq(k, "prevResult") ||
            streq(k, "plugins"))
            continue;
        jg_key(g, k);
        jg_value(g, plugin->u.object.values[i]);
    }
    if (prev) {
        jg_key(g, "prevResult");
        jg_value(g, prev);
    }
    jg_map_close(g);
    const char *buf = jg_buf(g, len);
    char *s = xstrndup(buf, *len);
    yajl_gen_free(g);
    return s;
}

/* The plugin's executable in CNI_PATH; -ENOENT when it is not there. */
static int find_plugin(pods_manager *m, yajl_val plugin, char **exe, pr_error **err)
{
    const char *type = YAJL_GET_STRING(json_get(plugin, "type"));
    if (!type || !*type || strchr(type, '/') || type[0] == '.')
        return pr_err(err, 0, "CNI: plugin type `%s` is not a plugin name", type ? type : "");
    _cleanup_free_ char *dirs = xstrdup(m->cni_bin_dir);
    for (char *save = NULL, *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
        _cleanup_free_ char *p = xasprintf("%s/%s", d, type);
        if (access(p, X_OK) == 0) {
            *exe = steal_pointer(&p);
            return 0;
        }
    }
    return pr_err_code(err, ENOENT, "CNI: plugin `%s` not found in `%s`", type, m->cni_bin_dir);
}

static int run_plugin(pods_manager *m, const char *cmd, const char *uid, const char *netns,
                      yajl_val list, yajl_val plugin, yajl_val prev, yajl_val *result,
                      pr_error **err)
{
    const char *type = YAJL_GET_STRING(json_get(plugin, "type"));
    _cleanup_free_ char *exe = NULL;
    int r = find_plugin(m, plugin, &exe, err);
    if (r < 0)
        return r;
    size_t len;
    _cleanup_free_ char *conf = plugin_config(list, plugin, prev, &len);
    _cleanup_free_ char *e_cmd = xasprintf("CNI_COMMAND=%s", cmd);
    _cleanup_free_ char *e_id = xasprintf("CNI_CONTAINERID=%s", uid);
    _cleanup_free_ char *e_ns = xasprintf("CNI_NETNS=%s", netns ? netns : "");
    _cleanup_free_ char *e_path = xasprintf("CNI_PATH=%s", m->cni_bin_dir);
    char *env[] = {e_cmd, e_id, e_ns, "CNI_IFNAME=" CNI_IFNAME, e_path, "CNI_ARGS=", NULL};
    char *argv[] = {exe, NULL};
    _cleanup_free_ char *out = NULL, *errout = NULL;
    int status;
    r = pods_exec(argv, env, conf, len, CNI_TIMEOUT_S, &out, &errout, &status, err);
    if (r < 0)
        return pr_err_prefix(err, "CNI %s", cmd);
    _cleanup_json_ yajl_val res = NULL;
    _cleanup_error_ pr_error *perr = NULL;
    if (*out)
        json_parse(out, type, &res, &perr);
    if (status != 0) {
        const char *msg = YAJL_GET_STRING(json_get(res, "msg"));
        const char *details = YAJL_GET_STRING(json_get(res, "details"));
        return pr_err(err, 0, "CNI %s: %s failed: %s%s%s", cmd, type,
                      msg       ? msg
                      : *errout ? errout
                                : "no error message",
                      details && *details ? ": " : "", details ? details : "");
    }
    if (result) {
        if (!res)
            return pr_err(err, 0, "CNI %s: %s printed no result", cmd, type);
        *result = steal_pointer(&res);
    }
    return 0;
}

static int save_json(const char *path, yajl_val v, pr_error **err)
{
    _cleanup_gen_ yajl_gen g = json_gen_new(false);
    jg_value(g, v);
    size_t len;
    const char *buf = jg_buf(g, &len);
    return write_file_atomic_volatile(path, buf, len, 0600, err);
}

static char *first_ip(yajl_val result)
{
    yajl_val ips = json_get(result, "ips");
    for (size_t i = 0; i < json_array_len(ips); i++) {
        const char *a = YAJL_GET_STRING(json_get(json_array_at(ips, i), "address"));
        if (a && *a) {
            char *ip = xstrdup(a);
            char *slash = strchr(ip, '/');
            if (slash)
                *slash = '\0';
            return ip;
        }
    }
    return NULL;
}

int pods_cni_add(pods_manager *m, const char *uid, const char *netns, const char *poddir, char **ip,
                 pr_error **err)
{
    _cleanup_free_ char *conf_path = NULL;
    _cleanup_json_ yajl_val list = NULL;
    int r;
    if ((r = find_conf(m, &conf_path, err)) < 0 || (r = load_list(conf_path, &list, err)) < 0)
        return r;
    /* Every plugin is there before any runs: a list that cannot run leaves nothing to DEL. */
    for (size_t i = 0; i < n_plugins(list); i++) {
        _cleanup_free_ char *exe = NULL;
        if ((r = find_plugin(m, plugin_at(list, i), &exe, err)) < 0)
            return r;
    }
    _cleanup_free_ char *saved = xasprintf("%s/cni.json", poddir);
    if ((r = save_json(saved, list, err)) < 0)
        return r;
    _cleanup_json_ yajl_val prev = NULL;
    for (size_t i = 0; i < n_plugins(list); i++) {
        yajl_val res = NULL;
        if ((r = run_plugin(m, "ADD", uid, netns, list, plugin_at(list, i), prev, &res, err)) < 0)
            return r;
        if (prev)
            yajl_tree_free(prev);
        prev = res;
    }
    _cleanup_free_ char *result_path = xasprintf("%s/cni-result.json", poddir);
    if ((r = save_json(result_path, prev, err)) < 0)
        return r;
    *ip = first_ip(prev);
    if (!*ip)
        return pr_err(err, 0, "CNI ADD: the result of `%s` has no address", conf_path);
    return 0;
}

int pods_cni_del(pods_manager *m, const char *uid, const char *netns, const char *poddir,
                 pr_error **err)
{
    _cleanup_free_ char *saved = xasprintf("%s/cni.json", poddir);
    _cleanup_free_ char *result_path = xasprintf("%s/cni-result.json", poddir);
    _cleanup_json_ yajl_val list = NULL, prev = NULL;
    struct stat st;
    if (lstat(saved, &st) < 0 && errno == ENOENT)
        return 0;
    int r = load_list(saved, &list, err);
    if (r < 0)
        return r;
    _cleanup_error_ pr_error *ignored = NULL;
    if (lstat(result_path, &st) == 0)
        json_parse_file(result_path, &prev, &ignored);
    /* The namespace may be gone already: DEL must still release what ADD took. */
    if (netns && lstat(netns, &st) < 0)
        netns = NULL;
    for (size_t i = n_plugins(list); i-- > 0;)
        if ((r = run_plugin(m, "DEL", uid, netns, list, plugin_at(list, i), prev, NULL, err)) < 0)
            return r;
    if (unlink(result_path) < 0 && errno != ENOENT)
        return pr_err(err, errno, "remove `%s`", result_path);
    if (unlink(saved) < 0 && errno != ENOENT)
        return pr_err(err, errno, "remove `%s`", saved);
    return 0;
}

int pods_cni_release(pods_manager *m, const char *uid, pr_error **err)
{
    _cleanup_free_ char *conf_path = NULL;
    _cleanup_json_ yajl_val list = NULL;
    int r;
    if ((r = find_conf(m, &conf_path, err)) < 0 || (r = load_list(conf_path, &list, err)) < 0)
        return r;
    /* No namespace and no previous result: the plugins release what they hold for uid (a DEL
     * of what was never added is no error, by the CNI spec). */
    for (size_t i = n_plugins(list); i-- > 0;)
        if ((r = run_plugin(m, "DEL", uid, NULL, list, plugin_at(list, i), NULL, NULL, err)) < 0)
            return r;
    return 0;
}

/* For a CRI Status: whether a pod's network can be set up now, with the configuration an ADD
 * would use (the first of the conf dir, or the default podrun writes) and its plugins. */
int pods_network_status(pods_manager *m, char **reason, char **message)
{
    *reason = *message = NULL;
    _cleanup_error_ pr_error *e = NULL;
    _cleanup_free_ char *path = NULL;
    _cleanup_json_ yajl_val list = NULL;
    struct dirent **names = NULL;
    int n = scandir(m->cni_conf_dir, &names, NULL, alphasort);
    if (n < 0 && errno != ENOENT)
        pr_err(&e, errno, "read the CNI conf dir `%s`", m->cni_conf_dir);
    for (int i = 0; i < n; i++) {
        if (!path && is_conf_name(names[i]->d_name))
            path = xasprintf("%s/%s", m->cni_conf_dir, names[i]->d_name);
        free(names[i]);
    }
    free(names);
    if (!e && path && load_list(path, &list, &e) == 0)
        for (size_t i = 0; !e && i < n_plugins(list); i++) {
            _cleanup_free_ char *exe = NULL;
            find_plugin(m, plugin_at(list, i), &exe, &e);
        }
    /* No configuration yet: the first pod writes the default, whose plugins must be here. */
    const char *defaults[] = {"podrun-bridge", "podrun-ipam"};
    for (size_t i = 0; !e && !path && i < ARRAY_SIZE(defaults); i++) {
        _cleanup_free_ char *exe = NULL;
        _cleanup_json_ yajl_val p = NULL;
        _cleanup_free_ char *text = xasprintf("{\"type\":\"%s\"}", defaults[i]);
        if (json_parse(text, "plugin", &p, &e) == 0)
            find_plugin(m, p, &exe, &e);
    }
    if (!e)
        return 0;
    *reason = xstrdup("NetworkPluginNotReady");
    *message = xstrdup(e->msg ? e->msg : "the CNI configuration is not usable");
    return 1;
}

/* The pods' subnet as the network in use names it: the first plugin with an IPAM subnet
 * (podrun-ipam's and host-local's "subnet", or host-local's first range). */
char *pods_cni_subnet(pods_manager *m)
{
    _cleanup_free_ char *path = NULL;
    _cleanup_error_ pr_error *e = NULL;
    _cleanup_json_ yajl_val list = NULL;
    if (first_conf(m, &path, &e) < 0 || !path || load_list(path, &list, &e) < 0)
        return NULL;
    for (size_t i = 0; i < n_plugins(list); i++) {
        yajl_val ipam = json_get(plugin_at(list, i), "ipam");
        const char *s = YAJL_GET_STRING(json_get(ipam, "subnet"));
        yajl_val ranges = json_get(ipam, "ranges");
        if (!s && json_array_len(ranges) > 0)
            s = YAJL_GET_STRING(json_get(json_array_at(json_array_at(ranges, 0), 0), "subnet"));
        if (s)
            return xstrdup(s);
    }
    return NULL;
}
