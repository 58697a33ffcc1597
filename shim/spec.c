/* SPDX-License-Identifier: Apache-2.0 */
/* spec.json: the pod the shim runs. Field names follow the Kubernetes pod spec where it has
 * one (restartPolicy, terminationGracePeriodSeconds, probes); the rest is ours. */
#include "shim.h"
#include "fs.h"
#include "json.h"
#include "paths.h"
#include "util.h"

#include <arpa/inet.h>
#include <signal.h>
#include <string.h>
#include <strings.h>

static const struct {
    const char *name;
    int sig;
} signals[] = {
    {"HUP", SIGHUP},     {"INT", SIGINT},   {"QUIT", SIGQUIT}, {"KILL", SIGKILL},
    {"USR1", SIGUSR1},   {"USR2", SIGUSR2}, {"TERM", SIGTERM}, {"PWR", SIGPWR},
    {"WINCH", SIGWINCH}, {"STOP", SIGSTOP}, {"CONT", SIGCONT}, {"ALRM", SIGALRM},
};

int signal_from_name(const char *name)
{
    if (has_prefix(name, "SIG"))
        name += 3;
    for (size_t i = 0; i < ARRAY_SIZE(signals); i++)
        if (streq(signals[i].name, name))
            return signals[i].sig;
    char *end;
    long n = strtol(name, &end, 10);
    if (*name && !*end && n > 0 && n < NSIG)
        return (int)n;
    return -1;
}

const char *restart_policy_name(enum restart_policy p)
{
    return p == RESTART_ALWAYS ? "Always" : p == RESTART_ON_FAILURE ? "OnFailure" : "Never";
}

uint64_t backoff_delay(uint64_t base, uint64_t cap, unsigned n)
{
    uint64_t d = base;
    for (unsigned i = 1; i < n && d < cap; i++)
        d *= 2;
    return d < cap ? d : cap;
}

/* Seconds as a JSON number, fractions allowed (tests shrink the back-off to milliseconds). */
static int get_seconds(yajl_val obj, const char *key, const char *ctx, uint64_t *usec,
                       pr_error **err)
{
    yajl_val v = json_get(obj, key);
    if (!v || YAJL_IS_NULL(v))
        return 0;
    if (!YAJL_IS_NUMBER(v))
        return pr_err(err, 0, "%s.%s: expected number, got %s", ctx, key, json_type_name(v));
    double d = strtod(YAJL_GET_NUMBER(v), NULL);
    if (!(d >= 0) || d > 1e9)
        return pr_err(err, 0, "%s.%s: %s is not a duration in seconds", ctx, key,
                      YAJL_GET_NUMBER(v));
    *usec = (uint64_t)(d * USEC_PER_SEC + 0.5);
    return 0;
}

static int get_uint(yajl_val obj, const char *key, const char *ctx, unsigned min, unsigned *out,
                    pr_error **err)
{
    int64_t v = -1;
    int r = json_get_int64(obj, key, ctx, &v, err);
    if (r < 0 || !json_get(obj, key))
        return r;
    if (v < min || v > 1000000)
        return pr_err(err, 0, "%s.%s: %lld out of range", ctx, key, (long long)v);
    *out = (unsigned)v;
    return 0;
}

/* What every period of a socket probe needs is made once, here, before the shim detaches:
 * the address to connect to and, for httpGet, the request. */
