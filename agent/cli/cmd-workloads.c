/* SPDX-License-Identifier: Apache-2.0 */
/* podrun create deployment and podrun scale: kubectl's imperative verbs over the workload
 * controllers (the objects they make are kubectl's). */
#include "commands.h"
#include "json.h"
#include "kube/kube.h"
#include "pods/pods.h"
#include "util.h"

#include <getopt.h>
#include <poll.h>
#include <time.h>

#define CREATE_USAGE                                                                               \
    "usage: podrun create deployment NAME --image=IMAGE [--replicas=N] [--port=N] [-n NS] "        \
    "[-- COMMAND [ARGS...]]"

static int parse_count(const char *flag, const char *s, int64_t max, int32_t *out, pr_error **err)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || !*s || *end || v < 0 || v > max)
        return pr_err(err, 0, "%s: \"%s\" is not a number from 0 to %lld", flag, s, (long long)max);
    *out = (int32_t)v;
    return 0;
}

/* kubectl's container name: the image's last path element, without tag or digest. */
static char *container_name(const char *image)
{
    const char *slash = strrchr(image, '/');
    char *n = xstrdup(slash ? slash + 1 : image);
    n[strcspn(n, ":@")] = '\0';
    for (char *p = n; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9')))
            *p = *p >= 'A' && *p <= 'Z' ? (char)(*p - 'A' + 'a') : '-';
    return n;
}

static void gen_app_labels(yajl_gen g, const char *key, const char *name)
{
    jg_key(g, key);
    jg_map_open(g);
    jg_key_str(g, "app", name);
    jg_map_close(g);
}

static int deployment_tree(const char *name, const char *ns, const char *image, int32_t replicas,
                           int32_t port, char **command, yajl_val *out, pr_error **err)
{
    _cleanup_free_ char *cname = container_name(image);
    _cleanup_gen_ yajl_gen g = json_gen_new(false);
    jg_map_open(g);
    jg_key_str(g, "apiVersion", "apps/v1");
    jg_key_str(g, "kind", "Deployment");
    jg_key(g, "metadata");
    jg_map_open(g);
    gen_app_labels(g, "labels", name);
    jg_key_str(g, "name", name);
    jg_key_str(g, "namespace", ns);
    jg_map_close(g);
    jg_key(g, "spec");
    jg_map_open(g);
    jg_key_int(g, "replicas", replicas);
    jg_key(g, "selector");
    jg_map_open(g);
    gen_app_labels(g, "matchLabels", name);
    jg_map_close(g);
    jg_key(g, "strategy");
    jg_map_open(g);
    jg_map_close(g);
    jg_key(g, "template");
    jg_map_open(g);
    jg_key(g, "metadata");
    jg_map_open(g);
    gen_app_labels(g, "labels", name);
    jg_map_close(g);
    jg_key(g, "spec");
    jg_map_open(g);
    jg_key(g, "containers");
    jg_array_open(g);
    jg_map_open(g);
    if (command && *command)
        jg_key_strv(g, "command", command);
    jg_key_str(g, "image", image);
    jg_key_str(g, "name", cname);
    if (port >= 0) {
        jg_key(g, "ports");
        jg_array_open(g);
        jg_map_open(g);
        jg_key_int(g, "containerPort", port);
        jg_map_close(g);
        jg_array_close(g);
    }
    jg_key(g, "resources");
    jg_map_open(g);
    jg_map_close(g);
    jg_map_close(g);
    jg_array_close(g);
    jg_map_close(g);
    jg_map_close(g);
    jg_map_close(g);
    jg_map_close(g);
    return cli_gen_tree(g, "the deployment", out, err);
}

static int create_deployment(struct podrun_global *g, int argc, char **argv, pr_error **err)
{
    static const struct option opts[] = {
        {"image", required_argument, NULL, 'i'},
        {"replicas", required_argument, NULL, 'r'},
        {"port", required_argument, NULL, 'p'},
        {"namespace", required_argument, NULL, 'n'},
        {NULL, 0, NULL, 0},
    };
    const char *image = NULL, *ns = "default";
    int32_t replicas = 1, port = -1;
    int c, r;
    /* argv[0] is "deployment". getopt moves NAME and what follows "--" (the command) to the
     * end, in order. */
    while ((c = getopt_long(argc, argv, "n:", opts, NULL)) != -1) {
        if (c == 'i')
            image = optarg;
        else if (c == 'r' && (r = parse_count("--replicas", optarg, INT32_MAX, &replicas, err)) < 0)
            return r;
        else if (c == 'p' && (r = parse_count("--port", optarg, 65535, &port, err)) < 0)
            return r;
        else if (c == 'n')
            ns = optarg;
        else if (c != 'r' && c != 'p')
            return pr_err(err, 0, CREATE_USAGE);
    }
    if (optind >= argc)
        return pr_err(err, 0, CREATE_USAGE);
    const char *name = argv[optind++];
    if (!image)
        return pr_err(err, 0, "required flag(s) \"image\" not set");
    if (port == 0)
        return pr_err(err, 0, "--port: 0 is not a port");
    char **command = argv + optind;
    if (*command && streq(*command, "--"))
        command++;
    struct cli_new_object n = {
        .where = "create deployment",
        .resource = "deployments",
        .what = "deployment.apps",
        .ns = ns,
        .name = name,
        .verb = "created",
    };
    if ((r = deployment_tree(name, ns, image, replicas, port, command, &n.tree, err)) < 0)
        return r;
    return cli_create_object(g, &n, err);
}

int cmd_create(struct podrun_global *g, int argc, char **argv, pr_error **err)
{
    if (argc >= 2 && (streq(argv[1], "job") || streq(argv[1], "cronjob") || streq(argv[1], "cj")))
        return cmd_create_batch(g, argc - 1, argv + 1, err);
    if (argc < 2 || (!streq(argv[1], "deployment") && !streq(argv[1], "deploy")))
        return pr_err(err, 0, "%s (podrun creates deployments only)", CREATE_USAGE);
    optind = 0;
    return create_deployment(g, argc - 1, argv + 1, err);
}

#define SCALE_USAGE                                                                                \
    "usage: podrun scale deployment|replicaset|statefulset NAME --replicas=N [-n NS]"

int cmd_scale(struct podrun_global *g, int argc, char **argv, pr_error **err)
{
    static const struct option opts[] = {
        {"replicas", required_argument, NULL, 'r'},
        {"namespace", required_argument, NULL, 'n'},
        {NULL, 0, NULL, 0},
    };
    const char *ns = "default";
    int32_t replicas = -1;
    int c, r;
    while ((c = getopt_long(argc, argv, "n:", opts, NULL)) != -1) {
        if (c == 'r' && (r = parse_count("--replicas", optarg, INT32_MAX, &replicas, err)) < 0)
            return r;
        else if (c == 'n')
            ns = optarg;
        else if (c != 'r')
            return pr_err(err, 0, SCALE_USAGE);
    }
    if (replicas < 0)
        return pr_err(err, 0, "required flag(s) \"replicas\" not set");
    _cleanup_free_ char *kind = NULL;
    const char *name;
    if (cli_kind_name(argc - optind, argv + optind, &kind, &name) < 0)
        return pr_err(err, 0, SCALE_USAGE);
    const char *resource = pods_resource_name(kind);
    if (!resource || (!streq(resource, "deployments") && !streq(resource, "replicasets") &&
                      !streq(resource, "statefulsets")))
        return pr_err(err, 0, "podrun scales deployments, replicasets and statefulsets, not \"%s\"",
                      kind);
    struct pods_manager *m = NULL;
    if ((r = open_manager(g, true, &m, err)) < 0)
        return r;
    if ((r = pods_scale(m, resource, ns, name, replicas, err)) < 0) {
        pods_manager_close(m);
        return r;
    }
    _cleanup_free_ char *singular = xstrndup(resource, strlen(resource) - 1);
    printf("%s.apps/%s scaled\n", singular, name);
    fflush(stdout);
    return controllers_kick(g, m, err);
}

/* ---- rollout status ---- */

#define ROLLOUT_USAGE                                                                              \
    "usage: podrun rollout status deployment NAME|deployment/NAME [-n NS] [--timeout=SECONDS]"

static int64_t status_int(yajl_val st, const char *key)
{
    yajl_val v = json_get(st, key);
    return v && YAJL_IS_INTEGER(v) ? YAJL_GET_INTEGER(v) : 0;
}

/* kubectl's DeploymentStatusViewer: the message, and whether the rollout is done. */
static char *rollout_message(const struct pods_entry *e, bool *done)
{
    yajl_val st = e->status;
    int64_t want = 1;
    yajl_val rv = json_get(json_get(e->object, "spec"), "replicas");
    if (rv && YAJL_IS_INTEGER(rv))
        want = YAJL_GET_INTEGER(rv);
    int64_t updated = status_int(st, "updatedReplicas"), total = status_int(st, "replicas");
    int64_t available = status_int(st, "availableReplicas");
    *done = false;
    yajl_val conds = json_get(st, "conditions");
    for (size_t i = 0; i < json_array_len(conds); i++) {
        const char *reason = YAJL_GET_STRING(json_get(json_array_at(conds, i), "reason"));
        if (reason && streq(reason, "ProgressDeadlineExceeded"))
            return NULL;
    }
    if (updated < want)
        return xasprintf("Waiting for deployment \"%s\" rollout to finish: %lld out of %lld new "
                         "replicas have been updated...",
                         e->name, (long long)updated, (long long)want);
    if (total > updated)
        return xasprintf("Waiting for deployment \"%s\" rollout to finish: %lld old replicas are "
                         "pending termination...",
                         e->name, (long long)(total - updated));
    if (available < updated)
        return xasprintf("Waiting for deployment \"%s\" rollout to finish: %lld of %lld updated "
                         "replicas are available...",
                         e->name, (long long)available, (long long)updated);
    *done = true;
    return xasprintf("deployment \"%s\" successfully rolled out", e->name);
}

/* One look: the message, and an inotify descriptor that wakes when it may change. */
static int rollout_look(struct podrun_global *g, const char *ns, const char *name, char **msg,
                        bool *done, int *watch, pr_error **err)
{
    struct pods_manager *m = NULL;
    int r = open_manager(g, false, &m, err);
    if (r < 0)
        return r;
    struct pods_list l = {0};
    if ((r = pods_controllers_watch_open(m, watch, err)) == 0 &&
        (r = pods_list(m, "deployments", ns, name, &l, err)) == 0 &&
        (r = pods_workload_status(m, "deployments", &l.v[0], &l.v[0].status, err)) == 0)
        *msg = rollout_message(&l.v[0], done);
    pods_list_clear(&l);
    pods_manager_close(m);
    return r;
}

static int rollout_status(struct podrun_global *g, int argc, char **argv, pr_error **err)
{
    static const struct option opts[] = {
        {"namespace", required_argument, NULL, 'n'},
        {"timeout", required_argument, NULL, 't'},
        {NULL, 0, NULL, 0},
    };
    const char *ns = "default";
    int32_t timeout = 0;
    int c, r;
    while ((c = getopt_long(argc, argv, "n:", opts, NULL)) != -1) {
        if (c == 'n')
            ns = optarg;
        else if (c == 't') {
            _cleanup_free_ char *s = xstrdup(optarg);
            size_t l = strlen(s);
            if (l && s[l - 1] == 's')
                s[l - 1] = '\0';
            if ((r = parse_count("--timeout", s, 86400 * 365, &timeout, err)) < 0)
                return r;
        } else
            return pr_err(err, 0, ROLLOUT_USAGE);
    }
    _cleanup_free_ char *kind = NULL;
    const char *name;
    if (cli_kind_name(argc - optind, argv + optind, &kind, &name) < 0)
        return pr_err(err, 0, ROLLOUT_USAGE);
    const char *resource = pods_resource_name(kind);
    if (!resource || !streq(resource, "deployments"))
        return pr_err(err, 0, "podrun rollout status follows deployments, not \"%s\"", kind);
    int64_t deadline = timeout ? (int64_t)time(NULL) + timeout : 0;
    _cleanup_free_ char *last = NULL;
    for (;;) {
        char *msg = NULL;
        bool done = false;
        int watch = -1;
        r = rollout_look(g, ns, name, &msg, &done, &watch, err);
        if (r < 0)
            return r;
        if (!msg) {
            close(watch);
            return pr_err(err, 0, "deployment \"%s\" exceeded its progress deadline", name);
        }
        if (!last || !streq(last, msg)) {
            printf("%s\n", msg);
            fflush(stdout);
        }
        free(last);
        last = msg;
        if (done) {
            close(watch);
            return 0;
        }
        int64_t left = deadline ? deadline - (int64_t)time(NULL) : -1;
        if (deadline && left <= 0) {
            close(watch);
            return pr_err_code(err, ETIMEDOUT, "timed out waiting for the condition");
        }
        struct pollfd p = {watch, POLLIN, 0};
        /* A pod turning available after minReadySeconds changes no file: look again each
         * second as well. */
        int ms = left < 0 ? 1000 : (int)MIN(left * 1000, 1000);
        if (poll(&p, 1, ms) > 0)
            usleep(20000);
        close(watch);
    }
}

int cmd_rollout(struct podrun_global *g, int argc, char **argv, pr_error **err)
{
    if (argc < 2)
        return pr_err(err, 0, ROLLOUT_USAGE);
    optind = 0;
    if (streq(argv[1], "history") || streq(argv[1], "undo") || streq(argv[1], "restart") ||
        streq(argv[1], "pause") || streq(argv[1], "resume"))
        return rollout_edit(g, argc - 1, argv + 1, err);
    if (!streq(argv[1], "status"))
        return pr_err_code(err, EOPNOTSUPP,
                           "rollout %s: podrun has status, history, undo, restart, pause and "
                           "resume",
                           argv[1]);
    return rollout_status(g, argc - 1, argv + 1, err);
}
