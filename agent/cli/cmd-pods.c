/* SPDX-License-Identifier: Apache-2.0 */
/* podrun apply and podrun delete: manifests in, the pod manager does the work. */
#include "commands.h"
#include "progress.h"
#include "json.h"
#include "kube/kube.h"
#include "pods/pods.h"
#include "util.h"

#include <dirent.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <sys/stat.h>

struct objects {
    struct kube_object **v;
    char **files; /* where each came from */
    size_t n;
};

static void objects_clear(struct objects *o)
{
    for (size_t i = 0; i < o->n; i++) {
        kube_object_free(o->v[i]);
        free(o->files[i]);
    }
    free(o->v);
    free(o->files);
}

/* ---- reading manifests ---- */

static int read_bounded(int fd, const char *what, char **out, size_t *len, pr_error **err)
{
    size_t cap = 65536, n = 0;
    _cleanup_free_ char *buf = xmalloc(cap);
    for (;;) {
        if (n + 1 >= cap)
            buf = xrealloc(buf, cap *= 2);
        ssize_t r = read(fd, buf + n, cap - n - 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return pr_err(err, errno, "read `%s`", what);
        if (r == 0)
            break;
        n += (size_t)r;
        if (n > KUBE_MANIFEST_MAX_BYTES)
            return pr_err_code(err, EFBIG, "`%s`: over %u bytes", what, KUBE_MANIFEST_MAX_BYTES);
    }
    buf[n] = '\0';
    *len = n;
    *out = steal_pointer(&buf);
    return 0;
}

static int add_text(const char *what, const char *text, size_t len, struct objects *out,
                    pr_error **err)
{
    struct kube_docs d = {0};
    int r = kube_parse_manifest(text, len, what, &d, err);
    for (size_t i = 0; r == 0 && i < d.n; i++) {
        _cleanup_free_ char *where =
            d.n > 1 ? xasprintf("%s, document %zu", what, i + 1) : xstrdup(what);
        struct kube_object *o = NULL;
        r = kube_object_decode(steal_pointer(&d.v[i]), where, &o, err);
        if (r == 0 && (r = pods_check_object(o, err)) < 0)
            pr_err_prefix(err, "%s", where);
        if (r < 0) {
            kube_object_free(o);
            break;
        }
        out->v = xrealloc(out->v, (out->n + 1) * sizeof(*out->v));
        out->files = xrealloc(out->files, (out->n + 1) * sizeof(*out->files));
        out->v[out->n] = o;
        out->files[out->n++] = xstrdup(what);
    }
    kube_docs_clear(&d);
    return r;
}

static int add_file(const char *path, struct objects *out, pr_error **err)
{
    _cleanup_close_ int fd = streq(path, "-") ? dup(0) : open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return pr_err(err, errno, "open `%s`", path);
    _cleanup_free_ char *text = NULL;
    size_t len = 0;
    int r = read_bounded(fd, streq(path, "-") ? "stdin" : path, &text, &len, err);
    return r < 0 ? r : add_text(streq(path, "-") ? "stdin" : path, text, len, out, err);
}

static bool manifest_name(const char *n)
{
    size_t l = strlen(n);
    return n[0] != '.' &&
           ((l > 5 && streq(n + l - 5, ".yaml")) || (l > 4 && streq(n + l - 4, ".yml")) ||
            (l > 5 && streq(n + l - 5, ".json")));
}

/* -f FILE, -f DIR (its .yaml, .yml and .json files in name order), -f - (stdin). */
static int read_manifests(char **paths, struct objects *out, pr_error **err)
{
    for (char **p = paths; p && *p; p++) {
        struct stat st;
        if (!streq(*p, "-") && stat(*p, &st) == 0 && S_ISDIR(st.st_mode)) {
            struct dirent **names = NULL;
            int n = scandir(*p, &names, NULL, alphasort), r = 0;
            if (n < 0)
                return pr_err(err, errno, "read `%s`", *p);
            for (int i = 0; i < n; i++) {
                if (r == 0 && manifest_name(names[i]->d_name)) {
                    _cleanup_free_ char *f = xasprintf("%s/%s", *p, names[i]->d_name);
                    r = add_file(f, out, err);
                }
                free(names[i]);
            }
            free(names);
            if (r < 0)
                return r;
            continue;
        }
        int r = add_file(*p, out, err);
        if (r < 0)
            return r;
    }
    if (!out->n)
        return pr_err(err, 0, "no objects passed to apply");
    return 0;
}

/* The deferred sync after a batch, whatever became of it (what was applied or deleted before
 * an error is in place): r is the batch's result, which a failed sync replaces only when it
 * was 0 (else the sync's error is printed). */
static int sync_services(struct pods_manager *m, int r, pr_error **err)
{
    pr_error *e = NULL;
    int s = pods_services_sync(m, r < 0 ? &e : err);
    if (s < 0 && r < 0)
        fprintf(stderr, "podrun: %s\n", e && e->msg ? e->msg : strerror(-s));
    pr_error_free(e);
    return r < 0 ? r : s;
}

static const char *kind_lower(const struct kube_object *o)
{
    switch (o->kind) {
    case KUBE_POD:
        return "pod";
    case KUBE_CONFIGMAP:
        return "configmap";
    case KUBE_SECRET:
        return "secret";
    case KUBE_SERVICE:
        return "service";
    case KUBE_DEPLOYMENT:
        return "deployment.apps";
    case KUBE_REPLICASET:
        return "replicaset.apps";
    case KUBE_INGRESS:
        return "ingress.networking.k8s.io";
    case KUBE_INGRESSCLASS:
        return "ingressclass.networking.k8s.io";
    case KUBE_ENDPOINTSLICE:
        return "endpointslice.discovery.k8s.io";
    case KUBE_STATEFULSET:
        return "statefulset.apps";
    case KUBE_DAEMONSET:
        return "daemonset.apps";
    case KUBE_PVC:
        return "persistentvolumeclaim";
    case KUBE_PV:
        return "persistentvolume";
    case KUBE_JOB:
        return "job.batch";
    case KUBE_CRONJOB:
        return "cronjob.batch";
    case KUBE_HPA:
        return "horizontalpodautoscaler.autoscaling";
    default:
        return "namespace";
    }
}

/* delete's --grace-period and --force; NULL for apply. */
struct grace_flags {
    long long grace; /* -1: the pod's own */
    bool force;
};

static int parse_files(int argc, char **argv, const char *verb, char ***files, bool *ignore,
                       const char **ns, struct grace_flags *gf, pr_error **err)
{
    static const struct option opts[] = {
        {"filename", required_argument, NULL, 'f'},
        {"namespace", required_argument, NULL, 'n'},
        {"ignore-not-found", no_argument, NULL, 'i'},
        {"grace-period", required_argument, NULL, 'g'},
        {"force", no_argument, NULL, 'F'},
        {NULL, 0, NULL, 0},
    };
    int c;
    while ((c = cli_getopt(argc, argv, "f:n:", opts)) != -1) {
        char *end;
        if (c == 'f')
            strv_extend(files, optarg);
        else if (c == 'n')
            *ns = optarg;
        else if (c == 'i' && ignore)
            *ignore = true;
        else if (c == 'g' && gf) {
            errno = 0;
            gf->grace = strtoll(optarg, &end, 10);
            if (errno || !*optarg || *end || gf->grace < -1 || gf->grace > 31536000)
                return pr_err(err, 0, "--grace-period: \"%s\" is not a number of seconds", optarg);
        } else if (c == 'F' && gf)
            gf->force = true;
        else
            return pr_err(err, 0, "usage: podrun %s -f FILE|DIR|- ...", verb);
    }
    /* kubectl's rules: --force alone means now; 0 without --force means 1 second. */
    if (gf && gf->force && gf->grace < 0)
        gf->grace = 0;
    if (gf && !gf->force && gf->grace == 0)
        gf->grace = 1;
    return 0;
}

/* ---- apply ---- */

int cmd_apply(struct podrun_global *g, int argc, char **argv, pr_error **err)
{
    _cleanup_strv_ char **files = NULL;
    const char *ns = NULL;
    int r = parse_files(argc, argv, "apply", &files, NULL, &ns, NULL, err);
    if (r < 0)
        return r;
    if (!files || optind != argc)
        return pr_err(err, 0, "usage: podrun apply -f FILE|DIR|- [-n NAMESPACE]");
    struct objects objs = {0};
    if ((r = read_manifests(files, &objs, err)) < 0) {
        objects_clear(&objs);
        return r;
    }
    struct pods_manager *m = NULL;
    if ((r = open_manager(g, true, &m, err)) < 0) {
        objects_clear(&objs);
        return r;
    }
    /* Pulls draw bars on a terminal only: apply's output is for scripts too. */
    struct pull_display display;
    pull_display_init(&display, stderr);
    struct pull_options po = {.tls_verify = -1};
    if (display.terminal)
        po.progress = pull_display_progress, po.progress_data = &display;
    pods_set_pull_options(m, &po);
    /* The services' data path once for the whole manifest, not once an object. */
    pods_services_defer(m, true);
    bool touched = false, workloads = false, follow = false;
    for (size_t i = 0; r == 0 && i < objs.n; i++) {
        struct kube_object *o = objs.v[i];
        if (ns && kube_kind_namespaced(o->kind)) {
            /* The decoder defaults metadata.namespace; the manifest's own is in the tree. */
            yajl_val given = json_get(json_get(o->tree, "metadata"), "namespace");
            if (given && !streq(o->meta.namespace_, ns)) {
                r = pr_err(err, 0,
                           "%s: the namespace from the provided object \"%s\" does not match "
                           "the namespace \"%s\"",
                           objs.files[i], o->meta.namespace_, ns);
                break;
            }
            o->meta.namespace_ = ns;
        }
        enum pods_apply_result res;
        touched |= o->kind == KUBE_POD || o->kind == KUBE_SERVICE || o->kind == KUBE_ENDPOINTSLICE;
        if ((r = pods_apply(m, o, &res, err)) < 0)
            break;
        workloads |= o->kind == KUBE_DEPLOYMENT || o->kind == KUBE_REPLICASET ||
                     o->kind == KUBE_STATEFULSET || o->kind == KUBE_DAEMONSET ||
                     o->kind == KUBE_JOB || o->kind == KUBE_CRONJOB || o->kind == KUBE_HPA;
        follow |= o->kind == KUBE_SERVICE || o->kind == KUBE_INGRESS;
        printf("%s/%s %s\n", kind_lower(o), o->meta.name,
               res == PODS_CREATED     ? "created"
               : res == PODS_UNCHANGED ? "unchanged"
                                       : "configured");
        fflush(stdout);
    }
    pull_display_clear(&display);
    if (touched)
        r = sync_services(m, r, err);
    objects_clear(&objs);
    /* Workloads: one reconcile now, and the loop that keeps them. */
    if (workloads) {
        _cleanup_error_ pr_error *e = NULL;
        int rk = controllers_kick(g, m, r < 0 ? &e : err);
        return r < 0 ? r : rk;
    }
    pods_manager_close(m);
    /* Services and Ingresses were synced above; the loop follows them from now on (no
     * reconcile here: it would sync them a second time). */
    if (follow) {
        _cleanup_error_ pr_error *e = NULL;
        int rk = controllers_ensure(g, r < 0 ? &e : err);
        return r < 0 ? r : rk;
    }
    return r;
}

/* ---- delete ---- */

static int delete_one(struct pods_manager *m, const char *resource, const char *ns,
                      const char *name, bool ignore, long long grace, pr_error **err)
{
    int r = pods_delete_grace(m, resource, ns, name, grace, err);
    if (r == -ENOENT && ignore) {
        pr_error_free(*err);
        *err = NULL;
        return 0;
    }
    if (r < 0)
        return r;
    /* kubectl's singular: pod "web" deleted, deployment.apps "web" deleted. */
    _cleanup_free_ char *kind = pods_resource_singular(resource);
    const char *group = pods_resource_group(resource);
    printf("%s%s%s \"%s\" deleted\n", kind, group ? "." : "", group ? group : "", name);
    fflush(stdout);
    return 0;
}

int cmd_delete(struct podrun_global *g, int argc, char **argv, pr_error **err)
{
    _cleanup_strv_ char **files = NULL;
    const char *ns = NULL;
    bool ignore = false;
    struct grace_flags gf = {-1, false};
    int r = parse_files(argc, argv, "delete", &files, &ignore, &ns, &gf, err);
    if (r < 0)
        return r;
    struct objects objs = {0};
    const char *resource = NULL;
    if (files) {
        if (optind != argc)
            return pr_err(err, 0, "usage: podrun delete -f FILE|DIR|- (no names with -f)");
        if ((r = read_manifests(files, &objs, err)) < 0) {
            objects_clear(&objs);
            return r;
        }
    } else {
        if (argc - optind < 2)
            return pr_err(err, 0, "usage: podrun delete -f FILE | delete KIND NAME... [-n NS]");
        resource = pods_resource_name(argv[optind]);
        if (!resource)
            return pr_err(err, 0, "the server doesn't have a resource type \"%s\"", argv[optind]);
    }
    struct pods_manager *m = NULL;
    if ((r = open_manager(g, true, &m, err)) < 0) {
        objects_clear(&objs);
        return r;
    }
    /* As kubectl does: go on after an error, fail at the end with the first one. */
    _cleanup_error_ pr_error *first = NULL;
    int rr = 0;
    pods_services_defer(m, true);
    size_t n = files ? objs.n : (size_t)(argc - optind - 1);
    bool claims = resource && streq(resource, "persistentvolumeclaims");
    struct pods_ref *targets = xcalloc(n + 1, sizeof(*targets)),
                    *pods = xcalloc(n + 1, sizeof(*pods));
    const char **resources = xcalloc(n + 1, sizeof(*resources));
    size_t np = 0;
    for (size_t i = 0; i < n; i++) {
        if (files) {
            struct kube_object *o = objs.v[i];
            bool given = json_get(json_get(o->tree, "metadata"), "namespace") != NULL;
            targets[i].ns =
                given || !ns || !kube_kind_namespaced(o->kind) ? o->meta.namespace_ : ns;
            targets[i].name = o->meta.name;
            resources[i] = pods_resource_name(o->kind_name);
            claims |= o->kind == KUBE_PVC;
        } else {
            targets[i] = (struct pods_ref){ns ? ns : "default", argv[optind + 1 + i]};
            resources[i] = resource;
        }
        if (resources[i] && streq(resources[i], "pods"))
            pods[np++] = targets[i];
    }
    /* Many pods: their shims stop side by side, then each is taken down in turn. */
    pods_stop_pods(m, pods, np, gf.grace);
    free(pods);
    for (size_t i = 0; i < n; i++) {
        pr_error *e = NULL;
        r = delete_one(m, resources[i], targets[i].ns, targets[i].name, ignore, gf.grace, &e);
        if (r < 0) {
            fprintf(stderr, "podrun delete: %s\n", e && e->msg ? e->msg : strerror(-r));
            if (!first) {
                first = e;
                e = NULL;
                rr = r;
            }
        }
        pr_error_free(e);
    }
    free(targets);
    free(resources);
    r = sync_services(m, 0, err);
    objects_clear(&objs);
    /* A claim still used by a pod stays Terminating: the loop removes it once the pod goes. */
    if (claims && r == 0) {
        _cleanup_error_ pr_error *e = NULL;
        r = controllers_kick(g, m, rr < 0 ? &e : err);
    } else {
        pods_manager_close(m);
    }
    if (rr < 0)
        return pr_err_code(err, -rr, "some objects were not deleted (see above)");
    return r;
}