static void probe_prepare(struct probe_spec *p)
{
    const char *host = p->host ? p->host : "127.0.0.1";
    struct sockaddr_in *in4 = (struct sockaddr_in *)&p->addr;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&p->addr;
    if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
        in4->sin_family = AF_INET;
        in4->sin_port = htons((uint16_t)p->port);
        p->addr_len = sizeof(*in4);
    } else if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)p->port);
        p->addr_len = sizeof(*in6);
    }
    if (p->handler != PROBE_HTTP)
        return;
    _cleanup_free_ char *hdrs = xstrdup("");
    bool has_host = false, has_ua = false, has_accept = false;
    for (char **h = p->headers; h && *h; h++) {
        char *n = hdrs;
        hdrs = xasprintf("%s%s\r\n", n, *h);
        free(n);
        has_host |= strncasecmp(*h, "Host:", 5) == 0;
        has_ua |= strncasecmp(*h, "User-Agent:", 11) == 0;
        has_accept |= strncasecmp(*h, "Accept:", 7) == 0;
    }
    _cleanup_free_ char *host_hdr =
        has_host ? xstrdup("") : xasprintf("Host: %s:%d\r\n", host, p->port);
    p->request = xasprintf("GET %s HTTP/1.1\r\n%s%s%s%sConnection: close\r\n\r\n", p->path,
                           host_hdr, has_ua ? "" : "User-Agent: kube-probe/podrun\r\n",
                           has_accept ? "" : "Accept: */*\r\n", hdrs);
}

static int parse_probe(yajl_val v, const char *ctx, struct probe_spec *p, pr_error **err)
{
    int r;
    /* Kubernetes' defaults. */
    p->period_usec = 10 * USEC_PER_SEC;
    p->timeout_usec = 1 * USEC_PER_SEC;
    p->success_threshold = 1;
    p->failure_threshold = 3;
    yajl_val exec = json_get(v, "exec"), http = json_get(v, "httpGet"),
             tcp = json_get(v, "tcpSocket");
    if (!!exec + !!http + !!tcp != 1)
        return pr_err(err, 0, "%s: exactly one of exec, httpGet, tcpSocket is required", ctx);
    if (exec) {
        p->handler = PROBE_EXEC;
        if ((r = json_get_strv(exec, "command", ctx, &p->command, err)) < 0)
            return r;
        if (!p->command || !p->command[0])
            return pr_err(err, 0, "%s.exec.command: must not be empty", ctx);
    } else {
        yajl_val h = http ? http : tcp;
        const char *host = NULL, *path = NULL, *scheme = NULL;
        int64_t port = 0;
        p->handler = http ? PROBE_HTTP : PROBE_TCP;
        if ((r = json_get_int64(h, "port", ctx, &port, err)) < 0 ||
            (r = json_get_str(h, "host", ctx, &host, err)) < 0 ||
            (r = json_get_str(h, "path", ctx, &path, err)) < 0 ||
            (r = json_get_str(h, "scheme", ctx, &scheme, err)) < 0)
            return r;
        if (port < 1 || port > 65535)
            return pr_err(err, 0, "%s: port must be 1-65535 (named ports are not supported)", ctx);
        if (scheme && !streq(scheme, "HTTP") && !streq(scheme, "http"))
            return pr_err(err, 0, "%s: scheme %s is not supported (HTTP only)", ctx, scheme);
        p->port = (int)port;
        p->host = host ? xstrdup(host) : NULL;
        p->path = xstrdup(path ? path : "/");
        yajl_val hdrs = NULL;
        if ((r = json_get_array(h, "httpHeaders", ctx, &hdrs, err)) < 0)
            return r;
        size_t n = json_array_len(hdrs);
        p->headers = xcalloc(n + 1, sizeof(char *));
        for (size_t i = 0; i < n; i++) {
            const char *name = NULL, *value = NULL;
            yajl_val e = json_array_at(hdrs, i);
            if ((r = json_get_str(e, "name", ctx, &name, err)) < 0 ||
                (r = json_get_str(e, "value", ctx, &value, err)) < 0)
                return r;
            if (!name || strpbrk(name, "\r\n:") || (value && strpbrk(value, "\r\n")))
                return pr_err(err, 0, "%s.httpHeaders[%zu]: bad header", ctx, i);
            p->headers[i] = xasprintf("%s: %s", name, value ? value : "");
        }
        probe_prepare(p);
    }
    if ((r = get_seconds(v, "initialDelaySeconds", ctx, &p->initial_delay_usec, err)) < 0 ||
        (r = get_seconds(v, "periodSeconds", ctx, &p->period_usec, err)) < 0 ||
        (r = get_seconds(v, "timeoutSeconds", ctx, &p->timeout_usec, err)) < 0 ||
        (r = get_uint(v, "successThreshold", ctx, 1, &p->success_threshold, err)) < 0 ||
        (r = get_uint(v, "failureThreshold", ctx, 1, &p->failure_threshold, err)) < 0)
        return r;
    if (p->period_usec == 0 || p->timeout_usec == 0)
        return pr_err(err, 0, "%s: periodSeconds and timeoutSeconds must be positive", ctx);
    return 0;
}

