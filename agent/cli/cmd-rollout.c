/* SPDX-License-Identifier: Apache-2.0 */
/* podrun rollout history|undo|restart|pause|resume and podrun set image: kubectl's client-side
 * edits of a Deployment (kubectl makes them too, as updates of the object), applied through the
 * same checks as a manifest; the Deployment controller then rolls them out. Revisions are the
 * Deployment's ReplicaSets (their deployment.kubernetes.io/revision annotation). */
#include "commands.h"
#include "json.h"
#include "kube/kube.h"
#include "pods/pods.h"
#include "util.h"

#include <getopt.h>
#include <stdlib.h>
#include <time.h>

#define REVISION_KEY "deployment.kubernetes.io/revision"
#define HASH_LABEL   "pod-template-hash"
#define CAUSE_KEY    "kubernetes.io/change-cause"
#define RESTART_KEY  "kubectl.kubernetes.io/restartedAt"

#define ROLLOUT_EDIT_USAGE                                                                         \
    "usage: podrun rollout history|undo|restart|pause|resume deployment NAME|deployment/NAME "     \
    "[-n NS] [--revision=N] [--to-revision=N]"

static const char *annotation(yajl_val obj, const char *key)
{
    return YAJL_GET_STRING(json_get(json_get(json_get(obj, "metadata"), "annotations"), key));
}

static long revision_of(yajl_val obj)
{
    const char *s = annotation(obj, REVISION_KEY);
    return s ? strtol(s, NULL, 10) : 0;
}

/* pods_list's "deployments "NAME" not found" as kubectl says it. */
static int not_found(int r, const char *name, pr_error **err)
{
    if (r != -ENOENT)
        return r;
    pr_error_freep(err);
    return pr_err_code(err, ENOENT, "deployments.apps \"%s\" not found", name);
}

static bool controlled_by(const struct pods_entry *rs, const struct pods_entry *d)
{
    yajl_val refs = json_get(json_get(rs->object, "metadata"), "ownerReferences");
    for (size_t i = 0; i < json_array_len(refs); i++) {
        yajl_val ref = json_array_at(refs, i), c = json_get(ref, "controller");
        const char *uid = YAJL_GET_STRING(json_get(ref, "uid"));
        if (c && YAJL_IS_TRUE(c) && uid && streq(uid, d->uid))
            return streq(rs->ns, d->ns);
    }
    return false;
}

/* KIND NAME or KIND/NAME, a deployment. */
static int deployment_arg(int argc, char **argv, const char *verb, char **name, pr_error **err)
{
    _cleanup_free_ char *kind = NULL;
    if (argc == 1 && strchr(argv[0], '/')) {
        kind = xstrndup(argv[0], strcspn(argv[0], "/"));
        *name = xstrdup(strchr(argv[0], '/') + 1);
    } else if (argc == 2) {
        kind = xstrdup(argv[0]);
        *name = xstrdup(argv[1]);
    } else {
        return pr_err(err, 0, "%s: one deployment, as deployment NAME or deployment/NAME", verb);
    }
    const char *resource = pods_resource_name(kind);
    if (!resource || !streq(resource, "deployments")) {
        free(*name);
        *name = NULL;
        return pr_err(err, 0, "%s: podrun rolls out deployments, not \"%s\"", verb, kind);
    }
    return 0;
}

/* The Deployment and its ReplicaSets, oldest revision first. */
struct history {
    struct pods_list deps, rss;
};

static void history_clear(struct history *h)
{
    pods_list_clear(&h->deps);
    pods_list_clear(&h->rss);
}

static bool keep_owned(const struct pods_entry *e, void *d)
{
    return controlled_by(e, d);
}

static int by_revision(const void *a, const void *b)
{
    long x = revision_of(((const struct pods_entry *)a)->object),
         y = revision_of(((const struct pods_entry *)b)->object);
    return x < y ? -1 : x > y;
}

