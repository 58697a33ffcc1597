/* SPDX-License-Identifier: Apache-2.0 */
/* The pod as the shim takes it (podrun-shim(8), SPEC.JSON): bundles made by containers.c, the
 * restart policy, the grace period and the probes in the shim's fields; the shim started on
 * it, and whether it runs. */
#include "fs.h"
#include "manager.h"
#include "util.h"

#include <fcntl.h>
#include <sys/file.h>

/* A probe's port by number, or by the name of one of the container's ports. */
static int probe_port(const struct kube_container *c, const struct kube_int_or_string *p,
                      const char *path, pr_error **err)
{
    if (!p->is_string)
        return (int)p->i;
    for (size_t i = 0; i < c->n_ports; i++)
        if (c->ports[i].name && streq(c->ports[i].name, p->s))
            return c->ports[i].container_port;
    return pr_err(err, 0, "container \"%s\": %s.port: no port named \"%s\"", c->name, path, p->s);
}

static int gen_probe(yajl_gen g, const struct kube_container *c, const char *key,
                     const struct kube_probe *p, pr_error **err)
{
    jg_key(g, key);
    jg_map_open(g);
    if (p->has_exec) {
        jg_key(g, "exec");
        jg_map_open(g);
        jg_key_strv(g, "command", (char *const *)p->exec.command);
        jg_map_close(g);
    } else if (p->has_http_get) {
        int port = probe_port(c, &p->http_get.port, key, err);
        if (port < 0)
            return port;
        jg_key(g, "httpGet");
        jg_map_open(g);
        jg_key_str(g, "path", p->http_get.path);
        jg_key_int(g, "port", port);
        jg_key_str(g, "host", p->http_get.host);
        jg_key_str(g, "scheme", p->http_get.scheme);
        jg_key(g, "httpHeaders");
        jg_array_open(g);
        for (size_t i = 0; i < p->http_get.n_headers; i++) {
            jg_map_open(g);
            jg_key_str(g, "name", p->http_get.headers[i].name);
            jg_key_str(g, "value", p->http_get.headers[i].value);
            jg_map_close(g);
        }
        jg_array_close(g);
        jg_map_close(g);
    } else if (p->has_tcp_socket) {
        int port = probe_port(c, &p->tcp_socket.port, key, err);
        if (port < 0)
            return port;
        jg_key(g, "tcpSocket");
        jg_map_open(g);
        jg_key_int(g, "port", port);
        jg_key_str(g, "host", p->tcp_socket.host);
        jg_map_close(g);
    }
    jg_key_int(g, "initialDelaySeconds", p->initial_delay_seconds);
    if (p->has_period_seconds)
        jg_key_int(g, "periodSeconds", p->period_seconds);
    if (p->has_timeout_seconds)
        jg_key_int(g, "timeoutSeconds", p->timeout_seconds);
    if (p->has_success_threshold)
        jg_key_int(g, "successThreshold", p->success_threshold);
    if (p->has_failure_threshold)
        jg_key_int(g, "failureThreshold", p->failure_threshold);
    jg_map_close(g);
    return 0;
}

static int gen_container(yajl_gen g, const struct kube_container *c, const struct pods_pod_paths *p,
                         pr_error **err)
{
    _cleanup_free_ char *bundle = pods_container_dir(p, c->name);
    _cleanup_free_ char *id = pods_container_id(p->uid, c->name);
    int r = 0;
    _cleanup_free_ char *tm = pods_termination_log(p, c->name);
    jg_map_open(g);
    jg_key_str(g, "name", c->name);
    jg_key_str(g, "bundle", bundle);
    jg_key_str(g, "id", id);
    jg_key_str(g, "terminationMessagePath", tm);
    jg_key_str(g, "terminationMessagePolicy", c->termination_message_policy);
    if (c->stdin_)
        jg_key_bool(g, "stdin", true);
    if (c->stdin_once)
        jg_key_bool(g, "stdinOnce", true);
    if (c->tty)
        jg_key_bool(g, "tty", true);
    pods_lifecycle_gen(g, c);
    if (c->has_startup_probe)
        r = gen_probe(g, c, "startupProbe", &c->startup_probe, err);
    if (r == 0 && c->has_liveness_probe)
        r = gen_probe(g, c, "livenessProbe", &c->liveness_probe, err);
    if (r == 0 && c->has_readiness_probe)
        r = gen_probe(g, c, "readinessProbe", &c->readiness_probe, err);
    jg_map_close(g);
    return r;
}

/* Disk emptyDirs with a sizeLimit: the shim measures them and evicts the pod over one
 * (podrun-shim(8), "volumeLimits"). Every 2 seconds: the kubelet's housekeeping is 10, but a
 * small directory is cheap to walk and a test need not wait. */
