/* SPDX-License-Identifier: Apache-2.0 */
/* The manager's state roots and its lock: one podrun process at a time changes pods. */
#include "fs.h"
#include "manager.h"
#include "paths.h"
#include "util.h"

#include <arpa/inet.h>
#include <sys/stat.h>

static char *abs_or_default(const char *v, const char *def)
{
    return xstrdup(v && *v ? v : def);
}

/* The cluster DNS settings are written into every pod's resolv.conf: addresses and a domain,
 * nothing that could add a line of its own. */
static int check_dns_settings(pods_manager *m, pr_error **err)
{
    _cleanup_free_ char *list = xstrdup(m->cluster_dns);
    size_t n = 0;
    for (char *save = NULL, *a = strtok_r(list, ",", &save); a; a = strtok_r(NULL, ",", &save)) {
        unsigned char b[16];
        if (inet_pton(AF_INET, a, b) != 1 && inet_pton(AF_INET6, a, b) != 1)
            return pr_err(err, 0, "cluster DNS: `%s` is not an IP address", a);
        n++;
    }
    if (*m->cluster_dns && n == 0)
        return pr_err(err, 0, "cluster DNS: `%s` is not a list of IP addresses", m->cluster_dns);
    if (!kube_valid_subdomain(m->cluster_domain))
        return pr_err(err, 0, "cluster domain: `%s` is not a lowercase RFC 1123 subdomain",
                      m->cluster_domain);
    if (*m->resolv_conf && m->resolv_conf[0] != '/')
        return pr_err(err, 0, "resolv.conf: `%s` is not an absolute path", m->resolv_conf);
    return 0;
}

/* lock: 1 exclusive, 0 shared, -1 none. */
static int manager_open(const struct pods_roots *roots, int lock, pods_manager **out,
                        pr_error **err)
{
    pods_manager *m = xcalloc(1, sizeof(*m));
    m->lockfd = -1;
    m->pull.tls_verify = -1;
    m->run_root = abs_or_default(roots->run_root, PODRUN_RUN_DIR);
    m->lib_root = abs_or_default(roots->lib_root, PODRUN_LIB_DIR);
    m->log_root = abs_or_default(roots->log_root, PODRUN_POD_LOG_DIR);
    m->images_root = roots->images_root ? xstrdup(roots->images_root) : NULL;
    m->cni_conf_dir = abs_or_default(roots->cni_conf_dir, PODS_DEFAULT_CNI_CONF_DIR);
    m->cni_bin_dir = abs_or_default(roots->cni_bin_dir, PODS_DEFAULT_CNI_BIN_DIR);
    m->ipam_data_dir = abs_or_default(roots->ipam_data_dir, PODRUN_IPAM_DATA_DIR);
    m->runtime = abs_or_default(roots->runtime, "podrun-runtime");
    m->shim = abs_or_default(roots->shim, "podrun-shim");
    m->cluster_dns = xstrdup(roots->cluster_dns ? roots->cluster_dns : "");
    m->cluster_domain = abs_or_default(roots->cluster_domain, PODS_DEFAULT_DOMAIN);
    m->cluster_domain_given = roots->cluster_domain != NULL;
    m->resolv_conf = xstrdup(roots->resolv_conf ? roots->resolv_conf : PODS_DEFAULT_RESOLV_CONF);
    m->node_config = roots->node_config ? xstrdup(roots->node_config) : NULL;
    m->node_name = roots->node_name ? xstrdup(roots->node_name) : NULL;
    m->cgroup_root = roots->cgroup_root ? xstrdup(roots->cgroup_root) : NULL;
    m->service_cidr = roots->service_cidr ? xstrdup(roots->service_cidr) : NULL;
    m->node_port_range = roots->node_port_range ? xstrdup(roots->node_port_range) : NULL;
    int r = check_dns_settings(m, err);
    /* Paths go into spec.json and config.json, read by processes that run in "/". */
    const char *must_be_abs[] = {m->run_root, m->lib_root, m->log_root, m->cni_conf_dir,
                                 m->ipam_data_dir};
    for (size_t i = 0; r == 0 && i < ARRAY_SIZE(must_be_abs); i++)
        if (must_be_abs[i][0] != '/')
            r = pr_err(err, 0, "`%s` is not an absolute path", must_be_abs[i]);
    if (r == 0)
        r = mkdir_p(m->run_root, 0700, err);
    _cleanup_free_ char *path = xasprintf("%s/pods.lock", m->run_root);
    if (r == 0 && lock >= 0 && (r = lock_path(path, lock == 1, err)) >= 0) {
        m->lockfd = r;
        m->exclusive = lock == 1;
        r = 0;
    }
    if (r < 0) {
        pods_manager_close(m);
        return r;
    }
    *out = m;
    return 0;
}

int pods_manager_open(const struct pods_roots *roots, bool exclusive, pods_manager **out,
                      pr_error **err)
{
    return manager_open(roots, exclusive ? 1 : 0, out, err);
}