static const char *probe_keys[PROBE_TYPES] = {"startupProbe", "livenessProbe", "readinessProbe"};
static const char *hook_keys[HOOK_TYPES] = {"postStart", "preStop"};

/* A lifecycle handler: exec and httpGet as a probe's, or sleep. tcpSocket, which Kubernetes
 * keeps only for compatibility and never runs, is refused. */
static int parse_hook(yajl_val v, const char *ctx, struct hook_spec *h, pr_error **err)
{
    yajl_val sleep = json_get(v, "sleep");
    if (!YAJL_IS_OBJECT(v))
        return pr_err(err, 0, "%s: expected object", ctx);
    if (json_get(v, "tcpSocket"))
        return pr_err(err, 0, "%s.tcpSocket: not supported as a lifecycle handler", ctx);
    if (sleep) {
        if (json_get(v, "exec") || json_get(v, "httpGet"))
            return pr_err(err, 0, "%s: exactly one of exec, httpGet, sleep is required", ctx);
        h->handler = HOOK_SLEEP;
        if (!json_get(sleep, "seconds"))
            return pr_err(err, 0, "%s.sleep.seconds: required", ctx);
        return get_seconds(sleep, "seconds", ctx, &h->sleep_usec, err);
    }
    int r = parse_probe(v, ctx, &h->probe, err);
    if (r < 0)
        return r;
    h->handler = h->probe.handler == PROBE_EXEC ? HOOK_EXEC : HOOK_HTTP;
    return 0;
}

static int parse_container_life(yajl_val v, const char *ctx, struct ctr_spec *c, pr_error **err)
{
    yajl_val lc = NULL;
    const char *tpath = NULL, *tpolicy = NULL;
    int r;
    if ((r = json_get_object(v, "lifecycle", ctx, &lc, err)) < 0 ||
        (r = json_get_str(v, "terminationMessagePath", ctx, &tpath, err)) < 0 ||
        (r = json_get_str(v, "terminationMessagePolicy", ctx, &tpolicy, err)) < 0)
        return r;
    for (int t = 0; lc && t < HOOK_TYPES; t++) {
        yajl_val h = json_get(lc, hook_keys[t]);
        if (!h || YAJL_IS_NULL(h))
            continue;
        _cleanup_free_ char *hctx = xasprintf("%s.lifecycle.%s", ctx, hook_keys[t]);
        if ((r = parse_hook(h, hctx, &c->hooks[t], err)) < 0)
            return r;
    }
    /* The shim reads it after the container is gone: a host path, never one inside the root. */
    if (tpath && tpath[0] != '/')
        return pr_err(err, 0, "%s.terminationMessagePath: \"%s\" must be an absolute path", ctx,
                      tpath);
    if (tpolicy && !streq(tpolicy, "File") && !streq(tpolicy, "FallbackToLogsOnError"))
        return pr_err(err, 0,
                      "%s.terminationMessagePolicy: \"%s\" (File or FallbackToLogsOnError)", ctx,
                      tpolicy);
    c->termination_message_path = tpath ? xstrdup(tpath) : NULL;
    c->termination_message_fallback = tpolicy && streq(tpolicy, "FallbackToLogsOnError");
    return 0;
}

