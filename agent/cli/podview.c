/* SPDX-License-Identifier: Apache-2.0 */
#include "podview.h"
#include "util.h"

#include <time.h>

void podview_rfc3339(long long t, char buf[32])
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* The API server's imagePullPolicy default: Always for :latest or no tag, else IfNotPresent. */
static const char *pull_policy(const char *image)
{
    if (!image || strchr(image, '@'))
        return "IfNotPresent";
    const char *slash = strrchr(image, '/');
    const char *colon = strrchr(slash ? slash : image, ':');
    return !colon || streq(colon, ":latest") ? "Always" : "IfNotPresent";
}

/* Copies obj's keys but those in skip (NULL-terminated). */
static void gen_keys_but(yajl_gen g, yajl_val obj, const char *const *skip)
{
    for (size_t i = 0; YAJL_IS_OBJECT(obj) && i < obj->u.object.len; i++) {
        const char *k = obj->u.object.keys[i];
        bool skipped = false;
        for (const char *const *s = skip; s && *s; s++)
            skipped = skipped || streq(*s, k);
        if (skipped)
            continue;
        jg_key(g, k);
        jg_value(g, obj->u.object.values[i]);
    }
}

static void default_str(yajl_gen g, yajl_val obj, const char *key, const char *v)
{
    if (!json_get(obj, key))
        jg_key_str(g, key, v);
}

static void default_int(yajl_gen g, yajl_val obj, const char *key, long long v)
{
    if (!json_get(obj, key))
        jg_key_int(g, key, v);
}

static void default_empty(yajl_gen g, yajl_val obj, const char *key)
{
    if (!json_get(obj, key)) {
        jg_key(g, key);
        jg_map_open(g);
        jg_map_close(g);
    }
}

static void gen_probe(yajl_gen g, yajl_val p)
{
    jg_map_open(g);
    gen_keys_but(g, p, NULL);
    default_int(g, p, "timeoutSeconds", 1);
    default_int(g, p, "periodSeconds", 10);
    default_int(g, p, "successThreshold", 1);
    default_int(g, p, "failureThreshold", 3);
    jg_map_close(g);
}

static void gen_container(yajl_gen g, yajl_val c)
{
    static const char *const own[] = {"ports", "livenessProbe", "readinessProbe", "startupProbe",
                                      NULL};
    jg_map_open(g);
    gen_keys_but(g, c, own);
    yajl_val ports = json_get(c, "ports");
    if (ports) {
        jg_key(g, "ports");
        jg_array_open(g);
        for (size_t i = 0; i < json_array_len(ports); i++) {
            yajl_val p = json_array_at(ports, i);
            jg_map_open(g);
            gen_keys_but(g, p, NULL);
            default_str(g, p, "protocol", "TCP");
            jg_map_close(g);
        }
        jg_array_close(g);
    }
    for (size_t i = 1; own[i]; i++)
        if (json_get(c, own[i])) {
            jg_key(g, own[i]);
            gen_probe(g, json_get(c, own[i]));
        }
    default_str(g, c, "imagePullPolicy", pull_policy(YAJL_GET_STRING(json_get(c, "image"))));
    default_empty(g, c, "resources");
    default_str(g, c, "terminationMessagePath", "/dev/termination-log");
    default_str(g, c, "terminationMessagePolicy", "File");
    jg_map_close(g);
}

static void gen_spec(yajl_gen g, yajl_val spec, const char *node)
{
    static const char *const own[] = {"containers", "initContainers", NULL};
    jg_map_open(g);
    gen_keys_but(g, spec, own);
    for (size_t k = 0; own[k]; k++) {
        yajl_val cs = json_get(spec, own[k]);
        if (!cs)
            continue;
        jg_key(g, own[k]);
        jg_array_open(g);
        for (size_t i = 0; i < json_array_len(cs); i++)
            gen_container(g, json_array_at(cs, i));
        jg_array_close(g);
    }
    default_str(g, spec, "dnsPolicy", "ClusterFirst");
    default_str(g, spec, "nodeName", node);
    default_int(g, spec, "priority", 0);
    default_str(g, spec, "restartPolicy", "Always");
    default_str(g, spec, "schedulerName", "default-scheduler");
    default_empty(g, spec, "securityContext");
    default_int(g, spec, "terminationGracePeriodSeconds", 30);
    jg_map_close(g);
}