static int history_load(struct pods_manager *m, const char *ns, const char *name, struct history *h,
                        pr_error **err)
{
    int r = not_found(pods_list(m, "deployments", ns, name, &h->deps, err), name, err);
    if (r == 0)
        r = pods_list(m, "replicasets", ns, NULL, &h->rss, err);
    if (r < 0)
        return r;
    pods_list_keep(&h->rss, keep_owned, &h->deps.v[0]);
    qsort(h->rss.v, h->rss.n, sizeof(*h->rss.v), by_revision);
    return 0;
}

/* ---- applying an edited Deployment ---- */

static int apply_edited(struct pods_manager *m, yajl_val tree, pr_error **err)
{
    struct kube_object *o = NULL;
    enum pods_apply_result res;
    int r = kube_object_decode(tree, "the edited deployment", &o, err);
    if (r == 0)
        r = pods_apply(m, o, &res, err);
    kube_object_free(o);
    return r;
}

/* Applies the edit, prints "deployment.apps/NAME VERB" and lets the controller act on it. */
static int finish(struct podrun_global *g, struct pods_manager *m, yajl_val edited,
                  const char *name, const char *verb, pr_error **err)
{
    int r = apply_edited(m, edited, err);
    if (r < 0) {
        pods_manager_close(m);
        return r;
    }
    printf("deployment.apps/%s %s\n", name, verb);
    fflush(stdout);
    return controllers_kick(g, m, err);
}

static void put_bool(yajl_gen g, void *ctx)
{
    yajl_gen_bool(g, *(bool *)ctx);
}

static void put_str(yajl_gen g, void *ctx)
{
    jg_str(g, ctx);
}

/* ---- history ---- */

static void print_history(const char *name, const struct pods_list *rss)
{
    printf("deployment.apps/%s \nREVISION  CHANGE-CAUSE\n", name);
    for (size_t i = 0; i < rss->n; i++) {
        const char *cause = annotation(rss->v[i].object, CAUSE_KEY);
        char rev[24];
        snprintf(rev, sizeof(rev), "%ld", revision_of(rss->v[i].object));
        printf("%-10s%s\n", rev, cause && *cause ? cause : "<none>");
    }
    printf("\n");
}

static int rollout_history(struct pods_manager *m, const char *ns, const char *name, long revision,
                           pr_error **err)
{
    struct history h = {0};
    int r = history_load(m, ns, name, &h, err);
    pods_manager_close(m);
    if (r < 0) {
        history_clear(&h);
        return r;
    }
    if (revision <= 0) {
        print_history(name, &h.rss);
        history_clear(&h);
        return 0;
    }
    size_t i = 0;
    while (i < h.rss.n && revision_of(h.rss.v[i].object) != revision)
        i++;
    if (i == h.rss.n) {
        history_clear(&h);
        return pr_err(err, 0, "unable to find the specified revision");
    }
    printf("deployment.apps/%s with revision #%ld\n", name, revision);
    print_template(json_get(json_get(h.rss.v[i].object, "spec"), "template"));
    printf("\n");
    history_clear(&h);
    return 0;
}

/* ---- undo ---- */

struct template_put {
    yajl_val tpl;
};

/* The ReplicaSet's template without its pod-template-hash label: the Deployment's as it was. */
static void put_template(yajl_gen g, void *ctx)
{
    yajl_val tpl = ((struct template_put *)ctx)->tpl;
    jg_map_open(g);
    for (size_t i = 0; YAJL_IS_OBJECT(tpl) && i < tpl->u.object.len; i++) {
        const char *k = tpl->u.object.keys[i];
        yajl_val v = tpl->u.object.values[i];
        jg_key(g, k);
        if (!streq(k, "metadata") || !YAJL_IS_OBJECT(v)) {
            jg_value(g, v);
            continue;
        }
        jg_map_open(g);
        for (size_t j = 0; j < v->u.object.len; j++) {
            yajl_val w = v->u.object.values[j];
            jg_key(g, v->u.object.keys[j]);
            if (!streq(v->u.object.keys[j], "labels") || !YAJL_IS_OBJECT(w)) {
                jg_value(g, w);
                continue;
            }
            jg_map_open(g);
            for (size_t l = 0; l < w->u.object.len; l++)
                if (!streq(w->u.object.keys[l], HASH_LABEL)) {
                    jg_key(g, w->u.object.keys[l]);
                    jg_value(g, w->u.object.values[l]);
                }
            jg_map_close(g);
        }
        jg_map_close(g);
    }
    jg_map_close(g);
}