#define VOLUME_CHECK_SECONDS 2
static int gen_volume_limits(yajl_gen g, const struct kube_pod_spec *s,
                             const struct pods_pod_paths *p, pr_error **err)
{
    bool any = false;
    for (size_t i = 0; i < s->n_volumes; i++) {
        const struct kube_volume *v = &s->volumes[i];
        struct kube_quantity q;
        int64_t bytes;
        if (!v->has_empty_dir || !v->empty_dir.size_limit ||
            (v->empty_dir.medium && streq(v->empty_dir.medium, "Memory")))
            continue;
        if (kube_quantity_parse(v->empty_dir.size_limit, &q, err) < 0 ||
            kube_quantity_scaled(&q, 0, &bytes) < 0 || bytes <= 0)
            return pr_err(err, 0,
                          "spec.volumes[%zu].emptyDir.sizeLimit \"%s\": must be a positive size", i,
                          v->empty_dir.size_limit);
        if (!any) {
            jg_key_int(g, "volumeCheckSeconds", VOLUME_CHECK_SECONDS);
            jg_key(g, "volumeLimits");
            jg_array_open(g);
            any = true;
        }
        _cleanup_free_ char *dir = xasprintf("%s/volumes/%s", p->lib_dir, v->name);
        jg_map_open(g);
        jg_key_str(g, "name", v->name);
        jg_key_str(g, "path", dir);
        jg_key_int(g, "sizeLimitBytes", bytes);
        jg_map_close(g);
    }
    if (any)
        jg_array_close(g);
    return 0;
}

int pods_shim_spec_write(pods_manager *m, const struct kube_object *o,
                         const struct pods_pod_paths *p, pr_error **err)
{
    const struct kube_pod_spec *s = &o->u.pod;
    _cleanup_gen_ yajl_gen g = json_gen_new(true);
    _cleanup_free_ char *runtime_root = xasprintf("%s/runtime", m->run_root);
    int r = 0;
    jg_map_open(g);
    jg_key_str(g, "name", o->meta.name);
    jg_key_str(g, "namespace", o->meta.namespace_ ? o->meta.namespace_ : "default");
    jg_key_str(g, "uid", p->uid);
    jg_key_str(g, "runtime", m->runtime);
    jg_key_str(g, "runtimeRoot", runtime_root);
    jg_key_bool(g, "supervise", true);
    jg_key_str(g, "restartPolicy", s->restart_policy ? s->restart_policy : "Always");
    jg_key_int(g, "terminationGracePeriodSeconds",
               s->has_termination_grace_period_seconds ? s->termination_grace_period_seconds : 30);
    jg_key_str(g, "logDir", p->log_dir);
    const struct pods_node_config *node;
    if ((r = pods_node_config_get(m, &node, err)) < 0)
        return r;
    jg_key_int(g, "logMaxSize", node->log_max_size);
    jg_key_int(g, "logMaxFiles", node->log_max_files);
    if (s->has_active_deadline_seconds)
        jg_key_int(g, "activeDeadlineSeconds", s->active_deadline_seconds);
    if ((r = gen_volume_limits(g, s, p, err)) < 0)
        return r;
    _cleanup_free_ char *pidns = xasprintf("%s/pid", p->ns_dir);
    if (s->share_process_namespace && !s->host_pid)
        jg_key_str(g, "pidNamespace", pidns);
    jg_key(g, "initContainers");
    jg_array_open(g);
    for (size_t i = 0; r == 0 && i < s->n_init_containers; i++)
        r = gen_container(g, &s->init_containers[i], p, err);
    jg_array_close(g);
    jg_key(g, "containers");
    jg_array_open(g);
    for (size_t i = 0; r == 0 && i < s->n_containers; i++)
        r = gen_container(g, &s->containers[i], p, err);
    jg_array_close(g);
    jg_map_close(g);
    if (r < 0)
        return r;
    size_t len;
    const char *buf = jg_buf(g, &len);
    _cleanup_free_ char *path = xasprintf("%s/spec.json", p->shim_dir);
    return write_file_atomic_volatile(path, buf, len, 0600, err);
}

int pods_shim_start(pods_manager *m, const struct pods_pod_paths *p, pr_error **err)
{
    char *argv[] = {m->shim, "--pod-dir", p->shim_dir, NULL};
    _cleanup_free_ char *out = NULL, *errout = NULL;
    int status;
    int r = pods_exec(argv, NULL, NULL, 0, SHIM_START_TIMEOUT_S, &out, &errout, &status, err);
    if (r < 0)
        return r;
    if (status != 0) {
        errout[strcspn(errout, "\n")] = '\0';
        return pr_err(err, 0, "the shim failed (exit %d): %s", status,
                      *errout ? errout : "no message");
    }
    return 0;
}

bool pods_shim_alive(const struct pods_pod_paths *p)
{
    _cleanup_free_ char *lock = xasprintf("%s/shim.lock", p->shim_dir);
    _cleanup_close_ int fd = open(lock, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return false;
    return flock(fd, LOCK_EX | LOCK_NB) < 0 && errno == EWOULDBLOCK;
}