/* core/v1 ContainerState from the shim's "state"/"reason"/times. */
static void gen_state(yajl_gen g, yajl_val s, const char *id)
{
    const char *state = YAJL_GET_STRING(json_get(s, "state"));
    const char *reason = YAJL_GET_STRING(json_get(s, "reason"));
    const char *message = YAJL_GET_STRING(json_get(s, "message"));
    const char *started = YAJL_GET_STRING(json_get(s, "startedAt"));
    const char *finished = YAJL_GET_STRING(json_get(s, "finishedAt"));
    yajl_val code = json_get(s, "exitCode");
    jg_map_open(g);
    if (state && streq(state, "running")) {
        jg_key(g, "running");
        jg_map_open(g);
        jg_key_str(g, "startedAt", started);
        jg_map_close(g);
    } else if (state && streq(state, "terminated")) {
        jg_key(g, "terminated");
        jg_map_open(g);
        jg_key_str(g, "containerID", id);
        jg_key_int(g, "exitCode", YAJL_IS_INTEGER(code) ? YAJL_GET_INTEGER(code) : 0);
        jg_key_str(g, "finishedAt", finished);
        jg_key_str(g, "message", message);
        jg_key_str(g, "reason", reason);
        jg_key_str(g, "startedAt", started);
        jg_map_close(g);
    } else if (state) {
        jg_key(g, "waiting");
        jg_map_open(g);
        jg_key_str(g, "message", message);
        jg_key_str(g, "reason", reason);
        jg_map_close(g);
    }
    jg_map_close(g);
}

static yajl_val spec_container(yajl_val list, const char *name)
{
    for (size_t i = 0; name && i < json_array_len(list); i++)
        if (streq(YAJL_GET_STRING(json_get(json_array_at(list, i), "name")) ?: "", name))
            return json_array_at(list, i);
    return NULL;
}

static void gen_statuses(yajl_gen g, const char *key, yajl_val shim, yajl_val spec_list)
{
    jg_key(g, key);
    jg_array_open(g);
    for (size_t i = 0; i < json_array_len(shim); i++) {
        yajl_val s = json_array_at(shim, i);
        const char *name = YAJL_GET_STRING(json_get(s, "name"));
        const char *id = YAJL_GET_STRING(json_get(s, "id"));
        _cleanup_free_ char *cid = id ? xasprintf("podrun://%s", id) : NULL;
        yajl_val rc = json_get(s, "restartCount"), last = json_get(s, "lastState");
        yajl_val ready = json_get(s, "ready"), started = json_get(s, "started");
        jg_map_open(g);
        jg_key_str(g, "containerID", cid);
        jg_key_str(g, "image",
                   YAJL_GET_STRING(json_get(spec_container(spec_list, name), "image")) ?: "");
        jg_key_str(g, "imageID", "");
        jg_key(g, "lastState");
        if (last) {
            jg_map_open(g);
            jg_key(g, "terminated");
            jg_map_open(g);
            yajl_val code = json_get(last, "exitCode");
            jg_key_int(g, "exitCode", YAJL_IS_INTEGER(code) ? YAJL_GET_INTEGER(code) : 0);
            jg_key_str(g, "finishedAt", YAJL_GET_STRING(json_get(last, "finishedAt")));
            jg_key_str(g, "message", YAJL_GET_STRING(json_get(last, "message")));
            jg_key_str(g, "reason", YAJL_GET_STRING(json_get(last, "reason")));
            jg_key_str(g, "startedAt", YAJL_GET_STRING(json_get(last, "startedAt")));
            jg_map_close(g);
            jg_map_close(g);
        } else {
            jg_map_open(g);
            jg_map_close(g);
        }
        jg_key_str(g, "name", name);
        jg_key_bool(g, "ready", ready && YAJL_IS_TRUE(ready));
        jg_key_int(g, "restartCount", YAJL_IS_INTEGER(rc) ? YAJL_GET_INTEGER(rc) : 0);
        jg_key_bool(g, "started", started && YAJL_IS_TRUE(started));
        jg_key(g, "state");
        gen_state(g, s, cid);
        jg_map_close(g);
    }
    jg_array_close(g);
}

static void gen_condition(yajl_gen g, const char *type, bool ok, const char *since)
{
    jg_map_open(g);
    jg_key(g, "lastProbeTime");
    yajl_gen_null(g);
    jg_key_str(g, "lastTransitionTime", since);
    jg_key_str(g, "status", ok ? "True" : "False");
    jg_key_str(g, "type", type);
    jg_map_close(g);
}

static bool all_true(yajl_val list, const char *key)
{
    for (size_t i = 0; i < json_array_len(list); i++) {
        yajl_val v = json_get(json_array_at(list, i), key);
        if (!v || !YAJL_IS_TRUE(v))
            return false;
    }
    return true;
}