/* emptyDirs with a sizeLimit, and how often their usage is measured. */
static int parse_pod_life(yajl_val root, struct pod_spec *s, pr_error **err)
{
    yajl_val arr = NULL;
    int r;
    s->volume_check_usec = 10 * USEC_PER_SEC;
    if ((r = get_seconds(root, "activeDeadlineSeconds", "spec", &s->active_deadline_usec, err)) <
            0 ||
        (r = get_seconds(root, "volumeCheckSeconds", "spec", &s->volume_check_usec, err)) < 0 ||
        (r = json_get_array(root, "volumeLimits", "spec", &arr, err)) < 0)
        return r;
    if (s->volume_check_usec == 0)
        return pr_err(err, 0, "spec.volumeCheckSeconds: must be positive");
    s->n_volume_limits = json_array_len(arr);
    s->volume_limits = xcalloc(s->n_volume_limits + 1, sizeof(*s->volume_limits));
    for (size_t i = 0; i < s->n_volume_limits; i++) {
        yajl_val e = json_array_at(arr, i);
        _cleanup_free_ char *ctx = xasprintf("spec.volumeLimits[%zu]", i);
        const char *name = NULL, *path = NULL;
        uint64_t limit = 0;
        if ((r = json_get_str(e, "name", ctx, &name, err)) < 0 ||
            (r = json_get_str(e, "path", ctx, &path, err)) < 0 ||
            (r = json_get_uint64(e, "sizeLimitBytes", ctx, &limit, err)) < 0)
            return r;
        if (!name || !path || path[0] != '/' || limit == 0)
            return pr_err(err, 0, "%s: name, an absolute path and sizeLimitBytes > 0 are required",
                          ctx);
        s->volume_limits[i].name = xstrdup(name);
        s->volume_limits[i].path = xstrdup(path);
        s->volume_limits[i].limit_bytes = limit;
    }
    return 0;
}

static bool valid_name(const char *n)
{
    if (!*n || strlen(n) > 128)
        return false;
    for (const char *p = n; *p; p++)
        if (!(('a' <= *p && *p <= 'z') || ('A' <= *p && *p <= 'Z') || ('0' <= *p && *p <= '9') ||
              *p == '-' || *p == '_' || *p == '.'))
            return false;
    return n[0] != '.';
}