static int rollout_undo(struct podrun_global *g, struct pods_manager *m, const char *ns,
                        const char *name, long to, pr_error **err)
{
    struct history h = {0};
    int r = history_load(m, ns, name, &h, err);
    const struct pods_entry *d = r == 0 ? &h.deps.v[0] : NULL;
    yajl_val paused = d ? json_get(json_get(d->object, "spec"), "paused") : NULL;
    if (r == 0 && paused && YAJL_IS_TRUE(paused))
        r = pr_err(err, 0,
                   "you cannot rollback a paused deployment; resume it first with 'podrun "
                   "rollout resume deployment/%s' and try again",
                   name);
    /* Kubernetes' deploymentRevision: the one asked for, or the one before the latest. */
    const struct pods_entry *target = NULL;
    if (r == 0 && to == 0 && h.rss.n >= 2) {
        target = &h.rss.v[h.rss.n - 2];
        to = revision_of(target->object);
    }
    for (size_t i = 0; r == 0 && to > 0 && !target && i < h.rss.n; i++)
        if (revision_of(h.rss.v[i].object) == to)
            target = &h.rss.v[i];
    if (r == 0 && !target)
        r = pr_err(err, 0, "unable to find specified revision %ld in history", to);
    if (r < 0) {
        history_clear(&h);
        pods_manager_close(m);
        return r;
    }
    yajl_val tpl = json_get(json_get(target->object, "spec"), "template");
    char now_hash[KUBE_HASH_MAX] = "", hash[KUBE_HASH_MAX] = "";
    kube_template_hash(json_get(json_get(d->object, "spec"), "template"), 0, now_hash, NULL);
    const char *target_hash = YAJL_GET_STRING(
        json_get(json_get(json_get(target->object, "metadata"), "labels"), HASH_LABEL));
    snprintf(hash, sizeof(hash), "%s", target_hash ? target_hash : "");
    if (streq(now_hash, hash)) {
        printf("deployment.apps/%s skipped rollback (current template already matches revision "
               "%ld)\n",
               name, to);
        history_clear(&h);
        pods_manager_close(m);
        return 0;
    }
    static const char *const tpl_path[] = {"spec", "template", NULL};
    static const char *const cause_path[] = {"metadata", "annotations", CAUSE_KEY, NULL};
    struct template_put tp = {tpl};
    yajl_val t1 = NULL, t2 = NULL;
    const char *cause = annotation(target->object, CAUSE_KEY);
    /* kubectl copies the revision's annotations back onto the Deployment: its change-cause. */
    r = json_with(d->object, tpl_path, put_template, &tp, &t1, err);
    if (r == 0)
        r = json_with(t1, cause_path, cause ? put_str : NULL, (void *)cause, &t2, err);
    if (t1)
        yajl_tree_free(t1);
    history_clear(&h);
    if (r < 0) {
        pods_manager_close(m);
        return r;
    }
    return finish(g, m, t2, name, "rolled back", err);
}

/* ---- restart, pause, resume ---- */