static void gen_pod_status(yajl_gen g, const struct pods_entry *e, const char *host, const char *ts)
{
    yajl_val spec = json_get(e->object, "spec");
    yajl_val cs = json_get(e->status, "containerStatuses");
    yajl_val ics = json_get(e->status, "initContainerStatuses");
    const char *phase = YAJL_GET_STRING(json_get(e->status, "phase"));
    bool ready = e->status && json_array_len(cs) > 0 && all_true(cs, "ready");
    jg_map_open(g);
    /* podrun keeps no transition times: each condition shows the pod's start. */
    jg_key(g, "conditions");
    jg_array_open(g);
    gen_condition(g, "Initialized", e->status && all_true(ics, "completed"), ts);
    gen_condition(g, "Ready", ready, ts);
    gen_condition(g, "ContainersReady", ready, ts);
    gen_condition(g, "PodScheduled", true, ts);
    jg_array_close(g);
    if (json_array_len(cs))
        gen_statuses(g, "containerStatuses", cs, json_get(spec, "containers"));
    if (json_array_len(ics))
        gen_statuses(g, "initContainerStatuses", ics, json_get(spec, "initContainers"));
    jg_key_str(g, "hostIP", host);
    if (host) {
        jg_key(g, "hostIPs");
        jg_array_open(g);
        jg_map_open(g);
        jg_key_str(g, "ip", host);
        jg_map_close(g);
        jg_array_close(g);
    }
    jg_key_str(g, "message", YAJL_GET_STRING(json_get(e->status, "message")));
    jg_key_str(g, "phase", phase ? phase : "Unknown");
    jg_key_str(g, "podIP", e->ip);
    jg_key_str(g, "reason", YAJL_GET_STRING(json_get(e->status, "reason")));
    if (e->ip) {
        jg_key(g, "podIPs");
        jg_array_open(g);
        jg_map_open(g);
        jg_key_str(g, "ip", e->ip);
        jg_map_close(g);
        jg_array_close(g);
    }
    jg_key_str(g, "qosClass", e->qos_class);
    jg_key_str(g, "startTime", ts);
    jg_map_close(g);
}

void podview_gen(yajl_gen g, const char *resource, const struct pods_entry *e)
{
    static const char *const own_md[] = {"namespace", "uid", "creationTimestamp", "generation",
                                         NULL};
    char ts[32], node[256] = "";
    bool pod = streq(resource, "pods");
    podview_rfc3339(e->created, ts);
    if (e->node)
        snprintf(node, sizeof(node), "%s", e->node);
    else
        gethostname(node, sizeof(node) - 1);
    yajl_val o = e->object;
    jg_map_open(g);
    for (size_t i = 0; YAJL_IS_OBJECT(o) && i < o->u.object.len; i++) {
        const char *k = o->u.object.keys[i];
        yajl_val v = o->u.object.values[i];
        if (streq(k, "status") && pod)
            continue;
        jg_key(g, k);
        if (streq(k, "metadata")) {
            jg_map_open(g);
            gen_keys_but(g, v, own_md);
            jg_key_str(g, "namespace", e->ns);
            jg_key_str(g, "uid", e->uid);
            jg_key_str(g, "creationTimestamp", ts);
            if (e->generation)
                jg_key_int(g, "generation", e->generation);
            jg_map_close(g);
        } else if (pod && streq(k, "spec")) {
            gen_spec(g, v, node);
        } else {
            jg_value(g, v);
        }
    }
    if (pod) {
        _cleanup_free_ char *host = pods_node_ip();
        jg_key(g, "status");
        gen_pod_status(g, e, host, ts);
    } else if (e->status) {
        jg_key(g, "status");
        jg_value(g, e->status);
    }
    jg_map_close(g);
}

int podview_tree(const char *resource, const struct pods_entry *e, yajl_val *out, pr_error **err)
{
    _cleanup_gen_ yajl_gen g = json_gen_new(false);
    podview_gen(g, resource, e);
    size_t len;
    const char *buf = jg_buf(g, &len);
    _cleanup_free_ char *text = xstrndup(buf, len);
    return json_parse(text, "the object", out, err);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* kubectl's SELECTOR column: the requirements sorted by key, "app=web,tier in (a,b)". */
char *podview_selector_text(yajl_val sel)
{
    _cleanup_strv_ char **parts = NULL;
    yajl_val ml = json_get(sel, "matchLabels");
    for (size_t i = 0; YAJL_IS_OBJECT(ml) && i < ml->u.object.len; i++) {
        const char *v = YAJL_GET_STRING(ml->u.object.values[i]);
        strv_consume(&parts, xasprintf("%s=%s", ml->u.object.keys[i], v ? v : ""));
    }
    yajl_val me = json_get(sel, "matchExpressions");
    for (size_t i = 0; i < json_array_len(me); i++) {
        yajl_val x = json_array_at(me, i), vals = json_get(x, "values");
        const char *k = YAJL_GET_STRING(json_get(x, "key")),
                   *op = YAJL_GET_STRING(json_get(x, "operator"));
        if (!k || !op)
            continue;
        if (streq(op, "Exists") || streq(op, "DoesNotExist")) {
            strv_consume(&parts, xasprintf("%s%s", streq(op, "Exists") ? "" : "!", k));
            continue;
        }
        _cleanup_free_ char *list = xstrdup("");
        for (size_t j = 0; j < json_array_len(vals); j++) {
            const char *v = YAJL_GET_STRING(json_array_at(vals, j));
            char *more = xasprintf("%s%s%s", list, j ? "," : "", v ? v : "");
            free(list);
            list = more;
        }
        strv_consume(&parts, xasprintf("%s %s (%s)", k, streq(op, "In") ? "in" : "notin", list));
    }
    size_t n = strv_length(parts);
    if (n)
        qsort(parts, n, sizeof(*parts), cmp_str);
    char *out = xstrdup("");
    for (size_t i = 0; i < n; i++) {
        char *more = xasprintf("%s%s%s", out, i ? "," : "", parts[i]);
        free(out);
        out = more;
    }
    return out;
}