static int parse_container(yajl_val v, const char *ctx, const struct pod_spec *pod,
                           const char *log_dir, bool is_init, struct ctr_spec *c, pr_error **err)
{
    const char *name = NULL, *id = NULL, *bundle = NULL, *log_path = NULL, *stop = NULL;
    int r;
    if (!YAJL_IS_OBJECT(v))
        return pr_err(err, 0, "%s: expected object", ctx);
    if ((r = json_get_str(v, "name", ctx, &name, err)) < 0 ||
        (r = json_get_str(v, "id", ctx, &id, err)) < 0 ||
        (r = json_get_str(v, "bundle", ctx, &bundle, err)) < 0 ||
        (r = json_get_str(v, "logPath", ctx, &log_path, err)) < 0 ||
        (r = json_get_str(v, "stopSignal", ctx, &stop, err)) < 0)
        return r;
    if (!name || !valid_name(name))
        return pr_err(err, 0, "%s.name: missing or not a valid name", ctx);
    /* Bundles come from the pod manager's one config builder (or `podrun image mount`): the
     * shim no longer makes its own from a rootfs and a command line. */
    static const char *const gone[] = {"rootfs", "args", "env", "cwd"};
    for (size_t i = 0; i < ARRAY_SIZE(gone); i++)
        if (json_get(v, gone[i]))
            return pr_err(err, 0,
                          "%s.%s: not supported: give an OCI bundle (`podrun image mount` makes "
                          "one from an image)",
                          ctx, gone[i]);
    if (!bundle || bundle[0] != '/')
        return pr_err(err, 0, "%s.bundle: an absolute path to an OCI bundle is required", ctx);
    c->name = xstrdup(name);
    c->id = id ? xstrdup(id) : xasprintf("%s-%s", pod->name, name);
    if (!valid_name(c->id))
        return pr_err(err, 0, "%s.id: \"%s\" is not a valid container id", ctx, c->id);
    /* The shim works from "/" once detached: a relative path would land in the host's root. */
    if (log_path && log_path[0] != '/')
        return pr_err(err, 0, "%s.logPath: \"%s\" must be an absolute path", ctx, log_path);
    c->bundle = xstrdup(bundle);
    c->log_path = log_path ? xstrdup(log_path) : xasprintf("%s/%s.log", log_dir, name);
    c->stop_signal = stop ? signal_from_name(stop) : SIGTERM;
    if (c->stop_signal < 0)
        return pr_err(err, 0, "%s.stopSignal: unknown signal \"%s\"", ctx, stop);
    c->is_init = is_init;
    if ((r = json_get_bool(v, "stdin", ctx, &c->stdin_, err)) < 0 ||
        (r = json_get_bool(v, "stdinOnce", ctx, &c->stdin_once, err)) < 0 ||
        (r = json_get_bool(v, "tty", ctx, &c->tty, err)) < 0)
        return r;
    if (is_init && (c->stdin_ || c->tty))
        return pr_err(err, 0, "%s: init containers have no stdin or tty", ctx);
    for (int t = 0; t < PROBE_TYPES; t++) {
        yajl_val p = json_get(v, probe_keys[t]);
        if (!p || YAJL_IS_NULL(p))
            continue;
        if (is_init)
            return pr_err(err, 0, "%s.%s: init containers have no probes", ctx, probe_keys[t]);
        _cleanup_free_ char *pctx = xasprintf("%s.%s", ctx, probe_keys[t]);
        if ((r = parse_probe(p, pctx, &c->probes[t], err)) < 0)
            return r;
    }
    if ((r = parse_container_life(v, ctx, c, err)) < 0)
        return r;
    if (c->probes[PROBE_LIVENESS].handler && c->probes[PROBE_LIVENESS].success_threshold != 1)
        return pr_err(err, 0, "%s.livenessProbe.successThreshold: must be 1", ctx);
    if (c->probes[PROBE_STARTUP].handler && c->probes[PROBE_STARTUP].success_threshold != 1)
        return pr_err(err, 0, "%s.startupProbe.successThreshold: must be 1", ctx);
    return 0;
}

static int parse_containers(yajl_val root, const char *key, struct pod_spec *s, const char *log_dir,
                            bool is_init, struct ctr_spec **out, size_t *n, pr_error **err)
{
    yajl_val arr = NULL;
    int r = json_get_array(root, key, "spec", &arr, err);
    if (r < 0)
        return r;
    *n = json_array_len(arr);
    *out = xcalloc(*n + 1, sizeof(struct ctr_spec));
    for (size_t i = 0; i < *n; i++) {
        _cleanup_free_ char *ctx = xasprintf("spec.%s[%zu]", key, i);
        if ((r = parse_container(json_array_at(arr, i), ctx, s, log_dir, is_init, &(*out)[i],
                                 err)) < 0)
            return r;
    }
    return 0;
}

static int check_unique(const struct pod_spec *s, pr_error **err)
{
    size_t n = s->n_init + s->n_ctrs;
    for (size_t i = 0; i < n; i++) {
        const struct ctr_spec *a = i < s->n_init ? &s->init[i] : &s->ctrs[i - s->n_init];
        for (size_t j = i + 1; j < n; j++) {
            const struct ctr_spec *b = j < s->n_init ? &s->init[j] : &s->ctrs[j - s->n_init];
            if (streq(a->name, b->name) || streq(a->id, b->id))
                return pr_err(err, 0, "spec: container name or id \"%s\" used twice", a->name);
        }
    }
    return 0;
}

