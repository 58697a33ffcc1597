/* SPDX-License-Identifier: Apache-2.0 */
/* What kubectl's imperative create verbs share (create deployment|job|cronjob, autoscale): the
 * generated object as a tree, its application with kubectl's answer, and their KIND NAME or
 * KIND/NAME argument. */
#include "commands.h"
#include "json.h"
#include "kube/kube.h"
#include "pods/pods.h"
#include "util.h"

int cli_gen_tree(yajl_gen g, const char *what, yajl_val *out, pr_error **err)
{
    size_t len;
    const char *buf = jg_buf(g, &len);
    _cleanup_free_ char *text = xstrndup(buf, len);
    return json_parse(text, what, out, err);
}

int cli_create_object(struct podrun_global *g, const struct cli_new_object *n, pr_error **err)
{
    /* what: "job.batch"; kubectl's "already exists" names the resource: "jobs.batch". */
    const char *group = strchr(n->what, '.');
    _cleanup_free_ char *plural = xasprintf("%s%s", n->resource, group ? group : "");
    struct kube_object *o = NULL;
    int r = kube_object_decode(n->tree, n->where, &o, err);
    if (r == 0)
        r = pods_check_object(o, err);
    struct pods_manager *m = NULL;
    if (r == 0)
        r = open_manager(g, true, &m, err);
    if (r < 0) {
        kube_object_free(o);
        return r;
    }
    struct pods_list l = {0};
    _cleanup_error_ pr_error *e = NULL;
    if (pods_list(m, n->resource, n->ns, n->name, &l, &e) == 0)
        r = pr_err_code(err, EEXIST, "%s \"%s\" already exists", plural, n->name);
    pods_list_clear(&l);
    enum pods_apply_result res;
    if (r == 0)
        r = pods_apply(m, o, &res, err);
    kube_object_free(o);
    if (r < 0) {
        pods_manager_close(m);
        return r;
    }
    printf("%s/%s %s\n", n->what, n->name, n->verb);
    fflush(stdout);
    return controllers_kick(g, m, err);
}

int cli_kind_name(int argc, char **argv, char **kind, const char **name)
{
    const char *slash = argc == 1 ? strchr(argv[0], '/') : NULL;
    if (slash) {
        *kind = xstrndup(argv[0], (size_t)(slash - argv[0]));
        *name = slash + 1;
    } else if (argc == 2) {
        *kind = xstrdup(argv[0]);
        *name = argv[1];
    } else {
        return -EINVAL;
    }
    return 0;
}