static int rollout_set(struct podrun_global *g, struct pods_manager *m, const char *ns,
                       const char *name, const char *verb, pr_error **err)
{
    struct pods_list l = {0};
    int r = not_found(pods_list(m, "deployments", ns, name, &l, err), name, err);
    if (r < 0) {
        pods_manager_close(m);
        return r;
    }
    yajl_val obj = l.v[0].object, p = json_get(json_get(obj, "spec"), "paused");
    bool paused = p && YAJL_IS_TRUE(p), want = streq(verb, "pause");
    yajl_val t = NULL;
    const char *done = NULL;
    if (streq(verb, "restart")) {
        if (paused)
            r = pr_err(err, 0,
                       "deployments.apps \"%s\" can't restart paused deployment (run "
                       "rollout resume first)",
                       name);
        char stamp[32];
        time_t now = time(NULL);
        struct tm tm;
        strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
        static const char *const path[] = {"spec",        "template",  "metadata",
                                           "annotations", RESTART_KEY, NULL};
        if (r == 0)
            r = json_with(obj, path, put_str, stamp, &t, err);
        done = "restarted";
    } else if (paused == want) {
        r = pr_err(err, 0, "deployments.apps \"%s\" %s", name,
                   want ? "is already paused" : "is not paused");
    } else {
        static const char *const path[] = {"spec", "paused", NULL};
        r = json_with(obj, path, want ? put_bool : NULL, &want, &t, err);
        done = want ? "paused" : "resumed";
    }
    pods_list_clear(&l);
    if (r < 0) {
        pods_manager_close(m);
        return r;
    }
    return finish(g, m, t, name, done, err);
}

int rollout_edit(struct podrun_global *g, int argc, char **argv, pr_error **err)
{
    static const struct option opts[] = {
        {"namespace", required_argument, NULL, 'n'},
        {"revision", required_argument, NULL, 'r'},
        {"to-revision", required_argument, NULL, 't'},
        {NULL, 0, NULL, 0},
    };
    const char *verb = argv[0], *ns = "default";
    long revision = -1, to = -1;
    int c;
    while ((c = cli_getopt(argc, argv, "n:", opts)) != -1) {
        char *end = NULL;
        if (c == 'n') {
            ns = optarg;
            continue;
        }
        if (c != 'r' && c != 't')
            return pr_err(err, 0, ROLLOUT_EDIT_USAGE);
        errno = 0;
        long v = strtol(optarg, &end, 10);
        if (errno || !*optarg || *end || v < 0)
            return pr_err(err, 0, "--%s: \"%s\" is not a revision number",
                          c == 'r' ? "revision" : "to-revision", optarg);
        if ((c == 'r' && !streq(verb, "history")) || (c == 't' && !streq(verb, "undo")))
            return pr_err(err, 0, "rollout %s: unknown flag --%s", verb,
                          c == 'r' ? "revision" : "to-revision");
        *(c == 'r' ? &revision : &to) = v;
    }
    _cleanup_free_ char *name = NULL;
    int r = deployment_arg(argc - optind, argv + optind, verb, &name, err);
    if (r < 0)
        return r;
    struct pods_manager *m = NULL;
    if ((r = open_manager(g, !streq(verb, "history"), &m, err)) < 0)
        return r;
    if (streq(verb, "history"))
        return rollout_history(m, ns, name, revision, err);
    if (streq(verb, "undo"))
        return rollout_undo(g, m, ns, name, to < 0 ? 0 : to, err);
    return rollout_set(g, m, ns, name, verb, err);
}

/* ---- set image ---- */

#define SET_USAGE                                                                                  \
    "usage: podrun set image deployment/NAME|deployment NAME CONTAINER=IMAGE... [-n NS]"

struct images_put {
    yajl_val list;
    char **pairs; /* NAME=IMAGE, "*" for every container */
    bool *used;
    bool changed;
};