static int parse_root(yajl_val root, struct pod_spec *s, pr_error **err)
{
    const char *name = NULL, *runtime = NULL, *rroot = NULL, *policy = NULL, *log_dir = NULL;
    const char *pidns = NULL;
    yajl_val backoff = NULL;
    int64_t max_size = 10 * 1024 * 1024;
    int r;
    if (!YAJL_IS_OBJECT(root))
        return pr_err(err, 0, "spec: expected an object");
    s->supervise = true;
    s->grace_usec = 30 * USEC_PER_SEC;
    s->backoff_base_usec = 10 * USEC_PER_SEC;
    s->backoff_cap_usec = 300 * USEC_PER_SEC;
    s->backoff_reset_usec = 600 * USEC_PER_SEC;
    s->runtime_timeout_usec = 60 * USEC_PER_SEC;
    s->log_max_files = 5;
    if ((r = json_get_str(root, "name", "spec", &name, err)) < 0 ||
        (r = json_get_str(root, "runtime", "spec", &runtime, err)) < 0 ||
        (r = json_get_str(root, "runtimeRoot", "spec", &rroot, err)) < 0 ||
        (r = json_get_str(root, "restartPolicy", "spec", &policy, err)) < 0 ||
        (r = json_get_str(root, "logDir", "spec", &log_dir, err)) < 0 ||
        (r = json_get_str(root, "pidNamespace", "spec", &pidns, err)) < 0 ||
        (r = json_get_bool(root, "supervise", "spec", &s->supervise, err)) < 0 ||
        (r = json_get_bool(root, "sandbox", "spec", &s->sandbox, err)) < 0 ||
        (r = json_get_bool(root, "runtimeSystemdCgroup", "spec", &s->runtime_systemd_cgroup,
                           err)) < 0 ||
        (r = get_seconds(root, "terminationGracePeriodSeconds", "spec", &s->grace_usec, err)) < 0 ||
        (r = get_seconds(root, "runtimeTimeoutSeconds", "spec", &s->runtime_timeout_usec, err)) <
            0 ||
        (r = json_get_int64(root, "logMaxSize", "spec", &max_size, err)) < 0 ||
        (r = get_uint(root, "logMaxFiles", "spec", 1, &s->log_max_files, err)) < 0 ||
        (r = json_get_object(root, "backOff", "spec", &backoff, err)) < 0)
        return r;
    if (backoff &&
        ((r = get_seconds(backoff, "baseSeconds", "spec.backOff", &s->backoff_base_usec, err)) <
             0 ||
         (r = get_seconds(backoff, "capSeconds", "spec.backOff", &s->backoff_cap_usec, err)) < 0 ||
         (r = get_seconds(backoff, "resetSeconds", "spec.backOff", &s->backoff_reset_usec, err)) <
             0))
        return r;
    if (!name || !valid_name(name))
        return pr_err(err, 0, "spec.name: missing or not a valid name");
    if (max_size < 0)
        return pr_err(err, 0, "spec.logMaxSize: must not be negative");
    /* Relative paths would resolve against "/", where the detached shim runs. A runtime named
     * without a slash is looked up in PATH. */
    if (rroot && rroot[0] != '/')
        return pr_err(err, 0, "spec.runtimeRoot: \"%s\" must be an absolute path", rroot);
    if (log_dir && log_dir[0] != '/')
        return pr_err(err, 0, "spec.logDir: \"%s\" must be an absolute path", log_dir);
    if (pidns && pidns[0] != '/')
        return pr_err(err, 0, "spec.pidNamespace: \"%s\" must be an absolute path", pidns);
    if (runtime && strchr(runtime, '/') && runtime[0] != '/')
        return pr_err(err, 0,
                      "spec.runtime: \"%s\" must be an absolute path or a name found in PATH",
                      runtime);
    if (s->runtime_timeout_usec == 0)
        return pr_err(err, 0, "spec.runtimeTimeoutSeconds: must be positive");
    /* The pod as Kubernetes names it in events (optional: "NAME_NAMESPACE(UID)"). */
    const char *ns = NULL, *uid = NULL;
    if ((r = json_get_str(root, "namespace", "spec", &ns, err)) < 0 ||
        (r = json_get_str(root, "uid", "spec", &uid, err)) < 0)
        return r;
    if ((ns && !valid_name(ns)) || (uid && !valid_name(uid)))
        return pr_err(err, 0, "spec.%s: not a valid name",
                      ns && !valid_name(ns) ? "namespace" : "uid");
    s->ns = ns ? xstrdup(ns) : NULL;
    s->uid = uid ? xstrdup(uid) : NULL;
    s->name = xstrdup(name);
    s->runtime = xstrdup(runtime ? runtime : "podrun-runtime");
    s->runtime_root = rroot ? xstrdup(rroot) : NULL;
    s->pid_namespace = pidns ? xstrdup(pidns) : NULL;
    s->log_max_size = (uint64_t)max_size;
    if (!policy || streq(policy, "Always"))
        s->restart = RESTART_ALWAYS;
    else if (streq(policy, "OnFailure"))
        s->restart = RESTART_ON_FAILURE;
    else if (streq(policy, "Never"))
        s->restart = RESTART_NEVER;
    else
        return pr_err(err, 0, "spec.restartPolicy: \"%s\" (Always, OnFailure or Never)", policy);
    _cleanup_free_ char *dflt_logs = xasprintf(PODRUN_POD_LOG_DIR "/%s", s->name);
    const char *ld = log_dir ? log_dir : dflt_logs;
    if ((r = parse_containers(root, "initContainers", s, ld, true, &s->init, &s->n_init, err)) <
            0 ||
        (r = parse_containers(root, "containers", s, ld, false, &s->ctrs, &s->n_ctrs, err)) < 0)
        return r;
    if (s->n_ctrs == 0 && !s->sandbox)
        return pr_err(err, 0, "spec.containers: at least one container is required");
    if (s->sandbox && (s->n_init || s->n_ctrs > SHIM_SANDBOX_CTRS_MAX))
        return pr_err(err, 0,
                      "spec: a sandbox has no initContainers and at most %d containers",
                      SHIM_SANDBOX_CTRS_MAX);
    if ((r = parse_pod_life(root, s, err)) < 0)
        return r;
    return check_unique(s, err);
}