int pods_manager_open_unlocked(const struct pods_roots *roots, pods_manager **out, pr_error **err)
{
    return manager_open(roots, -1, out, err);
}

void pods_manager_close(pods_manager *m)
{
    if (m->lockfd >= 0)
        close(m->lockfd);
    free(m->run_root);
    free(m->lib_root);
    free(m->log_root);
    free(m->images_root);
    free(m->cni_conf_dir);
    free(m->cni_bin_dir);
    free(m->ipam_data_dir);
    free(m->runtime);
    free(m->shim);
    free(m->cluster_dns);
    free(m->cluster_domain);
    free(m->resolv_conf);
    free(m->node_config);
    free(m->node_name);
    free(m->cgroup_root);
    free(m->service_cidr);
    free(m->node_port_range);
    pods_services_taken_free(m->services_taken);
    pods_node_config_free(m->node);
    free(m);
}

void pods_pod_paths_init(pods_manager *m, const char *uid, struct pods_pod_paths *p)
{
    p->uid = uid;
    p->cgroup = NULL;
    p->run_dir = xasprintf("%s/pods/%s", m->run_root, uid);
    p->shim_dir = xasprintf("%s/shim", p->run_dir);
    p->ns_dir = xasprintf("%s/ns", p->run_dir);
    p->lib_dir = xasprintf("%s/pods/%s", m->lib_root, uid);
    p->log_dir = xasprintf("%s/%s", m->log_root, uid);
}

void pods_pod_paths_clear(struct pods_pod_paths *p)
{
    free(p->run_dir);
    free(p->shim_dir);
    free(p->ns_dir);
    free(p->lib_dir);
    free(p->log_dir);
}

const char *pods_resource_name(const char *s)
{
    static const struct {
        const char *name, *aliases[4];
    } table[] = {
        {"pods", {"pod", "po", "Pod", NULL}},
        {"configmaps", {"configmap", "cm", "ConfigMap", NULL}},
        {"secrets", {"secret", "Secret", NULL, NULL}},
        {"namespaces", {"namespace", "ns", "Namespace", NULL}},
        {"nodes", {"node", "no", "Node", NULL}},
        {"events", {"event", "ev", "Event", NULL}},
        {"services", {"service", "svc", "Service", NULL}},
        {"endpoints", {"ep", "Endpoints", NULL, NULL}},
        {"endpointslices", {"endpointslice", "EndpointSlice", NULL, NULL}},
        {"deployments", {"deployment", "deploy", "Deployment", NULL}},
        {"replicasets", {"replicaset", "rs", "ReplicaSet", NULL}},
        {"ingresses", {"ingress", "ing", "Ingress", NULL}},
        {"ingressclasses", {"ingressclass", "IngressClass", NULL, NULL}},
        {"statefulsets", {"statefulset", "sts", "StatefulSet", NULL}},
        {"daemonsets", {"daemonset", "ds", "DaemonSet", NULL}},
        {"persistentvolumeclaims", {"persistentvolumeclaim", "pvc", "PersistentVolumeClaim", NULL}},
        {"persistentvolumes", {"persistentvolume", "pv", "PersistentVolume", NULL}},
        {"controllerrevisions", {"controllerrevision", "ControllerRevision", NULL, NULL}},
        {"jobs", {"job", "Job", NULL, NULL}},
        {"cronjobs", {"cronjob", "cj", "CronJob", NULL}},
        {"horizontalpodautoscalers",
         {"horizontalpodautoscaler", "hpa", "HorizontalPodAutoscaler", NULL}},
    };
    for (size_t i = 0; i < ARRAY_SIZE(table); i++) {
        if (streq(s, table[i].name))
            return table[i].name;
        for (size_t j = 0; table[i].aliases[j]; j++)
            if (streq(s, table[i].aliases[j]))
                return table[i].name;
    }
    return NULL;
}

const char *pods_resource_group(const char *resource)
{
    static const struct {
        const char *resource, *group;
    } groups[] = {
        {"deployments", "apps"},
        {"replicasets", "apps"},
        {"statefulsets", "apps"},
        {"daemonsets", "apps"},
        {"controllerrevisions", "apps"},
        {"ingresses", "networking.k8s.io"},
        {"ingressclasses", "networking.k8s.io"},
        {"endpointslices", "discovery.k8s.io"},
        {"jobs", "batch"},
        {"cronjobs", "batch"},
        {"horizontalpodautoscalers", "autoscaling"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(groups); i++)
        if (streq(resource, groups[i].resource))
            return groups[i].group;
    return NULL;
}

char *pods_resource_singular(const char *resource)
{
    size_t n = strlen(resource);
    /* ingresses, ingressclasses: the plural added "es" */
    bool es = n > 4 && streq(resource + n - 4, "sses");
    return xstrndup(resource, n - (es ? 2 : 1));
}

bool pods_manager_exclusive(const pods_manager *m)
{
    return m->exclusive;
}