static void put_containers(yajl_gen g, void *ctx)
{
    struct images_put *k = ctx;
    jg_array_open(g);
    for (size_t i = 0; i < json_array_len(k->list); i++) {
        yajl_val ctr = json_array_at(k->list, i);
        const char *cname = YAJL_GET_STRING(json_get(ctr, "name"));
        const char *image = NULL;
        for (size_t p = 0; k->pairs[p]; p++) {
            size_t n = strcspn(k->pairs[p], "=");
            if ((n == 1 && k->pairs[p][0] == '*') ||
                (cname && strlen(cname) == n && !strncmp(cname, k->pairs[p], n))) {
                image = k->pairs[p] + n + 1;
                k->used[p] = true;
            }
        }
        if (!image || !YAJL_IS_OBJECT(ctr)) {
            jg_value(g, ctr);
            continue;
        }
        const char *had = YAJL_GET_STRING(json_get(ctr, "image"));
        k->changed |= !had || !streq(had, image);
        jg_map_open(g);
        for (size_t j = 0; j < ctr->u.object.len; j++)
            if (!streq(ctr->u.object.keys[j], "image")) {
                jg_key(g, ctr->u.object.keys[j]);
                jg_value(g, ctr->u.object.values[j]);
            }
        jg_key_str(g, "image", image);
        jg_map_close(g);
    }
    jg_array_close(g);
}

static int set_image(struct podrun_global *g, const char *ns, const char *name, char **pairs,
                     pr_error **err)
{
    size_t np = strv_length(pairs);
    for (size_t i = 0; i < np; i++) {
        const char *eq = strchr(pairs[i], '=');
        if (!eq || eq == pairs[i] || !eq[1])
            return pr_err(err, 0, "set image: \"%s\" is not CONTAINER=IMAGE", pairs[i]);
    }
    struct pods_manager *m = NULL;
    int r = open_manager(g, true, &m, err);
    if (r < 0)
        return r;
    struct pods_list l = {0};
    r = not_found(pods_list(m, "deployments", ns, name, &l, err), name, err);
    _cleanup_free_ bool *used = xcalloc(np + 1, sizeof(*used));
    yajl_val t = r == 0 ? l.v[0].object : NULL, next = NULL;
    bool changed = false, own = false;
    static const char *const keys[] = {"initContainers", "containers"};
    for (size_t i = 0; r == 0 && i < ARRAY_SIZE(keys); i++) {
        yajl_val list = json_get(json_get(json_get(t, "spec"), "template"), "spec");
        if (!(list = json_get(list, keys[i])))
            continue;
        const char *path[] = {"spec", "template", "spec", keys[i], NULL};
        struct images_put k = {list, pairs, used, false};
        r = json_with(t, path, put_containers, &k, &next, err);
        changed |= k.changed;
        if (own)
            yajl_tree_free(t);
        t = next;
        own = true;
    }
    for (size_t i = 0; r == 0 && i < np; i++)
        if (!used[i])
            r = pr_err(err, 0, "unable to find container named \"%.*s\"",
                       (int)strcspn(pairs[i], "="), pairs[i]);
    pods_list_clear(&l);
    if (r < 0 || !changed) {
        if (own)
            yajl_tree_free(t);
        pods_manager_close(m);
        return r;
    }
    return finish(g, m, t, name, "image updated", err);
}

int cmd_set(struct podrun_global *g, int argc, char **argv, pr_error **err)
{
    static const struct option opts[] = {
        {"namespace", required_argument, NULL, 'n'},
        {NULL, 0, NULL, 0},
    };
    if (argc < 2 || !streq(argv[1], "image"))
        return pr_err(err, 0, "%s (podrun sets images only)", SET_USAGE);
    argc--;
    argv++;
    const char *ns = "default";
    int c;
    while ((c = cli_getopt(argc, argv, "n:", opts)) != -1) {
        if (c == 'n')
            ns = optarg;
        else
            return pr_err(err, 0, SET_USAGE);
    }
    char **rest = argv + optind;
    int n = argc - optind, k = n > 0 && strchr(rest[0], '/') ? 1 : 2;
    if (n <= k)
        return pr_err(err, 0, SET_USAGE);
    _cleanup_free_ char *name = NULL;
    int r = deployment_arg(k, rest, "set image", &name, err);
    if (r < 0)
        return r;
    _cleanup_strv_ char **pairs = NULL;
    for (int i = k; i < n; i++)
        strv_extend(&pairs, rest[i]);
    return set_image(g, ns, name, pairs, err);
}