int pod_spec_parse(const char *text, const char *what, struct pod_spec **out, pr_error **err)
{
    _cleanup_json_ yajl_val root = NULL;
    int r = json_parse(text, what, &root, err);
    if (r < 0)
        return r;
    struct pod_spec *s = xcalloc(1, sizeof(*s));
    if ((r = parse_root(root, s, err)) < 0) {
        pr_err_prefix(err, "%s", what);
        pod_spec_free(s);
        return r;
    }
    *out = s;
    return 0;
}

int pod_spec_load(const char *path, struct pod_spec **out, pr_error **err)
{
    _cleanup_free_ char *text = NULL;
    size_t len;
    int r = read_file_max(path, POD_SPEC_MAX, READ_REGULAR, &text, &len, err);
    if (r < 0)
        return r;
    return pod_spec_parse(text, path, out, err);
}

static void probe_spec_free(struct probe_spec *p)
{
    strv_freep(&p->command);
    strv_freep(&p->headers);
    free(p->host);
    free(p->path);
    free(p->request);
}

void ctr_spec_free(struct ctr_spec *c)
{
    free(c->name);
    free(c->id);
    free(c->bundle);
    free(c->log_path);
    for (int t = 0; t < PROBE_TYPES; t++)
        probe_spec_free(&c->probes[t]);
    for (int t = 0; t < HOOK_TYPES; t++)
        probe_spec_free(&c->hooks[t].probe);
    free(c->termination_message_path);
}

void pod_spec_free(struct pod_spec *s)
{
    if (!s)
        return;
    for (size_t i = 0; s->init && i < s->n_init; i++)
        ctr_spec_free(&s->init[i]);
    for (size_t i = 0; s->ctrs && i < s->n_ctrs; i++)
        ctr_spec_free(&s->ctrs[i]);
    for (size_t i = 0; s->volume_limits && i < s->n_volume_limits; i++) {
        free(s->volume_limits[i].name);
        free(s->volume_limits[i].path);
    }
    free(s->volume_limits);
    free(s->init);
    free(s->ctrs);
    free(s->name);
    free(s->ns);
    free(s->uid);
    free(s->runtime);
    free(s->runtime_root);
    free(s->pid_namespace);
    free(s);
}
